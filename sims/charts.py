"""Chart descriptions that experiments put in ``ExperimentResult.extras["charts"]``.

An experiment whose story is not a loss curve per run (a ladder of batch sizes, a grid, a range
test, a throughput profile) describes the chart that fits it as plain JSON data, so the app
and the CLI can draw it from a live result or from one reloaded from the store. No torch, no
UI: builders here only arrange numbers the experiment measured.

Every chart is a dict with ``kind``, ``id`` (stable within the experiment) and ``title``:

``kind = "lines"`` -- curves on shared axes::

    {"kind": "lines", "id": ..., "title": ...,
     "x": {"label": "batch size", "scale": "log2"},       # scale: "linear" | "log" | "log2"
     "y": {"label": "updates to target", "scale": "log",
           "min": null, "max": null},                    # optional: the range worth showing
     "series": [{"name": "best LR", "points": [[x, y], ...],
                 "style": "line" | "points" | "dashed"}],  # dashed: a reference or a fit
     "marks": [{"x": 256, "label": "diminishing returns from here"}]}   # vertical markers

``kind = "heatmap"`` -- one value per (row, column) cell::

    {"kind": "heatmap", "id": ..., "title": ...,
     "rows": {"label": "batch size", "values": [16, 64]},
     "cols": {"label": "learning rate", "values": [0.01, 0.1]},
     "cells": [[0.41, null], ...],          # rows x cols; null: no value (see notes)
     "notes": [["", "diverged"], ...],      # same shape; why a cell is empty, or ""
     "value": {"label": "final validation loss", "format": ".3f", "better": "lower"},
     "best": [row, col] | null,             # the best cell overall, if that means something
     "row_best": [col | null, ...] | null}  # the best column in each row (e.g. best LR)

``kind = "bars"`` -- one bar per category, optionally several groups::

    {"kind": "bars", "id": ..., "title": ...,
     "categories": {"label": "batch size", "values": [8, 64, 512]},
     "series": [{"name": "examples/s", "values": [1200.0, 9000.0, null],
                 "errors": [50.0, 120.0, null] | null}],   # +- spread, e.g. a std
     "value": {"label": "examples per second", "format": ",.0f"},
     "marks": [{"category": 512, "label": "saturates"}]}

Numbers are plain floats/ints (never NaN: use ``null``), so ``json.dumps`` accepts them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

Scale = Literal["linear", "log", "log2"]
Style = Literal["line", "points", "dashed"]


def _clean(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def series(
    name: str, points: Sequence[tuple[float, float | None]], style: Style = "line"
) -> dict[str, Any]:
    """A named curve; points whose y is missing or not finite are dropped."""
    kept = [[float(x), y] for x, y in ((x, _clean(y)) for x, y in points) if y is not None]
    return {"name": name, "points": kept, "style": style}


def mark(x: float, label: str) -> dict[str, Any]:
    return {"x": float(x), "label": label}


def lines(
    chart_id: str,
    title: str,
    *,
    x_label: str,
    y_label: str,
    curves: Sequence[dict[str, Any]],
    x_scale: Scale = "linear",
    y_scale: Scale = "linear",
    marks: Sequence[dict[str, Any]] = (),
    y_range: tuple[float | None, float | None] = (None, None),
) -> dict[str, Any]:
    return {
        "kind": "lines",
        "id": chart_id,
        "title": title,
        "x": {"label": x_label, "scale": x_scale},
        "y": {
            "label": y_label,
            "scale": y_scale,
            "min": _clean(y_range[0]),
            "max": _clean(y_range[1]),
        },
        "series": list(curves),
        "marks": list(marks),
    }


def heatmap(
    chart_id: str,
    title: str,
    *,
    rows: tuple[str, Sequence[float]],
    cols: tuple[str, Sequence[float]],
    cells: Sequence[Sequence[float | None]],
    notes: Sequence[Sequence[str]] | None = None,
    value_label: str,
    value_format: str = ".3f",
    better: Literal["lower", "higher"] = "lower",
    best: tuple[int, int] | None = None,
    row_best: Sequence[int | None] | None = None,
) -> dict[str, Any]:
    grid = [[_clean(v) for v in row] for row in cells]
    return {
        "kind": "heatmap",
        "id": chart_id,
        "title": title,
        "rows": {"label": rows[0], "values": list(rows[1])},
        "cols": {"label": cols[0], "values": list(cols[1])},
        "cells": grid,
        "notes": [list(row) for row in notes] if notes else [["" for _ in r] for r in grid],
        "value": {"label": value_label, "format": value_format, "better": better},
        "best": list(best) if best is not None else None,
        "row_best": list(row_best) if row_best is not None else None,
    }


def bars(
    chart_id: str,
    title: str,
    *,
    categories: tuple[str, Sequence[float | str]],
    groups: Sequence[tuple[str, Sequence[float | None]]],
    errors: Sequence[Sequence[float | None] | None] | None = None,
    value_label: str,
    value_format: str = ",.0f",
    marks: Sequence[tuple[float | str, str]] = (),
) -> dict[str, Any]:
    spreads = list(errors) if errors else [None] * len(groups)
    return {
        "kind": "bars",
        "id": chart_id,
        "title": title,
        "categories": {"label": categories[0], "values": list(categories[1])},
        "series": [
            {
                "name": name,
                "values": [_clean(v) for v in values],
                "errors": [_clean(e) for e in spread] if spread is not None else None,
            }
            for (name, values), spread in zip(groups, spreads, strict=True)
        ],
        "value": {"label": value_label, "format": value_format},
        "marks": [{"category": c, "label": label} for c, label in marks],
    }


def fit_power_law(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float] | None:
    """Least-squares fit of ``y = c * x**k`` on log-log axes; ``(k, c)`` or ``None`` with
    fewer than two distinct positive points."""
    pairs = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len({p[0] for p in pairs}) < 2:
        return None
    mx = sum(p[0] for p in pairs) / len(pairs)
    my = sum(p[1] for p in pairs) / len(pairs)
    sxx = sum((p[0] - mx) ** 2 for p in pairs)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in pairs)
    k = sxy / sxx
    return k, math.exp(my - k * mx)

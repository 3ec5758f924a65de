"""Chart descriptions from ``ExperimentResult.extras["charts"]`` (see ``sims.charts``) drawn
as Rich tables for the terminal: a heat map as a grid, curves as a table of points (long
curves thinned to a readable number of rows), bars as a table with a bar column.

A chart may come from an imported run, so every string in it is shown through
:func:`~quizapp.views.text.safe_text`: literally, never as markup."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from quizapp.views.text import safe_text

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_ROWS = 14  # rows of a curve table before it is thinned
BAR_WIDTH = 24


def print_charts(charts: Sequence[dict[str, Any]], out: Console) -> None:
    for chart in charts:
        rendered = render_chart(chart)
        if rendered is not None:
            out.print(rendered)


def render_chart(chart: dict[str, Any]) -> RenderableType | None:
    kind = chart.get("kind")
    if kind == "heatmap":
        return _heatmap(chart)
    if kind == "lines":
        return _lines(chart)
    if kind == "bars":
        return _bars(chart)
    return None  # a kind this version does not know: skip rather than fail


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "–"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def _number(value: Any) -> Text:
    if isinstance(value, str):
        return safe_text(value)
    if value is None or not math.isfinite(value):
        return Text("–")
    if float(value).is_integer() and abs(value) < 1e7:
        return Text(f"{int(value):,}")
    return Text(f"{value:.3g}")


def _heatmap(chart: dict[str, Any]) -> RenderableType:
    rows, cols = chart["rows"], chart["cols"]
    value = chart["value"]
    spec = value.get("format", ".3f")
    best = tuple(chart["best"]) if chart.get("best") else None
    row_best = chart.get("row_best") or []
    notes = chart.get("notes") or []
    table = Table(
        title=safe_text(chart["title"], style="bold"),
        title_justify="left",
        caption=_heatmap_caption(cols["label"], value, best is not None, bool(row_best)),
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    table.add_column(safe_text(rows["label"]), style="bold")
    for col in cols["values"]:
        table.add_column(_number(col), justify="right")
    for i, (label, cells) in enumerate(zip(rows["values"], chart["cells"], strict=False)):
        rendered: list[RenderableType] = [_number(label)]
        for j, cell in enumerate(cells):
            note = notes[i][j] if i < len(notes) and j < len(notes[i]) else ""
            if cell is None:
                rendered.append(safe_text(note or "–", style="dim"))
                continue
            style = ""
            if best == (i, j):
                style = "bold green"
            elif i < len(row_best) and row_best[i] == j:
                style = "bold"
            rendered.append(safe_text(_fmt(cell, spec), style=style))
        table.add_row(*rendered)
    return table


def _heatmap_caption(
    columns: str, value: dict[str, Any], has_best: bool, has_row_best: bool
) -> Text:
    better = value.get("better", "lower")
    parts = [f"columns: {columns}; {value['label']} ({better} is better)"]
    if has_best:
        parts.append("green: best cell")
    if has_row_best:
        parts.append("bold: best in its row")
    return safe_text("; ".join(parts), style="dim")


def _lines(chart: dict[str, Any]) -> RenderableType:
    series = [s for s in chart.get("series", []) if s.get("points")]
    xs = sorted({p[0] for s in series for p in s["points"]})
    marks = chart.get("marks") or []
    shown = _thin(xs, [m["x"] for m in marks])
    lookup = [{p[0]: p[1] for p in s["points"]} for s in series]
    table = Table(
        title=safe_text(chart["title"], style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    table.add_column(safe_text(chart["x"]["label"]), style="bold", justify="right")
    for s in series:
        style = " (reference)" if s.get("style") == "dashed" else ""
        table.add_column(safe_text(f"{s['name']}{style}"), justify="right")
    for x in shown:
        table.add_row(_number(x), *(_number(points.get(x)) for points in lookup))
    parts: list[RenderableType] = [table]
    if len(shown) < len(xs):
        parts.append(Text(f"({len(shown)} of {len(xs)} points shown)", style="dim"))
    if marks:
        parts.append(
            safe_text(
                "marked: " + "; ".join(f"{m['label']} at {_number(m['x'])}" for m in marks),
                style="dim",
            )
        )
    return Group(*parts)


def _thin(xs: list[float], keep: list[float]) -> list[float]:
    """At most about ``MAX_ROWS`` of ``xs``, evenly spread, plus the x nearest each mark."""
    if len(xs) <= MAX_ROWS:
        return xs
    step = (len(xs) - 1) / (MAX_ROWS - 1)
    chosen = {xs[round(i * step)] for i in range(MAX_ROWS)}
    for mark in keep:
        chosen.add(min(xs, key=lambda v: abs(v - mark)))
    return sorted(chosen)


def _bars(chart: dict[str, Any]) -> RenderableType:
    categories = chart["categories"]
    series = chart.get("series", [])
    spec = chart.get("value", {}).get("format", ",.0f")
    marks = {str(m["category"]): m["label"] for m in chart.get("marks") or []}
    # The bar column draws the first series.
    top = max(
        (v for v in (series[0]["values"] if series else []) if v is not None and math.isfinite(v)),
        default=0.0,
    )
    table = Table(
        title=safe_text(chart["title"], style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
    )
    table.add_column(safe_text(categories["label"]), style="bold", justify="right")
    for s in series:
        table.add_column(safe_text(s["name"]), justify="right")
    if series:
        table.add_column("", no_wrap=True)
    for index, category in enumerate(categories["values"]):
        cells: list[RenderableType] = [_number(category)]
        for s in series:
            value = s["values"][index] if index < len(s["values"]) else None
            errors = s.get("errors")
            spread = errors[index] if errors and index < len(errors) else None
            text = _fmt(value, spec) + (f" ± {_fmt(spread, spec)}" if spread is not None else "")
            cells.append(safe_text(text))
        first = series[0]["values"][index] if series and index < len(series[0]["values"]) else None
        bar = ""
        if first is not None and top > 0:
            bar = "█" * max(1, round(BAR_WIDTH * first / top))
        note = marks.get(str(category))
        cells.append(Text.assemble((bar, "cyan"), safe_text(f" {note}" if note else "", "yellow")))
        table.add_row(*cells)
    return table

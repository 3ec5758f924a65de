"""What a diagnose question's chart draws: the stored run's series as finite points, clipped
to the axis, so a diverged run (null values, a loss in the thousands) neither reaches the
plotting library as NaN/inf nor flattens the other curves."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from questions.model import Diagnosis

METRIC_NAMES = {
    "val_loss": "validation loss",
    "train_loss": "training loss",
    "val_acc": "validation accuracy",
    "train_acc": "training accuracy",
}
# A loss axis ends at this many times the largest starting loss: higher values are drawn at
# the top edge, so one exploding run does not flatten every other curve.
LOSS_CAP = 2.0


@dataclass(frozen=True, slots=True)
class ChartLine:
    name: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]  # finite, within the chart's y range
    clipped: int = 0  # points drawn at the top edge (their value was above it)
    missing: int = 0  # non-finite points (a diverged run), left out


@dataclass(frozen=True, slots=True)
class RunChart:
    title: str
    x_label: str
    y_range: tuple[float, float]
    lines: tuple[ChartLine, ...]
    notes: tuple[str, ...]  # what the chart cannot show: clipped or missing points, divergence


def run_chart(diagnosis: Diagnosis) -> RunChart:
    """The chart of ``diagnosis``'s stored run: one line per run and metric."""
    run = diagnosis.run
    metrics = diagnosis.metrics
    is_loss = all("loss" in m for m in metrics)
    raw: list[tuple[str, list[tuple[float, float | None]]]] = []
    for line in run.runs:
        xs = line.values(diagnosis.x_axis)
        for metric in metrics:
            ys = line.values(metric)
            name = METRIC_NAMES.get(metric, metric)
            if len(run.runs) > 1:
                name = f"{line.label}: {name}" if len(metrics) > 1 else line.label
            points = [
                (x, y if _finite(y) else None)
                for x, y in zip(xs, ys, strict=False)
                if x is not None and math.isfinite(x)
            ]
            raw.append((name, points))
    finite = [y for _, points in raw for _, y in points if y is not None]
    highest = max(finite, default=1.0) * 1.05
    if is_loss and all(line.status == "diverged" for line in run.runs):
        y_range = (0.0, highest)  # nothing to flatten: show how far the loss went
    elif is_loss:
        starts = [next((y for _, y in points if y is not None), 0.0) for _, points in raw]
        top = min(max(starts, default=1.0) * LOSS_CAP, highest)
        y_range = (0.0, top if top > 0 else 1.0)
    else:
        y_range = (0.0, 1.0)
    lines = []
    notes = []
    for name, points in raw:
        xs_out: list[float] = []
        ys_out: list[float] = []
        clipped = missing = 0
        for x, y in points:
            if y is None:
                missing += 1
                continue
            if y > y_range[1]:
                clipped += 1
            xs_out.append(x)
            ys_out.append(min(max(y, y_range[0]), y_range[1]))
        lines.append(ChartLine(name, tuple(xs_out), tuple(ys_out), clipped, missing))
        if clipped:
            notes.append(f"{name}: {clipped} point(s) above {y_range[1]:.3g} drawn at the top")
        if missing:
            notes.append(f"{name}: {missing} point(s) not finite (NaN or infinite), not drawn")
    for line in run.runs:
        if line.status == "diverged":
            why = f": {line.reason}" if line.reason else ""
            notes.append(f"{line.label} was stopped as diverged{why}")
    title = " and ".join(METRIC_NAMES.get(m, m) for m in metrics)
    return RunChart(
        title=f"{title} by {diagnosis.x_axis}",
        x_label=diagnosis.x_axis,
        y_range=y_range,
        lines=tuple(lines),
        notes=tuple(notes),
    )


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)

"""A live line chart of one metric, one series per run, against a chosen x-axis."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

from textual_plotext import PlotextPlot

XAxis = Literal["epoch", "update", "examples", "seconds"]
X_AXES: tuple[XAxis, ...] = ("epoch", "update", "examples", "seconds")
METRIC_NAMES = {
    "val_loss": "validation loss",
    "train_loss": "training loss",
    "val_acc": "validation accuracy",
    "train_acc": "training accuracy",
}
# Keep a diverging run from flattening every other curve: cap the y-axis at this many
# times the largest starting value.
LOSS_CAP = 2.0


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


class MetricChart(PlotextPlot):
    """Plots ``metric`` of every run's evaluation points.

    ``points`` are objects with ``epoch``, ``update``, ``examples``, ``seconds`` and the
    metric attribute (``RunProgress`` events or stored ``HistoryPoint`` records). The
    chart is redrawn by :meth:`redraw` only, so callers decide how often (at most ~10 Hz).
    """

    def __init__(self, metric: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.metric = metric
        self.x_axis: XAxis = "epoch"
        self.series: dict[str, list[Any]] = {}

    def clear_series(self) -> None:
        self.series = {}

    def add_points(self, label: str, points: Iterable[Any]) -> None:
        self.series.setdefault(label, []).extend(points)

    def redraw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        name = METRIC_NAMES.get(self.metric, self.metric)
        plt.title(f"{name} by {self.x_axis}")
        is_loss = "loss" in self.metric
        starts = []
        plotted = False
        for label, points in self.series.items():
            xs, ys = [], []
            for point in points:
                y: Any = getattr(point, self.metric, None)
                x: Any = getattr(point, self.x_axis, None)
                if _finite(y) and _finite(x):
                    xs.append(float(x))
                    ys.append(float(y))
            if not xs:
                continue
            starts.append(ys[0])
            plt.plot(xs, ys, label=label, marker="braille")
            plotted = True
        if plotted and is_loss and starts:
            top = max(starts) * LOSS_CAP
            values: list[Any] = [
                getattr(p, self.metric, None) for pts in self.series.values() for p in pts
            ]
            highest = max((float(v) for v in values if _finite(v)), default=top)
            plt.ylim(0, min(top, highest * 1.05) or 1.0)
        elif plotted:
            plt.ylim(0, 1)
        plt.xlabel(self.x_axis)
        self.refresh()

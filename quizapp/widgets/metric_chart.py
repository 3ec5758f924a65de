"""A live line chart of one metric, one series per run, against a chosen x-axis."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from rich.text import Text
from textual.app import RenderResult
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


def thin(xs: Sequence[float], ys: Sequence[float], most: int) -> tuple[list[float], list[float]]:
    """At most ``most`` evenly spread points, always keeping the first and the last: a
    terminal chart cannot show more, and plotting them all is what makes redraws slow."""
    if len(xs) <= most or most < 2:
        return list(xs), list(ys)
    step = (len(xs) - 1) / (most - 1)
    picks = sorted({round(i * step) for i in range(most)})
    return [xs[i] for i in picks], [ys[i] for i in picks]


class MetricChart(PlotextPlot):
    """Plots ``metric`` of every run's evaluation points.

    ``points`` are objects with ``epoch``, ``update``, ``examples``, ``seconds`` and the
    metric attribute (``RunProgress`` events or stored ``HistoryPoint`` records). The plot is
    rebuilt only by :meth:`redraw` (callers decide how often), and the rendered text is
    cached, so repainting the screen for other reasons costs nothing here.
    """

    def __init__(self, metric: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.metric = metric
        self.x_axis: XAxis = "epoch"
        self.series: dict[str, list[Any]] = {}
        self._version = 0
        self._cache: tuple[tuple[Any, ...], Text] | None = None

    def clear_series(self) -> None:
        self.series = {}

    def add_points(self, label: str, points: Iterable[Any]) -> None:
        self.series.setdefault(label, []).extend(points)

    def redraw(self) -> None:
        """Rebuild the plot from the series and repaint."""
        self._version += 1
        self.refresh()

    def _plot_series(self, width: int) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        name = METRIC_NAMES.get(self.metric, self.metric)
        plt.title(f"{name} by {self.x_axis}")
        is_loss = "loss" in self.metric
        starts: list[float] = []
        highest = 0.0
        widest = 0.0
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
            highest = max(highest, *ys)
            widest = max(widest, *xs)
            xs, ys = thin(xs, ys, max(2, width))
            plt.plot(xs, ys, label=label, marker="braille")
            plotted = True
        if plotted:
            # Start the x-axis at zero, also while each run has only its first point.
            plt.xlim(0, widest or 1)
        if plotted and is_loss:
            top = max(starts) * LOSS_CAP
            plt.ylim(0, min(top, highest * 1.05) or 1.0)
        elif plotted:
            plt.ylim(0, 1)
        plt.xlabel(self.x_axis)

    def render(self) -> RenderResult:
        key = (self._version, self.size, self.app.theme, self.theme)
        if self._cache is None or self._cache[0] != key:
            self._plot_series(self.size.width)
            rendered = super().render()
            assert isinstance(rendered, Text)
            self._cache = (key, rendered)
        return self._cache[1]

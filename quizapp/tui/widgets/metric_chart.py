"""A live line chart of one metric, one series per run, against a chosen x-axis."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rich.text import Text
from textual.worker import Worker, WorkerState
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from quizapp.domain.chart_values import finite_values, plot_series

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textual.app import RenderResult
    from textual.geometry import Size

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


@dataclass(frozen=True)
class ChartSpec:
    """Everything one drawing needs, copied so that it can be drawn off the UI thread."""

    version: int
    size: Size
    theme: str
    metric: str
    x_axis: XAxis
    series: tuple[tuple[str, tuple[tuple[float, float], ...]], ...]


def y_range(spec: ChartSpec) -> tuple[float, float]:
    """The y-axis of ``spec``: 0..1 for accuracy; for a loss, up to the highest finite value
    but at most ``LOSS_CAP`` times the largest starting value."""
    if "loss" not in spec.metric:
        return 0.0, 1.0
    starts = finite_values(points[0][1] for _, points in spec.series if points)
    values = finite_values(y for _, points in spec.series for _, y in points)
    if not starts or not values:
        return 0.0, 1.0
    return 0.0, min(max(starts) * LOSS_CAP, max(values) * 1.05) or 1.0


def draw(spec: ChartSpec) -> Text:
    """Plot ``spec`` with a plotext figure of its own and return the rendered text."""
    plt = Plot()
    width, height = spec.size
    plt.plotsize(width, height)
    plt._set_size(width, height)  # as textual-plotext does: plotsize alone is not enough
    plt.theme(spec.theme)
    name = METRIC_NAMES.get(spec.metric, spec.metric)
    plt.title(f"{name} by {spec.x_axis}")
    low, high = y_range(spec)
    widest = 0.0
    for label, points in spec.series:
        curve = plot_series(points, low, high, most=max(2, width))
        if not curve.xs:
            continue
        widest = max(widest, *curve.xs)
        plt.plot(curve.xs, curve.ys, label=curve.legend(label), marker="braille")
        if curve.end is not None:
            plt.scatter([curve.end[0]], [curve.end[1]], marker="x", color="red")
    if any(points for _, points in spec.series):
        # Start the x-axis at zero, also while each run has only its first point.
        plt.xlim(0, widest or 1)
        plt.ylim(low, high)
    plt.xlabel(spec.x_axis)
    return Text.from_ansi(plt.build())


class MetricChart(PlotextPlot):
    """Plots ``metric`` of every run's evaluation points.

    ``points`` are objects with ``epoch``, ``update``, ``examples``, ``seconds`` and the
    metric attribute (``RunProgress`` events or stored ``HistoryPoint`` records).
    :meth:`redraw` draws the chart in a thread worker (plotext takes several milliseconds a
    chart) and shows the result when it is ready, so key presses are not kept waiting;
    callers decide how often to redraw.
    """

    def __init__(self, metric: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.metric = metric
        self.x_axis: XAxis = "epoch"
        self.series: dict[str, list[Any]] = {}
        self._version = 0
        self._shown: tuple[int, Size, str, Text] | None = None  # version, size, theme, text
        self._drawing: Worker[Text] | None = None
        self._drawing_spec: ChartSpec | None = None

    def clear_series(self) -> None:
        self.series = {}

    def add_points(self, label: str, points: Iterable[Any]) -> None:
        self.series.setdefault(label, []).extend(points)

    def redraw(self, *, at_once: bool = False) -> None:
        """Draw the series again and show them: in the background (while training), or
        ``at_once`` on the UI thread, the quickest answer to a key press."""
        self._version += 1
        if not (self.is_mounted and self.size.area):
            return
        if at_once:
            spec = self._spec()
            self._drawing = None
            self._shown = (spec.version, spec.size, spec.theme, draw(spec))
            self.refresh()
        else:
            self._start_drawing()

    def _spec(self) -> ChartSpec:
        series = []
        for label, points in self.series.items():
            pairs = []
            for point in points:
                x: Any = getattr(point, self.x_axis, None)
                y: Any = getattr(point, self.metric, None)
                if _finite(x) and isinstance(y, int | float):
                    pairs.append((float(x), float(y)))  # NaN/inf kept: they mark divergence
            series.append((label, tuple(pairs)))
        return ChartSpec(
            version=self._version,
            size=self.size,
            theme=self._get_plotext_theme_name(self.app.theme),
            metric=self.metric,
            x_axis=self.x_axis,
            series=tuple(series),
        )

    def _start_drawing(self) -> None:
        spec = self._spec()
        self._drawing = self.run_worker(
            lambda: draw(spec),
            thread=True,
            exclusive=True,
            group=f"chart-{id(self)}",
            exit_on_error=False,
        )
        self._drawing_spec = spec

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._drawing or event.state != WorkerState.SUCCESS:
            return
        event.stop()
        spec = self._drawing_spec
        result = event.worker.result
        if spec is None or result is None:
            return
        if self._shown is None or spec.version >= self._shown[0]:
            self._shown = (spec.version, spec.size, spec.theme, result)
            self.refresh()

    def on_resize(self) -> None:
        self.redraw()

    def _register_theme(self, app_theme_name: str) -> None:
        super()._register_theme(app_theme_name)
        self.redraw()  # the plot's colours follow the app's theme

    def render(self) -> RenderResult:
        # The latest finished drawing; a newer one replaces it as soon as it is ready.
        return self._shown[3] if self._shown is not None else Text("")

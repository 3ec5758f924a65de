"""Draws one chart an experiment described in ``ExperimentResult.extras["charts"]`` (layout in
``sims.charts``): ``lines`` and ``bars`` with plotext, ``heatmap`` as a Rich grid.

Use :func:`chart_widget` to get the right widget for a chart dict; results reloaded from the
store carry the same dicts, so a stored run redraws exactly as it finished.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static
from textual_plotext import PlotextPlot

from quizapp.domain.chart_values import finite_values, plot_series
from quizapp.views.chart_tables import render_chart

if TYPE_CHECKING:
    from textual.app import RenderResult
    from textual.widget import Widget

MAX_POINTS = 200  # per curve: a terminal cannot show more


def chart_widget(chart: dict[str, Any], *, id: str | None = None) -> Widget:
    """The widget for one chart description (a placeholder line for an unknown kind)."""
    if chart.get("kind") in ("lines", "bars"):
        return ExperimentChart(chart, id=id)
    rendered = render_chart(chart)
    if rendered is None:
        return Static(Text(f"(chart {chart.get('id')!r} of an unknown kind)", style="dim"), id=id)
    return Static(rendered, id=id)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


class ExperimentChart(PlotextPlot):
    """A ``lines`` or ``bars`` chart. The plot is rebuilt only when the size or theme
    changes (the chart itself is a finished result)."""

    def __init__(self, chart: dict[str, Any], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chart = chart
        self._cache: tuple[tuple[Any, ...], Text] | None = None

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.chart.get("title", ""))
        if self.chart["kind"] == "bars":
            self._bars()
        else:
            self._lines()

    def _lines(self) -> None:
        plt, chart = self.plt, self.chart
        logx = chart["x"].get("scale") in ("log", "log2")
        logy = chart["y"].get("scale") in ("log", "log2")
        curves = [
            (
                series,
                [
                    (x, y)
                    for x, y in series.get("points", [])
                    if _fits_scale(x, logx) and _fits_scale(y, logy)
                ],
            )
            for series in chart.get("series", [])
        ]
        low, high = chart["y"].get("min"), chart["y"].get("max")
        values = finite_values(y for _, points in curves for _, y in points)
        bottom = low if _finite(low) else min(values, default=0.0)
        top = high if _finite(high) else max(values, default=1.0)
        for series, points in curves:
            curve = plot_series(points, bottom, top, most=MAX_POINTS)
            if not curve.xs:
                continue
            label = curve.legend(series["name"])
            if series.get("style") == "points":
                plt.scatter(curve.xs, curve.ys, label=label, marker="dot")
            else:
                marker = "dot" if series.get("style") == "dashed" else "braille"
                plt.plot(curve.xs, curve.ys, label=label, marker=marker)
            if curve.end is not None:
                plt.scatter([curve.end[0]], [curve.end[1]], marker="x", color="red")
        for mark in chart.get("marks", []):
            if _finite(mark.get("x")) and (not logx or mark["x"] > 0):
                plt.vline(mark["x"], "gray")
        if logx:
            plt.xscale("log")
        if logy:
            plt.yscale("log")
        if _finite(low) or _finite(high):
            plt.ylim(low if _finite(low) else None, high if _finite(high) else None)
        plt.xlabel(chart["x"]["label"])
        plt.ylabel(chart["y"]["label"])

    def _bars(self) -> None:
        plt, chart = self.plt, self.chart
        labels = [_label(c) for c in chart["categories"]["values"]]
        # Bars at positions 0..n-1 with the categories as tick labels: plotext would place
        # numeric-looking labels ("16", "1024") at those numbers on the axis.
        positions = [float(i) for i in range(len(labels))]
        series = chart.get("series", [])
        columns = [[v if _finite(v) else 0.0 for v in s["values"]] for s in series]
        if len(columns) == 1:
            plt.bar(positions, columns[0], label=series[0]["name"])
        elif columns:
            names = [s["name"] for s in series]
            # The runtime keyword is ``labels``; textual-plotext's type hints say ``label``.
            plt.multiple_bar(positions, columns, labels=names)  # type: ignore[call-arg]
        plt.xticks(positions, labels)
        plt.xlabel(chart["categories"]["label"])
        plt.ylabel(chart.get("value", {}).get("label", ""))

    def render(self) -> RenderResult:
        key = (self.size, self.app.theme, self.theme)
        if self._cache is None or self._cache[0] != key:
            self._draw()
            rendered = super().render()
            assert isinstance(rendered, Text)
            self._cache = (key, rendered)
        return self._cache[1]


def _fits_scale(value: Any, log: bool) -> bool:
    """A log axis has no place for zero or below."""
    return not log or (_finite(value) and value > 0)


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, int) else str(value)

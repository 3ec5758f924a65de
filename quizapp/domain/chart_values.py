"""What a chart may hand to its plotting library.

plotext rasterises every segment it is given, even far outside the y-limits: a diverged
validation loss of 1e8 costs seconds and gigabytes, and NaN/inf break its layout. Every chart
therefore passes its numbers through :func:`clip_value` (one bar, one cell) or
:func:`plot_series` (one curve) with the axis range it shows, and plots only what comes back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

DIVERGED = "diverged"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def clip_value(value: Any, low: float, high: float) -> tuple[float, bool] | None:
    """``value`` placed on an axis from ``low`` to ``high``, and whether it had to be moved.

    None for something that is not a number. NaN and +inf count as above the axis (a loss
    that became NaN has blown up), -inf as below it."""
    number = _number(value)
    if number is None:
        return None
    if math.isnan(number) or number > high:
        return high, True
    if number < low:
        return low, True
    return number, False


@dataclass(frozen=True, slots=True)
class PlotSeries:
    """One curve ready for plotting: every x finite, every y within the axis."""

    xs: list[float]
    ys: list[float]
    diverged: bool
    """The curve left the top of the axis (or became NaN/inf); its last point is drawn at
    the axis edge where that happened, and deserves a marker."""

    def legend(self, label: str) -> str:
        return f"{label} ({DIVERGED})" if self.diverged else label

    @property
    def end(self) -> tuple[float, float] | None:
        """Where a diverged curve left the chart (for its marker)."""
        return (self.xs[-1], self.ys[-1]) if self.diverged and self.xs else None


def plot_series(
    points: Iterable[tuple[Any, Any]], low: float, high: float, most: int | None = None
) -> PlotSeries:
    """The points of one curve for a y-axis from ``low`` to ``high``.

    Points without a finite x are dropped. The curve ends at its first y that is NaN, inf or
    above ``high``, drawn at ``high`` (nothing after a blow-up is worth plotting); values
    below ``low`` are drawn at ``low``. At most ``most`` points, evenly spread, first and
    last kept: a terminal chart cannot show more, and each point costs drawing time."""
    xs: list[float] = []
    ys: list[float] = []
    diverged = False
    for x, y in points:
        at = _number(x)
        placed = clip_value(y, low, high)
        if at is None or not math.isfinite(at) or placed is None:
            continue
        value, moved = placed
        xs.append(at)
        ys.append(value)
        if moved and value == high:
            diverged = True
            break
    if most is not None:
        xs, ys = thin(xs, ys, most)
    return PlotSeries(xs, ys, diverged)


def thin(xs: Sequence[float], ys: Sequence[float], most: int) -> tuple[list[float], list[float]]:
    """At most ``most`` evenly spread points, always keeping the first and the last."""
    if len(xs) <= most or most < 2:
        return list(xs), list(ys)
    step = (len(xs) - 1) / (most - 1)
    picks = sorted({round(i * step) for i in range(most)})
    return [xs[i] for i in picks], [ys[i] for i in picks]


def finite_values(values: Iterable[Any]) -> list[float]:
    """The finite numbers among ``values`` (for choosing an axis range)."""
    out = []
    for value in values:
        number = _number(value)
        if number is not None and math.isfinite(number):
            out.append(number)
    return out

"""Mean rubric score per week as a bar chart (textual-plotext)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from textual_plotext import PlotextPlot

from quizapp.domain.chart_values import clip_value

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date


class ScoreTrend(PlotextPlot):
    """Bars of the weekly mean score in percent; weeks without attempts are left empty."""

    def show(self, weeks: Sequence[tuple[date, int, float]]) -> None:
        """``weeks``: (Monday, attempts, mean score 0..1) in time order."""
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        labels = [monday.strftime("%d %b") for monday, _, _ in weeks]
        values = [_percent(score) if attempts else 0.0 for _, attempts, score in weeks]
        if any(attempts for _, attempts, _ in weeks):
            # Numeric positions with explicit ticks: plotext's own handling of text labels
            # does not place them the same way from one run to the next.
            positions = list(range(len(weeks)))
            plt.bar(positions, values, width=0.6)
            every = max(1, len(weeks) // 4)
            ticks = positions[::-1][::every][::-1]
            plt.xticks([float(i) for i in ticks], [labels[i] for i in ticks])
            plt.ylim(0, 100)
            plt.yticks([0, 50, 100], ["0%", "50%", "100%"])
            plt.title("mean score per week")
        else:
            plt.title("no graded answers yet")
        self.refresh()


def _percent(score: float) -> float:
    """A mean score as a bar height on the 0-100 axis (a week without a number gets none)."""
    placed = clip_value(round(score * 100) if math.isfinite(score) else None, 0.0, 100.0)
    return placed[0] if placed is not None else 0.0

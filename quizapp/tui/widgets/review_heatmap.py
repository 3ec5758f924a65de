"""A calendar heatmap of reviews per day: one column per week, Monday at the top."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widget import Widget

from quizapp.domain.calendar import SHADES, heat_level, month_labels
from quizapp.domain.wording import plural

if TYPE_CHECKING:
    from collections.abc import Mapping

DAY_LABELS = ("Mon", "", "Wed", "", "Fri", "", "Sun")
LABEL_WIDTH = 4
CELL_WIDTH = 2


def weeks_that_fit(width: int) -> int:
    """How many week columns fit in ``width`` cells next to the day labels."""
    return max(4, (width - LABEL_WIDTH) // CELL_WIDTH)


class ReviewHeatmap(Widget):
    """Reviews per local day for the last weeks that fit the width; today is outlined."""

    DEFAULT_CSS = """
    ReviewHeatmap { height: 9; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.counts: dict[date, int] = {}
        self.today: date | None = None

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return 9  # month labels, seven days, legend

    def show(self, counts: Mapping[date, int], today: date) -> None:
        self.counts = dict(counts)
        self.today = today
        self.refresh()

    def first_day(self, width: int) -> date | None:
        """The Monday the visible grid starts on (the store is asked from there)."""
        if self.today is None:
            return None
        monday = self.today - timedelta(days=self.today.weekday())
        return monday - timedelta(weeks=weeks_that_fit(width) - 1)

    def render(self) -> Content:
        today = self.today
        if today is None:
            return Content("")
        width = self.content_region.width
        start = self.first_day(width)
        assert start is not None
        weeks = weeks_that_fit(width)
        shown = [
            start + timedelta(days=i)
            for i in range(weeks * 7)
            if start + timedelta(days=i) <= today
        ]
        busiest = max((self.counts.get(d, 0) for d in shown), default=0)
        lines = [Content(" " * LABEL_WIDTH + month_labels(start, weeks, CELL_WIDTH))]
        # Five shades, plain and outlined for today: built once, not parsed per cell.
        cells = {
            (lvl, is_today): Content.from_markup(
                f"[{'$text-disabled' if lvl == 0 else '$success'}"
                f"{' underline' if is_today else ''}]$c[/] ",
                c=SHADES[lvl],
            )
            for lvl in range(len(SHADES))
            for is_today in (False, True)
        }
        blank = Content(" " * CELL_WIDTH)
        for weekday in range(7):
            parts = [Content(DAY_LABELS[weekday].ljust(LABEL_WIDTH))]
            for week in range(weeks):
                day = start + timedelta(weeks=week, days=weekday)
                if day > today:
                    parts.append(blank)
                    continue
                lvl = heat_level(self.counts.get(day, 0), busiest)
                parts.append(cells[lvl, day == today])
            lines.append(Content("").join(parts))
        total = sum(self.counts.get(d, 0) for d in shown)
        active = sum(1 for d in shown if self.counts.get(d, 0))
        legend = Content.from_markup(
            "[$text-muted]$total on $active · less $scale more[/]",
            total=plural(total, "review"),
            active=plural(active, "day"),
            scale=" ".join(SHADES),
        )
        lines.append(legend)
        return Content("\n").join(lines)

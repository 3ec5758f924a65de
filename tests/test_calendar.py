"""The review calendar reads the same in the CLI and the app: busiest day darkest, no month
skipped, counts worded in the singular when there is one."""

from __future__ import annotations

from datetime import date, timedelta

from quizapp.cli.progress import heatmap_rows
from quizapp.domain.calendar import SHADES, month_labels
from quizapp.store import DayCount
from quizapp.tui.widgets.review_heatmap import ReviewHeatmap


def _days(first: date, last: date, busy: dict[date, int]) -> list[DayCount]:
    n = (last - first).days + 1
    return [DayCount(first + timedelta(i), busy.get(first + timedelta(i), 0)) for i in range(n)]


def test_cli_heatmap_shades_the_only_busy_day_darkest() -> None:
    today = date(2026, 12, 2)
    rows = heatmap_rows(_days(today - timedelta(days=30), today, {today: 7}))
    grid = "\n".join(row.plain for row in rows[1:8])
    assert SHADES[-1] in grid
    assert all(shade not in grid for shade in SHADES[1:-1])
    assert "busiest day: 7 reviews" in rows[-1].plain


def test_month_labels_name_every_month_between_november_and_january() -> None:
    # The first shown Monday is 2026-11-30: December starts the very next week, so the
    # one November column gives way rather than December being skipped.
    assert month_labels(date(2026, 11, 30), 12, 2).split() == ["Dec", "Jan", "Feb"]
    # With room for it, the first month keeps its name.
    assert month_labels(date(2026, 11, 23), 12, 2).split() == ["Nov", "Dec", "Jan", "Feb"]


async def test_app_heatmap_legend_and_darkest_day() -> None:
    from textual.app import App, ComposeResult

    today = date(2026, 12, 2)

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield ReviewHeatmap()

    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        heatmap = app.query_one(ReviewHeatmap)
        heatmap.show({today: 7}, today)
        await pilot.pause()
        text = heatmap.render().plain
    assert "7 reviews on 1 day ·" in text
    assert SHADES[-1] in text
    months = text.splitlines()[0].split()
    assert months[-3:] == ["Sep", "Oct", "Nov"]

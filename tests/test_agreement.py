"""The CLI and the app show the same figures because they read the same report."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Static
from tui_support import Clock, make_app, running

from quizapp.cli import main
from quizapp.tui.screens.progress import ProgressScreen
from quizapp.tui.widgets.mastery_bars import MasteryBars
from quizapp.tui.widgets.review_heatmap import ReviewHeatmap


async def test_stats_json_and_the_progress_screen_agree(tmp_path: Path) -> None:
    app = make_app(tmp_path, Clock(datetime.now(UTC)))
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+r", "1", "enter")  # t-open: must-have met, 1/3
        await pilot.pause()
        await pilot.press(*"1173", "enter", "enter")  # t-numeric: right
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProgressScreen)
        heatmap = dict(screen.query_one(ReviewHeatmap).counts)
        bars = {
            b.topic: (b.share * b.questions, b.seen) for b in screen.query_one(MasteryBars).bars
        }
        missed = " ".join(str(screen.query_one("#missed", Static).content).split())
        title = str(screen.query_one("#title-bar", Static).content)

    out = io.StringIO()
    with redirect_stdout(out):
        home, decks = str(tmp_path / "home"), str(tmp_path / "fixture-decks")
        code = main(["stats", "--json", "--tz", "UTC", "--home", home, "--deck", decks])
    assert code == 0
    report = json.loads(out.getvalue())
    assert report["totals"]["attempts"] == 2
    assert f"{report['totals']['attempts']} answers" in title
    cli_days = {
        datetime.fromisoformat(d["day"]).date(): d["reviews"] for d in report["reviews_per_day"]
    }
    assert {d: n for d, n in cli_days.items() if n} == {d: n for d, n in heatmap.items() if n}
    for point in report["most_missed"]:
        assert f"{point['missed']}/{point['shown']} {point['point']}" in missed
    # The CLI also loads the shipped decks: compare mastery summed over a topic's questions.
    cli_mastery = {
        m["topic"]: (m["mastery"] * m["questions"], m["seen"]) for m in report["mastery"]
    }
    assert bars["epochs"][1] == cli_mastery["epochs"][1] == 1
    assert bars["epochs"][0] == pytest.approx(cli_mastery["epochs"][0])
    assert bars["epochs"][0] > 0

"""An interview date: every question of the chosen topics is seen in time, the weakest on the
day come first, and Home shows readiness per topic."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from test_store import grade, question
from textual.widgets import Static
from tui_support import START, Clock, make_app, running

from quizapp.cli import main
from quizapp.domain.grading import Rating
from quizapp.domain.interview_date import (
    InterviewPlan,
    interview_moment,
    new_per_day_until,
    parse_interview_date,
)
from quizapp.services.review import (
    interview_readiness,
    review_queue,
    save_interview_plan,
)
from quizapp.store import Store

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_new_allowance_is_raised_only_when_needed() -> None:
    assert new_per_day_until(unseen=30, days=2, usual=10) == 15
    assert new_per_day_until(unseen=30, days=10, usual=10) == 10
    assert new_per_day_until(unseen=7, days=0, usual=3) == 7  # the day itself: all of them
    assert new_per_day_until(unseen=0, days=5, usual=10) == 10


def test_interview_date_must_be_a_future_iso_date() -> None:
    today = date(2026, 3, 2)
    assert parse_interview_date("2026-03-09", today) == date(2026, 3, 9)
    with pytest.raises(ValueError, match="has passed"):
        parse_interview_date("2026-03-01", today)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_interview_date("next week", today)


def test_queue_sees_every_chosen_question_in_time_and_brings_the_weakest_forward(
    tmp_path: Path,
) -> None:
    topics = {f"e{i:02d}": "epochs" for i in range(30)} | {
        f"b{i:02d}": "batch-size" for i in range(30)
    }
    ids = list(topics)
    with Store.open(tmp_path / "home") as store:
        # Three epochs questions answered before today: none is due on the day.
        for qid, ago in (("e00", timedelta(days=1)), ("e01", timedelta(days=1, hours=2))):
            grade(store, question(qid, "epochs"), {0, 1, 2}, T0 - ago, rating=Rating.EASY)
        grade(
            store, question("e02", "epochs"), {0, 1, 2}, T0 - timedelta(hours=9), rating=Rating.EASY
        )
        usual = review_queue(store, ids, T0, UTC, topics)
        assert len(usual) == 10  # the usual 10 new per day, deck order
        save_interview_plan(store, InterviewPlan(T0.date() + timedelta(days=2), ("epochs",)))
        queue = review_queue(store, ids, T0, UTC, topics)
        new = [q for q in queue if q not in {"e00", "e01", "e02"}]
        # 27 unseen epochs questions in 2 days: 14 today, all from the chosen topic.
        assert len(new) == 14 and all(q.startswith("e") for q in new)
        readiness = interview_readiness(store, topics, T0, UTC)
        assert readiness is not None and readiness.days_left == 2
        assert [r.topic for r in readiness.topics] == ["epochs"]
        epochs = readiness.topics[0]
        assert (epochs.seen, epochs.questions) == (3, 30)
        assert 0 < epochs.recall < 3 / 30 + 1e-9
        # A desired retention above what FSRS predicts on the day brings answered
        # questions forward (all three here), lowest predicted recall first.
        store.update_settings(desired_retention=0.99)
        forward = [
            q for q in review_queue(store, ids, T0, UTC, topics) if q in {"e00", "e01", "e02"}
        ]
        assert set(forward) == {"e00", "e01", "e02"}
        at = interview_moment(T0.date() + timedelta(days=2), UTC)
        from quizapp.domain.scheduling import retrievability

        recalls = [retrievability(store.card(q), at) for q in forward]
        assert recalls == sorted(recalls)


def test_settings_command_and_home_panel(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    day = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    out = io.StringIO()
    with redirect_stdout(out):
        assert (
            main(
                [
                    "settings",
                    "--home",
                    home,
                    "--interview-date",
                    day,
                    "--interview-topics",
                    "epochs",
                ]
            )
            == 0
        )
    assert f"Interview on {day}" in out.getvalue() and "topics: epochs" in out.getvalue()
    assert main(["settings", "--home", home, "--interview-date", "2001-01-01"]) == 1
    assert main(["settings", "--home", home, "--interview-topics", "epochs"]) == 1


async def test_home_shows_days_left_and_readiness(tmp_path: Path) -> None:
    app = make_app(tmp_path, Clock(START))
    with Store.open(tmp_path / "home") as store:
        save_interview_plan(store, InterviewPlan(START.date() + timedelta(days=3), ()))
    async with running(app) as pilot:
        await pilot.pause()
        panel = app.screen.query_one("#interview")
        assert panel.display
        assert "Interview in 3 days" in str(panel.border_title)
        assert "predicts for the day" in str(
            app.screen.query_one("#interview-text", Static).content
        )

"""Mock interview rules and session: coverage within the time, the report, what is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from questions.loader import load_library
from quizapp.domain.mock_interview import minutes_for, pick_questions
from quizapp.services.mock_interview import SelfGrade, finish_interview, start_interview
from quizapp.services.review import review_queue
from quizapp.store import Store

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2026, 5, 4, 18, 0, tzinfo=UTC)
BANK = list(load_library().questions.values())


@pytest.mark.parametrize("minutes", [10, 30, 60])
def test_pick_covers_topics_and_kinds_within_the_time(minutes: int) -> None:
    picked = pick_questions(BANK, minutes, seed=3)
    assert sum(minutes_for(q) for q in picked) <= minutes
    assert any(q.kind == "numeric" for q in picked)
    topics = {q.topic for q in BANK}
    # As many different topics as questions allow: topics take turns.
    assert len({q.topic for q in picked}) == min(len(topics), len(picked))
    assert len({q.id for q in picked}) == len(picked)
    assert pick_questions(BANK, minutes, seed=3) == picked  # repeatable


def test_pick_respects_topics_and_refuses_bad_input() -> None:
    picked = pick_questions(BANK, 30, topics=["epochs"], seed=1)
    assert picked and {q.topic for q in picked} == {"epochs"}
    with pytest.raises(ValueError, match="no questions on nothing-here"):
        pick_questions(BANK, 30, topics=["nothing-here"])
    with pytest.raises(ValueError, match="5 to 180 minutes"):
        pick_questions(BANK, 2)


def test_finished_interview_is_reported_stored_and_weak_answers_come_back(tmp_path: Path) -> None:
    interview = start_interview(BANK, 20, NOW, seed=7)
    assert all(a.follow_up for a in interview.asked)
    grades = {}
    for i, asked in enumerate(interview.asked):
        asked.answer = "1173" if asked.question.kind == "numeric" else "an answer"
        asked.follow_up_answer = "a follow-up answer"
        asked.seconds = 100.0 + i
        rubric = asked.question.rubric
        # First question: every point met; the others: nothing met.
        grades[asked.question.id] = SelfGrade(
            met=frozenset(range(len(rubric))) if i == 0 else frozenset()
        )
    first = interview.asked[0].question.id
    with Store.open(tmp_path / "home") as store:
        report = finish_interview(store, interview, grades, NOW + timedelta(minutes=20))
        assert first not in report.review_next or interview.asked[0].question.kind == "numeric"
        open_ids = [a.question.id for a in interview.asked[1:] if a.question.kind != "numeric"]
        assert set(open_ids) <= set(report.review_next)
        assert report.seconds_used == sum(100.0 + i for i in range(len(interview.asked)))
        assert set(report.by_topic) == {a.question.topic for a in interview.asked}
        stored = store.mock_interviews()
        assert len(stored) == 1 and stored[0].report["score"] == round(report.score, 4)
        assert store.totals().attempts == len(interview.asked)
        # Answers graded Again are due again soon: they are in the queue minutes later.
        ids = [q.id for q in BANK]
        queue = review_queue(store, ids, NOW + timedelta(hours=1), UTC)
        assert set(open_ids) <= set(queue)

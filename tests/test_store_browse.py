"""Browse's per-question figures come from one grouped query that agrees with each
question's own history."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from test_store import T0, grade, question

from quizapp.store import QuestionStats, Store

if TYPE_CHECKING:
    from pathlib import Path


def test_question_stats_match_each_questions_history(tmp_path: Path) -> None:
    with Store.open(tmp_path / "home") as store:
        scores = {"q0": [{0}, {0, 1, 2}, {1}], "q1": [{0, 1}], "q2": []}
        for qid, grades in scores.items():
            for i, met in enumerate(grades):
                grade(store, question(qid), met, T0 + timedelta(hours=i, minutes=len(qid)))
        stats = store.question_stats(["q0", "q1", "q2", "q0"])
        assert list(stats) == ["q0", "q1", "q2"]
        for qid in ("q0", "q1"):
            history = store.question_history(qid)
            card = store.card(qid)
            assert card is not None
            mean = sum(a.score for a in history) / len(history)
            assert stats[qid].mean_score == pytest.approx(mean)
            assert stats[qid] == QuestionStats(
                attempts=len(history),
                last_score=history[0].score,
                last_attempt=history[0].submitted,
                mean_score=stats[qid].mean_score,
                due=card.due,
            )
        assert stats["q2"] == QuestionStats()  # never answered
        assert stats["q0"].last_score != stats["q0"].mean_score

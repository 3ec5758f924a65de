"""A mock interview session, driven the same way by the app and by ``quizapp interview``.

The front end asks each question in turn (no model answer shown), records the answer and the
answer to one follow-up with the time each took, then, at the end, shows the model answers and
lets the learner tick the rubric points each answer met (numeric answers grade themselves).
``finish`` turns that into a report, saves every answer as a practice attempt (so weak answers
come back in the review queue) and keeps the report for Progress.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from questions.model import Question, QuestionKind
from quizapp.domain.grading import Grade, grade_numeric, grade_rubric
from quizapp.domain.mock_interview import (
    InterviewReport,
    answer_record,
    interview_report,
    minutes_for,
    pick_questions,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from quizapp.store import Store


@dataclass
class AskedQuestion:
    question: Question
    follow_up: str  # the follow-up the interviewer asks after the answer ("" if none)
    answer: str = ""
    follow_up_answer: str = ""
    seconds: float = 0.0

    @property
    def budget_seconds(self) -> float:
        return minutes_for(self.question) * 60.0


@dataclass
class MockInterview:
    minutes: int
    topics: tuple[str, ...]
    started: datetime
    asked: list[AskedQuestion] = field(default_factory=list)

    @property
    def budget_seconds(self) -> float:
        return self.minutes * 60.0

    @property
    def seconds_used(self) -> float:
        """Time spent on the questions answered so far."""
        return sum(a.seconds for a in self.asked)

    def seconds_left(self, current: float = 0.0) -> float:
        """What is left of the interview's time while ``current`` seconds have gone on the
        question being answered (negative once over time)."""
        return self.budget_seconds - self.seconds_used - current


@dataclass(frozen=True, slots=True)
class SelfGrade:
    """What the learner ticked for one answer at the end: rubric points met (open questions)
    and the red-flag statements the answer made."""

    met: frozenset[int] = frozenset()
    red_flags: tuple[str, ...] = ()


def start_interview(
    questions: Sequence[Question],
    minutes: int,
    now: datetime,
    *,
    topics: Sequence[str] = (),
    seed: int = 0,
) -> MockInterview:
    """Pick the questions (ValueError says why none can be) and pair each with a follow-up."""
    # A diagnose question is answered by reading a chart, which a spoken interview lacks.
    spoken = [q for q in questions if q.kind != QuestionKind.DIAGNOSE]
    picked = pick_questions(spoken, minutes, topics=topics, seed=seed)
    asked = [
        AskedQuestion(q, q.follow_ups[(seed + i) % len(q.follow_ups)] if q.follow_ups else "")
        for i, q in enumerate(picked)
        if isinstance(q, Question)
    ]
    return MockInterview(minutes=minutes, topics=tuple(topics), started=now, asked=asked)


def _grade(asked: AskedQuestion, self_grade: SelfGrade) -> tuple[Grade, bool | None]:
    question = asked.question
    if question.kind == QuestionKind.NUMERIC and question.numeric is not None:
        try:
            grade = grade_numeric(question.numeric, asked.answer)
        except ValueError:  # not a number: a wrong answer in an interview
            grade = grade_numeric(question.numeric, math.inf)
        return grade, grade.score == 1.0
    return grade_rubric(question.rubric, self_grade.met), None


def numeric_right(asked: AskedQuestion) -> bool | None:
    """Whether a numeric answer was right (shown while grading); None for open questions,
    which the learner grades against the rubric."""
    return _grade(asked, SelfGrade())[1]


def finish_interview(
    store: Store | None,
    interview: MockInterview,
    grades: Mapping[str, SelfGrade],
    now: datetime,
) -> InterviewReport:
    """Grade every answer, save them as practice attempts and the report (when a store is
    open), and return the report."""
    records = []
    for asked in interview.asked:
        question = asked.question
        grade, numeric_right = _grade(asked, grades.get(question.id, SelfGrade()))
        self_grade = grades.get(question.id, SelfGrade())
        records.append(
            answer_record(
                question.id,
                question.topic,
                question.rubric,
                grade.met,
                seconds=asked.seconds,
                budget_seconds=asked.budget_seconds,
                numeric_right=numeric_right,
                red_flags=self_grade.red_flags,
            )
        )
        if store is not None:
            text = asked.answer
            if asked.follow_up_answer:
                text += f"\n\nFollow-up: {asked.follow_up}\n{asked.follow_up_answer}"
            store.record_attempt(
                question,
                grade,
                grade.suggested,
                answer=text,
                started=interview.started,
                submitted=now,
                mode="practice",
                seconds=asked.seconds,
            )
    report = interview_report(records, interview.minutes, interview.seconds_used)
    if store is not None:
        store.record_mock_interview(
            started=interview.started,
            finished=now,
            minutes=interview.minutes,
            topics=interview.topics,
            score=report.score,
            report=report_json(report),
        )
    return report


def report_json(report: InterviewReport) -> dict[str, Any]:
    """The report as strict JSON data (stored, and printed by ``--json``)."""
    return {
        "minutes": report.minutes,
        "seconds_used": round(report.seconds_used, 1),
        "over_time": report.over_time,
        "score": round(report.score, 4),
        "by_topic": {t: round(s, 4) for t, s in report.by_topic.items()},
        "review_next": list(report.review_next),
        "answers": [
            {
                "question_id": a.question_id,
                "topic": a.topic,
                "seconds": round(a.seconds, 1),
                "budget_seconds": a.budget_seconds,
                "score": round(a.score, 4),
                "missed_points": list(a.missed_points),
                "missed_must_have": a.missed_must_have,
                "red_flags": list(a.red_flags),
            }
            for a in report.answers
        ],
    }

"""A mock interview: which questions to ask in the time given, and the report at the end.

Pure rules, no clock reads: times are passed in. Questions are picked for coverage: topics
take turns, difficulties alternate within a topic, and at least one numeric question (and one
of any other kind present, such as diagnose-the-run) is included when the chosen topics have
one. Each question has a time budget by difficulty, as an interviewer would pace it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from quizapp.domain.grading import GOOD_SHARE, RubricPointLike, missed_must_have

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

# Minutes an interviewer would give an answer (and its follow-up), by difficulty 1-3.
MINUTES_BY_DIFFICULTY: Mapping[int, int] = {1: 3, 2: 5, 3: 7}
MIN_MINUTES, MAX_MINUTES = 5, 180


class QuestionLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def difficulty(self) -> int: ...
    @property
    def kind(self) -> str: ...


def minutes_for(question: QuestionLike) -> int:
    return MINUTES_BY_DIFFICULTY.get(question.difficulty, 5)


def pick_questions(
    candidates: Sequence[QuestionLike],
    minutes: int,
    *,
    topics: Sequence[str] = (),
    seed: int = 0,
) -> list[QuestionLike]:
    """Questions for an interview of ``minutes`` minutes, in the order to ask them.

    ``topics`` limits the choice (empty: all); ``seed`` makes the pick repeatable. Raises
    ValueError for a length out of range or topics without questions."""
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ValueError(
            f"an interview lasts {MIN_MINUTES} to {MAX_MINUTES} minutes, not {minutes}"
        )
    pool = [q for q in candidates if not topics or q.topic in topics]
    if not pool:
        wanted = ", ".join(topics) if topics else "any topic"
        raise ValueError(f"no questions on {wanted}")
    rng = random.Random(seed)
    by_topic: dict[str, list[QuestionLike]] = {}
    for question in sorted(pool, key=lambda q: q.id):
        by_topic.setdefault(question.topic, []).append(question)
    for questions in by_topic.values():
        rng.shuffle(questions)
        # Within each run of three shuffled questions, easier first: a topic opens gently.
        position = {q.id: i for i, q in enumerate(questions)}
        questions.sort(key=lambda q: (position[q.id] // 3, q.difficulty))
    order = list(by_topic)
    rng.shuffle(order)
    picked: list[QuestionLike] = []
    used = 0
    while any(by_topic.values()):
        for topic in order:
            if by_topic[topic]:
                question = by_topic[topic].pop(0)
                if used + minutes_for(question) <= minutes or not picked:
                    picked.append(question)
                    used += minutes_for(question)
        if all(used + minutes_for(q) > minutes for qs in by_topic.values() for q in qs):
            break
    return _with_every_kind(picked, pool, minutes)


def _with_every_kind(
    picked: list[QuestionLike], pool: Sequence[QuestionLike], minutes: int
) -> list[QuestionLike]:
    """Swap picks for one question of each kind the pool has and the pick lacks (a numeric
    one, a diagnose-the-run one, ...), keeping within the time."""
    for kind in sorted({q.kind for q in pool} - {q.kind for q in picked}):
        extra = min((q for q in pool if q.kind == kind), key=lambda q: (minutes_for(q), q.id))
        # Replace the longest pick whose removal makes room; never a kind's only question.
        kinds = [q.kind for q in picked]
        for i in sorted(range(len(picked)), key=lambda i: -minutes_for(picked[i])):
            if kinds.count(picked[i].kind) < 2:
                continue
            total = sum(minutes_for(q) for q in picked) - minutes_for(picked[i])
            if total + minutes_for(extra) <= minutes or len(picked) == 1:
                picked[i] = extra
                break
    return picked


@dataclass(frozen=True, slots=True)
class InterviewAnswer:
    """One asked question, as graded at the end of the interview."""

    question_id: str
    topic: str
    seconds: float  # time spent on it (answer and follow-up)
    budget_seconds: float
    score: float  # 0..1: share of rubric points met, or 1/0 for a numeric answer
    missed_points: tuple[str, ...] = ()
    missed_must_have: bool = False
    red_flags: tuple[str, ...] = ()  # misconceptions the answer stated


@dataclass(frozen=True, slots=True)
class InterviewReport:
    answers: tuple[InterviewAnswer, ...]
    minutes: int
    seconds_used: float
    score: float  # mean over the questions asked
    by_topic: Mapping[str, float] = field(default_factory=dict)
    review_next: tuple[str, ...] = ()  # question ids that go to the review queue

    @property
    def over_time(self) -> bool:
        return self.seconds_used > self.minutes * 60


def answer_record(
    question_id: str,
    topic: str,
    rubric: Sequence[RubricPointLike],
    met: Iterable[int],
    *,
    seconds: float,
    budget_seconds: float,
    numeric_right: bool | None = None,
    red_flags: Sequence[str] = (),
) -> InterviewAnswer:
    """Grade one answer: rubric points met (open questions) or right/wrong (numeric)."""
    points = frozenset(met)
    if numeric_right is not None:
        score = 1.0 if numeric_right else 0.0
        missed: tuple[str, ...] = ()
        must = False
    else:
        score = len(points) / len(rubric) if rubric else 0.0
        missed = tuple(p.text for i, p in enumerate(rubric) if i not in points)
        must = missed_must_have(rubric, points)
    return InterviewAnswer(
        question_id=question_id,
        topic=topic,
        seconds=max(0.0, seconds),
        budget_seconds=budget_seconds,
        score=score,
        missed_points=missed,
        missed_must_have=must,
        red_flags=tuple(red_flags),
    )


def interview_report(
    answers: Sequence[InterviewAnswer], minutes: int, seconds_used: float
) -> InterviewReport:
    """Scores per question and topic, time against the clock, and what to review next: every
    question below a Good answer, with a missed must-have point, or with a red flag."""
    by_topic: dict[str, list[float]] = {}
    for answer in answers:
        by_topic.setdefault(answer.topic, []).append(answer.score)
    review_next = tuple(
        a.question_id
        for a in answers
        if a.score < float(GOOD_SHARE) or a.missed_must_have or a.red_flags
    )
    return InterviewReport(
        answers=tuple(answers),
        minutes=minutes,
        seconds_used=seconds_used,
        score=sum(a.score for a in answers) / len(answers) if answers else 0.0,
        by_topic={t: sum(s) / len(s) for t, s in by_topic.items()},
        review_next=review_next,
    )

"""Preparing for an interview on a known day: readiness and what to review before it.

Pure rules, ``now`` passed in. Readiness is FSRS's predicted recall on the interview day
(retrievability of each question's card at that moment; a question never answered counts 0),
averaged per topic. Before the day the review queue (a) raises the daily allowance of new
questions so that every question of the chosen topics is seen in time, and (b) brings forward
questions that are not due yet but whose predicted recall on the day is below the desired
retention, lowest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import TYPE_CHECKING

from quizapp.domain.scheduling import as_utc, retrievability

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from fsrs import Card

# Predicted recall is taken at this local time on the interview day.
INTERVIEW_TIME = time(9, 0)
# How many not-yet-due questions one review session brings forward at most.
BRING_FORWARD_LIMIT = 10


@dataclass(frozen=True, slots=True)
class InterviewPlan:
    day: date
    topics: tuple[str, ...] = ()  # empty: every topic

    def covers(self, topic: str) -> bool:
        return not self.topics or topic in self.topics


@dataclass(frozen=True, slots=True)
class TopicReadiness:
    topic: str
    questions: int
    seen: int
    recall: float  # mean predicted recall on the day, 0..1 (unseen questions count 0)


def parse_interview_date(text: str, today: date) -> date:
    """A YYYY-MM-DD date that is today or later; ValueError says what was expected."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. {today.isoformat()}"
        ) from None
    if day < today:
        raise ValueError(f"{day.isoformat()} has passed; give today or a later day")
    return day


def interview_moment(day: date, tz: tzinfo) -> datetime:
    """The moment predicted recall is measured for: 9:00 local time on the day."""
    return as_utc(datetime.combine(day, INTERVIEW_TIME, tzinfo=tz))


def days_left(day: date, today: date) -> int:
    """Whole days from today to the interview (0 on the day itself)."""
    return (day - today).days


def new_per_day_until(unseen: int, days: int, usual: int) -> int:
    """Daily new-question allowance that sees every unseen question before the day.

    The usual allowance unless it is too small; on the last day, everything still unseen."""
    if unseen <= 0:
        return usual
    return max(usual, math.ceil(unseen / max(days, 1)))


def readiness(
    cards: Mapping[str, Card],
    topics: Mapping[str, str],
    at: datetime,
    plan: InterviewPlan,
) -> list[TopicReadiness]:
    """Predicted recall on the day per topic of the plan (in ``topics``' first-seen order).

    ``topics`` maps every question id in the decks to its topic."""
    by_topic: dict[str, list[str]] = {}
    for qid, topic in topics.items():
        if plan.covers(topic):
            by_topic.setdefault(topic, []).append(qid)
    out = []
    for topic, ids in by_topic.items():
        recalls = [retrievability(cards.get(qid), at) for qid in ids]
        out.append(
            TopicReadiness(
                topic=topic,
                questions=len(ids),
                seen=sum(1 for qid in ids if qid in cards),
                recall=sum(recalls) / len(recalls),
            )
        )
    return out


def weakest_on_the_day(
    cards: Mapping[str, Card],
    question_ids: Iterable[str],
    at: datetime,
    threshold: float,
    *,
    exclude: Sequence[str] = (),
    limit: int = BRING_FORWARD_LIMIT,
) -> list[str]:
    """Answered questions whose predicted recall at ``at`` is below ``threshold``, lowest
    first (ties by id), leaving out ``exclude`` (those already in the queue)."""
    skip = set(exclude)
    scored = [
        (retrievability(cards[qid], at), qid)
        for qid in question_ids
        if qid in cards and qid not in skip
    ]
    return [qid for recall, qid in sorted(scored) if recall < threshold][:limit]

"""Spaced-review scheduling with FSRS, and the local-time arithmetic progress needs.

Pure logic: no I/O and no clock reads; every function takes ``now`` (timezone-aware).
Built on the maintained ``fsrs`` package (py-fsrs 6): a question is one ``fsrs.Card`` whose
``card_id`` is derived from the question's stable id, so history survives text edits and
merges across machines. Fuzzing is off: the same reviews always give the same schedule, which
is what makes undo, import (replaying merged histories) and tests exact.

Public API::

    DEFAULT_RETENTION = 0.9, DEFAULT_NEW_PER_DAY = 10
    card_id_for(question_id) -> int
    new_card(question_id, now) -> fsrs.Card
    review(card | None, question_id, rating, now, *, desired_retention=0.9, duration_ms=None)
        -> Review(before: Card | None, after: Card, log: fsrs.ReviewLog)
    replay(question_id, reviews: Iterable[(rating, when)], *, desired_retention=0.9)
        -> list[Review]                     (chronological; rebuilds a card from its log)
    retrievability(card, now) -> float       predicted recall probability now (0 for new)
    plan_queue(due: Iterable[(question_id, due)], unseen: Iterable[question_id],
               new_remaining: int) -> list[QueueItem]
    to_ms(dt) -> int, from_ms(ms) -> datetime (UTC), as_utc(dt) -> datetime
    local_day(moment, tz) -> date, day_start(day, tz) -> datetime (UTC)
    compute_streak(days, today) -> Streak(current, longest, reviewed_today)
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING

from fsrs import Card, ReviewLog, Scheduler
from fsrs import Rating as FsrsRating

from quizapp.domain.grading import Rating

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

DEFAULT_RETENTION = 0.9
RETENTION_RANGE = (0.70, 0.99)
DEFAULT_NEW_PER_DAY = 10
NEW_PER_DAY_RANGE = (0, 1000)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


# --- time -------------------------------------------------------------------------------


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC, truncated to whole milliseconds (the precision the store keeps).

    Naive datetimes are refused: guessing their zone is how streaks break at midnight."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime {moment!r} has no time zone; pass an aware datetime")
    return from_ms(to_ms(moment))


def to_ms(moment: datetime) -> int:
    """Unix epoch milliseconds of an aware datetime (exact integer arithmetic)."""
    if moment.tzinfo is None:
        raise ValueError(f"datetime {moment!r} has no time zone; pass an aware datetime")
    return (moment - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def day_start(day: date, tz: tzinfo) -> datetime:
    """The UTC instant the local ``day`` begins in ``tz``.

    Where a DST jump skips local midnight, the day starts at the jump (zoneinfo's fold=0)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


# --- FSRS ------------------------------------------------------------------------------


def card_id_for(question_id: str) -> int:
    """A stable 62-bit card id from the question id, so every machine agrees on it."""
    digest = hashlib.sha256(question_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 2


def new_card(question_id: str, now: datetime) -> Card:
    return Card(card_id=card_id_for(question_id), due=as_utc(now))


@lru_cache(maxsize=8)
def scheduler_for(desired_retention: float = DEFAULT_RETENTION) -> Scheduler:
    low, high = RETENTION_RANGE
    if not low <= desired_retention <= high:
        raise ValueError(f"desired retention must be between {low} and {high}")
    return Scheduler(desired_retention=desired_retention, enable_fuzzing=False)


@dataclass(frozen=True, slots=True)
class Review:
    """One review: the card before it (None when the question was new), after it, and the log."""

    before: Card | None
    after: Card
    log: ReviewLog


def review(
    card: Card | None,
    question_id: str,
    rating: Rating,
    now: datetime,
    *,
    desired_retention: float = DEFAULT_RETENTION,
    duration_ms: int | None = None,
) -> Review:
    """Apply one graded review at ``now``; ``card`` is None for a question never reviewed."""
    when = as_utc(now)
    start = card if card is not None else new_card(question_id, when)
    after, log = scheduler_for(desired_retention).review_card(
        start, FsrsRating(int(rating)), review_datetime=when, review_duration=duration_ms
    )
    return Review(before=card, after=after, log=log)


def next_intervals(
    card: Card | None,
    question_id: str,
    now: datetime,
    *,
    desired_retention: float = DEFAULT_RETENTION,
) -> dict[Rating, timedelta]:
    """How long until the question comes back for each rating given now (what Anki shows
    on its answer buttons)."""
    when = as_utc(now)
    return {
        rating: review(
            copy.deepcopy(card), question_id, rating, when, desired_retention=desired_retention
        ).after.due
        - when
        for rating in Rating
    }


def replay(
    question_id: str,
    reviews: Iterable[tuple[Rating, datetime]],
    *,
    desired_retention: float = DEFAULT_RETENTION,
) -> list[Review]:
    """Rebuild a card from its reviews in time order (used when merging histories)."""
    out: list[Review] = []
    card: Card | None = None
    for rating, when in sorted(reviews, key=lambda r: to_ms(r[1])):
        result = review(card, question_id, rating, when, desired_retention=desired_retention)
        out.append(result)
        card = result.after
    return out


def retrievability(card: Card | None, now: datetime) -> float:
    """FSRS's predicted probability of recalling the answer at ``now`` (0.0 for a new card).

    It depends only on the card's stability and elapsed time, not on the desired retention."""
    if card is None:
        return 0.0
    return float(scheduler_for(DEFAULT_RETENTION).get_card_retrievability(card, as_utc(now)))


# --- queue and streak -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueItem:
    question_id: str
    due: datetime | None  # None for a new question

    @property
    def is_new(self) -> bool:
        return self.due is None


def plan_queue(
    due: Iterable[tuple[str, datetime]], unseen: Iterable[str], new_remaining: int
) -> list[QueueItem]:
    """Due questions first, longest overdue first; then new ones in deck order, at most
    ``new_remaining`` of them."""
    queue = [QueueItem(qid, when) for qid, when in sorted(due, key=lambda d: (d[1], d[0]))]
    if new_remaining > 0:
        for qid in unseen:
            if new_remaining <= 0:
                break
            queue.append(QueueItem(qid, None))
            new_remaining -= 1
    return queue


def interleave_by_topic(question_ids: Sequence[str], topics: Mapping[str, str]) -> list[str]:
    """Deck order within each topic, topics taking turns (in the order they first appear):
    new questions then come mixed, which helps learners tell related ideas apart
    (interleaved practice), instead of one topic after another."""
    by_topic: dict[str, list[str]] = {}
    for qid in question_ids:
        by_topic.setdefault(topics.get(qid, ""), []).append(qid)
    out: list[str] = []
    queues = list(by_topic.values())
    while queues:
        out.extend(q.pop(0) for q in queues)
        queues = [q for q in queues if q]
    return out


@dataclass(frozen=True, slots=True)
class Streak:
    current: int  # days in a row with a review, ending today (or yesterday if none yet today)
    longest: int
    reviewed_today: bool


def compute_streak(days: Iterable[date], today: date) -> Streak:
    """Streak from the local dates that had at least one review.

    A streak that ended yesterday is still current: the day is not over yet."""
    ordered: Sequence[date] = sorted(set(days))
    longest = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    present = set(ordered)
    reviewed_today = today in present
    cursor = today if reviewed_today else today - timedelta(days=1)
    current = 0
    while cursor in present:
        current += 1
        cursor -= timedelta(days=1)
    return Streak(current=current, longest=longest, reviewed_today=reviewed_today)

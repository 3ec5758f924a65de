"""The review session's rules that both front ends share: what to review now, and the
preparation for an interview date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from quizapp.domain.interview_date import (
    InterviewPlan,
    TopicReadiness,
    days_left,
    interview_moment,
    new_per_day_until,
    readiness,
    weakest_on_the_day,
)
from quizapp.domain.scheduling import interleave_by_topic, local_day, next_intervals

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from quizapp.domain.grading import Rating
    from quizapp.store import Store

# Without a working store there is no schedule: offer this many questions in deck order.
FALLBACK_QUEUE = 10
INTERVIEW_SETTING = "interview"


@dataclass(frozen=True, slots=True)
class InterviewReadiness:
    plan: InterviewPlan
    days_left: int
    topics: tuple[TopicReadiness, ...]


def interview_plan(store: Store) -> InterviewPlan | None:
    """The interview date and topics the user set, if any (a malformed value counts as none)."""
    value = store.get_setting(INTERVIEW_SETTING)
    if not isinstance(value, dict):
        return None
    try:
        day = date.fromisoformat(str(value.get("date")))
    except ValueError:
        return None
    topics = value.get("topics") or []
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        topics = []
    return InterviewPlan(day, tuple(topics))


def save_interview_plan(store: Store, plan: InterviewPlan | None) -> None:
    if plan is None:
        store.set_setting(INTERVIEW_SETTING, None)
    else:
        store.set_setting(
            INTERVIEW_SETTING, {"date": plan.day.isoformat(), "topics": list(plan.topics)}
        )


def daily_new_limit(
    store: Store, topics: Mapping[str, str], now: datetime, tz: tzinfo
) -> int | None:
    """Today's allowance of new questions when an interview date raises it, else None (the
    usual setting): enough to see every question of the chosen topics before the day."""
    plan = interview_plan(store)
    today = local_day(now, tz)
    if plan is None or plan.day < today:
        return None
    chosen = [q for q, topic in topics.items() if plan.covers(topic)]
    unseen = len(chosen) - len(store.cards(chosen))
    return new_per_day_until(unseen, days_left(plan.day, today), store.settings().new_per_day)


def review_queue(
    store: Store | None,
    question_ids: Sequence[str],
    now: datetime,
    tz: tzinfo,
    topics: Mapping[str, str] | None = None,
) -> list[str]:
    """Ids of the questions to review now: due ones first, then today's new ones, topics
    taking turns when ``topics`` (question id -> topic) is given.

    Before an interview date (``topics`` maps question id to topic): new questions of the
    chosen topics come first, enough per day to see them all in time, and questions whose
    predicted recall on the day is below the desired retention are brought forward."""
    if topics is not None:
        question_ids = interleave_by_topic(question_ids, topics)
    if store is None:
        return list(question_ids[:FALLBACK_QUEUE])
    plan = interview_plan(store)
    today = local_day(now, tz)
    if plan is None or plan.day < today or topics is None:
        return [item.question_id for item in store.due_queue(question_ids, now, tz)]
    chosen = [q for q in question_ids if plan.covers(topics.get(q, ""))]
    ordered = chosen + [q for q in question_ids if q not in set(chosen)]
    cards = store.cards(chosen)
    settings = store.settings()
    limit = daily_new_limit(store, topics, now, tz)
    queue = [item.question_id for item in store.due_queue(ordered, now, tz, new_limit=limit)]
    at = interview_moment(plan.day, tz)
    return queue + weakest_on_the_day(cards, chosen, at, settings.desired_retention, exclude=queue)


def interview_readiness(
    store: Store, topics: Mapping[str, str], now: datetime, tz: tzinfo
) -> InterviewReadiness | None:
    """Days left and predicted recall per topic on the interview day; None without a
    (future or today's) interview date."""
    plan = interview_plan(store)
    today = local_day(now, tz)
    if plan is None or plan.day < today:
        return None
    chosen = [q for q, topic in topics.items() if plan.covers(topic)]
    at = interview_moment(plan.day, tz)
    return InterviewReadiness(
        plan=plan,
        days_left=days_left(plan.day, today),
        topics=tuple(readiness(store.cards(chosen), topics, at, plan)),
    )


def rating_intervals(store: Store, question_id: str, now: datetime) -> dict[Rating, timedelta]:
    """When the question would come back for each rating given now, with the user's
    desired retention."""
    return next_intervals(
        store.card(question_id),
        question_id,
        now,
        desired_retention=store.settings().desired_retention,
    )

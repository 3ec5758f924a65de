"""FSRS scheduling and local-day arithmetic, as pure functions with ``now`` passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fsrs import State

from quizapp.domain.grading import Rating
from quizapp.domain.scheduling import (
    card_id_for,
    compute_streak,
    day_start,
    local_day,
    plan_queue,
    replay,
    retrievability,
    review,
)

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def test_a_new_question_follows_the_known_fsrs6_default_schedule() -> None:
    # FSRS-6 default parameters, desired retention 0.9, learning steps 1 min and 10 min.
    again = review(None, "q", Rating.AGAIN, T0).after
    hard = review(None, "q", Rating.HARD, T0).after
    good = review(None, "q", Rating.GOOD, T0).after
    easy = review(None, "q", Rating.EASY, T0).after
    assert again.due - T0 == timedelta(minutes=1)
    assert hard.due - T0 == timedelta(minutes=5, seconds=30)
    assert good.due - T0 == timedelta(minutes=10)
    assert good.state is State.Learning
    assert easy.state is State.Review and easy.due - T0 == timedelta(days=8)

    second = review(good, "q", Rating.GOOD, good.due).after
    assert second.state is State.Review
    assert second.last_review is not None and second.due - second.last_review == timedelta(days=2)
    third = review(second, "q", Rating.GOOD, second.due).after
    assert third.last_review is not None and third.due - third.last_review == timedelta(days=11)
    lapse = review(third, "q", Rating.AGAIN, third.due).after
    assert lapse.state is State.Relearning
    assert lapse.last_review is not None
    assert lapse.due - lapse.last_review == timedelta(minutes=10)


def test_lower_desired_retention_spaces_reviews_further_apart() -> None:
    first = review(None, "q", Rating.EASY, T0).after
    at_90 = review(first, "q", Rating.GOOD, first.due, desired_retention=0.9).after
    at_80 = review(first, "q", Rating.GOOD, first.due, desired_retention=0.8).after
    assert at_80.due > at_90.due
    with pytest.raises(ValueError, match=r"between 0\.7 and 0\.99"):
        review(first, "q", Rating.GOOD, first.due, desired_retention=1.5)


def test_schedules_are_deterministic_so_undo_and_merge_are_exact() -> None:
    runs = []
    for _ in range(2):
        card = None
        when = T0
        for rating in (Rating.GOOD, Rating.GOOD, Rating.EASY, Rating.GOOD, Rating.HARD):
            card = review(card, "q", rating, when).after
            when = card.due
        runs.append(card.to_dict())
    assert runs[0] == runs[1]


def test_replay_rebuilds_the_same_card_from_its_reviews_in_any_order() -> None:
    card = None
    log = []
    when = T0
    for rating in (Rating.GOOD, Rating.GOOD, Rating.AGAIN, Rating.GOOD):
        card = review(card, "q", rating, when).after
        log.append((rating, when))
        when = card.due + timedelta(hours=3)
    rebuilt = replay("q", reversed(log))
    assert rebuilt[-1].after.to_dict() == card.to_dict()
    assert rebuilt[0].before is None and rebuilt[1].before == rebuilt[0].after


def test_card_ids_are_stable_per_question_and_distinct() -> None:
    assert card_id_for("bs-001") == card_id_for("bs-001")
    ids = {card_id_for(f"q{i}") for i in range(1000)}
    assert len(ids) == 1000 and all(0 < i < 2**62 for i in ids)
    assert review(None, "bs-001", Rating.GOOD, T0).after.card_id == card_id_for("bs-001")


def test_retrievability_is_certain_after_review_and_fades_to_90_percent_at_stability() -> None:
    card = review(None, "q", Rating.EASY, T0).after  # stability 8.2956 days
    assert retrievability(card, T0) == pytest.approx(1.0)
    later = retrievability(card, T0 + timedelta(days=8))
    assert 0.89 < later < 0.91
    assert retrievability(card, T0 + timedelta(days=60)) < later
    assert retrievability(None, T0) == 0.0


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        review(None, "q", Rating.GOOD, datetime(2024, 5, 1, 9))


def test_queue_puts_longest_overdue_first_then_new_in_deck_order_up_to_the_limit() -> None:
    due = [("b", T0 - timedelta(hours=1)), ("a", T0 - timedelta(days=3)), ("c", T0)]
    queue = plan_queue(due, ["n1", "n2", "n3"], new_remaining=2)
    assert [item.question_id for item in queue] == ["a", "b", "c", "n1", "n2"]
    assert [item.is_new for item in queue] == [False, False, False, True, True]
    assert [i.question_id for i in plan_queue([], ["n1"], new_remaining=0)] == []


def test_streak_counts_consecutive_days_and_survives_until_the_day_is_over() -> None:
    today = date(2024, 5, 10)
    days = [date(2024, 5, d) for d in (1, 2, 3, 4, 7, 8, 9)]
    assert compute_streak(days, today) == compute_streak(days, today)
    streak = compute_streak(days, today)
    assert (streak.current, streak.longest, streak.reviewed_today) == (3, 4, False)
    streak = compute_streak([*days, today], today)
    assert (streak.current, streak.reviewed_today) == (4, True)
    assert compute_streak(days, date(2024, 5, 11)).current == 0  # a whole day was missed
    assert compute_streak([], today).current == 0


def test_local_days_follow_the_users_midnight() -> None:
    late = datetime(2024, 5, 1, 22, 30, tzinfo=UTC)
    assert local_day(late, UTC) == date(2024, 5, 1)
    assert local_day(late, BERLIN) == date(2024, 5, 2)  # 00:30 CEST
    assert local_day(late, ZoneInfo("America/New_York")) == date(2024, 5, 1)
    assert local_day(datetime(2024, 5, 1, 18, 45, tzinfo=UTC), ZoneInfo("Asia/Kolkata")) == date(
        2024, 5, 2
    )
    assert day_start(date(2024, 5, 2), BERLIN) == datetime(2024, 5, 1, 22, 0, tzinfo=UTC)
    # Havana skips local midnight on 2024-03-10 (00:00 -> 01:00): the day starts at the jump.
    assert day_start(date(2024, 3, 10), ZoneInfo("America/Havana")) == datetime(
        2024, 3, 10, 5, 0, tzinfo=UTC
    )


def test_new_questions_are_interleaved_across_topics() -> None:
    from quizapp.domain.scheduling import interleave_by_topic

    topics = {"b1": "bs", "b2": "bs", "b3": "bs", "e1": "ep", "l1": "lr", "l2": "lr"}
    assert interleave_by_topic(list(topics), topics) == ["b1", "e1", "l1", "b2", "l2", "b3"]


def test_review_queue_brings_new_questions_topic_by_topic_in_turn(tmp_path) -> None:
    from quizapp.services.review import review_queue
    from quizapp.store import Store

    topics = {f"b{i}": "batch-size" for i in range(4)} | {f"e{i}": "epochs" for i in range(4)}
    with Store.open(tmp_path / "home") as store:
        queue = review_queue(store, list(topics), datetime(2026, 3, 2, tzinfo=UTC), UTC, topics)
    assert queue == ["b0", "e0", "b1", "e1", "b2", "e2", "b3", "e3"]

"""Grading: what a ticked rubric or a typed number turns into (score and suggested rating)."""

from __future__ import annotations

import pytest

from questions.model import NumericAnswer, RubricPoint
from quizapp.domain.grading import Rating, grade_numeric, grade_rubric, parse_number, rubric_score
from quizapp.domain.grading import suggest_rating as suggest


def rubric(n: int, must: tuple[int, ...] = ()) -> tuple[RubricPoint, ...]:
    return tuple(RubricPoint(f"point {i}", must_have=i in must) for i in range(n))


@pytest.mark.parametrize(
    ("size", "met_count", "expected"),
    [
        (3, 0, Rating.AGAIN),
        (3, 1, Rating.HARD),
        (3, 2, Rating.GOOD),
        (3, 3, Rating.EASY),
        (4, 1, Rating.AGAIN),
        (4, 2, Rating.HARD),
        (4, 3, Rating.GOOD),
        (4, 4, Rating.EASY),
        (6, 1, Rating.AGAIN),
        (6, 2, Rating.HARD),
        (6, 3, Rating.HARD),
        (6, 4, Rating.GOOD),
        (6, 5, Rating.GOOD),
        (6, 6, Rating.EASY),
    ],
)
def test_share_of_points_met_maps_to_a_rating(size: int, met_count: int, expected: Rating) -> None:
    points = rubric(size)
    met = set(range(met_count))
    assert suggest(points, met) is expected
    assert rubric_score(points, met) == pytest.approx(met_count / size)


def test_a_missed_must_have_point_caps_the_suggestion_at_hard() -> None:
    points = rubric(6, must=(0,))
    assert suggest(points, {1, 2, 3, 4, 5}) is Rating.HARD  # 5/6 would be Good
    assert suggest(points, {0, 1, 2, 3, 4}) is Rating.GOOD  # the must-have is there
    assert suggest(points, {1}) is Rating.AGAIN  # the cap never raises a rating
    assert suggest(rubric(3, must=(0, 1)), {0, 2}) is Rating.HARD


def test_grade_carries_score_suggestion_and_points() -> None:
    grade = grade_rubric(rubric(4, must=(3,)), [0, 1, 3])
    assert grade.score == 0.75
    assert grade.suggested is Rating.GOOD
    assert grade.met == frozenset({0, 1, 3})
    assert grade.rubric_size == 4


def test_a_point_outside_the_rubric_is_refused_with_the_valid_range() -> None:
    with pytest.raises(ValueError, match=r"index 3 is out of range.*3 points \(0\.\.2\)"):
        grade_rubric(rubric(3), {0, 3})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1173", 1173.0),
        (" 1,173 ", 1173.0),
        ("1_173", 1173.0),
        ("0.001", 0.001),
        ("1e-3", 0.001),
        (".5", 0.5),
        ("-2", -2.0),
        ("25%", 0.25),
        ("2^10", 1024.0),
        ("1173 updates", 1173.0),
    ],
)
def test_typed_numbers_in_the_forms_people_write_them(text: str, value: float) -> None:
    assert parse_number(text, unit="updates") == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "about 1000", "1.2.3", "e5", "inf", "nan", "2^999"])
def test_text_that_is_not_a_number_gets_a_message_not_a_grade(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a number|not a finite number|too large"):
        parse_number(text)


def test_numeric_answers_are_graded_automatically_within_tolerance() -> None:
    answer = NumericAnswer(value=1173, tolerance=1, unit="updates")
    right = grade_numeric(answer, "1,172")
    assert (right.score, right.suggested) == (1.0, Rating.GOOD)
    wrong = grade_numeric(answer, 1175)
    assert (wrong.score, wrong.suggested) == (0.0, Rating.AGAIN)
    assert right.met == frozenset() and right.rubric_size == 0
    exact = NumericAnswer(value=0.1)
    assert grade_numeric(exact, "0.1").suggested is Rating.GOOD  # no float-rounding miss


def test_rating_values_match_fsrs() -> None:
    import fsrs

    for rating in Rating:
        assert fsrs.Rating(int(rating)).name.upper() == rating.name
    assert [r.label for r in Rating] == ["Again", "Hard", "Good", "Easy"]


def test_red_flags_cap_the_suggested_rating() -> None:
    rubric = [RubricPoint("a", must_have=True), RubricPoint("b"), RubricPoint("c")]
    flags = ["Bigger batch needs a smaller LR.", "More epochs are always better."]
    assert grade_rubric(rubric, {0, 1, 2}).suggested == Rating.EASY
    one = grade_rubric(rubric, {0, 1, 2}, flags, stated=[1])
    assert one.suggested == Rating.HARD and one.red_flags == (flags[1],)
    assert one.score == 1.0  # points met still count; only the rating is capped
    assert grade_rubric(rubric, {0, 1, 2}, flags, stated=[0, 1]).suggested == Rating.AGAIN
    with pytest.raises(ValueError, match="red flag index 2"):
        grade_rubric(rubric, {0}, flags, stated=[2])

"""Grading an answer: rubric score, suggested rating, and automatic numeric grading.

Pure functions, no I/O. A free-text answer is graded by the user ticking the rubric points it
met (indexes into ``question.rubric``); a numeric answer is graded against its tolerance.

Public API::

    Rating                      IntEnum AGAIN=1, HARD=2, GOOD=3, EASY=4 (same values as fsrs)
    Grade(score, suggested, met, rubric_size, red_flags)   frozen; what grading produced
    rubric_score(rubric, met) -> float          share of points met, 0.0..1.0
    suggest_rating(rubric, met, red_flags_stated=0) -> Rating
    grade_rubric(rubric, met, red_flags=(), stated=()) -> Grade
    parse_number(text) -> float                 raises ValueError with a readable message
    grade_numeric(numeric, given) -> Grade      given: float or the typed text
    grade_choice(choice, right) -> Grade        a diagnose question's chosen diagnosis

Suggested rating from the share of rubric points met (exact fractions, no float edges):
all points -> EASY, at least 2/3 -> GOOD, at least 1/3 -> HARD, else AGAIN; a missed
must-have point caps the suggestion at HARD. Red flags are statements of a known
misconception: an answer that states one is capped at HARD, two or more at AGAIN, whatever
else it covered. The user may override the suggestion.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import IntEnum
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

GOOD_SHARE = Fraction(2, 3)
HARD_SHARE = Fraction(1, 3)


class Rating(IntEnum):
    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4

    @property
    def label(self) -> str:
        return self.name.capitalize()


class RubricPointLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def must_have(self) -> bool: ...


class NumericAnswerLike(Protocol):
    @property
    def value(self) -> float: ...
    @property
    def tolerance(self) -> float: ...
    @property
    def unit(self) -> str: ...
    def accepts(self, given: float) -> bool: ...


@dataclass(frozen=True, slots=True)
class Grade:
    """The outcome of grading one answer, before the user confirms or overrides the rating.

    ``met`` holds the indexes of the rubric points met (empty for numeric questions);
    ``rubric_size`` is how many points the rubric had, so missed points can be derived later;
    ``red_flags`` the red-flag statements the answer made (their text).
    """

    score: float
    suggested: Rating
    met: frozenset[int] = frozenset()
    rubric_size: int = 0
    red_flags: tuple[str, ...] = ()


def _checked_met(rubric: Sequence[RubricPointLike], met: Iterable[int]) -> frozenset[int]:
    points = frozenset(int(i) for i in met)
    bad = sorted(i for i in points if not 0 <= i < len(rubric))
    if bad:
        raise ValueError(
            f"rubric point index {bad[0]} is out of range: the rubric has {len(rubric)} points "
            f"(0..{len(rubric) - 1})"
        )
    return points


def rubric_score(rubric: Sequence[RubricPointLike], met: Iterable[int]) -> float:
    """Share of rubric points met, from 0.0 to 1.0 (0.0 for an empty rubric)."""
    points = _checked_met(rubric, met)
    return len(points) / len(rubric) if rubric else 0.0


def missed_must_have(rubric: Sequence[RubricPointLike], met: Iterable[int]) -> bool:
    """True when a must-have point of the rubric was not met."""
    points = _checked_met(rubric, met)
    return any(p.must_have and i not in points for i, p in enumerate(rubric))


def suggest_rating(
    rubric: Sequence[RubricPointLike], met: Iterable[int], red_flags_stated: int = 0
) -> Rating:
    """The rating the rubric suggests; see the module docstring for the thresholds."""
    points = _checked_met(rubric, met)
    if not rubric:
        return Rating.AGAIN
    share = Fraction(len(points), len(rubric))
    if share == 1:
        rating = Rating.EASY
    elif share >= GOOD_SHARE:
        rating = Rating.GOOD
    elif share >= HARD_SHARE:
        rating = Rating.HARD
    else:
        rating = Rating.AGAIN
    if missed_must_have(rubric, points):
        # Missing an essential point means the answer would not pass in an interview,
        # however many side points it covered.
        rating = min(rating, Rating.HARD)
    # Stating a misconception is worse than leaving a point out: it is what an interviewer
    # remembers.
    if red_flags_stated >= 2:
        rating = Rating.AGAIN
    elif red_flags_stated == 1:
        rating = min(rating, Rating.HARD)
    return rating


def grade_rubric(
    rubric: Sequence[RubricPointLike],
    met: Iterable[int],
    red_flags: Sequence[str] = (),
    stated: Iterable[int] = (),
) -> Grade:
    """Grade ticked rubric points; ``stated`` indexes the ``red_flags`` the answer made."""
    points = _checked_met(rubric, met)
    flags = sorted(frozenset(int(i) for i in stated))
    bad = [i for i in flags if not 0 <= i < len(red_flags)]
    if bad:
        raise ValueError(
            f"red flag index {bad[0]} is out of range: the question has {len(red_flags)}"
        )
    return Grade(
        score=rubric_score(rubric, points),
        suggested=suggest_rating(rubric, points, len(flags)),
        met=points,
        rubric_size=len(rubric),
        red_flags=tuple(red_flags[i] for i in flags),
    )


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str, unit: str = "") -> float:
    """Read a typed number: ``0.001``, ``1e-3``, ``1,000``, ``1_000``, ``25%``, ``2^10``,
    optionally followed by ``unit``. Raises ValueError saying what was expected."""
    raw = text.strip()
    cleaned = raw
    if unit and cleaned.lower().endswith(unit.lower()):
        cleaned = cleaned[: -len(unit)].strip()
    cleaned = cleaned.replace(",", "").replace("_", "").replace(" ", "")
    scale = 1.0
    if cleaned.endswith("%"):
        cleaned, scale = cleaned[:-1], 0.01
    power = re.fullmatch(r"(\d+)\^(\d+)", cleaned)
    if power:
        base, exp = int(power[1]), int(power[2])
        if exp > 64:
            raise ValueError(f"{raw!r}: exponent {exp} is too large")
        return float(base**exp) * scale
    if not _NUMBER.match(cleaned):
        raise ValueError(
            f"{raw!r} is not a number: type digits such as 0.001, 1e-3, 1,000, 25% or 2^10"
        )
    value = float(cleaned) * scale
    if not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a finite number")
    return value


def grade_numeric(numeric: NumericAnswerLike, given: float | str) -> Grade:
    """Grade a numeric answer: within tolerance -> score 1 and GOOD, else 0 and AGAIN.

    ``given`` may be the typed text (parsed with :func:`parse_number`, which raises
    ValueError for text that is not a number: nothing is graded then)."""
    value = parse_number(given, numeric.unit) if isinstance(given, str) else float(given)
    correct = numeric.accepts(value)
    return Grade(score=1.0 if correct else 0.0, suggested=Rating.GOOD if correct else Rating.AGAIN)


def grade_choice(choice: int, right: int) -> Grade:
    """Grade a chosen diagnosis (0-based indexes): the right one -> score 1 and GOOD, any
    other -> 0 and AGAIN, like a numeric answer."""
    if choice < 0 or right < 0:
        raise ValueError(f"choice indexes start at 0, got choice {choice} and right {right}")
    correct = choice == right
    return Grade(score=1.0 if correct else 0.0, suggested=Rating.GOOD if correct else Rating.AGAIN)

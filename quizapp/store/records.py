"""What the store returns: plain, immutable records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from quizapp.domain.scheduling import (
    DEFAULT_NEW_PER_DAY,
    DEFAULT_RETENTION,
    Streak,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime

    from quizapp.domain.grading import Rating

MODES = ("review", "practice")
SIM_STATUSES = ("running", "ok", "diverged", "oom", "cancelled", "failed", "interrupted")
RECENT_ATTEMPTS = 3  # how many of a question's latest scores count towards its mastery


# --- records ----------------------------------------------------------------------------


class RubricPointLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def must_have(self) -> bool: ...


class QuestionLike(Protocol):
    """What the store needs from ``questions.model.Question``."""

    @property
    def id(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def rubric(self) -> Sequence[RubricPointLike]: ...


@dataclass(frozen=True, slots=True)
class PointResult:
    index: int
    text: str
    must_have: bool
    met: bool


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    uid: str
    question_id: str
    content_hash: str
    started: datetime
    submitted: datetime
    answer: str
    met: frozenset[int]
    rubric_size: int
    score: float
    suggested: Rating | None
    rating: Rating
    seconds: float
    mode: str
    points: tuple[PointResult, ...] = ()  # filled by question_history()
    red_flags: tuple[str, ...] = ()  # the misconceptions the answer stated


@dataclass(frozen=True, slots=True)
class Settings:
    desired_retention: float = DEFAULT_RETENTION
    new_per_day: int = DEFAULT_NEW_PER_DAY


@dataclass(frozen=True, slots=True)
class DueCounts:
    now: int  # due at this moment (overdue included)
    today: int  # due before local midnight
    week: int  # due within the next 7 local days, today included


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    reviews: int


@dataclass(frozen=True, slots=True)
class TrendPoint:
    week: date  # Monday the local week starts
    attempts: int
    mean_score: float


@dataclass(frozen=True, slots=True)
class TopicMastery:
    """Mastery of a topic, 0..1: the mean over its questions of retrievability x recent score
    (a question never answered counts 0), so a topic is mastered only when most of it is
    both remembered (FSRS) and answered well (rubric)."""

    topic: str
    questions: int
    seen: int
    mastery: float
    mean_recent_score: float | None  # over the questions seen
    mean_retrievability: float | None


@dataclass(frozen=True, slots=True)
class MissedPoint:
    question_id: str
    text: str
    must_have: bool
    missed: int
    shown: int

    @property
    def miss_rate(self) -> float:
        return self.missed / self.shown if self.shown else 0.0


@dataclass(frozen=True, slots=True)
class QuestionStats:
    """One question's row in the Browse table."""

    attempts: int = 0
    last_score: float | None = None  # of the latest attempt
    last_attempt: datetime | None = None
    mean_score: float | None = None  # over every attempt
    due: datetime | None = None  # None: never reviewed


@dataclass(frozen=True, slots=True)
class Totals:
    attempts: int
    questions_seen: int
    sim_runs: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True, slots=True)
class Summary:
    due: DueCounts
    new_remaining_today: int
    new_available: int
    reviews_today: int
    streak: Streak
    mastery: tuple[TopicMastery, ...]


@dataclass(frozen=True, slots=True)
class SimRun:
    id: int
    uid: str
    experiment: str
    params: dict[str, Any]
    device: str
    status: str
    seed: int | None
    question_id: str | None
    started: datetime
    finished: datetime | None
    summary: Any
    prediction: Any = None  # what the user expected before the run
    prediction_outcome: Any = None  # how that turned out, e.g. "right" / "wrong"
    result: Any = None  # only loaded by get_sim_run()


@dataclass(slots=True)
class ImportReport:
    attempts_added: int = 0
    attempts_present: int = 0
    sim_runs_added: int = 0
    sim_runs_present: int = 0
    cards_taken: int = 0
    cards_replayed: int = 0
    settings_added: int = 0
    interviews_added: int = 0
    questions: set[str] = field(default_factory=set)

    @property
    def added_anything(self) -> bool:
        return bool(
            self.attempts_added
            or self.sim_runs_added
            or self.settings_added
            or self.interviews_added
        )


@dataclass(frozen=True, slots=True)
class MockInterviewRecord:
    id: int
    uid: str
    started: datetime
    finished: datetime
    minutes: int
    topics: tuple[str, ...]
    score: float
    report: dict[str, Any]

"""Typed, immutable question objects as the loader returns them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

KNOWN_TOPICS: tuple[str, ...] = (
    "batch-size",
    "epochs",
    "learning-rate",
    "tuning",
    "diagnostics",
)


class QuestionKind(StrEnum):
    OPEN = "open"  # free text, self-graded against the rubric
    NUMERIC = "numeric"  # one number, graded automatically
    DIAGNOSE = (
        "diagnose"  # the curves of a stored run and a choice of diagnoses, graded automatically
    )


@dataclass(frozen=True, slots=True)
class RubricPoint:
    text: str
    must_have: bool = False


@dataclass(frozen=True, slots=True)
class NumericAnswer:
    value: float
    tolerance: float = 0.0
    unit: str = ""

    def accepts(self, given: float) -> bool:
        """True when ``given`` lies within the tolerance of the exact answer."""
        return abs(given - self.value) <= self.tolerance + 1e-9 * max(1.0, abs(self.value))


@dataclass(frozen=True, slots=True)
class Misconception:
    belief: str  # the wrong belief, as people say it
    correction: str  # why it is wrong, and the evidence


@dataclass(frozen=True, slots=True)
class SimulationPreset:
    experiment: str
    params: tuple[tuple[str, Any], ...] = ()
    look_for: str = ""  # what to watch in the run to see the answer

    @property
    def params_dict(self) -> dict[str, Any]:
        return {key: _thaw(value) for key, value in self.params}


RUN_FORMAT = 1  # version of the stored-run JSON layout (questions/decks/runs/*.json)
# The evaluation series a stored run may hold: the x axes first, then the metrics.
RUN_X_AXES: tuple[str, ...] = ("epoch", "update", "examples")
RUN_METRICS: tuple[str, ...] = ("train_loss", "val_loss", "val_acc", "train_acc")
RUN_SERIES: tuple[str, ...] = (*RUN_X_AXES, *RUN_METRICS)


@dataclass(frozen=True, slots=True)
class StoredSeries:
    """One training run of a stored experiment: its settings and its evaluation points.

    ``series`` maps a name of :data:`RUN_SERIES` to one value per evaluation; ``None`` stands
    for a value that was not finite, which only a run with status ``diverged`` holds.
    """

    label: str
    status: str  # "ok" or "diverged", as the sims engine reported it
    batch_size: int
    lr: float
    series: tuple[tuple[str, tuple[float | None, ...]], ...]
    reason: str = ""  # why the engine stopped the run, if it did

    def values(self, name: str) -> tuple[float | None, ...]:
        """The series called ``name``; empty when the run does not hold it."""
        return next((values for key, values in self.series if key == name), ())


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A real run, trained by ``sims`` and stored in a JSON file shipped beside the deck."""

    id: str
    experiment: str
    params: tuple[tuple[str, Any], ...]
    seed: int
    runs: tuple[StoredSeries, ...]

    @property
    def params_dict(self) -> dict[str, Any]:
        return {key: _thaw(value) for key, value in self.params}


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What a diagnose question shows and grades: the stored run drawn as ``metrics`` against
    ``x_axis``, and the choices, of which ``answer`` (0-based) is right. The explanation is
    the question's model answer; the fix is its simulation preset (the demo key runs it)."""

    run: StoredRun
    metrics: tuple[str, ...]
    x_axis: str
    choices: tuple[str, ...]
    answer: int

    def __post_init__(self) -> None:
        if not 0 <= self.answer < len(self.choices):
            raise ValueError(f"answer {self.answer} names no choice; there are {len(self.choices)}")

    @property
    def right_choice(self) -> str:
        return self.choices[self.answer]


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    topic: str
    difficulty: int
    kind: QuestionKind
    prompt: str
    model_answer: str
    rubric: tuple[RubricPoint, ...] = ()
    follow_ups: tuple[str, ...] = ()
    misconception: Misconception | None = None
    references: tuple[str, ...] = ()
    simulation: SimulationPreset | None = None
    numeric: NumericAnswer | None = None
    deck: str = ""
    source: str = ""  # file:line where the question is defined
    # Statements of known misconceptions, never rubric points: an answer that states one caps
    # the suggested rating at Hard, two or more at Again.
    red_flags: tuple[str, ...] = ()
    # For each follow-up, the 0-based index of the rubric point it probes, or None;
    # either empty (none probes anything) or as long as follow_ups.
    follow_up_probes: tuple[int | None, ...] = ()
    diagnosis: Diagnosis | None = None  # for kind DIAGNOSE only

    def __post_init__(self) -> None:
        if self.follow_up_probes and len(self.follow_up_probes) != len(self.follow_ups):
            raise ValueError(
                f"{self.id}: follow_up_probes has {len(self.follow_up_probes)} entries "
                f"for {len(self.follow_ups)} follow-ups"
            )
        for point in self.follow_up_probes:
            if point is not None and not 0 <= point < len(self.rubric):
                raise ValueError(
                    f"{self.id}: a follow-up probes rubric point {point}; "
                    f"the rubric has {len(self.rubric)}"
                )

    def follow_ups_probing(self, point: int) -> tuple[str, ...]:
        """The follow-ups that probe rubric point ``point`` (0-based), in deck order."""
        return tuple(
            text
            for text, probed in zip(self.follow_ups, self.follow_up_probes, strict=False)
            if probed == point
        )

    @property
    def content_hash(self) -> str:
        """Short hash of what the user is shown and graded on; changes when the text is edited."""
        payload: dict[str, Any] = {
            "prompt": self.prompt,
            "model_answer": self.model_answer,
            "rubric": [asdict(p) for p in self.rubric],
            "numeric": asdict(self.numeric) if self.numeric else None,
        }
        if self.red_flags:  # only when present, so questions without any keep their hash
            payload["red_flags"] = list(self.red_flags)
        if self.diagnosis is not None:
            payload["diagnosis"] = {
                "run": self.diagnosis.run.id,
                "choices": list(self.diagnosis.choices),
                "answer": self.diagnosis.answer,
            }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Deck:
    name: str
    path: Path
    description: str = ""
    builtin: bool = False
    questions: tuple[Question, ...] = field(default=())

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(sorted({q.topic for q in self.questions}))


def freeze(value: Any) -> Any:
    """Turn lists and dicts from TOML into hashable tuples so presets stay immutable."""
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, freeze(v)) for k, v in value.items())
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value

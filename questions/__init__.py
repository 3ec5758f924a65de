"""Question decks: the typed model, the shipped TOML decks, and their loader/validator."""

from questions.model import (
    Deck,
    Diagnosis,
    Misconception,
    NumericAnswer,
    Question,
    QuestionKind,
    RubricPoint,
    SimulationPreset,
    StoredRun,
    StoredSeries,
)

__all__ = [
    "Deck",
    "Diagnosis",
    "Misconception",
    "NumericAnswer",
    "Question",
    "QuestionKind",
    "RubricPoint",
    "SimulationPreset",
    "StoredRun",
    "StoredSeries",
]

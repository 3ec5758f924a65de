"""Question decks: the typed model, the shipped TOML decks, and their loader/validator."""

from questions.model import (
    Deck,
    Misconception,
    NumericAnswer,
    Question,
    QuestionKind,
    RubricPoint,
    SimulationPreset,
)

__all__ = [
    "Deck",
    "Misconception",
    "NumericAnswer",
    "Question",
    "QuestionKind",
    "RubricPoint",
    "SimulationPreset",
]

"""Loading the question library the way the app and every command see it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from questions.loader import Library, load_library
from quizapp.store.paths import data_home, user_decks_dir

if TYPE_CHECKING:
    from collections.abc import Iterable


def check_preset(experiment: str, params: dict[str, Any]) -> list[str]:
    """Validate a question's simulation preset against the experiment registry (no torch)."""
    from sims.registry import check_params

    return check_params(experiment, params)


def load(home: str | None = None, extra_decks: Iterable[str] = ()) -> Library:
    """Shipped decks, then the user's ``decks/`` folder, then ``--deck`` paths."""
    return load_library(
        extra_paths=extra_decks,
        user_dir=user_decks_dir(data_home(home)),
        check_preset=check_preset,
    )

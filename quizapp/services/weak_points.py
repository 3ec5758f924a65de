"""Weak points, leeches and the drill queue, for the app and the CLI alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from quizapp.domain.weak_points import WeakPoint, leeches, weak_points

if TYPE_CHECKING:
    from collections.abc import Mapping

    from quizapp.store import Store

LEECH_ADVICE = (
    "failed 4 times or more: re-read its model answer and run its simulation before the next review"
)


@dataclass(frozen=True, slots=True)
class WeakSpots:
    weak_points: tuple[WeakPoint, ...]
    leeches: tuple[str, ...]

    def drill_queue(self) -> list[str]:
        """Questions to drill: those with weak points (must-haves first), then leeches."""
        ids = [w.question_id for w in self.weak_points] + list(self.leeches)
        return list(dict.fromkeys(ids))


def weak_spots(store: Store, question_ids: Mapping[str, object] | None = None) -> WeakSpots:
    """Weak points and leeches among the questions that exist now (``question_ids``: the
    library's questions; None keeps every question in the store)."""
    keep = (lambda qid: qid in question_ids) if question_ids is not None else (lambda qid: True)
    recent = {q: a for q, a in store.recent_answers().items() if keep(q)}
    return WeakSpots(
        weak_points=tuple(weak_points(recent)),
        leeches=tuple(q for q in leeches(store.again_counts()) if keep(q)),
    )

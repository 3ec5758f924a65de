"""Weak points and leeches: what the learner keeps missing.

Pure rules over graded answers. A rubric point missed in each of a question's last two
graded answers is a weak point (points are matched by text, so editing another part of the
question keeps the history). A question rated Again four times is a leech, as Anki and
org-drill call a card that keeps failing: more reviews will not fix it; re-reading the model
answer and running its demo might.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

MISSES_FOR_WEAK_POINT = 2
FAILS_FOR_LEECH = 4


class PointLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def must_have(self) -> bool: ...
    @property
    def met(self) -> bool: ...


class AnswerLike(Protocol):
    @property
    def points(self) -> Sequence[PointLike]: ...


@dataclass(frozen=True, slots=True)
class WeakPoint:
    question_id: str
    text: str
    must_have: bool


def weak_points(recent: Mapping[str, Sequence[AnswerLike]]) -> list[WeakPoint]:
    """Points missed in each of the last two answers of their question (newest first in
    ``recent``), must-haves first, then by question."""
    out = []
    for qid, answers in recent.items():
        latest = answers[:MISSES_FOR_WEAK_POINT]
        if len(latest) < MISSES_FOR_WEAK_POINT:
            continue
        missed = [{p.text: p.must_have for p in a.points if not p.met} for a in latest]
        for text, must in missed[0].items():
            if all(text in m for m in missed[1:]):
                out.append(WeakPoint(qid, text, must))
    return sorted(out, key=lambda w: (not w.must_have, w.question_id, w.text))


def leeches(again_counts: Mapping[str, int]) -> list[str]:
    """Ids of the questions failed (rated Again) at least four times, most failed first."""
    failed = [(n, qid) for qid, n in again_counts.items() if n >= FAILS_FOR_LEECH]
    return [qid for n, qid in sorted(failed, key=lambda f: (-f[0], f[1]))]


def follow_ups_after(
    follow_ups: Sequence[str], probes: Sequence[int | None], met: frozenset[int]
) -> list[tuple[str, bool]]:
    """The follow-ups in the order an interviewer would ask them after this answer: first
    those that probe a rubric point the answer missed (flagged True), then the others."""
    probed = list(probes) if len(probes) == len(follow_ups) else [None] * len(follow_ups)
    missed = [
        (text, True)
        for text, p in zip(follow_ups, probed, strict=True)
        if p is not None and p not in met
    ]
    rest = [
        (text, False) for text, p in zip(follow_ups, probed, strict=True) if p is None or p in met
    ]
    return missed + rest

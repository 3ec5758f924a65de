"""The review session's rules that both front ends share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from quizapp.store import Store

# Without a working store there is no schedule: offer this many questions in deck order.
FALLBACK_QUEUE = 10


def review_queue(
    store: Store | None, question_ids: Sequence[str], now: datetime, tz: tzinfo
) -> list[str]:
    """Ids of the questions to review now: due ones first, then today's new ones."""
    if store is None:
        return list(question_ids[:FALLBACK_QUEUE])
    return [item.question_id for item in store.due_queue(question_ids, now, tz)]

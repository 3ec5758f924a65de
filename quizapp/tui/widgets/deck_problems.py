"""The problems found in the user's decks, listed literally; the rest of the app still works."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from collections.abc import Sequence


class DeckProblems(Static):
    """A panel listing deck errors as ``file:line: key: message``; hidden when there are none."""

    def show(self, problems: Sequence[str]) -> None:
        self.display = bool(problems)
        count = len(problems)
        self.border_title = f"{count} problem{'s' if count != 1 else ''} in your decks"
        self.border_subtitle = (
            "the other questions loaded; fix and restart, or: quizapp deck validate"
        )
        self.update(Content("\n").join(Content(p) for p in problems))

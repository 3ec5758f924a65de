"""The box an open answer is typed into, capped at ``MAX_ANSWER_CHARS``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import TextArea

from quizapp.domain.limits import MAX_ANSWER_CHARS

if TYPE_CHECKING:
    from textual.widgets.text_area import EditResult, Location


class AnswerBox(TextArea):
    """A ``TextArea`` that refuses text beyond ``MAX_ANSWER_CHARS`` (typed or pasted) and
    says so; the part of a paste that fits is kept."""

    def _replace_via_keyboard(
        self, insert: str, start: Location, end: Location
    ) -> EditResult | None:
        replaced = len(self.get_text_range(*sorted((start, end))))
        room = MAX_ANSWER_CHARS - (len(self.text) - replaced)
        if len(insert) > room:
            insert = insert[: max(0, room)]
            self.notify(
                f"An answer can be at most {MAX_ANSWER_CHARS:,} characters; "
                "the rest was not added.",
                severity="warning",
                timeout=5,
            )
            if not insert and start == end:
                return None
        return super()._replace_via_keyboard(insert, start, end)

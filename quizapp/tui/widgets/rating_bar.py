"""The four FSRS ratings side by side, with the suggestion marked and one chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from quizapp.domain.grading import Rating
from quizapp.domain.wording import short_interval

if TYPE_CHECKING:
    from datetime import timedelta

    from textual.app import ComposeResult
    from textual.events import Click
    from textual.widget import Widget

RATING_HINTS = {
    Rating.AGAIN: "forgot: see it again soon",
    Rating.HARD: "partly: shorter interval",
    Rating.GOOD: "knew it: normal interval",
    Rating.EASY: "easily: longer interval",
}


class RatingChoice(Static):
    """One rating; clicking it chooses it."""

    def __init__(self, rating: Rating) -> None:
        super().__init__(id=f"rating-{rating.name.lower()}", classes="rating-choice")
        self.rating = rating
        self.tooltip = RATING_HINTS[rating]

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(RatingBar.Chosen(self, self.rating, accept=event.chain >= 2))


class RatingBar(Horizontal):
    """Again / Hard / Good / Easy; the suggested rating is marked, the chosen one highlighted."""

    class Chosen(Message):
        """A rating was clicked; ``accept`` when it was a double click."""

        def __init__(self, choice: Widget, rating: Rating, accept: bool = False) -> None:
            super().__init__()
            self.choice = choice
            self.rating = rating
            self.accept = accept

    suggested: reactive[Rating | None] = reactive(None)
    chosen: reactive[Rating | None] = reactive(None)
    intervals: reactive[dict[Rating, timedelta]] = reactive(dict, always_update=True)
    """When the question comes back for each rating (shown under its name)."""

    def compose(self) -> ComposeResult:
        for rating in Rating:
            yield RatingChoice(rating)

    def on_mount(self) -> None:
        self._paint()

    def watch_suggested(self) -> None:
        self._paint()

    def watch_chosen(self) -> None:
        self._paint()

    def watch_intervals(self) -> None:
        self._paint()

    def _paint(self) -> None:
        if not self.is_mounted:
            return
        for choice in self.query(RatingChoice):
            rating = choice.rating
            label = Content(rating.label)
            if rating in self.intervals:
                label += Content.from_markup(
                    " [dim]$when[/]", when=short_interval(self.intervals[rating])
                )
            if rating == self.suggested:
                label += Content.from_markup(" [dim](suggested)[/]")
            choice.update(label)
            choice.set_class(rating == self.chosen, "-chosen")
            choice.set_class(rating == self.suggested, "-suggested")

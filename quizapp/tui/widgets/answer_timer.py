"""A stopwatch for the current question, read from the app's (injectable) clock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from quizapp.domain.wording import format_duration

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

__all__ = ["AnswerTimer", "format_duration"]


class AnswerTimer(Static):
    """Shows the time spent on the question; stops when the answer is revealed."""

    def __init__(self, now: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self.started = now()
        self.stopped: datetime | None = None

    def on_mount(self) -> None:
        self.set_interval(1.0, self._show)
        self._show()

    def restart(self) -> None:
        self.started = self._now()
        self.stopped = None
        self._show()

    def stop(self) -> float:
        """Stop the clock and return the seconds spent."""
        if self.stopped is None:
            self.stopped = self._now()
            self._show()
        return self.elapsed

    @property
    def elapsed(self) -> float:
        end = self.stopped or self._now()
        return max(0.0, (end - self.started).total_seconds())

    def _show(self) -> None:
        style = "$text-muted" if self.stopped else "$text"
        self.update(Content.from_markup(f"[{style}]time $t[/]", t=format_duration(self.elapsed)))

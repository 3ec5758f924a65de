"""The two clocks of a mock interview: the question's time against its budget, and what is
left of the whole interview. Read from the app's (injectable) clock, like ``AnswerTimer``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from quizapp.domain.wording import format_duration, time_left

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from quizapp.services.mock_interview import AskedQuestion, MockInterview


class InterviewClock(Static):
    """``question 01:10 of 05:00 · interview 24:50 left``, updated every second."""

    def __init__(self, now: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self.interview: MockInterview | None = None
        self.asked: AskedQuestion | None = None
        self.started: datetime | None = None

    def on_mount(self) -> None:
        self.set_interval(1.0, self.show)
        self.show()

    def start(self, interview: MockInterview, asked: AskedQuestion) -> None:
        """Start the clock of ``asked``, the question now being answered."""
        self.interview, self.asked, self.started = interview, asked, self._now()
        self.show()

    def stop(self) -> float:
        """Stop the question's clock; returns the seconds spent on it."""
        spent = self.elapsed
        self.started = None
        self.asked = None
        self.show()
        return spent

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return max(0.0, (self._now() - self.started).total_seconds())

    def show(self) -> None:
        interview, asked = self.interview, self.asked
        if interview is None:
            self.update("")
            return
        elapsed = self.elapsed
        left = interview.seconds_left(elapsed)
        left_style = "$error" if left < 0 else "$text"
        whole = Content.from_markup(f"interview [b {left_style}]$left[/]", left=time_left(left))
        if asked is None:
            self.update(whole)
            return
        spent_style = "$warning" if elapsed > asked.budget_seconds else "$text"
        question = Content.from_markup(
            f"question [b {spent_style}]$spent[/] of $budget",
            spent=format_duration(elapsed),
            budget=format_duration(asked.budget_seconds),
        )
        self.update(question + Content("  ·  ") + whole)

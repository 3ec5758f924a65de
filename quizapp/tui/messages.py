"""Messages that travel between the app's widgets, screens and workers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.message import Message
from textual.widget import Widget

from quizapp.domain.grading import Rating


class RubricChanged(Message):
    """The user ticked or unticked a rubric point."""

    def __init__(self, checklist: Widget, met: frozenset[int]) -> None:
        super().__init__()
        self.checklist = checklist
        self.met = met

    @property
    def control(self) -> Widget:
        return self.checklist


class RatingChosen(Message):
    """The user picked a rating with the mouse; ``accept`` when it was a double click."""

    def __init__(self, widget: Widget, rating: Rating, accept: bool = False) -> None:
        super().__init__()
        self.widget = widget
        self.rating = rating
        self.accept = accept


class SimulationEvents(Message):
    """A batch of runner events gathered over ~0.1 s by the worker that reads the runner.

    Batching is what keeps a fast training loop from flooding the UI: the screen applies the
    whole batch and redraws its charts once."""

    def __init__(self, events: Sequence[Any]) -> None:
        super().__init__()
        self.events = list(events)


class SimulationStatus(Message):
    """A one-line status from the simulation worker; a newer one replaces any still queued."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SimulationStatus)


class StoreChanged(Message):
    """Something was written to the store; screens showing progress should reload."""


class ParamsChanged(Message):
    """The simulation form changed; ``valid`` tells whether it can be run as it stands."""

    def __init__(self, form: Widget, valid: bool) -> None:
        super().__init__()
        self.form = form
        self.valid = valid

    @property
    def control(self) -> Widget:
        return self.form

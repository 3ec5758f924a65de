"""What screens and the command palette may use of the app: a small typed interface.

Screens reach the app through :func:`quiz` (a ``QuizHost``), never by importing the app
module, so the app can import its screens (lazily, when first opened) without a cycle.
``QuizApp`` satisfies the protocol structurally.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from textual.message import Message

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Iterable
    from datetime import datetime, tzinfo
    from pathlib import Path

    from textual.app import App

    from questions.loader import Library
    from questions.model import Question
    from quizapp.store import Store

T = TypeVar("T")

KEYMAP_FILE = "keymap.toml"
UI_SETTINGS_FILE = "ui.json"


class DataReady(Message):
    """Sent to the screen showing when the decks are loaded and the store is open."""


class QuizHost(Protocol):
    home: Path
    store: Store | None
    store_error: str | None
    data_ready: asyncio.Event
    user_keymap: dict[str, str]
    now: Callable[[], datetime]

    @property
    def tz(self) -> tzinfo: ...

    @property
    def library(self) -> Library: ...

    def store_call(self, what: str, call: Callable[[Store], T], default: T) -> T: ...

    def start_loading(self) -> None: ...

    def practise(self, question_ids: Iterable[str], title: str = "Practice") -> None: ...

    def open_simulation(
        self, question: Question | None = None, experiment: str | None = None
    ) -> None: ...

    def open_saved_run(self, run_id: int) -> None: ...


def quiz(app: App[object]) -> QuizHost:
    """The running app as the interface screens use."""
    return cast("QuizHost", app)


def freeze_startup_objects() -> None:
    """Exclude everything alive now (modules, widgets, decks) from garbage collection.

    A full collection otherwise walks them all, a pause of ~70 ms that lands on whatever
    key the user presses; they live as long as the app anyway."""
    gc.collect()
    gc.freeze()

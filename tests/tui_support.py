"""Shared set-up for the app's pilot and snapshot tests: a small deck, a fixed clock, and
an app on a temporary data directory."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from questions.loader import Library, load_library
from quizapp.services.library import check_preset
from quizapp.tui.app import QuizApp

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from textual.pilot import Pilot

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning

DECK = '''
[deck]
name = "Test deck"
description = "Questions for the app tests."

[[question]]
id = "t-open"
topic = "batch-size"
difficulty = 2
prompt = "Why does [bold]x[/bold] and [red matter for the batch size?"
model_answer = """
Bigger batches average more examples, so the **gradient noise** falls.
"""
follow_ups = ["What happens at batch 1?", "And at the full data set?"]
references = ["Test reference"]

[question.misconception]
belief = "Bigger is always better."
correction = "Not for generalization at a fixed number of epochs."

[[question.rubric]]
text = "Says the gradient noise falls as the batch grows"
must_have = true

[[question.rubric]]
text = "Mentions fewer updates per epoch"

[[question.rubric]]
text = "Mentions memory"

[[question]]
id = "t-numeric"
topic = "epochs"
difficulty = 1
kind = "numeric"
prompt = "50,000 examples, batch 128, 3 epochs: how many updates?"
model_answer = "1,173 updates: ceil(50000 / 128) = 391 per epoch."
follow_ups = ["And with drop_last?", "And with batch 256?"]
references = ["Test reference"]

[question.numeric]
answer = 1173
unit = "updates"

[[question]]
id = "t-sim"
topic = "epochs"
difficulty = 1
prompt = "What does a tiny batch-size sweep show?"
model_answer = "Small batches make more updates per epoch."
follow_ups = ["Why?", "When not?"]
references = ["Test reference"]

[[question.rubric]]
text = "More updates per epoch for small batches"
must_have = true

[[question.rubric]]
text = "Noisier steps"

[[question.rubric]]
text = "Compares per update"

[question.simulation]
experiment = "batch-size-sweep"
params = { batch_sizes = [32, 256], epochs = 1, n_examples = 600, hidden = 16 }
look_for = "The batch-32 run makes eight times as many updates."
'''

BROKEN_DECK = """
[deck]
name = "Broken"

[[question]]
id = "broken-1"
topic = "batch-size"
difficulty = 7
prompt = "A question with a bad difficulty"
model_answer = "x"
"""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def write_deck(folder: Path, text: str = DECK, name: str = "test.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def fixture_library(tmp_path: Path) -> Library:
    deck = write_deck(tmp_path / "fixture-decks")
    library = load_library(extra_paths=[deck], check_preset=check_preset, include_builtin=False)
    assert not library.errors, library.errors
    return library


@asynccontextmanager
async def running(app: QuizApp, size: tuple[int, int] = (100, 30)) -> AsyncIterator[Pilot[int]]:
    """``app.run_test`` that returns once the app has loaded its decks and store."""
    async with app.run_test(size=size) as pilot:
        await app.ready()
        await pilot.pause()
        yield pilot


def make_app(tmp_path: Path, clock: Clock | None = None, library: Library | None = None) -> QuizApp:
    """The real app on ``tmp_path/home``, with the test deck only and a fixed clock in UTC."""
    return QuizApp(
        tmp_path / "home",
        now=clock or Clock(),
        library=library if library is not None else fixture_library(tmp_path),
        tz=UTC,
        welcome=False,
    )

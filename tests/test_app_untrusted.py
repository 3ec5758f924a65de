"""Deck text is shown literally everywhere: markup in any field never crashes a screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Input, Static
from tui_support import make_app, running, write_deck

from questions.loader import load_library
from quizapp.services.library import check_preset
from quizapp.tui.screens.browse import BrowseScreen
from quizapp.tui.screens.help import HelpScreen
from quizapp.tui.screens.review import ReviewScreen
from quizapp.tui.screens.simulation import SimulationScreen

if TYPE_CHECKING:
    from pathlib import Path

LINK = "[link=https://x]L[/link]"
BAD = f"{LINK} [bold]b[/bold] [red oops \\u001b]0;title\\u0007 \\u001b[2J"

HOSTILE_DECK = f'''
[deck]
name = "{BAD}"
description = "{BAD}"

[[question]]
id = "m-open"
topic = "batch-size"
difficulty = 2
prompt = "{BAD} prompt"
model_answer = "{BAD} answer"
follow_ups = ["{BAD} one", "{BAD} two"]
references = ["{BAD}"]

[question.misconception]
belief = "{BAD} belief"
correction = "{BAD} correction"

[[question.rubric]]
text = "{BAD} point"
must_have = true

[[question.rubric]]
text = "{BAD} second point"

[[question.rubric]]
text = "{BAD} third point"

[question.simulation]
experiment = "batch-size-sweep"
params = {{ batch_sizes = [32, 256], epochs = 1, n_examples = 600, hidden = 16 }}
look_for = "{BAD} look"

[[question]]
id = "m-numeric"
topic = "batch-size"
difficulty = 1
kind = "numeric"
prompt = "{BAD} how many?"
model_answer = "{BAD} 3"
follow_ups = ["{BAD} a", "{BAD} b"]
references = ["{BAD}"]

[question.numeric]
answer = 3
unit = "{BAD} units"
'''


def shown(title: object) -> str:
    """What a border title or subtitle shows (Textual keeps them as markup)."""
    assert isinstance(title, str)
    return Content.from_markup(title).plain


async def test_markup_in_every_deck_field_is_shown_literally(tmp_path: Path) -> None:
    deck = write_deck(tmp_path / "decks", HOSTILE_DECK)
    library = load_library(extra_paths=[deck], check_preset=check_preset, include_builtin=False)
    assert not library.errors, library.errors
    app = make_app(tmp_path, library=library)
    async with running(app, size=(120, 40)) as pilot:
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        detail = screen.query_one("#detail")
        assert LINK in shown(detail.border_subtitle)
        assert LINK in str(screen.query_one("#detail-body", Static).content)
        await pilot.press("escape", "r")
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen)
        assert LINK in str(review.query_one("#session-info", Static).content)  # deck name
        assert LINK in str(review.query_one("#prompt", Static).content)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert review.phase == "revealed"
        assert LINK in str(review.query_one("#misconception", Static).content)
        await pilot.press("s")  # the question's simulation
        await pilot.pause()
        simulation = app.screen
        assert isinstance(simulation, SimulationScreen)
        assert LINK in str(simulation.query_one("#look-for", Static).content)
        await pilot.press("escape", "enter")  # back, accept: the numeric question is next
        await pilot.pause()
        assert review.question is not None and review.question.id == "m-numeric"
        box = review.query_one("#numeric-answer", Input)
        assert LINK in shown(box.border_subtitle)
        await pilot.press("3", "enter")
        await pilot.pause()
        assert review.phase == "revealed"
        assert LINK in str(review.query_one("#your-answer", Static).content)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        # The command palette lists questions with their deck: literally too.
        await pilot.press("ctrl+p", *"practise m-open")
        await pilot.pause(0.5)
        await pilot.press("escape")
        await pilot.pause()

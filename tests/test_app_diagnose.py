"""Diagnose-the-run questions in the real app: the stored curves and the choices on screen,
graded on the number key pressed, the explanation after, the fix one key away, and each
attempt stored like a numeric one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Markdown, Static
from tui_support import Clock, make_app, running

from questions.loader import builtin_deck_files, load_library
from quizapp.domain.grading import Rating
from quizapp.services.library import check_preset
from quizapp.store import Store
from quizapp.tui.screens.review import ReviewScreen
from quizapp.tui.screens.simulation import SimulationScreen
from quizapp.tui.widgets.run_diagnosis import DiagnosisPanel, StoredRunChart

if TYPE_CHECKING:
    from pathlib import Path


def diagnose_library():
    deck = next(p for p in builtin_deck_files() if p.name == "diagnose.toml")
    library = load_library([deck], include_builtin=False, check_preset=check_preset)
    assert not library.errors, library.errors
    return library


async def test_a_right_and_a_wrong_diagnosis_are_graded_and_stored(tmp_path: Path) -> None:
    library = diagnose_library()
    first, second = list(library.questions.values())[:2]
    assert first.diagnosis is not None and second.diagnosis is not None
    clock = Clock()
    app = make_app(tmp_path, clock, library=library)
    async with running(app, size=(120, 40)) as pilot:
        await pilot.press("r")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.question is not None and screen.question.id == first.id
        panel = screen.query_one(DiagnosisPanel)
        assert panel.display and app.focused is panel
        chart = panel.query_one(StoredRunChart)
        assert chart.chart is not None and chart.chart.lines
        choices = str(panel.query_one("#choices", Static).content)
        assert f"1. {first.diagnosis.choices[0]}" in choices

        clock.advance(seconds=20)
        await pilot.press(str(first.diagnosis.answer + 1))
        assert screen.phase == "revealed"
        assert "Correct" in str(screen.query_one("#score-line", Static).content)
        assert "Correct." in str(screen.query_one("#your-answer", Static).content)
        explanation = screen.query_one("#model-answer", Markdown)
        assert explanation.source == first.model_answer
        assert screen.query_one("#reveal-chart", StoredRunChart).display
        await pilot.press("enter")
        await pilot.pause()

        assert screen.question is not None and screen.question.id == second.id
        wrong = (second.diagnosis.answer + 1) % len(second.diagnosis.choices)
        await pilot.press(str(wrong + 1))
        assert "Not quite" in str(screen.query_one("#your-answer", Static).content)
        assert screen.query_one("#score-line", Static).content.plain == "Incorrect"
        # The demo key runs the fix in the simulation screen.
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SimulationScreen)
        assert app.screen.question is second
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("enter")
        await pilot.pause()

    with Store.open(tmp_path / "home") as store:
        (right,) = store.question_history(first.id)
        (missed,) = store.question_history(second.id)
    assert (right.score, right.suggested, right.rating) == (1.0, Rating.GOOD, Rating.GOOD)
    assert right.answer == f"{first.diagnosis.answer + 1}. {first.diagnosis.right_choice}"
    assert right.seconds == 20
    assert (missed.score, missed.suggested, missed.rating) == (0.0, Rating.AGAIN, Rating.AGAIN)
    assert missed.answer == f"{wrong + 1}. {second.diagnosis.choices[wrong]}"
    assert missed.met == frozenset()


async def test_revealing_without_a_choice_and_undo_keep_the_verdict(tmp_path: Path) -> None:
    library = diagnose_library()
    first = next(iter(library.questions.values()))
    assert first.diagnosis is not None
    app = make_app(tmp_path, library=library)
    async with running(app, size=(120, 40)) as pilot:
        await pilot.press("r", "ctrl+r")  # reveal without choosing: graded as wrong
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert "No diagnosis chosen" in str(screen.query_one("#your-answer", Static).content)
        assert screen.query_one("#score-line", Static).content.plain == "Incorrect"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+u")  # take it back: the same question, still revealed
        await pilot.pause()
        assert screen.question is first and screen.phase == "revealed"
        assert "No diagnosis chosen" in str(screen.query_one("#your-answer", Static).content)
    with Store.open(tmp_path / "home") as store:
        assert store.question_history(first.id) == []


async def test_browse_names_the_kind_and_the_fix(tmp_path: Path) -> None:
    from quizapp.tui.screens.browse import BrowseScreen

    library = diagnose_library()
    first = next(iter(library.questions.values()))
    assert first.simulation is not None
    app = make_app(tmp_path, library=library)
    async with running(app, size=(120, 40)) as pilot:
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        detail = screen.query_one("#detail-body", Static).content.plain
        assert f"diagnose the run · fix: {first.simulation.experiment}" in detail

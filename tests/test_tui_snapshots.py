"""Snapshots of the main screens at 100x30 with fixed data and a fixed clock.

Update them after an intended visual change with ``pytest --snapshot-update`` and look at
the SVGs in the report before committing."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tui_support import START, Clock, fixture_library, make_app

from quizapp.domain.grading import Rating, grade_numeric, grade_rubric
from quizapp.store import Store

if TYPE_CHECKING:
    from pathlib import Path

    from textual.pilot import Pilot

    from questions.loader import Library

SIZE = (100, 30)


def with_history(tmp_path: Path) -> tuple[Library, Clock]:
    """Two weeks of answers before START, written through the store."""
    library = fixture_library(tmp_path)
    questions = library.questions
    with Store.open(tmp_path / "home") as store:
        for day in range(14, 0, -2):
            when = START - timedelta(days=day, hours=2)
            for qid, met in (("t-open", {0, 1}), ("t-sim", {0})):
                question = questions[qid]
                grade = grade_rubric(question.rubric, met)
                store.record_attempt(
                    question, grade, grade.suggested, answer="…", started=when, submitted=when
                )
            numeric = questions["t-numeric"]
            assert numeric.numeric is not None
            grade = grade_numeric(numeric.numeric, "1173" if day < 8 else "1170")
            store.record_attempt(
                numeric, grade, Rating.GOOD, answer="1173", started=when, submitted=when
            )
    return library, Clock(START)


def test_home_screen(snap_compare: Any, tmp_path: Path) -> None:
    library, clock = with_history(tmp_path)
    app = make_app(tmp_path, clock, library)

    async def loaded(pilot: Pilot[Any]) -> None:
        await pilot.app.ready()  # type: ignore[attr-defined]
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)


def test_review_after_reveal(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(tmp_path)

    async def answer(pilot: Pilot[Any]) -> None:
        await pilot.app.ready()  # type: ignore[attr-defined]
        await pilot.press("r", *"Less noise per step", "ctrl+r", "1")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=answer)


def test_browse_screen(snap_compare: Any, tmp_path: Path) -> None:
    library, clock = with_history(tmp_path)
    app = make_app(tmp_path, clock, library)

    async def browse(pilot: Pilot[Any]) -> None:
        await pilot.app.ready()  # type: ignore[attr-defined]
        await pilot.press("b")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=browse)


def test_progress_screen(snap_compare: Any, tmp_path: Path) -> None:
    library, clock = with_history(tmp_path)
    app = make_app(tmp_path, clock, library)

    async def progress(pilot: Pilot[Any]) -> None:
        await pilot.app.ready()  # type: ignore[attr-defined]
        await pilot.press("p")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=progress)

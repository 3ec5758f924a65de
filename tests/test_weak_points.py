"""Weak points (a rubric point missed twice in a row) and leeches (failed four times), after a
scripted series of grades; `quizapp drill --list` and the app's drill session."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from test_store import grade, question
from tui_support import Clock, fixture_library, make_app, running

from quizapp.cli import main
from quizapp.domain.grading import Rating
from quizapp.services.weak_points import weak_spots
from quizapp.store import Store
from quizapp.tui.screens.review import ReviewScreen

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _script(store: Store) -> None:
    q1 = question("bs-1")  # points: gradient noise (must), linear scaling, a number
    q2 = question("bs-2")
    # bs-1: point 2 missed twice in a row -> weak; point 1 missed once, then met.
    grade(store, q1, {0, 2}, T0)
    grade(store, q1, {0, 1}, T0 + timedelta(days=1))
    grade(store, q1, {0, 1}, T0 + timedelta(days=2))
    # bs-2: failed four times -> leech (and every point missed twice: weak points too).
    for day in range(4):
        grade(store, q2, set(), T0 + timedelta(days=day, hours=1), rating=Rating.AGAIN)


def test_weak_points_and_leeches_after_a_series_of_grades(tmp_path: Path) -> None:
    with Store.open(tmp_path / "home") as store:
        _script(store)
        spots = weak_spots(store)
    bs1 = [(w.question_id, w.text) for w in spots.weak_points if w.question_id == "bs-1"]
    assert bs1 == [("bs-1", "A number")]
    assert spots.leeches == ("bs-2",)
    # The must-have weak point comes first; bs-2 (weak and a leech) appears once.
    assert spots.weak_points[0].must_have
    assert spots.drill_queue() == ["bs-2", "bs-1"]


def test_drill_list_prints_them(tmp_path: Path) -> None:
    home = tmp_path / "home"
    library = fixture_library(tmp_path)
    t_open = library.questions["t-open"]
    with Store.open(home) as store:
        grade(store, t_open, {0}, T0)
        grade(store, t_open, {0, 2}, T0 + timedelta(days=1))
    args = ["drill", "--list", "--home", str(home), "--deck", str(tmp_path / "fixture-decks")]
    out = io.StringIO()
    with redirect_stdout(out):
        assert main([*args, "--json"]) == 0
    doc = json.loads(out.getvalue())
    assert doc == {
        "weak_points": [
            {
                "question_id": "t-open",
                "point": "Mentions fewer updates per epoch",
                "must_have": False,
            }
        ],
        "leeches": [],
    }
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(args) == 0
    assert "t-open" in out.getvalue() and "Mentions fewer updates per epoch" in out.getvalue()


async def test_drill_from_home_practises_weak_questions(tmp_path: Path) -> None:
    clock = Clock(T0 + timedelta(days=5))
    app = make_app(tmp_path, clock)
    async with running(app) as pilot:
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, ReviewScreen)  # nothing to drill yet
        assert app.store is not None
        t_open = app.library.questions["t-open"]
        grade(app.store, t_open, {0}, T0)
        grade(app.store, t_open, {0}, T0 + timedelta(days=1))
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.queue == ["t-open"]


async def test_leeches_are_flagged_on_browse_progress_and_in_stats(tmp_path: Path) -> None:
    from textual.widgets import DataTable, Static

    from quizapp.tui.screens.browse import BrowseScreen
    from quizapp.tui.screens.progress import ProgressScreen

    clock = Clock(T0 + timedelta(days=5))
    app = make_app(tmp_path, clock)
    async with running(app) as pilot:
        assert app.store is not None
        t_open = app.library.questions["t-open"]
        for day in range(4):
            grade(app.store, t_open, set(), T0 + timedelta(days=day), rating=Rating.AGAIN)
        await pilot.press("b")
        await pilot.pause()
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        row = browse.query_one("#questions", DataTable).get_row("t-open")
        assert "leech" in str(row[4])
        detail = str(browse.query_one("#detail-body", Static).content)
        assert "Leech: failed 4 times or more" in detail and "s runs its simulation" not in detail
        await pilot.press("escape", "p")
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        missed = str(app.screen.query_one("#missed", Static).content)
        assert missed.startswith("Leeches: t-open (failed 4 times or more")
    out = io.StringIO()
    with redirect_stdout(out):
        args = ["--home", str(tmp_path / "home"), "--deck", str(tmp_path / "fixture-decks")]
        assert main(["stats", "--json", *args]) == 0
    assert json.loads(out.getvalue())["leeches"] == ["t-open"]

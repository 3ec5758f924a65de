"""Home, browse, progress, help and the command palette through the real app."""

from __future__ import annotations

import io
from datetime import UTC
from typing import TYPE_CHECKING

import pytest
from rich.console import Console
from textual.widgets import Button, DataTable, Select, Static
from tui_support import BROKEN_DECK, START, Clock, fixture_library, make_app, running, write_deck

from quizapp.store import Store
from quizapp.tui.app import QuizApp
from quizapp.tui.screens.browse import BrowseScreen
from quizapp.tui.screens.help import HelpScreen
from quizapp.tui.screens.home import HomeScreen
from quizapp.tui.screens.progress import ProgressScreen
from quizapp.tui.screens.review import ReviewScreen
from quizapp.tui.widgets.deck_problems import DeckProblems
from quizapp.tui.widgets.review_heatmap import ReviewHeatmap

if TYPE_CHECKING:
    from pathlib import Path


def plain(widget: Static) -> str:
    return " ".join(str(widget.content).split())


async def test_home_shows_due_and_new_counts(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app, (80, 24)) as pilot:
        await pilot.pause()
        today = plain(app.screen.query_one("#today", Static))
        assert "0 due now" in today
        assert "3 new today (3 unseen)" in today
        assert "Review (3)" in str(app.screen.query_one("#go-review", Button).label)


async def test_progress_after_a_few_attempts_shows_them(tmp_path: Path) -> None:
    clock = Clock()
    app = make_app(tmp_path, clock)
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+r", "1", "enter")  # t-open: must-have met, 1/3
        await pilot.pause()
        await pilot.press(*"1173", "enter", "enter")  # t-numeric: right
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProgressScreen)
        title = plain(screen.query_one("#title-bar", Static))
        assert "2 answers to 2 questions" in title
        heatmap = screen.query_one(ReviewHeatmap)
        assert heatmap.counts[START.date()] == 2
        missed = plain(screen.query_one("#missed", Static))
        # t-open missed two points, once each.
        assert "1/1 Mentions fewer updates per epoch · t-open" in missed
        assert "1/1 Mentions memory · t-open" in missed


async def test_browse_filters_and_practises_any_question(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("b")
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        assert screen.shown == ["t-open", "t-numeric", "t-sim"]
        await pilot.press("slash", *"updates")
        assert screen.shown == ["t-numeric", "t-sim"]
        screen.query_one("#topic", Select).value = "batch-size"
        await pilot.pause()
        assert screen.shown == []
        await pilot.press("escape")  # leave the search box first
        await pilot.press("c")
        assert screen.shown == ["t-open", "t-numeric", "t-sim"]
        table = screen.query_one("#questions", DataTable)
        table.move_cursor(row=1)
        await pilot.press("p")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        assert review.mode == "practice" and review.queue == ["t-numeric"]
        await pilot.press(*"1173", "enter", "enter")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        detail = plain(screen.query_one("#detail-body", Static))
        assert "History (1)" in detail and "practice" in detail


async def test_a_broken_user_deck_shows_its_error_and_the_rest_works(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_deck(home / "decks", BROKEN_DECK, "broken.toml")
    app = QuizApp(home, now=Clock(), welcome=False)
    async with running(app) as pilot:
        await pilot.pause()
        panel = app.screen.query_one(DeckProblems)
        assert panel.display
        text = plain(panel)
        assert "broken.toml:" in text and "difficulty" in text
        assert len(app.library.questions) > 0
        await pilot.press("r")
        assert isinstance(app.screen, ReviewScreen)


async def test_a_database_problem_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")  # the data directory cannot be created
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.pause()
        assert app.store is None
        problem = app.screen.query_one("#store-problem")
        assert problem.display
        assert str(home) in plain(app.screen.query_one("#store-problem-text", Static))
        # Questions can still be practised; nothing is saved.
        await pilot.press("r", "ctrl+r", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.position == 1


async def test_help_lists_binding_ids_and_command_palette_finds_actions(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#help-body", Static).content)
        body = console.export_text()
        assert "review.reveal" in body and "keymap.toml" in body
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"browse questions")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BrowseScreen)


async def test_keymap_file_remaps_a_binding(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "keymap.toml").write_text('"home.browse" = "w"\n')
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("b")
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("w")
        assert isinstance(app.screen, BrowseScreen)


async def test_the_chosen_theme_is_kept_for_the_next_start(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app):
        assert "nord" in app.available_themes
        app.theme = "nord"
    again = make_app(tmp_path)
    async with running(again):
        assert again.theme == "nord"


async def test_welcome_shows_on_a_fresh_home_only_and_again_from_help(tmp_path: Path) -> None:
    from quizapp.tui.screens.welcome import WelcomeScreen

    def app() -> QuizApp:
        return QuizApp(tmp_path / "home", library=fixture_library(tmp_path), now=Clock(), tz=UTC)

    first = app()
    async with running(first) as pilot:
        await pilot.pause()
        assert isinstance(first.screen, WelcomeScreen)
        text = " ".join(str(s.content) for s in first.screen.query(".welcome-text").results(Static))
        for words in ("due", "FSRS", "desired retention", "must-have", "red flag", "Mastery"):
            assert words.lower() in text.lower()
        await pilot.press("enter")
        assert isinstance(first.screen, HomeScreen)
    second = app()
    async with running(second) as pilot:
        await pilot.pause()
        assert isinstance(second.screen, HomeScreen)
        await pilot.press("f1", "w")
        assert isinstance(second.screen, WelcomeScreen)


async def test_help_names_both_rating_arrows_alike(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("f1")
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#help-body", Static).content)
        lines = console.export_text().splitlines()
        left = next(line for line in lines if "review.rating-down" in line)
        right = next(line for line in lines if "review.rating-up" in line)
        assert "Rating down" in left and "Rating up" in right


async def test_a_bug_behind_a_store_call_fails_the_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise TypeError("a programming error")

    monkeypatch.setattr(Store, "record_attempt", broken)
    app = make_app(tmp_path)

    async def grade_once() -> None:
        async with running(app) as pilot:
            await pilot.press("r", "ctrl+r", "enter")
            await pilot.pause()

    with pytest.raises(TypeError, match="a programming error"):
        await grade_once()


async def test_a_bug_behind_a_store_call_is_logged_for_users_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path)
    app.raise_bugs = False  # as for a user at a real terminal
    async with running(app) as pilot:
        await pilot.press("r", *"saved", "ctrl+r", "1", "enter")  # t-open: saved
        await pilot.pause()

        def broken(*args: object, **kwargs: object) -> None:
            raise TypeError("a programming error")

        monkeypatch.setattr(Store, "record_attempt", broken)
        await pilot.press(*"1173", "enter", "enter")  # t-numeric: the save hits the bug
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.question is not None and screen.question.id == "t-numeric"
        assert screen.phase == "revealed"  # still on screen, nothing typed is lost
        messages = [str(n.message) for n in app._notifications]
        (message,) = [m for m in messages if "bug" in m]
        logs = list((tmp_path / "home" / "logs").glob("error-*.log"))
        assert len(logs) == 1 and str(logs[0]) in message
        log = logs[0].read_text(encoding="utf-8")
        assert "Traceback" in log and "TypeError: a programming error" in log
    monkeypatch.undo()
    with Store.open(tmp_path / "home") as store:
        assert [a.answer for a in store.question_history("t-open")] == ["saved"]


async def test_progress_opens_the_run_under_the_cursor(tmp_path: Path) -> None:
    from quizapp.tui.screens.simulation import SimulationScreen

    app = make_app(tmp_path)
    async with running(app, size=(120, 40)) as pilot:
        assert app.store is not None
        for _ in range(3):
            app.store.record_sim_run("batch-size-sweep", {}, "cpu", "cancelled")
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProgressScreen)
        table = screen.query_one("#sim-history", DataTable)
        assert app.focused is table  # its cursor shows, arrows move it
        assert screen.query_one("#progress-body").scroll_y == 0  # the heatmap is in view
        await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == 1
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, SimulationScreen)
        assert app.screen.saved_run == screen.run_ids[1]


async def test_browse_detail_follows_the_search(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app, size=(120, 40)) as pilot:
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        detail = screen.query_one("#detail")
        await pilot.press("slash", *"nothing-matches-this")
        await pilot.pause()
        assert "No question matches" in plain(screen.query_one("#detail-body", Static))
        assert detail.border_title == "Question" and not detail.border_subtitle
        await pilot.press(*["backspace"] * len("nothing-matches-this"))
        await pilot.pause()
        table = screen.query_one("#questions", DataTable)
        shown = screen.shown[table.cursor_row]
        assert detail.border_title == shown
        assert "Test deck" in str(detail.border_subtitle)

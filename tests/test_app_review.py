"""Reviewing through the real app: answer, reveal, tick the rubric, accept, undo, leave."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.widgets import Input, Static, TextArea
from tui_support import Clock, make_app, running

from quizapp.domain.grading import Rating
from quizapp.domain.limits import MAX_ANSWER_CHARS
from quizapp.store import Store
from quizapp.tui.screens.home import HomeScreen
from quizapp.tui.screens.review import ReviewScreen
from quizapp.tui.widgets.rating_bar import RatingBar
from quizapp.tui.widgets.rubric_checklist import RubricChecklist

if TYPE_CHECKING:
    from pathlib import Path


def stored_attempts(tmp_path: Path, question_id: str) -> list:
    with Store.open(tmp_path / "home") as store:
        return store.question_history(question_id)


async def test_review_a_due_question_end_to_end(tmp_path: Path) -> None:
    clock = Clock()
    app = make_app(tmp_path, clock)
    async with running(app) as pilot:
        await pilot.press("r")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        # Deck text is shown literally, markup-looking brackets included.
        prompt = screen.query_one("#prompt", Static)
        assert str(prompt.content) == "Why does [bold]x[/bold] and [red matter for the batch size?"
        assert app.focused is screen.query_one("#answer", TextArea)
        await pilot.press(*"noise falls")
        clock.advance(seconds=42)
        await pilot.press("ctrl+r")
        assert screen.phase == "revealed"
        rubric = screen.query_one(RubricChecklist)
        assert app.focused is rubric
        await pilot.press("1", "2")
        assert rubric.met == {0, 1}
        assert screen.query_one(RatingBar).chosen == Rating.GOOD
        await pilot.press("enter")
        await pilot.pause()
        assert screen.question is not None and screen.question.id == "t-numeric"

    attempts = stored_attempts(tmp_path, "t-open")
    assert len(attempts) == 1
    attempt = attempts[0]
    assert attempt.answer == "noise falls"
    assert attempt.met == {0, 1}
    assert attempt.rating == Rating.GOOD
    assert attempt.mode == "review"
    assert attempt.seconds == 42
    with Store.open(tmp_path / "home") as store:
        card = store.card("t-open")
    assert card is not None and card.due > clock()


async def test_rating_can_be_changed_before_accepting(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+r")
        bar = app.screen.query_one(RatingBar)
        assert bar.suggested == Rating.AGAIN  # nothing ticked, must-have missed
        await pilot.press("right", "right", "e")  # arrows move, letters choose
        assert bar.chosen == Rating.EASY
        await pilot.press("left", "enter")
        await pilot.pause()
    (attempt,) = stored_attempts(tmp_path, "t-open")
    assert attempt.rating == Rating.GOOD
    assert attempt.suggested == Rating.AGAIN


async def test_numeric_question_is_graded_automatically(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+n")  # skip the open question
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        box = screen.query_one("#numeric-answer", Input)
        assert app.focused is box
        await pilot.press(*"lots", "enter")
        error = screen.query_one("#numeric-error", Static)
        assert error.display and "not a number" in str(error.content)
        assert screen.phase == "answer"
        box.value = ""
        await pilot.press(*"1,173", "enter")
        assert screen.phase == "revealed"
        assert "Correct" in str(screen.query_one("#score-line", Static).content)
        assert screen.query_one(RatingBar).suggested == Rating.GOOD
        await pilot.press("enter")
        await pilot.pause()
        # The next numeric attempt, wrong this time, suggests Again.
    (attempt,) = stored_attempts(tmp_path, "t-numeric")
    assert attempt.score == 1.0 and attempt.rating == Rating.GOOD
    assert attempt.answer == "1,173"


async def test_wrong_numeric_answer_suggests_again(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+n", *"1170", "enter")
        screen = app.screen
        assert "Not quite" in str(screen.query_one("#your-answer", Static).content)
        assert screen.query_one(RatingBar).chosen == Rating.AGAIN
        await pilot.press("enter")
        await pilot.pause()
    (attempt,) = stored_attempts(tmp_path, "t-numeric")
    assert attempt.score == 0.0 and attempt.rating == Rating.AGAIN


async def test_undo_takes_back_the_last_grade(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("r", *"first try", "ctrl+r", "1", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert len(stored_attempts(tmp_path, "t-open")) == 1
        await pilot.press("ctrl+u")
        await pilot.pause()
        assert stored_attempts(tmp_path, "t-open") == []
        # The question is back, revealed, with the answer and ticks as they were.
        assert screen.question is not None and screen.question.id == "t-open"
        assert screen.phase == "revealed"
        assert screen.query_one(RubricChecklist).met == {0}
        assert "first try" in str(screen.query_one("#your-answer", Static).content)
        await pilot.press("2", "3", "enter")
        await pilot.pause()
    (attempt,) = stored_attempts(tmp_path, "t-open")
    assert attempt.met == {0, 1, 2} and attempt.rating == Rating.EASY
    with Store.open(tmp_path / "home") as store:
        assert store.totals().attempts == 1


async def test_leaving_mid_session_keeps_what_was_graded(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+r", "1", "enter")
        await pilot.pause()
        await pilot.press(*"half an answer", "escape")
        await pilot.pause()
        # Typed text on screen: the app asks first.
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        today = str(app.screen.query_one("#today", Static).content)
        assert "1 reviewed today" in " ".join(today.split())
    assert len(stored_attempts(tmp_path, "t-open")) == 1
    assert stored_attempts(tmp_path, "t-numeric") == []


async def test_a_graded_question_is_not_due_again_the_same_session(tmp_path: Path) -> None:
    clock = Clock()
    app = make_app(tmp_path, clock)
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+r", "1", "2", "3", "enter")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        clock.advance(minutes=1)
        await pilot.press("r")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert "t-open" not in screen.queue


async def test_rating_bar_shows_when_each_choice_brings_the_question_back(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+r")
        await pilot.pause()
        bar = app.screen.query_one(RatingBar)
        assert set(bar.intervals) == set(Rating)
        ordered = [bar.intervals[r] for r in Rating]
        assert ordered == sorted(ordered) and ordered[0] < ordered[-1]
        labels = [str(choice.content) for choice in bar.query(".rating-choice").results(Static)]
        assert labels[0].startswith("Again 1m") and labels[-1].startswith("Easy ")
        assert labels[-1].split()[1].endswith("d")  # Easy schedules days ahead


async def test_undo_keeps_the_session_count(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("r")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        info = screen.query_one("#session-info", Static)
        assert "1 of 3" in str(info.content)
        for _ in range(3):
            await pilot.press("ctrl+r", "1", "enter")
            await pilot.pause()
            assert "2 of 3" in str(info.content)
            await pilot.press("ctrl+u")
            await pilot.pause()
            assert "1 of 3" in str(info.content)
            assert screen.question is not None and screen.question.id == "t-open"
        await pilot.press("enter")  # grade it for good
        await pilot.pause()
        assert "2 of 3" in str(info.content)
        assert screen.queue.count("t-open") == 1
    assert len(stored_attempts(tmp_path, "t-open")) == 1


async def test_an_answer_is_capped_with_a_message(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        await pilot.press("r")
        screen = app.screen
        area = screen.query_one("#answer", TextArea)
        area.insert("a" * (MAX_ANSWER_CHARS - 5))
        area.post_message(events.Paste("b" * 1000))
        await pilot.pause()
        assert len(area.text) == MAX_ANSWER_CHARS
        assert area.text.endswith("bbbbb")
        assert any(f"{MAX_ANSWER_CHARS:,} characters" in str(n.message) for n in app._notifications)
        await pilot.press("c")  # typing at the limit adds nothing
        assert len(area.text) == MAX_ANSWER_CHARS
        await pilot.press("ctrl+r", "enter")
        await pilot.pause()
    (attempt,) = stored_attempts(tmp_path, "t-open")
    assert len(attempt.answer) == MAX_ANSWER_CHARS


async def test_at_80x24_the_model_answer_and_score_stay_in_view(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app, size=(80, 24)) as pilot:
        await pilot.press("r", *"gradient noise falls as batches grow " * 12, "ctrl+r")
        await pilot.pause()
        screen = app.screen
        left = screen.query_one("#reveal-left").region
        model = screen.query_one("#model-answer").region
        assert model.intersection(left).height >= 5  # border and three lines at least
        score = screen.query_one("#score-line", Static)
        text = " ".join(str(score.content).split())
        assert text == "Score 0/3 · a must-have point is missing"
        bar = screen.query_one("#grade-bar").region
        assert score.region.height * score.region.width >= len(text)
        assert bar.contains_region(score.region)


async def test_a_stated_red_flag_caps_the_rating_and_is_stored(tmp_path: Path) -> None:
    from textual.widgets import SelectionList
    from tui_support import DECK, write_deck

    from questions.loader import load_library
    from quizapp.services.library import check_preset

    flag = "Bigger is [b]always[/b] better."
    deck = DECK.replace('id = "t-open"\n', f'id = "t-open"\nred_flags = ["{flag}"]\n', 1)
    path = write_deck(tmp_path / "flag-decks", deck)
    library = load_library(extra_paths=[path], check_preset=check_preset, include_builtin=False)
    assert library.questions["t-open"].red_flags == (flag,)
    app = make_app(tmp_path, library=library)
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+r", "1", "2", "3")  # every rubric point: Easy
        await pilot.pause()
        bar = app.screen.query_one(RatingBar)
        assert bar.suggested == Rating.EASY
        flags = app.screen.query_one("#red-flags", SelectionList)
        assert flags.display and str(flags.get_option_at_index(0).prompt) == flag  # literal
        flags.select(0)
        await pilot.pause()
        assert bar.suggested == Rating.HARD
        assert "a red flag stated" in str(app.screen.query_one("#score-line", Static).content)
        await pilot.press("enter")
        await pilot.pause()
    (attempt,) = stored_attempts(tmp_path, "t-open")
    assert attempt.red_flags == (flag,) and attempt.rating == Rating.HARD
    assert attempt.score == 1.0  # the points still count; only the rating is capped


async def test_a_follow_up_probing_a_missed_point_is_asked_first(tmp_path: Path) -> None:
    from tui_support import DECK, write_deck

    from questions.loader import load_library
    from quizapp.services.library import check_preset

    deck = DECK.replace(
        'follow_ups = ["What happens at batch 1?", "And at the full data set?"]',
        'follow_ups = ["What happens at batch 1?", '
        '{ text = "How many updates per epoch at batch 100?", probes = 2 }]',
        1,
    )
    path = write_deck(tmp_path / "probe-decks", deck)
    library = load_library(extra_paths=[path], check_preset=check_preset, include_builtin=False)
    app = make_app(tmp_path, library=library)
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+r", "1")  # the must-have only: point 2 (updates) missed
        await pilot.pause()
        panel = app.screen.query_one("#follow-ups", Static)
        lines = str(panel.content).splitlines()
        assert lines[0] == "1. How many updates per epoch at batch 100? (on a point you missed)"
        assert lines[1] == "2. What happens at batch 1?"
        await pilot.press("2")  # now the point is ticked: back to deck order, unmarked
        await pilot.pause()
        lines = str(panel.content).splitlines()
        assert lines == [
            "1. What happens at batch 1?",
            "2. How many updates per epoch at batch 100?",
        ]

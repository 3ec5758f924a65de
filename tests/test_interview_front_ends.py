"""The mock interview as a user takes it: ``quizapp interview`` with answers piped in, and the
app's interview screen; the stored report, and interviews in ``stats --json`` and Progress."""

from __future__ import annotations

import io
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import SelectionList, Static, TextArea
from tui_support import DECK, Clock, make_app, running, write_deck

from questions.loader import Library, load_library
from quizapp.cli import main
from quizapp.services.library import check_preset
from quizapp.services.mock_interview import start_interview
from quizapp.store import Store
from quizapp.tui.screens.confirm import ConfirmScreen
from quizapp.tui.screens.home import HomeScreen
from quizapp.tui.screens.interview import InterviewScreen
from quizapp.tui.screens.progress import ProgressScreen

# The test deck, with a red flag on t-open written to look like markup: shown literally.
RED_FLAG = "Bigger batches always [b]generalize[/b] better"
INTERVIEW_DECK = DECK.replace(
    "[question.misconception]",
    f'red_flags = ["{RED_FLAG}"]\n\n[question.misconception]',
    1,
)
OPEN_PROMPT = "Why does [bold]x[/bold] and [red matter for the batch size?"


def interview_library(tmp_path: Path) -> Library:
    deck = write_deck(tmp_path / "interview-decks", INTERVIEW_DECK)
    library = load_library(extra_paths=[deck], check_preset=check_preset, include_builtin=False)
    assert not library.errors, library.errors
    return library


def strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def rendered(widget: Static, width: int = 120) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


# --- CLI ---------------------------------------------------------------------------------


@pytest.fixture
def cli_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Library:
    """The CLI on the test deck only, so the questions asked are known."""
    library = interview_library(tmp_path)
    monkeypatch.setattr("quizapp.services.library.load", lambda home=None, decks=(): library)
    return library


def piped_answers(library: Library, minutes: int, seed: int) -> tuple[list[str], str]:
    """The questions asked, in order, and stdin answering them: t-open meets points 1 and 3
    (after one mistyped line) and states the red flag, t-sim meets nothing, t-numeric is
    right."""
    from datetime import UTC, datetime

    order = [
        a.question.id
        for a in start_interview(
            list(library.questions.values()), minutes, datetime.now(UTC), seed=seed
        ).asked
    ]
    answers = {
        "t-open": "Noise falls as the batch grows,\nsince more examples are averaged.\n\n"
        "Batch 1 is noisy.\n\n",
        "t-sim": "I don't know.\n\nNo idea.\n\n",
        "t-numeric": "1173\nFewer updates.\n\n",
    }
    grading = {"t-open": "1 x\n9\n1 3\n1\n", "t-sim": "\n", "t-numeric": ""}
    text = "".join(answers[q] for q in order) + "".join(grading[q] for q in order)
    return order, text


def test_cli_interview_with_piped_answers_reports_and_saves(
    tmp_path: Path,
    cli_library: Library,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = str(tmp_path / "home")
    order, text = piped_answers(cli_library, 15, seed=4)
    assert sorted(order) == ["t-numeric", "t-open", "t-sim"]
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code = main(["--home", home, "interview", "--minutes", "15", "--seed", "4"])
    out, err = capsys.readouterr()
    assert code == 0, err
    flat = " ".join(out.split())
    # Deck text is printed literally, never as markup.
    assert OPEN_PROMPT in out and RED_FLAG in out
    # Clocks while asking; model answers only after the last answer was read.
    clocks = re.findall(r"question \d\d:\d\d of (\d\d:\d\d) · interview \d\d:\d\d left", out)
    assert clocks[:2] == ["05:00" if order[0] == "t-open" else "03:00"] * 2  # answer, follow-up
    assert out.index("Model answer: ") > out.rindex("Took ")
    # A mistyped grading line is refused with a reason and asked again.
    assert "'x' is not a number" in flat and "9: there are 3 points here" in flat
    assert "Mock interview report" in out
    assert "Rubric points missed" in out and "Mentions fewer updates per epoch" in out
    assert "Red flags stated" in out
    assert "back in your review queue: " in flat
    with Store.open(tmp_path / "home") as store:
        [stored] = store.mock_interviews()
        assert stored.minutes == 15
        by_id = {a["question_id"]: a for a in stored.report["answers"]}
        assert by_id["t-open"]["red_flags"] == [RED_FLAG]
        assert by_id["t-open"]["score"] == round(2 / 3, 4)
        assert by_id["t-sim"]["score"] == 0.0 and by_id["t-numeric"]["score"] == 1.0
        assert set(stored.report["review_next"]) == {"t-open", "t-sim"}
        assert store.totals().attempts == 3

    code = main(["--home", home, "stats", "--json", "--tz", "UTC"])
    stats = strict_json(capsys.readouterr().out)
    assert code == 0
    [row] = stats["mock_interviews"]
    assert row["minutes"] == 15 and row["questions"] == 3
    assert row["score"] == round(stored.score, 4)
    assert row["by_topic"] == stored.report["by_topic"]


def test_cli_interview_json_is_strict_and_on_stdout_only(
    tmp_path: Path,
    cli_library: Library,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, text = piped_answers(cli_library, 15, seed=9)
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code = main(
        ["--home", str(tmp_path / "h"), "interview", "--minutes", "15", "--seed", "9", "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 0
    report = strict_json(out)
    assert report["minutes"] == 15 and len(report["answers"]) == 3
    assert "Model answer" in err  # the session itself went to stderr


def test_cli_interview_refuses_bad_options_and_short_input(
    tmp_path: Path,
    cli_library: Library,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = str(tmp_path / "h")
    assert main(["--home", home, "interview", "--minutes", "2"]) == 1
    assert "--minutes 2: an interview lasts 5 to 180 minutes" in capsys.readouterr().err
    assert main(["--home", home, "interview", "--topics", "epochs", "nope"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "--topics: no questions on nope; the topics are batch-size, epochs" in err
    # Input that ends before the grading is done: a clear message, nothing saved.
    monkeypatch.setattr("sys.stdin", io.StringIO("an answer\n"))
    assert main(["--home", home, "interview", "--minutes", "15"]) == 1
    assert "Input ended before every answer was graded: nothing saved" in capsys.readouterr().err
    with Store.open(Path(home)) as store:
        assert store.mock_interviews() == [] and store.totals().attempts == 0


def test_cli_interview_ctrl_c_exits_130_and_saves_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "100"}
    command = ["-m", "quizapp", "--home", str(home), "interview", "--minutes", "10", "--seed", "1"]
    proc = subprocess.Popen(
        [sys.executable, *command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        proc.stdin.write(b"a first answer\n\n")  # the question's answer; now at the follow-up
        proc.stdin.flush()
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        seen = ""
        deadline = time.monotonic() + 120
        while "Follow-up: " not in seen and time.monotonic() < deadline:
            if selector.select(timeout=1.0):
                # Raw reads: a buffered readline would hide lines from select().
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk.decode()
        assert "Follow-up: " in seen, seen
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 130
    assert err.decode().strip() == "Interview abandoned: nothing saved."
    with Store.open(home) as store:
        assert store.mock_interviews() == [] and store.totals().attempts == 0


# --- app ---------------------------------------------------------------------------------


async def answer(pilot: Any, screen: InterviewScreen, text: str) -> None:
    area = screen.query_one("#interview-answer", TextArea)
    assert area.has_focus
    await pilot.press(*text)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_app_interview_from_home_to_report_and_progress(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    clock = Clock()
    app = make_app(tmp_path, clock, interview_library(tmp_path))
    async with running(app, size) as pilot:
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        minutes = screen.query_one("#minutes")
        minutes.value = "15"  # type: ignore[attr-defined]
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert screen.interview is not None
        order = [a.question.id for a in screen.interview.asked]
        assert sorted(order) == ["t-numeric", "t-open", "t-sim"]
        for qid in order:
            asked = screen.asked
            assert asked is not None and asked.question.id == qid
            prompt = rendered(screen.query_one("#question", Static))
            assert " ".join(asked.question.prompt.split()) in " ".join(prompt.split())
            assert not screen.query_one("#grade-phase").display  # no model answer yet
            await answer(pilot, screen, "1173" if qid == "t-numeric" else "noise falls")
            clock.advance(seconds=90)
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert screen.query_one("#follow-up").display
            follow = rendered(screen.query_one("#follow-up", Static))
            assert " ".join(follow.split()) == asked.follow_up
            budget = "05:00" if qid == "t-open" else "03:00"
            clock_text = str(screen.query_one("#interview-clock", Static).content)
            assert f"question 01:30 of {budget}" in clock_text
            await answer(pilot, screen, "a follow-up answer")
            clock.advance(seconds=30)
            await pilot.press("ctrl+n")
            await pilot.pause()

        # Grading: model answers now, the rubric to tick, red flags as checkboxes.
        for qid in order:
            asked = screen.asked
            assert screen.phase == "grade" and asked is not None and asked.question.id == qid
            flags = screen.query_one("#red-flags", SelectionList)
            if qid == "t-open":
                await pilot.press("1", "3")
                assert flags.display
                assert str(flags.get_option_at_index(0).prompt) == RED_FLAG
                await pilot.press("tab", "space")
                assert flags.selected == [0]
            elif qid == "t-numeric":
                verdict = str(screen.query_one("#numeric-verdict", Static).content)
                assert "Right." in verdict
                assert not flags.display
            await pilot.press("ctrl+n")
            await pilot.pause()

        assert screen.phase == "report"
        report = rendered(screen.query_one("#interview-report", Static))
        assert "Mock interview report" in report and RED_FLAG in report
        assert "06:00 used of 15:00" in report
        assert app.store is not None
        [stored] = app.store.mock_interviews()
        assert stored.report["seconds_used"] == 360.0
        by_id = {a["question_id"]: a for a in stored.report["answers"]}
        assert by_id["t-open"]["score"] == round(2 / 3, 4)
        assert by_id["t-open"]["red_flags"] == [RED_FLAG]
        assert by_id["t-sim"]["score"] == 0.0 and by_id["t-numeric"]["score"] == 1.0
        assert app.store.totals().attempts == 3

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        panel = " ".join(str(app.screen.query_one("#interviews", Static).content).split())
        assert f"15 min {stored.score * 100:.0f}% 3 questions · all topics" in panel


async def test_app_interview_validates_setup_and_esc_abandons_without_saving(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, Clock(), interview_library(tmp_path))
    async with running(app, (80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"mock interview")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        screen.query_one("#minutes").value = "2"  # type: ignore[attr-defined]
        await pilot.press("ctrl+n")
        await pilot.pause()
        error = str(screen.query_one("#setup-error", Static).content)
        assert "an interview lasts 5 to 180 minutes, not 2" in error
        assert screen.phase == "setup"
        screen.query_one("#minutes").value = "10"  # type: ignore[attr-defined]
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert screen.phase == "answer"
        await answer(pilot, screen, "half an answer")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep going: the answer is still there
        await pilot.pause()
        assert app.screen is screen
        assert screen.query_one("#interview-answer", TextArea).text == "half an answer"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert app.store is not None
        assert app.store.mock_interviews() == [] and app.store.totals().attempts == 0


async def test_app_interview_keeps_keys_sent_in_a_burst_before_next(tmp_path: Path) -> None:
    """A paste followed at once by ctrl+n (or a tick then ctrl+n) arrives as a burst of keys:
    ctrl+n must not overtake the keys before it."""
    from textual import events

    app = make_app(tmp_path, Clock(), interview_library(tmp_path))

    async def burst(*keys: str) -> None:
        for key in keys:
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await pilot.pause()
        await pilot.pause()

    async with running(app) as pilot:
        await pilot.press("i")
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        await burst("ctrl+n")
        assert screen.interview is not None
        for _ in screen.interview.asked:
            await burst("4", "2", "ctrl+n", "ctrl+n")
        answers = [(a.answer, a.follow_up_answer) for a in screen.interview.asked]
        assert answers == [("42", "")] * 3
        assert screen.phase == "grade"
        order = [a.question.id for a in screen.interview.asked]
        for qid in order:
            await burst("1", "ctrl+n") if qid != "t-numeric" else await burst("ctrl+n")
        assert screen.phase == "report"
        met = {qid: screen.grades[qid].met for qid in order}
        assert met == {"t-open": {0}, "t-sim": {0}, "t-numeric": frozenset()}

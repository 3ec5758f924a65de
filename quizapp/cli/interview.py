"""``quizapp interview``: a timed mock interview in the terminal.

The questions, the follow-ups, the grading and the report come from
``quizapp.services.mock_interview``, as in the app's interview screen; this module only asks
and reads. Answers are read line by line from stdin, so a pipe works as well as a terminal.
"""

from __future__ import annotations

import json
import secrets
import signal
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from quizapp.domain.mock_interview import MAX_MINUTES, MIN_MINUTES
from quizapp.domain.wording import format_duration, plural, time_left

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from rich.console import Console

    from quizapp.services.mock_interview import AskedQuestion, MockInterview, SelfGrade

DEFAULT_MINUTES = 30
ABANDONED = "Interview abandoned: nothing saved."


class InputEnded(Exception):
    """Stdin ended while the interview still needed an answer."""


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    interview = subparsers.add_parser(
        "interview",
        parents=[common],
        help="a timed mock interview: mixed questions and follow-ups, graded at the end",
        description=(
            "A timed mock interview: questions picked to cover the topics, each with a clock, "
            "and a follow-up after every answer, as an interviewer would ask. Model answers "
            "come only at the end, where you tick the rubric points each answer met. The "
            "report is saved (see `quizapp stats`) and weak answers go back into your "
            "reviews. Type an answer over as many lines as you like and end it with an empty "
            "line; answers can also be piped in. Ctrl-C abandons the interview (nothing saved)."
        ),
    )
    interview.add_argument(
        "--minutes",
        type=int,
        default=DEFAULT_MINUTES,
        metavar="N",
        help=f"length, {MIN_MINUTES} to {MAX_MINUTES} minutes (default {DEFAULT_MINUTES})",
    )
    interview.add_argument(
        "--topics", nargs="+", metavar="TOPIC", help="only these topics (default: all)"
    )
    interview.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="ask the same questions as an earlier interview with this seed (default: new)",
    )
    interview.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON on stdout (the questions then go to stderr)",
    )
    interview.set_defaults(func=run_interview)


def run_interview(args: argparse.Namespace) -> int:
    from quizapp.cli.output import console, fail, open_store
    from quizapp.services.library import load
    from quizapp.services.mock_interview import finish_interview, report_json, start_interview
    from quizapp.store import StoreError

    if not MIN_MINUTES <= args.minutes <= MAX_MINUTES:
        return fail(
            f"--minutes {args.minutes}: an interview lasts {MIN_MINUTES} to {MAX_MINUTES} minutes."
        )
    library = load(args.home, args.deck)
    questions = list(library.questions.values())
    topics = tuple(dict.fromkeys(args.topics or ()))
    known = sorted({q.topic for q in questions})
    unknown = [t for t in topics if t not in known]
    if unknown:
        return fail(
            f"--topics: no questions on {', '.join(unknown)}; "
            f"the topics are {', '.join(known) or 'none (no decks loaded)'}."
        )
    seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
    out = console(stderr=args.json)
    try:
        interview = start_interview(
            questions, args.minutes, datetime.now(UTC), topics=topics, seed=seed
        )
    except ValueError as exc:
        return fail(f"{exc}.")
    if not interview.asked:
        return fail("No questions to ask: the decks are empty.")
    if library.errors:
        out.print(
            f"Note: {plural(len(library.errors), 'problem')} in the decks "
            "(`quizapp deck validate` lists them).",
            style="yellow",
        )
    try:
        with open_store(args) as store:
            reader = Reader(sys.stdin)
            ask_all(interview, reader, out, seed)
            grades = grade_all(interview, reader, out)
            with _no_interrupt():
                report = finish_interview(store, interview, grades, datetime.now(UTC))
                saved_in = store.path
    except KeyboardInterrupt:
        # On a terminal the cursor is still after the "^C" the terminal echoed.
        start = "\n" if sys.stdin.isatty() else ""
        console(stderr=True).print(start + ABANDONED, style="yellow")
        return 130
    except InputEnded as exc:
        return fail(f"{exc}: nothing saved.")
    except StoreError as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(report_json(report), indent=2, ensure_ascii=False, allow_nan=False))
        return 0
    from quizapp.views.interview_report import render_interview_report

    out.rule()
    out.print(render_interview_report(report))
    out.print(
        f"Saved in {saved_in}; `quizapp stats` compares your interviews over time.",
        style="dim",
    )
    return 0


# --- asking ------------------------------------------------------------------------------


class Reader:
    """Lines from stdin; end of input is remembered so that nothing waits on it again."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.ended = False
        self.interactive = stream.isatty()

    def line(self) -> str | None:
        """The next line without its newline, or None at the end of input."""
        if self.ended:
            return None
        text = self.stream.readline()
        if not text:
            self.ended = True
            return None
        return text.rstrip("\r\n")

    def block(self) -> str:
        """Lines up to an empty line or the end of input."""
        lines: list[str] = []
        while (text := self.line()) is not None and text.strip():
            lines.append(text)
        return "\n".join(lines).strip()


def ask_all(interview: MockInterview, reader: Reader, out: Console, seed: int) -> None:
    from rich.text import Text

    count = len(interview.asked)
    out.print(
        Text.assemble(
            ("Mock interview", "bold"),
            f": {plural(count, 'question')} in {interview.minutes} minutes (seed {seed}). "
            "Answer as you would aloud; end each answer with an empty line. Each answer is "
            "followed by a follow-up question. Model answers come at the end. "
            "Ctrl-C abandons the interview.",
        ),
    )
    for number, asked in enumerate(interview.asked, 1):
        ask_one(interview, asked, number, reader, out)


def _clock(interview: MockInterview, asked: AskedQuestion, elapsed: float) -> str:
    return (
        f"question {format_duration(elapsed)} of {format_duration(asked.budget_seconds)} · "
        f"interview {time_left(interview.seconds_left(elapsed))}"
    )


def ask_one(
    interview: MockInterview, asked: AskedQuestion, number: int, reader: Reader, out: Console
) -> None:
    from rich.text import Text

    from questions.model import QuestionKind

    question = asked.question
    started = time.monotonic()
    out.print()
    out.rule(Text(f"Question {number} of {len(interview.asked)} · {question.topic}"))
    out.print(Text(_clock(interview, asked, 0.0), style="dim"))
    out.print(Text(question.prompt))
    if question.kind == QuestionKind.NUMERIC:
        unit = question.numeric.unit if question.numeric else ""
        out.print(Text(f"(one number{f', in {unit}' if unit else ''}; then Enter)", style="dim"))
        asked.answer = (reader.line() or "").strip()
    else:
        out.print(Text("(your answer; an empty line ends it)", style="dim"))
        asked.answer = reader.block()
    if asked.follow_up:
        elapsed = time.monotonic() - started
        out.print(Text.assemble(("Follow-up: ", "bold"), asked.follow_up))
        out.print(Text(_clock(interview, asked, elapsed), style="dim"))
        asked.follow_up_answer = reader.block()
    asked.seconds = time.monotonic() - started
    out.print(
        Text(
            f"Took {format_duration(asked.seconds)} of {format_duration(asked.budget_seconds)}; "
            f"interview {time_left(interview.seconds_left())}.",
            style="dim",
        )
    )


# --- grading -----------------------------------------------------------------------------


def parse_choice(text: str, count: int, what: str) -> frozenset[int]:
    """Numbers typed by the learner (``"1 3"``, ``"1,3"``, empty for none) as 0-based
    indexes; ValueError says what was wrong."""
    chosen: set[int] = set()
    for word in text.replace(",", " ").split():
        if not word.isdigit():
            raise ValueError(
                f"{word!r} is not a number: type {what} numbers from 1 to {count} separated "
                "by spaces, or nothing for none"
            )
        number = int(word)
        if not 1 <= number <= count:
            raise ValueError(
                f"{number}: there {'is' if count == 1 else 'are'} {plural(count, what)} here, "
                f"numbered 1 to {count}"
            )
        chosen.add(number - 1)
    return frozenset(chosen)


def ask_choice(reader: Reader, out: Console, prompt: str, count: int, what: str) -> frozenset[int]:
    from rich.text import Text

    from questions.untrusted import clean_text

    while True:
        out.print(Text(prompt, style="bold"), end="")
        text = reader.line()
        if text is None:
            raise InputEnded("Input ended before every answer was graded")
        if not reader.interactive:  # piped in: show what was read, as a terminal would
            out.print(Text(clean_text(text)), highlight=False)
        try:
            return parse_choice(text, count, what)
        except ValueError as exc:
            out.print(Text(f"{exc}. Try again.", style="red"))


def grade_all(interview: MockInterview, reader: Reader, out: Console) -> dict[str, SelfGrade]:
    from rich.text import Text

    from questions.untrusted import clean_text
    from quizapp.services.mock_interview import SelfGrade, numeric_right

    out.print()
    out.rule(Text("Grading"))
    out.print(
        Text(
            "For each answer: the model answer and its rubric. Type the numbers of the points "
            "your answer (with its follow-up) met, e.g. `1 3`, or nothing for none.",
        ),
    )
    grades: dict[str, SelfGrade] = {}
    for number, asked in enumerate(interview.asked, 1):
        question = asked.question
        out.print()
        out.rule(Text(f"Answer {number} of {len(interview.asked)} · {question.id}"))
        out.print(Text(question.prompt, style="bold"))
        # Answers may have been piped in from anywhere: echo them without control characters.
        out.print(Text.assemble(("Your answer: ", "dim"), clean_text(asked.answer) or "(none)"))
        if asked.follow_up:
            out.print(Text.assemble(("Follow-up: ", "dim"), asked.follow_up))
            follow_up_answer = clean_text(asked.follow_up_answer) or "(none)"
            out.print(Text.assemble(("Your answer: ", "dim"), follow_up_answer))
        out.print(Text.assemble(("Model answer: ", "bold green"), question.model_answer.strip()))
        right = numeric_right(asked)
        if right is not None:
            out.print(Text("Right." if right else "Not right.", style="green" if right else "red"))
            grades[question.id] = SelfGrade()
            continue
        for index, point in enumerate(question.rubric, 1):
            line = Text(f"  {index}. ")
            if point.must_have:
                line.append("(must) ", style="yellow")
            line.append(point.text)
            out.print(line)
        met: frozenset[int] = frozenset()
        if question.rubric:
            met = ask_choice(reader, out, "Points met: ", len(question.rubric), "point")
        flags: tuple[str, ...] = ()
        if question.red_flags:
            out.print(Text("Red flags: did your answer state any of these?", style="bold"))
            for index, flag in enumerate(question.red_flags, 1):
                out.print(Text(f"  {index}. {flag}"))
            chosen = ask_choice(
                reader, out, "Statements made: ", len(question.red_flags), "statement"
            )
            flags = tuple(flag for i, flag in enumerate(question.red_flags) if i in chosen)
        grades[question.id] = SelfGrade(met=met, red_flags=flags)
    return grades


@contextmanager
def _no_interrupt() -> Iterator[None]:
    """Ignore Ctrl-C while the finished interview is saved: a report half written (some
    answers recorded, the interview not) would be worse than a second's wait."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: no signal reaches this code anyway
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

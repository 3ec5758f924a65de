"""A mock interview's report as Rich renderables: ``quizapp interview`` prints it, the app's
interview screen shows it, so both say the same. Deck text (ids, topics, rubric points, red
flags) is always wrapped in ``Text``, never parsed as markup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from quizapp.domain.grading import GOOD_SHARE
from quizapp.domain.wording import format_duration, plural

if TYPE_CHECKING:
    from collections.abc import Iterable

    from quizapp.domain.mock_interview import InterviewReport

GOOD = float(GOOD_SHARE)


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def clock_line(report: InterviewReport) -> Text:
    """Time used against the interview's clock."""
    budget = report.minutes * 60.0
    spare = budget - report.seconds_used
    line = Text(f"Time: {format_duration(report.seconds_used)} used of {format_duration(budget)}")
    if spare >= 0:
        line.append(f" ({format_duration(spare)} to spare)", style="green")
    else:
        line.append(f" (over by {format_duration(-spare)})", style="bold yellow")
    return line


def _by_question(rows: Iterable[tuple[str, Text]]) -> Padding:
    """Lines about answers, each after its question's id; long lines wrap in their column."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    for question_id, line in rows:
        grid.add_row(Text(question_id), line)
    return Padding(grid, (0, 0, 0, 2))


def render_interview_report(report: InterviewReport) -> RenderableType:
    answers = report.answers
    parts: list[RenderableType] = [
        Text.assemble(
            ("Mock interview report", "bold"),
            f"  score {percent(report.score)} over {plural(len(answers), 'question')}",
        ),
        clock_line(report),
        Text(""),
    ]

    questions = Table(box=box.SIMPLE_HEAD, padding=(0, 1), title_justify="left")
    questions.title = "Per question"
    questions.add_column("#", justify="right")
    questions.add_column("question", overflow="fold")
    questions.add_column("topic", overflow="fold")
    questions.add_column("score", justify="right")
    questions.add_column("time/clock", justify="right", no_wrap=True)
    questions.add_column("red flags", justify="right")
    for number, answer in enumerate(answers, 1):
        over = answer.seconds > answer.budget_seconds
        questions.add_row(
            str(number),
            Text(answer.question_id),
            Text(answer.topic),
            Text(percent(answer.score), style="green" if answer.score >= GOOD else "yellow"),
            Text(
                f"{format_duration(answer.seconds)}/{format_duration(answer.budget_seconds)}",
                style="yellow" if over else "",
            ),
            Text(str(len(answer.red_flags)) if answer.red_flags else "–"),
        )
    parts.append(questions)

    missed = [(a, point) for a in answers for point in a.missed_points]
    parts.append(Text("Rubric points missed", style="bold"))
    if missed:
        parts.append(_by_question((a.question_id, Text(point)) for a, point in missed))
        must = [a.question_id for a in answers if a.missed_must_have]
        if must:
            parts.append(
                Text(f"  A must-have point was missed in: {', '.join(must)}", style="yellow")
            )
    else:
        parts.append(Text("  None.", style="dim"))
    parts.append(Text(""))

    topics = Table(box=box.SIMPLE_HEAD, padding=(0, 1), title_justify="left")
    topics.title = "Per topic"
    topics.add_column("topic")
    topics.add_column("score", justify="right")
    topics.add_column("questions", justify="right")
    for topic, score in report.by_topic.items():
        count = sum(1 for a in answers if a.topic == topic)
        topics.add_row(Text(topic), percent(score), str(count))
    parts.append(topics)

    flags = [(a, flag) for a in answers for flag in a.red_flags]
    parts.append(Text("Red flags stated", style="bold"))
    if flags:
        parts.append(_by_question((a.question_id, Text(flag, style="red")) for a, flag in flags))
    else:
        parts.append(Text("  None.", style="dim"))
    parts.append(Text(""))

    parts.append(Text("Review next", style="bold"))
    if report.review_next:
        parts.append(
            Text(
                "  These answers were below Good, missed a must-have point or stated a red "
                "flag; they are back in your review queue: " + ", ".join(report.review_next)
            )
        )
    else:
        parts.append(Text("  Nothing: every answer was Good or better.", style="green"))
    return Group(*parts)

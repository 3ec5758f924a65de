"""The first-run welcome: what due and new mean, how FSRS schedules, how ticked rubric points
become a rating, and what mastery measures. Shown once on a fresh data folder; Help (w)
shows it again."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.app import ComposeResult

SECTIONS: tuple[tuple[str, str], ...] = (
    (
        "Due and new",
        "Each question you have answered has its own next review date: on that day it is "
        "due and comes back in a review (r). New questions are ones you have not answered "
        "yet; a few of them join each day (10 by default; the settings command changes it).",
    ),
    (
        "How reviews are scheduled (FSRS)",
        "quizapp uses FSRS, the Free Spaced Repetition Scheduler also used by Anki. For each "
        "question it keeps an estimate of how stable your memory of the answer is and how "
        "hard the question is for you. From these it predicts the chance you still recall "
        "the answer on a given day, and books the next review for when that chance falls to "
        "your desired retention (90% by default). A good answer makes the gap grow; a "
        "forgotten one brings the question back within minutes.",
    ),
    (
        "From rubric to rating",
        "After you answer, reveal the model answer and tick the rubric points your answer "
        "made. All of them suggests Easy; two thirds or more, Good; a third or more, Hard; "
        "less, Again. Missing a must-have point caps the suggestion at Hard, and so does "
        "stating a red flag (a known misconception); two red flags mean Again. The rating "
        "bar shows when each choice brings the question back; you may choose another rating "
        "than the one suggested.",
    ),
    (
        "Mastery",
        "For each topic, mastery is the mean over its questions of the recall FSRS predicts "
        "today times your recent score on the question. A question you have never answered "
        "counts 0, so a topic is mastered only when most of it is both remembered and "
        "answered well.",
    ),
    (
        "Keys",
        "r review · b browse · p progress · s simulation (real training runs) · d drill your "
        "weak points · f1 help · ctrl+p command palette · ctrl+q quit.",
    ),
)


class WelcomeScreen(ModalScreen[None]):
    """A one-page introduction; Esc or Enter closes it."""

    CSS_PATH = "../styles/welcome.tcss"
    AUTO_FOCUS = "#welcome-body"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "dismiss", "Close", id="welcome.close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome"):
            yield Static(
                Content.from_markup("[b]Welcome to quizapp[/b]  [$text-muted]a minute to read[/]"),
                id="welcome-title",
            )
            with VerticalScroll(id="welcome-body"):
                for title, text in SECTIONS:
                    yield Static(Content.styled(title, "bold $accent"), classes="welcome-head")
                    yield Static(Content(text), classes="welcome-text")
            yield Static(
                Content.from_markup(
                    "[$text-muted]↑↓ scroll · Enter or Esc to start · f1 then w shows this again[/]"
                ),
                id="welcome-footer",
            )

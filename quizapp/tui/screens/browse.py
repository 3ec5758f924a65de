"""Browse: every question, filtered by topic, difficulty, deck and text, with its history;
practise any of them outside the due queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Select, Static

from questions.model import Question, QuestionKind
from quizapp.domain.weak_points import leeches
from quizapp.domain.wording import difficulty_dots, humanize_delta
from quizapp.services.weak_points import LEECH_ADVICE
from quizapp.tui.host import QuizHost, quiz

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from quizapp.store import Attempt, MissedPoint, QuestionStats

HISTORY_SHOWN = 8
KIND_LABELS = {
    QuestionKind.OPEN: "open answer",
    QuestionKind.NUMERIC: "numeric",
    QuestionKind.DIAGNOSE: "diagnose the run",
}


def matches(question: Question, text: str) -> bool:
    """Case-insensitive match on id, prompt, model answer, topic and deck."""
    if not text:
        return True
    haystack = " ".join(
        (question.id, question.prompt, question.model_answer, question.topic, question.deck)
    ).lower()
    return all(word in haystack for word in text.lower().split())


class BrowseScreen(Screen[None]):
    """A filterable table of questions and the history of the highlighted one."""

    CSS_PATH = "../styles/browse.tcss"
    AUTO_FOCUS = "#questions"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search", id="browse.search"),
        Binding("p", "practise", "Practise", id="browse.practise"),
        Binding("a", "practise_all", "All shown", id="browse.practise-all"),
        Binding("s", "simulate", "Demo", id="browse.simulate"),
        Binding("c", "clear_filters", "Clear", id="browse.clear"),
        Binding("escape", "back", "Back", id="browse.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []
        self.stats: dict[str, QuestionStats] = {}
        self.leeches: set[str] = set()

    @property
    def quiz(self) -> QuizHost:
        return quiz(self.app)

    def compose(self) -> ComposeResult:
        library = self.quiz.library
        yield Static(id="title-bar")
        with Horizontal(id="filters"):
            yield Input(placeholder="/ search words", id="search", compact=True)
            yield Select[str](
                [(Text(t), t) for t in library.topics],
                prompt="All topics",
                id="topic",
                compact=True,
            )
            yield Select[int](
                [(Text(f"{difficulty_dots(d)} {d}"), d) for d in (1, 2, 3)],
                prompt="Any level",
                id="difficulty",
                compact=True,
            )
            yield Select[str](
                [(Text(d.name), d.name) for d in library.decks],
                prompt="All decks",
                id="deck",
                compact=True,
            )
        with Container(id="browse-main"):
            yield DataTable(id="questions", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="detail", classes="panel"):
                yield Static(id="detail-body")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#questions", DataTable)
        # Most telling columns first: on a narrow terminal the last ones scroll out of view.
        for label in ("id", "diff", "due", "last", "tries", "topic"):
            table.add_column(label, key=label)
        self.query_one("#detail").border_title = "Question"
        self._load_stats()
        self._apply_filters()

    def on_screen_resume(self) -> None:
        # Back from practising: attempts and due dates have changed.
        if self.is_mounted:
            self._load_stats()
            self._apply_filters()

    def _load_stats(self) -> None:
        app = self.quiz

        ids = list(app.library.questions)
        self.stats = app.store_call(
            "read your answers", lambda store: store.question_stats(ids), {}
        )
        failed: dict[str, int] = app.store_call(
            "read your answers", lambda store: store.again_counts(), {}
        )
        self.leeches = set(leeches(failed))

    # --- filtering -------------------------------------------------------------------------

    def _filtered(self) -> list[Question]:
        text = self.query_one("#search", Input).value.strip()
        topic = self.query_one("#topic", Select).value
        difficulty = self.query_one("#difficulty", Select).value
        deck = self.query_one("#deck", Select).value
        out = []
        for question in self.quiz.library.questions.values():
            if topic is not Select.NULL and question.topic != topic:
                continue
            if difficulty is not Select.NULL and question.difficulty != difficulty:
                continue
            if deck is not Select.NULL and question.deck != deck:
                continue
            if matches(question, text):
                out.append(question)
        return out

    @on(Input.Changed, "#search")
    @on(Select.Changed)
    def _apply_filters(self) -> None:
        table = self.query_one("#questions", DataTable)
        highlighted = self.highlighted_id
        questions = self._filtered()
        self.shown = [q.id for q in questions]
        now = self.quiz.now()
        table.clear()
        for question in questions:
            stats = self.stats.get(question.id)
            if stats is None or stats.attempts == 0:
                tries, last, due = "", "", Text("new", style="dim")
            else:
                tries = str(stats.attempts) + (" leech" if question.id in self.leeches else "")
                last = f"{stats.last_score:.0%}" if stats.last_score is not None else ""
                if stats.due is None:
                    due = Text("")
                elif stats.due <= now:
                    due = Text("due", style="bold")
                else:
                    due = Text(
                        humanize_delta((stats.due - now).total_seconds()).removeprefix("in ")
                    )
            table.add_row(
                Text(question.id),
                difficulty_dots(question.difficulty),
                due,
                last,
                tries,
                Text(question.topic),
                key=question.id,
            )
        if highlighted in self.shown:
            table.move_cursor(row=self.shown.index(highlighted), animate=False)
        total = len(self.quiz.library.questions)
        self.query_one("#title-bar", Static).update(
            Content.from_markup(
                "[b]Browse[/b]  $shown of $total questions  [$text-muted]"
                "p practise · a practise all shown · / search[/]",
                shown=str(len(questions)),
                total=str(total),
            )
        )
        self._show_detail()

    @property
    def highlighted_id(self) -> str | None:
        table = self.query_one("#questions", DataTable)
        if not self.shown or table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), len(self.shown) - 1)
        return self.shown[row]

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_practise()

    # --- detail -----------------------------------------------------------------------------

    def _show_detail(self) -> None:
        body = self.query_one("#detail-body", Static)
        qid = self.highlighted_id
        panel = self.query_one("#detail")
        if qid is None:
            panel.border_title = "Question"
            panel.border_subtitle = ""
            body.update(Content.from_markup("[$text-muted]No question matches the filters.[/]"))
            return
        question = self.quiz.library.questions[qid]
        # Deck text: Content, so that brackets in it are shown, not parsed as markup.
        panel.border_title = Content(question.id)
        panel.border_subtitle = Content(f"{question.deck} · {question.source.rsplit('/', 1)[-1]}")
        parts = [
            Content(question.prompt),
            Content(""),
            Content.from_markup(
                "[$text-muted]$topic · difficulty $d · $kind$demo[/]",
                topic=question.topic,
                d=str(question.difficulty),
                kind=KIND_LABELS[question.kind],
                demo=_demo_label(question),
            ),
            Content(""),
        ]
        if qid in self.leeches:
            parts += [
                Content.styled("Leech: ", "bold $warning")
                + Content(
                    f"{LEECH_ADVICE}. p practises it; s runs its simulation."
                    if question.simulation is not None
                    else f"{LEECH_ADVICE}. p practises it."
                ),
                Content(""),
            ]
        history: list[Attempt] = self.quiz.store_call(
            "read the question's history", lambda s: s.question_history(qid), []
        )
        tz = self.quiz.tz
        if history:
            parts.append(Content.from_markup("[b]History[/b] ($n)", n=str(len(history))))
            for attempt in history[:HISTORY_SHOWN]:
                when = attempt.submitted.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                parts.append(
                    Content.from_markup(
                        "$when  $score  [b]$rating[/b]  [$text-muted]$mode · $secs s[/]",
                        when=when,
                        score=f"{attempt.score:>4.0%}",
                        rating=attempt.rating.label.ljust(5),
                        mode=attempt.mode,
                        secs=str(round(attempt.seconds)),
                    )
                )
            if len(history) > HISTORY_SHOWN:
                parts.append(
                    Content.from_markup(
                        "[$text-muted]… and $n earlier[/]", n=str(len(history) - HISTORY_SHOWN)
                    )
                )
            missed: list[MissedPoint] = self.quiz.store_call(
                "read missed points", lambda s: s.missed_points(question_id=qid, limit=3), []
            )
            if missed:
                parts.append(Content(""))
                parts.append(Content.from_markup("[b]Missed most often[/b]"))
                for point in missed:
                    parts.append(
                        Content.from_markup(
                            "$rate  $text",
                            rate=f"{point.missed}/{point.shown}",
                            text=point.text,
                        )
                    )
        else:
            parts.append(
                Content.from_markup("[$text-muted]Not answered yet. Press [b]p[/b] to practise.[/]")
            )
        body.update(Content("\n").join(parts))

    # --- actions ----------------------------------------------------------------------------

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_filters(self) -> None:
        self.query_one("#search", Input).value = ""
        for select in self.query(Select):
            select.clear()
        self.query_one("#questions", DataTable).focus()

    def action_practise(self) -> None:
        qid = self.highlighted_id
        if qid is not None:
            self.quiz.practise([qid])

    def action_practise_all(self) -> None:
        if self.shown:
            self.quiz.practise(self.shown, title=f"Practice · {len(self.shown)} questions")

    def action_simulate(self) -> None:
        qid = self.highlighted_id
        if qid is None:
            return
        question = self.quiz.library.questions[qid]
        if question.simulation is None:
            self.notify("This question has no demo.", timeout=3)
            return
        self.quiz.open_simulation(question=question)

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus:
            self.query_one("#questions", DataTable).focus()
            return
        self.dismiss()

    def check_action(self, action: str, parameters: tuple[Any, ...]) -> bool | None:
        # Letters typed into the search box are text, not commands.
        if action in ("practise", "practise_all", "simulate", "clear_filters", "focus_search"):
            return not isinstance(self.focused, Input)
        return True


def _demo_label(question: Question) -> str:
    if question.simulation is None:
        return ""
    word = "fix" if question.diagnosis is not None else "demo"  # a diagnose question's demo
    return f" · {word}: {question.simulation.experiment}"

"""Home: what is due, the streak, mastery per topic, recent activity, and where to go next."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

from quizapp.domain.wording import plural
from quizapp.tui.host import DataReady, QuizHost, quiz
from quizapp.tui.widgets.deck_problems import DeckProblems
from quizapp.tui.widgets.mastery_bars import MasteryBars, TopicBar

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from quizapp.services.review import InterviewReadiness
    from quizapp.store import DayCount, SimRun, Summary


class HomeScreen(Screen[None]):
    """The first screen: today's numbers and the ways into the app."""

    CSS_PATH = "../styles/home.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "app.review", "Review", id="home.review"),
        Binding("b", "app.browse", "Browse", id="home.browse"),
        Binding("p", "app.progress", "Progress", id="home.progress"),
        Binding("s", "app.simulation", "Simulation", id="home.simulation"),
        Binding("d", "app.drill", "Drill", id="home.drill"),
        Binding("i", "app.interview", "Interview", id="home.interview"),
        Binding("q", "app.quit", "Quit", id="home.quit"),
    ]

    @property
    def quiz(self) -> QuizHost:
        return quiz(self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="title-bar")
        with VerticalScroll(id="home-body"):
            with Horizontal(id="home-top"):
                yield Static(id="today", classes="panel")
                yield MasteryBars(id="mastery", classes="panel")
            with Vertical(id="interview", classes="panel"):
                yield Static(id="interview-text")
                yield MasteryBars(id="interview-bars")
            yield Static(id="recent", classes="panel")
            with Horizontal(id="actions"):
                yield Button(
                    Content.from_markup("[b]r[/b] Review"), id="go-review", variant="primary"
                )
                yield Button(Content.from_markup("[b]b[/b] Browse"), id="go-browse")
                yield Button(Content.from_markup("[b]p[/b] Progress"), id="go-progress")
                yield Button(Content.from_markup("[b]s[/b] Simulation"), id="go-simulation")
                yield Button(Content.from_markup("[b]d[/b] Drill"), id="go-drill")
                yield Button(Content.from_markup("[b]i[/b] Interview"), id="go-interview")
            yield DeckProblems(id="deck-problems", classes="panel")
            with Vertical(id="store-problem", classes="panel"):
                yield Static(id="store-problem-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#today").border_title = "Today"
        self.query_one("#mastery").border_title = "Mastery by topic"
        self.query_one("#recent").border_title = "Recent activity"
        self.query_one("#interview").display = False
        self.query_one("#store-problem").border_title = "Progress is not being saved"
        self.query_one("#store-problem").display = False
        self.query_one(DeckProblems).display = False
        if self.quiz.data_ready.is_set():
            self.refresh_data()
        else:
            self.quiz.start_loading()
            self.query_one("#title-bar", Static).update(
                Content.from_markup("[b]quizapp[/b]  [$text-muted]loading decks and progress…[/]")
            )
            self.query_one("#today", Static).update(Content.from_markup("[$text-muted]Loading…[/]"))

    def on_screen_resume(self) -> None:
        if self.quiz.data_ready.is_set():
            self.refresh_data()

    def on_data_ready(self, message: DataReady) -> None:
        self.refresh_data()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        action = (event.button.id or "").removeprefix("go-")
        self.app.call_later(self.run_action, f"app.{action}")

    def refresh_data(self) -> None:
        """Re-read the store: called on mount and whenever Home comes back into view."""
        app = self.quiz
        library = app.library
        questions = library.questions
        topics = {qid: q.topic for qid, q in questions.items()}
        now = app.now()
        from quizapp.services.review import daily_new_limit

        summary: Summary | None = app.store_call(
            "read your progress",
            lambda s: s.summary(
                topics, now, app.tz, new_limit=daily_new_limit(s, topics, now, app.tz)
            ),
            None,
        )
        decks = len(library.decks)
        self.query_one("#title-bar", Static).update(
            Content.from_markup(
                "[b]quizapp[/b]  [$text-muted]$n · $d · f1 help · ctrl+p commands[/]",
                n=plural(len(questions), "question"),
                d=plural(decks, "deck"),
            )
        )
        self._show_today(summary)
        self._show_mastery(summary, topics)
        self._show_interview(topics)
        self._show_recent()
        self.query_one(DeckProblems).show([str(e) for e in library.errors])
        problem = self.query_one("#store-problem")
        problem.display = app.store_error is not None
        if app.store_error:
            self.query_one("#store-problem-text", Static).update(Content(app.store_error))
        review = self.query_one("#go-review", Button)
        due = (summary.due.now + summary.new_remaining_today) if summary else len(questions)
        review.label = Content.from_markup("[b]r[/b] Review ($n)", n=str(due))

    def _show_today(self, summary: Summary | None) -> None:
        today = self.query_one("#today", Static)
        if summary is None:
            today.update(Content.from_markup("[$text-muted]No progress data.[/]"))
            return
        streak = summary.streak
        rows = [
            (str(summary.due.now), "due now"),
            (str(summary.new_remaining_today), f"new today ({summary.new_available} unseen)"),
            (str(summary.reviews_today), "reviewed today"),
            (str(streak.current), f"day streak (best {streak.longest})"),
            (str(summary.due.week), "due this week"),
        ]
        lines = [
            Content.from_markup("[b $accent]$n[/] $what", n=n.rjust(4), what=what)
            for n, what in rows
        ]
        today.update(Content("\n").join(lines))

    def _show_mastery(self, summary: Summary | None, topics: dict[str, str]) -> None:
        bars: list[TopicBar]
        if summary is not None:
            bars = [TopicBar(m.topic, m.mastery, m.seen, m.questions) for m in summary.mastery]
        else:
            counts: dict[str, int] = {}
            for topic in topics.values():
                counts[topic] = counts.get(topic, 0) + 1
            bars = [TopicBar(t, 0.0, 0, n) for t, n in counts.items()]
        self.query_one(MasteryBars).show(bars)

    def _show_interview(self, topics: dict[str, str]) -> None:
        from quizapp.services.review import interview_readiness  # brings in fsrs: not at start

        app = self.quiz
        now = app.now()
        ready: InterviewReadiness | None = app.store_call(
            "read your interview readiness",
            lambda s: interview_readiness(s, topics, now, app.tz),
            None,
        )
        panel = self.query_one("#interview")
        panel.display = ready is not None
        if ready is None:
            return
        left = "today" if ready.days_left == 0 else f"in {plural(ready.days_left, 'day')}"
        panel.border_title = f"Interview {left} ({ready.plan.day.strftime('%a %d %b')})"
        self.query_one("#interview-text", Static).update(
            Content.from_markup(
                "[$text-muted]Readiness: the recall FSRS predicts for the day, averaged over "
                "each topic's questions (unseen ones count 0). Reviews until then cover "
                "them all.[/]"
            )
        )
        self.query_one("#interview-bars", MasteryBars).show(
            [TopicBar(r.topic, r.recall, r.seen, r.questions) for r in ready.topics]
        )

    def _show_recent(self) -> None:
        app = self.quiz
        now = app.now()
        today = now.astimezone(app.tz).date()
        days: list[DayCount] = app.store_call(
            "read recent reviews",
            lambda s: s.reviews_per_day(today - timedelta(days=13), today, app.tz),
            [],
        )
        runs: list[SimRun] = app.store_call(
            "read simulation runs", lambda s: s.sim_runs(limit=2), []
        )
        lines: list[Content] = []
        active = [d for d in reversed(days) if d.reviews]
        if active:
            parts = []
            for d in active[:6]:
                if d.day == today:
                    name = "today"
                elif d.day == today - timedelta(days=1):
                    name = "yesterday"
                else:
                    name = d.day.strftime("%a %d %b")
                parts.append(f"{name} {d.reviews}")
            lines.append(Content.from_markup("[b]Reviews[/b]  $parts", parts=" · ".join(parts)))
        else:
            lines.append(
                Content.from_markup(
                    "[$text-muted]No reviews in the last two weeks. Press [b]r[/b] to start.[/]"
                )
            )
        for run in runs:
            when = run.started.astimezone(app.tz).strftime("%d %b %H:%M")
            lines.append(
                Content.from_markup(
                    "[b]Demo[/b]     $when  $experiment  [$text-muted]$status[/]",
                    when=when,
                    experiment=run.experiment,
                    status=run.status,
                )
            )
        self.query_one("#recent", Static).update(Content("\n").join(lines))

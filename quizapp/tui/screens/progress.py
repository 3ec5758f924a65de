"""Progress: review heatmap, weekly score trend, mastery per topic, the rubric points missed
most often, mock interviews (newest first) and the history of simulation runs (which can be
reopened)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Container, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from quizapp.domain.wording import plural
from quizapp.services.progress import ProgressReport, interview_json, progress_report
from quizapp.services.weak_points import LEECH_ADVICE
from quizapp.tui.host import QuizHost, quiz
from quizapp.tui.widgets.mastery_bars import MasteryBars, TopicBar
from quizapp.tui.widgets.review_heatmap import ReviewHeatmap, weeks_that_fit
from quizapp.tui.widgets.score_trend import ScoreTrend

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.app import ComposeResult

    from quizapp.store import MissedPoint, MockInterviewRecord, SimRun

TREND_WEEKS = 12
MISSED_SHOWN = 8
RUNS_SHOWN = 50


class ProgressScreen(Screen[None]):
    """How practice is going, from the store; Enter on a simulation run reopens it."""

    CSS_PATH = "../styles/progress.tcss"
    AUTO_FOCUS = None  # on_mount focuses the run table (with its cursor) when there are runs
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="progress.back"),
        Binding("o", "open_run", "Open run", id="progress.open-run"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.run_ids: list[int] = []
        self.cursor_row = 0

    @property
    def quiz(self) -> QuizHost:
        return quiz(self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="title-bar")
        with VerticalScroll(id="progress-body"):
            yield ReviewHeatmap(id="heatmap", classes="panel")
            with Container(id="progress-mid"):
                yield ScoreTrend(id="trend", classes="panel")
                yield MasteryBars(id="progress-mastery", classes="panel")
            yield Static(id="missed", classes="panel")
            yield Static(id="interviews", classes="panel")
            yield DataTable(id="sim-history", classes="panel", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#heatmap").border_title = "Reviews per day"
        self.query_one("#trend").border_title = "Score trend"
        self.query_one("#progress-mastery").border_title = "Mastery by topic"
        self.query_one("#missed").border_title = "Rubric points you miss most"
        self.query_one("#interviews").border_title = "Mock interviews"
        history = self.query_one("#sim-history", DataTable)
        history.border_title = "Simulation runs"
        history.border_subtitle = "enter: reopen"
        for label in ("when", "experiment", "status", "device", "question"):
            history.add_column(label, key=label)
        self.refresh_data()
        # Arrows move the run cursor and o/enter open the run under it; the page stays at
        # its top (the heatmap) until the cursor moves.
        target = history if self.run_ids else self.query_one("#progress-body")
        self.set_focus(target, scroll_visible=False)

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.refresh_data()

    def refresh_data(self) -> None:
        app = self.quiz
        now, tz = app.now(), app.tz
        topics = {qid: q.topic for qid, q in app.library.questions.items()}
        heatmap = self.query_one(ReviewHeatmap)
        weeks = max(TREND_WEEKS, weeks_that_fit(self.app.size.width - 4))
        report: ProgressReport | None = app.store_call(
            "read your progress",
            lambda s: progress_report(
                s, topics, now, tz, weeks=weeks, missed=MISSED_SHOWN, runs=RUNS_SHOWN
            ),
            None,
        )
        if report is None:
            return
        heatmap.show({d.day: d.reviews for d in report.reviews_per_day}, report.today)
        self.query_one(ScoreTrend).show(
            [(w.week, w.attempts, w.mean_score or 0.0) for w in report.score_trend[-TREND_WEEKS:]]
        )
        self.query_one(MasteryBars).show(
            [TopicBar(m.topic, m.mastery, m.seen, m.questions) for m in report.summary.mastery]
        )
        self._show_missed(list(report.most_missed), report.leeches)
        self._show_runs(list(report.sim_runs))
        self._show_interviews(list(report.mock_interviews))

        totals = report.totals
        if totals.first is not None:
            since = totals.first.astimezone(tz).strftime("%d %b %Y")
            line = Content.from_markup(
                "[b]Progress[/b]  $a to $q since $since · $r",
                a=plural(totals.attempts, "answer"),
                q=plural(totals.questions_seen, "question"),
                since=since,
                r=plural(totals.sim_runs, "simulation run"),
            )
        else:
            line = Content.from_markup(
                "[b]Progress[/b]  [$text-muted]nothing answered yet: "
                "review a few questions and come back[/]"
            )
        self.query_one("#title-bar", Static).update(line)

    def _show_missed(self, missed: list[MissedPoint], leeches: Sequence[str] = ()) -> None:
        panel = self.query_one("#missed", Static)
        head = (
            [
                Content.styled("Leeches: ", "bold $warning")
                + Content(", ".join(leeches))
                + Content(f" ({LEECH_ADVICE})"),
                Content(""),
            ]
            if leeches
            else []
        )
        if not missed:
            empty = Content.from_markup("[$text-muted]No missed points yet (or no answers).[/]")
            panel.update(Content("\n").join([*head, empty]))
            return
        lines = list(head)
        for point in missed:
            lines.append(
                Content.from_markup(
                    "[b]$rate[/b] $must$text [$text-muted]· $qid[/]",
                    rate=f"{point.missed}/{point.shown}".rjust(5),
                    must="must · " if point.must_have else "",
                    text=point.text,
                    qid=point.question_id,
                )
            )
        panel.update(Content("\n").join(lines))

    def _show_interviews(self, interviews: list[MockInterviewRecord]) -> None:
        panel = self.query_one("#interviews", Static)
        if not interviews:
            panel.update(
                Content.from_markup(
                    "[$text-muted]No mock interviews yet: press [b]i[/b] on Home to take one.[/]"
                )
            )
            return
        tz = self.quiz.tz
        lines = []
        for record in interviews:
            row = interview_json(record)  # the figures `quizapp stats` shows
            lines.append(
                Content.from_markup(
                    "$when  $minutes min  [b]$score[/b]  $count  [$text-muted]· $topics[/]",
                    when=record.started.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    minutes=str(row["minutes"]).rjust(3),
                    score=f"{row['score'] * 100:.0f}%".rjust(4),
                    count=plural(row["questions"], "question"),
                    topics=", ".join(row["topics"]) or "all topics",
                )
            )
        panel.update(Content("\n").join(lines))

    def _show_runs(self, runs: list[SimRun]) -> None:
        app = self.quiz
        table = self.query_one("#sim-history", DataTable)
        table.clear()
        self.run_ids = []
        for run in runs:
            table.add_row(
                run.started.astimezone(app.tz).strftime("%Y-%m-%d %H:%M"),
                Text(run.experiment),
                Text(run.status, style="bold" if run.status == "ok" else "yellow"),
                Text(run.device),
                Text(run.question_id or ""),
                key=str(run.id),
            )
            self.run_ids.append(run.id)
        table.display = True
        if not runs:
            table.add_row(Text("no runs yet", style="dim"), "", "", "", "")

    @on(DataTable.RowHighlighted, "#sim-history")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row != self.cursor_row:
            self.cursor_row = event.cursor_row
            self.query_one("#progress-body", VerticalScroll).scroll_to_widget(
                event.data_table, animate=False
            )

    @on(DataTable.RowSelected, "#sim-history")
    def _run_selected(self) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        table = self.query_one("#sim-history", DataTable)
        if not self.run_ids or not 0 <= table.cursor_row < len(self.run_ids):
            return
        self.quiz.open_saved_run(self.run_ids[table.cursor_row])

"""Simulation: pick an experiment (or arrive with a question's preset), set its parameters,
and watch it train live in a separate process; past runs can be reopened and compared.

The training runs in the background runner's child process (``sims.runner``); a thread
worker reads its events and hands them to the screen in batches of ~0.1 s, so the charts
redraw at most ~10 times a second however fast the training loop reports.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Label,
    OptionList,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from quizapp.domain.wording import expected_duration
from quizapp.services.runs import reproduce_command, run_outcome
from quizapp.tui.host import QuizHost, quiz
from quizapp.tui.widgets.metric_chart import X_AXES, MetricChart
from quizapp.tui.widgets.param_form import ParamForm
from quizapp.tui.widgets.runs_table import RunsTable

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from textual.app import ComposeResult

    from questions.model import Question
    from quizapp.store import SimRun
    from sims.registry import Experiment

BATCH_SECONDS = 0.1  # gather runner events this long before handing them to the UI
DISPLAY_SECONDS = 0.25  # show progress (table, bar) at most this often
CHART_SECONDS = 0.5  # and redraw the charts at most this often (a redraw costs ~15 ms)
POLL_SECONDS = 0.05
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
HISTORY_LIMIT = 100


class SimulationScreen(Screen[None]):
    """Set up, run, watch, and revisit simulations."""

    class EventsArrived(Message):
        """A batch of runner events gathered over ~0.1 s by the worker that reads the runner.

        Batching is what keeps a fast training loop from flooding the UI: the screen applies
        the whole batch and redraws its charts once."""

        def __init__(self, events: Sequence[Any]) -> None:
            super().__init__()
            self.events = list(events)

    CSS_PATH = "../styles/simulation.tcss"
    AUTO_FOCUS = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", "Run", id="simulation.run", priority=True),
        Binding("escape", "cancel", "Cancel run", id="simulation.cancel"),
        Binding("escape", "back", "Back", id="simulation.back"),
        Binding("x", "next_x_axis", "X-axis", id="simulation.x-axis"),
        Binding("t", "toggle_loss", "Train/val loss", id="simulation.loss"),
        Binding("f2", "show_tab('setup')", "Setup", show=False, id="simulation.setup"),
        Binding("f3", "show_tab('live')", "Charts", show=False, id="simulation.charts"),
        Binding("f4", "show_tab('history')", "Past runs", show=False, id="simulation.history"),
        Binding("space", "mark_run", "Mark", id="simulation.mark"),
        Binding("c", "compare", "Compare marked", id="simulation.compare"),
    ]

    def __init__(
        self,
        question: Question | None = None,
        experiment: str | None = None,
        saved_run: int | None = None,
    ) -> None:
        super().__init__()
        self.question = question
        self.preset: dict[str, Any] = {}
        if question is not None and question.simulation is not None:
            experiment = question.simulation.experiment
            self.preset = question.simulation.params_dict
        self.experiment_name = experiment
        self.saved_run = saved_run
        self.experiments: list[Experiment] = []
        self.worker: Worker[None] | None = None
        self.run_id: int | None = None
        self.started_at: float = 0.0
        self.total_updates = 0
        self.done_updates: dict[str, int] = {}
        self.warned_unstable = False  # one divergence/OOM toast per experiment
        self.marked: set[int] = set()
        self.history_ids: list[int] = []
        self.failed: str | None = None
        self.ended = True  # no simulation under way
        self.charts_dirty = False
        self.display_drawn = 0.0
        self.charts_drawn = 0.0
        self.rows_to_show: set[str] = set()
        self.child_pid: int | None = None
        self.requested: tuple[str, dict[str, Any], int, str] | None = None

    @property
    def quiz(self) -> QuizHost:
        return quiz(self.app)

    @property
    def is_training(self) -> bool:
        """A simulation is under way: once its result (or failure) has arrived there is
        nothing left to cancel, even while the worker is still closing the runner, so
        that Esc then goes back instead of being spent on a cancel that does nothing."""
        return (
            not self.ended
            and self.worker is not None
            and self.worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
        )

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="title-bar")
        with TabbedContent(id="tabs", initial="setup"):
            with TabPane("Setup", id="setup"), Horizontal(id="setup-main"):
                yield OptionList(id="experiments")
                with VerticalScroll(id="setup-right"):
                    yield Static(id="explanation", classes="panel")
                    yield Static(id="look-for")
                    yield Input(
                        placeholder="Before you run: what do you expect to see? (optional)",
                        id="prediction",
                        compact=True,
                    )
                    yield Vertical(id="form-holder", classes="panel")
                    with Horizontal(id="run-row"):
                        yield Label("device", classes="param-name")
                        yield Select(
                            [(Text(d), d) for d in DEVICE_CHOICES],
                            value="auto",
                            allow_blank=False,
                            compact=True,
                            id="device",
                        )
                        yield Label("seed", classes="param-name short")
                        yield Input("0", compact=True, id="seed", type="integer")
                    yield Button(
                        Content.from_markup("Run [b]ctrl+r[/b]"), id="run", variant="success"
                    )
            with TabPane("Charts", id="live"), VerticalScroll(id="live-body"):
                with Horizontal(id="status-row"):
                    yield Static(id="run-status")
                    yield ProgressBar(id="progress", show_eta=False)
                with Horizontal(id="charts"):
                    yield MetricChart("val_loss", id="loss-chart")
                    yield MetricChart("val_acc", id="acc-chart")
                yield RunsTable(id="runs")
                yield Vertical(id="result-charts")
                yield Static(id="observations", classes="panel")
            with TabPane("Past runs", id="history"):
                yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
                yield Static(
                    Content.from_markup(
                        "[b]enter[/b] reopen · [b]space[/b] mark · [b]c[/b] compare the marked runs"
                    ),
                    classes="hint",
                )
        yield Footer()

    async def on_mount(self) -> None:
        from quizapp.tui.host import freeze_startup_objects
        from sims.registry import list_experiments

        try:
            self.experiments = list_experiments()
        except Exception as err:  # noqa: BLE001 - a broken experiment must not take the app down
            self.notify(f"Could not load the experiments: {err}", severity="error", markup=False)
            self.experiments = []
        options = self.query_one("#experiments", OptionList)
        for experiment in self.experiments:
            options.add_option(Option(Content(experiment.name), id=experiment.name))
        options.border_title = "Experiment"
        # The form's fields are the focus stops; the scroll container around them is not.
        self.query_one("#setup-right").can_focus = False
        self.query_one("#observations").border_title = "What the numbers show"
        self.query_one("#observations").display = False
        table = self.query_one("#history-table", DataTable)
        for label in ("", "when", "experiment", "status", "device", "question", "prediction"):
            table.add_column(label, key=label or "mark")
        names = [e.name for e in self.experiments]
        name = self.experiment_name if self.experiment_name in names else None
        if name is None and self.experiment_name is not None:
            self.notify(
                f"Unknown experiment {self.experiment_name!r}.", severity="warning", markup=False
            )
        if name is None and names:
            name = names[0]
        if name is not None:
            options.highlighted = names.index(name)
            await self._select_experiment(name, self.preset)
        self._load_history()
        self._update_title()
        freeze_startup_objects()  # the plotting and experiment modules just loaded
        if self.saved_run is not None:
            self.open_saved_run(self.saved_run)
        elif self.question is not None:
            self.query_one("#prediction").focus()  # predict first, then run (ctrl+r)
        else:
            options.focus()

    def _update_title(self) -> None:
        experiment = self._experiment()
        parts = ["[b]Simulation[/b]"]
        values: dict[str, str] = {}
        if experiment is not None:
            parts.append(" $title")
            values["title"] = experiment.title
        if self.question is not None:
            parts.append("  [$text-muted]for $qid[/]")
            values["qid"] = self.question.id
        self.query_one("#title-bar", Static).update(Content.from_markup("".join(parts), **values))

    def _experiment(self) -> Experiment | None:
        for experiment in self.experiments:
            if experiment.name == self.experiment_name:
                return experiment
        return None

    # --- setup ----------------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#experiments")
    async def _experiment_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id
        if name and name != self.experiment_name:
            preset = self.preset if self.question and name == self._preset_experiment() else {}
            await self._select_experiment(name, preset)

    @on(OptionList.OptionSelected, "#experiments")
    def _experiment_selected(self) -> None:
        inputs = self.query(".param-input")
        if inputs:
            inputs.first().focus()

    def _preset_experiment(self) -> str | None:
        if self.question is not None and self.question.simulation is not None:
            return self.question.simulation.experiment
        return None

    async def _select_experiment(self, name: str, values: dict[str, Any]) -> None:
        self.experiment_name = name
        experiment = self._experiment()
        if experiment is None:
            return
        holder = self.query_one("#form-holder", Vertical)
        # Awaited, so that arrowing quickly through the list never leaves two forms behind.
        await holder.remove_children()
        await holder.mount(ParamForm(experiment, values, id="form"))
        holder.border_title = "Parameters"
        holder.border_subtitle = "checked as you type"
        preset = self.question.simulation if self.question is not None else None
        look_for = self.query_one("#look-for", Static)
        look_for.display = bool(preset and name == preset.experiment and preset.look_for)
        if preset is not None:
            look_for.update(
                Content.from_markup("[b $accent]Look for:[/] $look", look=preset.look_for)
            )
        panel = self.query_one("#explanation", Static)
        panel.update(Content(experiment.explanation))
        panel.border_title = experiment.title
        self.query_one("#prediction").display = self.question is not None
        # A new experiment starts at the top of its description, not where the last one was.
        self.query_one("#setup-right", VerticalScroll).scroll_home(animate=False)
        self._update_title()

    @on(ParamForm.Changed)
    def _params_changed(self, event: ParamForm.Changed) -> None:
        self.query_one("#run", Button).disabled = not event.valid

    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.action_run()

    # --- running --------------------------------------------------------------------------

    def action_run(self) -> None:
        if self.is_training:
            self.notify("A simulation is already training; Esc cancels it.", severity="warning")
            return
        forms = self.query(ParamForm)
        experiment = self._experiment()
        if not forms or experiment is None:
            return
        form = forms.first()
        values = form.values()
        if values is None:
            self.notify(
                "Fix the parameters first:\n" + "\n".join(form.problems),
                severity="error",
                markup=False,
            )
            self.action_show_tab("setup")
            return
        seed_text = self.query_one("#seed", Input).value.strip() or "0"
        try:
            seed = int(seed_text)
        except ValueError:
            self.notify("The seed must be a whole number.", severity="error")
            return
        device = str(self.query_one("#device", Select).value)
        self._reset_live()
        self.run_id = None
        self.failed = None
        self.ended = False
        self.child_pid = None
        self.started_at = time.monotonic()
        self._set_status(Content.from_markup("Starting $name…", name=experiment.title))
        self.action_show_tab("live")
        self.requested = (experiment.name, values, seed, device)
        self.worker = self._train(experiment.name, values, seed, device)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="simulation", exit_on_error=False)
    def _train(self, name: str, params: dict[str, Any], seed: int, device: str) -> None:
        """Read the runner's events and post them to the screen in ~0.1 s batches.

        Blocking on the runner's queue (never spinning) keeps this thread off the CPU the
        UI needs; cancelling the worker cancels the child process."""
        from sims.runner import SimRunner

        worker = get_current_worker()
        runner = SimRunner()
        batch: list[Any] = []
        last_post = time.monotonic()
        try:
            runner.start(name, params, seed=seed, device=device)
            self.child_pid = runner.pid
            _lower_priority(runner.pid)
            while not runner.finished:
                if worker.is_cancelled and runner.running:
                    runner.cancel()
                event = runner.poll(timeout=POLL_SECONDS)
                if event is not None:
                    batch.append(event)
                if batch and (runner.finished or time.monotonic() - last_post >= BATCH_SECONDS):
                    self.post_message(self.EventsArrived(batch))
                    batch = []
                    last_post = time.monotonic()
            if batch:
                self.post_message(self.EventsArrived(batch))
        finally:
            runner.close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.worker:
            return
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            reason = str(error) if error else "unknown error"
            self._fail(f"The simulation could not start: {reason}")
        elif event.state in (WorkerState.SUCCESS, WorkerState.CANCELLED) and not self.ended:
            # The child was stopped before it could report: record what happened.
            self.call_after_refresh(self._ended_without_result)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.refresh_bindings()

    def _ended_without_result(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.query_one(ProgressBar).display = False
        for row in self.query_one(RunsTable).rows_by_label.values():
            if row.status in ("running", "waiting"):
                row.status = "cancelled"
                self.query_one(RunsTable).show(row.label)
        self._set_status(Content.from_markup("[b $warning]Cancelled.[/] Nothing more to save."))
        if self.run_id is not None:
            self._finish_run("cancelled", {"reason": "cancelled before any result"})
            self._load_history()

    @on(EventsArrived)
    def _apply_events(self, message: EventsArrived) -> None:
        from sims.events import (
            ExperimentFinished,
            ExperimentStarted,
            RunFailed,
            RunFinished,
            RunProgress,
            RunStarted,
            RunTick,
        )

        charts_changed = False
        status_changed = False
        table = self.query_one(RunsTable)
        touched = self.rows_to_show
        for event in message.events:
            if isinstance(event, ExperimentStarted):
                self._experiment_started(event)
            elif isinstance(event, RunStarted):
                row = table.row(event.label)
                row.status = "running"
                row.device = event.device
                row.total_updates = event.total_updates
                self.total_updates += event.total_updates
                touched.add(event.label)
                status_changed = True
            elif isinstance(event, RunProgress):
                for chart in self.query(MetricChart):
                    chart.add_points(event.label, [event])
                charts_changed = True
                row = table.row(event.label)
                row.epoch, row.update = event.epoch, event.update
                row.examples, row.seconds = event.examples, event.seconds
                row.val_loss, row.val_acc = event.val_loss, event.val_acc
                self.done_updates[event.label] = event.update
                touched.add(event.label)
            elif isinstance(event, RunTick):
                row = table.row(event.label)
                row.epoch, row.update = event.epoch, event.update
                row.examples, row.seconds = event.examples, event.seconds
                self.done_updates[event.label] = event.update
                touched.add(event.label)
            elif isinstance(event, RunFinished):
                row = table.row(event.label)
                row.finish(event.summary)
                touched.add(event.label)
                status_changed = True
                if event.status in ("diverged", "oom") and not self.warned_unstable:
                    # One toast per experiment: a grid search may diverge in many cells, and
                    # the runs table already shows each run's status.
                    self.warned_unstable = True
                    what = "diverged" if event.status == "diverged" else "ran out of memory"
                    reason = f": {event.summary.reason}" if event.summary.reason else ""
                    self.notify(
                        f"Run {event.label} {what}{reason}. The runs table marks any others.",
                        severity="warning",
                        timeout=8,
                        markup=False,
                    )
            elif isinstance(event, RunFailed):
                self._fail(event.reason, event.details)
            elif isinstance(event, ExperimentFinished):
                self._experiment_finished(event.result)
        if charts_changed:
            self.charts_dirty = True
        elapsed = time.monotonic() - self.display_drawn
        if status_changed or self.ended or elapsed >= DISPLAY_SECONDS:
            self._refresh_live()

    def _refresh_live(self) -> None:
        """Show what the events changed: table rows, progress, and the charts if in view."""
        self.display_drawn = time.monotonic()
        table = self.query_one(RunsTable)
        for label in self.rows_to_show:
            table.show(label)
        self.rows_to_show = set()
        self._show_progress()
        if self.charts_dirty and (
            self.ended or self.display_drawn - self.charts_drawn >= CHART_SECONDS
        ):
            self._redraw_charts()

    def _redraw_charts(self) -> None:
        """Redraw the charts if they are in view; otherwise when their tab is shown."""
        if self.query_one(TabbedContent).active != "live" or self.app.screen is not self:
            return
        self.charts_dirty = False
        self.charts_drawn = time.monotonic()
        for chart in self.query(MetricChart):
            chart.redraw()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self) -> None:
        self.refresh_bindings()
        if self.query_one(TabbedContent).active == "history":
            self._load_history()  # runs may have been saved since it was last shown
        if self.charts_dirty:
            self._redraw_charts()

    def on_screen_resume(self) -> None:
        if self.charts_dirty:
            self._redraw_charts()

    def _experiment_started(self, event: Any) -> None:
        if event.expected_seconds is not None:
            self.notify(
                expected_duration(event.expected_seconds, event.expected_at_most)
                + " Esc stops it.",
                title="A long run",
                severity="warning",
                timeout=15,
            )
        prediction = self.query_one("#prediction", Input).value.strip() or None
        self.run_id = self.quiz.store_call(
            "save the simulation run",
            lambda s: s.record_sim_run(
                event.experiment,
                event.params,
                event.device,
                "running",
                question_id=self.question.id if self.question else None,
                seed=event.seed,
                started=self.quiz.now(),
                prediction=prediction,
            ),
            None,
        )
        self._set_status(
            Content.from_markup(
                "[b]$title[/b] training on $device", title=event.title, device=event.device
            )
        )

    def _show_progress(self) -> None:
        bar = self.query_one(ProgressBar)
        if self.total_updates:
            bar.update(total=self.total_updates, progress=sum(self.done_updates.values()))

    def _experiment_finished(self, result: Any) -> None:
        self.ended = True
        self.refresh_bindings()  # Esc now goes back
        status, summary = run_outcome(result)
        self._finish_run(status, summary, result.to_json())
        self._show_result_charts([result])
        self._show_observations(result.observations)
        self.query_one(ProgressBar).display = False
        seconds = time.monotonic() - self.started_at
        word = {"ok": "finished", "cancelled": "cancelled"}.get(status, status)
        self._set_status(
            Content.from_markup(
                "[b]$title[/b] $word in $secs s on $device$saved",
                title=result.title,
                word=word,
                secs=f"{seconds:.1f}",
                device=result.device,
                saved=" · saved" if self.run_id is not None else "",
            )
        )
        self._load_history()

    def _fail(self, reason: str, details: str = "") -> None:
        self.query_one(ProgressBar).display = False
        self.ended = True
        self.refresh_bindings()
        self.failed = reason
        self.notify(reason, title="Simulation failed", severity="error", timeout=15, markup=False)
        self._set_status(Content.from_markup("[b $error]Failed:[/] $reason", reason=reason))
        summary = {"reason": reason, "details": details}
        if self.run_id is not None:
            self._finish_run("failed", summary)
        elif self.requested is not None:
            # It failed before it started (e.g. the device is not available): keep a record.
            name, params, seed, device = self.requested
            self.quiz.store_call(
                "save the simulation result",
                lambda s: s.record_sim_run(
                    name,
                    params,
                    device,
                    "failed",
                    summary=summary,
                    question_id=self.question.id if self.question else None,
                    seed=seed,
                    started=self.quiz.now(),
                    finished=self.quiz.now(),
                ),
                None,
            )
        self.run_id = None
        self._load_history()

    def _finish_run(
        self, status: str, summary: dict[str, Any], result: dict[str, Any] | None = None
    ) -> None:
        """Record how the stored run ended; a database problem becomes a message."""
        run_id = self.run_id
        if run_id is None:
            return
        self.quiz.store_call(
            "save the simulation result",
            lambda s: s.finish_sim_run(
                run_id, status, summary=summary, result=result, finished=self.quiz.now()
            ),
            None,
        )

    def _set_status(self, content: Content) -> None:
        self.query_one("#run-status", Static).update(content)

    def _show_result_charts(self, results: Iterable[Any]) -> None:
        """Draw the charts each experiment describes (heat map, ladder, bars) under the runs."""
        from quizapp.tui.widgets.experiment_chart import ExperimentChart, chart_widget

        holder = self.query_one("#result-charts", Vertical)
        holder.remove_children()
        widgets = [
            chart_widget(chart)
            for result in results
            for chart in result.extras.get("charts", [])
            if isinstance(chart, dict)
        ]
        for widget in widgets:
            if isinstance(widget, ExperimentChart):
                widget.add_class("plot")
        holder.mount_all(widgets)
        holder.display = bool(widgets)

    def _show_observations(self, observations: Iterable[str]) -> None:
        panel = self.query_one("#observations", Static)
        items = list(observations)
        panel.display = bool(items)
        panel.update(Content("\n").join(Content.from_markup("• $o", o=o) for o in items))

    def _reset_live(self) -> None:
        for chart in self.query(MetricChart):
            chart.clear_series()
            chart.redraw()
        self.query_one(RunsTable).reset()
        bar = self.query_one(ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.total_updates = 0
        self.done_updates = {}
        self.warned_unstable = False
        self._show_result_charts([])
        self._show_observations([])

    def action_cancel(self) -> None:
        if self.is_training and self.worker is not None:
            self._set_status(Content.from_markup("Cancelling…"))
            self.worker.cancel()

    def action_back(self) -> None:
        self.dismiss()

    def on_unmount(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
        if not self.ended and self.run_id is not None:
            # The app is closing mid-run: the worker stops the child, the record says so.
            self._finish_run(
                "interrupted", {"reason": "quizapp was closed while the simulation trained"}
            )

    # --- charts -----------------------------------------------------------------------------

    def action_next_x_axis(self) -> None:
        charts = list(self.query(MetricChart))
        if not charts:
            return
        axis = X_AXES[(X_AXES.index(charts[0].x_axis) + 1) % len(X_AXES)]
        for chart in charts:
            chart.x_axis = axis
            chart.redraw(at_once=True)

    def action_toggle_loss(self) -> None:
        chart = self.query_one("#loss-chart", MetricChart)
        chart.metric = "train_loss" if chart.metric == "val_loss" else "val_loss"
        chart.redraw(at_once=True)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        # Focus must move into the pane too: a focused widget left in the old pane would
        # switch the tabs straight back.
        target = {"setup": "#experiments", "live": "#live-body", "history": "#history-table"}
        self.query_one(target[tab]).focus()

    # --- past runs --------------------------------------------------------------------------

    def _load_history(self) -> None:
        app = self.quiz
        runs: list[SimRun] = app.store_call(
            "read past simulation runs", lambda s: s.sim_runs(limit=HISTORY_LIMIT), []
        )
        table = self.query_one("#history-table", DataTable)
        table.clear()
        self.history_ids = []
        for run in runs:
            table.add_row(
                "✓" if run.id in self.marked else "",
                run.started.astimezone(app.tz).strftime("%Y-%m-%d %H:%M"),
                Text(run.experiment),
                Text(run.status),
                Text(run.device),
                Text(run.question_id or ""),
                Text(str(run.prediction or "")),
                key=str(run.id),
            )
            self.history_ids.append(run.id)

    def _history_cursor(self) -> int | None:
        table = self.query_one("#history-table", DataTable)
        if 0 <= table.cursor_row < len(self.history_ids):
            return self.history_ids[table.cursor_row]
        return None

    @on(DataTable.RowSelected, "#history-table")
    def _history_selected(self) -> None:
        run_id = self._history_cursor()
        if run_id is not None:
            self.open_saved_run(run_id)

    def action_mark_run(self) -> None:
        run_id = self._history_cursor()
        if run_id is None:
            return
        self.marked ^= {run_id}
        table = self.query_one("#history-table", DataTable)
        table.update_cell(str(run_id), "mark", "✓" if run_id in self.marked else "")

    def action_compare(self) -> None:
        if len(self.marked) < 2:
            self.notify("Mark two or more runs with space, then press c.", timeout=4)
            return
        self._show_saved(sorted(self.marked))

    def open_saved_run(self, run_id: int) -> None:
        """Show a stored run's charts, runs and observations in the Charts tab."""
        if self.is_training:
            self.notify("Wait for the simulation to finish, or cancel it with Esc.")
            return
        self._show_saved([run_id])

    def _show_saved(self, run_ids: list[int]) -> None:
        from sims.results import ExperimentResult

        self._reset_live()
        table = self.query_one(RunsTable)
        observations: list[str] = []
        results: list[ExperimentResult] = []
        titles = []
        for run_id in run_ids:
            run = self._saved_run(run_id)
            if run is None:
                self.notify(f"Run #{run_id} is not in the store.", severity="warning", markup=False)
                continue
            if not isinstance(run.result, dict):
                self.notify(
                    f"Run #{run_id} ({run.status}) has no saved results to show.",
                    severity="warning",
                    markup=False,
                )
                continue
            try:
                result = ExperimentResult.from_json(run.result)
            except (KeyError, TypeError, ValueError) as err:
                self.notify(
                    f"Run #{run_id} has unreadable results: {err}", severity="error", markup=False
                )
                continue
            prefix = f"#{run_id} " if len(run_ids) > 1 else ""
            for record in result.runs:
                label = prefix + record.label
                for chart in self.query(MetricChart):
                    chart.add_points(label, record.history)
                row = table.row(label)
                row.device = result.device
                last = record.history[-1] if record.history else None
                if last is not None:
                    row.epoch, row.update = last.epoch, last.update
                    row.examples, row.seconds = last.examples, last.seconds
                    row.val_loss, row.val_acc = last.val_loss, last.val_acc
                row.finish(record.summary)
                row.total_updates = record.updates_per_epoch * record.epochs
                table.show(label)
            observations += [prefix + o for o in result.observations]
            command = reproduce_command(run.experiment, run.params, run.seed, run.device)
            observations.append(f"{prefix}Reproduce it: {command}")
            results.append(result)
            titles.append(f"#{run_id} {result.title}")
        for chart in self.query(MetricChart):
            chart.redraw()
        self.query_one(ProgressBar).display = False
        self._show_result_charts(results)
        self._show_observations(observations)
        if titles:
            self._set_status(
                Content.from_markup("[b]Saved:[/b] $titles", titles=" vs ".join(titles))
            )
        self.action_show_tab("live")

    def _saved_run(self, run_id: int) -> SimRun | None:
        return self.quiz.store_call(
            "read the simulation run", lambda s: s.get_sim_run(run_id), None
        )

    def check_action(self, action: str, parameters: tuple[Any, ...]) -> bool | None:
        typing = isinstance(self.focused, Input)
        if action in ("next_x_axis", "toggle_loss", "compare", "mark_run") and typing:
            return False
        tab = self.query_one(TabbedContent).active
        if action in ("mark_run", "compare"):
            return tab == "history"
        if action in ("next_x_axis", "toggle_loss"):
            return tab == "live"
        if action in ("run", "back"):
            return not self.is_training
        if action == "cancel":
            return self.is_training
        return True


# How much lower the training process's CPU priority is than the UI's: when they compete for
# a core, key presses are answered first and the training waits a few milliseconds.
CHILD_NICENESS = 10


def _lower_priority(pid: int | None) -> None:
    """Renice the training process (done before it imports torch and starts its threads,
    which inherit the value)."""
    if pid is None or not hasattr(os, "setpriority"):
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, CHILD_NICENESS)

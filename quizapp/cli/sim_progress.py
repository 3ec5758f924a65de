"""What ``quizapp sim run`` shows while it trains, fed by the simulation's event stream.

On a terminal: a live Rich progress bar per training run whose elapsed time advances. Into a
file or a pipe: plain lines, never cut short, at a bounded rate (about ten per run, plus one
every ``LINE_EVERY_S`` seconds of a long run), since a log has no width and cannot redraw.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Protocol

from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.table import Column
from rich.text import Text

from quizapp.domain.wording import plural

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from sims.events import SimEvent

LINE_EVERY_S = 10.0  # a plain line at least this often while a run makes progress
LINE_STEPS = 10  # an evaluation line each tenth of a run


class SimProgress(Protocol):
    def __enter__(self) -> SimProgress: ...
    def __exit__(self, *exc: object) -> None: ...
    def on_event(self, event: SimEvent) -> None: ...


def progress_for(console: Console) -> SimProgress:
    """Live bars on an interactive terminal, plain lines anywhere else."""
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveProgress(console)
    return LineProgress(console)


def clock(seconds: float) -> str:
    """Elapsed time to a tenth of a second under a minute (runs are often that short), then
    ``m:ss`` and ``h:mm:ss``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}:{whole % 60:02d}"
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def loss(value: float) -> str:
    if not math.isfinite(value):
        return "diverged"
    return f"{value:.3f}" if abs(value) < 1e4 else f"{value:.3g}"


def metrics(event: Any) -> str:
    """The metrics of an evaluation (a ``RunProgress``)."""
    return (
        f"epoch {event.epoch:.3g}  val loss {loss(event.val_loss)}  acc {100 * event.val_acc:.1f}%"
    )


def final_metrics(summary: Any) -> str:
    """How a run ended, as its results table reports it (a ``RunSummary``): after early
    stopping's restore these are the kept epoch's numbers, not the last evaluation's."""
    parts = []
    if summary.final_val_loss is not None:
        parts.append(f"val loss {loss(summary.final_val_loss)}")
    if summary.final_val_acc is not None:
        parts.append(f"acc {100 * summary.final_val_acc:.1f}%")
    if summary.restored_epoch:
        parts.append(f"(weights of epoch {summary.restored_epoch})")
    return "  ".join(parts)


class _Count(ProgressColumn):
    """``1,250/5,000 updates``: never cut short (the table narrows the metrics instead)."""

    def render(self, task: Task) -> Text:
        total = f"{int(task.total):,}" if task.total is not None else "?"
        return Text(f"{int(task.completed):,}/{total} updates", style="progress.download")

    def get_table_column(self) -> Column:
        return Column(no_wrap=True)


class _Elapsed(ProgressColumn):
    """The run's own elapsed time, frozen when it ends."""

    def render(self, task: Task) -> Text:
        return Text(clock(task.elapsed or 0.0), style="progress.elapsed")

    def get_table_column(self) -> Column:
        return Column(no_wrap=True)


class LiveProgress:
    """A Rich progress bar per training run. ``get_time`` is the clock of the elapsed
    column (injectable so that what it shows can be checked without waiting)."""

    def __init__(self, console: Console, get_time: Callable[[], float] | None = None) -> None:
        self.progress = Progress(
            TextColumn("{task.description}", markup=False, table_column=Column(no_wrap=True)),
            BarColumn(bar_width=20),
            _Count(),
            _Elapsed(),
            # The only column that may wrap: a narrow terminal squeezes the metrics, never
            # the counts or the time.
            TextColumn("{task.fields[metrics]}", markup=False, table_column=Column()),
            console=console,
            get_time=get_time,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> LiveProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def on_event(self, event: SimEvent) -> None:
        from sims.events import RunFinished, RunProgress, RunStarted, RunTick

        if isinstance(event, RunStarted):
            self.tasks[event.label] = self.progress.add_task(
                event.label, total=event.total_updates, metrics=""
            )
        elif isinstance(event, RunTick):
            self.progress.update(self.tasks[event.label], completed=event.update)
        elif isinstance(event, RunProgress):
            self.progress.update(
                self.tasks[event.label], completed=event.update, metrics=metrics(event)
            )
        elif isinstance(event, RunFinished):
            task = self.tasks[event.label]
            updates = event.summary.updates
            if event.status == "ok":  # early stopping ends a run before its planned total
                self.progress.update(
                    task, total=updates, completed=updates, metrics=final_metrics(event.summary)
                )
            else:
                self.progress.update(
                    task, description=f"{event.label} ({event.status})", completed=updates
                )
            self.progress.stop_task(task)


class LineProgress:
    """Plain lines: each run's start, its evaluations at a bounded rate, and its end."""

    def __init__(self, console: Console, get_time: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.get_time = get_time
        self.started: dict[str, float] = {}
        self.totals: dict[str, int] = {}
        self.last: dict[str, tuple[int, float]] = {}  # label: (update, time) of its last line

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _line(self, label: str, text: str) -> None:
        self.console.print(Text.assemble((label, "bold"), ": ", text), soft_wrap=True)

    def _due(self, label: str, update: int, *, evaluation: bool) -> bool:
        """An evaluation each tenth of the run; anything, if the last line is old."""
        last_update, last_time = self.last[label]
        step = max(1, self.totals[label] // LINE_STEPS)
        if evaluation and update - last_update >= step:
            return True
        return self.get_time() - last_time >= LINE_EVERY_S

    def _mark(self, label: str, update: int) -> None:
        self.last[label] = (update, self.get_time())

    def _elapsed(self, label: str) -> str:
        return clock(self.get_time() - self.started[label])

    def on_event(self, event: SimEvent) -> None:
        from sims.events import RunFinished, RunProgress, RunStarted, RunTick

        if isinstance(event, RunStarted):
            self.started[event.label] = self.get_time()
            self.totals[event.label] = event.total_updates
            self._mark(event.label, 0)
            self._line(
                event.label,
                f"{plural(event.total_updates, 'update')} planned "
                f"({event.updates_per_epoch:,} per epoch, "
                f"{event.train_examples:,} training examples)",
            )
        elif isinstance(event, RunProgress | RunTick) and event.label in self.last:
            if not self._due(event.label, event.update, evaluation=isinstance(event, RunProgress)):
                return
            self._mark(event.label, event.update)
            done = f"update {event.update:,}/{self.totals[event.label]:,}"
            if isinstance(event, RunProgress):
                self._line(event.label, f"{done}  {metrics(event)}  {self._elapsed(event.label)}")
            else:
                self._line(
                    event.label, f"{done}  epoch {event.epoch:.3g}  {self._elapsed(event.label)}"
                )
        elif isinstance(event, RunFinished):
            end = f"{event.status} after {plural(event.summary.updates, 'update')}"
            if event.status == "ok":
                end += f"  {final_metrics(event.summary)}"
            self._line(event.label, f"{end}  {self._elapsed(event.label)}")

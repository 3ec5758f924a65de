"""``quizapp sim ...``: list the training simulations and run one in the terminal."""

from __future__ import annotations

import copy
import math
import signal
import sys
import threading
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from quizapp.cli.output import EXIT_INTERRUPTED, console, exit_interrupted_now, safe_text
from quizapp.domain.wording import plural

if TYPE_CHECKING:
    import argparse
    from types import FrameType

    from rich.console import Console

    from sims.events import SimEvent
    from sims.results import ExperimentResult

DEVICES = ("auto", "cpu", "cuda", "mps")
EXIT_BAD_INPUT = 2


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    sim = subparsers.add_parser(
        "sim",
        help="list and run training simulations",
        description="Real PyTorch training runs that show what batch size, epochs and the "
        "learning rate do.",
    )
    actions = sim.add_subparsers(dest="sim_command", metavar="ACTION")

    listing = actions.add_parser(
        "list",
        parents=[common],
        help="show the experiments, their parameters and defaults",
        description="Show every experiment with its parameters, defaults and allowed values.",
    )
    listing.add_argument("name", nargs="?", metavar="NAME", help="show only this experiment")
    listing.set_defaults(func=list_sims)

    run = actions.add_parser(
        "run",
        parents=[common],
        help="run an experiment and print its results",
        description=(
            "Run an experiment: a progress bar per training run on stderr, then a results "
            "table and the observations. Exit status: 0 done (a diverged run is a result), "
            "2 bad experiment/parameter/device, 130 stopped with Ctrl-C."
        ),
        epilog="example: quizapp sim run batch-size-sweep --set batch_sizes=16,256 --set epochs=5",
    )
    run.add_argument("name", metavar="NAME", help="experiment name (see `quizapp sim list`)")
    run.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a parameter; lists are comma-separated (batch_sizes=16,64,256); repeatable",
    )
    run.add_argument("--device", choices=DEVICES, default="auto", help="default: auto")
    run.add_argument("--seed", type=int, default=0, help="random seed, 0 to 2**63 - 1 (default 0)")
    run.add_argument(
        "--json",
        metavar="PATH",
        help="also write the full result as JSON to PATH ('-': stdout, tables go to stderr)",
    )
    run.add_argument(
        "--no-save", action="store_true", help="do not record the run in the progress database"
    )
    run.set_defaults(func=run_sim)
    show = actions.add_parser(
        "show",
        parents=[common],
        help="print a stored run as sim run did, with the command that reproduces it",
    )
    show.add_argument("id", type=int, metavar="ID", help="the run's number (quizapp stats)")
    show.set_defaults(func=show_sim)
    rerun = actions.add_parser(
        "rerun",
        parents=[common],
        help="run a stored run again and say whether its numbers matched",
        description=(
            "Run a stored simulation again with its parameters, seed and device, record it, "
            "and compare every evaluation: on the same device they match bit for bit. "
            "Exit 1 when they did not."
        ),
    )
    rerun.add_argument("id", type=int, metavar="ID", help="the run's number (quizapp stats)")
    rerun.set_defaults(func=rerun_sim)


def list_sims(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from sims.params import ParamError, format_value
    from sims.registry import get_experiment, list_experiments

    err = console(stderr=True)
    try:
        experiments = [get_experiment(args.name)] if args.name else list_experiments()
    except ParamError as error:
        for message in error.messages:
            err.print(safe_text(f"quizapp sim list: {message}"))
        return EXIT_BAD_INPUT
    out = console()
    for experiment in experiments:
        out.print(Text.assemble((experiment.name, "bold cyan"), "  ", (experiment.title, "bold")))
        out.print(Text(experiment.explanation), soft_wrap=False)
        table = Table(show_edge=False, pad_edge=False, box=None, padding=(0, 2, 0, 0))
        table.add_column("parameter", style="green", no_wrap=True)
        table.add_column("default")
        table.add_column("allowed", max_width=24)
        table.add_column("meaning")
        for param in experiment.params:
            if param.default is None:
                default = "auto"
            elif isinstance(param.default, str):
                default = param.default
            else:
                default = format_value(param.default)
            table.add_row(param.name, Text(default), Text(param.brief()), Text(param.help))
        out.print(table)
        out.print()
    out.print(
        Text(
            "Run one with: quizapp sim run NAME [--set key=value ...] "
            "[--device auto|cpu|cuda|mps] [--seed N] [--json PATH|-]",
            style="dim",
        )
    )
    return 0


def run_sim(args: argparse.Namespace, keep: list[ExperimentResult] | None = None) -> int:
    """``quizapp sim run``; ``keep`` receives the result (for ``rerun``)."""
    err = console(stderr=True)
    stop = threading.Event()
    # From the start (importing torch takes seconds), Ctrl-C never raises KeyboardInterrupt.
    with _CtrlC(stop, err) as ctrl_c:
        return _run_sim(args, err, stop, ctrl_c, keep)


def _run_sim(
    args: argparse.Namespace,
    err: Console,
    stop: threading.Event,
    ctrl_c: _CtrlC,
    keep: list[ExperimentResult] | None,
) -> int:
    from rich.text import Text

    from quizapp.cli.sim_progress import progress_for
    from quizapp.domain.wording import expected_duration
    from sims.events import ExperimentStarted
    from sims.params import ParamError, check_seed
    from sims.registry import get_experiment, parse_assignments, resolve_params

    def bad(message: str) -> int:
        err.print(safe_text(f"quizapp sim run: {message}", style="red"), soft_wrap=True)
        return EXIT_BAD_INPUT

    try:
        experiment = get_experiment(args.name)
    except ParamError as error:
        bad(error.messages[0])
        err.print(Text("See `quizapp sim list` for the experiments.", style="dim"))
        return EXIT_BAD_INPUT
    try:
        values = resolve_params(args.name, parse_assignments(args.name, args.assignments))
    except ParamError as error:
        for message in error.messages:
            bad(message)
        hint = f"See `quizapp sim list {args.name}` for what is allowed."
        err.print(safe_text(hint, style="dim"))
        return EXIT_BAD_INPUT
    try:
        check_seed(args.seed)
    except ParamError as error:
        return bad(f"--{error.messages[0]}")
    json_path = None if args.json in (None, "-") else Path(args.json).expanduser()
    if json_path is not None and not json_path.parent.is_dir():
        return bad(f"--json: folder {str(json_path.parent)!r} does not exist")
    if json_path is not None and json_path.is_dir():
        return bad(f"--json: {str(json_path)!r} is a folder; expected a file name")

    # torch's CPU wheel warns on import when numpy is absent; nothing here uses numpy, and a
    # run's output starts with its header.
    warnings.filterwarnings("ignore", "Failed to initialize NumPy", UserWarning)
    from sims.device import DeviceError, configure_threads, device_name, resolve_device
    from sims.estimate import check_memory
    from sims.lab import run_experiment

    try:
        device = resolve_device(args.device)
    except DeviceError as error:
        return bad(f"--device: {error}")
    try:
        check_memory(args.name, values, device)
    except ParamError as error:
        return bad(error.messages[0])
    threads = configure_threads()
    where = f"cpu ({plural(threads, 'thread')})" if device == "cpu" else device_name(device)
    if stop.is_set():
        err.print(Text("Stopped with Ctrl-C before training started.", style="yellow"))
        return EXIT_INTERRUPTED
    out = console(stderr=args.json == "-")
    header = Text.assemble((experiment.title, "bold"), f" on {where}, seed {args.seed}")
    err.print(header, soft_wrap=True)

    started = datetime.now(UTC)
    with progress_for(err) as progress:

        def on_event(event: SimEvent) -> None:
            if isinstance(event, ExperimentStarted) and event.expected_seconds is not None:
                note = expected_duration(event.expected_seconds, event.expected_at_most)
                err.print(Text(note, style="yellow"), soft_wrap=True)
            progress.on_event(event)

        ctrl_c.phase = "training"
        result = run_experiment(
            args.name,
            values,
            seed=args.seed,
            device=device,
            on_event=on_event,
            cancel=stop.is_set,
        )
    ctrl_c.phase = "done"
    finished = datetime.now(UTC)
    if keep is not None:
        keep.append(result)

    # Saved before anything is printed, so a closed pipe or terminal cannot lose the run.
    if not args.no_save:
        _save(args.home, result, started, finished, err)
    print_result(result, out)
    if args.json == "-":
        sys.stdout.write(result.to_json_text() + "\n")
    elif json_path is not None:
        try:
            json_path.write_text(result.to_json_text() + "\n", encoding="utf-8")
        except OSError as error:
            err.print(safe_text(f"Could not write {json_path}: {error.strerror}", style="red"))
            return 1
        err.print(safe_text(f"Wrote {json_path}", style="dim"))
    if result.status == "cancelled":
        err.print(Text("Stopped with Ctrl-C; the results above cover what ran.", style="yellow"))
        return EXIT_INTERRUPTED
    return 0


def print_result(result: ExperimentResult, out: Console) -> None:
    """The results (one row per run, or one field per row for a single run) and the
    observations."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    runs = result.runs
    out.print(
        Text.assemble(
            (result.title, "bold"), f" ({result.device}, {result.seconds:.1f} s, {result.status})"
        )
    )
    charts = result.extras.get("charts") or []
    fields = _result_fields(runs)
    if charts and (len(runs) > MAX_RUN_ROWS or result.extras.get("runs_table") is False):
        # A search of many runs: its charts (below) summarise it; every run is in --json.
        table: Any = Text(f"{len(runs)} training runs; each one is in the --json output.")
    elif len(runs) == 1:
        table = Table(box=box.SIMPLE, show_header=False, padding=(0, 1))
        table.add_column("field", style="bold")
        table.add_column("value")
        for name, cells in fields:
            table.add_row(name, cells[0])
    else:
        # Leave out columns that would repeat one value (or the label) on every row.
        shared = {name: cells[0] for name, cells in fields if len(set(map(str, cells))) == 1}
        kept = [(n, c) for n, c in fields if n == "run" or n not in _OPTIONAL or n not in shared]
        if all(r.label == f"batch {r.batch_size}" for r in runs):
            kept = [(n, c) for n, c in kept if n != "batch"]
        notes = [f"{name} {shared[name]}" for name in ("LR", "batch") if name in shared]
        if str(shared.get("status", "ok")) != "ok":  # e.g. every run diverged
            notes.insert(0, f"all {shared['status']}")
        caption = ", ".join(notes)
        table = Table(
            caption=Text(caption) if caption else None,
            box=box.SIMPLE_HEAD,
            padding=(0, 1),
            pad_edge=False,
        )
        for index, (name, cells) in enumerate(kept):
            # Cells never wrap (a number split over two lines misleads); headers may.
            width = max(len(str(cell)) for cell in [*cells, *name.split()])
            table.add_column(name, justify="left" if index == 0 else "right", width=width)
        for row in zip(*(cells for _, cells in kept), strict=True):
            table.add_row(*row)
    out.print(table)
    if any(r.summary.stopped_epoch or r.summary.restored_epoch for r in runs):
        out.print(
            Text(
                "stopped / kept: the epoch where early stopping's patience ran out / the epoch "
                "whose weights the run ended with (its val loss and acc are shown).",
                style="dim",
            )
        )
    if charts:
        from quizapp.views.chart_tables import print_charts

        print_charts(charts, out)
    out.print(Text("Observations", style="bold"))
    for line in result.observations:
        out.print(Text.assemble("• ", safe_text(line)))


# Above this many runs, an experiment that describes its own charts shows those instead.
MAX_RUN_ROWS = 16

# Columns shown only when they differ between runs (else named once under the table).
_OPTIONAL = ("status", "LR", "batch")


def _result_fields(runs: list[Any]) -> list[tuple[str, list[Any]]]:
    """(column name, one cell per run) for the results table."""

    from quizapp.cli.sim_progress import loss

    def final_loss(run: Any) -> str:
        x = run.summary.final_val_loss
        if run.status == "diverged":  # its last finite loss (83,460,856) says nothing more
            return "diverged"
        return "–" if x is None else loss(x)

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.1f}%"

    def lowest_val_loss(run: Any) -> str:
        points = [
            p
            for p in run.epoch_points()
            if p.epoch >= 1 and p.val_loss is not None and math.isfinite(p.val_loss)
        ]
        if not points:
            return "–"
        low = min(points, key=lambda p: p.val_loss)
        return f"{loss(low.val_loss)} @{low.epoch:.0f}"

    fields: list[tuple[str, list[Any]]] = [
        ("run", [safe_text(r.label) for r in runs]),
        ("status", [safe_text(r.status, "green" if r.status == "ok" else "red") for r in runs]),
        ("batch", [str(r.batch_size) for r in runs]),
        ("LR", [f"{r.lr:.3g}" for r in runs]),
        ("updates per epoch", [f"{r.updates_per_epoch:,}" for r in runs]),
        ("updates", [f"{r.summary.updates:,}" for r in runs]),
        ("train s", [f"{r.summary.seconds:.2f}" for r in runs]),
        ("lowest val loss @epoch", [lowest_val_loss(r) for r in runs]),
        ("val loss", [final_loss(r) for r in runs]),
        ("val acc", [pct(r.summary.final_val_acc) for r in runs]),
    ]
    if any(p.train_acc is not None for r in runs for p in r.history):
        last = [r.history[-1].train_acc if r.history else None for r in runs]
        fields.append(("train acc (last)", [pct(a) for a in last]))
    if any(r.summary.stopped_epoch or r.summary.restored_epoch for r in runs):
        fields.append(
            (
                "stopped / kept",
                [
                    f"{r.summary.stopped_epoch or '–'} / {r.summary.restored_epoch or '–'}"
                    for r in runs
                ],
            )
        )
    return fields


class _CtrlC:
    """First Ctrl-C: stop between two updates and keep what ran. Second: quit at once.

    Neither raises KeyboardInterrupt: one raised during a run, although the CLI caught it
    and returned 130, at times still made Python kill itself with SIGINT at exit (status -2;
    strace shows Python re-raising SIGINT). The second Ctrl-C leaves with ``os._exit``
    instead: there is nothing to clean up (no child process; a database write is one SQLite
    transaction, rolled back if cut short)."""

    def __init__(self, stop: threading.Event, console: Console) -> None:
        self.stop, self.console = stop, console
        self.phase: Literal["setup", "training", "done"] = "setup"
        self.previous: Any = None

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.phase != "done" and not self.stop.is_set():
            self.stop.set()
            when = "after the current update" if self.phase == "training" else "before training"
            self.console.print(f"Stopping {when} (Ctrl-C again to quit now)...")
            return
        exit_interrupted_now(
            "Interrupted." if self.phase == "done" else "Quit at once; this run is not saved.",
            show_cursor=self.phase == "training" and self.console.is_terminal,
        )


def _save(
    home: str | None,
    result: ExperimentResult,
    started: datetime,
    finished: datetime,
    err: Console,
) -> None:
    """Record the run in the progress database, like the app does; a problem there is
    reported but never fails the command (the results are printed all the same)."""

    from quizapp.services.runs import run_outcome
    from quizapp.store import Store, StoreError

    status, summary = run_outcome(result)
    try:
        with Store.open(home) as store:
            store.record_sim_run(
                result.experiment,
                result.params,
                result.device,
                status,
                summary=summary,
                result=result.to_json(),
                seed=result.seed,
                started=started,
                finished=finished,
            )
    except (StoreError, OSError) as error:
        err.print(safe_text(f"Not saved to your progress database: {error}", style="yellow"))


def _stored_run(args: argparse.Namespace, err: Console) -> Any:
    """The stored run ``args.id`` with its results, or None after saying why."""
    from quizapp.store import Store, StoreError
    from quizapp.store.paths import data_home

    try:
        with Store.open(data_home(args.home)) as store:
            run = store.get_sim_run(args.id)
    except StoreError as error:
        err.print(safe_text(str(error), style="red"), soft_wrap=True)
        return None
    if run is None:
        err.print(safe_text(f"There is no simulation run #{args.id}.", style="red"))
    return run


def show_sim(args: argparse.Namespace) -> int:
    from quizapp.services.runs import reproduce_command
    from sims.results import ExperimentResult

    err, out = console(stderr=True), console()
    run = _stored_run(args, err)
    if run is None:
        return 1
    when = run.started.astimezone().strftime("%Y-%m-%d %H:%M")
    out.print(safe_text(f"Run #{run.id}: {run.experiment}, {run.status}, {when}", style="bold"))
    command = reproduce_command(run.experiment, run.params, run.seed, run.device)
    out.print(safe_text(f"Reproduce: {command}", style="dim"), soft_wrap=True)
    if not isinstance(run.result, dict):
        out.print(safe_text(f"No results were saved ({run.status}).", style="yellow"))
        return 0
    try:
        result = ExperimentResult.from_json(run.result)
    except (KeyError, TypeError, ValueError) as error:
        err.print(safe_text(f"Run #{run.id} has unreadable results: {error}", style="red"))
        return 1
    print_result(result, out)
    return 0


def rerun_sim(args: argparse.Namespace) -> int:
    from quizapp.services.runs import cli_value, first_difference, reproduce_command
    from sims.results import ExperimentResult

    err = console(stderr=True)
    run = _stored_run(args, err)
    if run is None:
        return 1
    if not isinstance(run.result, dict):
        err.print(safe_text(f"Run #{run.id} saved no results to compare with.", style="red"))
        return 1
    stored = ExperimentResult.from_json(run.result)
    command = reproduce_command(run.experiment, run.params, run.seed, run.device)
    # The same path as typing that command: parameters, seed and device checked, progress
    # shown, the new run recorded.
    again = copy.copy(args)
    again.name, again.seed, again.device, again.json, again.no_save = (
        run.experiment,
        run.seed or 0,
        run.device,
        None,
        False,
    )
    again.assignments = []
    for key, value in run.params.items():
        if value is not None:  # None: the experiment's own default ("auto")
            again.assignments.append(f"{key}={cli_value(value)}")
    captured: list[ExperimentResult] = []
    code = run_sim(again, keep=captured)
    if code != 0 or not captured:
        return code or 1
    difference = first_difference(stored, captured[0])
    out = console()
    if difference is None:
        out.print(
            safe_text(
                f"The numbers matched run #{run.id} exactly, on {captured[0].device}.",
                style="bold green",
            )
        )
        return 0
    out.print(safe_text(f"The numbers differed from run #{run.id}: {difference}.", style="red"))
    out.print(safe_text(f"(Stored on {stored.device}; command: {command})", style="dim"))
    return 1

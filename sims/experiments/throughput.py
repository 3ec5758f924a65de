"""``throughput``: examples per second, time per update and peak memory per batch size on the
device the simulation runs on.

Each batch size gets two runs of the one training loop:

- a timed run with no hooks and no validation: ``repeats + 1`` windows of ``steps`` updates
  each, the first a warm-up (first-call allocations, kernel selection). The loop's clock is
  read only at window boundaries, after synchronising the device; nothing else runs inside a
  window (an epoch end there, at large batches, only reads the loss back, off the clock).
  Time per update and examples per second are the medians over the timed windows.
- an untimed memory pass of a few updates with the memory probes attached:
  - everywhere: the tensors one update holds, measured (parameters, gradients, optimizer
    state, the input batch, and the activations autograd saved for the backward pass);
  - on CUDA: the peak allocated by PyTorch (``torch.cuda.max_memory_allocated``) above what
    was allocated before (the data set), while training and, apart, while evaluating (the
    forward pass over 2,048 training examples before the first update);
  - on Linux CPUs: the process's peak resident memory (``VmHWM``, reset before each pass).

The ladder stops at the first out-of-memory and reports the largest batch that fit. On a GPU
this experiment runs without cuDNN's deterministic mode, so the fastest kernels are timed.

The data are real (the ``teacher`` task, or the digits images for ``cnn``), sized so that the
largest batch fits in the training set.

``extras``:

- ``rows``: ``[{"batch_size", "status", "examples_per_s", "ms_per_update",
  "window_ms": [per timed window], "tensor_bytes", "activation_bytes", "cuda_peak_bytes"
  (training), "cuda_eval_peak_bytes", "rss_peak_bytes"}]`` (null where not measured);
- ``saturation_batch`` (smallest batch within 10% of the best examples/s, or null),
  ``largest_fit`` (largest batch that ran), ``oom_at`` (first batch that did not, or null);
- ``charts``: ``examples-per-s`` (bars), ``memory`` (bars, MiB: tensors, and CUDA peak or
  process peak), ``time-per-update`` (lines, log-log, with an "x batch" reference);
- ``runs_table``: false (a per-run loss table would say nothing; show the charts).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import replace
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from sims import charts
from sims.config import DIGITS_IMAGES, OPTIMIZERS, DataSpec, ModelSpec, PlannedRun, TrainConfig
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome, RunRecord

if TYPE_CHECKING:
    from sims.training import TrainHook
    from sims.workbench import Lab

MEMORY_UPDATES = 3  # updates of the memory pass
VAL_EXAMPLES = 512
SATURATED = 0.9  # share of the best throughput that counts as "there"
MiB = 1024 * 1024
_CNN_TRAIN = DIGITS_IMAGES - round(DIGITS_IMAGES * 0.2)  # digits training images

PARAMS: tuple[Param, ...] = (
    Param(
        "batch_sizes",
        "int_list",
        [1, 4, 16, 64, 256, 1024, 4096, 16384],
        "batch sizes to measure, smallest first",
        min=1,
        max=1_048_576,
    ),
    Param(
        "model",
        "str",
        "mlp",
        "mlp: on the teacher task (20 features); cnn: the small CNN on 8x8 digits",
        choices=("mlp", "cnn"),
    ),
    Param("steps", "int", 20, "updates per timed window", min=2, max=10_000),
    Param(
        "repeats",
        "int",
        5,
        "timed windows per batch size (the median counts), after one warm-up window",
        min=1,
        max=100,
    ),
    Param("hidden", "int", 128, "width of the hidden layer(s)", min=4, max=16_384),
    Param("depth", "int", 1, "hidden layers of the MLP", min=1, max=6),
    Param("optimizer", "str", "sgd", "sgd (momentum 0.9) or adam", choices=OPTIMIZERS),
)


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    batches = sorted(values["batch_sizes"])
    data, model = _data_spec(values, lab.seed), _model_spec(values)
    n_train = int(lab.dataset(data).y_train.shape[0])
    steps, repeats = values["steps"], values["repeats"]
    rows: list[dict[str, Any]] = []
    for batch in batches:
        per_epoch = math.ceil(n_train / batch)
        total = steps * (repeats + 1)
        timed = TrainConfig(
            batch_size=batch,
            epochs=math.ceil(total / per_epoch),
            max_updates=total,
            lr=1e-3,  # small and fixed: speed is what is measured, not learning
            optimizer=values["optimizer"],
            eval_every=steps,  # the clock is read at window boundaries only
            divergence_factor=math.inf,
            validate=False,
        )
        record = lab.train(f"batch {batch} (timed)", timed, data, model)
        row = _row(record, batch, steps)
        if record.status == "ok":
            _measure_memory(lab, row, data, model, timed, n_train)
        rows.append(row)
        if row["status"] == "oom":
            break
    return analyse(rows, values, lab.device, n_train)


def _data_spec(values: dict[str, Any], seed: int) -> DataSpec:
    if values["model"] == "cnn":
        return DataSpec(name="digits", n_examples=DIGITS_IMAGES, seed=seed)
    # A training set that is a multiple of the largest batch (so of every power-of-two batch
    # below it): every timed update then has a full batch.
    largest = max(values["batch_sizes"])
    n_train = largest * math.ceil(2048 / largest)
    total = n_train + VAL_EXAMPLES
    return DataSpec(name="teacher", n_examples=total, val_fraction=VAL_EXAMPLES / total, seed=seed)


def _model_spec(values: dict[str, Any]) -> ModelSpec:
    return ModelSpec(kind=values["model"], hidden=values["hidden"], depth=values["depth"])


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    """Per batch: the timed windows (a warm-up window, then ``repeats``), then the untimed
    memory pass."""
    data, model = _data_spec(values, 0), _model_spec(values)
    steps, repeats = values["steps"], values["repeats"]
    runs = []
    for batch in sorted(values["batch_sizes"]):
        runs.append(
            PlannedRun(batch, steps * (repeats + 1), data, model, values["optimizer"], steps)
        )
        runs.append(PlannedRun(batch, MEMORY_UPDATES, data, model, values["optimizer"]))
    return runs


def _measure_memory(
    lab: Lab,
    row: dict[str, Any],
    data: DataSpec,
    model: ModelSpec,
    timed: TrainConfig,
    n_train: int,
) -> None:
    """The untimed memory pass: a few updates with the memory probes attached."""
    from sims.probes import CudaPeakProbe, MemoryProbe

    config = replace(
        timed,
        epochs=math.ceil(MEMORY_UPDATES / math.ceil(n_train / timed.batch_size)),
        max_updates=MEMORY_UPDATES,
        eval_every=0,
    )
    probe = MemoryProbe()
    hooks: list[TrainHook] = [probe]
    peaks = CudaPeakProbe() if lab.device == "cuda" else None
    if peaks is not None:
        hooks.append(peaks)
    _reset_peak_rss()
    with probe.recording():
        record = lab.train(f"batch {timed.batch_size} (memory)", config, data, model, hooks=hooks)
    if record.status != "ok":
        row["status"], row["reason"] = record.status, record.summary.reason
        return
    row["tensor_bytes"] = probe.peak_total or None
    row["activation_bytes"] = probe.peak_activations or None
    if peaks is not None:
        row["cuda_peak_bytes"] = peaks.train_peak
        row["cuda_eval_peak_bytes"] = peaks.eval_peak
    row["rss_peak_bytes"] = _peak_rss()


def _row(record: RunRecord, batch: int, steps: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "batch_size": batch,
        "status": record.status,
        "examples_per_s": None,
        "ms_per_update": None,
        "window_ms": [],
        "tensor_bytes": None,
        "activation_bytes": None,
        "cuda_peak_bytes": None,
        "cuda_eval_peak_bytes": None,
        "rss_peak_bytes": None,
    }
    if record.status != "ok":
        row["reason"] = record.summary.reason
        return row
    # Window boundaries: every ``steps`` updates; the first window is the warm-up.
    bounds = [p for p in record.history if p.update % steps == 0 and p.update > 0]
    ms, rates = [], []
    for start, end in pairwise(bounds):
        seconds = end.seconds - start.seconds
        if seconds > 0:
            ms.append(1000 * seconds / (end.update - start.update))
            rates.append((end.examples - start.examples) / seconds)
    if ms:
        row["window_ms"] = ms
        row["ms_per_update"] = statistics.median(ms)
        row["examples_per_s"] = statistics.median(rates)
    return row


def _reset_peak_rss() -> None:
    """Reset the kernel's high-water mark of resident memory (Linux only; elsewhere the
    peak is not measured)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def _peak_rss() -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def analyse(
    rows: list[dict[str, Any]], values: dict[str, Any], device: str, n_train: int
) -> Outcome:
    """Observations, extras and charts from the measured rows (pure: no training)."""
    lines: list[str] = []
    measured = [r for r in rows if r["examples_per_s"]]
    oom = next((r for r in rows if r["status"] == "oom"), None)
    fit = [r for r in rows if r["status"] == "ok"]
    what = "MLP on the teacher task" if values["model"] == "mlp" else "CNN on 8x8 digits"
    lines.append(
        f"Measured on {device} ({what}): the median of {values['repeats']} timed windows of "
        f"{values['steps']} updates per batch size, after a warm-up window; memory in a "
        "separate, untimed pass."
    )
    saturation = None
    if measured:
        rates = ", ".join(
            f"{r['batch_size']}: {r['examples_per_s']:,.0f}/s ({r['ms_per_update']:.2f} ms)"
            for r in measured
        )
        lines.append(f"Examples per second (time per update) by batch size: {rates}.")
        top = max(r["examples_per_s"] for r in measured)
        saturation = next(r for r in measured if r["examples_per_s"] >= SATURATED * top)
        first = measured[0]
        if saturation is measured[-1] and len(measured) > 1:
            lines.append(
                f"Throughput was still rising at the largest batch ({saturation['batch_size']}):"
                f" {first['examples_per_s']:,.0f}/s at batch {first['batch_size']} to "
                f"{top:,.0f}/s; the hardware is not saturated within this ladder."
            )
        elif len(measured) > 1:
            lines.append(
                f"Throughput rose from {first['examples_per_s']:,.0f}/s at batch "
                f"{first['batch_size']} and reached {SATURATED:.0%} of its best ({top:,.0f}/s) "
                f"at batch {saturation['batch_size']}: beyond that the device is saturated and "
                "a bigger batch mainly makes each update slower."
            )
            later = [r for r in measured if r["batch_size"] > saturation["batch_size"]]
            if later:
                last = later[-1]
                time_ratio = last["ms_per_update"] / saturation["ms_per_update"]
                batch_ratio = last["batch_size"] / saturation["batch_size"]
                lines.append(
                    f"From batch {saturation['batch_size']} to {last['batch_size']} "
                    f"({batch_ratio:g}x) the time per update grew {time_ratio:.1f}x."
                )
    memory_rows = [r for r in fit if r["tensor_bytes"]]
    if memory_rows:
        low, high = memory_rows[0], memory_rows[-1]
        share = (high["activation_bytes"] or 0) / high["tensor_bytes"]
        why = (
            "memory grows with the batch, mostly through the activations"
            if high["tensor_bytes"] > 1.5 * low["tensor_bytes"] and share > 0.5
            else "the weights and optimizer state dominate at these batch sizes"
        )
        lines.append(
            f"Tensors held by one update (weights, gradients, optimizer state, batch, saved "
            f"activations): {_mib(low['tensor_bytes'])} at batch {low['batch_size']}, "
            f"{_mib(high['tensor_bytes'])} at batch {high['batch_size']}, where activations "
            f"are {share:.0%}: {why}."
        )
    cuda_rows = [r for r in fit if r["cuda_peak_bytes"] is not None]
    if cuda_rows:
        lines.append(
            "Peak CUDA memory allocated while training: "
            + ", ".join(f"{r['batch_size']}: {_mib(r['cuda_peak_bytes'])}" for r in cuda_rows)
            + "; while evaluating 2,048 examples (no gradients): "
            + ", ".join(f"{r['batch_size']}: {_mib(r['cuda_eval_peak_bytes'])}" for r in cuda_rows)
            + "."
        )
    elif device == "cpu":
        rss = [r for r in fit if r["rss_peak_bytes"]]
        if rss:
            sizes = [r["rss_peak_bytes"] for r in rss]
            note = ""
            if max(sizes) < 1.25 * min(sizes):
                note = (
                    " It varied by under 25% across the batch sizes: most of it is the Python "
                    "and PyTorch runtime, not the training tensors."
                )
            lines.append(
                "Peak resident memory of the training process: "
                + ", ".join(f"{r['batch_size']}: {_mib(r['rss_peak_bytes'])}" for r in rss)
                + "."
                + note
            )
    if oom is not None:
        largest = fit[-1]["batch_size"] if fit else None
        lines.append(
            f"Batch {oom['batch_size']} ran out of memory on {device}; the largest batch that "
            f"fit was {largest if largest is not None else 'none'}. Larger batches were not "
            "tried."
        )
    big = [r["batch_size"] for r in rows if r["batch_size"] > n_train]
    if big:
        lines.append(f"Batch sizes above the {n_train:,} training examples were capped by them.")
    extras: dict[str, Any] = {
        "rows": rows,
        "saturation_batch": saturation["batch_size"] if saturation else None,
        "largest_fit": fit[-1]["batch_size"] if fit else None,
        "oom_at": oom["batch_size"] if oom else None,
        "charts": _charts(rows, saturation, device),
        "runs_table": False,  # the runs' losses say nothing here; the charts are the result
    }
    return Outcome(lines, extras)


def _mib(count: int | None) -> str:
    if count is None:
        return "n/a"
    return f"{count / MiB:.2f} MiB" if count < 100 * MiB else f"{count / MiB:,.0f} MiB"


def _charts(
    rows: list[dict[str, Any]], saturation: dict[str, Any] | None, device: str
) -> list[dict[str, Any]]:
    batches = [r["batch_size"] for r in rows]
    marks = [(saturation["batch_size"], "saturated")] if saturation else []
    marks += [(r["batch_size"], "out of memory") for r in rows if r["status"] == "oom"]
    speed = charts.bars(
        "examples-per-s",
        f"Examples per second on {device}",
        categories=("batch size", batches),
        groups=[("examples/s", [r["examples_per_s"] for r in rows])],
        value_label="examples per second",
        marks=marks,
    )
    memory_groups: list[tuple[str, list[float | None]]] = [
        ("tensors per update", [_to_mib(r["tensor_bytes"]) for r in rows])
    ]
    if any(r["cuda_peak_bytes"] is not None for r in rows):
        memory_groups.append(("CUDA peak", [_to_mib(r["cuda_peak_bytes"]) for r in rows]))
    elif any(r["rss_peak_bytes"] for r in rows):
        memory_groups.append(("process peak", [_to_mib(r["rss_peak_bytes"]) for r in rows]))
    memory = charts.bars(
        "memory",
        "Peak memory per batch size (MiB)",
        categories=("batch size", batches),
        groups=memory_groups,
        value_label="MiB",
        value_format=",.2f",
        marks=[(r["batch_size"], "out of memory") for r in rows if r["status"] == "oom"],
    )
    timed = [(r["batch_size"], r["ms_per_update"]) for r in rows if r["ms_per_update"]]
    curves = [charts.series("time per update", timed)]
    if timed:
        b0, t0 = timed[0]
        curves.append(
            charts.series(
                "proportional to batch (from the smallest)",
                [(b, t0 * b / b0) for b, _ in timed],
                "dashed",
            )
        )
    per_update = charts.lines(
        "time-per-update",
        "Time per update (ms)",
        x_label="batch size",
        y_label="ms per update",
        curves=curves,
        x_scale="log2",
        y_scale="log",
        marks=[charts.mark(saturation["batch_size"], "saturated")] if saturation else [],
    )
    return [speed, memory, per_update]


def _to_mib(count: int | None) -> float | None:
    return None if count is None else count / MiB


def check(values: dict[str, Any]) -> list[str]:
    if values["model"] == "cnn" and max(values["batch_sizes"]) > _CNN_TRAIN:
        return [
            f"batch_sizes: the CNN trains on the {_CNN_TRAIN:,} digits training images; "
            f"expected batch sizes up to {_CNN_TRAIN:,}, got {max(values['batch_sizes']):,}"
        ]
    return []


register(
    Experiment(
        name="throughput",
        title="Throughput and memory per batch size on this device",
        explanation=(
            "Times a few training updates at each batch size on the device the simulation "
            "runs on, and measures the memory they need. Small batches leave the hardware "
            "idle between tiny operations, so examples per second climb as the batch grows, "
            "until the device is saturated; past that, each update simply takes longer. "
            "Memory grows with the batch through the activations kept for the backward pass, "
            "which is what caps the batch size on a GPU."
        ),
        params=PARAMS,
        run=run,
        check=check,
        order=70,
        plan_runs=plan,
        deterministic=False,  # timed: let cuDNN pick its fastest kernels
    )
)

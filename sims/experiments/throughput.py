"""``throughput``: examples per second, time per update and peak memory per batch size on the
device the simulation runs on.

Each batch size trains ``steps`` timed updates after a few untimed warm-up updates (first-call
allocations, kernel selection). Time per update comes from the training loop's own clock,
which excludes evaluation and, on a GPU, synchronises before reading. Memory:

- on CUDA: the peak allocated by PyTorch during the run (``torch.cuda.max_memory_allocated``)
  above what was allocated before it (the data set); the ladder stops at the first
  out-of-memory and reports the largest batch that fit;
- everywhere: the tensors one update holds, measured (parameters, gradients, optimizer state,
  the input batch, and the activations autograd saved for the backward pass);
- on Linux CPUs: the process's peak resident memory during the run (``VmHWM``, reset before
  each batch size).

The data are real (the ``teacher`` task, or the digits images for ``cnn``), sized so that the
largest batch fits in the training set.

``extras``:

- ``rows``: ``[{"batch_size", "status", "examples_per_s", "ms_per_update",
  "tensor_bytes", "activation_bytes", "cuda_peak_bytes", "rss_peak_bytes"}]`` (null where
  not measured);
- ``saturation_batch`` (smallest batch within 10% of the best examples/s, or null),
  ``largest_fit`` (largest batch that ran), ``oom_at`` (first batch that did not, or null);
- ``charts``: ``examples-per-s`` (bars), ``memory`` (bars, MiB: tensors, and CUDA peak or
  process peak), ``time-per-update`` (lines, log-log, with an "x batch" reference);
- ``runs_table``: false (a per-run loss table would say nothing; show the charts).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sims import charts
from sims.config import DIGITS_IMAGES, OPTIMIZERS, DataSpec, ModelSpec, TrainConfig
from sims.estimate import PlannedRun
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome, RunRecord

if TYPE_CHECKING:
    from sims.lab import Lab

WARMUP = 3  # untimed updates before the clock starts
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
    Param("steps", "int", 20, "timed updates per batch size", min=2, max=10_000),
    Param("hidden", "int", 128, "width of the hidden layer(s)", min=4, max=16_384),
    Param("depth", "int", 1, "hidden layers of the MLP", min=1, max=6),
    Param("optimizer", "str", "sgd", "sgd (momentum 0.9) or adam", choices=OPTIMIZERS),
)


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    import torch

    from sims.probes import MemoryProbe

    batches = sorted(values["batch_sizes"])
    data, model = _data_spec(values, lab.seed), _model_spec(values)
    n_train = int(lab.dataset(data).y_train.shape[0])
    cuda = lab.device == "cuda"
    rows: list[dict[str, Any]] = []
    for batch in batches:
        per_epoch = math.ceil(n_train / batch)
        total = WARMUP + values["steps"]
        config = TrainConfig(
            batch_size=batch,
            epochs=math.ceil(total / per_epoch),
            max_updates=total,
            lr=1e-3,  # small and fixed: speed is what is measured, not learning
            optimizer=values["optimizer"],
            eval_every=WARMUP,
            divergence_factor=math.inf,
        )
        probe = MemoryProbe()
        before = 0
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
        _reset_peak_rss()
        with probe.recording():
            record = lab.train(f"batch {batch}", config, data, model, hooks=[probe])
        row = _row(record, probe, batch)
        if cuda:
            row["cuda_peak_bytes"] = max(0, torch.cuda.max_memory_allocated() - before)
        row["rss_peak_bytes"] = _peak_rss()
        rows.append(row)
        if record.status == "oom":
            break
    return analyse(rows, values, lab.device, n_train)


def _data_spec(values: dict[str, Any], seed: int) -> DataSpec:
    if values["model"] == "cnn":
        return DataSpec(name="digits", n_examples=DIGITS_IMAGES, seed=seed)
    # Enough examples that the largest batch is one slice of the training set.
    needed = max(*values["batch_sizes"], 2048)
    return DataSpec(name="teacher", n_examples=math.ceil(needed / 0.8) + 1, seed=seed)


def _model_spec(values: dict[str, Any]) -> ModelSpec:
    return ModelSpec(kind=values["model"], hidden=values["hidden"], depth=values["depth"])


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    data, model = _data_spec(values, 0), _model_spec(values)
    return [
        PlannedRun(batch, WARMUP + values["steps"], data, model, values["optimizer"], WARMUP)
        for batch in sorted(values["batch_sizes"])
    ]


def _row(record: RunRecord, probe: Any, batch: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "batch_size": batch,
        "status": record.status,
        "examples_per_s": None,
        "ms_per_update": None,
        "tensor_bytes": probe.peak_total or None,
        "activation_bytes": probe.peak_activations or None,
        "cuda_peak_bytes": None,
        "rss_peak_bytes": None,
    }
    if record.status != "ok":
        row["reason"] = record.summary.reason
        return row
    start = next((p for p in record.history if p.update >= WARMUP), None)
    end = record.history[-1] if record.history else None
    if start is None or end is None or end.update <= start.update:
        return row
    updates = end.update - start.update
    seconds = end.seconds - start.seconds
    examples = end.examples - start.examples
    if seconds > 0:
        row["ms_per_update"] = 1000 * seconds / updates
        row["examples_per_s"] = examples / seconds
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
        f"Measured on {device} ({what}, {values['steps']} timed updates per batch size after "
        f"{WARMUP} warm-up updates)."
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
    )
)

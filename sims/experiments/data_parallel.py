"""``data-parallel``: k worker processes on ``torch.distributed`` (``gloo`` on CPU, ``nccl``
with one GPU per worker), each training on ``batch_size`` examples of every global batch
with the gradients averaged by an all-reduce, against one process training on the whole
global batch of k x ``batch_size``: same seed, same initial weights, same batch order.

What it shows: data parallelism changes where the arithmetic runs, not what is computed;
the optimizer sees the global batch, so the weights match the single process's to float
precision (the sums are only added in a different order), and adding workers at a fixed
per-worker batch raises the batch the LR must suit. The exception is BatchNorm, which
normalizes with each worker's own batch statistics; synchronizing them over all workers
(SyncBatchNorm) restores the match. The all-reduce is timed on its own.

``extras``:

- ``backend``, ``workers``, ``per_worker_batch``, ``global_batch``;
- ``comparisons``: ``[{"run", "reference", "max_abs_dw", "max_abs_w", "ranks_max_abs_dw",
  "first_update_dw", "allreduce_ms", "allreduce_share", "allreduce_bytes", "ms_per_update",
  "val_loss", "reference_val_loss"}]``, one per data-parallel run (``first_update_dw``: the
  same after the first update, before training amplifies differences; ``ranks_max_abs_dw``:
  largest difference between the workers' own copies of the weights);
- ``charts``: ``weight-gap`` (bars: max |dW| against the single process) and ``time`` (bars:
  ms per update and ms of it in the all-reduce).
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from sims import charts
from sims.config import ModelSpec, PlannedRun, TrainConfig
from sims.experiments import _common as common
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome, RunRecord

if TYPE_CHECKING:
    from sims.lab import Lab

AUTO_LR = {"sgd": 0.05, "adam": 0.002}
MATCH = 1e-4  # weights closer than this are "equal to float precision" for these sizes


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


PARAMS: tuple[Param, ...] = (
    Param(
        "workers",
        "int",
        None,
        "worker processes (default: 2, or 1 on a single core); at most the CPU cores, or the "
        "GPUs when training on CUDA",
        min=1,
        max=64,
    ),
    Param("batch_size", "int", 32, "examples per worker per update", 1, 65536),
    Param("epochs", "int", 5, "passes over the training data", 1, 100),
    *common.optimizer_params(optimizer="sgd", auto_lr=AUTO_LR),
    Param(
        "batchnorm",
        "bool",
        True,
        "also compare a BatchNorm model: statistics per worker vs synchronized (SyncBatchNorm)",
    ),
    *common.data_params(n_examples=4000),
    Param("hidden", "int", 128, "width of the hidden layer", min=4, max=4096),
)


def workers(values: dict[str, Any]) -> int:
    return int(values["workers"]) if values["workers"] is not None else min(2, _cores())


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    import torch

    from sims.distributed import Job, ModelKeeper, Workers
    from sims.lab import Cancelled

    k = workers(values)
    backend = "nccl" if lab.device == "cuda" and torch.cuda.device_count() >= k else "gloo"
    data = common.data_spec(lab.seed, values)
    b = values["batch_size"]
    plain = ModelSpec(hidden=values["hidden"])
    norms = [("none", plain)]
    if values["batchnorm"]:
        norms.append(("batch", ModelSpec(hidden=values["hidden"], norm="batch")))

    def config(shards: int = 1) -> TrainConfig:
        return TrainConfig(
            batch_size=k * b,
            epochs=values["epochs"],
            lr=common.learning_rate(values, AUTO_LR),
            optimizer=values["optimizer"],
            shard_count=shards,
        )

    what = {"none": "", "batch": ", BatchNorm"}
    threads = max(1, torch.get_num_threads() // k)
    with Workers(k, backend, threads=threads) as group:  # they start while the parent trains
        reference: dict[str, tuple[RunRecord, ModelKeeper]] = {}
        for norm, model in norms:
            keeper = ModelKeeper()
            record = lab.train(
                f"1 process, batch {k * b}{what[norm]}", config(), data, model, hooks=[keeper]
            )
            reference[norm] = (record, keeper)
        jobs = [Job(f"{k} workers x {b}", len(lab.runs), data, plain, config(k), lab.seed)]
        if values["batchnorm"]:
            jobs += [
                Job(
                    f"{k} workers x {b}, BatchNorm per worker",
                    len(lab.runs) + 1,
                    data,
                    ModelSpec(hidden=values["hidden"], norm="batch"),
                    config(k),
                    lab.seed,
                ),
                Job(
                    f"{k} workers x {b}, SyncBatchNorm",
                    len(lab.runs) + 2,
                    data,
                    ModelSpec(hidden=values["hidden"], norm="sync-batch"),
                    config(k),
                    lab.seed,
                ),
            ]
        if not group.wait_ready(lab.cancel):
            raise Cancelled
        done = group.run(jobs, lab.emit, lab.cancel)
    comparisons = []
    for job in jobs:
        result = done[job.label]
        if result.record is None:
            continue
        lab.add_run(result.record)
        twin, keeper = reference["none" if job.model.norm == "none" else "batch"]
        comparisons.append(_compare(job.label, twin, keeper, result))
    return analyse(comparisons, lab.runs, values, k, backend, lab.device)


def _gap(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    """Largest absolute difference between two sets of weights (None if one is missing)."""
    if not a or not b:
        return None
    return max(float((a[name] - b[name]).abs().max()) for name in a)


def _compare(label: str, twin: RunRecord, keeper: Any, result: Any) -> dict[str, Any]:
    weights = keeper.weights()
    ours = result.weights[0]
    ranks = [_gap(other, ours) or 0.0 for rank, other in result.weights.items() if rank != 0]
    record = result.record
    seconds = record.summary.seconds
    updates = max(1, result.allreduce_calls)
    return {
        "run": label,
        "reference": twin.label,
        "max_abs_dw": _gap(ours, weights),
        "first_update_dw": _gap(result.first.get(0, {}), keeper.first),
        "max_abs_w": max(float(w.abs().max()) for w in weights.values()),
        "ranks_max_abs_dw": max(ranks) if ranks else 0.0,
        "allreduce_ms": 1000 * result.allreduce_seconds / updates,
        "allreduce_share": result.allreduce_seconds / seconds if seconds > 0 else None,
        "allreduce_bytes": result.allreduce_bytes,
        "ms_per_update": 1000 * seconds / max(1, record.summary.updates),
        "val_loss": record.summary.final_val_loss,
        "reference_val_loss": twin.summary.final_val_loss,
    }


def analyse(
    comparisons: list[dict[str, Any]],
    runs: list[RunRecord],
    values: dict[str, Any],
    k: int,
    backend: str,
    device: str,
) -> Outcome:
    """Observations, extras and charts from the comparisons (pure: no training)."""
    b = values["batch_size"]
    lines = common.failed_runs(runs)
    where = "the CPU" if backend == "gloo" else "GPUs, one each"
    processes = f"{k} worker process" + ("es" if k != 1 else "")
    lines.append(
        f"{processes} on {where} ({backend}), batch {b} each: every update "
        f"averages their gradients, so the optimizer sees a global batch of {k * b:,}; the "
        f"reference is one process at batch {k * b:,}, same seed and batch order."
    )
    if device == "cuda" and backend == "gloo":
        lines.append(
            f"Fewer GPUs than {k} workers: the workers ran on CPU processes with gloo; the "
            "single-process references ran on the GPU, so expect larger float differences."
        )
    if k == 1:
        lines.append("With one worker there is nothing to average; use workers >= 2.")
    by_run = {c["run"]: c for c in comparisons}
    plain = by_run.get(f"{k} workers x {b}")
    if plain is not None:
        verdict = (
            "equal to float precision (the same sums, added in a different order)"
            if plain["max_abs_dw"] <= MATCH
            else "NOT equal: something differs beyond summation order"
        )
        lines.append(
            f"Final weights, {processes} vs 1 process: max |dW| = {plain['max_abs_dw']:.1e} "
            f"(weights up to {plain['max_abs_w']:.2f}), {verdict}. The workers' own copies "
            f"differed by at most {plain['ranks_max_abs_dw']:.1e}: the all-reduce gives each "
            "the same average."
        )
        share = plain["allreduce_share"] or 0.0
        lines.append(
            f"The all-reduce of {plain['allreduce_bytes'] / 1024:,.0f} KiB of gradients took "
            f"{plain['allreduce_ms']:.2f} ms per update, {100 * share:.0f}% of the "
            f"{plain['ms_per_update']:.2f} ms an update took"
            + (
                ": for a model this small, communication costs as much as the computing, "
                "which is why DDP overlaps it with the backward pass and large models use "
                "large per-worker batches."
                if share > 0.3
                else "."
            )
        )
    per_worker = by_run.get(f"{k} workers x {b}, BatchNorm per worker")
    synced = by_run.get(f"{k} workers x {b}, SyncBatchNorm")
    if per_worker is not None and synced is not None and k > 1:
        lines += _batchnorm_lines(per_worker, synced, k, b)
        if backend == "gloo":
            lines.append(
                "torch.nn.SyncBatchNorm refuses CPU tensors, so on CPU the synced statistics "
                "come from an all-reduce of each worker's count, sum and sum of squares "
                "(with the matching backward pass): the same computation."
            )
    extras: dict[str, Any] = {
        "backend": backend,
        "workers": k,
        "per_worker_batch": b,
        "global_batch": k * b,
        "comparisons": comparisons,
        "charts": _charts(comparisons, runs),
    }
    return Outcome(lines, extras)


def _batchnorm_lines(
    per_worker: dict[str, Any], synced: dict[str, Any], k: int, b: int
) -> list[str]:
    first_p, first_s = per_worker["first_update_dw"], synced["first_update_dw"]
    last_p, last_s = per_worker["max_abs_dw"], synced["max_abs_dw"]
    if None in (first_p, first_s, last_p, last_s):
        return []
    lines = [
        f"With BatchNorm, each worker normalized with the statistics of its own {b} examples "
        f"instead of all {k * b:,}: after the first update its weights already differed from "
        f"one process at batch {k * b:,} by {first_p:.1e}; with the statistics synchronized "
        f"over the workers (SyncBatchNorm) by {first_s:.1e}"
        + (": the same update, to float precision." if first_s <= MATCH < first_p else ".")
    ]
    if last_s > 100 * max(first_s, 1e-12):
        lines.append(
            f"By the end the gaps were {last_p:.1e} (per worker) and {last_s:.1e} (synced): "
            f"training this BatchNorm net amplified even the synced run's rounding differences "
            f"(about 10^{math.log10(last_s / max(first_s, 1e-12)):.0f}-fold), so compare "
            "the first update to see what the per-worker statistics change; the final "
            "validation losses were "
            f"{common.loss(per_worker['val_loss'])} (per worker), "
            f"{common.loss(synced['val_loss'])} (synced) and "
            f"{common.loss(per_worker['reference_val_loss'])} (one process)."
        )
    else:
        lines.append(
            f"By the end the gaps were {last_p:.1e} (per worker) and {last_s:.1e} (synced)."
        )
    return lines


def _charts(comparisons: list[dict[str, Any]], runs: list[RunRecord]) -> list[dict[str, Any]]:
    per_update = {
        r.label: 1000 * r.summary.seconds / r.summary.updates for r in runs if r.summary.updates
    }
    allreduce = {c["run"]: c["allreduce_ms"] for c in comparisons}
    labels = [r.label for r in runs]
    return [
        charts.bars(
            "weight-gap",
            "Largest weight difference from one process at the global batch",
            categories=("run", [c["run"] for c in comparisons]),
            groups=[
                ("after the first update", [c["first_update_dw"] for c in comparisons]),
                ("at the end", [c["max_abs_dw"] for c in comparisons]),
            ],
            value_label="max |dW| (float32 precision is about 1e-7 of the weights' size)",
            value_format=".1e",
        ),
        charts.bars(
            "time",
            "Training time per update, and how much of it is the all-reduce",
            categories=("run", labels),
            groups=[
                ("ms per update", [per_update.get(label) for label in labels]),
                ("all-reduce ms", [allreduce.get(label) for label in labels]),
            ],
            value_label="milliseconds per update",
            value_format=".2f",
        ),
    ]


def check(values: dict[str, Any]) -> list[str]:
    k = workers(values)
    cores = _cores()
    if k > cores:
        return [
            f"workers: expected at most {cores} (the CPU cores here; on CUDA, at most the "
            f"GPUs); got {k}"
        ]
    # The last batch of an epoch is split too: every worker needs examples in it (two, for
    # BatchNorm's statistics), or its loss is undefined.
    n_train = common.data_spec(0, values).n_train
    rest = n_train % (k * values["batch_size"])
    need = 2 * k if values["batchnorm"] else k
    if 0 < rest < need:
        return [
            f"batch_size: the last batch of each epoch would hold {rest} of the {n_train:,} "
            f"training examples, too few to split over {k} workers (need at least {need}); "
            f"change batch_size or n_examples; got batch_size {values['batch_size']}"
        ]
    return []


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    """The single-process reference runs (the workers' runs hold a k-th of the batch each,
    in their own processes)."""
    data = common.data_spec(0, values)
    batch = workers(values) * values["batch_size"]
    updates = values["epochs"] * math.ceil(data.n_train / batch)
    models = [ModelSpec(hidden=values["hidden"])]
    if values["batchnorm"]:
        models.append(ModelSpec(hidden=values["hidden"], norm="batch"))
    return [PlannedRun(batch, updates, data, m, values["optimizer"]) for m in models]


register(
    Experiment(
        name="data-parallel",
        title="Data-parallel training on torch.distributed",
        explanation=(
            "Starts k worker processes that train one model together on torch.distributed "
            "(gloo on CPU, nccl on GPUs): each takes its part of every batch and an all-reduce "
            "averages the gradients, the way DistributedDataParallel does. Against one "
            "process training on the whole k-times-larger batch with the same seed and data "
            "order, the weights match to float precision, so adding workers at a fixed "
            "per-worker batch raises the batch size. A BatchNorm model shows the exception: "
            "statistics per worker change the result, synchronized statistics "
            "(SyncBatchNorm) restore it. The time spent in the all-reduce is measured."
        ),
        params=PARAMS,
        run=run,
        plan_runs=plan,
        check=check,
        order=90,
    )
)

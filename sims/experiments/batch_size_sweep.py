"""``batch-size-sweep``: the same model and data trained at several batch sizes."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from sims.config import SCALING_RULES, PlannedRun, TrainConfig
from sims.experiments import _common as common
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome, RunRecord

if TYPE_CHECKING:
    from sims.workbench import Lab

AUTO_LR = {"sgd": 0.03, "adam": 0.003}

PARAMS: tuple[Param, ...] = (
    Param(
        "batch_sizes",
        "int_list",
        [16, 64, 256, 1024],
        "batch sizes to compare, one run each",
        min=1,
        max=65536,
        max_items=8,
    ),
    Param("epochs", "int", 10, "passes over the training data, the same for every run", 1, 200),
    *common.optimizer_params(optimizer="sgd", auto_lr=AUTO_LR),
    Param(
        "lr_scaling",
        "str",
        "none",
        "none: every run uses lr; linear: lr x B/base_batch; sqrt: lr x sqrt(B/base_batch)",
        choices=SCALING_RULES,
    ),
    Param("base_batch", "int", 32, "the batch size lr is tuned for (for lr_scaling)", 1, 65536),
    *common.data_params(n_examples=10_000),
    *common.model_params(),
    Param(
        "eval_every",
        "int",
        0,
        "also evaluate every this many updates, for smooth curves (0: at epoch ends only)",
        0,
        100_000,
    ),
    Param(
        "target_loss",
        "float",
        0.0,
        "validation loss to compare runs at (0: what the best run reached after one epoch)",
        0.0,
        100.0,
    ),
)


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    data = common.data_spec(lab.seed, values)
    model = common.model_spec(values)
    target = values["target_loss"] or None
    for batch in values["batch_sizes"]:
        config = TrainConfig(
            batch_size=batch,
            epochs=values["epochs"],
            lr=common.learning_rate(values, AUTO_LR),
            optimizer=values["optimizer"],
            lr_scaling=values["lr_scaling"],
            base_batch=values["base_batch"],
            eval_every=values["eval_every"],
            target_loss=target,
        )
        lab.train(f"batch {batch}", config, data, model)
    return Outcome(common.data_note(data) + observe(lab.runs, values))


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    data, model = common.data_spec(0, values), common.model_spec(values)
    return [
        PlannedRun(
            batch,
            values["epochs"] * math.ceil(data.n_train / batch),
            data,
            model,
            values["optimizer"],
            eval_every=values["eval_every"],
        )
        for batch in values["batch_sizes"]
    ]


def observe(runs: list[RunRecord], values: dict[str, Any]) -> list[str]:
    """What the numbers of a sweep show, in sentences (computed, never canned)."""
    runs = sorted(runs, key=lambda r: r.batch_size)
    if not runs:
        return []
    lines: list[str] = []
    n_train = runs[0].train_examples
    per_epoch = ", ".join(f"batch {r.batch_size} made {r.updates_per_epoch:,}" for r in runs)
    lines.append(
        f"Each epoch is one pass over the same {n_train:,} training examples, so updates per "
        f"epoch = ceil({n_train:,} / batch): {per_epoch}."
    )
    if any(r.batch_size >= n_train for r in runs):
        lines.append(
            f"A batch of {n_train:,} or more holds the whole training set: each epoch is a "
            "single full-batch update."
        )
    if values["lr_scaling"] != "none":
        lrs = ", ".join(f"batch {r.batch_size} used {r.lr:.3g}" for r in runs)
        base_lr = common.learning_rate(values, AUTO_LR)
        lines.append(
            f"The learning rate was scaled ({values['lr_scaling']}) from {base_lr:g} at batch "
            f"{values['base_batch']}: {lrs}."
        )
    lines += common.failed_runs(runs)
    ok = [r for r in runs if r.status == "ok" and r.point_at_epoch(1) is not None]
    if not ok:
        return lines

    after_one = [(r, r.point_at_epoch(1)) for r in ok]
    parts = [
        f"{common.loss(p.val_loss)} at batch {r.batch_size} ({common.plural(p.update, 'update')})"
        for r, p in after_one
        if p is not None
    ]
    lines.append("Validation loss after 1 epoch: " + ", ".join(parts) + ".")
    first_losses = [common.val_loss(p) for _, p in after_one if p is not None]
    if len(ok) > 1 and all(a < b for a, b in pairwise(first_losses)):
        lines.append(
            "After the same number of examples, every larger batch was further behind: it "
            "had taken fewer, if less noisy, steps."
        )

    lines += _target_lines(ok, values)
    lines += _time_lines(ok)
    lines += _best_lines(ok)
    return lines


def _target_lines(ok: list[RunRecord], values: dict[str, Any]) -> list[str]:
    target = values["target_loss"]
    if target:
        where = f"Target validation loss {target:g}"
    else:
        best_first = min(ok, key=lambda r: _val_after_one(r))
        raw = _val_after_one(best_first)
        digits = max(0, 1 - math.floor(math.log10(raw))) if raw > 0 else 2
        target = math.ceil(raw * 10**digits) / 10**digits  # round up: the best run reaches it
        where = (
            f"Target validation loss {target:g} (what batch {best_first.batch_size} reached "
            "after 1 epoch)"
        )
    parts = []
    reached: list[tuple[RunRecord, int, int]] = []
    for run in ok:
        point = common.first_reaching(run, target)
        if point is None:
            parts.append(
                f"batch {run.batch_size} did not reach it in {common.epochs_word(run.epochs)} "
                f"(best {common.loss(run.summary.best_val_loss)})"
            )
            continue
        reached.append((run, point.update, point.examples))
        parts.append(
            f"batch {run.batch_size} needed {common.epochs_word(point.epoch)} "
            f"({common.plural(point.update, 'update')}, {common.secs(point.seconds)})"
        )
    lines = [f"{where}: " + "; ".join(parts) + "."]
    if len(reached) >= 2:
        small, big = reached[0], reached[-1]
        if big[1] < small[1]:
            lines.append(
                f"To reach it, batch {big[0].batch_size} took {small[1] / big[1]:.1f}x fewer "
                f"updates than batch {small[0].batch_size} but processed "
                f"{big[2] / small[2]:.1f}x as many examples: bigger batches trade examples "
                "for steps."
            )
    return lines


def _time_lines(ok: list[RunRecord]) -> list[str]:
    if len(ok) < 2:
        return []
    parts = []
    for run in ok:
        epochs = run.summary.epochs_completed
        per_epoch = run.summary.seconds / epochs if epochs else 0.0
        rate = run.summary.updates / run.summary.seconds if run.summary.seconds else 0.0
        parts.append(f"batch {run.batch_size} {common.secs(per_epoch)} ({rate:,.0f} updates/s)")
    return ["Training time per epoch: " + ", ".join(parts) + "."]


def _best_lines(ok: list[RunRecord]) -> list[str]:
    lines = []
    top = max(ok, key=lambda r: r.summary.final_val_acc or 0.0)
    bottom = min(ok, key=lambda r: r.summary.final_val_acc or 0.0)
    if top is not bottom:
        lines.append(
            f"After {common.epochs_word(top.summary.epochs_completed)}, validation accuracy "
            f"was highest at batch {top.batch_size} ({common.pct(top.summary.final_val_acc)}) "
            f"and lowest at batch {bottom.batch_size} "
            f"({common.pct(bottom.summary.final_val_acc)})."
        )
    for run in ok:
        s = run.summary
        best = run.point_at_epoch(s.best_epoch) if s.best_epoch is not None else None
        last = run.history[-1]
        if best is None or best is last or not common.val_loss(last) > 1.1 * common.val_loss(best):
            continue
        rise = (
            f"Batch {run.batch_size}'s validation loss was lowest in epoch {s.best_epoch} "
            f"({common.loss(best.val_loss)}) and rose to {common.loss(last.val_loss)} by the end"
        )
        if last.train_loss < best.train_loss and last.epoch - best.epoch >= 2:
            lines.append(
                f"{rise} while its training loss kept falling "
                f"({common.loss(best.train_loss)} to {common.loss(last.train_loss)}): it had "
                "begun to overfit."
            )
        elif last.train_loss >= best.train_loss:
            lines.append(
                f"{rise}, and its training loss rose too ({common.loss(best.train_loss)} to "
                f"{common.loss(last.train_loss)}): the learning rate {run.lr:.3g} was too high "
                "for stable training."
            )
        else:
            lines.append(f"{rise}.")
    return lines


def _val_after_one(run: RunRecord) -> float:
    point = run.point_at_epoch(1)
    return common.val_loss(point) if point is not None else math.inf


def check(values: dict[str, Any]) -> list[str]:
    return common.check_model(values)


register(
    Experiment(
        name="batch-size-sweep",
        title="Batch size sweep: updates, noise and speed",
        explanation=(
            "Trains the same network on the same data at several batch sizes, for the same "
            "number of epochs and the same learning rate (or one scaled by a rule). An epoch "
            "shows every example once, so a batch of B makes ceil(N / B) updates per epoch: "
            "small batches take many small, noisy steps, large batches few, smoother ones. "
            "Compare the curves per epoch (equal data), per update (equal steps), per example "
            "and per second (equal wall time) to see what a larger batch buys and what it "
            "costs, and how rescaling the learning rate changes the picture."
        ),
        params=PARAMS,
        run=run,
        check=check,
        order=10,
        plan_runs=plan,
    )
)

"""``epochs``: one model trained for many epochs on noisy labels: overfitting and early
stopping."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sims.config import DIGITS_IMAGES, MONITORS, PlannedRun, TrainConfig
from sims.experiments import _common as common
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome, RunRecord

if TYPE_CHECKING:
    from sims.workbench import Lab

AUTO_LR = {"adam": 0.002, "sgd": 0.05}

PARAMS: tuple[Param, ...] = (
    Param("epochs", "int", 40, "passes over the training data", 1, 500),
    Param("batch_size", "int", 32, "examples per update", 1, 65536),
    *common.optimizer_params(optimizer="adam", auto_lr=AUTO_LR),
    *common.data_params(dataset="digits", n_examples=DIGITS_IMAGES, label_noise=0.3),
    *common.model_params(hidden=512),
    Param(
        "patience",
        "int",
        3,
        "early stopping: epochs without improvement before stopping (0: no early stopping)",
        0,
        100,
    ),
    Param(
        "monitor",
        "str",
        "val_acc",
        "what early stopping watches: validation accuracy or validation loss",
        choices=MONITORS,
    ),
    Param(
        "early_stop",
        "bool",
        False,
        "true: really stop when patience runs out; false: train on to show what stopping "
        "avoids (the stopping point and the kept epoch are still marked)",
    ),
)


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    data = common.data_spec(lab.seed, values)
    config = TrainConfig(
        batch_size=values["batch_size"],
        epochs=values["epochs"],
        lr=common.learning_rate(values, AUTO_LR),
        optimizer=values["optimizer"],
        patience=values["patience"],
        monitor=values["monitor"],
        early_stop=values["early_stop"],
        restore_best=True,
        track_train_acc=True,
    )
    label = f"{round(100 * values['label_noise'])}% label noise"
    record = lab.train(label, config, data, common.model_spec(values))
    flipped = lab.dataset(data).flipped
    lines = common.data_note(data) + observe(record, values, flipped)
    return Outcome(lines, extras={"flipped_labels": flipped})


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    data, batch = common.data_spec(0, values), values["batch_size"]
    return [
        PlannedRun(
            batch,
            values["epochs"] * math.ceil(data.n_train / batch),
            data,
            common.model_spec(values),
            values["optimizer"],
            probe_examples=min(2048, data.n_train),  # training accuracy at every epoch
            at_most=values["early_stop"] and values["patience"] > 0,
        )
    ]


def observe(run: RunRecord, values: dict[str, Any], flipped: int) -> list[str]:
    """What the curves of one long run show, in sentences computed from its history."""
    lines: list[str] = []
    if flipped:
        lines.append(
            f"{flipped:,} of the {run.train_examples:,} training labels "
            f"({common.pct(flipped / run.train_examples)}) were changed to a wrong class; the "
            f"{run.val_examples:,} validation labels are clean."
        )
    lines += common.failed_runs([run])
    points = [p for p in run.epoch_points() if p.epoch >= 1]
    if run.status not in {"ok", "cancelled"} or not points:
        return lines
    first, last = points[0], points[-1]
    peak = max(points, key=common.val_acc)
    # Predicting every example's true class scores at most the share of unflipped labels
    # against the noisy ones: clearly more than that means some flipped labels were learned
    # by heart. One flag decides every sentence below that speaks of memorising.
    clean_share = 1 - flipped / run.train_examples
    memorised = bool(flipped and last.train_acc is not None and last.train_acc > clean_share + 0.02)
    if first.train_acc is not None and last.train_acc is not None:
        lines.append(
            f"Training accuracy rose from {common.pct(first.train_acc)} after epoch 1 to "
            f"{common.pct(last.train_acc)} after epoch {last.epoch:.0f}"
            + (
                f", measured against the noisy labels: above the {common.pct(clean_share)} "
                "that predicting every example's true class would score, so the network has "
                "learned some flipped labels by heart."
                if memorised
                else "."
            )
        )
    drop = 100 * (common.val_acc(peak) - common.val_acc(last))
    if peak is not last and drop >= 1:
        lines.append(
            f"Validation accuracy peaked at {common.pct(peak.val_acc)} in epoch "
            f"{peak.epoch:.0f}, then fell {drop:.1f} points to {common.pct(last.val_acc)} by "
            f"epoch {last.epoch:.0f}: more epochs made the model worse on new data."
        )
    else:
        lines.append(
            f"Validation accuracy was {common.pct(last.val_acc)} after epoch {last.epoch:.0f} "
            f"(best {common.pct(peak.val_acc)} in epoch {peak.epoch:.0f}): no clear "
            "overfitting in this many epochs; more epochs, more label noise or fewer examples "
            "would show it."
        )
    low = min(points, key=common.val_loss)
    if low is not last and common.val_loss(last) > 1.05 * common.val_loss(low):
        why = (
            ", before accuracy peaked: confident mistakes raise the loss before they flip "
            "enough answers to lower the accuracy"
            if low.epoch < peak.epoch
            else ""
        )
        lines.append(
            f"Validation loss was lowest in epoch {low.epoch:.0f} ({common.loss(low.val_loss)}) "
            f"and ended at {common.loss(last.val_loss)}{why}."
        )
    if last.train_acc is not None:
        gap = 100 * (last.train_acc - common.val_acc(last))
        if gap >= 0:
            lines.append(f"Final gap between training and validation accuracy: {gap:.1f} points.")
        elif flipped:
            lines.append(
                f"Training accuracy is still {-gap:.1f} points below validation accuracy: it is "
                "scored against the flipped labels, "
                + (
                    "of which the network has learned only some by heart so far."
                    if memorised
                    else "which the network has not memorised (it still predicts their true class)."
                )
            )
    lines += _stopping_lines(run, values, last)
    return lines


def _stopping_lines(run: RunRecord, values: dict[str, Any], last: Any) -> list[str]:
    s = run.summary
    patience = values["patience"]
    if patience == 0:
        return ["Early stopping was off (patience 0): the run kept its last weights."]
    watched = "validation accuracy" if values["monitor"] == "val_acc" else "validation loss"
    if s.stopped_epoch is None:
        return [
            f"Early stopping (patience {patience}, watching {watched}) never ran out of "
            f"patience; the best epoch, {s.restored_epoch}, was restored at the end."
        ]
    kept = run.point_at_epoch(s.restored_epoch) if s.restored_epoch is not None else None
    kept_acc = common.pct(kept.val_acc if kept else None)
    if values["early_stop"]:
        return [
            f"Early stopping (patience {patience}, watching {watched}) stopped after epoch "
            f"{s.stopped_epoch} of {run.epochs} and restored epoch {s.restored_epoch}: "
            f"validation accuracy {kept_acc}."
        ]
    lines = [
        f"Early stopping (patience {patience}, watching {watched}) would have stopped after "
        f"epoch {s.stopped_epoch} and restored epoch {s.restored_epoch} (validation accuracy "
        f"{kept_acc}), instead of {common.pct(last.val_acc)} after all {run.epochs} epochs, "
        f"using {s.stopped_epoch / run.epochs:.0%} of the training time; those weights are "
        "the ones this run kept."
    ]
    peak = max(run.epoch_points()[1:], key=common.val_acc)
    if (
        kept is not None
        and peak.epoch > s.stopped_epoch
        and common.val_acc(peak) > common.val_acc(kept)
    ):
        lines.append(
            f"The best validation accuracy came later, in epoch {peak.epoch:.0f} "
            f"({common.pct(peak.val_acc)}, "
            f"{100 * (common.val_acc(peak) - common.val_acc(kept)):.1f} points more): "
            f"patience {patience} stopped on a plateau; more patience trades training time for "
            "the chance of such a later peak."
        )
    return lines


def check(values: dict[str, Any]) -> list[str]:
    return common.check_model(values)


register(
    Experiment(
        name="epochs",
        title="Epochs: overfitting and early stopping",
        explanation=(
            "Trains one network for many epochs on data where part of the training labels "
            "were flipped to wrong classes. Early on the network learns the real pattern and "
            "validation accuracy climbs; later it memorises the wrong labels, training "
            "accuracy heads for 100% and validation accuracy falls: more epochs are not "
            "always better. Early stopping watches the validation score, stops once it has "
            "not improved for `patience` epochs, and restores the best epoch's weights; the "
            "run marks where that happens."
        ),
        params=PARAMS,
        run=run,
        check=check,
        order=20,
        plan_runs=plan,
    )
)

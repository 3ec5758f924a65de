"""``lr-schedule``: the same model, data, peak LR and budget under different learning-rate
schedules (constant, step, cosine, one-cycle, warmup-stable-decay), each stepped once per
update; then two runs stopped halfway: a cosine planned for the whole budget (still at half
its peak LR when stopped) and a WSD run whose decay was placed before the same stop.

Why: a constant LR keeps the gradient noise of its step size to the end; decaying it lets
the weights settle. A schedule is tied to its budget: cosine reaches its low LR only at the
planned end, while WSD's stable part is the same whatever the budget, so one WSD run can be
branched and decayed at any point (Hägele et al. 2024; MiniCPM, Hu et al. 2024).

``extras``:

- ``finals``: ``{label: {"schedule", "epochs", "planned_epochs", "val_loss", "val_acc",
  "train_loss", "final_lr"}}`` for every run;
- ``best``: the label of the full-budget run with the lowest final validation loss;
- ``stopped``: ``{"cosine", "wsd", "gap", "shared_epochs"}`` for the two runs stopped
  halfway (``shared_epochs``: epochs at which the stopped WSD run matched the full one);
- ``charts``: ``val-loss`` (lines: validation loss per epoch, every run), ``lr`` (lines:
  the learning rate the runs used), ``final`` (bars).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sims import charts
from sims.config import PlannedRun, TrainConfig
from sims.experiments import _common as common
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome, RunRecord
from sims.schedules import SCHEDULES

if TYPE_CHECKING:
    from sims.lab import Lab

AUTO_LR = {"sgd": 0.05, "adam": 0.003}
NAMES = {
    "constant": "constant",
    "step": "step (/10 at 50%, 75%)",
    "cosine": "cosine",
    "one-cycle": "one-cycle",
    "wsd": "WSD",
}
EVALS_PER_EPOCH = 4

PARAMS: tuple[Param, ...] = (
    Param(
        "schedules",
        "str_list",
        list(SCHEDULES),
        "schedules to compare at the same budget: constant, step (/10 at 50% and 75%), cosine "
        "(to 0), one-cycle (torch OneCycleLR defaults, LR only), wsd (warmup-stable-decay)",
        choices=SCHEDULES,
        max_items=5,
    ),
    Param("epochs", "int", 10, "the budget every schedule is planned for", 2, 200),
    Param("batch_size", "int", 32, "examples per update", 1, 65536),
    *common.optimizer_params(optimizer="sgd", auto_lr=AUTO_LR),
    Param(
        "decay_fraction",
        "float",
        0.2,
        "share of the updates WSD spends decaying linearly to 0 (the rest at the peak LR)",
        0.01,
        1.0,
    ),
    Param(
        "warmup_epochs",
        "float",
        0.0,
        "linear warm-up added to every schedule except one-cycle (which has its own)",
        0.0,
        50.0,
    ),
    Param(
        "planned_epochs",
        "int",
        0,
        "the budget the schedules are planned for (0: epochs); fewer than epochs plants a "
        "schedule that decays too early, like a scheduler planned in epochs but stepped per "
        "update",
        0,
        200,
    ),
    Param(
        "stopped_halfway",
        "bool",
        True,
        "also train a cosine planned for `epochs` but stopped after half of them, and a WSD "
        "run decayed before the same stop",
    ),
    *common.data_params(n_examples=10_000),
    *common.model_params(),
)


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    data = common.data_spec(lab.seed, values)
    model = common.model_spec(values)
    epochs = values["epochs"]
    n_train = lab.dataset(data).y_train.shape[0]
    per_epoch = math.ceil(n_train / values["batch_size"])

    def config(schedule: str, epochs: int, planned: int | None = None) -> TrainConfig:
        return TrainConfig(
            batch_size=values["batch_size"],
            epochs=epochs,
            lr=common.learning_rate(values, AUTO_LR),
            optimizer=values["optimizer"],
            schedule=schedule,  # type: ignore[arg-type]
            schedule_epochs=planned,
            decay_fraction=values["decay_fraction"],
            warmup_epochs=0.0 if schedule == "one-cycle" else values["warmup_epochs"],
            eval_every=max(1, per_epoch // EVALS_PER_EPOCH),
        )

    planned = values["planned_epochs"] or None
    full = [
        lab.train(NAMES[s], config(s, epochs, planned), data, model).label
        for s in values["schedules"]
    ]
    stopped: list[str] = []
    if values["stopped_halfway"]:
        half = epochs // 2
        stopped.append(
            lab.train(
                f"cosine planned for {epochs}, stopped at {half}",
                config("cosine", half, planned=epochs),
                data,
                model,
            ).label
        )
        stopped.append(
            lab.train(f"WSD decayed by epoch {half}", config("wsd", half), data, model).label
        )
    return analyse(lab.runs, full, stopped, values, notes=common.data_note(data))


def _final_lr(run: RunRecord) -> float | None:
    return run.history[-1].lr if run.history else None


def analyse(
    runs: list[RunRecord],
    full: list[str],
    stopped: list[str],
    values: dict[str, Any],
    notes: list[str] | None = None,
) -> Outcome:
    """Observations, extras and charts from the trained runs (pure: no training)."""
    lines = list(notes or [])
    by_label = {r.label: r for r in runs}
    lines += common.failed_runs(runs)
    finished = {
        label: by_label[label].summary.final_val_loss
        for label in full
        if by_label[label].status == "ok" and by_label[label].summary.final_val_loss is not None
    }
    epochs = values["epochs"]
    best: str | None = None
    if finished:
        best = min(finished, key=lambda k: finished[k] or math.inf)
        first = by_label[full[0]]
        listing = ", ".join(f"{label} {finished[label]:.3f}" for label in finished)
        lines.append(
            f"Same peak LR ({first.lr:g}), batch and budget ({common.epochs_word(epochs)}, "
            f"{first.summary.updates:,} updates), final validation loss: {listing}. "
            f"Lowest: {best}."
        )
        lines += _decay_lines(finished)
    lines += _too_early(by_label, full, values)
    stopped_extra = _stopped(by_label, full, stopped, epochs)
    if stopped_extra is not None:
        lines += stopped_extra.pop("lines")
    extras: dict[str, Any] = {
        "finals": {r.label: _final(r) for r in runs},
        "best": best,
        "stopped": stopped_extra,
        "charts": _charts(runs),
    }
    return Outcome(lines, extras)


def _decay_lines(finished: dict[str, float | None]) -> list[str]:
    constant = finished.get(NAMES["constant"])
    decaying = {k: v for k, v in finished.items() if k != NAMES["constant"] and v is not None}
    if constant is None or not decaying:
        return []
    lines = []
    below = [k for k, v in decaying.items() if v < constant]
    gaps = [constant - v for v in decaying.values()]
    if len(below) == len(decaying):
        by = f"{gaps[0]:.3f}" if len(gaps) == 1 else f"{min(gaps):.3f} to {max(gaps):.3f}"
        which = "The decaying schedule" if len(gaps) == 1 else "Every decaying schedule"
        lines.append(
            f"{which} ended below the constant LR, by {by}: the constant LR keeps the "
            "gradient noise of its step size to the last update."
        )
    else:
        lines.append(
            f"Not every decaying schedule beat the constant LR here ({len(below)} of "
            f"{len(decaying)} did); a lower peak LR or a longer budget changes that."
        )
    if len(decaying) >= 2:
        spread = max(decaying.values()) - min(decaying.values())
        gap = constant - min(decaying.values())
        verdict = (
            "the shapes matter much less than whether the LR comes down at all"
            if spread < gap / 2
            else "the shape of the decay mattered about as much as decaying at all"
        )
        lines.append(
            f"The decaying schedules ended within {spread:.3f} of each other, against a "
            f"gap of {gap:.3f} from constant to the best: {verdict}. Differences this small "
            "can flip with the seed."
        )
    return lines


def _too_early(
    by_label: dict[str, RunRecord], full: list[str], values: dict[str, Any]
) -> list[str]:
    planned, epochs = values["planned_epochs"], values["epochs"]
    if not planned or planned >= epochs:
        return []
    lines = [
        f"The schedules were planned for {common.epochs_word(planned)} but trained for "
        f"{epochs}: after epoch {planned} the decaying ones sat at their lowest LR."
    ]
    for label in full:
        run = by_label[label]
        at_plan, last = run.point_at_epoch(planned), run.history[-1]
        if label == NAMES["constant"] or at_plan is None or run.status != "ok":
            continue
        if at_plan.val_loss is None or last.val_loss is None:
            continue
        lines.append(
            f"{label}: validation loss {at_plan.val_loss:.3f} at epoch {planned} and "
            f"{last.val_loss:.3f} after epoch {epochs} (LR {last.lr:.2g}): the last "
            f"{epochs - planned} epochs "
            + (
                "changed almost nothing; the decay came too early."
                if abs(at_plan.val_loss - last.val_loss) < 0.02
                else f"moved it by {last.val_loss - at_plan.val_loss:+.3f}."
            )
        )
    return lines


def _stopped(
    by_label: dict[str, RunRecord], full: list[str], stopped: list[str], epochs: int
) -> dict[str, Any] | None:
    if len(stopped) != 2:
        return None
    cosine, wsd = by_label[stopped[0]], by_label[stopped[1]]
    c_loss, w_loss = cosine.summary.final_val_loss, wsd.summary.final_val_loss
    if c_loss is None or w_loss is None or cosine.status != "ok" or wsd.status != "ok":
        return {"lines": [], "cosine": c_loss, "wsd": w_loss, "gap": None, "shared_epochs": 0}
    half = epochs // 2
    c_lr, peak = _final_lr(cosine), cosine.lr
    lines = [
        f"Stopped after {common.epochs_word(half)} of {epochs}: the cosine run was still at "
        f"LR {c_lr:.3g} ({100 * (c_lr or 0) / peak:.0f}% of its peak) and ended at validation "
        f"loss {c_loss:.3f}; the WSD run, decayed over the last {100 * _fraction(wsd):.0f}% "
        f"before the same stop, ended at {w_loss:.3f} "
        + (
            f"({c_loss - w_loss:.3f} lower). A cosine schedule is tied to its planned end; "
            "WSD can be decayed wherever training stops."
            if w_loss < c_loss
            else f"({w_loss - c_loss:.3f} higher): in this run, decaying early did not pay."
        )
    ]
    full_wsd = by_label.get(NAMES["wsd"]) if NAMES["wsd"] in full else None
    shared = 0
    if full_wsd is not None:
        long_points = {p.epoch: p.val_loss for p in full_wsd.epoch_points()}
        for point in wsd.epoch_points():
            if point.epoch == 0 or long_points.get(point.epoch) != point.val_loss:
                continue
            shared = int(point.epoch)
        if shared:
            lines.append(
                f"The stopped WSD run matched the full WSD run exactly up to epoch {shared} "
                "(same seed, batches and LR until its decay began): it is a branch of the long "
                "run, so one stable run can serve several budgets."
            )
    full_cosine = by_label.get(NAMES["cosine"]) if NAMES["cosine"] in full else None
    if full_cosine is not None and full_cosine.summary.final_val_loss is not None:
        lines.append(
            f"Cosine over the whole {common.epochs_word(epochs)} reached "
            f"{full_cosine.summary.final_val_loss:.3f}; stopping it halfway cost "
            f"{c_loss - full_cosine.summary.final_val_loss:.3f}."
        )
    return {
        "lines": lines,
        "cosine": c_loss,
        "wsd": w_loss,
        "gap": c_loss - w_loss,
        "shared_epochs": shared,
    }


def _fraction(run: RunRecord) -> float:
    return float(run.config.get("train", {}).get("decay_fraction", 0.0))


def _final(run: RunRecord) -> dict[str, Any]:
    train = run.config.get("train", {})
    planned = train.get("schedule_epochs")
    return {
        "schedule": train.get("schedule"),
        "epochs": run.epochs,
        "planned_epochs": planned if planned is not None else run.epochs,
        "val_loss": run.summary.final_val_loss,
        "val_acc": run.summary.final_val_acc,
        "train_loss": run.summary.final_train_loss,
        "final_lr": _final_lr(run),
        "status": run.status,
    }


def _charts(runs: list[RunRecord]) -> list[dict[str, Any]]:
    loss_curves = [charts.series(r.label, [(p.epoch, p.val_loss) for p in r.history]) for r in runs]
    lr_curves = [
        charts.series(r.label, [(p.epoch, p.lr) for p in r.history if p.update > 0]) for r in runs
    ]
    return [
        charts.lines(
            "val-loss",
            "Validation loss per epoch under each schedule",
            x_label="epoch",
            y_label="validation loss",
            curves=loss_curves,
        ),
        charts.lines(
            "lr",
            "Learning rate the runs used (stepped per update)",
            x_label="epoch",
            y_label="learning rate",
            curves=lr_curves,
        ),
        charts.bars(
            "final",
            "Final validation loss per schedule",
            categories=("run", [r.label for r in runs]),
            groups=[("final validation loss", [r.summary.final_val_loss for r in runs])],
            value_label="validation loss",
            value_format=".3f",
        ),
    ]


def check(values: dict[str, Any]) -> list[str]:
    problems = common.check_model(values)
    if values["stopped_halfway"] and values["epochs"] < 2:
        problems.append("epochs: expected at least 2 to stop halfway; got 1")
    return problems


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    data, model = common.data_spec(0, values), common.model_spec(values)
    batch = values["batch_size"]
    per_epoch = math.ceil(data.n_train / batch)
    epochs = [values["epochs"]] * len(values["schedules"])
    if values["stopped_halfway"]:
        epochs += [values["epochs"] // 2] * 2
    every = max(1, per_epoch // EVALS_PER_EPOCH)
    return [
        PlannedRun(batch, e * per_epoch, data, model, values["optimizer"], eval_every=every)
        for e in epochs
    ]


register(
    Experiment(
        name="lr-schedule",
        title="Learning-rate schedules at the same budget",
        explanation=(
            "Trains the same model with the same peak learning rate and number of updates "
            "under a constant LR, step decay, cosine, one-cycle and warmup-stable-decay "
            "(WSD), each stepped once per update, and compares where they end. Then a cosine "
            "run planned for the whole budget is stopped halfway, still at half its peak LR, "
            "beside a WSD run whose short decay was placed before the same stop: a schedule "
            "is tied to its budget, and WSD's stable phase lets one run be decayed at any "
            "point."
        ),
        params=PARAMS,
        run=run,
        plan_runs=plan,
        check=check,
        order=45,
    )
)

"""``lr-scaling``: does a learning-rate scaling rule keep larger batches on the small batch's
curve? (Goyal et al. 2017 for SGD: linear; Malladi et al. 2022 for Adam: square root.)

For each optimizer, one base run at ``base_batch`` with ``base_lr``, then every other batch
size under every rule: ``none`` (the base LR), ``linear`` (LR x B / base_batch) and ``sqrt``
(LR x sqrt(B / base_batch)), all for the same number of epochs (the same examples). A rule
"keeps the curves together" when the validation loss at each epoch end stays close to the
base run's: the gap is the mean absolute difference over epochs, averaged over batch sizes
(a diverged run has no gap: it failed). Warm-up (``warmup_epochs``) ramps the LR of the runs
whose LR a rule changed.

``extras``:

- ``gaps``: ``{optimizer: {rule: gap | null}}`` and ``signed``: the same with signs
  (negative: the scaled runs were ahead of the base, i.e. lower loss);
- ``closest``: ``{optimizer: rule | null}``;
- ``charts``: one ``lines`` chart per optimizer (``curves-sgd`` ...: validation loss per
  epoch, every run, the base dashed) and ``gaps`` (bars: gap per rule, one series per
  optimizer).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sims import charts
from sims.config import OPTIMIZERS, SCALING_RULES, PlannedRun, TrainConfig
from sims.experiments import _common as common
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome, RunRecord

if TYPE_CHECKING:
    from sims.workbench import Lab

AUTO_LR = {"sgd": 0.01, "adam": 0.002}
EXPECTED = {"sgd": ("linear", "Goyal et al. (2017)"), "adam": ("sqrt", "Malladi et al. (2022)")}
NAMES = {"sgd": "SGD", "adam": "Adam"}

PARAMS: tuple[Param, ...] = (
    Param(
        "batch_sizes",
        "int_list",
        [16, 64, 256],
        "batch sizes to train (base_batch is added if missing)",
        min=1,
        max=65536,
        max_items=8,
    ),
    Param("base_batch", "int", 16, "the batch size base_lr is tuned for", min=1, max=65536),
    Param(
        "base_lr",
        "float",
        0.0,
        "learning rate at base_batch (0: a default per optimizer, "
        + ", ".join(f"{NAMES[k]} {v:g}" for k, v in AUTO_LR.items())
        + ")",
        min=0.0,
        max=100.0,
    ),
    Param(
        "optimizers",
        "str_list",
        ["sgd", "adam"],
        "optimizers to compare (sgd has momentum 0.9)",
        choices=OPTIMIZERS,
        max_items=2,
    ),
    Param(
        "rules",
        "str_list",
        ["none", "linear", "sqrt"],
        "scaling rules: none (same LR), linear (x B/base), sqrt (x sqrt(B/base))",
        choices=SCALING_RULES,
        max_items=3,
    ),
    Param(
        "warmup_epochs",
        "float",
        0.0,
        "ramp the LR up linearly over this many epochs in runs whose LR a rule changed",
        min=0.0,
        max=100.0,
    ),
    Param("epochs", "int", 5, "passes over the training data, the same for every run", 1, 200),
    *common.data_params(n_examples=10_000),
    *common.model_params(),
)


def base_lr(values: dict[str, Any], optimizer: str) -> float:
    return float(values["base_lr"]) or AUTO_LR[optimizer]


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    data = common.data_spec(lab.seed, values)
    model = common.model_spec(values)
    base = values["base_batch"]
    others = [b for b in values["batch_sizes"] if b != base]
    groups: dict[str, dict[str, list[RunRecord]]] = {}
    bases: dict[str, RunRecord] = {}
    for optimizer in values["optimizers"]:
        name, lr = NAMES[optimizer], base_lr(values, optimizer)
        config = TrainConfig(
            batch_size=base, epochs=values["epochs"], lr=lr, optimizer=optimizer, base_batch=base
        )
        bases[optimizer] = lab.train(f"{name} batch {base} (base)", config, data, model)
        groups[optimizer] = {}
        for rule in values["rules"]:
            runs = []
            for batch in others:
                config = TrainConfig(
                    batch_size=batch,
                    epochs=values["epochs"],
                    lr=lr,
                    optimizer=optimizer,
                    lr_scaling=rule,
                    base_batch=base,
                    warmup_epochs=values["warmup_epochs"] if rule != "none" else 0.0,
                )
                runs.append(lab.train(f"{name} {rule} batch {batch}", config, data, model))
            groups[optimizer][rule] = runs
    return analyse(bases, groups, values, notes=common.data_note(data))


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    data, model = common.data_spec(0, values), common.model_spec(values)
    base = values["base_batch"]
    others = [b for b in values["batch_sizes"] if b != base]
    runs = []
    for optimizer in values["optimizers"]:
        for batch in [base] + others * len(values["rules"]):
            updates = values["epochs"] * math.ceil(data.n_train / batch)
            runs.append(PlannedRun(batch, updates, data, model, optimizer))
    return runs


def curve_gap(run: RunRecord, base: RunRecord) -> tuple[float, float] | None:
    """(mean |difference|, mean signed difference) of validation loss at matching epoch ends
    1..E; ``None`` if the run diverged or stopped early."""
    if run.status != "ok":
        return None
    ours = {p.epoch: common.val_loss(p) for p in run.epoch_points() if p.epoch > 0}
    theirs = {p.epoch: common.val_loss(p) for p in base.epoch_points() if p.epoch > 0}
    epochs = sorted(set(ours) & set(theirs))
    if not epochs or len(epochs) < len(theirs):
        return None
    diffs = [ours[e] - theirs[e] for e in epochs]
    if not all(math.isfinite(d) for d in diffs):
        return None
    return sum(abs(d) for d in diffs) / len(diffs), sum(diffs) / len(diffs)


def analyse(
    bases: dict[str, RunRecord],
    groups: dict[str, dict[str, list[RunRecord]]],
    values: dict[str, Any],
    notes: list[str] | None = None,
) -> Outcome:
    """Observations, extras and charts from the runs (pure: no training)."""
    lines = list(notes or [])
    base = values["base_batch"]
    gaps: dict[str, dict[str, float | None]] = {}
    signed: dict[str, dict[str, float | None]] = {}
    closest: dict[str, str | None] = {}
    for optimizer, by_rule in groups.items():
        name, reference = NAMES[optimizer], bases[optimizer]
        gaps[optimizer], signed[optimizer] = {}, {}
        if reference.status != "ok":
            lines.append(
                f"{name}: the base run (batch {base}, LR {reference.lr:g}) did not finish "
                f"({reference.status}: {reference.summary.reason}); there is no curve to match. "
                "Lower base_lr."
            )
            closest[optimizer] = None
            continue
        for rule, runs in by_rule.items():
            measured = [curve_gap(r, reference) for r in runs]
            if runs and all(m is not None for m in measured):
                gaps[optimizer][rule] = sum(m[0] for m in measured if m) / len(runs)
                signed[optimizer][rule] = sum(m[1] for m in measured if m) / len(runs)
            else:
                gaps[optimizer][rule] = signed[optimizer][rule] = None
        lines += _optimizer_lines(name, optimizer, reference, by_rule, gaps, signed, closest)
    lines += common.failed_runs(
        [r for by_rule in groups.values() for rs in by_rule.values() for r in rs]
    )
    extras = {
        "gaps": gaps,
        "signed": signed,
        "closest": closest,
        "charts": _charts(bases, groups, gaps, values),
    }
    return Outcome(lines, extras)


def _optimizer_lines(
    name: str,
    optimizer: str,
    reference: RunRecord,
    by_rule: dict[str, list[RunRecord]],
    gaps: dict[str, dict[str, float | None]],
    signed: dict[str, dict[str, float | None]],
    closest: dict[str, str | None],
) -> list[str]:
    lines = []
    final = reference.summary.final_val_loss
    per_rule = []
    for rule, runs in by_rule.items():
        ends = ", ".join(
            f"batch {r.batch_size} {common.loss(r.summary.final_val_loss)}"
            if r.status == "ok"
            else f"batch {r.batch_size} {r.status}"
            for r in runs
        )
        per_rule.append(f"{rule}: {ends}")
    if per_rule:
        lines.append(
            f"{name}, final validation loss (base batch {reference.batch_size} at LR "
            f"{reference.lr:g}: {common.loss(final)}); " + "; ".join(per_rule) + "."
        )
    measured = {rule: gap for rule, gap in gaps[optimizer].items() if gap is not None}
    failed = [rule for rule, gap in gaps[optimizer].items() if gap is None]
    if not measured:
        closest[optimizer] = None
        if failed:
            lines.append(f"{name}: every rule had a run that diverged or stopped early.")
        return lines
    ranked = sorted(measured, key=lambda rule: measured[rule])
    best = ranked[0]
    closest[optimizer] = best if len(measured) > 1 else None
    if len(measured) == 1:
        direction = signed[optimizer][best]
        side = ""
        if direction is not None and abs(direction) > 0.5 * measured[best]:
            side = ", ahead of it" if direction < 0 else ", behind it"
        lines.append(
            f"{name}: under {best} scaling the larger batches' validation-loss curves stayed "
            f"within a mean gap of {measured[best]:.3f} per epoch of batch "
            f"{reference.batch_size}'s{side}. Add another rule to compare."
        )
        return lines
    order = ", then ".join(f"{rule} ({measured[rule]:.3f})" for rule in ranked)
    direction = signed[optimizer][best]
    lead = ""
    if direction is not None and abs(direction) > 0.5 * measured[best]:
        lead = " (ahead of the base)" if direction < 0 else " (behind the base)"
    sentence = (
        f"{name}: {best} scaling kept the larger batches' validation-loss curves closest to "
        f"batch {reference.batch_size}'s{lead}: mean gap per epoch {order}."
    )
    if failed:
        sentence += f" Rule {', '.join(failed)} had a run that diverged or stopped early."
    lines.append(sentence)
    expected, source = EXPECTED[optimizer]
    if expected not in measured and expected not in failed:
        lines.append(f"{source}'s rule for {name}, {expected}, was not among the rules run.")
    elif expected == best:
        lines.append(f"{source} recommend {expected} scaling for {name}; this run agrees.")
    elif expected in failed:
        lines.append(
            f"{source} recommend {expected} scaling for {name}, but here it diverged; a "
            "smaller base LR or a warm-up (warmup_epochs) may rescue it."
        )
    else:
        gap = measured[expected]
        lines.append(
            f"{source} recommend {expected} scaling for {name}; here it came out behind "
            f"{best} ({gap:.3f} vs {measured[best]:.3f}). Small tasks and short runs can "
            "differ from the papers' settings; try another seed, base_lr or warm-up."
        )
    return lines


def _charts(
    bases: dict[str, RunRecord],
    groups: dict[str, dict[str, list[RunRecord]]],
    gaps: dict[str, dict[str, float | None]],
    values: dict[str, Any],
) -> list[dict[str, Any]]:
    result = []
    for optimizer, by_rule in groups.items():
        name = NAMES[optimizer]
        reference = bases[optimizer]
        curves = [
            charts.series(
                f"batch {reference.batch_size} (base)",
                [(p.epoch, common.val_loss(p)) for p in reference.epoch_points()],
                "dashed",
            )
        ]
        for rule, runs in by_rule.items():
            for r in runs:
                curves.append(
                    charts.series(
                        f"{rule}, batch {r.batch_size}",
                        [(p.epoch, common.val_loss(p)) for p in r.epoch_points()],
                    )
                )
        result.append(
            charts.lines(
                f"curves-{optimizer}",
                f"{name}: validation loss per epoch under each scaling rule",
                x_label="epoch",
                y_label="validation loss",
                curves=curves,
            )
        )
    rules = list(values["rules"])
    result.append(
        charts.bars(
            "gaps",
            "Mean gap to the base batch's curve (lower: the rule kept the curves together)",
            categories=("rule", rules),
            groups=[
                (NAMES[optimizer], [gaps.get(optimizer, {}).get(rule) for rule in rules])
                for optimizer in groups
            ],
            value_label="mean |validation loss - base| per epoch",
            value_format=".3f",
        )
    )
    return result


def check(values: dict[str, Any]) -> list[str]:
    problems = common.check_model(values)
    if all(b == values["base_batch"] for b in values["batch_sizes"]):
        problems.append(
            f"batch_sizes: expected at least one batch size other than base_batch "
            f"({values['base_batch']}); got {values['batch_sizes']}"
        )
    return problems


register(
    Experiment(
        name="lr-scaling",
        title="Scaling the learning rate with the batch: none, linear, square root",
        explanation=(
            "Trains a base batch size at a tuned learning rate, then larger batches for the "
            "same number of epochs with the learning rate kept, scaled linearly with the "
            "batch, or scaled by its square root, for SGD and for Adam. The rule that keeps "
            "the validation curves of the larger batches on top of the base curve is the one "
            "that preserves the training dynamics: linear for SGD (Goyal et al. 2017, with a "
            "warm-up for very large batches), square root for Adam (Malladi et al. 2022)."
        ),
        params=PARAMS,
        run=run,
        check=check,
        order=40,
        plan_runs=plan,
    )
)

"""``lr-finder``: the learning-rate range test (Smith 2017; fastai ``lr_find``), then a check
that the suggested rate trains.

The range test trains one fresh model for at most ``num_steps`` updates while the LR grows
exponentially from ``lr_min`` to ``lr_max`` (one evaluation per update, without the
validation set, which nothing here reads), smooths the mini-batch
losses with a bias-corrected moving average (``smoothing``, fastai's 0.98), and stops once the
smoothed loss exceeds ``stop_factor`` times its minimum. From the smoothed curve it derives
fastai's three suggestions (``minimum``: the LR of the lowest loss / 10; ``steep``: the
steepest descent; ``valley``) and uses the one named by ``suggestion``. Then ``check_epochs``
of ordinary training at the suggestion (and, with ``check_at_minimum``, at the LR of the
lowest smoothed loss) show whether it really trains.

``extras``:

- ``range_test``: ``{"lrs", "losses", "smoothed"}`` (one entry per update),
  ``"stopped_at"`` (LR or null), ``"stop_reason"``;
- ``suggestions``: ``{"minimum", "steep", "valley"}`` (LR or null each); ``suggested_lr``
  (the one used), ``suggestion`` (its rule) and ``min_loss_lr``;
- ``checks``: ``[{"lr", "role": "suggested" | "minimum", "status", "final_val_loss",
  "final_val_acc", "start_val_loss"}]``;
- ``charts``: ``range-test`` (lines on a log LR axis: mini-batch loss as points, smoothed
  loss as a line, marks at each suggestion, the minimum and the stop).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sims import charts
from sims.config import OPTIMIZERS, PlannedRun, TrainConfig
from sims.experiments import _common as common
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome, RunRecord

if TYPE_CHECKING:
    from sims.workbench import Lab

PARAMS: tuple[Param, ...] = (
    Param("batch_size", "int", 64, "examples per update", min=1, max=65536),
    Param("lr_min", "float", 1e-5, "learning rate at the first update", min=1e-9, max=10.0),
    Param("lr_max", "float", 10.0, "learning rate the ramp ends at", min=1e-6, max=1000.0),
    Param("num_steps", "int", 100, "updates in the ramp (at most)", min=10, max=10_000),
    Param("optimizer", "str", "sgd", "sgd (momentum 0.9) or adam", choices=OPTIMIZERS),
    Param(
        "check_epochs",
        "int",
        3,
        "epochs of ordinary training at the suggested LR afterwards (0: no check)",
        min=0,
        max=100,
    ),
    Param(
        "suggestion",
        "str",
        "minimum",
        "which suggestion to check: minimum (LR of the lowest smoothed loss / 10), steep "
        "(steepest descent) or valley (fastai's default)",
        choices=("minimum", "steep", "valley"),
    ),
    Param(
        "check_at_minimum",
        "bool",
        True,
        "also train at the LR where the smoothed loss was lowest, for comparison",
    ),
    Param(
        "smoothing",
        "float",
        0.98,
        "moving-average factor for the loss (0: no smoothing)",
        min=0.0,
        max=0.999,
    ),
    Param(
        "stop_factor",
        "float",
        4.0,
        "stop once the smoothed loss exceeds this many times its minimum",
        min=1.1,
        max=100.0,
    ),
    *common.data_params(n_examples=10_000),
    *common.model_params(),
)


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    from sims.probes import RangeTestStop

    data = common.data_spec(lab.seed, values)
    model = common.model_spec(values)
    n_train = int(lab.dataset(data).y_train.shape[0])
    batch, steps = values["batch_size"], values["num_steps"]
    config = TrainConfig(
        batch_size=batch,
        epochs=math.ceil(steps / math.ceil(n_train / batch)),
        max_updates=steps,
        lr=values["lr_min"],
        lr_end=values["lr_max"],
        optimizer=values["optimizer"],
        eval_every=1,
        divergence_factor=math.inf,  # the range test decides when the loss has blown up
        validate=False,  # the range test reads only the mini-batch losses
    )
    test = lab.train(
        f"range test {values['lr_min']:g} -> {values['lr_max']:g}",
        config,
        data,
        model,
        hooks=[RangeTestStop(values["smoothing"], values["stop_factor"])],
    )
    found = suggest(test, values["smoothing"])
    checks: list[tuple[str, RunRecord]] = []
    chosen = found.get(values["suggestion"])
    if values["check_epochs"] and chosen is not None:
        wanted = [("suggested", chosen)]
        if values["check_at_minimum"] and found.minimum is not None:
            wanted.append(("minimum", found.minimum))
        for role, lr in wanted:
            config = TrainConfig(
                batch_size=batch,
                epochs=values["check_epochs"],
                lr=lr,
                optimizer=values["optimizer"],
            )
            label = f"check at LR {lr:.3g} ({role})"
            checks.append((role, lab.train(label, config, data, model)))
    return analyse(test, found, checks, values, notes=common.data_note(data))


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    data, model = common.data_spec(0, values), common.model_spec(values)
    batch, optimizer = values["batch_size"], values["optimizer"]
    # The range test evaluates after every update and stops once the loss has blown up.
    runs = [PlannedRun(batch, values["num_steps"], data, model, optimizer, 1, at_most=True)]
    if values["check_epochs"]:
        checks = 2 if values["check_at_minimum"] else 1
        updates = values["check_epochs"] * math.ceil(data.n_train / batch)
        runs += [PlannedRun(batch, updates, data, model, optimizer) for _ in range(checks)]
    return runs


SUGGESTIONS: tuple[str, ...] = ("minimum", "steep", "valley")
RULE_NAMES = {
    "minimum": "LR of the lowest smoothed loss / 10",
    "steep": "steepest descent",
    "valley": "valley (fastai's default)",
}


class Suggestion:
    """What the range test's curve says: the three suggestions fastai's ``lr_find`` offers,
    computed on the smoothed loss (all LRs are ones the test actually used)."""

    def __init__(self, lrs: list[float], losses: list[float], smoothed: list[float]) -> None:
        self.lrs, self.losses, self.smoothed = lrs, losses, smoothed
        self.minimum: float | None = None  # LR of the lowest smoothed loss
        self.by_rule: dict[str, float] = {}

    def get(self, rule: str) -> float | None:
        return self.by_rule.get(rule)


def suggest(test: RunRecord, beta: float) -> Suggestion:
    """Suggestions from the range test's per-update points (update 0, before any step, is
    left out). As fastai does, the first tenth and the last five points (the blow-up) are
    not searched. ``minimum``: the LR of the lowest smoothed loss / 10; ``steep``: the LR
    where the smoothed loss fell fastest per unit of log LR; ``valley``: a point 1/2 of the
    way into the longest stretch over which the smoothed loss kept falling."""
    from sims.probes import smooth_losses

    points = [p for p in test.history if p.update > 0 and p.lr is not None]
    lrs = [float(p.lr) for p in points if p.lr is not None]
    losses = [p.train_loss for p in points]
    finite = [i for i, x in enumerate(losses) if math.isfinite(x)]
    lrs, losses = lrs[: len(finite)], losses[: len(finite)]
    smoothed = smooth_losses(losses, beta)
    found = Suggestion(lrs, losses, smoothed)
    lo, hi = len(smoothed) // 10, len(smoothed) - 5
    if hi - lo < 3:
        return found
    xs, ys = lrs[lo:hi], smoothed[lo:hi]
    low = min(range(len(ys)), key=lambda i: ys[i])
    found.minimum = xs[low]
    found.by_rule["minimum"] = xs[low] / 10
    slopes = [
        (ys[i + 1] - ys[i]) / (math.log(xs[i + 1]) - math.log(xs[i])) for i in range(len(ys) - 1)
    ]
    steepest = min(range(len(slopes)), key=lambda i: slopes[i])
    if slopes[steepest] < 0:
        found.by_rule["steep"] = xs[steepest]
    found.by_rule["valley"] = xs[_valley(ys)]
    return found


def _valley(losses: list[float]) -> int:
    """fastai's ``valley``: the longest run over which the loss kept falling (a longest
    decreasing subsequence), and a point about half-way along it."""
    longest = [1] * len(losses)
    start = end = 0
    for i in range(1, len(losses)):
        for j in range(i):
            if losses[i] < losses[j] and longest[i] < longest[j] + 1:
                longest[i] = longest[j] + 1
        if longest[end] < longest[i]:
            end = i
            start = end - longest[end]
    third = (end - start) / 3
    return max(0, min(len(losses) - 1, start + int(third) + int(third / 2)))


def analyse(
    test: RunRecord,
    found: Suggestion,
    checks: list[tuple[str, RunRecord]],
    values: dict[str, Any],
    notes: list[str] | None = None,
) -> Outcome:
    """Observations, extras and the chart (pure: no training)."""
    lines = list(notes or [])
    reason = test.summary.reason
    last_lr = found.lrs[-1] if found.lrs else None
    if last_lr is not None:
        if reason:
            lines.append(
                f"The range test raised the LR from {values['lr_min']:g} over "
                f"{len(found.lrs)} updates and stopped at LR {last_lr:.3g}: {reason}."
            )
        else:
            lines.append(
                f"The range test ran all {len(found.lrs)} updates up to LR {last_lr:.3g} "
                f"without the smoothed loss passing {values['stop_factor']:g}x its minimum; "
                "raise lr_max to see where training breaks down."
            )
    rule = values["suggestion"]
    chosen = found.get(rule)
    if found.minimum is not None:
        low = min(found.smoothed)
        lines.append(
            f"The smoothed loss fell from {found.smoothed[0]:.3g} to its minimum {low:.3g} at "
            f"LR {found.minimum:.3g}."
        )
        options = "; ".join(
            f"{RULE_NAMES[name]}: {found.by_rule[name]:.3g}"
            + (" (checked)" if name == rule else "")
            for name in SUGGESTIONS
            if name in found.by_rule
        )
        lines.append(
            f"Three different suggestions from the smoothed curve (they are different rules "
            f"and need not agree): {options}."
        )
    if chosen is not None and found.minimum is not None:
        where = "below" if chosen < found.minimum else "at or above"
        steep = found.get("steep")
        versus = ""
        if rule != "steep" and steep is not None:
            ratio = max(steep, chosen) / min(steep, chosen)
            versus = (
                f"; the steepest descent ({steep:.3g}) is {ratio:.3g}x "
                f"{'higher' if steep > chosen else 'lower'}"
            )
        lines.append(
            f"The suggestion checked here is the {RULE_NAMES[rule]}: {chosen:.3g}, "
            f"{found.minimum / chosen:.3g}x {where} the LR of the lowest smoothed loss{versus}."
        )
    elif chosen is None:
        lines.append(
            f"The curve is too short or never fell, so there is no '{rule}' suggestion; widen "
            f"the range (lr_min {values['lr_min']:g}, lr_max {values['lr_max']:g}) or add "
            "num_steps."
        )
    for role, record in checks:
        lines.append(_check_line(role, record))
    if len(checks) == 2 and all(r.status == "ok" for _, r in checks):
        (_, s), (_, m) = checks
        ours, theirs = s.summary.final_val_loss, m.summary.final_val_loss
        if ours is not None and theirs is not None:
            if abs(ours - theirs) <= 0.01 * max(ours, theirs):
                lines.append(
                    f"After {values['check_epochs']} epochs both ended at the same validation "
                    f"loss ({common.loss(ours)})."
                )
            else:
                better = "suggested" if ours < theirs else "minimum's"
                lines.append(
                    f"After {values['check_epochs']} epochs the {better} LR reached the lower "
                    f"validation loss ({common.loss(ours)} vs {common.loss(theirs)})."
                )
    marks = [
        charts.mark(lr, f"{name}" + (" (suggested)" if name == rule else ""))
        for name, lr in found.by_rule.items()
    ]
    if found.minimum is not None:
        marks.append(charts.mark(found.minimum, "lowest smoothed loss"))
    if reason and last_lr is not None:
        marks.append(charts.mark(last_lr, "stopped"))
    chart = charts.lines(
        "range-test",
        "LR range test: loss while the learning rate grows",
        x_label="learning rate",
        y_label="training loss",
        curves=[
            charts.series(
                "mini-batch loss", list(zip(found.lrs, found.losses, strict=True)), "points"
            ),
            charts.series("smoothed", list(zip(found.lrs, found.smoothed, strict=True)), "line"),
        ],
        x_scale="log",
        marks=marks,
        # Past the stop the raw losses explode; show the range the smoothed curve spans.
        y_range=(0.0, 1.5 * max(found.smoothed)) if found.smoothed else (None, None),
    )
    extras: dict[str, Any] = {
        "range_test": {
            "lrs": found.lrs,
            "losses": found.losses,
            "smoothed": found.smoothed,
            "stopped_at": last_lr if reason else None,
            "stop_reason": reason,
        },
        "suggestions": {name: found.get(name) for name in SUGGESTIONS},
        "suggestion": rule,
        "suggested_lr": chosen,
        "min_loss_lr": found.minimum,
        "checks": [
            {
                "lr": r.lr,
                "role": role,
                "status": r.status,
                "final_val_loss": r.summary.final_val_loss,
                "final_val_acc": r.summary.final_val_acc,
                "start_val_loss": r.history[0].val_loss if r.history else None,
            }
            for role, r in checks
        ],
        "charts": [chart],
    }
    return Outcome(lines, extras)


def _check_line(role: str, record: RunRecord) -> str:
    what = "the suggested LR" if role == "suggested" else "the LR of the minimum"
    start = record.history[0].val_loss if record.history else None
    if record.status == "diverged":
        return f"Check at {what} ({record.lr:.3g}): training diverged ({record.summary.reason})."
    if record.status != "ok":
        return f"Check at {what} ({record.lr:.3g}): {record.status} ({record.summary.reason})."
    return (
        f"Check at {what} ({record.lr:.3g}): {common.epochs_word(record.summary.epochs_completed)} "
        f"without diverging; validation loss {common.loss(start)} -> "
        f"{common.loss(record.summary.final_val_loss)}, accuracy "
        f"{common.pct(record.summary.final_val_acc)}."
    )


def check(values: dict[str, Any]) -> list[str]:
    problems = common.check_model(values)
    if values["lr_min"] >= values["lr_max"]:
        problems.append(
            f"lr_max: expected a learning rate above lr_min ({values['lr_min']:g}); "
            f"got {values['lr_max']:g}"
        )
    return problems


register(
    Experiment(
        name="lr-finder",
        title="Learning-rate range test: find a good LR in one short run",
        explanation=(
            "Raises the learning rate exponentially, one mini-batch at a time, and watches the "
            "smoothed training loss: flat while the LR is too small to matter, falling steeply "
            "in the useful range, then blowing up when the steps overshoot. It reports "
            "different suggestions, all below the LR of the lowest loss (where training is "
            "already on the edge): that LR divided by 10 (checked by default), the point of "
            "steepest descent, and fastai's valley. They are different rules and can differ "
            "several-fold; the findings say which one was checked, and a short run at it shows "
            "whether it really trains (Smith 2017; fastai lr_find)."
        ),
        params=PARAMS,
        run=run,
        check=check,
        order=50,
        plan_runs=plan,
    )
)

"""``noise-scale``: the gradient noise scale measured during training (McCandlish et al.
2018), compared with the critical batch a steps-to-target ladder on the same task shows.

The model trains at ``batch_small``. Every few updates a probe (outside the optimizer step)
draws ``batch_big`` training examples, takes the gradient of each ``batch_small`` chunk at
the current weights, and from the squared norms of the small-batch and big-batch gradients
forms unbiased estimates of ``|G|^2`` and ``tr(Sigma)``; their moving averages give
``B_simple = tr(Sigma) / |G|^2``, the batch size at which gradient noise and signal are about
equal. It is read at the update where the exact training loss first reaches ``target_loss``.
With ``compare``, a coarse steps-to-target ladder (batch x4 per rung) on the same data and
target gives the measured side: the fitted critical batch ``B_crit`` of
``S = S_min (1 + B_crit / B)`` and the regimes read off that fit.

``extras``:

- ``noise``: ``[{"update", "examples", "train_loss", "noise_scale", "grad_sq",
  "trace_sigma"}]`` at each evaluation; ``at_target``: that row where the target was first
  reached, or null; ``final``: the last row;
- ``ladder``, ``regimes``, ``fit``: as in ``steps-to-target`` (null without ``compare``);
- ``charts``: ``noise-scale`` (lines: B_simple against updates, log y, a mark where the
  target was reached) and, with ``compare``, ``ladder`` (lines, log-log: updates to target
  per batch, with marks at B_simple and B_crit).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sims import charts
from sims.config import DataSpec, PlannedRun, TrainConfig
from sims.experiments import _common as common
from sims.experiments import _ladder as ladder
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome, RunRecord

if TYPE_CHECKING:
    from sims.workbench import Lab

AUTO_LR = {"sgd": 0.02, "adam": 0.002}
COMPARE_BATCHES = [8, 32, 128, 512, 2048, 8192]
COMPARE_LRS = {"sgd": ladder.SGD_LRS, "adam": ladder.ADAM_LRS}
MEASUREMENTS = 150  # noise-scale measurements per run (about)
EMA = 0.9  # moving-average factor per measurement

PARAMS: tuple[Param, ...] = (
    Param(
        "batch_small", "int", 32, "training batch, and the small batch of the estimator", 1, 8192
    ),
    Param(
        "batch_big",
        "int",
        512,
        "the big batch of the estimator (a multiple of batch_small)",
        min=2,
        max=65536,
    ),
    Param("epochs", "int", 3, "passes over the training data", 1, 100),
    *common.optimizer_params(optimizer="sgd", auto_lr=AUTO_LR),
    Param(
        "target_loss",
        "float",
        0.3,
        "training loss at which to read the noise scale (and the ladder's target)",
        min=0.001,
        max=10.0,
    ),
    Param(
        "compare",
        "bool",
        True,
        "also run a coarse steps-to-target ladder on the same task to compare with",
    ),
    *common.data_params(n_examples=20_000),
    *common.model_params(),
)


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    from sims.probes import PROBE_METRIC, GradientNoiseProbe, TrainingLossProbe

    data = common.data_spec(lab.seed, values)
    model = common.model_spec(values)
    dataset = lab.dataset(data)
    n_train = int(dataset.y_train.shape[0])
    small, big = values["batch_small"], values["batch_big"]
    config = TrainConfig(
        batch_size=small,
        epochs=values["epochs"],
        lr=common.learning_rate(values, AUTO_LR),
        optimizer=values["optimizer"],
    )
    total = config.total_updates(n_train)
    config = TrainConfig(
        batch_size=small,
        epochs=values["epochs"],
        lr=config.lr,
        optimizer=values["optimizer"],
        eval_every=max(1, total // 40),
        target_loss=values["target_loss"],
        target_metric=PROBE_METRIC,
        validate=False,  # read by nothing here: the probe's training loss is the yardstick
    )
    probe = GradientNoiseProbe(
        dataset, small, big, every=max(1, total // MEASUREMENTS), beta=EMA, seed=lab.seed
    )
    record = lab.train(
        f"batch {small}, noise scale from {small} vs {big}",
        config,
        data,
        model,
        hooks=[probe, TrainingLossProbe(dataset)],
    )
    rungs = None
    if values["compare"]:
        rungs = ladder.search_ladder(
            lab,
            data,
            model,
            batch_sizes=[b for b in COMPARE_BATCHES if b <= n_train],
            lrs=COMPARE_LRS[values["optimizer"]],
            target=values["target_loss"],
            max_updates=5000,
            optimizer=values["optimizer"],
            label="ladder: ",
        )
    return analyse(record, rungs, values, notes=common.data_note(data))


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    data, model = common.data_spec(0, values), common.model_spec(values)
    small, big, optimizer = values["batch_small"], values["batch_big"], values["optimizer"]
    total = values["epochs"] * math.ceil(data.n_train / small)
    measurements = math.ceil(total / max(1, total // MEASUREMENTS))
    runs = [
        PlannedRun(
            small,
            total,
            data,
            model,
            optimizer,
            eval_every=max(1, total // 40),
            probe_examples=min(2048, data.n_train),
            # each measurement takes the gradients of big // small batches of `small`
            extra_updates=measurements * (big // small),
        )
    ]
    if values["compare"]:
        runs += ladder.plan_ladder(
            data,
            model,
            batch_sizes=[b for b in COMPARE_BATCHES if b <= data.n_train],
            lrs=COMPARE_LRS[optimizer],
            max_updates=5000,
            optimizer=optimizer,
        )
    return runs


def noise_rows(record: RunRecord) -> list[dict[str, Any]]:
    from sims.probes import PROBE_METRIC

    rows = []
    for p in record.history:
        if "noise_scale" not in p.extra:
            continue
        rows.append(
            {
                "update": p.update,
                "examples": p.examples,
                "train_loss": p.extra.get(PROBE_METRIC, p.train_loss),
                "noise_scale": p.extra["noise_scale"],
                "grad_sq": p.extra.get("grad_sq"),
                "trace_sigma": p.extra.get("trace_sigma"),
            }
        )
    return rows


def analyse(
    record: RunRecord,
    rungs: list[ladder.Rung] | None,
    values: dict[str, Any],
    notes: list[str] | None = None,
) -> Outcome:
    """Observations, extras and charts (pure: no training)."""
    lines = list(notes or [])
    target = values["target_loss"]
    rows = noise_rows(record)
    if record.status != "ok":
        lines.append(f"The training run ended early ({record.status}: {record.summary.reason}).")
    at_target = None
    reached = record.summary.updates_to_target
    if reached is not None:
        at_target = next((r for r in rows if r["update"] >= reached), None)
    final = rows[-1] if rows else None
    if rows:
        first = rows[0]
        assert final is not None
        trend = "grew" if final["noise_scale"] > first["noise_scale"] else "did not grow"
        lines.append(
            f"Estimated noise scale B_simple (from batch {values['batch_small']} vs "
            f"{values['batch_big']} gradients) {trend} during training: "
            f"{first['noise_scale']:,.0f} near update {first['update']:,} (training loss "
            f"{first['train_loss']:.2f}), {final['noise_scale']:,.0f} at update "
            f"{final['update']:,} (loss {final['train_loss']:.2f})."
            + (
                " As the loss falls the true gradient shrinks faster than its noise, so larger "
                "batches become useful later in training."
                if trend == "grew"
                else ""
            )
        )
    else:
        lines.append("No noise-scale measurement was recorded (the run ended too early).")
    if at_target is not None:
        lines.append(
            f"When the training loss first reached {target:g} (update {reached:,}), "
            f"B_simple was about {at_target['noise_scale']:,.0f}."
        )
    elif rows:
        lines.append(
            f"The training loss did not reach {target:g} in {values['epochs']} epoch(s); "
            "compare with the last estimate, or train longer."
        )
    shape = fit = None
    if rungs is not None:
        shape = ladder.regimes(rungs)
        fit = shape.fit
        counts = ", ".join(f"{r.batch_size}: {r.updates:,}" for r in rungs if r.updates is not None)
        lines.append(
            f"Steps-to-target ladder on the same task (best LR per batch, updates to loss "
            f"{target:g}): {counts or 'no batch size reached it'}."
        )
        where = []
        if fit is not None:
            where.append(
                f"a fitted critical batch B_crit = {fit[1]:,.0f} (the knee of "
                "S = S_min (1 + B_crit / B), where training takes twice the minimum updates)"
            )
        if shape.perfect_until is not None:
            where.append(f"near-perfect scaling up to batch {shape.perfect_until}")
        if shape.floor_from is not None:
            where.append(f"near the floor S_min from batch {shape.floor_from} (>= 4 B_crit)")
        if where:
            lines.append("The ladder shows " + "; ".join(where) + ".")
        lines += ladder.edge_lines(rungs, COMPARE_LRS[values["optimizer"]])
        reference = at_target or final
        if fit is not None and reference is not None:
            ratio = reference["noise_scale"] / fit[1]
            closeness = (
                "the same order of magnitude"
                if 0.1 <= ratio <= 10
                else "more than an order of magnitude apart"
            )
            lines.append(
                f"B_simple ({reference['noise_scale']:,.0f}) is {ratio:.2g}x the fitted B_crit "
                f"({fit[1]:,.0f}): {closeness}. McCandlish et al. (2018) propose the noise "
                "scale as a cheap predictor of the critical batch, without running the ladder."
            )
    extras: dict[str, Any] = {
        "noise": rows,
        "at_target": at_target,
        "final": final,
        "ladder": None
        if rungs is None
        else [
            {"batch_size": r.batch_size, "best_lr": r.best_lr, "updates": r.updates} for r in rungs
        ],
        "regimes": None
        if shape is None
        else {"perfect_until": shape.perfect_until, "floor_from": shape.floor_from},
        "fit": {"s_min": fit[0], "b_crit": fit[1]} if fit else None,
        "charts": _charts(rows, at_target, rungs, fit, values),
    }
    return Outcome(lines, extras)


def _charts(
    rows: list[dict[str, Any]],
    at_target: dict[str, Any] | None,
    rungs: list[ladder.Rung] | None,
    fit: tuple[float, float] | None,
    values: dict[str, Any],
) -> list[dict[str, Any]]:
    marks = []
    if at_target is not None:
        marks.append(charts.mark(at_target["update"], f"loss {values['target_loss']:g}"))
    result = [
        charts.lines(
            "noise-scale",
            "Gradient noise scale B_simple during training",
            x_label="update",
            y_label="B_simple (examples)",
            curves=[charts.series("B_simple", [(r["update"], r["noise_scale"]) for r in rows])],
            y_scale="log",
            marks=marks,
        )
    ]
    if rungs is not None:
        reached = [r for r in rungs if r.updates is not None]
        curves = [charts.series("updates to target", [(r.batch_size, r.updates) for r in reached])]
        if fit is not None:
            s_min, b_crit = fit
            curves.append(
                charts.series(
                    f"fit: B_crit {b_crit:,.0f}",
                    [(r.batch_size, s_min * (1 + b_crit / r.batch_size)) for r in rungs],
                    "dashed",
                )
            )
        ladder_marks = []
        reference = at_target or (rows[-1] if rows else None)
        if reference is not None and math.isfinite(reference["noise_scale"]):
            ladder_marks.append(charts.mark(reference["noise_scale"], "B_simple"))
        if fit is not None:
            ladder_marks.append(charts.mark(fit[1], "B_crit (fit)"))
        result.append(
            charts.lines(
                "ladder",
                f"Updates to reach loss {values['target_loss']:g}, with the noise scale marked",
                x_label="batch size",
                y_label="updates",
                curves=curves,
                x_scale="log2",
                y_scale="log",
                marks=ladder_marks,
            )
        )
    return result


def check(values: dict[str, Any]) -> list[str]:
    problems = common.check_model(values)
    small, big = values["batch_small"], values["batch_big"]
    if big <= small or big % small:
        problems.append(
            f"batch_big: expected a multiple of batch_small ({small}) larger than it; got {big}"
        )
    n_train = DataSpec(name=values["dataset"], n_examples=values["n_examples"]).n_train
    if big > n_train:
        problems.append(
            f"batch_big: expected at most the {n_train:,} training examples "
            f"(dataset {values['dataset']!r}, n_examples {values['n_examples']:,}); got {big:,}"
        )
    return problems


register(
    Experiment(
        name="noise-scale",
        title="Gradient noise scale: how large a batch is still useful?",
        explanation=(
            "Estimates the gradient noise scale B_simple = tr(Sigma) / |G|^2 while a model "
            "trains, from the gradient norms of small and big batches (McCandlish et al. "
            "2018). Below it, a batch's gradient is mostly noise and doubling the batch "
            "nearly halves the steps needed; far above it, the gradient is already accurate "
            "and each doubling saves few steps while nearly doubling the data. A coarse "
            "steps-to-target ladder on the same task shows where that actually happens."
        ),
        params=PARAMS,
        run=run,
        check=check,
        order=80,
        plan_runs=plan,
    )
)

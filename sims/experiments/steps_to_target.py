"""``steps-to-target``: for each batch size, the fewest updates any learning rate in a grid
needs to reach a target training loss (Shallue et al. 2018; McCandlish et al. 2018).

How it searches: batch sizes are taken from the largest down and, for each, the learning rates
nearest the previous batch's best first (the largest first for the first batch). A run stops
as soon as the exact loss on 2,048 training examples reaches the target, or once that loss
has stalled (no 1% gain over the second half of the run); and no run may take more updates
than the best found so far for its batch, since it could not win; a batch size that runs out
of memory is not tried with further LRs. So a grid of 121 runs costs a few times the updates
of the winners. Evaluations are spaced to give about 40 per winning run (every update at large
batches) and skip the validation set, which no result here reads. The regimes come from the
fit of ``S = S_min (1 + B_crit / B)`` over all points, not from single per-doubling cuts:
near-perfect scaling up to B_crit / 4, diminishing returns around the knee B_crit, and near
the floor S_min from 4 B_crit.

``extras``:

- ``ladder``: per batch size ``{"batch_size", "best_lr", "updates", "examples",
  "lr_at_edge", "trials": [{"lr", "outcome", "updates"}]}`` (``updates`` null when no LR
  reached the target; ``outcome``: ``reached`` | ``capped`` (stopped at the best count so
  far) | ``stalled`` (no progress for the last half of the run) | ``not reached`` (in
  ``max_updates``) | ``diverged`` | ``out of memory``);
- ``regimes``: ``{"factors": [{"from", "to", "per_doubling"}] (measured), "perfect_until"
  (largest ladder batch <= B_crit / 4), "floor_from" (smallest ladder batch >= 4 B_crit)}``
  (batch sizes or null; null without a fit);
- ``fit``: ``{"s_min", "b_crit"}`` of ``S = S_min (1 + B_crit / B)`` or null;
- ``lr_slope``: exponent k of best LR ~ B^k over the ladder, or null;
- ``charts``: ``steps`` (lines, log-log: updates to target per batch, the perfect-scaling
  line, the fit, regime marks), ``best-lr`` (lines, log-log), ``grid`` (heatmap of updates
  to target per batch size x LR; empty cells are noted ``diverged`` / ``> N``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sims import charts
from sims.config import OPTIMIZERS, PlannedRun
from sims.experiments import _common as common
from sims.experiments._ladder import (
    SGD_LRS,
    Regimes,
    Rung,
    at_edge,
    edge_lines,
    join,
    plan_ladder,
    regime_lines,
    regimes,
    search_ladder,
)
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome

if TYPE_CHECKING:
    from sims.workbench import Lab

PARAMS: tuple[Param, ...] = (
    Param(
        "batch_sizes",
        "int_list",
        [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
        "the batch-size ladder (a doubling ladder shows the regimes best)",
        min=1,
        max=65536,
    ),
    Param(
        "lrs",
        "float_list",
        SGD_LRS,
        "learning rates tried at every batch size; only the best counts (the default suits "
        "SGD; for Adam use smaller ones, e.g. 0.0002 to 0.05)",
        min=1e-6,
        max=100.0,
    ),
    Param(
        "target_loss",
        "float",
        0.3,
        "training loss to reach (exact loss on 2,048 training examples)",
        min=0.001,
        max=10.0,
    ),
    Param(
        "max_updates",
        "int",
        5000,
        "give up on a batch size / LR after this many updates",
        min=10,
        max=1_000_000,
    ),
    Param("optimizer", "str", "sgd", "sgd (momentum 0.9) or adam", choices=OPTIMIZERS),
    *common.data_params(n_examples=20_000),
    *common.model_params(),
)


def run(lab: Lab, values: dict[str, Any]) -> Outcome:
    data = common.data_spec(lab.seed, values)
    rungs = search_ladder(
        lab,
        data,
        common.model_spec(values),
        batch_sizes=values["batch_sizes"],
        lrs=values["lrs"],
        target=values["target_loss"],
        max_updates=values["max_updates"],
        optimizer=values["optimizer"],
    )
    n_train = int(lab.dataset(data).y_train.shape[0])
    return analyse(rungs, values, n_train, notes=common.data_note(data))


def analyse(
    rungs: list[Rung], values: dict[str, Any], n_train: int, notes: list[str] | None = None
) -> Outcome:
    """Observations, extras and charts from a searched ladder (pure: no training)."""
    lines = list(notes or [])
    target, lrs = values["target_loss"], sorted(values["lrs"])
    reached = [r for r in rungs if r.updates is not None]
    counts = ", ".join(
        f"{r.batch_size}: {r.updates:,} (LR {r.best_lr:g})" for r in reached if r.best_lr
    )
    lines.append(
        f"Fewest updates to a training loss of {target:g}, with the best of {len(lrs)} "
        f"learning rates at each batch size: {counts or 'none reached it'}."
    )
    for rung in rungs:
        if rung.updates is not None:
            continue
        outcomes: dict[str, int] = {}
        for trial in rung.trials:
            outcomes[trial.outcome] = outcomes.get(trial.outcome, 0) + 1
        how = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items())
        lines.append(
            f"At batch {rung.batch_size:,} no learning rate reached the target within "
            f"{values['max_updates']:,} updates ({how})."
        )
    big = [r.batch_size for r in rungs if r.batch_size >= n_train]
    if big:
        lines.append(
            f"Batch size {join(big)} holds the whole training set ({n_train:,} examples): "
            "every update there is full-batch gradient descent."
        )
    shape = regimes(rungs)
    fit = shape.fit
    lines += regime_lines(shape, reached)
    if len(reached) >= 2:
        first, last = reached[0], reached[-1]
        if first.examples and last.examples:
            ratio = last.examples / first.examples
            trade = (
                "larger batches saved updates by spending more data"
                if ratio > 1.05
                else "the larger batch did not need more data"
            )
            lines.append(
                f"Examples processed to reach the target: {first.examples:,} at batch "
                f"{first.batch_size} and {last.examples:,} at batch {last.batch_size} "
                f"({ratio:.1f}x): {trade}."
            )
    slope = _lr_lines(reached, lrs, lines)
    lines += edge_lines(reached, lrs)
    extras: dict[str, Any] = {
        "ladder": [
            {
                "batch_size": r.batch_size,
                "best_lr": r.best_lr,
                "updates": r.updates,
                "examples": r.examples,
                "lr_at_edge": at_edge(r, lrs),
                "trials": [asdict(t) for t in sorted(r.trials, key=lambda t: t.lr)],
            }
            for r in rungs
        ],
        "regimes": {
            "factors": [{"from": a, "to": b, "per_doubling": f} for a, b, f in shape.factors],
            "perfect_until": shape.perfect_until,
            "floor_from": shape.floor_from,
        },
        "fit": {"s_min": fit[0], "b_crit": fit[1]} if fit else None,
        "lr_slope": slope,
        "charts": _charts(rungs, shape, fit, lrs, values),
    }
    return Outcome(lines, extras)


def _lr_lines(reached: list[Rung], lrs: list[float], lines: list[str]) -> float | None:
    tuned = [r for r in reached if r.best_lr is not None]
    fit = charts.fit_power_law(
        [r.batch_size for r in tuned], [r.best_lr for r in tuned if r.best_lr is not None]
    )
    if fit is None or len(tuned) < 2:
        return None
    slope = fit[0]
    low, high = tuned[0], tuned[-1]
    assert low.best_lr is not None and high.best_lr is not None
    if high.best_lr > low.best_lr:
        trend = "grew"
    elif high.best_lr < low.best_lr:
        trend = "fell"
    else:
        trend = "stayed"
    lines.append(
        f"The best learning rate {trend} from {low.best_lr:g} at batch {low.batch_size} to "
        f"{high.best_lr:g} at batch {high.batch_size} ({high.best_lr / low.best_lr:.3g}x for a "
        f"{high.batch_size / low.batch_size:g}x larger batch); the fitted slope of log best LR "
        f"against log batch is {slope:.2f} (1 = linear scaling, 0.5 = square-root scaling)."
    )
    return slope


def _charts(
    rungs: list[Rung],
    shape: Regimes,
    fit: tuple[float, float] | None,
    lrs: list[float],
    values: dict[str, Any],
) -> list[dict[str, Any]]:
    reached = [r for r in rungs if r.updates is not None]
    curves = [
        charts.series(
            "updates to target (best LR)",
            [(r.batch_size, r.updates) for r in reached],
            "line",
        )
    ]
    if reached:
        first = reached[0]
        assert first.updates is not None
        curves.append(
            charts.series(
                "perfect scaling",
                [(r.batch_size, first.updates * first.batch_size / r.batch_size) for r in rungs],
                "dashed",
            )
        )
    if fit is not None:
        s_min, b_crit = fit
        curves.append(
            charts.series(
                f"fit: S_min {s_min:.0f}, B_crit {b_crit:,.0f}",
                [(r.batch_size, s_min * (1 + b_crit / r.batch_size)) for r in rungs],
                "dashed",
            )
        )
    marks = []
    if shape.perfect_until is not None:
        marks.append(charts.mark(shape.perfect_until, "end of near-perfect scaling"))
    if fit is not None:
        marks.append(charts.mark(fit[1], "B_crit (knee: 2x S_min)"))
    if shape.floor_from is not None:
        marks.append(charts.mark(shape.floor_from, "near the floor (>= 4 B_crit)"))
    steps = charts.lines(
        "steps",
        f"Updates to reach training loss {values['target_loss']:g}",
        x_label="batch size",
        y_label="updates",
        curves=curves,
        x_scale="log2",
        y_scale="log",
        marks=marks,
    )
    tuned = [(r.batch_size, r.best_lr) for r in reached if r.best_lr is not None]
    lr_curves = [charts.series("best LR", tuned, "line")]
    power = charts.fit_power_law([b for b, _ in tuned], [lr for _, lr in tuned])
    if power is not None and len(tuned) >= 2:
        k, c = power
        lr_curves.append(
            charts.series(f"fit: LR ~ B^{k:.2f}", [(b, c * b**k) for b, _ in tuned], "dashed")
        )
    best_lr = charts.lines(
        "best-lr",
        "Best learning rate per batch size",
        x_label="batch size",
        y_label="learning rate",
        curves=lr_curves,
        x_scale="log2",
        y_scale="log",
    )
    cells: list[list[float | None]] = []
    notes: list[list[str]] = []
    for rung in rungs:
        by_lr = {t.lr: t for t in rung.trials}
        row: list[float | None] = []
        row_notes: list[str] = []
        for lr in lrs:
            trial = by_lr.get(lr)
            if trial is None:
                row.append(None)
                row_notes.append("")
            elif trial.outcome == "reached":
                row.append(trial.updates)
                row_notes.append("")
            else:
                row.append(None)
                row_notes.append(
                    {
                        "capped": f"> {trial.updates:,}",
                        "diverged": "diverged",
                        "stalled": "stalled",
                        "out of memory": "out of memory",
                    }.get(trial.outcome, f"> {trial.updates:,}")
                )
        cells.append(row)
        notes.append(row_notes)
    grid = charts.heatmap(
        "grid",
        "Updates to target per batch size and learning rate",
        rows=("batch size", [r.batch_size for r in rungs]),
        cols=("learning rate", lrs),
        cells=cells,
        notes=notes,
        value_label="updates to target",
        value_format=",.0f",
        better="lower",
        row_best=[lrs.index(r.best_lr) if r.best_lr is not None else None for r in rungs],
    )
    return [steps, best_lr, grid]


def check(values: dict[str, Any]) -> list[str]:
    return common.check_model(values)


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    return plan_ladder(
        common.data_spec(0, values),
        common.model_spec(values),
        batch_sizes=values["batch_sizes"],
        lrs=values["lrs"],
        max_updates=values["max_updates"],
        optimizer=values["optimizer"],
    )


register(
    Experiment(
        name="steps-to-target",
        title="Steps to a target loss: perfect scaling, diminishing returns, the floor",
        explanation=(
            "For each batch size, tries every learning rate in a grid and keeps the fewest "
            "updates that reach a target training loss (Shallue et al. 2018). The counts "
            "follow S = S_min (1 + B_crit / B) (McCandlish et al. 2018): doubling the batch "
            "nearly halves the updates well below the critical batch B_crit; B_crit itself is "
            "the knee, where training takes twice the minimum updates and twice the minimum "
            "examples; well above it each doubling saves few updates (1.25 S_min at 4 B_crit) "
            "while costing nearly twice the data. The best learning rate grows with the batch "
            "along the way; without re-tuning it the curve would not look like this."
        ),
        params=PARAMS,
        run=run,
        check=check,
        order=30,
        plan_runs=plan,
    )
)

"""``steps-to-target``: for each batch size, the fewest updates any learning rate in a grid
needs to reach a target training loss (Shallue et al. 2018; McCandlish et al. 2018).

How it searches: batch sizes are taken from the largest down and, for each, the learning rates
nearest the previous batch's best first (the largest first for the first batch). A run stops
as soon as the exact loss on 2,048 training examples reaches the target, or once that loss
has stalled (no 1% gain over the second half of the run); and no run may take more updates
than the best found so far for its batch, since it could not win. So a grid of 121 runs costs
a few times the updates of the winners. Evaluations are spaced to give about
40 per winning run (every update at large batches).

``extras``:

- ``ladder``: per batch size ``{"batch_size", "best_lr", "updates", "examples",
  "lr_at_edge", "trials": [{"lr", "outcome", "updates"}]}`` (``updates`` null when no LR
  reached the target; ``outcome``: ``reached`` | ``capped`` (stopped at the best count so
  far) | ``stalled`` (no progress for the last half of the run) | ``not reached`` (in
  ``max_updates``) | ``diverged`` | ``out of memory``);
- ``regimes``: ``{"factors": [{"from", "to", "per_doubling"}], "perfect_until",
  "flat_from"}`` (batch sizes or null);
- ``fit``: ``{"s_min", "b_crit"}`` of ``S = S_min (1 + B_crit / B)`` or null;
- ``lr_slope``: exponent k of best LR ~ B^k over the ladder, or null;
- ``charts``: ``steps`` (lines, log-log: updates to target per batch, the perfect-scaling
  line, the fit, regime marks), ``best-lr`` (lines, log-log), ``grid`` (heatmap of updates
  to target per batch size x LR; empty cells are noted ``diverged`` / ``> N``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from sims import charts
from sims.config import OPTIMIZERS, DataSpec, ModelSpec, TrainConfig
from sims.estimate import PlannedRun
from sims.experiments import _common as common
from sims.params import Param
from sims.registry import Experiment, register
from sims.results import Outcome

if TYPE_CHECKING:
    from sims.lab import Lab

SGD_LRS = [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]
ADAM_LRS = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]
PERFECT = 1.7  # per-doubling cut in updates that still counts as (near-)perfect scaling
FLAT = 1.15  # below this, doubling the batch bought almost nothing

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


@dataclass
class Trial:
    lr: float
    outcome: str  # reached | capped | not reached | diverged
    updates: int


@dataclass
class Rung:
    """One batch size of the ladder and what its learning-rate search found."""

    batch_size: int
    best_lr: float | None = None
    updates: int | None = None
    trials: list[Trial] = field(default_factory=list)

    @property
    def examples(self) -> int | None:
        return None if self.updates is None else self.updates * self.batch_size


def search_ladder(
    lab: Lab,
    data: DataSpec,
    model: ModelSpec,
    *,
    batch_sizes: list[int],
    lrs: list[float],
    target: float,
    max_updates: int,
    optimizer: str,
    label: str = "",
) -> list[Rung]:
    """Train the grid (pruned as the module docstring says) and return the ladder in
    increasing batch size. Also used by ``noise-scale``."""
    from sims.probes import PROBE_METRIC, StallStop, TrainingLossProbe

    dataset = lab.dataset(data)
    n_train = int(dataset.y_train.shape[0])
    rungs: list[Rung] = []
    previous: Rung | None = None
    for batch in sorted(batch_sizes, reverse=True):
        rung = Rung(batch)
        if previous is None or previous.best_lr is None:
            order = sorted(lrs, reverse=True)
            every = 1 if previous is None else max(1, max_updates // 100)
        else:
            anchor = math.log(previous.best_lr)
            # Nearest first; on a tie the smaller LR, since smaller batches want smaller LRs.
            order = sorted(lrs, key=lambda lr: (abs(math.log(lr) - anchor), lr))
            # Open with an LR a step below the larger batch's best: it converges for sure and
            # caps the rest, where a too-large one could hover above the target until
            # max_updates.
            below = [lr for lr in order if lr < previous.best_lr / 1.5]
            if below:
                order.remove(below[0])
                order.insert(0, below[0])
            every = max(1, (previous.updates or 0) // 20)
        per_epoch = math.ceil(n_train / batch)
        for lr in order:
            cap = rung.updates if rung.updates is not None else max_updates
            config = TrainConfig(
                batch_size=batch,
                epochs=math.ceil(cap / per_epoch),
                max_updates=cap,
                lr=lr,
                optimizer=optimizer,  # type: ignore[arg-type]
                eval_every=every,
                target_loss=target,
                target_metric=PROBE_METRIC,
                stop_at_target=True,
            )
            record = lab.train(
                f"{label}batch {batch}, LR {lr:g}",
                config,
                data,
                model,
                hooks=[TrainingLossProbe(dataset), StallStop(PROBE_METRIC)],
            )
            reached = record.summary.updates_to_target
            if record.status == "diverged":
                rung.trials.append(Trial(lr, "diverged", record.summary.updates))
            elif record.status == "oom":
                rung.trials.append(Trial(lr, "out of memory", record.summary.updates))
            elif reached is None and record.summary.reason:
                rung.trials.append(Trial(lr, "stalled", record.summary.updates))
            elif reached is not None:
                rung.trials.append(Trial(lr, "reached", reached))
                if rung.updates is None or reached < rung.updates:
                    rung.updates, rung.best_lr = reached, lr
            else:
                outcome = "capped" if cap < max_updates else "not reached"
                rung.trials.append(Trial(lr, outcome, record.summary.updates))
        rungs.append(rung)
        previous = rung if rung.best_lr is not None else previous
    return sorted(rungs, key=lambda r: r.batch_size)


def plan_ladder(
    data: DataSpec,
    model: ModelSpec,
    *,
    batch_sizes: list[int],
    lrs: list[float],
    max_updates: int,
    optimizer: str,
) -> list[PlannedRun]:
    """The most :func:`search_ladder` can train: every cell to ``max_updates`` (the search
    prunes, and runs stop at the target, so it is usually far less)."""
    runs = []
    for index, batch in enumerate(sorted(batch_sizes, reverse=True)):
        every = 1 if index == 0 else max(1, max_updates // 100)
        runs += [
            PlannedRun(
                batch,
                max_updates,
                data,
                model,
                optimizer,
                eval_every=every,
                probe_examples=min(2048, data.n_train),  # the training-loss probe
                at_most=True,
            )
            for _ in lrs
        ]
    return runs


def plan(values: dict[str, Any]) -> list[PlannedRun]:
    return plan_ladder(
        common.data_spec(0, values),
        common.model_spec(values),
        batch_sizes=values["batch_sizes"],
        lrs=values["lrs"],
        max_updates=values["max_updates"],
        optimizer=values["optimizer"],
    )


def per_doubling(small: Rung, big: Rung) -> float | None:
    """How many times fewer updates ``big`` needed than ``small``, per doubling of the
    batch (so ladders that are not exactly doubling compare fairly)."""
    if small.updates is None or big.updates is None or big.batch_size <= small.batch_size:
        return None
    doublings = math.log2(big.batch_size / small.batch_size)
    return float((small.updates / big.updates) ** (1 / doublings))


@dataclass(frozen=True)
class Regimes:
    factors: list[tuple[int, int, float]]  # (from batch, to batch, cut per doubling)
    perfect_until: int | None  # largest batch reached while every cut was >= PERFECT
    flat_from: int | None  # smallest batch from which every further cut was < FLAT


def regimes(rungs: list[Rung]) -> Regimes:
    """Where the ladder halves, where returns diminish and where it is flat."""
    reached = [r for r in rungs if r.updates is not None]
    factors = []
    for a, b in pairwise(reached):
        f = per_doubling(a, b)
        if f is not None:
            factors.append((a.batch_size, b.batch_size, f))
    perfect_until = None
    for _start, end, f in factors:
        if f < PERFECT:
            break
        perfect_until = end
    flat_from = None
    for start, _end, f in reversed(factors):
        if f >= FLAT:
            break
        flat_from = start
    return Regimes(factors, perfect_until, flat_from)


def fit_critical_batch(rungs: list[Rung]) -> tuple[float, float] | None:
    """Fit ``S = S_min (1 + B_crit / B)`` (McCandlish et al. 2018) by least squares on the
    relative error; returns ``(S_min, B_crit)`` or ``None`` if the fit is not meaningful
    (fewer than three points, or no positive S_min and B_crit)."""
    points = [(r.batch_size, r.updates) for r in rungs if r.updates is not None]
    if len(points) < 3:
        return None
    # S = a + b / B, each row divided by the measured S: [1/S, 1/(B S)] . [a, b] ~ 1.
    s11 = s12 = s22 = t1 = t2 = 0.0
    for batch, steps in points:
        u, v = 1 / steps, 1 / (batch * steps)
        s11, s12, s22, t1, t2 = s11 + u * u, s12 + u * v, s22 + v * v, t1 + u, t2 + v
    det = s11 * s22 - s12 * s12
    if det <= 0:
        return None
    a = (t1 * s22 - t2 * s12) / det
    b = (s11 * t2 - s12 * t1) / det
    if a <= 0 or b <= 0:
        return None
    return a, b / a


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
            f"Batch size {_join(big)} holds the whole training set ({n_train:,} examples): "
            "every update there is full-batch gradient descent."
        )
    shape = regimes(rungs)
    lines += _regime_lines(shape, reached)
    fit = fit_critical_batch(rungs)
    if fit is not None:
        s_min, b_crit = fit
        lines.append(
            f"Fitting S = S_min (1 + B_crit / B) (McCandlish et al. 2018) to these points gives "
            f"S_min = {s_min:.0f} updates and a critical batch B_crit = {b_crit:,.0f}: well "
            "below B_crit doubling the batch nearly halves the updates, well above it the "
            "updates stop falling."
        )
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
    lines += _edge_lines(reached, lrs)
    extras: dict[str, Any] = {
        "ladder": [
            {
                "batch_size": r.batch_size,
                "best_lr": r.best_lr,
                "updates": r.updates,
                "examples": r.examples,
                "lr_at_edge": r.best_lr is not None
                and len(lrs) > 1
                and r.best_lr in (lrs[0], lrs[-1]),
                "trials": [asdict(t) for t in sorted(r.trials, key=lambda t: t.lr)],
            }
            for r in rungs
        ],
        "regimes": {
            "factors": [{"from": a, "to": b, "per_doubling": f} for a, b, f in shape.factors],
            "perfect_until": shape.perfect_until,
            "flat_from": shape.flat_from,
        },
        "fit": {"s_min": fit[0], "b_crit": fit[1]} if fit else None,
        "lr_slope": slope,
        "charts": _charts(rungs, shape, fit, lrs, values),
    }
    return Outcome(lines, extras)


def _regime_lines(shape: Regimes, reached: list[Rung]) -> list[str]:
    if not shape.factors:
        return []
    lines = []
    cuts = ", ".join(f"{a}->{b}: {f:.2f}x" for a, b, f in shape.factors)
    lines.append(f"Cut in updates per doubling of the batch (2x = perfect scaling): {cuts}.")
    first = reached[0].batch_size
    if shape.perfect_until is not None:
        lines.append(
            f"Perfect-scaling regime: from batch {first} to {shape.perfect_until} every "
            f"doubling cut the updates by at least {PERFECT:g}x."
        )
    else:
        lines.append(
            f"No perfect-scaling regime at the small end: the first doubling from batch {first} "
            f"cut the updates by only {shape.factors[0][2]:.2f}x (under {PERFECT:g}x); "
            "smaller batches would be needed to see it."
        )
    start = shape.perfect_until or first
    if shape.flat_from is not None:
        if shape.flat_from > start:
            lines.append(
                f"Diminishing returns from batch {start} to {shape.flat_from}, then flat: beyond "
                f"batch {shape.flat_from} each doubling saved less than {FLAT:g}x (maximal "
                "data parallelism for this task)."
            )
        else:
            lines.append(
                f"Flat from batch {shape.flat_from}: each further doubling saved less than "
                f"{FLAT:g}x (maximal data parallelism for this task)."
            )
    else:
        last = shape.factors[-1]
        kind = "near-perfect scaling" if last[2] >= PERFECT else "diminishing returns"
        lines.append(
            f"The curve had not flattened by batch {last[1]}: the last doubling still cut the "
            f"updates by {last[2]:.2f}x ({kind}); the flat regime lies beyond this ladder."
        )
    return lines


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


def _edge_lines(reached: list[Rung], lrs: list[float]) -> list[str]:
    if len(lrs) < 2:
        return []
    top = [r.batch_size for r in reached if r.best_lr == lrs[-1]]
    bottom = [r.batch_size for r in reached if r.best_lr == lrs[0]]
    lines = []
    if top:
        lines.append(
            f"At batch {_join(top)} the best LR was the largest in the grid ({lrs[-1]:g}): a "
            "larger one might have needed fewer updates still, so read those counts as upper "
            "bounds."
        )
    if bottom:
        lines.append(
            f"At batch {_join(bottom)} the best LR was the smallest in the grid ({lrs[0]:g}): "
            "extend the grid downwards to be sure of the optimum there."
        )
    return lines


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
        marks.append(charts.mark(shape.perfect_until, "end of perfect scaling"))
    if shape.flat_from is not None:
        marks.append(charts.mark(shape.flat_from, "flat from here"))
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


def _join(items: list[int]) -> str:
    text = [f"{i:,}" for i in items]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def check(values: dict[str, Any]) -> list[str]:
    return common.check_model(values)


register(
    Experiment(
        name="steps-to-target",
        title="Steps to a target loss: perfect scaling, diminishing returns, flat",
        explanation=(
            "For each batch size, tries every learning rate in a grid and keeps the fewest "
            "updates that reach a target training loss (Shallue et al. 2018). Doubling the "
            "batch halves the updates at small batch sizes, helps less and less in the "
            "middle, and not at all beyond the critical batch size, where the gradient is "
            "already nearly noise-free. The best learning rate grows with the batch along the "
            "way; without re-tuning it the curve would not look like this."
        ),
        params=PARAMS,
        run=run,
        check=check,
        order=30,
        plan_runs=plan,
    )
)

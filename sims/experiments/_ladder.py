"""The steps-to-target ladder shared by ``steps-to-target`` and ``noise-scale``: the pruned
search for the fewest updates per batch size, the fit of ``S = S_min (1 + B_crit / B)``
(McCandlish et al. 2018) and the regimes read off that fit (no torch at import)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

from sims.config import DataSpec, ModelSpec, PlannedRun, TrainConfig

if TYPE_CHECKING:
    from sims.workbench import Lab

SGD_LRS = [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]
ADAM_LRS = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]
# Regime edges in units of B_crit. At B = B_crit / 4 the fit's cut per doubling is
# (1 + 4) / (1 + 2) = 1.67x (near-perfect below); at B = 4 B_crit the updates are 1.25 S_min
# and a doubling saves 10% of them while doubling the examples (near the floor above).
PERFECT_BELOW = 0.25
FLOOR_FROM = 4.0


@dataclass
class Trial:
    lr: float
    outcome: str  # reached | capped | stalled | not reached | diverged | out of memory
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
    """Train the grid (pruned as ``steps-to-target`` describes) and return the ladder in
    increasing batch size. Runs skip the validation set: only the training loss is judged.
    A batch size that runs out of memory is not tried with further learning rates (the LR
    does not change the memory an update needs)."""
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
                validate=False,
            )
            record = lab.train(
                f"{label}batch {batch}, LR {lr:g}",
                config,
                data,
                model,
                hooks=[TrainingLossProbe(dataset), StallStop(PROBE_METRIC)],
            )
            reached = record.summary.updates_to_target
            if record.status == "oom":
                rung.trials.append(Trial(lr, "out of memory", record.summary.updates))
                break
            if record.status == "diverged":
                rung.trials.append(Trial(lr, "diverged", record.summary.updates))
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


def per_doubling(small: Rung, big: Rung) -> float | None:
    """How many times fewer updates ``big`` needed than ``small``, per doubling of the
    batch (so ladders that are not exactly doubling compare fairly)."""
    if small.updates is None or big.updates is None or big.batch_size <= small.batch_size:
        return None
    doublings = math.log2(big.batch_size / small.batch_size)
    return float((small.updates / big.updates) ** (1 / doublings))


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


@dataclass(frozen=True)
class Regimes:
    """The ladder's regimes, read off the fit (a per-doubling cut between two noisy points
    says little; the fit uses them all). Batch sizes are ladder batches that reached the
    target; ``None`` where no ladder batch lies in that regime or there is no fit."""

    factors: list[tuple[int, int, float]]  # measured (from batch, to batch, cut per doubling)
    fit: tuple[float, float] | None  # (S_min, B_crit)
    perfect_until: int | None  # largest batch <= B_crit / 4: near-perfect scaling up to here
    floor_from: int | None  # smallest batch >= 4 B_crit: within 25% of S_min from here


def regimes(rungs: list[Rung]) -> Regimes:
    reached = [r for r in rungs if r.updates is not None]
    factors = []
    for a, b in pairwise(reached):
        f = per_doubling(a, b)
        if f is not None:
            factors.append((a.batch_size, b.batch_size, f))
    fit = fit_critical_batch(rungs)
    if fit is None:
        return Regimes(factors, None, None, None)
    b_crit = fit[1]
    below = [r.batch_size for r in reached if r.batch_size <= PERFECT_BELOW * b_crit]
    above = [r.batch_size for r in reached if r.batch_size >= FLOOR_FROM * b_crit]
    return Regimes(factors, fit, max(below, default=None), min(above, default=None))


def fit_cut(b_crit: float, batch: float) -> float:
    """The fit's cut in updates from ``batch`` to twice it."""
    return (1 + b_crit / batch) / (1 + b_crit / (2 * batch))


def regime_lines(shape: Regimes, reached: list[Rung]) -> list[str]:
    """Observations on the regimes, from the fit; the measured cuts are listed as they are."""
    lines = []
    if shape.factors:
        cuts = ", ".join(f"{a}->{b}: {f:.2f}x" for a, b, f in shape.factors)
        lines.append(f"Measured cut in updates per doubling of the batch (2x = perfect): {cuts}.")
    if shape.fit is None:
        if reached:
            lines.append(
                "S = S_min (1 + B_crit / B) could not be fitted to these points (it needs "
                "three batch sizes that reached the target, falling as the batch grows), so "
                "the regimes are not labelled."
            )
        return lines
    s_min, b_crit = shape.fit
    lines.append(
        f"Fitting S = S_min (1 + B_crit / B) (McCandlish et al. 2018) gives S_min = "
        f"{s_min:,.0f} updates and a critical batch B_crit = {b_crit:,.0f}. B_crit is the "
        "knee of the curve, not a wall: there training takes twice the minimum updates and "
        "twice the minimum examples; at 4 B_crit it still takes 1.25 S_min. Well below B_crit "
        "each doubling of the batch nearly halves the updates; well above it each doubling "
        "saves few updates and costs nearly twice the data."
    )
    first, last = reached[0].batch_size, reached[-1].batch_size
    low, high = PERFECT_BELOW * b_crit, FLOOR_FROM * b_crit
    if shape.perfect_until is not None:
        lines.append(
            f"Near-perfect scaling (B <= B_crit / 4 = {low:,.0f}, where the fit cuts the updates "
            f"by at least {fit_cut(b_crit, low):.2f}x per doubling): batch {first} to "
            f"{shape.perfect_until}."
        )
    else:
        lines.append(
            f"No batch in this ladder is in the near-perfect regime (B <= B_crit / 4 = "
            f"{low:,.0f}); smaller batches would show it."
        )
    middle = [
        r.batch_size
        for r in reached
        if (shape.perfect_until is None or r.batch_size > shape.perfect_until)
        and (shape.floor_from is None or r.batch_size < shape.floor_from)
    ]
    if middle:
        lines.append(
            f"Diminishing returns around the knee (B_crit / 4 to 4 B_crit): batch {middle[0]} "
            f"to {middle[-1]}."
        )
    if shape.floor_from is not None:
        lines.append(
            f"Near the floor from batch {shape.floor_from} (B >= 4 B_crit = {high:,.0f}): at "
            f"most 1.25 S_min updates, each doubling saving under {_saving(b_crit, high):.0%} "
            "of them while the examples spent nearly double (maximal data parallelism for "
            "this task)."
        )
    else:
        lines.append(
            f"The ladder ends at batch {last}, below 4 B_crit = {high:,.0f}: there the fit "
            f"still cuts the updates by {fit_cut(b_crit, last):.2f}x per doubling, so larger "
            "batches would keep saving updates, at a growing cost in examples."
        )
    return lines


def _saving(b_crit: float, batch: float) -> float:
    return 1 - 1 / fit_cut(b_crit, batch)


def edge_lines(rungs: list[Rung], lrs: list[float]) -> list[str]:
    """A best LR on the edge of the grid: the true optimum may lie outside it."""
    grid = sorted(lrs)
    if len(grid) < 2:
        return []
    top = [r.batch_size for r in rungs if r.best_lr == grid[-1]]
    bottom = [r.batch_size for r in rungs if r.best_lr == grid[0]]
    lines = []
    if top:
        lines.append(
            f"At batch {join(top)} the best LR was the largest in the grid ({grid[-1]:g}): a "
            "larger one might have needed fewer updates still, so read those counts as upper "
            "bounds and extend the grid upwards."
        )
    if bottom:
        lines.append(
            f"At batch {join(bottom)} the best LR was the smallest in the grid ({grid[0]:g}): "
            "extend the grid downwards to be sure of the optimum there."
        )
    return lines


def at_edge(rung: Rung, lrs: list[float]) -> bool:
    return rung.best_lr is not None and len(lrs) > 1 and rung.best_lr in (min(lrs), max(lrs))


def join(items: list[int]) -> str:
    text = [f"{i:,}" for i in items]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]

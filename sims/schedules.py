"""Learning-rate schedules as a factor of the peak LR per update (no torch).

The training loop steps the schedule once per update, over the number of updates the
schedule was planned for; stepping it once per epoch instead would stretch it about
``updates_per_epoch`` times (a classic bug). Shapes follow ``torch.optim.lr_scheduler``:

- ``constant``: the peak LR throughout.
- ``step``: /10 at 50% and again at 75% of the planned updates (the ResNet recipe, scaled).
- ``cosine``: ``(1 + cos(pi t / T)) / 2`` from 1 towards 0 (``CosineAnnealingLR``, eta_min 0).
- ``one-cycle``: ``OneCycleLR`` defaults: cosine up from peak/25 over the first 30%, then
  cosine down to peak/25/10^4 (the LR only: torch also cycles momentum).
- ``wsd``: warm-up-stable-decay: the peak LR (after any warm-up the run adds) until the
  last ``decay_fraction`` of the updates, then linearly towards 0. Its stable part does not
  depend on the budget, so a run can be branched off at any point and decayed there.
"""

from __future__ import annotations

import math

SCHEDULES: tuple[str, ...] = ("constant", "step", "cosine", "one-cycle", "wsd")
STEP_MILESTONES = (0.5, 0.75)
ONE_CYCLE_RISE = 0.3
ONE_CYCLE_START_DIV = 25.0
ONE_CYCLE_FINAL_DIV = 1e4


def lr_factor(schedule: str, update: int, planned: int, decay_fraction: float = 0.2) -> float:
    """The multiplier of the peak LR for the ``update``-th update (0-based) of ``planned``."""
    planned = max(1, planned)
    t = min(update, planned)
    if schedule == "constant":
        return 1.0
    if schedule == "step":
        return 0.1 ** sum(t >= round(m * planned) for m in STEP_MILESTONES)
    if schedule == "cosine":
        return (1 + math.cos(math.pi * t / planned)) / 2
    if schedule == "one-cycle":
        return _one_cycle(t, planned)
    if schedule == "wsd":
        decay = max(1, round(decay_fraction * planned))
        start = planned - decay
        return 1.0 if t < start else max(0.0, 1 - (t - start) / decay)
    raise ValueError(f"unknown schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")


def _one_cycle(t: int, planned: int) -> float:
    low = 1 / ONE_CYCLE_START_DIV
    end = low / ONE_CYCLE_FINAL_DIV
    peak_at = ONE_CYCLE_RISE * planned - 1
    last = planned - 1
    if t <= peak_at:
        start, stop, share = low, 1.0, t / peak_at if peak_at > 0 else 1.0
    else:
        span = last - peak_at
        start, stop, share = 1.0, end, (t - peak_at) / span if span > 0 else 1.0
    return stop + (start - stop) / 2 * (math.cos(math.pi * min(1.0, share)) + 1)

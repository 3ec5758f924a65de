"""Running an experiment: :func:`run_experiment` resolves parameters and the device, runs the
experiment through a :class:`~sims.workbench.Lab` and emits the event stream."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sims.device import kernel_settings, resolve_device
from sims.estimate import check_memory, long_run_estimate
from sims.events import ExperimentFinished, ExperimentStarted, SimEvent
from sims.params import check_seed
from sims.registry import get_experiment, resolve_params
from sims.results import ExperimentResult, Outcome
from sims.workbench import Cancelled, Lab

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["Cancelled", "Lab", "run_experiment"]


def run_experiment(
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
    device: str = "auto",
    on_event: Callable[[SimEvent], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ExperimentResult:
    """Run experiment ``name`` in this process and return its result.

    Raises :class:`~sims.params.ParamError` for bad parameters (or a seed outside
    0 <= seed < 2**63, or a model that cannot fit in the device's memory) and
    :class:`~sims.device.DeviceError` for an unavailable device, before anything trains.
    Divergence, out-of-memory and cancellation end up in the result, not as exceptions.
    """
    experiment = get_experiment(name)
    values = resolve_params(name, params)
    check_seed(seed)
    resolved = resolve_device(device)
    check_memory(name, values, resolved)
    emit: Callable[[SimEvent], None] = on_event or (lambda event: None)
    started = time.perf_counter()
    long = long_run_estimate(name, values, device=resolved)
    emit(
        ExperimentStarted(
            name,
            experiment.title,
            resolved,
            seed,
            dict(values),
            expected_seconds=long.seconds if long else None,
            expected_at_most=bool(long and long.upper_bound),
        )
    )
    lab = Lab(device=resolved, seed=seed, emit=emit, cancel=cancel)
    status = "ok"
    try:
        with kernel_settings(resolved, deterministic=experiment.deterministic):
            outcome = experiment.run(lab, values)
    except Cancelled:
        status = "cancelled"
        done = len(lab.runs) - 1
        outcome = Outcome(
            [
                f"Cancelled by the user during run {len(lab.runs)} ({lab.runs[-1].label}) after "
                f"{lab.runs[-1].summary.updates:,} updates; {done} run(s) had finished."
            ]
        )
    result = ExperimentResult(
        experiment=name,
        title=experiment.title,
        device=resolved,
        seed=seed,
        params=dict(values),
        runs=list(lab.runs),
        observations=list(outcome.observations),
        status="cancelled" if status == "cancelled" else "ok",
        seconds=time.perf_counter() - started,
        extras=dict(outcome.extras),
    )
    emit(ExperimentFinished(result))
    return result

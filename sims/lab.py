"""Running an experiment: the :class:`Lab` an experiment trains through, and
:func:`run_experiment`, which resolves parameters and the device, runs the experiment and
emits the event stream."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from sims.config import DataSpec, ModelSpec, TrainConfig
from sims.datasets import Dataset, build_dataset
from sims.device import resolve_device
from sims.events import ExperimentFinished, ExperimentStarted, SimEvent
from sims.registry import get_experiment, resolve_params
from sims.results import ExperimentResult, Outcome, RunRecord
from sims.training import TrainHook, train


class Cancelled(Exception):
    """Raised out of :meth:`Lab.train` after a run was cancelled, to end the experiment."""


class Lab:
    """What an experiment's ``run`` works with: the device, the seed, data sets built once
    and kept on the device, and :meth:`train` (the one training loop) that records every
    run and streams its events."""

    def __init__(
        self,
        *,
        device: str,
        seed: int,
        emit: Callable[[SimEvent], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> None:
        self.device = device
        self.seed = seed
        self.emit: Callable[[SimEvent], None] = emit or (lambda event: None)
        self.cancel = cancel
        self.runs: list[RunRecord] = []
        self._datasets: dict[DataSpec, Dataset] = {}

    def dataset(self, spec: DataSpec) -> Dataset:
        """The data set for ``spec`` on this lab's device (built on first use)."""
        if spec not in self._datasets:
            self._datasets[spec] = build_dataset(spec).to(self.device)
        return self._datasets[spec]

    def train(
        self,
        label: str,
        config: TrainConfig,
        data: DataSpec,
        model: ModelSpec,
        *,
        hooks: Sequence[TrainHook] = (),
    ) -> RunRecord:
        """Train one run and keep its record; raises :class:`Cancelled` if it was cancelled
        (the interrupted run is kept)."""
        record = train(
            self.dataset(data),
            model,
            config,
            device=self.device,
            label=label,
            emit=self.emit,
            cancel=self.cancel,
            hooks=hooks,
            index=len(self.runs),
            seed=self.seed,
        )
        return self.add_run(record)

    def add_run(self, record: RunRecord) -> RunRecord:
        """Keep a run's record (also one trained by data-parallel worker processes, whose
        events were already streamed); raises :class:`Cancelled` if it was cancelled."""
        self.runs.append(record)
        if record.status == "cancelled":
            raise Cancelled
        return record


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

    Raises :class:`~sims.params.ParamError` for bad parameters and
    :class:`~sims.device.DeviceError` for an unavailable device, before anything trains.
    Divergence, out-of-memory and cancellation end up in the result, not as exceptions.
    """
    experiment = get_experiment(name)
    values = resolve_params(name, params)
    resolved = resolve_device(device)
    if resolved == "cuda":
        torch.backends.cudnn.benchmark = False  # autotuning picks kernels nondeterministically
        torch.backends.cudnn.deterministic = True
    emit: Callable[[SimEvent], None] = on_event or (lambda event: None)
    started = time.perf_counter()
    emit(ExperimentStarted(name, experiment.title, resolved, seed, dict(values)))
    lab = Lab(device=resolved, seed=seed, emit=emit, cancel=cancel)
    status = "ok"
    try:
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

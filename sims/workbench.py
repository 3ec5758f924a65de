"""The :class:`Lab` an experiment's ``run`` trains through: the device, the seed, data sets
built once and kept on the device, and the one training loop with every run recorded.

Kept apart from :mod:`sims.lab` (which resolves and runs an experiment through the registry)
so that the registry can name this type without an import cycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sims.datasets import Dataset, build_dataset
from sims.training import TrainHook, train

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sims.config import DataSpec, ModelSpec, TrainConfig
    from sims.events import SimEvent
    from sims.results import RunRecord


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

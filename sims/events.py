"""The one event stream a simulation emits, in this order:

``ExperimentStarted``, then for each run ``RunStarted``, ``RunProgress`` (at every
evaluation, the first at update 0) interleaved with ``RunTick`` (a few per second, for
progress bars), ``RunFinished``; finally ``ExperimentFinished`` with the full result.
``RunFailed`` replaces the rest of the stream when the experiment cannot go on (a crash,
an unavailable device). Divergence, out-of-memory and cancellation are not failures: they
arrive as ``RunFinished`` with that ``status``.

Plain picklable dataclasses without torch, so they cross process queues unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sims.results import ExperimentResult, HistoryPoint, RunRecord, RunStatus, RunSummary


@dataclass(frozen=True)
class ExperimentStarted:
    """An experiment begins; ``expected_seconds`` is set when it will take minutes (see
    ``sims.estimate.long_run_estimate``), ``expected_at_most`` when it may stop sooner."""

    experiment: str
    title: str
    device: str
    seed: int
    params: dict[str, Any]
    expected_seconds: float | None = None
    expected_at_most: bool = False


@dataclass(frozen=True)
class RunStarted:
    """A run begins. ``index`` counts runs from 0 within the experiment."""

    label: str
    index: int
    config: dict[str, Any]
    device: str
    updates_per_epoch: int
    total_updates: int
    train_examples: int
    val_examples: int


@dataclass(frozen=True)
class RunProgress(HistoryPoint):
    """An evaluation point of one run: the run's history entry, with the run's label."""

    label: str = field(kw_only=True)


@dataclass(frozen=True)
class RunTick:
    """Training is under way (no metrics: reading them would stall a GPU). At most a few
    per second; meant for progress bars."""

    label: str
    epoch: float
    update: int
    examples: int
    seconds: float
    total_updates: int


@dataclass(frozen=True)
class RunFinished:
    label: str
    status: RunStatus
    summary: RunSummary
    record: RunRecord


@dataclass(frozen=True)
class RunFailed:
    """The experiment could not go on; ``reason`` is a one-line message for the user and
    ``details`` the traceback, if any."""

    reason: str
    label: str | None = None
    details: str = ""


@dataclass(frozen=True)
class ExperimentFinished:
    result: ExperimentResult


SimEvent = (
    ExperimentStarted
    | RunStarted
    | RunProgress
    | RunTick
    | RunFinished
    | RunFailed
    | ExperimentFinished
)

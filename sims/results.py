"""What a simulation produced: per-run histories and summaries, and the experiment result
with observations. Plain dataclasses (picklable, no torch); ``to_json`` gives the agreed
JSON layout that the CLI writes and other tools read."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

RunStatus = Literal["ok", "diverged", "oom", "cancelled"]


@dataclass(frozen=True)
class HistoryPoint:
    """Metrics at one evaluation. ``epoch`` is fractional between epoch ends; ``seconds`` is
    training wall time so far, excluding evaluation. ``train_loss`` is the mean loss per
    example over the updates since the previous point (at update 0: the loss of the untrained
    model on training data). ``val_loss`` and ``val_acc`` are ``None`` in runs that skip
    validation (tuning runs judged by their training loss) or, after a JSON round trip, where
    they were not finite. ``train_acc`` is measured on (up to 2,048) training examples,
    against the labels the model was trained on, when the run tracks it."""

    epoch: float
    update: int
    examples: int
    seconds: float
    train_loss: float
    val_loss: float | None
    val_acc: float | None
    train_acc: float | None = None
    lr: float | None = None
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSummary:
    """How a run went. ``best_*`` is the evaluation with the best ``monitor`` value at an
    epoch end; ``final_*`` the last evaluation (after a restore: the restored weights)."""

    status: RunStatus
    updates: int
    examples: int
    epochs_completed: float
    seconds: float
    final_train_loss: float | None
    final_val_loss: float | None
    final_val_acc: float | None
    best_epoch: int | None
    best_update: int | None
    best_val_loss: float | None
    best_val_acc: float | None
    monitor: str
    stopped_epoch: int | None = None  # where patience ran out (stopped there if early_stop)
    restored_epoch: int | None = None  # the epoch whose weights the run ended with
    target_loss: float | None = None
    updates_to_target: int | None = None
    epochs_to_target: float | None = None
    examples_to_target: int | None = None
    seconds_to_target: float | None = None
    reason: str | None = None  # why a run did not finish normally


@dataclass(frozen=True)
class RunRecord:
    """One training run: its settings, every evaluation, and the summary."""

    label: str
    status: RunStatus
    batch_size: int
    lr: float  # after the scaling rule
    epochs: int
    updates_per_epoch: int
    train_examples: int
    val_examples: int
    config: dict[str, Any]
    history: list[HistoryPoint]
    summary: RunSummary

    def point_at_epoch(self, epoch: int) -> HistoryPoint | None:
        """The evaluation at the end of ``epoch`` (0 = before training), if the run got there."""
        for point in self.history:
            if point.epoch == epoch:
                return point
        return None

    def epoch_points(self) -> list[HistoryPoint]:
        """Evaluations at whole epochs (including epoch 0)."""
        return [p for p in self.history if float(p.epoch).is_integer()]

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "epochs": self.epochs,
            "status": self.status,
            "updates_per_epoch": self.updates_per_epoch,
            "train_examples": self.train_examples,
            "val_examples": self.val_examples,
            "config": self.config,
            "history": [asdict(p) for p in self.history],
            "summary": asdict(self.summary),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        return cls(
            label=data["label"],
            status=data["status"],
            batch_size=data["batch_size"],
            lr=data["lr"],
            epochs=data["epochs"],
            updates_per_epoch=data["updates_per_epoch"],
            train_examples=data.get("train_examples", 0),
            val_examples=data.get("val_examples", 0),
            config=data.get("config", {}),
            history=[HistoryPoint(**_known(HistoryPoint, p)) for p in data["history"]],
            summary=RunSummary(**_known(RunSummary, data["summary"])),
        )


@dataclass(frozen=True)
class Outcome:
    """What an experiment's ``run`` returns besides its runs: observations computed from the
    numbers, and optional experiment-specific data (e.g. a suggested learning rate)."""

    observations: list[str]
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExperimentResult:
    """Everything an experiment produced. ``status`` is ``ok`` or ``cancelled`` (a cancelled
    experiment keeps the runs that finished or were interrupted)."""

    experiment: str
    title: str
    device: str
    seed: int
    params: dict[str, Any]
    runs: list[RunRecord]
    observations: list[str]
    status: Literal["ok", "cancelled"] = "ok"
    seconds: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)

    def run(self, label: str) -> RunRecord:
        for record in self.runs:
            if record.label == label:
                return record
        raise KeyError(label)

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready data (non-finite numbers become ``null``):
        ``{"experiment", "device", "seed", "params", "runs": [{"label", "batch_size", "lr",
        "epochs", "status", "updates_per_epoch", "history": [{"epoch", "update", "examples",
        "seconds", "train_loss", "val_loss", "val_acc", ...}], "summary": {...}, ...}],
        "observations": [str], ...}``."""
        data = {
            "experiment": self.experiment,
            "title": self.title,
            "device": self.device,
            "seed": self.seed,
            "params": self.params,
            "status": self.status,
            "seconds": self.seconds,
            "runs": [r.to_json() for r in self.runs],
            "observations": list(self.observations),
            "extras": self.extras,
        }
        return _finite(data)

    def to_json_text(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_json(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExperimentResult:
        """Rebuild a result from :meth:`to_json` output (e.g. one kept in the store)."""
        return cls(
            experiment=data["experiment"],
            title=data.get("title", data["experiment"]),
            device=data["device"],
            seed=data["seed"],
            params=data["params"],
            runs=[RunRecord.from_json(r) for r in data["runs"]],
            observations=list(data["observations"]),
            status=data.get("status", "ok"),
            seconds=data.get("seconds", 0.0),
            extras=data.get("extras", {}),
        )


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value

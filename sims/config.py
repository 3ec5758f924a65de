"""What to train: data, model and training settings as plain frozen dataclasses.

No torch here: experiments build these at import-free cost, events carry them as dicts, and
the training loop (``sims.training``) reads them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

DatasetName = Literal["teacher", "spirals", "digits"]
DATASETS: tuple[str, ...] = ("teacher", "spirals", "digits")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
# adamw is only offered where the experiment is about weight decay (weight-decay).
ALL_OPTIMIZERS: tuple[str, ...] = (*OPTIMIZERS, "adamw")
NORMS: tuple[str, ...] = ("none", "batch", "sync-batch")
SCALING_RULES: tuple[str, ...] = ("none", "linear", "sqrt")
MONITORS: tuple[str, ...] = ("val_loss", "val_acc")
DIGITS_IMAGES = 1797  # size of the shipped digits set


@dataclass(frozen=True)
class DataSpec:
    """A deterministic data set: the same spec and seed always give the same tensors.

    ``label_noise`` is the share of TRAINING labels replaced by a different, random class;
    validation labels stay clean so validation measures what the model really learned.
    ``features`` applies to ``teacher`` only; ``classes`` to ``teacher`` and ``spirals``
    (``None`` = the data set's usual number: teacher 10, spirals 3, digits always 10).
    ``digits`` has 1,797 images: a larger ``n_examples`` uses all of them.
    ``folds`` >= 2 selects a cross-validation split: the training part is cut into ``folds``
    equal parts and part ``fold`` (0-based) becomes the validation set, the rest the training
    set; the usual validation set stays unseen (a hold-out for the final check).
    """

    name: DatasetName = "teacher"
    n_examples: int = 4000
    features: int = 20
    classes: int | None = None
    label_noise: float = 0.0
    val_fraction: float = 0.2
    seed: int = 0
    folds: int = 0
    fold: int = 0

    @property
    def used_examples(self) -> int:
        return min(self.n_examples, DIGITS_IMAGES) if self.name == "digits" else self.n_examples

    @property
    def n_val(self) -> int:
        return max(1, round(self.used_examples * self.val_fraction))

    @property
    def n_train(self) -> int:
        return self.used_examples - self.n_val


@dataclass(frozen=True)
class ModelSpec:
    """``mlp``: ``depth`` hidden layers of ``hidden`` units with ReLU.
    ``cnn``: two 3x3 conv layers (16, 32 channels), 2x2 max-pool, a ``hidden``-unit layer;
    image data (digits) only. ``norm`` (MLP only) puts a normalization after each hidden
    linear layer: ``batch`` (BatchNorm: statistics of this process's batch) or
    ``sync-batch`` (statistics over every data-parallel worker's batch)."""

    kind: Literal["mlp", "cnn"] = "mlp"
    hidden: int = 128
    depth: int = 1
    norm: Literal["none", "batch", "sync-batch"] = "none"


@dataclass(frozen=True)
class TrainConfig:
    """Settings for one run of the training loop.

    ``lr`` is the learning rate tuned for ``base_batch``; ``lr_scaling`` adapts it to
    ``batch_size`` (linear: times B/base, sqrt: times sqrt(B/base)). ``warmup_epochs`` ramps
    the LR up linearly from near zero. ``lr_end`` (if set) moves the LR geometrically from
    the scaled ``lr`` to ``lr_end`` over the run (an LR range test). ``schedule`` (see
    ``sims.schedules``) shapes the LR per update over ``schedule_epochs`` (default: the
    run's ``epochs``; more than ``epochs`` = a run stopped before its planned end);
    ``decay_fraction`` is the share of those updates that ``wsd`` spends decaying.

    ``shard_count`` > 1 makes this run one data-parallel worker: ``batch_size`` is the global
    batch, every process draws the same batches, and this one trains on part ``shard_rank``
    of each (a hook averages the gradients across workers).

    ``max_updates`` caps the updates (0: none, only the evaluation of the untrained model;
    ``None``: ``epochs`` decide). Evaluations run at every epoch end and, if ``eval_every``
    > 0, every that many updates; with ``validate`` false they skip the validation set
    (``val_loss``/``val_acc`` are ``None``), for tuning runs judged by their training loss.
    ``patience`` > 0 tracks the best epoch by ``monitor``; when ``patience`` epochs pass
    without improvement the run stops (if ``early_stop``) or only marks that epoch, and the
    best weights are restored at the end (if ``restore_best``). ``target_loss`` records when
    ``target_metric`` (``val_loss``, ``train_loss`` or a number a ``TrainHook`` reports)
    first reached it (checked at each evaluation); ``stop_at_target`` ends
    the run there. A loss that is NaN/inf or above ``divergence_factor`` times the starting
    loss ends the run with status ``diverged``.
    """

    batch_size: int = 32
    epochs: int = 10
    lr: float = 0.05
    optimizer: Literal["sgd", "adam", "adamw"] = "sgd"
    momentum: float = 0.9
    weight_decay: float = 0.0
    lr_scaling: Literal["none", "linear", "sqrt"] = "none"
    base_batch: int = 32
    warmup_epochs: float = 0.0
    lr_end: float | None = None
    schedule: Literal["constant", "step", "cosine", "one-cycle", "wsd"] = "constant"
    schedule_epochs: float | None = None
    decay_fraction: float = 0.2
    shard_rank: int = 0
    shard_count: int = 1
    max_updates: int | None = None
    eval_every: int = 0
    patience: int = 0
    early_stop: bool = True
    restore_best: bool = True
    monitor: Literal["val_loss", "val_acc"] = "val_loss"
    target_loss: float | None = None
    # "val_loss", "train_loss", or the name of a number a TrainHook reports
    target_metric: str = "val_loss"
    stop_at_target: bool = False
    divergence_factor: float = 10.0
    track_train_acc: bool = False
    validate: bool = True
    seed: int | None = None  # None: the experiment's seed

    def __post_init__(self) -> None:
        watches_val = self.patience > 0 or (
            self.target_loss is not None and self.target_metric == "val_loss"
        )
        if not self.validate and watches_val:
            raise ValueError(
                "validate=False leaves nothing for early stopping or a val_loss target to "
                "watch; expected patience = 0 and target_metric other than 'val_loss'"
            )
        if self.max_updates is not None and self.max_updates < 0:
            raise ValueError(f"max_updates: expected 0 or more (or None), got {self.max_updates}")

    def scaled_lr(self) -> float:
        """The learning rate after the batch-size scaling rule."""
        ratio = self.batch_size / self.base_batch
        if self.lr_scaling == "linear":
            return self.lr * ratio
        if self.lr_scaling == "sqrt":
            return self.lr * math.sqrt(ratio)
        return self.lr

    def updates_per_epoch(self, n_train: int) -> int:
        return math.ceil(n_train / self.batch_size)

    def total_updates(self, n_train: int) -> int:
        total = self.epochs * self.updates_per_epoch(n_train)
        return total if self.max_updates is None else min(total, self.max_updates)


def as_dict(*specs: DataSpec | ModelSpec | TrainConfig) -> dict[str, Any]:
    """The specs as one JSON-ready dict keyed ``data``, ``model``, ``train``."""
    keys = {DataSpec: "data", ModelSpec: "model", TrainConfig: "train"}
    return {keys[type(s)]: asdict(s) for s in specs}


@dataclass(frozen=True)
class PlannedRun:
    """One training run an experiment will make. ``updates`` is the most it will train
    (``at_most``: it may stop sooner); evaluations come at every epoch end and every
    ``eval_every`` updates, each a forward pass over the validation set plus
    ``probe_examples`` training examples; ``extra_updates`` are updates' worth of work a
    hook adds (e.g. measuring per-batch gradients)."""

    batch_size: int
    updates: int
    data: DataSpec
    model: ModelSpec
    optimizer: str = "sgd"
    eval_every: int = 0
    probe_examples: int = 0
    extra_updates: int = 0
    at_most: bool = False

    @property
    def evaluations(self) -> int:
        per_epoch = math.ceil(self.data.n_train / self.batch_size)
        epochs = math.ceil(self.updates / per_epoch)
        between = self.updates // self.eval_every if self.eval_every else 0
        return 1 + epochs + between

"""The one training loop every experiment uses.

Fast by construction: the data already sits on the device, each epoch gathers a shuffled copy
once and batches are contiguous slices of it; mini-batch losses stay on the device and are
read back only at evaluation points (plus one scalar every ``HEALTH_EVERY`` updates to catch
divergence early), so a GPU is never stalled per update. Experiments change what is trained
through :class:`~sims.config.TrainConfig` and may observe each update through a
:class:`TrainHook`; they never copy this loop.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from sims.config import ModelSpec, TrainConfig, as_dict
from sims.datasets import Dataset, _mix
from sims.device import empty_cache, synchronize
from sims.events import RunFinished, RunProgress, RunStarted, RunTick, SimEvent
from sims.models import build_model
from sims.optim import SGD, Adam, AdamW, Optimizer
from sims.results import HistoryPoint, RunRecord, RunStatus, RunSummary
from sims.schedules import lr_factor

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

HEALTH_EVERY = 100  # updates between divergence checks that read one loss back
TICK_SECONDS = 0.25  # at most this often a RunTick
TRAIN_PROBE = 2048  # training examples evaluated for train accuracy (and the loss at update 0)
EVAL_CHUNK = 8192  # examples per forward pass when evaluating


@dataclass(frozen=True)
class UpdateStep:
    """What a hook sees after the backward pass of one update, before the optimizer step."""

    model: nn.Module
    optimizer: Optimizer
    inputs: torch.Tensor
    targets: torch.Tensor
    loss: torch.Tensor
    update: int  # 1-based number of this update
    epoch: int  # 1-based epoch it belongs to


class TrainHook:
    """Instrumentation for experiments that need more than losses (gradient norms, ...).

    ``after_backward`` runs on every update (keep it cheap, and avoid reading values back
    to the host on every call); ``report`` runs at each evaluation and its numbers land in
    ``RunProgress.extra`` and ``HistoryPoint.extra``.
    """

    def after_backward(self, step: UpdateStep) -> None:
        return None

    def report(self) -> dict[str, float]:
        return {}

    def stop_reason(self, point: HistoryPoint) -> str | None:
        """Called after each evaluation: a reason to end the run there (status ``ok``, the
        reason kept in the summary), or ``None`` to go on."""
        return None


# How allocation failures read when they do not come as torch.OutOfMemoryError: the caching
# allocator, the CPU allocator, and cuBLAS/cuDNN failing to get memory or workspace.
_OOM_TEXTS = (
    "out of memory",
    "can't allocate memory",
    "defaultcpuallocator",
    "alloc_failed",  # CUBLAS_STATUS_ALLOC_FAILED, CUDNN_STATUS_ALLOC_FAILED
    "not_enough_memory",  # CUDNN_STATUS_NOT_ENOUGH_MEMORY
    "cudnn_status_not_enough_workspace",
)


def is_out_of_memory(error: BaseException) -> bool:
    oom_type = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
    if isinstance(error, oom_type | MemoryError):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and any(t in text for t in _OOM_TEXTS)


def train(
    data: Dataset,
    model_spec: ModelSpec,
    config: TrainConfig,
    *,
    device: str,
    label: str,
    emit: Callable[[SimEvent], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    hooks: Sequence[TrainHook] = (),
    index: int = 0,
    seed: int = 0,
) -> RunRecord:
    """Train a fresh model on ``data`` (already on ``device``) and return the run's record,
    emitting ``RunStarted``, ``RunProgress``/``RunTick`` and ``RunFinished`` on the way.

    Never raises for divergence, out-of-memory or cancellation: those end the run with that
    status. ``cancel`` is polled between updates. ``config.seed`` (else ``seed``) fixes the
    initial weights and the batch order, so equal inputs on one device give equal numbers.
    """
    return _TrainingRun(
        data, model_spec, config, device, label, emit, cancel, hooks, index, seed
    ).run()


class _Stop(Exception):
    def __init__(self, status: RunStatus, reason: str | None = None) -> None:
        self.status: RunStatus = status
        self.reason = reason


class _TrainingRun:
    def __init__(
        self,
        data: Dataset,
        model_spec: ModelSpec,
        config: TrainConfig,
        device: str,
        label: str,
        emit: Callable[[SimEvent], None] | None,
        cancel: Callable[[], bool] | None,
        hooks: Sequence[TrainHook],
        index: int,
        seed: int,
    ) -> None:
        self.data, self.config, self.device, self.label = data, config, device, label
        self.model_spec = model_spec
        self.emit: Callable[[SimEvent], None] = emit or (lambda event: None)
        self.cancel, self.hooks, self.index = cancel, tuple(hooks), index
        self.seed = config.seed if config.seed is not None else seed
        self.n = int(data.y_train.shape[0])
        self.batch = config.batch_size
        self.per_epoch = math.ceil(self.n / self.batch)
        self.total = config.total_updates(self.n)
        self.lr = config.scaled_lr()
        self.warmup = round(config.warmup_epochs * self.per_epoch)
        planned = config.schedule_epochs if config.schedule_epochs is not None else config.epochs
        self.planned = max(1, round(planned * self.per_epoch))
        self.scheduled = (
            self.warmup > 0 or config.lr_end is not None or config.schedule != "constant"
        )
        self.history: list[HistoryPoint] = []
        self.losses: list[torch.Tensor] = []  # mini-batch mean losses since the last point
        self.loss_counts: list[int] = []  # and how many examples each batch had
        self.update = 0
        self.examples = 0
        self.seconds = 0.0
        self.resumed = 0.0
        self.reference_loss = math.inf
        self.best: tuple[float, HistoryPoint, int] | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.since_best = 0
        self.stopped_epoch: int | None = None
        self.kept: tuple[HistoryPoint, int] | None = None  # what early stopping would keep
        self.target_point: HistoryPoint | None = None

    def lr_at(self, update: int) -> float:
        """Learning rate for the ``update``-th update (0-based)."""
        lr = self.lr
        if self.config.lr_end is not None:
            lr *= (self.config.lr_end / self.lr) ** (update / max(1, self.total - 1))
        if self.config.schedule != "constant":
            lr *= lr_factor(self.config.schedule, update, self.planned, self.config.decay_fraction)
        if update < self.warmup:
            lr *= (update + 1) / self.warmup
        return lr

    def run(self) -> RunRecord:
        self.shuffle = torch.Generator().manual_seed(_mix(self.seed, 0x5EED))
        self.emit(
            RunStarted(
                label=self.label,
                index=self.index,
                config=as_dict(self.data.spec, self.model_spec, self.config),
                device=self.device,
                updates_per_epoch=self.per_epoch,
                total_updates=self.total,
                train_examples=self.n,
                val_examples=int(self.data.y_val.shape[0]),
            )
        )
        status: RunStatus = "ok"
        reason: str | None = None
        self.resumed = time.perf_counter()
        try:
            # Allocating the model and its optimizer state can fail like any update.
            torch.manual_seed(_mix(self.seed, 0x1417))
            self.model = build_model(self.model_spec, self.data).to(self.device)
            self.optimizer = self._optimizer()
            self._loop()
        except _Stop as stop:
            status, reason = stop.status, stop.reason
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            status = "oom"
            reason = (
                f"out of memory on {self.device} at batch size {self.batch}: "
                + (str(error).strip().splitlines() or ["no details"])[0]
            )
        if status == "oom":
            # Outside the except block: the exception's traceback no longer holds the failed
            # step's activations, so once this run's own tensors are dropped the cache can
            # really hand the memory back.
            self._release_tensors()
            empty_cache(self.device)
        restored = None
        if status == "ok" and self.config.patience > 0 and self.config.restore_best:
            restored = self._restore_best()
        record = self._record(status, reason, restored)
        self.emit(RunFinished(self.label, status, record.summary, record))
        return record

    def _release_tensors(self) -> None:
        self.losses.clear()
        self.loss_counts.clear()
        self.best_state = None
        model = getattr(self, "model", None)  # None when building the model itself failed
        if model is not None:
            model.zero_grad(set_to_none=True)
        self.optimizer = SGD([], lr=0.0)  # drops momentum buffers / Adam moments

    def _optimizer(self) -> Optimizer:
        lr = self.lr_at(0)
        params = self.model.parameters()
        if self.config.optimizer == "adam":
            return Adam(params, lr=lr, weight_decay=self.config.weight_decay)
        if self.config.optimizer == "adamw":
            return AdamW(params, lr=lr, weight_decay=self.config.weight_decay)
        return SGD(
            params, lr=lr, momentum=self.config.momentum, weight_decay=self.config.weight_decay
        )

    def _loop(self) -> None:
        config, model, optimizer = self.config, self.model, self.optimizer
        x_train, y_train = self.data.x_train, self.data.y_train
        cancel, hooks, batch, n = self.cancel, self.hooks, self.batch, self.n
        rank, shards = config.shard_rank, config.shard_count
        eval_every = config.eval_every
        next_tick = time.perf_counter() + TICK_SECONDS
        self._evaluate(epoch=0.0)
        if self.total == 0:
            return
        for epoch in range(1, config.epochs + 1):
            # One gather per epoch; every batch below is then a contiguous view.
            order = torch.randperm(n, generator=self.shuffle).to(self.device)
            xs, ys = x_train.index_select(0, order), y_train.index_select(0, order)
            model.train()
            for start in range(0, n, batch):
                if cancel is not None and cancel():
                    self._evaluate_partial(epoch)
                    raise _Stop("cancelled", "cancelled by the user")
                if self.scheduled:
                    optimizer.lr = self.lr_at(self.update)
                inputs, targets = xs[start : start + batch], ys[start : start + batch]
                if shards > 1:  # a data-parallel worker: its part of the global batch
                    inputs = inputs.tensor_split(shards)[rank]
                    targets = targets.tensor_split(shards)[rank]
                loss = F.cross_entropy(model(inputs), targets)
                optimizer.zero_grad()
                loss.backward()
                self.update += 1
                if hooks:
                    step = UpdateStep(model, optimizer, inputs, targets, loss, self.update, epoch)
                    for hook in hooks:
                        hook.after_backward(step)
                optimizer.step()
                self.losses.append(loss.detach())
                self.loss_counts.append(inputs.shape[0])
                self.examples += inputs.shape[0]

                if self.update == self.total:
                    break
                if eval_every and self.update % eval_every == 0 and start + batch < n:
                    self._evaluate(epoch - 1 + (start + batch) / n)
                elif self.update % HEALTH_EVERY == 0:
                    self._check_health(epoch - 1 + (start + batch) / n)
                now = time.perf_counter()
                if now >= next_tick:
                    next_tick = now + TICK_SECONDS
                    self.emit(
                        RunTick(
                            self.label,
                            epoch - 1 + min(1.0, (start + batch) / n),
                            self.update,
                            self.examples,
                            self.seconds + now - self.resumed,
                            self.total,
                        )
                    )
            finished_epoch = self.examples >= epoch * n
            point = self._evaluate(float(epoch) if finished_epoch else self.examples / n)
            if finished_epoch:
                self._early_stopping(epoch, point)
            if self.update == self.total:
                return

    def _evaluate_partial(self, epoch: int) -> None:
        """Close a cancelled run with one last evaluation if it trained since the previous."""
        if self.losses:
            self._evaluate(self.examples / self.n)

    def _check_health(self, epoch: float) -> None:
        last = self.losses[-1].item()
        if not math.isfinite(last) or last > self.config.divergence_factor * self.reference_loss:
            self._evaluate(epoch)  # records the bad point (and usually stops the run itself)
            raise _Stop("diverged", f"the training loss reached {last:.3g} at update {self.update}")

    @torch.no_grad()
    def _metrics(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean loss and accuracy on (x, y), as device tensors (no host sync)."""
        loss_sum = torch.zeros((), device=x.device)
        correct = torch.zeros((), device=x.device, dtype=torch.long)
        for start in range(0, x.shape[0], EVAL_CHUNK):
            logits = self.model(x[start : start + EVAL_CHUNK])
            chunk_y = y[start : start + EVAL_CHUNK]
            loss_sum += F.cross_entropy(logits, chunk_y, reduction="sum")
            correct += (logits.argmax(1) == chunk_y).sum()
        return loss_sum / x.shape[0], correct.float() / x.shape[0]

    def _mean_train_loss(self) -> torch.Tensor:
        """Mean loss per example since the last point: a short last batch weighs less."""
        counts = torch.tensor(self.loss_counts, dtype=torch.float32, device=self.losses[0].device)
        return (torch.stack(self.losses).float() * counts).sum() / counts.sum()

    def _evaluate(self, epoch: float) -> HistoryPoint:
        synchronize(self.device)  # so that the clock below measures finished work
        self.seconds += time.perf_counter() - self.resumed
        self.model.eval()
        probe_x, probe_y = self.data.x_train[:TRAIN_PROBE], self.data.y_train[:TRAIN_PROBE]
        values: list[torch.Tensor] = []
        train_acc_at: int | None = None
        if self.losses:
            values.append(self._mean_train_loss())
            self.losses, self.loss_counts = [], []
            if self.config.track_train_acc:
                train_acc_at = len(values)
                values.append(self._metrics(probe_x, probe_y)[1])
        else:  # before the first update: the untrained model on training data
            values.extend(self._metrics(probe_x, probe_y))
            train_acc_at = 1
        if self.config.validate:
            values.extend(self._metrics(self.data.x_val, self.data.y_val))
        numbers = torch.stack([v.float() for v in values]).tolist()  # the one host sync
        train_loss = numbers[0]
        train_acc = numbers[train_acc_at] if train_acc_at is not None else None
        val_loss, val_acc = (numbers[-2], numbers[-1]) if self.config.validate else (None, None)
        extra: dict[str, float] = {}
        for hook in self.hooks:
            extra.update(hook.report())
        point = HistoryPoint(
            epoch=epoch,
            update=self.update,
            examples=self.examples,
            seconds=self.seconds,
            train_loss=train_loss,
            val_loss=val_loss,
            val_acc=val_acc,
            train_acc=train_acc if self.config.track_train_acc else None,
            lr=self.lr_at(max(0, self.update - 1)),
            extra=extra,
        )
        self.history.append(point)
        self.emit(RunProgress(**asdict(point), label=self.label))
        self.model.train()
        if self.update == 0:
            self.reference_loss = max(train_loss, 1e-3)
        self._check_target(point)
        self._check_divergence(point)
        for hook in self.hooks:
            reason = hook.stop_reason(point)
            if reason is not None:
                raise _Stop("ok", reason)
        self.resumed = time.perf_counter()
        return point

    def _check_divergence(self, point: HistoryPoint) -> None:
        val_finite = point.val_loss is None or math.isfinite(point.val_loss)
        if not (math.isfinite(point.train_loss) and val_finite):
            raise _Stop("diverged", f"the loss became {_nonfinite(point)} at update {point.update}")
        limit = self.config.divergence_factor * self.reference_loss
        if point.train_loss > limit:
            raise _Stop(
                "diverged",
                f"the training loss exploded to {point.train_loss:.3g} at update {point.update}"
                f" (more than {self.config.divergence_factor:g}x the starting "
                f"{self.reference_loss:.3g})",
            )

    def _check_target(self, point: HistoryPoint) -> None:
        target = self.config.target_loss
        if target is None or self.target_point is not None:
            return
        metric = self.config.target_metric
        if metric == "val_loss":
            value = point.val_loss if point.val_loss is not None else math.inf
        elif metric == "train_loss":
            value = point.train_loss
        else:  # a number reported by a hook
            value = point.extra.get(metric, math.inf)
        if value <= target:
            self.target_point = point
            if self.config.stop_at_target:
                raise _Stop("ok")

    def _early_stopping(self, epoch: int, point: HistoryPoint) -> None:
        """Track the best epoch; once ``patience`` epochs pass without improvement, stop (or,
        without ``early_stop``, mark the epoch and keep the weights early stopping would
        have kept while the run trains on)."""
        config = self.config
        if point.val_loss is None or point.val_acc is None:
            return  # a run without validation (config forbids patience there)
        value = point.val_loss if config.monitor == "val_loss" else -point.val_acc
        improved = self.best is None or value < self.best[0]
        if improved:
            self.best = (value, point, epoch)
        if self.stopped_epoch is not None:
            return
        if improved:
            self.since_best = 0
            self.kept = (point, epoch)
            if config.patience > 0 and config.restore_best:
                self.best_state = {
                    k: v.detach().clone() for k, v in self.model.state_dict().items()
                }
            return
        self.since_best += 1
        if config.patience > 0 and self.since_best >= config.patience:
            self.stopped_epoch = epoch
            if config.early_stop:
                raise _Stop("ok")

    def _restore_best(self) -> tuple[HistoryPoint, int] | None:
        """Load the kept weights; returns the point and epoch they come from."""
        if self.kept is None or self.best_state is None:
            return None
        if self.history[-1].epoch != self.kept[1]:
            self.model.load_state_dict(self.best_state)
        return self.kept

    def _record(
        self, status: RunStatus, reason: str | None, restored: tuple[HistoryPoint, int] | None
    ) -> RunRecord:
        last = self.history[-1] if self.history else None
        best = self.best[1] if self.best else None
        final = restored[0] if restored is not None else last
        target = self.target_point
        summary = RunSummary(
            status=status,
            updates=self.update,
            examples=self.examples,
            epochs_completed=self.examples / self.n,
            seconds=self.seconds,
            final_train_loss=final.train_loss if final else None,
            final_val_loss=final.val_loss if final else None,
            final_val_acc=final.val_acc if final else None,
            best_epoch=self.best[2] if self.best else None,
            best_update=best.update if best else None,
            best_val_loss=best.val_loss if best else None,
            best_val_acc=best.val_acc if best else None,
            monitor=self.config.monitor,
            stopped_epoch=self.stopped_epoch,
            restored_epoch=restored[1] if restored is not None else None,
            target_loss=self.config.target_loss,
            updates_to_target=target.update if target else None,
            epochs_to_target=target.epoch if target else None,
            examples_to_target=target.examples if target else None,
            seconds_to_target=target.seconds if target else None,
            reason=reason,
        )
        return RunRecord(
            label=self.label,
            status=status,
            batch_size=self.batch,
            lr=self.lr,
            epochs=self.config.epochs,
            updates_per_epoch=self.per_epoch,
            train_examples=self.n,
            val_examples=int(self.data.y_val.shape[0]),
            config=as_dict(self.data.spec, self.model_spec, self.config),
            history=self.history,
            summary=summary,
        )


def _nonfinite(point: HistoryPoint) -> str:
    bad = point.train_loss if not math.isfinite(point.train_loss) else point.val_loss or 0.0
    return "infinite" if math.isinf(bad) else "NaN"

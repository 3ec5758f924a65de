"""Training hooks the tuning experiments attach to the one training loop (imports torch:
experiment modules import this only inside ``run``).

- :class:`TrainingLossProbe`: the exact loss of the current weights on a fixed sample of
  training examples, reported as ``train_probe_loss`` at every evaluation (the running mean of
  mini-batch losses is too noisy to tell when a run first reaches a target).
- :class:`RangeTestStop`: ends an LR range test once its smoothed loss blows up.
- :class:`GradientNoiseProbe`: the two-batch-size estimate of the gradient noise scale.
- :class:`MemoryProbe`: bytes held by parameters, gradients, optimizer state and the
  activations saved for the backward pass, per update.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from sims.training import TRAIN_PROBE, TrainHook, UpdateStep

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sims.datasets import Dataset
    from sims.results import HistoryPoint

PROBE_METRIC = "train_probe_loss"


class TrainingLossProbe(TrainHook):
    """Reports ``train_probe_loss``: the mean loss on the first ``size`` training examples
    (the same sample the loop measures at update 0), with the weights as they are now."""

    def __init__(self, data: Dataset, size: int = TRAIN_PROBE) -> None:
        self.x = data.x_train[:size]
        self.y = data.y_train[:size]
        self.model: nn.Module | None = None

    def after_backward(self, step: UpdateStep) -> None:
        self.model = step.model

    def report(self) -> dict[str, float]:
        if self.model is None:  # update 0: the loop's own train_loss is this very number
            return {}
        with torch.no_grad():
            return {PROBE_METRIC: float(F.cross_entropy(self.model(self.x), self.y))}


class StallStop(TrainHook):
    """Ends a run whose ``metric`` (a number another hook reports) made no real progress:
    after ``min_updates``, if the best value over the second half of the run so far is not
    ``min_gain`` (relative) below the best of the first half."""

    def __init__(self, metric: str, min_updates: int = 200, min_gain: float = 0.01) -> None:
        self.metric, self.min_updates, self.min_gain = metric, min_updates, min_gain
        self.seen: list[tuple[int, float]] = []

    def stop_reason(self, point: HistoryPoint) -> str | None:
        value = point.extra.get(self.metric)
        if value is None:
            return None
        self.seen.append((point.update, value))
        if point.update < self.min_updates:
            return None
        half = point.update / 2
        early = [v for u, v in self.seen if u <= half]
        late = [v for u, v in self.seen if u > half]
        if early and late and min(late) > (1 - self.min_gain) * min(early):
            return (
                f"stalled: no {self.min_gain:.0%} gain in {self.metric} between updates "
                f"{int(half):,} and {point.update:,} (best {min(early):.3g})"
            )
        return None


def smooth_losses(losses: list[float], beta: float) -> list[float]:
    """Exponential moving average with bias correction (as fastai's ``lr_find``)."""
    smoothed, average = [], 0.0
    for i, loss in enumerate(losses, start=1):
        average = beta * average + (1 - beta) * loss
        smoothed.append(average / (1 - beta**i))
    return smoothed


class RangeTestStop(TrainHook):
    """Stops an LR range test (evaluated after every update) when the smoothed mini-batch
    loss exceeds ``factor`` times the lowest smoothed loss so far, or becomes non-finite."""

    def __init__(self, beta: float, factor: float) -> None:
        self.beta, self.factor = beta, factor
        self.losses: list[float] = []

    def stop_reason(self, point: HistoryPoint) -> str | None:
        if point.update == 0:
            return None
        self.losses.append(point.train_loss)
        smoothed = smooth_losses(self.losses, self.beta)
        now, best = smoothed[-1], min(smoothed)
        if not math.isfinite(now):
            return f"the loss became non-finite at LR {point.lr:.3g}"
        if len(smoothed) > 1 and now > self.factor * best:
            return (
                f"the smoothed loss ({now:.3g}) passed {self.factor:g}x its minimum "
                f"({best:.3g}) at LR {point.lr:.3g}"
            )
        return None


class GradientNoiseProbe(TrainHook):
    """Estimates the simple gradient noise scale ``B_simple = tr(Sigma) / |G|^2`` (McCandlish
    et al. 2018, appendix A) from gradient norms at two batch sizes.

    Every ``every`` updates it draws ``big`` training examples, splits them into chunks of
    ``small``, and takes each chunk's gradient at the current weights: the mean of the chunk
    gradients is the big-batch gradient, the mean squared chunk norm estimates the small-batch
    ``E|G_small|^2``. Examples are drawn with replacement, so that ``E|G_b|^2 = |G|^2 +
    tr(Sigma) / b`` holds exactly for the training set's own gradient and covariance (drawn
    without replacement, the variance of a batch mean shrinks by ``(N - b) / (N - 1)``,
    which biases ``|G|^2`` low by about ``tr(Sigma) / N`` and ``B_simple`` high, the more so
    the larger ``big`` is against the ``N`` training examples). The unbiased estimates of
    ``|G|^2`` and ``tr(Sigma)`` are smoothed by exponential moving averages before dividing
    (the ratio of averages, not the average of a noisy ratio). Runs outside the optimizer
    step, so training itself is unchanged.
    """

    def __init__(
        self, data: Dataset, small: int, big: int, every: int, beta: float, seed: int
    ) -> None:
        self.x, self.y = data.x_train, data.y_train
        self.small, self.chunks, self.every, self.beta = small, big // small, every, beta
        self.generator = torch.Generator().manual_seed(seed)
        self.grad_sq = 0.0  # EMA of the |G|^2 estimate
        self.trace = 0.0  # EMA of the tr(Sigma) estimate
        self.weight = 0.0  # EMA bias correction
        self.measurements = 0

    def after_backward(self, step: UpdateStep) -> None:
        if (step.update - 1) % self.every:
            return
        model = step.model
        params = [p for p in model.parameters() if p.requires_grad]
        count = self.small * self.chunks
        picks = torch.randint(self.x.shape[0], (count,), generator=self.generator)
        picks = picks.to(self.x.device)
        xs, ys = self.x.index_select(0, picks), self.y.index_select(0, picks)
        total = [torch.zeros_like(p) for p in params]
        chunk_sq: list[torch.Tensor] = []
        for i in range(self.chunks):
            part = slice(i * self.small, (i + 1) * self.small)
            loss = F.cross_entropy(model(xs[part]), ys[part])
            grads = torch.autograd.grad(loss, params)
            chunk_sq.append(torch.stack([(g * g).sum() for g in grads]).sum())
            torch._foreach_add_(total, grads)
        torch._foreach_div_(total, self.chunks)
        big = torch.stack([(g * g).sum() for g in total]).sum()
        # One host read per measurement.
        big_sq, small_sq_mean = torch.stack([big, torch.stack(chunk_sq).mean()]).tolist()
        b_small, b_big = self.small, self.small * self.chunks
        grad_sq = (b_big * big_sq - b_small * small_sq_mean) / (b_big - b_small)
        trace = (small_sq_mean - big_sq) / (1 / b_small - 1 / b_big)
        self.grad_sq = self.beta * self.grad_sq + (1 - self.beta) * grad_sq
        self.trace = self.beta * self.trace + (1 - self.beta) * trace
        self.weight = self.beta * self.weight + (1 - self.beta)
        self.measurements += 1

    def report(self) -> dict[str, float]:
        if not self.measurements:
            return {}
        grad_sq, trace = self.grad_sq / self.weight, self.trace / self.weight
        numbers = {"grad_sq": grad_sq, "trace_sigma": trace}
        if grad_sq > 0:
            numbers["noise_scale"] = trace / grad_sq
        return numbers


class MemoryProbe(TrainHook):
    """Measures, per update, the bytes of parameters, gradients, optimizer state, the input
    batch and the activations autograd saved for the backward pass (the largest update
    wins). Use :meth:`recording` around the run so the saved tensors are seen."""

    def __init__(self) -> None:
        # (storage pointer, data pointer, bytes) of each tensor saved in the current update
        self.saved: set[tuple[int, int, int]] = set()
        self.peak_activations = 0
        self.peak_total = 0
        self.parts: dict[str, int] = {}

    def _pack(self, tensor: torch.Tensor) -> torch.Tensor:
        # A saved view counts with its own size, not its whole storage (the input batch is a
        # view of the epoch's shuffled data, which is not an activation).
        self.saved.add((tensor.untyped_storage().data_ptr(), tensor.data_ptr(), tensor.nbytes))
        return tensor

    @contextmanager
    def recording(self) -> Iterator[None]:
        with torch.autograd.graph.saved_tensors_hooks(self._pack, lambda tensor: tensor):
            yield

    def after_backward(self, step: UpdateStep) -> None:
        params = list(step.model.parameters())
        # Weights and the batch are counted on their own; what else autograd kept is activation.
        own = {p.untyped_storage().data_ptr() for p in params}
        own.add(step.inputs.untyped_storage().data_ptr())
        own.add(step.targets.untyped_storage().data_ptr())
        activations = sum(size for storage, _, size in self.saved if storage not in own)
        self.saved.clear()
        weights = sum(p.nbytes for p in params)
        grads = sum(p.grad.nbytes for p in params if p.grad is not None)
        state = _optimizer_state_bytes(step.optimizer, own)
        batch = step.inputs.nbytes + step.targets.nbytes
        total = weights + grads + state + batch + activations
        if total > self.peak_total:
            self.peak_total = total
            self.peak_activations = activations
            self.parts = {
                "parameters": weights,
                "gradients": grads,
                "optimizer_state": state,
                "batch": batch,
                "activations": activations,
            }


class CudaPeakProbe(TrainHook):
    """CUDA only: the peak bytes PyTorch allocated while training and, apart, while
    evaluating, above what was allocated when the probe was made (the data set).

    The first evaluation comes before any update, so its peak is pure evaluation; the
    counter is reset right after it, and read after each backward pass (the peak of a
    forward and backward pass, plus the previous optimizer step). Later evaluations are not
    counted as training: the reading after the last backward pass precedes them. Reading
    these counters does not synchronise the device."""

    def __init__(self) -> None:
        torch.cuda.synchronize()
        self.base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        self.train_peak = 0
        self.eval_peak = 0
        self.evaluations = 0

    def _peak(self) -> int:
        return max(0, torch.cuda.max_memory_allocated() - self.base)

    def after_backward(self, step: UpdateStep) -> None:
        self.train_peak = max(self.train_peak, self._peak())

    def report(self) -> dict[str, float]:
        if self.evaluations == 0:
            self.eval_peak = self._peak()
            torch.cuda.reset_peak_memory_stats()
        self.evaluations += 1
        return {}


def _optimizer_state_bytes(optimizer: object, exclude: set[int]) -> int:
    """Bytes of the tensors an optimizer keeps (momentum buffers, Adam moments), found among
    its attributes; views of the parameters themselves are excluded."""
    seen: set[int] = set()
    total = 0
    for value in vars(optimizer).values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, torch.Tensor):
                ptr = item.untyped_storage().data_ptr()
                if ptr not in exclude and ptr not in seen:
                    seen.add(ptr)
                    total += item.untyped_storage().nbytes()
    return total

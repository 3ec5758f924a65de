"""What a simulation will cost before it runs: memory and wall time, from its parameters.

Each experiment describes the runs it will train (:class:`PlannedRun`, from its ``plan``);
from those this module derives

- :func:`estimate_memory`: the bytes of tensors the largest run holds at once (weights,
  gradients, optimizer state, the data on the device, and the activations one update keeps
  for the backward pass), and :func:`check_memory`, which refuses a simulation that cannot
  fit on its device with a message naming the parameters to change;
- :func:`estimate_duration`: updates and evaluations times a per-update cost model,
  ``fixed cost + cost per layer + FLOPs / measured rate``, calibrated by running the
  training loop briefly on the device (:func:`calibrate`, about 0.5 s idle, once per
  process, device and thread count).

Adaptive experiments (early stopping, a search that prunes, a range test that stops when the
loss explodes) can stop sooner than planned: their estimate is an upper bound
(``DurationEstimate.upper_bound``).

Importing this module does not import torch; the duration probe and the device's free
memory do (call them off a UI thread).
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from sims.config import DIGITS_IMAGES, DataSpec, ModelSpec, PlannedRun
from sims.params import ParamError

if TYPE_CHECKING:
    from collections.abc import Mapping

FLOAT = 4  # bytes; every tensor here is float32
EVAL_CHUNK = 8192  # as sims.training: examples per forward pass when evaluating
MEMORY_MARGIN = 0.9  # leave this share of what is free for the rest of the process


@dataclass(frozen=True)
class ModelSize:
    """A model's size per the architectures in :mod:`sims.models` (kept in step by a test
    against the real modules)."""

    parameters: int
    layers: int  # layers with weights: each costs a fixed time per update
    flops_per_example: int  # forward pass; a training update costs about 3x
    activations_per_example: int  # floats autograd keeps for the backward pass
    widest: int  # floats of the largest layer output per example


def shape(data: DataSpec) -> tuple[int, int]:
    """Features per example and classes of a data set."""
    if data.name == "digits":
        return 64, 10
    if data.name == "spirals":
        return 2, data.classes or 3
    return data.features, data.classes or 10


def model_size(model: ModelSpec, data: DataSpec) -> ModelSize:
    features, classes = shape(data)
    if model.kind == "cnn":
        side = 8  # digits are 8x8
        pixels = side * side
        conv = [(1, 16), (16, 32)]
        pooled = 32 * (side // 2) ** 2
        dense = [(pooled, model.hidden), (model.hidden, classes)]
        params = sum(i * o * 9 + o for i, o in conv) + sum(i * o + o for i, o in dense)
        flops = sum(2 * i * o * 9 * pixels for i, o in conv) + sum(2 * i * o for i, o in dense)
        # conv outputs and their ReLUs, pooling output and indices, dense ReLU, logits
        saved = 2 * (16 + 32) * pixels + 3 * pooled + 2 * model.hidden + classes
        return ModelSize(params, 4, flops, saved, 32 * pixels)
    widths = [features] + [model.hidden] * model.depth + [classes]
    pairs = list(itertools.pairwise(widths))
    params = sum(i * o + o for i, o in pairs)
    flops = sum(2 * i * o for i, o in pairs)
    saved = 2 * model.hidden * model.depth + 2 * classes
    return ModelSize(params, len(pairs), flops, saved, max(widths))


def run_bytes(run: PlannedRun) -> dict[str, int]:
    """The tensors ``run`` holds at its peak, by kind."""
    size = model_size(run.model, run.data)
    features, _ = shape(run.data)
    state = 2 if run.optimizer == "adam" else 1  # Adam: two moments; SGD: momentum
    batch = min(run.batch_size, run.data.n_train)
    examples = min(run.data.n_examples, DIGITS_IMAGES) if run.data.name == "digits" else None
    rows = examples if examples is not None else run.data.n_examples
    return {
        "model": FLOAT * size.parameters * (2 + state),  # weights, gradients, state
        # the data set, and each epoch's shuffled copy of its training part
        "data": (FLOAT * features + 8) * (rows + run.data.n_train),
        "activations": FLOAT * batch * (size.activations_per_example + size.widest),
        "evaluation": FLOAT * min(EVAL_CHUNK, rows) * 2 * size.widest,
    }


def _peak(parts: Mapping[str, int]) -> int:
    # Training and evaluation never overlap.
    return parts["model"] + parts["data"] + max(parts["activations"], parts["evaluation"])


def plan(experiment: str, params: Mapping[str, Any] | None = None) -> list[PlannedRun]:
    """The runs ``experiment`` will train with ``params`` (validated: ParamError)."""
    from sims.registry import get_experiment, resolve_params

    values = resolve_params(experiment, params)
    return get_experiment(experiment).plan(values)


def estimate_memory(experiment: str, params: Mapping[str, Any] | None = None) -> int:
    """Bytes of tensors the most demanding run of ``experiment`` holds at once."""
    return max(_peak(run_bytes(run)) for run in plan(experiment, params))


def available_memory(device: str) -> int | None:
    """Bytes free for tensors on ``device`` (CPU and MPS: available RAM, within any cgroup
    limit), or ``None`` if this system does not say."""
    if device == "cuda":
        import torch

        free_bytes, _total = torch.cuda.mem_get_info()
        return int(free_bytes)
    known = [n for n in (_meminfo_available(), _cgroup_room()) if n is not None]
    return min(known) if known else None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_room() -> int | None:
    try:
        with open("/sys/fs/cgroup/memory.max") as handle:
            limit = handle.read().strip()
        with open("/sys/fs/cgroup/memory.current") as handle:
            used = int(handle.read().strip())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(0, int(limit) - used)


def check_memory(experiment: str, params: Mapping[str, Any] | None, device: str) -> None:
    """Refuse (:class:`ParamError`) a simulation that cannot fit on ``device``.

    Every run needs its weights, gradients, optimizer state and data. On a CPU every run's
    activations must fit too: past the RAM there is no clean error, only swapping or the
    out-of-memory killer. On a GPU a batch whose activations do not fit fails cleanly and
    ends that run as ``oom`` (how ``throughput`` finds the largest batch), so only the
    fixed part is checked.
    """
    free = available_memory(device)
    if free is None:
        return
    room = int(MEMORY_MARGIN * free)
    for run in plan(experiment, params):
        parts = run_bytes(run)
        fixed = parts["model"] + parts["data"]
        need = fixed if device in ("cuda", "mps") else _peak(parts)
        if need <= room:
            continue
        model = run.model
        what = (
            f"hidden = {model.hidden}"
            + (f", depth = {model.depth}" if model.kind == "mlp" else "")
            + (
                f", batch {run.batch_size}"
                if device not in ("cuda", "mps") and parts["activations"] > parts["model"]
                else ""
            )
        )
        raise ParamError(
            [
                f"{what}: needs about {_gib(need)} on {device} (model, gradients and optimizer "
                f"state {_gib(parts['model'])}, data {_gib(parts['data'])}, activations "
                f"{_gib(parts['activations'])}) but {_gib(free)} is free; expected a smaller "
                "hidden, depth, batch size or n_examples"
            ]
        )


def _gib(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.0f} MiB"


@dataclass(frozen=True)
class DurationEstimate:
    """``seconds`` of training and evaluation (process start-up not included) for
    ``updates`` updates; ``upper_bound``: the experiment may stop well before."""

    seconds: float
    updates: int
    upper_bound: bool


@dataclass(frozen=True)
class CostModel:
    """Seconds per update: ``base`` (the loss, the loop), ``per_layer`` for each layer with
    weights (op dispatch, kernel launches, the optimizer), plus the FLOPs at
    ``flops_per_second``."""

    base: float
    per_layer: float
    flops_per_second: float
    adam_per_layer: float = 0.0  # Adam's step does more per parameter than SGD's

    def update(self, size: ModelSize, batch: int, optimizer: str = "sgd") -> float:
        arithmetic = 3 * size.flops_per_example * batch / self.flops_per_second
        layer = self.per_layer + (self.adam_per_layer if optimizer == "adam" else 0.0)
        return self.base + size.layers * layer + arithmetic

    def evaluation(self, size: ModelSize, examples: int) -> float:
        chunks = max(1, math.ceil(examples / EVAL_CHUNK))
        return (
            self.base
            + chunks * size.layers * self.per_layer
            + (size.flops_per_example * examples / self.flops_per_second)
        )


def estimate_duration(
    experiment: str,
    params: Mapping[str, Any] | None = None,
    *,
    device: str = "cpu",
    threads: int | None = None,
    cost: CostModel | None = None,
) -> DurationEstimate:
    """How long ``experiment`` with ``params`` will train on ``device`` with ``threads``
    torch threads (default: the number now set), from its planned updates and a cost model
    calibrated there (:func:`calibrate`, cached). A front end can warn before a long run."""
    if cost is None:
        import torch

        cost = _calibrated(device, threads or torch.get_num_threads())
    seconds, updates, bound = 0.0, 0, False
    for run in plan(experiment, params):
        size = model_size(run.model, run.data)
        batch = min(run.batch_size, run.data.n_train)
        seconds += (run.updates + run.extra_updates) * cost.update(size, batch, run.optimizer)
        seconds += run.evaluations * cost.evaluation(size, run.data.n_val + run.probe_examples)
        updates += run.updates
        bound = bound or run.at_most
    return DurationEstimate(seconds, updates, bound)


# A run long enough that a front end says so before it starts.
LONG_RUN_SECONDS = 180.0
# Faster than any machine this runs on (a few microseconds per update, GPU-class arithmetic):
# a run this model calls short is short everywhere, so only long-looking runs pay for the
# calibration (a second or two).
_FAST_MACHINE = CostModel(base=2e-5, per_layer=2e-6, flops_per_second=5e12)
_WORTH_CALIBRATING = 10.0  # seconds on the fast machine


def long_run_estimate(
    experiment: str, params: Mapping[str, Any] | None = None, *, device: str = "cpu"
) -> DurationEstimate | None:
    """The duration estimate of a run that will take minutes (:data:`LONG_RUN_SECONDS` or
    more) on ``device``; None for the usual run of seconds, which costs no calibration."""
    if estimate_duration(experiment, params, device=device, cost=_FAST_MACHINE).seconds < (
        _WORTH_CALIBRATING
    ):
        return None
    estimate = estimate_duration(experiment, params, device=device)
    return estimate if estimate.seconds >= LONG_RUN_SECONDS else None


def calibrate(device: str = "cpu", threads: int | None = None) -> CostModel:
    """Measure the cost model on ``device`` with ``threads`` torch threads (default: the
    number now set; the rate depends on it: on a busy machine extra threads can make updates
    many times slower) by running the training loop itself for a few dozen updates of small
    MLPs: narrow ones, whose time is almost all overhead (with SGD and with Adam), and a
    wide one, whose time is mostly arithmetic. About 0.5 s on an idle CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        shallow = _loop_seconds(device, depth=1)
        deep = _loop_seconds(device, depth=5)
        deep_adam = _loop_seconds(device, depth=5, optimizer="adam")
        per_layer = max(1e-7, (deep - shallow) / 4)
        base = max(0.0, shallow - 2 * per_layer)
        wide = ModelSpec(hidden=512, depth=2)
        seconds = _loop_seconds(device, depth=2, hidden=512, batch=512, updates=8)
        size = model_size(wide, _PROBE_DATA)
        arithmetic = max(1e-7, seconds - base - size.layers * per_layer)
        return CostModel(
            base,
            per_layer,
            3 * size.flops_per_example * 512 / arithmetic,
            adam_per_layer=max(0.0, (deep_adam - deep) / 6),
        )
    finally:
        torch.set_num_threads(before)


@cache
def _calibrated(device: str, threads: int) -> CostModel:
    return calibrate(device, threads)


_PROBE_DATA = DataSpec(n_examples=1000)


def _loop_seconds(
    device: str,
    *,
    depth: int,
    hidden: int = 8,
    batch: int = 1,
    updates: int = 48,
    optimizer: str = "sgd",
) -> float:
    """Mean training seconds per update of :func:`sims.training.train` (evaluations
    excluded, as its clock does)."""
    from sims.config import TrainConfig
    from sims.datasets import build_dataset
    from sims.training import train

    data = build_dataset(_PROBE_DATA).to(device)
    config = TrainConfig(
        batch_size=batch,
        epochs=1,
        max_updates=updates,
        lr=1e-3,
        optimizer=optimizer,  # type: ignore[arg-type]
        divergence_factor=math.inf,
    )
    record = train(data, ModelSpec(hidden=hidden, depth=depth), config, device=device, label="")
    return record.summary.seconds / max(1, record.summary.updates)

"""The engine measures what it says it measures: training loss per example, update caps,
out-of-memory handling, validation only where someone reads it, clean throughput windows,
regimes read off the critical-batch fit, and findings whose wording agrees with itself.
Sizes are tiny; the slowest test trains the epochs demo for about 6 s."""

from __future__ import annotations

import json
import statistics
import weakref
from typing import TYPE_CHECKING, Any

import pytest
import torch

from sims import device as sims_device
from sims import training
from sims.config import DataSpec, ModelSpec, TrainConfig
from sims.datasets import build_dataset
from sims.experiments import _ladder as ladder
from sims.experiments import steps_to_target
from sims.lab import run_experiment
from sims.models import MLP
from sims.registry import get_experiment
from sims.training import TrainHook, UpdateStep, train

if TYPE_CHECKING:
    from sims.results import ExperimentResult


def run(name: str, params: dict[str, Any]) -> ExperimentResult:
    result = run_experiment(name, params, device="cpu")
    json.loads(result.to_json_text())  # strict JSON, no NaN
    return result


class BatchLosses(TrainHook):
    def __init__(self) -> None:
        self.seen: list[tuple[float, int]] = []

    def after_backward(self, step: UpdateStep) -> None:
        self.seen.append((float(step.loss.detach()), int(step.inputs.shape[0])))


# --- the training loop ------------------------------------------------------------------


def test_train_loss_is_the_mean_per_example_when_the_last_batch_is_short() -> None:
    data = build_dataset(DataSpec("teacher", 250, seed=0))  # 200 training examples
    hook = BatchLosses()
    record = train(
        data,
        ModelSpec(hidden=8),
        TrainConfig(batch_size=64, epochs=1, lr=0.5),  # batches of 64, 64, 64 and 8
        device="cpu",
        label="x",
        hooks=[hook],
    )
    assert [n for _, n in hook.seen] == [64, 64, 64, 8]
    per_example = sum(loss * n for loss, n in hook.seen) / 200
    per_batch = statistics.mean(loss for loss, _ in hook.seen)
    assert abs(per_example - per_batch) > 1e-3  # the case tells the two apart
    assert record.history[-1].train_loss == pytest.approx(per_example, rel=1e-5)


def test_max_updates_zero_means_no_updates() -> None:
    data = build_dataset(DataSpec("teacher", 250, seed=0))
    record = train(
        data,
        ModelSpec(hidden=8),
        TrainConfig(batch_size=16, epochs=3, max_updates=0),
        device="cpu",
        label="x",
    )
    assert record.status == "ok"
    assert record.summary.updates == 0 and record.summary.examples == 0
    assert [p.update for p in record.history] == [0]
    with pytest.raises(ValueError, match="max_updates: expected 0 or more"):
        TrainConfig(max_updates=-1)


@pytest.mark.parametrize(
    "message",
    [
        "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
        "cuDNN error: CUDNN_STATUS_ALLOC_FAILED",
    ],
)
def test_cublas_and_cudnn_allocation_failures_end_the_run_as_out_of_memory(
    monkeypatch: pytest.MonkeyPatch, message: str
) -> None:
    def failing(self: MLP, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError(message)

    data = build_dataset(DataSpec("teacher", 250, seed=0))
    monkeypatch.setattr(MLP, "forward", failing)
    record = train(data, ModelSpec(hidden=8), TrainConfig(batch_size=16), device="cpu", label="x")
    assert record.status == "oom"
    assert message.split(":")[1].strip().split()[0] in (record.summary.reason or "")


def test_after_out_of_memory_the_failed_step_is_freed_before_the_cache_is_emptied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forward = MLP.forward
    failed: list[weakref.ref[torch.Tensor]] = []
    freed_when_emptied: list[bool] = []

    def failing(self: MLP, x: torch.Tensor) -> torch.Tensor:
        activations = forward(self, x)
        if self.training:
            failed.append(weakref.ref(activations))
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return activations

    def empty_cache(device: str) -> None:
        freed_when_emptied.append(all(ref() is None for ref in failed))

    monkeypatch.setattr(MLP, "forward", failing)
    monkeypatch.setattr(training, "empty_cache", empty_cache)
    data = build_dataset(DataSpec("teacher", 250, seed=0))
    record = train(data, ModelSpec(hidden=8), TrainConfig(batch_size=16), device="cpu", label="x")
    assert record.status == "oom"
    assert freed_when_emptied == [True]


def test_a_batch_that_ran_out_of_memory_is_not_tried_with_more_learning_rates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forward = MLP.forward

    def limited(self: MLP, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.shape[0] >= 1024:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return forward(self, x)

    monkeypatch.setattr(MLP, "forward", limited)
    result = run(
        "steps-to-target",
        {
            "batch_sizes": [64, 256, 1024],
            "lrs": [0.1, 0.3, 1.0],
            "target_loss": 0.8,
            "max_updates": 300,
            "n_examples": 4000,
        },
    )
    rungs = {r["batch_size"]: r for r in result.extras["ladder"]}
    assert [t["outcome"] for t in rungs[1024]["trials"]] == ["out of memory"]
    assert rungs[256]["updates"] is not None  # smaller batches are still searched


def test_grid_search_does_not_retry_a_batch_that_ran_out_of_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forward = MLP.forward

    def limited(self: MLP, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.shape[0] >= 1024:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return forward(self, x)

    monkeypatch.setattr(MLP, "forward", limited)
    result = run(
        "grid-search",
        {"batch_sizes": [32, 1024], "lrs": [0.03, 0.3], "epochs": 1, "n_examples": 2000},
    )
    assert [r.label for r in result.runs] == [
        "batch 32, LR 0.03",
        "batch 32, LR 0.3",
        "batch 1024, LR 0.03",
    ]
    assert "batch 1024, LR 0.3 (oom)" in " ".join(result.observations)


def test_tuning_runs_skip_validation_that_nobody_reads() -> None:
    ladder_result = run(
        "steps-to-target",
        {
            "batch_sizes": [64, 256],
            "lrs": [0.3, 1.0],
            "target_loss": 0.8,
            "max_updates": 300,
            "n_examples": 4000,
        },
    )
    assert ladder_result.runs
    for record in ladder_result.runs:
        assert all(p.val_loss is None and p.val_acc is None for p in record.history)
    finder = run("lr-finder", {"num_steps": 30, "check_epochs": 1, "n_examples": 2000})
    test_run, *checks = finder.runs
    assert all(p.val_loss is None for p in test_run.history)
    # The check runs report validation numbers, so they still measure them.
    assert checks and all(c.summary.final_val_loss is not None for c in checks)
    noise = run("noise-scale", {"epochs": 1, "compare": False, "n_examples": 2000})
    assert all(p.val_loss is None for p in noise.runs[0].history)


# --- the noise probe ----------------------------------------------------------------------
# (its accuracy against exact per-example gradients: tests/test_experiments_more.py)


# --- throughput ---------------------------------------------------------------------------


def test_throughput_times_clean_windows_and_measures_memory_apart() -> None:
    result = run("throughput", {"batch_sizes": [1, 256], "steps": 10, "repeats": 3})
    timed = [r for r in result.runs if r.label.endswith("(timed)")]
    memory = [r for r in result.runs if r.label.endswith("(memory)")]
    assert [r.batch_size for r in timed] == [1, 256] == [r.batch_size for r in memory]
    for record in timed:
        # The clock is read at window boundaries; inside a window only an epoch end (every
        # 8 updates at batch 256) reads the loss back, off the clock, with no validation.
        bounds = [0, 10, 20, 30, 40]
        assert {p.update for p in record.history} >= set(bounds)
        inside = [p for p in record.history if p.update not in bounds]
        assert all(p.examples % record.train_examples == 0 for p in inside)
        assert all(p.val_loss is None for p in record.history)
        assert record.train_examples % record.batch_size == 0  # every update a full batch
    for row in result.extras["rows"]:
        assert len(row["window_ms"]) == 3
        assert row["ms_per_update"] == pytest.approx(statistics.median(row["window_ms"]))
        assert row["tensor_bytes"] and row["activation_bytes"]
    assert "median of 3 timed windows of 10 updates" in " ".join(result.observations)


def test_cuda_peaks_of_training_and_evaluation_are_measured_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fake CUDA allocator: evaluating the 2,048-example probe peaks at 900 bytes above the
    # data set, a training update at 300; the peak counter works as torch.cuda's does.
    from sims.probes import CudaPeakProbe

    state = {"now": 100, "peak": 100}
    forward = MLP.forward

    def allocating(self: MLP, x: torch.Tensor) -> torch.Tensor:
        state["peak"] = max(state["peak"], state["now"] + (300 if self.training else 900))
        return forward(self, x)

    def reset() -> None:
        state["peak"] = state["now"]

    monkeypatch.setattr(MLP, "forward", allocating)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: None)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda: state["now"])
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda: state["peak"])
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", reset)
    probe = CudaPeakProbe()
    data = build_dataset(DataSpec("teacher", 250, seed=0))
    config = TrainConfig(batch_size=16, max_updates=3, validate=True)
    train(data, ModelSpec(hidden=8), config, device="cpu", label="x", hooks=[probe])
    assert (probe.train_peak, probe.eval_peak) == (300, 900)


def test_gpu_clock_reads_synchronise_cuda_and_mps(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: calls.append("cuda"))
    monkeypatch.setattr(torch.mps, "synchronize", lambda: calls.append("mps"))
    for name in ("cpu", "cuda", "mps"):
        sims_device.synchronize(name)
    assert calls == ["cuda", "mps"]


def test_deterministic_kernels_are_set_per_experiment_not_process_wide() -> None:
    cudnn = torch.backends.cudnn
    before = (cudnn.benchmark, cudnn.deterministic)
    try:
        cudnn.benchmark, cudnn.deterministic = True, False
        with sims_device.kernel_settings("cuda", deterministic=True):
            assert (cudnn.benchmark, cudnn.deterministic) == (False, True)
        assert (cudnn.benchmark, cudnn.deterministic) == (True, False)
        with sims_device.kernel_settings("cuda", deterministic=False):
            assert cudnn.deterministic is False
    finally:
        cudnn.benchmark, cudnn.deterministic = before
    # The experiment that measures speed asks for the fast kernels; the others for fixed ones.
    assert get_experiment("throughput").deterministic is False
    assert get_experiment("steps-to-target").deterministic is True


# --- steps-to-target: regimes from the fit ------------------------------------------------

LR_GRID = [0.01, 0.1, 1.0]


def deeper_model_ladder() -> list[ladder.Rung]:
    """Counts shaped like a deeper model's ladder: S = 20 (1 + 600 / B), with the last two
    rungs off the curve by measurement noise so that the last doubling still cuts 1.19x."""
    updates = {b: round(20 * (1 + 600 / b)) for b in [8, 32, 128, 512, 2048]}
    updates |= {4096: 25, 8192: 21}
    return [ladder.Rung(b, 0.1, s) for b, s in sorted(updates.items())]


def test_regimes_are_read_off_the_critical_batch_fit() -> None:
    rungs = deeper_model_ladder()
    outcome = steps_to_target.analyse(
        rungs, {"target_loss": 0.3, "lrs": LR_GRID, "max_updates": 5000}, n_train=16_000
    )
    fit = outcome.extras["fit"]
    assert fit["b_crit"] == pytest.approx(600, rel=0.15)
    regimes = outcome.extras["regimes"]
    # Near-perfect up to B_crit / 4, near the floor from 4 B_crit, whatever one noisy
    # doubling says.
    assert regimes["perfect_until"] == 128
    assert regimes["floor_from"] == 4096
    text = " ".join(outcome.observations)
    assert "had not flattened" not in text
    assert f"Near the floor from batch 4096 (B >= 4 B_crit = {4 * fit['b_crit']:,.0f})" in text


def test_critical_batch_is_described_as_a_knee_not_a_wall() -> None:
    outcome = steps_to_target.analyse(
        deeper_model_ladder(),
        {"target_loss": 0.3, "lrs": LR_GRID, "max_updates": 5000},
        n_train=16_000,
    )
    explanation = get_experiment("steps-to-target").explanation
    for text in (" ".join(outcome.observations), explanation):
        assert "stop falling" not in text and "not at all" not in text
        assert "knee" in text and "twice the minimum" in text


def test_a_best_lr_on_the_edge_of_the_grid_is_flagged_at_any_batch() -> None:
    rungs = [
        ladder.Rung(16, 0.01, 400),  # smallest LR of the grid
        ladder.Rung(64, 0.1, 120),
        ladder.Rung(256, 1.0, 50),  # largest LR of the grid
    ]
    outcome = steps_to_target.analyse(
        rungs, {"target_loss": 0.3, "lrs": LR_GRID, "max_updates": 5000}, n_train=16_000
    )
    text = " ".join(outcome.observations)
    assert "At batch 256 the best LR was the largest in the grid (1)" in text
    assert "At batch 16 the best LR was the smallest in the grid (0.01)" in text
    edges = {r["batch_size"]: r["lr_at_edge"] for r in outcome.extras["ladder"]}
    assert edges == {16: True, 64: False, 256: True}


# --- wording that agrees with itself --------------------------------------------------


def test_epochs_findings_do_not_contradict_themselves_on_memorising() -> None:
    result = run("epochs", {"monitor": "val_loss", "early_stop": True})
    text = " ".join(result.observations)
    says_memorised = "by heart" in text and "has not memorised" not in text
    says_not = "has not memorised" in text and "learned some flipped labels" not in text
    assert says_memorised or says_not
    assert "has not yet memorised" not in text


def test_lr_finder_names_the_suggestion_it_checks_and_the_steepest_descent_apart() -> None:
    result = run("lr-finder", {"num_steps": 60, "check_epochs": 0, "n_examples": 4000})
    suggestions = result.extras["suggestions"]
    assert result.extras["suggestion"] == "minimum"
    text = " ".join(result.observations)
    assert (
        f"The suggestion checked here is the LR of the lowest smoothed loss / 10: "
        f"{suggestions['minimum']:.3g}" in text
    )
    assert f"steepest descent: {suggestions['steep']:.3g}" in text
    explanation = get_experiment("lr-finder").explanation
    assert "divided by 10 (checked by default)" in explanation
    assert "suggested LR sits on the steepest" not in explanation

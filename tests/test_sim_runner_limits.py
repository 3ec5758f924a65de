"""Limits checked before a simulation starts, and failures it reports instead of crashing:
the seed's range, a model too big for the device's memory, an allocation failure mid-run,
and an estimate of the run time that a front end can warn with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import torch

import sims.training
from quizapp.cli import main
from sims.config import DataSpec, ModelSpec
from sims.estimate import CostModel, estimate_duration, estimate_memory, model_size
from sims.lab import run_experiment
from sims.models import build_model, parameter_count
from sims.params import ParamError
from sims.registry import list_experiments
from sims.runner import SimRunner

if TYPE_CHECKING:
    from pathlib import Path

HUGE_SEED = 100_000_000_000_000_000_000_000
TINY = {"epochs": 1, "n_examples": 300, "hidden": 8}
# Terabytes of activations: no machine fits this, whatever its memory.
TOO_BIG = {"hidden": 16384, "depth": 6, "batch_sizes": [1_048_576]}


@pytest.mark.parametrize("seed", [HUGE_SEED, 2**63, -1])
def test_a_seed_out_of_range_is_refused_before_training(seed: int) -> None:
    with pytest.raises(ParamError, match=r"seed: expected an integer from 0 to 9,223,372"):
        run_experiment("epochs", TINY, seed=seed)
    runner = SimRunner()
    with pytest.raises(ParamError, match="seed"):
        runner.start("epochs", TINY, seed=seed)
    assert runner.pid is None


def test_the_largest_seed_runs() -> None:
    assert run_experiment("epochs", TINY, seed=2**63 - 1).runs[0].status == "ok"


def test_sim_run_refuses_a_huge_seed_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--home", str(tmp_path), "sim", "run", "epochs", "--seed", str(HUGE_SEED)])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "--seed: expected an integer from 0 to 9,223,372,036,854,775,807" in err
    assert "Traceback" not in err


def test_a_model_that_cannot_fit_is_refused_with_what_to_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ParamError, match=r"hidden = 16384, depth = 6.*GiB.*free"):
        run_experiment("throughput", TOO_BIG, device="cpu")
    args = ["sim", "run", "throughput", "--device", "cpu", "--no-save"]
    for key, value in TOO_BIG.items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        args += ["--set", f"{key}={text}"]
    assert main(["--home", str(tmp_path), *args]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "hidden = 16384, depth = 6" in err and "expected a smaller" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("hidden", "depth", "batch"), [(128, 1, 16), (512, 3, 256), (64, 2, 4096)])
def test_memory_estimate_tracks_what_an_update_really_holds(
    hidden: int, depth: int, batch: int
) -> None:
    # throughput measures the tensors one update holds (weights, gradients, optimizer
    # state, batch, saved activations); the estimate adds the data set and must cover it.
    params = {"hidden": hidden, "depth": depth, "batch_sizes": [batch], "steps": 2}
    measured = run_experiment("throughput", params, device="cpu").extras["rows"][0]
    estimate = estimate_memory("throughput", params)
    assert measured["tensor_bytes"] <= estimate <= 3 * measured["tensor_bytes"] + 2**22


@pytest.mark.parametrize(
    ("kind", "data"), [("mlp", "teacher"), ("mlp", "spirals"), ("cnn", "digits")]
)
def test_model_size_matches_the_models_that_train(kind: str, data: str) -> None:
    from sims.datasets import build_dataset

    spec, model = DataSpec(name=data, n_examples=300), ModelSpec(kind=kind, hidden=24, depth=3)  # type: ignore[arg-type]
    built = build_model(model, build_dataset(spec))
    assert model_size(model, spec).parameters == parameter_count(built)


ALLOCATION_FAILURES = [
    "DefaultCPUAllocator: can't allocate memory: you tried to allocate 68719476736 bytes. "
    "Error code 12 (Cannot allocate memory)",
    "CUDA out of memory. Tried to allocate 2.00 GiB",
    "CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
    "cuDNN error: CUDNN_STATUS_NOT_ENOUGH_MEMORY",
]


@pytest.mark.parametrize("message", ALLOCATION_FAILURES)
@pytest.mark.parametrize("where", ["building the model", "an update"])
def test_an_allocation_failure_ends_the_run_as_oom(
    monkeypatch: pytest.MonkeyPatch, message: str, where: str
) -> None:
    real = sims.training.build_model

    class Failing(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if self.training and torch.is_grad_enabled():
                raise RuntimeError(message)
            return self.inner(x)

    def build(spec: Any, data: Any) -> torch.nn.Module:
        if where == "building the model":
            raise RuntimeError(message)
        return Failing(real(spec, data))

    monkeypatch.setattr(sims.training, "build_model", build)
    result = run_experiment("epochs", TINY, device="cpu")
    run = result.runs[0]
    assert run.status == "oom"
    assert run.summary.reason is not None and message.split(".")[0] in run.summary.reason


def test_every_experiment_has_a_duration_estimate() -> None:
    cost = CostModel(base=1e-4, per_layer=5e-5, flops_per_second=1e10)
    for experiment in list_experiments():
        guess = estimate_duration(experiment.name, cost=cost)
        assert guess.seconds > 0 and guess.updates > 0


def test_duration_estimate_grows_with_the_work_asked_for() -> None:
    # The example: accepted by validation, over an hour of training.
    cost = CostModel(base=1e-4, per_layer=5e-5, flops_per_second=1e10)
    quick = estimate_duration("batch-size-sweep", {"batch_sizes": [64], "epochs": 1}, cost=cost)
    slow = estimate_duration(
        "batch-size-sweep",
        {"batch_sizes": [1], "epochs": 200, "n_examples": 200_000},
        cost=cost,
    )
    assert slow.updates == 200 * 160_000 and quick.updates == 125
    assert slow.seconds > 600 > 10 > quick.seconds
    assert not slow.upper_bound
    assert estimate_duration("steps-to-target", cost=cost).upper_bound


def test_duration_estimate_calibrates_on_the_device() -> None:
    guess = estimate_duration("epochs", {"epochs": 2}, device="cpu", threads=1)
    assert 0 < guess.seconds < 3600


def test_a_run_of_minutes_is_announced_with_its_estimate_before_it_trains() -> None:
    from quizapp.domain.wording import expected_duration
    from sims.events import ExperimentStarted
    from sims.lab import run_experiment

    started: list[ExperimentStarted] = []

    def keep(event: object) -> None:
        if isinstance(event, ExperimentStarted):
            started.append(event)

    # The example: batch 1 for 200 epochs over 200,000 examples (32 million updates).
    huge = {"batch_sizes": [1], "epochs": 200, "n_examples": 200_000}
    run_experiment("batch-size-sweep", huge, device="cpu", on_event=keep, cancel=lambda: True)
    short = {"batch_sizes": [64], "epochs": 1, "n_examples": 600}
    run_experiment("batch-size-sweep", short, device="cpu", on_event=keep)
    long_start, short_start = started
    assert long_start.expected_seconds is not None and long_start.expected_seconds > 3600
    assert short_start.expected_seconds is None  # seconds-long runs pay no calibration
    note = expected_duration(long_start.expected_seconds, long_start.expected_at_most)
    assert note.startswith("This run will take about ") and "hours" in note

"""The simulation engine as its users see it: parameters, events, results and the effects the
experiments exist to show. Sizes are small so the file runs in seconds on 2 cores."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest
import torch

from sims.config import DataSpec, ModelSpec, TrainConfig
from sims.datasets import build_dataset, load_digits
from sims.events import (
    ExperimentFinished,
    ExperimentStarted,
    RunFinished,
    RunProgress,
    RunStarted,
    RunTick,
)
from sims.lab import run_experiment
from sims.params import ParamError
from sims.registry import (
    check_params,
    get_experiment,
    list_experiments,
    parse_assignments,
    resolve_params,
)
from sims.results import ExperimentResult
from sims.training import TrainHook, UpdateStep, train

SMALL_SWEEP = {"batch_sizes": [16, 256], "epochs": 1, "n_examples": 2000}


def collect(name: str, params: dict[str, Any], **kwargs: Any) -> tuple[ExperimentResult, list]:
    events: list = []
    result = run_experiment(name, params, on_event=events.append, **kwargs)
    return result, events


def without_times(data: Any) -> Any:
    """JSON data with wall-clock fields removed (they differ between identical runs)."""
    if isinstance(data, dict):
        return {k: without_times(v) for k, v in data.items() if "seconds" not in k}
    if isinstance(data, list):
        return [without_times(v) for v in data]
    return data


# --- registry and parameters ------------------------------------------------------------


def test_registry_and_checks_do_not_import_torch() -> None:
    code = (
        "import sys; import sims, sims.runner, sims.events;"
        "from sims.registry import list_experiments, check_params;"
        "names = [e.name for e in list_experiments()];"
        "assert check_params('batch-size-sweep', {'batch_sizes': [16, 64]}) == [];"
        "from quizapp.cli import main; main(['sim', 'list']);"
        "print('torch' in sys.modules, names)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1].startswith("False")
    assert "batch-size-sweep" in out and "epochs" in out


def test_required_experiments_are_registered_with_documented_params() -> None:
    names = [e.name for e in list_experiments()]
    assert names[:2] == ["batch-size-sweep", "epochs"]
    sweep = get_experiment("batch-size-sweep")
    assert sweep.title and len(sweep.explanation) > 100
    for name in ["batch_sizes", "epochs", "lr", "lr_scaling", "base_batch", "optimizer"]:
        assert sweep.param(name).help
    for name in ["dataset", "n_examples", "label_noise", "eval_every"]:
        sweep.param(name)
    epochs = get_experiment("epochs")
    for name in ["batch_size", "epochs", "lr", "optimizer", "label_noise", "patience"]:
        epochs.param(name)
    for name in ["dataset", "n_examples", "hidden"]:
        epochs.param(name)


def test_bad_parameters_name_the_parameter_and_what_is_allowed() -> None:
    problems = check_params(
        "batch-size-sweep",
        {"batch_sizes": [0, 16], "epochs": 2.5, "lr": "fast", "dataset": "mnist", "batchsize": 8},
    )
    text = "\n".join(problems)
    assert len(problems) == 5
    assert "batch_sizes: expected a list of 1-8 values, each an integer from 1 to 65536" in text
    assert "epochs: expected an integer from 1 to 200; got 2.5" in text
    assert "lr: expected a number from 1e-06 to 100; got 'fast'" in text
    assert "dataset: expected one of 'teacher', 'spirals', 'digits'; got 'mnist'" in text
    assert "unknown parameter 'batchsize' (did you mean 'batch_sizes'?)" in text


def test_other_parameter_problems() -> None:
    assert check_params("batch-sweep", {}) == [
        "unknown experiment 'batch-sweep' (did you mean 'batch-size-sweep'?); "
        "expected one of: " + ", ".join(e.name for e in list_experiments())
    ]
    assert check_params("batch-size-sweep", {"batch_sizes": 16})[0].startswith(
        "batch_sizes: expected a list"
    )
    assert "repeats a value" in check_params("batch-size-sweep", {"batch_sizes": [16, 16]})[0]
    assert "true or false; got 1" in check_params("epochs", {"early_stop": 1})[0]
    assert check_params("epochs", {"label_noise": 0.7}) == [
        "label_noise: expected a number from 0 to 0.5; got 0.7, which is out of range"
    ]
    assert "needs image data" in check_params("epochs", {"model": "cnn", "dataset": "teacher"})[0]
    assert check_params("epochs", {"model": "cnn", "dataset": "digits", "epochs": 3.0}) == []
    with pytest.raises(ParamError) as error:
        resolve_params("epochs", {"patience": -1})
    assert error.value.messages == [
        "patience: expected an integer from 0 to 100; got -1, which is out of range"
    ]


def test_defaults_and_command_line_values() -> None:
    values = resolve_params("batch-size-sweep", {})
    assert values["batch_sizes"] == [16, 64, 256, 1024]
    raw = parse_assignments(
        "batch-size-sweep", ["batch_sizes=16, 64,256", "lr=0.1", "epochs=3", "dataset=digits"]
    )
    assert resolve_params("batch-size-sweep", raw)["batch_sizes"] == [16, 64, 256]
    assert raw["lr"] == 0.1 and raw["epochs"] == 3
    assert parse_assignments("epochs", ["early_stop=true"]) == {"early_stop": True}
    with pytest.raises(ParamError, match="expected key=value"):
        parse_assignments("epochs", ["epochs"])
    assert check_params("epochs", parse_assignments("epochs", ["epochs=many"])) == [
        "epochs: expected an integer from 1 to 500; got 'many'"
    ]


# --- data -------------------------------------------------------------------------------


def test_shipped_digits_load_without_network() -> None:
    x, y = load_digits()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    counts = Counter(y.tolist())
    assert counts[0] == 178 and counts[8] == 174 and sum(counts.values()) == 1797


def test_datasets_are_deterministic_and_noise_flips_training_labels_only() -> None:
    clean = build_dataset(DataSpec("teacher", 1000, seed=3))
    again = build_dataset(DataSpec("teacher", 1000, seed=3))
    other = build_dataset(DataSpec("teacher", 1000, seed=4))
    noisy = build_dataset(DataSpec("teacher", 1000, label_noise=0.25, seed=3))
    assert torch.equal(clean.x_train, again.x_train) and torch.equal(clean.y_train, again.y_train)
    assert not torch.equal(clean.x_train, other.x_train)
    assert (clean.x_train.shape[0], clean.x_val.shape[0]) == (800, 200)
    assert torch.equal(clean.x_train, noisy.x_train) and torch.equal(clean.y_val, noisy.y_val)
    changed = int((clean.y_train != noisy.y_train).sum())
    assert changed == noisy.flipped == 200
    spirals = build_dataset(DataSpec("spirals", 600, seed=0))
    assert spirals.features == 2 and spirals.classes == 3
    assert sorted(Counter(spirals.y_train.tolist()).values())[0] > 140


# --- the training loop -----------------------------------------------------------------


def test_updates_per_epoch_is_ceil_n_over_b() -> None:
    data = build_dataset(DataSpec("teacher", 125, seed=0))  # 100 training examples
    for batch, expected in [(16, 7), (100, 1), (33, 4), (500, 1), (1, 100)]:
        events: list = []
        record = train(
            data,
            ModelSpec(hidden=8),
            TrainConfig(batch_size=batch, epochs=2, lr=0.01),
            device="cpu",
            label="x",
            emit=events.append,
        )
        started = next(e for e in events if isinstance(e, RunStarted))
        assert record.updates_per_epoch == started.updates_per_epoch == math.ceil(100 / batch)
        assert record.updates_per_epoch == expected
        assert record.summary.updates == 2 * expected
        assert record.summary.examples == 200
        assert [p.update for p in record.epoch_points()] == [0, expected, 2 * expected]


def test_same_seed_same_numbers_and_another_seed_differs() -> None:
    params = {"batch_sizes": [32, 128], "epochs": 2, "n_examples": 600}
    first = run_experiment("batch-size-sweep", params, seed=7).to_json()
    second = run_experiment("batch-size-sweep", params, seed=7).to_json()
    other = run_experiment("batch-size-sweep", params, seed=8).to_json()
    # Observations quote wall-clock speeds; every number the runs measured must match.
    assert without_times(first["runs"]) == without_times(second["runs"])
    assert (
        first["runs"][1]["history"][-1]["val_loss"] == second["runs"][1]["history"][-1]["val_loss"]
    )
    assert without_times(first["runs"]) != without_times(other["runs"])


def test_events_arrive_in_order() -> None:
    result, events = collect(
        "batch-size-sweep", {"batch_sizes": [16, 64], "epochs": 2, "n_examples": 600}
    )
    assert isinstance(events[0], ExperimentStarted)
    assert isinstance(events[-1], ExperimentFinished) and events[-1].result is not None
    runs = [e for e in events if not isinstance(e, ExperimentStarted | ExperimentFinished)]
    for label in ("batch 16", "batch 64"):
        mine = [e for e in runs if e.label == label]
        assert isinstance(mine[0], RunStarted)
        assert isinstance(mine[-1], RunFinished) and mine[-1].status == "ok"
        progress = [e for e in mine if isinstance(e, RunProgress)]
        assert progress[0].update == 0 and progress[0].epoch == 0
        updates = [e.update for e in mine if isinstance(e, RunProgress | RunTick)]
        assert updates == sorted(updates)
        assert [p.epoch for p in progress] == [0, 1, 2]
    # Runs do not interleave: the second starts after the first finished.
    labels = [e.label for e in runs]
    assert labels == sorted(labels, key=lambda label: label != "batch 16")
    assert (
        result.runs[0].history[-1].val_loss
        == [e for e in runs if isinstance(e, RunProgress)][2].val_loss
    )


def test_eval_every_adds_points_between_epoch_ends() -> None:
    result = run_experiment(
        "batch-size-sweep", {"batch_sizes": [64], "epochs": 2, "n_examples": 1000, "eval_every": 5}
    )
    run = result.runs[0]  # 800 training examples: 13 updates per epoch
    assert [p.update for p in run.history] == [0, 5, 10, 13, 15, 20, 25, 26]
    assert [round(p.epoch, 3) for p in run.history][:4] == [0, 0.4, 0.8, 1.0]


def test_huge_learning_rate_diverges_as_a_result_not_an_exception() -> None:
    result, events = collect(
        "epochs", {"lr": 100.0, "optimizer": "sgd", "epochs": 3, "n_examples": 600}
    )
    run = result.runs[0]
    assert run.status == "diverged" and result.status == "ok"
    assert "loss" in run.summary.reason
    assert run.summary.updates < 3 * run.updates_per_epoch or not math.isfinite(
        run.history[-1].train_loss
    )
    assert any("diverged" in line for line in result.observations)
    finished = [e for e in events if isinstance(e, RunFinished)]
    assert finished[0].status == "diverged"
    json.loads(result.to_json_text())  # NaN/inf became null: still valid JSON


def test_cancel_stops_between_updates_and_keeps_what_ran() -> None:
    seen: list = []

    def cancel() -> bool:
        return len([e for e in seen if isinstance(e, RunProgress)]) >= 3

    result = run_experiment(
        "batch-size-sweep",
        {"batch_sizes": [16, 64, 256], "epochs": 20, "n_examples": 1000, "eval_every": 10},
        on_event=seen.append,
        cancel=cancel,
    )
    assert result.status == "cancelled"
    assert len(result.runs) == 1 and result.runs[0].status == "cancelled"
    assert result.runs[0].summary.updates < 20 * 50
    assert isinstance(seen[-1], ExperimentFinished)
    assert [e.status for e in seen if isinstance(e, RunFinished)] == ["cancelled"]


class _RaiseOutOfMemory(TrainHook):
    def after_backward(self, step: UpdateStep) -> None:
        if step.update == 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_is_a_result() -> None:
    data = build_dataset(DataSpec("teacher", 300, seed=0))
    record = train(
        data,
        ModelSpec(hidden=8),
        TrainConfig(batch_size=16, epochs=2),
        device="cpu",
        label="big",
        hooks=[_RaiseOutOfMemory()],
    )
    assert record.status == "oom"
    assert "out of memory" in record.summary.reason and "batch size 16" in record.summary.reason


def test_hooks_see_every_update_and_report_into_the_history() -> None:
    class GradNorm(TrainHook):
        def __init__(self) -> None:
            self.calls = 0
            self.last = torch.zeros(())

        def after_backward(self, step: UpdateStep) -> None:
            self.calls += 1
            self.last = torch.stack([p.grad.norm() for p in step.model.parameters()]).norm()

        def report(self) -> dict[str, float]:
            return {"grad_norm": float(self.last)}

    hook = GradNorm()
    data = build_dataset(DataSpec("teacher", 250, seed=0))
    record = train(
        data,
        ModelSpec(hidden=8),
        TrainConfig(batch_size=50, epochs=2),
        device="cpu",
        label="x",
        hooks=[hook],
    )
    assert hook.calls == 8
    assert record.history[-1].extra["grad_norm"] > 0


def test_learning_rate_scaling_and_warmup() -> None:
    result = run_experiment(
        "batch-size-sweep",
        {
            "batch_sizes": [16, 64],
            "epochs": 1,
            "n_examples": 500,
            "lr": 0.01,
            "lr_scaling": "linear",
            "base_batch": 16,
        },
    )
    assert [r.lr for r in result.runs] == [0.01, 0.04]
    sqrt = run_experiment(
        "batch-size-sweep",
        {
            "batch_sizes": [64],
            "epochs": 1,
            "n_examples": 500,
            "lr": 0.01,
            "lr_scaling": "sqrt",
            "base_batch": 16,
        },
    )
    assert sqrt.runs[0].lr == pytest.approx(0.02)
    data = build_dataset(DataSpec("teacher", 500, seed=0))
    record = train(
        data,
        ModelSpec(hidden=8),
        TrainConfig(batch_size=40, epochs=2, lr=0.1, warmup_epochs=1, eval_every=2),
        device="cpu",
        label="x",
    )  # 10 updates per epoch, warm-up over the first 10
    lrs = {p.update: p.lr for p in record.history}
    assert lrs[2] == pytest.approx(0.02) and lrs[6] == pytest.approx(0.06)
    assert lrs[10] == pytest.approx(0.1) and lrs[20] == pytest.approx(0.1)


def test_target_loss_records_when_it_was_reached_and_can_stop_there() -> None:
    data = build_dataset(DataSpec("teacher", 1000, seed=0))
    config = TrainConfig(batch_size=32, epochs=20, lr=0.05, target_loss=1.0, eval_every=5)
    record = train(data, ModelSpec(hidden=32), config, device="cpu", label="x")
    s = record.summary
    assert s.updates_to_target is not None and s.updates_to_target % 5 == 0
    point = next(p for p in record.history if p.update == s.updates_to_target)
    assert point.val_loss <= 1.0
    assert all(p.val_loss > 1.0 for p in record.history if p.update < s.updates_to_target)
    stopped = train(
        data,
        ModelSpec(hidden=32),
        TrainConfig(**{**config.__dict__, "stop_at_target": True}),
        device="cpu",
        label="x",
    )
    assert stopped.summary.updates == s.updates_to_target and stopped.status == "ok"


def test_optimizers_match_torch_optim() -> None:
    from sims.optim import SGD, Adam

    for ours, theirs in [
        (
            lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
        ),
        (
            lambda p: Adam(p, lr=0.01, weight_decay=0.01),
            lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01),
        ),
    ]:
        torch.manual_seed(0)
        a = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
        b = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
        b.load_state_dict(a.state_dict())
        opt_a, opt_b = ours(a.parameters()), theirs(b.parameters())
        for _ in range(30):
            x, y = torch.randn(8, 5), torch.randint(0, 3, (8,))
            for model, opt in ((a, opt_a), (b, opt_b)):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                opt.step()
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


# --- results ---------------------------------------------------------------------------


def test_json_has_the_agreed_layout_and_round_trips() -> None:
    result = run_experiment("batch-size-sweep", SMALL_SWEEP, seed=1)
    data = json.loads(result.to_json_text())
    assert {"experiment", "device", "seed", "params", "runs", "observations"} <= set(data)
    assert data["experiment"] == "batch-size-sweep" and data["seed"] == 1
    assert data["device"] == "cpu" and data["params"]["batch_sizes"] == [16, 256]
    run = data["runs"][0]
    assert {
        "label",
        "batch_size",
        "lr",
        "epochs",
        "status",
        "updates_per_epoch",
        "history",
        "summary",
    } <= set(run)
    assert run["label"] == "batch 16" and run["batch_size"] == 16 and run["epochs"] == 1
    for point in run["history"]:
        assert {
            "epoch",
            "update",
            "examples",
            "seconds",
            "train_loss",
            "val_loss",
            "val_acc",
        } <= set(point)
    assert {"best_epoch", "final_val_loss", "final_val_acc", "updates_to_target"} <= set(
        run["summary"]
    )
    assert all(isinstance(line, str) for line in data["observations"])
    again = ExperimentResult.from_json(data)
    assert again.to_json() == result.to_json()


# --- what the experiments exist to show -------------------------------------------------


def test_smaller_batches_update_more_and_get_further_in_the_first_epoch() -> None:
    result = run_experiment("batch-size-sweep", {**SMALL_SWEEP, "lr": 0.05})
    small, big = result.runs
    assert (small.updates_per_epoch, big.updates_per_epoch) == (100, 7)
    after_small, after_big = small.point_at_epoch(1), big.point_at_epoch(1)
    assert after_small.examples == after_big.examples == 1600
    assert after_small.val_loss < after_big.val_loss - 0.3
    assert after_small.train_loss < after_big.train_loss
    text = " ".join(result.observations)
    assert "batch 16 made 100, batch 256 made 7" in text
    assert "Validation loss after 1 epoch: " in text


def test_label_noise_overfits_and_early_stopping_restores_the_peak() -> None:
    params = {"epochs": 25, "label_noise": 0.3, "patience": 3}
    marked = run_experiment("epochs", params).runs[0]
    epochs = marked.epoch_points()[1:]
    peak = max(epochs, key=lambda p: p.val_acc or 0.0)
    last = epochs[-1]
    assert peak.epoch < last.epoch
    assert peak.val_acc - last.val_acc > 0.05  # overfitting: more than 5 points lost
    assert last.train_acc > 0.95  # the flipped labels were memorised
    assert marked.summary.stopped_epoch is not None

    stopped = run_experiment("epochs", {**params, "early_stop": True}).runs[0]
    s = stopped.summary
    assert s.stopped_epoch == s.restored_epoch + 3  # patience 3
    assert stopped.history[-1].epoch == s.stopped_epoch < 25
    best_seen = max(p.val_acc or 0.0 for p in stopped.epoch_points()[1:])
    assert s.restored_epoch is not None
    kept = stopped.point_at_epoch(s.restored_epoch)
    assert kept is not None and s.final_val_acc == best_seen == kept.val_acc
    # Same seed: the stopped run is the marked run cut short, and kept the same epoch.
    assert s.restored_epoch == marked.summary.restored_epoch

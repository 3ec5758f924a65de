"""The experiments of issue 13 as users rely on them: ``lr-schedule`` (schedules at one
budget, a cosine stopped halfway vs WSD), ``weight-decay`` (Adam + L2 vs AdamW over LR x wd)
and ``data-parallel`` (worker processes on torch.distributed vs one process), plus AdamW
itself. Sizes are tiny; the data-parallel tests start two CPU worker processes each."""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

import pytest
import torch

from sims.events import RunStarted, SimEvent
from sims.lab import run_experiment
from sims.registry import check_params, list_experiments
from sims.results import ExperimentResult
from sims.runner import SimRunner

NEW = ("lr-schedule", "weight-decay", "data-parallel")
TWO_CORES = len(os.sched_getaffinity(0)) >= 2 if hasattr(os, "sched_getaffinity") else True
needs_two_cores = pytest.mark.skipif(
    not TWO_CORES, reason="data-parallel allows at most one worker per CPU core"
)


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Any:
    # As the CLI and the app run simulations: on a shared 2-core machine, two torch threads
    # spin against each other and make these tiny models many times slower.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run(name: str, params: dict[str, Any], **kwargs: Any) -> ExperimentResult:
    result = run_experiment(name, params, seed=0, device="cpu", **kwargs)
    data = json.loads(result.to_json_text())  # strict JSON, as the CLI writes and the store keeps
    assert ExperimentResult.from_json(data).extras == data["extras"]
    return result


def chart(result: ExperimentResult, chart_id: str) -> dict[str, Any]:
    found = [c for c in result.extras["charts"] if c["id"] == chart_id]
    assert len(found) == 1, f"no chart {chart_id!r} in {result.experiment}"
    return found[0]


@needs_two_cores
def test_new_experiments_are_registered_with_documented_parameters() -> None:
    names = [e.name for e in list_experiments()]
    assert set(NEW) <= set(names)
    assert check_params("lr-schedule", {"schedules": ["cosine", "wsd"], "epochs": 6}) == []
    assert check_params("weight-decay", {"decay_scale": "paper", "methods": ["adamw"]}) == []
    assert check_params("data-parallel", {"workers": 2, "batchnorm": False}) == []
    assert check_params("lr-schedule", {"schedules": ["linear"]}) == [
        "schedules: expected a list of 1-5 values, each one of 'constant', 'step', 'cosine', "
        "'one-cycle', 'wsd' (e.g. ['constant', 'step', 'cosine', 'one-cycle', 'wsd']); got "
        "'linear'"
    ]
    problems = check_params("data-parallel", {"workers": 4096})
    assert len(problems) == 1 and problems[0].startswith("workers: expected")
    # 801 training examples in global batches of 2 x 50: the last one holds 1 example.
    assert check_params("data-parallel", {"workers": 2, "batch_size": 50, "n_examples": 1001}) == [
        "batch_size: the last batch of each epoch would hold 1 of the 801 training examples, "
        "too few to split over 2 workers (need at least 4); change batch_size or n_examples; "
        "got batch_size 50"
    ]


def test_adamw_matches_torch_optim_adamw() -> None:
    from sims.optim import AdamW

    torch.manual_seed(0)
    a = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    b = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    b.load_state_dict(a.state_dict())
    ours = AdamW(a.parameters(), lr=0.01, weight_decay=0.1)
    theirs = torch.optim.AdamW(b.parameters(), lr=0.01, weight_decay=0.1)
    for step in range(30):
        if step == 15:  # a scheduler changes the LR between steps; the decay follows it
            ours.lr = 0.003
            theirs.param_groups[0]["lr"] = 0.003
        x, y = torch.randn(8, 5), torch.randint(0, 3, (8,))
        for model, opt in ((a, ours), (b, theirs)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-6)


# --- lr-schedule -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def schedules() -> ExperimentResult:
    return run("lr-schedule", {"epochs": 6, "n_examples": 3000, "hidden": 64})


def test_schedules_end_at_different_losses_at_the_same_budget(
    schedules: ExperimentResult,
) -> None:
    full = schedules.runs[:5]
    assert len({r.summary.updates for r in full}) == 1  # the same budget
    finals = {r.label: r.summary.final_val_loss for r in full}
    assert all(v is not None for v in finals.values())
    losses = [v for v in finals.values() if v is not None]
    assert len({round(v, 4) for v in losses}) == 5
    decaying = [v for k, v in finals.items() if k != "constant" and v is not None]
    assert all(v < (finals["constant"] or 0) for v in decaying)
    text = " ".join(schedules.observations)
    assert f"constant {finals['constant']:.3f}" in text
    assert f"Lowest: {schedules.extras['best']}." in text
    bars = chart(schedules, "final")
    assert bars["series"][0]["values"][:5] == [pytest.approx(v) for v in losses]


def test_each_schedule_is_stepped_per_update_over_its_planned_budget(
    schedules: ExperimentResult,
) -> None:
    runs = {r.label: r for r in schedules.runs}
    peak = runs["constant"].lr

    def last_lr(label: str) -> float:
        lr = runs[label].history[-1].lr
        assert lr is not None
        return lr

    assert last_lr("constant") == peak
    assert last_lr("step (/10 at 50%, 75%)") == pytest.approx(peak / 100)
    assert last_lr("cosine") < peak * 1e-3
    assert last_lr("one-cycle") < peak * 1e-3
    # Mid-epoch evaluations see the LR move within an epoch (stepped per update).
    cosine = [p.lr for p in runs["cosine"].history if 0 < p.epoch < 1]
    assert len(cosine) >= 2 and cosine[0] is not None and cosine[-1] is not None
    assert cosine[-1] < cosine[0] < peak
    stopped = runs["cosine planned for 6, stopped at 3"]
    assert stopped.summary.updates * 2 == runs["cosine"].summary.updates
    assert last_lr("cosine planned for 6, stopped at 3") == pytest.approx(peak / 2, rel=0.05)
    assert last_lr("WSD decayed by epoch 3") < peak * 0.1


def test_wsd_stopped_early_is_a_branch_of_the_full_run(schedules: ExperimentResult) -> None:
    stopped = schedules.extras["stopped"]
    runs = {r.label: r for r in schedules.runs}
    full, short = runs["WSD"], runs["WSD decayed by epoch 3"]
    # Decay of the 3-epoch run starts at 80% of it (2.4 epochs): epochs 1-2 are shared.
    assert stopped["shared_epochs"] == 2

    def losses(point: Any) -> tuple[float, float]:
        return point.train_loss, point.val_loss

    assert losses(full.point_at_epoch(2)) == losses(short.point_at_epoch(2))
    assert losses(full.point_at_epoch(3)) != losses(short.point_at_epoch(3))
    gap = stopped["cosine"] - stopped["wsd"]
    assert stopped["gap"] == pytest.approx(gap)
    assert f"ended at validation loss {stopped['cosine']:.3f}" in " ".join(schedules.observations)


def test_a_schedule_planned_for_fewer_epochs_stops_learning_when_it_ends() -> None:
    result = run(
        "lr-schedule",
        {
            "schedules": ["constant", "cosine"],
            "epochs": 4,
            "planned_epochs": 1,
            "stopped_halfway": False,
            "n_examples": 1000,
            "hidden": 16,
        },
    )
    cosine = result.run("cosine")
    at_plan = cosine.point_at_epoch(1)
    assert at_plan is not None and cosine.history[-1].lr == 0.0
    assert cosine.history[-1].val_loss == at_plan.val_loss  # LR 0: the weights stay put
    constant = result.run("constant")
    early = constant.point_at_epoch(1)
    assert early is not None and constant.history[-1].val_loss != early.val_loss
    assert "cosine: validation loss" in " ".join(result.observations)
    assert "the decay came too early" in " ".join(result.observations)


# --- weight-decay ----------------------------------------------------------------------


def test_adamw_and_l2_give_different_lr_by_wd_grids() -> None:
    result = run(
        "weight-decay",
        {
            "lrs": [0.001, 0.01],
            "weight_decays": [0.001, 0.1, 1.0],
            "epochs": 8,
            "n_examples": 1000,
            "hidden": 32,
        },
    )
    grids = result.extras["grids"]
    l2, w = grids["adam-l2"]["cells"], grids["adamw"]["cells"]
    assert len(result.runs) == 12
    assert all(v is not None for row in l2 + w for v in row)
    # At a large wd, L2 through Adam's denominator drowns the data; decoupled decay does not.
    assert min(row[2] for row in l2) > max(row[2] for row in w) + 0.3
    # At a tiny wd the two are the same optimizer.
    assert l2[0][0] == pytest.approx(w[0][0], abs=0.01)
    for method in ("adam-l2", "adamw"):
        heat = chart(result, f"val-loss-{method}")
        assert heat["cells"] == grids[method]["cells"]
        assert heat["row_best"] == [
            [0.001, 0.1, 1.0].index(v) for v in grids[method]["best_wd_per_lr"]
        ]
        assert 0 <= grids[method]["regret"] < 5
    text = " ".join(result.observations)
    assert "Adam + L2: best cell" in text and "AdamW: best cell" in text
    assert f"{100 * grids['adamw']['regret']:.1f}% for AdamW" in text


def test_paper_decay_scale_makes_adamw_decay_independent_of_the_lr() -> None:
    result = run(
        "weight-decay",
        {
            "lrs": [0.001, 0.01],
            "weight_decays": [0.0001, 0.001],
            "methods": ["adamw"],
            "decay_scale": "paper",
            "epochs": 1,
            "n_examples": 300,
            "hidden": 16,
        },
    )
    # The shrink per step (torch: lr x weight_decay) is the wd asked for, at either LR.
    decays = [r.config["train"]["weight_decay"] * r.lr for r in result.runs]
    assert decays == [pytest.approx(v) for v in [0.0001, 0.001, 0.0001, 0.001]]


# --- data-parallel ---------------------------------------------------------------------


def our_workers() -> list[int]:
    """Worker processes this test process started that are still alive (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read()
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"sims.distributed" in command and parent == os.getpid():
            found.append(int(entry))
    return found


SMALL_DP = {"workers": 2, "epochs": 2, "n_examples": 1000, "hidden": 32, "batch_size": 16}


@needs_two_cores
def test_two_workers_match_one_process_at_the_global_batch() -> None:
    events: list[SimEvent] = []
    result = run("data-parallel", SMALL_DP, on_event=events.append)
    by_run = {c["run"]: c for c in result.extras["comparisons"]}
    plain = by_run["2 workers x 16"]
    assert plain["max_abs_dw"] < 1e-5
    assert plain["ranks_max_abs_dw"] == 0.0  # every worker holds the same weights
    assert plain["allreduce_ms"] > 0 and 0 < plain["allreduce_share"] < 1
    per_worker = by_run["2 workers x 16, BatchNorm per worker"]
    synced = by_run["2 workers x 16, SyncBatchNorm"]
    assert per_worker["first_update_dw"] > 100 * synced["first_update_dw"]
    assert synced["first_update_dw"] < 1e-6
    assert result.extras["global_batch"] == 32 and result.extras["backend"] == "gloo"
    # The workers' runs stream through the same events as any run, in order.
    started = [e for e in events if isinstance(e, RunStarted)]
    assert [e.index for e in started] == list(range(5))
    assert [r.label for r in result.runs] == [e.label for e in started]
    assert all(r.status == "ok" for r in result.runs)
    text = " ".join(result.observations)
    assert f"max |dW| = {plain['max_abs_dw']:.1e}" in text
    assert f"{plain['allreduce_ms']:.2f} ms per update" in text


@needs_two_cores
def test_cancelling_data_parallel_stops_the_workers_promptly() -> None:
    seen: list[SimEvent] = []

    def cancel() -> bool:
        return any(isinstance(e, RunStarted) and "workers" in e.label for e in seen)

    began = time.monotonic()
    result = run(
        "data-parallel",
        {**SMALL_DP, "epochs": 50, "batchnorm": False},
        on_event=seen.append,
        cancel=cancel,
    )
    assert result.status == "cancelled"
    assert result.runs[-1].status == "cancelled"
    assert time.monotonic() - began < 60
    assert our_workers() == []  # none left behind


@needs_two_cores
def test_data_parallel_runs_inside_the_app_s_background_process() -> None:
    # The runner's child is a daemon process, which may not start multiprocessing children:
    # the workers must still start there.
    with SimRunner(threads=1) as runner:
        runner.start("data-parallel", {**SMALL_DP, "epochs": 1, "batchnorm": False})
        events = list(runner.events(timeout=120))
    final = events[-1]
    assert not hasattr(final, "reason"), getattr(final, "reason", "")
    result = final.result
    assert result.extras["comparisons"][0]["max_abs_dw"] < 1e-5
    assert not math.isnan(result.extras["comparisons"][0]["allreduce_ms"])

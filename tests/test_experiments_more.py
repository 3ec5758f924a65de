"""The tuning experiments (steps-to-target, lr-scaling, lr-finder, grid-search, throughput,
noise-scale) as users rely on them: they show what the literature says they show, their
observations come from the numbers, their charts and JSON are complete, and bad parameters
get clear messages. Sizes are small: the whole file runs in well under a minute on 2 cores."""

from __future__ import annotations

import json
import math
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import pytest

from quizapp.cli import main
from sims.experiments import _ladder
from sims.lab import run_experiment
from sims.registry import check_params, get_experiment
from sims.results import ExperimentResult

if TYPE_CHECKING:
    from pathlib import Path


def run(name: str, params: dict[str, Any], seed: int = 0) -> ExperimentResult:
    result = run_experiment(name, params, seed=seed, device="cpu")
    # Every result must survive the JSON the CLI writes and the store keeps.
    data = json.loads(result.to_json_text())
    assert ExperimentResult.from_json(data).extras == data["extras"]
    return result


def chart(result: ExperimentResult, chart_id: str) -> dict[str, Any]:
    found = [c for c in result.extras["charts"] if c["id"] == chart_id]
    assert len(found) == 1, f"no chart {chart_id!r} in {result.experiment}"
    return found[0]


@pytest.fixture(scope="module")
def ladder() -> ExperimentResult:
    # Batch x4 per rung from 8 to 2048, a coarse LR grid, an easy target: about 2 s.
    return run(
        "steps-to-target",
        {
            "batch_sizes": [8, 32, 128, 512, 2048],
            "lrs": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0],
            "target_loss": 0.5,
            "max_updates": 2000,
            "n_examples": 10_000,
        },
    )


def test_documented_parameter_names_are_accepted() -> None:
    planned = {
        "steps-to-target": ["batch_sizes", "lrs", "target_loss", "max_updates", "dataset"],
        "lr-scaling": ["batch_sizes", "base_batch", "base_lr", "optimizers", "rules"],
        "lr-finder": ["batch_size", "lr_min", "lr_max", "num_steps", "optimizer"],
        "grid-search": ["batch_sizes", "lrs", "epochs", "folds", "top_k"],
        "throughput": ["batch_sizes", "model", "steps"],
        "noise-scale": ["batch_small", "batch_big", "epochs", "lr", "dataset"],
    }
    for name, params in planned.items():
        experiment = get_experiment(name)
        assert experiment.title and len(experiment.explanation) > 100
        for param in params:
            assert experiment.param(param).help
    assert check_params("lr-scaling", {"warmup_epochs": 1, "epochs": 3}) == []
    assert check_params("steps-to-target", {"n_examples": 4000}) == []


def test_bad_parameters_say_what_is_allowed() -> None:
    assert check_params("noise-scale", {"batch_small": 32, "batch_big": 500}) == [
        "batch_big: expected a multiple of batch_small (32) larger than it; got 500"
    ]
    assert check_params("noise-scale", {"dataset": "digits", "batch_big": 2048}) == [
        "batch_big: expected at most the 1,438 training examples (dataset 'digits', "
        "n_examples 20,000); got 2,048"
    ]
    assert (
        "folds: expected 0 (no cross-validation) or 2-10"
        in check_params("grid-search", {"folds": 1})[0]
    )
    assert check_params("lr-finder", {"lr_min": 0.1, "lr_max": 0.01}) == [
        "lr_max: expected a learning rate above lr_min (0.1); got 0.01"
    ]
    assert (
        "expected batch sizes up to 1,438"
        in check_params("throughput", {"model": "cnn", "batch_sizes": [16, 4096]})[0]
    )
    assert (
        "other than base_batch (16)"
        in check_params("lr-scaling", {"batch_sizes": [16], "base_batch": 16})[0]
    )
    assert (
        "rules: expected a list of 1-3 values, each one of 'none', 'linear', 'sqrt'"
        in (check_params("lr-scaling", {"rules": ["cubic"]})[0])
    )


def test_steps_to_target_halves_at_small_batch_and_flattens_at_large(
    ladder: ExperimentResult,
) -> None:
    rungs = {r["batch_size"]: r for r in ladder.extras["ladder"]}
    assert all(r["updates"] is not None for r in rungs.values())
    factors = {f["from"]: f["per_doubling"] for f in ladder.extras["regimes"]["factors"]}
    # Perfect scaling would be 2x fewer updates per doubling of the batch.
    assert factors[8] >= 1.6
    assert factors[512] <= 1.4
    assert factors[512] < factors[8] - 0.25
    # Larger batches never needed more updates, but needed more examples.
    updates = [rungs[b]["updates"] for b in sorted(rungs)]
    assert updates == sorted(updates, reverse=True)
    assert rungs[2048]["examples"] > rungs[8]["examples"]
    text = " ".join(ladder.observations)
    assert f"8: {rungs[8]['updates']:,} (LR {rungs[8]['best_lr']:g})" in text
    assert "Near-perfect scaling (B <= B_crit / 4" in text


def test_best_learning_rate_grows_with_the_batch_for_sgd(ladder: ExperimentResult) -> None:
    best = [r["best_lr"] for r in sorted(ladder.extras["ladder"], key=lambda r: r["batch_size"])]
    assert best == sorted(best) and best[-1] >= 10 * best[0]
    slope = ladder.extras["lr_slope"]
    assert 0.3 < slope < 1.3
    assert f"fitted slope of log best LR against log batch is {slope:.2f}" in " ".join(
        ladder.observations
    )
    lr_chart = chart(ladder, "best-lr")
    assert lr_chart["x"]["scale"] == "log2" and lr_chart["y"]["scale"] == "log"
    assert [p[1] for p in lr_chart["series"][0]["points"]] == best


def test_adam_best_lr_grows_about_as_the_square_root_of_the_batch(
    ladder: ExperimentResult,
) -> None:
    # Same ladder and target with Adam (Malladi et al. 2022: square-root scaling).
    adam = run(
        "steps-to-target",
        {
            "optimizer": "adam",
            "batch_sizes": [8, 32, 128, 512, 2048],
            "lrs": [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1],
            "target_loss": 0.5,
            "max_updates": 2000,
            "n_examples": 10_000,
        },
    )
    slope = adam.extras["lr_slope"]
    assert 0.25 < slope < 0.75
    assert slope < ladder.extras["lr_slope"] - 0.25


def test_steps_to_target_grid_chart_matches_the_search(ladder: ExperimentResult) -> None:
    grid = chart(ladder, "grid")
    assert grid["kind"] == "heatmap"
    assert grid["rows"]["values"] == [8, 32, 128, 512, 2048]
    assert grid["cols"]["values"] == [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
    for row, rung in zip(grid["cells"], ladder.extras["ladder"], strict=True):
        reached = [v for v in row if v is not None]
        assert min(reached) == rung["updates"]
        assert row[grid["row_best"][ladder.extras["ladder"].index(rung)]] == rung["updates"]
    # A diverged or pruned cell is empty and says why.
    notes = [n for row in grid["notes"] for n in row if n]
    assert any(n == "diverged" for n in notes) and any(n.startswith("> ") for n in notes)
    steps = chart(ladder, "steps")
    assert steps["series"][0]["points"][0] == [8.0, ladder.extras["ladder"][0]["updates"]]


def test_critical_batch_fit_recovers_a_known_curve() -> None:
    rungs = [
        _ladder.Rung(b, 0.1, round(20 * (1 + 300 / b)))
        for b in [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
    ]
    fit = _ladder.fit_critical_batch(rungs)
    assert fit is not None
    s_min, b_crit = fit
    assert s_min == pytest.approx(20, rel=0.05) and b_crit == pytest.approx(300, rel=0.05)
    shape = _ladder.regimes(rungs)
    # Near-perfect up to B_crit / 4 = 75, near the floor from 4 B_crit = 1,200.
    assert shape.perfect_until == 64
    assert shape.floor_from == 2048


def test_linear_scaling_keeps_sgd_curves_together() -> None:
    result = run(
        "lr-scaling",
        {"batch_sizes": [16, 128], "optimizers": ["sgd"], "epochs": 3, "n_examples": 4000},
    )
    gaps = result.extras["gaps"]["sgd"]
    assert gaps["linear"] < gaps["sqrt"] < gaps["none"]
    assert result.extras["closest"]["sgd"] == "linear"
    text = " ".join(result.observations)
    assert f"linear ({gaps['linear']:.3f}), then sqrt ({gaps['sqrt']:.3f})" in text
    assert "Goyal et al. (2017) recommend linear scaling for SGD; this run agrees." in text
    # One run per rule and batch size besides the shared base run; LRs as each rule says.
    lrs = {r.label: r.lr for r in result.runs}
    assert lrs["SGD batch 16 (base)"] == pytest.approx(0.01)
    assert lrs["SGD linear batch 128"] == pytest.approx(0.08)
    assert lrs["SGD sqrt batch 128"] == pytest.approx(0.01 * math.sqrt(8))
    curves = chart(result, "curves-sgd")
    assert len(curves["series"]) == 4 and curves["series"][0]["style"] == "dashed"


def test_range_test_suggestion_trains_without_diverging() -> None:
    result = run(
        "lr-finder",
        {"batch_size": 64, "num_steps": 60, "check_epochs": 1, "n_examples": 4000},
    )
    extras = result.extras
    suggested, low = extras["suggested_lr"], extras["min_loss_lr"]
    assert suggested is not None and suggested < low
    test_run = result.runs[0]
    # The LR rose geometrically from lr_min, one evaluation per update.
    lrs = extras["range_test"]["lrs"]
    assert lrs[0] == pytest.approx(1e-5) and all(b > a for a, b in pairwise(lrs))
    assert len(lrs) == test_run.summary.updates
    check = next(c for c in extras["checks"] if c["role"] == "suggested")
    assert check["status"] == "ok" and check["lr"] == pytest.approx(suggested)
    assert check["final_val_loss"] < 0.5 * check["start_val_loss"]
    curve = chart(result, "range-test")
    assert curve["x"]["scale"] == "log"
    assert {m["label"] for m in curve["marks"]} >= {"minimum (suggested)", "lowest smoothed loss"}


def test_grid_search_heatmap_best_cell_and_cross_validation() -> None:
    result = run(
        "grid-search",
        {
            "batch_sizes": [32, 256],
            "lrs": [0.03, 0.3],
            "epochs": 2,
            "folds": 2,
            "top_k": 2,
            "n_examples": 2000,
        },
    )
    heat = chart(result, "val-loss")
    cells = heat["cells"]
    assert len(cells) == 2 and all(len(row) == 2 for row in cells)
    finished = [(v, i, j) for i, row in enumerate(cells) for j, v in enumerate(row) if v]
    best_value, bi, bj = min(finished)
    assert heat["best"] == [bi, bj]
    best = result.extras["best"]
    assert (best["batch_size"], best["lr"]) == ([32, 256][bi], [0.03, 0.3][bj])
    assert best["val_loss"] == pytest.approx(best_value)
    assert f"the best cell is batch {best['batch_size']}, LR {best['lr']:g}" in " ".join(
        result.observations
    )
    cv = result.extras["cv"]
    assert len(cv) == 2 and all(len(c["losses"]) == 2 for c in cv)
    assert cv[0]["mean_loss"] <= cv[1]["mean_loss"]
    # Each fold validates on half of the training part (1,600 examples), not the hold-out.
    folds = [r for r in result.runs if "fold" in r.label]
    assert len(folds) == 4 and {r.val_examples for r in folds} == {800}
    assert "2-fold cross-validation of the top 2 cells" in " ".join(result.observations)


def test_throughput_rises_with_batch_then_levels_off() -> None:
    result = run("throughput", {"batch_sizes": [1, 32, 1024, 8192], "steps": 20})
    rows = {r["batch_size"]: r for r in result.extras["rows"]}
    assert all(r["status"] == "ok" for r in rows.values())
    # At batch 1 per-update overhead dominates: 32x the batch costs far less than 32x the
    # time. At 8192 the CPU is busy computing: 8x the batch buys well under 8x the rate.
    # (Margins are wide because other processes may share the machine.)
    assert rows[32]["examples_per_s"] > 5 * rows[1]["examples_per_s"]
    assert rows[8192]["examples_per_s"] < 4 * rows[1024]["examples_per_s"]
    assert rows[8192]["ms_per_update"] > rows[32]["ms_per_update"]
    # Memory is measured, not timed: the saved activations grow with the batch.
    tensors = [rows[b]["tensor_bytes"] for b in sorted(rows)]
    assert tensors == sorted(tensors) and tensors[-1] > 10 * tensors[0]
    ratio = rows[8192]["activation_bytes"] / rows[1024]["activation_bytes"]
    assert ratio == pytest.approx(8, rel=0.05)
    bars = chart(result, "examples-per-s")
    assert bars["categories"]["values"] == [1, 32, 1024, 8192]
    assert bars["series"][0]["values"] == [rows[b]["examples_per_s"] for b in sorted(rows)]
    assert result.extras["runs_table"] is False


def test_noise_scale_is_measured_and_grows_as_the_loss_falls() -> None:
    result = run(
        "noise-scale",
        {"epochs": 2, "compare": False, "n_examples": 4000, "target_loss": 0.5},
    )
    rows = result.extras["noise"]
    assert len(rows) >= 10
    scales = [r["noise_scale"] for r in rows]
    assert all(math.isfinite(s) and s > 0 for s in scales)
    assert scales[-1] > scales[0]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    at_target = result.extras["at_target"]
    assert at_target is not None and at_target["train_loss"] <= 0.5
    assert f"B_simple was about {at_target['noise_scale']:,.0f}" in " ".join(result.observations)
    assert chart(result, "noise-scale")["y"]["scale"] == "log"


def test_sim_run_prints_the_heatmap_and_writes_the_charts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "grid.json"
    code = main(
        [
            "--home",
            str(tmp_path),
            "sim",
            "run",
            "grid-search",
            "--set",
            "batch_sizes=32,128",
            "--set",
            "lrs=0.03,0.3",
            "--set",
            "epochs=1",
            "--set",
            "n_examples=1000",
            "--json",
            str(target),
        ]
    )
    assert code == 0
    out = " ".join(capsys.readouterr().out.split())  # undo the terminal's line wrapping
    assert "Final validation loss per batch size and learning rate" in out
    assert "columns: learning rate" in out
    data = json.loads(target.read_text())
    ids = [c["id"] for c in data["extras"]["charts"]]
    assert ids == ["val-loss", "val-acc"]
    first_row = data["extras"]["charts"][0]["cells"][0]
    shown = [f"{v:.3f}" for v in first_row if v is not None]
    assert shown and all(value in out for value in shown)


def test_noise_scale_estimator_matches_per_example_gradients() -> None:
    # At fixed weights, B_simple = tr(Sigma) / |G|^2 can be computed exactly from every
    # example's gradient; the two-batch-size estimator should land close to it.
    import torch
    import torch.nn.functional as F
    from torch.func import functional_call, grad, vmap

    from sims.config import DataSpec, ModelSpec
    from sims.datasets import build_dataset
    from sims.models import build_model
    from sims.optim import SGD
    from sims.probes import GradientNoiseProbe
    from sims.training import UpdateStep

    data = build_dataset(DataSpec(n_examples=2500))
    torch.manual_seed(0)
    model = build_model(ModelSpec(hidden=32), data)
    names = [name for name, _ in model.named_parameters()]
    weights = tuple(p.detach() for p in model.parameters())

    def example_loss(ws: tuple[torch.Tensor, ...], x: torch.Tensor, y: torch.Tensor) -> Any:
        return F.cross_entropy(
            functional_call(model, dict(zip(names, ws, strict=True)), x[None]), y[None]
        )

    per_example = vmap(grad(example_loss), in_dims=(None, 0, 0))(
        weights, data.x_train, data.y_train
    )
    flat = torch.cat([g.reshape(g.shape[0], -1) for g in per_example], dim=1)
    mean = flat.mean(0)
    exact = float(((flat - mean) ** 2).sum(1).mean() / (mean @ mean))

    # Drawn without replacement, |G|^2 would be biased low by about tr(Sigma) / N here and
    # B_simple about 6% high; with replacement the estimate is unbiased.
    probe = GradientNoiseProbe(data, small=32, big=512, every=1, beta=0.99, seed=0)
    optimizer = SGD(model.parameters(), lr=0.0)
    x, y = data.x_train[:32], data.y_train[:32]
    loss = F.cross_entropy(model(x), y)
    for update in range(1, 301):
        probe.after_backward(UpdateStep(model, optimizer, x, y, loss, update, 1))
    assert probe.report()["noise_scale"] == pytest.approx(exact, rel=0.03)


async def test_app_widgets_draw_every_chart_kind() -> None:
    from rich.console import Console
    from textual.app import App, ComposeResult
    from textual.containers import VerticalScroll
    from textual.widgets import Static

    from quizapp.tui.widgets.experiment_chart import ExperimentChart, chart_widget

    finder = run("lr-finder", {"num_steps": 40, "check_epochs": 0, "n_examples": 2000})
    speed = run("throughput", {"batch_sizes": [1, 64], "steps": 5})
    grid = run(
        "grid-search", {"batch_sizes": [32], "lrs": [0.03, 0.3], "epochs": 1, "n_examples": 800}
    )
    charts = [chart(finder, "range-test"), chart(speed, "examples-per-s"), chart(grid, "val-acc")]

    class Charts(App[None]):
        CSS = "ExperimentChart { height: 16; }"

        def compose(self) -> ComposeResult:
            with VerticalScroll():
                for index, description in enumerate(charts):
                    yield chart_widget(description, id=f"chart-{index}")

    app = Charts()
    async with app.run_test(size=(100, 60)) as pilot:
        await pilot.pause()
        curve = str(app.query_one("#chart-0", ExperimentChart).render())
        assert "LR range test" in curve and "learning rate" in curve
        bars = str(app.query_one("#chart-1", ExperimentChart).render())
        assert "█" in bars and "64" in bars
        console = Console(record=True, width=100)
        console.print(app.query_one("#chart-2", Static).content)
        heat = console.export_text()
        assert "validation accuracy" in heat and "0.03" in heat and "0.3" in heat


def test_throughput_stops_at_the_first_out_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # A device that cannot hold a training batch of 1,024 (evaluation still fits).
    import torch

    from sims.models import MLP

    forward = MLP.forward

    def limited(self: MLP, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.shape[0] >= 1024:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return forward(self, x)

    monkeypatch.setattr(MLP, "forward", limited)
    result = run("throughput", {"batch_sizes": [16, 256, 1024, 4096], "steps": 3})
    assert [r["batch_size"] for r in result.extras["rows"]] == [16, 256, 1024]
    assert [r["status"] for r in result.extras["rows"]] == ["ok", "ok", "oom"]
    assert result.extras["oom_at"] == 1024 and result.extras["largest_fit"] == 256
    text = " ".join(result.observations)
    assert "Batch 1024 ran out of memory on cpu; the largest batch that fit was 256" in text
    # A timed run and a memory pass for 16 and 256, the timed run for 1024; 4096 never tried.
    assert [r.label for r in result.runs] == [
        "batch 16 (timed)",
        "batch 16 (memory)",
        "batch 256 (timed)",
        "batch 256 (memory)",
        "batch 1024 (timed)",
    ]

"""Simulations launched from the app train for real in a child process."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from textual.widgets import Input, Select, Static
from tui_support import make_app, running

from quizapp.store import Store
from quizapp.tui.screens.simulation import SimulationScreen
from quizapp.tui.widgets.metric_chart import MetricChart
from quizapp.tui.widgets.param_form import ParamForm
from quizapp.tui.widgets.runs_table import RunsTable

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); it is gone once its status says so.
    try:
        with open(f"/proc/{pid}/status") as status:
            return "zombie" in status.read()
    except FileNotFoundError:
        return True


async def wait_until(pilot, condition, seconds: float = 60.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError("condition not reached in time")


async def test_simulation_from_a_question_trains_and_is_stored(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        app.practise(["t-sim"])
        await pilot.pause()
        await pilot.press("ctrl+r", "s")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        form = screen.query_one(ParamForm)
        values = form.values()
        assert values is not None
        assert (values["batch_sizes"], values["epochs"], values["n_examples"]) == (
            [32, 256],
            1,
            600,
        )
        assert "eight times as many updates" in str(screen.query_one("#look-for", Static).content)
        screen.query_one("#prediction", Input).value = "batch 32 wins per epoch"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.ended)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.failed is None
        chart = screen.query_one("#loss-chart", MetricChart)
        assert set(chart.series) == {"batch 32", "batch 256"}
        assert all(len(points) >= 2 for points in chart.series.values())
        table = screen.query_one(RunsTable)
        assert {row.status for row in table.rows_by_label.values()} == {"ok"}
        assert screen.query_one("#observations").display
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ReviewScreen"

    with Store.open(tmp_path / "home") as store:
        (run,) = store.sim_runs()
        saved = store.get_sim_run(run.id)
    assert run.experiment == "batch-size-sweep"
    assert run.status == "ok"
    assert run.question_id == "t-sim"
    assert run.prediction == "batch 32 wins per epoch"
    assert saved is not None and len(saved.result["runs"]) == 2


async def test_cancelling_a_simulation_ends_its_process(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        app.open_simulation(experiment="batch-size-sweep")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        epochs = screen.query_one("#param-epochs", Input)
        epochs.value = "200"
        await pilot.pause()
        await pilot.press("ctrl+r")
        table = screen.query_one(RunsTable)
        await wait_until(pilot, lambda: any(r.update > 0 for r in table.rows_by_label.values()))
        pid = screen.child_pid
        assert pid is not None and not process_gone(pid)
        assert screen.is_training
        await pilot.press("escape")  # cancels, does not leave
        await wait_until(pilot, lambda: not screen.is_training, seconds=5)
        await pilot.pause()
        assert app.screen is screen
        assert process_gone(pid)
        assert "cancelled" in str(screen.query_one("#run-status", Static).content).lower()

    with Store.open(tmp_path / "home") as store:
        (run,) = store.sim_runs()
    assert run.status == "cancelled"


async def test_invalid_parameters_are_reported_as_you_type(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        app.open_simulation(experiment="batch-size-sweep")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        box = screen.query_one("#param-batch_sizes", Input)
        box.value = "16, banana"
        await pilot.pause()
        problems = str(screen.query_one("#param-problems", Static).content)
        assert problems.startswith("batch_sizes: expected")
        assert box.has_class("-invalid")
        assert screen.query_one("#run").disabled
        await pilot.press("ctrl+r")
        assert not screen.is_training
        box.value = "16, 64"
        await pilot.pause()
        assert not screen.query_one("#param-problems").display
        assert not screen.query_one("#run").disabled


async def test_past_runs_can_be_reopened_and_compared(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        app.practise(["t-sim"])
        await pilot.pause()
        await pilot.press("ctrl+r", "s")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.ended)
        await app.workers.wait_for_complete()
        assert app.store is not None
        (first,) = app.store.sim_runs()
        saved = app.store.get_sim_run(first.id)
        assert saved is not None
        # A second stored run of the same experiment, to compare with.
        second = app.store.record_sim_run(
            saved.experiment, saved.params, saved.device, "ok", result=saved.result
        )
        await pilot.press("f4")
        await pilot.pause()
        assert screen.history_ids == [second, first.id]
        await pilot.press("down", "enter")  # reopen the first run alone
        await pilot.pause()
        chart = screen.query_one("#loss-chart", MetricChart)
        assert set(chart.series) == {"batch 32", "batch 256"}
        await pilot.press("f4", "space", "down", "space", "c")
        await pilot.pause()
        assert set(chart.series) == {
            f"#{run_id} {label}"
            for run_id in (first.id, second)
            for label in ("batch 32", "batch 256")
        }
        assert "vs" in str(screen.query_one("#run-status", Static).content)


async def test_a_failed_simulation_is_a_message_and_is_recorded(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with running(app) as pilot:
        app.open_simulation(experiment="batch-size-sweep")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        screen.query_one("#param-epochs", Input).value = "1"
        screen.query_one("#device", Select).value = "mps"  # never available on Linux or in CI
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.ended)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.failed is not None and "mps" in screen.failed
        assert "Failed" in str(screen.query_one("#run-status", Static).content)
        assert app.screen is screen  # no traceback, the app goes on

    with Store.open(tmp_path / "home") as store:
        (run,) = store.sim_runs()
    assert run.status == "failed" and run.device == "mps"
    assert "mps" in run.summary["reason"]


async def test_arrowing_through_experiments_then_a_grid_search_shows_its_heat_map(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    async with running(app, size=(120, 50)) as pilot:
        app.open_simulation()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        # Faster than the form can be rebuilt: must leave exactly one form, for the last one.
        from sims.registry import list_experiments

        names = [e.name for e in list_experiments()]
        back = len(names) - 1 - names.index("grid-search")
        await pilot.press(*["down"] * (len(names) - 1), *["up"] * back)
        await pilot.pause()
        assert screen.experiment_name == "grid-search"
        assert len(screen.query(ParamForm)) == 1
        form = screen.query_one(ParamForm)
        for name, value in {
            "batch_sizes": "16, 64",
            "lrs": "0.01, 0.1",
            "epochs": "1",
            "n_examples": "600",
        }.items():
            form.query_one(f"#param-{name}", Input).value = value
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.ended)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.failed is None
        charts = screen.query_one("#result-charts")
        assert charts.display and charts.children
        titles = [str(getattr(w.content, "title", "")) for w in charts.query(Static)]
        assert "Final validation loss per batch size and learning rate" in titles


async def test_run_labels_are_shown_whole(tmp_path: Path) -> None:
    from quizapp.tui.screens.simulation import SimulationScreen
    from sims.events import RunStarted

    app = make_app(tmp_path)
    async with running(app, size=(120, 40)) as pilot:
        app.open_simulation(experiment="grid-search")
        await pilot.pause()
        screen = app.screen
        labels = ["batch 1024", "batch 16, LR 0.001", "batch 16, LR 0.01", "batch 16, LR 0.1"]
        screen.post_message(
            SimulationScreen.EventsArrived(
                [RunStarted(label, 0, {}, "cpu", 1, 1, 1, 1) for label in labels]
            )
        )
        await pilot.press("f3")
        await pilot.pause()
        table = screen.query_one(RunsTable)
        shown = [line.text for line in (table.render_line(y) for y in range(1, 5))]
        for label, line in zip(labels, shown, strict=True):
            assert f" {label} " in line


async def test_switching_experiments_shows_the_new_description_from_its_top(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    async with running(app, size=(80, 24)) as pilot:
        app.open_simulation(experiment="batch-size-sweep")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        setup = screen.query_one("#setup-right")
        setup.scroll_end(animate=False)
        await pilot.pause()
        assert setup.scroll_y > 0
        await pilot.press("down")
        await pilot.pause()
        assert screen.experiment_name != "batch-size-sweep"
        assert setup.scroll_y == 0


async def test_status_is_readable_at_80_columns_and_esc_after_the_end_goes_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sims.runner import SimRunner

    # Hold the worker in the runner's close(), after the result has arrived: the moment a
    # user's Esc used to be spent on cancelling a run that had already finished.
    release = threading.Event()
    close = SimRunner.close

    def slow_close(runner: SimRunner) -> None:
        release.wait(timeout=10)
        close(runner)

    monkeypatch.setattr(SimRunner, "close", slow_close)
    app = make_app(tmp_path)
    try:
        async with running(app, size=(80, 24)) as pilot:
            app.practise(["t-sim"])
            await pilot.pause()
            await pilot.press("ctrl+r", "s")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, SimulationScreen)
            await pilot.press("ctrl+r")
            await pilot.pause()
            status = screen.query_one("#run-status", Static)
            bar = screen.query_one("#progress")
            assert status.region.height >= 1 and bar.region.height >= 1
            assert not status.region.overlaps(bar.region)
            assert status.region.width >= len(str(status.content))
            await wait_until(pilot, lambda: screen.ended)
            assert screen.worker is not None and screen.worker.is_running
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is not screen
            release.set()
    finally:
        release.set()

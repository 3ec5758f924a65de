"""Charts and the runs table: values outside the axis never reach plotext, a diverged run is
named so in its legend and in the table, and a finished run shows what it ended with; live
and reopened from Past runs."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual.widgets import DataTable, Static
from textual_plotext.plot import Plot
from tui_support import make_app, running

from quizapp.tui.screens.simulation import SimulationScreen
from quizapp.tui.widgets.metric_chart import MetricChart
from quizapp.tui.widgets.runs_table import RunsTable
from sims.events import RunFinished, RunProgress, RunStarted
from sims.results import ExperimentResult, HistoryPoint, RunRecord, RunSummary

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


class PlotSpy:
    """Records what every plotext figure is handed: curves, markers and y-limits."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ys: dict[int, list[float]] = {}
        self.xs: dict[int, list[float]] = {}
        self.ylim: dict[int, tuple[float, float]] = {}
        for name in ("plot", "scatter"):
            monkeypatch.setattr(Plot, name, self._recorder(getattr(Plot, name)))
        original_ylim = Plot.ylim

        def ylim(plot: Plot, low: Any = None, high: Any = None, **kw: Any) -> Any:
            self.ylim[id(plot)] = (low, high)
            return original_ylim(plot, low, high, **kw)

        monkeypatch.setattr(Plot, "ylim", ylim)

    def _recorder(self, original: Any) -> Any:
        def record(plot: Plot, *args: Any, **kw: Any) -> Any:
            xs, ys = args[0], args[1]
            self.xs.setdefault(id(plot), []).extend(xs)
            self.ys.setdefault(id(plot), []).extend(ys)
            return original(plot, *args, **kw)

        return record

    def check_within_axes(self) -> None:
        assert self.ys, "nothing was plotted"
        for figure, ys in self.ys.items():
            low, high = self.ylim[figure]
            assert all(math.isfinite(y) and low <= y <= high for y in ys), (low, high, ys)
            assert all(math.isfinite(x) for x in self.xs[figure])


def point(update: int, loss: float, acc: float = 0.5) -> HistoryPoint:
    return HistoryPoint(
        epoch=update / 10,
        update=update,
        examples=update * 16,
        seconds=update / 100,
        train_loss=loss,
        val_loss=loss,
        val_acc=acc,
    )


def record(label: str, status: str, history: list[HistoryPoint]) -> RunRecord:
    last = history[-1]
    summary = RunSummary(
        status=status,  # type: ignore[arg-type]
        updates=last.update,
        examples=last.examples,
        epochs_completed=last.epoch,
        seconds=last.seconds,
        final_train_loss=last.train_loss,
        final_val_loss=last.val_loss,
        final_val_acc=last.val_acc,
        best_epoch=None,
        best_update=None,
        best_val_loss=None,
        best_val_acc=None,
        monitor="val_loss",
    )
    return RunRecord(
        label=label,
        status=status,  # type: ignore[arg-type]
        batch_size=16,
        lr=80.0,
        epochs=2,
        updates_per_epoch=10,
        train_examples=160,
        val_examples=40,
        config={},
        history=history,
        summary=summary,
    )


def diverged_result() -> dict[str, Any]:
    normal = [point(u, 2.3 - u / 20) for u in range(0, 21, 5)]
    blown = [point(0, 2.3), point(5, 9.0), point(10, 83_460_856.0, 0.1)]
    result = ExperimentResult(
        experiment="batch-size-sweep",
        title="Batch-size sweep",
        device="cpu",
        seed=0,
        params={},
        runs=[record("batch 16", "ok", normal), record("batch 1024", "diverged", blown)],
        observations=[],
    )
    return result.to_json()


def cell_texts(table: DataTable[Any], label: str) -> list[str]:
    return [str(cell) for cell in table.get_row(label)]


async def test_a_reopened_diverged_run_stays_on_its_axes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = PlotSpy(monkeypatch)
    app = make_app(tmp_path)
    async with running(app, size=(120, 40)) as pilot:
        assert app.store is not None
        run_id = app.store.record_sim_run(
            "batch-size-sweep", {}, "cpu", "ok", result=diverged_result()
        )
        app.open_saved_run(run_id)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        spy.check_within_axes()
        chart = screen.query_one("#loss-chart", MetricChart)
        assert "batch 1024 (diverged)" in chart.render().plain
        row = cell_texts(screen.query_one(RunsTable), "batch 1024")
        assert "diverged" in row
        assert not any("83460856" in cell or "nan" in cell for cell in row)


async def test_live_values_of_1e8_inf_and_nan_never_reach_plotext(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = PlotSpy(monkeypatch)
    app = make_app(tmp_path)
    async with running(app, size=(120, 40)) as pilot:
        app.open_simulation(experiment="batch-size-sweep")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        events: list[Any] = []
        for label, losses in {
            "batch 16": [2.3, 1.5, 1.0, 0.8],
            "batch 1024": [2.3, 1e8, math.inf, math.nan],
        }.items():
            events.append(RunStarted(label, 0, {}, "cpu", 10, 40, 160, 40))
            for update, loss in enumerate(losses):
                acc = 0.5 if math.isfinite(loss) else math.nan
                events.append(RunProgress(**vars(point(update * 10, loss, acc)), label=label))
        screen.post_message(SimulationScreen.EventsArrived(events))
        await pilot.pause()
        await pilot.press("f3", "x")  # the charts, redrawn at once (x-axis: update)
        await pilot.pause()
        spy.check_within_axes()
        for chart in screen.query(MetricChart):
            assert "batch 1024 (diverged)" in chart.render().plain
        row = cell_texts(screen.query_one(RunsTable), "batch 1024")
        assert row.count("diverged") == 2  # val loss and val acc
        assert not any(cell in ("nan", "inf") for cell in row)
        assert isinstance(screen.query_one("#run-status"), Static)


async def test_a_run_that_restored_its_best_epoch_shows_that_epochs_numbers(
    tmp_path: Path,
) -> None:
    """The epochs experiment with early_stop=false trains on, then restores the best epoch:
    the app's table shows what the run ended with, as the CLI's results table does."""
    accs = [0.5, 0.9, 0.939, 0.85, 0.8, 0.772]
    history = [point(10 * epoch, 1.0 - acc / 2, acc) for epoch, acc in enumerate(accs)]
    history = [replace(p, epoch=float(i)) for i, p in enumerate(history)]
    finished = record("20% label noise", "ok", history)
    summary = replace(
        finished.summary,
        final_val_loss=history[2].val_loss,
        final_val_acc=history[2].val_acc,
        stopped_epoch=5,
        restored_epoch=2,
    )
    finished = replace(finished, summary=summary)
    app = make_app(tmp_path)
    async with running(app, size=(120, 40)) as pilot:
        app.open_simulation(experiment="epochs")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        label = finished.label
        events: list[Any] = [RunStarted(label, 0, {}, "cpu", 10, 50, 160, 40)]
        events += [RunProgress(**vars(p), label=label) for p in history]
        screen.post_message(SimulationScreen.EventsArrived(events))
        await pilot.pause()
        table = screen.query_one(RunsTable)
        assert "77.2%" in cell_texts(table, label)  # live: the latest evaluation
        screen.post_message(
            SimulationScreen.EventsArrived([RunFinished(label, "ok", summary, finished)])
        )
        await pilot.pause()
        row = cell_texts(table, label)
        assert "93.9%" in row and "77.2%" not in row
        assert any("kept ep 2" in cell for cell in row)
        assert app.store is not None
        result = ExperimentResult(
            experiment="epochs",
            title="Epochs",
            device="cpu",
            seed=0,
            params={},
            runs=[finished],
            observations=[],
        )
        run_id = app.store.record_sim_run("epochs", {}, "cpu", "ok", result=result.to_json())
        app.open_saved_run(run_id)
        await pilot.pause()
        row = cell_texts(table, label)
        assert "93.9%" in row and any("kept ep 2" in cell for cell in row)

"""The CLI and the app show the same figures because they read the same report."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from textual.widgets import Static
from tui_support import Clock, make_app, running

from quizapp.cli import main
from quizapp.tui.screens.progress import ProgressScreen
from quizapp.tui.widgets.mastery_bars import MasteryBars
from quizapp.tui.widgets.review_heatmap import ReviewHeatmap

if TYPE_CHECKING:
    from pathlib import Path


async def test_stats_json_and_the_progress_screen_agree(tmp_path: Path) -> None:
    app = make_app(tmp_path, Clock(datetime.now(UTC)))
    async with running(app) as pilot:
        await pilot.press("r", "ctrl+r", "1", "enter")  # t-open: must-have met, 1/3
        await pilot.pause()
        await pilot.press(*"1173", "enter", "enter")  # t-numeric: right
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProgressScreen)
        heatmap = dict(screen.query_one(ReviewHeatmap).counts)
        bars = {
            b.topic: (b.share * b.questions, b.seen) for b in screen.query_one(MasteryBars).bars
        }
        missed = " ".join(str(screen.query_one("#missed", Static).content).split())
        title = str(screen.query_one("#title-bar", Static).content)

    out = io.StringIO()
    with redirect_stdout(out):
        home, decks = str(tmp_path / "home"), str(tmp_path / "fixture-decks")
        code = main(["stats", "--json", "--tz", "UTC", "--home", home, "--deck", decks])
    assert code == 0
    report = json.loads(out.getvalue())
    assert report["totals"]["attempts"] == 2
    assert f"{report['totals']['attempts']} answers" in title
    cli_days = {
        datetime.fromisoformat(d["day"]).date(): d["reviews"] for d in report["reviews_per_day"]
    }
    assert {d: n for d, n in cli_days.items() if n} == {d: n for d, n in heatmap.items() if n}
    for point in report["most_missed"]:
        assert f"{point['missed']}/{point['shown']} {point['point']}" in missed
    # The CLI also loads the shipped decks: compare mastery summed over a topic's questions.
    cli_mastery = {
        m["topic"]: (m["mastery"] * m["questions"], m["seen"]) for m in report["mastery"]
    }
    assert bars["epochs"][1] == cli_mastery["epochs"][1] == 1
    assert bars["epochs"][0] == pytest.approx(cli_mastery["epochs"][0])
    assert bars["epochs"][0] > 0


async def test_a_diverged_run_is_stored_alike_by_the_app_and_the_cli(tmp_path: Path) -> None:
    from test_app_simulation import wait_until
    from textual.widgets import Input

    from quizapp.store import Store
    from quizapp.tui.screens.simulation import SimulationScreen
    from quizapp.tui.widgets.param_form import ParamForm

    params = {"batch_sizes": "16", "lr": "80", "epochs": "1", "n_examples": "600"}
    cli_home = tmp_path / "cli"
    argv = ["sim", "run", "batch-size-sweep", "--home", str(cli_home), "--device", "cpu"]
    for key, value in params.items():
        argv += ["--set", f"{key}={value}"]
    with redirect_stdout(io.StringIO()):
        assert main(argv) == 0

    app = make_app(tmp_path)  # its home: tmp_path / "home"
    async with running(app, size=(120, 40)) as pilot:
        app.open_simulation(experiment="batch-size-sweep")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        form = screen.query_one(ParamForm)
        for key, value in params.items():
            form.query_one(f"#param-{key}", Input).value = value
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.ended)
        await app.workers.wait_for_complete()
        await pilot.pause()

    def stored(home: Path) -> tuple[str, str]:
        with Store.open(home) as store:
            (run,) = store.sim_runs()
            return run.status, json.dumps(run.summary, allow_nan=False, sort_keys=True)

    app_status, app_summary = stored(tmp_path / "home")
    cli_status, cli_summary = stored(cli_home)
    assert app_status == cli_status == "diverged"
    assert app_summary == cli_summary
    assert '"final_val_loss": null' in app_summary

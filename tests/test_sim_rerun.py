"""`quizapp sim show` and `sim rerun`: a stored run can be read back, reproduced by its exact
command, and rerun with a verdict on whether the numbers matched."""

from __future__ import annotations

import io
import shlex
from contextlib import redirect_stderr, redirect_stdout
from typing import TYPE_CHECKING

import pytest

from quizapp.cli import main
from quizapp.services.runs import first_difference
from quizapp.store import Store
from sims.results import ExperimentResult

if TYPE_CHECKING:
    from pathlib import Path

SMALL = ["--set", "batch_sizes=16,64", "--set", "epochs=1", "--set", "n_examples=600"]


def run_cli(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.slow
def test_show_prints_the_command_and_rerun_matches_bit_for_bit(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    code, _ = run_cli(
        ["sim", "run", "batch-size-sweep", *SMALL, "--seed", "7", "--device", "cpu", *home]
    )
    assert code == 0
    code, shown = run_cli(["sim", "show", "1", *home])
    assert code == 0 and "Run #1: batch-size-sweep, ok" in shown
    command = next(line for line in shown.splitlines() if line.startswith("Reproduce: "))
    words = shlex.split(command.removeprefix("Reproduce: "))
    assert words[:4] == ["quizapp", "sim", "run", "batch-size-sweep"]
    assert words[words.index("--seed") : words.index("--seed") + 2] == ["--seed", "7"]
    assert "batch_sizes=16,64" in words
    # The command itself reproduces the run: run it (without the program name) and compare.
    code, _ = run_cli([*words[1:], *home])
    assert code == 0
    code, said = run_cli(["sim", "rerun", "1", *home])
    assert code == 0 and "The numbers matched run #1 exactly" in said
    with Store.open(tmp_path / "home") as store:
        runs = [store.get_sim_run(r.id) for r in store.sim_runs()]
    assert len(runs) == 3  # the run, the command typed again, the rerun
    results = [ExperimentResult.from_json(r.result) for r in runs if r is not None]
    assert first_difference(results[0], results[1]) is None
    assert first_difference(results[0], results[2]) is None


@pytest.mark.slow
def test_rerun_says_where_the_numbers_differ(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    assert run_cli(["sim", "run", "batch-size-sweep", *SMALL, "--device", "cpu", *home])[0] == 0
    with Store.open(tmp_path / "home") as store:
        run = store.get_sim_run(1)
        assert run is not None and isinstance(run.result, dict)
        result = run.result
        result["runs"][0]["history"][1]["val_loss"] += 0.5  # as if another machine had run it
        store.db.execute(
            "UPDATE sim_runs SET result = ? WHERE id = 1", [__import__("json").dumps(result)]
        )
    code, said = run_cli(["sim", "rerun", "1", *home])
    assert code == 1 and "The numbers differed from run #1" in said and "val_loss" in said
    assert run_cli(["sim", "show", "99", *home])[0] == 1

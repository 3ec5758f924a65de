"""Simulation runs in the store: a run whose program was killed stops showing as running at
the next start; seeds the database cannot hold are refused before anything runs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest
from test_store import REPO

from quizapp.store import Store
from quizapp.store.owners import process_token

if TYPE_CHECKING:
    from pathlib import Path

_RECORD_AND_DIE = textwrap.dedent(
    """
    import os, sys
    from quizapp.store import Store

    store = Store.open(sys.argv[1])
    store.record_sim_run("epochs", {"epochs": 3}, "cpu")  # running
    os._exit(9)  # killed: no finish_sim_run, no close
    """
)


def test_a_run_whose_program_died_is_marked_interrupted_at_the_next_open(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    done = subprocess.run(
        [sys.executable, "-c", _RECORD_AND_DIE, str(home)], cwd=REPO, timeout=60, check=False
    )
    assert done.returncode == 9
    with Store.open(home) as store:
        (run,) = store.sim_runs()
        assert run.status == "interrupted"
        assert any("1 simulation run(s) as interrupted" in n for n in store.notices)
        assert store.stale_sim_runs() == []


def test_a_run_whose_program_still_runs_stays_running(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as app:
        run_id = app.record_sim_run("epochs", {"epochs": 3}, "cpu")
        with Store.open(home) as cli:  # e.g. `quizapp stats` while the app trains
            assert [r.status for r in cli.sim_runs()] == ["running"]
            assert cli.notices == []
        app.finish_sim_run(run_id, "ok")
    with Store.open(home) as store:
        assert [r.status for r in store.sim_runs()] == ["ok"]


@pytest.mark.parametrize("seed", [2**63, 10**23, -1, 1.5, True])
def test_a_seed_the_database_cannot_hold_is_refused_before_saving(
    tmp_path: Path, seed: object
) -> None:
    with Store.open(tmp_path / "home") as store:
        with pytest.raises(ValueError, match=r"seed must be a whole number from 0 to 2\^63-1"):
            store.record_sim_run("epochs", {}, "cpu", "ok", seed=seed)  # type: ignore[arg-type]
        assert store.sim_runs() == []
        store.record_sim_run("epochs", {}, "cpu", "ok", seed=2**63 - 1)
        assert store.sim_runs()[0].seed == 2**63 - 1


def test_a_run_whose_pid_now_belongs_to_another_program_is_interrupted(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as store:
        store.record_sim_run("epochs", {"epochs": 3}, "cpu")
    raw = sqlite3.connect(home / "progress.db")
    with raw:  # as if recorded before a reboot by a process whose pid is ours today
        raw.execute("UPDATE sim_runs SET owner_pid = ?, owner_token = 'old-boot:1'", [os.getpid()])
    raw.close()
    if process_token(os.getpid()) is None:
        pytest.skip("no /proc: a reused pid cannot be told apart here")
    with Store.open(home) as store:
        assert [r.status for r in store.sim_runs()] == ["interrupted"]

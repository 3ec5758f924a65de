"""A damaged database: as many rows as SQLite can still read are recovered, and it is never
moved aside while another quizapp has it open."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from test_store import REPO, T0, grade, question

from quizapp.store import Store, StoreError, repair

if TYPE_CHECKING:
    from pathlib import Path


def _aside(home: Path) -> list[Path]:
    return [p for p in home.glob("progress.db.corrupt-*") if not p.name.endswith(("wal", "shm"))]


def _fill(home: Path, attempts: int = 200) -> None:
    with Store.open(home) as store:
        for i in range(attempts):
            grade(store, question(f"q{i % 50}"), {i % 3}, T0 + timedelta(minutes=i))


@pytest.mark.parametrize("sqlite_cli", [True, False], ids=["PATH as is", "no sqlite3 on PATH"])
def test_a_database_cut_short_keeps_most_of_its_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_cli: bool
) -> None:
    if not sqlite_cli:
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    home = tmp_path / "home"
    _fill(home)
    db = home / "progress.db"
    assert not db.with_name("progress.db-wal").exists()
    with db.open("r+b") as fh:  # a copy or disk that stopped at 90 %
        fh.truncate(int(db.stat().st_size * 0.9))

    with Store.open(home) as store:
        (notice,) = store.notices
        recovered = store.totals().attempts
        # Measured: 172 of 200 (the rows on the lost last tenth of the pages are gone).
        assert recovered >= 150
        assert "Recovered from the old file: " in notice
        assert re.search(rf"\b{recovered} attempts\b", notice)
        assert store.check() == []  # every recovered attempt has its review and schedule
        assert all(store.card(f"q{i}") is not None for i in range(50))
    assert len(_aside(home)) == 1


_HOLDER = textwrap.dedent(
    """
    import sys
    from quizapp.store import Store

    store = Store.open(sys.argv[1])
    print("open", flush=True)
    sys.stdin.readline()  # hold it open until told
    store.close()
    """
)


def _damage_header(db: Path) -> None:
    with db.open("r+b") as fh:
        fh.write(b"this is not SQLite any more")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["open", "doctor --repair"])
def test_a_database_in_use_by_another_quizapp_is_never_moved_aside(
    tmp_path: Path, how: str
) -> None:
    home = tmp_path / "home"
    _fill(home, attempts=3)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        _damage_header(home / "progress.db")
        attempt = (lambda: Store.open(home)) if how == "open" else (lambda: repair(home))
        with pytest.raises(StoreError) as err:
            attempt()
        assert f"in use by another quizapp (pid {holder.pid}); close it first" in str(err.value)
        assert (home / "progress.db").exists()
        assert _aside(home) == []
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()
    # Once it is closed, the damaged file is moved aside as before.
    with Store.open(home) as store:
        assert "moved to" in store.notices[0]
    assert len(_aside(home)) == 1


def test_stores_in_one_process_do_not_block_each_other(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _fill(home, attempts=2)
    with Store.open(home) as first:
        _damage_header(home / "progress.db")
        with Store.open(home) as second:  # the same program: no other process to protect
            assert "moved to" in second.notices[0]
            assert second.totals().attempts == 0
        assert first.path == second.path
    assert os.path.exists(home / "progress.db.lock")

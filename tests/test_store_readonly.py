"""Reading a home that may not be written: export, backup and stats work and change nothing.

Tests run as root, and root ignores file modes. The last test therefore runs its reader in a
child process without the capabilities that let root write anywhere (``setpriv``), so the
folder and file really are read-only to it; the others check that a ``read_only=True`` open
leaves every byte and timestamp in the folder as it was."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from test_store import REPO, T0, grade, question

from quizapp.store import SCHEMA_VERSION, Store, StoreError
from quizapp.store.schema import migrate

if TYPE_CHECKING:
    from collections.abc import Iterator


def _snapshot(home: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(home.iterdir())}


def _fill(home: Path) -> None:
    with Store.open(home) as store:
        for i in range(3):
            grade(store, question(f"q{i}"), {0}, T0 + timedelta(days=i))
        store.record_sim_run("epochs", {"epochs": 2}, "cpu", "ok", started=T0)


def test_a_read_only_open_reads_everything_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _fill(home)
    before = _snapshot(home)
    with Store.open(home, read_only=True) as store:
        assert store.read_only and store.notices == []
        assert store.totals().attempts == 3
        counts = store.export_file(tmp_path / "export.json", T0)
        store.backup(tmp_path / "copy.db")
        with pytest.raises(StoreError, match="read-only"):
            store.update_settings(new_per_day=3)
    assert counts["attempts"] == 3
    with Store.open(tmp_path / "copy", read_only=True) as copy:
        assert copy.totals().attempts == 0  # a folder that does not exist reads as empty
    assert not (tmp_path / "copy").exists()
    assert _snapshot(home) == before


def test_an_older_schema_is_read_without_upgrading_the_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db = sqlite3.connect(home / "progress.db")
    from sqlite_utils import Database

    migrate(Database(db), target=1)
    db.close()
    before = _snapshot(home)
    with Store.open(home, read_only=True) as store:
        assert store.schema_version == SCHEMA_VERSION  # in a private copy
        assert store.sim_runs() == [] and store.totals().attempts == 0
    assert _snapshot(home) == before
    check = sqlite3.connect(home / "progress.db")
    assert check.execute("PRAGMA user_version").fetchone()[0] == 1
    check.close()


_READER = textwrap.dedent(
    """
    import json, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from quizapp.store import Store, StoreError

    home, out = Path(sys.argv[1]), Path(sys.argv[2])
    try:
        Store.open(home).close()
        print("writable open: allowed")
    except StoreError as err:
        print("writable open:", err)
    with Store.open(home, read_only=True) as store:
        counts = store.export_file(out / "export.json", datetime.now(UTC))
        store.backup(out / "backup.db")
        print(json.dumps(counts))
    """
)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder outside pytest's root-only tmp tree, so a less privileged child can reach it."""
    path = Path(tempfile.mkdtemp(prefix="quizapp-ro-"))
    path.chmod(0o755)
    yield path
    for sub in path.rglob("*"):
        if sub.is_dir():
            sub.chmod(0o755)
    shutil.rmtree(path)


def test_export_and_backup_work_on_a_home_nobody_may_write(shared_tmp: Path) -> None:
    home, out = shared_tmp / "home", shared_tmp / "out"
    _fill(home)
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    for path in home.iterdir():
        path.chmod(0o444)
    home.chmod(0o555)
    before = _snapshot(home)
    command = [sys.executable, "-c", _READER, str(home), str(out)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to run the reader without root's file access")
        drop = "-dac_override,-dac_read_search,-fowner"
        command = ["setpriv", "--bounding-set", drop, *command]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("writable open: Cannot write to the data folder")
    assert json.loads(lines[1])["attempts"] == 3
    assert json.loads((out / "export.json").read_text())["attempts"][2]["question_id"] == "q2"
    assert _snapshot(home) == before


def test_a_read_only_export_sees_grades_a_running_app_has_not_folded_in(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as app:
        grade(app, question("q1"), {0}, T0)
        assert (home / "progress.db-wal").exists()  # the grade lives in the WAL for now
        with Store.open(home, read_only=True) as reader:
            doc = reader.export_data(T0)
        assert [a["question_id"] for a in doc["attempts"]] == ["q1"]

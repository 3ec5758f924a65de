"""Opening the data folder, and moving a damaged database aside while saving its rows."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from quizapp.store.errors import StoreError
from quizapp.store.paths import database_path
from quizapp.store.schema import write_transaction

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

# --- opening ----------------------------------------------------------------------------


def prepare_home(home: Path) -> None:
    try:
        home.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StoreError(
            f"Cannot use {home} as the data folder: a file with that name is in the way. "
            "Move it, or choose another folder with --home or QUIZAPP_HOME."
        ) from None
    except NotADirectoryError:
        raise StoreError(
            f"Cannot create the data folder {home}: part of that path is a file, not a "
            "folder. Choose another folder with --home or QUIZAPP_HOME."
        ) from None
    except OSError as exc:
        raise StoreError(
            f"Cannot create the data folder {home}: {exc.strerror or exc}. Choose another "
            "folder with --home or QUIZAPP_HOME."
        ) from None
    if not home.is_dir():
        raise StoreError(f"The data folder {home} is not a folder.")
    if not os.access(home, os.W_OK | os.X_OK):
        raise StoreError(
            f"Cannot write to the data folder {home}: permission denied. quizapp keeps your "
            "progress there; make it writable or choose another folder with --home or "
            "QUIZAPP_HOME."
        )
    db_file = database_path(home)
    if db_file.exists() and not os.access(db_file, os.R_OK | os.W_OK):
        raise StoreError(
            f"Cannot read and write the progress database {db_file}: permission denied. "
            "Make it readable and writable by you."
        )


def connect(path: Path, busy_timeout: float) -> Database:
    conn = sqlite3.connect(str(path), timeout=busy_timeout)
    db = Database(conn, execute_plugins=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    # Reading the schema is what reveals a file that is not a database at all.
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    if db.journal_mode != "wal":
        db.enable_wal()
    # FULL: a grade survives even a power cut once record_attempt() returns; grades are
    # rare enough that the extra fsync is never felt.
    conn.execute("PRAGMA synchronous = FULL")
    return db


def connect_read_only(path: Path, busy_timeout: float) -> Database:
    """Open for reading only: nothing in the folder is created or changed.

    Without a ``-wal`` file (no quizapp has it open; a clean close folds the WAL in) the
    file is read as ``immutable``, which creates no ``-shm`` either. With one, a running
    quizapp may hold grades there: ``mode=ro`` reads through it."""
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal").exists()
    attempts = ("mode=ro", "mode=ro&immutable=1") if wal else ("mode=ro&immutable=1",)
    conn: sqlite3.Connection | None = None
    for flags in attempts:
        try:
            conn = sqlite3.connect(f"{uri}?{flags}", uri=True, timeout=busy_timeout)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            break
        except sqlite3.OperationalError:
            if conn is not None:
                conn.close()
            conn = None
            if flags == attempts[-1]:
                raise
    assert conn is not None
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    conn.execute("PRAGMA query_only = ON")
    return Database(conn, execute_plugins=False)


def _aside_name(path: Path, moment: datetime) -> Path:
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    return candidate


def move_aside(path: Path, moment: datetime) -> Path:
    """Rename the damaged file (and its -wal/-shm companions, which belong to it)."""
    target = _aside_name(path, moment)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    path.rename(target)
    return target


_TABLE_ORDER = (
    "settings",
    "rubric_points",
    "attempts",
    "cards",
    "review_log",
    "sim_runs",
    "mock_interviews",
)
_RECOVER_TIMEOUT = 120.0  # seconds for the sqlite3 command line tool's .recover


def salvage(db: Database, damaged: Path) -> dict[str, int]:
    """Copy every row still readable from a damaged database into the fresh one ``db``;
    returns how many rows per table.

    Works on a copy (the damaged file is kept as it was). SQLite's own ``.recover`` (the
    ``sqlite3`` command line tool, where installed and working) reads every page it can
    find; otherwise each table is read in rowid order with ``writable_schema`` on, jumping
    past the rowid ranges of missing or damaged pages (a file cut short loses only the
    rows on its lost pages, not the whole table)."""
    with tempfile.TemporaryDirectory(prefix="quizapp-salvage-") as tmp:
        copy = Path(tmp) / "damaged.db"
        try:
            shutil.copyfile(damaged, copy)
            wal = damaged.with_name(damaged.name + "-wal")
            if wal.exists():
                shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        except OSError:
            return {}
        source = _sqlite_recover(copy, Path(tmp) / "recovered.db") or copy
        try:
            rows = _readable_tables(source, db)
        except sqlite3.Error:
            return {}
    return _insert_rows(db, rows)


def _sqlite_recover(src: Path, dest: Path) -> Path | None:
    """SQLite's ``.recover`` into a new file; None where the tool is missing or fails."""
    exe = shutil.which("sqlite3")
    if exe is None:
        return None
    script = dest.with_suffix(".sql")
    try:
        with script.open("wb") as out:
            dump = subprocess.run(
                [exe, str(src), ".recover"],
                stdout=out,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                timeout=_RECOVER_TIMEOUT,
                check=False,
            )
        if dump.returncode != 0 or dump.stderr.strip():
            return None  # some builds fail here ("SQL logic error"): read the rows ourselves
        with script.open("rb") as sql:
            load = subprocess.run(
                [exe, str(dest)],
                stdin=sql,
                capture_output=True,
                timeout=_RECOVER_TIMEOUT,
                check=False,
            )
        if load.returncode != 0:
            return None
    except (OSError, subprocess.SubprocessError):
        return None
    return dest


def _readable_tables(source: Path, db: Database) -> dict[str, tuple[list[str], list[Any]]]:
    """Per table: the columns both files share and every row that can still be read."""
    conn = sqlite3.connect(str(source), timeout=1.0)
    try:
        # Lets SQLite load a schema whose pages point past the end of a cut-short file.
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("PRAGMA query_only = ON")
        out: dict[str, tuple[list[str], list[Any]]] = {}
        for table in _TABLE_ORDER:
            try:
                theirs = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            except sqlite3.DatabaseError:
                continue
            cols = [r[1] for r in db.execute(f"PRAGMA main.table_info({table})") if r[1] in theirs]
            if cols:
                out[table] = (cols, _readable_rows(conn, table, ", ".join(cols)))
        return out
    finally:
        conn.close()


def _readable_rows(conn: sqlite3.Connection, table: str, cols: str) -> list[Any]:
    try:
        conn.execute(f"SELECT rowid FROM {table} LIMIT 0")
    except sqlite3.DatabaseError:  # WITHOUT ROWID: read in key order up to the damage
        rows: list[Any] = []
        with suppress(sqlite3.DatabaseError):
            rows.extend(conn.execute(f"SELECT {cols} FROM {table}"))
        return rows
    found: dict[int, Any] = {}
    start: int | None = -(2**63)
    # NOT INDEXED: read the table itself; a damaged index must not hide its rows.
    scan = f"SELECT rowid, {cols} FROM {table} NOT INDEXED WHERE rowid >= ? ORDER BY rowid"
    while start is not None:
        resume = start
        try:
            for row in conn.execute(scan, [start]):
                found[row[0]] = row[1:]
                resume = row[0] + 1
            break
        except sqlite3.DatabaseError:
            start = _next_readable(conn, table, resume + 1)
    return list(found.values())


def _next_readable(conn: sqlite3.Connection, table: str, after: int) -> int | None:
    """The first rowid >= ``after`` from which a read succeeds: step forward in doubling
    strides until one does, then bisect back to where the readable range begins."""

    def readable(rowid: int) -> bool:
        try:
            conn.execute(
                f"SELECT rowid FROM {table} NOT INDEXED WHERE rowid >= ? ORDER BY rowid LIMIT 1",
                [rowid],
            ).fetchone()
        except sqlite3.DatabaseError:
            return False
        return True

    if readable(after):
        return after
    failed, stride = after, 1
    while not readable(after + stride):
        failed = after + stride
        stride *= 2
        if after + stride > _MAX_ROWID:
            return None
    good = after + stride
    while good - failed > 1:
        middle = (good + failed) // 2
        if readable(middle):
            good = middle
        else:
            failed = middle
    return good


_MAX_ROWID = 2**63 - 1


def _insert_rows(db: Database, tables: Mapping[str, tuple[list[str], list[Any]]]) -> dict[str, int]:
    copied: dict[str, int] = {}
    # Rows are inserted parent-less where their parent was lost, then such orphans removed:
    # one pass per table instead of a foreign-key check per row.
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(db):
            for table, (cols, rows) in tables.items():
                marks = ", ".join("?" for _ in cols)
                before = db.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
                db.conn.executemany(
                    f"INSERT OR IGNORE INTO main.{table} ({', '.join(cols)}) VALUES ({marks})",
                    rows,
                )
                copied[table] = db.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
                copied[table] -= before
            lost = db.execute(
                "DELETE FROM review_log WHERE attempt_id NOT IN (SELECT id FROM attempts)"
            ).rowcount
            if lost > 0 and "review_log" in copied:
                copied["review_log"] -= lost
    finally:
        db.execute("PRAGMA foreign_keys = ON")
    return {t: n for t, n in copied.items() if n}


def damaged_notice(path: Path, aside: Path, reason: str, salvaged: Mapping[str, int]) -> str:
    notice = (
        f"The progress database {path} could not be read ({reason}). It was moved to "
        f"{aside} (nothing was deleted) and a fresh database was started."
    )
    if salvaged:
        parts = ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in salvaged.items())
        notice += f" Recovered from the old file: {parts}."
    return notice

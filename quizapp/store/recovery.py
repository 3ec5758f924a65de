"""Opening the data folder, and moving a damaged database aside while saving its rows."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from quizapp.store.errors import StoreError
from quizapp.store.paths import database_path
from quizapp.store.schema import write_transaction

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


def salvage(db: Database, damaged: Path) -> dict[str, int]:
    """Copy every row still readable from a damaged database into the fresh one."""
    copied: dict[str, int] = {}
    try:
        db.execute("ATTACH DATABASE ? AS damaged", [str(damaged)])
    except sqlite3.Error:
        return copied
    try:
        for table in _TABLE_ORDER:
            try:
                theirs = {r[1] for r in db.execute(f"PRAGMA damaged.table_info({table})")}
            except sqlite3.Error:
                continue
            ours = [r[1] for r in db.execute(f"PRAGMA main.table_info({table})")]
            cols = ", ".join(c for c in ours if c in theirs)
            if not cols:
                continue
            try:
                with write_transaction(db):
                    before = db.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
                    db.execute(
                        f"INSERT OR IGNORE INTO main.{table} ({cols}) "
                        f"SELECT {cols} FROM damaged.{table}"
                    )
                    after = db.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
                copied[table] = after - before
            except sqlite3.Error:
                copied[table] = _salvage_rows(db, table, cols)
    finally:
        with suppress(sqlite3.Error):
            db.execute("DETACH DATABASE damaged")
    return {t: n for t, n in copied.items() if n}


def _salvage_rows(db: Database, table: str, cols: str) -> int:
    """Row by row, for a table whose bulk copy hit a damaged page."""
    try:
        rowids = [r[0] for r in db.execute(f"SELECT rowid FROM damaged.{table}")]
    except sqlite3.Error:
        return 0
    copied = 0
    for rowid in rowids:
        try:
            with write_transaction(db):
                cur = db.execute(
                    f"INSERT OR IGNORE INTO main.{table} ({cols}) "
                    f"SELECT {cols} FROM damaged.{table} WHERE rowid = ?",
                    [rowid],
                )
                copied += max(cur.rowcount, 0)
        except sqlite3.Error:
            continue
    return copied


def damaged_notice(path: Path, aside: Path, reason: str, salvaged: Mapping[str, int]) -> str:
    notice = (
        f"The progress database {path} could not be read ({reason}). It was moved to "
        f"{aside} (nothing was deleted) and a fresh database was started."
    )
    if salvaged:
        parts = ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in salvaged.items())
        notice += f" Recovered from the old file: {parts}."
    return notice

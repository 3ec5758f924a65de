"""Database failures, worded for the user."""

from __future__ import annotations

import functools
import sqlite3
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# SQLite primary result codes we explain to the user.
_BUSY, _LOCKED, _READONLY, _IOERR, CORRUPT, _FULL, _CANTOPEN, NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


class StoreError(Exception):
    """A problem with the progress database, worded for the user (say ``str(err)``)."""


class StoreBusyError(StoreError):
    """Another program held the database lock for longer than the busy timeout."""


# --- errors -----------------------------------------------------------------------------

P = ParamSpec("P")
T = TypeVar("T")


class _Located(Protocol):
    path: Path
    busy_timeout: float


S = TypeVar("S", bound=_Located)


def guarded(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Turn sqlite errors escaping a public method into a StoreError the user can act on."""

    @functools.wraps(method)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise explain(exc, self.path, self.busy_timeout) from exc

    return wrapper


def sqlite_code(exc: sqlite3.Error) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def explain(exc: sqlite3.Error, path: Path, busy_timeout: float) -> StoreError:
    code = sqlite_code(exc)
    if code in (_BUSY, _LOCKED) or "locked" in str(exc):
        return StoreBusyError(
            f"The progress database {path} is in use by another program (probably another "
            f"quizapp writing to it) and stayed locked for {busy_timeout:g} s. Nothing was "
            "lost; close the other program or try again."
        )
    if code in (CORRUPT, NOTADB):
        return StoreError(
            f"The progress database {path} is damaged ({exc}). Nothing was deleted. Run "
            "`quizapp doctor` to check it, and `quizapp doctor --repair` to move it aside and "
            "recover what can still be read."
        )
    if code == _FULL:
        return StoreError(f"The disk holding {path} is full; free some space and try again.")
    if code == _READONLY:
        return StoreError(
            f"The progress database {path} is read-only; make the file and its folder "
            "writable, or choose another data folder with --home or QUIZAPP_HOME."
        )
    if code == _CANTOPEN:
        return StoreError(
            f"Cannot open the progress database {path}: check that the folder exists and is "
            "writable, or choose another data folder with --home or QUIZAPP_HOME."
        )
    if code == _IOERR:
        return StoreError(f"Reading or writing {path} failed ({exc}); check the disk.")
    return StoreError(f"Database error in {path}: {exc}")

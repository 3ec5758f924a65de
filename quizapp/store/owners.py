"""Which processes use the database.

``OpenLock``: every open Store holds a shared ``flock`` on ``progress.db.lock`` and appends
its pid to that file. Moving a damaged database aside first takes the lock exclusively, so
it never happens under another running quizapp (whose next grades would go to the moved
file and be lost). Stores in one process share one lock (a process never blocks itself).

``process_token`` / ``process_gone``: a simulation run records the pid of the program
running it and a token (boot id + the process's start time), so a run whose program was
killed can be told from one still running, even after the pid is reused.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, ClassVar

from quizapp.store.errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the check is skipped there
    fcntl = None  # type: ignore[assignment]


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class OpenLock:
    """The shared lock of one database in this process (see the module docstring)."""

    _registry: ClassVar[dict[str, OpenLock]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path, fd: int | None, writable: bool):
        self.path = path
        self.fd = fd
        self.writable = writable  # a read-only open takes part in the lock but writes nothing
        self.users = 0
        self.exclusive_depth = 0

    @classmethod
    def acquire(cls, db_path: Path, timeout: float, *, read_only: bool = False) -> OpenLock:
        path = lock_path(db_path)
        key = os.path.abspath(path)
        with cls._guard:
            lock = cls._registry.get(key)
            if lock is None:
                lock = cls(path, _open_lock_file(path, read_only), not read_only)
                lock._share(timeout)
                cls._registry[key] = lock
            lock.users += 1
            return lock

    def release(self) -> None:
        with OpenLock._guard:
            self.users -= 1
            if self.users > 0:
                return
            OpenLock._registry.pop(os.path.abspath(self.path), None)
            if self.fd is not None:
                with suppress(OSError):
                    os.close(self.fd)  # closing drops the flock
                self.fd = None

    def _share(self, timeout: float) -> None:
        if self.fd is None or fcntl is None:
            return
        if self.writable:
            try:  # alone: start the pid list over, so the file stays a few bytes long
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.ftruncate(self.fd, 0)
            except OSError:
                pass
        # A shared lock waits only while another process moves a damaged file aside.
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"The progress database next to {self.path} is being repaired by "
                        "another quizapp; try again in a moment."
                    ) from None
                time.sleep(0.05)
        if self.writable:
            with suppress(OSError):
                os.write(self.fd, f"{os.getpid()}\n".encode())

    @contextmanager
    def exclusive(self, db_path: Path, reason: str) -> Iterator[None]:
        """Hold the database alone for the block, or raise StoreError naming who has it."""
        if self.fd is None or fcntl is None:
            yield
            return
        if self.exclusive_depth == 0:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holders = self._other_pids()
                who = f" (pid {', '.join(map(str, holders))})" if holders else ""
                raise StoreError(
                    f"The progress database {db_path} could not be read ({reason}), but it "
                    f"is in use by another quizapp{who}; close it first, then try again. "
                    "Nothing was moved or changed."
                ) from None
            # Alone: the pid list can start over.
            with suppress(OSError):
                os.ftruncate(self.fd, 0)
                os.write(self.fd, f"{os.getpid()}\n".encode())
        self.exclusive_depth += 1
        try:
            yield
        finally:
            self.exclusive_depth -= 1
            if self.exclusive_depth == 0:
                with suppress(OSError):
                    fcntl.flock(self.fd, fcntl.LOCK_SH)

    def _other_pids(self) -> list[int]:
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except OSError:
            return []
        pids = {int(w) for w in text.split() if w.isdigit()}
        pids.discard(os.getpid())
        return sorted(p for p in pids if not process_gone(p, None))


def _open_lock_file(path: Path, read_only: bool) -> int | None:
    if fcntl is None:
        return None
    if read_only:  # take part in the lock if the file is there; create nothing
        try:
            return os.open(path, os.O_RDONLY)
        except OSError:
            return None
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise StoreError(
            f"Cannot create the lock file {path}: {exc.strerror or exc}. Make its folder "
            "writable, or choose another data folder with --home or QUIZAPP_HOME."
        ) from None


# --- process identity -------------------------------------------------------------------


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read(4096)
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    text = _read(f"/proc/{pid}/stat")
    if text is None or ")" not in text:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return text.rsplit(")", 1)[1].split()


def process_token(pid: int) -> str | None:
    """Boot id and start time of a process (Linux), None where /proc is not available."""
    boot = _read("/proc/sys/kernel/random/boot_id")
    fields = _stat_fields(pid)
    if boot is None or fields is None or len(fields) < 20:
        return None
    return f"{boot.strip()}:{fields[19]}"  # field 22 of stat: start time in clock ticks


def process_gone(pid: int, token: str | None) -> bool:
    """Whether the process that recorded ``token`` has ended (a reused pid counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    fields = _stat_fields(pid)
    if fields is not None and fields[0] == "Z":
        return True  # exited, waiting to be reaped
    if token is None:
        return False
    now = process_token(pid)
    return now is not None and now != token

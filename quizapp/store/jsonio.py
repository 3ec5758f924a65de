"""JSON in and out of the store: strict on the way out, bounded on the way in.

Every JSON text the store writes (settings, simulation params/summary/result, exports) goes
through :func:`dumps`: NaN and ±inf become ``null`` (a diverged run's *status* says why), so
strict parsers always accept it. Every file the store reads goes through :func:`read_file`:
regular files only, a size cap and a nesting cap, so a FIFO, ``/dev/zero`` or a 50,000-deep
array costs one clear message, never a hang, a traceback or all the memory.
"""

from __future__ import annotations

import json
import math
import os
import stat
from typing import TYPE_CHECKING, Any

from quizapp.store.errors import StoreError

if TYPE_CHECKING:
    from pathlib import Path

MAX_IMPORT_BYTES = 50 * 1024 * 1024
# An export is 8 levels deep at most (document > sim_runs > run > result > runs > history >
# point > value); anything deeper is not ours and would only exhaust the stack.
MAX_JSON_DEPTH = 64


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (containers copied only when
    they hold one)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        items = {k: finite(v) for k, v in value.items()}
        return value if all(items[k] is v for k, v in value.items()) else items
    if isinstance(value, list | tuple):
        out = [finite(v) for v in value]
        return value if all(a is b for a, b in zip(out, value, strict=True)) else out
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """Strict JSON text: non-finite numbers are written as null."""
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:
        return json.dumps(finite(value), allow_nan=False, **kwargs)


def _no_constant(_name: str) -> None:
    return None


def _finite_float(text: str) -> float | None:
    number = float(text)
    return number if math.isfinite(number) else None


def loads(text: str) -> Any:
    """Parse JSON, reading ``NaN``/``Infinity`` (written by older versions) and overflowing
    numbers such as ``1e999`` as null."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests lists/objects more than ``limit`` levels (iterative, so it is
    safe on any depth)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def read_file(path: Path, what: str = "file", max_bytes: int = MAX_IMPORT_BYTES) -> Any:
    """Read and parse a JSON file, refusing anything but a regular file of at most
    ``max_bytes``; raises StoreError naming the file and the problem."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer that never comes.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise StoreError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StoreError(f"{path}: not a regular file; give the path of a {what}.")
        if info.st_size > max_bytes:
            raise StoreError(
                f"{path}: {info.st_size / 1024 / 1024:.0f} MB is larger than the "
                f"{max_bytes // 1024 // 1024} MB a {what} may have."
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise StoreError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew while we read
        raise StoreError(
            f"{path}: larger than the {max_bytes // 1024 // 1024} MB a {what} may have."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise StoreError(f"{path}: not a {what} (not UTF-8 text).") from None
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}).") from None
    except RecursionError:
        raise StoreError(
            f"{path}: lists or objects nested too deeply (a {what} nests at most "
            f"{MAX_JSON_DEPTH} levels)."
        ) from None

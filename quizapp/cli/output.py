"""The CLI's output boundary: untrusted text shown literally (:func:`safe_text`, shared
with the views, which sit below the CLI), strict JSON, and the exit statuses a shell sees.

Every string from a deck, an import or the progress database that the CLI prints goes
through :func:`safe_text`, never through markup.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from quizapp.views.text import UNSAFE_CODEPOINTS, safe_text, visible

if TYPE_CHECKING:
    import argparse

    from rich.console import Console

    from quizapp.store import Store

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "console",
    "exit_interrupted_now",
    "safe_text",
    "strict_json",
    "visible",
]

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a tool stopped by Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`'s `yes`


def console(*, stderr: bool = False) -> Console:
    """The console every command prints through (no guessed highlighting of numbers or
    paths; a closed pipe ends the command with ``EXIT_BROKEN_PIPE``)."""
    return _console_class()(stderr=stderr, highlight=False)


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console  # on first use: `quizapp --version` stays quick

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # Rich would exit with status 1 here; the CLI ends every closed pipe the same way.
            self.quiet = True
            raise BrokenPipeError

    return _Console


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


# JSON escapes C0 controls itself; the others pass through `ensure_ascii=False` raw.
_JSON_RAW_CONTROLS = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in sorted(UNSAFE_CODEPOINTS) if c > 0x1F) + "]"
)


def strict_json(data: Any, *, indent: int | None = 2) -> str:
    """``data`` as strict JSON (``allow_nan=False``: a non-finite number becomes ``null``),
    with every control character escaped, so printing it cannot drive the terminal."""
    text = json.dumps(_finite(data), indent=indent, ensure_ascii=False, allow_nan=False)
    return _JSON_RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def exit_interrupted_now(message: str = "Interrupted.", *, show_cursor: bool = False) -> NoReturn:
    """Leave at once with status 130 from a SIGINT handler: flush what was printed, say
    ``message`` on stderr, and skip Python's shutdown. For where a KeyboardInterrupt could
    end the process by SIGINT (status -2) instead: during a simulation run, or during
    shutdown, where Python has put back the system's default action."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    cursor = "\x1b[?25h" if show_cursor else ""  # a live display had hidden it
    with contextlib.suppress(OSError):
        os.write(2, f"{cursor}\n{message}\n".encode())
    os._exit(EXIT_INTERRUPTED)


def fail(message: str) -> int:
    """Print an error on stderr (literally: store errors may quote an imported file) and
    return the exit status 1."""
    console(stderr=True).print(safe_text(message, style="red"), soft_wrap=True)
    return 1


def say(message: str) -> None:
    """A line that names paths or file content: printed literally, never as markup."""
    console().print(safe_text(message), soft_wrap=True)


def open_store(args: argparse.Namespace, *, read_only: bool = False) -> Store:
    """Open the store, showing its notices (e.g. a damaged file moved aside) on stderr."""
    from quizapp.store import Store
    from quizapp.store.paths import data_home

    store = Store.open(data_home(args.home), read_only=read_only)
    for notice in store.notices:
        console(stderr=True).print(safe_text(notice, style="yellow"), soft_wrap=True)
    return store

"""The ``quizapp`` command: a subcommand runs in the CLI; none opens the app."""

from __future__ import annotations

import atexit
import signal
import sys
from typing import TYPE_CHECKING

from quizapp.cli.output import EXIT_INTERRUPTED, exit_interrupted_now

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType


def _open_app(home: str | None, extra_decks: list[str], start: str | None) -> int:
    from quizapp.tui.app import run

    return run(home=home, extra_decks=extra_decks, start=start)


def _exit_interrupted(signum: int, frame: FrameType | None) -> None:
    exit_interrupted_now()


def main(argv: Sequence[str] | None = None) -> int:
    from quizapp.cli import main as cli_main

    try:
        return cli_main(argv, open_app=_open_app)
    except KeyboardInterrupt:  # raised in the CLI's own Ctrl-C handling
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        try:
            _bound_ctrl_c_at_exit()
        except KeyboardInterrupt:  # a Ctrl-C landing before our handler is in place
            exit_interrupted_now()


def _bound_ctrl_c_at_exit() -> None:
    """Ctrl-C after the command: exit 130 at once while Python can still run a handler, and
    be ignored for the last moments of shutdown, where Python puts back the system's default
    action (death by SIGINT: status -2 where a shell expects 130)."""
    signal.signal(signal.SIGINT, _exit_interrupted)
    # Registered last, so it runs first among the exit hooks (which are bounded themselves).
    atexit.register(signal.signal, signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    raise SystemExit(main())

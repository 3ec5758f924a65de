"""The ``quizapp`` command: no arguments starts the app; subcommands are grouped by feature.

Each feature lives in a module of this package that exposes
``register(subparsers, common)``; registering must stay cheap (no torch import).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from quizapp import __version__
from quizapp.cli.output import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED

# Feature modules, each adding its own subcommands.
COMMAND_MODULES: tuple[str, ...] = (
    "quizapp.cli.deck",
    "quizapp.cli.progress",
    "quizapp.cli.sim",
    "quizapp.cli.serve",
    "quizapp.cli.drill",
    "quizapp.cli.interview",
)


def common_options(default: object = None) -> argparse.ArgumentParser:
    """Options every command accepts (``--home``, ``--deck``), as an argparse parent.

    Subcommands get ``default=argparse.SUPPRESS`` so that an option given before the
    subcommand (``quizapp --home X deck list``) is not reset by the subcommand's default.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home",
        metavar="DIR",
        default=default,
        help="data directory (default: $QUIZAPP_HOME, else the platform's user data folder)",
    )
    common.add_argument(
        "--deck",
        metavar="PATH",
        action="append",
        default=default,
        help="also load this deck file or folder of decks (repeatable)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quizapp",
        parents=[common_options()],
        description=(
            "Practise machine-learning interview questions on batch size, epochs and learning "
            "rate; grade yourself against a rubric; run live PyTorch demos. "
            "Run without a command to open the app."
        ),
    )
    parser.epilog = (
        "Exit status: 0 done; 1 a problem was found or an operation failed; 2 bad usage or "
        f"input; {EXIT_INTERRUPTED} stopped with Ctrl-C; {EXIT_BROKEN_PIPE} the reader of "
        "the output went away (as in `quizapp export - | head`), reported quietly like "
        "other Unix tools."
    )
    parser.add_argument("--version", action="version", version=f"quizapp {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options(default=argparse.SUPPRESS)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers, common)
    return parser


# open_app(home, extra_decks, start): start is an app action to run first ("drill") or None.
AppLauncher = Callable[[str | None, list[str], str | None], int]


def main(argv: Sequence[str] | None = None, open_app: AppLauncher | None = None) -> int:
    """Run a command; without one, ``open_app(home, extra_decks)`` starts the app.

    The launcher is passed in (see ``quizapp.__main__``) so that the CLI never imports the
    app: both front ends sit on the same layer."""
    try:
        code = _run(argv, open_app)
        # Flush here: a reader that went away must surface inside this try, not at exit.
        sys.stdout.flush()
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_output()
        return EXIT_BROKEN_PIPE
    return code


def _run(argv: Sequence[str] | None, open_app: AppLauncher | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.deck = args.deck or []
    handler = getattr(args, "func", None)
    if handler is None:
        if args.command is not None:  # a group such as `quizapp deck` without its action
            parser.parse_args([args.command, "--help"])
        if open_app is None:
            parser.print_help()
            return 2
        return open_app(args.home, args.deck, None)
    args.open_app = open_app
    return int(handler(args) or 0)


def _discard_output() -> None:
    """After the reader of stdout or stderr went away: send what Python still holds for
    them to /dev/null, so that flushing at exit raises nothing and prints nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):  # a stream without a real file (e.g. captured)
            continue
    os.close(devnull)

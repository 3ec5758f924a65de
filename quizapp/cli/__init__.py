"""The ``quizapp`` command: no arguments starts the app; subcommands are grouped by feature.

Each feature lives in a module of this package that exposes
``register(subparsers, common)``; registering must stay cheap (no torch import).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from quizapp import __version__

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
    parser = build_parser()
    args = parser.parse_args(argv)
    args.deck = args.deck or []
    handler = getattr(args, "func", None)
    try:
        if handler is None:
            if args.command is not None:  # a group such as `quizapp deck` without its action
                parser.parse_args([args.command, "--help"])
            if open_app is None:
                parser.print_help()
                return 2
            return open_app(args.home, args.deck, None)
        args.open_app = open_app
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130

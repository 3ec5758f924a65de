"""``quizapp serve``: the same app in a web browser, through textual-serve."""

from __future__ import annotations

import shlex
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    serve = subparsers.add_parser(
        "serve",
        parents=[common],
        help="serve the app to a web browser (http://127.0.0.1:8000 by default)",
        description=(
            "Serve quizapp to a web browser: each browser tab runs its own copy of the app "
            "on this machine, with your data folder. Only this machine can connect unless "
            "you choose another --host. Stop with Ctrl-C."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(func=run_serve)


def app_command(home: str | None, decks: list[str]) -> str:
    """The shell command textual-serve starts for every browser session."""
    from quizapp.store.paths import data_home

    words = [sys.executable, "-m", "quizapp", "--home", str(data_home(home).resolve())]
    for deck in decks:
        words += ["--deck", deck]
    return shlex.join(words)


def run_serve(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    err = Console(stderr=True, highlight=False)
    if not 1 <= args.port <= 65535:
        err.print(Text(f"--port {args.port}: choose a port between 1 and 65535.", style="red"))
        return 2
    if args.host not in LOCAL_HOSTS:
        err.print(
            Text(
                f"Warning: listening on {args.host}: anyone who can reach this address can use "
                "quizapp as you, with your progress, and there is no password. Use the default "
                "127.0.0.1 unless you mean it.",
                style="yellow",
            ),
            soft_wrap=True,
        )
    from textual_serve.server import Server

    server = Server(
        app_command(args.home, args.deck), host=args.host, port=args.port, title="quizapp"
    )
    print(f"Serving quizapp at http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    try:
        server.serve()
    except OSError as exc:
        err.print(
            Text(f"Cannot listen on {args.host}:{args.port}: {exc.strerror or exc}.", style="red")
        )
        return 1
    return 0

"""The ``quizapp`` command: a subcommand runs in the CLI; none opens the app."""

from __future__ import annotations

from collections.abc import Sequence


def _open_app(home: str | None, extra_decks: list[str], start: str | None) -> int:
    from quizapp.tui.app import run

    return run(home=home, extra_decks=extra_decks, start=start)


def main(argv: Sequence[str] | None = None) -> int:
    from quizapp.cli import main as cli_main

    return cli_main(argv, open_app=_open_app)


if __name__ == "__main__":
    raise SystemExit(main())

"""``quizapp deck ...``: list and validate question decks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from questions.model import QuestionKind
from quizapp.cli.output import console, safe_text
from quizapp.domain.wording import plural

if TYPE_CHECKING:
    import argparse


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    deck = subparsers.add_parser(
        "deck", help="list and validate question decks", description="Work with question decks."
    )
    actions = deck.add_subparsers(dest="deck_command", metavar="ACTION")

    listing = actions.add_parser(
        "list",
        parents=[common],
        help="show decks, topics and question counts",
        description="Show every deck that loads (shipped, user and --deck), its topics and counts.",
    )
    listing.set_defaults(func=list_decks)

    validate = actions.add_parser(
        "validate",
        parents=[common],
        help="check deck files and report every problem",
        description=(
            "Check deck files and report every problem as file:line: key: message. "
            "Without PATH, checks the shipped decks and your user decks. "
            "Exits 0 when clean, 1 when a problem was found."
        ),
    )
    validate.add_argument("paths", nargs="*", metavar="PATH", help="deck file or folder of decks")
    validate.set_defaults(func=validate_decks)


def validate_decks(args: argparse.Namespace) -> int:
    from rich.text import Text

    from questions.loader import load_library
    from quizapp.services.library import check_preset, load
    from quizapp.store.paths import data_home, user_decks_dir

    if args.paths:
        home = data_home(args.home)
        # Shipped and user decks come along so duplicate ids across them are caught.
        targets = [Path(p).expanduser().absolute() for p in [*args.paths, *args.deck]]
        library = load_library(
            extra_paths=targets, user_dir=user_decks_dir(home), check_preset=check_preset
        )
    else:
        library = load(args.home, args.deck)
    out = console()
    for error in library.errors:  # quotes the deck's own keys and values
        out.print(safe_text(str(error)), soft_wrap=True)
    total = plural(sum(len(d.questions) for d in library.decks), "question")
    if library.errors:
        out.print(
            Text.assemble(
                (plural(len(library.errors), "problem"), "red"),
                f" in the decks; {total} loaded fine.",
            )
        )
        return 1
    out.print(
        Text.assemble(
            ("OK", "green"), f": {plural(len(library.decks), 'deck')}, {total}, no problems."
        )
    )
    return 0


def list_decks(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from quizapp.services.library import load

    library = load(args.home, args.deck)
    table = Table(title="Question decks", title_justify="left")
    table.add_column("Deck")
    table.add_column("Source")
    table.add_column("Topics")
    table.add_column("Questions", justify="right")
    table.add_column("Numeric", justify="right")
    table.add_column("Diagnose", justify="right")
    table.add_column("With demo", justify="right")
    for deck in library.decks:
        kinds = Counter(q.kind for q in deck.questions)
        table.add_row(
            safe_text(deck.name),
            Text("shipped") if deck.builtin else safe_text(str(deck.path)),
            safe_text(", ".join(deck.topics)),
            str(len(deck.questions)),
            str(kinds[QuestionKind.NUMERIC]),
            str(kinds[QuestionKind.DIAGNOSE]),
            str(sum(q.simulation is not None for q in deck.questions)),
        )
    out = console()
    out.print(table)
    by_topic = Counter(q.topic for q in library.questions.values())
    summary = ", ".join(f"{topic} {count}" for topic, count in sorted(by_topic.items()))
    out.print(safe_text(f"{plural(len(library.questions), 'question')} by topic: {summary}"))
    if library.errors:
        out.print(
            Text(
                f"{plural(len(library.errors), 'problem')} in the decks; "
                "run `quizapp deck validate`:",
                style="yellow",
            )
        )
        for error in library.errors:
            out.print(safe_text(str(error)), soft_wrap=True)
    return 0

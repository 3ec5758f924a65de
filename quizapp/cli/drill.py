"""``quizapp drill``: practise only your weak points; ``--list`` prints them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    drill = subparsers.add_parser(
        "drill",
        parents=[common],
        help="practise only your weak points (rubric points missed twice in a row) and leeches",
        description=(
            "Open the app on a practice session of the questions whose rubric points you "
            "missed in each of your last two answers, then the leeches (questions failed four "
            "times). --list prints them instead."
        ),
    )
    drill.add_argument("--list", action="store_true", help="print weak points and leeches")
    drill.add_argument("--json", action="store_true", help="with --list: as JSON")
    drill.set_defaults(func=run_drill)


def run_drill(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from quizapp.services.library import load
    from quizapp.services.weak_points import LEECH_ADVICE, weak_spots
    from quizapp.store import Store, StoreError
    from quizapp.store.paths import data_home

    if not args.list:
        return int(args.open_app(args.home, args.deck, "drill"))
    library = load(args.home, args.deck)
    try:
        with Store.open(data_home(args.home)) as store:
            spots = weak_spots(store, library.questions)
    except StoreError as exc:
        Console(stderr=True).print(Text(str(exc), style="red"), soft_wrap=True)
        return 1
    if args.json:
        doc = {
            "weak_points": [
                {"question_id": w.question_id, "point": w.text, "must_have": w.must_have}
                for w in spots.weak_points
            ],
            "leeches": list(spots.leeches),
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False))
        return 0
    out = Console(highlight=False)
    if not spots.weak_points and not spots.leeches:
        out.print("No weak points: none of your rubric points was missed twice in a row.")
        return 0
    if spots.weak_points:
        out.print(Text("Weak points (missed in each of your last two answers)", style="bold"))
        for w in spots.weak_points:
            line = Text("  ")
            line.append(w.question_id, style="cyan")
            line.append("  must-have  " if w.must_have else "  ")
            line.append(w.text)
            out.print(line, soft_wrap=True)
    for qid in spots.leeches:
        line = Text("Leech ", style="bold yellow")
        line.append(qid, style="cyan")
        line.append(f": {LEECH_ADVICE}.")
        out.print(line, soft_wrap=True)
    out.print(Text("Run `quizapp drill` to practise them.", style="dim"))
    return 0

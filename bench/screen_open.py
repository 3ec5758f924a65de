"""How long Browse and Progress take to open on a big history, in the real app.

Builds a home with 500 questions and 100,000 attempts (the history of bench/store_scale.py)
and a baseline home with the same questions and 1,000 attempts, then opens each screen in
the real app (Textual's headless pilot, 120x40) and times the key press until the screen
shows its data. Prints medians and the ratio big / baseline. Target: each screen opens in
at most 100 ms at 100,000 attempts.

    python bench/screen_open.py [--attempts 100000] [--baseline 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_scale import NOW, TOPICS, TZ, history

from questions.loader import Library, load_library
from quizapp.store import Store
from quizapp.tui.app import QuizApp

QUESTIONS = 500
TARGET_MS = 100.0


def deck_text(n_questions: int) -> str:
    parts = ['[deck]\nname = "Bench deck"\n']
    for i in range(n_questions):
        parts.append(
            f"""
[[question]]
id = "q{i:03d}"
topic = "{TOPICS[i % len(TOPICS)]}"
difficulty = {1 + i % 3}
prompt = "Bench question {i}: why does the batch size matter here?"
model_answer = "Because the gradient noise falls as the batch grows, in case {i}."
follow_ups = ["And then?", "And at batch 1?"]
references = ["Bench"]

[[question.rubric]]
text = "Names the gradient noise"
must_have = true

[[question.rubric]]
text = "Names the number of updates"

[[question.rubric]]
text = "Names memory"
"""
        )
    return "".join(parts)


def make_home(root: Path, attempts: int) -> Path:
    home = root / f"home-{attempts}"
    with Store.open(home) as store:
        store.import_data(history(attempts, QUESTIONS, days=730))
    return home


async def open_times(home: Path, library: Library, repeat: int) -> dict[str, list[float]]:
    from quizapp.tui.screens.browse import BrowseScreen
    from quizapp.tui.screens.progress import ProgressScreen

    app = QuizApp(home, library=library, now=lambda: NOW, tz=TZ, welcome=False)
    times: dict[str, list[float]] = {"Browse": [], "Progress": []}
    async with app.run_test(size=(120, 40)) as pilot:
        await app.ready()
        await pilot.pause()
        for _ in range(repeat):
            for name, key, screen_type in (
                ("Browse", "b", BrowseScreen),
                ("Progress", "p", ProgressScreen),
            ):
                started = time.perf_counter()
                await pilot.press(key)
                while not isinstance(app.screen, screen_type):
                    await asyncio.sleep(0.001)
                await pilot.pause()
                times[name].append((time.perf_counter() - started) * 1000)
                await pilot.press("escape")
                await pilot.pause()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        deck = root / "bench.toml"
        deck.write_text(deck_text(QUESTIONS), encoding="utf-8")
        library = load_library(extra_paths=[deck], include_builtin=False)
        assert len(library.questions) == QUESTIONS, library.errors[:3]
        print(f"building homes: {args.baseline:,} and {args.attempts:,} attempts ...")
        small = make_home(root, args.baseline)
        big = make_home(root, args.attempts)
        base = asyncio.run(open_times(small, library, args.repeat))
        large = asyncio.run(open_times(big, library, args.repeat))
    ok = True
    for name in ("Browse", "Progress"):
        b, g = statistics.median(base[name]), statistics.median(large[name])
        verdict = "OK" if g <= TARGET_MS else "TOO SLOW"
        ok &= g <= TARGET_MS
        print(
            f"{name:9} {args.baseline:>7,} attempts {b:7.1f} ms   {args.attempts:,} attempts "
            f"{g:7.1f} ms   ratio {g / b:5.2f}   target <= {TARGET_MS:.0f} ms: {verdict}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

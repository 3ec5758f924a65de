"""How the progress queries scale: 100,000 attempts over two years on 500 questions.

Builds two databases through the store's own import path (the data is a realistic history:
every attempt is a real FSRS review of its question, days off included), then times every
progress query and the due-queue query on each and prints the ratio of the big database to a
1,000-attempt one measured in the same run. Target: every query at most 200 ms at 100,000
attempts, and growing far slower than the data (100x).

    python bench/store_scale.py [--attempts 100000] [--baseline 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from quizapp.domain import scheduling
from quizapp.domain.grading import Rating
from quizapp.store import EXPORT_FORMAT, SCHEMA_VERSION, Store

if TYPE_CHECKING:
    from collections.abc import Callable

TOPICS = ("batch-size", "epochs", "learning-rate", "tuning", "diagnostics")
NOW = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
TARGET_MS = 200.0


def history(n_attempts: int, n_questions: int, days: int, seed: int = 0) -> dict[str, Any]:
    """An export document holding ``n_attempts`` graded reviews spread over ``days`` days."""
    rng = random.Random(seed)
    questions = [
        (f"q{i:03d}", TOPICS[i % len(TOPICS)], f"h{i:03d}v1", rng.randint(3, 6))
        for i in range(n_questions)
    ]
    start = NOW - timedelta(days=days)
    active = [d for d in range(days) if rng.random() < 0.85]  # some days off
    per_day = -(-n_attempts // len(active))
    cards: dict[str, Any] = {}
    attempts, reviews = [], []
    count = 0
    for day in active:
        for k in range(per_day):
            if count >= n_attempts:
                break
            qid, _, content_hash, size = questions[rng.randrange(n_questions)]
            when = start + timedelta(days=day, hours=7 + 14 * k / per_day, seconds=rng.random())
            met = sorted(rng.sample(range(size), rng.randint(0, size)))
            rating = Rating(1 + min(3, len(met) * 4 // (size + 1)))
            outcome = scheduling.review(cards.get(qid), qid, rating, when, duration_ms=40_000)
            cards[qid] = outcome.after
            uid = f"a{count:07d}"
            attempts.append(
                {
                    "uid": uid,
                    "question_id": qid,
                    "content_hash": content_hash,
                    "started_at": (when - timedelta(seconds=40)).isoformat(),
                    "submitted_at": when.isoformat(),
                    "answer": "an answer of a typical length " * 4,
                    "rubric_size": size,
                    "met": met,
                    "score": len(met) / size,
                    "suggested": int(rating),
                    "rating": int(rating),
                    "seconds": 40.0,
                    "mode": "review",
                }
            )
            reviews.append(
                {
                    "attempt_uid": uid,
                    "question_id": qid,
                    "card_id": outcome.log.card_id,
                    "rating": int(rating),
                    "reviewed_at": when.isoformat(),
                    "duration_ms": 40_000,
                    "card_before": outcome.before.to_dict() if outcome.before else None,
                }
            )
            count += 1
    rubric = [
        {
            "question_id": qid,
            "content_hash": content_hash,
            "point": p,
            "text": f"rubric point {p} of {qid}",
            "must_have": p == 0,
        }
        for qid, _, content_hash, size in questions
        for p in range(size)
    ]
    runs = [
        {
            "uid": f"r{i:05d}",
            "experiment": "batch-size-sweep",
            "params": {"batch_sizes": [16, 256], "epochs": 5},
            "device": "cpu",
            "status": "ok",
            "seed": i,
            "question_id": questions[i % n_questions][0],
            "started_at": (start + timedelta(hours=7 * i)).isoformat(),
            "finished_at": (start + timedelta(hours=7 * i, seconds=30)).isoformat(),
            "summary": {"final_loss": 0.1},
            "result": None,
        }
        for i in range(max(1, n_attempts // 500))
    ]
    return {
        "format": EXPORT_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "exported_at": NOW.isoformat(),
        "attempts": attempts,
        "rubric_points": rubric,
        "cards": [{"question_id": q, "card": c.to_dict()} for q, c in cards.items()],
        "review_log": reviews,
        "sim_runs": runs,
        "settings": {},
        "_topics": {qid: topic for qid, topic, _, _ in questions},
    }


def queries(store: Store, topics: dict[str, str]) -> dict[str, Callable[[], object]]:
    ids = list(topics)
    today = NOW.astimezone(TZ).date()
    return {
        "due queue": lambda: store.due_queue(ids, NOW, TZ),
        "due now/today/week": lambda: store.due_counts(NOW, TZ, ids),
        "new remaining today": lambda: store.new_remaining_today(ids, NOW, TZ),
        "streak": lambda: store.streak(NOW, TZ),
        "heatmap (1 year)": lambda: store.reviews_per_day(today - timedelta(days=364), today, TZ),
        "score trend (12 weeks)": lambda: store.score_trend(NOW, TZ, weeks=12),
        "mastery per topic": lambda: store.mastery(topics, NOW),
        "most missed (overall)": lambda: store.missed_points(limit=10),
        "most missed (1 question)": lambda: store.missed_points(question_id=ids[0]),
        "question history": lambda: store.question_history(ids[0]),
        "simulation history": lambda: store.sim_runs(limit=50),
        "browse table (all questions)": lambda: store.question_stats(ids),
        "home summary (all above)": lambda: store.summary(topics, NOW, TZ),
    }


def browse_one_query_per_question(store: Store, ids: list[str]) -> object:
    """What the Browse screen did before question_stats(): a history and a card per question."""
    out = {}
    for qid in ids:
        history = store.question_history(qid)
        card = store.card(qid) if history else None
        out[qid] = (len(history), history[0].score if history else None, card)
    return out


def build(home: Path, n_attempts: int, n_questions: int) -> tuple[Store, dict[str, str], float]:
    doc = history(n_attempts, n_questions, days=730)
    topics = doc.pop("_topics")
    store = Store.open(home)
    t0 = time.perf_counter()
    store.import_data(doc)
    return store, topics, time.perf_counter() - t0


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm the page cache, as a running app would have it
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        small, topics_s, _ = build(Path(tmp, "small"), args.baseline, args.questions)
        big, topics_b, fill_s = build(Path(tmp, "big"), args.attempts, args.questions)
        print(
            f"{big.totals().attempts:,} attempts on {args.questions} questions over 2 years "
            f"(imported in {fill_s:.1f} s); baseline {small.totals().attempts:,} attempts; "
            f"database {big.path.stat().st_size / 1e6:.1f} MB; median of {args.repeat} runs"
        )
        print(f"{'query':<28}{'baseline ms':>12}{'big ms':>9}{'ratio':>8}  target")
        failed = []
        q_small, q_big = queries(small, topics_s), queries(big, topics_b)
        for name in q_big:
            t_small = timed(q_small[name], args.repeat)
            t_big = timed(q_big[name], args.repeat)
            ok = t_big <= TARGET_MS
            if not ok:
                failed.append(name)
            ratio = t_big / t_small if t_small > 0 else float("inf")
            print(
                f"{name:<28}{t_small:>12.2f}{t_big:>9.2f}{ratio:>7.1f}x  "
                f"{'ok' if ok else 'OVER ' + str(int(TARGET_MS)) + ' ms'}"
            )
        ids = list(topics_b)
        grouped = timed(lambda: big.question_stats(ids), args.repeat)
        per_question = timed(lambda: browse_one_query_per_question(big, ids), args.repeat)
        print(
            f"browse, {len(ids)} questions: one grouped query {grouped:.1f} ms, one query per "
            f"question {per_question:.1f} ms ({per_question / grouped:.0f}x slower)"
        )
        data_ratio = big.totals().attempts / max(1, small.totals().attempts)
        print(f"data grew {data_ratio:.0f}x")
        small.close()
        big.close()
    if failed:
        print(f"over target: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

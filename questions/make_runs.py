"""Regenerate the stored runs that diagnose-the-run questions show (``questions/decks/runs``).

Every file comes from really training with the ``sims`` engine, seeded, so the curves are
those of a real run and can be reproduced::

    python -m questions.make_runs            # all runs (a few minutes on 2 cores)
    python -m questions.make_runs lr-too-high-batch-8 overfit-noisy-labels   # some of them
    python -m questions.make_runs --list
    python -m questions.make_runs --fixes    # run every question's fix and print its numbers

Each run file holds the experiment, its parameters and seed, and for each kept training run
its status and its evaluation points (``seconds`` is left out: it depends on the machine).
JSON is strict: a value that was NaN or infinite in a diverged run is stored as ``null``,
and only a run whose status says ``diverged`` may hold one.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from questions.model import RUN_FORMAT, RUN_SERIES

if TYPE_CHECKING:
    from sims.results import RunRecord

RUNS_DIR = Path(__file__).resolve().parent / "decks" / "runs"


@dataclass(frozen=True)
class Planted:
    """One experiment run with a planted problem; ``keep`` names the runs stored, in order."""

    experiment: str
    params: dict[str, Any]
    keep: tuple[str, ...]
    seed: int = 0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


PLANTED: dict[str, Planted] = {
    "lr-too-high-batch-8": Planted(
        "batch-size-sweep",
        {"batch_sizes": [8], "lr": 0.03, "epochs": 10},
        keep=("batch 8",),
        note="SGD (momentum 0.9) at lr 0.03, tuned for larger batches, on batch 8",
    ),
    "lr-diverged": Planted(
        "batch-size-sweep",
        {"batch_sizes": [32], "lr": 0.5, "epochs": 2, "eval_every": 10},
        keep=("batch 32",),
        note="SGD (momentum 0.9) at lr 0.5: the loss explodes within 100 updates",
    ),
    "overfit-noisy-labels": Planted(
        "epochs",
        {"label_noise": 0.3, "epochs": 30, "patience": 0, "batch_size": 32},
        keep=("30% label noise",),
        note="30 epochs on digits with 30% of the training labels flipped",
    ),
    "batch-4-noise-floor": Planted(
        "batch-size-sweep",
        {"batch_sizes": [4], "epochs": 5, "n_examples": 2048},
        keep=("batch 4",),
        note="batch 4 at lr 0.03 on 1,638 training examples",
    ),
    "underfit-tiny-lr": Planted(
        "epochs",
        {
            "lr": 0.0001,
            "optimizer": "sgd",
            "epochs": 5,
            "batch_size": 64,
            "label_noise": 0.0,
            "patience": 0,
        },
        keep=("0% label noise",),
        note="SGD at lr 1e-4 on clean digits",
    ),
    "unscaled-lr-batch-128": Planted(
        "lr-scaling",
        {
            "batch_sizes": [16, 128],
            "base_batch": 16,
            "optimizers": ["sgd"],
            "rules": ["none"],
            "epochs": 5,
        },
        keep=("SGD batch 16 (base)", "SGD none batch 128"),
        note="batch 16 at lr 0.01, then batch 128 at the same lr",
    ),
}


def run_file(run_id: str) -> Path:
    return RUNS_DIR / f"{run_id}.json"


def stored_run(run_id: str, planted: Planted) -> dict[str, Any]:
    """Train ``planted`` with the sims engine and return the run file's content."""
    import torch

    from sims.lab import run_experiment

    result = run_experiment(planted.experiment, planted.params, seed=planted.seed, device="cpu")
    by_label = {record.label: record for record in result.runs}
    missing = [label for label in planted.keep if label not in by_label]
    if missing:
        raise SystemExit(f"{run_id}: the experiment made no run called {missing[0]!r}")
    return {
        "format": RUN_FORMAT,
        "id": run_id,
        "note": planted.note,
        "experiment": planted.experiment,
        "params": planted.params,
        "resolved_params": result.params,
        "seed": planted.seed,
        "device": result.device,
        "torch": torch.__version__,
        "made_by": "python -m questions.make_runs",
        "runs": [_run(by_label[label]) for label in planted.keep],
    }


def _run(record: RunRecord) -> dict[str, Any]:
    series: dict[str, list[float | None]] = {}
    for name in RUN_SERIES:
        values = [getattr(point, name) for point in record.history]
        if all(v is None for v in values):
            continue  # e.g. training accuracy in a run that did not track it
        series[name] = [_finite(v) for v in values]
    return {
        "label": record.label,
        "status": record.status,
        "reason": record.summary.reason,
        "batch_size": record.batch_size,
        "lr": record.lr,
        "optimizer": record.config.get("train", {}).get("optimizer"),
        "updates_per_epoch": record.updates_per_epoch,
        "train_examples": record.train_examples,
        "val_examples": record.val_examples,
        "series": series,
    }


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def check_fixes() -> int:
    """Run each diagnose question's fix and print what a learner will see, to compare with
    the stored run that shows the problem."""
    from questions.loader import parse_deck
    from sims.lab import run_experiment

    deck, errors, _ = parse_deck(RUNS_DIR.parent / "diagnose.toml")
    for error in errors:
        print(error, file=sys.stderr)
    if deck is None or errors:
        return 1
    for question in deck.questions:
        fix = question.simulation
        if fix is None or question.diagnosis is None:
            continue
        print(f"{question.id}: {fix.experiment} {fix.params_dict}")
        result = run_experiment(fix.experiment, fix.params_dict, seed=0, device="cpu")
        for record in result.runs:
            s = record.summary
            print(
                f"  {record.label}: {record.status}, final train loss {_num(s.final_train_loss)}"
                f", val loss {_num(s.final_val_loss)}, val acc {_num(s.final_val_acc)}; best "
                f"val loss {_num(s.best_val_loss)} in epoch {s.best_epoch}, stopped "
                f"{s.stopped_epoch}, restored {s.restored_epoch}"
            )
        for line in result.observations:
            print(f"  - {line}")
    return 0


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m questions.make_runs", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="runs to make (default: all)")
    parser.add_argument("--list", action="store_true", help="list the runs and exit")
    parser.add_argument(
        "--fixes",
        action="store_true",
        help="run the fix of every diagnose question (decks/diagnose.toml) and print its numbers",
    )
    args = parser.parse_args(argv)
    if args.fixes:
        return check_fixes()
    if args.list:
        for run_id, planted in PLANTED.items():
            print(f"{run_id}: {planted.experiment} {planted.params} ({planted.note})")
        return 0
    unknown = [i for i in args.ids if i not in PLANTED]
    if unknown:
        print(f"unknown run {unknown[0]!r}; expected one of: {', '.join(PLANTED)}", file=sys.stderr)
        return 2
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    for run_id in args.ids or list(PLANTED):
        data = stored_run(run_id, PLANTED[run_id])
        text = json.dumps(data, indent=1, allow_nan=False) + "\n"
        run_file(run_id).write_text(text, encoding="utf-8")
        print(f"{run_file(run_id)}: {len(text):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

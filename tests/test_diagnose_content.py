"""The shipped diagnose-the-run questions: every right answer is what its stored run's numbers
show, and every number the explanation quotes is the run's own."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import TYPE_CHECKING

import pytest

from questions.loader import builtin_deck_files, load_library
from questions.make_runs import PLANTED, run_file
from questions.model import Question, QuestionKind, StoredSeries
from quizapp.services.library import check_preset

if TYPE_CHECKING:
    from collections.abc import Callable


def shipped_diagnose_questions() -> list[Question]:
    library = load_library(check_preset=check_preset)
    assert not library.errors, library.errors
    return [q for q in library.questions.values() if q.kind is QuestionKind.DIAGNOSE]


def series(run: StoredSeries, name: str) -> list[float]:
    values = run.values(name)
    assert values, f"{run.label} has no {name}"
    return [v for v in values if v is not None]


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def quoted(question: Question, *numbers: str) -> None:
    for number in numbers:
        assert number in question.model_answer, f"{question.id} should quote {number}"


def lr_too_high(question: Question) -> None:
    """Training loss stalls high while the validation loss jumps up and down and ends well
    above its best: overshooting, not overfitting (the training loss is not falling away)."""
    (run,) = question.diagnosis.run.runs
    train, val = series(run, "train_loss"), series(run, "val_loss")
    best = min(val[1:])
    assert val[-1] > 1.4 * best  # ends far above its best
    jumps = [b - a for a, b in pairwise(val[1:])]
    assert sum(j > 0.1 for j in jumps) >= 2 and sum(j < -0.1 for j in jumps) >= 2  # bounces
    assert train[4] - train[-1] < 0.1  # flat after epoch 4: not memorizing
    assert train[-1] > 0.9 * best
    quoted(question, f"{train[0]:.2f}", f"{train[1]:.2f}", f"{train[-1]:.2f}", f"{best:.2f}")
    quoted(question, f"{val[-1]:.2f}", f"{val[1]:.2f}", f"{val[2]:.2f}")


def diverged(question: Question) -> None:
    """The loss falls, then grows ever faster until it is not finite or 10x its start: the
    engine stopped the run as diverged."""
    (run,) = question.diagnosis.run.runs
    assert run.status == "diverged"
    train, val = run.values("train_loss"), run.values("val_loss")
    last = train[-1]
    assert last is None or last > 10 * train[0]
    turn = min(range(len(train)), key=lambda i: float(train[i] or 1e9))
    rising = [v for v in train[turn:] if v is not None]
    steps = [b - a for a, b in pairwise(rising)]
    assert all(s > 0 for s in steps) and steps[-1] > steps[0]  # growing ever faster
    updates = [int(u) for u in series(run, "update")]
    quoted(question, f"{train[0]:.2f}", f"{train[turn]:.2f} by update {updates[turn]}")
    quoted(question, f"{min(v for v in val if v is not None):.2f}", f"{val[-1]:.2f}")
    for i in (3, 6, 9, 10):
        quoted(question, f"{train[i]:.2f} at update {updates[i]}")


def unscaled(question: Question) -> None:
    """The unscaled large batch lags the base run at every epoch while still falling
    steadily, with its training loss above its validation loss (behind, not overfitting)."""
    base, big = question.diagnosis.run.runs
    assert big.batch_size == 8 * base.batch_size and big.lr == base.lr
    base_val, big_val = series(base, "val_loss"), series(big, "val_loss")
    assert all(b > a for a, b in zip(base_val[1:], big_val[1:], strict=False))
    assert all(b < a for a, b in pairwise(big_val))
    assert series(big, "train_loss")[-1] > big_val[-1]
    quoted(question, f"{base_val[1]:.3f}", f"{base_val[-1]:.3f}", f"{big_val[1]:.3f}")
    quoted(question, f"{big_val[-1]:.3f}", f"{series(big, 'train_loss')[-1]:.3f}")
    updates = series(big, "update")[1], series(base, "update")[1]
    quoted(question, f"({int(updates[0])} instead of {int(updates[1])})")


def overfit(question: Question) -> None:
    """Validation accuracy peaks early and falls while training accuracy (against the noisy
    labels) climbs past what the clean part of the labels allows; validation loss is lowest
    well before the last epoch while training loss keeps falling."""
    (run,) = question.diagnosis.run.runs
    val_acc, train_acc = series(run, "val_acc"), series(run, "train_acc")
    val_loss, train_loss = series(run, "val_loss"), series(run, "train_loss")
    peak = max(range(1, len(val_acc)), key=lambda i: val_acc[i])
    low = min(range(1, len(val_loss)), key=lambda i: val_loss[i])
    assert peak <= len(val_acc) // 3 and low <= len(val_loss) // 3
    assert val_acc[peak] - val_acc[-1] > 0.1
    assert train_acc[-1] > 0.7 + 0.2  # 30% of the labels are wrong
    assert all(b < a for a, b in pairwise(train_loss[low:]))
    quoted(question, pct(val_acc[1]), pct(val_acc[peak]), f"epoch {peak}", pct(val_acc[-1]))
    quoted(question, pct(train_acc[1]), pct(train_acc[-1]), f"{val_loss[low]:.2f}")
    quoted(question, f"{val_loss[-1]:.2f}", f"{train_loss[1]:.2f}", f"{train_loss[-1]:.2f}")


def noise_floor(question: Question) -> None:
    """A high, nearly flat training loss with a jumping validation loss: not overfitting,
    which would need a low training loss and a validation loss pulling away."""
    (run,) = question.diagnosis.run.runs
    train, val = series(run, "train_loss"), series(run, "val_loss")
    acc = series(run, "val_acc")
    assert min(train[1:]) > 1.0  # stuck high
    assert max(val[1:]) - min(val[1:]) > 0.4  # jumps
    assert all(abs(v - t) < 0.6 for t, v in zip(train[1:], val[1:], strict=False))
    quoted(question, *(f"{x:.2f}" for x in train), *(f"{x:.2f}" for x in val[1:]))
    quoted(question, pct(min(acc[1:])), pct(acc[-1]))


def underfit(question: Question) -> None:
    """Both losses stay near chance (ln 10) and fall slowly together, with no gap."""
    (run,) = question.diagnosis.run.runs
    train, val = series(run, "train_loss"), series(run, "val_loss")
    acc = series(run, "val_acc")
    assert val[-1] > 2.0 and abs(train[-1] - val[-1]) < 0.02
    assert all(b < a for a, b in pairwise(val))  # steady, no jumps
    quoted(question, f"{train[0]:.2f}", f"{val[0]:.2f}", f"{val[-1]:.2f}")
    quoted(question, f"{train[-1]:.3f}", f"{val[-1]:.3f}", pct(acc[-1]), pct(acc[0]))


CHECKS: dict[str, Callable[[Question], None]] = {
    "diag-run-lr-too-high-batch-8": lr_too_high,
    "diag-run-overfit-noisy-labels": overfit,
    "diag-run-batch-4-noise-floor": noise_floor,
    "diag-run-underfit-tiny-lr": underfit,
    "diag-run-lr-diverged": diverged,
    "diag-run-unscaled-lr-batch-128": unscaled,
}


def test_there_are_at_least_six_diagnose_questions_each_with_a_check() -> None:
    ids = {q.id for q in shipped_diagnose_questions()}
    assert len(ids) >= 6
    assert ids == set(CHECKS)


@pytest.mark.parametrize("qid", sorted(CHECKS))
def test_the_right_answer_is_what_the_run_shows(qid: str) -> None:
    question = next(q for q in shipped_diagnose_questions() if q.id == qid)
    CHECKS[qid](question)


def test_every_stored_run_is_made_by_the_script_and_used() -> None:
    used = {q.diagnosis.run.id for q in shipped_diagnose_questions()}
    assert used == set(PLANTED)
    for run_id, planted in PLANTED.items():
        data = json.loads(run_file(run_id).read_text(encoding="utf-8"))
        assert data["experiment"] == planted.experiment
        assert data["params"] == planted.params
        assert data["seed"] == planted.seed
        assert [r["label"] for r in data["runs"]] == list(planted.keep)
        assert len(run_file(run_id).read_bytes()) < 16 * 1024  # a few KB each


def test_run_files_ship_as_package_data() -> None:
    deck = next(p for p in builtin_deck_files() if p.name == "diagnose.toml")
    assert (deck.parent / "runs").is_dir()


@pytest.mark.slow
@pytest.mark.parametrize("qid", ["diag-run-underfit-tiny-lr", "diag-run-lr-diverged"])
def test_the_fix_really_fixes_the_run(qid: str) -> None:
    """The two quickest fixes, trained for real: each ends far below the stored run's last
    finite validation loss, without diverging. (``python -m questions.make_runs --fixes``
    runs all six.)"""
    from sims.lab import run_experiment

    question = next(q for q in shipped_diagnose_questions() if q.id == qid)
    fix = question.simulation
    assert fix is not None
    result = run_experiment(fix.experiment, fix.params_dict, seed=0, device="cpu")
    (fixed,) = result.runs
    (stored,) = question.diagnosis.run.runs
    broken = [v for v in stored.values("val_loss") if v is not None][-1]
    assert fixed.status == "ok"
    assert fixed.summary.final_val_loss is not None
    assert fixed.summary.final_val_loss < broken / 4
    assert f"{fixed.summary.final_val_loss:.2f}"[:3] in question.model_answer

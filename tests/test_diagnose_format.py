"""Diagnose-the-run questions: the deck format, the stored run file and the messages a deck
author gets for each mistake, automatic grading, and the chart's data."""

from __future__ import annotations

import json
import math
import os
from typing import TYPE_CHECKING, Any

import pytest

from questions.loader import MAX_RUN_BYTES, load_library
from questions.model import QuestionKind
from quizapp.domain.grading import Rating, grade_choice
from quizapp.services.library import check_preset
from quizapp.views.run_chart import run_chart

if TYPE_CHECKING:
    from pathlib import Path

QUESTION = '''
[[question]]
id = "{id}"
topic = "diagnostics"
difficulty = 2
kind = "diagnose"
prompt = "Batch 8 at lr 0.03: what went wrong?"
model_answer = """The loss rose after epoch 1: the rate is too high for the batch."""
follow_ups = ["What would you try first?", "Why does batch 8 care?"]
references = ["Goyal et al., 2017"]

[question.diagnose]
run = "{run}"
metrics = {metrics}
choices = ["Overfitting", "The learning rate is too high for the batch", "Too few epochs"]
answer = {answer}

[question.diagnose.fix]
experiment = "batch-size-sweep"
params = {{ batch_sizes = [8], lr = 0.005 }}
look_for = "Both losses fall and stay down."
'''


def run_data(**changes: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "label": "batch 8",
        "status": "ok",
        "reason": None,
        "batch_size": 8,
        "lr": 0.03,
        "series": {
            "epoch": [0.0, 1.0, 2.0, 3.0],
            "update": [0, 1000, 2000, 3000],
            "train_loss": [2.3, 0.9, 1.4, 1.6],
            "val_loss": [2.3, 0.8, 1.3, 1.7],
            "val_acc": [0.1, 0.7, 0.6, 0.5],
        },
    }
    run.update(changes)
    return {
        "format": 1,
        "experiment": "batch-size-sweep",
        "params": {"batch_sizes": [8], "lr": 0.03},
        "seed": 0,
        "runs": [run],
    }


def write(
    folder: Path,
    *,
    run: dict[str, Any] | str | None = None,
    run_id: str = "planted",
    answer: int = 2,
    metrics: str = '["train_loss", "val_loss"]',
    qid: str = "d-1",
) -> Path:
    (folder / "runs").mkdir(parents=True, exist_ok=True)
    if run is not None:
        text = run if isinstance(run, str) else json.dumps(run)
        (folder / "runs" / f"{run_id}.json").write_text(text, encoding="utf-8")
    deck = folder / "deck.toml"
    body = QUESTION.format(id=qid, run=run_id, answer=answer, metrics=metrics)
    deck.write_text(f'[deck]\nname = "Diagnose"\n{body}', encoding="utf-8")
    return deck


def load(deck: Path) -> tuple[Any, list[str]]:
    library = load_library([deck], include_builtin=False, check_preset=check_preset)
    return library, [str(e) for e in library.errors]


def test_a_diagnose_question_loads_with_its_run_choices_and_fix(tmp_path: Path) -> None:
    library, errors = load(write(tmp_path, run=run_data()))
    assert errors == []
    question = library.questions["d-1"]
    assert question.kind is QuestionKind.DIAGNOSE
    diagnosis = question.diagnosis
    assert diagnosis is not None
    assert diagnosis.answer == 1  # 1-based in the deck, 0-based in the model
    assert diagnosis.right_choice == "The learning rate is too high for the batch"
    assert diagnosis.metrics == ("train_loss", "val_loss")
    assert diagnosis.x_axis == "epoch"
    assert diagnosis.run.runs[0].values("val_loss") == (2.3, 0.8, 1.3, 1.7)
    # The demo key runs the fix.
    assert question.simulation is not None
    assert question.simulation.params_dict == {"batch_sizes": [8], "lr": 0.005}
    assert question.rubric == ()


def test_the_right_choice_is_part_of_the_content_hash(tmp_path: Path) -> None:
    first, _ = load(write(tmp_path / "a", run=run_data(), answer=2))
    second, _ = load(write(tmp_path / "b", run=run_data(), answer=3))
    assert first.questions["d-1"].content_hash != second.questions["d-1"].content_hash


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (4, "d-1.diagnose.answer: 4 names no choice; expected the number of the right choice, 1-3"),
        (0, "d-1.diagnose.answer: 0 names no choice; expected the number of the right choice, 1-3"),
    ],
)
def test_a_bad_choice_index_is_located(tmp_path: Path, answer: int, expected: str) -> None:
    deck = write(tmp_path, run=run_data(), answer=answer)
    library, errors = load(deck)
    assert errors == [f"{deck}:18: {expected}"]
    assert library.questions == {}


def test_a_missing_run_file_is_located(tmp_path: Path) -> None:
    deck = write(tmp_path, run=None, run_id="nowhere")
    _, errors = load(deck)
    assert errors == [
        f"{deck}:15: d-1.diagnose.run: runs/nowhere.json: no such file; run files live in a "
        "runs/ folder beside the deck"
    ]


def test_a_run_id_cannot_climb_out_of_the_runs_folder(tmp_path: Path) -> None:
    deck = write(tmp_path, run=None, run_id="../../etc/passwd")
    _, errors = load(deck)
    assert len(errors) == 1 and "is not a run id" in errors[0]


def test_a_run_that_is_not_a_regular_file_or_too_large_is_refused(tmp_path: Path) -> None:
    deck = write(tmp_path, run=None)
    os.mkfifo(tmp_path / "runs" / "planted.json")  # a FIFO would block a plain open()
    _, errors = load(deck)
    assert errors == [
        f"{deck}:15: d-1.diagnose.run: runs/planted.json: not a regular file (a FIFO); "
        "expected a .json file"
    ]
    (tmp_path / "runs" / "planted.json").unlink()
    (tmp_path / "runs" / "planted.json").write_text(" " * (MAX_RUN_BYTES + 1))
    _, errors = load(deck)
    assert len(errors) == 1 and "too large" in errors[0] and "a stored run may be" in errors[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            json.dumps(run_data()).replace("1.3,", "NaN,"),
            "NaN is not strict JSON; a non-finite value is stored as null",
        ),
        (
            json.dumps(run_data()).replace("1.3,", "Infinity,"),
            "Infinity is not strict JSON; a non-finite value is stored as null",
        ),
        (
            json.dumps(run_data()).replace("1.3,", "1e999,"),
            "1e999 is not a finite number; a non-finite value is stored as null",
        ),
        (
            json.dumps(run_data()).replace("1.3,", "null,"),
            "runs[1].series.val_loss[2]: null, but the run's status is 'ok'; null stands for "
            "a non-finite value, which only a diverged run holds",
        ),
        (
            "{",
            "invalid JSON at line 1, column 2: Expecting property name enclosed in double quotes",
        ),
        (
            json.dumps(run_data()).replace('"seed": 0', '"seed": 0, "seed": 1'),
            "the key 'seed' appears twice in one object",
        ),
    ],
)
def test_non_finite_values_and_bad_json_are_refused(
    tmp_path: Path, text: str, expected: str
) -> None:
    deck = write(tmp_path, run=text)
    _, errors = load(deck)
    assert errors == [f"{deck}:15: d-1.diagnose.run: runs/planted.json: {expected}"]


def test_a_diverged_run_stores_non_finite_values_as_null(tmp_path: Path) -> None:
    data = run_data(status="diverged", reason="the loss became nan at update 3000")
    data["runs"][0]["series"]["train_loss"][-1] = None
    data["runs"][0]["series"]["val_loss"][-1] = None
    library, errors = load(write(tmp_path, run=data))
    assert errors == []
    run = library.questions["d-1"].diagnosis.run.runs[0]
    assert run.status == "diverged"
    assert run.values("val_loss")[-1] is None


def test_metrics_must_be_series_the_run_holds(tmp_path: Path) -> None:
    deck = write(tmp_path, run=run_data(), metrics='["train_acc", "val_los"]')
    _, errors = load(deck)
    assert errors == [
        f"{deck}:16: d-1.diagnose.metrics: the stored run 'planted' has no 'train_acc' series",
        f"{deck}:16: d-1.diagnose.metrics: unknown metric 'val_los'; expected one of: "
        "train_loss, val_loss, val_acc, train_acc",
    ]


def test_losses_and_accuracies_do_not_share_a_chart(tmp_path: Path) -> None:
    deck = write(tmp_path, run=run_data(), metrics='["val_loss", "val_acc"]')
    _, errors = load(deck)
    assert errors == [
        f"{deck}:16: d-1.diagnose.metrics: mixes losses and accuracies; expected only losses or "
        "only accuracies (the chart has one y axis)"
    ]


def test_a_diagnose_question_takes_no_rubric_and_needs_a_fix(tmp_path: Path) -> None:
    deck = write(tmp_path, run=run_data())
    text = deck.read_text()
    text = text.replace("[question.diagnose.fix]", "[question.simulation]")
    text += '\n[[question.rubric]]\ntext = "x"\nmust_have = true\n'
    deck.write_text(text)
    _, errors = load(deck)
    assert any("d-1.rubric: diagnose questions are graded automatically" in e for e in errors)
    assert any("a diagnose question's demo is the fix" in e for e in errors)
    assert any("d-1.diagnose.fix: missing" in e for e in errors)


def test_the_fix_goes_through_the_preset_checker(tmp_path: Path) -> None:
    deck = write(tmp_path, run=run_data())
    deck.write_text(deck.read_text().replace("lr = 0.005", "lr = -1"))
    _, errors = load(deck)
    assert len(errors) == 1 and errors[0].startswith(f"{deck}:22: d-1.diagnose.fix.params: ")


def test_grade_choice_scores_the_right_choice_good_and_others_again() -> None:
    right = grade_choice(1, 1)
    assert (right.score, right.suggested) == (1.0, Rating.GOOD)
    wrong = grade_choice(0, 1)
    assert (wrong.score, wrong.suggested) == (0.0, Rating.AGAIN)
    with pytest.raises(ValueError, match="start at 0"):
        grade_choice(-1, 1)


def test_the_chart_never_holds_a_non_finite_value_and_clips_to_its_axis(tmp_path: Path) -> None:
    data = run_data()
    exploded = run_data(status="diverged", reason="the loss became nan at update 3000")["runs"]
    exploded[0]["label"] = "batch 4"
    exploded[0]["series"]["train_loss"] = [2.3, 1.9, 40.0, None]
    exploded[0]["series"]["val_loss"] = [2.3, 2.0, 55.0, None]
    data["runs"] += exploded
    library, errors = load(write(tmp_path, run=data))
    assert errors == []
    chart = run_chart(library.questions["d-1"].diagnosis)
    low, high = chart.y_range
    assert high == pytest.approx(2.3 * 2)  # twice the starting loss, not the explosion
    assert len(chart.lines) == 4
    for line in chart.lines:
        assert all(math.isfinite(y) and low <= y <= high for y in line.ys)
    assert [(line.clipped, line.missing) for line in chart.lines[2:]] == [(1, 1), (1, 1)]
    assert any("batch 4 was stopped as diverged" in note for note in chart.notes)


def test_a_run_that_only_diverged_is_drawn_to_its_highest_finite_value(tmp_path: Path) -> None:
    data = run_data(status="diverged", reason="the loss exploded")
    data["runs"][0]["series"]["val_loss"] = [2.3, 2.0, 55.0, None]
    library, _ = load(write(tmp_path, run=data, metrics='["val_loss"]'))
    chart = run_chart(library.questions["d-1"].diagnosis)
    assert chart.y_range == (0.0, pytest.approx(55.0 * 1.05))  # the explosion is the story
    assert chart.lines[0].ys == (2.3, 2.0, 55.0)


def test_cli_lists_and_validates_diagnose_questions(tmp_path: Path, capsys) -> None:
    from quizapp.cli import main

    home = ["--home", str(tmp_path / "home")]
    assert main(["deck", "list", *home]) == 0
    listing = capsys.readouterr().out
    assert "┃ Diagnose ┃" in listing  # the column counting diagnose questions
    deck = write(tmp_path / "decks", run=run_data(), answer=7)
    assert main(["deck", "validate", *home, str(deck)]) == 1
    out = capsys.readouterr().out
    assert "d-1.diagnose.answer: 7 names no choice" in out


def test_mock_interviews_leave_out_diagnose_questions() -> None:
    from datetime import UTC, datetime

    from quizapp.services.mock_interview import start_interview

    bank = list(load_library().questions.values())
    assert any(q.kind is QuestionKind.DIAGNOSE for q in bank)
    for seed in range(5):  # a spoken interview cannot show the chart the question needs
        interview = start_interview(bank, 60, datetime(2026, 5, 4, tzinfo=UTC), seed=seed)
        assert all(a.question.kind is not QuestionKind.DIAGNOSE for a in interview.asked)

"""`quizapp export --anki`: a real .apkg (a zip holding Anki's SQLite collection)."""

from __future__ import annotations

import sqlite3
import zipfile
from typing import TYPE_CHECKING

from tui_support import write_deck

from quizapp.cli import main

if TYPE_CHECKING:
    from pathlib import Path

HOSTILE = """
[deck]
name = "Hostile <b>deck</b>"

[[question]]
id = "h-1"
topic = "batch-size"
difficulty = 2
prompt = "Is <script>alert(1)</script> & co a prompt?"
model_answer = "Yes, it is shown as text."
follow_ups = ["First?", "Second?"]
references = ["A paper"]

[question.misconception]
belief = "Tags <i>work</i>."
correction = "They are escaped."

[[question.rubric]]
text = "Point <one>"
must_have = true

[[question.rubric]]
text = "Point two"

[[question.rubric]]
text = "Point three"
"""


def notes(apkg: Path) -> list[tuple[str, list[str], str]]:
    """(guid, fields, tags) of every note in the package."""
    with zipfile.ZipFile(apkg) as archive:
        data = archive.read("collection.anki2")
    db_file = apkg.with_suffix(".anki2")
    db_file.write_bytes(data)
    with sqlite3.connect(db_file) as db:
        rows = db.execute("SELECT guid, flds, tags FROM notes ORDER BY id").fetchall()
    return [(guid, flds.split("\x1f"), tags) for guid, flds, tags in rows]


def test_anki_export_holds_one_note_per_question_with_stable_ids(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    first, second = tmp_path / "a.apkg", tmp_path / "b.apkg"
    assert main(["export", "--home", home, "--anki", str(first), "--topics", "epochs"]) == 0
    assert main(["export", "--home", home, "--anki", str(second), "--topics", "epochs"]) == 0
    a, b = notes(first), notes(second)
    assert len(a) >= 10
    assert [n[0] for n in a] == [n[0] for n in b]  # re-exporting updates, not duplicates
    for _, fields, tags in a:
        assert "topic::epochs" in tags.split()
        assert fields[0] and fields[1]  # prompt, model answer
        assert "<li" in fields[2] or fields[1].startswith("Answer: ")  # rubric or the number
    numeric = [fields for _, fields, _ in a if fields[1].startswith("Answer: ")]
    assert numeric, "numeric questions show their number on the back"


def test_anki_fields_are_escaped_and_topics_checked(tmp_path: Path, capsys) -> None:
    deck = write_deck(tmp_path / "decks", HOSTILE)
    out = tmp_path / "h.apkg"
    args = ["export", "--home", str(tmp_path / "home"), "--deck", str(deck)]
    assert main([*args, "--anki", str(out), "--topics", "batch-size"]) == 0
    hostile = [fields for _, fields, _ in notes(out) if fields[-1] == "h-1"]
    assert len(hostile) == 1
    prompt, _, rubric, _, misconception, *_ = hostile[0]
    assert "<script>" not in prompt and "&lt;script&gt;" in prompt
    assert "&lt;one&gt;" in rubric and "(must-have)" in rubric
    assert "&lt;i&gt;" in misconception
    capsys.readouterr()
    assert main([*args, "--anki", str(tmp_path / "x.apkg"), "--topics", "nope"]) == 1
    assert "no questions on nope" in capsys.readouterr().err


def test_diagnose_questions_export_their_choices_and_the_right_one(tmp_path: Path) -> None:
    out = tmp_path / "d.apkg"
    args = ["export", "--home", str(tmp_path / "home"), "--anki", str(out)]
    assert main([*args, "--topics", "diagnostics"]) == 0
    by_id = {fields[-1]: fields for _, fields, _ in notes(out)}
    prompt, answer, *_ = by_id["diag-run-lr-diverged"]
    assert "<br>1. A bug in the labels" in prompt  # Anki cannot draw the run: the choices
    assert answer.startswith("Answer: 3. The learning rate is far too high")

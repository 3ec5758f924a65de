"""What the CLI prints: untrusted text shown literally, strict JSON, and a quiet exit when
the reader of its output goes away."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from quizapp.cli import main
from quizapp.store import Store

if TYPE_CHECKING:
    from pathlib import Path

ESC, BEL = "\x1b", "\x07"
MARKUP = "[link=https://x]L[/link]"
# Clear the screen, set the window title, write the clipboard (OSC 52).
CLEAR, TITLE, CLIPBOARD = r"\u001b[2J", r"\u001b]0;pwned\u0007", r"\u001b]52;c;ZXZpbA==\u0007"

EVIL_DECK = f"""[deck]
name = "Evil {CLEAR}{TITLE} {MARKUP}"

[[question]]
id = "evil-1"
topic = "batch-size{CLIPBOARD}"
difficulty = 1
prompt = "Why{CLEAR}? {MARKUP}"
model_answer = "Because{CLIPBOARD}."

[[question.rubric]]
text = "Says why{TITLE}"
"""

BAD_KEY_DECK = f"""[deck]
name = "Bad key"

[[question]]
id = "evil-2"
topic = "epochs"
difficulty = 1
prompt = "p"
model_answer = "m"
"colour{CLIPBOARD}{MARKUP}" = 1

[[question.rubric]]
text = "r"
"""


def assert_inert(output: str) -> None:
    assert ESC not in output and BEL not in output, repr(output)
    assert "\x9b" not in output and "\x9d" not in output, repr(output)


@pytest.fixture
def evil_decks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COLUMNS", "250")  # keep each name on one line
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "evil.toml").write_text(EVIL_DECK, encoding="utf-8")
    (folder / "bad-key.toml").write_text(BAD_KEY_DECK, encoding="utf-8")
    return folder


def test_deck_list_shows_deck_text_literally_without_escapes(
    evil_decks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(tmp_path), "deck", "list", "--deck", str(evil_decks)]) == 0
    out = capsys.readouterr().out
    assert_inert(out)
    assert "Evil" in out and MARKUP in out, "the name is printed, its markup not interpreted"
    assert "␛[2J" in out or "[2J" not in out, "an escape is shown as ␛ (or removed on load)"


def test_deck_validate_echoes_a_bad_key_without_escapes(
    evil_decks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(tmp_path), "deck", "validate", str(evil_decks)]) == 1
    out = capsys.readouterr().out
    assert_inert(out)
    assert "colour" in out and MARKUP in out, out


def test_stats_shows_imported_text_without_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    with Store.open(tmp_path) as store:
        store.record_sim_run(
            f"evil\x1b]52;c;ZXZpbA==\x07{MARKUP}", {}, "cpu\x1b[2J", "ok", question_id="q\x9b2J"
        )
    assert main(["--home", str(tmp_path), "stats"]) == 0
    out = capsys.readouterr().out
    assert_inert(out)
    assert MARKUP in out


def strict(text: str) -> Any:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_json_outputs_are_strict_after_a_diverged_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = ["--home", str(tmp_path)]
    diverging = ["--set", "batch_sizes=16,128", "--set", "epochs=1", "--set", "n_examples=400"]
    assert (
        main([*home, "sim", "run", "batch-size-sweep", *diverging, "--set", "lr=80", "--json", "-"])
        == 0
    )
    captured = capsys.readouterr()
    result = strict(captured.out)
    assert result["runs"][0]["status"] == "diverged"
    table = captured.err.split("Batch size sweep: updates, noise and speed (")[1]
    table = table.split("Observations")[0]
    rows = [line.split() for line in table.splitlines() if line.strip().startswith("batch")]
    assert [row[-2] for row in rows] == ["diverged", "diverged"], table  # the val loss column
    assert "all diverged" in table
    assert "nan" not in table.lower() and "inf" not in table, table
    assert result["runs"][0]["summary"]["final_val_loss"] is None
    # A run an older version of the app saved with a bare NaN in its summary.
    with Store.open(tmp_path) as store:
        old = store.record_sim_run("epochs", {}, "cpu", "diverged", summary={"loss": 1.0})
    with sqlite3.connect(tmp_path / "progress.db") as db:
        db.execute("UPDATE sim_runs SET summary = ? WHERE id = ?", ('{"loss": NaN}', old))

    assert main([*home, "stats", "--json"]) == 0
    stats = strict(capsys.readouterr().out)
    assert [r["status"] for r in stats["simulation_runs"]] == ["diverged", "diverged"]
    assert main([*home, "export", "-"]) == 0
    exported = strict(capsys.readouterr().out)
    assert {"loss": None} in [r["summary"] for r in exported["sim_runs"]]


def run_into_closed_pipe(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run quizapp with its stdout on a pipe whose reader has gone, as `| head -1` leaves it."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "quizapp", "--home", str(tmp_path), *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("argv", [["stats", "--json"], ["export", "-"], ["deck", "list"]])
def test_a_closed_pipe_ends_quietly_with_status_141(tmp_path: Path, argv: list[str]) -> None:
    with Store.open(tmp_path):
        pass
    result = run_into_closed_pipe(tmp_path, *argv)
    assert result.returncode == 141, result.stderr
    assert result.stderr == ""


def test_a_sim_run_into_a_closed_pipe_is_still_saved(tmp_path: Path) -> None:
    quick = ["--set", "epochs=1", "--set", "n_examples=300"]
    result = run_into_closed_pipe(tmp_path, "sim", "run", "epochs", *quick, "--json", "-")
    assert result.returncode == 141, result.stderr
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    with Store.open(tmp_path) as store:
        assert [r.status for r in store.sim_runs()] == ["ok"]

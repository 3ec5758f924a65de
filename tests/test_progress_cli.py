"""``quizapp stats | export | import | backup | doctor`` as a user runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from questions.model import Question, QuestionKind, RubricPoint
from quizapp.cli import main
from quizapp.domain.grading import Rating, grade_rubric
from quizapp.store import Store

if TYPE_CHECKING:
    import pytest

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def question(qid: str) -> Question:
    return Question(
        id=qid,
        topic="batch-size",
        difficulty=1,
        kind=QuestionKind.OPEN,
        prompt="p",
        model_answer="m",
        rubric=(RubricPoint("Noise falls as 1/B", True), RubricPoint("Linear scaling")),
    )


def populate(home: Path, days: int = 5) -> None:
    """Attempts on the last ``days`` days up to now, so the streak and heatmap show them."""
    now = datetime.now(UTC)
    with Store.open(home) as store:
        for i in range(days):
            q = question(f"cli-{i % 2}")
            g = grade_rubric(q.rubric, {1})
            when = now - timedelta(days=days - 1 - i)
            store.record_attempt(q, g, Rating.HARD, answer="a", started=when, submitted=when)
        store.record_sim_run("epochs", {"epochs": 3}, "cpu", "ok", summary={"loss": 0.4})


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_stats_on_a_new_home_says_how_to_start(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "--home", str(tmp_path / "h"), "stats")
    assert code == 0
    assert "No answers recorded yet" in out
    assert (tmp_path / "h" / "progress.db").exists()


def test_stats_shows_tables_and_a_heatmap(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"
    populate(home)
    code, out, _ = run(capsys, "stats", "--home", str(home), "--tz", "UTC", "--weeks", "4")
    assert code == 0
    for heading in (
        "Due now",
        "Streak",
        "Reviews per day, last 4 weeks",
        "Score trend",
        "Mastery per topic",
        "Rubric points you miss most",
        "Recent simulation runs",
    ):
        assert heading in out
    assert "5 days" in out
    heat = [line for line in out.splitlines() if line.startswith(("Mon", "Tue", "Wed", "Sun"))]
    assert len(heat) == 4 and any(c in "".join(heat) for c in "░▒▓█")
    assert "Noise falls as 1/B (must have)" in out


def test_stats_json_for_scripts(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"
    populate(home)
    code, out, _ = run(capsys, "--home", str(home), "stats", "--json", "--tz", "Asia/Tokyo")
    assert code == 0
    report = json.loads(out)
    assert report["totals"]["attempts"] == 5 and report["totals"]["simulation_runs"] == 1
    assert report["streak"]["current"] == 5 and report["streak"]["reviewed_today"]
    assert report["timezone"] == "Asia/Tokyo"
    assert sum(d["reviews"] for d in report["reviews_per_day"]) == 5
    assert report["most_missed"][0]["point"] == "Noise falls as 1/B"
    assert report["most_missed"][0]["missed"] == 3
    assert {m["topic"] for m in report["mastery"]} >= {"batch-size"}


def test_unknown_time_zone_and_bad_home_get_clear_messages(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "--home", str(tmp_path / "h"), "stats", "--tz", "Mars/Olympus")
    assert code == 1 and "unknown time zone" in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "--home", str(blocker / "home"), "stats")
    assert code == 1 and str(blocker / "home") in err.replace("\n", "")
    assert "Traceback" not in err


def test_export_then_import_elsewhere_gives_the_same_stats_and_repeats_add_nothing(
    tmp_path: Path, capsys
) -> None:
    source, target, dump = tmp_path / "a", tmp_path / "b", tmp_path / "progress.json"
    populate(source)
    code, out, _ = run(capsys, "--home", str(source), "export", str(dump))
    assert code == 0 and "Exported 5 attempts" in out
    assert json.loads(dump.read_text())["schema_version"] >= 2

    code, out, _ = run(capsys, "--home", str(target), "import", str(dump))
    assert code == 0 and "Imported 5 attempts" in out
    code, out, _ = run(capsys, "--home", str(target), "import", str(dump))
    assert code == 0 and "Nothing new" in out and "Backed up" not in out
    assert not list(target.glob("backups/before-import-*.db")), "no backup when nothing is new"

    def stats(home: Path) -> dict:
        return json.loads(run(capsys, "--home", str(home), "stats", "--json", "--tz", "UTC")[1])

    a, b = stats(source), stats(target)
    for report in (a, b):
        report.pop("database")
        report.pop("generated_at")
    assert a == b


def test_export_never_overwrites_without_force_and_can_write_to_stdout(
    tmp_path: Path, capsys
) -> None:
    home, dump = tmp_path / "h", tmp_path / "progress.json"
    populate(home, days=2)
    dump.write_text("precious")
    code, _, err = run(capsys, "--home", str(home), "export", str(dump))
    assert code == 1 and "already exists" in err and dump.read_text() == "precious"
    assert run(capsys, "--home", str(home), "export", str(dump), "--force")[0] == 0
    code, out, _ = run(capsys, "--home", str(home), "export", "-")
    assert code == 0 and len(json.loads(out)["attempts"]) == 2


def test_importing_a_broken_file_explains_and_changes_nothing(tmp_path: Path, capsys) -> None:
    home, bad = tmp_path / "h", tmp_path / "bad.json"
    populate(home, days=2)
    bad.write_text('{"format": "quizapp-progress", "schema_version": 1,\n "attempts": [{}]}')
    code, _, err = run(capsys, "--home", str(home), "import", str(bad))
    assert code == 1 and "attempts[0]: missing" in err and str(bad) in err.replace("\n", "")
    assert "Traceback" not in err
    code, _, err = run(capsys, "--home", str(home), "import", str(tmp_path / "missing.json"))
    assert code == 1 and "no such file" in err
    with Store.open(home) as store:
        assert store.totals().attempts == 2


def test_backup_writes_a_checked_copy(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"
    populate(home, days=3)
    code, out, _ = run(capsys, "--home", str(home), "backup")
    assert code == 0 and "Backed up 3 attempts" in out and "integrity checked" in out
    (copy,) = (home / "backups").glob("progress-*.db")
    target = tmp_path / "copy.db"
    assert run(capsys, "--home", str(home), "backup", str(target))[0] == 0
    code, _, err = run(capsys, "--home", str(home), "backup", str(target))
    assert code == 1 and "already exists" in err
    restored = tmp_path / "restored"
    restored.mkdir()
    (restored / "progress.db").write_bytes(copy.read_bytes())
    with Store.open(restored) as store:
        assert store.totals().attempts == 3


def test_doctor_reports_a_healthy_home(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"
    populate(home, days=2)
    code, out, _ = run(capsys, "--home", str(home), "doctor")
    assert "Integrity check passed" in out and "Records: 2 attempts" in out
    assert "Journal mode: wal" in out
    assert code == 0 and "All good." in out


def test_doctor_on_a_garbage_database_says_where_it_went(tmp_path: Path, capsys) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "progress.db").write_bytes(b"garbage" * 1000)
    code, out, _ = run(capsys, "--home", str(home), "doctor")
    out = out.replace("\n", " ")
    (aside,) = home.glob("progress.db.corrupt-*")
    assert "moved to" in out and aside.name in out
    assert "Damaged databases kept aside" in out
    assert "Integrity check passed" in out  # the fresh database
    assert code == 0  # handled: the old file is kept, the new one is healthy


def test_doctor_repair_fixes_inconsistent_records(tmp_path: Path, capsys) -> None:
    import sqlite3

    home = tmp_path / "h"
    populate(home, days=2)
    raw = sqlite3.connect(home / "progress.db")
    raw.execute("DELETE FROM review_log")
    raw.commit()
    raw.close()
    code, out, _ = run(capsys, "--home", str(home), "doctor")
    assert code == 1 and "no review log entry" in out
    code, out, _ = run(capsys, "--home", str(home), "doctor", "--repair")
    assert "Restored the review record of 2 attempt(s)" in out
    assert "Integrity check passed" in out


def test_settings_show_change_and_refuse_out_of_range(tmp_path: Path, capsys) -> None:
    home = str(tmp_path / "h")
    code, out, _ = run(capsys, "--home", home, "settings")
    assert code == 0 and "Desired retention 0.90; 10 new questions per day" in out
    code, out, _ = run(
        capsys, "--home", home, "settings", "--retention", "0.85", "--new-per-day", "4"
    )
    assert code == 0 and "Saved. Desired retention 0.85; 4 new" in out
    code, _, err = run(capsys, "--home", home, "settings", "--retention", "1.2")
    assert code == 1 and "from 0.7 to 0.99" in err
    with Store.open(Path(home)) as store:
        assert (store.settings().desired_retention, store.settings().new_per_day) == (0.85, 4)


def test_quizapp_home_is_used_and_home_option_beats_it(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_home, flag_home = tmp_path / "env", tmp_path / "flag"
    populate(env_home, days=1)
    monkeypatch.setenv("QUIZAPP_HOME", str(env_home))
    report = json.loads(run(capsys, "stats", "--json")[1])
    assert report["database"] == str(env_home / "progress.db")
    assert report["totals"]["attempts"] == 1
    report = json.loads(run(capsys, "stats", "--json", "--home", str(flag_home))[1])
    assert report["database"] == str(flag_home / "progress.db")
    assert report["totals"]["attempts"] == 0


def test_stats_wording_for_none_one_and_many_answers(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "--home", str(tmp_path / "none"), "stats", "--tz", "UTC")
    text = " ".join(out.split())
    assert code == 0 and "10 new questions are waiting today" in text
    assert "0 days; longest 0 days" in text and "0 answers on 0 questions" in text
    populate(tmp_path / "one", days=1)
    code, out, _ = run(capsys, "--home", str(tmp_path / "one"), "stats", "--tz", "UTC")
    text = " ".join(out.split())
    assert "1 day; longest 1 day" in text and "1 answer on 1 question" in text
    assert "busiest day: 1 review)" in text and "1 simulation run" in text
    populate(tmp_path / "many", days=5)
    code, out, _ = run(capsys, "--home", str(tmp_path / "many"), "stats", "--tz", "UTC")
    text = " ".join(out.split())
    assert "5 days; longest 5 days" in text and "5 answers on 2 questions" in text


def test_an_import_that_adds_records_keeps_a_backup_taken_before(tmp_path: Path, capsys) -> None:
    mine, other, dump = tmp_path / "mine", tmp_path / "other", tmp_path / "other.json"
    populate(mine, days=2)
    populate(other, days=3)
    assert run(capsys, "--home", str(other), "export", str(dump))[0] == 0
    code, out, _ = run(capsys, "--home", str(mine), "import", str(dump))
    assert code == 0 and "Imported 3 attempts" in out
    backups = list(mine.glob("backups/before-import-*.db"))
    assert len(backups) == 1 and f"Backed up the database to {backups[0]} first." in out

"""Imports from other machines are untrusted: every bad value is a clear message naming the
record and field, files are read bounded, nothing is half-imported, and the store only ever
writes strict JSON."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_store import T0, grade, question

from quizapp.domain.limits import MAX_ANSWER_CHARS
from quizapp.store import Store, StoreError


def _export(tmp_path: Path) -> dict[str, Any]:
    with Store.open(tmp_path / "source") as source:
        for i in range(4):
            grade(source, question(f"q{i % 2}"), {i % 3}, T0 + timedelta(days=i))
        source.record_sim_run("epochs", {"epochs": 4}, "cpu", "ok", seed=3, started=T0)
        doc = source.export_data(T0)
    return json.loads(json.dumps(doc))


@pytest.fixture
def target(tmp_path: Path):
    with Store.open(tmp_path / "target") as store:
        grade(store, question("mine"), {0}, T0)
        yield store


def _unchanged(store: Store) -> dict[str, Any]:
    return store.export_data(T0)


@pytest.mark.parametrize(
    ("table", "index", "path"),
    [
        ("review_log", 3, ("duration_ms",)),
        ("review_log", 1, ("card_id",)),
        ("rubric_points", 2, ("point",)),
        ("sim_runs", 0, ("seed",)),
        ("cards", 1, ("card", "card_id")),
        ("cards", 0, ("card", "step")),
    ],
)
@pytest.mark.parametrize("value", [2**63, 10**30, -1])
def test_integers_outside_what_the_database_stores_name_record_and_field(
    tmp_path: Path, target: Store, table: str, index: int, path: tuple[str, ...], value: int
) -> None:
    doc = _export(tmp_path)
    record = doc[table][index]
    for key in path[:-1]:
        record = record[key]
    record[path[-1]] = value
    before = _unchanged(target)
    where = f"{table}[{index}]." + ".".join(path)
    with pytest.raises(StoreError) as err:
        target.import_data(doc, source="x.json")
    assert str(err.value) == f"x.json: {where}: expected a whole number between 0 and 2^63-1"
    assert _unchanged(target) == before


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("desired_retention", 5, r"settings\.desired_retention: expected a number from 0\.7"),
        ("new_per_day", 10**12, "settings.new_per_day: expected a whole number from 0 to 1000"),
        ("new_per_day", 2.5, "settings.new_per_day: expected a whole number"),
    ],
)
def test_settings_out_of_range_are_refused_not_silently_replaced(
    tmp_path: Path, target: Store, key: str, value: Any, message: str
) -> None:
    doc = _export(tmp_path)
    doc["settings"] = {key: value}
    before = _unchanged(target)
    with pytest.raises(StoreError, match=message):
        target.import_data(doc)
    assert _unchanged(target) == before


def test_deeply_nested_json_is_a_clear_error(tmp_path: Path, target: Store) -> None:
    doc = _export(tmp_path)
    before = _unchanged(target)
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    doc["sim_runs"][0]["result"] = deep
    with pytest.raises(StoreError, match=r"sim_runs\[0\]\.result: nested deeper than 64"):
        target.import_data(doc)
    doc["sim_runs"][0]["result"] = None
    doc["settings"] = {"theme": deep}
    with pytest.raises(StoreError, match=r"settings\.theme: nested deeper than 64"):
        target.import_data(doc)

    # Deeper than Python's parser can go: still one message, naming the file.
    text = json.dumps(_export(tmp_path))
    text = text.replace('"result": null', '"result": ' + "[" * 200_000 + "]" * 200_000, 1)
    path = tmp_path / "deep.json"
    path.write_text(text)
    with pytest.raises(StoreError, match=r"deep\.json: lists or objects nested too deeply"):
        target.import_file(path)
    assert _unchanged(target) == before


def test_an_answer_over_the_limit_is_refused_with_the_record_named(
    tmp_path: Path, target: Store
) -> None:
    doc = _export(tmp_path)
    doc["attempts"][2]["answer"] = "y" * (MAX_ANSWER_CHARS + 1)
    before = _unchanged(target)
    with pytest.raises(StoreError, match=r"attempts\[2\]\.answer: 20,001 characters; answers are"):
        target.import_data(doc)
    assert _unchanged(target) == before
    doc["attempts"][2]["answer"] = "y" * MAX_ANSWER_CHARS
    assert target.import_data(doc).attempts_added == 4


@pytest.mark.timeout(10)
def test_only_regular_files_of_bounded_size_are_read(tmp_path: Path, target: Store) -> None:
    fifo = tmp_path / "export.json"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match=r"export\.json: not a regular file"):
        target.import_file(fifo)  # never waits for a writer
    with pytest.raises(StoreError, match="not a regular file"):
        target.import_file(Path("/dev/zero"))
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(StoreError, match=r"zero\.json: not a regular file"):
        target.import_file(link)
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(51 * 1024 * 1024)  # sparse: costs no disk
    with pytest.raises(StoreError, match=r"big\.json: 51 MB is larger than the 50 MB"):
        target.import_file(big)


def test_nan_and_overflowing_numbers_from_older_exports_read_as_null(
    tmp_path: Path, target: Store
) -> None:
    doc = _export(tmp_path)
    text = json.dumps(doc).replace('"summary": null', '"summary": {"loss": NaN, "big": 1e999}')
    path = tmp_path / "old.json"
    path.write_text(text)
    target.import_file(path)
    (run,) = target.sim_runs()
    assert run.summary == {"loss": None, "big": None}


def _strict(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_everything_the_store_writes_is_strict_json(tmp_path: Path) -> None:
    nan, inf = float("nan"), float("inf")
    with Store.open(tmp_path / "home") as store:
        run_id = store.record_sim_run(
            "batch_size",
            {"lr": 80.0, "limit": inf},
            "cpu",
            summary={"final_val_loss": nan, "best": -inf, "runs": [{"loss": [1.0, nan]}]},
            result='{"history": [NaN, Infinity, 1.5]}',  # JSON text from an older runner
        )
        store.finish_sim_run(run_id, "diverged", summary={"final_val_loss": inf})
        store.set_setting("ui", {"zoom": nan})
        run = store.get_sim_run(run_id)
        assert run is not None and run.status == "diverged"
        assert run.summary == {"final_val_loss": None}
        assert run.result == {"history": [None, None, 1.5]}
        assert run.params == {"lr": 80.0, "limit": None}
        store.export_file(tmp_path / "out.json", T0)
        exported = store.export_data(T0)
    raw = sqlite3.connect(tmp_path / "home" / "progress.db")
    for row in raw.execute("SELECT params, summary, result FROM sim_runs"):
        for text in row:
            _strict(text)
    for (text,) in raw.execute("SELECT value FROM settings"):
        _strict(text)
    raw.close()
    doc = _strict((tmp_path / "out.json").read_text())
    assert doc["sim_runs"][0]["summary"] == {"final_val_loss": None}
    assert doc["settings"]["ui"] == {"zoom": None}
    json.dumps(exported, allow_nan=False)  # what `export -` prints is strict too


def test_a_database_from_before_strict_json_still_exports_strictly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as store:
        store.record_sim_run("epochs", {"epochs": 2}, "cpu", "ok", summary={"loss": 1.0})
        grade(store, question("q1"), {0}, T0)  # started 45 s before submitting
    raw = sqlite3.connect(home / "progress.db")
    with raw:  # what an older quizapp could write: a diverged run, an endless attempt
        raw.execute("""UPDATE sim_runs SET summary = '{"loss": NaN, "acc": -Infinity}'""")
        raw.execute("UPDATE attempts SET seconds = 9e999")
        raw.execute("UPDATE cards SET stability = 9e999")
    raw.close()
    with Store.open(home) as store:
        store.export_file(tmp_path / "out.json", T0)
        _strict(json.dumps(store.export_data(T0), allow_nan=False))
    doc = _strict((tmp_path / "out.json").read_text())
    assert doc["sim_runs"][0]["summary"] == {"loss": None, "acc": None}
    assert doc["attempts"][0]["seconds"] == 45.0
    assert doc["cards"][0]["card"]["stability"] is None


def test_an_import_that_adds_nothing_needs_no_backup(tmp_path: Path, target: Store) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(_export(tmp_path)))
    assert target.import_needs_backup(path)
    target.import_file(path)
    assert not target.import_needs_backup(path)  # everything in it is here already
    doc = json.loads(path.read_text())
    doc["settings"] = {"new_per_day": 3}
    path.write_text(json.dumps(doc))
    assert target.import_needs_backup(path)
    with Store.open(tmp_path / "empty") as empty:
        assert not empty.import_needs_backup(path)  # nothing here to lose
    doc["settings"] = {"new_per_day": 10**12}
    path.write_text(json.dumps(doc))
    with pytest.raises(StoreError, match=r"settings\.new_per_day"):
        target.import_needs_backup(path)  # refused before any backup is taken


def test_imported_text_cannot_carry_terminal_escapes(tmp_path: Path, target: Store) -> None:
    doc = _export(tmp_path)
    doc["attempts"][0]["answer"] = "fine\x1b]52;c;aGk=\x07 then \x1b[2J\x9b31m \u202eevil"
    doc["sim_runs"][0]["params"] = {"note\x1b[1m": "x\x1b]0;title\x07"}
    target.import_data(doc)
    exported = json.dumps(target.export_data(T0), ensure_ascii=False)
    assert "\x1b" not in exported and "\x07" not in exported and "\x9b" not in exported
    assert "\u202e" not in exported
    assert "␛]52;c;aGk=␇" in exported  # made visible, not silently dropped


def test_mock_interviews_travel_with_an_export(tmp_path: Path) -> None:
    report = {"score": 0.5, "answers": []}
    with Store.open(tmp_path / "a") as source:
        source.record_mock_interview(
            started=T0,
            finished=T0 + timedelta(minutes=30),
            minutes=30,
            topics=["epochs"],
            score=0.5,
            report=report,
        )
        doc = json.loads(json.dumps(source.export_data(T0)))
    with Store.open(tmp_path / "b") as target:
        first = target.import_data(doc)
        again = target.import_data(doc)
        stored = target.mock_interviews()
    assert first.interviews_added == 1 and again.interviews_added == 0
    assert len(stored) == 1 and stored[0].report == report and stored[0].topics == ("epochs",)

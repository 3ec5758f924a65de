"""The progress database: records, durability, damaged files, locks, migrations, undo, queries."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from questions.model import NumericAnswer, Question, QuestionKind, RubricPoint
from quizapp.domain.grading import Rating, grade_numeric, grade_rubric
from quizapp.domain.scheduling import review
from quizapp.store import (
    SCHEMA_VERSION,
    Store,
    StoreBusyError,
    StoreError,
    repair,
)
from quizapp.store.schema import migrate

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
REPO = Path(__file__).resolve().parents[1]


def question(qid: str = "bs-1", topic: str = "batch-size", texts: tuple[str, ...] = ()) -> Question:
    texts = texts or ("Gradient noise falls as 1/B", "Names the linear scaling rule", "A number")
    return Question(
        id=qid,
        topic=topic,
        difficulty=1,
        kind=QuestionKind.OPEN,
        prompt=f"Prompt of {qid}",
        model_answer="Model answer",
        rubric=tuple(RubricPoint(t, must_have=i == 0) for i, t in enumerate(texts)),
    )


def grade(store: Store, q: Question, met: set[int], when: datetime, **kw: object):
    g = grade_rubric(q.rubric, met)
    rating = kw.pop("rating", g.suggested)
    return store.record_attempt(
        q,
        g,
        rating,  # type: ignore[arg-type]
        answer=str(kw.pop("answer", "my answer")),
        started=when - timedelta(seconds=45),
        submitted=when,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "home") as s:
        yield s


# --- records ------------------------------------------------------------------------------


def test_every_record_type_round_trips(store: Store) -> None:
    q = question()
    attempt = grade(store, q, {0, 2}, T0, rating=Rating.GOOD, answer="Noise ∝ 1/B", mode="practice")
    (saved,) = store.question_history(q.id)
    assert saved.id == attempt.id and saved.uid == attempt.uid
    assert saved.content_hash == q.content_hash
    assert saved.started == T0 - timedelta(seconds=45) and saved.submitted == T0
    assert saved.answer == "Noise ∝ 1/B"
    assert saved.met == frozenset({0, 2}) and saved.rubric_size == 3
    assert saved.score == pytest.approx(2 / 3)
    assert saved.suggested is Rating.GOOD and saved.rating is Rating.GOOD
    assert saved.seconds == 45.0 and saved.mode == "practice"
    assert [(p.text, p.must_have, p.met) for p in saved.points] == [
        ("Gradient noise falls as 1/B", True, True),
        ("Names the linear scaling rule", False, False),
        ("A number", False, True),
    ]

    expected = review(None, q.id, Rating.GOOD, T0).after
    assert store.card(q.id).to_dict() == expected.to_dict()

    doc = store.export_data(T0)
    (log,) = doc["review_log"]
    assert log["attempt_uid"] == attempt.uid and log["rating"] == 3
    assert log["card_before"] is None and log["duration_ms"] == 45_000

    run = store.record_sim_run(
        "batch-size-sweep",
        {"batch_sizes": [16, 256], "epochs": 3},
        "cuda:0",
        question_id=q.id,
        seed=7,
        started=T0,
        prediction={"choice": "batch 16 reaches lower loss per epoch"},
    )
    store.finish_sim_run(
        run, "ok", summary={"best": 16}, result={"curves": [[0.9, 0.5]]}, finished=T0
    )
    store.set_sim_prediction(run, {"choice": "batch 16 reaches lower loss per epoch"}, "right")
    full = store.get_sim_run(run)
    assert full is not None
    assert (full.experiment, full.device, full.status, full.seed) == (
        "batch-size-sweep",
        "cuda:0",
        "ok",
        7,
    )
    assert full.params == {"batch_sizes": [16, 256], "epochs": 3}
    assert full.summary == {"best": 16} and full.result == {"curves": [[0.9, 0.5]]}
    assert full.prediction == {"choice": "batch 16 reaches lower loss per epoch"}
    assert full.prediction_outcome == "right"
    assert full.question_id == q.id and full.started == T0 and full.finished == T0
    (listed,) = store.sim_runs(question_id=q.id)
    assert listed.result is None and listed.summary == {"best": 16}  # lists stay light

    store.update_settings(desired_retention=0.85, new_per_day=4)
    store.set_setting("theme", {"name": "nord"})
    assert (store.settings().desired_retention, store.settings().new_per_day) == (0.85, 4)
    assert store.get_setting("theme") == {"name": "nord"}
    with pytest.raises(ValueError, match=r"from 0\.7 to 0\.99"):
        store.update_settings(desired_retention=0.3)


def test_an_edited_question_keeps_its_history_and_shows_the_version_answered(
    store: Store,
) -> None:
    old = question(texts=("Old wording of point one", "Point two", "Point three"))
    new = question(texts=("New wording of point one", "Point two", "Point three"))
    assert old.content_hash != new.content_hash
    grade(store, old, {1}, T0)
    grade(store, new, {0, 1, 2}, T0 + timedelta(days=1))
    newest, oldest = store.question_history("bs-1")
    assert (newest.content_hash, oldest.content_hash) == (new.content_hash, old.content_hash)
    assert oldest.points[0].text == "Old wording of point one"
    assert newest.points[0].text == "New wording of point one"
    assert store.card("bs-1").last_review == T0 + timedelta(days=1)  # one schedule, one id


def test_numeric_answers_are_recorded_without_counting_rubric_points_as_missed(
    store: Store,
) -> None:
    q = Question(
        id="num-1",
        topic="epochs",
        difficulty=1,
        kind=QuestionKind.NUMERIC,
        prompt="50,000 examples, batch 128, 3 epochs: how many updates?",
        model_answer="1,173",
        rubric=(RubricPoint("Rounds up per epoch"),),
        numeric=NumericAnswer(1173, 0, "updates"),
    )
    assert q.numeric is not None
    wrong = grade_numeric(q.numeric, "1170")
    store.record_attempt(q, wrong, wrong.suggested, answer="1170", started=T0, submitted=T0)
    (saved,) = store.question_history(q.id)
    assert (saved.score, saved.rating, saved.points) == (0.0, Rating.AGAIN, ())
    assert store.missed_points() == []
    with pytest.raises(ValueError, match="does not fit num-1's rubric of 1 points"):
        store.record_attempt(
            q, grade_rubric(question().rubric, {0}), 3, answer="", started=T0, submitted=T0
        )


def test_settings_with_bad_stored_values_fall_back_to_defaults(store: Store) -> None:
    store.set_setting("desired_retention", "high")
    assert store.settings().desired_retention == 0.9


# --- durability, damage, locks ------------------------------------------------------------

KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from questions.model import NumericAnswer, Question, QuestionKind, RubricPoint
    from quizapp.domain.grading import grade_rubric
    from quizapp.store import Store

    q = Question(id="kill-1", topic="epochs", difficulty=1, kind=QuestionKind.OPEN,
                 prompt="p", model_answer="m", rubric=(RubricPoint("a"), RubricPoint("b")))
    store = Store.open(Path(sys.argv[1]))
    g = grade_rubric(q.rubric, {1})
    now = datetime.now(UTC)
    store.record_attempt(q, g, g.suggested, answer="typed before the crash",
                         started=now, submitted=now)
    print("graded", flush=True)
    time.sleep(120)
    """
)


def test_a_grade_survives_kill_9_right_after_it_is_given(tmp_path: Path) -> None:
    home = tmp_path / "home"
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(home)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "graded"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with Store.open(home) as store:
        (attempt,) = store.question_history("kill-1")
        assert attempt.answer == "typed before the crash" and attempt.met == frozenset({1})
        assert store.card("kill-1") is not None
        assert store.check() == []


def test_a_file_that_is_not_a_database_is_moved_aside_and_a_fresh_one_started(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    garbage = b"this is not sqlite " * 500
    (home / "progress.db").write_bytes(garbage)
    with Store.open(home) as store:
        (notice,) = store.notices
        (aside,) = home.glob("progress.db.corrupt-*")
        assert str(aside) in notice and "nothing was deleted" in notice
        assert aside.read_bytes() == garbage
        grade(store, question(), {0}, T0)
        assert store.totals().attempts == 1
    with Store.open(home) as store:
        assert store.notices == [] and store.totals().attempts == 1


def test_damaged_pages_are_found_on_open_and_readable_rows_recovered(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as store:
        for i in range(40):
            grade(store, question(f"q{i}"), {i % 3}, T0 + timedelta(minutes=i))
    raw = sqlite3.connect(home / "progress.db")
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    root = raw.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'attempts_question_score'"
    ).fetchone()[0]
    raw.close()
    assert not (home / "progress.db-wal").exists()  # all in the main file now
    with open(home / "progress.db", "r+b") as fh:  # scribble over one index page
        fh.seek((root - 1) * page_size)
        fh.write(b"\xff" * page_size)

    with Store.open(home) as store:
        (notice,) = store.notices
        assert "moved to" in notice and "Recovered from the old file: " in notice
        assert "40 attempts" in notice
        assert store.totals().attempts == 40
        assert store.check() == []
        assert store.card("q7") is not None and len(store.question_history("q7")) == 1
    assert len(list(home.glob("progress.db.corrupt-*"))) == 1


def test_a_write_waits_for_another_writer_then_succeeds(store: Store) -> None:
    other = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another instance is in the middle of a write
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    try:
        grade(store, question(), {0}, T0)  # busy timeout is 5 s
    finally:
        release.join()
        other.close()
    assert store.totals().attempts == 1


def test_a_database_locked_too_long_explains_and_loses_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as first:
        grade(first, question(), {0}, T0)
    other = sqlite3.connect(home / "progress.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with Store.open(home, busy_timeout=0.2) as store:
        assert store.totals().attempts == 1  # reading still works while it is locked
        with pytest.raises(StoreBusyError) as err:
            grade(store, question(), {1}, T0 + timedelta(hours=1))
        message = str(err.value)
        assert str(store.path) in message and "another program" in message
        assert "Nothing was lost" in message
        other.execute("ROLLBACK")
        other.close()
        grade(store, question(), {1}, T0 + timedelta(hours=1))
        assert store.totals().attempts == 2


def test_two_instances_open_at_once_both_work(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as a, Store.open(home) as b:
        grade(a, question("q1"), {0}, T0)
        grade(b, question("q2"), {1}, T0 + timedelta(minutes=1))
        grade(a, question("q2"), {0, 1}, T0 + timedelta(minutes=2))
        assert a.totals().attempts == b.totals().attempts == 3
        assert len(b.question_history("q2")) == 2


WRITER_SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from questions.model import NumericAnswer, Question, QuestionKind, RubricPoint
    from quizapp.domain.grading import grade_rubric
    from quizapp.store import Store

    name = sys.argv[2]
    store = Store.open(Path(sys.argv[1]))
    for i in range(15):
        q = Question(id=f"{name}-{i % 3}", topic="tuning", difficulty=1,
                     kind=QuestionKind.OPEN, prompt="p", model_answer="m",
                     rubric=(RubricPoint("a"), RubricPoint("b")))
        g = grade_rubric(q.rubric, {i % 2})
        now = datetime(2024, 5, 1, tzinfo=UTC) + timedelta(minutes=i)
        store.record_attempt(q, g, g.suggested, answer=name, started=now, submitted=now)
        store.record_sim_run("epochs", {"epochs": i}, "cpu", "ok")
    print("done")
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Store.open(home).close()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, str(home), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for name in ("left", "right")
    ]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    with Store.open(home) as store:
        assert store.totals().attempts == 30 and store.totals().sim_runs == 30
        assert len(store.question_history("left-0")) == 5
        assert store.check() == []


def test_an_unusable_data_folder_says_which_path_and_why(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="part of that path is a file") as err:
        Store.open(blocker / "home")
    assert str(blocker / "home") in str(err.value)
    with pytest.raises(StoreError, match="a file with that name is in the way"):
        Store.open(blocker)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_a_read_only_data_folder_is_reported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="permission denied") as err:
            Store.open(home)
        assert str(home) in str(err.value)
    finally:
        home.chmod(0o700)


# --- schema ---------------------------------------------------------------------------------


def test_a_database_from_the_first_schema_opens_without_loss(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db = Database(home / "progress.db")
    migrate(db, target=1)
    q = question()
    db.execute(
        "INSERT INTO rubric_points VALUES ('bs-1', ?, 0, 'Gradient noise falls as 1/B', 1)",
        [q.content_hash],
    )
    db.execute(
        """INSERT INTO attempts (id, uid, question_id, content_hash, started_ms, submitted_ms,
            answer, rubric_size, met_mask, score, suggested, rating, seconds, mode)
        VALUES (1, 'u1', 'bs-1', ?, 1714554000000, 1714554045000, 'old answer', 3, 5,
                0.667, 3, 3, 45.0, 'review')""",
        [q.content_hash],
    )
    card = review(None, "bs-1", Rating.GOOD, datetime(2024, 5, 1, 9, 0, 45, tzinfo=UTC)).after
    db.execute(
        "INSERT INTO cards VALUES ('bs-1', ?, ?, ?, ?, ?, ?, ?)",
        [
            card.card_id,
            int(card.state),
            card.step,
            card.stability,
            card.difficulty,
            1714554645000,
            1714554045000,
        ],
    )
    db.execute(
        "INSERT INTO review_log VALUES (1, 1, 'bs-1', ?, 3, 1714554045000, 45000, NULL)",
        [card.card_id],
    )
    db.execute(
        """INSERT INTO sim_runs (uid, experiment, params, device, status, started_ms, summary)
        VALUES ('r1', 'epochs', '{"epochs": 5}', 'cpu', 'ok', 1714554000000, '{"loss": 0.2}')"""
    )
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()

    with Store.open(home) as store:
        assert store.schema_version == SCHEMA_VERSION > 1
        assert any("from schema 1" in n and "all records kept" in n for n in store.notices)
        (attempt,) = store.question_history("bs-1")
        assert attempt.answer == "old answer" and attempt.met == frozenset({0, 2})
        assert attempt.points[0].text == "Gradient noise falls as 1/B"
        assert store.card("bs-1").to_dict() == card.to_dict()
        (run,) = store.sim_runs()
        assert run.summary == {"loss": 0.2} and run.prediction is None
        store.set_sim_prediction(run.id, "loss keeps falling", "wrong")  # the new feature
        assert store.undo_last_attempt() is not None and store.card("bs-1") is None
        assert store.check() == []


def test_a_database_from_a_newer_quizapp_is_refused_untouched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Store.open(home).close()
    raw = sqlite3.connect(home / "progress.db")
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    raw.close()
    before = (home / "progress.db").read_bytes()
    with pytest.raises(StoreError, match=r"newer quizapp.*Upgrade quizapp"):
        Store.open(home)
    assert (home / "progress.db").read_bytes() == before
    assert not list(home.glob("*.corrupt-*"))


# --- undo -------------------------------------------------------------------------------------


def test_undo_restores_the_previous_schedule_and_removes_the_attempt(store: Store) -> None:
    q = question()
    grade(store, q, {0, 1}, T0)
    after_first = store.card(q.id).to_dict()
    second = grade(store, q, {0, 1, 2}, T0 + timedelta(days=1), rating=Rating.EASY)
    assert store.card(q.id).to_dict() != after_first

    undone = store.undo_last_attempt()
    assert undone is not None and undone.uid == second.uid and undone.rating is Rating.EASY
    assert store.card(q.id).to_dict() == after_first
    assert len(store.question_history(q.id)) == 1
    assert len(store.export_data(T0)["review_log"]) == 1

    store.undo_last_attempt()
    assert store.card(q.id) is None  # new again: back in today's new questions
    assert store.due_queue([q.id], T0, BERLIN)[0].is_new
    assert store.undo_last_attempt() is None


# --- queue and progress -----------------------------------------------------------------------


def test_due_queue_overdue_first_then_new_up_to_the_daily_limit(store: Store) -> None:
    store.update_settings(new_per_day=3)
    ids = [f"q{i}" for i in range(8)]
    grade(store, question("q0"), {0, 1, 2}, T0 - timedelta(days=30), rating=Rating.EASY)
    grade(store, question("q1"), {0, 1, 2}, T0 - timedelta(days=20), rating=Rating.EASY)
    grade(store, question("q2"), {0, 1, 2}, T0 - timedelta(hours=1), rating=Rating.EASY)
    now = T0 + timedelta(days=1)  # q0 and q1 are overdue, q2 is not due yet
    queue = store.due_queue(ids, now, BERLIN)
    assert [i.question_id for i in queue] == ["q0", "q1", "q3", "q4", "q5"]
    assert store.due_counts(now, BERLIN, ids).now == 2

    today = now.astimezone(BERLIN)
    grade(store, question("q3"), {0}, now)  # one new question started today
    assert store.new_remaining_today(ids, now, BERLIN) == 2
    # Ten minutes later q3 is due again (learning step); a limit of 1 is used up today.
    later = [
        i.question_id
        for i in store.due_queue(ids, now + timedelta(minutes=10), BERLIN, new_limit=1)
    ]
    assert later == ["q0", "q1", "q3"]
    # The allowance renews at local midnight, not UTC midnight.
    next_midnight = datetime.combine(today.date() + timedelta(days=1), datetime.min.time())
    after = next_midnight.replace(tzinfo=BERLIN) + timedelta(minutes=1)
    assert store.new_remaining_today(ids, after - timedelta(minutes=2), BERLIN) == 2
    assert store.new_remaining_today(ids, after, BERLIN) == 3


def test_due_counts_today_and_week_follow_local_days(store: Store) -> None:
    now = datetime(2024, 5, 1, 21, 0, tzinfo=UTC)  # 23:00 in Berlin
    grade(store, question("a"), {0}, now - timedelta(seconds=30), rating=Rating.AGAIN)
    q = question("b")
    grade(store, q, {0, 1, 2}, now - timedelta(days=8, minutes=30), rating=Rating.EASY)
    counts = store.due_counts(now, BERLIN)
    assert (counts.now, counts.today, counts.week) == (1, 2, 2)  # b fell due 30 min ago
    grade(store, question("c"), {0, 1, 2}, now, rating=Rating.EASY)  # due in 8 days
    assert store.due_counts(now, BERLIN).week == 2
    assert store.due_counts(now + timedelta(days=2), BERLIN).week == 3


def test_streak_and_heatmap_follow_the_users_midnight(store: Store) -> None:
    q = question()
    # 22:30 UTC on May 1 and 21:30 UTC on May 2: the same local day in Berlin (00:30, 23:30)
    # but two days in UTC and in New York.
    grade(store, q, {0}, datetime(2024, 5, 1, 22, 30, tzinfo=UTC))
    grade(store, q, {0}, datetime(2024, 5, 2, 21, 30, tzinfo=UTC))
    now = datetime(2024, 5, 2, 21, 45, tzinfo=UTC)
    assert store.streak(now, BERLIN).current == 1
    assert store.streak(now, UTC).current == 2
    assert store.streak(now, ZoneInfo("America/New_York")).current == 2
    days = store.reviews_per_day(date(2024, 5, 1), date(2024, 5, 3), BERLIN)
    assert [(d.day.day, d.reviews) for d in days] == [(1, 0), (2, 2), (3, 0)]
    days = store.reviews_per_day(date(2024, 5, 1), date(2024, 5, 3), UTC)
    assert [d.reviews for d in days] == [1, 1, 0]
    # A minute past local midnight the streak is still alive (today isn't over)...
    assert store.streak(datetime(2024, 5, 2, 22, 1, tzinfo=UTC), BERLIN).current == 1
    # ...and a whole day without a review ends it.
    gone = store.streak(datetime(2024, 5, 3, 22, 1, tzinfo=UTC), BERLIN)
    assert (gone.current, gone.longest) == (0, 1)


def test_heatmap_days_are_right_across_a_dst_change_and_half_hour_zones(store: Store) -> None:
    q = question()
    grade(store, q, {0}, datetime(2024, 3, 30, 23, 30, tzinfo=UTC))  # 00:30 CET, Mar 31
    grade(store, q, {0}, datetime(2024, 3, 31, 22, 30, tzinfo=UTC))  # 00:30 CEST, Apr 1
    days = store.reviews_per_day(date(2024, 3, 30), date(2024, 4, 1), BERLIN)
    assert [d.reviews for d in days] == [0, 1, 1]
    streak = store.streak(datetime(2024, 4, 1, 8, tzinfo=UTC), BERLIN)
    assert (streak.current, streak.reviewed_today) == (2, True)
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+5:30: 18:45 UTC is 00:15 the next day
    grade(store, q, {0}, datetime(2024, 6, 1, 18, 45, tzinfo=UTC))
    days = store.reviews_per_day(date(2024, 6, 1), date(2024, 6, 2), kolkata)
    assert [d.reviews for d in days] == [0, 1]


def test_score_trend_means_per_local_week(store: Store) -> None:
    q = question()
    monday = datetime(2024, 4, 29, 8, tzinfo=UTC)
    grade(store, q, {0, 1, 2}, monday)  # 1.0
    grade(store, q, {0}, monday + timedelta(days=2))  # 1/3
    grade(store, q, {0, 1}, monday + timedelta(days=7))  # 2/3, next week
    # Sunday 21:30 UTC: still Sunday (23:30) in Berlin, already Monday of the next week in
    # Tokyo.
    grade(store, q, set(), datetime(2024, 5, 5, 21, 30, tzinfo=UTC))  # 0.0
    trend = store.score_trend(monday + timedelta(days=8), BERLIN, weeks=4)
    assert [(p.week, p.attempts) for p in trend] == [(date(2024, 4, 29), 3), (date(2024, 5, 6), 1)]
    assert trend[0].mean_score == pytest.approx((1 + 1 / 3 + 0) / 3)
    tokyo = store.score_trend(monday + timedelta(days=8), ZoneInfo("Asia/Tokyo"), weeks=4)
    assert [p.attempts for p in tokyo] == [2, 2]


def test_mastery_combines_recall_and_recent_scores_and_counts_unseen_as_zero(
    store: Store,
) -> None:
    topics = {"a1": "batch-size", "a2": "batch-size", "e1": "epochs"}
    grade(store, question("a1"), {0, 1, 2}, T0, rating=Rating.EASY)
    grade(store, question("e1"), {0}, T0, rating=Rating.HARD)
    batch, epochs = store.mastery(topics, T0)
    assert (batch.topic, batch.questions, batch.seen) == ("batch-size", 2, 1)
    assert batch.mastery == pytest.approx(0.5)  # a1: recall 1.0 x score 1.0; a2 unseen
    assert epochs.mastery == pytest.approx(1 / 3)
    later = store.mastery(topics, T0 + timedelta(days=30))[0]
    assert later.mastery < batch.mastery  # forgetting lowers mastery
    assert later.mean_recent_score == 1.0
    assert later.mean_retrievability is not None and later.mean_retrievability < 1.0


def test_most_missed_points_overall_and_per_question(store: Store) -> None:
    a, b = question("a"), question("b", texts=("B one", "B two", "B three"))
    for day in range(4):
        grade(store, a, {0, 2}, T0 + timedelta(days=day))  # always misses point 1
        grade(store, b, {1, 2} if day else {0, 1, 2}, T0 + timedelta(days=day, hours=1))
    top = store.missed_points(limit=2)
    assert [(m.question_id, m.text, m.missed, m.shown) for m in top] == [
        ("a", "Names the linear scaling rule", 4, 4),
        ("b", "B one", 3, 4),
    ]
    assert top[1].must_have and top[0].miss_rate == 1.0
    assert [m.text for m in store.missed_points(question_id="b")] == ["B one"]
    # After editing another part of the question, a point's tally carries on by its text.
    edited = question(
        "a", texts=("Gradient noise falls as 1/B", "Names the linear scaling rule", "Two numbers")
    )
    grade(store, edited, {0}, T0 + timedelta(days=9))
    first = store.missed_points(question_id="a")[0]
    assert (first.text, first.missed, first.shown) == ("Names the linear scaling rule", 5, 5)


def test_summary_gathers_the_home_screen_figures(store: Store) -> None:
    topics = {"a": "batch-size", "b": "batch-size", "c": "epochs"}
    grade(store, question("a"), {0, 1, 2}, T0)
    summary = store.summary(topics, T0 + timedelta(minutes=1), BERLIN)
    assert summary.new_available == 2 and summary.reviews_today == 1
    assert summary.streak.current == 1 and summary.streak.reviewed_today
    assert [m.topic for m in summary.mastery] == ["batch-size", "epochs"]


# --- export, import, backup, repair ---------------------------------------------------------


def _populate(store: Store) -> None:
    for i in range(6):
        when = T0 + timedelta(days=i, hours=i)
        grade(store, question(f"q{i % 3}", topic=("batch-size", "epochs")[i % 2]), {i % 3}, when)
    store.record_sim_run("epochs", {"epochs": 4}, "cpu", "ok", summary={"loss": 0.3}, started=T0)
    store.update_settings(new_per_day=7)


def _stats(store: Store) -> dict:
    from quizapp.services.progress import progress_report

    topics = {"q0": "batch-size", "q1": "epochs", "q2": "batch-size", "q9": "tuning"}
    report = progress_report(store, topics, T0 + timedelta(days=8), BERLIN, weeks=4).to_json()
    report.pop("database")
    return report


def test_export_then_import_into_an_empty_home_gives_identical_stats(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a") as source:
        _populate(source)
        expected = _stats(source)
        source.export_file(tmp_path / "progress.json", T0)
        exported = source.export_data(T0)
    with Store.open(tmp_path / "b") as target:
        report = target.import_file(tmp_path / "progress.json")
        assert report.attempts_added == 6 and report.sim_runs_added == 1
        assert _stats(target) == expected
        again = target.export_data(T0)
    assert again == exported


def test_importing_twice_adds_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a") as source:
        _populate(source)
        doc = source.export_data(T0)
    with Store.open(tmp_path / "b") as target:
        target.import_data(doc)
        first = _stats(target)
        report = target.import_data(doc)
        assert not report.added_anything
        assert (report.attempts_present, report.sim_runs_present) == (6, 1)
        assert _stats(target) == first
        assert target.totals().attempts == 6


def test_import_merges_two_machines_and_replays_shared_questions(tmp_path: Path) -> None:
    q = question()
    with Store.open(tmp_path / "laptop") as laptop:
        grade(laptop, q, {0, 1, 2}, T0, rating=Rating.GOOD)
        grade(laptop, q, {0, 1, 2}, T0 + timedelta(days=3), rating=Rating.GOOD)
        doc = laptop.export_data(T0)
    with Store.open(tmp_path / "desktop") as desktop:
        grade(desktop, q, {0}, T0 + timedelta(days=1), rating=Rating.AGAIN)
        report = desktop.import_data(doc)
        assert report.cards_replayed == 1
        card = None
        for rating, day in ((Rating.GOOD, 0), (Rating.AGAIN, 1), (Rating.GOOD, 3)):
            card = review(card, q.id, rating, T0 + timedelta(days=day)).after
        assert desktop.card(q.id).to_dict() == card.to_dict()
        assert [a.rating for a in desktop.question_history(q.id)] == [3, 1, 3]
        # Undo after a merge still leaves a schedule that matches the remaining reviews.
        desktop.undo_last_attempt()
        assert len(desktop.question_history(q.id)) == 2
        assert desktop.check() == []


def test_an_export_missing_some_reviews_still_imports_consistently(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a") as source:
        _populate(source)
        doc = source.export_data(T0)
        expected = source.card("q1").to_dict()
    doc["review_log"] = [r for r in doc["review_log"] if r["question_id"] != "q1"]
    with Store.open(tmp_path / "b") as target:
        target.import_data(doc)
        assert target.check() == []
        assert target.card("q1").to_dict() == expected  # rebuilt from the attempts


def test_a_bad_import_file_names_the_problem_and_changes_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a") as source:
        _populate(source)
        doc = source.export_data(T0)
    broken = json.loads(json.dumps(doc))
    broken["attempts"][3]["rating"] = "good"
    with Store.open(tmp_path / "b") as target:
        grade(target, question("mine"), {0}, T0)
        before = target.export_data(T0)
        with pytest.raises(StoreError, match=r"x\.json: attempts\[3\]\.rating: expected a whole"):
            target.import_data(broken, source="x.json")
        (tmp_path / "bad.json").write_text('{"format": "quizapp-progress",\n  "attempts": [,]}')
        with pytest.raises(StoreError, match=r"bad\.json:2:\d+: not valid JSON"):
            target.import_file(tmp_path / "bad.json")
        with pytest.raises(StoreError, match="not a quizapp progress export"):
            target.import_data({"hello": 1})
        newer = dict(doc, schema_version=SCHEMA_VERSION + 1)
        with pytest.raises(StoreError, match="newer than this quizapp"):
            target.import_data(newer)
        assert target.export_data(T0) == before


def test_backup_is_a_complete_checked_copy_and_never_overwrites(
    store: Store, tmp_path: Path
) -> None:
    _populate(store)
    dest = store.backup(tmp_path / "backups" / "copy.db")
    assert not Path(f"{dest}-wal").exists()
    with Store.open(tmp_path / "restored") as _:
        pass
    (tmp_path / "restored" / "progress.db").unlink()
    dest_copy = tmp_path / "restored" / "progress.db"
    dest_copy.write_bytes(dest.read_bytes())
    with Store.open(tmp_path / "restored") as restored:
        assert _stats(restored) == _stats(store)
    with pytest.raises(StoreError, match="already exists"):
        store.backup(dest)


def test_repair_restores_consistency_from_the_attempts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Store.open(home) as store:
        _populate(store)
        expected = store.card("q1").to_dict()
    raw = sqlite3.connect(home / "progress.db")
    raw.execute("DELETE FROM review_log WHERE question_id = 'q1'")
    raw.execute("INSERT INTO cards VALUES ('ghost', 1, 2, NULL, 3.0, 5.0, 0, 0)")
    raw.commit()
    raw.close()
    with Store.open(home) as store:
        problems = store.check()
        assert any("no review log" in p for p in problems)
        assert any("no reviews behind them" in p for p in problems)
    messages = repair(home)
    assert any("Restored the review record of 2 attempt(s)" in m for m in messages)
    with Store.open(home) as store:
        assert store.check() == []
        assert store.card("q1").to_dict() == expected and store.card("ghost") is None
    assert repair(home)[-1].endswith("is healthy; nothing to repair.")


def test_runs_left_running_can_be_marked_interrupted(store: Store) -> None:
    old = store.record_sim_run("epochs", {}, "cpu", started=T0)
    store.record_sim_run("epochs", {}, "cpu", started=T0 + timedelta(hours=10))
    assert [r.id for r in store.stale_sim_runs()] == [old, old + 1]
    assert store.mark_interrupted_runs(T0 + timedelta(hours=1)) == 1
    assert store.get_sim_run(old).status == "interrupted"
    with pytest.raises(ValueError, match="status must be one of"):
        store.record_sim_run("epochs", {}, "cpu", "exploded")

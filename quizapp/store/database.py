"""The progress database: the one module that talks SQL.

Everything quizapp remembers lives in one SQLite file, ``progress.db`` in the data directory
(``quizapp.store.paths``: ``--home`` beats ``$QUIZAPP_HOME`` beats the platform's user data folder).
WAL journal, ``synchronous=FULL``, a busy timeout and foreign keys are set on every
connection. Timestamps are stored as UTC epoch milliseconds; anything "per day" takes the
user's ``tz`` so days follow local midnight (DST included).

A ``Store`` (one sqlite connection) belongs to the thread that opened it; a worker thread
opens its own. Two processes may have the same database open: writers wait for each other
(busy timeout), readers never block. Every open Store holds a shared lock on
``progress.db.lock`` (``quizapp.store.owners``), so a damaged database is never moved aside
while another quizapp has it open.

Opening::

    Store.open(home: Path | str | None = None, *, busy_timeout: float = 5.0,
               read_only: bool = False) -> Store
        Creates the folder and database, applies migrations, moves a damaged file aside
        (``progress.db.corrupt-<UTC timestamp>``, never deleted) and starts fresh, salvaging
        what rows it can read, and marks simulation runs whose program has ended as
        interrupted. Raises StoreError (StoreBusyError when locked) with a message fit to
        show the user; a damaged file that another quizapp holds open is left in place
        ("in use by another quizapp (pid N); close it first"). ``store.notices``: list[str]
        of things to tell the user.
        read_only=True (export, backup): writes nothing at all, also in a folder or file
        nobody may write: no migrations (an older schema is migrated in a private in-memory
        copy), no repair (a damaged file raises StoreError), no lock file created; a missing
        database reads as empty. Writes then raise StoreError. ``store.read_only``.
    store.close(); also a context manager.  store.path, store.home, store.schema_version

Settings::

    store.settings() -> Settings(desired_retention: float, new_per_day: int)
    store.update_settings(*, desired_retention=None, new_per_day=None) -> Settings
    store.get_setting(key, default=None) -> Any;  store.set_setting(key, value) -> None (JSON)

Every JSON text the store writes (settings, run params/summary/result/prediction, export
files) is strict: ``allow_nan=False``, non-finite numbers stored as null (the run's status
says why, e.g. ``diverged``); NaN/Infinity written by older versions read back as None.

Attempts (each committed in its own transaction with the new FSRS card and review log)::

    store.record_attempt(question, grade, rating, *, answer, started, submitted,
                         mode="review", seconds=None) -> Attempt
        question: anything with .id, .content_hash, .rubric (RubricPoint(text, must_have));
        grade: quizapp.domain.grading.Grade from grade_rubric / grade_numeric; rating: the rating
        the user chose (may differ from grade.suggested); started/submitted: aware
        datetimes; mode "review" | "practice"; seconds: time spent (default submitted -
        started).
        Both modes update the schedule (FSRS handles early reviews); mode is kept for stats.
    store.undo_last_attempt() -> Attempt | None   (restores the card as it was before)
    store.last_attempt() -> Attempt | None
    store.question_history(question_id, limit=None) -> list[Attempt]  (newest first, with
        .points: the rubric points of the version answered and whether each was met)
    store.card(question_id) -> fsrs.Card | None
    store.cards(question_ids) -> dict[str, fsrs.Card]   (the answered ones, one query)

Queue and progress (``now``: aware datetime; ``tz``: tzinfo such as ZoneInfo; ``topics``:
mapping question id -> topic of the questions that exist now, in deck order)::

    store.due_queue(question_ids: Sequence[str], now, tz, *, new_limit=None) -> list[QueueItem]
    store.due_counts(now, tz, question_ids=None) -> DueCounts(now, today, week)
    store.new_remaining_today(question_ids, now, tz, *, new_limit=None) -> int
    store.streak(now, tz) -> Streak(current, longest, reviewed_today)
    store.reviews_per_day(first: date, last: date, tz) -> list[DayCount(day, reviews)]
    store.score_trend(now, tz, *, weeks=12) -> list[TrendPoint(week, attempts, mean_score)]
    store.mastery(topics, now) -> list[TopicMastery]
    store.missed_points(*, question_id=None, limit=10) -> list[MissedPoint]
    store.recent_answers(*, per_question=2) -> dict[str, list[Attempt]]  (with .points)
    store.again_counts() -> dict[str, int]      (times each question was rated Again)
    store.summary(topics, now, tz) -> Summary   (everything the home screen shows)
    store.totals() -> Totals(attempts, questions_seen, sim_runs, first, last)
    store.question_stats(question_ids: Iterable[str]) -> dict[str, QuestionStats]
        Browse's table in one grouped query (ids in the given order, duplicates once):
        QuestionStats(attempts, last_score, last_attempt, mean_score, due); a question never
        answered gets QuestionStats() (0 attempts, the rest None). ~55 ms for 500 questions
        at 100,000 attempts (bench/store_scale.py), against ~8-14 s for one
        question_history() + card() per question.

Simulation runs::

    store.record_sim_run(experiment, params, device, status="running", *, summary=None,
                         result=None, question_id=None, seed=None, started=None,
                         finished=None, prediction=None, prediction_outcome=None) -> int
        status: running | ok | diverged | oom | cancelled | failed | interrupted
        seed: None or a whole number 0..2^63-1, else ValueError (``sims.params.check_seed`` lets a
        front end check before a run starts). A "running" run records this process (pid
        and start token); it is marked interrupted at the next open once that process ends.
    store.set_sim_prediction(run_id, prediction, outcome=None) -> None
    store.finish_sim_run(run_id, status, *, summary=None, result=None, finished=None) -> None
    store.record_mock_interview(*, started, finished, minutes, topics, score, report) -> int
    store.mock_interviews(*, limit=50) -> list[MockInterviewRecord]   (newest first)
    store.sim_runs(*, limit=50, experiment=None, question_id=None) -> list[SimRun]
        (newest first; .result is not loaded here)
    store.get_sim_run(run_id) -> SimRun | None   (with .result)

Your data::

    store.export_data(now) -> dict;  store.export_file(path, now) -> dict (counts)
    store.import_data(doc, *, source="data") -> ImportReport;  store.import_file(path)
        Validation errors name record and field ("review_log[3].duration_ms: expected a
        whole number between 0 and 2^63-1"): integers outside 0..2^63-1, settings out of
        range, answers over MAX_ANSWER_CHARS (refused, not cut), nesting over 64 levels.
        import_file reads only a regular file of at most 50 MB (MAX_IMPORT_BYTES).
    store.import_needs_backup(path) -> bool
        True when the database holds attempts and the file holds anything new (so a backup
        before importing is worth taking); raises StoreError for a file import would refuse.
    store.backup(dest: Path) -> Path            (SQLite online backup, checked afterwards)
    store.check() -> list[str]                  (integrity problems; empty when healthy)
    store.stale_sim_runs() -> list[SimRun];  store.mark_interrupted_runs(started_before) -> int
    store.mark_orphaned_runs() -> int           (runs whose program ended; Store.open calls it)
    store.seen_question_ids() -> set[str]
    repair(home) -> list[str]                   (move a damaged database aside, salvage rows;
                                                 refused while another quizapp has it open)

Salvage (``quizapp.store.recovery``) works on a copy of the damaged file: SQLite's own
``.recover`` where the ``sqlite3`` tool is installed and works, else each table read in rowid
order with ``writable_schema`` on, jumping past the rowid ranges of lost pages; the notice
says how many rows of each table were recovered (172 of 200 attempts from a file cut to 90 %).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import uuid
from collections import defaultdict
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fsrs import Card, State
from sqlite_utils import Database

from quizapp.domain import scheduling
from quizapp.domain.grading import Grade, Rating
from quizapp.domain.limits import SEED_RANGE
from quizapp.domain.scheduling import (
    DEFAULT_NEW_PER_DAY,
    DEFAULT_RETENTION,
    NEW_PER_DAY_RANGE,
    RETENTION_RANGE,
    QueueItem,
    Streak,
    as_utc,
    day_start,
    from_ms,
    local_day,
    to_ms,
)
from quizapp.store.errors import (
    CORRUPT,
    NOTADB,
    StoreError,
    explain,
    guarded,
    sqlite_code,
)
from quizapp.store.jsonio import dumps, finite, loads, read_file
from quizapp.store.owners import OpenLock, process_gone, process_token
from quizapp.store.paths import data_home, database_path
from quizapp.store.records import (
    MODES,
    RECENT_ATTEMPTS,
    SIM_STATUSES,
    Attempt,
    DayCount,
    DueCounts,
    ImportReport,
    MissedPoint,
    MockInterviewRecord,
    PointResult,
    QuestionLike,
    QuestionStats,
    Settings,
    SimRun,
    Summary,
    TopicMastery,
    Totals,
    TrendPoint,
)
from quizapp.store.recovery import (
    connect,
    connect_read_only,
    damaged_notice,
    move_aside,
    prepare_home,
    salvage,
)
from quizapp.store.schema import SCHEMA_VERSION, migrate, newer_schema, write_transaction
from quizapp.store.transfer import EXPORT_FORMAT, validated_export

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence


def repair(home: Path | str | None = None, *, now: datetime | None = None) -> list[str]:
    """Fix what ``Store.check`` reports, losing nothing; returns messages for the user.

    Damaged pages: the file is moved aside (kept) and every readable row copied into a fresh
    database. Inconsistent records (an attempt without its review, a schedule without
    reviews behind it) are repaired from the attempts, the record of what the user did."""
    root = home if isinstance(home, Path) else data_home(home)
    with Store.open(root) as store:
        messages = list(store.notices)
        damage = store._page_problems()
        if damage:
            reason = "; ".join(damage[:3])
            # Never under another running quizapp: its next grades would go to the moved file.
            lock = store._lock
            assert lock is not None  # held while the store is open
            with lock.exclusive(store.path, reason):
                store.db.close()
                aside = move_aside(store.path, now or datetime.now(UTC))
                with Store.open(root) as fresh:
                    salvaged = salvage(fresh.db, aside)
                    fresh._rebuild_after_salvage()
            messages.append(damaged_notice(store.path, aside, reason, salvaged))
    with Store.open(root) as store:
        fixed = store._restore_consistency()
        messages += fixed
        if not damage and not fixed and not store.check():
            messages.append(f"{store.path} is healthy; nothing to repair.")
    return messages


# --- the store --------------------------------------------------------------------------


class Store:
    """The progress database. Open with :meth:`Store.open`; see the module docstring."""

    def __init__(
        self,
        db: Database,
        home: Path,
        busy_timeout: float,
        notices: list[str],
        lock: OpenLock | None = None,
        read_only: bool = False,
    ):
        self.db = db
        self.home = home
        self.path = database_path(home)
        self.busy_timeout = busy_timeout
        self.notices = notices
        self.read_only = read_only
        self._lock = lock

    @classmethod
    def open(
        cls,
        home: Path | str | None = None,
        *,
        busy_timeout: float = 5.0,
        read_only: bool = False,
    ) -> Store:
        root = home if isinstance(home, Path) else data_home(home)
        root = root.expanduser()
        path = database_path(root)
        if read_only:
            return cls._open_read_only(root, busy_timeout)
        prepare_home(root)
        notices: list[str] = []
        lock = OpenLock.acquire(path, busy_timeout)
        try:
            store = cls._open_locked(root, busy_timeout, notices, lock)
        except BaseException:
            lock.release()
            raise
        return store

    @classmethod
    def _open_locked(
        cls, root: Path, busy_timeout: float, notices: list[str], lock: OpenLock
    ) -> Store:
        path = database_path(root)
        try:
            db, replaced = cls._open_or_replace(path, busy_timeout, notices, lock)
        except sqlite3.Error as exc:
            raise explain(exc, path, busy_timeout) from exc
        try:
            before = migrate(db)
        except sqlite3.Error as exc:
            db.close()
            raise explain(exc, path, busy_timeout) from exc
        except StoreError:
            db.close()
            raise
        if 0 < before < SCHEMA_VERSION:
            notices.append(
                f"Upgraded the progress database {path} from schema {before} to "
                f"{SCHEMA_VERSION}; all records kept."
            )
        store = cls(db, root, busy_timeout, notices, lock)
        try:
            if replaced:
                store._rebuild_after_salvage()
            ended = store.mark_orphaned_runs()
        except StoreError:
            store.close()
            raise
        if ended:
            notices.append(
                f"Marked {ended} simulation run(s) as interrupted: the program running them "
                "had ended."
            )
        return store

    @classmethod
    def _open_read_only(cls, root: Path, busy_timeout: float) -> Store:
        """Read without writing anything: no migrations, no repairs, no lock file created.

        An older schema is migrated in a private in-memory copy; a missing database reads
        as an empty one."""
        path = database_path(root)
        lock = OpenLock.acquire(path, busy_timeout, read_only=True)
        try:
            if path.exists():
                db = connect_read_only(path, busy_timeout)
                verdicts = [r[0] for r in db.execute("PRAGMA quick_check(3)").fetchall()]
                if verdicts != ["ok"]:
                    db.close()
                    raise StoreError(
                        f"The progress database {path} is damaged ({'; '.join(verdicts)}). "
                        "Nothing was changed. Run `quizapp doctor --repair` to move it aside "
                        "and recover what can still be read."
                    )
                version = int(db.execute("PRAGMA user_version").fetchone()[0])
                if version > SCHEMA_VERSION:
                    db.close()
                    raise newer_schema(version)
            else:
                db, version = Database(sqlite3.connect(":memory:")), 0
            if version < SCHEMA_VERSION:
                memory = sqlite3.connect(":memory:")
                db.conn.backup(memory)
                db.close()
                db = Database(memory, execute_plugins=False)
                migrate(db)
                db.execute("PRAGMA query_only = ON")
        except sqlite3.Error as exc:
            lock.release()
            raise explain(exc, path, busy_timeout) from exc
        except BaseException:
            lock.release()
            raise
        return cls(db, root, busy_timeout, [], lock, read_only=True)

    @staticmethod
    def _open_or_replace(
        path: Path, busy_timeout: float, notices: list[str], lock: OpenLock
    ) -> tuple[Database, bool]:
        """Connect; a file that is not a readable database is moved aside and replaced."""
        db: Database | None = None
        try:
            db = connect(path, busy_timeout)
            # quick_check reads every page (~90 ms for 100,000 attempts): damage found now
            # is moved aside before any write can make it worse.
            verdicts = [r[0] for r in db.execute("PRAGMA quick_check(3)").fetchall()]
            if verdicts == ["ok"]:
                return db, False
            db.close()
            reason = "; ".join(verdicts)
        except sqlite3.DatabaseError as exc:
            if db is not None:
                db.close()
            if sqlite_code(exc) not in (CORRUPT, NOTADB):
                raise
            reason = str(exc)
        with lock.exclusive(path, reason):
            aside = move_aside(path, datetime.now(UTC))
            db = connect(path, busy_timeout)
            migrate(db)
            salvaged = salvage(db, aside)
        notices.append(damaged_notice(path, aside, reason, salvaged))
        return db, True

    def close(self) -> None:
        with suppress(sqlite3.Error):
            self.db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # --- settings ---------------------------------------------------------------------

    @guarded
    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return default if row is None else loads(row[0])

    @guarded
    def set_setting(self, key: str, value: Any) -> None:
        with write_transaction(self.db):
            self.db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, dumps(value)],
            )

    def settings(self) -> Settings:
        retention = self.get_setting("desired_retention", DEFAULT_RETENTION)
        per_day = self.get_setting("new_per_day", DEFAULT_NEW_PER_DAY)
        try:
            return Settings(_valid_retention(retention), _valid_new_per_day(per_day))
        except ValueError:
            return Settings()  # a hand-edited bad value must not stop reviews

    def update_settings(
        self, *, desired_retention: float | None = None, new_per_day: int | None = None
    ) -> Settings:
        """Validate and save; raises ValueError with the allowed range."""
        if desired_retention is not None:
            self.set_setting("desired_retention", _valid_retention(desired_retention))
        if new_per_day is not None:
            self.set_setting("new_per_day", _valid_new_per_day(new_per_day))
        return self.settings()

    # --- attempts ---------------------------------------------------------------------

    @guarded
    def record_attempt(
        self,
        question: QuestionLike,
        grade: Grade,
        rating: Rating | int,
        *,
        answer: str,
        started: datetime,
        submitted: datetime,
        mode: Literal["review", "practice"] | str = "review",
        seconds: float | None = None,
    ) -> Attempt:
        """Save a graded attempt, the question's new FSRS card and the review log, in one
        transaction committed before returning."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        chosen = Rating(int(rating))
        start, end = as_utc(started), as_utc(submitted)
        if seconds is None:
            seconds = max(0.0, (end - start).total_seconds())
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, not {seconds!r}")
        # A numeric answer is graded on its number (rubric_size 0): its rubric points, if
        # any, were not ticked and must not count as missed.
        size = grade.rubric_size
        met = frozenset(grade.met)
        if size not in (0, len(question.rubric)) or any(not 0 <= i < size for i in met):
            raise ValueError(
                f"grade (points {sorted(met)} of {size}) does not fit {question.id}'s rubric "
                f"of {len(question.rubric)} points"
            )
        uid = uuid.uuid4().hex
        with write_transaction(self.db):
            retention = self._retention()
            before = self._card(question.id)
            outcome = scheduling.review(
                before,
                question.id,
                chosen,
                end,
                desired_retention=retention,
                duration_ms=int(seconds * 1000),
            )
            self._remember_rubric(question)
            cur = self.db.execute(
                """INSERT INTO attempts (uid, question_id, content_hash, started_ms,
                    submitted_ms, answer, rubric_size, met_mask, score, suggested, rating,
                    seconds, mode, red_flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    uid,
                    question.id,
                    question.content_hash,
                    to_ms(start),
                    to_ms(end),
                    answer,
                    size,
                    _mask(met),
                    float(grade.score),
                    int(grade.suggested),
                    int(chosen),
                    float(seconds),
                    mode,
                    _json_text(list(grade.red_flags)) if grade.red_flags else None,
                ],
            )
            attempt_id = int(cur.lastrowid or 0)
            self._insert_review(attempt_id, question.id, outcome)
            self._save_card(question.id, outcome.after)
        return Attempt(
            id=attempt_id,
            uid=uid,
            question_id=question.id,
            content_hash=question.content_hash,
            started=start,
            submitted=end,
            answer=answer,
            met=met,
            rubric_size=size,
            score=float(grade.score),
            suggested=Rating(int(grade.suggested)),
            rating=chosen,
            seconds=float(seconds),
            mode=mode,
            red_flags=tuple(grade.red_flags),
        )

    @guarded
    def undo_last_attempt(self) -> Attempt | None:
        """Remove the most recent attempt and put the question's schedule back as it was."""
        with write_transaction(self.db):
            row = self._one(f"SELECT {_ATTEMPT_COLS} FROM attempts ORDER BY id DESC LIMIT 1")
            if row is None:
                return None
            attempt = _attempt(row)
            log = self._one(
                "SELECT reviewed_ms, card_before FROM review_log WHERE attempt_id = ?",
                [attempt.id],
            )
            head = self._one(
                "SELECT last_review_ms FROM cards WHERE question_id = ?", [attempt.question_id]
            )
            self.db.execute("DELETE FROM attempts WHERE id = ?", [attempt.id])
            if log is not None and head is not None and head[0] == log[0]:
                if log[1] is None:
                    self.db.execute(
                        "DELETE FROM cards WHERE question_id = ?", [attempt.question_id]
                    )
                else:
                    self._save_card(attempt.question_id, Card.from_json(log[1]))
            else:
                # The card moved on since (an import merged other reviews): rebuild it.
                self._rebuild_card(attempt.question_id)
        return attempt

    @guarded
    def last_attempt(self) -> Attempt | None:
        row = self._one(f"SELECT {_ATTEMPT_COLS} FROM attempts ORDER BY id DESC LIMIT 1")
        return None if row is None else _attempt(row)

    @guarded
    def question_history(self, question_id: str, limit: int | None = None) -> list[Attempt]:
        """Attempts at one question, newest first, with the rubric of the version answered."""
        sql = (
            f"SELECT {_ATTEMPT_COLS} FROM attempts WHERE question_id = ? "
            "ORDER BY submitted_ms DESC, id DESC"
        )
        params: list[Any] = [question_id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        attempts = [_attempt(r) for r in self.db.execute(sql, params).fetchall()]
        rubrics: dict[str, dict[int, tuple[str, bool]]] = defaultdict(dict)
        for content_hash, point, text, must in self.db.execute(
            "SELECT content_hash, point, text, must_have FROM rubric_points WHERE question_id = ?",
            [question_id],
        ):
            rubrics[content_hash][point] = (text, bool(must))
        out = []
        for a in attempts:
            texts = rubrics.get(a.content_hash, {})
            points = tuple(
                PointResult(i, *texts.get(i, (f"point {i + 1}", False)), met=i in a.met)
                for i in range(a.rubric_size)
            )
            out.append(_replace_points(a, points))
        return out

    @guarded
    def card(self, question_id: str) -> Card | None:
        return self._card(question_id)

    @guarded
    def cards(self, question_ids: Sequence[str]) -> dict[str, Card]:
        """The schedules of those of ``question_ids`` that have been answered, in one query."""
        rows = self.db.execute(
            f"SELECT question_id, {_CARD_COLS} FROM cards "
            "WHERE question_id IN (SELECT value FROM json_each(?))",
            [json.dumps(list(question_ids))],
        ).fetchall()
        return {r[0]: _card_from_row(r[1:]) for r in rows}

    # --- queue and progress -----------------------------------------------------------

    @guarded
    def due_queue(
        self,
        question_ids: Sequence[str],
        now: datetime,
        tz: tzinfo,
        *,
        new_limit: int | None = None,
    ) -> list[QueueItem]:
        """What to review now: due questions (longest overdue first), then new ones in the
        given order up to today's remaining new-question allowance."""
        ids = list(dict.fromkeys(question_ids))
        now_ms = to_ms(as_utc(now))
        rows = self.db.execute(
            "SELECT question_id, due_ms, due_ms <= ? FROM cards "
            "WHERE question_id IN (SELECT value FROM json_each(?))",
            [now_ms, json.dumps(ids)],
        ).fetchall()
        seen = {r[0] for r in rows}
        due = [(r[0], from_ms(r[1])) for r in rows if r[2]]
        remaining = self._new_remaining(now, tz, new_limit)
        return scheduling.plan_queue(due, (q for q in ids if q not in seen), remaining)

    @guarded
    def due_counts(
        self, now: datetime, tz: tzinfo, question_ids: Sequence[str] | None = None
    ) -> DueCounts:
        now_utc = as_utc(now)
        today = local_day(now_utc, tz)
        bounds = [
            to_ms(now_utc),
            to_ms(day_start(today + timedelta(days=1), tz)),
            to_ms(day_start(today + timedelta(days=7), tz)),
        ]
        where, params = _id_filter("question_id", question_ids)
        row = self.db.execute(
            "SELECT count(*) FILTER (WHERE due_ms <= ?), count(*) FILTER (WHERE due_ms < ?), "
            f"count(*) FILTER (WHERE due_ms < ?) FROM cards WHERE due_ms < ? {where}",
            [*bounds, bounds[2], *params],
        ).fetchone()
        return DueCounts(now=row[0], today=row[1], week=row[2])

    @guarded
    def new_remaining_today(
        self,
        question_ids: Sequence[str],
        now: datetime,
        tz: tzinfo,
        *,
        new_limit: int | None = None,
    ) -> int:
        """How many new questions may still be started today (never more than exist)."""
        ids = list(dict.fromkeys(question_ids))
        seen = self.db.execute(
            "SELECT count(*) FROM cards WHERE question_id IN (SELECT value FROM json_each(?))",
            [json.dumps(ids)],
        ).fetchone()[0]
        return min(len(ids) - seen, self._new_remaining(now, tz, new_limit))

    @guarded
    def streak(self, now: datetime, tz: tzinfo) -> Streak:
        now_utc = as_utc(now)
        first = self.db.execute("SELECT min(submitted_ms) FROM attempts").fetchone()[0]
        today = local_day(now_utc, tz)
        if first is None:
            return Streak(0, 0, False)
        first_day = min(local_day(from_ms(first), tz), today)
        active = self._days_with_reviews(_spans(first_day, today, tz))
        return scheduling.compute_streak(active, today)

    @guarded
    def reviews_per_day(self, first: date, last: date, tz: tzinfo) -> list[DayCount]:
        """Reviews on each local day from ``first`` to ``last`` inclusive (zeros included)."""
        spans = _spans(first, last, tz)
        rows = self.db.execute(
            """SELECT (SELECT count(*) FROM attempts AS a
                WHERE a.submitted_ms >= json_extract(s.value, '$[0]')
                  AND a.submitted_ms < json_extract(s.value, '$[1]'))
            FROM json_each(?) AS s ORDER BY s.key""",
            [json.dumps(list(spans.values()))],
        ).fetchall()
        return [DayCount(day, n) for day, (n,) in zip(spans, rows, strict=True)]

    @guarded
    def score_trend(self, now: datetime, tz: tzinfo, *, weeks: int = 12) -> list[TrendPoint]:
        """Mean score per local week (Monday first), oldest first, for the last ``weeks``
        weeks including this one; weeks without attempts are left out."""
        today = local_day(as_utc(now), tz)
        monday = today - timedelta(days=today.weekday())
        spans = _spans(monday - timedelta(weeks=weeks - 1), monday, tz, step=7)
        return [
            TrendPoint(week, n, mean)
            for week, (n, mean) in zip(spans, self._tally(spans), strict=True)
            if n
        ]

    @guarded
    def mastery(self, topics: Mapping[str, str], now: datetime) -> list[TopicMastery]:
        """Mastery per topic (in first-seen order of ``topics``); see TopicMastery."""
        rows = self.db.execute(
            f"""WITH q AS (SELECT key AS id, value AS topic FROM json_each(?))
            SELECT q.id, q.topic, {_CARD_COLS_C},
                   (SELECT avg(score) FROM (SELECT score FROM attempts AS a
                        WHERE a.question_id = q.id ORDER BY a.submitted_ms DESC LIMIT ?))
            FROM q LEFT JOIN cards AS c ON c.question_id = q.id""",
            [json.dumps(dict(topics)), RECENT_ATTEMPTS],
        ).fetchall()
        per_topic: dict[str, list[tuple[float | None, float | None]]] = {}
        for row in rows:
            card = _card_from_row(row[2:9]) if row[2] is not None else None
            recall = scheduling.retrievability(card, now) if card is not None else None
            per_topic.setdefault(row[1], []).append((recall, row[9]))
        out = []
        for topic, items in per_topic.items():
            seen = [(r or 0.0, s or 0.0) for r, s in items if r is not None or s is not None]
            total = sum(r * s for r, s in seen)
            out.append(
                TopicMastery(
                    topic=topic,
                    questions=len(items),
                    seen=len(seen),
                    mastery=total / len(items) if items else 0.0,
                    mean_recent_score=_mean([s for _, s in seen]),
                    mean_retrievability=_mean([r for r, _ in seen]),
                )
            )
        return out

    @guarded
    def missed_points(
        self, *, question_id: str | None = None, limit: int | None = 10
    ) -> list[MissedPoint]:
        """Rubric points missed most often, overall or for one question.

        A point keeps its tally across edits of other parts of the question (points are
        matched by their text)."""
        where, params = ("WHERE question_id = ?", [question_id]) if question_id else ("", [])
        width = self.db.execute(f"SELECT max(rubric_size) FROM attempts {where}", params)
        points = int(width.fetchone()[0] or 0)
        if points == 0:
            return []
        # Group by the exact set of points met first (one pass over a covering index, a few
        # dozen sets per question version), then count each point's misses over those groups.
        missed = ", ".join(f"sum(n * ((met_mask >> {i}) & 1 = 0))" for i in range(points))
        rows = self.db.execute(
            f"""WITH g AS (
                SELECT question_id, content_hash, rubric_size, met_mask, count(*) AS n
                FROM attempts {where}
                GROUP BY question_id, content_hash, rubric_size, met_mask)
            SELECT question_id, content_hash, rubric_size, sum(n), {missed}
            FROM g GROUP BY question_id, content_hash, rubric_size""",
            params,
        ).fetchall()
        texts = self._rubric_texts({(r[0], r[1]) for r in rows})
        tally: dict[tuple[str, str], list[Any]] = {}
        for qid, content_hash, rubric_size, shown, *misses in rows:
            for point in range(rubric_size):
                text, must = texts.get((qid, content_hash, point), (f"point {point + 1}", False))
                entry = tally.setdefault((qid, text), [must, 0, 0])
                entry[1] += misses[point]
                entry[2] += shown
        ranked = sorted(
            (MissedPoint(q, t, bool(v[0]), int(v[1]), int(v[2])) for (q, t), v in tally.items()),
            key=lambda m: (-m.missed, -m.miss_rate, m.question_id, m.text),
        )
        ranked = [m for m in ranked if m.missed > 0]
        return ranked if limit is None else ranked[:limit]

    @guarded
    def recent_answers(self, *, per_question: int = 2) -> dict[str, list[Attempt]]:
        """The latest ``per_question`` graded rubric answers of every question, newest first,
        with their points (numeric answers have no points and are left out)."""
        rows = self.db.execute(
            f"""SELECT {_ATTEMPT_COLS} FROM (
                SELECT *, row_number() OVER (
                    PARTITION BY question_id ORDER BY submitted_ms DESC, id DESC) AS k
                FROM attempts WHERE rubric_size > 0)
            WHERE k <= ? ORDER BY question_id, k""",
            [int(per_question)],
        ).fetchall()
        attempts = [_attempt(r) for r in rows]
        texts = self._rubric_texts({(a.question_id, a.content_hash) for a in attempts})
        out: dict[str, list[Attempt]] = {}
        for a in attempts:
            points = tuple(
                PointResult(
                    i,
                    *texts.get((a.question_id, a.content_hash, i), (f"point {i + 1}", False)),
                    met=i in a.met,
                )
                for i in range(a.rubric_size)
            )
            out.setdefault(a.question_id, []).append(_replace_points(a, points))
        return out

    @guarded
    def again_counts(self) -> dict[str, int]:
        """How many times each question was rated Again (failed)."""
        return dict(
            self.db.execute(
                "SELECT question_id, count(*) FROM attempts WHERE rating = 1 GROUP BY question_id"
            ).fetchall()
        )

    @guarded
    def totals(self) -> Totals:
        row = self.db.execute(
            "SELECT count(*), count(DISTINCT question_id), min(submitted_ms), max(submitted_ms) "
            "FROM attempts"
        ).fetchone()
        runs = self.db.execute("SELECT count(*) FROM sim_runs").fetchone()[0]
        return Totals(
            attempts=row[0],
            questions_seen=row[1],
            sim_runs=runs,
            first=from_ms(row[2]) if row[2] is not None else None,
            last=from_ms(row[3]) if row[3] is not None else None,
        )

    @guarded
    def question_stats(self, question_ids: Iterable[str]) -> dict[str, QuestionStats]:
        """Attempts, latest score and time, mean score and due date of every given question,
        in one grouped query (Browse's table); unseen questions get empty stats."""
        ids = list(dict.fromkeys(question_ids))
        # max() makes SQLite take the bare column (score) from the row holding the maximum:
        # the latest attempt's score, in the same single pass over the attempts.
        rows = self.db.execute(
            """WITH q AS (SELECT value AS id FROM json_each(?)),
            a AS (SELECT question_id, count(*) AS n, avg(score) AS mean,
                         max(submitted_ms) AS last_ms, score AS last_score
                  FROM attempts WHERE question_id IN (SELECT id FROM q)
                  GROUP BY question_id)
            SELECT q.id, a.n, a.last_score, a.last_ms, a.mean, c.due_ms
            FROM q LEFT JOIN a ON a.question_id = q.id
                   LEFT JOIN cards AS c ON c.question_id = q.id""",
            [json.dumps(ids)],
        ).fetchall()
        return {
            qid: QuestionStats(
                attempts=n or 0,
                last_score=last,
                last_attempt=from_ms(last_ms) if last_ms is not None else None,
                mean_score=mean,
                due=from_ms(due_ms) if due_ms is not None else None,
            )
            for qid, n, last, last_ms, mean, due_ms in rows
        }

    def summary(
        self,
        topics: Mapping[str, str],
        now: datetime,
        tz: tzinfo,
        *,
        new_limit: int | None = None,
    ) -> Summary:
        """Everything the home screen shows, for the questions in ``topics``
        (``new_limit``: today's new-question allowance when not the usual setting)."""
        ids = list(topics)
        today = local_day(as_utc(now), tz)
        seen = self._count_seen(ids)
        return Summary(
            due=self.due_counts(now, tz, ids),
            new_remaining_today=self.new_remaining_today(ids, now, tz, new_limit=new_limit),
            new_available=len(ids) - seen,
            reviews_today=self.reviews_per_day(today, today, tz)[0].reviews,
            streak=self.streak(now, tz),
            mastery=tuple(self.mastery(topics, now)),
        )

    # --- simulation runs --------------------------------------------------------------

    @guarded
    def record_sim_run(
        self,
        experiment: str,
        params: Mapping[str, Any],
        device: str,
        status: str = "running",
        *,
        summary: Any = None,
        result: Any = None,
        question_id: str | None = None,
        seed: int | None = None,
        started: datetime | None = None,
        finished: datetime | None = None,
        prediction: Any = None,
        prediction_outcome: Any = None,
    ) -> int:
        """Save a simulation run; returns its id. ``summary``/``result``: JSON-able values
        or JSON text (e.g. from ``result.to_json()``)."""
        _check_status(status)
        _check_stored_seed(seed)
        start = as_utc(started or datetime.now(UTC))
        if finished is None and status != "running":
            finished = datetime.now(UTC)
        # A running run remembers this process, so a later start can tell that it was killed.
        pid = os.getpid() if status == "running" else None
        token = process_token(pid) if pid is not None else None
        with write_transaction(self.db):
            cur = self.db.execute(
                """INSERT INTO sim_runs (uid, experiment, params, device, status, seed,
                    question_id, started_ms, finished_ms, summary, result, prediction,
                    prediction_outcome, owner_pid, owner_token)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    uuid.uuid4().hex,
                    experiment,
                    dumps(dict(params), sort_keys=True),
                    device,
                    status,
                    seed,
                    question_id,
                    to_ms(start),
                    to_ms(as_utc(finished)) if finished else None,
                    _json_text(summary),
                    _json_text(result),
                    _json_text(prediction),
                    _json_text(prediction_outcome),
                    pid,
                    token,
                ],
            )
        return int(cur.lastrowid or 0)

    @guarded
    def set_sim_prediction(self, run_id: int, prediction: Any, outcome: Any = None) -> None:
        """Attach the user's prediction (and, once the run shows it, its outcome) to a run."""
        with write_transaction(self.db):
            cur = self.db.execute(
                "UPDATE sim_runs SET prediction = ?, prediction_outcome = ? WHERE id = ?",
                [_json_text(prediction), _json_text(outcome), run_id],
            )
            if cur.rowcount == 0:
                raise StoreError(f"There is no simulation run with id {run_id}.")

    @guarded
    def finish_sim_run(
        self,
        run_id: int,
        status: str,
        *,
        summary: Any = None,
        result: Any = None,
        finished: datetime | None = None,
    ) -> None:
        """Set a run's final status (and summary/result when given)."""
        _check_status(status)
        end = as_utc(finished or datetime.now(UTC))
        with write_transaction(self.db):
            cur = self.db.execute(
                "UPDATE sim_runs SET status = ?, finished_ms = ?, "
                "summary = coalesce(?, summary), result = coalesce(?, result) WHERE id = ?",
                [status, to_ms(end), _json_text(summary), _json_text(result), run_id],
            )
            if cur.rowcount == 0:
                raise StoreError(f"There is no simulation run with id {run_id}.")

    # --- mock interviews -------------------------------------------------------------

    @guarded
    def record_mock_interview(
        self,
        *,
        started: datetime,
        finished: datetime,
        minutes: int,
        topics: Sequence[str],
        score: float,
        report: Mapping[str, Any],
    ) -> int:
        """Keep a finished mock interview and its report; returns its id."""
        with write_transaction(self.db):
            cur = self.db.execute(
                "INSERT INTO mock_interviews (uid, started_ms, finished_ms, minutes, topics, "
                "score, report) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    uuid.uuid4().hex,
                    to_ms(as_utc(started)),
                    to_ms(as_utc(finished)),
                    int(minutes),
                    json.dumps(list(topics)),
                    min(1.0, max(0.0, float(score))),
                    json.dumps(report, allow_nan=False),
                ],
            )
        return int(cur.lastrowid or 0)

    @guarded
    def mock_interviews(self, *, limit: int = 50) -> list[MockInterviewRecord]:
        """Finished mock interviews, newest first."""
        rows = self.db.execute(
            "SELECT id, uid, started_ms, finished_ms, minutes, topics, score, report "
            "FROM mock_interviews ORDER BY started_ms DESC, id DESC LIMIT ?",
            [int(limit)],
        ).fetchall()
        return [
            MockInterviewRecord(
                id=r[0],
                uid=r[1],
                started=from_ms(r[2]),
                finished=from_ms(r[3]),
                minutes=r[4],
                topics=tuple(json.loads(r[5])),
                score=r[6],
                report=json.loads(r[7]),
            )
            for r in rows
        ]

    @guarded
    def sim_runs(
        self,
        *,
        limit: int | None = 50,
        experiment: str | None = None,
        question_id: str | None = None,
    ) -> list[SimRun]:
        clauses, params = [], []
        if experiment is not None:
            clauses.append("experiment = ?")
            params.append(experiment)
        if question_id is not None:
            clauses.append("question_id = ?")
            params.append(question_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_RUN_COLS}, NULL FROM sim_runs {where} ORDER BY started_ms DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_sim_run(r) for r in self.db.execute(sql, params).fetchall()]

    @guarded
    def get_sim_run(self, run_id: int) -> SimRun | None:
        row = self._one(f"SELECT {_RUN_COLS}, result FROM sim_runs WHERE id = ?", [run_id])
        return None if row is None else _sim_run(row)

    # --- export, import, backup, integrity -----------------------------------------------

    @guarded
    def export_data(self, now: datetime) -> dict[str, Any]:
        """Everything in the database as one JSON-able document (see ``import_data``)."""
        db = self.db
        with _read(db):
            attempts = [
                {
                    "uid": r["uid"],
                    "question_id": r["question_id"],
                    "content_hash": r["content_hash"],
                    "started_at": _iso(r["started_ms"]),
                    "submitted_at": _iso(r["submitted_ms"]),
                    "answer": r["answer"],
                    "rubric_size": r["rubric_size"],
                    "met": sorted(_unmask(r["met_mask"])),
                    "score": r["score"],
                    "suggested": r["suggested"],
                    "rating": r["rating"],
                    "seconds": _seconds(r["seconds"], r["started_ms"], r["submitted_ms"]),
                    "mode": r["mode"],
                    "red_flags": _loads(r["red_flags"]) or [],
                }
                for r in db.query("SELECT * FROM attempts ORDER BY id")
            ]
            rubrics = [
                {
                    "question_id": r["question_id"],
                    "content_hash": r["content_hash"],
                    "point": r["point"],
                    "text": r["text"],
                    "must_have": bool(r["must_have"]),
                }
                for r in db.query(
                    "SELECT * FROM rubric_points ORDER BY question_id, content_hash, point"
                )
            ]
            cards = [
                {"question_id": row[0], "card": finite(_card_from_row(row[1:]).to_dict())}
                for row in db.execute(
                    f"SELECT question_id, {_CARD_COLS} FROM cards ORDER BY question_id"
                )
            ]
            reviews = [
                {
                    "attempt_uid": r["uid"],
                    "question_id": r["question_id"],
                    "card_id": r["card_id"],
                    "rating": r["rating"],
                    "reviewed_at": _iso(r["reviewed_ms"]),
                    "duration_ms": r["duration_ms"],
                    "card_before": _loads(r["card_before"]) if r["card_before"] else None,
                }
                for r in db.query(
                    "SELECT a.uid, l.* FROM review_log AS l JOIN attempts AS a "
                    "ON a.id = l.attempt_id ORDER BY l.id"
                )
            ]
            runs = [
                {
                    "uid": r["uid"],
                    "experiment": r["experiment"],
                    "params": loads(r["params"]),
                    "device": r["device"],
                    "status": r["status"],
                    "seed": r["seed"],
                    "question_id": r["question_id"],
                    "started_at": _iso(r["started_ms"]),
                    "finished_at": _iso(r["finished_ms"]) if r["finished_ms"] else None,
                    "summary": _loads(r["summary"]),
                    "result": _loads(r["result"]),
                    "prediction": _loads(r["prediction"]),
                    "prediction_outcome": _loads(r["prediction_outcome"]),
                }
                for r in db.query("SELECT * FROM sim_runs ORDER BY id")
            ]
            interviews = [
                {
                    "uid": r["uid"],
                    "started_at": _iso(r["started_ms"]),
                    "finished_at": _iso(r["finished_ms"]),
                    "minutes": r["minutes"],
                    "topics": loads(r["topics"]),
                    "score": r["score"],
                    "report": loads(r["report"]),
                }
                for r in db.query("SELECT * FROM mock_interviews ORDER BY id")
            ]
            settings = {
                r["key"]: loads(r["value"])
                for r in db.query("SELECT key, value FROM settings ORDER BY key")
            }
        # JSON columns read NaN/inf as None (loads); the REAL columns are made finite above.
        return {
            "format": EXPORT_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "exported_at": as_utc(now).isoformat(timespec="milliseconds"),
            "attempts": attempts,
            "rubric_points": rubrics,
            "cards": cards,
            "review_log": reviews,
            "sim_runs": runs,
            "mock_interviews": interviews,
            "settings": settings,
        }

    def export_file(self, path: Path, now: datetime) -> dict[str, int]:
        """Write :meth:`export_data` to ``path`` (atomically); returns record counts."""
        doc = self.export_data(now)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                fh.write(dumps(doc, ensure_ascii=False, indent=1))
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(path)
        except OSError as exc:
            with suppress(OSError):
                tmp.unlink()
            raise StoreError(f"Cannot write {path}: {exc.strerror or exc}.") from None
        return {k: len(v) for k, v in doc.items() if isinstance(v, list)}

    def import_file(self, path: Path) -> ImportReport:
        """Import an export file (see :meth:`import_data`); the file is read bounded (a
        regular file of at most 50 MB, nested at most 64 levels)."""
        return self.import_data(read_file(path, "quizapp export"), source=str(path))

    @guarded
    def import_needs_backup(self, path: Path) -> bool:
        """Whether importing ``path`` would change anything here (so a backup first is
        worth its time): the database holds data and the file holds something new. Raises
        StoreError for a file that cannot be imported, before anything is written."""
        data = validated_export(read_file(path, "quizapp export"), str(path))
        if not self.db.execute("SELECT EXISTS (SELECT 1 FROM attempts)").fetchone()[0]:
            return False
        checks = (
            ("attempts", "uid", [a["uid"] for a in data["attempts"]]),
            ("sim_runs", "uid", [r["uid"] for r in data["sim_runs"]]),
            ("mock_interviews", "uid", [r["uid"] for r in data["mock_interviews"]]),
            ("settings", "key", list(data["settings"])),
        )
        for table, key, values in checks:
            present = self.db.execute(
                f"SELECT count(*) FROM {table} WHERE {key} IN (SELECT value FROM json_each(?))",
                [json.dumps(values)],
            ).fetchone()[0]
            if present < len(set(values)):
                return True
        return False

    @guarded
    def import_data(self, doc: Any, *, source: str = "data") -> ImportReport:
        """Merge an export into this database, all or nothing.

        Records are matched by their uid, so importing the same file twice adds nothing.
        A question reviewed only in the import takes the imported card as is; one reviewed
        on both sides gets its card rebuilt by replaying the merged reviews in time order."""
        data = validated_export(doc, source)
        report = ImportReport()
        with write_transaction(self.db):
            for p in data["rubric_points"]:
                self.db.execute(
                    "INSERT OR IGNORE INTO rubric_points VALUES (?, ?, ?, ?, ?)",
                    [p["question_id"], p["content_hash"], p["point"], p["text"], p["must_have"]],
                )
            had_card = {r[0] for r in self.db.execute("SELECT question_id FROM cards").fetchall()}
            new_ids: dict[str, int] = {}
            for a in data["attempts"]:
                cur = self.db.execute(
                    """INSERT OR IGNORE INTO attempts (uid, question_id, content_hash,
                        started_ms, submitted_ms, answer, rubric_size, met_mask, score,
                        suggested, rating, seconds, mode, red_flags)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [
                        a["uid"],
                        a["question_id"],
                        a["content_hash"],
                        a["started_ms"],
                        a["submitted_ms"],
                        a["answer"],
                        a["rubric_size"],
                        _mask(a["met"]),
                        a["score"],
                        a["suggested"],
                        a["rating"],
                        a["seconds"],
                        a["mode"],
                        _json_text(a["red_flags"]) if a["red_flags"] else None,
                    ],
                )
                if cur.rowcount:
                    new_ids[a["uid"]] = int(cur.lastrowid or 0)
                    report.questions.add(a["question_id"])
            report.attempts_added = len(new_ids)
            report.attempts_present = len(data["attempts"]) - len(new_ids)
            for r in data["review_log"]:
                attempt_id = new_ids.get(r["attempt_uid"])
                if attempt_id is None:
                    continue
                self.db.execute(
                    """INSERT INTO review_log (attempt_id, question_id, card_id, rating,
                        reviewed_ms, duration_ms, card_before) VALUES (?, ?, ?, ?, ?, ?, ?)""",
                    [
                        attempt_id,
                        r["question_id"],
                        r["card_id"],
                        r["rating"],
                        r["reviewed_ms"],
                        r["duration_ms"],
                        r["card_before"],
                    ],
                )
            # An export edited by hand may lack reviews for some attempts: derive them, and
            # rebuild those schedules rather than trust the file's card.
            derived = self._fill_missing_reviews()
            imported_cards = {c["question_id"]: c["card"] for c in data["cards"]}
            for qid in sorted(report.questions):
                if qid not in had_card and qid in imported_cards and qid not in derived:
                    self._save_card(qid, imported_cards[qid])
                    report.cards_taken += 1
                else:
                    self._rebuild_card(qid)
                    report.cards_replayed += 1
            for run in data["sim_runs"]:
                cur = self.db.execute(
                    """INSERT OR IGNORE INTO sim_runs (uid, experiment, params, device, status,
                        seed, question_id, started_ms, finished_ms, summary, result,
                        prediction, prediction_outcome)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [
                        run["uid"],
                        run["experiment"],
                        dumps(run["params"], sort_keys=True),
                        run["device"],
                        run["status"],
                        run["seed"],
                        run["question_id"],
                        run["started_ms"],
                        run["finished_ms"],
                        _json_text(run["summary"]),
                        _json_text(run["result"]),
                        _json_text(run["prediction"]),
                        _json_text(run["prediction_outcome"]),
                    ],
                )
                report.sim_runs_added += cur.rowcount
            report.sim_runs_present = len(data["sim_runs"]) - report.sim_runs_added
            for interview in data["mock_interviews"]:
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO mock_interviews (uid, started_ms, finished_ms, "
                    "minutes, topics, score, report) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        interview["uid"],
                        interview["started_ms"],
                        interview["finished_ms"],
                        interview["minutes"],
                        dumps(interview["topics"]),
                        interview["score"],
                        dumps(interview["report"]),
                    ],
                )
                report.interviews_added += cur.rowcount
            for key, value in data["settings"].items():
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)",
                    [key, dumps(value)],
                )
                report.settings_added += cur.rowcount
        return report

    @guarded
    def backup(self, dest: Path) -> Path:
        """Copy the live database to ``dest`` with SQLite's online backup (safe while other
        instances write), then check the copy. Refuses to overwrite an existing file."""
        dest = dest.expanduser()
        if dest.exists():
            raise StoreError(f"{dest} already exists; choose another file name.")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the folder {dest.parent}: {exc.strerror}.") from None
        tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
        try:
            target = sqlite3.connect(str(tmp))
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot write the backup {dest}: {exc}.") from None
        try:
            self.db.conn.backup(target)
            # A backup is one self-contained file: no -wal companion to forget when copying.
            target.execute("PRAGMA journal_mode = DELETE")
            verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.Error as exc:
            target.close()
            with suppress(OSError):
                tmp.unlink()
            raise StoreError(f"Cannot write the backup {dest}: {exc}.") from None
        target.close()
        if verdict != "ok":
            with suppress(OSError):
                tmp.unlink()
            raise StoreError(f"The backup failed its integrity check ({verdict}); not kept.")
        tmp.replace(dest)
        return dest

    @guarded
    def check(self) -> list[str]:
        """Integrity problems found by SQLite and by our own consistency checks."""
        problems = self._page_problems()
        if problems:
            return problems
        orphans = self.db.execute(
            "SELECT count(*) FROM attempts AS a WHERE NOT EXISTS "
            "(SELECT 1 FROM review_log AS l WHERE l.attempt_id = a.id)"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} attempt(s) have no review log entry")
        stray = self.db.execute(
            "SELECT count(*) FROM cards AS c WHERE NOT EXISTS "
            "(SELECT 1 FROM review_log AS l WHERE l.question_id = c.question_id)"
        ).fetchone()[0]
        if stray:
            problems.append(f"{stray} scheduling card(s) have no reviews behind them")
        return problems

    def _page_problems(self) -> list[str]:
        try:
            verdicts = [r[0] for r in self.db.execute("PRAGMA integrity_check").fetchall()]
            problems = [v for v in verdicts if v != "ok"]
            problems += [
                f"foreign key: {r[0]} row {r[1]} points to a missing {r[2]}"
                for r in self.db.execute("PRAGMA foreign_key_check").fetchall()
            ]
        except sqlite3.DatabaseError as exc:
            return [str(exc)]
        return problems

    def _fill_missing_reviews(self) -> dict[str, int]:
        """Derive the review of any attempt that lacks one (the attempt is the record of
        what the user did); returns how many per question. Call in a write transaction."""
        missing = self.db.execute(
            """SELECT question_id, count(*) FROM attempts AS a WHERE NOT EXISTS
                (SELECT 1 FROM review_log AS l WHERE l.attempt_id = a.id)
            GROUP BY question_id"""
        ).fetchall()
        for qid, _ in missing:
            self.db.execute(
                """INSERT INTO review_log (attempt_id, question_id, card_id, rating,
                    reviewed_ms, duration_ms, card_before)
                SELECT a.id, a.question_id, ?, a.rating, a.submitted_ms,
                       CAST(a.seconds * 1000 AS INTEGER), NULL
                FROM attempts AS a WHERE a.question_id = ? AND NOT EXISTS
                    (SELECT 1 FROM review_log AS l WHERE l.attempt_id = a.id)""",
                [scheduling.card_id_for(qid), qid],
            )
        return dict(missing)

    def _restore_consistency(self) -> list[str]:
        """Give every attempt its review and rebuild schedules from the reviews."""
        fixed = []
        with write_transaction(self.db):
            restored = sum(self._fill_missing_reviews().values())
            if restored:
                fixed.append(f"Restored the review record of {restored} attempt(s).")
            stray = self.db.execute(
                "DELETE FROM cards WHERE question_id NOT IN (SELECT question_id FROM review_log)"
            ).rowcount
            if stray > 0:
                fixed.append(f"Reset {stray} schedule(s) that had no reviews behind them.")
            if fixed:
                ids = [r[0] for r in self.db.execute("SELECT DISTINCT question_id FROM cards")]
                ids += [
                    r[0] for r in self.db.execute("SELECT DISTINCT question_id FROM review_log")
                ]
                for qid in sorted(set(ids)):
                    self._rebuild_card(qid)
        return fixed

    @guarded
    def mark_orphaned_runs(self) -> int:
        """Mark runs still 'running' whose program has ended (killed, crashed) as
        interrupted; returns how many. Runs recorded before schema 4 carry no pid and are
        left to ``mark_interrupted_runs``. Store.open calls this."""
        rows = self.db.execute(
            "SELECT id, owner_pid, owner_token FROM sim_runs "
            "WHERE status = 'running' AND owner_pid IS NOT NULL"
        ).fetchall()
        ended = [run_id for run_id, pid, token in rows if process_gone(pid, token)]
        if not ended:
            return 0
        with write_transaction(self.db):
            cur = self.db.execute(
                "UPDATE sim_runs SET status = 'interrupted' WHERE status = 'running' "
                "AND id IN (SELECT value FROM json_each(?))",
                [json.dumps(ended)],
            )
        return max(cur.rowcount, 0)

    @guarded
    def mark_interrupted_runs(self, started_before: datetime) -> int:
        """Mark runs still 'running' that started before the given time as interrupted."""
        with write_transaction(self.db):
            cur = self.db.execute(
                "UPDATE sim_runs SET status = 'interrupted' "
                "WHERE status = 'running' AND started_ms < ?",
                [to_ms(as_utc(started_before))],
            )
        return max(cur.rowcount, 0)

    @guarded
    def seen_question_ids(self) -> set[str]:
        """Ids of every question with at least one attempt."""
        return {r[0] for r in self.db.execute("SELECT DISTINCT question_id FROM attempts")}

    @guarded
    def stale_sim_runs(self) -> list[SimRun]:
        """Runs still marked running (the program that ran them may have been killed)."""
        return [
            _sim_run(r)
            for r in self.db.execute(
                f"SELECT {_RUN_COLS}, NULL FROM sim_runs WHERE status = 'running' "
                "ORDER BY started_ms"
            ).fetchall()
        ]

    # --- internals --------------------------------------------------------------------

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.db.execute(sql, list(params)).fetchone()

    def _retention(self) -> float:
        row = self._one("SELECT value FROM settings WHERE key = 'desired_retention'")
        try:
            return _valid_retention(loads(row[0])) if row else DEFAULT_RETENTION
        except ValueError:
            return DEFAULT_RETENTION

    def _new_remaining(self, now: datetime, tz: tzinfo, new_limit: int | None) -> int:
        limit = self.settings().new_per_day if new_limit is None else new_limit
        today = local_day(as_utc(now), tz)
        started = self.db.execute(
            "SELECT count(*) FROM review_log WHERE card_before IS NULL "
            "AND reviewed_ms >= ? AND reviewed_ms < ?",
            [to_ms(day_start(today, tz)), to_ms(day_start(today + timedelta(days=1), tz))],
        ).fetchone()[0]
        return max(0, limit - started)

    def _count_seen(self, ids: Sequence[str]) -> int:
        return int(
            self.db.execute(
                "SELECT count(*) FROM cards WHERE question_id IN (SELECT value FROM json_each(?))",
                [json.dumps(list(ids))],
            ).fetchone()[0]
        )

    def _tally(self, spans: Mapping[date, tuple[int, int]]) -> list[tuple[int, float]]:
        """(attempts, mean score) in each local-time span, in order.

        One index range per span (as for counts per day): the cost follows the attempts
        inside the spans, not the whole history, with no date arithmetic per row."""
        rows = self.db.execute(
            """SELECT count(a.id), coalesce(avg(a.score), 0)
            FROM json_each(?) AS s LEFT JOIN attempts AS a
              ON a.submitted_ms >= json_extract(s.value, '$[0]')
             AND a.submitted_ms < json_extract(s.value, '$[1]')
            GROUP BY s.key ORDER BY s.key""",
            [json.dumps(list(spans.values()))],
        ).fetchall()
        return [(int(n), float(mean)) for n, mean in rows]

    def _days_with_reviews(self, spans: Mapping[date, tuple[int, int]]) -> list[date]:
        """The local days with at least one attempt: one index probe per day."""
        rows = self.db.execute(
            """SELECT s.key FROM json_each(?) AS s WHERE EXISTS (
                SELECT 1 FROM attempts AS a
                WHERE a.submitted_ms >= json_extract(s.value, '$[0]')
                  AND a.submitted_ms < json_extract(s.value, '$[1]'))""",
            [json.dumps(list(spans.values()))],
        ).fetchall()
        days = list(spans)
        return [days[i] for (i,) in rows]

    def _card(self, question_id: str) -> Card | None:
        row = self._one(f"SELECT {_CARD_COLS} FROM cards WHERE question_id = ?", [question_id])
        return None if row is None else _card_from_row(row)

    def _save_card(self, question_id: str, card: Card) -> None:
        self.db.execute(
            """INSERT INTO cards (question_id, card_id, state, step, stability, difficulty,
                due_ms, last_review_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (question_id) DO UPDATE SET card_id = excluded.card_id,
                state = excluded.state, step = excluded.step, stability = excluded.stability,
                difficulty = excluded.difficulty, due_ms = excluded.due_ms,
                last_review_ms = excluded.last_review_ms""",
            [
                question_id,
                card.card_id,
                int(card.state),
                card.step,
                card.stability,
                card.difficulty,
                to_ms(card.due),
                to_ms(card.last_review) if card.last_review else None,
            ],
        )

    def _insert_review(self, attempt_id: int, question_id: str, outcome: Any) -> None:
        before = outcome.before
        self.db.execute(
            """INSERT INTO review_log (attempt_id, question_id, card_id, rating, reviewed_ms,
                duration_ms, card_before) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [
                attempt_id,
                question_id,
                outcome.log.card_id,
                int(outcome.log.rating),
                to_ms(outcome.log.review_datetime),
                outcome.log.review_duration,
                before.to_json() if before is not None else None,
            ],
        )

    def _remember_rubric(self, question: QuestionLike) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO rubric_points VALUES (?, ?, ?, ?, ?)",
            [
                (question.id, question.content_hash, i, p.text, int(bool(p.must_have)))
                for i, p in enumerate(question.rubric)
            ],
        )

    def _rubric_texts(
        self, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str, int], tuple[str, bool]]:
        if not keys:
            return {}
        rows = self.db.execute(
            """SELECT r.question_id, r.content_hash, r.point, r.text, r.must_have
            FROM rubric_points AS r JOIN json_each(?) AS k
              ON r.question_id = json_extract(k.value, '$[0]')
             AND r.content_hash = json_extract(k.value, '$[1]')""",
            [json.dumps(sorted(keys))],
        ).fetchall()
        return {(q, h, p): (t, bool(m)) for q, h, p, t, m in rows}

    def _rebuild_card(self, question_id: str) -> None:
        """Replay a question's review log in time order: its card, and each log's card_before."""
        logs = self.db.execute(
            "SELECT id, rating, reviewed_ms FROM review_log WHERE question_id = ? "
            "ORDER BY reviewed_ms, id",
            [question_id],
        ).fetchall()
        if not logs:
            self.db.execute("DELETE FROM cards WHERE question_id = ?", [question_id])
            return
        retention = self._retention()
        card: Card | None = None
        for log_id, rating, reviewed_ms in logs:
            outcome = scheduling.review(
                card,
                question_id,
                Rating(rating),
                from_ms(reviewed_ms),
                desired_retention=retention,
            )
            self.db.execute(
                "UPDATE review_log SET card_before = ? WHERE id = ?",
                [card.to_json() if card is not None else None, log_id],
            )
            card = outcome.after
        assert card is not None
        self._save_card(question_id, card)

    def _rebuild_after_salvage(self) -> None:
        """Give each salvaged attempt whose review was lost its review, then make every
        card agree with the surviving reviews."""
        with write_transaction(self.db):
            self._fill_missing_reviews()
        self._rebuild_all_cards()

    def _rebuild_all_cards(self) -> None:
        """After salvaging rows, make every card agree with its surviving review log."""
        with write_transaction(self.db):
            ids = {r[0] for r in self.db.execute("SELECT question_id FROM review_log")}
            ids |= {r[0] for r in self.db.execute("SELECT question_id FROM cards")}
            for qid in sorted(ids):
                self._rebuild_card(qid)


# --- helpers ----------------------------------------------------------------------------

_ATTEMPT_COLS = (
    "id, uid, question_id, content_hash, started_ms, submitted_ms, answer, met_mask, "
    "rubric_size, score, suggested, rating, seconds, mode, red_flags"
)
_CARD_COLS = "card_id, state, step, stability, difficulty, due_ms, last_review_ms"
_CARD_COLS_C = ", ".join(f"c.{c.strip()}" for c in _CARD_COLS.split(","))
_RUN_COLS = (
    "id, uid, experiment, params, device, status, seed, question_id, started_ms, "
    "finished_ms, summary, prediction, prediction_outcome"
)


@contextmanager
def _read(db: Database) -> Iterator[None]:
    """One consistent snapshot for several reads (WAL readers never block writers)."""
    db.execute("BEGIN")
    try:
        yield
    finally:
        if db.conn.in_transaction:
            db.conn.execute("COMMIT")


def _attempt(row: Sequence[Any]) -> Attempt:
    return Attempt(
        id=row[0],
        uid=row[1],
        question_id=row[2],
        content_hash=row[3],
        started=from_ms(row[4]),
        submitted=from_ms(row[5]),
        answer=row[6],
        met=_unmask(row[7]),
        rubric_size=row[8],
        score=row[9],
        suggested=Rating(row[10]) if row[10] is not None else None,
        rating=Rating(row[11]),
        seconds=row[12],
        mode=row[13],
        red_flags=tuple(_loads(row[14]) or ()),
    )


def _replace_points(a: Attempt, points: tuple[PointResult, ...]) -> Attempt:
    from dataclasses import replace

    return replace(a, points=points)


def _card_from_row(row: Sequence[Any]) -> Card:
    card_id, state, step, stability, difficulty, due_ms, last_ms = row
    return Card(
        card_id=card_id,
        state=State(state),
        step=step,
        stability=stability,
        difficulty=difficulty,
        due=from_ms(due_ms),
        last_review=from_ms(last_ms) if last_ms is not None else None,
    )


def _sim_run(row: Sequence[Any]) -> SimRun:
    return SimRun(
        id=row[0],
        uid=row[1],
        experiment=row[2],
        params=loads(row[3]),
        device=row[4],
        status=row[5],
        seed=row[6],
        question_id=row[7],
        started=from_ms(row[8]),
        finished=from_ms(row[9]) if row[9] is not None else None,
        summary=_loads(row[10]),
        prediction=_loads(row[11]),
        prediction_outcome=_loads(row[12]),
        result=_loads(row[13]),
    )


def _mask(points: Iterable[int]) -> int:
    mask = 0
    for i in points:
        mask |= 1 << int(i)
    return mask


def _unmask(mask: int) -> frozenset[int]:
    return frozenset(i for i in range(mask.bit_length()) if mask >> i & 1)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _iso(ms: int) -> str:
    return from_ms(ms).isoformat(timespec="milliseconds")


def _loads(text: str | None) -> Any:
    return None if text is None else loads(text)


def _json_text(value: Any) -> str | None:
    """Strict JSON text for a JSON column (non-finite numbers become null)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return dumps(value)  # a plain message, not JSON: store it as a JSON string
        except RecursionError:
            raise ValueError("JSON nested too deeply to store") from None
    return dumps(value)


def _check_stored_seed(seed: Any) -> None:
    """Raise ValueError unless ``seed`` is None or a whole number the database can store."""
    low, high = SEED_RANGE
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int) or not low <= seed <= high:
        raise ValueError(f"seed must be a whole number from {low} to 2^63-1, not {seed!r}")


def _seconds(seconds: float, started_ms: int, submitted_ms: int) -> float:
    """Time spent; an infinite value saved before it was checked becomes the time between
    start and submission (what record_attempt assumes when none is given)."""
    if math.isfinite(seconds):
        return seconds
    return max(0.0, (submitted_ms - started_ms) / 1000)


def _check_status(status: str) -> None:
    if status not in SIM_STATUSES:
        raise ValueError(f"status must be one of {', '.join(SIM_STATUSES)}, not {status!r}")


def _valid_retention(value: Any) -> float:
    low, high = RETENTION_RANGE
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"desired retention must be a number from {low} to {high}, not {value!r}")
    return float(value)


def _valid_new_per_day(value: Any) -> int:
    low, high = NEW_PER_DAY_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"new questions per day must be a whole number from {low} to {high}, not {value!r}"
        )
    return value


def _id_filter(column: str, ids: Sequence[str] | None) -> tuple[str, list[Any]]:
    if ids is None:
        return "", []
    return f"AND {column} IN (SELECT value FROM json_each(?))", [json.dumps(list(ids))]


def _spans(first: date, last: date, tz: tzinfo, step: int = 1) -> dict[date, tuple[int, int]]:
    """Local days (or ``step``-day periods) from ``first`` to ``last``, each mapped to its
    [start, end) in UTC epoch ms. Computed with zoneinfo, so DST days of 23 or 25 hours and
    half-hour zones come out right."""
    spans: dict[date, tuple[int, int]] = {}
    day = first
    start = to_ms(day_start(day, tz))
    while day <= last:
        following = day + timedelta(days=step)
        end = to_ms(day_start(following, tz))
        spans[day] = (start, end)
        day, start = following, end
    return spans

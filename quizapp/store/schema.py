"""The schema as ordered migrations, and the write transaction every change uses."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from quizapp.store.errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlite_utils import Database

# --- schema -----------------------------------------------------------------------------

# Ordered migrations: MIGRATIONS[i] takes a database from version i to i + 1. Never edit a
# released one; append a new one instead, so any older database opens without loss.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: first release.
    (
        """CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        # Rubric text of every question version ever answered (keyed by content hash), so an
        # old attempt still shows the points as they read when it was graded.
        """CREATE TABLE rubric_points (
            question_id TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            point INTEGER NOT NULL,
            text TEXT NOT NULL,
            must_have INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (question_id, content_hash, point)
        ) WITHOUT ROWID""",
        # met_mask: bit i set when rubric point i was met; rubric_size: points in that version.
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            question_id TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            started_ms INTEGER NOT NULL,
            submitted_ms INTEGER NOT NULL,
            answer TEXT NOT NULL DEFAULT '',
            rubric_size INTEGER NOT NULL DEFAULT 0,
            met_mask INTEGER NOT NULL DEFAULT 0,
            score REAL NOT NULL CHECK (score BETWEEN 0 AND 1),
            suggested INTEGER CHECK (suggested BETWEEN 1 AND 4),
            rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            seconds REAL NOT NULL CHECK (seconds >= 0),
            mode TEXT NOT NULL CHECK (mode IN ('review', 'practice'))
        )""",
        "CREATE INDEX attempts_submitted ON attempts (submitted_ms)",
        "CREATE INDEX attempts_question ON attempts (question_id, submitted_ms)",
        # The FSRS card per question, one column per field so due dates can be indexed.
        """CREATE TABLE cards (
            question_id TEXT PRIMARY KEY,
            card_id INTEGER NOT NULL,
            state INTEGER NOT NULL,
            step INTEGER,
            stability REAL,
            difficulty REAL,
            due_ms INTEGER NOT NULL,
            last_review_ms INTEGER
        )""",
        "CREATE INDEX cards_due ON cards (due_ms)",
        # card_before: the card's JSON before this review (NULL when it was new), for undo.
        """CREATE TABLE review_log (
            id INTEGER PRIMARY KEY,
            attempt_id INTEGER NOT NULL UNIQUE REFERENCES attempts (id) ON DELETE CASCADE,
            question_id TEXT NOT NULL,
            card_id INTEGER NOT NULL,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            reviewed_ms INTEGER NOT NULL,
            duration_ms INTEGER,
            card_before TEXT
        )""",
        "CREATE INDEX review_log_reviewed ON review_log (reviewed_ms)",
        "CREATE INDEX review_log_question ON review_log (question_id, reviewed_ms)",
        """CREATE TABLE sim_runs (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            experiment TEXT NOT NULL,
            params TEXT NOT NULL,
            device TEXT NOT NULL,
            status TEXT NOT NULL,
            seed INTEGER,
            question_id TEXT,
            started_ms INTEGER NOT NULL,
            finished_ms INTEGER,
            summary TEXT,
            result TEXT
        )""",
        "CREATE INDEX sim_runs_started ON sim_runs (started_ms)",
        "CREATE INDEX sim_runs_question ON sim_runs (question_id, started_ms)",
    ),
    # 2: a user's prediction before a simulation run and how it turned out; a covering index
    # so "most missed rubric points" reads the index alone (bench/store_scale.py).
    (
        "ALTER TABLE sim_runs ADD COLUMN prediction TEXT",
        "ALTER TABLE sim_runs ADD COLUMN prediction_outcome TEXT",
        """CREATE INDEX attempts_rubric
            ON attempts (question_id, content_hash, rubric_size, met_mask)""",
    ),
    # 3: the score trend reads scores from the time index alone.
    (
        "CREATE INDEX attempts_submitted_score ON attempts (submitted_ms, score)",
        "DROP INDEX attempts_submitted",
    ),
    # 4: the process running a simulation (pid and a token telling a reused pid apart), so
    # a run whose program was killed is marked interrupted at the next start; Browse's
    # per-question figures read scores from the question index alone (bench/store_scale.py).
    (
        "ALTER TABLE sim_runs ADD COLUMN owner_pid INTEGER",
        "ALTER TABLE sim_runs ADD COLUMN owner_token TEXT",
        "CREATE INDEX sim_runs_running ON sim_runs (status) WHERE status = 'running'",
        "CREATE INDEX attempts_question_score ON attempts (question_id, submitted_ms, score)",
        "DROP INDEX attempts_question",
    ),
    # 5: mock interviews, each with its report (JSON) so sessions can be compared.
    (
        """CREATE TABLE mock_interviews (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            started_ms INTEGER NOT NULL,
            finished_ms INTEGER NOT NULL,
            minutes INTEGER NOT NULL CHECK (minutes > 0),
            topics TEXT NOT NULL,
            score REAL NOT NULL CHECK (score BETWEEN 0 AND 1),
            report TEXT NOT NULL
        )""",
        "CREATE INDEX mock_interviews_started ON mock_interviews (started_ms)",
    ),
    # 6: the red flags (statements of a misconception) an answer made, as a JSON list of
    # their texts; NULL when none.
    ("ALTER TABLE attempts ADD COLUMN red_flags TEXT",),
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: Database, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to ``target`` in one transaction; returns the version before."""
    current = int(db.execute("PRAGMA user_version").fetchone()[0])
    if current == target:
        return current  # the common case takes no write lock: opening never waits on a writer
    with write_transaction(db):
        before = int(db.execute("PRAGMA user_version").fetchone()[0])
        if before > SCHEMA_VERSION:
            raise newer_schema(before)
        for version in range(before, target):
            for statement in MIGRATIONS[version]:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {version + 1}")
    return before


def newer_schema(version: int) -> StoreError:
    return StoreError(
        f"this progress database was written by a newer quizapp (schema {version}; "
        f"this version understands up to {SCHEMA_VERSION}). Upgrade quizapp; "
        "the database was not changed."
    )


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock up front.

    BEGIN IMMEDIATE waits (busy timeout) for another writer instead of failing half-way
    through when a read transaction cannot be upgraded."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")

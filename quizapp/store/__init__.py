"""The progress store: the only package that speaks SQL.

``database`` holds the ``Store`` (queries and writes), ``schema`` the migrations,
``recovery`` what happens to a damaged file, ``transfer`` the export format's checks,
``records`` the plain records every query returns and ``paths`` where the files live.
"""

from quizapp.store.database import Store, check_seed, repair
from quizapp.store.errors import StoreBusyError, StoreError
from quizapp.store.jsonio import MAX_IMPORT_BYTES, MAX_JSON_DEPTH
from quizapp.store.records import (
    Attempt,
    DayCount,
    DueCounts,
    ImportReport,
    MissedPoint,
    PointResult,
    QuestionStats,
    Settings,
    SimRun,
    Summary,
    TopicMastery,
    Totals,
    TrendPoint,
)
from quizapp.store.schema import SCHEMA_VERSION
from quizapp.store.transfer import EXPORT_FORMAT

__all__ = [
    "EXPORT_FORMAT",
    "MAX_IMPORT_BYTES",
    "MAX_JSON_DEPTH",
    "SCHEMA_VERSION",
    "Attempt",
    "DayCount",
    "DueCounts",
    "ImportReport",
    "MissedPoint",
    "PointResult",
    "QuestionStats",
    "Settings",
    "SimRun",
    "Store",
    "StoreBusyError",
    "StoreError",
    "Summary",
    "TopicMastery",
    "Totals",
    "TrendPoint",
    "check_seed",
    "repair",
]

"""The progress store: the only package that speaks SQL.

``database`` holds the ``Store`` (queries and writes), ``schema`` the migrations,
``recovery`` what happens to a damaged file, ``transfer`` the export format's checks,
``records`` the plain records every query returns and ``paths`` where the files live.

Names are imported on first use: ``quizapp.store.paths`` is needed at start-up, while the
database modules bring in sqlite-utils and fsrs, which the app loads off the UI thread.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quizapp.store.database import Store, repair
    from quizapp.store.errors import StoreBusyError, StoreError
    from quizapp.store.jsonio import MAX_IMPORT_BYTES, MAX_JSON_DEPTH
    from quizapp.store.records import (
        Attempt,
        DayCount,
        DueCounts,
        ImportReport,
        MissedPoint,
        MockInterviewRecord,
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

_HOMES = {
    "Store": "database",
    "repair": "database",
    "MAX_IMPORT_BYTES": "jsonio",
    "MAX_JSON_DEPTH": "jsonio",
    "StoreBusyError": "errors",
    "StoreError": "errors",
    "SCHEMA_VERSION": "schema",
    "EXPORT_FORMAT": "transfer",
    **{
        name: "records"
        for name in (
            "Attempt",
            "DayCount",
            "DueCounts",
            "ImportReport",
            "MissedPoint",
            "MockInterviewRecord",
            "PointResult",
            "QuestionStats",
            "Settings",
            "SimRun",
            "Summary",
            "TopicMastery",
            "Totals",
            "TrendPoint",
        )
    },
}

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
    "MockInterviewRecord",
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
    "repair",
]


def __getattr__(name: str) -> Any:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)

"""Checking an export document before anything of it is imported."""

from __future__ import annotations

import functools
import json
import math
from datetime import datetime
from typing import Any

from fsrs import Card

from questions.untrusted import clean_text
from quizapp.domain.limits import MAX_ANSWER_CHARS, MAX_STORED_INT
from quizapp.domain.scheduling import (
    NEW_PER_DAY_RANGE,
    RETENTION_RANGE,
    as_utc,
    to_ms,
)
from quizapp.store.errors import StoreError
from quizapp.store.jsonio import MAX_JSON_DEPTH, dumps, too_deep
from quizapp.store.records import MODES, SIM_STATUSES
from quizapp.store.schema import SCHEMA_VERSION

EXPORT_FORMAT = "quizapp-progress"

# --- export validation ------------------------------------------------------------------


class _Invalid(Exception):
    pass


def validated_export(doc: Any, source: str) -> dict[str, Any]:
    """Check an export document and normalise it (timestamps to ms); raise StoreError naming
    the first bad record and field."""
    try:
        return _normalise_export(doc)
    except _Invalid as exc:
        raise StoreError(f"{source}: {exc}") from None


def _normalise_export(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise _Invalid(f'not a quizapp progress export (expected "format": "{EXPORT_FORMAT}")')
    version = doc.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise _Invalid("schema_version: expected a whole number")
    if version > SCHEMA_VERSION:
        raise _Invalid(
            f"schema_version {version} is newer than this quizapp understands "
            f"({SCHEMA_VERSION}); upgrade quizapp to import it"
        )
    out: dict[str, Any] = {}
    for name in ("attempts", "rubric_points", "cards", "review_log", "sim_runs", "mock_interviews"):
        items = doc.get(name, [])
        if not isinstance(items, list):
            raise _Invalid(f"{name}: expected a list")
        out[name] = [_record(name, i, item) for i, item in enumerate(items)]
    out["settings"] = _settings(doc.get("settings", {}))
    return out


# Settings the store reads, with the check that reading them applies: a value outside it
# would be stored and then silently replaced by the default.
_SETTING_RANGES = {
    "desired_retention": (RETENTION_RANGE, "a number"),
    "new_per_day": (NEW_PER_DAY_RANGE, "a whole number"),
}


def _settings(settings: Any) -> dict[str, Any]:
    if not isinstance(settings, dict):
        raise _Invalid("settings: expected an object")
    for key, value in settings.items():
        if too_deep(value):
            raise _Invalid(f"settings.{key}: nested deeper than {MAX_JSON_DEPTH} levels")
        if key not in _SETTING_RANGES:
            continue  # the app's own preferences (theme, ...): kept as they are
        (low, high), kind = _SETTING_RANGES[key]
        whole = kind == "a whole number"
        number = isinstance(value, int if whole else int | float) and not isinstance(value, bool)
        if not number or not low <= value <= high:
            raise _Invalid(
                f"settings.{key}: expected {kind} from {low} to {high}, got {_preview(value)}"
            )
    return settings


def _preview(value: Any) -> str:
    """A short, terminal-safe rendering of a bad value for an error message."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_STORED_INT:
        return f"a number with {len(str(abs(value)))} digits"
    return json.dumps(value)[:40]  # escapes control characters


def _field(where: str, item: dict[str, Any], key: str, kind: str) -> Any:
    if key not in item:
        raise _Invalid(f'{where}: missing "{key}"')
    value = item[key]
    whole = isinstance(value, int) and not isinstance(value, bool)
    if kind in ("int", "int?") and whole and not 0 <= value <= MAX_STORED_INT:
        raise _Invalid(f"{where}.{key}: expected a whole number between 0 and 2^63-1")
    if kind in ("any", "dict", "dict?") and too_deep(value, MAX_JSON_DEPTH - 2):
        raise _Invalid(f"{where}.{key}: nested deeper than {MAX_JSON_DEPTH} levels")
    ok = {
        "str": isinstance(value, str),
        "str?": value is None or isinstance(value, str),
        "int": whole,
        "int?": value is None or whole,
        "num": isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value),
        "bool": isinstance(value, bool | int),
        "list": isinstance(value, list),
        "dict": isinstance(value, dict),
        "dict?": value is None or isinstance(value, dict),
        "any": True,
    }[kind]
    if not ok:
        expected = {
            "str": "text",
            "str?": "text or null",
            "int": "a whole number",
            "int?": "a whole number or null",
            "num": "a number",
            "bool": "true or false",
            "list": "a list",
            "dict": "an object",
            "dict?": "an object or null",
            "any": "",
        }[kind]
        raise _Invalid(f"{where}.{key}: expected {expected}, got {_preview(value)}")
    # Imports come from other machines and people: no control character gets in.
    return clean_json(value)


def clean_json(value: Any) -> Any:
    """``value`` with every string in it (keys included) passed through clean_text."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    return value


def _time_ms(where: str, item: dict[str, Any], key: str, optional: bool = False) -> int | None:
    value = _field(where, item, key, "str?" if optional else "str")
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        return to_ms(moment)
    except ValueError:
        raise _Invalid(
            f"{where}.{key}: expected an ISO time with a zone such as "
            f"2024-05-01T09:30:00.000+00:00, got {value!r}"
        ) from None


def _red_flags(where: str, item: dict[str, Any]) -> list[str]:
    flags = clean_json(item.get("red_flags") or [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise _Invalid(f"{where}.red_flags: expected a list of statements")
    return flags


def _check_card(where: str, card: Card) -> None:
    """The parts of a card the database stores as numbers must fit it."""
    for key in ("card_id", "step"):
        value = getattr(card, key)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= MAX_STORED_INT):
            raise _Invalid(f"{where}.{key}: expected a whole number between 0 and 2^63-1")
    for key in ("stability", "difficulty"):
        value = getattr(card, key)
        if value is not None and not (isinstance(value, int | float) and math.isfinite(value)):
            raise _Invalid(f"{where}.{key}: expected a finite number or null")


def _record(name: str, index: int, item: Any) -> dict[str, Any]:
    where = f"{name}[{index}]"
    if not isinstance(item, dict):
        raise _Invalid(f"{where}: expected an object")
    f = functools.partial(_field, where, item)
    if name == "attempts":
        rating = f("rating", "int")
        suggested = f("suggested", "int?")
        size = f("rubric_size", "int")
        met = f("met", "list")
        if not 1 <= rating <= 4 or (suggested is not None and not 1 <= suggested <= 4):
            raise _Invalid(f"{where}.rating: expected 1 (Again) to 4 (Easy)")
        if not 0 <= size <= 62 or any(not isinstance(i, int) or not 0 <= i < size for i in met):
            raise _Invalid(f"{where}.met: expected point numbers from 0 to rubric_size - 1")
        score = f("score", "num")
        if not 0 <= score <= 1:
            raise _Invalid(f"{where}.score: expected a number from 0 to 1")
        mode = f("mode", "str")
        if mode not in MODES:
            raise _Invalid(f"{where}.mode: expected one of {', '.join(MODES)}")
        answer = f("answer", "str")
        if len(answer) > MAX_ANSWER_CHARS:
            # Refused, not cut: an import never loses part of what the user wrote.
            raise _Invalid(
                f"{where}.answer: {len(answer):,} characters; answers are limited to "
                f"{MAX_ANSWER_CHARS:,}. Shorten it in the file and import again"
            )
        return {
            "uid": f("uid", "str"),
            "question_id": f("question_id", "str"),
            "content_hash": f("content_hash", "str"),
            "started_ms": _time_ms(where, item, "started_at"),
            "submitted_ms": _time_ms(where, item, "submitted_at"),
            "answer": answer,
            "rubric_size": size,
            "met": met,
            "score": float(score),
            "suggested": suggested,
            "rating": rating,
            "seconds": max(0.0, float(f("seconds", "num"))),
            "mode": mode,
            # Exports before schema 6 have no red flags.
            "red_flags": _red_flags(where, item),
        }
    if name == "rubric_points":
        return {
            "question_id": f("question_id", "str"),
            "content_hash": f("content_hash", "str"),
            "point": f("point", "int"),
            "text": f("text", "str"),
            "must_have": int(bool(f("must_have", "bool"))),
        }
    if name == "cards":
        card = f("card", "dict")
        try:
            parsed = Card.from_dict(card)
            as_utc(parsed.due)
            if parsed.last_review is not None:
                as_utc(parsed.last_review)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise _Invalid(f"{where}.card: not an FSRS card ({exc})") from None
        _check_card(f"{where}.card", parsed)
        return {"question_id": f("question_id", "str"), "card": parsed}
    if name == "review_log":
        rating = f("rating", "int")
        if not 1 <= rating <= 4:
            raise _Invalid(f"{where}.rating: expected 1 (Again) to 4 (Easy)")
        before = f("card_before", "dict?")
        return {
            "attempt_uid": f("attempt_uid", "str"),
            "question_id": f("question_id", "str"),
            "card_id": f("card_id", "int"),
            "rating": rating,
            "reviewed_ms": _time_ms(where, item, "reviewed_at"),
            "duration_ms": f("duration_ms", "int?"),
            "card_before": dumps(before) if before is not None else None,
        }
    if name == "mock_interviews":
        minutes = f("minutes", "int")
        score = f("score", "num")
        topics = f("topics", "list")
        if minutes < 1 or not 0 <= score <= 1:
            raise _Invalid(f"{where}: expected minutes >= 1 and a score from 0 to 1")
        if not all(isinstance(t, str) for t in topics):
            raise _Invalid(f"{where}.topics: expected a list of topic names")
        return {
            "uid": f("uid", "str"),
            "started_ms": _time_ms(where, item, "started_at"),
            "finished_ms": _time_ms(where, item, "finished_at"),
            "minutes": minutes,
            "topics": topics,
            "score": float(score),
            "report": f("report", "dict"),
        }
    # sim_runs
    status = f("status", "str")
    if status not in SIM_STATUSES:
        raise _Invalid(f"{where}.status: expected one of {', '.join(SIM_STATUSES)}")
    return {
        "uid": f("uid", "str"),
        "experiment": f("experiment", "str"),
        "params": f("params", "dict"),
        "device": f("device", "str"),
        "status": status,
        "seed": f("seed", "int?"),
        "question_id": f("question_id", "str?"),
        "started_ms": _time_ms(where, item, "started_at"),
        "finished_ms": _time_ms(where, item, "finished_at", optional=True),
        "summary": f("summary", "any"),
        "result": f("result", "any"),
        # Exports from schema 1 have no predictions.
        "prediction": f("prediction", "any") if "prediction" in item else None,
        "prediction_outcome": (
            f("prediction_outcome", "any") if "prediction_outcome" in item else None
        ),
    }

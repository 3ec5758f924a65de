"""One progress report for both front ends: ``quizapp stats`` prints it, the Progress screen
draws it. Each figure is computed here once, so the two can never disagree."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from quizapp.domain.weak_points import leeches
from quizapp.services.review import daily_new_limit

if TYPE_CHECKING:
    from collections.abc import Mapping

    from quizapp.store import (
        DayCount,
        MissedPoint,
        MockInterviewRecord,
        Settings,
        SimRun,
        Store,
        Summary,
        Totals,
    )

MISSED_SHOWN = 10
RUNS_SHOWN = 10
INTERVIEWS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class WeekScore:
    """One week of the score trend; ``mean_score`` is None for a week without answers."""

    week: date
    attempts: int
    mean_score: float | None


@dataclass(frozen=True, slots=True)
class ProgressReport:
    generated_at: datetime
    timezone: str
    today: date
    database: str
    schema_version: int
    questions_in_decks: int
    totals: Totals
    summary: Summary
    settings: Settings
    reviews_per_day: tuple[DayCount, ...]  # every day from the first shown week's Monday
    score_trend: tuple[WeekScore, ...]  # every week, oldest first, empty weeks included
    most_missed: tuple[MissedPoint, ...]
    leeches: tuple[str, ...]  # questions failed four times or more, most failed first
    sim_runs: tuple[SimRun, ...]
    mock_interviews: tuple[MockInterviewRecord, ...] = ()  # newest first

    def to_json(self) -> dict[str, Any]:
        """The report as strict JSON data (what ``quizapp stats --json`` prints)."""
        totals, summary = self.totals, self.summary
        return {
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "timezone": self.timezone,
            "weeks": len(self.score_trend),
            "database": self.database,
            "schema_version": self.schema_version,
            "totals": {
                "attempts": totals.attempts,
                "questions_seen": totals.questions_seen,
                "questions_in_decks": self.questions_in_decks,
                "simulation_runs": totals.sim_runs,
                "first_attempt": totals.first.isoformat() if totals.first else None,
                "last_attempt": totals.last.isoformat() if totals.last else None,
            },
            "due": {
                "now": summary.due.now,
                "today": summary.due.today,
                "next_7_days": summary.due.week,
                "new_remaining_today": summary.new_remaining_today,
                "new_never_seen": summary.new_available,
            },
            "settings": {
                "desired_retention": self.settings.desired_retention,
                "new_per_day": self.settings.new_per_day,
            },
            "reviews_today": summary.reviews_today,
            "streak": {
                "current": summary.streak.current,
                "longest": summary.streak.longest,
                "reviewed_today": summary.streak.reviewed_today,
            },
            "reviews_per_day": [
                {"day": d.day.isoformat(), "reviews": d.reviews} for d in self.reviews_per_day
            ],
            "score_trend": [
                {"week": w.week.isoformat(), "attempts": w.attempts, "mean_score": w.mean_score}
                for w in self.score_trend
                if w.attempts
            ],
            "mastery": [
                {
                    "topic": m.topic,
                    "questions": m.questions,
                    "seen": m.seen,
                    "mastery": _finite(m.mastery),
                    "mean_recent_score": _finite(m.mean_recent_score),
                    "mean_retrievability": _finite(m.mean_retrievability),
                }
                for m in summary.mastery
            ],
            "most_missed": [
                {
                    "question_id": m.question_id,
                    "point": m.text,
                    "must_have": m.must_have,
                    "missed": m.missed,
                    "shown": m.shown,
                    "miss_rate": m.miss_rate,
                }
                for m in self.most_missed
            ],
            "leeches": list(self.leeches),
            "simulation_runs": [
                {
                    "id": r.id,
                    "experiment": r.experiment,
                    "status": r.status,
                    "device": r.device,
                    "question_id": r.question_id,
                    "started": r.started.isoformat(),
                    "seconds": (r.finished - r.started).total_seconds() if r.finished else None,
                }
                for r in self.sim_runs
            ],
            "mock_interviews": [interview_json(i) for i in self.mock_interviews],
        }


def interview_json(record: MockInterviewRecord) -> dict[str, Any]:
    """One stored mock interview as the progress views compare them."""
    report = record.report
    answers = report.get("answers", [])
    by_topic = report.get("by_topic", {})
    return {
        "id": record.id,
        "started": record.started.isoformat(timespec="seconds"),
        "minutes": record.minutes,
        "topics": list(record.topics),
        "score": round(record.score, 4),
        "questions": len(answers) if isinstance(answers, list) else 0,
        "seconds_used": _number(report.get("seconds_used")),
        "over_time": bool(report.get("over_time", False)),
        # Stored reports may come from an import: keep only well-formed entries.
        "by_topic": {
            str(t): n
            for t, v in (by_topic.items() if isinstance(by_topic, dict) else ())
            if (n := _number(v)) is not None
        },
    }


def first_shown_day(today: date, weeks: int) -> date:
    """The Monday that starts a calendar of ``weeks`` week columns ending with today's."""
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)


def progress_report(
    store: Store,
    topics: Mapping[str, str],
    now: datetime,
    tz: tzinfo,
    *,
    weeks: int,
    missed: int = MISSED_SHOWN,
    runs: int = RUNS_SHOWN,
    interviews: int = INTERVIEWS_SHOWN,
) -> ProgressReport:
    """Everything the progress views show for the last ``weeks`` weeks (calendar and trend).

    ``topics`` maps the id of every question in the decks to its topic."""
    today = now.astimezone(tz).date()
    first = first_shown_day(today, weeks)
    trend = {p.week: p for p in store.score_trend(now, tz, weeks=weeks)}
    score_trend = tuple(
        WeekScore(w, trend[w].attempts, trend[w].mean_score)
        if w in trend
        else WeekScore(w, 0, None)
        for w in (first + timedelta(weeks=i) for i in range(weeks))
    )
    return ProgressReport(
        generated_at=now,
        timezone=str(tz),
        today=today,
        database=str(store.path),
        schema_version=store.schema_version,
        questions_in_decks=len(topics),
        totals=store.totals(),
        summary=store.summary(topics, now, tz, new_limit=daily_new_limit(store, topics, now, tz)),
        settings=store.settings(),
        reviews_per_day=tuple(store.reviews_per_day(first, today, tz)),
        score_trend=score_trend,
        most_missed=tuple(store.missed_points(limit=missed)),
        leeches=tuple(q for q in leeches(store.again_counts()) if q in topics),
        sim_runs=tuple(store.sim_runs(limit=runs)),
        mock_interviews=tuple(store.mock_interviews(limit=interviews)),
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _finite(float(value))
    return None

"""``quizapp stats | export | import | backup | settings | doctor``: progress and your data."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quizapp.cli.output import console, fail, open_store, safe_text, say, strict_json
from quizapp.domain.calendar import SHADES, heat_level, month_labels
from quizapp.domain.wording import plural

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from rich.console import Console
    from rich.text import Text

    from quizapp.store import DayCount, Store

HEATMAP_WEEKS = 16
SHADE_STYLES = ("grey35", "green4", "green3", "green1", "bold bright_green")
STALE_RUN_AGE = timedelta(hours=6)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    stats = subparsers.add_parser(
        "stats",
        parents=[common],
        help="show due reviews, streak, mastery, trends and weak rubric points",
        description=(
            "Show what is due, your streak, a heatmap of recent reviews, your score trend, "
            "mastery per topic, the rubric points you miss most and recent simulation runs."
        ),
    )
    stats.add_argument("--json", action="store_true", help="print JSON for scripts instead")
    stats.add_argument(
        "--tz",
        metavar="ZONE",
        help="time zone for days and streaks, e.g. Europe/Berlin (default: this computer's)",
    )
    stats.add_argument(
        "--weeks",
        type=int,
        default=HEATMAP_WEEKS,
        metavar="N",
        help=f"weeks shown in the heatmap and trend (default {HEATMAP_WEEKS})",
    )
    stats.set_defaults(func=show_stats)

    export = subparsers.add_parser(
        "export",
        parents=[common],
        help="write all attempts, schedules, review log and simulation runs to a JSON file",
        description=(
            "Write everything in your progress database to FILE as JSON (with its schema "
            "version), to move it to another machine or keep it. FILE '-' writes to stdout."
        ),
    )
    export.add_argument("file", metavar="FILE", nargs="?")
    export.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    export.add_argument(
        "--anki",
        metavar="FILE.apkg",
        help="instead, write the questions as an Anki deck (re-exporting updates the notes)",
    )
    export.add_argument(
        "--topics",
        nargs="+",
        metavar="TOPIC",
        help="with --anki: only these topics (default: all)",
    )
    export.set_defaults(func=export_progress)

    imp = subparsers.add_parser(
        "import",
        parents=[common],
        help="merge an exported JSON file into your progress (safe to repeat)",
        description=(
            "Merge a file written by `quizapp export` into your progress. Records already "
            "present are skipped, so importing the same file twice adds nothing; questions "
            "reviewed on both machines get their schedule rebuilt from the merged reviews. "
            "A backup of the database is taken first."
        ),
    )
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--no-backup", action="store_true", help="skip the backup taken first")
    imp.set_defaults(func=import_progress)

    backup = subparsers.add_parser(
        "backup",
        parents=[common],
        help="copy the progress database safely, even while the app runs",
        description=(
            "Copy the progress database with SQLite's online backup (safe while quizapp "
            "runs) and check the copy. Default FILE: backups/progress-<time>.db in the data "
            "folder."
        ),
    )
    backup.add_argument("file", metavar="FILE", nargs="?")
    backup.set_defaults(func=backup_progress)

    settings = subparsers.add_parser(
        "settings",
        parents=[common],
        help="show or change review settings (desired retention, new questions per day)",
        description="Show the review settings; give an option to change it.",
    )
    settings.add_argument(
        "--retention",
        type=float,
        metavar="R",
        help=(
            "desired retention from 0.70 to 0.99 (default 0.9): the chance of still knowing "
            "an answer when it comes due; higher means more frequent reviews"
        ),
    )
    settings.add_argument(
        "--new-per-day",
        type=int,
        metavar="N",
        help="new questions introduced per day, 0 to 1000 (default 10)",
    )
    settings.add_argument(
        "--interview-date",
        metavar="YYYY-MM-DD",
        help=(
            "the day of your interview: until then every question of the chosen topics is "
            "scheduled in time and the weakest on the day are brought forward; 'none' clears it"
        ),
    )
    settings.add_argument(
        "--interview-topics",
        nargs="+",
        metavar="TOPIC",
        help="with --interview-date: the topics it covers (default: all)",
    )
    settings.set_defaults(func=change_settings)

    doctor = subparsers.add_parser(
        "doctor",
        parents=[common],
        help="check the data folder and database and report problems",
        description=(
            "Check the data folder, the database's integrity and schema, and the decks. "
            "Exits 0 when your data is healthy, 1 when a problem remains."
        ),
    )
    doctor.add_argument(
        "--repair",
        action="store_true",
        help=(
            "move a damaged database aside (kept, never deleted), start a fresh one with every "
            "row that can still be read, and mark abandoned simulation runs as interrupted"
        ),
    )
    doctor.set_defaults(func=run_doctor)


# --- shared ------------------------------------------------------------------------------


def _timezone(name: str | None) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from quizapp.services.clock import local_timezone

    if not name:
        return local_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"--tz {name!r}: unknown time zone; use a name such as Europe/Berlin, "
            "America/New_York or UTC"
        ) from None


# --- stats -------------------------------------------------------------------------------


def show_stats(args: argparse.Namespace) -> int:
    from quizapp.services.library import load
    from quizapp.services.progress import progress_report
    from quizapp.store import StoreError

    if not 1 <= args.weeks <= 520:
        return fail(f"--weeks {args.weeks}: choose between 1 and 520 weeks.")
    try:
        tz = _timezone(args.tz)
    except ValueError as exc:
        return fail(str(exc))
    library = load(args.home, args.deck)
    topics = {q.id: q.topic for q in library.questions.values()}
    now = datetime.now(UTC)
    try:
        with open_store(args) as store:
            report = progress_report(store, topics, now, tz, weeks=args.weeks).to_json()
    except StoreError as exc:
        return fail(str(exc))
    report["deck_problems"] = len(library.errors)
    if args.json:
        print(strict_json(report))
    else:
        render_stats(report, console())
    return 0


def heatmap_rows(days: Sequence[DayCount]) -> list[Text]:
    """A GitHub-style grid: one row per weekday (Monday first), one column per week.

    Shades follow the domain's heat levels (the busiest day darkest), as in the app;
    days after today are left blank."""
    from rich.text import Text

    if not days:
        return []
    start = days[0].day - timedelta(days=days[0].day.weekday())
    counts = {d.day: d.reviews for d in days}
    busiest = max(counts.values(), default=0)
    weeks = (days[-1].day - start).days // 7 + 1
    labels = month_labels(start, weeks, 2)
    rows = [Text("     " + labels, style="dim")]
    for weekday, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")):
        line = Text(f"{name}  ", style="dim")
        for w in range(weeks):
            day = start + timedelta(weeks=w, days=weekday)
            if day not in counts:
                line.append("  ")
                continue
            n = counts[day]
            level = heat_level(n, busiest)
            line.append(SHADES[level] + " ", style=SHADE_STYLES[level])
        rows.append(line)
    legend = Text("     less ", style="dim")
    for char, style in zip(SHADES, SHADE_STYLES, strict=True):
        legend.append(char, style=style)
    legend.append(" more", style="dim")
    if busiest:
        legend.append(f"   (busiest day: {plural(busiest, 'review')})", style="dim")
    rows.append(legend)
    return rows


def _bar(share: float, width: int = 10) -> str:
    filled = round(max(0.0, min(1.0, share)) * width)
    return "█" * filled + "░" * (width - filled)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def render_stats(report: dict[str, Any], out: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    from quizapp.store import DayCount

    totals, due, streak = report["totals"], report["due"], report["streak"]
    out.print(safe_text(f"Progress in {report['database']}", style="bold"))
    if totals["attempts"] == 0:
        out.print(
            Text(
                "No answers recorded yet. Start the app with `quizapp` and review a few "
                f"questions; {plural(due['new_remaining_today'], 'new question')} "
                f"{'is' if due['new_remaining_today'] == 1 else 'are'} waiting today.",
            ),
            soft_wrap=True,
        )

    overview = Table(show_header=False, box=None, padding=(0, 2))
    overview.add_column(style="dim")
    overview.add_column()
    overview.add_row("Due now", str(due["now"]))
    overview.add_row("Due today", str(due["today"]))
    overview.add_row("Due in the next 7 days", str(due["next_7_days"]))
    overview.add_row(
        "New questions left today",
        f"{due['new_remaining_today']} (limit {report['settings']['new_per_day']}/day, "
        f"{due['new_never_seen']} never seen)",
    )
    overview.add_row("Reviews today", str(report["reviews_today"]))
    today_note = "" if streak["reviewed_today"] or not streak["current"] else " (review today!)"
    overview.add_row(
        "Streak",
        f"{plural(streak['current'], 'day')}{today_note}; "
        f"longest {plural(streak['longest'], 'day')}",
    )
    overview.add_row(
        "All time",
        f"{plural(totals['attempts'], 'answer')} on {plural(totals['questions_seen'], 'question')} "
        f"({totals['questions_in_decks']:,} in your decks); "
        f"{plural(totals['simulation_runs'], 'simulation run')}",
    )
    out.print(overview)

    days = [DayCount(date.fromisoformat(d["day"]), d["reviews"]) for d in report["reviews_per_day"]]
    if days:
        out.print(Text(f"\nReviews per day, last {report['weeks']} weeks", style="bold"))
        for row in heatmap_rows(days):
            out.print(row, no_wrap=True, overflow="crop")

    if report["score_trend"]:
        trend = Table(title="Score trend (mean rubric score per week)", title_justify="left")
        trend.add_column("Week of")
        trend.add_column("Answers", justify="right")
        trend.add_column("Mean score", justify="right")
        trend.add_column("")
        for point in report["score_trend"]:
            trend.add_row(
                point["week"],
                str(point["attempts"]),
                _pct(point["mean_score"]),
                _bar(point["mean_score"], 20),
            )
        out.print(trend)

    if report["mastery"]:
        mastery = Table(title="Mastery per topic", title_justify="left")
        mastery.add_column("Topic")
        mastery.add_column("Seen", justify="right")
        mastery.add_column("Mastery", justify="right")
        mastery.add_column("")
        mastery.add_column("Recent score", justify="right")
        mastery.add_column("Recall now", justify="right")
        for m in report["mastery"]:
            mastery.add_row(
                safe_text(m["topic"]),
                f"{m['seen']}/{m['questions']}",
                _pct(m["mastery"]),
                _bar(m["mastery"]),
                _pct(m["mean_recent_score"]),
                _pct(m["mean_retrievability"]),
            )
        out.print(mastery)
        out.print(
            Text(
                "Mastery: for each question, predicted recall now (FSRS) x mean score of its "
                "last 3 answers; unseen questions count 0.",
                style="dim",
            ),
            soft_wrap=True,
        )

    if report["most_missed"]:
        missed = Table(title="Rubric points you miss most", title_justify="left")
        missed.add_column("Question")
        missed.add_column("Point")
        missed.add_column("Missed", justify="right")
        for m in report["most_missed"]:
            point = safe_text(m["point"])
            if m["must_have"]:
                point.append(" (must have)", style="yellow")
            missed.add_row(
                safe_text(m["question_id"]),
                point,
                f"{m['missed']}/{m['shown']} ({_pct(m['miss_rate'])})",
            )
        out.print(missed)

    if report["simulation_runs"]:
        runs = Table(title="Recent simulation runs", title_justify="left")
        runs.add_column("Started")
        runs.add_column("Experiment")
        runs.add_column("Status")
        runs.add_column("Device")
        runs.add_column("Question")
        runs.add_column("Seconds", justify="right")
        tz = _timezone(report["timezone"]) if "/" in report["timezone"] else None
        for r in report["simulation_runs"]:
            started = datetime.fromisoformat(r["started"])
            local = started.astimezone(tz) if tz else started.astimezone()
            runs.add_row(
                local.strftime("%Y-%m-%d %H:%M"),
                safe_text(r["experiment"]),
                safe_text(r["status"], style="green" if r["status"] == "ok" else "yellow"),
                safe_text(r["device"]),
                safe_text(r["question_id"] or "–"),
                "–" if r["seconds"] is None else f"{r['seconds']:.0f}",
            )
        out.print(runs)
    if report.get("mock_interviews"):
        interviews = Table(title="Mock interviews (newest first)", title_justify="left")
        interviews.add_column("Date")
        interviews.add_column("Minutes", justify="right")
        interviews.add_column("Score", justify="right")
        interviews.add_column("Questions", justify="right")
        interviews.add_column("Topics")
        tz = _timezone(report["timezone"]) if "/" in report["timezone"] else None
        for i in report["mock_interviews"]:
            started = datetime.fromisoformat(i["started"])
            local = started.astimezone(tz) if tz else started.astimezone()
            interviews.add_row(
                local.strftime("%Y-%m-%d %H:%M"),
                str(i["minutes"]),
                _pct(i["score"]),
                str(i["questions"]),
                Text(", ".join(i["topics"]) or "all"),
            )
        out.print(interviews)
    if report.get("deck_problems"):
        out.print(
            Text(
                f"{plural(report['deck_problems'], 'problem')} in the decks; "
                "run `quizapp deck validate`.",
                style="yellow",
            )
        )


# --- export / import / backup ---------------------------------------------------------------


def export_progress(args: argparse.Namespace) -> int:
    from quizapp.store import StoreError

    if args.anki:
        return export_anki(args)
    if args.topics:
        return fail("--topics applies to --anki exports only.")
    if not args.file:
        return fail("Give a FILE to export to (or - for stdout), or --anki FILE.apkg.")
    now = datetime.now(UTC)
    try:
        with open_store(args, read_only=True) as store:
            if args.file == "-":
                sys.stdout.write(strict_json(store.export_data(now), indent=1) + "\n")
                return 0
            path = Path(args.file).expanduser()
            if path.exists() and not args.force:
                return fail(f"{path} already exists; pass --force to overwrite it.")
            if path.is_dir():
                return fail(f"{path} is a folder; give a file name such as progress.json.")
            counts = store.export_file(path, now)
    except StoreError as exc:
        return fail(str(exc))
    say(
        f"Exported {plural(counts['attempts'], 'attempt')}, "
        f"{plural(counts['cards'], 'schedule')}, {plural(counts['review_log'], 'review')} and "
        f"{plural(counts['sim_runs'], 'simulation run')} to {path}."
    )
    return 0


def export_anki(args: argparse.Namespace) -> int:
    from quizapp.services.anki import write_anki_package
    from quizapp.services.library import load

    if args.file:
        return fail("Give either FILE (a progress export) or --anki FILE.apkg, not both.")
    path = Path(args.anki).expanduser()
    if path.suffix != ".apkg":
        return fail(f"{path}: an Anki package's name ends in .apkg.")
    if path.exists() and not args.force:
        return fail(f"{path} already exists; pass --force to overwrite it.")
    library = load(args.home, args.deck)
    questions = list(library.questions.values())
    if args.topics:
        known = sorted({q.topic for q in questions})
        unknown = [t for t in args.topics if t not in known]
        if unknown:
            return fail(
                f"--topics: no questions on {', '.join(unknown)}; "
                f"the topics are {', '.join(known)}."
            )
        questions = [q for q in questions if q.topic in args.topics]
    try:
        count = write_anki_package(questions, path)
    except OSError as exc:
        return fail(f"Cannot write {path}: {exc.strerror or exc}.")
    console().print(
        f"Wrote {plural(count, 'note')} to {path}. In Anki: File > Import; importing a newer "
        "export updates these notes rather than adding copies."
    )
    return 0


def import_progress(args: argparse.Namespace) -> int:
    from quizapp.store import StoreError

    path = Path(args.file).expanduser()
    if not path.is_file():
        return fail(f"{path}: no such file.")
    saved: Path | None = None
    try:
        with open_store(args) as store:
            if not args.no_backup and store.import_needs_backup(path):
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                saved = store.backup(store.home / "backups" / f"before-import-{stamp}.db")
            report = store.import_file(path)
    except StoreError as exc:
        if saved is not None:
            say(f"Backed up the database to {saved} first.")
        return fail(str(exc))
    if not report.added_anything:
        if saved is not None:  # the database is as it was: a backup of it is clutter
            saved.unlink(missing_ok=True)
        say(
            f"Nothing new in {path}: its {plural(report.attempts_present, 'attempt')} and "
            f"{plural(report.sim_runs_present, 'simulation run')} are already here."
        )
        return 0
    if saved is not None:
        say(f"Backed up the database to {saved} first.")
    say(
        f"Imported {plural(report.attempts_added, 'attempt')} "
        f"({report.attempts_present} already here), "
        f"{plural(report.sim_runs_added, 'simulation run')} and "
        f"{plural(report.settings_added, 'setting')} from "
        f"{path}."
    )
    if report.cards_replayed:
        say(
            f"Rebuilt the schedule of {plural(report.cards_replayed, 'question')} from their "
            "merged reviews."
        )
    return 0


def backup_progress(args: argparse.Namespace) -> int:
    from quizapp.store import StoreError

    try:
        with open_store(args, read_only=True) as store:
            if args.file:
                dest = Path(args.file).expanduser()
            else:
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                dest = store.home / "backups" / f"progress-{stamp}.db"
            saved = store.backup(dest)
            attempts = store.totals().attempts
    except StoreError as exc:
        return fail(str(exc))
    size = saved.stat().st_size
    say(
        f"Backed up {plural(attempts, 'attempt')} to {saved} "
        f"({size / 1024:.0f} KiB, integrity checked). "
        f"Restore by copying it over {store.path} while quizapp is closed."
    )
    return 0


def change_settings(args: argparse.Namespace) -> int:
    from quizapp.domain.interview_date import InterviewPlan, parse_interview_date
    from quizapp.services.library import load
    from quizapp.services.review import interview_plan, save_interview_plan
    from quizapp.store import StoreError

    today = datetime.now(_timezone(None)).date()
    plan: InterviewPlan | None = None
    if args.interview_topics and not args.interview_date:
        return fail("--interview-topics goes with --interview-date YYYY-MM-DD.")
    if args.interview_date and args.interview_date.lower() != "none":
        try:
            day = parse_interview_date(args.interview_date, today)
        except ValueError as exc:
            return fail(f"--interview-date: {exc}.")
        topics = tuple(args.interview_topics or ())
        if topics:
            known = sorted({q.topic for q in load(args.home, args.deck).questions.values()})
            unknown = [t for t in topics if t not in known]
            if unknown:
                return fail(
                    f"--interview-topics: no questions on {', '.join(unknown)}; "
                    f"the topics are {', '.join(known)}."
                )
        plan = InterviewPlan(day, topics)
    try:
        with open_store(args) as store:
            try:
                current = store.update_settings(
                    desired_retention=args.retention, new_per_day=args.new_per_day
                )
            except ValueError as exc:
                return fail(f"{exc}.")
            if args.interview_date:
                save_interview_plan(store, plan)
            saved_plan = interview_plan(store)
    except StoreError as exc:
        return fail(str(exc))
    changed = any(v is not None for v in (args.retention, args.new_per_day, args.interview_date))
    lines = [
        f"{'Saved. ' if changed else ''}Desired retention {current.desired_retention:.2f}; "
        f"{plural(current.new_per_day, 'new question')} per day."
    ]
    if saved_plan is not None and saved_plan.day >= today:
        left = (saved_plan.day - today).days
        lines.append(
            f"Interview on {saved_plan.day.isoformat()} ({plural(left, 'day')} left), topics: "
            f"{', '.join(saved_plan.topics) if saved_plan.topics else 'all'}."
        )
    say("\n".join(lines))
    return 0


# --- doctor ------------------------------------------------------------------------------


def run_doctor(args: argparse.Namespace) -> int:
    import os

    from rich.text import Text

    from quizapp.services.library import load
    from quizapp.store import SCHEMA_VERSION, StoreError, repair
    from quizapp.store.paths import data_home, database_path

    out = console()
    problems = 0

    def line(ok: bool | None, text: str) -> None:
        nonlocal problems
        mark, style = {True: ("✓", "green"), False: ("✗", "red"), None: ("•", "yellow")}[ok]
        if ok is False:
            problems += 1
        # Notices and orphaned question ids come from the database (perhaps an import).
        out.print(Text.assemble((f"{mark} ", style), safe_text(text)), soft_wrap=True)

    home = data_home(args.home)
    path = database_path(home)
    line(True, f"Data folder: {home}")
    if args.repair:
        try:
            for message in repair(home):
                line(None, message)
        except StoreError as exc:
            line(False, str(exc))
            return 1
    try:
        store = _open_quiet(home)
    except StoreError as exc:
        line(False, str(exc))
        return 1
    with store:
        for notice in store.notices:
            line(None, notice)
        line(True, f"Database: {path} ({path.stat().st_size / 1024:.0f} KiB)")
        line(os.access(home, os.W_OK), "Data folder is writable")
        version = store.schema_version
        line(
            version == SCHEMA_VERSION, f"Schema version {version} (this quizapp: {SCHEMA_VERSION})"
        )
        journal = store.db.journal_mode
        line(journal == "wal", f"Journal mode: {journal}")
        issues = store.check()
        if issues:
            for issue in issues[:10]:
                line(False, f"Integrity: {issue}")
            out.print(
                Text(
                    "Run `quizapp doctor --repair` to move the damaged database aside (it is "
                    "kept) and continue with every row that can still be read.",
                    style="yellow",
                ),
                soft_wrap=True,
            )
        else:
            line(True, "Integrity check passed")
        totals = store.totals()
        line(
            True,
            f"Records: {plural(totals.attempts, 'attempt')} on "
            f"{plural(totals.questions_seen, 'question')}, "
            f"{plural(totals.sim_runs, 'simulation run')}",
        )
        stale = [r for r in store.stale_sim_runs() if datetime.now(UTC) - r.started > STALE_RUN_AGE]
        if stale and args.repair:
            marked = store.mark_interrupted_runs(datetime.now(UTC) - STALE_RUN_AGE)
            line(None, f"Marked {plural(marked, 'abandoned simulation run')} as interrupted")
        elif stale:
            line(
                None,
                f"{plural(len(stale), 'simulation run')} still marked running after "
                f"{STALE_RUN_AGE.total_seconds() / 3600:.0f} h (the program was probably "
                "closed); `quizapp doctor --repair` marks them interrupted",
            )
        library = load(args.home, args.deck)
        known = set(library.questions)
        seen = store.seen_question_ids()
        orphans = sorted(seen - known)
        if orphans:
            shown = ", ".join(orphans[:5]) + (" …" if len(orphans) > 5 else "")
            line(
                None,
                f"{plural(len(orphans), 'question')} with history "
                f"{'is' if len(orphans) == 1 else 'are'} not in any deck now "
                f"({shown}); their history is kept",
            )
        if library.errors:
            # Deck problems are for the deck's author to fix; they never touch your data.
            line(
                None,
                f"{plural(len(library.errors), 'problem')} in the decks; "
                "see `quizapp deck validate`",
            )
        else:
            line(True, f"Decks: {len(library.questions)} questions load without problems")
    kept = sorted(home.glob(f"{path.name}.corrupt-*"))
    kept = [p for p in kept if not p.name.endswith(("-wal", "-shm"))]
    if kept:
        line(None, f"Damaged databases kept aside: {', '.join(str(p) for p in kept)}")
    if problems:
        out.print(Text(f"{plural(problems, 'problem')} found.", style="red"))
        return 1
    out.print(Text("All good.", style="green"))
    return 0


def _open_quiet(home: Path) -> Store:
    from quizapp.store import Store

    return Store.open(home)

"""Small helpers for the sentences quizapp shows."""

from datetime import timedelta


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``plural(1, "attempt")`` -> "1 attempt"; ``plural(3, "attempt")`` -> "3 attempts"."""
    word = noun if count == 1 else (plural_form or f"{noun}s")
    return f"{count:,} {word}"


def difficulty_dots(difficulty: int) -> str:
    return "●" * difficulty + "○" * max(0, 3 - difficulty)


def humanize_delta(seconds: float) -> str:
    """'in 10 minutes', 'in 3 days'... for the next due date."""
    minutes = seconds / 60
    if minutes < 1:
        return "now"
    if minutes < 90:
        return f"in {round(minutes)} min"
    hours = minutes / 60
    if hours < 36:
        return f"in {round(hours)} h"
    days = hours / 24
    if days < 60:
        return f"in {round(days)} days"
    return f"in {round(days / 30)} months"


def short_interval(delta: timedelta) -> str:
    """A review interval in a few characters: '10m', '5h', '3d', '2mo', '1.5y'."""
    minutes = delta.total_seconds() / 60
    if minutes < 60:
        return f"{max(1, round(minutes))}m"
    if minutes < 24 * 60:
        return f"{round(minutes / 60)}h"
    days = minutes / (24 * 60)
    if days < 31:
        return f"{round(days)}d"
    if days < 365:
        return f"{round(days / 30.4)}mo"
    return f"{days / 365:.1f}y"


def format_duration(seconds: float) -> str:
    """A clock reading: ``75`` -> "01:15", ``3725`` -> "1:02:05" (negative counts as 0)."""
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def time_left(seconds: float) -> str:
    """What is left of a time budget: "12:30 left", or "02:10 over" once it has run out."""
    if seconds >= 0:
        return f"{format_duration(seconds)} left"
    return f"{format_duration(-seconds)} over"


def expected_duration(seconds: float, at_most: bool) -> str:
    """What to tell before a long simulation: 'This run will take about 12 minutes ...'."""
    minutes = seconds / 60
    span = plural(round(minutes), "minute") if minutes < 90 else f"{minutes / 60:.1f} hours"
    return (
        f"This run will take {'up to' if at_most else 'about'} {span} on this machine; "
        "stopping it keeps what has run so far."
    )

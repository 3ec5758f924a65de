"""The review calendar: how busy a day looks and where month names go.

One rule for the app's heatmap and the CLI's, so both shade the same day the same way."""

from __future__ import annotations

from datetime import date, timedelta

SHADES = "·░▒▓█"  # no reviews, then four steps up to the busiest day shown


def heat_level(count: int, busiest: int) -> int:
    """0 for no reviews, else 1..4 in proportion to the busiest day shown (which is 4)."""
    if count <= 0:
        return 0
    if busiest <= 1 or count >= busiest:
        return 4
    return 1 + min(3, (count - 1) * 4 // busiest)


def month_labels(first_monday: date, weeks: int, cell_width: int) -> str:
    """Month names above the week columns, each over the first week that starts in it.

    The first column's month (often only a few days of it are shown) gives way when its
    name would run into the next month's, so no month is ever skipped in the middle."""
    starts: list[tuple[int, str]] = []
    for week in range(weeks):
        monday = first_monday + timedelta(weeks=week)
        if week == 0 or monday.month != (monday - timedelta(weeks=1)).month:
            starts.append((week * cell_width, monday.strftime("%b")))
    line = [" "] * (weeks * cell_width + 3)
    for i, (col, label) in enumerate(starts):
        following = starts[i + 1][0] if i + 1 < len(starts) else len(line)
        if col + len(label) >= following:
            continue
        line[col : col + len(label)] = label
    return "".join(line).rstrip()

"""The user's clock and time zone, read from the environment."""

from __future__ import annotations

import os
from contextlib import suppress
from datetime import UTC, datetime, tzinfo


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_timezone() -> tzinfo:
    """The user's time zone: $TZ or /etc/localtime as a zoneinfo zone (so DST is right),
    else the current fixed UTC offset."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        with suppress(OSError):
            link = os.readlink("/etc/localtime")
            if "zoneinfo/" in link:
                name = link.split("zoneinfo/", 1)[1]
    if name:
        with suppress(ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(name)
    return datetime.now().astimezone().tzinfo or UTC

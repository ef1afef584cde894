"""Calendar days in UTC: how the engine turns `now` into the day that date fields compare with."""

from __future__ import annotations

import datetime as dt

ONE_DAY = dt.timedelta(days=1)


def utc_day(now: dt.datetime) -> dt.date:
    """The UTC calendar day of `now`; date fields are compared with it, limits including their day."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware (UTC), got {now!r}")
    return now.astimezone(dt.UTC).date()


def day_start(day: dt.date) -> dt.datetime:
    """00:00 UTC of `day`."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def last_current_day(dated: dt.date, max_age_days: int) -> dt.date:
    """A document dated D with a maximum age of N days is current through D + N."""
    return dated + dt.timedelta(days=max_age_days)

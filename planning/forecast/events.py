"""Holiday and event weeks: the built-in moving US holidays and a hook for known future events.

There is no promotions input table yet. Known events (a promotion, a marketplace sale day, a
holiday the built-in calendar lacks) are passed to ``forecast_demand(events=...)`` as a frame
with columns ``date`` and ``event`` and an optional ``sku`` (empty = every SKU). Each event's
uplift is estimated from its past occurrences in the history and applied to its future weeks.

Fixed-date holidays (Christmas, New Year, 4th of July) fall in the same week of the year every
year, so the yearly seasonal profile already carries them; the built-in calendar lists the
holidays whose week moves from year to year.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

EVENT_COLUMNS = ("date", "event", "sku")


def easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month = (h + m - 7 * n + 114) // 31
    day = (h + m - 7 * n + 114) % 31 + 1
    return date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (0 = Monday) of a month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def us_holidays(first_year: int, last_year: int) -> pd.DataFrame:
    """US retail holidays whose week moves between years, as an events frame (all SKUs)."""
    rows = []
    for year in range(first_year, last_year + 1):
        thanksgiving = _nth_weekday(year, 11, 3, 4)
        rows += [
            (easter(year), "easter"),
            (_nth_weekday(year, 5, 6, 2), "mothers_day"),
            (_nth_weekday(year, 5, 0, -1), "memorial_day"),
            (_nth_weekday(year, 6, 6, 3), "fathers_day"),
            (_nth_weekday(year, 9, 0, 1), "labor_day"),
            (thanksgiving, "thanksgiving"),
            # Cyber Monday opens the week after Thanksgiving: its own event.
            (thanksgiving + timedelta(days=4), "cyber_monday"),
        ]
    frame = pd.DataFrame(rows, columns=["date", "event"])
    return frame.assign(date=pd.to_datetime(frame["date"]), sku=pd.Series(pd.NA, index=frame.index, dtype="object"))


def event_weeks(events: pd.DataFrame, week_starts: pd.DatetimeIndex) -> pd.DataFrame:
    """Events -> (event, sku, week index on the grid); events off the grid are dropped.

    ``sku`` is NA for events that apply to every SKU.
    """
    if events.empty:
        return pd.DataFrame({"event": [], "sku": [], "week": []})
    dates = pd.to_datetime(events["date"])
    monday = dates.dt.normalize() - pd.to_timedelta(dates.dt.day_of_week, unit="D")
    week = (monday - week_starts[0]).dt.days // 7
    sku = events["sku"] if "sku" in events else pd.Series(pd.NA, index=events.index)
    frame = pd.DataFrame({"event": events["event"].astype(str), "sku": sku, "week": week})
    frame = frame[(frame["week"] >= 0) & (frame["week"] < len(week_starts))]
    return frame.drop_duplicates().reset_index(drop=True)

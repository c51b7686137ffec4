"""Settlement time: UTC and local (Europe/London) settlement days, periods, day types and seasons.

Everything inside the package is held as UTC period **end** instants (``datetime64[m]``, naive, UTC).
This module is the one place that maps them onto the local BSC settlement view: local settlement
days have 46 periods on the March clock-change day, 50 on the October one and 48 otherwise, and
period 1 ends at 00:30 local time.

All functions are vectorised over arrays of days (``numpy.datetime64[D]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from mhhs_workbench.codes.messages import PERIOD_MINUTES, PERIODS_PER_UTC_DAY
from mhhs_workbench.time.bank_holidays import bank_holidays

LOCAL_TZ = "Europe/London"

#: Length of a settlement period, as a numpy duration (``PERIOD_MINUTES``, 30 minutes).
PERIOD = np.timedelta64(PERIOD_MINUTES, "m")

#: Most settlement periods in one local settlement day (50): the October clock-change day, when
#: the clocks go back and the day lasts 25 hours.
MAX_LOCAL_PERIODS = PERIODS_PER_UTC_DAY + 2

#: Fewest settlement periods in one local settlement day (46): the March clock-change day, when
#: the clocks go forward and the day lasts 23 hours.
MIN_LOCAL_PERIODS = PERIODS_PER_UTC_DAY - 2

#: Half-hour slots of the local (Europe/London) 24-hour clock face (48): slot ``k`` runs from
#: ``k / 2`` h to ``(k + 1) / 2`` h local time. The profiles are shaped on these slots; the same
#: number as ``PERIODS_PER_UTC_DAY``, but a local day has 46, 48 or 50 periods to spread over them
#: (the March clock change skips two slots, the October one repeats two).
CLOCK_SLOTS_PER_DAY = PERIODS_PER_UTC_DAY

#: Elexon season codes in the order used by the reference profiles and the model.
SEASONS: tuple[str, ...] = ("Wtr", "Spr", "Smr", "Hsr", "Aut")
SEASON_NAMES: dict[str, str] = {
    "Wtr": "Winter",
    "Spr": "Spring",
    "Smr": "Summer",
    "Hsr": "High Summer",
    "Aut": "Autumn",
}

#: Day type codes returned by :func:`day_types`.
WEEKDAY, SATURDAY, SUNDAY, BANK_HOLIDAY = 0, 1, 2, 3
DAY_TYPES: tuple[str, ...] = ("Wd", "Sat", "Sun", "BH")

#: Nations with their own bank holidays (``holidays`` subdivision codes of GB).


def as_days(days: Iterable | np.ndarray | pd.DatetimeIndex | str | date) -> np.ndarray:
    """Coerce dates to a 1-D ``datetime64[D]`` array."""
    if isinstance(days, np.ndarray) and days.dtype == "datetime64[D]":
        return days.ravel()  # already right: the common case inside the package
    if isinstance(days, (str, date, np.datetime64)):
        days = [days]
    return np.atleast_1d(np.asarray(pd.to_datetime(np.asarray(days)).values, dtype="datetime64[D]"))


def day_range(start: str | date, end: str | date) -> np.ndarray:
    """Days from ``start`` to ``end`` inclusive, as ``datetime64[D]``."""
    s, e = np.datetime64(str(start), "D"), np.datetime64(str(end), "D")
    if e < s:
        raise ValueError(f"end date {e} is before start date {s}")
    return np.arange(s, e + 1, dtype="datetime64[D]")


# --------------------------------------------------------------------------- UTC view


def utc_period_ends(days: np.ndarray) -> np.ndarray:
    """UTC period-end instants of UTC settlement days.

    Parameters
    ----------
    days : array of datetime64[D]
        UTC settlement days.

    Returns
    -------
    numpy.ndarray of datetime64[m], shape ``(n_days, 48)``
        ``D 00:30 ... D+1 00:00`` [UTC] for each day ``D``.
    """
    d = as_days(days).astype("datetime64[m]")
    return d[:, None] + PERIOD * np.arange(1, PERIODS_PER_UTC_DAY + 1)


def format_utc(instants: np.ndarray) -> np.ndarray:
    """Format UTC instants as 25-character ISO 8601 strings with a ``+00:00`` offset.

    Parameters
    ----------
    instants : array of datetime64
        Instants [UTC].

    Returns
    -------
    numpy.ndarray of str
        ``'YYYY-MM-DDTHH:MM:SS+00:00'`` for each instant.
    """
    text = np.datetime_as_string(np.asarray(instants, dtype="datetime64[s]"), unit="s")
    return np.char.add(text, "+00:00")


def format_local(instants: np.ndarray) -> np.ndarray:
    """Format UTC instants as 25-character local (Europe/London) strings with their offset."""
    idx = pd.DatetimeIndex(np.asarray(instants, dtype="datetime64[ns]").ravel()).tz_localize("UTC")
    local = idx.tz_convert(LOCAL_TZ)
    text = local.strftime("%Y-%m-%dT%H:%M:%S%z")
    # %z gives +0100; the DIP wants +01:00
    out = np.array([t[:22] + ":" + t[22:] for t in text], dtype="U25")
    return out.reshape(np.shape(instants))


# --------------------------------------------------------------------------- local view


def local_midnights_utc(days: np.ndarray) -> np.ndarray:
    """UTC instant of local (Europe/London) midnight starting each local day.

    Midnight is never inside a GB clock change (they happen at 01:00 UTC), so it is unambiguous.
    """
    d = as_days(days)
    idx = pd.DatetimeIndex(d.astype("datetime64[ns]")).tz_localize(LOCAL_TZ).tz_convert("UTC")
    return idx.tz_localize(None).values.astype("datetime64[m]")


def local_period_counts(days: np.ndarray) -> np.ndarray:
    """Number of settlement periods in local settlement days: 46, 48 or 50."""
    d = as_days(days)
    start = local_midnights_utc(d)
    end = local_midnights_utc(d + 1)
    return ((end - start) // PERIOD).astype(np.int64)


def local_to_utc(settlement_dates: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """UTC period-end instants of local settlement periods.

    Parameters
    ----------
    settlement_dates : array of datetime64[D]
        Local (Europe/London) settlement dates.
    periods : array of int
        Settlement period numbers, 1 to 46/48/50.

    Returns
    -------
    numpy.ndarray of datetime64[m]
        Period-end instants [UTC].

    Raises
    ------
    ValueError
        If a period number is outside its day's range.
    """
    d = as_days(settlement_dates)
    p = np.asarray(periods, dtype=np.int64)
    d, p = np.broadcast_arrays(d, p)
    counts = local_period_counts(np.unique(d))
    n = counts[np.searchsorted(np.unique(d), d)]
    bad = (p < 1) | (p > n)
    if np.any(bad):
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(
            f"settlement period {p.ravel()[i]} does not exist on {d.ravel()[i]} "
            f"(that day has {n.ravel()[i]} periods)"
        )
    return local_midnights_utc(d.ravel()).reshape(d.shape) + p * PERIOD


def utc_to_local(period_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local settlement date and period number of UTC period-end instants.

    Parameters
    ----------
    period_ends : array of datetime64
        Period-end instants [UTC], on :00 or :30.

    Returns
    -------
    settlement_dates : numpy.ndarray of datetime64[D]
        Local (Europe/London) settlement date of each period.
    periods : numpy.ndarray of int64
        Settlement period number (1-50) within that date.
    """
    ends = np.asarray(period_ends, dtype="datetime64[m]")
    flat = ends.ravel()
    starts = flat - PERIOD
    local_start = (
        pd.DatetimeIndex(starts.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(LOCAL_TZ)
    )
    dates = local_start.tz_localize(None).values.astype("datetime64[D]")
    uniq, inv = np.unique(dates, return_inverse=True)
    midnight = local_midnights_utc(uniq)[inv]
    periods = ((flat - midnight) // PERIOD).astype(np.int64)
    return dates.reshape(ends.shape), periods.reshape(ends.shape)


def local_period_ends(day: np.datetime64 | str | date) -> np.ndarray:
    """UTC period-end instants of one local settlement day (46, 48 or 50 of them)."""
    d = as_days(day)
    start = local_midnights_utc(d)[0]
    n = int(local_period_counts(d)[0])
    return start + PERIOD * np.arange(1, n + 1)


def clock_change_days(years: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """Local dates of the spring (46-period) and autumn (50-period) clock changes.

    Returns
    -------
    spring, autumn : numpy.ndarray of datetime64[D]
        Last Sunday of March and of October of each year.
    """
    years = list(years)
    return (
        np.array([_last_sunday(y, 3) for y in years], dtype="datetime64[D]"),
        np.array([_last_sunday(y, 10) for y in years], dtype="datetime64[D]"),
    )


def _last_weekday(year: int, month: int, weekday: int) -> np.datetime64:
    """Last ``weekday`` (Monday = 0) of a month."""
    first_next = np.datetime64(f"{year + (month == 12)}-{month % 12 + 1:02d}-01", "D")
    last = first_next - 1
    return last - (int(weekdays(last)[0]) - weekday) % 7


def _last_sunday(year: int, month: int) -> np.datetime64:
    return _last_weekday(year, month, 6)


# --------------------------------------------------------------------------- day types


def weekdays(days: np.ndarray) -> np.ndarray:
    """ISO weekday index of days, Monday = 0 ... Sunday = 6."""
    return ((as_days(days).astype(np.int64) - 4) % 7).astype(np.int64)


def day_types(days: np.ndarray, nation: str = "ENG") -> np.ndarray:
    """Day type of local days: 0 weekday, 1 Saturday, 2 Sunday, 3 bank holiday.

    Parameters
    ----------
    days : array of datetime64[D]
        Local days.
    nation : {'ENG', 'WLS', 'SCT', 'NIR'}
        Whose bank holidays apply.
    """
    d = as_days(days)
    wd = weekdays(d)
    out = np.where(wd == 5, SATURDAY, np.where(wd == 6, SUNDAY, WEEKDAY))
    if d.size:
        years = d.astype("datetime64[Y]").astype(np.int64) + 1970
        bh = bank_holidays(range(int(years.min()), int(years.max()) + 1), nation)
        out = np.where(np.isin(d, bh), BANK_HOLIDAY, out)
    return out.astype(np.int64)


def profile_day_types(days: np.ndarray, nation: str = "ENG") -> np.ndarray:
    """Day type as used by load profiles: 0 weekday, 1 Saturday, 2 Sunday or bank holiday."""
    t = day_types(days, nation)
    return np.where(t == BANK_HOLIDAY, SUNDAY, t)


# --------------------------------------------------------------------------- seasons


def august_bank_holiday(year: int) -> np.datetime64:
    """Summer bank holiday of England & Wales: the last Monday of August."""
    return _last_weekday(year, 8, 0)


@lru_cache(maxsize=256)
def season_boundaries(year: int) -> dict[str, np.datetime64]:
    """First day of each Elexon season in ``year`` (Winter's first day is the October change).

    Spring starts on the March clock change; Summer on the 16th Saturday before the August bank
    holiday (so it lasts 10 weeks); High Summer on the 6th Saturday before it, running to the
    Sunday after it; Autumn on the Monday after that; Winter on the October clock change.
    """
    abh = august_bank_holiday(year)
    spring, autumn_change = clock_change_days([year])
    return {
        "Spr": spring[0],
        "Smr": abh - 2 - 7 * 15,
        "Hsr": abh - 2 - 7 * 5,
        "Aut": abh + 7,
        "Wtr": autumn_change[0],
    }


def seasons(days: np.ndarray) -> np.ndarray:
    """Elexon season index of local days (0 Wtr, 1 Spr, 2 Smr, 3 Hsr, 4 Aut), see :data:`SEASONS`."""
    d = as_days(days)
    out = np.zeros(d.shape, dtype=np.int64)
    if not d.size:
        return out
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    for year in np.unique(years):
        b = season_boundaries(int(year))
        sel = years == year
        dd = d[sel]
        s = np.zeros(dd.shape, dtype=np.int64)  # winter unless inside another season
        s[(dd >= b["Spr"]) & (dd < b["Smr"])] = 1
        s[(dd >= b["Smr"]) & (dd < b["Hsr"])] = 2
        s[(dd >= b["Hsr"]) & (dd < b["Aut"])] = 3
        s[(dd >= b["Aut"]) & (dd < b["Wtr"])] = 4
        out[sel] = s
    return out

"""Bank holidays of the GB nations: the package's one source, from the ``holidays`` package.

Day types of the consumption model (a bank holiday is a Sunday-like day, by the site's nation)
and working days of the settlement timetable (England & Wales) both come from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import holidays
import numpy as np

#: GB nations whose bank holidays differ: England, Wales, Scotland, Northern Ireland.
NATIONS: tuple[str, ...] = ("ENG", "WLS", "SCT", "NIR")


@lru_cache(maxsize=64)
def _holidays(nation: str, year_lo: int, year_hi: int) -> np.ndarray:
    if nation not in NATIONS:
        raise ValueError(f"unknown nation {nation!r}; expected one of {', '.join(NATIONS)}")
    calendar = holidays.country_holidays("GB", subdiv=nation, years=range(year_lo, year_hi + 1))
    return np.array(sorted(calendar.keys()), dtype="datetime64[D]")


def bank_holidays(years: Iterable[int], nation: str = "ENG") -> np.ndarray:
    """Bank holidays of a GB nation over the years ``min(years) .. max(years)``.

    Parameters
    ----------
    years : iterable of int
        Calendar years.
    nation : {'ENG', 'WLS', 'SCT', 'NIR'}
        Whose bank holidays.

    Returns
    -------
    numpy.ndarray of datetime64[D]
        The days, sorted.
    """
    ys = list(years)
    return _holidays(nation, min(ys), max(ys))


@lru_cache(maxsize=256)
def _holiday_set(nation: str, year: int) -> frozenset[dt.date]:
    return frozenset(d.item() for d in _holidays(nation, year, year))


def is_bank_holiday(day: dt.date, nation: str = "ENG") -> bool:
    """Whether ``day`` (a local calendar date) is a bank holiday of ``nation``."""
    return day in _holiday_set(nation, day.year)

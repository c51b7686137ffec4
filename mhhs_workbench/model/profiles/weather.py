"""Daily outside air temperature: a built-in synthetic GB series, or the user's own CSV.

The synthetic series is a smooth climatology (UK daily mean, roughly the 1991-2020 normals:
about 4 °C in late January, 15.6 °C in late July) plus weather anomalies built from hashed
"value noise" at 1-, 4- and 15-day scales. It depends on the date only, never on a seed, so
every data set sees the same weather on the same day, and any date range can be produced
independently of any other.
"""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from mhhs_workbench.model.randomness import Stream, hash_counter, mix64, normal
from mhhs_workbench.time.periods import as_days

#: Climatology: annual mean [°C], half the annual swing [°C], and day of year of the minimum.
CLIMATE_MEAN_C = 9.8
CLIMATE_AMPLITUDE_C = 5.8
CLIMATE_COLDEST_DAY = 21.0

#: Anomaly components as (knot spacing [days], standard deviation at the knots [°C]).
_ANOMALY_SCALES: tuple[tuple[int, float], ...] = ((1, 0.8), (4, 1.8), (12, 0.9))

#: Plausible range for a GB daily mean temperature [°C]; outside it a CSV value is rejected.
PLAUSIBLE_RANGE_C = (-30.0, 40.0)

_WEATHER_KEY = mix64(np.array([0x5EA7_4E12], dtype=np.uint64))


class TemperatureDataError(ValueError):
    """A temperature series or file breaks a rule; the message names the place and the rule."""


def _day_numbers(days: np.ndarray) -> np.ndarray:
    return as_days(days).astype(np.int64)


def climatology(days: np.ndarray) -> np.ndarray:
    """Normal daily mean outside temperature of GB for each day [°C].

    Parameters
    ----------
    days : array of datetime64[D]
        Local days.

    Returns
    -------
    numpy.ndarray of float
        Climatological daily mean temperature [°C].
    """
    d = as_days(days)
    doy = (d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.float64)
    return CLIMATE_MEAN_C - CLIMATE_AMPLITUDE_C * np.cos(
        2 * np.pi * (doy - CLIMATE_COLDEST_DAY) / 365.25
    )


def _value_noise(day_numbers: np.ndarray, spacing: int, component: int) -> np.ndarray:
    """Smoothly interpolated hashed normal values on knots every ``spacing`` days."""
    shifted = day_numbers + 7 * component  # knots of the components do not line up
    k = np.floor_divide(shifted, spacing)
    frac = (shifted - k * spacing) / spacing
    key = _WEATHER_KEY ^ np.uint64(int(Stream.WEATHER_TEMPERATURE) * 131 + component)
    v0 = normal(hash_counter(key, k))
    v1 = normal(hash_counter(key, k + 1))
    w = frac * frac * (3 - 2 * frac)  # smoothstep: no kinks at the knots
    return v0 * (1 - w) + v1 * w


def synthetic_temperature(days) -> pd.Series:
    """Built-in synthetic GB daily mean outside temperature [°C], deterministic by date.

    Parameters
    ----------
    days : array of datetime64[D] or anything :func:`~mhhs_workbench.time.periods.as_days`
        takes
        Days to produce.

    Returns
    -------
    pandas.Series
        ``temperature_c`` [°C] indexed by ``date`` (``DatetimeIndex`` at midnight).
    """
    d = as_days(days)
    n = _day_numbers(d)
    anomaly = np.zeros(d.shape, dtype=np.float64)
    for component, (spacing, sd) in enumerate(_ANOMALY_SCALES):
        anomaly += sd * _value_noise(n, spacing, component)
    doy = (d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.float64)
    # winter anomalies are larger than summer ones in the GB record
    anomaly *= 1.0 + 0.25 * np.cos(2 * np.pi * (doy - 15.0) / 365.25)
    values = np.clip(climatology(d) + anomaly, -15.0, 30.0)
    index = pd.DatetimeIndex(d.astype("datetime64[ns]"), name="date")
    return pd.Series(np.round(values, 2), index=index, name="temperature_c")


def load_temperature_csv(path: str | Path) -> pd.Series:
    """Read a daily temperature CSV with columns ``date,temperature_c``.

    ``date`` is an ISO date (``YYYY-MM-DD``), ``temperature_c`` the daily mean outside
    temperature [°C]. Other columns are ignored. Dates need not be contiguous: days the file
    does not cover fall back to the synthetic series when consumption is generated.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file.

    Returns
    -------
    pandas.Series
        ``temperature_c`` [°C] indexed by ``date``, sorted.

    Raises
    ------
    TemperatureDataError
        If the file is missing or empty, lacks a column, or a row has an unreadable or
        implausible value or repeats a date; the message names file, line, column and value.
    """
    p = Path(path)
    if not p.is_file():
        raise TemperatureDataError(f"{p}: temperature file not found")
    dates: list[date] = []
    values: list[float] = []
    seen: dict[date, int] = {}
    lo, hi = PLAUSIBLE_RANGE_C
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in ("date", "temperature_c") if c not in header]
        if missing:
            raise TemperatureDataError(
                f"{p}, line 1: missing column(s) {', '.join(missing)}; "
                f"expected a header 'date,temperature_c' (found {','.join(header) or 'nothing'})"
            )
        reader.fieldnames = header
        for row in reader:
            line = reader.line_num
            raw_date = (row.get("date") or "").strip()
            raw_temp = (row.get("temperature_c") or "").strip()
            try:
                day = date.fromisoformat(raw_date)
            except ValueError:
                raise TemperatureDataError(
                    f"{p}, line {line}, column date: {raw_date!r} is not a date YYYY-MM-DD"
                ) from None
            try:
                value = float(raw_temp)
            except ValueError:
                raise TemperatureDataError(
                    f"{p}, line {line}, column temperature_c: {raw_temp!r} is not a number [°C]"
                ) from None
            if not math.isfinite(value) or not lo <= value <= hi:
                raise TemperatureDataError(
                    f"{p}, line {line}, column temperature_c: {raw_temp!r} is outside the "
                    f"plausible daily mean range {lo:g} to {hi:g} °C"
                )
            if day in seen:
                raise TemperatureDataError(
                    f"{p}, line {line}, column date: {raw_date} repeats line {seen[day]}"
                )
            seen[day] = line
            dates.append(day)
            values.append(value)
    if not dates:
        raise TemperatureDataError(f"{p}: no data rows after the header")
    index = pd.DatetimeIndex(pd.to_datetime(dates), name="date")
    return pd.Series(values, index=index, name="temperature_c", dtype=np.float64).sort_index()


def daily_temperature(days: np.ndarray, temperature: pd.Series | None = None) -> np.ndarray:
    """Daily mean temperature for each day, from the user's series where it has the day.

    Parameters
    ----------
    days : array of datetime64[D]
        Local days.
    temperature : pandas.Series, optional
        Daily mean temperature [°C] indexed by date (as returned by
        :func:`load_temperature_csv`). Days it lacks use :func:`synthetic_temperature`.

    Returns
    -------
    numpy.ndarray of float
        Temperature [°C] per day.

    Raises
    ------
    TemperatureDataError
        If the series has repeated dates or non-finite values.
    """
    d = as_days(days)
    out = synthetic_temperature(d).to_numpy(dtype=np.float64, copy=True)
    if temperature is None or len(temperature) == 0:
        return out
    try:
        user_days = as_days(pd.DatetimeIndex(temperature.index))
    except (TypeError, ValueError) as exc:
        raise TemperatureDataError(f"temperature series index is not dates: {exc}") from None
    values = np.asarray(temperature.to_numpy(), dtype=np.float64)
    if not np.all(np.isfinite(values)):
        bad = user_days[~np.isfinite(values)][0]
        raise TemperatureDataError(f"temperature series has a missing/non-finite value on {bad}")
    uniq, counts = np.unique(user_days, return_counts=True)
    if np.any(counts > 1):
        raise TemperatureDataError(f"temperature series repeats the date {uniq[counts > 1][0]}")
    order = np.argsort(user_days)
    user_days, values = user_days[order], values[order]
    pos = np.clip(np.searchsorted(user_days, d), 0, len(user_days) - 1)
    hit = user_days[pos] == d
    out[hit] = values[pos[hit]]
    return out

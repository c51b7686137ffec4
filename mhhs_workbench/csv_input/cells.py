"""The rules of one cell: what each column's text must be, and the value it stands for.

MPANs, measurement quantities, quality codes and estimation reasons, meter attributes, settlement
dates and periods, kWh or Wh values and period-end timestamps. Each rule takes a cell's raw bytes
and gives the value it holds (an index, whole Wh, a day or minutes since 1970) and the problem, if
any, as a problem line words it; the column-wide parts (canonical timestamps, byte lengths, local
period counts) work on whole arrays.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mhhs_workbench.codes.identifiers import GSP_GROUPS, mpan_check_digit, mpan_problem
from mhhs_workbench.codes.messages import (
    ACTUAL_CODES,
    ESTIMATE_CODES,
    ESTIMATION_REASONS,
    MEASUREMENT_QUANTITY_IDS,
    PERIOD_MINUTES,
    QUALITY_CODES,
    ZE_CODES,
)
from mhhs_workbench.codes.remedies import REMEDIES
from mhhs_workbench.codes.rules import ECS1005, ECS1010, MPAN
from mhhs_workbench.csv_input.problems import rule_text
from mhhs_workbench.time.periods import (
    MAX_LOCAL_PERIODS,
    MIN_LOCAL_PERIODS,
    local_period_counts,
    local_to_utc,
)

#: Dates outside these years are refused (timestamps and settlement dates).
YEARS = (1990, 2099)

#: Connection types a CSV may give (DI-015): whole current (smart), LV/HV CT (advanced), unmetered.
CONNECTION_TYPES = ("W", "L", "H", "U")
#: Columns describing a meter rather than a half hour: one value per MPAN.
ATTRIBUTES = ("meter_id", "connection_type", "gsp_group", "register_start")
_METER_ID_MAX = 10  # DIP meterID: at most 10 characters

#: Index of each quality code, and which codes are ZE, estimates and actuals.
Q_INDEX = {q: i for i, q in enumerate(QUALITY_CODES)}
IS_ZE = np.isin(np.array(QUALITY_CODES), ZE_CODES)
IS_ESTIMATE = np.isin(np.array(QUALITY_CODES), ESTIMATE_CODES)
IS_ACTUAL = np.isin(np.array(QUALITY_CODES), ACTUAL_CODES)

# Whole-column patterns (RE2, run by pyarrow); cells that fail are diagnosed one by one.
KWH_FAST = r"^[0-9]{1,15}(\.[0-9]{1,3}0*)?$"  # zeros after the third decimal lose nothing
WH_FAST = r"^[0-9]{1,18}(\.0+)?$"
_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")
_INSTANT = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
                      r"(Z|[+-]\d{2}:?\d{2})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NO_DAY = np.iinfo(np.int64).min
_FIRST_MINUTE = int((datetime(YEARS[0], 1, 1, tzinfo=UTC) - _EPOCH).total_seconds() // 60)
_LAST_MINUTE = int((datetime(YEARS[1] + 1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds() // 60)


def cell_bytes(column: pa.Array | None, index: int) -> Any:
    """The raw bytes of one cell, for wording a problem."""
    if column is None:
        return ""
    value = column[index].as_py()
    return b"" if value is None else value


def as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


def decode_utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def byte_lengths(column: pa.Array) -> np.ndarray:
    """Byte length of each cell."""
    if isinstance(column, pa.DictionaryArray):
        lengths = pc.binary_length(column.dictionary).to_numpy(zero_copy_only=False)
        if not lengths.size:
            return np.zeros(len(column), dtype=np.int64)
        return lengths[column.indices.to_numpy(zero_copy_only=False)]
    return pc.binary_length(column).to_numpy(zero_copy_only=False)


# -- code and attribute cells ---------------------------------------------------------------


def mqid_rule(raw: bytes) -> tuple[int, str | None]:
    text = decode_utf8(raw)
    if text == "":
        return 0, None  # AI when not given
    if text in MEASUREMENT_QUANTITY_IDS:
        return MEASUREMENT_QUANTITY_IDS.index(text), None
    return 0, f"not a measurement quantity ({', '.join(MEASUREMENT_QUANTITY_IDS)})"


def quality_rule(raw: bytes) -> tuple[int, str | None]:
    text = decode_utf8(raw)
    if text == "":
        return Q_INDEX["A"], None  # actual when not given
    if text in Q_INDEX:
        return Q_INDEX[text], None
    return 0, "not a quality code q (DI-083: A, E, E0-E9, ZE, ZE1-ZE3, A1-A3, AAE1-3, EAE1-3, EA1-13)"


def reason_rule(raw: bytes) -> tuple[int, str | None]:
    text = decode_utf8(raw)
    if text == "":
        return 0, None
    if text in ESTIMATION_REASONS:
        return int(text), None
    return 0, "not an estimation reason e (DI-076: 1 to 10, or empty)"


def attribute_rule(name: str, raw: bytes) -> tuple[str | None, str | None]:
    """(value as held, problem) of a meter attribute cell; (None, None) when empty."""
    text = decode_utf8(raw)
    if text is None:
        return None, "not UTF-8 text"
    if text == "":
        return None, None
    if name == "meter_id":
        if len(text) > _METER_ID_MAX or not text.isprintable() or text.strip() != text:
            return None, f"a meter ID is 1 to {_METER_ID_MAX} printable characters, no spaces around"
        return text, None
    if name == "connection_type":
        if text in CONNECTION_TYPES:
            return text, None
        return None, "not a connection type (W smart, L or H advanced, U unmetered)"
    if name == "gsp_group":
        if text in GSP_GROUPS:
            return text, None
        return None, f"not a GSP group ({', '.join(GSP_GROUPS)})"
    wh, problem = exact_wh(text, "kwh" if name.endswith("kwh") else "wh")
    return (None, problem) if problem else (str(wh), None)


def period_number(raw: bytes) -> tuple[int, str | None]:
    text = decode_utf8(raw) or ""
    if text == "":
        return 0, "empty settlement period"
    if not (text.isascii() and text.isdigit()) or len(text) > 3:
        return 0, "a settlement period is a whole number, 1 to 50"
    number = int(text)
    if number < 1:
        return 0, "settlement period 0 does not exist: periods start at 1"
    if number > MAX_LOCAL_PERIODS:
        return 0, f"settlement period {number} does not exist: a day has at most 50"
    return number, None


def no_such_period(number: int, day: int, count: int) -> str:
    why = {MIN_LOCAL_PERIODS: " (the March clock change)", MAX_LOCAL_PERIODS: " (the October clock change)"}.get(int(count), "")
    when = (date(1970, 1, 1) + timedelta(days=int(day))).isoformat()
    return f"settlement period {number} does not exist on {when}: it has {count} periods{why}"


def date_value(raw: bytes) -> tuple[int, str | None]:
    text = decode_utf8(raw)
    if text is None:
        return NO_DAY, "not UTF-8 text"
    if text == "":
        return NO_DAY, "empty settlement date"
    if not _DATE.fullmatch(text):
        return NO_DAY, "not a date YYYY-MM-DD"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return NO_DAY, "impossible date"
    if not YEARS[0] <= day.year <= YEARS[1]:
        return NO_DAY, f"outside the years {YEARS[0]} to {YEARS[1]}"
    return (day - date(1970, 1, 1)).days, None


def period_counts(day: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Local settlement periods (46, 48 or 50) of each row's date (0 where invalid)."""
    out = np.zeros(day.size, dtype=np.int64)
    if valid.any():
        uniq, inverse = np.unique(day[valid], return_inverse=True)
        out[valid] = local_period_counts(uniq.astype("datetime64[D]"))[inverse]
    return out


def local_midnight_periods(day: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """UTC half-hour number of each row's local midnight (so period k is this + k)."""
    out = np.zeros(day.size, dtype=np.int64)
    if valid.any():
        uniq, inverse = np.unique(day[valid], return_inverse=True)
        first = local_to_utc(uniq.astype("datetime64[D]"), np.ones(uniq.size, dtype=np.int64))
        out[valid] = (first.astype("datetime64[m]").astype(np.int64) // PERIOD_MINUTES - 1)[inverse]
    return out


# -- numbers --------------------------------------------------------------------------------


def exact_wh(text: str, unit: str) -> tuple[int, str | None]:
    """Whole Wh of a plain decimal text in kWh (at most 3 decimals) or Wh, or the problem."""
    rule = _number_rule(text, unit)
    if rule:
        return 0, rule
    return int(Decimal(text) * (1000 if unit == "kwh" else 1)), None


def _number_rule(text: str, unit: str) -> str | None:
    """Why a text is not a plain non-negative number of the unit, or None."""
    if text == "":
        return "empty value: a row needs a value (leave the row out to have it estimated)"
    if text.strip() != text:
        return "spaces around the number"
    bare = text.lower().lstrip("+-")
    if bare in ("nan", "na", "n/a", "null", "none"):
        return "not a number (NaN)"
    if bare in ("inf", "infinity"):
        return "not a finite number"
    m = _NUMBER.fullmatch(text)
    if m is None or not (m[2] or m[3]):
        if any(c.isalpha() for c in text):
            return "letters in a number: write plain decimals such as 0.125"
        if "," in text:
            return "comma in a number: no thousands separators, and a point for decimals"
        return "not a number"
    if m[1] == "-":
        return f"negative value: {rule_text(ECS1010)}"
    if m[1] == "+" or not m[2] or m[3] == "":
        return "not a plain decimal number such as 0.125"
    decimals = (m[3] or "").rstrip("0")
    if unit == "kwh" and len(decimals) > 3:
        return "more than 3 decimals: the DIP's resolution is 1 Wh (0.001 kWh); values are never rounded"
    if unit == "wh" and decimals:
        return "Wh values are whole numbers: the DIP's resolution is 1 Wh"
    return None


def value_rule(raw: bytes, unit: str, max_wh: int) -> str:
    text = decode_utf8(raw)
    if text is None:
        return "not UTF-8 text"
    rule = _number_rule(text, unit)
    if rule:
        return rule
    if Decimal(text) * (1000 if unit == "kwh" else 1) > max_wh:
        return too_big_rule(max_wh)
    return "not a number"


def too_big_rule(max_wh: int) -> str:
    return (f"more than {max_wh / 1000:g} kWh in one half hour is impossible for a metering point "
            f"{REMEDIES['max_kwh'][0]}")


# -- instants -------------------------------------------------------------------------------


def instants(values: pa.Array, cache: dict[bytes, tuple[int, str | None]]) -> tuple[np.ndarray, list[str | None]]:
    """Minutes since 1970 [UTC] of period-end texts, and the rule each bad one breaks.

    The DIP's own form (``2025-10-26T01:30:00+00:00``) and the ``Z`` form are parsed as whole
    arrays; any other text is parsed (or diagnosed) alone and remembered.
    """
    minutes, ok = _fast_instants(values)
    rules: list[str | None] = [None] * len(values)
    for i in np.flatnonzero(~ok).tolist():
        raw = values[i].as_py() or b""
        if raw not in cache:
            if len(cache) > 100_000:
                cache.clear()
            cache[raw] = _slow_instant(raw)
        minutes[i], rules[i] = cache[raw]
    return minutes, rules


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _fast_instants(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised parse of canonical period-end texts; ``ok`` is False for anything else."""
    n = len(values)
    minutes = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    buffers = values.buffers()
    if not n or buffers[2] is None:
        return minutes, ok
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=n + 1, offset=values.offset * 4).astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    for width in (25, 20):
        sel = np.flatnonzero(lengths == width)
        if not sel.size:
            continue
        c = data[offsets[sel, None] + np.arange(width)]
        d = c.astype(np.int64) - 48
        digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18] + ([20, 21, 23, 24] if width == 25 else [])
        good = ((d[:, digits] >= 0) & (d[:, digits] <= 9)).all(axis=1)
        good &= (c[:, 4] == 45) & (c[:, 7] == 45) & (c[:, 10] == 84) & (c[:, 13] == 58) & (c[:, 16] == 58)
        year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
        month, day = d[:, 5] * 10 + d[:, 6], d[:, 8] * 10 + d[:, 9]
        hour, minute, second = d[:, 11] * 10 + d[:, 12], d[:, 14] * 10 + d[:, 15], d[:, 17] * 10 + d[:, 18]
        if width == 25:  # +HH:MM
            good &= ((c[:, 19] == 43) | (c[:, 19] == 45)) & (c[:, 22] == 58)
            off_h, off_m = d[:, 20] * 10 + d[:, 21], d[:, 23] * 10 + d[:, 24]
            good &= (off_h < 24) & (off_m < 60)
            offset = np.where(c[:, 19] == 45, -1, 1) * (off_h * 60 + off_m)
        else:  # Z
            good &= c[:, 19] == 90
            offset = 0
        month_ok = (month >= 1) & (month <= 12)
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        days_in_month = _DAYS_IN_MONTH[np.where(month_ok, month, 1)] + (leap & (month == 2))
        good &= month_ok & (day >= 1) & (day <= days_in_month) & (hour < 24) & (minute < 60) & (second == 0)
        total = _days_from_civil(year, month, day) * 1440 + hour * 60 + minute - offset
        good &= (total % PERIOD_MINUTES == 0) & (total > _FIRST_MINUTE) & (total <= _LAST_MINUTE)
        minutes[sel[good]] = total[good]
        ok[sel[good]] = True
    return minutes, ok


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _slow_instant(raw: bytes) -> tuple[int, str | None]:
    """Minutes since 1970 [UTC] of one period-end text, or the rule it breaks."""
    text = decode_utf8(raw)
    if text is None:
        return 0, "not UTF-8 text"
    if text == "":
        return 0, "empty timestamp"
    m = _INSTANT.fullmatch(text)
    if m is None:
        return 0, "not an ISO 8601 period end such as 2025-10-26T01:30:00+00:00"
    if m[8] is None:
        return 0, "no UTC offset: write the time with its offset, e.g. 2025-10-26T01:30:00+00:00 or ...Z"
    year, month, day, hour, minute = (int(m[i]) for i in range(1, 6))
    second = int(m[6] or 0)
    try:
        wall = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return 0, "impossible date or time"
    offset = 0
    if m[8] != "Z":
        digits = m[8][1:].replace(":", "")
        off_h, off_m = int(digits[:2]), int(digits[2:])
        if off_h > 23 or off_m > 59:
            return 0, "impossible UTC offset"
        offset = (-1 if m[8][0] == "-" else 1) * (off_h * 60 + off_m)
    total = int((wall - _EPOCH).total_seconds() // 60) - offset
    if second or (m[7] or "").strip("0") or total % PERIOD_MINUTES:
        return 0, f"not the end of a half hour: {rule_text(ECS1005)}"
    if not _FIRST_MINUTE < total <= _LAST_MINUTE:
        return 0, f"outside the years {YEARS[0]} to {YEARS[1]}"
    return total, None


# -- MPANs and how attributes read back -----------------------------------------------------


def attribute_text(name: str, value: str) -> str:
    """An attribute as the user gave it (register starts are held in Wh)."""
    if name == "register_start":
        wh = int(value)
        return f"{wh // 1000}.{wh % 1000:03d} kWh"
    return value


def mpan_rule(raw: bytes) -> str | None:
    """Why an MPAN cell is not a valid MPAN core, or None."""
    if raw == b"":
        return "empty MPAN: every row needs the 13-digit MPAN core"
    text = decode_utf8(raw)
    if text is None:
        return "not UTF-8 text"
    if text.strip() != text:
        return "spaces around the MPAN"
    if not (text.isascii() and text.isdigit()):
        return "an MPAN core is 13 digits: no letters, spaces or other characters"
    if len(text) != 13:
        return f"an MPAN core is 13 digits, this has {len(text)}"
    if mpan_problem(text):
        return f"the check digit should be {mpan_check_digit(text[:12])}: {rule_text(MPAN)}"
    return None

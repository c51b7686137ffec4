"""IF-021 builder: settlement period consumption (``[ActivePower]`` / ``[ReactivePower]``).

One message carries one MPAN, one measurement quantity and 1-200 UTC settlement days of 48 periods.
Input is whole arrays (meters x half hours), so a chunk of meters is formatted at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mhhs_workbench.codes.messages import ESTIMATION_REASONS, MAX_DAYS_PER_MESSAGE, MQIDS_BY_EVENT
from mhhs_workbench.messages.common import common_block
from mhhs_workbench.messages.formatting import wh_to_kwh_strings
from mhhs_workbench.sending.senders import ReferenceSequence, Sender
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY, as_days, format_utc, utc_period_ends

INTERFACE_ID = "IF-021"
#: The event that carries each measurement quantity (ECS1002).
EVENT_BY_MQID: dict[str, str] = {m: event for event, mqids in MQIDS_BY_EVENT.items() for m in mqids}
#: ``e`` text by estimation reason number: 0 is none (null), 1-10 the DI-076 codes.
REASON_BY_NUMBER: tuple[str | None, ...] = (None, *ESTIMATION_REASONS)

#: Columns ``meters`` must have for :func:`if021_payloads`.
METER_COLUMNS = (
    "mpan",
    "gsp_group",
    "distributor_dip_id",
    "data_service_dip_id",
    "connection_type",
    "connection_effective_from",
)


def iter_if021_payloads(
    meters: pd.DataFrame | Sequence[Any],
    days: np.ndarray,
    mqid: str,
    values_wh: np.ndarray,
    sender: Sender,
    references: ReferenceSequence,
    *,
    quality: np.ndarray | None = None,
    quality_codes: Sequence[str] = ("A",),
    reasons: np.ndarray | None = None,
    days_per_message: int = 31,
    recipients: Sequence[str] = (),
) -> Iterator[dict[str, Any]]:
    """IF-021 payloads for a chunk of meters, one per meter and block of days.

    Parameters
    ----------
    meters : pandas.DataFrame or sequence of records
        One row per meter with the columns in :data:`METER_COLUMNS` (a DataFrame, or records
        such as the named tuples of ``DataFrame.itertuples`` that have them as attributes).
    days : array of datetime64[D]
        Consecutive UTC settlement days covered by ``values_wh``.
    mqid : {'AI', 'AE', 'RI', 'RE'}
        Measurement quantity; the event code follows from it.
    values_wh : array of int, shape ``(n_meters, n_days * 48)``
        Energy per UTC half hour [Wh] (or [varh] for reactive quantities).
    sender : Sender
        Sender and addressing details.
    references : ReferenceSequence
        Source of ``senderUniqueReference`` values.
    quality : array of int, optional
        Index into ``quality_codes`` per value; all ``'A'`` (actual) when omitted.
    quality_codes : sequence of str
        Quality flags ``q`` that ``quality`` indexes.
    reasons : array of int, optional
        Estimation reason per value: 0 for none (null), 1-10 for the DI-076 codes.
    days_per_message : int
        Settlement days per message, 1-200.
    recipients : sequence of str
        DIP IDs addressed besides the sender's fixed recipients (e.g. supplier, distributor).

    Yields
    ------
    dict
        One IF-021 payload (``{"CommonBlock": ..., "CustomBlock": ...}``).
    """
    _check_if021_arguments(mqid, days_per_message)
    days = as_days(days)
    n_days = days.size
    values_wh = np.asarray(values_wh)
    if values_wh.shape != (len(meters), n_days * PERIODS_PER_UTC_DAY):
        raise ValueError(
            f"values have shape {values_wh.shape}, expected {(len(meters), n_days * PERIODS_PER_UTC_DAY)}"
        )
    sp = format_utc(utc_period_ends(days)).tolist()  # [day][period]
    day_dates = format_utc(days.astype("datetime64[m]")).tolist()
    v = _per_meter_day_lists(wh_to_kwh_strings(values_wh), len(meters), n_days)
    q = None if quality is None else _per_meter_day_lists(quality, len(meters), n_days)
    e = None if reasons is None else _per_meter_day_lists(reasons, len(meters), n_days)
    q_table = list(quality_codes)

    rows = meters[list(METER_COLUMNS)].itertuples(index=False) if isinstance(meters, pd.DataFrame) else meters
    for m, row in enumerate(rows):
        for first in range(0, n_days, days_per_message):
            day_blocks = [
                _day_block(
                    day_dates[d],
                    sp[d],
                    v[m][d],
                    None if q is None else q[m][d],
                    None if e is None else e[m][d],
                    q_table,
                )
                for d in range(first, min(first + days_per_message, n_days))
            ]
            yield if021_payload(row, mqid, sender, references.take(INTERFACE_ID), recipients, day_blocks)


def _check_if021_arguments(mqid: str, days_per_message: int) -> None:
    """Reject an unknown measurement quantity or a days-per-message count out of range.

    Parameters
    ----------
    mqid : str
        Measurement quantity; must be one of :data:`EVENT_BY_MQID`.
    days_per_message : int
        Settlement days per message; must be 1 to :data:`MAX_DAYS_PER_MESSAGE`.

    Raises
    ------
    ValueError
        When either is out of range.
    """
    if mqid not in EVENT_BY_MQID:
        raise ValueError(f"unknown IF-021 measurement quantity {mqid!r}")
    if not 1 <= days_per_message <= MAX_DAYS_PER_MESSAGE:
        raise ValueError(f"days per message must be 1-{MAX_DAYS_PER_MESSAGE}, got {days_per_message}")


def _per_meter_day_lists(values: Any, n_meters: int, n_days: int) -> list[list[list[Any]]]:
    """Nested lists ``[meter][day][period]`` of a ``(n_meters, n_days * 48)`` array.

    Parameters
    ----------
    values : array-like, shape ``(n_meters, n_days * 48)``
        One value per meter and UTC half hour.
    n_meters : int
        Number of meters (rows).
    n_days : int
        Number of UTC settlement days.

    Returns
    -------
    list of list of list
        The values as Python objects, indexed by meter, day and period.
    """
    return np.asarray(values).reshape(n_meters, n_days, PERIODS_PER_UTC_DAY).tolist()


def _day_block(
    day_date: str,
    period_ends: Sequence[str],
    values_kwh: Sequence[str],
    quality: Sequence[int] | None,
    reasons: Sequence[int] | None,
    quality_codes: Sequence[str],
) -> dict[str, Any]:
    """One settlement day of an IF-021 message: its date and 48 consumption periods.

    Parameters
    ----------
    day_date : str
        The UTC settlement day's start as formatted date-time.
    period_ends : sequence of str
        Formatted UTC end of each of the day's 48 periods.
    values_kwh : sequence of str
        Formatted energy per period [kWh] (or [kvarh]).
    quality : sequence of int or None
        Index into ``quality_codes`` per period; every period ``'A'`` (actual, no reason) when
        None.
    reasons : sequence of int or None
        Estimation reason number per period (0 for none); all 0 when None. Ignored when
        ``quality`` is None.
    quality_codes : sequence of str
        Quality flags ``q`` that ``quality`` indexes.

    Returns
    -------
    dict
        ``{"settlementDay": ..., "consumptionPeriods": [...]}``.
    """
    if quality is None:
        periods = [
            {"sp": s, "v": x, "q": "A", "e": None, "arc": None}
            for s, x in zip(period_ends, values_kwh, strict=True)
        ]
    else:
        es = reasons if reasons is not None else [0] * PERIODS_PER_UTC_DAY
        periods = [
            {"sp": s, "v": x, "q": quality_codes[qq], "e": REASON_BY_NUMBER[ee], "arc": None}
            for s, x, qq, ee in zip(period_ends, values_kwh, quality, es, strict=True)
        ]
    return {
        "settlementDay": {"settlementDayDate": day_date, "periodDuration": 30},
        "consumptionPeriods": periods,
    }


def if021_payload(
    meter: Any,
    mqid: str,
    sender: Sender,
    reference: str,
    recipients: Sequence[str],
    day_blocks: Any,
) -> dict[str, Any]:
    """One IF-021 payload around its ``settlementDayConsumptionPeriods`` list.

    Parameters
    ----------
    meter : record
        Has the attributes in :data:`METER_COLUMNS`.
    mqid : str
        Measurement quantity; decides the event code.
    sender : Sender
        Sender and addressing details.
    reference : str
        The message's ``senderUniqueReference``.
    recipients : sequence of str
        DIP IDs addressed besides the sender's fixed recipients.
    day_blocks : list of dict
        The settlement days (or a placeholder a byte-level writer replaces).
    """
    return {
        "CommonBlock": common_block(
            INTERFACE_ID,
            EVENT_BY_MQID[mqid],
            sender,
            reference,
            meter.mpan,
            meter.distributor_dip_id,
            meter.gsp_group,
            recipients,
        ),
        "CustomBlock": {
            "B044": {"issuingDataServiceDIPID": meter.data_service_dip_id},
            "B067": {
                "connectionTypeIndicator": meter.connection_type,
                "connectionTypeEffectiveFromDate": meter.connection_effective_from,
            },
            "B900": {
                "MQID": {"measurementQuantityID": mqid},
                "settlementDayConsumptionPeriods": day_blocks,
            },
        },
    }

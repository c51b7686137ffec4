"""The settlement timetable: when each settlement run of a settlement date executes.

A simple, documented stand-in for the published Settlement Calendar: a run of settlement code
``C`` for settlement date ``D`` executes :data:`RUN_WORKING_DAYS` ``[C]`` working days after ``D``,
where a working day is Monday to Friday except the England & Wales bank holidays (from the
``holidays`` package). Run numbers (DI-161) are numbered 1, 2, ... in execution order (then
settlement date, then code), so every run of a data set has its own.

=====  ===========================  =====================
code   run                          working days after D
=====  ===========================  =====================
SF     Initial Settlement                16
R1     First Reconciliation              39
R2     Second Reconciliation             84
R3     Third Reconciliation             154
RF     Final Reconciliation             292
=====  ===========================  =====================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mhhs_workbench.time.bank_holidays import is_bank_holiday

#: Working days from the settlement date to each run's execution, by settlement code (DI-160).
RUN_WORKING_DAYS: dict[str, int] = {"SF": 16, "R1": 39, "R2": 84, "R3": 154, "RF": 292}
#: Settlement codes a scenario may name, in timetable order.
RUN_CODES: tuple[str, ...] = tuple(RUN_WORKING_DAYS)
#: Runs a scenario asks for by default.
DEFAULT_RUNS: tuple[str, ...] = ("SF", "R1")
#: Time of day [UTC] a run executes; its reports carry it as the run execution date-time (R007).
RUN_TIME_UTC = dt.time(6, 0)


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day: Monday-Friday, not an England & Wales bank holiday."""
    return day.weekday() < 5 and not is_bank_holiday(day)  # England & Wales


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``day`` (``n >= 1``)."""
    if n < 1:
        raise ValueError(f"need at least one working day, got {n}")
    while n:
        day += dt.timedelta(days=1)
        n -= is_working_day(day)
    return day


def execution_date(settlement_date: dt.date, code: str) -> dt.date:
    """Date the run ``code`` of ``settlement_date`` executes (see :data:`RUN_WORKING_DAYS`)."""
    if code not in RUN_WORKING_DAYS:
        raise ValueError(f"unknown settlement code {code!r}; expected one of {', '.join(RUN_CODES)}")
    return add_working_days(settlement_date, RUN_WORKING_DAYS[code])


@dataclass(frozen=True)
class Run:
    """One settlement run of one settlement date (R002 and R007 of its reports).

    Attributes
    ----------
    settlement_date : datetime.date
        The local settlement day settled.
    code : str
        Settlement code (DI-160), e.g. ``'SF'``.
    number : int
        Run number (DI-161), unique within the data set.
    executed : datetime.datetime
        When the run executed [UTC]: its cut-off for the data it uses.
    """

    settlement_date: dt.date
    code: str
    number: int
    executed: dt.datetime

    @property
    def execution_text(self) -> str:
        """``executed`` as a DIP date-time (DT-003), e.g. ``2025-11-12T06:00:00+00:00``."""
        return self.executed.isoformat()


def timetable(settlement_dates: Iterable[dt.date], codes: Sequence[str]) -> list[Run]:
    """Every run of ``codes`` for each settlement date, in run-number order.

    Parameters
    ----------
    settlement_dates : iterable of datetime.date
        Local settlement days.
    codes : sequence of str
        Settlement codes, e.g. ``['SF', 'R1']``.
    """
    planned = sorted(
        (execution_date(d, c), d, RUN_CODES.index(c), c) for d in set(settlement_dates) for c in codes
    )
    return [
        Run(d, c, k + 1, dt.datetime.combine(when, RUN_TIME_UTC, tzinfo=dt.UTC))
        for k, (when, d, _, c) in enumerate(planned)
    ]

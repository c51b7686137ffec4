"""Consumption a user supplies (e.g. from CSV), in the arrays the chunk stage takes.

:mod:`~mhhs_workbench.csv_input.reader` reads and checks the user's files into a
:class:`SuppliedConsumption`; the pipeline then cuts it into chunks of meters exactly as it cuts a
generated fleet, and the same writers make messages, reads, tables and aggregates from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mhhs_workbench.codes.messages import MEASUREMENT_QUANTITY_IDS, QUALITY_CODES
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY

#: Columns of :attr:`SuppliedConsumption.meters`, in order.
SUPPLIED_METER_COLUMNS = ("mpan", "meter_id", "connection_type", "gsp_group", "register_start_wh")
#: Optional last column of :attr:`SuppliedConsumption.meters`: day index (from the first day) on
#: whose 00:00 UTC the MPAN's meter was installed, or :data:`INSTALLED_BEFORE`.
INSTALL_DAY_COLUMN = "install_day"
#: ``install_day`` of a meter installed before the first day.
INSTALLED_BEFORE = -1
#: Columns of the conversion report (``inputs/conversion_report.csv``), one row per note.
REPORT_COLUMNS = ("mpan", "mqid", "utc_period_end", "action", "detail")
#: ``register_start_wh`` when the user gave none: a plausible one is drawn from the seed.
NO_REGISTER_START = -1


@dataclass(frozen=True)
class SuppliedConsumption:
    """Half-hourly values of meters over consecutive whole UTC days, checked and complete.

    Attributes
    ----------
    days : numpy.ndarray of datetime64[D]
        Consecutive UTC settlement days the values cover (each with 48 periods).
    meters : pandas.DataFrame
        One row per MPAN with :data:`SUPPLIED_METER_COLUMNS`: ``mpan`` (13 digits, valid check
        digit), ``meter_id`` (``""`` when none), ``connection_type`` (``W`` smart, ``L``/``H``
        advanced, ``U`` unmetered: decides the sending data service), ``gsp_group`` (``_A`` ...
        ``_P``), ``register_start_wh`` (int64 register at the start of the first day [Wh], or
        :data:`NO_REGISTER_START`), optionally ``install_day`` (see :data:`INSTALL_DAY_COLUMN`;
        the values before it are never sent). Rows are in a deterministic order (sorted by MPAN).
    row_meter : numpy.ndarray of int64
        Position in ``meters`` of each value row; rows are meter-major.
    row_mqid : numpy.ndarray of int8
        Measurement quantity of each row as an index into ``MEASUREMENT_QUANTITY_IDS``; within a
        meter in the order AI, AE, RI, RE.
    values : numpy.ndarray of int64, shape ``(n_rows, n_days * 48)``
        Energy per UTC half hour [Wh] (reactive [varh]), >= 0.
    quality : numpy.ndarray of int8, same shape
        ``q`` as an index into :data:`~mhhs_workbench.codes.messages.QUALITY_CODES`.
    reasons : numpy.ndarray of int8, same shape
        ``e`` as a DI-076 number, 0 for none.
    notes : list of dict
        The conversion report: one entry per change made to the user's data (periods filled to
        complete a UTC day, days dropped, ...), with the keys :data:`REPORT_COLUMNS` (text values;
        the MPAN as it appears in the output, i.e. pseudonymised when asked); written into the
        data set.
    sources : list of str
        Names of the input files (as given), for the manifest.
    """

    days: np.ndarray
    meters: pd.DataFrame
    row_meter: np.ndarray
    row_mqid: np.ndarray
    values: np.ndarray
    quality: np.ndarray
    reasons: np.ndarray
    notes: list[dict] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n_rows, t = self.values.shape
        if t != self.days.size * PERIODS_PER_UTC_DAY:
            raise ValueError(f"values cover {t} half hours, {self.days.size} days need {self.days.size * PERIODS_PER_UTC_DAY}")
        for name in ("quality", "reasons"):
            if getattr(self, name).shape != self.values.shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, values {self.values.shape}")
        if self.row_meter.shape != (n_rows,) or self.row_mqid.shape != (n_rows,):
            raise ValueError("row_meter and row_mqid need one entry per value row")
        if list(self.meters.columns) not in (list(SUPPLIED_METER_COLUMNS),
                                             [*SUPPLIED_METER_COLUMNS, INSTALL_DAY_COLUMN]):
            raise ValueError(f"meters needs the columns {', '.join(SUPPLIED_METER_COLUMNS)}")
        if n_rows and (np.diff(self.row_meter) < 0).any():
            raise ValueError("rows must be meter-major")

    @property
    def install_days(self) -> np.ndarray:
        """Each MPAN's install day index, :data:`INSTALLED_BEFORE` for one installed before."""
        if INSTALL_DAY_COLUMN not in self.meters:
            return np.full(self.n_meters, INSTALLED_BEFORE, dtype=np.int64)
        return self.meters[INSTALL_DAY_COLUMN].to_numpy(dtype=np.int64)

    @property
    def n_meters(self) -> int:
        """Number of MPANs."""
        return len(self.meters)

    def rows_of(self, start: int, stop: int) -> slice:
        """The value rows of meters ``start .. stop - 1`` (rows are meter-major)."""
        lo, hi = np.searchsorted(self.row_meter, [start, stop])
        return slice(int(lo), int(hi))

    @staticmethod
    def mqid_index(mqid: str) -> int:
        """Index of a measurement quantity in ``row_mqid``."""
        return MEASUREMENT_QUANTITY_IDS.index(mqid)

    @staticmethod
    def quality_index(q: str) -> int:
        """Index of a quality code in ``quality``."""
        return QUALITY_CODES.index(q)

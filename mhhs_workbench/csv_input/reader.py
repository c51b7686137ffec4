"""Consumption from the user's CSV (or Parquet) files, checked and completed into whole UTC days.

The tool's second mode: a tester's own half-hourly values (a spreadsheet, a meter-data export, a
data set's own ``tables/consumption.csv``) become a
:class:`~mhhs_workbench.model.supplied.SuppliedConsumption`, which
:func:`mhhs_workbench.dataset.convert_csv` turns into IF-021 and IF-041 messages, tables and
aggregates.

Three layouts, told apart by the header (or forced with ``layout=``):

=======  =============================================  ===========================================
layout   columns                                        one row is
=======  =============================================  ===========================================
long     ``mpan,timestamp,kwh``                         a half hour; ``timestamp`` is its END,
                                                        ISO 8601 with an offset (``Z`` accepted)
local    ``mpan,settlement_date,settlement_period,kwh``  a local (Europe/London) settlement period,
                                                        1-46/48/50 as the day has
wide     ``mpan,settlement_date,p1,...,p50``            a local settlement day [kWh]; blank cells
                                                        beyond the day's periods
=======  =============================================  ===========================================

Optional in every layout: ``mqid`` (AI, AE, RI, RE; an MPAN is AI or AE, never both),
``quality`` and ``reason`` (the DIP's ``q`` and ``e``), ``meter_id``, ``connection_type`` (W, L,
H, U), ``gsp_group`` (needed for IDNO MPANs), ``register_start_kwh``; ``wh`` instead of ``kwh``. A data set's own consumption table
(``utc_period_end``, ``value_wh``, ...) reads as the long layout, its local columns cross-checked.

Everything is checked before anything is converted, and every problem is reported (up to
:data:`MAX_REPORTED`, then counted) as ``file:line: column: value: rule`` in a
:class:`CsvInputError`.

Values are read in blocks by ``pyarrow.csv.open_csv`` with every column as raw bytes (nothing is
guessed), checked column by column, and kept as dense integer arrays [Wh]: memory follows the
number of values, not the size of the text. Numbers are parsed as decimal text, never through
floating point.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mhhs_workbench.csv_input.files import BLOCK_BYTES, progress_counter
from mhhs_workbench.csv_input.grid import Grid
from mhhs_workbench.csv_input.layout import LAYOUTS
from mhhs_workbench.csv_input.problems import MAX_REPORTED, CsvInputError, Problems
from mhhs_workbench.csv_input.pseudonyms import (
    PSEUDONYMISE_KEY_ENV,
    pseudonymisation_key,
    pseudonymise_meter_ids,
    pseudonymise_mpans,
)
from mhhs_workbench.csv_input.state import State
from mhhs_workbench.csv_input.streams import read_file
from mhhs_workbench.model.supplied import REPORT_COLUMNS, SuppliedConsumption

# BLOCK_BYTES, MAX_REPORTED, CsvInputError and the pseudonym functions live in the modules named
# above; they are named here too for callers that import them from this module.
__all__ = [
    "BLOCK_BYTES",
    "DEFAULT_MAX_KWH",
    "LAYOUTS",
    "MAX_REPORTED",
    "PSEUDONYMISE_KEY_ENV",
    "CsvInput",
    "CsvInputError",
    "notes_frame",
    "pseudonymisation_key",
    "pseudonymise_meter_ids",
    "pseudonymise_mpans",
    "read_csv_input",
    "read_supplied",
]

#: Default ceiling on one half hour [kWh]: 10 MWh, beyond any single metering point.
DEFAULT_MAX_KWH = 10_000.0


@dataclass(frozen=True)
class CsvInput:
    """What :func:`read_csv_input` made of the user's files.

    Attributes
    ----------
    supplied : SuppliedConsumption
        The checked, complete consumption for :func:`mhhs_workbench.dataset.convert_csv`.
    mapping : pandas.DataFrame or None
        With pseudonymisation, the real identifier behind each pseudonym (columns ``kind``
        (``mpan`` or ``meter_id``), ``real``, ``pseudonym``). It re-identifies the data: keep it
        apart from the data set. ``None`` without pseudonymisation.
    rows : int
        Rows read (a wide row, one local day, counts once).
    values : int
        Half-hour values read.
    """

    supplied: SuppliedConsumption
    mapping: pd.DataFrame | None
    rows: int
    values: int


def read_supplied(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], **options: Any
                  ) -> SuppliedConsumption:
    """The consumption of :func:`read_csv_input` alone (same parameters).

    Raises
    ------
    CsvInputError
        If the input breaks any rule; ``problems`` lists them.
    """
    return read_csv_input(paths, **options).supplied


def read_csv_input(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    layout: str | None = None,
    max_kwh: float = DEFAULT_MAX_KWH,
    fill_missing: bool = False,
    drop_incomplete_days: bool = False,
    pseudonymise_key: str | None = None,
    register_csv: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> CsvInput:
    """Read and check consumption files into whole UTC days of half-hourly values.

    Parameters
    ----------
    paths : path or sequence of paths
        CSV files (or Parquet files such as a data set's ``tables/consumption.parquet``), all of
        one layout (see the module notes).
    layout : {'long', 'local', 'wide'}, optional
        Force a layout instead of detecting it from the header.
    max_kwh : float
        Largest plausible value of one half hour [kWh]; larger ones are errors.
    fill_missing : bool
        Estimate half hours missing inside the data (``E0``/``E5``, reason 2, listed in
        ``notes``) instead of refusing them.
    drop_incomplete_days : bool
        Drop a first or last UTC day the data covers only in part, instead of completing it with
        estimates.
    pseudonymise_key : str, optional
        Replace MPANs and meter IDs by synthetic valid ones derived from this key (the mapping is
        returned in the result).
    register_csv : path, optional
        CSV of ``mpan,register_start_kwh``: each MPAN's register at the start of its first
        supplied half hour [kWh].
    progress : bool
        Show a progress bar over the bytes read.

    Returns
    -------
    CsvInput
        The consumption, the real -> pseudonym mapping (with ``pseudonymise_key``), and the
        numbers of rows and values read.

    Raises
    ------
    CsvInputError
        If the input breaks any rule.
    ValueError
        For arguments no input could satisfy (an unknown layout, ``max_kwh`` <= 0, ...).
    """
    files = [Path(p) for p in ([paths] if isinstance(paths, str | os.PathLike) else paths)]
    if not files:
        raise ValueError("no input files given")
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if not (isinstance(max_kwh, int | float) and np.isfinite(max_kwh) and max_kwh > 0):
        raise ValueError(f"max_kwh must be a positive number [kWh], got {max_kwh!r}")
    if pseudonymise_key is not None and not str(pseudonymise_key):
        raise ValueError("the pseudonymisation key must not be empty")
    names = [str(p) for p in files] + ([str(register_csv)] if register_csv is not None else [])
    state = State(Problems(names), max_wh=int(Decimal(str(max_kwh)) * 1000), forced_layout=layout)
    with progress_counter(files, progress) as counted:
        for file, path in enumerate(files):
            read_file(path, file, state, counted)
    state.check_meters()
    if register_csv is not None:
        state.read_register_csv(Path(register_csv), len(files))
    state.problems.raise_if_any()
    grid = Grid.build(state, pseudonymise_key)
    state.problems.raise_if_any()
    # file names may hold real identifiers (exports named by MPAN): not kept when pseudonymising
    sources = names if pseudonymise_key is None else [f"input {i + 1} of {len(names)}" for i in range(len(names))]
    supplied = grid.complete(fill_missing=fill_missing, drop_incomplete_days=drop_incomplete_days,
                             sources=sources)
    state.problems.raise_if_any()
    return CsvInput(supplied, grid.mapping, state.rows, state.values)


def notes_frame(supplied: SuppliedConsumption) -> pd.DataFrame:
    """The conversion report (``supplied.notes``) as a table, one row per change made."""
    return pd.DataFrame(supplied.notes, columns=list(REPORT_COLUMNS))

"""Consumption from the user's CSV (or Parquet) files, checked and completed into whole UTC days.

The public names of the subpackage; each module below holds one part of the job:
:mod:`~mhhs_workbench.csv_input.reader` the entry points, :mod:`~mhhs_workbench.csv_input.files`
opening files, :mod:`~mhhs_workbench.csv_input.streams` reading them block by block,
:mod:`~mhhs_workbench.csv_input.layout` the header's layout, :mod:`~mhhs_workbench.csv_input.block`
and :mod:`~mhhs_workbench.csv_input.cells` the checks of a block and of one cell,
:mod:`~mhhs_workbench.csv_input.state` what the files gave so far,
:mod:`~mhhs_workbench.csv_input.grid` the half-hour grid and its completion,
:mod:`~mhhs_workbench.csv_input.pseudonyms` pseudonyms, and
:mod:`~mhhs_workbench.csv_input.problems` the problems and their wording.
"""

from mhhs_workbench.csv_input.layout import LAYOUTS
from mhhs_workbench.csv_input.problems import MAX_REPORTED, CsvInputError
from mhhs_workbench.csv_input.pseudonyms import (
    pseudonymisation_key,
    pseudonymise_meter_ids,
    pseudonymise_mpans,
)
from mhhs_workbench.csv_input.reader import (
    DEFAULT_MAX_KWH,
    CsvInput,
    notes_frame,
    read_csv_input,
    read_supplied,
)

__all__ = [
    "DEFAULT_MAX_KWH",
    "LAYOUTS",
    "MAX_REPORTED",
    "CsvInput",
    "CsvInputError",
    "notes_frame",
    "pseudonymisation_key",
    "pseudonymise_meter_ids",
    "pseudonymise_mpans",
    "read_csv_input",
    "read_supplied",
]

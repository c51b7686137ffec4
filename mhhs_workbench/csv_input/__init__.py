"""Consumption from the user's CSV (or Parquet) files, checked and completed into whole UTC days.

The public names of the subpackage; each module below holds one part of the job.
"""

from mhhs_workbench.csv_input.reader import (
    DEFAULT_MAX_KWH,
    LAYOUTS,
    MAX_REPORTED,
    CsvInput,
    CsvInputError,
    notes_frame,
    pseudonymisation_key,
    pseudonymise_meter_ids,
    pseudonymise_mpans,
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

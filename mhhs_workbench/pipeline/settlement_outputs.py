"""Write a data set's settlement outputs: the ``settlement`` table and the REP-002 / REP-002B reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mhhs_workbench.codes.releases import LATEST_VERSION
from mhhs_workbench.model.chunk import DatasetFrame
from mhhs_workbench.publish.writers import TableWriter
from mhhs_workbench.settlement.reports import REPORT_SCHEMA_VERSIONS, ReportSender, ReportWriter
from mhhs_workbench.settlement.sums import (
    SETTLEMENT_SCHEMA,
    LocalSlots,
    SettlementTotals,
    settlement_columns,
)

#: Local settlement days whose table rows and reports are built at once.
DAYS_PER_BATCH = 28
#: Rows per Parquet row group of the settlement table.
ROW_GROUP_ROWS = 65_536


def report_sender(frame: DatasetFrame) -> ReportSender:
    """The central settlement service as the scenario names it, with the report ``schemaVersion``
    of the scenario's DIP API release."""
    scenario = frame.scenario
    version = REPORT_SCHEMA_VERSIONS.get(scenario.spec_version, REPORT_SCHEMA_VERSIONS[LATEST_VERSION])
    return ReportSender(scenario.participants.settlement_service, scenario.environment_tag, version,
                        scenario.messages.sub_text)


def write_settlement(root: Path, totals: SettlementTotals, frame: DatasetFrame, *, parquet: bool,
                     csv: bool) -> dict[str, int]:
    """Write ``tables/settlement.{parquet,csv}`` and the reports under ``root``; return counts.

    Written :data:`DAYS_PER_BATCH` local days at a time, so memory does not grow with the days.
    Counts: ``settlement_rows``, ``rep002_messages``, ``rep002b_messages``, ``rep002_files`` and
    ``rep002b_files``.
    """
    table = TableWriter(root / "tables", "settlement", SETTLEMENT_SCHEMA, parquet=parquet, csv=csv,
                        row_group_rows=ROW_GROUP_ROWS)
    reports = ReportWriter(root, report_sender(frame), frame.scenario.messages.messages_per_file)
    n_days = LocalSlots.of(frame).days.size
    for first in range(0, n_days, DAYS_PER_BATCH):
        rows = settlement_columns(totals.of_days(np.arange(first, min(first + DAYS_PER_BATCH, n_days))), frame)
        if rows.n_rows:
            table.write(rows.columns)
            reports.add(rows)
    counts = {"settlement_rows": table.rows}
    table.close()
    counts.update(reports.close())
    return counts

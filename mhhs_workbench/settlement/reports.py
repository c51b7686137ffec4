"""REP-002 and REP-002B: the central DUoS reports a data set's settlement table implies.

REP-002 (Supplier report for DUoS, aggregated data, event ``[DUOSSupplierAggData]``): one report
per run x settlement date x Supplier, nesting distributor (R027) -> GSP group (R013) -> DUoS tariff
(R010) -> period (R011), with the day's volume on actual and on estimated data (R0105).
REP-002B (LDSO report, ``[DUoSLDSOAggData]``): one report per run x settlement date x distributor
x GSP group, nesting Supplier (R009) -> tariff -> period. Volumes are kWh with six decimals
(DT-022), exact from whole Wh.

The DIP carries a report compressed: the ``CustomBlock`` is ``{"P03": {"compressedReport": ...}}``
where the text is base64 of the gzip (RFC 1952, header time 0, so the bytes are reproducible) of
the report's compact UTF-8 JSON. Each data set also keeps every report uncompressed, for reading.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from mhhs_workbench.messages.common import request_body
from mhhs_workbench.settlement.sums import SettlementRows

#: Interface IDs of the reports, with their event codes.
REPORT_EVENTS = {"REP-002": "[DUOSSupplierAggData]", "REP-002B": "[DUoSLDSOAggData]"}
#: ``schemaVersion`` of the reports for each DIP API release a data set names. 2.2.1 accepts
#: ``008`` and ``009`` (which adds an optional P0 partition block, unused here); ``008`` keeps a
#: data set's reports valid under every known release, as its IF-021 and IF-041 messages are.
REPORT_SCHEMA_VERSIONS = {"2.1.0": "008", "2.2.1": "008"}
#: Role the central settlement service sends as (``senderRoleID``).
SENDER_ROLE = "ECS"


def kwh_text(wh: np.ndarray) -> list[str]:
    """Whole Wh as DT-022 kWh text with six decimals (``1234`` -> ``'1.234000'``), exactly."""
    return [f"{'-' if w < 0 else ''}{abs(w) // 1000}.{abs(w) % 1000:03d}000"
            for w in np.asarray(wh, dtype=np.int64).tolist()]


def compress(report: dict[str, Any]) -> str:
    """``compressedReport`` text: base64 of the gzip of the report's compact JSON."""
    return base64.b64encode(gzip.compress(orjson.dumps(report), mtime=0)).decode("ascii")


def decompress(text: str) -> dict[str, Any]:
    """The report a ``compressedReport`` holds (inverse of :func:`compress`)."""
    return orjson.loads(gzip.decompress(base64.b64decode(text, validate=True)))


@dataclass(frozen=True)
class Report:
    """One report: where it goes and what it says.

    Attributes
    ----------
    interface_id : str
        ``'REP-002'`` or ``'REP-002B'``.
    name : str
        File name stem of its uncompressed copy.
    recipient : str
        DIP ID it is addressed to (the Supplier, or the distributor).
    executed : str
        Run execution date-time: the report's ``senderTimestamp``.
    body : dict
        The report (a ``REP-002-CustomBlock`` or ``REP-002B-CustomBlock``).
    """

    interface_id: str
    name: str
    recipient: str
    executed: str
    body: dict[str, Any]


class _Table:
    """The settlement columns as Python lists (for building dicts) and small integer codes (for
    finding runs of equal values), made once per report set."""

    def __init__(self, cols: dict[str, np.ndarray]) -> None:
        self.cols = cols
        self.volume = kwh_text(cols["volume_wh"])
        self.lists = {name: cols[name].tolist() for name in
                      ("settlement_period", "period_minutes", "energised_mpans", "deenergised_mpans")}
        self.codes = {name: np.unique(cols[name], return_inverse=True)[1].reshape(-1) for name in
                      ("run_number", "supplier_mpid", "distributor_id", "gsp_group", "duos_tariff_id")}

    def periods(self, idx: np.ndarray) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """R011 of each period of one tariff group (rows ``idx``, contiguous), and its R0105."""
        lists = self.lists
        r011 = [
            {
                "settlementPeriod": lists["settlement_period"][i],
                "settlementPeriodDuration": lists["period_minutes"][i],
                "totalUncorrectedVolume": self.volume[i],
                "totalNumberEnergisedMPANs": lists["energised_mpans"][i],
                "totalNumberDeEnergisedMPANs": lists["deenergised_mpans"][i],
            }
            for i in idx.tolist()
        ]
        actual, estimated = kwh_text([self.cols["actual_wh"][idx].sum(), self.cols["estimated_wh"][idx].sum()])
        return r011, {"dailyTotalVolumeBasedOnActualData": actual, "dailyTotalVolumeBasedOnEstimatedData": estimated}

    def tariff(self, idx: np.ndarray, child: str) -> dict[str, Any]:
        """One tariff group with its periods under ``child``."""
        first, cols = idx[0], self.cols
        r011, r0105 = self.periods(idx)
        return {
            "R010": {
                "DUoSTariffID": str(cols["duos_tariff_id"][first]),
                "DUoSTariffEnergyDirection": str(cols["energy_direction"][first]),
                "DUoSTariffDomesticPremiseIndicator": bool(cols["domestic_premise"][first]),
            },
            child: r011,
            "R0105": r0105,
        }

    def split(self, idx: np.ndarray, name: str) -> list[np.ndarray]:
        """``idx`` cut into runs of equal ``name`` (rows sharing a value are contiguous in ``idx``)."""
        if idx.size == 0:
            return []
        code = self.codes[name][idx]
        return np.split(idx, np.flatnonzero(code[1:] != code[:-1]) + 1)


def _run_blocks(cols: dict[str, np.ndarray], first: int) -> dict[str, Any]:
    return {
        "R007": {"settlementRunExecutionDate": _stamp(cols["run_executed"][first])},
        "R002": {
            "settlementDate": str(cols["settlement_date"][first])[:10],
            "settlementCode": str(cols["settlement_code"][first]),
            "runNumber": int(cols["run_number"][first]),
        },
    }


def _stamp(instant: np.datetime64) -> str:
    return f"{np.datetime_as_string(np.datetime64(instant, 's'))}+00:00"


def reports(rows: SettlementRows) -> Iterator[Report]:
    """Every REP-002, then every REP-002B, of a settlement table, in run-number order."""
    cols = rows.columns
    table = _Table(cols)
    by_run = table.split(np.arange(rows.n_rows), "run_number")
    for run in by_run:
        # REP-002: rows come by Supplier, GSP group (one distributor each), tariff, period
        for sup in table.split(run, "supplier_mpid"):
            body = {**_run_blocks(cols, sup[0]), "R009": {"supplierMPID": str(cols["supplier_mpid"][sup[0]])},
                    "REP002-R027": []}
            for dist in table.split(sup, "distributor_id"):
                groups = [
                    {"R013": {"GSPGroupID": str(cols["gsp_group"][g[0]])},
                     "REP002-R010": [table.tariff(t, "REP002-R011") for t in table.split(g, "duos_tariff_id")]}
                    for g in table.split(dist, "gsp_group")
                ]
                body["REP002-R027"].append({"R027": {"distributorID": str(cols["distributor_id"][dist[0]])},
                                            "REP002-R013": groups})
            yield Report("REP-002", f"REP-002_{_run_name(cols, sup[0])}_{cols['supplier_mpid'][sup[0]]}",
                         str(cols["supplier_dip_id"][sup[0]]), _stamp(cols["run_executed"][sup[0]]), body)
    for run in by_run:
        # REP-002B: the same rows regrouped by GSP group (and its distributor), then Supplier
        order = run[np.lexsort((cols["settlement_period"][run], table.codes["duos_tariff_id"][run],
                                table.codes["supplier_mpid"][run], table.codes["gsp_group"][run]))]
        for g in table.split(order, "gsp_group"):
            first = g[0]
            body = {
                "R027": {"distributorID": str(cols["distributor_id"][first])},
                "R013": {"GSPGroupID": str(cols["gsp_group"][first])},
                **_run_blocks(cols, first),
                "REP002B-R009": [
                    {"R009": {"supplierMPID": str(cols["supplier_mpid"][s[0]])},
                     "REP002B-R010": [table.tariff(t, "REP002B-R011") for t in table.split(s, "duos_tariff_id")]}
                    for s in table.split(g, "supplier_mpid")
                ],
            }
            name = f"REP-002B_{_run_name(cols, first)}_{cols['distributor_id'][first]}_{cols['gsp_group'][first][1:]}"
            yield Report("REP-002B", name, str(cols["distributor_dip_id"][first]),
                         _stamp(cols["run_executed"][first]), body)


def _run_name(cols: dict[str, np.ndarray], i: int) -> str:
    day = str(cols["settlement_date"][i])[:10].replace("-", "")
    return f"{day}_{cols['settlement_code'][i]}_{int(cols['run_number'][i]):07d}"


@dataclass(frozen=True)
class ReportSender:
    """Who sends the reports and how: the central settlement service's S1 fields.

    Attributes
    ----------
    dip_id : str
        ``senderDIPID`` of the central settlement service.
    environment_tag : str
        ``environmentTag``.
    schema_version : str
        ``schemaVersion`` (see :data:`REPORT_SCHEMA_VERSIONS`).
    sub_text : str or None
        ``subText``.
    """

    dip_id: str
    environment_tag: str
    schema_version: str
    sub_text: str | None = None


def payload(report: Report, sender: ReportSender, number: int) -> dict[str, Any]:
    """The DIP payload of a report: common block and the compressed report (P03).

    ``number`` is the report's running number among its interface's reports; REP-002B references
    carry a ``B`` before it, as Elexon's reference pattern takes only digits after ``REP-``.
    """
    date = report.executed[:10].replace("-", "")
    tag = "B" if report.interface_id == "REP-002B" else ""
    return {
        "CommonBlock": {
            "S0": {"interfaceID": report.interface_id, "schemaVersion": sender.schema_version,
                   "eventCode": REPORT_EVENTS[report.interface_id]},
            "S1": {
                "environmentTag": sender.environment_tag,
                "subText": sender.sub_text,
                "senderUniqueReference": f"S-REP-002-{sender.dip_id}-{SENDER_ROLE}-{date}-{tag}{number:08d}",
                "senderTimestamp": report.executed,
                "senderDIPID": sender.dip_id,
                "senderRoleID": SENDER_ROLE,
                "senderCorrelationID": None,
                "DIPConnectionProviderID": None,
            },
            "A0": {"primaryRecipients": [report.recipient], "secondaryRecipients": [], "always": []},
        },
        "CustomBlock": {"P03": {"compressedReport": compress(report.body)}},
    }


class ReportWriter:
    """Writes reports as DIP request bodies and as uncompressed JSON, a batch of days at a time.

    Layout under ``root``: ``messages/REP-002/REP-002_000001.json`` ... (``messages_per_file``
    payloads each), the same for ``REP-002B``, and ``reports/REP-002/<name>.json`` and
    ``reports/REP-002B/<name>.json``, one uncompressed report each.
    """

    def __init__(self, root: Path, sender: ReportSender, messages_per_file: int) -> None:
        self.root = root
        self.sender = sender
        self.messages_per_file = messages_per_file
        self.counts = dict.fromkeys(REPORT_EVENTS, 0)
        self.files = dict.fromkeys(REPORT_EVENTS, 0)
        self.pending: dict[str, list[dict[str, Any]]] = {i: [] for i in REPORT_EVENTS}

    def add(self, rows: SettlementRows) -> None:
        """Write the reports of some settlement table rows (whole run days)."""
        for report in reports(rows):
            i = report.interface_id
            self.counts[i] += 1
            copy = self.root / "reports" / i
            copy.mkdir(parents=True, exist_ok=True)
            # compact like the messages (indenting would double the size); any JSON viewer lays it out
            (copy / f"{report.name}.json").write_bytes(orjson.dumps(report.body))
            self.pending[i].append(payload(report, self.sender, self.counts[i]))
            if len(self.pending[i]) == self.messages_per_file:
                self._flush(i)

    def _flush(self, interface_id: str) -> None:
        folder = self.root / "messages" / interface_id
        folder.mkdir(parents=True, exist_ok=True)
        self.files[interface_id] += 1
        (folder / f"{interface_id}_{self.files[interface_id]:06d}.json").write_bytes(
            request_body(self.pending[interface_id]))
        self.pending[interface_id] = []

    def close(self) -> dict[str, int]:
        """Write the last, partly filled files; return the counts of reports and files."""
        for i in REPORT_EVENTS:
            if self.pending[i]:
                self._flush(i)
        return {"rep002_messages": self.counts["REP-002"], "rep002b_messages": self.counts["REP-002B"],
                "rep002_files": self.files["REP-002"], "rep002b_files": self.files["REP-002B"]}

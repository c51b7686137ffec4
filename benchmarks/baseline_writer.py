"""A deliberately straightforward IF-021 writer: the reference the package's speed is compared to.

This is the code a user would write themselves to turn the package's meters and consumption into
IF-021 request bodies: one plain ``dict`` per half-hourly value, ``datetime.isoformat`` for every
time stamp, ``json.dumps`` for every file. No vectorised formatting, no byte templates, no tricks.

It takes the same meters (:func:`mhhs_workbench.model.population.build_population`) and the same
consumption (:func:`mhhs_workbench.model.profiles.consumption`) as the package, and writes the same
structure (``[{"payload": {"CommonBlock": ..., "CustomBlock": ...}}, ...]``): one message per
meter, measurement quantity and block of ``days_per_message`` UTC days, ``messages_per_file``
messages per file, every file flushed to disk (``fsync``) as the package does. It leaves out the
package's data-quality modelling (estimates, communications faults, de-energised spells) and
supplier changes, so every value has quality ``A``; the files are of about the same size (the
benchmark prints both sizes).

Usage::

    python benchmarks/baseline_writer.py OUT_DIR [--meters N] [--days D]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mhhs_workbench.model.population import build_population
from mhhs_workbench.model.profiles import ARCHETYPE_SPECS, consumption
from mhhs_workbench.scenario import MeterMix, Scenario
from mhhs_workbench.time.periods import day_range

#: Meters whose consumption is generated at once (bounds memory, as any sensible script would).
METERS_PER_BATCH = 500
#: Half hours in a UTC settlement day.
PERIODS_PER_DAY = 48


@dataclass
class BaselineResult:
    """What the baseline wrote and how long it took.

    Attributes
    ----------
    messages, files, values, bytes : int
        IF-021 messages, files, half-hourly values and bytes written.
    seconds_model : float
        Seconds spent building the population and its consumption (the package's own model).
    seconds_write : float
        Seconds spent building the dicts, encoding JSON and writing the files.
    """

    messages: int = 0
    files: int = 0
    values: int = 0
    bytes: int = 0
    seconds_model: float = 0.0
    seconds_write: float = 0.0

    @property
    def seconds(self) -> float:
        """Total seconds."""
        return self.seconds_model + self.seconds_write


def utc(day: np.datetime64) -> dt.datetime:
    """Midnight UTC of a ``datetime64[D]`` day as an aware datetime."""
    return dt.datetime.fromisoformat(str(day)).replace(tzinfo=dt.UTC)


def sender_timestamp(scenario: Scenario) -> str:
    """The scenario's ``senderTimestamp``, or 06:00 UTC on the day after the data set ends."""
    if scenario.messages.sender_timestamp:
        return scenario.messages.sender_timestamp
    return f"{scenario.end_date + dt.timedelta(days=1)}T06:00:00+00:00"


def measurement_quantities(meter: pd.Series) -> list[str]:
    """AI always, AE with PV, RI and RE for maximum-demand (reactive) archetypes."""
    mqids = ["AI"]
    if meter["pv_kwp"] > 0:
        mqids.append("AE")
    if ARCHETYPE_SPECS[meter["archetype"]].reactive:
        mqids += ["RI", "RE"]
    return mqids


def common_block(scenario: Scenario, meter: pd.Series, reference: str) -> dict:
    """CommonBlock (S0, S1, A0, M0) of one meter's IF-021 message."""
    p = scenario.participants
    return {
        "S0": {"interfaceID": "IF-021", "schemaVersion": "011", "eventCode": "[ActivePower]"},
        "S1": {
            "environmentTag": scenario.environment_tag,
            "subText": scenario.messages.sub_text,
            "senderUniqueReference": reference,
            "senderTimestamp": sender_timestamp(scenario),
            "senderDIPID": meter["data_service_dip_id"],
            "senderRoleID": meter["data_service_role"],
            "senderCorrelationID": None,
            "DIPConnectionProviderID": None,
        },
        "A0": {
            "primaryRecipients": [
                p.load_shaping_service,
                p.market_wide_data_service,
                meter["supplier_dip_id"],
                meter["distributor_dip_id"],
            ],
            "secondaryRecipients": [],
            "always": [],
        },
        "M0": {
            "MPANCore": meter["mpan"],
            "distributorDIPID": meter["distributor_dip_id"],
            "GSPGroupID": meter["gsp_group"],
        },
    }


def day_periods(day: np.datetime64, values_wh: np.ndarray) -> dict:
    """One settlement day of a message: 48 consumption periods in kWh with three decimals."""
    start = utc(day)
    periods = []
    for k, wh in enumerate(values_wh):
        end = start + dt.timedelta(minutes=30 * (k + 1))
        periods.append({"sp": end.isoformat(), "v": f"{wh / 1000:.3f}", "q": "A", "e": None,
                        "arc": None})
    return {
        "settlementDay": {"settlementDayDate": start.isoformat(), "periodDuration": 30},
        "consumptionPeriods": periods,
    }


def message(scenario: Scenario, meter: pd.Series, mqid: str, days: np.ndarray,
            values_wh: np.ndarray, reference: str) -> dict:
    """One IF-021 request body: a meter's values of one measurement quantity over some days."""
    day_blocks = [
        day_periods(day, values_wh[i * PERIODS_PER_DAY:(i + 1) * PERIODS_PER_DAY])
        for i, day in enumerate(days)
    ]
    return {
        "payload": {
            "CommonBlock": common_block(scenario, meter, reference),
            "CustomBlock": {
                "B044": {"issuingDataServiceDIPID": meter["data_service_dip_id"]},
                "B067": {
                    "connectionTypeIndicator": meter["connection_type"],
                    "connectionTypeEffectiveFromDate": meter["connection_effective_from"],
                },
                "B900": {
                    "MQID": {"measurementQuantityID": mqid},
                    "settlementDayConsumptionPeriods": day_blocks,
                },
            },
        }
    }


def messages(scenario: Scenario, result: BaselineResult) -> Iterator[dict]:
    """Every IF-021 message of the scenario, meter by meter (times into ``result``)."""
    days = day_range(scenario.start_date, scenario.end_date)
    block = scenario.messages.days_per_message
    reference_date = sender_timestamp(scenario)[:10].replace("-", "")
    running: dict[str, int] = {}
    for start in range(0, scenario.meters.count, METERS_PER_BATCH):
        t0 = time.perf_counter()
        stop = min(start + METERS_PER_BATCH, scenario.meters.count)
        meters = build_population(scenario, start, stop)
        energy = consumption(meters, days, scenario.seed)
        arrays = {"AI": energy.import_wh, "AE": energy.export_wh,
                  "RI": energy.reactive_import_varh, "RE": energy.reactive_export_varh}
        result.seconds_model += time.perf_counter() - t0
        for row in range(len(meters)):
            meter = meters.iloc[row]
            for mqid in measurement_quantities(meter):
                for first in range(0, len(days), block):
                    sender = f"{meter['data_service_dip_id']}-{meter['data_service_role']}"
                    running[sender] = running.get(sender, 0) + 1
                    reference = f"S-IF-021-{sender}-{reference_date}-{running[sender]:08d}"
                    periods = slice(first * PERIODS_PER_DAY, (first + block) * PERIODS_PER_DAY)
                    values = arrays[mqid][row, periods]
                    result.values += len(values)
                    yield message(scenario, meter, mqid, days[first:first + block], values,
                                  reference)


def write_file(path: Path, batch: list[dict]) -> int:
    """Write one file of messages as a JSON array, flushed to disk; returns its size in bytes."""
    data = json.dumps(batch, separators=(",", ":")).encode("utf-8")
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return len(data)


def write_if021(scenario: Scenario, out: Path) -> BaselineResult:
    """Write the scenario's IF-021 messages under ``out/messages/IF-021``; returns the figures."""
    folder = Path(out) / "messages" / "IF-021"
    folder.mkdir(parents=True, exist_ok=True)
    result = BaselineResult()
    t0 = time.perf_counter()
    batch: list[dict] = []
    for msg in messages(scenario, result):
        batch.append(msg)
        result.messages += 1
        if len(batch) == scenario.messages.messages_per_file:
            result.files += 1
            result.bytes += write_file(folder / f"IF-021_{result.files:06d}.json", batch)
            batch = []
    if batch:
        result.files += 1
        result.bytes += write_file(folder / f"IF-021_{result.files:06d}.json", batch)
    result.seconds_write = time.perf_counter() - t0 - result.seconds_model
    return result


def main(argv: list[str] | None = None) -> int:
    """Write a domestic IF-021 data set with the baseline writer and print its figures."""
    parser = argparse.ArgumentParser(description="straightforward IF-021 writer (baseline)")
    parser.add_argument("out", type=Path, help="folder to write (created)")
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args(argv)
    start = dt.date(2025, 1, 6)
    scenario = Scenario(name="baseline", seed=1, start_date=start,
                        end_date=start + dt.timedelta(days=args.days - 1),
                        meters=MeterMix(count=args.meters,
                                        archetypes={"domestic_unrestricted": 1.0}),
                        outputs=["if021"])
    r = write_if021(scenario, args.out)
    print(f"baseline IF-021: {r.messages:,} messages in {r.files:,} files, {r.values:,} values, "
          f"{r.bytes / 2**20:,.1f} MiB in {r.seconds:.2f} s "
          f"(model {r.seconds_model:.2f} s, dicts + json.dumps + write {r.seconds_write:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Rules across messages and files: resent days, reads going back, reads against consumption."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from mhhs_workbench.cli import main
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.scenario import demo_scenario
from mhhs_workbench.validation.files import validate_files

DAY = "2025-03-30"
MIDNIGHTS = ("2025-03-30T00:00:00+00:00", "2025-03-31T00:00:00+00:00")


def _write(path: Path, payloads: list[Any]) -> Path:
    path.write_bytes(orjson.dumps([{"payload": p} for p in payloads]))
    return path


def _codes(report) -> list[str]:
    return sorted(p.code for _, p in report.findings())


def _day_wh(payload: dict[str, Any]) -> int:
    """Consumption of the payload's first day [Wh]."""
    periods = payload["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"][0]["consumptionPeriods"]
    return int(sum(Decimal(p["v"]) for p in periods) * 1000)


def _reads(make_if041, reference: int, when: str, cumulative_wh: int,
           registers: dict[str, int] | None = None) -> dict[str, Any]:
    """An IF-041 payload of the conftest meter: cumulative read, and time-of-use ones if given."""
    payload = make_if041(reference=reference)
    custom = payload["CustomBlock"]
    custom["B064List"][0].update(cumulativeRegisterReading=f"{cumulative_wh / 1000:.3f}",
                                 cumulativeRegisterReadingDateTime=when)
    template = custom["B065List"][0]
    custom["B065List"] = [
        {**template, "configurableRegisterID": rid, "configurableRegisterReading": f"{wh / 1000:.3f}",
         "configurableRegisterReadingDate": when}
        for rid, wh in (registers or {}).items()
    ]
    if not custom["B065List"]:
        del custom["B065List"]
    return payload


# --------------------------------------------------------------------------- WB-DAY-RESENT


def test_a_later_revision_may_resend_a_day(tmp_path: Path, make_if021) -> None:
    first = make_if021(reference=1, first_day=DAY)
    again = make_if021(reference=2, first_day=DAY)
    again["CommonBlock"]["S1"]["senderTimestamp"] = "2025-04-01T06:00:00+01:00"
    report = validate_files([_write(tmp_path / "a.json", [first]), _write(tmp_path / "b.json", [again])])
    assert report.ok, _codes(report)


@pytest.mark.parametrize("stamp", ["2025-03-31T06:00:00+01:00", "2025-03-31T05:00:00+00:00",
                                   "2025-03-30T06:00:00+01:00"])
def test_a_resend_must_be_later(tmp_path: Path, make_if021, stamp: str) -> None:
    first = make_if021(reference=1, first_day=DAY)
    again = make_if021(reference=2, first_day=DAY)
    again["CommonBlock"]["S1"]["senderTimestamp"] = stamp  # same instant, or earlier
    report = validate_files([_write(tmp_path / "a.json", [first]), _write(tmp_path / "b.json", [again])])
    assert _codes(report) == ["WB-DAY-RESENT"]
    (file, problem), = report.findings()
    assert file.path.name == "b.json" and problem.index == 0
    assert problem.path.endswith("settlementDayConsumptionPeriods[0].settlementDay.settlementDayDate")
    assert str(tmp_path / "a.json") in problem.message and problem.value == f"'{DAY}T00:00:00+00:00'"


def test_a_resend_needs_a_new_reference(tmp_path: Path, make_if021) -> None:
    first = make_if021(reference=1, first_day=DAY)
    again = make_if021(reference=1, first_day=DAY)
    again["CommonBlock"]["S1"]["senderTimestamp"] = "2025-04-01T06:00:00+01:00"
    report = validate_files([_write(tmp_path / "a.json", [first, again])])
    assert _codes(report) == ["WB-DAY-RESENT", "WB-SUR-DUP"]


def test_other_days_and_quantities_are_no_resend(tmp_path: Path, make_if021) -> None:
    payloads = [make_if021(reference=1, first_day=DAY), make_if021(reference=2, first_day="2025-03-31"),
                make_if021("[ReactivePower]", "RI", reference=3, first_day=DAY)]
    assert validate_files([_write(tmp_path / "a.json", payloads)]).ok


def test_an_mpan_keeps_one_energy_direction(tmp_path: Path, make_if021) -> None:
    # an import meter records both reactive quantities
    imports = [make_if021(reference=1, first_day=DAY),
               make_if021("[ReactivePower]", "RI", reference=2, first_day=DAY),
               make_if021("[ReactivePower]", "RE", reference=3, first_day=DAY)]
    exports = [make_if021(mqid="AE", reference=4, first_day=DAY),
               make_if021(mqid="AE", reference=5, first_day="2025-03-31")]
    assert validate_files([_write(tmp_path / "import.json", imports)]).ok
    assert validate_files([_write(tmp_path / "export.json", exports)]).ok
    report = validate_files([_write(tmp_path / "both.json", [*imports, *exports])])
    assert _codes(report) == ["WB-MPAN-DIRECTION", "WB-MPAN-DIRECTION"]
    (_, first), (_, second) = report.findings()
    assert (first.index, second.index) == (3, 4)
    assert first.path == "$[3].payload.CustomBlock.B900.MQID.measurementQuantityID"
    assert "carries export (AE) here but import (AI)" in first.message and "both.json" in first.message


# --------------------------------------------------------------------------- register reads


def test_reads_reconcile_with_consumption(tmp_path: Path, make_if021, make_if041) -> None:
    day = make_if021(reference=1, first_day=DAY)
    used = _day_wh(day)
    start = 12_345_678
    reads = [_reads(make_if041, 2, MIDNIGHTS[0], start), _reads(make_if041, 3, MIDNIGHTS[1], start + used)]
    assert validate_files([_write(tmp_path / "ok.json", [day, *reads])]).ok

    reads[1] = _reads(make_if041, 3, MIDNIGHTS[1], start + used + 7)
    report = validate_files([_write(tmp_path / "off.json", [day, *reads])])
    assert _codes(report) == ["WB-READ-RECONCILE"]
    (_, problem), = report.findings()
    assert problem.index == 2 and problem.path.endswith("B064List[0].cumulativeRegisterReading")
    assert "difference +7 Wh" in problem.message and f"{used} Wh" in problem.message


def test_time_of_use_registers_reconcile_together(tmp_path: Path, make_if021, make_if041) -> None:
    day = make_if021(reference=1, first_day=DAY)
    used = _day_wh(day)
    night = used // 3
    before = _reads(make_if041, 2, MIDNIGHTS[0], 5_000_000, {"01": 1_000_000, "02": 2_000_000})
    after = _reads(make_if041, 3, MIDNIGHTS[1], 5_000_000 + used,
                   {"01": 1_000_000 + used - night, "02": 2_000_000 + night})
    assert validate_files([_write(tmp_path / "e7.json", [day, before, after])]).ok
    wrong = _reads(make_if041, 3, MIDNIGHTS[1], 5_000_000 + used,
                   {"01": 1_000_000 + used - night, "02": 2_000_000 + night + 40})
    report = validate_files([_write(tmp_path / "e7bad.json", [day, before, wrong])])
    assert _codes(report) == ["WB-READ-RECONCILE"]
    (_, problem), = report.findings()
    assert "registers 01+02" in problem.message and "+40 Wh" in problem.message


def test_the_latest_revision_is_reconciled(tmp_path: Path, make_if021, make_if041) -> None:
    first = make_if021(reference=1, first_day=DAY)
    revised = make_if021(reference=2, first_day=DAY)
    periods = revised["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"][0]["consumptionPeriods"]
    periods[10]["v"] = "5.000"
    revised["CommonBlock"]["S1"]["senderTimestamp"] = "2025-04-02T06:00:00+01:00"
    reads = [_reads(make_if041, 3, MIDNIGHTS[0], 0), _reads(make_if041, 4, MIDNIGHTS[1], _day_wh(revised))]
    assert validate_files([_write(tmp_path / "rev.json", [first, revised, *reads])]).ok
    stale = [_reads(make_if041, 3, MIDNIGHTS[0], 0), _reads(make_if041, 4, MIDNIGHTS[1], _day_wh(first))]
    report = validate_files([_write(tmp_path / "stale.json", [first, revised, *stale])])
    assert _codes(report) == ["WB-READ-RECONCILE"]


def test_missing_half_hours_leave_a_span_unreconciled(tmp_path: Path, make_if021, make_if041) -> None:
    day = make_if021(reference=1, first_day=DAY, n_periods=47)
    reads = [_reads(make_if041, 2, MIDNIGHTS[0], 0), _reads(make_if041, 3, MIDNIGHTS[1], 999_999)]
    assert validate_files([_write(tmp_path / "gap.json", [day, *reads])]).ok


def test_reads_never_go_back_except_at_a_wrap(tmp_path: Path, make_if041) -> None:
    back = [_reads(make_if041, 1, MIDNIGHTS[0], 12_345_678), _reads(make_if041, 2, MIDNIGHTS[1], 12_000_000)]
    report = validate_files([_write(tmp_path / "back.json", back)])
    assert _codes(report) == ["WB-READ-BACK"]
    (_, problem), = report.findings()
    assert problem.index == 1 and "went back from 12345.678 kWh" in problem.message
    # 5 digits: 99,999.000 kWh rolls over to 0
    wrap = [_reads(make_if041, 1, MIDNIGHTS[0], 99_999_000), _reads(make_if041, 2, MIDNIGHTS[1], 1_500)]
    assert validate_files([_write(tmp_path / "wrap.json", wrap)]).ok
    # read in the other order across files: still judged in time order
    later, earlier = _write(tmp_path / "1.json", back[1:]), _write(tmp_path / "2.json", back[:1])
    report = validate_files([later, earlier])
    assert _codes(report) == ["WB-READ-BACK"] and report.files[0].invalid == 1


def test_rules_off_means_no_cross_rules(tmp_path: Path, make_if041) -> None:
    back = [_reads(make_if041, 1, MIDNIGHTS[0], 12_345_678), _reads(make_if041, 2, MIDNIGHTS[1], 12_000_000)]
    assert validate_files([_write(tmp_path / "back.json", back)], business_rules=False).ok


# --------------------------------------------------------------------------- a whole data set


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo-data"
    generate_dataset(demo_scenario(), out, progress=False)
    return out


@pytest.mark.slow
def test_the_demo_data_set_has_no_findings(demo: Path, official_spec_dir: Path) -> None:
    report = validate_files([demo], spec_dir=official_spec_dir)
    assert report.ok and report.spec is not None and report.package_schema
    assert sum(report.rule_counts.values()) == 0
    done = CliRunner().invoke(main, ["validate", str(demo), "--spec-dir", str(official_spec_dir)])
    assert done.exit_code == 0 and "0 invalid messages" in done.output


def test_a_changed_read_in_the_demo_is_found(demo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(demo, copy)
    file = sorted((copy / "messages" / "IF-041").glob("*.json"))[0]
    items = orjson.loads(file.read_bytes())
    # a daily remote read in the middle of a meter's series
    k = next(i for i, item in enumerate(items) if i > 0
             and item["payload"]["CommonBlock"]["S0"]["eventCode"] == "[ReadingRemote]"
             and items[i + 1]["payload"]["CommonBlock"]["S0"]["eventCode"] == "[ReadingRemote]")
    read = items[k]["payload"]["CustomBlock"]["B064List"][0]
    read["cumulativeRegisterReading"] = f"{Decimal(read['cumulativeRegisterReading']) + Decimal('0.003')}"
    file.write_bytes(orjson.dumps(items))
    report = validate_files([copy])
    assert _codes(report) == ["WB-READ-RECONCILE", "WB-READ-RECONCILE"]
    assert sorted(p.message.split("difference ")[1] for _, p in report.findings()) == [
        "+3 Wh)", "-3 Wh)"]

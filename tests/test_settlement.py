"""Settlement data: REP-002 / REP-002B from the same meter truth as the IF-021 messages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastjsonschema
import holidays
import jsonschema
import numpy as np
import pandas as pd
import pytest
from conftest import missing_reference

from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.model.chunk import DatasetFrame
from mhhs_workbench.notebook.message_frames import if021_frame
from mhhs_workbench.pipeline.chunks import generate_chunk
from mhhs_workbench.scenario import (
    DataQuality,
    Event,
    MeterMix,
    Scenario,
    ScenarioError,
    Sending,
    demo_scenario,
)
from mhhs_workbench.settlement.reports import compress, decompress, kwh_text
from mhhs_workbench.settlement.sums import (
    LocalSlots,
    SettlementSums,
    SettlementTotals,
    run_cutoffs,
    settlement_columns,
    values_as_sent,
)
from mhhs_workbench.time.calendar import RUN_WORKING_DAYS, execution_date, timetable
from mhhs_workbench.validation.files import validate_files
from mhhs_workbench.validation.schema import official_schema

OFFICIAL_221 = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dip-api-2.2.1" / (
    "api-spec-2.2.1-resolved.json")
KEY = ["run_number", "supplier", "gsp_group", "tariff", "settlement_period"]


def _wh(text: str) -> int:
    return int(Decimal(text) * 1000)


def _messages(folder: Path, interface_id: str) -> list[dict[str, Any]]:
    payloads = []
    for path in sorted((folder / "messages" / interface_id).glob(f"{interface_id}_*.json")):
        payloads += [item["payload"] for item in json.loads(path.read_bytes())]
    return payloads


def _rep002_rows(payloads: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per R011 of decompressed REP-002 reports, with its day's R0105 totals."""
    rows = []
    for payload in payloads:
        report = decompress(payload["CustomBlock"]["P03"]["compressedReport"])
        run = report["R002"]
        for dist in report["REP002-R027"]:
            for group in dist["REP002-R013"]:
                for tariff in group["REP002-R010"]:
                    for p in tariff["REP002-R011"]:
                        rows.append((run["runNumber"], run["settlementCode"], run["settlementDate"],
                                     report["R009"]["supplierMPID"], dist["R027"]["distributorID"],
                                     group["R013"]["GSPGroupID"], tariff["R010"]["DUoSTariffID"],
                                     tariff["R010"]["DUoSTariffEnergyDirection"], p["settlementPeriod"],
                                     _wh(p["totalUncorrectedVolume"]), p["totalNumberEnergisedMPANs"],
                                     p["totalNumberDeEnergisedMPANs"],
                                     _wh(tariff["R0105"]["dailyTotalVolumeBasedOnActualData"]),
                                     _wh(tariff["R0105"]["dailyTotalVolumeBasedOnEstimatedData"])))
    return pd.DataFrame(rows, columns=["run_number", "code", "date", "supplier", "distributor", "gsp_group", "tariff",
                                       "direction", "settlement_period", "volume_wh", "energised", "deenergised",
                                       "actual_day_wh", "estimated_day_wh"])


def _rep002b_rows(payloads: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for payload in payloads:
        report = decompress(payload["CustomBlock"]["P03"]["compressedReport"])
        run = report["R002"]
        for sup in report["REP002B-R009"]:
            for tariff in sup["REP002B-R010"]:
                for p in tariff["REP002B-R011"]:
                    rows.append((run["runNumber"], run["settlementCode"], run["settlementDate"],
                                 sup["R009"]["supplierMPID"], report["R027"]["distributorID"],
                                 report["R013"]["GSPGroupID"], tariff["R010"]["DUoSTariffID"],
                                 tariff["R010"]["DUoSTariffEnergyDirection"], p["settlementPeriod"],
                                 _wh(p["totalUncorrectedVolume"]), p["totalNumberEnergisedMPANs"],
                                 p["totalNumberDeEnergisedMPANs"],
                                 _wh(tariff["R0105"]["dailyTotalVolumeBasedOnActualData"]),
                                 _wh(tariff["R0105"]["dailyTotalVolumeBasedOnEstimatedData"])))
    return pd.DataFrame(rows, columns=_rep002_rows([]).columns)


@functools.lru_cache(maxsize=4)
def _placed_versions(folder: Path) -> pd.DataFrame:
    """Every version of every IF-021 active value in the message files, with its send time,
    placed by the meters table: local settlement day and period (Europe/London), Supplier of
    that day, DUoS tariff of the MPAN."""
    values = if021_frame([folder / "messages"])
    values = values[values["mqid"].isin(["AI", "AE"])].copy()
    sent = {}
    for path in sorted((folder / "messages" / "IF-021").glob("IF-021_*.json")):
        for item in json.loads(path.read_bytes()):
            s1 = item["payload"]["CommonBlock"]["S1"]
            sent[s1["senderUniqueReference"]] = s1["senderTimestamp"]
    values["sent"] = pd.to_datetime(values["reference"].map(sent), utc=True)
    start = values["sp"] - pd.Timedelta(minutes=30)
    local = start.dt.tz_convert("Europe/London")
    values["date"] = local.dt.strftime("%Y-%m-%d")
    midnight = local.dt.normalize()  # local midnight, as a UTC instant below
    values["settlement_period"] = ((start - midnight.dt.tz_convert("UTC")) // pd.Timedelta(minutes=30) + 1).astype(int)
    meters = pd.read_parquet(folder / "tables" / "meters.parquet")
    values = values.merge(meters, on="mpan", how="left", validate="many_to_one")
    assert values["gsp_group"].notna().all(), "every IF-021 MPAN is in the meters table"
    values["tariff"] = np.where(values["mqid"] == "AI", values["duos_import_tariff_id"], values["duos_export_tariff_id"])
    cos = pd.to_datetime(values["change_of_supplier_date"]).dt.strftime("%Y-%m-%d")
    moved = cos.notna() & (values["date"] >= cos.fillna("9999"))
    values["supplier"] = np.where(moved, values["new_supplier_mpid"], values["supplier_mpid"])
    values["dead"] = values["quality"] == "ZE"
    return values.sort_values("sent", kind="stable")


def _expected_from_if021(folder: Path, executed: str | None = None, date: str | None = None) -> pd.DataFrame:
    """IF-021 active values (see :func:`_placed_versions`), of one local ``date`` when given: of
    the versions of a half hour, the one sent last (by ``executed``, a run's execution time, when
    given) counts."""
    values = _placed_versions(folder)
    if date is not None:
        values = values[values["date"] == date]
    if executed is not None:
        values = values[values["sent"] <= pd.Timestamp(executed)]
    return values.drop_duplicates(["mpan", "mqid", "sp"], keep="last")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo (26 October 2025: 50 periods) made for DIP API 2.1.0, Elexon's YAML release."""
    out = tmp_path_factory.mktemp("settlement") / "demo"
    generate_dataset(dataclasses.replace(demo_scenario(), spec_version="2.1.0"), out, progress=False)
    return out


@pytest.fixture(scope="module")
def spring(tmp_path_factory) -> Path:
    """Few meters from before the last Sunday of March 2025 to after the last of October (46 and
    50 periods), for the newest release (2.2.1), with a change of supplier in summer time."""
    scenario = Scenario(
        name="spring", seed=11, start_date=dt.date(2025, 3, 28), end_date=dt.date(2025, 10, 27),
        meters=MeterMix(count=5, gsp_groups=["_H"], pv_share=0.5),
        data_quality=DataQuality(deenergised_share=0.5, deenergised_days=[2, 5]),
        events=[Event(date=dt.date(2025, 6, 2), share=0.5)],
        outputs=["if021", "parquet", "settlement"], runs=["SF", "R2"],
    )
    out = tmp_path_factory.mktemp("settlement") / "spring"
    generate_dataset(scenario, out, progress=False, chunk_size=3)
    return out


# --------------------------------------------------------------------------------- schemas


def _compiled(spec: Path, interface_id: str) -> tuple[Any, Any]:
    """Elexon's payload schema of ``interface_id`` and the report schema it names, compiled."""
    payload = official_schema(spec, interface_id)
    report = {"$schema": payload["$schema"], **payload["properties"]["CustomBlock"]["properties"]["schema"]}
    # a quick sanity check that the schema does forbid something: a block it does not know
    assert not jsonschema.Draft202012Validator(report).is_valid({"R999": {}})
    return tuple(fastjsonschema.compile({**s, "$schema": "http://json-schema.org/draft-07/schema#"}, use_formats=False)
                 for s in (payload, report))


@pytest.mark.parametrize("interface_id", ["REP-002", "REP-002B"])
def test_every_report_validates_against_elexons_yaml(demo, official_spec_dir, interface_id):
    check_payload, check_report = _compiled(official_spec_dir, interface_id)
    payloads = _messages(demo, interface_id)
    assert len(payloads) > 10
    for payload in payloads:
        assert payload["CommonBlock"]["S0"]["schemaVersion"] == "008"
        check_payload(payload)  # raises on the first violation
        check_report(decompress(payload["CustomBlock"]["P03"]["compressedReport"]))
    # each is also kept uncompressed, identical to what the message carries
    copies = sorted((demo / "reports" / interface_id).glob("*.json"))
    assert len(copies) == len(payloads)
    carried = sorted(json.dumps(decompress(p["CustomBlock"]["P03"]["compressedReport"]), sort_keys=True)
                     for p in payloads)
    assert carried == sorted(json.dumps(json.loads(c.read_bytes()), sort_keys=True) for c in copies)


def test_reports_of_a_221_data_set_validate_against_221(spring):
    if not OFFICIAL_221.is_file():
        missing_reference(f"DIP API 2.2.1 resolved specification not found at {OFFICIAL_221}")
    for interface_id in ("REP-002", "REP-002B"):
        check, report = _compiled(OFFICIAL_221, interface_id)
        for payload in _messages(spring, interface_id):
            # 008: valid under 2.2.1 (which also takes 009) and under 2.1.0 alike
            assert payload["CommonBlock"]["S0"]["schemaVersion"] == "008"
            check(payload)
            report(decompress(payload["CustomBlock"]["P03"]["compressedReport"]))


@pytest.mark.slow
def test_the_whole_data_set_validates(demo, official_spec_dir):
    report = validate_files([demo], spec_dir=official_spec_dir, business_rules=True)
    assert report.ok, report
    reps = [f for f in report.files if "REP-002" in f.path.name]
    assert reps and all(f.invalid == 0 for f in reps)


def test_a_broken_report_is_found(demo, official_spec_dir, tmp_path):
    payload = _messages(demo, "REP-002")[0]
    report = decompress(payload["CustomBlock"]["P03"]["compressedReport"])
    report["REP002-R027"][0]["REP002-R013"][0]["REP002-R010"][0]["REP002-R011"][0]["totalUncorrectedVolume"] = "1.5"
    payload["CustomBlock"]["P03"]["compressedReport"] = compress(report)
    (tmp_path / "bad.json").write_text(json.dumps([{"payload": payload}]))
    result = validate_files([tmp_path / "bad.json"], spec_dir=official_spec_dir)
    assert not result.ok and result.invalid == 1


# --------------------------------------------------------------------------------- reconciliation


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo", "spring"])
def test_rep002_reconciles_with_the_if021_messages(which, request):
    folder = request.getfixturevalue(which)
    payloads = _messages(folder, "REP-002")
    got = _rep002_rows(payloads)
    executed = {decompress(p["CustomBlock"]["P03"]["compressedReport"])["R002"]["runNumber"]:
                p["CommonBlock"]["S1"]["senderTimestamp"] for p in payloads}
    group = ["date", "supplier", "gsp_group", "tariff", "settlement_period"]

    def sums(values: pd.DataFrame) -> pd.DataFrame:
        return values.groupby(group).agg(volume_wh=("value_wh", "sum"), deenergised=("dead", "sum"),
                                         energised=("dead", lambda d: int((~d).sum())))

    final = sums(_expected_from_if021(folder))
    last_sent = _placed_versions(folder).groupby("date")["sent"].max()
    for number, run in got.groupby("run_number"):  # a run settles one day, with what was sent by then
        date = run["date"].iloc[0]
        if last_sent[date] <= pd.Timestamp(executed[number]):  # every version of the day was in
            want = final.xs(date, level="date", drop_level=False)
        else:
            want = sums(_expected_from_if021(folder, executed[number], date))
        mine = run.set_index(group)[["volume_wh", "deenergised", "energised"]].sort_index()
        assert set(mine.index) == set(want.index)
        pd.testing.assert_frame_equal(mine, want.loc[mine.index].astype(mine.dtypes.to_dict()))
    expected = _expected_from_if021(folder)
    expected = expected[expected["date"].isin(set(got["date"]))]
    # R0105: the day's volume split into periods flagged actual (A) and the rest
    actual = expected.assign(a=np.where(expected["quality"] == "A", expected["value_wh"], 0)).groupby(
        ["date", "supplier", "gsp_group", "tariff"])["a"].sum()
    per_day = got.groupby(["run_number", "date", "supplier", "gsp_group", "tariff"]).agg(
        actual=("actual_day_wh", "first"), estimated=("estimated_day_wh", "first"), volume=("volume_wh", "sum"))
    assert (per_day["actual"] + per_day["estimated"] == per_day["volume"]).all()
    assert (per_day["actual"].droplevel("run_number") == actual.loc[per_day.index.droplevel("run_number")]).all()
    assert (per_day["estimated"] > 0).any() and (per_day["actual"] > 0).any()


@pytest.mark.parametrize("which", ["demo", "spring"])
def test_rep002b_is_rep002_regrouped(which, request):
    folder = request.getfixturevalue(which)
    a = _rep002_rows(_messages(folder, "REP-002")).set_index(["run_number", *KEY[1:]]).sort_index()
    b = _rep002b_rows(_messages(folder, "REP-002B")).set_index(["run_number", *KEY[1:]]).sort_index()
    pd.testing.assert_frame_equal(a, b[a.columns])
    # one REP-002 per run x Supplier, one REP-002B per run x GSP group (with its distributor)
    assert len(_messages(folder, "REP-002")) == a.reset_index().groupby(["run_number", "supplier"]).ngroups
    assert len(_messages(folder, "REP-002B")) == b.reset_index().groupby(["run_number", "gsp_group"]).ngroups
    assert (b.reset_index().groupby("gsp_group")["distributor"].nunique() == 1).all()


def test_the_settlement_table_is_what_the_reports_say(demo):
    table = pd.read_parquet(demo / "tables" / "settlement.parquet")
    got = _rep002_rows(_messages(demo, "REP-002"))
    t = table.rename(columns={"supplier_mpid": "supplier", "duos_tariff_id": "tariff", "energised_mpans": "energised",
                              "deenergised_mpans": "deenergised"}).set_index(KEY).sort_index()
    r = got.set_index(KEY).sort_index()
    assert t.index.equals(r.index)
    for column in ("volume_wh", "energised", "deenergised"):
        assert (t[column].to_numpy() == r[column].to_numpy()).all()
    assert (t["actual_wh"] + t["estimated_wh"] == t["volume_wh"]).all()
    csv = pd.read_csv(demo / "tables" / "settlement.csv")
    assert len(csv) == len(table) and (csv["volume_wh"].to_numpy() == table["volume_wh"].to_numpy()).all()


def test_energisation_counts_follow_the_meters_table(spring):
    meters = pd.read_parquet(spring / "tables" / "meters.parquet")
    spells = meters.dropna(subset=["deenergised_from"])
    assert len(spells) > 0
    values = _expected_from_if021(spring)
    inside = values["deenergised_from"].notna() & (values["sp"] > values["deenergised_from"]) & (
        values["sp"] <= values["deenergised_until"])
    assert (inside == values["dead"]).all()
    got = _rep002_rows(_messages(spring, "REP-002"))
    assert got["deenergised"].sum() > 0 and got["energised"].sum() > 0
    assert (got["energised"] + got["deenergised"] > 0).all()  # a reported group has MPANs


@pytest.mark.slow
def test_a_change_of_supplier_moves_volume_on_its_settlement_day(demo):
    meters = pd.read_parquet(demo / "tables" / "meters.parquet")
    movers = meters.dropna(subset=["change_of_supplier_date"])
    assert len(movers) > 0
    day = pd.Timestamp(movers["change_of_supplier_date"].iloc[0])
    new = movers["new_supplier_mpid"].iloc[0]
    got = _rep002_rows(_messages(demo, "REP-002"))
    before, on = (day - pd.Timedelta(days=1)).strftime("%Y-%m-%d"), day.strftime("%Y-%m-%d")
    assert not ((got["supplier"] == new) & (got["date"] <= before)).any()
    values = _expected_from_if021(demo)
    moved = values[values["mpan"].isin(movers["mpan"])]
    for date, supplier in ((before, movers["supplier_mpid"].iloc[0]), (on, new)):
        theirs = moved[moved["date"] == date]["value_wh"].sum()
        assert theirs > 0
        sf = got[(got["date"] == date) & (got["code"] == "SF")]
        # the movers' volume is inside the reports of the Supplier of that day, and only there
        others = values[(values["date"] == date) & ~values["mpan"].isin(movers["mpan"])]
        assert sf[sf["supplier"] == supplier]["volume_wh"].sum() == theirs + others[
            others["supplier"] == supplier]["value_wh"].sum()


def test_46_and_50_period_days_are_reported(demo, spring):
    periods = pd.concat([_rep002_rows(_messages(f, "REP-002")) for f in (demo, spring)]).groupby("date")[
        "settlement_period"].max()
    assert periods["2025-03-30"] == 46
    assert periods["2025-10-26"] == 50
    assert set(periods.drop(["2025-03-30", "2025-10-26"])) == {48}


def test_runs_without_revisions_report_the_same_volumes(spring):
    got = _rep002_rows(_messages(spring, "REP-002"))
    assert set(got["code"]) == {"SF", "R2"}
    by_code = {code: run.set_index(["date", *KEY[1:]])["volume_wh"].sort_index() for code, run in got.groupby("code")}
    pd.testing.assert_series_equal(by_code["SF"], by_code["R2"])
    assert got["run_number"].nunique() == got.groupby(["date", "code"]).ngroups


def test_a_run_sees_the_values_known_at_its_cut_off():
    scenario = dataclasses.replace(demo_scenario(), meters=MeterMix(count=12), runs=["SF", "R1"])
    frame = DatasetFrame(scenario)
    chunk = generate_chunk(frame, 0, 0, 12, with_reads=False)
    cutoffs = run_cutoffs(frame)
    first_r1 = cutoffs[1].min()

    def revised_after_sf(chunk, frame, cutoff):
        # a re-sent version doubling every value, sent after every SF and before every R1 run
        later = cutoff >= first_r1
        return np.where(later[None, :], chunk.values * 2, chunk.values), chunk.quality

    plain = settlement_columns(SettlementSums.of_chunk(chunk, frame), frame).columns
    revised = settlement_columns(SettlementSums.of_chunk(chunk, frame, revised_after_sf), frame).columns
    sf, r1 = revised["settlement_code"] == "SF", revised["settlement_code"] == "R1"
    assert (revised["volume_wh"][sf] == plain["volume_wh"][sf]).all()
    assert (revised["volume_wh"][r1] == 2 * plain["volume_wh"][r1]).all()
    assert revised["volume_wh"][r1].sum() > 0


def test_a_revision_sent_after_a_cut_off_is_not_seen_by_that_run():
    scenario = dataclasses.replace(demo_scenario(), meters=MeterMix(count=60),
                                   data_quality=DataQuality(comms_fault_share=0.5))
    frame = DatasetFrame(scenario)
    chunk = generate_chunk(frame, 0, 0, 60, with_reads=False)
    rev = chunk.revisions
    assert rev is not None and rev.rows.size > 0
    t = frame.period_ends.size
    early = np.full(t, np.datetime64(scenario.start_date, "s"))  # before any revision left
    late = np.full(t, np.datetime64("2099-01-01T00:00:00"))
    values, quality = values_as_sent(chunk, frame, early)
    span = slice(int(rev.first_day[0]) * 48, int(rev.first_day[0] + rev.n_days[0]) * 48)
    assert np.array_equal(values[rev.rows[0], span], rev.values[0, span])
    assert np.array_equal(quality[rev.rows[0], span], rev.quality[0, span])
    assert not np.array_equal(values[rev.rows[0], span], chunk.values[rev.rows[0], span]) or not np.array_equal(
        quality[rev.rows[0], span], chunk.quality[rev.rows[0], span])
    values, quality = values_as_sent(chunk, frame, late)
    assert np.array_equal(values, chunk.values) and np.array_equal(quality, chunk.quality)


def test_sums_do_not_depend_on_how_meters_are_chunked():
    scenario = dataclasses.replace(demo_scenario(), meters=MeterMix(count=9))
    frame = DatasetFrame(scenario)
    n_slots = LocalSlots.of(frame).n_slots
    whole, parts = SettlementTotals(n_slots, 2), SettlementTotals(n_slots, 2)
    whole.add(SettlementSums.of_chunk(generate_chunk(frame, 0, 0, 9, with_reads=False), frame))
    parts.add(SettlementSums.of_chunk(generate_chunk(frame, 1, 4, 9, with_reads=False), frame))
    parts.add(SettlementSums.of_chunk(generate_chunk(frame, 0, 0, 4, with_reads=False), frame))
    assert sorted(whole.groups) == sorted(parts.groups)
    for g, rows in whole.groups.items():
        assert np.array_equal(rows, parts.groups[g]) and np.array_equal(whole.seen[g], parts.seen[g]), g
    days = np.arange(LocalSlots.of(frame).days.size)
    a, b = settlement_columns(whole.of_days(days), frame), settlement_columns(parts.of_days(days), frame)
    for name, column in a.columns.items():
        assert np.array_equal(column, b.columns[name]), name


# --------------------------------------------------------------------------------- revisions between runs

CELL = ["date", "supplier", "gsp_group", "tariff", "settlement_period"]


@pytest.fixture(scope="module")
def revised(tmp_path_factory) -> Path:
    """Five winter weeks of 48 meters in two GSP groups, most smart meters with a 20-30 day comms
    fault, every fault recovered: the actuals of a fault's early days leave after those days' SF
    run (16 working days on) and before their R1 run (39), those of its last days before SF."""
    scenario = Scenario(
        name="revised", seed=7, start_date=dt.date(2025, 1, 6), end_date=dt.date(2025, 2, 9),
        meters=MeterMix(count=48, gsp_groups=["_A", "_H"]),
        data_quality=DataQuality(comms_fault_share=0.6, comms_fault_days=[20, 30]),
        sending=Sending(revision_share=1.0),
        events=[Event(date=dt.date(2025, 1, 20), share=0.2)],
        outputs=["if021", "parquet", "settlement"], runs=["SF", "R1"],
    )
    out = tmp_path_factory.mktemp("settlement") / "revised"
    generate_dataset(scenario, out, progress=False, chunk_size=16)
    return out


def _run_times(folder: Path, interface_id: str) -> pd.DataFrame:
    """Execution time [UTC] of each run (the reports' ``senderTimestamp``), by date and code."""
    runs = {}
    for payload in _messages(folder, interface_id):
        r002 = decompress(payload["CustomBlock"]["P03"]["compressedReport"])["R002"]
        when = pd.Timestamp(payload["CommonBlock"]["S1"]["senderTimestamp"])
        assert runs.setdefault((r002["settlementDate"], r002["settlementCode"]), when) == when
    return pd.Series(runs).unstack()


def _known_by(versions: pd.DataFrame, cutoff: pd.Series) -> pd.DataFrame:
    """Of each half hour's versions, the last one sent by ``cutoff`` (one instant [UTC] per version row)."""
    return versions[versions["sent"] <= cutoff].drop_duplicates(["mpan", "mqid", "sp"], keep="last")


def _cells_as_known(folder: Path, executed: pd.Series) -> pd.DataFrame:
    """IF-021 volume [Wh] and its actual part per report cell, as known by each date's ``executed``."""
    versions = _placed_versions(folder)
    versions = versions[versions["date"].isin(executed.index)]
    known = _known_by(versions, versions["date"].map(executed))
    actual = known["quality"].str.fullmatch(r"A\d?")  # A, and the ADS A1-A3: not estimated, not zero
    return known.assign(actual_wh=np.where(actual, known["value_wh"], 0)).groupby(CELL)[
        ["value_wh", "actual_wh"]].sum()


def _moved(reported: pd.DataFrame, folder: Path, times: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """R1 - SF volume [Wh] per cell, as reported and as the IF-021 versions sent by each run imply."""
    by_code = {code: run.set_index(CELL).sort_index() for code, run in reported.groupby("code")}
    sf, r1 = by_code["SF"], by_code["R1"]
    assert sf.index.equals(r1.index) and sf.index.is_unique  # both runs report the same cells, once
    # a revision changes values, never who is counted
    assert (sf[["energised", "deenergised"]] == r1[["energised", "deenergised"]]).all().all()
    want_sf, want_r1 = (_cells_as_known(folder, times[code]) for code in ("SF", "R1"))
    assert set(want_sf.index) <= set(sf.index) and set(want_r1.index) <= set(sf.index)
    want = want_r1["value_wh"].reindex(sf.index, fill_value=0) - want_sf["value_wh"].reindex(sf.index, fill_value=0)
    return r1["volume_wh"] - sf["volume_wh"], want


@pytest.mark.slow
def test_a_data_set_with_revisions_shows_exactly_the_revised_wh_moving_between_runs(revised):
    times = _run_times(revised, "REP-002")
    assert list(times.columns) == ["R1", "SF"] and (times["SF"] < times["R1"]).all()
    got, want = _moved(_rep002_rows(_messages(revised, "REP-002")), revised, times)
    moved = want != 0
    # revisions did land between some days' SF and R1 cut-offs, and the reports follow them to the Wh
    assert moved.sum() > 0 and want[moved].abs().sum() > 0
    pd.testing.assert_series_equal(got[moved], want[moved], check_names=False)
    assert (got[~moved] == 0).all(), got[~moved][got[~moved] != 0].head()
    # ...and only where a version was sent between the two cut-offs of its day
    versions = _placed_versions(revised)
    between = versions["sent"].gt(versions["date"].map(times["SF"])) & versions["sent"].le(
        versions["date"].map(times["R1"]))
    assert set(moved[moved].index) <= set(versions[between].set_index(CELL).index)


@pytest.mark.slow
def test_revised_half_hours_move_from_estimated_to_actual_between_runs(revised):
    times = _run_times(revised, "REP-002")
    got = _rep002_rows(_messages(revised, "REP-002"))
    day = ["date", "supplier", "gsp_group", "tariff"]
    r0105 = got.groupby(["code", *day])[["actual_day_wh", "estimated_day_wh"]].first()
    for code in ("SF", "R1"):
        want = _cells_as_known(revised, times[code]).groupby(day).sum()
        mine = r0105.loc[code]
        assert (mine["actual_day_wh"] == want["actual_wh"].reindex(mine.index, fill_value=0)).all(), code
        assert (mine["estimated_day_wh"] == (want["value_wh"] - want["actual_wh"]).reindex(
            mine.index, fill_value=0)).all(), code
    # the comms fault's estimates (E4) of SF became actuals by R1
    gained = r0105.loc["R1", "actual_day_wh"] - r0105.loc["SF", "actual_day_wh"]
    assert (gained >= 0).all() and (gained > 0).any()


def test_rep002b_shows_the_same_moves(revised):
    times = _run_times(revised, "REP-002B")
    pd.testing.assert_frame_equal(times, _run_times(revised, "REP-002"))
    got, want = _moved(_rep002b_rows(_messages(revised, "REP-002B")), revised, times)
    assert (want != 0).any()
    pd.testing.assert_series_equal(got, want, check_names=False)


# --------------------------------------------------------------------------------- calendar, codes


@pytest.mark.parametrize("day", [dt.date(2025, 10, 26), dt.date(2025, 12, 10), dt.date(2026, 3, 20)])
@pytest.mark.parametrize("code", list(RUN_WORKING_DAYS))
def test_runs_execute_the_stated_working_days_later(day, code):
    when = execution_date(day, code)
    bank = [d for d, _ in holidays.UK(subdiv="ENG", years=range(day.year, day.year + 3)).items()]
    assert np.is_busday(when, holidays=bank)
    assert np.busday_count(day + dt.timedelta(days=1), when + dt.timedelta(days=1), holidays=bank) == RUN_WORKING_DAYS[
        code]


def test_run_numbers_are_unique_and_follow_execution():
    runs = timetable([dt.date(2025, 10, 20) + dt.timedelta(days=k) for k in range(40)], ["R1", "SF"])
    assert [r.number for r in runs] == list(range(1, len(runs) + 1))
    assert [r.executed for r in runs] == sorted(r.executed for r in runs)


def test_volumes_are_exact_kwh_with_six_decimals():
    wh = np.array([0, 1, 999, 1000, 123456789, -2500])
    assert kwh_text(wh) == ["0.000000", "0.001000", "0.999000", "1.000000", "123456.789000", "-2.500000"]
    assert [_wh(t) for t in kwh_text(wh)] == wh.tolist()


@pytest.mark.parametrize(("change", "message"), [
    ({"runs": []}, "runs: names no settlement run"),
    ({"runs": ["SF", "XX"]}, "runs.1: 'XX' is not a settlement code"),
    ({"runs": ["SF", "SF"]}, "runs.1: SF is named twice"),
    ({"participants": {"supplier_mpid": "ab12"}}, "participants.supplier_mpid: MPID 'ab12'"),
    ({"participants": {"new_supplier_mpid": "SUPA"}}, "participants.new_supplier_mpid: must differ"),
])
def test_scenario_settlement_keys_are_checked(change, message):
    with pytest.raises(ScenarioError, match=message.replace(".", r"\.").replace("(", r"\(")):
        Scenario.from_dict(change)


def test_aggregates_is_accepted_as_the_older_name_of_settlement():
    scenario = Scenario.from_dict({"outputs": ["if021", "aggregates"]})
    assert scenario.wants("settlement") and not Scenario.from_dict({"outputs": ["if021"]}).wants("settlement")


def test_days_sent_after_their_first_run_are_refused_with_the_reason(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mhhs_workbench.cli import main
    from mhhs_workbench.time.calendar import execution_date

    # 22 days per message: the first day of a message waits 22 days, SF comes 16 working days on
    text = ("start_date: 2025-10-20\nend_date: 2025-12-31\nmeters:\n  count: 2\n"
            "messages:\n  days_per_message: 22\n")
    (tmp_path / "late.yaml").write_text(text, encoding="utf-8")
    done = CliRunner().invoke(main, ["generate", str(tmp_path / "late.yaml"), "--out", str(tmp_path / "out")])
    assert done.exit_code == 2
    run = execution_date(dt.date(2025, 10, 20), "SF")
    assert "late.yaml:6" in done.output and "messages.days_per_message" in done.output
    assert f"after its SF run at {run} 06:00 UTC" in done.output
    assert not (tmp_path / "out").exists()
    # the same without settlement reports, or with fewer days per message, is fine
    Scenario.from_dict({"start_date": "2025-10-20", "end_date": "2025-12-31",
                        "messages": {"days_per_message": 22}, "outputs": ["if021", "if041"]})
    Scenario.from_dict({"start_date": "2025-10-20", "end_date": "2025-12-31", "messages": {"days_per_message": 21}})
    # only the delays of the data services the fleet uses count: homes alone ignore the unmetered one
    slow = {"unmetered_data_service": {"delay_hours": 240.0}}
    homes = {"archetypes": {"domestic_unrestricted": 1.0}}
    Scenario.from_dict({"start_date": "2025-10-20", "end_date": "2025-12-31", "sending": slow, "meters": homes,
                        "messages": {"days_per_message": 14}})
    with pytest.raises(ScenarioError, match="with 14 days per message"):
        Scenario.from_dict({"start_date": "2025-10-20", "end_date": "2025-12-31", "sending": slow,
                            "messages": {"days_per_message": 14}})
    # only the later runs: R1 waits 39 working days, so 22 days per message are sent in time
    Scenario.from_dict({"start_date": "2025-10-20", "end_date": "2025-12-31", "runs": ["R1"],
                        "messages": {"days_per_message": 22}})

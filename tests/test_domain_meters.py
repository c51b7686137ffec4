"""Metering points and meter installs: one energy direction per MPAN, export MPANs linked to their
import MPAN, routine opening reads, and meters installed inside the date range."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
from click.testing import CliRunner

from mhhs_workbench.cli import main
from mhhs_workbench.codes.identifiers import gsp_group_of_mpan, is_valid_mpan
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.messages.chunk_messages import if021_items, references, row_mpans
from mhhs_workbench.messages.common import request_item
from mhhs_workbench.messages.if021 import iter_if021_payloads
from mhhs_workbench.messages.if021_bytes import IF021ByteWriter
from mhhs_workbench.model.chunk import MQIDS, DatasetFrame
from mhhs_workbench.model.population import first_reported_days
from mhhs_workbench.model.quality import REPORTED_QUALITY_CODES
from mhhs_workbench.model.readings import day_index
from mhhs_workbench.notebook.message_frames import if021_frame, if041_frame
from mhhs_workbench.pipeline.chunks import generate_chunk
from mhhs_workbench.scenario import DataQuality, Event, Messages, MeterMix, Scenario, demo_scenario
from mhhs_workbench.sending.addressing import ROLES, Addressing
from mhhs_workbench.validation.files import validate_files

EXPORT_MQIDS = {"AE", "RE"}


def year_scenario(**changes) -> Scenario:
    """A year of a small fleet with many exporting sites and installs inside the range."""
    base = dict(
        name="year",
        seed=11,
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 12, 31),
        meters=MeterMix(count=24, pv_share=0.6, install_share=0.25, ev_share=0.2,
                        archetypes={"domestic_unrestricted": 0.5, "domestic_economy7": 0.3,
                                    "maximum_demand_pc6": 0.1, "unmetered_street_lighting": 0.1}),
        data_quality=DataQuality(comms_fault_share=0.2, deenergised_share=0.2),
        messages=Messages(days_per_message=31, messages_per_file=500),
        events=[Event(date=dt.date(2025, 7, 1), share=0.3)],
        outputs=["if021", "if041", "parquet"],
    )
    base.update(changes)
    return Scenario(**base)


@pytest.fixture(scope="module")
def demo_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "data"
    generate_dataset(demo_scenario(), out, progress=False)
    return out


@pytest.fixture(scope="module")
def year_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("year") / "data"
    generate_dataset(year_scenario(), out, progress=False, chunk_size=7)
    return out


@pytest.fixture(scope="module")
def loaded() -> dict[Path, dict]:
    """Cache of each data set's tables and messages, read once per module (see :func:`_load`)."""
    return {}


def _load(folder: Path, cache: dict) -> dict:
    """Meters table, IF-021 values, IF-041 reads, consumption table and first day of a data set."""
    if folder not in cache:
        cache[folder] = {
            "meters": pd.read_parquet(folder / "tables" / "meters.parquet"),
            "values": if021_frame([folder / "messages"]),
            "reads": if041_frame([folder / "messages"]),
            "consumption": pd.read_parquet(folder / "tables" / "consumption.parquet"),
            "start": orjson.loads((folder / "manifest.json").read_bytes())["scenario"]["start_date"],
        }
    return cache[folder]


DATA_SETS = ["demo_set", "year_set"]


@pytest.mark.slow
@pytest.mark.parametrize("which", DATA_SETS)
def test_no_mpan_carries_both_import_and_export(which, request, loaded):
    d = _load(request.getfixturevalue(which), loaded)
    direction = d["meters"].set_index("mpan")["energy_direction"]
    for frame in (d["values"], d["consumption"]):
        sent = frame.groupby("mpan")["mqid"].agg(set)
        assert not any({"AI", "AE"} <= q for q in sent), sent[sent.map(lambda q: {"AI", "AE"} <= q)]
        # an export MPAN sends only export quantities; an import MPAN never active export
        assert all(q <= EXPORT_MQIDS for q in sent[direction[sent.index].to_numpy() == "E"])
        assert not any("AE" in q for q in sent[direction[sent.index].to_numpy() == "I"])
        # reactive export goes on the export MPAN of a site that has one
        exporting = set(d["meters"].loc[d["meters"]["energy_direction"] == "E", "linked_mpan"])
        assert not any("RE" in sent.get(m, set()) for m in exporting)
    assert set(d["values"]["mqid"]) >= {"AI", "AE"}


@pytest.mark.slow
@pytest.mark.parametrize("which", DATA_SETS)
def test_export_mpans_are_valid_unique_in_their_sites_gsp_group_and_linked_both_ways(which, request, loaded):
    meters = _load(request.getfixturevalue(which), loaded)["meters"]
    assert meters["mpan"].is_unique
    export = meters[meters["energy_direction"] == "E"]
    assert len(export) > 0
    assert all(is_valid_mpan(m) for m in meters["mpan"])
    by_mpan = meters.set_index("mpan")
    importing = by_mpan.loc[export["linked_mpan"]]
    assert (importing["energy_direction"] == "I").all()
    assert (importing["linked_mpan"].to_numpy() == export["mpan"].to_numpy()).all()  # and back again
    assert (importing["gsp_group"].to_numpy() == export["gsp_group"].to_numpy()).all()
    assert (importing["meter_index"].to_numpy() == export["meter_index"].to_numpy()).all()
    assert [gsp_group_of_mpan(m) for m in export["mpan"]] == export["gsp_group"].tolist()
    assert (export["distributor_dip_id"].str[-2:] == export["mpan"].str[:2]).all()
    # every site with PV, and only those, has an export metering point
    sites = meters[meters["energy_direction"] == "I"]
    assert set(sites.loc[sites["pv_kwp"] > 0, "mpan"]) == set(export["linked_mpan"])
    assert sites.loc[sites["pv_kwp"] == 0, "linked_mpan"].isna().all()


@pytest.mark.parametrize("which", DATA_SETS)
def test_meters_installed_before_the_range_open_with_a_routine_read(which, request, loaded):
    d = _load(request.getfixturevalue(which), loaded)
    start = pd.Timestamp(d["start"], tz="UTC")
    meters = d["meters"][d["meters"]["energy_direction"] == "I"]
    before = meters[pd.to_datetime(meters["install_date"]).dt.tz_localize("UTC") < start]
    reads = d["reads"][d["reads"]["mpan"].isin(before["mpan"])]
    assert len(reads) > 0
    assert "[ReadingInstl]" not in set(reads["event_code"])
    opening = reads.sort_values("read_datetime").groupby("mpan").head(1)
    assert (opening["event_code"] == "[ReadingRemote]").all()
    assert (pd.to_datetime(opening["read_datetime"]) == start).all()
    assert opening["site_visit_check_code"].isna().all()


@pytest.mark.parametrize("which", DATA_SETS)
def test_meters_installed_in_the_range_start_with_one_installation_read_and_no_earlier_values(
    which, request, loaded
):
    d = _load(request.getfixturevalue(which), loaded)
    start = pd.Timestamp(d["start"], tz="UTC")
    meters = d["meters"].assign(install=pd.to_datetime(d["meters"]["install_date"]).dt.tz_localize("UTC"))
    inside = meters[meters["install"] > start]
    assert inside["meter_index"].nunique() >= 1
    installs = d["reads"][d["reads"]["event_code"] == "[ReadingInstl]"]
    # an exporting site's export register is installed with its meter: both MPANs read then
    assert set(installs["mpan"]) == set(inside["mpan"])
    assert (inside["energy_direction"] == "E").any()
    for row in inside.itertuples():
        # the connection took effect at the install (rule ECS1013: not after the first sp)
        assert row.connection_effective_from == row.install.strftime("%Y-%m-%dT00:00:00+00:00")
        mine = installs[(installs["mpan"] == row.mpan) & (installs["register_id"] == "C")]
        assert len(mine) == 1
        assert pd.Timestamp(mine["read_datetime"].iloc[0]) == row.install
        assert mine["site_visit_check_code"].iloc[0] == "01"
        assert mine["reading_wh"].iloc[0] == 0  # a new register starts at zero
        reads = d["reads"][d["reads"]["mpan"] == row.mpan]
        assert (pd.to_datetime(reads["read_datetime"]) >= row.install).all()
        for frame, column in ((d["values"], "sp"), (d["consumption"], "utc_period_end")):
            sent = frame.loc[frame["mpan"] == row.mpan, column]
            assert len(sent) > 0 and sent.min() == row.install + pd.Timedelta(minutes=30)


@pytest.mark.slow
@pytest.mark.parametrize("which", DATA_SETS)
def test_data_set_validates_with_no_findings(which, request, official_spec_dir):
    folder = request.getfixturevalue(which)
    for report in (validate_files([folder], business_rules=True),
                   validate_files([folder], spec_dir=official_spec_dir, business_rules=True)):
        assert report.ok and report.messages > 100, report


@pytest.mark.parametrize("which", DATA_SETS)
def test_register_reads_reconcile_to_the_wh_with_their_own_mpans_values(which, request, loaded):
    """An import MPAN's registers advance by its import (AI), an export MPAN's by its export (AE)."""
    d = _load(request.getfixturevalue(which), loaded)
    by_mpan = d["meters"].set_index("mpan")
    digits = by_mpan["register_digits"]
    # a day sent again replaces what was sent before: keep each period's latest value
    values = d["values"].sort_values("reference").drop_duplicates(["mpan", "mqid", "sp"], keep="last")
    reads = d["reads"].drop_duplicates(["mpan", "register_id", "read_datetime"])
    checked = {"I": 0, "E": 0}
    for mpan, meter_reads in reads.groupby("mpan"):
        direction = by_mpan.loc[mpan, "energy_direction"]
        mqid = {"I": "AI", "E": "AE"}[direction]
        series = values[(values["mpan"] == mpan) & (values["mqid"] == mqid)].set_index("sp")["value_wh"].sort_index()
        assert len(series) > 0, mpan  # reads go only on MPANs whose energy they count
        capacity = 10 ** (int(digits[mpan]) + 3)
        cumulative = np.concatenate([[0], np.cumsum(series.to_numpy())])
        advances = {}
        for register, group in meter_reads.groupby("register_id"):
            group = group.sort_values("read_datetime")
            advances[register] = np.diff(group["reading_wh"].to_numpy()) % capacity
            at = np.searchsorted(series.index, pd.to_datetime(group["read_datetime"]), side="right")
            if register == "C":
                assert (advances["C"] == np.diff(cumulative[at])).all(), mpan
                checked[direction] += at.size - 1
        if {"01", "02"} <= set(advances):  # day and night registers share out the same import
            assert ((advances["01"] + advances["02"]) % capacity == advances["C"]).all(), mpan
    assert checked["I"] > 100 and checked["E"] > 20


@pytest.mark.parametrize("which", DATA_SETS)
def test_export_mpans_have_an_export_register_read_with_their_import_meter(which, request, loaded):
    d = _load(request.getfixturevalue(which), loaded)
    meters = d["meters"]
    reads = d["reads"]
    export = meters[meters["energy_direction"] == "E"]
    assert set(reads["mpan"]) >= set(export["mpan"])  # every export MPAN has its register read
    for row in export.itertuples():
        mine = reads[reads["mpan"] == row.mpan]
        assert set(mine["register_id"]) == {"C"}  # one cumulative export register, no time of use
        assert (mine["meter_id"] == row.meter_id).all()
        # the same read instants and kinds as the site's import meter, in messages of its own
        site = reads[(reads["mpan"] == row.linked_mpan) & (reads["register_id"] == "C")]
        key = ["read_datetime", "event_code", "reading_method", "site_visit_check_code"]
        pd.testing.assert_frame_equal(mine[key].sort_values(key[:2]).reset_index(drop=True),
                                      site[key].sort_values(key[:2]).reset_index(drop=True))
        assert not set(mine["reference"]) & set(site["reference"])


@pytest.mark.parametrize("which", DATA_SETS)
def test_no_mpan_has_reads_of_both_directions(which, request, loaded):
    d = _load(request.getfixturevalue(which), loaded)
    direction = d["meters"].set_index("mpan")["energy_direction"]
    sent = d["values"].groupby("mpan")["mqid"].agg(set)
    for mpan, registers in d["reads"].groupby("mpan")["register_id"].agg(set).items():
        active = sent.get(mpan, set()) & {"AI", "AE"}
        # each MPAN's reads count one direction: the one its values are sent in
        assert active == {"AE" if direction[mpan] == "E" else "AI"}, mpan
        if direction[mpan] == "E":
            assert registers == {"C"}, mpan
    assert (direction[d["reads"]["mpan"].unique()] == "E").any()


def test_output_is_the_same_whatever_the_chunk_size(tmp_path):
    scenario = year_scenario(end_date=dt.date(2025, 1, 10), events=[Event(date=dt.date(2025, 1, 6), share=0.3)],
                             meters=MeterMix(count=30, pv_share=0.5, install_share=0.4))
    generate_dataset(scenario, tmp_path / "a", progress=False, chunk_size=500)
    generate_dataset(scenario, tmp_path / "b", progress=False, chunk_size=4)
    manifests = [orjson.loads((tmp_path / x / "manifest.json").read_bytes()) for x in "ab"]
    hashes = [{f["path"]: f["sha256"] for f in m["files"]} for m in manifests]
    assert hashes[0] == hashes[1] and len(hashes[0]) > 3


def test_byte_writer_matches_the_builder_on_export_mpans_and_install_days():
    """The fast IF-021 writer gives the dict builder's bytes for rows on an export MPAN and for
    meters whose messages start on their install day, across a change of supplier."""
    scenario = year_scenario(end_date=dt.date(2025, 1, 9), events=[Event(date=dt.date(2025, 1, 6), share=0.5)],
                             meters=MeterMix(count=40, pv_share=0.6, install_share=0.5),
                             messages=Messages(days_per_message=3))
    frame = DatasetFrame(scenario)
    chunk = generate_chunk(frame, 0, 0, scenario.meters.count, with_reads=False)
    firsts = first_reported_days(chunk.meters, frame.days)
    mpans = row_mpans(chunk).astype("U13")
    assert (firsts > 0).sum() >= 5 and (mpans != chunk.meters["mpan"].to_numpy()[chunk.row_meter]).any()
    addressing = Addressing.from_scenario(scenario)
    writer = IF021ByteWriter(frame.days, 3, REPORTED_QUALITY_CODES)
    fast = [b"".join(bytes(part) for part in item)
            for block in if021_items(chunk, frame, addressing, writer,
                                     references(addressing, "IF-021", np.zeros(len(ROLES))))
            for item in block]
    refs = {role: addressing.references(role, "IF-021", 1) for role in ROLES}
    meters = list(chunk.meters.itertuples(index=False))
    slow = []
    for r, m in enumerate(chunk.row_meter):
        meter = meters[m]._replace(mpan=str(mpans[r]))
        cos = day_index(meter.change_of_supplier_date, frame.days)
        for first, last, supplier in addressing.supplier_segments(cos, frame.n_days):
            first = max(first, int(firsts[m]))
            if first < last:
                part = slice(first * 48, last * 48)
                slow += [request_item(p) for p in iter_if021_payloads(
                    [meter], frame.days[first:last], MQIDS[chunk.row_mqid[r]], chunk.values[r : r + 1, part],
                    addressing.senders[(meter.data_service_role, "IF-021")], refs[meter.data_service_role],
                    quality=chunk.quality[r : r + 1, part], quality_codes=REPORTED_QUALITY_CODES,
                    reasons=chunk.reasons[r : r + 1, part], days_per_message=3,
                    recipients=(supplier, meter.distributor_dip_id))]
    assert len(fast) == len(slow) > 100
    assert fast == slow


@pytest.mark.parametrize(("value", "expected"), [
    ("1.5", "meters.install_share: must be between 0 and 1, got 1.5"),
    ("-0.1", "meters.install_share: must be between 0 and 1, got -0.1"),
    ("lots", "meters.install_share"),
])
def test_install_share_is_checked_with_file_and_line(tmp_path, value, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: x\nmeters:\n  count: 5\n  install_share: {value}\n")
    result = CliRunner().invoke(main, ["generate", str(path), "--out", str(tmp_path / "never")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}:4:"), result.output
    assert expected in lines[0]


def test_supplied_mpans_are_kept_as_given_with_routine_opening_reads(tmp_path):
    source = Path(__file__).resolve().parents[1] / "examples" / "consumption_long.csv"
    given = pd.read_csv(source, dtype={"mpan": str})
    out = tmp_path / "supplied"
    result = CliRunner().invoke(main, ["from-csv", str(source), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    meters = pd.read_parquet(out / "tables" / "meters.parquet")
    assert sorted(meters["mpan"]) == sorted(given["mpan"].unique())  # no MPAN invented or changed
    assert meters["linked_mpan"].isna().all()
    sent = if021_frame([out / "messages"]).groupby("mpan")["mqid"].agg(set).to_dict()
    assert sent == given.groupby("mpan")["mqid"].agg(set).to_dict()  # each channel on its own MPAN
    reads = if041_frame([out / "messages"])
    assert len(reads) > 0 and set(reads["event_code"]) == {"[ReadingRemote]"}
    assert validate_files([out], business_rules=True).ok


def test_demo_file_documents_the_install_share():
    text = (Path(__file__).resolve().parents[1] / "examples" / "demo.yaml").read_text()
    assert "install_share:" in text
    assert 0 < demo_scenario().meters.install_share < 0.1

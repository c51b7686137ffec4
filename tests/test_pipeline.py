"""The chunk pipeline: byte-level writers, keyed population, planning, and independent chunks.

Each property here is what makes a data set the same bytes whoever writes it: the byte-level
IF-021 writer against the dict builder, meters drawn alone from keyed streams, message counts
planned before generation, chunks written in any order or twice, and a real Dask cluster.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mhhs_workbench.codes.identifiers import is_valid_mpan, mpan_check_digit
from mhhs_workbench.codes.messages import QUALITY_CODES
from mhhs_workbench.dataset import convert_csv, generate_dataset
from mhhs_workbench.messages.chunk_messages import if021_items, references, row_mpans
from mhhs_workbench.messages.common import request_item
from mhhs_workbench.messages.files import MessageFiles
from mhhs_workbench.messages.if021 import iter_if021_payloads
from mhhs_workbench.messages.if021_bytes import IF021ByteWriter
from mhhs_workbench.model.chunk import MQIDS, DatasetFrame
from mhhs_workbench.model.identities import indexed_meter_serials, indexed_mpans, keyed_permutation
from mhhs_workbench.model.population import build_population, first_reported_days
from mhhs_workbench.model.quality import NO_SPELL, REPORTED_QUALITY_CODES, plan_meters
from mhhs_workbench.model.readings import day_index, read_counts, read_instants
from mhhs_workbench.model.supplied import SuppliedConsumption
from mhhs_workbench.notebook.message_frames import if021_frame, if041_frame
from mhhs_workbench.pipeline.chunks import generate_chunk
from mhhs_workbench.pipeline.run import RunPlan, assemble, write_chunk
from mhhs_workbench.scenario import DataQuality, Scenario
from mhhs_workbench.sending.addressing import ROLES, Addressing
from mhhs_workbench.sending.counts import message_counts
from mhhs_workbench.validation.files import validate_files

EVERY_ARCHETYPE = {
    "domestic_unrestricted": 0.3,
    "domestic_economy7": 0.15,
    "non_domestic_unrestricted": 0.1,
    "non_domestic_economy7": 0.05,
    "maximum_demand_pc5": 0.1,
    "maximum_demand_pc6": 0.1,
    "maximum_demand_pc7": 0.05,
    "maximum_demand_pc8": 0.05,
    "unmetered_street_lighting": 0.1,
}


def busy_scenario(start: str, end: str, count: int = 60, **changes) -> Scenario:
    """Every archetype and overlay, frequent imperfections, short messages; a change of supplier on ``cos``."""
    cos = changes.pop("cos", None)
    base = Scenario.from_dict({
        "name": "busy",
        "seed": 4242,
        "start_date": start,
        "end_date": end,
        "meters": {"count": count, "archetypes": EVERY_ARCHETYPE, "pv_share": 0.5, "ev_share": 0.3,
                   "heat_pump_share": 0.2},
        "data_quality": {"missing_share": 0.05, "comms_fault_share": 0.2, "deenergised_share": 0.15,
                         "comms_fault_days": [1, 2], "deenergised_days": [1, 2]},
        "messages": {"days_per_message": 2, "messages_per_file": 7},
        "events": [{"type": "change_of_supplier", "date": cos, "share": 0.2}] if cos else [],
    })
    return base if not changes else Scenario.from_dict({**base.to_dict(), **changes})


def _builder_items(chunk, frame: DatasetFrame, addressing: Addressing) -> list[bytes]:
    """The chunk's IF-021 items from the dict builder, in data set order: each row under the MPAN
    it is sent on (an export quantity on the site's export MPAN), from its meter's first reported
    day (its install day when installed inside the data set)."""
    refs = {role: addressing.references(role, "IF-021", 1) for role in ROLES}
    meters = list(chunk.meters.itertuples(index=False))
    mpans = row_mpans(chunk).astype("U13").tolist()
    reported_from = first_reported_days(chunk.meters, frame.days).tolist()
    out = []
    for r, m in enumerate(chunk.row_meter):
        meter = meters[m]._replace(mpan=mpans[r])
        cos = day_index(meter.change_of_supplier_date, frame.days)
        for first, last, supplier in addressing.supplier_segments(cos, frame.n_days):
            first = max(first, reported_from[m])
            if first >= last:
                continue  # a supplier's days all before the meter was installed
            sl = slice(first * 48, last * 48)
            out += [request_item(p) for p in iter_if021_payloads(
                [meter], frame.days[first:last], MQIDS[chunk.row_mqid[r]], chunk.values[r : r + 1, sl],
                addressing.senders[(meter.data_service_role, "IF-021")], refs[meter.data_service_role],
                quality=chunk.quality[r : r + 1, sl], quality_codes=REPORTED_QUALITY_CODES,
                reasons=chunk.reasons[r : r + 1, sl],
                days_per_message=frame.scenario.messages.days_per_message,
                recipients=(supplier, meter.distributor_dip_id))]
    return out


@pytest.mark.parametrize("start,end,cos", [("2025-03-28", "2025-04-01", "2025-03-30"),
                                           ("2025-10-24", "2025-10-28", "2025-10-26"),
                                           ("2024-02-27", "2024-03-02", "2024-02-29")])
def test_byte_writer_gives_exactly_the_builders_bytes(start, end, cos):
    scenario = busy_scenario(start, end, cos=cos)
    frame = DatasetFrame(scenario)
    chunk = generate_chunk(frame, 0, 0, scenario.meters.count, with_reads=False)
    # the case covers what the writer has to get right
    assert set(chunk.row_mqid.tolist()) == {0, 1, 2, 3}
    assert set(chunk.quality.ravel().tolist()) == set(range(len(REPORTED_QUALITY_CODES)))
    assert set(chunk.reasons.ravel().tolist()) >= {0, 2, 3, 4, 7, 10}
    assert chunk.values.max() >= 10_000 and chunk.values.min() == 0  # two whole kWh digits, and zeros
    addressing = Addressing.from_scenario(scenario)
    writer = IF021ByteWriter(frame.days, scenario.messages.days_per_message, REPORTED_QUALITY_CODES)
    fast = [b"".join(bytes(part) for part in item)
            for block in if021_items(chunk, frame, addressing, writer, references(addressing, "IF-021", np.zeros(len(ROLES))))
            for item in block]
    slow = _builder_items(chunk, frame, addressing)
    assert len(fast) == len(slow) > 100
    assert fast == slow


def test_byte_writer_handles_any_digits_and_code_pairs():
    """Synthetic rows: values up to 12 digits of kWh and every (q, e) pair, in one block."""
    days = np.datetime64("2025-10-25") + np.arange(3)
    rng = np.random.default_rng(11)
    n_rows, t = 6, 3 * 48
    values = rng.integers(0, 10 ** rng.integers(1, 16, (n_rows, 1)), (n_rows, t))
    values[0, :5] = [0, 9, 999, 1000, 10**15 - 1]
    quality = rng.integers(0, len(REPORTED_QUALITY_CODES), (n_rows, t)).astype(np.int8)
    reasons = rng.integers(0, 11, (n_rows, t)).astype(np.int8)
    # a free text that JSON must escape, and a % that a text template must not take as a field
    scenario = busy_scenario("2025-10-25", "2025-10-27", count=3,
                             messages={"days_per_message": 2, "sub_text": 'say "hi" \\ 100% ✓'})
    meters = list(build_population(scenario).itertuples(index=False))
    # a field JSON must escape takes the writer's slow path, with the same bytes
    meters[1] = meters[1]._replace(meter_id='24"E\\x', connection_effective_from='2024-01-01T00:00:00+00:00"')
    addressing = Addressing.from_scenario(scenario)
    row_meter = np.array([0, 0, 1, 1, 2, 2])
    senders = [addressing.senders[(m.data_service_role, "IF-021")] for m in meters]
    recipients = [[("4000000001", m.distributor_dip_id)] for m in meters]
    refs = {role: addressing.references(role, "IF-021", 1) for role in ROLES}
    writer = IF021ByteWriter(days, 2, REPORTED_QUALITY_CODES)
    fast = [b"".join(bytes(p) for p in item) for block in writer.blocks(
        meters, row_meter, ["AI", "RI"] * 3, values, quality, reasons, senders,
        [refs[m.data_service_role] for m in meters], recipients, [None] * 3) for item in block]
    refs = {role: addressing.references(role, "IF-021", 1) for role in ROLES}
    slow = []
    for r in range(n_rows):
        m = meters[row_meter[r]]
        slow += [request_item(p) for p in iter_if021_payloads(
            [m], days, ["AI", "RI"][r % 2], values[r : r + 1], senders[row_meter[r]], refs[m.data_service_role],
            quality=quality[r : r + 1], quality_codes=REPORTED_QUALITY_CODES, reasons=reasons[r : r + 1],
            days_per_message=2, recipients=recipients[row_meter[r]][0])]
    assert fast == slow
    assert b'say \\"hi\\" \\\\ 100% \xe2\x9c\x93' in fast[0]
    with pytest.raises(ValueError, match="negative"):
        next(writer.blocks(meters, row_meter, ["AI"] * 6, -values, quality, reasons, senders,
                           [refs[m.data_service_role] for m in meters], recipients, [None] * 3))


def test_byte_writer_cuts_blocks_without_changing_bytes(monkeypatch):
    scenario = busy_scenario("2025-10-24", "2025-10-28", count=30)
    frame = DatasetFrame(scenario)
    chunk = generate_chunk(frame, 0, 0, 30, with_reads=False)
    addressing = Addressing.from_scenario(scenario)

    def items() -> list[bytes]:
        writer = IF021ByteWriter(frame.days, 2, REPORTED_QUALITY_CODES)
        return [b"".join(bytes(p) for p in item)
                for block in if021_items(chunk, frame, addressing, writer, references(addressing, "IF-021", np.zeros(3)))
                for item in block]

    whole = items()
    monkeypatch.setattr("mhhs_workbench.messages.if021_bytes.BLOCK_BYTES", 1)  # one row per block
    assert items() == whole


def test_a_meter_is_the_same_whatever_the_fleet_size_or_slice():
    small = busy_scenario("2025-10-24", "2025-10-28", count=100, cos="2025-10-26")
    large = busy_scenario("2025-10-24", "2025-10-28", count=5000, cos="2025-10-26")
    whole = build_population(small)
    pd.testing.assert_frame_equal(build_population(large, 0, 100), whole)
    pd.testing.assert_frame_equal(build_population(small, 30, 70), whole.iloc[30:70].reset_index(drop=True))
    # another date range moves only the dates that are relative to its start
    later = Scenario.from_dict({**small.to_dict(), "start_date": "2025-11-03", "end_date": "2025-11-05",
                                "events": []})
    moved = build_population(later)
    for column in ("mpan", "meter_id", "archetype", "gsp_group", "annual_kwh", "pv_kwp", "initial_register_wh"):
        assert (moved[column] == whole[column]).all(), column


def test_meter_shares_follow_the_scenario_closely():
    scenario = busy_scenario("2025-10-24", "2025-10-25", count=6400)
    counts = build_population(scenario)["archetype"].value_counts(normalize=True)
    for name, share in EVERY_ARCHETYPE.items():
        assert abs(counts[name] - share) < 0.005, name


def test_indexed_identifiers_are_distinct_valid_and_keyed():
    index = np.arange(200_000)
    mpans = indexed_mpans("_P", index, key=987654321, pick=np.linspace(0.001, 0.999, index.size))
    assert len(set(mpans.tolist())) == index.size
    assert all(m.startswith("17") and is_valid_mpan(m) for m in mpans[::997])
    # every single-digit change of a core fails its check digit (no residue 0/10 collisions)
    core = mpans[12345]
    for pos in range(12):
        for digit in "0123456789":
            if digit != core[pos]:
                changed = core[:pos] + digit + core[pos + 1 : 12]
                assert mpan_check_digit(changed) != core[12] or changed == core[:12]
    other = indexed_mpans("_P", index[:1000], key=123, pick=np.full(1000, 0.5))
    assert (other != mpans[:1000]).mean() > 0.99
    serials = indexed_meter_serials(index, key=5)
    assert len(set(serials.tolist())) == index.size
    perm = keyed_permutation(np.arange(10_007), 10_007, key=99)
    assert sorted(perm.tolist()) == list(range(10_007))
    assert abs(np.corrcoef(np.arange(10_007), perm)[0, 1]) < 0.05  # neighbours are scattered


def test_read_counts_match_the_read_schedule():
    rng = np.random.default_rng(3)
    for schedule in ("daily", "none"):
        for _ in range(300):
            n_days = int(rng.integers(1, 20))
            settings = DataQuality(comms_fault_share=0.5, deenergised_share=0.5,
                                   comms_fault_days=[1, 4], deenergised_days=[1, 4])
            plan = plan_meters(settings, int(rng.integers(0, 1000)), np.array([int(rng.integers(0, 10**6))]),
                               np.datetime64("2025-01-01") + np.arange(n_days), np.array([True]))
            cos = int(rng.integers(1, n_days + 1)) if rng.random() < 0.5 and n_days > 1 else -1
            instants = read_instants(n_days, plan.meter(0), change_of_supplier_day=None if cos < 0 else cos,
                                     schedule=schedule)
            counted = read_counts(n_days, plan, np.array([cos]), np.array([True]), schedule=schedule)
            assert counted[0] == len(instants)


def test_quality_plans_do_not_depend_on_the_chunk():
    settings = DataQuality(missing_share=0.05, comms_fault_share=0.3)
    days = np.datetime64("2025-06-01") + np.arange(10)
    idx = np.arange(50)
    whole = plan_meters(settings, 7, idx, days, np.ones(50, dtype=bool))
    part = plan_meters(settings, 7, idx[20:30], days, np.ones(10, dtype=bool))
    np.testing.assert_array_equal(whole.missing[20:30], part.missing)
    np.testing.assert_array_equal(whole.comms_first[20:30], part.comms_first)
    assert (whole.comms_first != NO_SPELL).any() and whole.missing.any()
    # without spells (which are placed within the range), a meter's gaps on a day are the same
    # whatever range the day is in
    gaps_only = DataQuality(missing_share=0.05, comms_fault_share=0.0, deenergised_share=0.0)
    full = plan_meters(gaps_only, 7, idx, days, np.ones(50, dtype=bool))
    shifted = plan_meters(gaps_only, 7, idx, days[3:], np.ones(50, dtype=bool))
    np.testing.assert_array_equal(shifted.missing, full.missing[:, 3 * 48 :])
    np.testing.assert_array_equal(shifted.invalid, full.invalid[:, 3 * 48 :])


def test_planned_message_counts_match_what_is_generated(tmp_path):
    scenario = busy_scenario("2025-10-24", "2025-10-30", count=90, cos="2025-10-27")
    role, counts = message_counts(scenario, 0, 90)
    plan = RunPlan.build(DatasetFrame(scenario), 25)
    assert plan.totals == {k: int(v.sum()) for k, v in counts.items()}
    assert set(role.tolist()) == {0, 1, 2}
    summary = generate_dataset(scenario, tmp_path / "d", chunk_size=25, progress=False)
    assert summary.counts["if021_messages"] == plan.totals["IF-021"]
    assert summary.counts["if041_messages"] == plan.totals["IF-041"]
    n021 = sum(len(json.loads(p.read_bytes())) for p in (tmp_path / "d/messages/IF-021").glob("*.json"))
    assert n021 == plan.totals["IF-021"]


def _file_digests(root: Path) -> dict[str, str]:
    return {f["path"]: f["sha256"] for f in json.loads((root / "manifest.json").read_text())["files"]}


def test_chunks_written_in_any_order_and_twice_give_the_same_files(tmp_path):
    scenario = busy_scenario("2025-10-24", "2025-10-28", count=50, cos="2025-10-27")
    frame = DatasetFrame(scenario)
    reference = tmp_path / "in-order"
    generate_dataset(scenario, reference, chunk_size=50, progress=False)

    plan = RunPlan.build(frame, 7)
    root = tmp_path / "staging"
    (root / "messages").mkdir(parents=True)
    (root / "scenario.yaml").write_text(scenario.to_yaml(), encoding="utf-8")
    results = {i: write_chunk(plan, i, root) for i in reversed(range(plan.n_chunks))}
    results[3] = write_chunk(plan, 3, root)  # a retried task: the same files again
    assemble(plan, root, [results[i] for i in range(plan.n_chunks)], progress=False)
    written = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    expected = {p.relative_to(reference).as_posix(): p.read_bytes() for p in reference.rglob("*")
                if p.is_file() and p.name != "manifest.json"}
    assert written.keys() == expected.keys()
    assert all(written[k] == expected[k] for k in expected)


def test_message_files_refuse_to_finish_with_a_lost_piece(tmp_path):
    files = MessageFiles(tmp_path, "IF-021", per_file=4)
    items = [(f'{{"payload":{i}}}'.encode(),) for i in range(10)]
    files.write(0, items[:3])
    files.write(6, items[6:])
    with pytest.raises(RuntimeError, match="missing"):
        files.finish(10)
    files.write(3, items[3:6])
    paths = files.finish(10)
    assert [json.loads(p.read_bytes()) for p in paths] == [
        [{"payload": i} for i in range(0, 4)], [{"payload": i} for i in range(4, 8)],
        [{"payload": 8}, {"payload": 9}]]
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]


@pytest.mark.slow
def test_dask_workers_and_chunk_sizes_give_byte_identical_data_sets(tmp_path):
    pytest.importorskip("distributed", reason="the scale extra (dask.distributed) is not installed")
    scenario = busy_scenario("2025-03-28", "2025-04-01", count=120, cos="2025-03-31")
    path = tmp_path / "busy.yaml"
    path.write_text(yaml.safe_dump(scenario.to_dict(), sort_keys=False), encoding="utf-8")
    runs = {"single": ["--chunk-size", "500"], "chunks-7": ["--chunk-size", "7"],
            "workers-2": ["--chunk-size", "16", "--workers", "2"]}
    for name, options in runs.items():
        done = subprocess.run([sys.executable, "-m", "mhhs_workbench.cli", "generate", str(path),
                               "--out", str(tmp_path / name), "--no-progress", *options],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    single = _file_digests(tmp_path / "single")
    assert any(p.startswith("messages/IF-021/") for p in single) and "tables/consumption.parquet" in single
    assert _file_digests(tmp_path / "chunks-7") == single
    assert _file_digests(tmp_path / "workers-2") == single


def test_a_plan_covers_every_meter_once():
    scenario = busy_scenario("2025-10-24", "2025-10-25", count=103)
    plan = RunPlan.build(DatasetFrame(scenario), 10)
    covered = np.concatenate([np.arange(a, b) for a, b in plan.bounds])
    np.testing.assert_array_equal(covered, np.arange(103))
    for interface in ("IF-021", "IF-041"):
        assert (np.diff(plan.first_message[interface]) >= 0).all()
        assert plan.first_reference[interface].shape == (plan.n_chunks, len(ROLES))


@pytest.mark.slow
def test_the_notebook_writes_the_same_data_set_on_dask_workers(tmp_path):
    pytest.importorskip("papermill", reason="the notebook extra is not installed")
    pytest.importorskip("distributed", reason="the scale extra (dask.distributed) is not installed")
    from click.testing import CliRunner

    from mhhs_workbench.cli import main

    digests = {}
    for workers in (0, 2):
        out = tmp_path / f"workers-{workers}"
        done = CliRunner().invoke(main, ["run", "generate_dataset", "-p", "meters", "30", "-p", "seed", "5",
                                         "-p", "start_date", "2025-03-29", "-p", "end_date", "2025-03-31",
                                         "-p", "chunk_size", "8", "-p", "workers", str(workers),
                                         "-p", "out", str(out)])
        assert done.exit_code == 0, done.output
        digests[workers] = {p: d for p, d in _file_digests(out).items() if not p.startswith("evidence/")}
    assert len(digests[0]) > 5
    assert digests[2] == digests[0]


def _supplied(n_meters: int = 9) -> SuppliedConsumption:
    """Synthetic supplied consumption: smart import and export, advanced and unmetered meters over
    the March change."""
    days = np.datetime64("2025-03-29") + np.arange(3)
    mpans = sorted(indexed_mpans("_C", np.arange(n_meters), key=77, pick=np.full(n_meters, 0.5)).tolist())
    kinds = ["W", "H", "U"] * (n_meters // 3)
    meters = pd.DataFrame({"mpan": mpans, "meter_id": [""] * n_meters, "connection_type": kinds,
                           "gsp_group": ["_C"] * n_meters, "register_start_wh": [-1, 123_456, -1] * (n_meters // 3)})
    # AI, AE, RI, RE by index; every other smart meter is an export MPAN (one direction per MPAN)
    channels = {"W": (0,), "H": (0, 2, 3), "U": (0,)}
    of = [(1,) if k == "W" and (m // 3) % 2 else channels[k] for m, k in enumerate(kinds)]
    row_meter = np.array([m for m, c in enumerate(of) for _ in c])
    row_mqid = np.array([q for c in of for q in c], dtype=np.int8)
    rng = np.random.default_rng(8)
    values = rng.integers(0, 4000, (row_meter.size, days.size * 48))
    quality = np.zeros(values.shape, dtype=np.int8)
    reasons = np.zeros(values.shape, dtype=np.int8)
    unmetered = np.array([kinds[m] == "U" for m in row_meter])
    quality[unmetered] = QUALITY_CODES.index("E")
    reasons[unmetered] = 10
    quality[0, 5], reasons[0, 5] = QUALITY_CODES.index("E0"), 2
    quality[0, 99], reasons[0, 99], values[0, 99] = QUALITY_CODES.index("ZE"), 7, 0
    notes = [{"mpan": mpans[0], "mqid": "AI", "utc_period_end": "2025-03-29T03:00:00+00:00",
              "action": "filled", "detail": "estimated"}]
    return SuppliedConsumption(days, meters, row_meter, row_mqid, values, quality, reasons, notes, ["in.csv"])


def test_supplied_consumption_makes_a_valid_data_set_the_same_on_dask(tmp_path, official_spec_dir):
    supplied = _supplied()
    convert_csv(supplied, tmp_path / "single", chunk_size=4, progress=False)
    report = validate_files([tmp_path / "single"], spec_dir=official_spec_dir, business_rules=True)
    assert report.ok, report
    frame = if021_frame([tmp_path / "single" / "messages"])
    assert set(frame["quality"]) == {"A", "E", "E0", "ZE"}
    assert sorted(frame["mpan"].unique()) == supplied.meters["mpan"].tolist()
    # values arrive unchanged: every supplied row is in the messages, half hour by half hour
    got = frame.sort_values(["mpan", "mqid", "sp"])
    for r in range(supplied.values.shape[0]):
        mpan = supplied.meters["mpan"][supplied.row_meter[r]]
        mqid = MQIDS[supplied.row_mqid[r]]
        sent = got[(got["mpan"] == mpan) & (got["mqid"] == mqid)]["value_wh"].to_numpy()
        np.testing.assert_array_equal(sent, supplied.values[r])
    reads = if041_frame([tmp_path / "single" / "messages"])
    assert set(reads["mpan"]) == set(supplied.meters["mpan"][supplied.meters["connection_type"] != "U"])
    opening = reads[(reads["mpan"] == supplied.meters["mpan"][1]) & (reads["register_id"] == "C")]
    assert opening.sort_values("read_datetime")["reading_wh"].iloc[0] == 123_456  # as given
    report_csv = (tmp_path / "single" / "inputs" / "conversion_report.csv").read_text()
    assert report_csv.splitlines()[0] == '"mpan","mqid","utc_period_end","action","detail"'
    assert "estimated" in report_csv
    manifest = json.loads((tmp_path / "single" / "manifest.json").read_text())
    assert manifest["source"]["files"] == ["in.csv"] and manifest["counts"]["meters"] == 9
    pytest.importorskip("distributed", reason="the scale extra (dask.distributed) is not installed")
    convert_csv(supplied, tmp_path / "dask", chunk_size=2, progress=False, workers=2)
    assert _file_digests(tmp_path / "dask") == _file_digests(tmp_path / "single")


@pytest.mark.slow
def test_a_worker_dying_mid_run_loses_and_duplicates_nothing(tmp_path):
    distributed = pytest.importorskip("distributed", reason="the scale extra (dask.distributed) is not installed")
    import logging
    import os
    import signal

    scenario = busy_scenario("2025-10-24", "2025-10-28", count=160, cos="2025-10-26")
    generate_dataset(scenario, tmp_path / "single", chunk_size=10, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as client:
        killed = []

        def kill_one_worker(done: int, total: int) -> None:
            if not killed and done >= 30:  # chunks are in flight on both workers now
                pids = client.run(os.getpid)
                victim = pids[sorted(pids)[0]]
                os.kill(victim, signal.SIGKILL)  # a crash: the nanny starts a new worker
                killed.append(victim)

        generate_dataset(scenario, tmp_path / "dask", chunk_size=10, progress=False,
                         scheduler=cluster.scheduler_address, on_chunk=kill_one_worker)
    assert killed
    assert _file_digests(tmp_path / "dask") == _file_digests(tmp_path / "single")
    assert not [p for p in (tmp_path / "dask").rglob("*") if p.name.startswith(".")]


def test_planning_in_batches_places_every_chunk_as_one_batch_would(monkeypatch):
    scenario = busy_scenario("2025-10-24", "2025-10-26", count=230, cos="2025-10-25")
    whole = RunPlan.build(DatasetFrame(scenario), 9)
    monkeypatch.setattr("mhhs_workbench.pipeline.run.PLAN_BATCH", 17)  # many batches, cutting chunks
    batched = RunPlan.build(DatasetFrame(scenario), 9)
    assert batched.bounds == whole.bounds and batched.totals == whole.totals
    for interface in ("IF-021", "IF-041"):
        np.testing.assert_array_equal(batched.first_message[interface], whole.first_message[interface])
        np.testing.assert_array_equal(batched.first_reference[interface], whole.first_reference[interface])


@pytest.mark.slow
def test_a_failure_while_dask_workers_write_leaves_nothing_behind(tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="the scale extra (dask.distributed) is not installed")
    import time as clock

    from mhhs_workbench.pipeline.run import Assembler
    from mhhs_workbench.publish.publication import PublicationError

    scenario = busy_scenario("2025-10-24", "2025-10-28", count=80)
    real_add = Assembler.add

    def disk_full_at_chunk_2(self, result):
        if result.index == 2:
            raise OSError(28, "No space left on device")
        real_add(self, result)

    monkeypatch.setattr(Assembler, "add", disk_full_at_chunk_2)
    with pytest.raises(PublicationError, match="No space left"):
        generate_dataset(scenario, tmp_path / "data", chunk_size=4, progress=False, workers=2)
    clock.sleep(3)  # chunks that were in flight would have written by now
    assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_error_line(tmp_path):
    pytest.importorskip("distributed", reason="the scale extra (dask.distributed) is not installed")
    for address in ("foo://bar", "tcp://127.0.0.1:9"):
        done = subprocess.run([sys.executable, "-m", "mhhs_workbench.cli", "demo", "--out", str(tmp_path / "d"),
                               "--no-progress", "--scheduler", address],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, done.stderr
        assert "Dask scheduler" in errors[0] and address in errors[0], errors
    assert list(tmp_path.iterdir()) == []

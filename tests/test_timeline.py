"""The send timeline: daily batches per data service, files in send order, revisions of recovered days.

Every check reads the generated message files back and compares them with the scenario and the
tables, so it holds whatever the code that wrote them does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import orjson
import pandas as pd
import pytest

from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.scenario import Scenario, ScenarioError, demo_scenario
from mhhs_workbench.validation.files import validate_files

TIMING_KEYS = {"SDS": "smart_data_service", "ADS": "advanced_data_service", "UMSDS": "unmetered_data_service"}
INTERFACES = ("IF-021", "IF-041")
#: Estimation reason (DI-076) of half hours estimated through a communications fault.
COMMS_FAULT = "4"


def faulty_scenario(**sending) -> Scenario:
    """Four weeks over the March clock change, many communications faults, 3-day messages."""
    return Scenario.from_dict({
        "name": "faults",
        "seed": 99,
        "start_date": "2025-03-20",
        "end_date": "2025-04-16",
        "meters": {"count": 80, "pv_share": 0.4,
                   "archetypes": {"domestic_unrestricted": 0.6, "maximum_demand_pc5": 0.3,
                                  "unmetered_street_lighting": 0.1}},
        "messages": {"days_per_message": 3, "messages_per_file": 25},
        "data_quality": {"comms_fault_share": 0.6, "comms_fault_days": [1, 5], "missing_share": 0.01,
                         "deenergised_share": 0.1},
        "events": [{"type": "change_of_supplier", "date": "2025-04-02", "share": 0.2}],
        "sending": {"smart_data_service": {"delay_hours": 2.0, "spread_hours": 20.0},
                    "advanced_data_service": {"delay_hours": 30.0, "spread_hours": 10.0},
                    "unmetered_data_service": {"delay_hours": 0.0, "spread_hours": 0.0},
                    "revision_share": 0.6, **sending},
        "outputs": ["if021", "if041", "parquet"],
    })


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("timeline") / "demo"
    generate_dataset(demo_scenario(), out, progress=False)
    return out


@pytest.fixture(scope="module")
def faults(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("timeline") / "faults"
    generate_dataset(faulty_scenario(), out, progress=False, chunk_size=7)
    return out


def _wh(text: str) -> int:
    return int(Decimal(text) * 1000)


def read_messages(root: Path) -> list[dict]:
    """Every message of a data set, file by file in name order, as the fields the checks need."""
    out = []
    for interface in INTERFACES:
        for path in sorted((root / "messages" / interface).glob(f"{interface}_*.json")):
            for index, item in enumerate(orjson.loads(path.read_bytes())):
                payload = item["payload"]
                s1 = payload["CommonBlock"]["S1"]
                message = {
                    "interface": interface, "file": path.name, "index": index,
                    "sent": dt.datetime.fromisoformat(s1["senderTimestamp"]),
                    "stamp": s1["senderTimestamp"], "reference": s1["senderUniqueReference"],
                    "role": s1["senderRoleID"], "mpan": payload["CommonBlock"]["M0"]["MPANCore"],
                }
                custom = payload["CustomBlock"]
                if interface == "IF-021":
                    b900 = custom["B900"]
                    message["mqid"] = b900["MQID"]["measurementQuantityID"]
                    message["days"] = {
                        day["settlementDay"]["settlementDayDate"][:10]: [
                            (c["sp"], _wh(c["v"]), c["q"], c["e"]) for c in day["consumptionPeriods"]]
                        for day in b900["settlementDayConsumptionPeriods"]}
                    message["end"] = max(dt.datetime.fromisoformat(p[0]) for ps in message["days"].values() for p in ps)
                else:
                    message["mqid"] = None
                    times = [r["cumulativeRegisterReadingDateTime"] for r in custom.get("B064List", [])]
                    times += [r["configurableRegisterReadingDate"] for r in custom.get("B065List", [])]
                    message["end"] = max(dt.datetime.fromisoformat(t) for t in times)
                out.append(message)
    return out


def with_revisions(messages: list[dict]) -> list[dict]:
    """IF-021 messages in send order, each with ``revision``: how often its days were sent before."""
    sent = defaultdict(int)
    out = []
    for m in sorted((m for m in messages if m["interface"] == "IF-021"), key=lambda m: (m["sent"], m["file"], m["index"])):
        keys = [(m["mpan"], m["mqid"], day) for day in m["days"]]
        m = {**m, "revision": max(sent[k] for k in keys)}
        for k in keys:
            sent[k] += 1
        out.append(m)
    return out


def _hours(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 3600


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo", "faults"])
def test_every_message_is_sent_after_its_last_period_within_its_service_delay(which, request):
    root = request.getfixturevalue(which)
    scenario = Scenario.from_yaml(root / "scenario.yaml")
    start = dt.datetime.combine(scenario.start_date, dt.time(), dt.UTC)
    messages = read_messages(root)
    revised = {m["reference"] for m in with_revisions(messages) if m["revision"]}
    checked = 0
    for m in messages:
        assert m["sent"] >= m["end"], m
        timing = getattr(scenario.sending, TIMING_KEYS[m["role"]])
        lag = _hours(m["sent"] - m["end"])
        if m["reference"] in revised:
            continue
        if m["interface"] == "IF-041" and m["end"] == start:
            lag -= 24  # the opening read at the first midnight goes with the first day's batch
        assert timing.delay_hours - 1e-3 <= lag <= timing.delay_hours + timing.spread_hours + 1e-3, m
        checked += 1
    assert checked > 1000
    if which == "demo":  # each day is sent the day after: never 13 days late any more
        assert max(_hours(m["sent"] - m["end"]) for m in messages
                   if m["reference"] not in revised and m["end"] != start) < 30


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo", "faults"])
def test_files_and_messages_are_in_send_order(which, request):
    root = request.getfixturevalue(which)
    meters = pd.read_parquet(root / "tables" / "meters.parquet")
    order = dict(zip(meters["mpan"], meters["meter_index"], strict=True))
    if "export_mpan" in meters:
        order.update({e: i for e, i in zip(meters["export_mpan"], meters["meter_index"], strict=True) if e})
    messages = read_messages(root)
    for interface in INTERFACES:
        sequence = [m for m in messages if m["interface"] == interface]
        assert [m["sent"] for m in sequence] == sorted(m["sent"] for m in sequence)
        by_file = defaultdict(list)
        for m in sequence:
            by_file[m["file"]].append(m)
        # a file is one batch: one sender, one send time; within a batch, meters in order
        for batch in by_file.values():
            assert len({(m["role"], m["stamp"]) for m in batch}) == 1
            assert [order[m["mpan"]] for m in batch] == sorted(order[m["mpan"]] for m in batch)
        # references run per sender in send order
        for role in TIMING_KEYS:
            numbers = [int(m["reference"].rsplit("-", 1)[1]) for m in sequence if m["role"] == role]
            assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("which", ["demo", "faults"])
def test_the_send_schedule_lists_the_files_exactly(which, request):
    root = request.getfixturevalue(which)
    schedule = pd.read_parquet(root / "tables" / "send_schedule.parquet")
    schedule = schedule.sort_values(["interface", "message_file", "index_in_file"])
    listed = [(r.interface, r.message_file, r.index_in_file, r.sent_at.isoformat(), r.sender_unique_reference,
               r.mpan, r.mqid if isinstance(r.mqid, str) else None,
               None if pd.isna(r.first_utc_day) else str(r.first_utc_day),
               None if pd.isna(r.last_utc_day) else str(r.last_utc_day), r.revision)
              for r in schedule.itertuples()]
    revision = {m["reference"]: m["revision"] for m in with_revisions(read_messages(root))}
    found = [(m["interface"], m["file"], m["index"], m["stamp"], m["reference"], m["mpan"], m["mqid"],
              min(m["days"]) if "days" in m else None, max(m["days"]) if "days" in m else None,
              revision.get(m["reference"], 0))
             for m in sorted(read_messages(root), key=lambda m: (m["interface"], m["file"], m["index"]))]
    assert listed == found


def test_recovered_faults_are_sent_again_as_actuals(faults):
    messages = with_revisions(read_messages(faults))
    first = defaultdict(list)  # (mpan, mqid, day) -> its versions in send order
    for m in messages:
        for day, periods in m["days"].items():
            first[(m["mpan"], m["mqid"], day)].append((m, periods))
    estimated = defaultdict(set)  # mpan -> days estimated for its communications fault, as first sent
    for (mpan, _, day), versions in first.items():
        if any(e == COMMS_FAULT for _, _, _, e in versions[0][1]):
            estimated[mpan].add(day)
    revisions = [m for m in messages if m["revision"]]
    assert revisions
    recovered = set()
    for m in revisions:
        assert m["revision"] == 1 and len(m["days"]) == 1
        ((day, periods),) = m["days"].items()
        versions = first[(m["mpan"], m["mqid"], day)]
        earlier, _ = versions[0]
        assert versions[1][0] is m
        assert m["reference"] != earlier["reference"] and m["sent"] > earlier["sent"]
        assert all(q == "A" and e is None for _, _, q, e in periods)
        assert day in estimated[m["mpan"]] and m["role"] == earlier["role"]
        recovered.add(m["mpan"])
    # every day and quantity of a recovered fault is re-sent, and nothing else
    for mpan in recovered:
        quantities = {mqid for (p, mqid, _) in first if p == mpan}
        resent = {(m["mqid"], day) for m in revisions if m["mpan"] == mpan for day in m["days"]}
        assert resent == {(q, d) for q in quantities for d in estimated[mpan]}
    share = len(recovered) / len(estimated)
    assert len(estimated) >= 20 and abs(share - 0.6) < 0.2, (len(recovered), len(estimated))


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_the_revision_share_decides_which_faults_are_recovered(share, tmp_path):
    scenario = faulty_scenario(revision_share=share)
    scenario = Scenario.from_dict({**scenario.to_dict(), "meters": {**scenario.to_dict()["meters"], "count": 25},
                                   "end_date": "2025-03-31", "events": [], "outputs": ["if021", "parquet"]})
    generate_dataset(scenario, tmp_path / "d", progress=False)
    messages = with_revisions(read_messages(tmp_path / "d"))
    faulted = {m["mpan"] for m in messages for ps in m["days"].values() if any(p[3] == COMMS_FAULT for p in ps)}
    recovered = {m["mpan"] for m in messages if m["revision"]}
    assert faulted
    assert recovered == (faulted if share else set())
    consumption = pd.read_parquet(tmp_path / "d" / "tables" / "consumption.parquet")
    assert (COMMS_FAULT in set(consumption["reason"])) == (share == 0.0)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo", "faults"])
def test_tables_hold_the_latest_version_and_the_history_every_version(which, request):
    root = request.getfixturevalue(which)
    messages = with_revisions(read_messages(root))
    latest, versions = {}, defaultdict(list)
    for m in messages:
        for day, periods in m["days"].items():
            versions[(m["mpan"], m["mqid"], day)].append((m, periods))
            for sp, v, q, _ in periods:
                latest[(m["mpan"], m["mqid"], pd.Timestamp(sp))] = (v, q)
    consumption = pd.read_parquet(root / "tables" / "consumption.parquet")
    table = {(r.mpan, r.mqid, r.utc_period_end): (r.value_wh, r.quality) for r in consumption.itertuples()}
    assert all(table[k] == v for k, v in latest.items())

    history = pd.read_parquet(root / "tables" / "history.parquet")
    resent = {k: v for k, v in versions.items() if len(v) > 1}
    assert resent and len(history) == sum(len(v) * 48 for v in resent.values())
    for (mpan, mqid, day), sent in resent.items():
        rows = history[(history["mpan"] == mpan) & (history["mqid"] == mqid)
                       & (history["utc_day"].astype(str) == day)].sort_values(["revision", "utc_period_end"])
        for revision, (m, periods) in enumerate(sent):
            mine = rows[rows["revision"] == revision]
            assert list(mine["value_wh"]) == [p[1] for p in periods]
            assert list(mine["quality"]) == [p[2] for p in periods]
            assert set(mine["sent_at"].map(pd.Timestamp.isoformat)) == {m["stamp"]}
            assert set(mine["sender_unique_reference"]) == {m["reference"]}


@pytest.mark.slow
def test_register_reads_reconcile_with_the_latest_versions(faults):
    meters = pd.read_parquet(faults / "tables" / "meters.parquet").set_index("mpan")
    reads = pd.read_parquet(faults / "tables" / "readings.parquet")
    reads = reads[reads["register_id"] == "C"].sort_values(["mpan", "read_datetime"])
    consumption = pd.read_parquet(faults / "tables" / "consumption.parquet")
    active = consumption[consumption["mqid"].isin(["AI", "AE"])]
    checked = 0
    for mpan, group in reads.groupby("mpan"):
        capacity = 10 ** (int(meters.loc[mpan, "register_digits"]) + 3)
        mine = active[active["mpan"] == mpan]
        # an import register counts AI; an export MPAN's register its AE
        mine = mine[mine["mqid"] == ("AI" if (mine["mqid"] == "AI").any() else "AE")]
        times, values = list(group["read_datetime"]), list(group["reading_wh"])
        for t0, t1, r0, r1 in zip(times[:-1], times[1:], values[:-1], values[1:], strict=True):
            flowed = mine[(mine["utc_period_end"] > t0) & (mine["utc_period_end"] <= t1)]["value_wh"].sum()
            assert (r1 - r0) % capacity == flowed % capacity, (mpan, t0, t1)
            checked += 1
    assert checked > 500


def test_two_chunk_sizes_give_byte_identical_data_sets(faults, tmp_path):
    generate_dataset(faulty_scenario(), tmp_path / "whole", progress=False, chunk_size=500)

    def digests(root: Path) -> dict[str, str]:
        return {f["path"]: f["sha256"] for f in json.loads((root / "manifest.json").read_text())["files"]}

    mine = digests(faults)
    assert "tables/send_schedule.parquet" in mine and "tables/history.parquet" in mine
    assert digests(tmp_path / "whole") == mine


@pytest.mark.parametrize("which", ["demo", "faults"])
def test_the_messages_validate_with_zero_findings(which, request, official_spec_dir):
    root = request.getfixturevalue(which)
    folders = [root / "messages" / interface for interface in INTERFACES]
    report = validate_files(folders, spec_dir=official_spec_dir, business_rules=True)
    assert report.ok, report
    assert report.messages > 1000


@pytest.mark.parametrize("text,message", [
    ("sending:\n  smart_data_service:\n    delay_hours: -1\n",
     "s.yaml:3: sending.smart_data_service.delay_hours: must be 0-240 hours"),
    ("sending:\n  advanced_data_service:\n    spread_hours: 24\n",
     "s.yaml:3: sending.advanced_data_service.spread_hours: must be 0-23 hours"),
    ("sending:\n  unmetered_data_service:\n    delay: 3\n",
     "s.yaml:3: sending.unmetered_data_service.delay: unknown key (did you mean 'delay_hours'?)"),
    ("sending:\n  revision_share: 1.5\n", "s.yaml:2: sending.revision_share: must be between 0 and 1"),
    ("sending:\n  revision_share: lots\n", "s.yaml:2: sending.revision_share: expected a number"),
    ("messages:\n  sender_timestamp: '2025-11-03T06:00:00+00:00'\n",
     "s.yaml:2: messages.sender_timestamp: no longer used"),
])
def test_send_settings_are_checked_strictly(text, message, tmp_path):
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        Scenario.from_yaml(tmp_path / "s.yaml")
    assert str(error.value).startswith(str(tmp_path / message.split(":")[0]) + message[len("s.yaml"):]), error.value


def test_planning_in_batches_places_every_send_batch_as_one_batch_would(monkeypatch):
    from mhhs_workbench.model.chunk import DatasetFrame
    from mhhs_workbench.pipeline.run import RunPlan

    frame = DatasetFrame(faulty_scenario())
    whole = RunPlan.build(frame, 9)
    monkeypatch.setattr("mhhs_workbench.pipeline.run.PLAN_BATCH", 13)  # batches cutting chunks
    batched = RunPlan.build(frame, 9)
    for interface in INTERFACES:
        assert whole.batch_bounds[interface][-1] == whole.totals[interface] > 0
        assert (whole.batch_first[interface] > 0).any()
        for name in ("batch_first", "batch_bounds", "batch_reference"):
            assert (getattr(batched, name)[interface] == getattr(whole, name)[interface]).all()

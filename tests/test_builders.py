"""Message builders: IF-021 and IF-041 payloads for many MPANs, days and codes validate everywhere."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pytest

from mhhs_workbench.codes.identifiers import DISTRIBUTOR_BY_GSP_GROUP, GSP_GROUPS
from mhhs_workbench.codes.messages import (
    CUMULATIVE_REGISTER,
    ESTIMATE_CODES,
    IF041_EVENT_CODES,
    ZE_CODES,
)
from mhhs_workbench.messages.common import request_body
from mhhs_workbench.messages.formatting import wh_to_kwh_strings
from mhhs_workbench.messages.if021 import EVENT_BY_MQID, iter_if021_payloads
from mhhs_workbench.messages.if041 import iter_if041_payloads
from mhhs_workbench.model.identities import indexed_meter_serials, indexed_mpans
from mhhs_workbench.sending.senders import ReferenceSequence, Sender
from mhhs_workbench.time.periods import as_days, format_utc
from mhhs_workbench.validation.files import validate_files
from mhhs_workbench.validation.payload_rules import validate_payload

DAYS = as_days(["2024-02-29", "2025-03-30", "2025-10-26"])
PER_GROUP = 72  # 14 x 72 = 1,008 MPANs
SENDER = Sender("1000000001", "SDS", "SIT", ("3000000001",), "2025-11-03T06:00:00+00:00")
QUALITY = ("A", "E1", "E4", "ZE", "E")


@pytest.fixture(scope="module")
def meters() -> pd.DataFrame:
    gsp = np.repeat(GSP_GROUPS, PER_GROUP)
    picks = np.linspace(0.0, 0.999, PER_GROUP)
    mpans = np.concatenate([indexed_mpans(g, np.arange(PER_GROUP), 2024 + i, picks) for i, g in enumerate(GSP_GROUPS)])
    return pd.DataFrame(
        {
            "mpan": mpans,
            "gsp_group": gsp,
            "distributor_dip_id": [f"6000000{DISTRIBUTOR_BY_GSP_GROUP[g]}0" for g in gsp],
            "data_service_dip_id": "1000000001",
            "connection_type": np.array(["W", "L", "H", "E", "U"])[np.arange(len(gsp)) % 5],
            "connection_effective_from": "2024-01-01T00:00:00+00:00",
            "meter_id": indexed_meter_serials(np.arange(len(gsp)), 2024),
        }
    )


@pytest.fixture(scope="module")
def message_files(meters, tmp_path_factory):
    """IF-021 for every MQID and IF-041 for every event, spread over 1,008 MPANs."""
    rng = np.random.default_rng(5)
    folder = tmp_path_factory.mktemp("built")
    refs = ReferenceSequence(SENDER, "20251103")
    n_values = DAYS.size * 48
    values = rng.integers(0, 5_000, (len(meters), n_values))
    quality = rng.choice(len(QUALITY), size=values.shape, p=[0.8, 0.05, 0.05, 0.05, 0.05])
    values[np.isin(np.asarray(QUALITY)[quality], ZE_CODES)] = 0  # ECS1011
    reasons = np.where(quality == 0, 0, rng.integers(1, 11, values.shape))
    mqids = list(EVENT_BY_MQID)
    payloads021 = []
    for i in range(len(meters)):
        payloads021 += list(
            iter_if021_payloads(
                meters.iloc[[i]], DAYS, mqids[i % 4], values[[i]], SENDER, refs,
                quality=quality[[i]], quality_codes=QUALITY, reasons=reasons[[i]], days_per_message=2,
            )
        )
    reads = []
    for i, m in enumerate(meters.itertuples()):
        event = IF041_EVENT_CODES[i % len(IF041_EVENT_CODES)]
        when = format_utc(DAYS[i % 3 : i % 3 + 1].astype("datetime64[m]"))[0]
        for register, wh in ((CUMULATIVE_REGISTER, 12_345_678 + i), ("01", 8_000_000 + i), ("02", 4_345_678)):
            reads.append((m.mpan, m.gsp_group, m.distributor_dip_id, event, i, m.meter_id, register, when, wh,
                          "AECS"[i % 4], None if i % 2 else "01"))
    frame = pd.DataFrame(reads, columns=["mpan", "gsp_group", "distributor_dip_id", "event_code", "message_key",
                                         "meter_id", "register_id", "read_datetime", "reading_wh", "reading_method",
                                         "site_visit_check_code"])
    payloads041 = list(iter_if041_payloads(frame, SENDER, refs, ("4000000001",)))
    (folder / "if021.json").write_bytes(request_body(payloads021))
    (folder / "if041.json").write_bytes(request_body(payloads041))
    return folder, payloads021, payloads041


def test_coverage_of_the_generated_messages(message_files, meters):
    _, p021, p041 = message_files
    assert len(set(meters["mpan"])) >= 1000 and set(meters["gsp_group"]) == set(GSP_GROUPS)
    combos = {(p["CommonBlock"]["S0"]["eventCode"], p["CustomBlock"]["B900"]["MQID"]["measurementQuantityID"])
              for p in p021}
    assert combos == {("[ActivePower]", "AI"), ("[ActivePower]", "AE"),
                      ("[ReactivePower]", "RI"), ("[ReactivePower]", "RE")}
    assert {p["CommonBlock"]["S0"]["eventCode"] for p in p041} == set(IF041_EVENT_CODES)
    days = {d["settlementDay"]["settlementDayDate"] for p in p021
            for d in p["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"]}
    assert days == {"2024-02-29T00:00:00+00:00", "2025-03-30T00:00:00+00:00", "2025-10-26T00:00:00+00:00"}
    refs = [p["CommonBlock"]["S1"]["senderUniqueReference"] for p in p021 + p041]
    assert len(set(refs)) == len(refs)
    quality = {c["q"] for p in p021 for d in p["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"]
               for c in d["consumptionPeriods"]}
    assert set(QUALITY) == quality and set(ESTIMATE_CODES) & quality


@pytest.mark.slow
def test_every_built_message_validates_against_both_schemas(message_files, official_spec_dir):
    folder, p021, p041 = message_files
    ours = validate_files([folder])
    assert ours.ok, ours
    official = validate_files([folder], spec_dir=official_spec_dir)
    assert official.ok, official
    assert official.messages == len(p021) + len(p041)


def test_values_are_kwh_with_three_decimals_from_whole_wh():
    text = wh_to_kwh_strings(np.array([0, 7, 1_000, 123_456_789, 999_999_999_999]))
    assert text.tolist() == ["0.000", "0.007", "1.000", "123456.789", "999999999.999"]
    with pytest.raises(ValueError, match="negative"):
        wh_to_kwh_strings(np.array([-1]))


def test_if021_day_blocks_and_period_ends(message_files):
    _, p021, _ = message_files
    first = p021[0]["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"]
    assert len(first) == 2 and all(len(d["consumptionPeriods"]) == 48 for d in first)
    sps = [c["sp"] for c in first[0]["consumptionPeriods"]]
    assert sps[0] == "2024-02-29T00:30:00+00:00" and sps[-1] == "2024-03-01T00:00:00+00:00"
    assert not validate_payload(p021[0])


def test_builders_refuse_what_the_dip_would_refuse(meters):
    refs = ReferenceSequence(SENDER, "20251103")
    with pytest.raises(ValueError, match="days per message"):
        list(iter_if021_payloads(meters.iloc[[0]], DAYS, "AI", np.zeros((1, 144), int), SENDER, refs,
                                 days_per_message=201))
    with pytest.raises(ValueError, match="measurement quantity"):
        list(iter_if021_payloads(meters.iloc[[0]], DAYS, "XX", np.zeros((1, 144), int), SENDER, refs))
    with pytest.raises(ValueError, match="shape"):
        list(iter_if021_payloads(meters.iloc[[0]], DAYS, "AI", np.zeros((1, 10), int), SENDER, refs))
    with pytest.raises(ValueError, match="at least one"):
        request_body([])
    bad = ReferenceSequence(Sender("NOT-HEX-ID", "SDS"), "20251103")
    with pytest.raises(ValueError, match="senderUniqueReference"):
        bad.check("IF-021")


def test_request_body_is_a_json_array_of_payload_objects(message_files):
    folder, *_ = message_files
    body = orjson.loads((folder / "if041.json").read_bytes())
    assert isinstance(body, list) and all(list(item) == ["payload"] for item in body)

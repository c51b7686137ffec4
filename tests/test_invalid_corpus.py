"""Hand-made invalid payloads: each is rejected, for the stated reason, by the right check.

Three corpora, each a list of small mutations applied to a valid payload:

- ``BOTH``: broken structure that both the package's schema and Elexon's reject;
- ``STRICTER``: data Elexon's schema lets through but the package's (following SPEC.md) rejects;
- ``RULES_CORPUS``: breaches of the business rules, reported by code.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mhhs_workbench.codes.rules import RULES
from mhhs_workbench.validation.files import validate_files
from mhhs_workbench.validation.payload_rules import validate_payload
from mhhs_workbench.validation.problems import format_report
from mhhs_workbench.validation.schema import PayloadValidator, validator_for

Payload = dict[str, Any]
SCHEMA_CODES = {"SCHEMA", "SCHEMA-ELEXON"}


@dataclass(frozen=True)
class Case:
    """A mutation of a valid payload and what it should break."""

    id: str
    interface: str
    mutate: Callable[[Payload], Any]
    expect: str  # fragment of a problem message (schema corpora) or rule codes, comma-separated
    where: str = ""  # fragment of the problem's JSON path


def _s0(p: Payload) -> Payload:
    return p["CommonBlock"]["S0"]


def _s1(p: Payload) -> Payload:
    return p["CommonBlock"]["S1"]


def _m0(p: Payload) -> Payload:
    return p["CommonBlock"]["M0"]


def _b900(p: Payload) -> Payload:
    return p["CustomBlock"]["B900"]


def _day(p: Payload, d: int = 0) -> Payload:
    return _b900(p)["settlementDayConsumptionPeriods"][d]


def _periods(p: Payload, d: int = 0) -> list[Payload]:
    return _day(p, d)["consumptionPeriods"]


def _read(p: Payload) -> Payload:
    return p["CustomBlock"]["B064List"][0]


def _rename(block: Payload, old: str, new: str) -> None:
    block[new] = block.pop(old)


def _extend_days(p: Payload, n: int) -> None:
    days = _b900(p)["settlementDayConsumptionPeriods"]
    days.extend(copy.deepcopy(days[0]) for _ in range(n - len(days)))


BOTH = [
    Case("gsp-key-case", "IF-021", lambda p: _rename(_m0(p), "GSPGroupID", "gspGroupID"), "'gspGroupID' was unexpected", "M0"),
    Case("event-code-list", "IF-021", lambda p: _s0(p).update(eventCode=["[ActivePower]"]), "is not of type 'string'", "eventCode"),
    Case("timestamp-z", "IF-021", lambda p: _s1(p).update(senderTimestamp="2025-03-31T05:00:00Z"), "'2025-03-31T05:00:00Z' is too short", "senderTimestamp"),
    Case("sp-z", "IF-021", lambda p: _periods(p)[0].update(sp="2025-03-30T00:30:00Z"), "'2025-03-30T00:30:00Z'", ".sp"),
    Case("sp-no-offset", "IF-021", lambda p: _periods(p)[0].update(sp="2025-03-30T00:30:00"), "is too short", ".sp"),
    Case("v-one-decimal", "IF-021", lambda p: _periods(p)[0].update(v="12.5"), "'12.5' does not match", ".v"),
    Case("v-number", "IF-021", lambda p: _periods(p)[0].update(v=12.5), "12.5 is not of type 'string'", ".v"),
    Case("mpan-12-digits", "IF-021", lambda p: _m0(p).update(MPANCore="200005653597"), "'200005653597' is too short", "MPANCore"),
    Case("mpan-letters", "IF-041", lambda p: _m0(p).update(MPANCore="20000565359X1"), "does not match", "MPANCore"),
    Case("b900-list-key", "IF-021", lambda p: _rename(p["CustomBlock"], "B900", "B900List"), "'B900List' was unexpected", "CustomBlock"),
    Case("b900-as-list", "IF-021", lambda p: p["CustomBlock"].update(B900=[_b900(p)]), "is not of type 'object'", "B900"),
    Case("unknown-key-root", "IF-021", lambda p: p.update(Extra={}), "'Extra' was unexpected", "$"),
    Case("unknown-key-s0", "IF-041", lambda p: _s0(p).update(version="011"), "'version' was unexpected", "S0"),
    Case("unknown-key-period", "IF-021", lambda p: _periods(p)[5].update(unit="kWh"), "'unit' was unexpected", "consumptionPeriods[5]"),
    Case("unknown-key-reading", "IF-041", lambda p: _read(p).update(units="kWh"), "'units' was unexpected", "B064List[0]"),
    Case("gsp-i", "IF-021", lambda p: _m0(p).update(GSPGroupID="_I"), "'_I' is not one of", "GSPGroupID"),
    Case("dip-id-9", "IF-021", lambda p: _s1(p).update(senderDIPID="100000001"), "'100000001' is too short", "senderDIPID"),
    Case("data-service-dip-id-11", "IF-021", lambda p: p["CustomBlock"]["B044"].update(issuingDataServiceDIPID="10000000011"), "is too long", "B044"),
    Case("missing-subtext", "IF-021", lambda p: _s1(p).pop("subText"), "'subText' is a required property", "S1"),
    Case("missing-correlation-id", "IF-041", lambda p: _s1(p).pop("senderCorrelationID"), "'senderCorrelationID' is a required property", "S1"),
    Case("missing-m0", "IF-041", lambda p: p["CommonBlock"].pop("M0"), "'M0' is a required property", "CommonBlock"),
    Case("49-periods", "IF-021", lambda p: _periods(p).append(dict(_periods(p)[0])), "49 items", "consumptionPeriods"),
    Case("201-days", "IF-021", lambda p: _extend_days(p, 201), "201 items", "settlementDayConsumptionPeriods"),
    Case("no-periods", "IF-021", lambda p: _periods(p).clear(), "0 items", "consumptionPeriods"),
    Case("duration-string", "IF-021", lambda p: _day(p)["settlementDay"].update(periodDuration="30"), "'30' is not of type 'integer'", "periodDuration"),
    Case("q-not-in-enum", "IF-021", lambda p: _periods(p)[0].update(q="X1"), "'X1' is not one of", ".q"),
    Case("e-integer", "IF-021", lambda p: _periods(p)[1].update(e=2), "2 is not", ".e"),
    Case("missing-arc", "IF-021", lambda p: _periods(p)[0].pop("arc"), "'arc' is a required property", "consumptionPeriods[0]"),
    Case("mqid-unknown", "IF-021", lambda p: _b900(p)["MQID"].update(measurementQuantityID="AX"), "'AX' is not one of", "measurementQuantityID"),
    Case("connection-type", "IF-021", lambda p: p["CustomBlock"]["B067"].update(connectionTypeIndicator="X"), "'X' is not one of", "connectionTypeIndicator"),
    Case("schema-version", "IF-021", lambda p: _s0(p).update(schemaVersion="010"), "'010'", "schemaVersion"),
    Case("environment-prod", "IF-041", lambda p: _s1(p).update(environmentTag="PROD"), "'PROD' is not one of", "environmentTag"),
    Case("reference-pattern", "IF-041", lambda p: _s1(p).update(senderUniqueReference="REF-1"), "'REF-1' does not match", "senderUniqueReference"),
    Case("event-case", "IF-041", lambda p: _s0(p).update(eventCode="[readingRemote]"), "'[readingRemote]' is not one of", "eventCode"),
    Case("b065-49", "IF-041", lambda p: p["CustomBlock"]["B065List"].extend([p["CustomBlock"]["B065List"][0]] * 47), "49 items", "B065List"),
    Case("reading-method-x", "IF-041", lambda p: _read(p).update(readingMethod="X"), "'X' is not one of", "readingMethod"),
    Case("site-visit-12", "IF-041", lambda p: _read(p).update(siteVisitCheckCode="12"), "'12' is not one of", "siteVisitCheckCode"),
    Case("meter-id-11", "IF-041", lambda p: _read(p).update(meterID="24M01234567"), "is too long", "meterID"),
    Case("b064-as-object", "IF-041", lambda p: p["CustomBlock"].update(B064List=_read(p)), "is not of type 'array'", "B064List"),
    Case("empty-subtext", "IF-041", lambda p: _s1(p).update(subText=""), "'' is too short", "subText"),
]  # fmt: skip

STRICTER = [
    Case("negative-v", "IF-021", lambda p: _periods(p)[0].update(v="-1.000"), "'-1.000' does not match", ".v"),
    Case("day-not-midnight", "IF-021", lambda p: _day(p)["settlementDay"].update(settlementDayDate="2025-03-30T12:00:00+00:00"), "does not match", "settlementDayDate"),
    Case("day-local-midnight", "IF-021", lambda p: _day(p)["settlementDay"].update(settlementDayDate="2025-03-30T00:00:00+01:00"), "does not match", "settlementDayDate"),
    Case("z-padded-to-25", "IF-021", lambda p: _s1(p).update(senderTimestamp="2025-03-31T05:00:00.0000Z"), "does not match", "senderTimestamp"),
    Case("month-13", "IF-041", lambda p: _read(p).update(cumulativeRegisterReadingDateTime="2025-13-01T00:00:00+00:00"), "does not match", "cumulativeRegisterReadingDateTime"),
    Case("null-recipient", "IF-021", lambda p: p["CommonBlock"]["A0"]["primaryRecipients"].append(None), "None is not of type 'string'", "primaryRecipients[1]"),
    Case("d0-from-sender", "IF-041", lambda p: p["CommonBlock"].update(D0={"transactionID": "T-1", "transactionTimestamp": "2025-03-31T06:00:00+00:00", "publicationID": "PUB-001", "initialCorrelationID": None, "replayIndicator": False, "serviceTicketURL": None}), "'D0' was unexpected", "CommonBlock"),
    Case("empty-meter-id", "IF-041", lambda p: _read(p).update(meterID=""), "'' is too short", "meterID"),
    Case("empty-custom-block", "IF-041", lambda p: p["CustomBlock"].clear(), "0 keys", "CustomBlock"),
    Case("empty-b064-list", "IF-041", lambda p: p["CustomBlock"].update(B064List=[]), "0 items", "B064List"),
    Case("negative-reading", "IF-041", lambda p: _read(p).update(cumulativeRegisterReading="-5.000"), "does not match", "cumulativeRegisterReading"),
]  # fmt: skip


def _off_grid_single(p: Payload) -> None:
    _day(p)["consumptionPeriods"] = [_periods(p)[23]]
    _periods(p)[0]["sp"] = "2025-03-30T12:15:00+00:00"


def _move(p: Payload, k: int, sp: str) -> None:
    _periods(p)[k]["sp"] = sp


RULES_CORPUS = [
    Case("mqid-event", "IF-021", lambda p: _b900(p)["MQID"].update(measurementQuantityID="RI"), "ECS1002", "MQID"),
    Case("duration-15", "IF-021", lambda p: _day(p)["settlementDay"].update(periodDuration=15), "ECS1004", "periodDuration"),
    Case("sp-quarter-past", "IF-021", _off_grid_single, "ECS1005", "consumptionPeriods[0].sp"),
    Case("sp-overlap", "IF-021", lambda p: _move(p, 5, "2025-03-30T02:45:00+00:00"), "ECS1005,ECS1007", "consumptionPeriods[5].sp"),
    Case("sp-duplicate", "IF-021", lambda p: _move(p, 5, _periods(p)[4]["sp"]), "ECS1006", "consumptionPeriods[5].sp"),
    Case("day-duplicate", "IF-021", lambda p: _b900(p)["settlementDayConsumptionPeriods"].append(copy.deepcopy(_day(p))), "ECS1006,ECS1007", "settlementDayConsumptionPeriods[1]"),
    Case("v-negative", "IF-021", lambda p: _periods(p)[7].update(v="-0.250"), "ECS1010", "consumptionPeriods[7].v"),
    Case("ze-non-zero", "IF-021", lambda p: _periods(p)[2].update(v="0.500"), "ECS1011", "consumptionPeriods[2].v"),
    Case("sp-before-connection", "IF-021", lambda p: p["CustomBlock"]["B067"].update(connectionTypeEffectiveFromDate="2025-03-30T12:00:00+01:00"), "ECS1013", "consumptionPeriods[0].sp"),
    Case("day-not-utc-midnight", "IF-021", lambda p: _day(p)["settlementDay"].update(settlementDayDate="2025-03-30T00:00:00+01:00"), "ECS1014,WB-SP-DAY", "settlementDayDate"),
    Case("estimate-no-reason", "IF-021", lambda p: _periods(p)[1].update(e=None), "ECS1015", "consumptionPeriods[1].e"),
    Case("advanced-estimate-no-reason", "IF-021", lambda p: _periods(p)[9].update(q="AAE2"), "ECS1015", "consumptionPeriods[9].e"),
    Case("sp-next-day", "IF-021", lambda p: _move(p, 47, "2025-03-31T00:30:00+00:00"), "WB-SP-DAY", "consumptionPeriods[47].sp"),
    Case("sp-day-start", "IF-021", lambda p: _move(p, 0, "2025-03-30T00:00:00+00:00"), "WB-SP-DAY", "consumptionPeriods[0].sp"),
    Case("mpan-check-digit", "IF-021", lambda p: _m0(p).update(MPANCore="2000056535972"), "WB-MPAN", "MPANCore"),
    Case("gsp-mismatch", "IF-041", lambda p: _m0(p).update(GSPGroupID="_A"), "WB-GSP", "GSPGroupID"),
    Case("reading-negative", "IF-041", lambda p: _read(p).update(cumulativeRegisterReading="-5.000"), "WB-READ-NEG", "cumulativeRegisterReading"),
    Case("register-negative", "IF-041", lambda p: p["CustomBlock"]["B065List"][1].update(configurableRegisterReading="-0.001"), "WB-READ-NEG", "B065List[1]"),
    Case("reading-month-13", "IF-041", lambda p: _read(p).update(cumulativeRegisterReadingDateTime="2025-13-01T00:00:00+00:00"), "WB-READ-DT", "cumulativeRegisterReadingDateTime"),
    Case("reading-february-30", "IF-041", lambda p: p["CustomBlock"]["B065List"][0].update(configurableRegisterReadingDate="2025-02-30T00:00:00+00:00"), "WB-READ-DT", "configurableRegisterReadingDate"),
]  # fmt: skip


def _mutated(
    case: Case, make_if021: Callable[..., Payload], make_if041: Callable[..., Payload]
) -> Payload:
    payload = make_if021() if case.interface == "IF-021" else make_if041()
    case.mutate(payload)
    return payload


def _ids(cases: list[Case]) -> list[str]:
    return [c.id for c in cases]


def test_corpus_sizes() -> None:
    assert len(BOTH) >= 25
    assert len({c.id for c in BOTH + STRICTER + RULES_CORPUS}) == len(
        BOTH + STRICTER + RULES_CORPUS
    )


def _validator(interface: str, source: str, request: pytest.FixtureRequest) -> PayloadValidator:
    """The package's validator, or Elexon's (skipping the test when its files are absent)."""
    if source == "package":
        return validator_for(interface)
    return validator_for(interface, request.getfixturevalue("official_spec_dir"))


@pytest.mark.parametrize("source", ["package", "elexon"])
@pytest.mark.parametrize("case", BOTH, ids=_ids(BOTH))
def test_rejected_by_both_schemas(case: Case, source: str, make_if021, make_if041, request):
    payload = _mutated(case, make_if021, make_if041)
    validator = _validator(case.interface, source, request)
    assert not validator.is_valid(payload)
    problems = validate_payload(payload, validator=validator, business_rules=False)
    assert problems
    assert {p.code for p in problems} == {"SCHEMA" if source == "package" else "SCHEMA-ELEXON"}
    assert any(case.expect in p.message and case.where in p.path for p in problems), [
        str(p) for p in problems
    ]
    assert all(len(p.message) < 400 for p in problems)


@pytest.mark.parametrize("case", STRICTER, ids=_ids(STRICTER))
def test_rejected_by_package_schema_only(case: Case, make_if021, make_if041) -> None:
    payload = _mutated(case, make_if021, make_if041)
    problems = validate_payload(payload, business_rules=False)
    assert any(
        p.code == "SCHEMA" and case.expect in p.message and case.where in p.path for p in problems
    ), [str(p) for p in problems]


@pytest.mark.parametrize("case", STRICTER, ids=_ids(STRICTER))
def test_stricter_cases_pass_elexon_schema(case: Case, make_if021, make_if041, official_spec_dir):
    payload = _mutated(case, make_if021, make_if041)
    elexon = validator_for(case.interface, official_spec_dir)
    assert [e.message for e in elexon.iter_errors(payload)] == []


@pytest.mark.parametrize("case", RULES_CORPUS, ids=_ids(RULES_CORPUS))
def test_business_rules(case: Case, make_if021, make_if041) -> None:
    payload = _mutated(case, make_if021, make_if041)
    problems = validate_payload(payload, seen_references={})
    rule_problems = [p for p in problems if p.code not in SCHEMA_CODES]
    assert {p.code for p in rule_problems} == set(case.expect.split(",")), [
        str(p) for p in problems
    ]
    first = case.expect.split(",")[0]
    assert any(p.code == first and case.where in p.path for p in rule_problems)
    assert all(p.rule.code == p.code and p.message for p in problems)
    # and the rules stay silent when asked to
    assert not [
        p for p in validate_payload(payload, business_rules=False) if p.code not in SCHEMA_CODES
    ]


@pytest.mark.parametrize("case", RULES_CORPUS, ids=_ids(RULES_CORPUS))
def test_rule_breaches_are_well_formed_for_elexon(
    case: Case, make_if021, make_if041, official_spec_dir: Path
) -> None:
    """Only the schema can see a duration other than 30; every other breach passes it."""
    payload = _mutated(case, make_if021, make_if041)
    errors = [
        e.message for e in validator_for(case.interface, official_spec_dir).iter_errors(payload)
    ]
    assert errors == (["15 is less than the minimum of 30"] if case.id == "duration-15" else [])


@pytest.mark.parametrize("case", BOTH + STRICTER, ids=_ids(BOTH + STRICTER))
def test_rules_survive_malformed_payloads(case: Case, make_if021, make_if041) -> None:
    payload = _mutated(case, make_if021, make_if041)
    problems = validate_payload(payload, seen_references={})
    assert problems[0].code == "SCHEMA"


def test_every_rule_has_a_case() -> None:
    covered = {code for c in RULES_CORPUS for code in c.expect.split(",")}
    # schema codes; SCHEMA-ELEXON-NULL (strict nullable reading) is covered in test_spec_versions
    envelope = {"FILE", "ENVELOPE", "INTERFACE", "SCHEMA", "SCHEMA-ELEXON", "SCHEMA-ELEXON-NULL", "WB-SUR-DUP"}
    # rules of whole files and across messages: test_validator_files.py, test_validator_cross.py
    envelope |= {"JSON-DUP-KEY", "FILE-BOM", "FILE-KIND", "FILE-SIZE"}
    envelope |= {"WB-DAY-RESENT", "WB-READ-BACK", "WB-READ-RECONCILE", "WB-MPAN-DIRECTION"}
    assert set(RULES) - envelope == covered


def test_duplicate_reference_across_payloads(make_if021, make_if041) -> None:
    seen: dict[str, str] = {}
    assert validate_payload(make_if021(), seen_references=seen, source="a.json") == []
    problems = validate_payload(make_if021(), seen_references=seen, path="$[1].payload")
    assert [p.code for p in problems] == ["WB-SUR-DUP"]
    assert "a.json $.CommonBlock.S1.senderUniqueReference" in problems[0].message
    assert validate_payload(make_if041(), seen_references=seen) == []  # IF-041 reference differs


def test_interface_is_read_from_the_payload(make_if021) -> None:
    payload = make_if021()
    _s0(payload)["interfaceID"] = "IF-999"
    problems = validate_payload(payload)
    assert [(p.code, p.path) for p in problems] == [("INTERFACE", "$.CommonBlock.S0.interfaceID")]
    assert validate_payload([]) and validate_payload([])[0].code == "ENVELOPE"
    assert validate_payload(make_if021(), "IF-021") == []


# ---------------------------------------------------------------------------------------------
# The fast path agrees with jsonschema


@pytest.mark.parametrize("source", ["package", "elexon"])
@pytest.mark.parametrize("case", BOTH + STRICTER, ids=_ids(BOTH + STRICTER))
def test_fast_and_slow_validators_agree(case: Case, source: str, make_if021, make_if041, request):
    payload = _mutated(case, make_if021, make_if041)
    validator = _validator(case.interface, source, request)
    assert validator.is_valid(payload) == (not list(validator.iter_errors(payload)))


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.sampled_from(["sp", "v", "q", "x"])
    return st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 100) | st.sampled_from(["", "A", "0.000", "-1.000", "2025-03-30T00:30:00+00:00", "_H", "30"]),
    _containers,
    max_leaves=6,
)  # fmt: skip


def _locations(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _locations(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:3]):
            out += _locations(value, (*path, i))
    return out


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), interface=st.sampled_from(["IF-021", "IF-041"]), value=_json_values)
def test_random_damage(data, interface: str, value: Any, make_if021, make_if041, request):
    """Any value anywhere: no crash, and both engines give the same verdict on both schemas."""
    payload = make_if021(n_periods=3) if interface == "IF-021" else make_if041()
    location = data.draw(st.sampled_from(_locations(payload)[1:]))
    node = payload
    for key in location[:-1]:
        node = node[key]
    node[location[-1]] = value
    validators = [validator_for(interface)]
    try:
        validators.append(validator_for(interface, request.getfixturevalue("official_spec_dir")))
    except pytest.skip.Exception:  # Elexon's files absent: the package schema alone
        pass
    for validator in validators:
        assert validator.is_valid(payload) == (not list(validator.iter_errors(payload)))
    problems = validate_payload(payload, validator=validators, seen_references={})
    assert all(p.path.startswith("$") for p in problems)


# ---------------------------------------------------------------------------------------------
# Files


def _write_messages(path: Path, payloads: list[Any]) -> Path:
    path.write_bytes(orjson.dumps([{"payload": p} for p in payloads]))
    return path


def test_good_file(tmp_path: Path, make_if021, make_if041) -> None:
    path = _write_messages(
        tmp_path / "good.json", [make_if021(reference=1), make_if021(reference=2, first_day="2025-03-31"), make_if041()]
    )
    report = validate_files([path])
    assert report.ok and report.messages == 3 and report.invalid == 0
    text = format_report(report)
    assert f"OK    {path}  (3 messages)" in text
    assert text.splitlines()[-1].startswith("OK: 1 files, 3 messages, 0 invalid")


def _mixed_payloads(make_if021) -> list[Payload]:
    """Five messages (five days); the second has a misspelt key, the fourth a negative value."""
    payloads = [make_if021(reference=i, first_day=f"2025-03-{20 + i}") for i in range(5)]
    _m0(payloads[1])["gspGroupID"] = _m0(payloads[1]).pop("GSPGroupID")
    _periods(payloads[3])[7]["v"] = "-0.250"
    return payloads


def test_mixed_file(tmp_path: Path, make_if021) -> None:
    path = _write_messages(tmp_path / "mixed.json", _mixed_payloads(make_if021))
    report = validate_files([path])
    assert not report.ok
    file = report.files[0]
    assert (file.messages, file.invalid) == (5, 2)
    assert file.failures[0].path == "$[1].payload.CommonBlock.M0"
    assert "gspGroupID" in file.failures[0].message
    assert file.failures[1].path == (
        "$[3].payload.CustomBlock.B900.settlementDayConsumptionPeriods[0].consumptionPeriods[7].v"
    )
    assert file.problem_counts == {"SCHEMA": 3, "ECS1010": 1}
    text = format_report(report)
    assert f"FAIL  {path}  (2 of 5 invalid)" in text
    assert "      $[1].payload.CommonBlock.M0: Additional properties" in text
    assert "problems by rule: ECS1010 x1, SCHEMA x3" in text
    assert text.splitlines()[-1].startswith("FAIL: 1 files, 5 messages, 2 invalid")


def test_mixed_file_with_official_schema(tmp_path: Path, make_if021, official_spec_dir) -> None:
    path = _write_messages(tmp_path / "mixed.json", _mixed_payloads(make_if021))
    # Elexon's schema alone: a run with a specification also checks the package's by default
    file = validate_files([path], spec_dir=official_spec_dir, package_schema=False).files[0]
    assert (file.messages, file.invalid) == (5, 2)
    # Elexon's pattern allows a minus sign, so only ECS1010 objects to it there
    assert file.problem_counts == {"SCHEMA-ELEXON": 2, "ECS1010": 1}
    assert file.failures[1].code == "ECS1010"


def test_rules_can_be_switched_off(tmp_path: Path, make_if021) -> None:
    payload = make_if021()
    _m0(payload)["GSPGroupID"] = "_A"
    path = _write_messages(tmp_path / "rules.json", [payload])
    assert not validate_files([path]).ok
    assert validate_files([path], business_rules=False).ok


def test_duplicate_reference_across_files(tmp_path: Path, make_if021) -> None:
    first = _write_messages(tmp_path / "a.json", [make_if021(reference=7)])
    second = _write_messages(
        tmp_path / "b.json", [make_if021(reference=8, first_day="2025-03-31"), make_if021(reference=7)]
    )
    report = validate_files([first, second])
    assert [f.invalid for f in report.files] == [0, 1]
    problem = report.files[1].failures[0]
    assert (problem.code, problem.path) == (
        "WB-SUR-DUP",
        "$[1].payload.CommonBlock.S1.senderUniqueReference",
    )
    assert str(first) in problem.message


def test_unusable_files(tmp_path: Path, make_if021) -> None:
    not_json = tmp_path / "broken.json"
    not_json.write_text('[{"payload": ', encoding="utf-8")
    an_object = tmp_path / "object.json"
    an_object.write_bytes(orjson.dumps({"payload": make_if021()}))
    empty = tmp_path / "empty.json"
    empty.write_text("[]", encoding="utf-8")
    wrong_item = tmp_path / "item.json"
    wrong_item.write_bytes(orjson.dumps([{"payload": make_if021(), "meta": 1}, 5]))
    missing = tmp_path / "missing.json"
    report = validate_files([not_json, an_object, empty, wrong_item, missing])
    assert not report.ok
    errors = {f.path.name: f.error for f in report.files}
    assert (
        errors["broken.json"].code == "FILE" and "not valid JSON" in errors["broken.json"].message
    )
    assert errors["object.json"].code == "ENVELOPE"
    assert "found a JSON object" in errors["object.json"].message
    assert "empty" in errors["empty.json"].message
    assert "cannot read" in errors["missing.json"].message
    item = report.files[3]
    assert item.error is None and (item.messages, item.invalid) == (2, 2)
    assert [(p.code, p.path) for p in item.failures] == [("ENVELOPE", "$[0]"), ("ENVELOPE", "$[1]")]
    assert "['meta', 'payload']" in item.failures[0].message
    text = format_report(report)
    assert f"FAIL  {an_object}  (expected a JSON array of messages, found a JSON object)" in text
    assert f"FAIL  {not_json}  (not valid JSON" in text


def test_folders_are_searched(tmp_path: Path, make_if021, make_if041) -> None:
    (tmp_path / "out" / "if041").mkdir(parents=True)
    _write_messages(tmp_path / "out" / "if021.json", [make_if021()])
    _write_messages(tmp_path / "out" / "if041" / "part-0001.json", [make_if041()])
    (tmp_path / "out" / "manifest.json").write_text('{"files": []}', encoding="utf-8")
    (tmp_path / "out" / "settings.json").write_text('{"seed": 1}', encoding="utf-8")
    report = validate_files([tmp_path / "out"])
    assert report.ok
    assert [f.path.name for f in report.files] == ["if021.json", "part-0001.json"]
    assert sorted(p.name for p, _ in report.skipped) == ["manifest.json", "settings.json"]
    assert "SKIP" in format_report(report)
    nothing = validate_files([tmp_path / "out" / "if041" / "none"])
    assert not nothing.ok
    (tmp_path / "void").mkdir()
    assert not validate_files([tmp_path / "void"]).ok
    assert "no message files found" in format_report(validate_files([tmp_path / "void"]))


def test_failures_listed_are_capped(tmp_path: Path, make_if021) -> None:
    payloads = [make_if021(reference=i, n_periods=2) for i in range(25)]
    for payload in payloads:
        _periods(payload)[0]["q"] = "E5"
    report = validate_files([_write_messages(tmp_path / "many.json", payloads)])
    file = report.files[0]
    assert (file.invalid, len(file.failures)) == (25, 20)
    assert "... and 5 more invalid messages" in format_report(report)
    assert all(p.code == "ECS1015" for p in file.failures)

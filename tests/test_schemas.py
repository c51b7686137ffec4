"""The package's JSON Schemas, Elexon's converted ones, and valid payloads against both."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mhhs_workbench.codes import messages as codes
from mhhs_workbench.codes.identifiers import GSP_GROUPS, mpan_check_digit
from mhhs_workbench.validation.payload_rules import validate_payload
from mhhs_workbench.validation.schema import (
    ELEXON_URL_PREFIX,
    SchemaError,
    load_schema,
    official_schema,
    validator_for,
)

INTERFACES = ("IF-021", "IF-041")
IF021_COMBINATIONS = [(event, mqid) for event, mqs in codes.MQIDS_BY_EVENT.items() for mqid in mqs]


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, node) of a JSON document, depth first."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, i))


def _props(schema: dict[str, Any], *names: str) -> dict[str, Any]:
    """Follow ``properties`` (and array ``items``) of an inlined schema."""
    node = schema
    for name in names:
        node = node["items"] if name == "[]" else node["properties"][name]
    return node


# ---------------------------------------------------------------------------------------------
# The package's own schemas


@pytest.mark.parametrize("interface_id", INTERFACES)
def test_package_schema_is_valid_draft_2020_12(interface_id: str) -> None:
    schema = load_schema(interface_id)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_load_schema_returns_a_fresh_copy() -> None:
    load_schema("IF-021")["$defs"].clear()
    assert load_schema("IF-021")["$defs"]


def test_unknown_interface_is_refused() -> None:
    with pytest.raises(SchemaError, match="IF-999"):
        load_schema("IF-999")
    with pytest.raises(SchemaError, match="IF-999"):
        validator_for("IF-999")


@pytest.mark.parametrize("interface_id", INTERFACES)
def test_every_object_is_closed(interface_id: str) -> None:
    for path, node in _walk(load_schema(interface_id)):
        if isinstance(node, dict) and node.get("type") == "object":
            assert node.get("additionalProperties") is False, path


def test_shared_definitions_are_identical() -> None:
    if021, if041 = load_schema("IF-021")["$defs"], load_schema("IF-041")["$defs"]
    shared = (set(if021) & set(if041)) - {"S0", "CommonBlock", "CustomBlock"}
    assert {"S1", "A0", "M0", "dateTime", "dipId", "dipIdOrNull", "kWh"} <= shared
    for name in shared:
        assert if021[name] == if041[name], name


def test_package_enums_equal_the_code_lists() -> None:
    d21, d41 = load_schema("IF-021")["$defs"], load_schema("IF-041")["$defs"]
    expected = {
        "IF-021 event": (d21["S0"]["properties"]["eventCode"]["enum"], codes.IF021_EVENT_CODES),
        "IF-041 event": (d41["S0"]["properties"]["eventCode"]["enum"], codes.IF041_EVENT_CODES),
        "environment": (d21["S1"]["properties"]["environmentTag"]["enum"], codes.ENVIRONMENT_TAGS),
        "GSP group": (d21["M0"]["properties"]["GSPGroupID"]["enum"], GSP_GROUPS),
        "MQID": (
            d21["B045"]["properties"]["measurementQuantityID"]["enum"],
            codes.MEASUREMENT_QUANTITY_IDS,
        ),
        "q": (d21["B047"]["properties"]["q"]["enum"], codes.QUALITY_CODES),
        "e": (d21["B047"]["properties"]["e"]["enum"], (*codes.ESTIMATION_REASONS, None)),
        "arc": (d21["B047"]["properties"]["arc"]["enum"], (*codes.AMENDMENT_REASONS, None)),
        "connection": (
            d21["B067"]["properties"]["connectionTypeIndicator"]["enum"],
            codes.CONNECTION_TYPES,
        ),
        "reading method": (
            d41["B064"]["properties"]["readingMethod"]["enum"],
            codes.READING_METHODS,
        ),
        "site visit": (
            d41["B064"]["properties"]["siteVisitCheckCode"]["enum"],
            (*codes.SITE_VISIT_CHECK_CODES, None),
        ),
    }
    for name, (in_schema, constant) in expected.items():
        assert tuple(in_schema) == tuple(constant), name
    # no enum anywhere that the code lists do not hold
    known = {tuple(constant) for _, constant in expected.values()}
    for schema in (load_schema("IF-021"), load_schema("IF-041")):
        for path, node in _walk(schema):
            if path and path[-1] == "enum":
                assert tuple(node) in known, path
    assert d21["B900"]["properties"]["settlementDayConsumptionPeriods"]["maxItems"] == 200
    assert d21["B901"]["properties"]["consumptionPeriods"]["maxItems"] == 48
    assert d41["CustomBlock"]["properties"]["B065List"]["maxItems"] == 48


def test_code_lists_are_consistent() -> None:
    assert codes.ZE_CODES == ("ZE", "ZE1", "ZE2", "ZE3")
    assert codes.ACTUAL_CODES == ("A", "A1", "A2", "A3")
    assert set(codes.ESTIMATE_CODES) == {
        "E",
        *(f"E{i}" for i in range(10)),
        *(f"EA{i}" for i in range(1, 14)),
        *(f"EAE{i}" for i in range(1, 4)),
        *(f"AAE{i}" for i in range(1, 4)),
    }
    assert len(codes.QUALITY_CODES) == len(set(codes.QUALITY_CODES)) == 38
    assert codes.ESTIMATION_REASONS == tuple(str(i) for i in range(1, 11))
    assert set(codes.EVENT_CODES) == set(codes.INTERFACE_IDS)
    assert sorted(m for mqs in codes.MQIDS_BY_EVENT.values() for m in mqs) == sorted(
        codes.MEASUREMENT_QUANTITY_IDS
    )
    assert len(codes.SITE_VISIT_CHECK_CODES) == 54


# ---------------------------------------------------------------------------------------------
# Elexon's official schema, converted


@pytest.mark.parametrize("interface_id", INTERFACES)
def test_official_schema_is_self_contained_json_schema(
    official_spec_dir: Path, interface_id: str
) -> None:
    schema = official_schema(official_spec_dir, interface_id)
    jsonschema.Draft202012Validator.check_schema(schema)
    keys = {path[-1] for path, _ in _walk(schema) if path and isinstance(path[-1], str)}
    assert not keys & {"$ref", "nullable", "example"}
    assert schema["properties"]["CommonBlock"]["required"] == ["S0", "S1", "M0"]


def test_official_enums_equal_the_code_lists(official_spec_dir: Path) -> None:
    s21 = official_schema(official_spec_dir, "IF-021")
    s41 = official_schema(official_spec_dir, "IF-041")
    period = _props(
        s21,
        "CustomBlock",
        "B900",
        "settlementDayConsumptionPeriods",
        "[]",
        "consumptionPeriods",
        "[]",
    )
    reading = _props(s41, "CustomBlock", "B064List", "[]")
    common = s21["properties"]["CommonBlock"]
    assert tuple(_props(common, "S0", "eventCode")["enum"]) == codes.IF021_EVENT_CODES
    assert tuple(_props(s41, "CommonBlock", "S0", "eventCode")["enum"]) == codes.IF041_EVENT_CODES
    assert tuple(_props(common, "S1", "environmentTag")["enum"]) == codes.ENVIRONMENT_TAGS
    assert tuple(_props(common, "M0", "GSPGroupID")["enum"]) == GSP_GROUPS
    mqid = _props(s21, "CustomBlock", "B900", "MQID", "measurementQuantityID")
    assert tuple(mqid["enum"]) == codes.MEASUREMENT_QUANTITY_IDS
    assert tuple(period["properties"]["q"]["enum"]) == codes.QUALITY_CODES
    assert tuple(period["properties"]["e"]["enum"]) == (*codes.ESTIMATION_REASONS, None)
    assert tuple(period["properties"]["arc"]["enum"]) == (*codes.AMENDMENT_REASONS, None)
    connection = _props(s21, "CustomBlock", "B067", "connectionTypeIndicator")
    assert tuple(connection["enum"]) == codes.CONNECTION_TYPES
    assert tuple(reading["properties"]["readingMethod"]["enum"]) == codes.READING_METHODS
    assert tuple(reading["properties"]["siteVisitCheckCode"]["enum"]) == (
        *codes.SITE_VISIT_CHECK_CODES,
        None,
    )
    # OpenAPI 'nullable: true' became a null type
    assert period["properties"]["e"]["type"] == ["string", "null"]
    assert _props(common, "S1", "subText")["type"] == ["string", "null"]


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_openapi_conversion_on_a_small_spec(tmp_path: Path) -> None:
    """Cross-file and local $refs, nullable forms, OpenAPI-only keys, ECMA-262 regex digits."""
    _write(
        tmp_path,
        "Interfaces-EventCodes-unresolved.yaml",
        f"""
components:
  schemas:
    IF-999-Payload:
      type: object
      additionalProperties: false
      properties:
        code:
          $ref: '{ELEXON_URL_PREFIX}Items.yaml#/components/schemas/Code'
        maybeCode:
          $ref: '{ELEXON_URL_PREFIX}Items.yaml#/components/schemas/Code'
          nullable: true
        local:
          $ref: '#/components/schemas/Local'
        example:
          type: integer
          minimum: 0
          exclusiveMinimum: true
          example: 5
"""
        + "    Local:\n      type: string\n      pattern: ^\\d{2}[\\d-]$\n",
    )
    _write(
        tmp_path,
        "Items.yaml",
        """
components:
  schemas:
    Code:
      type: string
      nullable: true
      enum: ['A', 'B']
      example: A
""",
    )
    schema = official_schema(tmp_path, "IF-999")
    props = schema["properties"]
    code = {"type": ["string", "null"], "enum": ["A", "B", None]}
    assert props["code"] == code
    assert props["maybeCode"] == {"anyOf": [{"type": "null"}, code]}
    assert props["local"] == {"type": "string", "pattern": "^[0-9]{2}[0-9-]$"}
    # a property named like an OpenAPI keyword survives; boolean exclusiveMinimum is converted
    assert props["example"] == {"type": "integer", "exclusiveMinimum": 0}
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"code": None, "maybeCode": "B", "local": "12-", "example": 1})
    assert not validator.is_valid({"example": 0})


def test_openapi_conversion_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="not found"):
        official_schema(tmp_path / "missing", "IF-021")
    with pytest.raises(SchemaError, match="not found"):
        official_schema(tmp_path, "IF-021")
    _write(
        tmp_path,
        "Interfaces-EventCodes-unresolved.yaml",
        """
components:
  schemas:
    IF-998-Payload:
      type: object
      properties:
        next:
          $ref: '#/components/schemas/IF-998-Payload'
    IF-997-Payload:
      $ref: '#/components/schemas/Nowhere'
""",
    )
    with pytest.raises(SchemaError, match="circular"):
        official_schema(tmp_path, "IF-998")
    with pytest.raises(SchemaError, match="Nowhere"):
        official_schema(tmp_path, "IF-997")


def test_validators_are_cached(official_spec_dir: Path) -> None:
    assert validator_for("IF-021") is validator_for("IF-021")
    elexon = validator_for("IF-021", official_spec_dir)
    assert elexon is validator_for("IF-021", str(official_spec_dir))
    assert elexon is not validator_for("IF-021")
    assert (elexon.source, validator_for("IF-041").source) == ("elexon", "package")


def test_dollar_means_end_of_input_in_both_engines(make_if021, official_spec_dir: Path) -> None:
    """Python's '$' also matches before a final newline; ECMA-262's (JSON Schema's) does not."""
    payload = make_if021()
    period = payload["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"][0]
    period["consumptionPeriods"][0]["v"] = "1.000\n"
    for validator in (validator_for("IF-021"), validator_for("IF-021", official_spec_dir)):
        assert not validator.is_valid(payload)
        assert any("1.000\\n" in e.message for e in validator.iter_errors(payload))
    period["consumptionPeriods"][0]["v"] = "\u0661.000"  # ARABIC-INDIC DIGIT ONE
    assert not validator_for("IF-021", official_spec_dir).is_valid(payload)


# ---------------------------------------------------------------------------------------------
# Valid payloads pass both schemas and every business rule


@pytest.mark.parametrize(("event", "mqid"), IF021_COMBINATIONS)
def test_valid_if021_payloads(make_if021, official_spec_dir: Path, event: str, mqid: str) -> None:
    payload = make_if021(event, mqid, days=3)
    ours, elexon = validator_for("IF-021"), validator_for("IF-021", official_spec_dir)
    assert [e.message for e in ours.iter_errors(payload)] == []
    assert [e.message for e in elexon.iter_errors(payload)] == []
    assert ours.is_valid(payload) and elexon.is_valid(payload)
    assert validate_payload(payload, validator=[ours, elexon], seen_references={}) == []


@pytest.mark.parametrize("event", codes.IF041_EVENT_CODES)
def test_valid_if041_payloads(make_if041, official_spec_dir: Path, event: str) -> None:
    payload = make_if041(event)
    ours, elexon = validator_for("IF-041"), validator_for("IF-041", official_spec_dir)
    assert [e.message for e in ours.iter_errors(payload)] == []
    assert [e.message for e in elexon.iter_errors(payload)] == []
    assert validate_payload(payload, validator=[ours, elexon], seen_references={}) == []


def test_valid_edge_cases(make_if021, make_if041, official_spec_dir: Path) -> None:
    """200 days; one period a day; IDNO MPAN; nulls filled in; B065List alone; clock-change day."""
    validators = [validator_for("IF-021"), validator_for("IF-021", official_spec_dir)]
    long = make_if021(days=200, first_day="2024-10-01")
    assert validate_payload(long, validator=validators) == []
    short = make_if021("[ReactivePower]", "RE", n_periods=1, first_day="2025-10-26")
    prefix = "245678901234"  # an IDNO: not a licensed distributor, so any GSP group goes
    short["CommonBlock"]["M0"].update(MPANCore=prefix + mpan_check_digit(prefix), GSPGroupID="_C")
    short["CommonBlock"]["S1"].update(subText="regression run 7", senderCorrelationID="C-1")
    short["CommonBlock"]["S1"]["DIPConnectionProviderID"] = "9000000001"
    short["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"][0]["consumptionPeriods"][
        0
    ].update(q="EA7", e="4", arc="M")
    assert validate_payload(short, validator=validators) == []
    reads = make_if041("[ReadingCOS]")
    del reads["CustomBlock"]["B064List"]
    del reads["CommonBlock"]["A0"]
    assert validate_payload(reads, validator=validator_for("IF-041")) == []
    assert validate_payload(reads, validator=validator_for("IF-041", official_spec_dir)) == []


def test_validation_is_fast(make_if021) -> None:
    """A day of 48 periods is checked (schema and rules) well within a millisecond or two."""
    payload = make_if021()
    validate_payload(payload)  # compile once
    n = 500
    start = time.perf_counter()
    for _ in range(n):
        assert not validate_payload(payload)
    per_payload = (time.perf_counter() - start) / n
    assert per_payload < 0.005, f"{per_payload * 1e3:.2f} ms per payload"


@pytest.mark.parametrize("interface_id", codes.INTERFACE_IDS)
def test_schema_date_time_and_reference_patterns_are_the_shared_ones(interface_id: str) -> None:
    from mhhs_workbench.codes.identifiers import SENDER_UNIQUE_REFERENCE_PATTERN

    schema = load_schema(interface_id)
    assert schema["$defs"]["dateTime"]["pattern"] == codes.DIP_DATETIME_PATTERN
    text = str(schema)
    assert SENDER_UNIQUE_REFERENCE_PATTERN.pattern.replace(r"\d", "[0-9]") in text.replace("\\\\", "\\")

"""Releases of Elexon's DIP API: generated data sets checked against 2.1.0 and 2.2.1, both readings.

Real files throughout: Elexon's specifications are read from ``../shared/reference`` (2.1.0 as its
folder of unresolved YAML, 2.2.1 as its resolved JSON), data sets are generated, and the CLI and
an evidence notebook are run as a user runs them.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from conftest import missing_reference

from mhhs_workbench.cli import main
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.notebook import evidence
from mhhs_workbench.publish.manifest import MANIFEST, verify
from mhhs_workbench.scenario import (
    DataQuality,
    Event,
    MeterMix,
    Scenario,
    ScenarioError,
    demo_scenario,
)
from mhhs_workbench.validation.files import validate_files
from mhhs_workbench.validation.payload_rules import validate_payload
from mhhs_workbench.validation.problems import format_report
from mhhs_workbench.validation.schema import official_schema, validator_for
from mhhs_workbench.validation.spec_choice import AUTO_SPEC
from mhhs_workbench.validation.spec_versions import (
    KNOWN_VERSIONS,
    LATEST_VERSION,
    SPEC_PATH_ENV,
    SchemaError,
    find_version,
    load_spec,
    resolve_spec,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
YAML_2_1_0 = REFERENCE / "dip-api"
JSON_2_2_1 = REFERENCE / "dip-api-2.2.1" / "api-spec-2.2.1-resolved.json"
VERSIONS = ("2.1.0", "2.2.1")
INTERFACES = ("IF-021", "IF-041")


@pytest.fixture(scope="module")
def reference() -> Path:
    """The folder holding both releases; the test is skipped (failed in CI) when it is absent."""
    for needed in (YAML_2_1_0, JSON_2_2_1):
        if not needed.exists():
            missing_reference(f"Elexon's DIP API specification not found at {needed}")
    return REFERENCE


@pytest.fixture(scope="module")
def spec_path(reference: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``$MHHS_WORKBENCH_SPEC_PATH`` set to the reference folder, and no user data folder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SPEC_PATH_ENV, str(reference))
        mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg")))
        yield reference


@pytest.fixture
def no_spec_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A search path that holds nothing: the package must work without Elexon's files."""
    monkeypatch.setenv(SPEC_PATH_ENV, str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "empty"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data set (October clock change, every quality case)."""
    out = tmp_path_factory.mktemp("demo") / "demo-data"
    generate_dataset(demo_scenario(), out, progress=False)
    return out


def clock_change_scenario() -> Scenario:
    """Over the March 2025 clock change, made for 2.1.0, with every imperfection."""
    return Scenario(
        name="march",
        seed=11,
        start_date=dt.date(2025, 3, 27),
        end_date=dt.date(2025, 4, 2),
        spec_version="2.1.0",
        meters=MeterMix(count=30, pv_share=0.4, ev_share=0.3, heat_pump_share=0.2),
        data_quality=DataQuality(missing_share=0.02, comms_fault_share=0.3, deenergised_share=0.2,
                                 comms_fault_days=[1, 2], deenergised_days=[1, 2]),
        events=[Event(date=dt.date(2025, 3, 30), share=0.3)],
    )


@pytest.fixture(scope="module")
def march_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("march") / "data"
    generate_dataset(clock_change_scenario(), out, progress=False)
    return out


def _messages(folder: Path) -> Iterator[dict[str, Any]]:
    """Payloads of the IF-021 and IF-041 messages (the settlement reports have no such nulls)."""
    for file in sorted(f for i in INTERFACES for f in (folder / "messages" / i).rglob("*.json")):
        for item in orjson.loads(file.read_bytes()):
            yield item["payload"]


def _predicted_strict_rejections(folder: Path) -> tuple[dict[str, int], dict[str, int], int]:
    """What the strict reading of 2.2.1 must refuse, counted from the files themselves.

    Returns messages per interface, those among them with a null ``e`` or ``arc`` (IF-021) or a
    null ``siteVisitCheckCode`` (IF-041), and the number of such nulls.
    """
    messages = dict.fromkeys(INTERFACES, 0)
    rejected = dict.fromkeys(INTERFACES, 0)
    nulls = 0
    for payload in _messages(folder):
        interface = payload["CommonBlock"]["S0"]["interfaceID"]
        messages[interface] += 1
        if interface == "IF-021":
            found = sum(
                (period["e"] is None) + (period["arc"] is None)
                for day in payload["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"]
                for period in day["consumptionPeriods"]
            )
        else:
            found = sum(r["siteVisitCheckCode"] is None for r in payload["CustomBlock"].get("B064List", []))
        nulls += found
        rejected[interface] += found > 0
    return messages, rejected, nulls


def _invalid_by_interface(report: Any) -> dict[str, int]:
    out = dict.fromkeys(INTERFACES, 0)
    for file in report.files:
        interface = file.path.name[:6]
        if interface not in out:  # a settlement report: valid under either reading
            assert file.invalid == 0, file.failures
            continue
        out[interface] += file.invalid
    return out


def _write(path: Path, payloads: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps([{"payload": p} for p in payloads]))
    return path


# --------------------------------------------------------------------------- releases by checksum


def test_known_releases_are_named_by_checksum(reference: Path, tmp_path: Path) -> None:
    yaml_spec, json_spec = load_spec(YAML_2_1_0), load_spec(JSON_2_2_1)
    assert (yaml_spec.kind, yaml_spec.version, yaml_spec.sha256) == ("yaml", "2.1.0", KNOWN_VERSIONS["2.1.0"].sha256)
    assert (json_spec.kind, json_spec.version, json_spec.sha256) == ("json", "2.2.1", KNOWN_VERSIONS["2.2.1"].sha256)
    assert LATEST_VERSION == "2.2.1"
    # the name does not matter, the bytes do: a renamed copy is still the release ...
    renamed = tmp_path / "whatever"
    shutil.copytree(YAML_2_1_0, renamed)
    assert load_spec(renamed).version == "2.1.0"
    shutil.copyfile(JSON_2_2_1, tmp_path / "spec.json")
    assert load_spec(tmp_path / "spec.json").version == "2.2.1"
    # ... and a changed byte makes it an unrecognised specification, still usable and reported
    data = (tmp_path / "spec.json").read_bytes()
    (tmp_path / "spec.json").write_bytes(data.replace(b'"2.2.1"', b'"2.2.2"', 1))
    changed = load_spec(tmp_path / "spec.json")
    assert changed.version is None and changed.sha256 != json_spec.sha256
    assert "unrecognised" in changed.describe() and changed.sha256 in changed.describe()


def test_versions_are_found_on_the_search_path(reference: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(SPEC_PATH_ENV, f"{tmp_path / 'nothing'}:{reference}")
    assert find_version("2.1.0").path.resolve() == YAML_2_1_0.resolve()
    assert find_version("2.2.1").path.resolve() == JSON_2_2_1.resolve()
    assert resolve_spec("2.2.1") == load_spec(JSON_2_2_1)
    # the files themselves may lie in a search-path folder
    monkeypatch.setenv(SPEC_PATH_ENV, str(JSON_2_2_1.parent))
    assert find_version("2.2.1").version == "2.2.1"
    # a folder of the right name holding other bytes is not the release
    fake = tmp_path / "fake"
    (fake / "dip-api-2.2.1").mkdir(parents=True)
    (fake / "dip-api-2.2.1" / JSON_2_2_1.name).write_text("{}")
    monkeypatch.setenv(SPEC_PATH_ENV, str(fake))
    with pytest.raises(SchemaError) as caught:
        find_version("2.2.1")
    message = str(caught.value)
    assert "DIP API 2.2.1 not found" in message and str(fake) in message and SPEC_PATH_ENV in message
    assert "not 2.2.1's" in message and "\n" not in message
    with pytest.raises(SchemaError, match="unknown DIP API version '3.0.0'; known versions: 2.1.0, 2.2.1"):
        resolve_spec("3.0.0")


# --------------------------------------------------------------------------- the two readings


def _field(schema: dict[str, Any], interface: str, name: str) -> dict[str, Any]:
    custom = schema["properties"]["CustomBlock"]["properties"]
    if interface == "IF-021":
        day = custom["B900"]["properties"]["settlementDayConsumptionPeriods"]["items"]
        return day["properties"]["consumptionPeriods"]["items"]["properties"][name]
    return custom["B064List"]["items"]["properties"][name]


@pytest.mark.parametrize("version", VERSIONS)
def test_nullable_readings_of_the_enums(spec_path: Path, version: str) -> None:
    for interface, name in (("IF-021", "e"), ("IF-021", "arc"), ("IF-041", "siteVisitCheckCode")):
        lenient = _field(official_schema(version, interface), interface, name)
        strict = _field(official_schema(version, interface, nullable="strict"), interface, name)
        assert lenient["type"] == strict["type"] == ["string", "null"]
        assert None in lenient["enum"]
        # 2.1.0 lists null in these enums itself; 2.2.1 removed it and kept nullable: true
        assert (None in strict["enum"]) == (version == "2.1.0")
        assert [v for v in strict["enum"] if v is not None] == [v for v in lenient["enum"] if v is not None]
    with pytest.raises(ValueError, match="nullable reading 'loose'"):
        official_schema(version, "IF-021", nullable="loose")


def test_nullable_readings_in_a_small_yaml_folder_and_json_document(tmp_path: Path) -> None:
    """The conversion applies the reading to both forms of a specification."""
    (tmp_path / "yaml").mkdir()
    (tmp_path / "yaml" / "Interfaces-EventCodes-unresolved.yaml").write_text(
        "components:\n  schemas:\n    IF-999-Payload:\n      type: object\n      properties:\n"
        "        code: {type: string, nullable: true, enum: [A, B]}\n"
        "        listed: {type: string, nullable: true, enum: [A, null]}\n"
    )
    document = {"openapi": "3.0.0", "components": {"schemas": {
        "IF-999-Payload": {"type": "object", "properties": {
            "code": {"$ref": "#/components/schemas/Code"},
            "listed": {"type": "string", "nullable": True, "enum": ["A", None]}}},
        "Code": {"type": "string", "nullable": True, "enum": ["A", "B"]}}}}
    (tmp_path / "resolved.json").write_bytes(orjson.dumps(document))
    for spec in (tmp_path / "yaml", tmp_path / "resolved.json"):
        schemas = {r: official_schema(spec, "IF-999", nullable=r) for r in ("lenient", "strict")}
        assert schemas["lenient"]["properties"]["code"]["enum"] == ["A", "B", None]
        assert schemas["strict"]["properties"]["code"]["enum"] == ["A", "B"]
        assert schemas["strict"]["properties"]["listed"]["enum"] == ["A", None]  # listed: allowed


# --------------------------------------------------------------------------- data sets, both releases


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("which", ["demo_dir", "march_dir"])
def test_generated_data_sets_are_valid_under_every_release(spec_path: Path, which: str, version: str,
                                                           request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue(which)
    report = validate_files([folder], spec=version)
    assert report.ok, format_report(report)
    assert report.messages > 200 and report.invalid == 0
    assert report.spec_version == version and report.spec_sha256 == KNOWN_VERSIONS[version].sha256
    assert report.package_schema and report.business_rules and report.nullable == "lenient"
    text = format_report(report)
    assert text.splitlines()[0] == (f"checked against: package JSON Schema, Elexon DIP API {version} "
                                    f"(sha256 {KNOWN_VERSIONS[version].sha256}), nullable read leniently, "
                                    "business rules")
    assert text.splitlines()[-1].endswith(f"; Elexon DIP API {version}, nullable lenient")
    # read strictly, 2.1.0 (which lists null in its enums) accepts the same messages
    if version == "2.1.0":
        assert validate_files([folder], spec=version, nullable="strict").ok


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo_dir", "march_dir"])
def test_strict_reading_of_2_2_1_rejects_exactly_the_predicted_messages(
    spec_path: Path, which: str, request: pytest.FixtureRequest
) -> None:
    folder = request.getfixturevalue(which)
    messages, predicted, nulls = _predicted_strict_rejections(folder)
    report = validate_files([folder], spec="2.2.1", nullable="strict")
    assert _invalid_by_interface(report) == predicted
    # every actual period has neither an estimation reason nor an amendment: no IF-021 passes
    assert predicted["IF-021"] == messages["IF-021"] > 0
    assert 0 < predicted["IF-041"] <= messages["IF-041"]
    # they fail for that reason alone, reported as such: one problem per null, naming the reading
    assert report.strict_null_only == report.invalid == sum(predicted.values())
    counts = sum((f.problem_counts for f in report.files), start=Counter())
    assert dict(counts) == {"SCHEMA-ELEXON-NULL": nulls}
    first = next(f.failures[0] for f in report.files if f.failures)
    assert first.message.startswith("Elexon DIP API 2.2.1 (strict nullable): null is refused under "
                                    "the strict reading of OpenAPI 3.0 nullable")
    text = format_report(report)
    assert f"note: {report.invalid} of the invalid messages fail only because the strict reading" in text
    assert text.splitlines()[-1].endswith("; Elexon DIP API 2.2.1, nullable strict")
    print(f"{which}: strict 2.2.1 rejects {predicted['IF-021']} of {messages['IF-021']} IF-021 and "
          f"{predicted['IF-041']} of {messages['IF-041']} IF-041 messages ({nulls} nulls)")


def test_strict_shortcut_gives_the_errors_of_the_full_check(spec_path: Path, make_if021, make_if041) -> None:
    """Strict failures that the lenient reading accepts are found without jsonschema's traversal;
    the errors must be those jsonschema gives, and anything else falls back to the full check."""
    for payload in (make_if021(days=2), make_if041()):
        interface = payload["CommonBlock"]["S0"]["interfaceID"]
        strict = validator_for(interface, "2.2.1", nullable="strict")
        assert strict._null_sites is not None  # the shortcut is taken for these schemas
        full = sorted(strict.iter_errors(payload), key=lambda e: [(isinstance(p, str), p) for p in e.absolute_path])
        quick = strict.errors(payload)
        assert full and [(list(e.absolute_path), e.message, e.validator) for e in quick] == [
            (list(e.absolute_path), e.message, e.validator) for e in full]
    broken = make_if021()
    broken["CommonBlock"]["M0"]["GSPGroupID"] = "_Z"  # not a null: the full check reports it too
    problems = validate_payload(broken, validator=[validator_for("IF-021", "2.2.1", nullable="strict")])
    assert {p.code for p in problems} == {"SCHEMA-ELEXON", "SCHEMA-ELEXON-NULL", "WB-GSP"}


# --------------------------------------------------------------------------- the sender reference


def test_four_digit_interface_number_passes_2_1_0_and_fails_2_2_1(spec_path: Path, tmp_path: Path,
                                                                 make_if021) -> None:
    payload = make_if021()
    reference = "S-IF-0210-1000000001-SDS-20250331-000001"
    payload["CommonBlock"]["S1"]["senderUniqueReference"] = reference
    path = _write(tmp_path / "IF-021_000001.json", [payload])
    assert validate_files([path], spec="2.1.0").ok
    report = validate_files([path], spec="2.2.1")
    assert not report.ok
    problem = report.files[0].failures[0]
    assert problem.code == "SCHEMA-ELEXON"
    assert problem.path == "$[0].payload.CommonBlock.S1.senderUniqueReference"
    assert problem.message.startswith(f"Elexon DIP API 2.2.1: '{reference}' does not match")
    assert f"{problem}" in format_report(report)
    # what the generator makes satisfies both patterns (it cannot make a 4-digit number)
    patterns = [re.compile(_common(v)["S1"]["properties"]["senderUniqueReference"]["pattern"]) for v in VERSIONS]
    built = make_if021()["CommonBlock"]["S1"]["senderUniqueReference"]
    assert all(p.fullmatch(built) for p in patterns) and not patterns[1].search(reference)


def _common(version: str) -> dict[str, Any]:
    return official_schema(version, "IF-021")["properties"]["CommonBlock"]["properties"]


@pytest.mark.slow
def test_generated_references_satisfy_both_patterns(spec_path: Path, demo_dir: Path) -> None:
    patterns = [re.compile(_common(v)["S1"]["properties"]["senderUniqueReference"]["pattern"]) for v in VERSIONS]
    references = [p["CommonBlock"]["S1"]["senderUniqueReference"] for p in _messages(demo_dir)]
    assert len(references) > 1000
    assert all(all(pattern.fullmatch(r) for pattern in patterns) for r in references)


# --------------------------------------------------------------------------- defaults and the scenario key


@pytest.mark.slow
def test_scenario_spec_version_is_checked_recorded_and_chooses_the_default(spec_path: Path, march_dir: Path,
                                                                          demo_dir: Path, tmp_path: Path) -> None:
    assert Scenario().spec_version == demo_scenario().spec_version == LATEST_VERSION
    assert "spec_version: 2.2.1" in (Path(__file__).resolve().parents[1] / "examples" / "demo.yaml").read_text()
    with pytest.raises(ScenarioError, match=r"spec_version: '2\.0\.0' is not a known DIP API version; "
                                           r"expected one of 2\.1\.0, 2\.2\.1"):
        Scenario.from_dict({"spec_version": "2.0.0"})
    bad = tmp_path / "s.yaml"
    bad.write_text("meters:\n  count: 2\nspec_version: 2.3.9\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:3: spec_version"):
        Scenario.from_yaml(bad)
    manifest = orjson.loads((march_dir / MANIFEST).read_bytes())
    assert manifest["scenario"]["spec_version"] == "2.1.0"
    assert "spec_version: 2.1.0" in (march_dir / "scenario.yaml").read_text()
    # the data set's validation defaults to its own release; loose files to the newest
    assert validate_files([march_dir / "messages" / "IF-041"], spec=AUTO_SPEC).spec_version == "2.1.0"
    assert validate_files([demo_dir], spec=AUTO_SPEC).spec_version == "2.2.1"
    loose = _write(tmp_path / "loose" / "IF-041_000001.json",
                   list(_messages(march_dir))[-2:])
    assert validate_files([loose], spec=AUTO_SPEC).spec_version == LATEST_VERSION


def test_without_elexons_files_the_default_run_still_validates(no_spec_path: Path, march_dir: Path) -> None:
    report = validate_files([march_dir], spec=AUTO_SPEC)
    assert report.ok and report.spec is None
    assert "Elexon's schema not checked: DIP API 2.1.0 not found" in report.spec_note
    assert format_report(report).splitlines()[0].startswith(
        "checked against: package JSON Schema, business rules (Elexon's schema not checked")


# --------------------------------------------------------------------------- the CLI


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, ["validate", *args])


def test_cli_names_the_release_it_checked(spec_path: Path, march_dir: Path) -> None:
    sha = {v: KNOWN_VERSIONS[v].sha256 for v in VERSIONS}
    cases = {
        ("--spec", "2.2.1"): "2.2.1",
        ("--spec", str(JSON_2_2_1)): "2.2.1",
        ("--spec", str(YAML_2_1_0)): "2.1.0",
        ("--spec-dir", str(YAML_2_1_0)): "2.1.0",
        (): "2.1.0",  # the data set's own spec_version
    }
    for options, version in cases.items():
        done = _run(str(march_dir), *options)
        assert done.exit_code == 0, (options, done.output)
        assert f"Elexon DIP API {version} (sha256 {sha[version]}), nullable read leniently" in done.stdout
        assert done.stdout.splitlines()[-1].startswith("OK: ")


@pytest.mark.slow
def test_cli_strict_reading_reports_the_rejections(spec_path: Path, march_dir: Path) -> None:
    done = _run(str(march_dir / "messages"), "--spec", "2.2.1", "--nullable", "strict")
    assert done.exit_code == 1, done.output
    assert "SCHEMA-ELEXON-NULL" in done.stdout and "strict reading of OpenAPI 3.0 nullable" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("FAIL: ")
    assert _run(str(march_dir / "messages"), "--spec", "2.1.0", "--nullable", "strict").exit_code == 0


@pytest.mark.parametrize(("options", "expected"), [
    (("--spec", "9.9.9"), "error: unknown DIP API version '9.9.9'; known versions: 2.1.0, 2.2.1"),
    (("--spec", "/no/such/spec.json"), "error: Elexon specification '/no/such/spec.json' not found: neither a known DIP API version"),
    (("--spec-dir", "/no/such/folder"), "error: Elexon specification '/no/such/folder' not found: neither a known DIP API version"),
    (("--spec", "2.2.1", "--spec-dir", "x"), "error: give --spec or --spec-dir, not both"),
    (("--spec", "2.2.1"), "error: DIP API 2.2.1 not found: looked for dip-api-2.2.1/api-spec-2.2.1-resolved.json"),
])
def test_cli_unusable_specification_is_one_error_line(no_spec_path: Path, tmp_path: Path, make_if021,
                                                       options: tuple[str, ...], expected: str) -> None:
    path = _write(tmp_path / "IF-021_000001.json", [make_if021()])
    done = _run(str(path), *options)
    assert done.exit_code == 2, done.output
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), done.stderr
    assert done.stdout == "" and "Traceback" not in done.output
    if options == ("--spec", "2.2.1"):
        assert str(no_spec_path) in lines[0] and SPEC_PATH_ENV in lines[0]


def test_cli_a_folder_that_is_not_a_specification(no_spec_path: Path, tmp_path: Path, make_if021) -> None:
    path = _write(tmp_path / "msgs" / "IF-021_000001.json", [make_if021()])
    done = _run(str(path), "--spec", str(tmp_path / "msgs"))
    assert done.exit_code == 2 and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: Elexon specification file ") and "not found" in done.stderr
    (tmp_path / "broken.json").write_text("{not json")
    done = _run(str(path), "--spec", str(tmp_path / "broken.json"))
    assert done.exit_code == 2 and len(done.stderr.splitlines()) == 1
    assert "is not a readable OpenAPI document" in done.stderr
    (tmp_path / "odd.json").write_bytes(orjson.dumps({"components": {"schemas": {
        "IF-021-Payload": {"type": "object", "minProperties": "two"}}}}))
    done = _run(str(path), "--spec", str(tmp_path / "odd.json"))
    assert done.exit_code == 2 and len(done.stderr.splitlines()) == 1
    assert "IF-021-Payload is not a usable schema" in done.stderr


# --------------------------------------------------------------------------- evidence and manifest


@pytest.mark.slow
def test_evidence_names_the_release_and_the_manifest_records_it(spec_path: Path, march_dir: Path,
                                                                tmp_path: Path) -> None:
    copy = tmp_path / "march"
    shutil.copytree(march_dir, copy)
    result = evidence.validation(copy, "2.2.1")
    assert result.ok and result.spec is not None and result.spec.version == "2.2.1"
    sha = KNOWN_VERSIONS["2.2.1"].sha256
    assert f"Elexon's official DIP API schema 2.2.1 (sha256 {sha})" in result.headline
    assert f"DIP API 2.2.1 (sha256 {sha})" in result._repr_markdown_()
    # the older spec_dir keyword still works, and an empty spec means the data set's own release
    assert evidence.validation(copy, spec_dir=YAML_2_1_0).spec.version == "2.1.0"
    assert evidence.validation(copy, "").spec.version == "2.1.0"

    evidence.verdict(result, dataset=copy)
    first = (copy / MANIFEST).read_bytes()
    assert verify(copy) == []
    recorded = orjson.loads(first)["validations"]
    assert recorded == [{"spec": {"version": "2.2.1", "sha256": sha, "kind": "json", "nullable": "lenient"},
                         "package_schema": True, "business_rules": True, "files": len(result.report.files),
                         "messages": result.report.messages, "invalid": 0, "ok": True}]
    evidence.verdict(evidence.validation(copy, "2.2.1"), dataset=copy)
    assert (copy / MANIFEST).read_bytes() == first  # the same check again: the same bytes
    strict = evidence.validation(copy, "2.2.1", nullable="strict")
    evidence.verdict(strict, dataset=copy, fail=False)
    evidence.record_validation(copy, evidence.validation(copy, "2.1.0"))
    assert verify(copy) == []
    kept = orjson.loads((copy / MANIFEST).read_bytes())["validations"]
    assert sorted((v["spec"]["version"], v["spec"]["nullable"], v["ok"]) for v in kept) == [
        ("2.1.0", "lenient", True), ("2.2.1", "lenient", True), ("2.2.1", "strict", False)]


@pytest.mark.slow
def test_validate_messages_notebook_names_the_release(spec_path: Path, march_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("papermill")
    copy = tmp_path / "march"
    shutil.copytree(march_dir, copy)
    done = CliRunner().invoke(main, ["run", "validate_messages", "-p", "path", str(copy), "-p", "spec", "2.2.1"])
    assert done.exit_code == 0, done.output
    notebook = (copy / "evidence" / "validate_messages.ipynb").read_text()
    assert f"DIP API schema 2.2.1 (sha256 {KNOWN_VERSIONS['2.2.1'].sha256})" in notebook
    manifest = orjson.loads((copy / MANIFEST).read_bytes())
    assert [v["spec"]["version"] for v in manifest["validations"]] == ["2.2.1"]
    assert "evidence/validate_messages.ipynb" in {f["path"] for f in manifest["files"]}
    assert verify(copy) == []


# --------------------------------------------------------------------------- compiled once, fast


def test_each_schema_is_compiled_once_per_release_and_reading(spec_path: Path, make_if021) -> None:
    by_version = validator_for("IF-021", "2.2.1", nullable="strict")
    assert by_version is validator_for("IF-021", JSON_2_2_1, nullable="strict")
    assert by_version is not validator_for("IF-021", "2.2.1")
    assert validator_for("IF-021", "2.1.0") is validator_for("IF-021", YAML_2_1_0)
    assert validator_for("IF-021", "2.1.0") is not validator_for("IF-021", "2.2.1")
    assert by_version.label == "Elexon DIP API 2.2.1 (strict nullable)"
    # package schema and a release together: a day of 48 periods well within a few milliseconds
    validators = [validator_for("IF-021"), validator_for("IF-021", "2.2.1")]
    payload = make_if021()
    validate_payload(payload, validator=validators)
    n = 300
    start = time.perf_counter()
    for _ in range(n):
        assert not validate_payload(payload, validator=validators)
    per_payload = (time.perf_counter() - start) / n
    assert per_payload < 0.008, f"{per_payload * 1e3:.2f} ms per payload"

"""Labelled invalid messages: each case breaks exactly the rule it is labelled with.

The cases are derived from a small generated data set (with the scenario option ``negative``
on, which also puts them in ``negative/``) and checked with the real validator, the package's
schema and Elexon's YAML schema of ``../shared/reference/dip-api``.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from conftest import missing_reference

from mhhs_workbench.cli import main
from mhhs_workbench.codes.rules import BREAKABLE, NOT_ALONE, RULES
from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.negative.cases import (
    CODES,
    EXPECTED_COLUMNS,
    NEGATIVE_FOLDER,
    NegativeCase,
    NegativeError,
    build_cases,
    read_sources,
    write_cases,
)
from mhhs_workbench.negative.schema_breaks import SCHEMA_CLASSES, schema_breaks
from mhhs_workbench.publish.manifest import verify
from mhhs_workbench.scenario import Scenario, ScenarioError
from mhhs_workbench.validation.files import validate_files
from mhhs_workbench.validation.schema import validator_for
from mhhs_workbench.validation.spec_versions import resolve_spec

PER_RULE = 2

SCENARIO_YAML = """\
name: negative
seed: 11
start_date: 2025-10-24
end_date: 2025-10-28
meters:
  count: 8
messages:
  days_per_message: 2
  messages_per_file: 4
negative:
  per_rule: {per_rule}
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small data set generated with the scenario option ``negative`` on."""
    folder = tmp_path_factory.mktemp("negative")
    scenario_file = folder / "scenario.yaml"
    scenario_file.write_text(SCENARIO_YAML.format(per_rule=PER_RULE), encoding="utf-8")
    out = folder / "data"
    generate_dataset(Scenario.from_yaml(scenario_file), out, progress=False)
    return out


@pytest.fixture(scope="module")
def cases(dataset: Path) -> list[NegativeCase]:
    return build_cases(dataset, per_rule=PER_RULE)


@pytest.fixture(scope="module")
def written(cases: list[NegativeCase], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("written") / "negative"
    write_cases(cases, out)
    return out


def _case_path(root: Path, case: NegativeCase) -> Path:
    return root / "cases" / case.name


def _reported(report) -> tuple[Counter[str], list]:
    """Codes reported over a validation run and every problem found."""
    codes: Counter[str] = Counter()
    problems = []
    for file in report.files:
        codes.update(file.problem_counts)
        problems.extend(file.findings)
        if file.error is not None:
            codes[file.error.code] += 1
            problems.append(file.error)
    return codes, problems


def _expected_codes(case: NegativeCase, *, package: bool, elexon: bool) -> set[str]:
    """What a validator run reports for a case: its rule, what the schemas add, nothing else."""
    if case.rule == "SCHEMA":
        return ({"SCHEMA"} if package else set()) | ({"SCHEMA-ELEXON"} if elexon else set())
    codes = {case.rule, *case.also_reported}
    if case.rule != "INTERFACE":  # without a known interface no schema is chosen
        if package and case.package_schema_rejects:
            codes.add("SCHEMA")
        if elexon and case.elexon_schema_rejects:
            codes.add("SCHEMA-ELEXON")
    return codes


def _broken_payload(root: Path, case: NegativeCase) -> dict | None:
    path = root / case.broken_file
    try:
        data = orjson.loads(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return None
    items = data if isinstance(data, list) else [data]
    item = items[case.fileset.index or 0] if items else None
    return item.get("payload") if isinstance(item, dict) else None


@pytest.fixture(scope="module", params=["2.1.0", "2.2.1"])
def elexon_spec(request: pytest.FixtureRequest, official_spec_dir: Path):
    """Elexon's schema of both releases: 2.1.0 as YAML, 2.2.1 as one resolved document."""
    if request.param == "2.1.0":
        return resolve_spec(official_spec_dir)
    resolved = official_spec_dir.parent / "dip-api-2.2.1" / "api-spec-2.2.1-resolved.json"
    if not resolved.is_file():
        missing_reference(f"Elexon's DIP API 2.2.1 not found at {resolved}")
    return resolve_spec(resolved)


# ---------------------------------------------------------------------- the catalogue


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_of_the_validator_is_broken(code: str, cases: list[NegativeCase]) -> None:
    """Read from the validator's own table, so a new rule fails here until it has cases."""
    if code in NOT_ALONE:
        assert code not in CODES
        return
    made = [c for c in cases if c.rule == code]
    assert len(made) == PER_RULE * (len(SCHEMA_CLASSES) if code == "SCHEMA" else 1), code


def test_catalogue_labels_only_rules_the_validator_knows() -> None:
    assert set(CODES) <= set(RULES), sorted(set(CODES) - set(RULES))


def test_every_schema_class_is_covered(cases: list[NegativeCase]) -> None:
    schema_cases = Counter(c.breakage for c in cases if c.rule == "SCHEMA")
    assert schema_cases == {kind: PER_RULE for kind in SCHEMA_CLASSES}


def test_expected_csv_lists_every_case(written: Path, cases: list[NegativeCase]) -> None:
    with (written / "expected.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == EXPECTED_COLUMNS
    assert [row["rule"] for row in rows] == [c.rule for c in cases]
    for row in rows:
        assert (written / row["file"]).is_file(), row["file"]
    listed = {row["file"] for row in rows}
    singles = {p.relative_to(written).as_posix() for p in (written / "cases").glob("*.json")}
    assert singles <= listed  # every one-file case is labelled
    assert {row["elexon_schema_rejects"] for row in rows} <= {"true", "false", ""}


def test_messages_start_from_real_ones(dataset: Path, written: Path,
                                       cases: list[NegativeCase]) -> None:
    """Each broken message is a real one with its identity kept: same meter, same sender."""
    sources = read_sources(dataset)
    real = {(p["CommonBlock"]["M0"]["MPANCore"], p["CommonBlock"]["S1"]["senderDIPID"])
            for p in sources.if021 + sources.if041}
    checked = 0
    for case in cases:
        payload = _broken_payload(written, case)
        m0 = (payload or {}).get("CommonBlock", {}).get("M0")
        s1 = (payload or {}).get("CommonBlock", {}).get("S1")
        if case.rule in ("WB-MPAN", "SCHEMA") or not isinstance(m0, dict) or not isinstance(s1, dict):
            continue
        assert (m0.get("MPANCore"), s1.get("senderDIPID")) in real, case.name
        checked += 1
    assert checked > len(CODES)


# ---------------------------------------------------------------------- the validator's view


@pytest.mark.parametrize("code", CODES)
def test_validator_reports_exactly_the_labelled_rule(code: str, written: Path,
                                                     cases: list[NegativeCase]) -> None:
    """Each case checked alone (package schema and rules) reports its rule and nothing else but
    what its row declares: SCHEMA where the package's schema states the rule as a type."""
    made = [c for c in cases if c.rule == code]
    assert made
    for case in made:
        report = validate_files([_case_path(written, case)], spec=None)
        codes, problems = _reported(report)
        assert set(codes) == _expected_codes(case, package=True, elexon=False), case.name
        where = case.fileset.path
        at = [p.path for p in problems if p.code in (case.rule, "SCHEMA")]
        # the validator names the place changed, or the object holding it (a key removed)
        assert any(where.startswith(p) or p.startswith(where) for p in at), (case.name, at)


@pytest.mark.parametrize("code", CODES)
def test_against_elexons_schema_only_the_rule(code: str, written: Path, cases: list[NegativeCase],
                                             elexon_spec) -> None:
    """Checked against Elexon's schema and the rules (not the package's stricter schema), a
    rule case reports only its rule; a schema case only Elexon's refusal."""
    for case in (c for c in cases if c.rule == code):
        report = validate_files([_case_path(written, case)], spec=elexon_spec, package_schema=False)
        codes, _ = _reported(report)
        assert set(codes) == _expected_codes(case, package=False, elexon=True), case.name


def test_elexon_column_is_elexons_verdict(written: Path, cases: list[NegativeCase],
                                          elexon_spec) -> None:
    checked = 0
    for case in cases:
        payload = _broken_payload(written, case)
        if payload is None or case.elexon_schema_rejects is None:
            continue
        valid = validator_for(case.fileset.interface, elexon_spec).is_valid(payload)
        assert valid is not case.elexon_schema_rejects, case.name
        checked += 1
    assert checked >= len(SCHEMA_CLASSES) * PER_RULE


def test_every_schema_candidate_is_refused_by_elexon(dataset: Path, elexon_spec) -> None:
    """Not only the cases picked: every breakage the schema walk offers, on both interfaces."""
    sources = read_sources(dataset)
    for interface_id, pool in (("IF-021", sources.if021), ("IF-041", sources.if041)):
        official = validator_for(interface_id, elexon_spec)
        for kind, breaks in schema_breaks(pool[0], interface_id).items():
            assert breaks, (interface_id, kind)
            for brk in breaks:
                assert not official.is_valid(brk.payload), (interface_id, kind, brk.description)


def test_partner_messages_alone_are_valid(written: Path, cases: list[NegativeCase]) -> None:
    """In a case of several files, only the broken file makes it invalid."""
    sets = [c for c in cases if len(c.fileset.files) > 1]
    assert {c.rule for c in sets} == {"WB-SUR-DUP", "WB-DAY-RESENT", "WB-READ-RECONCILE",
                                      "WB-READ-BACK", "WB-MPAN-DIRECTION"}
    for case in sets:
        folder = _case_path(written, case)
        partners = sorted(p for p in folder.iterdir() if p.name != case.fileset.broken)
        report = validate_files(partners, spec=None)
        assert report.ok, (case.name, _reported(report)[0])


def test_source_messages_are_valid(dataset: Path) -> None:
    report = validate_files([dataset / "messages" / "IF-021", dataset / "messages" / "IF-041"],
                            spec=None)
    assert report.ok and report.messages > 0


# ---------------------------------------------------------------------- determinism, options


def test_same_data_set_same_bytes(dataset: Path, written: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_cases(build_cases(dataset, per_rule=PER_RULE), again)
    assert _tree(again) == _tree(written)
    # the scenario option wrote the same cases inside the data set
    assert _tree(dataset / NEGATIVE_FOLDER) == _tree(written)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_rules_and_per_rule_select(dataset: Path) -> None:
    picked = build_cases(dataset, ["WB-GSP", "SCHEMA"], per_rule=1)
    assert Counter(c.rule for c in picked) == {"SCHEMA": len(SCHEMA_CLASSES), "WB-GSP": 1}
    assert [c.number for c in picked] == list(range(1, len(picked) + 1))
    with pytest.raises(NegativeError, match="'ECS9999'"):
        build_cases(dataset, ["ECS9999"])
    with pytest.raises(NegativeError, match="per_rule"):
        build_cases(dataset, per_rule=0)


# ---------------------------------------------------------------------- inside a data set


def test_data_set_with_negative_folder_verifies(dataset: Path) -> None:
    assert verify(dataset) == []
    manifest = orjson.loads((dataset / "manifest.json").read_bytes())
    listed = {f["path"] for f in manifest["files"]}
    assert f"{NEGATIVE_FOLDER}/expected.csv" in listed
    assert "negative:" in (dataset / "scenario.yaml").read_text(encoding="utf-8")


def test_validating_the_data_set_leaves_negative_out(dataset: Path) -> None:
    report = validate_files([dataset], spec=None)
    assert report.files and report.ok
    assert not [f.path for f in report.files if NEGATIVE_FOLDER in f.path.parts]
    named = validate_files([dataset / NEGATIVE_FOLDER], spec=None)
    assert not named.ok  # named directly, the catalogue is checked and fails as labelled


def test_negative_off_by_default(tmp_path: Path) -> None:
    scenario = Scenario.from_yaml(_scenario_file(tmp_path, SCENARIO_YAML.split("negative:")[0]))
    assert scenario.negative is None
    assert "negative" not in scenario.to_dict()


def _scenario_file(folder: Path, text: str) -> Path:
    path = folder / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("block", "line", "fragment"), [
    ("negative:\n  per_rule: 0\n", 11, "negative.per_rule: must be at least 1"),
    ("negative:\n  per_rule: 1\n  rules: [ECS1002, NOPE]\n", 12, "negative.rules.1: 'NOPE'"),
    ("negative:\n  per_rules: 1\n", 11, "unknown key (did you mean 'per_rule'?)"),
    ("negative:\n  rules: ECS1002\n", 11, "expected a list of a string"),
    ("outputs: [csv]\nnegative: {}\n", 11, "needs the if021 or if041 output"),
])
def test_scenario_option_is_strict(block: str, line: int, fragment: str, tmp_path: Path) -> None:
    text = SCENARIO_YAML.split("negative:")[0] + block
    path = _scenario_file(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_yaml(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message


# ---------------------------------------------------------------------- command line


@pytest.mark.slow
def test_cli_publishes_atomically_and_deterministically(dataset: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    first, second = tmp_path / "first", tmp_path / "second"
    done = runner.invoke(main, ["negative", str(dataset), "--out", str(first), "--per-rule", "2"])
    assert done.exit_code == 0, done.output
    assert "listed in expected.csv" in done.output
    runner.invoke(main, ["negative", str(dataset), "--out", str(second), "--per-rule", "2"])
    assert _tree(first) == _tree(second)
    assert verify(first) == []
    assert sorted(os.listdir(tmp_path)) == ["first", "second"]  # no staging or lock left


def test_cli_refuses_an_existing_output(dataset: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    assert runner.invoke(main, ["negative", str(dataset), "--out", str(out),
                                "--rules", "WB-MPAN"]).exit_code == 0
    before = _tree(out)
    again = runner.invoke(main, ["negative", str(dataset), "--out", str(out), "--rules", "WB-GSP"])
    assert again.exit_code == 2
    assert _error_lines(again.output) == 1 and "already exists" in again.output
    assert _tree(out) == before
    forced = runner.invoke(main, ["negative", str(dataset), "--out", str(out), "--rules",
                                  "WB-GSP", "--overwrite"])
    assert forced.exit_code == 0, forced.output
    assert "WB-GSP" in (out / "expected.csv").read_text(encoding="utf-8")
    assert "WB-MPAN" not in (out / "expected.csv").read_text(encoding="utf-8")


def _error_lines(output: str) -> int:
    return sum(line.startswith("error:") for line in output.splitlines())


@pytest.mark.parametrize(("args", "fragment"), [
    (["--rules", "ECS1002,XYZ"], "unknown rule code 'XYZ'"),
    (["--rules", "FILE-KIND"], "FIFO"),
    (["--per-rule", "0"], "--per-rule"),
])
def test_cli_bad_options(args: list[str], fragment: str, dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["negative", str(dataset), "--out", str(out), *args])
    assert done.exit_code == 2
    assert fragment in done.output
    assert _error_lines(done.output) + done.output.count("Error: ") == 1  # one line, no trace
    assert not out.exists()


def test_cli_missing_data_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["negative", str(tmp_path / "nowhere"), "--out", str(out)])
    assert done.exit_code == 2
    assert _error_lines(done.output) == 1 and "no such data set" in done.output
    assert not out.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    done = CliRunner().invoke(main, ["negative", str(empty), "--out", str(out)])
    assert done.exit_code == 2 and _error_lines(done.output) == 1
    assert "no message files" in done.output


def test_cli_unreadable_message_file(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "messages" / "IF-021"
    folder.mkdir(parents=True)
    (folder / "IF-021_000001.json").write_bytes(b'[{"payload":{"CommonBlock":')
    done = CliRunner().invoke(main, ["negative", str(tmp_path / "data"), "--out",
                                     str(tmp_path / "out")])
    assert done.exit_code == 2 and _error_lines(done.output) == 1
    assert "IF-021_000001.json: not a readable message file" in done.output
    assert not (tmp_path / "out").exists()


def test_the_negative_catalogue_breaks_every_rule_of_the_registry_that_can_be_broken():
    assert len(CODES) == len(set(CODES))
    assert set(CODES) == set(BREAKABLE)
    assert set(CODES) | set(NOT_ALONE) == set(RULES)

"""Reports of a run: terminal summary, JSON findings, JUnit XML and a self-contained HTML page."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import orjson
import pytest
from click.testing import CliRunner

from mhhs_workbench.cli import main
from mhhs_workbench.codes.rules import RULES
from mhhs_workbench.validation.files import validate_files
from mhhs_workbench.validation.outputs import findings_rows, rule_chart_svg


def _write(path: Path, payloads: list[Any]) -> Path:
    path.write_bytes(orjson.dumps([{"payload": p} for p in payloads]))
    return path


@pytest.fixture
def files(tmp_path: Path, make_if021, make_if041) -> list[Path]:
    """A valid file, a file with two broken messages, and a file that is not JSON."""
    good = _write(tmp_path / "good.json", [make_if021(reference=1), make_if041(reference=2)])
    bad_mpan = make_if021(reference=3, first_day="2025-03-31")
    bad_mpan["CommonBlock"]["M0"]["MPANCore"] = "2000056535972"  # wrong check digit
    negative = make_if021(reference=4, first_day="2025-04-01")
    negative["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"][0]["consumptionPeriods"][5]["v"] = "-1.000"
    bad = _write(tmp_path / "bad.json", [make_if021(reference=5, first_day="2025-04-02"), bad_mpan, negative])
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    return [good, bad, broken]


def test_every_finding_names_file_message_path_rule_value_reason(files: list[Path]) -> None:
    rows = findings_rows(validate_files(files))
    assert {r["code"] for r in rows} >= {"WB-MPAN", "ECS1010", "SCHEMA", "FILE"}
    mpan = next(r for r in rows if r["code"] == "WB-MPAN")
    assert mpan["file"].endswith("bad.json") and mpan["index"] == 1
    assert mpan["path"] == "$[1].payload.CommonBlock.M0.MPANCore" and mpan["value"] == "'2000056535972'"
    assert "check digit" in mpan["reason"]
    negative = next(r for r in rows if r["code"] == "ECS1010")
    assert negative["index"] == 2 and negative["value"] == "'-1.000'"
    broken = next(r for r in rows if r["code"] == "FILE")
    assert broken["file"].endswith("broken.json") and broken["index"] == 0
    assert all(r["code"] in RULES and r["reason"] and "\n" not in r["reason"] for r in rows)


def test_json_format(files: list[Path]) -> None:
    done = CliRunner().invoke(main, ["validate", "--format", "json", *map(str, files)])
    assert done.exit_code == 1
    document = json.loads(done.output)
    assert document["ok"] is False and document["files"] == 3 and document["invalid_messages"] == 2
    assert document["rule_counts"]["WB-MPAN"] == 1
    assert sum(document["rule_counts"].values()) == len(document["findings"])
    assert {f["file"] for f in document["findings"]} == {str(files[1]), str(files[2])}


def test_junit_has_one_case_per_file(files: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    done = CliRunner().invoke(main, ["validate", "--junit", str(out), *map(str, files)])
    assert done.exit_code == 1
    suite = ET.parse(out).getroot()
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [str(f) for f in files]
    assert [c.find("failure") is not None for c in cases] == [False, True, True]
    assert suite.get("tests") == "3" and suite.get("failures") == "2"
    assert "WB-MPAN" in cases[1].find("failure").text


def test_html_is_self_contained_with_counts_and_chart(files: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = CliRunner().invoke(main, ["validate", "--html", str(out), *map(str, files)])
    assert done.exit_code == 1
    page = out.read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and "<rect" in page
    assert "<td>WB-MPAN</td><td>1</td>" in page and html.escape(RULES["WB-MPAN"].text) in page
    assert "2000056535972" in page
    assert "src=\"http" not in page and "<script" not in page and "<link" not in page


def test_a_valid_run_is_quiet_and_its_reports_say_so(tmp_path: Path, make_if021) -> None:
    good = _write(tmp_path / "good.json", [make_if021()])
    html, junit = tmp_path / "r.html", tmp_path / "j.xml"
    done = CliRunner().invoke(main, ["validate", str(good), "--html", str(html), "--junit", str(junit)])
    assert done.exit_code == 0 and len(done.output.splitlines()) == 3
    assert "Validation: OK" in html.read_text(encoding="utf-8")
    assert ET.parse(junit).getroot().find("testcase/failure") is None


def test_chart_has_one_bar_per_rule() -> None:
    svg = rule_chart_svg({"WB-MPAN": 3, "ECS1010": 1})
    assert svg.count("<rect") == 2 and ">3<" in svg
    ET.fromstring(svg)  # well-formed
    assert "no problems" in rule_chart_svg({})


def test_grouped_summary_names_failing_files_and_counts_valid_ones(files: list[Path], tmp_path: Path,
                                                                   make_if021) -> None:
    from mhhs_workbench.validation.problems import format_report

    more = [_write(tmp_path / f"more{i}.json", [make_if021(reference=10 + i, first_day=f"2025-05-1{i}")])
            for i in range(3)]
    report = validate_files([*files, *more])
    grouped = format_report(report, group_ok=True).splitlines()
    assert sum(line.startswith("OK ") for line in grouped) == 1  # one line for the folder
    assert f"OK    {tmp_path}/  (4 files valid, 5 messages)" in grouped
    assert any(line.startswith(f"FAIL  {files[1]}") for line in grouped)
    assert any(line.startswith(f"FAIL  {files[2]}") for line in grouped)
    every = format_report(report).splitlines()
    assert sum(line.startswith("OK ") for line in every) == 4
    assert grouped[-1] == every[-1]  # the same verdict line

"""Hostile and broken input: every bad scenario, parameter or manifest fails cleanly and early.

Each case runs the real command line in a subprocess, as a user would, and asserts the exit
code, one short ``error:`` line and no traceback on stderr, and that nothing was written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import orjson
import pytest

from mhhs_workbench.notebook.runner import RunError, run_notebook
from mhhs_workbench.publish.manifest import MANIFEST_CHECKSUM, manifest_checksum, verify
from mhhs_workbench.scenario import MeterMix, Scenario, ScenarioError
from mhhs_workbench.scenario.limits import MAX_METERS, MAX_SCENARIO_BYTES

CLI = [sys.executable, "-m", "mhhs_workbench.cli"]

#: A tiny but complete scenario: 4 meters x 2 UTC days, generated in about a second.
TINY = "name: tiny\nseed: 3\nstart_date: '2025-03-29'\nend_date: '2025-03-30'\nmeters:\n  count: 4\nevents: []\n"


def cli(*args: str | Path, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``mhhs-workbench ARGS`` in a fresh interpreter."""
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def assert_one_error(done: subprocess.CompletedProcess[str], code: int) -> str:
    """Exit code ``code``, exactly one short ``error:`` line on stderr, no traceback; the line."""
    assert done.returncode == code, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
    assert len(done.stderr.encode()) < 1024, done.stderr[:2000]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def assert_nothing_written(folder: Path, *expected: str) -> None:
    """``folder`` holds only ``expected``: no output folder, no hidden ``.NAME.partial-*`` one."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)


def generate_error(tmp_path: Path, text: str | bytes) -> str:
    """Generate from a scenario file holding ``text``; assert it fails cleanly, return the error."""
    path = tmp_path / "s.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    line = assert_one_error(cli("generate", path, "--out", tmp_path / "out", "--no-progress"), 2)
    assert_nothing_written(tmp_path, "s.yaml")
    return line


# --------------------------------------------------------------------------- scenario files


def _laughs(levels: int) -> str:
    """A flow sequence of nested YAML aliases that expands to ``9 ** (levels + 1)`` strings."""
    value = "&l0 [" + ", ".join(['"lol"'] * 9) + "]"
    for n in range(1, levels + 1):
        value = f"&l{n} [{value}" + f", *l{n - 1}" * 8 + "]"
    return value


# Measured in a wrapper process of its own, so RUSAGE_CHILDREN holds exactly the one CLI run; the
# address-space limit makes a regression fail with MemoryError instead of swapping the machine.
_MEASURE = """
import json, resource, subprocess, sys, time
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
start = time.monotonic()
try:
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60, preexec_fn=limit)
    rc, stdout, stderr = done.returncode, done.stdout, done.stderr
except subprocess.TimeoutExpired as exc:
    rc, stdout, stderr = None, "", "timed out"
seconds = time.monotonic() - start
print(json.dumps({"rc": rc, "stdout": stdout[-4000:], "stderr": stderr[-4000:], "stderr_bytes":
                  len(stderr.encode()), "seconds": seconds,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def test_yaml_alias_bomb_is_refused_fast_small_and_located(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"name: laughs\nseed: 1\nmeters:\n  gsp_groups: {_laughs(8)}\n")  # 9**9 "lol"s
    assert path.stat().st_size < 500
    wrapper = subprocess.run([sys.executable, "-c", _MEASURE, *CLI, "generate", str(path), "--out",
                              str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True, timeout=120)
    assert wrapper.returncode == 0, wrapper.stderr
    run = json.loads(wrapper.stdout)
    done = subprocess.CompletedProcess([], run["rc"], run["stdout"], run["stderr"])
    line = assert_one_error(done, 2)
    assert run["stderr_bytes"] < 1024
    assert line.startswith(f"error: {path}:4: YAML anchor &l8 is not allowed")
    assert run["seconds"] < 5, run["seconds"]
    assert run["maxrss_kib"] < 300 * 1024, f"peak RSS {run['maxrss_kib'] / 1024:.0f} MiB"
    assert_nothing_written(tmp_path, "s.yaml")


def test_an_alias_anywhere_is_refused_at_its_line(tmp_path: Path) -> None:
    line = generate_error(tmp_path, "name: x\nmeters:\n  count: 4\n  gsp_groups: [_A]\noutputs: [*nowhere]\n")
    assert line.startswith(f"error: {tmp_path / 's.yaml'}:5: YAML alias *nowhere is not allowed")


def test_long_values_are_echoed_in_at_most_80_characters(tmp_path: Path) -> None:
    line = generate_error(tmp_path, f"environment_tag: {'X' * 100_000}\n")
    assert "environment_tag: 'XXXX" in line and "..." in line
    assert len(line) < len(f"error: {tmp_path / 's.yaml'}:1: environment_tag: ") + 80 + 60
    # the same from a mapping, with a value that shares its parts: a "billion laughs" in Python
    bomb: Any = ["lol"] * 9
    for _ in range(9):
        bomb = [bomb] * 9
    start = time.monotonic()
    with pytest.raises(ScenarioError, match=r"^scenario: meters\.ev_kw\.0: expected a number, got \[") as err:
        Scenario.from_dict({"meters": {"ev_kw": bomb}})
    assert time.monotonic() - start < 1 and len(str(err.value)) < 150


def test_oversized_scenario_file_is_refused_before_parsing(tmp_path: Path) -> None:
    # the first line alone would be an "unknown key" error if the file were parsed at all
    text = "meters: {cout: 1}\n" + "# padding\n" * (MAX_SCENARIO_BYTES // 10)
    assert len(text) > MAX_SCENARIO_BYTES
    start = time.monotonic()
    line = generate_error(tmp_path, text)
    assert time.monotonic() - start < 10
    assert line == f"error: {tmp_path / 's.yaml'}: larger than 1,000,000 bytes (1 MB); " \
                   "a scenario file is a short description, not data"
    assert MAX_SCENARIO_BYTES == 1_000_000


NON_FINITE = {
    "NaN share": ("meters:\n  count: 4\n  pv_share: .nan\n", ":3: meters.pv_share: nan: must be a finite number"),
    "inf share": ("meters:\n  ev_share: .inf\n", ":2: meters.ev_share: inf: must be a finite number"),
    "-inf in a range": ("meters:\n  pv_kwp: [-.inf, 3]\n", ":2: meters.pv_kwp.0: -inf: must be a finite number"),
    "all-NaN archetypes": ("meters:\n  archetypes:\n    domestic_unrestricted: .NaN\n    domestic_economy7: .nan\n",
                           ":3: meters.archetypes.domestic_unrestricted: nan: must be a finite number"),
    "NaN event share": ("events:\n  - date: 2025-10-28\n    share: .nan\n",
                        ":3: events.0.share: nan: must be a finite number"),
    "overflowing float": ("meters:\n  heat_pump_kwh: 1.0e+999\n", ":2: meters.heat_pump_kwh: inf: must be a finite number"),
}


@pytest.mark.parametrize("case", sorted(NON_FINITE))
def test_non_finite_numbers_are_refused_in_scenario_files(case: str, tmp_path: Path) -> None:
    text, expected = NON_FINITE[case]
    line = generate_error(tmp_path, text)
    assert line == f"error: {tmp_path / 's.yaml'}{expected}"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_from_mappings_and_dataclasses(value: float) -> None:
    with pytest.raises(ScenarioError, match=rf"^scenario: meters\.pv_share: {value}: must be a finite number$"):
        Scenario.from_dict({"meters": {"pv_share": value}})
    with pytest.raises(ScenarioError, match=rf"meters\.archetypes\.domestic_unrestricted: {value}: must be a finite"):
        Scenario.from_dict({"meters": {"archetypes": {"domestic_unrestricted": value}}})
    with pytest.raises(ScenarioError, match=rf"^scenario: meters\.heat_pump_kwh: {value}: must be a finite number$"):
        Scenario(meters=MeterMix(heat_pump_kwh=value)).check()  # built directly, as the UI does


def test_seed_range_is_checked_at_load_and_its_top_is_usable(tmp_path: Path) -> None:
    line = generate_error(tmp_path, f"{TINY}seed: {2**64}\n".replace("seed: 3\n", ""))
    assert line == f"error: {tmp_path / 's.yaml'}:7: seed: must be less than 2**64, got {2**64}"
    with pytest.raises(ScenarioError, match=r"^scenario: seed: must be less than 2\*\*64"):
        Scenario.from_dict({"seed": 2**64})
    with pytest.raises(ScenarioError, match=r"seed: 1000000.*: integer of 5001 characters is out of range"):
        Scenario.from_yaml(_write(tmp_path / "huge.yaml", "seed: 1" + "0" * 5000 + "\n"))
    # the largest seed allowed goes all the way to a published, verifiable data set
    (tmp_path / "top.yaml").write_text(TINY.replace("seed: 3", f"seed: {2**64 - 1}"))
    done = cli("generate", tmp_path / "top.yaml", "--out", tmp_path / "top", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert orjson.loads((tmp_path / "top" / "manifest.json").read_bytes())["seed"] == 2**64 - 1
    assert verify(tmp_path / "top") == []


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_integers_the_manifest_cannot_hold_are_refused_at_load(tmp_path: Path) -> None:
    line = generate_error(tmp_path, f"messages:\n  messages_per_file: {2**70}\n")
    assert line == (f"error: {tmp_path / 's.yaml'}:2: messages.messages_per_file: {2**70}: "
                    "is out of range (integers are 64-bit)")
    # more meters than there are distinct serial numbers would fail only once generation started
    with pytest.raises(ScenarioError, match=r"^scenario: meters\.count: must be at most 50,000,000, got 50000001$"):
        Scenario.from_dict({"meters": {"count": MAX_METERS + 1}})


def test_non_utf8_scenario_names_the_byte_offset(tmp_path: Path) -> None:
    line = generate_error(tmp_path, b"name: caf\xe9\nseed: 1\n")
    assert line == (f"error: {tmp_path / 's.yaml'}:1: not UTF-8 text (byte 0xe9 at byte offset 9); "
                    "save the file as UTF-8")
    line = generate_error(tmp_path, b"name: x\x00y\n")  # UTF-8, but not a character YAML allows
    assert line == f"error: {tmp_path / 's.yaml'}:1: not valid YAML (character U+0000 is not allowed)"


def test_duplicate_keys_are_refused_naming_both_lines(tmp_path: Path) -> None:
    text = "name: dup\nmeters:\n  count: 4\n  pv_share: 0.1\n  ev_share: 0.1\n  heat_pump_share: 0.1\n  count: 5\n"
    line = generate_error(tmp_path, text)
    assert line == f"error: {tmp_path / 's.yaml'}:7: meters.count: duplicate key (first at line 3)"
    line = generate_error(tmp_path, "seed: 1\nname: a\nseed: 2\n")
    assert line == f"error: {tmp_path / 's.yaml'}:3: seed: duplicate key (first at line 1)"


# --------------------------------------------------------------------------- notebook parameters


INJECTION = 'x = __import__("os").system("touch pwned"); y'


@pytest.fixture(scope="module")
def bare_notebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A notebook without a ``parameters`` cell: papermill injects whatever it is given."""
    path = tmp_path_factory.mktemp("nb") / "bare.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ran')")]), path)
    return path


@pytest.mark.slow
def test_parameter_names_cannot_inject_code(bare_notebook: Path, tmp_path: Path) -> None:
    done = cli("run", bare_notebook, "-p", INJECTION, "1", "--out", tmp_path / "ran", cwd=tmp_path)
    line = assert_one_error(done, 2)
    assert line.startswith("error: parameter name 'x = __import__(") and "not a Python identifier" in line
    assert not (tmp_path / "pwned").exists()
    (tmp_path / "params.yaml").write_text(f"'{INJECTION}': 1\n")
    done = cli("run", bare_notebook, "-f", tmp_path / "params.yaml", "--out", tmp_path / "ran", cwd=tmp_path)
    line = assert_one_error(done, 2)
    assert line.startswith(f"error: {tmp_path / 'params.yaml'}: parameter name ")
    assert not (tmp_path / "pwned").exists()
    assert_nothing_written(tmp_path, "params.yaml")
    for name in ("class", "1x", "a.b", "a b"):
        with pytest.raises(RunError, match="not a Python identifier"):
            run_notebook(bare_notebook, {name: 1}, out=tmp_path / "ran", cwd=tmp_path)
    assert_nothing_written(tmp_path, "params.yaml")
    # the same notebook does run, and does take a well-formed name: the refusals above are real
    done = cli("run", bare_notebook, "-p", "greeting", "hi", "--out", tmp_path / "ran", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ran = nbformat.read(tmp_path / "ran" / "bare.ipynb", as_version=4)
    assert "greeting = " in ran.cells[0].source and ran.cells[-1].outputs[0]["text"] == "ran\n"


@pytest.mark.slow
def test_parameter_values_cannot_use_yaml_aliases(bare_notebook: Path, tmp_path: Path) -> None:
    done = cli("run", bare_notebook, "-p", "x", _laughs(8), "--out", tmp_path / "ran", cwd=tmp_path, timeout=60)
    line = assert_one_error(done, 2)
    assert "YAML anchors and aliases are not allowed in parameters" in line
    assert_nothing_written(tmp_path)


# --------------------------------------------------------------------------- verify


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small data set published by the command line."""
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "tiny.yaml").write_text(TINY)
    done = cli("generate", folder / "tiny.yaml", "--out", folder / "data", "--no-progress")
    assert done.returncode == 0, done.stderr
    return folder / "data"


def _copy(dataset: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy, symlinks=True)
    return copy


def _manifest(folder: Path) -> dict[str, Any]:
    return orjson.loads((folder / "manifest.json").read_bytes())


def _save(folder: Path, manifest: dict[str, Any], *, reseal: bool) -> None:
    """Write a changed manifest; ``reseal`` recomputes its checksum as documented (a forger would)."""
    if reseal:
        rest = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
        manifest = {**rest, "manifest_sha256": hashlib.sha256(orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)).hexdigest()}
    (folder / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))


def verify_fails(folder: Path) -> list[str]:
    """``mhhs-workbench verify`` of ``folder``: assert it fails cleanly; the FAIL lines."""
    before = sorted(p.relative_to(folder.parent) for p in folder.parent.rglob("*"))
    done = cli("verify", folder)
    line = assert_one_error(done, 1)
    assert line.startswith(f"error: {folder}: ")
    assert sorted(p.relative_to(folder.parent) for p in folder.parent.rglob("*")) == before  # wrote nothing
    return [x.removeprefix("FAIL ") for x in done.stdout.splitlines() if x.startswith("FAIL ")]


def test_manifest_checksum_is_recorded_as_documented(tiny_dataset: Path) -> None:
    manifest = _manifest(tiny_dataset)
    rest = {k: v for k, v in manifest.items() if k != MANIFEST_CHECKSUM}
    expected = hashlib.sha256(orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert manifest[MANIFEST_CHECKSUM] == expected == manifest_checksum(manifest)
    assert cli("verify", tiny_dataset).returncode == 0


@pytest.mark.parametrize("edit", ["seed", "scenario", "counts", "files"])
def test_verify_catches_an_edited_manifest(edit: str, tiny_dataset: Path, tmp_path: Path) -> None:
    copy = _copy(tiny_dataset, tmp_path)
    manifest = _manifest(copy)
    if edit == "seed":
        manifest["seed"] = 4
    elif edit == "scenario":
        manifest["scenario"]["meters"]["count"] = 400
    elif edit == "counts":
        manifest["counts"]["meters"] = 400
    else:  # a file changed together with its entry
        entry = manifest["files"][0]
        file = copy / entry["path"]
        file.write_bytes(file.read_bytes().replace(b'"v":"0', b'"v":"1', 1))
        entry.update(bytes=file.stat().st_size, sha256=hashlib.sha256(file.read_bytes()).hexdigest())
    _save(copy, manifest, reseal=False)
    assert verify_fails(copy) == [
        "manifest.json: manifest_sha256 does not match the manifest (the manifest itself was changed: "
        "its header, e.g. seed or counts, or its list of files)"
    ]
    del manifest[MANIFEST_CHECKSUM]  # removing the seal is no way round it
    _save(copy, manifest, reseal=False)
    assert verify_fails(copy)[0].startswith("manifest.json: no manifest_sha256, so its header cannot be checked")


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "backslash", "symlink"])
def test_verify_refuses_paths_outside_the_data_set(kind: str, tiny_dataset: Path, tmp_path: Path) -> None:
    copy = _copy(tiny_dataset, tmp_path)
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of any data set")
    depth = len(copy.resolve().parts) - 1
    path = {
        "dotdot": "../" * depth + outside.resolve().as_posix().lstrip("/"),
        "absolute": outside.resolve().as_posix(),
        "backslash": "messages\\..\\..\\secret.txt",
        "symlink": "tables/link.txt",
    }[kind]
    if kind == "symlink":
        (copy / "tables" / "link.txt").symlink_to(outside)
    manifest = _manifest(copy)
    # a well-forged entry (true size and sha256, resealed manifest): only the path gives it away
    manifest["files"].append({"path": path, "bytes": outside.stat().st_size,
                              "sha256": hashlib.sha256(outside.read_bytes()).hexdigest()})
    _save(copy, manifest, reseal=True)
    problems = verify_fails(copy)
    why = {"dotdot": "the path holds '..'", "absolute": "the path is absolute",
           "backslash": "the path holds a backslash", "symlink": "the path resolves outside the data set"}[kind]
    assert len(problems) == 1 and problems[0].endswith(f": refused, not opened: {why}"), problems
    assert len(problems[0]) < 200


MALFORMED = {
    "no bytes": (lambda m: m["files"][0].pop("bytes"), "no valid 'bytes' (got None)"),
    "bytes as text": (lambda m: m["files"][0].update(bytes="12"), "no valid 'bytes' (got '12')"),
    "negative bytes": (lambda m: m["files"][0].update(bytes=-1), "no valid 'bytes' (got -1)"),
    "sha256 a number": (lambda m: m["files"][0].update(sha256=12), "no valid 'sha256' (got 12)"),
    "entry a string": (lambda m: m["files"].__setitem__(0, "x"), "files[0] is not an entry with a path"),
    "path a number": (lambda m: m["files"][0].update(path=7), "files[0] is not an entry with a path"),
    "files a mapping": (lambda m: m.update(files={}), "'files' is not a list of entries"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_verify_reports_malformed_entries_as_problems(case: str, tiny_dataset: Path, tmp_path: Path) -> None:
    copy = _copy(tiny_dataset, tmp_path)
    manifest = _manifest(copy)
    edit, expected = MALFORMED[case]
    edit(manifest)
    _save(copy, manifest, reseal=True)
    problems = verify_fails(copy)
    assert any(expected in p for p in problems), problems
    assert verify(copy) == problems  # the API says the same, without raising


@pytest.mark.parametrize("content", ['{"files": []}', "[1, 2]", "not json {", '{"format": "other tool"}'])
def test_verify_says_when_a_manifest_is_not_this_tools(content: str, tmp_path: Path) -> None:
    folder = tmp_path / "foreign"
    folder.mkdir()
    (folder / "manifest.json").write_text(content)
    problems = verify_fails(folder)
    assert len(problems) == 1 and problems[0].startswith(f"{folder / 'manifest.json'}: not a manifest of mhhs-workbench")


def test_verify_flags_a_file_named_like_the_manifest_in_a_subfolder(tiny_dataset: Path, tmp_path: Path) -> None:
    copy = _copy(tiny_dataset, tmp_path)
    (copy / "tables" / "manifest.json").write_text("{}")
    assert verify_fails(copy) == ["tables/manifest.json: not in the manifest"]


def test_manifest_is_byte_identical_for_the_same_scenario(tiny_dataset: Path, tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(TINY)
    done = cli("generate", tmp_path / "tiny.yaml", "--out", tmp_path / "again", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "again" / "manifest.json").read_bytes() == (tiny_dataset / "manifest.json").read_bytes()
    assert dt.date.fromisoformat(_manifest(tiny_dataset)["scenario"]["start_date"]) == dt.date(2025, 3, 29)


@pytest.mark.slow
def test_archetype_shares_not_adding_up_to_one_are_scaled_with_a_note(tmp_path: Path) -> None:
    scenario = TINY.replace("  count: 4\n", "  count: 4\n  archetypes:\n    domestic_unrestricted: 0.3\n"
                            "    domestic_economy7: 0.2\n")
    (tmp_path / "half.yaml").write_text(scenario)
    done = cli("generate", tmp_path / "half.yaml", "--out", tmp_path / "data", "--no-progress")
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert notes == [f"warning: {tmp_path / 'half.yaml'}:7: meters.archetypes: the shares add up to 0.5, "
                     "not 1; each is divided by 0.5"], done.stderr
    # shares that add up to 1 say nothing
    (tmp_path / "whole.yaml").write_text(TINY)
    done = cli("generate", tmp_path / "whole.yaml", "--out", tmp_path / "whole", "--no-progress")
    assert done.returncode == 0 and "warning:" not in done.stderr, done.stderr


@pytest.mark.slow
def test_a_refused_csv_exits_with_status_2_even_on_a_loaded_machine(tmp_path: Path) -> None:
    # Arrow's C++ thread pools could abort an exiting interpreter now and then ("terminate called
    # without an active exception", status -6) after the command had finished; many runs at once
    # load the machine the way that showed it
    bad = Path(__file__).parent / "csv_corpus" / "quality_unknown.csv"
    runs = [
        subprocess.Popen([sys.executable, "-m", "mhhs_workbench.cli", "from-csv", str(bad), "--out",
                          str(tmp_path / f"out{i}")], cwd=tmp_path, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for i in range(16)
    ]
    finished = [(run.wait(timeout=120), run.communicate()[1]) for run in runs]
    assert [code for code, _ in finished] == [2] * len(runs), [err for code, err in finished if code != 2]
    assert not any("terminate called" in err for _, err in finished)
    assert not list(tmp_path.iterdir())

"""The notebooks: committed clean, runnable headless, leaving checked evidence in the data set."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import nbformat
import orjson
import pytest
from click.testing import CliRunner
from conftest import notebook_outputs

from mhhs_workbench.cli import main
from mhhs_workbench.notebook.evidence import VALID_TEXT, build_scenario, record_in_manifest
from mhhs_workbench.notebook.runner import (
    BUNDLED_NOTEBOOKS,
    NotebookFailed,
    RunError,
    evidence_path,
    find_notebook,
    parse_parameter_value,
    run_notebook,
)
from mhhs_workbench.publish.manifest import verify
from mhhs_workbench.scenario import Scenario
from mhhs_workbench.validation.files import validate_files

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dip-api"

#: Small runs: 8 meters x 3 UTC days over the March clock change.
SMALL = {"meters": 8, "start_date": "2025-03-29", "end_date": "2025-03-31"}


_outputs = notebook_outputs


def _manifest_paths(root: Path) -> set[str]:
    return {f["path"] for f in orjson.loads((root / "manifest.json").read_bytes())["files"]}


# --------------------------------------------------------------------------- committed notebooks


@pytest.mark.parametrize("name", BUNDLED_NOTEBOOKS)
def test_committed_notebooks_are_clean(name: str) -> None:
    path = NOTEBOOKS / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert set(nb.metadata) <= {"kernelspec", "language_info"}
    assert nb.metadata["kernelspec"]["name"] == "python3"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: strip outputs"
            assert set(cell.metadata) <= {"tags"}
    if name != "validate_messages":  # the notebooks with widgets can skip them
        assert "interactive = " in tagged[0].source
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(BUNDLED_NOTEBOOKS)


def test_find_notebook() -> None:
    assert find_notebook("generate_dataset") == NOTEBOOKS / "generate_dataset.ipynb"
    assert find_notebook("validate_messages.ipynb") == NOTEBOOKS / "validate_messages.ipynb"
    assert find_notebook(NOTEBOOKS / "profile_designer.ipynb") == NOTEBOOKS / "profile_designer.ipynb"
    with pytest.raises(RunError, match="did you mean 'generate_dataset'"):
        find_notebook("generate_datasets")


def test_parameter_values_are_yaml() -> None:
    assert parse_parameter_value("8") == 8
    assert parse_parameter_value("2.5") == 2.5
    assert parse_parameter_value("true") is True
    assert parse_parameter_value("null") is None
    assert parse_parameter_value("2025-03-29") == "2025-03-29"  # dates stay text
    assert parse_parameter_value("{meters: {count: 8}}") == {"meters": {"count": 8}}
    assert parse_parameter_value("a: b: c") == "a: b: c"  # not YAML: taken as it is


def test_unknown_parameter_is_refused_before_running(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="unknown parameter 'meter'.*did you mean 'meters'"):
        run_notebook("generate_dataset", {"meter": 8, "out": str(tmp_path / "d")})
    assert not (tmp_path / "d").exists()


def test_evidence_locations(tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "manifest.json").write_text("{}")
    assert evidence_path("generate_dataset", {"out": "x"}, cwd=tmp_path) == tmp_path / "x/evidence/generate_dataset.ipynb"
    assert evidence_path("generate_dataset", {}, defaults={"out": "demo-data"}, cwd=tmp_path) == (
        tmp_path / "demo-data/evidence/generate_dataset.ipynb")
    # a data set is validated with evidence inside it; a plain folder with evidence beside it
    assert evidence_path("validate_messages", {"path": "ds"}, cwd=tmp_path) == tmp_path / "ds/evidence/validate_messages.ipynb"
    assert evidence_path("validate_messages", {"path": "ds/messages"}, cwd=tmp_path) == (
        tmp_path / "ds/evidence/validate_messages.ipynb")
    assert evidence_path("validate_messages", {"path": "msgs"}, cwd=tmp_path) == tmp_path / "evidence/validate_messages.ipynb"
    assert evidence_path("my.ipynb", {}, out="elsewhere", cwd=tmp_path) == tmp_path / "elsewhere/my.ipynb"


def test_build_scenario_from_parameters(tmp_path: Path, capsys) -> None:
    scenario = build_scenario(overrides={"meters": {"pv_share": 0.5}}, seed=3, **SMALL)
    # in a notebook a warning is a labelled note on standard output, not a red traceback
    assert "Note: the scenario's change_of_supplier event on 2025-10-28" in capsys.readouterr().out
    assert (scenario.meters.count, scenario.meters.pv_share, scenario.seed) == (8, 0.5, 3)
    assert scenario.meters.ev_share == Scenario().meters.ev_share  # merged, not replaced
    assert scenario.events == []
    path = tmp_path / "s.yaml"
    path.write_text(Scenario(name="from_file", seed=5).to_yaml())
    assert build_scenario(path).name == "from_file"


def test_record_in_manifest_keeps_other_entries(tmp_path: Path) -> None:
    from mhhs_workbench.publish.manifest import build_manifest, write_manifest

    (tmp_path / "a.txt").write_text("a")
    write_manifest(tmp_path, build_manifest(tmp_path, {"counts": {}}))
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "n.ipynb").write_text("{}")
    assert verify(tmp_path) == ["evidence/n.ipynb: not in the manifest"]
    record_in_manifest(tmp_path, [tmp_path / "evidence" / "n.ipynb"])
    assert verify(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "evidence", "manifest.json"]  # no temp left
    (tmp_path / "a.txt").write_text("changed")
    record_in_manifest(tmp_path, [tmp_path / "evidence" / "n.ipynb"])
    assert verify(tmp_path) == ["a.txt: size 7 bytes, manifest says 1"]  # not blessed by recording
    with pytest.raises(ValueError, match="not inside"):
        record_in_manifest(tmp_path, [__file__])


# --------------------------------------------------------------------------- headless runs


def test_kernel_is_this_interpreter(tmp_path: Path, monkeypatch) -> None:
    # a user-level "python3" kernel spec naming another interpreter must not be used
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
         "display_name": "elsewhere", "language": "python"}))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("greeting = 'hello'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import sys\nprint(sys.executable)\nprint(greeting)"),
    ])
    nbformat.write(nb, tmp_path / "probe.ipynb")
    result = run_notebook(tmp_path / "probe.ipynb", {"greeting": "hi"}, out=tmp_path / "ran")
    assert result.notebook == tmp_path / "ran" / "probe.ipynb" and result.dataset is None
    printed = "".join(_outputs(result.notebook)["stream"]).split()
    assert printed == [sys.executable, "hi"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """``mhhs-workbench run generate_dataset`` with a parameter file and -p values."""
    tmp = tmp_path_factory.mktemp("generated")
    params = tmp / "params.yaml"
    params.write_text(
        "meters: 5\n"  # overridden by -p below
        f"start_date: {SMALL['start_date']}\n"
        f"end_date: {SMALL['end_date']}\n"
        "overrides:\n  meters:\n    pv_share: 0.5\n"
        f"out: {tmp / 'data'}\n"
        + (f"spec_dir: {SPEC_DIR}\n" if SPEC_DIR.is_dir() else "")
    )
    done = CliRunner().invoke(main, ["run", "generate_dataset", "-f", str(params), "-p", "meters", "8",
                                     "-p", "seed", "42"])
    assert done.exit_code == 0, done.output
    assert f"recorded in {tmp / 'data' / 'manifest.json'}" in done.output
    return tmp / "data"


@pytest.mark.slow
def test_generate_dataset_leaves_evidence(generated: Path) -> None:
    evidence = generated / "evidence" / "generate_dataset.ipynb"
    assert evidence.is_file()
    assert "evidence/generate_dataset.ipynb" in _manifest_paths(generated)
    assert verify(generated) == []
    assert CliRunner().invoke(main, ["verify", str(generated)]).exit_code == 0
    assert validate_files([generated / "messages"]).ok

    nb = nbformat.read(evidence, as_version=4)
    assert nb.metadata["papermill"]["parameters"]["meters"] == 8
    out = _outputs(evidence)
    assert "error" not in out
    markdown = "\n".join(out["text/markdown"])
    assert "seed: 42" in markdown and "count: 8" in markdown and "pv_share: 0.5" in markdown  # scenario
    assert "IF-021 messages" in "\n".join(out["text/plain"])  # counts, in words
    assert f"data set written to {generated}" in "\n".join(out["stream"])  # absolute path
    # run identity at the top: right after the parameters, naming the command and the scenario
    cells = nb.cells
    at = next(i for i, c in enumerate(cells) if "run-identity" in c.metadata.get("tags", []))
    assert "injected-parameters" in cells[at - 1].metadata["tags"]
    identity = "".join(o["data"]["text/markdown"] for o in cells[at].outputs)
    assert "mhhs-workbench run generate_dataset -f " in identity and "-p meters 8 -p seed 42" in identity
    assert "`meters = 8`" in identity and "mhhs-workbench | " in identity and "Python | " in identity
    sha = hashlib.sha256((generated / "scenario.yaml").read_bytes()).hexdigest()
    assert f"scenario sha256 | `{sha}`" in identity
    assert "Traceback" not in "\n".join(out.get("stream", []))
    assert f"**{VALID_TEXT}:" in markdown
    if SPEC_DIR.is_dir():
        assert "Elexon's official DIP API schema" in markdown
    assert '"interfaceID": "IF-021"' in markdown and '"B064List"' in markdown  # sample messages
    assert len(out["image/png"]) >= 1
    assert "sha256" in "\n".join(out["text/html"])  # checksums
    assert "every file matches the manifest" in markdown


@pytest.mark.slow
def test_validate_messages_cli(generated: Path) -> None:
    done = CliRunner().invoke(main, ["run", "validate_messages", "-p", "path", str(generated / "messages")])
    assert done.exit_code == 0, done.output
    evidence = generated / "evidence" / "validate_messages.ipynb"  # beside messages/: in the data set
    assert evidence.is_file()
    assert "evidence/validate_messages.ipynb" in _manifest_paths(generated)
    assert verify(generated) == []
    out = _outputs(evidence)
    markdown = "\n".join(out["text/markdown"])
    assert f"**{VALID_TEXT}:" in markdown and '"eventCode"' in markdown
    assert len(out["image/png"]) == 1
    assert "IF-041" in "\n".join(out["text/plain"])


@pytest.mark.slow
def test_invalid_messages_fail_the_run(tmp_path: Path, make_if021) -> None:
    bad = make_if021()
    bad["CommonBlock"]["M0"]["MPANCore"] = "2000056535972"  # wrong check digit
    (tmp_path / "msgs").mkdir()
    (tmp_path / "msgs" / "IF-021_000001.json").write_bytes(orjson.dumps([{"payload": bad}]))
    done = CliRunner().invoke(main, ["run", "validate_messages", "-p", "path", str(tmp_path / "msgs")])
    assert done.exit_code == 1
    assert "AssertionError" in done.output
    failed = tmp_path / "evidence" / "validate_messages.failed.ipynb"
    assert failed.is_file() and not (tmp_path / "evidence" / "validate_messages.ipynb").exists()
    assert "WB-MPAN" in "\n".join(_outputs(failed)["text/markdown"])


@pytest.mark.slow
def test_validate_messages_runs_with_its_defaults(tmp_path: Path) -> None:
    result = run_notebook("validate_messages", out=tmp_path / "ev", cwd=tmp_path)
    out = _outputs(result.notebook)
    assert "error" not in out
    assert "no path given: validating the built-in demo data set" in "\n".join(out["stream"])
    assert f"**{VALID_TEXT}:" in "\n".join(out["text/markdown"])
    assert len(out["image/svg+xml"]) == 1  # problems per rule
    assert "no findings" in "\n".join(out["text/plain"])


@pytest.mark.slow
def test_profile_designer_headless(tmp_path: Path) -> None:
    result = run_notebook("profile_designer", {
        "interactive": False, "archetype": "domestic_economy7", "pv_kwp": 3.0,
        "scenario_out": str(tmp_path / "design.yaml")}, out=tmp_path / "ev")
    out = _outputs(result.notebook)
    assert "error" not in out
    assert len(out["image/png"]) == 1
    assert "application/vnd.jupyter.widget-view+json" not in out  # no widgets when not interactive
    scenario = Scenario.from_yaml(tmp_path / "design.yaml")
    assert scenario.meters.archetypes == {"domestic_economy7": 1.0} and scenario.meters.pv_share == 1.0


@pytest.mark.slow
def test_profile_designer_loads_a_scenario_headless(tmp_path: Path) -> None:
    demo = NOTEBOOKS.parent / "examples" / "demo.yaml"
    result = run_notebook("profile_designer", {
        "interactive": False, "scenario_file": str(demo), "scenario_out": str(tmp_path / "again.yaml")},
        out=tmp_path / "ev")
    out = _outputs(result.notebook)
    assert "error" not in out
    assert any("55 % domestic unrestricted" in t and "change supplier on 2025-10-28" in t
               for t in out["text/markdown"])  # the data set form's fleet line
    assert Scenario.from_yaml(tmp_path / "again.yaml").to_dict() == Scenario.from_yaml(demo).to_dict()


@pytest.mark.slow
def test_failed_generation_keeps_notebook_beside_the_data_set(tmp_path: Path) -> None:
    with pytest.raises(NotebookFailed) as caught:
        run_notebook("generate_dataset", {**SMALL, "out": str(tmp_path / "data"), "overrides": {"outputs": []}})
    assert caught.value.notebook == tmp_path / "data.generate_dataset.failed.ipynb"
    assert caught.value.notebook.is_file() and not (tmp_path / "data").exists()
    assert "asks for nothing" in "\n".join(_outputs(caught.value.notebook)["error"])


# --------------------------------------------------------------------------- repeated runs


def _errors(path: Path) -> list[str]:
    return _outputs(path).get("error", [])


@pytest.mark.slow
def test_run_overwrite(tmp_path: Path) -> None:
    args = ["run", "generate_dataset", *(part for k, v in SMALL.items() for part in ("-p", k, str(v))),
            "-p", "out", str(tmp_path / "data")]
    assert CliRunner().invoke(main, args).exit_code == 0
    first = (tmp_path / "data" / "manifest.json").read_bytes()
    # again without --overwrite: a one-line stop naming the notebook's parameter, not a flag
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 1
    assert "already exists; set `out` to another folder or set `overwrite = True`" in again.output
    failed = tmp_path / "data.generate_dataset.failed.ipynb"
    stops = [o for c in nbformat.read(failed, as_version=4).cells for o in c.get("outputs", [])
             if o["output_type"] == "error"]
    assert len(stops) == 1 and len(stops[0]["traceback"]) == 1  # the message alone, no stack
    assert "--overwrite" not in stops[0]["traceback"][0] and "--out" not in stops[0]["traceback"][0]
    assert (tmp_path / "data" / "manifest.json").read_bytes() == first  # left alone
    # with --overwrite: the parameter is set, the data set replaced and the evidence recorded
    done = CliRunner().invoke(main, [*args, "--overwrite"])
    assert done.exit_code == 0, done.output
    nb = nbformat.read(tmp_path / "data" / "evidence" / "generate_dataset.ipynb", as_version=4)
    assert nb.metadata["papermill"]["parameters"]["overwrite"] is True
    assert verify(tmp_path / "data") == []
    # a notebook without the parameter: a clear error, nothing run
    refused = CliRunner().invoke(main, ["run", "explore_dataset", "--overwrite"])
    assert refused.exit_code != 0
    assert "explore_dataset.ipynb has no overwrite parameter" in refused.output


@pytest.mark.slow
@pytest.mark.parametrize("notebook", ["generate_dataset", "convert_csv"])
def test_default_runs_repeat(notebook: str, tmp_path: Path, monkeypatch) -> None:
    """Run twice with the default `out` and `overwrite`: two fresh workspace data sets, no error."""
    monkeypatch.setenv("MHHS_WORKBENCH_WORKSPACE", str(tmp_path / "ws"))
    params = SMALL if notebook == "generate_dataset" else {}  # small, but `out` left to its default
    name = "demo-data" if notebook == "generate_dataset" else "converted-data"
    for folder in (name, f"{name}-2"):
        result = run_notebook(notebook, params, cwd=tmp_path)
        data = tmp_path / "ws" / folder
        assert result.notebook == data / "evidence" / f"{notebook}.ipynb"
        assert result.dataset == data and verify(data) == []
        assert _errors(result.notebook) == []
        assert f"data set written to {data}" in "\n".join(_outputs(result.notebook)["stream"])
        identity = [c for c in nbformat.read(result.notebook, as_version=4).cells
                    if "run-identity" in c.metadata.get("tags", [])]
        assert len(identity) == 1
        shown = identity[0].outputs[0]["data"]["text/markdown"]
        assert f"| notebook | {notebook} |" in shown and f"`out = '{data}'`" in shown  # the fresh folder


@pytest.mark.slow
def test_bad_csv_stops_with_its_problems_only(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("mpan,timestamp,kwh\n2000056535971,2025-03-29T00:30:00Z,abc\n")
    with pytest.raises(NotebookFailed, match="(?s)NotebookStop: 1 problem in the input.*bad.csv:2: kwh"):
        run_notebook("convert_csv", {"csv": str(tmp_path / "bad.csv"), "out": str(tmp_path / "data")})
    failed = tmp_path / "data.convert_csv.failed.ipynb"
    errors = [o for c in nbformat.read(failed, as_version=4).cells for o in c.get("outputs", [])
              if o["output_type"] == "error"]
    assert len(errors) == 1 and errors[0]["traceback"][0].startswith("Stopped: ")
    assert "bad.csv:2" in errors[0]["traceback"][0] and not (tmp_path / "data").exists()


def test_identity_cell_only_reads_data() -> None:
    import ast

    from mhhs_workbench.notebook.run_identity import identity_cell_source

    nasty = {"x": "'); import os; os.system('echo hi') #", "y": float("inf"), "z": [1, {"a": None}]}
    tree = ast.parse(identity_cell_source({"notebook": "n", "parameters": nasty, "values": nasty}))
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert [ast.unparse(f) for f in calls] == ["run_identity", "json.loads"]  # no other code runs

"""Calibration is reproducible and stores fitted parameters, not the reference data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import missing_reference

from mhhs_workbench.model.profiles.parameters import PARAMETERS_PATH

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference" / "profiles"


@pytest.fixture(scope="module")
def reference_folder() -> Path:
    if not REFERENCE.is_dir():
        missing_reference(f"reference data not found at {REFERENCE} (../shared/reference/profiles)")
    return REFERENCE


def test_rerun_reproduces_the_committed_file(reference_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "parameters.json"
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "calibrate_profiles.py"),
            "--reference",
            str(reference_folder),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == PARAMETERS_PATH.read_bytes()


def test_script_reports_a_missing_folder(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "calibrate_profiles.py"),
            "--reference",
            str(tmp_path / "absent"),
            "--output",
            str(tmp_path / "p.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 2 and "not found" in run.stderr


def _lists(node, found):
    if isinstance(node, dict):
        for v in node.values():
            _lists(v, found)
    elif isinstance(node, list):
        found.append(node)
        for v in node:
            _lists(v, found)
    return found


def test_parameters_are_fits_not_copies(reference_folder: Path) -> None:
    params = json.loads(PARAMETERS_PATH.read_text(encoding="utf-8"))
    assert "about" in params and "made_by" in params["about"]
    numeric = [x for x in _lists(params, []) if x and all(isinstance(v, float) for v in x)]
    assert max(len(x) for x in numeric) <= 17  # 8-harmonic Fourier series, not 48 values
    ref_values = set()
    for pc in range(1, 9):
        df = pd.read_csv(reference_folder / f"elexon_profile_class_{pc}.csv")
        ref_values |= set(df.drop(columns="Time").to_numpy().ravel().round(6).tolist())
    stored = [v for x in numeric for v in x]
    overlap = sum(v in ref_values for v in stored) / len(stored)
    assert overlap < 0.01
    assert params["heat_pump"]["daily"]["fit_r"] > 0.95

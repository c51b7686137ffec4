"""Fit the consumption model to the reference data and write ``parameters.json``.

Usage::

    python scripts/calibrate_profiles.py [--reference FOLDER] [--output FILE]

By default it reads ``../shared/reference/profiles/`` relative to the repository root and writes
``mhhs_workbench/model/profiles/parameters.json``. Rerunning it on the same inputs reproduces that file
byte for byte. See :mod:`mhhs_workbench.model.profiles.calibration` for what is fitted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = REPO_ROOT.parent / "shared" / "reference" / "profiles"
DEFAULT_OUTPUT = REPO_ROOT / "mhhs_workbench" / "profiles" / "parameters.json"


def main(argv: list[str] | None = None) -> int:
    """Run the calibration; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reference",
        type=Path,
        default=DEFAULT_REFERENCE,
        help="folder with elexon_profile_class_N.csv and the heating file",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="file to write")
    args = parser.parse_args(argv)
    if not args.reference.is_dir():
        print(f"error: reference folder {args.reference} not found", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO_ROOT))
    from mhhs_workbench.model.profiles.calibration import build_parameters, write_parameters

    path = write_parameters(build_parameters(args.reference), args.output)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Compare generated homes with real ones: rewrite the table in ``docs/homes.md`` and the figure.

Usage::

    python scripts/homes_report.py [--reference FOLDER] [--homes N] [--seed S]

Reads the household sample ``households/lcl_2013_50_homes.parquet`` from the reference folder
(default ``../shared/reference/`` relative to the repository root), generates a year of PC1
homes over the same UTC days, and writes

* the statistics table between the ``<!-- homes table -->`` markers of ``docs/homes.md``;
* ``docs/homes.png``: a week of three real and three generated homes, and the statistics.

See :mod:`mhhs_workbench.model.profiles.household_statistics` for the statistics.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = REPO_ROOT.parent / "shared" / "reference"
DOC = REPO_ROOT / "docs" / "homes.md"
FIGURE = REPO_ROOT / "docs" / "homes.png"
START, END = "<!-- homes table -->", "<!-- end homes table -->"


def replace_table(text: str, table: str) -> str:
    """``text`` with what lies between the table markers replaced by ``table``.

    Raises
    ------
    ValueError
        If the markers are missing or out of order.
    """
    a, b = text.find(START), text.find(END)
    if a < 0 or b < a:
        raise ValueError(f"{DOC.name}: markers {START} ... {END} not found in order")
    return text[: a + len(START)] + "\n\n" + table + "\n" + text[b:]


def main(argv: list[str] | None = None) -> int:
    """Write the table and the figure; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--homes", type=int, default=80, help="generated homes (default 80)")
    parser.add_argument("--seed", type=int, default=13, help="data-set seed (default 13)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO_ROOT))
    from mhhs_workbench.model.profiles.household_figure import comparison_figure
    from mhhs_workbench.model.profiles.household_statistics import (
        SAMPLE_FILE,
        compare_homes,
        markdown_table,
    )
    from mhhs_workbench.notebook.plots import figure_png

    if not (args.reference / SAMPLE_FILE).is_file():
        print(f"error: household sample {args.reference / SAMPLE_FILE} not found", file=sys.stderr)
        return 2
    comparison = compare_homes(args.reference, args.homes, args.seed)
    table = markdown_table(comparison.table)
    note = (
        f"{len(comparison.generated)} generated PC1 homes (seed {args.seed}) against "
        f"{len(comparison.real)} real homes with at least 60 complete days.\n"
    )
    try:
        DOC.write_text(
            replace_table(DOC.read_text(encoding="utf-8"), note + "\n" + table),
            encoding="utf-8",
            newline="\n",
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    FIGURE.write_bytes(figure_png(comparison_figure(comparison), dpi=80))
    print(table, end="")
    print(f"wrote {DOC.relative_to(REPO_ROOT)} and {FIGURE.relative_to(REPO_ROOT)}")
    return 0 if comparison.table["fits"].all() else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Files shipped beside the package: the notebooks and the example scenario and CSV files.

They live once, in the checkout's top-level ``notebooks/`` and ``examples/`` folders; an
installation copies them to ``<prefix>/share/mhhs-workbench/<kind>`` (``[tool.setuptools.data-files]``
in pyproject.toml), where they are found when the package is not run from a checkout.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

#: Where installed copies live, relative to an installation's data prefix.
SHARE_DIR = Path("share") / "mhhs-workbench"


def bundled_dirs(kind: str) -> list[Path]:
    """Folders searched for bundled files of ``kind`` (``notebooks`` or ``examples``), in order.

    The checkout's top-level folder comes first (the one source of truth, edited by developers);
    then the copies an installation puts under ``<prefix>/share/mhhs-workbench``.
    """
    dirs = [Path(__file__).resolve().parents[2] / kind]
    prefixes = [sys.prefix, sysconfig.get_path("data")]
    try:
        prefixes.append(sysconfig.get_path("data", f"{os.name}_user"))
    except KeyError:  # no user scheme on this platform
        pass
    for prefix in prefixes:
        folder = Path(prefix) / SHARE_DIR / kind
        if folder not in dirs:
            dirs.append(folder)
    return dirs


def find_example(name: str) -> Path:
    """A bundled example file by name, e.g. ``consumption_long.csv``.

    Raises
    ------
    FileNotFoundError
        Naming the folders searched.
    """
    for folder in bundled_dirs("examples"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"example {name!r} is not installed (searched "
                            f"{', '.join(str(d) for d in bundled_dirs('examples'))})")

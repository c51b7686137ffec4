"""The identity of a headless notebook run, shown at the top of the executed notebook.

:func:`~mhhs_workbench.notebook.runner.run_notebook` adds a cell (tagged ``run-identity``) right
after the parameters that calls :func:`run_identity`: when the run started [UTC], the package
version, Python and platform, the command or papermill parameters, and the sha256 of the
scenario. From that cell on, warnings show as ``Note: ...`` lines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from IPython.display import Markdown

from mhhs_workbench import __version__
from mhhs_workbench.notebook.notes import show_warnings_as_notes
from mhhs_workbench.notebook.scenario_parameters import _build_scenario
from mhhs_workbench.publish.manifest import find_dataset_root

__all__ = ["IDENTITY_TAG", "identity_cell_source", "run_identity", "scenario_sha256"]

#: Tag of the cell the runner adds.
IDENTITY_TAG = "run-identity"

#: Parameters that describe a scenario built from the notebook's parameters.
SCENARIO_KEYS = ("scenario_file", "overrides", "name", "seed", "start_date", "end_date", "meters")


def sha256_text(text: str) -> str:
    """sha256 of UTF-8 text, as hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scenario_sha256(values: Mapping[str, Any]) -> tuple[str | None, str]:
    """The sha256 of the scenario YAML a run uses, as far as its parameters tell, and its source.

    - a ``path`` inside a data set: its ``scenario.yaml``;
    - scenario parameters (``scenario_file``, ``overrides``, ``meters`` ...): the scenario they
      build, as ``scenario.yaml`` of the generated data set will hold it;
    - otherwise none.

    Parameters
    ----------
    values : mapping
        The run's parameter values, defaults included.

    Returns
    -------
    (str or None, str)
        The hex digest (None when unknown) and where it comes from, in words.
    """
    path = values.get("path")
    if isinstance(path, str) and path:
        root = find_dataset_root(path)
        if root is not None and (root / "scenario.yaml").is_file():
            file = root / "scenario.yaml"
            return sha256_text(file.read_text(encoding="utf-8")), f"{file}"
        return None, f"{Path(path).absolute()} is not inside a data set with a scenario.yaml"
    if any(k in values for k in SCENARIO_KEYS):
        kwargs = {k: values.get(k) for k in SCENARIO_KEYS if k not in ("scenario_file", "overrides")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # shown as notes where the notebook builds it
            try:
                scenario = _build_scenario(values.get("scenario_file") or "", values.get("overrides") or {},
                                           **kwargs)
            except Exception as exc:  # noqa: BLE001 - the scenario cell shows the error in full
                return None, f"the parameters do not make a valid scenario ({exc})"
        note = " (before the input data sets its days and meters)" if "csv" in values else ""
        return sha256_text(scenario.to_yaml()), f"the scenario the parameters describe{note}"
    return None, "this notebook takes no scenario"


def run_identity(run: Mapping[str, Any] | None = None) -> Markdown:
    """A table of what identifies this run, and warnings shown as notes from here on.

    Parameters
    ----------
    run : mapping, optional
        ``notebook`` (its name), ``command`` (the command line, if any), ``parameters`` (those
        given) and ``values`` (with the defaults); without it the run is taken as interactive.
    """
    run = dict(run or {})
    show_warnings_as_notes()
    given = run.get("parameters")
    digest, source = scenario_sha256(run.get("values") or {})
    rows = [
        ("started [UTC]", dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()),
        ("notebook", run.get("notebook") or "(unknown)"),
        ("mhhs-workbench", __version__),
        ("Python", f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})"),
        ("platform", platform.platform()),
        ("command", f"`{run['command']}`" if run.get("command") else "(run from Python, no command line)"),
        ("papermill parameters", ", ".join(f"`{k} = {v!r}`" for k, v in given.items()) if given
         else ("none (defaults)" if given is not None else "(interactive run)")),
        ("scenario sha256", f"`{digest}` ({source})" if digest else f"unknown: {source}"),
    ]
    table = "\n".join(f"| {k} | {_cell(v)} |" for k, v in rows)
    return Markdown(f"**Run identity**\n\n| | |\n|---|---|\n{table}")


def _cell(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def identity_cell_source(run: Mapping[str, Any]) -> str:
    """The code of the cell the runner adds.

    ``run`` travels as JSON inside a Python string literal, so whatever the parameter values
    (text, numbers, even NaN) the cell is valid code that only reads data.
    """
    text = json.dumps(dict(run), default=str, sort_keys=True)
    return ("# identity of this run, added by mhhs-workbench run\n"
            "import json\n"
            "from mhhs_workbench.notebook.run_identity import run_identity\n"
            f"run_identity(json.loads({text!r}))")

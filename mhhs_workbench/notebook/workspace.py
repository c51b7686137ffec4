"""The workspace: where the notebooks write data sets when no folder is named.

A notebook run twice with its defaults must not collide with its own earlier output, and must
not write next to the notebooks themselves (a checkout's ``notebooks/`` folder is tracked). The
workspace is

- the folder ``$MHHS_WORKBENCH_WORKSPACE`` names, if set;
- otherwise ``workspace/`` in the current folder, or beside it when the current folder is
  called ``notebooks`` (JupyterLab starts a kernel in the notebook's own folder).

In a checkout ``workspace/`` is git-ignored. Each default run gets a fresh folder in it
(``demo-data``, ``demo-data-2``, ...), see :func:`fresh_folder`.
"""

from __future__ import annotations

import os
from pathlib import Path

from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.publish.manifest import MANIFEST
from mhhs_workbench.scenario.demo import demo_scenario

__all__ = ["WORKSPACE_ENV", "dataset_or_demo", "fresh_folder", "latest_dataset", "workspace_dir"]

#: Environment variable naming the workspace folder.
WORKSPACE_ENV = "MHHS_WORKBENCH_WORKSPACE"


def workspace_dir(cwd: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder, as an absolute path (not created here).

    Parameters
    ----------
    cwd : path, optional
        Folder to resolve from instead of the current one.
    """
    named = os.environ.get(WORKSPACE_ENV, "")
    base = Path(cwd).absolute() if cwd is not None else Path.cwd()
    if named:
        return (base / Path(named).expanduser()).absolute()
    if base.name == "notebooks":  # never inside the (tracked) notebooks folder
        base = base.parent
    return base / "workspace"


def fresh_folder(name: str, cwd: str | os.PathLike[str] | None = None) -> Path:
    """A folder of the workspace that does not exist yet: ``name``, else ``name-2``, ``name-3`` ...

    Parameters
    ----------
    name : str
        The preferred folder name.
    cwd : path, optional
        Folder to resolve the workspace from instead of the current one.

    Returns
    -------
    pathlib.Path
        An absolute path whose folder does not exist (its parent is created).
    """
    root = workspace_dir(cwd)
    root.mkdir(parents=True, exist_ok=True)
    candidate, n = root / name, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{name}-{n}"
    return candidate


def latest_dataset(cwd: str | os.PathLike[str] | None = None) -> Path | None:
    """The most recently published data set in the workspace, if there is one.

    Returns
    -------
    pathlib.Path or None
        The folder whose ``manifest.json`` is newest, or None when the workspace holds none.
    """
    root = workspace_dir(cwd)
    if not root.is_dir():
        return None
    found = [m for m in root.glob(f"*/{MANIFEST}") if m.is_file()]
    if not found:
        return None
    return max(found, key=lambda m: (m.stat().st_mtime_ns, m.parent.name)).parent


def dataset_or_demo(path: str | os.PathLike[str] = "", purpose: str = "exploring") -> Path:
    """The data set a notebook works on: ``path`` if given, else the newest one in the workspace,
    else the built-in demo data set generated into the workspace (``workspace/demo-data``).

    Prints which one was chosen and why, with its absolute path (``purpose`` says what is done
    with it, e.g. ``"validating"``).
    """
    if str(path or ""):
        return Path(path).absolute()
    found = latest_dataset()
    if found is not None:
        print(f"no path given: {purpose} the newest data set in the workspace, {found}")
        return found

    target = fresh_folder("demo-data")
    print(f"no path given: {purpose} the built-in demo data set, generated into {target} "
          f"(the workspace {workspace_dir()} held none)")
    generate_dataset(demo_scenario(), target, progress=False)
    return target

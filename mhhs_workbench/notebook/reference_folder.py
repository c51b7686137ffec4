"""Where Elexon's profile class averages are: the folder the designer and exploration compare with.

The generator never needs these files. The designer and the exploration notebook draw Elexon's
class averages (``elexon_profile_class_1.csv`` ... ``_8.csv``) beside the model when they find
them, looking in this order:

1. the folder the user gives;
2. ``$MHHS_WORKBENCH_REFERENCE`` (the folder itself or its ``profiles`` sub-folder);
3. ``reference/profiles`` in the workspace (:mod:`mhhs_workbench.notebook.workspace`);
4. ``../shared/reference/profiles`` beside the project (from the current folder, or from its
   parent when that is ``notebooks``): where a checkout of the project keeps them.

:func:`reference_state` says in one line which folder is used, or where it looked and why nothing
is drawn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mhhs_workbench.model.profiles.reference import CLASS_FILES
from mhhs_workbench.notebook.workspace import workspace_dir

__all__ = ["CLASS_FILES", "REFERENCE_ENV", "ReferenceState", "candidate_folders", "reference_state"]

#: Environment variable naming the reference folder (or the folder holding ``profiles/``).
REFERENCE_ENV = "MHHS_WORKBENCH_REFERENCE"



@dataclass(frozen=True)
class ReferenceState:
    """The reference folder chosen, and what to tell the user about it.

    Attributes
    ----------
    folder : pathlib.Path or None
        Absolute folder holding Elexon's class files; None when none was found.
    classes : tuple of int
        Profile classes whose file the folder holds.
    note : str
        One line: the folder used and its classes, or where it looked.
    given : bool
        Whether the folder was given by the user (rather than found).
    """

    folder: Path | None
    classes: tuple[int, ...]
    note: str
    given: bool

    @property
    def found(self) -> bool:
        """Whether a folder with at least one class file is in use."""
        return self.folder is not None and bool(self.classes)


def _classes(folder: Path) -> tuple[int, ...]:
    return tuple(pc for pc, name in enumerate(CLASS_FILES, start=1) if (folder / name).is_file())


def candidate_folders(cwd: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders looked in when none is given, in order, as absolute paths."""

    here = Path(cwd).absolute() if cwd is not None else Path.cwd()
    found: list[Path] = []
    named = os.environ.get(REFERENCE_ENV, "").strip()
    if named:
        root = (here / Path(named).expanduser()).absolute()
        found += [root, root / "profiles"]
    found.append(workspace_dir(here) / "reference" / "profiles")
    project = here.parent if here.name == "notebooks" else here
    found.append((project / ".." / "shared" / "reference" / "profiles").resolve())
    unique: list[Path] = []
    for folder in found:
        if folder not in unique:
            unique.append(folder)
    return unique


def reference_state(given: str | os.PathLike[str] = "", cwd: str | os.PathLike[str] | None = None) -> ReferenceState:
    """The reference folder to use and a one-line note about it.

    Parameters
    ----------
    given : path, optional
        The folder the user typed; empty to look in :func:`candidate_folders`. A given folder
        without class files is reported as such (it is not replaced by a found one).
    cwd : path, optional
        Folder to resolve relative paths from instead of the current one.

    Returns
    -------
    ReferenceState
    """
    here = Path(cwd).absolute() if cwd is not None else Path.cwd()
    text = str(given or "").strip()
    if text:
        folder = (here / Path(text).expanduser()).absolute()
        if not folder.is_dir():
            return ReferenceState(None, (), f"Elexon data folder {folder} does not exist: class averages "
                                  "are not drawn.", True)
        classes = _classes(folder)
        if not classes:
            return ReferenceState(None, (), f"Elexon data folder {folder} holds no elexon_profile_class_N.csv: "
                                  "class averages are not drawn.", True)
        return ReferenceState(folder, classes, _using(folder, classes), True)
    looked = candidate_folders(here)
    for folder in looked:
        classes = _classes(folder) if folder.is_dir() else ()
        if classes:
            return ReferenceState(folder, classes, _using(folder, classes), False)
    return ReferenceState(None, (), (
        "No Elexon data folder: class averages are not drawn. Give a folder holding "
        f"elexon_profile_class_1.csv ... _8.csv, or set ${REFERENCE_ENV} (looked in "
        + ", ".join(str(f) for f in looked) + ")."), False)


def _using(folder: Path, classes: tuple[int, ...]) -> str:
    which = "all 8 profile classes" if len(classes) == 8 else "profile classes " + ", ".join(map(str, classes))
    return f"Elexon data: {folder} ({which})."

"""What ``--overwrite`` may replace: an output of the same kind whose files match its manifest.

A data set folder of this tool is one of two kinds, told apart by its manifest: negative test
data (``kind: negative test data``, written by :mod:`~mhhs_workbench.negative.cases`) and a data
set (generated or converted from CSV: no ``kind``; a converted one has a ``source``). A
replacement is refused when the kinds differ, and when files the manifest lists were edited
(:func:`~mhhs_workbench.publish.manifest.verify` reports them) unless the edits may be discarded.
Files the manifest does not list are the business of ``overwrite_extra_files``
(:func:`~mhhs_workbench.publish.publication.unlisted_files`), not of this module.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from mhhs_workbench.codes.remedies import Advice
from mhhs_workbench.publish.manifest import MANIFEST, PublicationError, verify

__all__ = ["DATASET_KIND", "NEGATIVE_KIND", "check_replaceable", "modified_files", "output_kind"]

#: Kind of a generated or converted data set (its manifest has no ``kind``).
DATASET_KIND = "data set"
#: Kind of negative test data (the ``kind`` its manifest records).
NEGATIVE_KIND = "negative test data"
#: Each kind in a sentence.
_WORDS = {DATASET_KIND: "a data set", NEGATIVE_KIND: "negative test data"}
#: Files named in a refusal before "and N more".
_SHOWN = 3
#: End of a ``verify`` line about a file the manifest does not list.
_UNLISTED = ": not in the manifest"


def output_kind(folder: str | Path) -> str | None:
    """The kind of the data set in ``folder``, or None when it holds no manifest of this tool.

    Parameters
    ----------
    folder : path
        A folder.

    Returns
    -------
    str or None
        :data:`NEGATIVE_KIND` or :data:`DATASET_KIND`.
    """
    try:
        manifest = orjson.loads((Path(folder) / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(manifest, dict):
        return None
    return NEGATIVE_KIND if manifest.get("kind") == NEGATIVE_KIND else DATASET_KIND


def modified_files(folder: str | Path) -> list[str]:
    """Files of a data set that differ from its manifest (edited, resized, missing; or the manifest).

    Parameters
    ----------
    folder : path
        A folder holding this tool's manifest.

    Returns
    -------
    list of str
        Their paths relative to ``folder`` as ``verify`` names them, in its order; files the
        manifest does not list are left out.
    """
    found: list[str] = []
    for line in verify(folder):
        if line.endswith(_UNLISTED):
            continue
        name = line.split(": ", 1)[0]
        if name not in found:
            found.append(name)
    return found


def check_replaceable(target: Path, *, kind: str | None, overwrite_modified: bool) -> None:
    """Refuse to replace the data set at ``target`` by one of another kind, or when it was edited.

    Parameters
    ----------
    target : path
        A folder holding this tool's manifest.
    kind : str or None
        Kind of the output that would replace it; None skips the kind check.
    overwrite_modified : bool
        Replace it even when files its manifest lists were edited.

    Raises
    ------
    PublicationError
        The kinds differ, or files were edited and ``overwrite_modified`` is false.
    """
    found = output_kind(target)
    if kind is not None and found is not None and found != kind:
        raise PublicationError(
            Advice("{target} holds {found} and this run writes {kind}; {replacing} only replaces an "
                   "output of the same kind: {another_out}", target=target, found=_WORDS[found],
                   kind=_WORDS.get(kind, kind))
        )
    if overwrite_modified:
        return
    changed = modified_files(target)
    if changed:
        shown = ", ".join(changed[:_SHOWN]) + (f" and {len(changed) - _SHOWN} more" if len(changed) > _SHOWN else "")
        raise PublicationError(
            Advice("{target} holds {n} file(s) edited since it was published ({shown}; mhhs-workbench "
                   "verify lists them); {replacing} would lose the edits: keep them elsewhere, or "
                   "{modified}", target=target, n=len(changed), shown=shown)
        )

"""The one check of every path a command writes, made before any work starts.

Every output of the command line goes through :func:`check_output`: the data set folders of
``generate``, ``demo``, ``from-csv`` and ``negative``, the reports of ``validate --html`` and
``--junit``, the pseudonym mapping of ``from-csv --mapping-out`` and the evidence folder of
``run --out``. It refuses, naming both paths, an output that

- has no name (``/``);
- exists and is not what is written: not a regular file for a file output, not a folder for a
  folder output (a device, a FIFO, a socket, a link to one, a broken link);
- is, contains or lies inside an input of the command, or another output of it (compared by
  resolved path, and by ``os.path.samefile`` where both exist, which also catches hard links and
  bind mounts);
- lies inside a data set of this tool (its files are sealed by its manifest), and, for a data
  set output, exists and may not be replaced (see
  :meth:`~mhhs_workbench.publish.publication.Publication.check`: only with ``overwrite``, only
  an output of the same kind, only when its files match its manifest);
- is a file whose folder is missing or not writable.

Evidence folders are the exception to the data set rule: the runner records the notebook it
writes into a data set in that data set's manifest, so ``verify`` still passes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from mhhs_workbench.codes.remedies import Advice
from mhhs_workbench.publish.manifest import PublicationError
from mhhs_workbench.publish.publication import Publication, is_dataset
from mhhs_workbench.publish.replacing import DATASET_KIND, NEGATIVE_KIND

__all__ = ["EVIDENCE", "FILE", "FOLDER_KINDS", "OutputRefused", "check_output"]

#: Kind of a file output (a report, the pseudonym mapping).
FILE = "file"
#: Kind of the folder a notebook run leaves its evidence in.
EVIDENCE = "evidence folder"
#: Kinds published as a data set folder by :class:`~mhhs_workbench.publish.publication.Publication`.
FOLDER_KINDS = (DATASET_KIND, NEGATIVE_KIND)
_KINDS = (FILE, EVIDENCE, *FOLDER_KINDS)


class OutputRefused(PublicationError):
    """An output path that may not be written: the message is one line naming the paths."""


def check_output(
    path: str | os.PathLike[str],
    *,
    kind: str,
    option: str = "--out",
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    others: Iterable[tuple[str, str | os.PathLike[str] | None]] = (),
    overwrite: bool = False,
    overwrite_extra_files: bool = False,
    overwrite_modified: bool = False,
    file_name: str | None = None,
) -> Path:
    """Refuse an output path that could destroy or corrupt anything; create nothing.

    Parameters
    ----------
    path : path
        The output as the user gave it.
    kind : str
        :data:`FILE`, :data:`EVIDENCE`, or the kind of data set published
        (:data:`~mhhs_workbench.publish.replacing.DATASET_KIND`,
        :data:`~mhhs_workbench.publish.replacing.NEGATIVE_KIND`).
    option : str
        The option that names it, for the messages (``--out``, ``--html``, ...).
    inputs : iterable of path or None
        Files and folders the command reads (None entries are skipped).
    others : iterable of (str, path or None)
        The command's other outputs, each with its option.
    overwrite, overwrite_extra_files, overwrite_modified : bool
        For a data set output: as for :class:`~mhhs_workbench.publish.publication.Publication`.
    file_name : str, optional
        For an evidence folder: the name of the file written into it, which is what the inputs
        are compared with (the folder may well hold the notebook run, under another name).

    Returns
    -------
    pathlib.Path
        The output's absolute path (links among its folders resolved).

    Raises
    ------
    OutputRefused
        The output may not be written there.
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown output kind {kind!r}; expected one of {', '.join(_KINDS)}")
    given = Path(os.path.abspath(path))
    if given.name in ("", ".", ".."):
        raise OutputRefused(f"{option} {path} has no name of its own; name a new "
                            f"{'file' if kind == FILE else 'folder'} inside it")
    _check_type(given, path, kind, option)
    written, words = given, f"{option} {path}"
    if kind == EVIDENCE and file_name is not None:
        written, words = given / file_name, f"the evidence file {given / file_name} of {option} {path}"
    for other in inputs:
        if other is not None:
            _check_apart(written, Path(other), words, f"the input {other}")
    for other_option, other in others:
        if other is not None:
            _check_apart(given, Path(other), f"{option} {path}", f"{other_option} {other}")
    resolved = Path(os.path.realpath(given))
    if kind == FILE:  # a data set output: Publication.check below words it for every front
        for folder in resolved.parents:
            if is_dataset(folder):
                raise OutputRefused(f"{option} {path} lies inside the data set {folder}; writing there "
                                    "would break its manifest (verify would fail): choose a path outside it")
    if kind == FILE:
        _check_folder_writable(resolved, path, option)
    elif kind in FOLDER_KINDS:
        try:
            Publication(given, overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
                        overwrite_modified=overwrite_modified, kind=kind).check()
        except PublicationError as exc:
            raise OutputRefused(exc.args[0]) from None
    return resolved


def _check_type(given: Path, shown: object, kind: str, option: str) -> None:
    """Refuse an existing output that is not a regular file (file) or a folder (folder)."""
    if not os.path.lexists(given):
        return
    if kind in FOLDER_KINDS and given.is_symlink():
        raise OutputRefused(
            Advice("{option} {shown} is a symbolic link (to {link}); {out_itself} so that it is clear "
                   "which folder is replaced", option=option, shown=shown, link=os.readlink(given))
        )
    try:
        mode = os.stat(given).st_mode
    except OSError as exc:
        raise OutputRefused(f"{option} {shown} exists but cannot be examined "
                            f"({exc.strerror or exc}); refusing to write there") from None
    wanted, words = (stat.S_ISREG, "a regular file") if kind == FILE else (stat.S_ISDIR, "a folder")
    if not wanted(mode):
        raise OutputRefused(f"{option} {shown} exists and is {_what(mode)}, not {words}; "
                            "refusing to write there: choose another path")


def _what(mode: int) -> str:
    """A file type in words."""
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a regular file"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "a special file"


def _check_apart(output: Path, other: Path, output_words: str, other_words: str) -> None:
    """Refuse an output that is, contains or lies inside ``other``."""
    out_real = Path(os.path.realpath(output))
    other_real = Path(os.path.realpath(os.path.abspath(other)))
    if out_real == other_real or _same(output, other):
        relation = "is"
    elif other_real in out_real.parents or any(_same(a, other) for a in output.parents):
        relation = "lies inside"
    elif out_real in other_real.parents or any(_same(output, a) for a in Path(os.path.abspath(other)).parents):
        relation = "contains"
    else:
        return
    raise OutputRefused(f"{output_words} {relation} {other_words}; writing there would destroy "
                        "or corrupt it: choose another path")


def _same(a: Path, b: Path) -> bool:
    """Whether both exist and are the same file or folder (links, hard links, bind mounts)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _check_folder_writable(resolved: Path, shown: object, option: str) -> None:
    """Refuse a file output whose folder is missing or may not be written."""
    folder = resolved.parent
    if not folder.is_dir():
        raise OutputRefused(f"{option} {shown}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputRefused(f"{option} {shown}: the folder {folder} is not writable "
                            "(permission denied); choose another path")

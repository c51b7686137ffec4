"""Releases of Elexon's DIP API specification: which are known, how to find and name them.

Participants' test systems sit on different releases of the DIP API, so a data set is checked
against a named release and the check records which one. A release is known here by the sha256
of its files, never by a file name: a folder or file given by path is named by its version when
its checksum matches, whatever it is called, and a file that differs by a byte is not that
version. Nothing here reads Elexon's files until asked; nothing here needs ``jsonschema``, so the
scenario loader can check a ``spec_version`` key without paying for it.

A release comes in one of two forms:

- ``yaml``: a folder of Elexon's unresolved OpenAPI YAML files (``Interfaces-EventCodes-
  unresolved.yaml`` and the files its ``$ref``s name), as ``elexon-data/dip-api-documentation``
  publishes them; its checksum is the sha256 of ``sha256sum`` output over the folder's
  ``*.yaml`` files sorted by name (``LC_ALL=C sha256sum *.yaml | sha256sum`` in the folder);
- ``json``: one resolved OpenAPI JSON document (internal ``#/components/schemas/...``
  references only); its checksum is the file's sha256.

A bare version name is looked up on the search path (:func:`search_path`): the folders named
by ``$MHHS_WORKBENCH_SPEC_PATH`` (separated like ``PATH``), then
``$XDG_DATA_HOME/mhhs-workbench`` (``~/.local/share/mhhs-workbench``). Each folder may hold the
release's own folder (``dip-api/`` or ``dip-api-2.1.0/`` for 2.1.0, ``dip-api-2.2.1/`` for
2.2.1) or its files directly.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mhhs_workbench.codes.releases import KNOWN_VERSIONS, LATEST_VERSION, KnownVersion
from mhhs_workbench.publish.manifest import sha256_file

__all__ = [
    "INTERFACES_FILE",
    "KNOWN_VERSIONS",
    "LATEST_VERSION",
    "MAX_SPEC_FILE_BYTES",
    "NULLABLE_READINGS",
    "SPEC_PATH_ENV",
    "KnownVersion",
    "SchemaError",
    "Spec",
    "check_nullable",
    "check_spec_file",
    "dataset_spec_version",
    "find_version",
    "load_spec",
    "resolve_spec",
    "search_path",
]

#: Environment variable listing folders to search for a release named by its version.
SPEC_PATH_ENV = "MHHS_WORKBENCH_SPEC_PATH"

#: File of Elexon's unresolved YAML holding the ``IF-nnn-Payload`` schemas.
INTERFACES_FILE = "Interfaces-EventCodes-unresolved.yaml"

#: The two readings of OpenAPI 3.0 ``nullable: true`` beside an ``enum`` (see README,
#: "Which DIP API release"): ``lenient`` lets null through although the enum does not list it,
#: as most tools do; ``strict`` follows OpenAPI 3.0.3, where ``nullable`` does not widen an enum.
NULLABLE_READINGS: tuple[str, ...] = ("lenient", "strict")

#: Largest specification file read [bytes], each of a folder's YAML files or a resolved JSON
#: file: Elexon's are a few MB; a bigger one is refused before it is read (parsing it would
#: take several times its size in memory).
MAX_SPEC_FILE_BYTES = 64 * 1024 * 1024

_FILE_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)

_VERSION_NAME = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")


class SchemaError(ValueError):
    """A schema or specification cannot be found, read or resolved."""


def check_spec_file(path: Path) -> int:
    """Size of the specification file ``path``, once known to be a regular file within the limit.

    Checked with ``stat`` before anything opens it: opening a FIFO would wait for a writer, and
    reading a device or a huge file would never end or run out of memory.

    Parameters
    ----------
    path : pathlib.Path
        A resolved JSON file, or one YAML file of a specification folder.

    Returns
    -------
    int
        Its size [bytes].

    Raises
    ------
    SchemaError
        Nothing is there, it is not a regular file (saying what it is), or it is larger than
        :data:`MAX_SPEC_FILE_BYTES`.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise SchemaError(f"cannot read the specification {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "not a regular file")
        raise SchemaError(f"Elexon specification {path} is {kind}, not a file of the specification; "
                          "give a folder of its YAML or its resolved JSON file")
    if info.st_size > MAX_SPEC_FILE_BYTES:
        raise SchemaError(f"Elexon specification file {path} is {info.st_size:,} bytes, over the "
                          f"limit of {MAX_SPEC_FILE_BYTES:,} bytes ({MAX_SPEC_FILE_BYTES >> 20} MiB) "
                          "for one specification file: not read")
    return info.st_size



_BY_CHECKSUM = {(v.kind, v.sha256): v.name for v in KNOWN_VERSIONS.values()}


def check_nullable(nullable: str) -> str:
    """``nullable`` if it is one of :data:`NULLABLE_READINGS`; raise ``ValueError`` otherwise."""
    if nullable not in NULLABLE_READINGS:
        raise ValueError(
            f"nullable reading {nullable!r} is not one of {', '.join(NULLABLE_READINGS)}"
        )
    return nullable


@dataclass(frozen=True)
class Spec:
    """One specification on disk, identified by checksum.

    Attributes
    ----------
    path : pathlib.Path
        The YAML folder or the resolved JSON file (absolute).
    kind : {'yaml', 'json'}
        Its form.
    sha256 : str
        Checksum of its files.
    version : str or None
        The known release with this checksum; ``None`` for a specification the package does
        not know (it is still used, and reported as unrecognised with its checksum).
    """

    path: Path
    kind: str
    sha256: str
    version: str | None

    @property
    def label(self) -> str:
        """``'DIP API 2.2.1'``, or ``'unrecognised DIP API specification'``."""
        return f"DIP API {self.version}" if self.version else "unrecognised DIP API specification"

    def describe(self) -> str:
        """The label with the checksum, e.g. ``'DIP API 2.2.1 (sha256 7d07...)'``."""
        where = "" if self.version else f" at {self.path}"
        return f"{self.label}{where} (sha256 {self.sha256})"

    def record(self) -> dict[str, Any]:
        """What a manifest or report keeps of it: version and checksum, no local path."""
        return {"version": self.version, "sha256": self.sha256, "kind": self.kind}


def _yaml_files(folder: Path) -> list[Path]:
    # sorted by name as str: code-point order, which is LC_ALL=C's for the ASCII names used
    return sorted((p for p in folder.glob("*.yaml") if p.is_file()), key=lambda p: p.name)


def _signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times: a changed file changes it, so it is hashed again."""
    files = _yaml_files(path) if path.is_dir() else [path]
    out = []
    for file in files:
        check_spec_file(file)  # before it is hashed, and before it is ever parsed
        info = file.stat()
        out.append((file.name, info.st_size, info.st_mtime_ns))
    return tuple(out)


@lru_cache(maxsize=32)
def _identify(path: str, kind: str, signature: tuple[tuple[str, int, int], ...]) -> Spec:
    folder = Path(path)
    if kind == "json":
        digest = sha256_file(folder)
    else:
        # the same bytes as `LC_ALL=C sha256sum *.yaml`, hashed again
        lines = "".join(f"{sha256_file(file)}  {file.name}\n" for file in _yaml_files(folder))
        digest = hashlib.sha256(lines.encode("utf-8")).hexdigest()
    return Spec(folder, kind, digest, _BY_CHECKSUM.get((kind, digest)))


def load_spec(path: str | os.PathLike[str]) -> Spec:
    """Identify the specification at ``path``: a folder of YAML or a resolved JSON file.

    Parameters
    ----------
    path : path
        A folder holding Elexon's unresolved YAML (with ``Interfaces-EventCodes-unresolved.yaml``)
        or one resolved OpenAPI document (JSON).

    Returns
    -------
    Spec
        Named by its known version when its checksum matches one.

    Raises
    ------
    SchemaError
        If nothing is at ``path``, it is neither a folder nor a regular file (a FIFO, a
        device), a folder lacks the interfaces file, or a file is over :data:`MAX_SPEC_FILE_BYTES`.
    """
    resolved = Path(path).expanduser().resolve()
    if resolved.is_dir():
        if os.path.lexists(resolved / INTERFACES_FILE):
            check_spec_file(resolved / INTERFACES_FILE)  # a FIFO or device there says so
        if not (resolved / INTERFACES_FILE).is_file():
            raise SchemaError(
                f"Elexon specification file {resolved / INTERFACES_FILE} not found "
                "(a specification folder holds Elexon's unresolved YAML files)"
            )
        kind = "yaml"
    elif resolved.is_file():
        kind = "json"
    elif os.path.lexists(resolved):
        check_spec_file(resolved)  # raises: it is there, but neither a folder nor a file
        raise SchemaError(f"Elexon specification {resolved} is not a regular file")  # pragma: no cover
    else:
        raise SchemaError(f"Elexon specification {resolved} not found (no such file or folder)")
    try:
        return _identify(str(resolved), kind, _signature(resolved))
    except OSError as exc:
        raise SchemaError(f"cannot read the specification {resolved}: {exc.strerror or exc}") from None


def search_path() -> list[Path]:
    """Folders searched for a release named by its version, in order.

    ``$MHHS_WORKBENCH_SPEC_PATH`` (folders separated by ``os.pathsep``; empty entries ignored),
    then ``$XDG_DATA_HOME/mhhs-workbench`` (by default ``~/.local/share/mhhs-workbench``).
    """
    listed = [Path(p).expanduser() for p in os.environ.get(SPEC_PATH_ENV, "").split(os.pathsep) if p]
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return [*listed, Path(data_home) / "mhhs-workbench"]


def _known_names() -> str:
    return ", ".join(KNOWN_VERSIONS)


def find_version(version: str) -> Spec:
    """The release ``version`` from the search path (see :func:`search_path`).

    A candidate counts only if its checksum is the release's: a folder called ``dip-api`` that
    holds other YAML is not 2.1.0.

    Raises
    ------
    SchemaError
        If ``version`` is not known, or no folder on the search path holds it; the message
        names the folders searched and any candidate whose checksum did not match.
    """
    known = KNOWN_VERSIONS.get(version)
    if known is None:
        raise SchemaError(f"unknown DIP API version {version!r}; known versions: {_known_names()}")
    mismatched: list[str] = []
    roots = search_path()
    for root in roots:
        for candidate in known.candidates(root):
            if known.kind == "yaml" and not (candidate / INTERFACES_FILE).is_file():
                continue
            if known.kind == "json" and not candidate.is_file():
                continue
            try:
                spec = load_spec(candidate)
            except SchemaError as exc:
                mismatched.append(str(exc))
                continue
            if spec.version == version:
                return spec
            mismatched.append(f"{spec.path} has sha256 {spec.sha256[:12]}..., not {version}'s")
    env = os.environ.get(SPEC_PATH_ENV)
    searched = ", ".join(str(r) for r in roots)
    setting = f"${SPEC_PATH_ENV}={env!r}" if env else f"${SPEC_PATH_ENV} is not set"
    found = f"; found only: {'; '.join(mismatched)}" if mismatched else ""
    raise SchemaError(
        f"DIP API {version} not found: looked for {known.looked_for} in {searched} "
        f"({setting}){found}; set {SPEC_PATH_ENV} to a folder holding it, or give its path"
    )


def resolve_spec(spec: str | os.PathLike[str] | Spec) -> Spec:
    """A specification from what a user gave: a known version name, a folder or a file.

    A known version name (``'2.2.1'``) is looked up on the search path (:func:`find_version`);
    write ``./2.2.1`` for a folder of that name. Anything else is a path (:func:`load_spec`).

    Raises
    ------
    SchemaError
        Unknown version, nothing found, or no such file or folder; one line each.
    """
    if isinstance(spec, Spec):
        return spec
    text = os.fspath(spec)
    if not isinstance(text, str) or not text.strip():
        raise SchemaError("no specification given (a version, a folder or a file)")
    if text in KNOWN_VERSIONS:
        return find_version(text)
    path = Path(text).expanduser()
    if not path.exists() and _VERSION_NAME.fullmatch(text):
        raise SchemaError(f"unknown DIP API version {text!r}; known versions: {_known_names()}")
    if not path.exists():
        raise SchemaError(
            f"Elexon specification {text!r} not found: neither a known DIP API version "
            f"({_known_names()}) nor an existing folder of YAML or resolved JSON file"
        )
    return load_spec(path)


def dataset_spec_version(paths: Iterable[str | os.PathLike[str]]) -> str | None:
    """The ``spec_version`` of the scenario of the data sets holding ``paths``, if they agree.

    Each path's published data set (the nearest folder at or above it holding ``manifest.json``)
    is read; a path outside any data set, or a manifest without the key (made by an older
    version), contributes nothing. ``None`` when none names a version or they name different ones.
    """
    versions: set[str] = set()
    for given in paths:
        here = Path(given).absolute()
        for folder in (here, *here.parents):
            manifest = folder / "manifest.json"
            if manifest.is_file():
                try:
                    data = json.loads(manifest.read_bytes())
                except (OSError, ValueError):
                    break
                scenario = data.get("scenario") if isinstance(data, dict) else None
                version = scenario.get("spec_version") if isinstance(scenario, dict) else None
                if isinstance(version, str) and version in KNOWN_VERSIONS:
                    versions.add(version)
                break
    return versions.pop() if len(versions) == 1 else None

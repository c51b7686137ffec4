"""The manifest of a data set: sha256 of every file, sealed, written atomically, and verified.

Publication (a hidden staging folder, the manifest written last, a locked rename into place and
recovery after a crash) is :mod:`mhhs_workbench.publish.publication`; the files' writers are
:mod:`mhhs_workbench.publish.writers`.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "mhhs-workbench data set"
MANIFEST_VERSION = 2  # 2: manifest_sha256 seals the header and the file list
#: Largest ``manifest.json`` :func:`verify` reads [bytes]; a larger one is refused unread. A
#: manifest takes about 150 bytes per file, so this allows well over a million files.
MAX_MANIFEST_BYTES = 256 * 2**20


class PublicationError(RuntimeError):
    """A data set cannot be published where asked."""


# ---------------------------------------------------------------------- manifest


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


#: Manifest field holding the sha256 of the rest of the manifest (see :func:`manifest_checksum`).
MANIFEST_CHECKSUM = "manifest_sha256"


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """Hex sha256 that seals a manifest's header and file list.

    It is computed over ``orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)``, where ``rest`` is
    the manifest without its ``manifest_sha256`` field: compact JSON, UTF-8, keys sorted at every
    level. That covers the header (format, versions, scenario, seed, counts) and the ``files``
    list alike, and it is the same whatever the indentation of ``manifest.json``, so anyone can
    recompute it from the parsed file. It detects edits, not forgery: there is no key.

    Parameters
    ----------
    manifest : dict
        A manifest, with or without the checksum field.

    Returns
    -------
    str
        64 lower-case hex digits.
    """
    rest = {key: value for key, value in manifest.items() if key != MANIFEST_CHECKSUM}
    return hashlib.sha256(orjson.dumps(rest, option=orjson.OPT_SORT_KEYS)).hexdigest()


def seal_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``manifest`` with its ``manifest_sha256`` field set to its current checksum.

    Whoever changes a manifest (e.g. adds an entry to ``files``) seals it again before writing.
    """
    return {**manifest, MANIFEST_CHECKSUM: manifest_checksum(manifest)}


def manifest_bytes(manifest: dict[str, Any], *, seal: bool = True) -> bytes:
    """The exact bytes of ``manifest.json`` for a manifest, sealed unless ``seal`` is false
    (deterministic either way)."""
    content = seal_manifest(manifest) if seal else manifest
    return orjson.dumps(content, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def build_manifest(
    root: Path, header: dict[str, Any], known: Mapping[str, tuple[int, str]] | None = None
) -> dict[str, Any]:
    """Manifest of every file under ``root`` (but the manifest): path, size [bytes], sha256.

    The manifest carries ``format``, ``manifest_version``, the ``header`` fields, ``files`` and
    ``manifest_sha256`` (see :func:`manifest_checksum`); the same files and header always give
    the same manifest. ``known`` maps paths to the ``(size, sha256)`` their writer computed from
    the bytes it wrote; such a file is not read again unless its size differs.
    """
    manifest_path = root / MANIFEST
    known = known or {}
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p != manifest_path):
        rel = path.relative_to(root).as_posix()
        size = path.stat().st_size
        seen = known.get(rel)
        digest = seen[1] if seen is not None and seen[0] == size else sha256_file(path)
        files.append({"path": rel, "bytes": size, "sha256": digest})
    return seal_manifest({"format": MANIFEST_FORMAT, "manifest_version": MANIFEST_VERSION, **header, "files": files})


def write_manifest(root: Path, manifest: dict[str, Any], *, seal: bool = True) -> Path:
    """Write ``manifest.json`` durably and atomically (it is the mark of a complete data set).

    The manifest is sealed as it is written (see :func:`seal_manifest`), so a manifest changed
    after :func:`build_manifest` still verifies; ``seal=False`` writes it as it is (a manifest
    already edited by hand stays unsealed, so ``verify`` keeps reporting it). It goes to a
    temporary file in ``root``, is flushed to disk and renamed over any old one, so a reader sees
    the old or the new, whole: every writer of a manifest comes through here.
    """
    path = root / MANIFEST
    data = manifest_bytes(manifest, seal=seal)
    umask = os.umask(0)
    os.umask(umask)
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{MANIFEST}.", suffix=".tmp", dir=root)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes it private; a data set is shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def verify(root: str | os.PathLike[str]) -> list[str]:
    """Re-check a published data set against its manifest.

    The manifest is read without following a symbolic link and only up to
    :data:`MAX_MANIFEST_BYTES`; its own ``manifest_sha256`` is recomputed first (so an edited
    header, such as the seed or the counts, is caught), then every entry is checked. An entry
    whose path is absolute, holds ``..``, a backslash or other odd parts, resolves outside ``root``
    or passes through a symbolic link is refused without opening it. Anything in the data set that
    is not a regular file or a folder (a symbolic link, even to a folder, a FIFO, a device, a
    socket), listed or not, is a problem: publication refuses such entries too.

    Returns
    -------
    list of str
        One line per problem (a manifest that is not this tool's, too large or was edited, a
        refused or malformed entry, a missing, changed, resized or unlisted file, an entry that is
        not a regular file); empty when intact.
    """
    root = Path(root)
    path = root / MANIFEST
    manifest, problems = _read_manifest(path)
    if manifest is None:
        return problems
    files = manifest.get("files")
    if not isinstance(files, list):
        problems.append(f"{MANIFEST}: 'files' is not a list of entries")
        return problems
    regular, special = _walk(root, problems)
    real_root = root.resolve()
    listed: set[str] = set()
    for i, entry in enumerate(files):
        rel = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(rel, str) or not rel:
            problems.append(f"{MANIFEST}: files[{i}] is not an entry with a path, bytes and sha256")
            continue
        shown = _shown(rel)
        unsafe = _unsafe_path(real_root, rel) or _through_special(rel, special)
        if unsafe:
            problems.append(f"{shown}: refused, not opened: {unsafe}")
            listed.add(rel)  # reported once: not again as unlisted
            special.pop(rel, None)
            continue
        if rel in listed:
            problems.append(f"{shown}: listed twice in the manifest")
            continue
        listed.add(rel)
        problem = _check_entry(root / rel, entry)
        if problem:
            problems.append(f"{shown}: {problem}")
    for rel, kind in sorted(special.items()):
        problems.append(f"{_shown(rel)}: {kind}, not a regular file (a data set holds only files and "
                        "folders; publication refuses it too)")
    for rel in sorted(regular - listed):
        problems.append(f"{_shown(rel)}: not in the manifest")
    return problems


def _read_manifest(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The parsed manifest at ``path`` (None when unusable) and its problems, one line each.

    The manifest is never followed through a symbolic link, must be a regular file, and is read
    only up to :data:`MAX_MANIFEST_BYTES` (a larger one is refused before reading it).
    """
    root = path.parent
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None, [f"{root}: no {MANIFEST}: not a complete data set"]
    except OSError as exc:
        return None, [f"{path}: cannot read the manifest ({exc.strerror or exc})"]
    if not stat.S_ISREG(st.st_mode):
        return None, [f"{path}: refused, not followed: {_kind(st.st_mode)}, not a regular file"]
    if st.st_size > MAX_MANIFEST_BYTES:
        return None, [f"{path}: refused, not read: {st.st_size:,} bytes, over the "
                      f"{MAX_MANIFEST_BYTES:,}-byte limit of a manifest"]
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # replaced since the lstat
                return None, [f"{path}: refused, not read: not a regular file"]
            data = f.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        return None, [f"{path}: cannot read the manifest ({exc.strerror or exc})"]
    if len(data) > MAX_MANIFEST_BYTES:
        return None, [f"{path}: refused: over the {MAX_MANIFEST_BYTES:,}-byte limit of a manifest"]
    try:
        manifest = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return None, [f"{path}: not a manifest of mhhs-workbench (not JSON: {_shown(str(exc))})"]
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        return None, [f"{path}: not a manifest of mhhs-workbench (format {_shown(repr(found))}, "
                      f"expected {MANIFEST_FORMAT!r})"]
    problems = []
    if MANIFEST_CHECKSUM not in manifest:
        problems.append(f"{MANIFEST}: no {MANIFEST_CHECKSUM}, so its header cannot be checked "
                        "(removed, or written by an older version: generate the data set again)")
    elif manifest[MANIFEST_CHECKSUM] != manifest_checksum(manifest):
        problems.append(f"{MANIFEST}: {MANIFEST_CHECKSUM} does not match the manifest (the manifest itself "
                        "was changed: its header, e.g. seed or counts, or its list of files)")
    return manifest, problems


def _check_entry(file: Path, entry: dict[str, Any]) -> str | None:
    """What is wrong with the regular file ``file`` against its manifest ``entry``, or None."""
    size, digest = entry.get("bytes"), entry.get("sha256")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return f"manifest entry has no valid 'bytes' (got {_shown(repr(size))})"
    if not isinstance(digest, str) or len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
        return f"manifest entry has no valid 'sha256' (got {_shown(repr(digest))})"
    try:
        if not file.is_file():
            return "missing"
        if file.stat().st_size != size:
            return f"size {file.stat().st_size} bytes, manifest says {size}"
        if sha256_file(file) != digest:
            return "sha256 differs from the manifest (file changed)"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


def _walk(root: Path, problems: list[str]) -> tuple[set[str], dict[str, str]]:
    """Regular files under ``root`` (but the manifest), and every other entry that is not a folder
    with what it is, by path relative to ``root``; symbolic links are never followed.

    A folder that cannot be listed adds a line to ``problems``.
    """
    regular: set[str] = set()
    special: dict[str, str] = {}

    def unreadable(exc: OSError) -> None:
        problems.append(f"{_shown(str(exc.filename))}: cannot be listed ({exc.strerror or exc})")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        for name in (*dirnames, *filenames):
            full = os.path.join(dirpath, name)
            rel = Path(full).relative_to(root).as_posix()
            try:
                mode = os.lstat(full).st_mode
            except OSError as exc:
                problems.append(f"{_shown(rel)}: cannot be read ({exc.strerror or exc})")
                continue
            if stat.S_ISREG(mode):
                if rel != MANIFEST:
                    regular.add(rel)
            elif not stat.S_ISDIR(mode):
                special[rel] = _kind(mode)
    return regular, special


def _kind(mode: int) -> str:
    """What a file of ``mode`` (``st_mode``) is, in words."""
    kinds = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a regular file"))
    return next((text for test, text in kinds if test(mode)), "not a regular file")


def _through_special(rel: str, special: dict[str, str]) -> str | None:
    """Why entry ``rel`` may not be opened: it, or a folder above it, is in ``special``."""
    parts = rel.split("/")
    for n in range(len(parts), 0, -1):
        kind = special.get("/".join(parts[:n]))
        if kind:
            return f"{kind}, not a regular file" if n == len(parts) else f"passes through {kind}"
    return None


def _unsafe_path(real_root: Path, rel: str) -> str | None:
    """Why a manifest path may not be opened under ``real_root`` (resolved), or None if it may.

    Manifests this tool writes hold plain relative POSIX paths; anything else is a manifest
    that was edited to make ``verify`` read elsewhere.
    """
    if not rel.isprintable():
        return "the path holds control characters"
    if "\\" in rel:
        return "the path holds a backslash"
    if rel.startswith("/") or (len(rel) >= 2 and rel[1] == ":"):
        return "the path is absolute"
    parts = rel.split("/")
    if ".." in parts:
        return "the path holds '..'"
    if "" in parts or "." in parts:
        return "the path is not a plain relative path"
    try:
        resolved = (real_root / rel).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symbolic link loop (Python < 3.13)
        return "the path cannot be resolved"
    if resolved != real_root and real_root not in resolved.parents:
        return "the path resolves outside the data set"
    return None


def _shown(text: str, limit: int = 80) -> str:
    """``text`` on one line and at most ``limit`` characters: manifests are not trusted input."""
    text = text if text.isprintable() else repr(text)[1:-1]
    return text if len(text) <= limit else text[: limit - 3] + "..."




def find_dataset_root(path: str | os.PathLike[str]) -> Path | None:
    """The published data set (folder with a manifest) that holds ``path``, if any."""
    here = Path(path).absolute()
    for folder in (here, *here.parents):
        if (folder / MANIFEST).is_file():
            return folder
    return None

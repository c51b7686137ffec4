"""Locked, atomic publication of a data set folder, and recovery after a crash.

A data set ``NAME`` is written into a hidden sibling ``.NAME.partial-PID-XXXXXXXX`` while a lock
(``flock`` on ``.NAME.lock``) is held, every file is flushed to disk, its manifest is written last,
and the folder is renamed to ``NAME`` with ``os.rename``. Only a data set this tool wrote (its
``manifest.json``) or an empty folder is ever replaced, only with ``overwrite``, and only when the
old data set holds no file its manifest does not list (unless ``overwrite_extra_files``).

Replacing a data set takes two renames, ``NAME -> .NAME.replaced-PID-T`` and
``.NAME.partial-... -> NAME``; then the old folder's manifest is deleted first (so it never looks
complete again) and the rest after. A folder holding this tool's manifest is never deleted by
the recovery a later run does:

====  ===============================  ===========================  ==============================
step  killed just before               on disk                      the next run into NAME
====  ===============================  ===========================  ==============================
1     the manifest is written          NAME as before; staging      deletes the staging folder
                                       without manifest
2     the first rename (old NAME       NAME as before; staging      NAME there: keeps staging,
      aside, or staging to a new       complete                     warns with the ``mv`` that
      NAME)                                                         recovers it; else renames it
                                                                    to NAME
3     ``staging -> NAME`` (replacing)  no NAME; old complete in     renames the old one back to
                                       ``.replaced-*``, new in      NAME; keeps the new one and
                                       staging                      warns with the ``mv``
4     the old manifest is deleted      NAME new; old complete in    keeps the old one, warns with
                                       ``.replaced-*``              the ``mv``
5     the old folder is deleted        NAME new; ``.replaced-*``    deletes it (its deletion had
                                       without manifest             begun)
6     the lock file is removed         NAME new; ``.NAME.lock``     reuses it (the kernel
                                                                    released the lock)
====  ===============================  ===========================  ==============================

The recovery command the warnings give is ``mv '.NAME.replaced-...' 'NAME.recovered'`` (then
``mhhs-workbench verify NAME.recovered``). An exception (not a kill) at any step removes the
staging folder; one between the renames of step 3 renames the old data set back first, and if
even that fails the error names the ``mv`` that restores it. SIGINT and SIGTERM become
:class:`Interrupted` (so the cleanup runs) and are held back between the two renames.

Why ``flock`` rather than an ``O_EXCL`` lock file: the kernel releases it when the process dies
however it dies, so a killed run never leaves a lock that the next run has to judge stale from a
PID (which may have been reused). Why ``os.rename`` rather than ``renameat2(RENAME_NOREPLACE)``:
renaming a folder onto an existing one succeeds only if that one is empty, so it can never
destroy data, and it is portable; an empty folder created at NAME during a run is replaced.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import orjson

from mhhs_workbench.codes.remedies import Advice
from mhhs_workbench.publish.manifest import (
    MANIFEST,
    MANIFEST_FORMAT,
    PublicationError,
    build_manifest,
    verify,
    write_manifest,
)
from mhhs_workbench.publish.replacing import check_replaceable

__all__ = [
    "Interrupted",
    "Publication",
    "PublicationError",
    "is_dataset",
    "unlisted_files",
]

PARTIAL = ".partial-"
REPLACED = ".replaced-"
LOCK = ".lock"
#: Digits of the longest PID on Linux (``pid_max`` is at most 2**22) [characters].
_PID_DIGITS = 7
#: Characters of the random part of hidden names (``mkdtemp``'s and ours).
_TOKEN_CHARS = 8
#: Signals turned into :class:`Interrupted` while a publication is open.
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Longest path shown in an error [characters]: a path is named whole, not cut to 80.
_PATH_CHARS = 4096



class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while a data set was being published.

    A ``KeyboardInterrupt`` so that ``except Exception`` blocks let it through to the cleanup.

    Attributes
    ----------
    signum : int
        The signal that arrived.
    """

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        """Exit status a shell reports for a process ended by the signal (130, 143)."""
        return 128 + self.signum

    def __str__(self) -> str:
        return str(self.args[0])


class Publication:
    """Write a data set into a hidden staging folder and rename it into place when complete.

    Use as a context manager: entering takes the lock on the target, recovers what crashed runs
    left (see the module's table) and checks the target; the body writes into :attr:`staging`;
    :meth:`publish` writes the manifest last and renames. If the body raises, the staging folder
    is removed; an ``OSError`` (disk full, read-only folder) becomes a one-line
    :class:`PublicationError`.

    Parameters
    ----------
    target : path
        Folder to publish the data set as. A symbolic link is refused; links among its parent
        folders are followed.
    overwrite : bool
        Replace an existing data set of this tool (or an empty folder) at ``target``.
    overwrite_extra_files : bool
        Also replace a data set holding files its manifest does not list (they are deleted);
        implies ``overwrite``.
    overwrite_modified : bool
        Also replace a data set whose listed files were edited since it was published (the
        edits are lost); implies ``overwrite``. Without it such a data set is refused.
    kind : str, optional
        Kind of the data set published (see :mod:`~mhhs_workbench.publish.replacing`): only one
        of the same kind is replaced. None replaces either kind.
    handle_signals : bool
        Turn SIGINT/SIGTERM into :class:`Interrupted` while open (main thread only, and only where
        the default handlers are installed), restoring the previous handlers afterwards.
    warn : callable, optional
        Called with each warning (recovered or kept leftovers); default: ``warning: ...`` on stderr.
    """

    PARTIAL = PARTIAL
    REPLACED = REPLACED

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        overwrite_extra_files: bool = False,
        overwrite_modified: bool = False,
        kind: str | None = None,
        handle_signals: bool = True,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.target = Path(os.path.abspath(target))
        self.overwrite_extra_files = overwrite_extra_files
        self.overwrite_modified = overwrite_modified
        self.kind = kind
        self.overwrite = overwrite or overwrite_extra_files or overwrite_modified
        self.handle_signals = handle_signals
        self.warn = warn or _warn_on_stderr
        self.staging: Path | None = None
        self.published = False
        self._lock_fd: int | None = None
        # beside the target (a path without a name, such as /, is refused on entering)
        self._lock_path = self.target.parent / f".{self.target.name}{LOCK}"
        self._previous_handlers: dict[int, Any] = {}
        self._aside: Path | None = None

    # ------------------------------------------------------------------ context manager

    def __enter__(self) -> Publication:
        self._check_path()
        parent = self.target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PublicationError(f"cannot create the folder {parent}: {_reason(exc)}") from None
        self._take_lock()
        try:
            self._install_handlers()
            self._recover()
            self._check_target(committing=False)
            prefix = f".{self.target.name}{PARTIAL}{os.getpid()}-"
            self.staging = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.staging, 0o777 & ~umask)  # mkdtemp makes it private; a data set is shared
        except OSError as exc:
            self._clean_up()
            raise PublicationError(f"cannot publish {self.target}: {_reason(exc)}") from None
        except BaseException:
            self._clean_up()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        staging = self.staging
        self._clean_up()
        if isinstance(exc, OSError) and not self.published:
            # a failed write() names no file: then the folder it wrote in is named instead
            where = "" if exc.filename or staging is None else f" (writing in {_shown(str(staging), _PATH_CHARS)})"
            raise PublicationError(
                f"cannot write the data set {self.target}: {_reason(exc)}{where}; "
                "nothing was published and the partial data set was removed"
            ) from exc

    # ------------------------------------------------------------------ publishing

    def publish(
        self, header: dict[str, Any], checksums: Mapping[str, tuple[int, str]] | None = None
    ) -> dict[str, Any]:
        """Flush, checksum, write the manifest last and rename into place.

        Parameters
        ----------
        header : dict
            Manifest fields besides the format and the list of files.
        checksums : mapping, optional
            ``(size, sha256)`` of files by path, computed by their writers as they wrote them;
            those files are not read again (see :func:`~mhhs_workbench.publish.manifest.build_manifest`).

        Returns
        -------
        dict
            The manifest written.

        Raises
        ------
        PublicationError
            The target changed during the run so that it may no longer be replaced (a folder
            with files was made there, files were added to the old data set); nothing is
            published and the target is left as it is.
        """
        if self.staging is None or self.published:
            raise RuntimeError("publish() needs an open, unpublished Publication")
        _fsync_tree(self.staging)  # the manifest must never name data that is not on disk yet
        manifest = build_manifest(self.staging, header, checksums)
        with _naming(self.staging / MANIFEST):
            write_manifest(self.staging, manifest)
        _fsync_dir(self.staging)
        # a Ctrl-C between the two renames of a replacement would leave no NAME: hold it back
        with _signals_held():
            self._commit()
        if self._aside is not None:
            self._discard_old(self._aside)
        return manifest

    def _commit(self) -> None:
        assert self.staging is not None
        target = self.target
        state = self._check_target(committing=True)  # again: under the lock, just before acting
        if state == "dataset":
            aside = self._hidden(REPLACED)
            os.rename(target, aside)
            try:
                # authoritative check: under its hidden name nobody adds files any more
                extra = unlisted_files(aside)
                if extra and not self.overwrite_extra_files:
                    raise PublicationError(_extra_files_message(target, extra))
                os.rename(self.staging, target)
            except BaseException as exc:
                self._roll_back(aside, exc)
                raise
            self._aside = aside
        else:
            # absent or an empty folder: rename replaces an empty folder and fails on any other
            try:
                os.rename(self.staging, target)
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                    raise PublicationError(_appeared_message(target)) from None
                raise
        self.published = True
        _fsync_dir(target.parent)

    def _roll_back(self, aside: Path, exc: BaseException) -> None:
        """Put the old data set back at the target after a failed second rename."""
        try:
            os.rename(aside, self.target)
        except OSError:
            raise PublicationError(
                f"publishing {self.target} failed ({_reason(exc)}) and the old data set could not be "
                f"put back; it is complete at {aside}: restore it with: "
                f"mv {shlex.quote(str(aside))} {shlex.quote(str(self.target))}"
            ) from exc

    def _discard_old(self, aside: Path) -> None:
        """Delete a replaced data set: its manifest first, so a half-deleted folder never looks complete."""
        try:
            (aside / MANIFEST).unlink(missing_ok=True)
            _fsync_dir(aside)
            shutil.rmtree(aside)
        except OSError as exc:
            self.warn(f"{self.target} was published, but the old data set at {aside} could not be "
                      f"deleted ({_reason(exc)}); delete it with: rm -rf {shlex.quote(str(aside))}")

    # ------------------------------------------------------------------ checks

    def check(self) -> None:
        """Check the target as entering would, creating nothing and taking no lock.

        Raises
        ------
        PublicationError
            The target may not be published or replaced (see the class's parameters).
        """
        self._check_path()
        parent = self.target.parent
        prefix = f".{self.target.name}."
        if parent.is_dir() and any(p.name.startswith(prefix) for p in parent.iterdir()):
            # a crashed run's lock, staging or set-aside folder: entering recovers them (under the
            # lock, with the warnings that name what was kept) before it checks the target
            return
        self._check_target(committing=False)

    def _check_path(self) -> None:
        """Refuse targets that cannot be published safely, before anything is created."""
        raw = self.target
        if raw.name in ("", ".", ".."):
            raise PublicationError(f"{raw} cannot be published as a data set folder; name a new folder")
        if raw.is_symlink():
            # renaming the link aside would leave the folder it points to, and a stale link, behind
            raise PublicationError(
                Advice("{raw} is a symbolic link (to {link}); {out_itself} so that it is clear which "
                       "folder is replaced", raw=raw, link=os.readlink(raw))
            )
        # a link among the parents is harmless: the renames happen in the real folder
        self.target = _resolve_parent(raw.parent) / raw.name
        name_max = _name_max(self.target.parent)
        longest = max(len(os.fsencode(n)) for n in _sibling_names(self.target.name))
        if longest > name_max:
            extra = longest - len(os.fsencode(self.target.name))
            raise PublicationError(
                f"the name {_shown(self.target.name)} is {len(os.fsencode(self.target.name))} bytes long; "
                f"publishing needs hidden folders beside it {extra} bytes longer, and this file system "
                f"allows {name_max} bytes: use a name of at most {name_max - extra} bytes"
            )
        for folder in (self.target.parent, *self.target.parent.parents):
            if is_dataset(folder):
                raise PublicationError(
                    Advice("{target} is inside the data set {folder}; publishing there would break "
                           "its manifest (verify would fail): {out_outside}", target=self.target, folder=folder)
                )

    def _check_target(self, *, committing: bool) -> str:
        """What the target is now: ``absent``, ``empty`` or ``dataset``; raise if it may not be replaced."""
        target = self.target
        if target.is_symlink():
            raise PublicationError(f"{target} is a symbolic link; refusing to replace it")
        if not target.exists():
            return "absent"
        if _is_empty_dir(target) and (self.overwrite or committing):
            return "empty"
        if not self.overwrite:
            if committing:
                raise PublicationError(_appeared_message(target))
            raise PublicationError(
                Advice("{target} already exists; {another_out} or {overwrite} to replace it", target=target)
            )
        if not is_dataset(target):
            # --overwrite replaces data sets, never a folder of someone's other files
            raise PublicationError(
                f"{target} is not a data set (no {MANIFEST} of this tool) and not empty; "
                "refusing to replace it"
            )
        extra = unlisted_files(target)
        if extra and not self.overwrite_extra_files:
            raise PublicationError(_extra_files_message(target, extra))
        if not committing:  # verifying reads every file: once, before the run
            check_replaceable(target, kind=self.kind, overwrite_modified=self.overwrite_modified)
        return "dataset"

    # ------------------------------------------------------------------ recovery

    def _recover(self) -> None:
        """Deal with what crashed runs into this target left (the lock is held, so they are dead).

        Folders without this tool's manifest are deleted (a staging folder never completed, or a
        replaced data set whose deletion had begun); complete ones are never deleted: the first
        of them is renamed back to the target when it is absent, the others are kept and named
        in a warning with the command that recovers them.
        """
        pattern = re.compile(re.escape(f".{self.target.name}") + r"\.(partial|replaced)-\d+(?:-\w+)?")
        replaced: list[Path] = []
        partial: list[Path] = []
        for path in self.target.parent.iterdir():
            match = pattern.fullmatch(path.name)
            if match is None:
                continue
            if path.is_symlink() or not path.is_dir():
                path.unlink()  # a link or file a run renamed aside holds no data of its own
            elif not is_dataset(path):
                shutil.rmtree(path, ignore_errors=True)  # never complete, or its deletion had begun
            else:
                (replaced if match.group(1) == "replaced" else partial).append(path)
        if not replaced and not partial:
            return
        # an old data set moved aside is what NAME held before the crash: it goes back first;
        # a staging folder only if its manifest verifies (it was written last, so it should)
        candidates = _newest_first(replaced) + _newest_first([p for p in partial if not verify(p)])
        keep = sorted(replaced + partial)
        target = self.target
        if candidates and not target.exists() and not target.is_symlink():
            os.rename(candidates[0], target)
            _fsync_dir(target.parent)
            keep.remove(candidates[0])
            self.warn(f"a run into {target} was interrupted; the complete data set it left in "
                      f"{candidates[0].name} was renamed to {target}")
        taken: set[Path] = set()
        for path in keep:
            recovered = _free_name(target, taken)
            taken.add(recovered)
            self.warn(
                f"kept the data set {path} that an interrupted run left; recover it with: "
                f"mv {shlex.quote(str(path))} {shlex.quote(str(recovered))} "
                f"(or delete it: rm -rf {shlex.quote(str(path))})"
            )

    def _hidden(self, marker: str) -> Path:
        return self.target.with_name(f".{self.target.name}{marker}{os.getpid()}-{secrets.token_hex(_TOKEN_CHARS // 2)}")

    # ------------------------------------------------------------------ lock and signals

    def _take_lock(self) -> None:
        """``flock`` ``.NAME.lock`` beside the target, or raise if another run holds it."""
        path = self._lock_path = self.target.with_name(f".{self.target.name}{LOCK}")
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise PublicationError(f"cannot publish in {path.parent}: {_reason(exc)}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                os.close(fd)
                who = f" (PID {holder})" if holder.isdigit() else ""
                raise PublicationError(
                    Advice("another run{who} is publishing {target} right now; wait for it to finish "
                           "or {another_out}", who=who, target=self.target)
                ) from None
            except OSError as exc:
                os.close(fd)
                raise PublicationError(f"cannot lock {path}: {_reason(exc)}") from None
            try:
                # the previous holder may have deleted the file between our open and flock
                if os.path.samestat(os.fstat(fd), os.stat(path)):
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:  # a full disk: the file exists, its one line does not fit
            with contextlib.suppress(OSError):
                os.unlink(path)  # still locked: no other run holds this file
            os.close(fd)
            raise PublicationError(f"cannot write the lock file {_shown(str(path), _PATH_CHARS)}: "
                                   f"{_reason(exc)}; nothing was published") from None
        self._lock_fd = fd

    def _clean_up(self) -> None:
        """Remove an unpublished staging folder, release the lock, restore signal handlers.

        Signals are held back meanwhile; one that arrived is raised by our handler at the end.
        """
        try:
            with _signals_held():
                if not self.published and self.staging is not None:
                    _remove_tree(self.staging)
                if self._lock_fd is not None:
                    with contextlib.suppress(OSError):  # a lock file left behind is harmless
                        os.unlink(self._lock_path)  # while still locked: no other run holds this file
                    os.close(self._lock_fd)
                    self._lock_fd = None
        finally:
            for signum, handler in self._previous_handlers.items():
                signal.signal(signum, handler)
            self._previous_handlers.clear()

    def _install_handlers(self) -> None:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return
        for signum in _SIGNALS:
            previous = signal.getsignal(signum)
            # leave handlers someone else installed (a Jupyter kernel, a test runner) alone
            if previous not in (signal.SIG_DFL, signal.default_int_handler):
                continue
            self._previous_handlers[signum] = previous
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.published:
            raise Interrupted(signum, f"interrupted by {name} after {self.target} was published")
        raise Interrupted(signum, f"interrupted by {name}; nothing was published at {self.target} "
                                  "and the partial data set was removed")


# ---------------------------------------------------------------------- helpers


def is_dataset(folder: Path) -> bool:
    """Whether ``folder`` holds a data set published by this tool (judged by its manifest)."""
    try:
        manifest = orjson.loads((Path(folder) / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT


def unlisted_files(folder: Path) -> list[str]:
    """Files (and links) under a data set folder that its manifest does not list.

    Parameters
    ----------
    folder : path
        A folder holding this tool's ``manifest.json``.

    Returns
    -------
    list of str
        Their paths relative to ``folder``, POSIX style, sorted; empty folders are not counted.
    """
    folder = Path(folder)
    try:
        files = orjson.loads((folder / MANIFEST).read_bytes()).get("files", [])
        listed = {f.get("path") for f in files if isinstance(f, dict)}
    except (OSError, orjson.JSONDecodeError, AttributeError):
        listed = set()
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in (*filenames, *links):
            rel = Path(dirpath, name).relative_to(folder).as_posix()
            if rel != MANIFEST and rel not in listed:
                found.append(rel)
    return sorted(found)


def _extra_files_message(target: Path, extra: list[str]) -> Advice:
    shown = ", ".join(_shown(p) for p in extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
    return Advice("{target} holds {n} file(s) not in its manifest ({shown}); {replacing} only replaces "
                  "files this tool wrote: move them out, or {extra_files}", target=target, n=len(extra), shown=shown)


def _appeared_message(target: Path) -> str:
    return (f"{target} was created or changed while the data set was being generated and may not be "
            "replaced; it was left as it is and nothing was published")


def _sibling_names(name: str) -> list[str]:
    """The longest hidden names a publication of ``name`` may create beside it."""
    pid = "9" * _PID_DIGITS
    token = "x" * _TOKEN_CHARS
    return [name, f".{name}{PARTIAL}{pid}-{token}", f".{name}{REPLACED}{pid}-{token}", f".{name}{LOCK}"]


def _name_max(folder: Path) -> int:
    """Longest file name the file system of ``folder`` (or its nearest existing parent) allows [bytes]."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            with contextlib.suppress(OSError, ValueError):
                return os.pathconf(candidate, "PC_NAME_MAX")
            break
    return 255


def _resolve_parent(parent: Path) -> Path:
    try:
        return parent.resolve()
    except (OSError, RuntimeError):  # a link loop: leave it to mkdir to report
        return parent


def _free_name(target: Path, taken: set[Path]) -> Path:
    """A visible sibling name, not in use nor in ``taken``, to recover a kept data set to."""
    candidate = target.with_name(f"{target.name}.recovered")
    n = 2
    while candidate in taken or candidate.exists() or candidate.is_symlink():
        candidate = target.with_name(f"{target.name}.recovered-{n}")
        n += 1
    return candidate


def _newest_first(paths: list[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: p.stat().st_mtime, reverse=True)


def _remove_tree(folder: Path, attempts: int = 5) -> None:
    """Remove a folder, trying again if files appeared in it meanwhile (a writer finishing)."""
    for attempt in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.lexists(folder):
            return
        time.sleep(0.05 * (attempt + 1))


def _is_empty_dir(folder: Path) -> bool:
    return folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir())


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` to disk."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                with _naming(Path(path)):  # a delayed write failing (ENOSPC, EIO) is reported here
                    os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk; best effort where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on folders (EINVAL)
            os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back in this thread; one that arrived is delivered at the end."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Give an ``OSError`` raised inside that names no file (a failed ``write``) the file ``path``."""
    try:
        yield
    except OSError as exc:
        if not exc.filename:
            exc.filename = str(path)
        raise


def _reason(exc: BaseException) -> str:
    """An OSError as one short line: the system's words and the file concerned (in full)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({_shown(os.fsdecode(exc.filename), _PATH_CHARS)})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return _shown(" ".join(str(exc).split()), 200)


def _shown(text: str, limit: int = 80) -> str:
    """``text`` on one line and at most ``limit`` characters."""
    text = text if text.isprintable() else repr(text)[1:-1]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _warn_on_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)

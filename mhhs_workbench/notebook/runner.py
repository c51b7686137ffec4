"""Run the workbench notebooks headless with papermill, leaving the executed notebook as evidence.

Conventions over plain papermill:

- a notebook is named by a path or by the bare name of a bundled one (``generate_dataset``);
- parameters are checked against the notebook's ``parameters`` cell, so a misspelt name is an
  error rather than a silently unused variable; every name must be a Python identifier (not a
  keyword), because papermill writes ``NAME = VALUE`` into the notebook as code;
- parameter YAML may not use anchors or aliases, which could expand a short value into gigabytes;
- parameters are bounded before anything runs, because papermill writes every value into the
  notebook as code: a parameter file holds at most :data:`MAX_PARAMETERS_FILE_BYTES`, a value at
  most :data:`MAX_PARAMETER_VALUE_CHARS` characters of text, nested at most
  :data:`MAX_PARAMETER_DEPTH` levels deep, and a path a parameter names must be one the
  operating system can open (components of at most 255 bytes, 4096 in all);
- the kernel is always the interpreter running this code (whatever kernel specs the user has);
- the executed notebook lands where it documents the data: ``evidence/generate_dataset.ipynb``
  inside the generated data set, ``evidence/validate_messages.ipynb`` beside the validated
  folder (inside it when that folder is itself a data set), ``./evidence/`` otherwise, or in the
  folder ``out`` names;
- a notebook that lands inside a published data set is added to its manifest, so
  ``mhhs-workbench verify`` still passes and also covers the evidence;
- a notebook that publishes a data set into ``out`` and is left with its empty default gets a
  fresh folder of the workspace (:mod:`~mhhs_workbench.notebook.workspace`) as ``out``, so runs never
  collide and the evidence lands inside the data set;
- a cell right after the parameters shows the run's identity (time, versions, command,
  parameters, scenario sha256; :mod:`~mhhs_workbench.notebook.run_identity`) and turns warnings into notes.

The executed notebook is written to a temporary folder first and moved into place only when the
run succeeded, because the data set folder it goes into is itself created (or replaced) by the
run. A failed run keeps its partly executed notebook as ``<name>.failed.ipynb`` (never inside a
published data set) and raises :class:`NotebookFailed` naming it.
"""

from __future__ import annotations

import ast
import difflib
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec

from mhhs_workbench.notebook.bundled import bundled_dirs
from mhhs_workbench.notebook.evidence import record_in_manifest
from mhhs_workbench.notebook.parameters import (
    MAX_PARAMETER_DEPTH,
    MAX_PARAMETER_VALUE_CHARS,
    MAX_PARAMETERS_FILE_BYTES,
    RunError,
    check_parameter_names,
    check_parameter_values,
    clip,
    file_kind,
    load_parameter_file,
    parse_parameter_value,
)
from mhhs_workbench.notebook.run_identity import IDENTITY_TAG, identity_cell_source
from mhhs_workbench.notebook.workspace import fresh_folder
from mhhs_workbench.publish.manifest import find_dataset_root

__all__ = [
    "BUNDLED_NOTEBOOKS",
    "MAX_PARAMETERS_FILE_BYTES",
    "MAX_PARAMETER_DEPTH",
    "MAX_PARAMETER_VALUE_CHARS",
    "NotebookFailed",
    "RunError",
    "RunResult",
    "SameInterpreterKernelManager",
    "bundled_notebook_dirs",
    "check_parameter_names",
    "check_parameter_values",
    "evidence_path",
    "find_notebook",
    "load_parameter_file",
    "notebook_parameters",
    "parse_parameter_value",
    "run_notebook",
    "with_overwrite",
]

#: Notebooks shipped with the package, by bare name.
BUNDLED_NOTEBOOKS: tuple[str, ...] = ("profile_designer", "generate_dataset", "convert_csv", "validate_messages",
                                      "explore_dataset")


#: Notebooks whose evidence location follows one of their parameters: (parameter, placement).
#: ``inside``: in the folder the parameter names; ``beside``: next to it, or inside it when it
#: is a published data set.
EVIDENCE_CONVENTIONS: dict[str, tuple[str, str]] = {
    "generate_dataset": ("out", "inside"),
    "convert_csv": ("out", "inside"),
    "validate_messages": ("path", "beside"),
    "explore_dataset": ("path", "beside"),
}

#: Notebooks that publish a data set: (parameter, workspace folder name used when it is empty).
FRESH_OUTPUTS: dict[str, tuple[str, str]] = {
    "generate_dataset": ("out", "demo-data"),
    "convert_csv": ("out", "converted-data"),
}

KERNEL_NAME = "python3"

#: Longest path and path component the kernel's file system takes [bytes] (Linux's PATH_MAX and
#: NAME_MAX): a path parameter beyond them is refused before the run, not in its failure handling.
_PATH_MAX_BYTES, _NAME_MAX_BYTES = 4096, 255


class NotebookFailed(RuntimeError):
    """The notebook did not run to the end (a cell raised, timed out, or the kernel died).

    Attributes
    ----------
    notebook : pathlib.Path
        Where the partly executed notebook was saved (``<name>.failed.ipynb``), when papermill
        had written one.
    """

    def __init__(self, message: str, notebook: Path) -> None:
        super().__init__(message)
        self.notebook = notebook


@dataclass(frozen=True)
class RunResult:
    """What a successful run left behind.

    Attributes
    ----------
    notebook : pathlib.Path
        The executed notebook (the evidence).
    dataset : pathlib.Path or None
        The published data set whose manifest now lists the notebook, if it landed in one.
    parameters : dict
        The parameters the notebook was run with.
    """

    notebook: Path
    dataset: Path | None
    parameters: dict[str, Any]


# --------------------------------------------------------------------------- kernel


class SameInterpreterKernelManager(KernelManager):
    """Kernel manager that starts ipykernel with this very interpreter.

    A ``python3`` kernel spec found on the Jupyter path may name another Python (a user-level
    spec takes precedence over the environment's), which would run the notebook without this
    package or with another version of it.
    """

    @property
    def kernel_spec(self) -> KernelSpec:
        """The ipykernel spec of ``sys.executable``, whatever ``kernel_name`` says."""
        if self._kernel_spec is None:
            # optional (the ``notebook`` extra): imported only when a kernel starts
            from ipykernel.kernelspec import RESOURCES, get_kernel_dict

            spec = get_kernel_dict()  # ipykernel's own spec for sys.executable, metadata included
            spec["argv"] = [sys.executable, *spec["argv"][1:]]
            self._kernel_spec = KernelSpec(resource_dir=RESOURCES, **spec)
        return self._kernel_spec


# --------------------------------------------------------------------------- finding notebooks


def bundled_notebook_dirs() -> list[Path]:
    """Folders searched for bundled notebooks, in order (see :func:`~mhhs_workbench.notebook.bundled.bundled_dirs`)."""
    return bundled_dirs("notebooks")


def find_notebook(notebook: str | os.PathLike[str]) -> Path:
    """The notebook file a name or path refers to.

    Parameters
    ----------
    notebook : str or path
        A path to an ``.ipynb`` file, or the bare name of a bundled notebook (with or without
        ``.ipynb``), e.g. ``generate_dataset``.

    Raises
    ------
    RunError
        If there is no such notebook, the path is too long, or it is neither a regular file
        nor a folder (a FIFO, a device).
    """
    path = Path(notebook)
    _check_path_length(path, f"notebook {clip(str(path))}")
    if path.is_file():
        return path
    if path.exists() and not path.is_dir():  # there, but not a file (a FIFO, a device): say so
        raise RunError(f"{clip(str(path))} is {file_kind(path)}, not a notebook file")
    name = path.name.removesuffix(".ipynb")
    if path.parent == Path(".") and name in BUNDLED_NOTEBOOKS:
        for folder in bundled_notebook_dirs():
            candidate = folder / f"{name}.ipynb"
            if candidate.is_file():
                return candidate
        searched = ", ".join(str(d) for d in bundled_notebook_dirs())
        raise RunError(f"bundled notebook {name!r} is not installed (searched {searched})")
    hint = ""
    close = difflib.get_close_matches(name, BUNDLED_NOTEBOOKS, n=1)
    if close:
        hint = f" (did you mean {close[0]!r}?)"
    raise RunError(f"{notebook}: no such notebook file, and not one of the bundled notebooks "
                   f"{', '.join(BUNDLED_NOTEBOOKS)}{hint}")


def _check_path_length(path: str | os.PathLike[str], what: str) -> None:
    """Refuse a path no file system call could take: a component or the whole too long.

    Raises
    ------
    RunError
        Naming ``what`` the path is and the limit it breaks.
    """
    raw = os.fsencode(path)
    longest = max((len(part) for part in raw.split(b"/")), default=0)
    if len(raw) >= _PATH_MAX_BYTES or longest > _NAME_MAX_BYTES:
        raise RunError(f"{what}: the path is too long ({len(raw):,} bytes, its longest name {longest:,}; "
                       f"the limits are {_PATH_MAX_BYTES - 1:,} and {_NAME_MAX_BYTES})")


def _read_notebook(path: Path) -> Any:
    """The notebook at ``path`` (nbformat 4), or a one-line :class:`RunError` saying why not.

    Nothing of the file's content is echoed: a path given by mistake (``/etc/passwd``) must not
    put its first line into the error.
    """
    import nbformat  # optional (the ``notebook`` extra): imported only when a notebook is read

    try:
        return nbformat.read(path, as_version=4)
    except OSError as exc:
        raise RunError(f"{path}: cannot read the notebook ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise RunError(f"{path} is not a notebook (not UTF-8 text)") from None
    except nbformat.reader.NotJSONError:
        raise RunError(f"{path} is not a notebook (not JSON)") from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError,
            nbformat.ValidationError):
        raise RunError(f"{path} is not a notebook (JSON, but not a Jupyter notebook document)") from None


# --------------------------------------------------------------------------- parameters


def notebook_parameters(notebook: str | os.PathLike[str]) -> dict[str, Any]:
    """The parameters a notebook declares in its ``parameters`` cell, with their defaults.

    Defaults that are not Python literals are returned as their source text.
    """
    # optional (the ``notebook`` extra): imported only when a notebook is read
    from papermill.translators import papermill_translators

    nb = _read_notebook(find_notebook(notebook))
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if not cells:
        return {}
    kernel = nb.metadata.get("kernelspec", {}).get("name", KERNEL_NAME)
    language = nb.metadata.get("kernelspec", {}).get("language", "python")
    # papermill's own reading of the cell, as it will inject after it
    declared = {p.name: p._asdict() for p in
                papermill_translators.find_translator(kernel, language).inspect(cells[0])}
    out = {}
    for name, info in declared.items():
        try:
            out[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            out[name] = info["default"]
    return out


def _check_names(notebook: Path, given: Mapping[str, Any], declared: Mapping[str, Any]) -> None:
    if not declared:
        return  # a notebook without a parameters cell takes papermill's injected cell as is
    for name in given:
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise RunError(f"{notebook.name}: unknown parameter {name!r}{hint}; "
                           f"it takes {', '.join(declared)}")


def with_overwrite(notebook: str | os.PathLike[str], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``parameters`` with the notebook's ``overwrite`` parameter set to true (``run --overwrite``).

    Raises
    ------
    RunError
        If the notebook has no ``overwrite`` parameter.
    """
    path = find_notebook(notebook)
    declared = notebook_parameters(path)
    if "overwrite" not in declared:
        takes = f"it takes {', '.join(declared)}" if declared else "it takes no parameters"
        raise RunError(f"{path.name} has no overwrite parameter, so --overwrite does not apply; {takes}")
    return {**parameters, "overwrite": True}


# --------------------------------------------------------------------------- evidence location


def evidence_path(notebook: str | os.PathLike[str], parameters: Mapping[str, Any],
                  out: str | os.PathLike[str] | None = None, *,
                  defaults: Mapping[str, Any] | None = None,
                  cwd: str | os.PathLike[str] | None = None) -> Path:
    """Where the executed notebook goes (see the module notes for the conventions).

    Parameters
    ----------
    notebook : str or path
        The notebook (its file name gives the evidence's name).
    parameters : mapping
        The parameters it runs with.
    out : path, optional
        Folder for the executed notebook, overriding the conventions.
    defaults : mapping, optional
        The notebook's declared defaults, for parameters not given.
    cwd : path, optional
        Folder relative paths are taken from; default the current one.

    Returns
    -------
    pathlib.Path
        ``<folder>/<notebook name>.ipynb``, an absolute path.
    """
    base = Path(cwd).absolute() if cwd is not None else Path.cwd()
    name = Path(notebook).name.removesuffix(".ipynb")
    file = f"{name}.ipynb"
    if out is not None:
        return base / out / file
    convention = EVIDENCE_CONVENTIONS.get(name)
    if convention is not None:
        key, placement = convention
        value = parameters.get(key, (defaults or {}).get(key))
        if value:
            target = base / str(value)
            if placement == "inside" or (target / "manifest.json").is_file():
                return target / "evidence" / file
            return target.parent / "evidence" / file
    return base / "evidence" / file


def _failed_path(evidence: Path, name: str, publishing: Path | None) -> Path:
    """Where a failed run's notebook goes: beside any data set, never inside one.

    ``publishing`` is the data set the run was to publish, which may not exist yet.
    """
    root = publishing or find_dataset_root(evidence.parent)
    if root is not None:
        return root.parent / f"{root.name}.{name}.failed.ipynb"
    return evidence.parent / f"{name}.failed.ipynb"


def _place(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` so that ``target`` appears complete or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- running


def run_notebook(
    notebook: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    log_output: bool = False,
    overwrite: bool = False,
    command: str | None = None,
) -> RunResult:
    """Execute a notebook headless with papermill and keep it as evidence.

    Parameters
    ----------
    notebook : str or path
        Path of a notebook, or bare name of a bundled one (``generate_dataset``).
    parameters : mapping, optional
        Values for the names in the notebook's ``parameters`` cell.
    out : path, optional
        Folder for the executed notebook instead of the conventional place.
    cwd : path, optional
        Working folder of the kernel (relative paths in parameters are taken from it); default
        the current one.
    timeout : float, optional
        Longest a single cell may run [s]; default no limit.
    log_output : bool
        Echo the notebook's output to the log while it runs.
    overwrite : bool
        Set the notebook's ``overwrite`` parameter to true (:func:`with_overwrite`).
    command : str, optional
        The command line that started the run, shown in the run identity cell.

    Returns
    -------
    RunResult
        Where the executed notebook went and which data set's manifest records it.

    Raises
    ------
    RunError
        If the notebook or a parameter name is unknown or not a Python identifier, a value is
        too long or nested too deep, or a path it leads to is too long (nothing is run).
    NotebookFailed
        If a cell raised; the partly executed notebook is kept and named.
    """
    params = dict(parameters or {})
    check_parameter_names(params)  # before anything else: names become code in the notebook
    check_parameter_values(params)  # and values too: bounded in length and depth
    path = find_notebook(notebook)
    params, declared = _declared_and_given(path, params, overwrite=overwrite)
    # the kernel runs in ``workdir`` too, so relative paths mean the same here and there
    workdir = Path(cwd).absolute() if cwd is not None else Path.cwd()
    name = path.name.removesuffix(".ipynb")
    _give_fresh_output(name, params, declared, workdir)
    _check_paths(name, params, declared, workdir, out)
    target = evidence_path(path, params, out, defaults=declared, cwd=workdir)
    failed = _failed_path(target, name, _published_folder(name, params, declared, workdir))
    _check_path_length(failed, f"the notebook of a failed run {clip(str(failed), 60)}")

    with tempfile.TemporaryDirectory(prefix="mhhs-run-") as scratch:
        executed = Path(scratch) / f"{name}.ipynb"
        source = Path(scratch) / "input" / path.name
        _with_identity_cell(path, source, {"notebook": name, "command": command, "parameters": params,
                                           "values": {**declared, **params}})
        try:
            _execute(source, executed, params, workdir, timeout=timeout, log_output=log_output)
        except Exception as exc:  # a cell raised, timed out, or the kernel died
            raise _failure(exc, path, executed, failed) from None
        _point_at_source(executed, path)
        _place(executed, target)

    root = find_dataset_root(target.parent)
    if root is not None:
        record_in_manifest(root, [target])  # seals the manifest again if it was intact
    return RunResult(notebook=target, dataset=root, parameters=params)


def _declared_and_given(
    path: Path, params: dict[str, Any], *, overwrite: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parameters a run gives, checked against those the notebook declares.

    Parameters
    ----------
    path : Path
        The notebook.
    params : dict
        Values given for the run; their names are already known to be identifiers.
    overwrite : bool
        Set the notebook's ``overwrite`` parameter to true (:func:`with_overwrite`).

    Returns
    -------
    params : dict
        The values given, with ``overwrite`` set when asked.
    declared : dict
        The notebook's declared parameters and their defaults (:func:`notebook_parameters`).

    Raises
    ------
    RunError
        If a given name is not declared by the notebook.
    """
    if overwrite:
        params = with_overwrite(path, params)
    declared = notebook_parameters(path)
    _check_names(path, params, declared)
    return params, declared


def _check_paths(name: str, params: Mapping[str, Any], declared: Mapping[str, Any], workdir: Path,
                 out: str | os.PathLike[str] | None) -> None:
    """Refuse, before the run, a too long path the evidence would go to (see :func:`_check_path_length`).

    Parameters
    ----------
    name : str
        The notebook's name (a key of :data:`EVIDENCE_CONVENTIONS`, or not).
    params, declared : mapping
        The run's parameters, and the notebook's defaults.
    workdir : Path
        The run's working folder, which relative paths are taken from.
    out : path or None
        The folder given for the evidence.
    """
    key, _ = EVIDENCE_CONVENTIONS.get(name, ("", ""))
    value = params.get(key, declared.get(key)) if key else None
    if isinstance(value, str) and value:
        _check_path_length(workdir / value / "evidence" / f"{name}.ipynb", f"parameter {key!r}")
    if out is not None:
        _check_path_length(workdir / out / f"{name}.ipynb", "--out")


def _give_fresh_output(name: str, params: dict[str, Any], declared: Mapping[str, Any], workdir: Path) -> None:
    """Give a publishing notebook left with its empty default output a new workspace folder.

    Parameters
    ----------
    name : str
        The notebook's name (a key of :data:`FRESH_OUTPUTS`, or not).
    params : dict
        The run's parameters; the output parameter is set in place.
    declared : mapping
        The notebook's declared parameters and their defaults.
    workdir : Path
        The run's working folder, which holds the workspace.
    """
    fresh_key, fresh_name = FRESH_OUTPUTS.get(name, ("", ""))
    if fresh_key in declared and not params.get(fresh_key, declared[fresh_key]):
        params[fresh_key] = str(fresh_folder(fresh_name, cwd=workdir))  # a new folder for each run


def _published_folder(
    name: str, params: Mapping[str, Any], declared: Mapping[str, Any], workdir: Path
) -> Path | None:
    """The data set a notebook whose evidence goes inside it publishes (it may not exist yet).

    Parameters
    ----------
    name : str
        The notebook's name (a key of :data:`EVIDENCE_CONVENTIONS`, or not).
    params, declared : mapping
        The run's parameters, and the notebook's defaults.
    workdir : Path
        The run's working folder, which relative paths are taken from.

    Returns
    -------
    Path or None
        The data set folder; None for a notebook that publishes none or names no folder.
    """
    key, placement = EVIDENCE_CONVENTIONS.get(name, ("", ""))
    published = params.get(key, declared.get(key)) if placement == "inside" else None
    return workdir / str(published) if published else None


def _execute(
    source: Path, executed: Path, params: Mapping[str, Any], workdir: Path, *, timeout: float | None,
    log_output: bool,
) -> None:
    """Run the notebook ``source`` with papermill on this interpreter, writing ``executed``.

    Parameters
    ----------
    source, executed : Path
        The notebook to run, and where the executed copy goes.
    params : mapping
        Values papermill injects after the parameters cell.
    workdir : Path
        Working folder of the kernel.
    timeout : float or None
        Longest a single cell may run [s]; None for no limit.
    log_output : bool
        Echo the notebook's output to the log while it runs.
    """
    import papermill  # optional (the ``notebook`` extra): imported only when a notebook runs

    papermill.execute_notebook(
        str(source),
        str(executed),
        parameters=params,
        kernel_name=KERNEL_NAME,
        language="python",
        kernel_manager_class=SameInterpreterKernelManager,
        progress_bar=False,
        log_output=log_output,
        cwd=str(workdir),
        execution_timeout=timeout,
    )


def _failure(exc: Exception, path: Path, executed: Path, failed: Path) -> NotebookFailed:
    """The error for a run that failed, keeping its partly executed notebook at ``failed``.

    Parameters
    ----------
    exc : Exception
        What papermill raised: a cell's error, a timeout, or a dead kernel.
    path : Path
        The notebook run.
    executed : Path
        Where papermill wrote the executed notebook (if it got that far).
    failed : Path
        Where a partly executed notebook is kept.

    Returns
    -------
    NotebookFailed
        Says why and names the kept notebook.
    """
    # optional (the ``notebook`` extra): imported only when a notebook runs
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        why = f"failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    else:
        why = f"did not finish: {type(exc).__name__}: {exc}"
    kept = ""
    if executed.is_file():
        _point_at_source(executed, path)
        _place(executed, failed)
        kept = f"\nthe partly executed notebook is {failed}"
    return NotebookFailed(f"{path.name} {why}{kept}", failed)


def _with_identity_cell(notebook: Path, copy: Path, run: Mapping[str, Any]) -> None:
    """Write ``notebook`` to ``copy`` with the run identity cell after its parameters cell.

    papermill puts its injected parameters right after the ``parameters`` cell (or first), so
    the identity cell, placed after the parameters cell here, follows them and sees their values.
    """
    import nbformat  # optional (the ``notebook`` extra)

    nb = _read_notebook(notebook)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    cell = nbformat.v4.new_code_cell(identity_cell_source(run), metadata={"tags": [IDENTITY_TAG]})
    nb.cells.insert(tagged[0] + 1 if tagged else 0, cell)
    copy.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, copy)


def _point_at_source(executed: Path, source: Path) -> None:
    """Name the real notebook, not the temporary copy, as papermill's ``input_path``."""
    import nbformat  # optional (the ``notebook`` extra)

    nb = nbformat.read(executed, as_version=4)
    if "papermill" in nb.metadata:
        nb.metadata["papermill"]["input_path"] = str(source)
        nbformat.write(nb, executed)

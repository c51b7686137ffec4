"""Parameters of a headless notebook run (``mhhs-workbench run -p NAME VALUE -f FILE``), checked.

papermill writes every parameter into the notebook as the code ``NAME = VALUE``, so everything
given is checked before a kernel starts: names must be Python identifiers (not keywords); YAML
may not use anchors or aliases (a short value could expand into gigabytes); and sizes are
bounded: a parameter file holds at most :data:`MAX_PARAMETERS_FILE_BYTES`, a value at most
:data:`MAX_PARAMETER_VALUE_CHARS` characters of text, nested at most :data:`MAX_PARAMETER_DEPTH`
levels deep. Every refusal is a :class:`RunError` of one line that quotes at most a few dozen
characters of what was given.
"""

from __future__ import annotations

import keyword
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "MAX_PARAMETERS_FILE_BYTES",
    "MAX_PARAMETER_DEPTH",
    "MAX_PARAMETER_VALUE_CHARS",
    "RunError",
    "check_parameter_names",
    "check_parameter_values",
    "clip",
    "file_kind",
    "load_parameter_file",
    "parse_parameter_value",
]

#: Largest parameter file (``run -f``) read [bytes].
MAX_PARAMETERS_FILE_BYTES = 1_000_000
#: Longest parameter value [characters]: a ``-p`` VALUE as given, or any text inside a value.
MAX_PARAMETER_VALUE_CHARS = 100_000
#: Deepest nesting of lists and mappings in a parameter value (YAML's parser recurses per level).
MAX_PARAMETER_DEPTH = 50

_FILE_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


class RunError(ValueError):
    """A run that cannot start: unknown notebook, bad parameter, unreadable parameter file."""


class _Refused(yaml.YAMLError):
    """Parameter YAML refused while it is composed: an anchor or alias, or nesting too deep."""

    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that keeps dates as text: notebooks and scenarios take ISO strings.

    Anchors and aliases are refused while composing: nested aliases ("billion laughs") are cheap
    to load as shared objects but papermill writes them out in full into the notebook. So is
    nesting deeper than :data:`MAX_PARAMETER_DEPTH`, before the composer's recursion (one level of
    Python calls per level of YAML) could run out of stack.
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose the next node, refusing an alias, an anchored node or one nested too deep."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, "YAML anchors and aliases are not allowed in parameters")
        # + 2: a parameter file's mapping, and the text at the bottom; the exact limit is
        # checked on the loaded values (check_parameter_values)
        if self._depth >= MAX_PARAMETER_DEPTH + 2:
            raise _Refused(event.start_mark, f"a parameter value is nested more than "
                           f"{MAX_PARAMETER_DEPTH} levels deep (the limit)")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_parameter_value(text: str) -> Any:
    """A ``-p NAME VALUE`` value as YAML: ``8`` is an int, ``true`` a bool, ``null`` None.

    Dates stay text (``2025-03-01``); flow collections work too (``{meters: {count: 8}}``).
    Text that is not valid YAML is taken as it is.

    Raises
    ------
    RunError
        If the value is longer than :data:`MAX_PARAMETER_VALUE_CHARS`, uses YAML anchors or
        aliases (``&a``, ``*a``) or nests deeper than :data:`MAX_PARAMETER_DEPTH`.
    """
    if len(text) > MAX_PARAMETER_VALUE_CHARS:
        raise RunError(f"parameter value {clip(text, 40)} is {len(text):,} characters long; the limit "
                       f"is {MAX_PARAMETER_VALUE_CHARS:,} (use a file the notebook reads for more)")
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except _Refused as exc:
        raise RunError(f"parameter value {clip(text, 40)}: {exc}") from None
    except yaml.YAMLError:
        return text


def load_parameter_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parameters from a YAML file holding a mapping of names to values.

    Raises
    ------
    RunError
        If the file is not a regular file, is larger than :data:`MAX_PARAMETERS_FILE_BYTES`,
        cannot be read, is not UTF-8 YAML, uses anchors or aliases, nests deeper than
        :data:`MAX_PARAMETER_DEPTH`, is not a mapping, a name is not a Python identifier or a
        value holds text longer than :data:`MAX_PARAMETER_VALUE_CHARS`.
    """
    path = Path(path)
    try:
        data = yaml.load(_read_parameter_file(path).decode("utf-8"), Loader=_Loader)  # noqa: S506
    except UnicodeDecodeError as exc:
        raise RunError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at byte offset "
                       f"{exc.start})") from None
    except _Refused as exc:
        raise RunError(f"{path}:{exc.mark.line + 1}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RunError(f"{where}: not valid YAML ({clip(str(getattr(exc, 'problem', exc)))})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RunError(f"{path}: a parameter file must be a mapping of names to values")
    params = {str(k): v for k, v in data.items()}
    check_parameter_names(params, source=str(path))
    check_parameter_values(params, source=str(path))
    return params


def _read_parameter_file(path: Path) -> bytes:
    """The bytes of the parameter file ``path``: a regular file of at most the limit.

    Raises
    ------
    RunError
        If it is not a regular file (a FIFO, a device: refused before opening, which could wait
        for ever), is over :data:`MAX_PARAMETERS_FILE_BYTES` or cannot be read.
    """
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise RunError(f"{path} is {file_kind(path)}, not a parameter file (a regular YAML file)")
        if info.st_size > MAX_PARAMETERS_FILE_BYTES:
            raise RunError(f"{path}: parameter file is {info.st_size:,} bytes; the limit is "
                           f"{MAX_PARAMETERS_FILE_BYTES:,}")
        with path.open("rb") as fh:
            data = fh.read(MAX_PARAMETERS_FILE_BYTES + 1)  # bounded, even if it grew since
    except OSError as exc:
        raise RunError(f"{path}: cannot read parameter file ({exc.strerror or exc})") from None
    if len(data) > MAX_PARAMETERS_FILE_BYTES:
        raise RunError(f"{path}: parameter file is over the limit of {MAX_PARAMETERS_FILE_BYTES:,} bytes")
    return data


def file_kind(path: str | os.PathLike[str]) -> str:
    """What ``path`` is, in words (``'a FIFO (named pipe)'``), following symbolic links."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "not readable"
    return next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")


def check_parameter_values(parameters: Mapping[str, Any], *, source: str | None = None) -> None:
    """Refuse values papermill should not write into a notebook: too long or nested too deep.

    Parameters
    ----------
    parameters : mapping
        The parameters, by name.
    source : str, optional
        What the values came from (a parameter file), to start the message with.

    Raises
    ------
    RunError
        If a text (a value, an item or a key inside one) is longer than
        :data:`MAX_PARAMETER_VALUE_CHARS`, or lists and mappings nest deeper than
        :data:`MAX_PARAMETER_DEPTH`.
    """
    where = f"{source}: " if source else ""
    for name, value in parameters.items():
        stack: list[tuple[Any, int]] = [(value, 0)]
        while stack:  # iterative: a deep value must not exhaust the stack while it is checked
            item, depth = stack.pop()
            if isinstance(item, str | bytes) and len(item) > MAX_PARAMETER_VALUE_CHARS:
                raise RunError(f"{where}parameter {name!r} holds a text of {len(item):,} characters; "
                               f"the limit is {MAX_PARAMETER_VALUE_CHARS:,}")
            if isinstance(item, Mapping | list | tuple | set | frozenset):
                if depth >= MAX_PARAMETER_DEPTH:
                    raise RunError(f"{where}parameter {name!r} is nested more than "
                                   f"{MAX_PARAMETER_DEPTH} levels deep (the limit)")
                items = [*item.keys(), *item.values()] if isinstance(item, Mapping) else list(item)
                stack.extend((child, depth + 1) for child in items)


def check_parameter_names(parameters: Mapping[str, Any], *, source: str | None = None) -> None:
    """Refuse parameter names that are not plain Python identifiers.

    papermill injects each parameter as the line ``NAME = VALUE`` into the notebook's code, and
    into a notebook without a ``parameters`` cell it does so with no other check, so a name such
    as ``x = __import__("os").system("..."); y`` would run as code.

    Parameters
    ----------
    parameters : mapping
        The parameters, by name.
    source : str, optional
        What the names came from (a parameter file), to start the message with.

    Raises
    ------
    RunError
        If a name is not a string, not an identifier, or a Python keyword.
    """
    for name in parameters:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            where = f"{source}: " if source else ""
            raise RunError(f"{where}parameter name {clip(repr(name))} is not a Python identifier "
                           "(letters, digits and _, not starting with a digit, not a keyword)")


def clip(text: str, limit: int = 80) -> str:
    """``text`` on one line and at most ``limit`` characters, so errors stay short."""
    text = text if text.isprintable() else repr(text)[1:-1]
    return text if len(text) <= limit else text[: limit - 3] + "..."

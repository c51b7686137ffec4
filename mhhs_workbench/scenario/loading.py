"""Strict loading of a scenario: the safe YAML reader and the typed construction of dataclasses.

A scenario file is read as bytes (at most :data:`~mhhs_workbench.scenario.limits.MAX_SCENARIO_BYTES`,
UTF-8 only), composed by a YAML loader that refuses anchors, aliases, merge keys, duplicate keys
and over-long integers, and built into the scenario's dataclasses key by key: an unknown key or a
value of the wrong type is a :class:`~mhhs_workbench.scenario.errors.ScenarioError` naming the
file, line and key. :func:`to_plain` turns a built scenario back into the same plain mapping.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import stat
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from mhhs_workbench.scenario.errors import (
    ScenarioError,
    clip,
    dotted,
    located,
    number_problem,
    show,
)
from mhhs_workbench.scenario.limits import MAX_SCENARIO_BYTES, SHOW_CHARS

#: Longest integer literal read from YAML [digits]; longer ones cannot be a usable setting.
_MAX_INT_DIGITS = 40


class _Refused(Exception):
    """YAML the scenario loader will not compose, with where it stands."""

    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that leaves dates as text, so a bad date gets a located error here.

    It refuses anchors and aliases while composing, before any alias is expanded: a few hundred
    bytes of nested aliases ("billion laughs") would otherwise expand to gigabytes.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose the next node, refusing an alias or an anchored node."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, f"YAML alias *{clip(event.anchor)} is not allowed in a scenario "
                           "(write the value out)")
        if getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, f"YAML anchor &{clip(event.anchor)} is not allowed in a scenario "
                           "(write the value out)")
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _type_name(tp: Any) -> str:
    """How an error message names the type ``tp`` (``a list of a number``)."""
    origin = typing.get_origin(tp)
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return f"a mapping of names to {_type_name(typing.get_args(tp)[1])}"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false",
            dt.date: "a date (YYYY-MM-DD)"}.get(tp, getattr(tp, "__name__", str(tp)))


def _convert(tp: Any, value: Any, path: tuple[str, ...], source: str, node: yaml.Node | None) -> Any:
    """``value`` checked against, and converted to, the field type ``tp`` (dataclasses built)."""
    def fail(message: str) -> typing.NoReturn:
        raise ScenarioError(f"{located(source, node, path)}: {dotted(path)}: {message}")

    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, path, source, node)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            fail(f"expected a mapping, got {show(value)}")
        return build(tp, value, path, source, node)
    if origin is list:
        if not isinstance(value, list):
            fail(f"expected {_type_name(tp)}, got {show(value)}")
        (item,) = typing.get_args(tp)
        return [_convert(item, v, (*path, str(i)), source, node) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            fail(f"expected {_type_name(tp)}, got {show(value)}")
        _, item = typing.get_args(tp)
        return {str(k): _convert(item, v, (*path, str(k)), source, node) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            fail(f"expected true or false, got {show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            fail(f"expected an integer, got {show(value)}")
        problem = number_problem(value)
        if problem and path != ("seed",):  # the seed's own check says which range
            fail(f"{show(value)}: {problem}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            fail(f"expected a number, got {show(value)}")
        problem = number_problem(value)
        if problem:
            fail(f"{show(value)}: {problem}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            fail(f"expected a string, got {show(value)}")
        return value
    if tp is dt.date:
        if isinstance(value, dt.datetime):
            fail(f"expected a date (YYYY-MM-DD), got a date-time {show(value)}")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                fail(f"{show(value)} is not a date (YYYY-MM-DD)")
        fail(f"expected a date (YYYY-MM-DD), got {show(value)}")
    raise TypeError(f"unsupported scenario field type {tp!r}")  # a bug, not a user error


def build(cls: type, data: dict[str, Any], path: tuple[str, ...], source: str, node: yaml.Node | None) -> Any:
    """An instance of the dataclass ``cls`` from the mapping ``data`` found at key ``path``.

    Every value is converted to its field's type; an unknown key or a mistyped value is a
    :class:`ScenarioError` at ``source`` (with the line, where ``node`` is the composed YAML).
    """
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        key = str(key)
        if key not in names:
            # difflib is quadratic in the key's length; a long key is no typo anyway
            close = difflib.get_close_matches(key, names, n=1) if len(key) <= SHOW_CHARS else []
            hint = f" (did you mean {close[0]!r}?)" if close else f" (expected one of {', '.join(names)})"
            where = located(source, node, (*path, key))
            raise ScenarioError(f"{where}: {dotted((*path, key))}: unknown key{hint}")
        kwargs[key] = _convert(hints[key], value, (*path, key), source, node)
    return cls(**kwargs)


def read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    """The mapping a scenario file holds and its composed node tree (for error locations).

    Size and encoding are checked on the raw bytes before any parsing; anchors, aliases,
    duplicate keys and merge keys are refused on the composed tree before anything is built.
    """
    _refuse_fifo(path)
    try:
        with path.open("rb") as f:
            # read one byte past the limit rather than trusting stat: pipes and devices have no size
            raw = f.read(MAX_SCENARIO_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc.strerror or exc})") from None
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"{path}: larger than {MAX_SCENARIO_BYTES:,} bytes (1 MB); "
                            "a scenario file is a short description, not data")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte offset "
                            f"{exc.start}); save the file as UTF-8") from None
    loader = None
    try:
        loader = _Loader(text)  # checks every character is one YAML allows
        node = loader.get_single_node()
        if node is not None:
            _check_nodes(node, str(path), ())
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        raise ScenarioError(f"{path}:{exc.mark.line + 1}: {exc}") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ScenarioError(f"{path}:{line}: not valid YAML (character U+{exc.character:04X} is not "
                            "allowed)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ScenarioError(f"{where}: not valid YAML ({clip(str(getattr(exc, 'problem', exc)))})") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not a usable scenario (nested too deeply)") from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}:1: a scenario must be a mapping of keys to values")
    return data, node


def _refuse_fifo(path: Path) -> None:
    """Refuse a FIFO with a name on disk before opening it: opening waits for a writer, perhaps
    forever. An anonymous pipe (``/dev/stdin`` fed by ``|``, bash's ``<(...)``) has its writer and
    is read, up to the size limit.

    Raises
    ------
    ScenarioError
        If ``path`` is a named FIFO.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # opening words it
    # an anonymous pipe's link in /proc reads pipe:[...] (Linux)
    if stat.S_ISFIFO(mode) and not os.path.basename(os.path.realpath(path)).startswith("pipe:["):
        raise ScenarioError(f"{path}: is a FIFO (named pipe), not a regular file: not opened (reading "
                            "it would wait for a writer); save the scenario to a file and give that")


def _check_nodes(node: yaml.Node, source: str, path: tuple[str, ...]) -> None:
    """Refuse duplicate keys, merge keys and over-long integers in a composed YAML tree.

    PyYAML keeps the last of two equal keys silently; a scenario with both is ambiguous.
    """
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ScenarioError(f"{source}:{line}: {dotted((*path, '<<'))}: merge keys (<<) are not "
                                    "allowed in a scenario")
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if isinstance(key_node, yaml.ScalarNode):
                if name in seen:
                    raise ScenarioError(f"{source}:{line}: {dotted((*path, name))}: duplicate key "
                                        f"(first at line {seen[name]})")
                seen[name] = line
            _check_nodes(value_node, source, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_nodes(item, source, (*path, str(i)))
    elif node.tag == "tag:yaml.org,2002:int" and len(node.value) > _MAX_INT_DIGITS:
        # Python refuses to parse integers of over 4300 digits with a traceback; none is usable
        raise ScenarioError(f"{source}:{node.start_mark.line + 1}: {dotted(path)}: {clip(node.value)}: "
                            f"integer of {len(node.value)} characters is out of range")


def to_plain(value: Any) -> Any:
    """``value`` with its mappings and lists copied and its dates as ISO strings."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value

"""Schema breakages of a real payload, found by walking the package's JSON Schema beside it.

Each breakage changes one value, key or type of one place in the payload so that the schema
refuses it for one reason: a required key removed, an unknown key added, a value of the wrong
type, a string off its pattern, a value outside its enum, a string of the wrong length, a
date-time in a form the DIP refuses, or null where null is not allowed. Which places exist and
what they allow is read from the schema (``required``, ``additionalProperties``, ``type``,
``pattern``, ``enum``, ``minLength``/``maxLength``), not from a hand list; a candidate is kept
only when the package's schema refuses it with exactly the keywords of its class.

Places the business rules judge themselves are left alone for the classes that change a value
(:data:`RULE_FIELDS`): breaking them would break a rule as well as the schema.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mhhs_workbench.validation.schema import load_schema, validator_for

__all__ = ["SCHEMA_CLASSES", "RULE_FIELDS", "SchemaBreak", "json_path", "schema_breaks"]

JsonPath = tuple[str | int, ...]

#: Schema classes, each with the schema keywords a breakage of that class may trip.
SCHEMA_CLASSES: dict[str, frozenset[str]] = {
    "missing-field": frozenset({"required"}),
    "extra-field": frozenset({"additionalProperties"}),
    "wrong-type": frozenset({"type", "enum", "const"}),
    "pattern": frozenset({"pattern"}),
    "enum": frozenset({"enum", "const"}),
    "length": frozenset({"minLength", "maxLength"}),
    "date-time": frozenset({"pattern", "minLength", "maxLength"}),
    "null": frozenset({"type", "enum", "const"}),
}

#: Keys whose value the business rules judge (ECS1002/1004/1005/1014, WB-GSP, WB-READ-DT):
#: a schema breakage changing their value would be reported under a rule code as well.
RULE_FIELDS = frozenset({
    "periodDuration",
    "measurementQuantityID",
    "GSPGroupID",
    "settlementDayDate",
    "sp",
    "cumulativeRegisterReadingDateTime",
    "configurableRegisterReadingDate",
})

#: Where the interface is read from: without it no schema is chosen (rule INTERFACE instead).
_INTERFACE_PATH: JsonPath = ("CommonBlock", "S0", "interfaceID")

#: Key added by the extra-field class: a unit label, a typical stray key of hand-made messages.
_EXTRA_KEY = "unit"


@dataclass(frozen=True)
class SchemaBreak:
    """One schema breakage of a payload.

    Attributes
    ----------
    kind : str
        Schema class (a key of :data:`SCHEMA_CLASSES`).
    path : tuple
        Keys and indices of the changed place inside the payload.
    description : str
        What was changed, naming the place and the values.
    payload : dict
        The broken payload (a changed copy).
    """

    kind: str
    path: JsonPath
    description: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class _Site:
    path: JsonPath
    schema: dict[str, Any]
    value: Any
    is_datetime: bool


def json_path(path: JsonPath, prefix: str = "$") -> str:
    """``path`` written as a JSON path the way the validator writes them (``$.a.b[0].c``)."""
    out = [prefix]
    for part in path:
        out.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(out)


def _dotted(path: JsonPath) -> str:
    """``path`` as written in descriptions: ``CommonBlock.S1.subText``."""
    return json_path(path, "")[1:] if path else "the payload"


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``node`` with its local ``$ref`` followed, and whether it is the ``dateTime`` type."""
    is_datetime = False
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        is_datetime = is_datetime or ref == "#/$defs/dateTime"
        target: Any = root
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node, is_datetime


def _plain_period(items: list[Any]) -> int:
    """Index of the first period that is actual (``q`` A) and not zero: no rule looks at it."""
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("q") == "A" and item.get("v") not in ("0.000", None):
            return i
    return 0


def _walk(root: dict[str, Any], node: dict[str, Any], value: Any, path: JsonPath,
          is_datetime: bool = False) -> Iterator[_Site]:
    """Every place of ``value`` with its schema, depth first, in schema order.

    Arrays are entered through one item only (the first, or the first plain period of a
    day): the same place repeated in every item adds nothing.
    """
    node, ref_datetime = _resolve(root, node)
    yield _Site(path, node, value, is_datetime or ref_datetime)
    if isinstance(value, dict):
        for key, sub in node.get("properties", {}).items():
            if key in value:
                yield from _walk(root, sub, value[key], (*path, key))
    elif isinstance(value, list) and value and isinstance(node.get("items"), dict):
        i = _plain_period(value) if path and path[-1] == "consumptionPeriods" else 0
        yield from _walk(root, node["items"], value[i], (*path, i))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if kind else set()


def _other_type(value: Any) -> Any:
    """A value of another JSON type carrying the same information where it can."""
    if isinstance(value, str):
        try:
            return int(value) if value.isdigit() else float(value)
        except ValueError:
            return [value]
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return value[0] if value else {}
    if isinstance(value, dict):
        return [value]
    return "null"


def _off_pattern(value: str) -> list[str]:
    """Same-length variants of ``value`` a typist could produce, most likely first."""
    variants = []
    if "-" in value:
        variants.append(value.replace("-", "_", 1))
    if "." in value:
        variants.append(value.replace(".", ",", 1))
    variants += [value[:-1] + "x", "x" + value[1:], value[:-1] + " "]
    return variants


def _off_enum(value: Any) -> list[Any]:
    """Values close to ``value`` that an enum is unlikely to list: another case, a suffix."""
    if not isinstance(value, str):
        return ["X"]
    return [value.lower(), value.upper(), value + "X", "X"]


def _candidates(site: _Site) -> Iterator[tuple[str, JsonPath, Callable[[Any], Any], str]]:
    """(class, place named, change of the site's value, description) for one place."""
    schema, value, where = site.schema, site.value, _dotted(site.path)
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key in value:
                yield ("missing-field", (*site.path, key), _remove(key),
                       f"required key {_dotted((*site.path, key))} removed")
        if schema.get("additionalProperties") is False and _EXTRA_KEY not in value:
            yield ("extra-field", site.path, _add(_EXTRA_KEY, "kWh"),
                   f"unknown key {_EXTRA_KEY!r} added to {where}")
    if not site.path:
        return
    key = site.path[-1]
    other = _other_type(value)
    yield ("wrong-type", site.path, _set(other),
           f"{where} is {_show(other)} ({type(other).__name__}) instead of {_show(value)}")
    if value is not None and "null" not in _types(schema):
        yield ("null", site.path, _set(None), f"{where} is null where the schema does not allow null")
    if isinstance(value, str) and site.is_datetime:
        if value.endswith("+00:00"):
            changed = value[:-6] + "Z"
            yield ("date-time", site.path, _set(changed), f"{where} is {changed!r}: UTC written as Z")
        changed = value[:10] + " " + value[11:]
        yield ("date-time", site.path, _set(changed), f"{where} is {changed!r}: a space instead of T")
        return
    if isinstance(value, str) and "pattern" in schema:
        for changed in _off_pattern(value):
            yield ("pattern", site.path, _set(changed),
                   f"{where} is {_show(changed)}, off its pattern (was {_show(value)})")
    if "enum" in schema or "const" in schema:
        allowed = schema.get("enum", [schema.get("const")])
        for changed in _off_enum(value):
            if changed not in allowed:
                yield ("enum", site.path, _set(changed),
                       f"{where} is {_show(changed)}, not one of its allowed values")
    if isinstance(value, str) and "maxLength" in schema and isinstance(key, str):
        changed = value + value[-1:] * (schema["maxLength"] - len(value) + 1)
        yield ("length", site.path, _set(changed),
               f"{where} is {len(changed)} characters, more than {schema['maxLength']}")
    if isinstance(value, str) and schema.get("minLength", 0) > 1:
        changed = value[: schema["minLength"] - 1]
        yield ("length", site.path, _set(changed),
               f"{where} is {len(changed)} characters, fewer than {schema['minLength']}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _remove(key: str) -> Callable[[Any], Any]:
    def change(node: Any) -> Any:
        return {k: v for k, v in node.items() if k != key}

    return change


def _add(key: str, value: Any) -> Callable[[Any], Any]:
    def change(node: Any) -> Any:
        return {**node, key: value}

    return change


def _set(value: Any) -> Callable[[Any], Any]:
    def change(node: Any) -> Any:
        return value

    return change


def _apply(payload: dict[str, Any], path: JsonPath, change: Callable[[Any], Any]) -> dict[str, Any]:
    broken = copy.deepcopy(payload)
    if not path:
        return change(broken)
    parent: Any = broken
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = change(parent[path[-1]])
    return broken


def _allowed(kind: str, path: JsonPath, value: Any) -> bool:
    """Whether breaking ``path`` this way leaves every business rule unbroken."""
    changes_value = kind not in ("missing-field", "extra-field")
    # removing or retyping a container above interfaceID hides the interface (rule INTERFACE)
    if kind != "extra-field" and path == _INTERFACE_PATH[: len(path)]:
        return False
    if kind == "missing-field" and isinstance(value, dict):
        return True
    # Elexon's schema lets null through inside arrays of DIP IDs (only the package's refuses it)
    if kind == "null" and path and isinstance(path[-1], int):
        return False
    return not (changes_value and path and path[-1] in RULE_FIELDS)


def schema_breaks(payload: dict[str, Any], interface_id: str) -> dict[str, list[SchemaBreak]]:
    """Every schema breakage of one valid payload, by class, in schema order (leaves first).

    Parameters
    ----------
    payload : dict
        A valid payload of ``interface_id``.
    interface_id : {'IF-021', 'IF-041'}
        Its interface.

    Returns
    -------
    dict
        Class -> breakages; each broken payload is refused by the package's schema with only
        the keywords of its class (:data:`SCHEMA_CLASSES`).
    """
    root = load_schema(interface_id)
    validator = validator_for(interface_id)
    sites = list(_walk(root, root, payload, ()))
    # leaves (single values) before containers: a changed value is the likelier mistake
    sites.sort(key=lambda s: isinstance(s.value, dict | list))
    found: dict[str, list[SchemaBreak]] = {kind: [] for kind in SCHEMA_CLASSES}
    seen: set[tuple[str, JsonPath]] = set()
    for site in sites:
        for kind, where, change, description in _candidates(site):
            if (kind, where) in seen or not _allowed(kind, where, site.value):
                continue
            broken = _apply(payload, site.path, change)
            keywords = {error.validator for error in validator.iter_errors(broken)}
            if not keywords or not keywords <= SCHEMA_CLASSES[kind]:
                continue
            if kind in ("wrong-type", "null") and "type" not in keywords:
                continue
            seen.add((kind, where))
            found[kind].append(SchemaBreak(kind, where, description, broken))
    return found

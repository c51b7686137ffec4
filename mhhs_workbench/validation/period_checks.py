"""Vectorised checks of IF-021 half-hourly periods: columns per day instead of work per period.

An IF-021 message of 30 days holds 1,440 periods ``{"sp", "v", "q", "e", "arc"}``. Checking each
one with a compiled schema and Python rules costs microseconds a period; here a day's periods
become columns (one C-level pass per key) and are judged by their distinct values:

- :class:`SplitSchema` splits a payload schema in two: the payload with its periods unchecked
  (compiled once), and the schema of one period, whose properties are checked each on the
  distinct values a column holds, with the verdicts cached (``"A"``, ``null`` and the 48 period
  ends of a day repeat across millions of periods);
- :func:`day_columns` turns a day's periods into those columns and the values into Wh
  (``numpy`` int64), which the business rules and the register reconciliation use.

Anything out of the ordinary (a period that is not an object, a missing or extra key, an
unhashable value, a value a cached verdict refuses) makes these checks answer "not sure"; the
caller then checks the message the exact, slow way, which also locates every error.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import itemgetter
from typing import Any

import fastjsonschema
import numpy as np

from mhhs_workbench.codes.messages import PERIOD_MINUTES
from mhhs_workbench.time.periods import PERIODS_PER_UTC_DAY

__all__ = ["DayColumns", "SplitSchema", "day_columns", "split_schema", "wh_values"]

#: Where the periods lie in an IF-021 payload.
PERIODS_PATH = ("CustomBlock", "B900", "settlementDayConsumptionPeriods", "consumptionPeriods")
_ITEM_KEYWORDS = frozenset(
    {"type", "additionalProperties", "required", "properties", "description", "title"}
)
_CACHE_LIMIT = 100_000  # distinct values remembered per property before starting afresh


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """``node`` with a local ``$ref`` (``#/$defs/...``) followed, as often as it takes."""
    for _ in range(32):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        ref = node["$ref"]
        if not ref.startswith("#/") or len(node) != 1:
            return None
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        node = target
    return None


def _child(node: Any, key: str, root: dict[str, Any]) -> Any:
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return None
    if key == "[]":
        return node.get("items")
    props = node.get("properties")
    return props.get(key) if isinstance(props, dict) else None


@dataclass(eq=False)
class SplitSchema:
    """A payload schema split into the payload without its periods and the schema of a period.

    Attributes
    ----------
    skeleton : callable
        Compiled check of the payload whose periods' items are not looked at (raises on
        failure).
    keys : tuple of str
        Keys every period must have, no more, no fewer.
    properties : dict of str to callable
        Compiled check of each key's value.
    """

    skeleton: Callable[[Any], Any]
    keys: tuple[str, ...]
    properties: dict[str, Callable[[Any], Any]]
    _good: dict[str, set[Any]] = field(default_factory=dict)

    def skeleton_valid(self, payload: Any) -> bool:
        """Whether the payload, periods aside, satisfies the schema."""
        try:
            self.skeleton(payload)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    def values_valid(self, key: str, values: set[Any]) -> bool:
        """Whether every one of the distinct ``values`` of period key ``key`` is valid."""
        good = self._good.setdefault(key, set())
        unknown = values - good
        if not unknown:
            return True
        check = self.properties[key]
        for value in unknown:
            try:
                check(value)
            except fastjsonschema.JsonSchemaValueException:
                return False
        if len(good) > _CACHE_LIMIT:
            good.clear()
        good.update(unknown)
        return True


def split_schema(schema: dict[str, Any]) -> SplitSchema | None:
    """Split an IF-021 payload schema, or ``None`` when its period schema is not the plain kind
    this module can check column by column.

    The period schema must be an object with ``additionalProperties: false``, every property
    required, and each property a string (or null) schema of its own.
    """
    root = copy.deepcopy(schema)
    node: Any = root
    for key in PERIODS_PATH[:3]:
        node = _child(node, key, root)
    node = _child(node, "[]", root)
    periods = _resolve(_child(node, PERIODS_PATH[3], root), root)
    if not isinstance(periods, dict) or "items" not in periods:
        return None
    item = _resolve(periods["items"], root)
    if (
        not isinstance(item, dict)
        or set(item) - _ITEM_KEYWORDS
        or item.get("type") != "object"
        or item.get("additionalProperties") is not False
        or not isinstance(item.get("properties"), dict)
        or set(item.get("required", ())) != set(item["properties"])
    ):
        return None
    defs = {k: root[k] for k in ("$defs", "definitions") if k in root}
    draft7 = "http://json-schema.org/draft-07/schema#"
    properties: dict[str, Callable[[Any], Any]] = {}
    for key, sub in item["properties"].items():
        kind = _resolve(sub, root)
        kinds = kind.get("type") if isinstance(kind, dict) else None
        kinds = [kinds] if isinstance(kinds, str) else kinds
        # cached verdicts rely on hashing: 1, 1.0 and True hash alike, strings and None do not
        if not isinstance(kinds, list) or not set(kinds) <= {"string", "null"}:
            return None
        properties[key] = fastjsonschema.compile(
            {**defs, **sub, "$schema": draft7}, use_formats=False
        )
    periods["items"] = {}  # the skeleton leaves the periods to the column checks
    skeleton = fastjsonschema.compile({**root, "$schema": draft7}, use_formats=False)
    return SplitSchema(skeleton, tuple(item["properties"]), properties)


@dataclass
class DayColumns:
    """The periods of one settlement day as columns.

    Attributes
    ----------
    periods : list of dict
        The periods themselves.
    columns : dict of str to list
        The ``sp`` and ``v`` values, in period order.
    distinct : dict of str to set
        Each key's distinct values.
    wh : numpy.ndarray or None
        ``v`` as Wh (int64), once :meth:`values_wh` found them; ``None`` before or when a ``v``
        is not a decimal with at most 3 decimals.
    """

    periods: list[dict[str, Any]]
    columns: dict[str, list[Any]]
    distinct: dict[str, set[Any]]
    wh: np.ndarray | None = None

    def values_wh(self) -> np.ndarray | None:
        """``v`` as Wh [Wh] (int64), ``None`` when one is not a kWh decimal."""
        if self.wh is None:
            self.wh = wh_values(self.columns["v"], self.distinct["v"])
        return self.wh

    def column(self, key: str) -> list[Any]:
        """All values of ``key``, in period order."""
        found = self.columns.get(key)
        if found is None:
            found = self.columns[key] = list(map(itemgetter(key), self.periods))
        return found


_LISTED = ("sp", "v")  # kept in full; only the distinct values of the other keys are needed


def day_columns(periods: Any, keys: tuple[str, ...]) -> DayColumns | None:
    """A day's periods as columns, or ``None`` when one is not an object with exactly ``keys``
    or holds an unhashable value."""
    if type(periods) is not list or not periods:
        return None
    if set(map(type, periods)) != {dict}:
        return None
    if sum(map(len, periods)) != len(keys) * len(periods):
        return None  # with every key present (below), this leaves no room for another
    try:
        columns = {key: list(map(itemgetter(key), periods)) for key in _LISTED if key in keys}
        distinct = {
            key: set(columns[key]) if key in columns else set(map(itemgetter(key), periods))
            for key in keys
        }
    except (KeyError, TypeError):
        return None
    return DayColumns(periods, columns, distinct)


_WH: dict[str, int] = {}
_NOT_WH: set[Any] = set()


def _to_wh(text: Any) -> int | None:
    """Wh of a kWh decimal string with at most 3 decimals; ``None`` for anything else."""
    if not isinstance(text, str) or "e" in text.lower():
        return None
    try:
        value = Decimal(text) * 1000
    except InvalidOperation:
        return None
    return int(value) if value.is_finite() and value == value.to_integral_value() else None


def wh_values(values: list[Any], distinct: set[Any]) -> np.ndarray | None:
    """The kWh strings ``values`` as Wh (int64), or ``None`` when one is not such a string.

    Each distinct string is converted once and remembered.
    """
    if not distinct.isdisjoint(_NOT_WH):
        return None
    unknown = distinct.difference(_WH)  # set.difference looks a dict up key by key
    if unknown:
        if len(_WH) > _CACHE_LIMIT:
            _WH.clear()
        for text in unknown:
            wh = _to_wh(text)
            if wh is None:
                if len(_NOT_WH) > _CACHE_LIMIT:
                    _NOT_WH.clear()
                _NOT_WH.add(text)
                return None
            _WH[text] = wh
    return np.fromiter(map(_WH.__getitem__, values), dtype=np.int64, count=len(values))


@lru_cache(maxsize=1024)
def period_index(date_text: str) -> tuple[dict[str, int], list[str]]:
    """``sp`` string -> period number 0..47 of the UTC day starting at ``date_text`` (+00:00),
    and the 48 ``sp`` strings in order."""
    start = datetime.fromisoformat(date_text)
    ends = [(start + timedelta(minutes=PERIOD_MINUTES * (k + 1))).isoformat() for k in range(PERIODS_PER_UTC_DAY)]
    return {sp: k for k, sp in enumerate(ends)}, ends

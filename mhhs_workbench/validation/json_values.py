"""Lenient reads of JSON values and the JSON paths and short texts that problems quote.

The rules inspect whatever a payload holds without raising: :func:`as_dict` and :func:`as_list`
give an empty object or array where the value has another shape (the schema reports that).
Problems name values by JSON path (``$[3].payload.CustomBlock.B900``) and quote them
shortened (:func:`short`).
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

__all__ = ["as_dict", "as_list", "decimal_value", "join_path", "short", "value_at"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[('(?:[^'\\]|\\.)*')\]")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")

_short_repr = reprlib.Repr()
_short_repr.maxstring = 60
_short_repr.maxother = 60
_short_repr.maxlist = 3
_short_repr.maxdict = 3
_short_repr.maxlevel = 2


def short(value: Any) -> str:
    """``repr(value)`` shortened: strings and other values to 60 characters, 3 items a level."""
    return _short_repr.repr(value)


def join_path(path: str, parts: Iterable[str | int]) -> str:
    """JSON ``path`` extended by keys (``.name``, or ``['odd key']``) and indices (``[3]``)."""
    out = [path]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.fullmatch(part):
            out.append(f".{part}")
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def as_dict(value: Any, *keys: str) -> dict[str, Any]:
    """The object at ``value[keys...]``, or ``{}`` when anything on the way is not an object."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is an array, else ``[]``."""
    return value if isinstance(value, list) else []


def decimal_value(text: Any) -> Decimal | None:
    """The number a DIP decimal string (``'-12.345'``, ``'0'``) writes; ``None`` for others."""
    if isinstance(text, str) and _DECIMAL.fullmatch(text):
        return Decimal(text)
    return None


def value_at(item: Any, item_path: str, path: str) -> str | None:
    """The value at JSON ``path`` (below ``item_path``), shortened; ``None`` when absent."""
    if not path.startswith(item_path):
        return None
    node = item
    for match in _PATH_PART.finditer(path, len(item_path)):
        name, number, quoted = match.groups()
        if name is not None or quoted is not None:
            key = name if name is not None else quoted[1:-1].replace("\\'", "'")
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        else:
            if not isinstance(node, list) or int(number) >= len(node):
                return None
            node = node[int(number)]
    return short(node)

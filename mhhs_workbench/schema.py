"""JSON Schemas of IF-021 and IF-041 payloads: the package's own, and Elexon's official ones.

The package ships its own schemas (``mhhs_workbench/schemas/*.json``, JSON Schema 2020-12). They
state the same constraints as Elexon's DIP API specification and are stricter where the project
is (25-character date-times with an offset, non-negative values, midnight settlement days, ...).

Elexon's specification is a set of OpenAPI 3.0 YAML files whose ``$ref``s point at GitHub.
:func:`official_schema` reads a local copy of those files, inlines every ``$ref`` and turns the
OpenAPI dialect into plain JSON Schema, so that the same validators can check data against it.
Nothing here needs the network or Elexon's files unless :func:`official_schema` is asked for.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError

try:  # optional accelerator; jsonschema alone gives the same verdicts, only slower
    import fastjsonschema
except ImportError:  # pragma: no cover - exercised only where it is not installed
    fastjsonschema = None

__all__ = [
    "ELEXON_URL_PREFIX",
    "PayloadValidator",
    "SchemaError",
    "load_schema",
    "official_schema",
    "validator_for",
]

#: Prefix of the cross-file ``$ref``s in Elexon's unresolved YAML; maps onto a local folder.
ELEXON_URL_PREFIX = "https://raw.githubusercontent.com/elexon-data/dip-api-documentation/main/"

#: File of Elexon's specification holding the ``IF-nnn-Payload`` schemas.
INTERFACES_FILE = "Interfaces-EventCodes-unresolved.yaml"

_PACKAGE_SCHEMA_FILES = {"IF-021": "if021.json", "IF-041": "if041.json"}
_DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# OpenAPI 3.0 keywords that are not JSON Schema; dropped after ``nullable`` has been applied.
_OPENAPI_ONLY = frozenset(
    {
        "nullable",
        "example",
        "xml",
        "discriminator",
        "externalDocs",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)
# Keywords whose values are data or name lists, never subschemas: copied untouched.
_DATA_KEYWORDS = frozenset(
    {"enum", "const", "required", "default", "examples", "description", "title"}
)
# Keywords whose values map names to subschemas (so a property called "example" survives).
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)

# An unescaped '$' (fastjsonschema's rule): ECMA-262 '$' only matches at the very end of the
# input, Python's also before a final newline, so both engines here are given '\Z' instead.
_DOLLAR = re.compile(r"(?<!\\)\$")


class SchemaError(ValueError):
    """A schema cannot be found, read or resolved."""


def _check_interface(interface_id: str) -> None:
    if interface_id not in _PACKAGE_SCHEMA_FILES:
        known = ", ".join(_PACKAGE_SCHEMA_FILES)
        raise SchemaError(f"no schema for interface {interface_id!r}; expected one of {known}")


@cache
def _package_schema(interface_id: str) -> dict[str, Any]:
    _check_interface(interface_id)
    text = resources.files("mhhs_workbench").joinpath(
        "schemas", _PACKAGE_SCHEMA_FILES[interface_id]
    )
    return json.loads(text.read_text(encoding="utf-8"))


def load_schema(interface_id: str) -> dict[str, Any]:
    """The package's own JSON Schema (2020-12) of one payload of ``interface_id``.

    Parameters
    ----------
    interface_id : {'IF-021', 'IF-041'}
        Interface whose payload (``{"CommonBlock": ..., "CustomBlock": ...}``) the schema checks.

    Returns
    -------
    dict
        A fresh copy; callers may change it.
    """
    return copy.deepcopy(_package_schema(interface_id))


# ---------------------------------------------------------------------------------------------
# Elexon's OpenAPI YAML -> one self-contained JSON Schema


def _ascii_digits(pattern: str) -> str:
    r"""Rewrite ``\d`` as ``[0-9]``: ECMA-262 ``\d`` is ASCII only, Python's matches any digit."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if escaped == "d":
                out.append("0-9" if in_class else "[0-9]")
            else:
                out.append(char + escaped)
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


def _json_pointer(document: Any, pointer: str, where: str) -> Any:
    node = document
    for token in pointer.split("/")[1:] if pointer else []:
        token = token.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise SchemaError(f"$ref {where} points at nothing (no {token!r})") from None
    return node


class _OpenAPIConverter:
    """Reads Elexon's YAML files from one folder and inlines ``$ref``s, converting as it goes.

    Converted subschemas are memoised by ``(file, pointer)``, so each block is converted once
    however often it is referenced.
    """

    def __init__(self, spec_dir: Path) -> None:
        self.spec_dir = spec_dir
        self._documents: dict[str, Any] = {}
        self._converted: dict[tuple[str, str], Any] = {}

    def document(self, name: str) -> Any:
        if name not in self._documents:
            path = self.spec_dir / name
            if not path.is_file():
                raise SchemaError(f"Elexon specification file {path} not found")
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            with path.open("rb") as f:
                self._documents[name] = yaml.load(f, Loader=loader)
        return self._documents[name]

    def _target(self, ref: str, base: str) -> tuple[str, str]:
        if ref.startswith(ELEXON_URL_PREFIX):
            ref = ref[len(ELEXON_URL_PREFIX) :]
        elif "://" in ref:
            raise SchemaError(f"$ref {ref!r} is outside Elexon's specification")
        name, _, pointer = ref.partition("#")
        return (name or base, pointer)

    def resolve(self, name: str, pointer: str, stack: tuple[tuple[str, str], ...] = ()) -> Any:
        key = (name, pointer)
        if key in self._converted:
            return self._converted[key]
        if key in stack:
            chain = " -> ".join(f"{n}#{p}" for n, p in (*stack, key))
            raise SchemaError(f"circular $ref cannot be inlined: {chain}")
        node = _json_pointer(self.document(name), pointer, f"{name}#{pointer}")
        result = self.convert(node, name, (*stack, key))
        self._converted[key] = result
        return result

    def convert(self, node: Any, base: str, stack: tuple[tuple[str, str], ...]) -> Any:
        if isinstance(node, list):
            return [self.convert(item, base, stack) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = self.resolve(*self._target(node["$ref"], base), stack)
            # OpenAPI 3.0 ignores the siblings of $ref, except that tools honour 'nullable'
            if node.get("nullable") is True:
                return {"anyOf": [{"type": "null"}, target]}
            return target
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _OPENAPI_ONLY:
                continue
            if key in _DATA_KEYWORDS:
                out[key] = value
            elif key in _SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {name: self.convert(sub, base, stack) for name, sub in value.items()}
            elif key == "pattern" and isinstance(value, str):
                out[key] = _ascii_digits(value)
            else:
                out[key] = self.convert(value, base, stack)
        if node.get("nullable") is True:
            kind = out.get("type")
            if isinstance(kind, str):
                out["type"] = [kind, "null"]
            elif isinstance(kind, list) and "null" not in kind:
                out["type"] = [*kind, "null"]
            # an enum lists every allowed value, so null must be one of them too
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        # OpenAPI 3.0 (draft 4 style) boolean exclusive bounds -> numeric ones
        for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if isinstance(out.get(bound), bool):
                if out.pop(bound) and limit in out:
                    out[bound] = out.pop(limit)
        return out


@lru_cache(maxsize=8)
def _converter(spec_dir: str) -> _OpenAPIConverter:
    return _OpenAPIConverter(Path(spec_dir))


def _spec_key(spec_dir: str | os.PathLike[str]) -> str:
    path = Path(spec_dir).expanduser().resolve()
    if not path.is_dir():
        raise SchemaError(f"Elexon specification folder {path} not found")
    return str(path)


def _official_schema(spec_key: str, interface_id: str) -> dict[str, Any]:
    converter = _converter(spec_key)
    body = converter.resolve(INTERFACES_FILE, f"/components/schemas/{interface_id}-Payload")
    if not isinstance(body, dict):
        raise SchemaError(f"{INTERFACES_FILE} has no object schema {interface_id}-Payload")
    return {"$schema": _DRAFT_2020_12, **body}


def official_schema(spec_dir: str | os.PathLike[str], interface_id: str) -> dict[str, Any]:
    """Elexon's schema of one ``interface_id`` payload, as a self-contained JSON Schema.

    Parameters
    ----------
    spec_dir : path
        Folder holding Elexon's unresolved OpenAPI YAML files (``Interfaces-EventCodes-
        unresolved.yaml``, ``RealCommonBlocks-unresolved.yaml``, ...). ``$ref``s naming
        :data:`ELEXON_URL_PREFIX` are read from this folder; nothing is fetched.
    interface_id : str
        Interface such as ``'IF-021'``; the schema is ``<interface_id>-Payload``.

    Returns
    -------
    dict
        JSON Schema 2020-12 with every ``$ref`` inlined, OpenAPI ``nullable: true`` turned into
        a ``"null"`` type (and a ``null`` enum member, or ``anyOf`` beside a ``$ref``), OpenAPI-only
        keywords dropped, and ``\\d`` in patterns made ASCII-only as in ECMA-262.

    Raises
    ------
    SchemaError
        When the folder, a file or a referenced schema is missing, or ``$ref``s are circular.
    """
    return copy.deepcopy(_official_schema(_spec_key(spec_dir), interface_id))


# ---------------------------------------------------------------------------------------------
# Validators


@lru_cache(maxsize=256)
def _end_anchored(pattern: str) -> re.Pattern[str]:
    return re.compile(_DOLLAR.sub(r"\\Z", pattern))


def _pattern_keyword(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` with ECMA-262 end-of-input semantics for ``$``."""
    if validator.is_type(instance, "string") and not _end_anchored(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_JsonSchemaValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _pattern_keyword}
)


@dataclass(frozen=True, eq=False)
class PayloadValidator:
    """A compiled schema for one interface's payloads.

    :meth:`is_valid` takes the fast path (code generated by ``fastjsonschema`` when installed);
    :meth:`iter_errors` uses ``jsonschema`` for readable errors, so call it on failures only.

    Attributes
    ----------
    interface_id : str
        Interface whose payloads it checks.
    source : {'package', 'elexon'}
        Whose schema it is.
    schema : dict
        The JSON Schema (do not change it).
    """

    interface_id: str
    source: str
    schema: dict[str, Any]
    _slow: Any = field(repr=False)
    _fast: Callable[[Any], Any] | None = field(repr=False)

    def is_valid(self, payload: Any) -> bool:
        """Whether ``payload`` satisfies the schema."""
        if self._fast is None:
            return self._slow.is_valid(payload)
        try:
            self._fast(payload)
        except fastjsonschema.JsonSchemaValueException:
            return False
        return True

    def iter_errors(self, payload: Any) -> Iterator[ValidationError]:
        """Every schema violation of ``payload`` as a ``jsonschema`` error."""
        return self._slow.iter_errors(payload)

    def errors(self, payload: Any) -> list[ValidationError]:
        """Schema violations of ``payload`` in document order; empty when it is valid."""
        if self.is_valid(payload):
            return []
        # (is_key, part) orders array indices numerically and never compares an int with a str
        return sorted(
            self.iter_errors(payload),
            key=lambda e: [(isinstance(p, str), p) for p in e.absolute_path],
        )


def _compile_fast(schema: dict[str, Any]) -> Callable[[Any], Any] | None:
    if fastjsonschema is None:
        return None
    # fastjsonschema implements drafts 4-7; the schemas here use no keyword whose meaning
    # changed in 2020-12 ($defs is only reached through JSON pointers), so draft 7 agrees.
    return fastjsonschema.compile(
        {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}, use_formats=False
    )


@lru_cache(maxsize=16)
def _validator(interface_id: str, spec_key: str | None) -> PayloadValidator:
    if spec_key is None:
        schema, source = _package_schema(interface_id), "package"
    else:
        _check_interface(interface_id)
        schema, source = _official_schema(spec_key, interface_id), "elexon"
    _JsonSchemaValidator.check_schema(schema)
    return PayloadValidator(
        interface_id=interface_id,
        source=source,
        schema=schema,
        _slow=_JsonSchemaValidator(schema),
        _fast=_compile_fast(schema),
    )


def validator_for(
    interface_id: str, spec_dir: str | os.PathLike[str] | None = None
) -> PayloadValidator:
    """A cached, compiled validator of ``interface_id`` payloads.

    Parameters
    ----------
    interface_id : {'IF-021', 'IF-041'}
        Interface of the payloads.
    spec_dir : path, optional
        Folder of Elexon's YAML files: validate against Elexon's official schema
        (see :func:`official_schema`) instead of the package's own.

    Returns
    -------
    PayloadValidator
        The same object for the same arguments.
    """
    return _validator(interface_id, None if spec_dir is None else _spec_key(spec_dir))

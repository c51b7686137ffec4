"""JSON Schemas of IF-021 and IF-041 payloads: the package's own, and Elexon's official ones.

The package ships its own schemas (``mhhs_workbench/schemas/*.json``, JSON Schema 2020-12). They
state the same constraints as Elexon's DIP API specification and are stricter where the project
is (25-character date-times with an offset, non-negative values, midnight settlement days, ...).

Elexon's specification comes as a folder of OpenAPI 3.0 YAML files whose ``$ref``s point at
GitHub (release 2.1.0), or as one resolved OpenAPI JSON document (release 2.2.1); see
:mod:`mhhs_workbench.validation.spec_versions` for the releases the package knows and how they are found.
:func:`official_schema` reads a local copy, inlines every ``$ref`` and turns the OpenAPI dialect
into plain JSON Schema, so that the same validators can check data against it. OpenAPI 3.0
``nullable: true`` beside an ``enum`` has two readings (``nullable=``): ``'lenient'`` adds null
to the enum, ``'strict'`` (OpenAPI 3.0.3) does not. Nothing here needs the network or Elexon's
files unless :func:`official_schema` is asked for.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import yaml
from jsonschema.exceptions import ValidationError

from mhhs_workbench.validation.spec_versions import (
    INTERFACES_FILE,
    MAX_SPEC_FILE_BYTES,
    SchemaError,
    Spec,
    check_nullable,
    check_spec_file,
    resolve_spec,
)

__all__ = [
    "ELEXON_URL_PREFIX",
    "INTERFACES_FILE",
    "PayloadValidator",
    "SchemaError",
    "Spec",
    "load_schema",
    "official_schema",
    "validator_for",
]

#: Prefix of the cross-file ``$ref``s in Elexon's unresolved YAML; maps onto a local folder.
ELEXON_URL_PREFIX = "https://raw.githubusercontent.com/elexon-data/dip-api-documentation/main/"

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
    """Reads Elexon's specification from one folder and inlines ``$ref``s, converting as it goes.

    The documents are the unresolved YAML files of a folder (cross-file ``$ref``s name
    :data:`ELEXON_URL_PREFIX`) or one resolved JSON document in it (internal ``$ref``s only).
    Converted subschemas are memoised by ``(file, pointer)``, so each block is converted once
    however often it is referenced.

    Parameters
    ----------
    spec_dir : pathlib.Path
        Folder the documents are read from.
    nullable : {'lenient', 'strict'}
        Reading of ``nullable: true`` beside an ``enum``: ``'lenient'`` adds null to the enum,
        ``'strict'`` leaves the enum as written (OpenAPI 3.0.3: nullable does not widen an enum).
    """

    def __init__(self, spec_dir: Path, nullable: str = "lenient") -> None:
        self.spec_dir = spec_dir
        self.nullable = check_nullable(nullable)
        self._documents: dict[str, Any] = {}
        self._converted: dict[tuple[str, str], Any] = {}

    def document(self, name: str) -> Any:
        if name not in self._documents:
            path = self.spec_dir / name
            if not os.path.lexists(path):
                raise SchemaError(f"Elexon specification file {path} not found")
            check_spec_file(path)  # a regular file within the limit, before it is opened
            try:
                with path.open("rb") as f:
                    data = f.read(MAX_SPEC_FILE_BYTES + 1)  # bounded even if it grew since
            except OSError as exc:
                raise SchemaError(f"cannot read the specification {path}: {exc.strerror or exc}") from None
            if len(data) > MAX_SPEC_FILE_BYTES:
                raise SchemaError(f"Elexon specification file {path} is over the limit of "
                                  f"{MAX_SPEC_FILE_BYTES:,} bytes for one specification file: not read")
            try:
                if path.suffix.lower() == ".json":
                    self._documents[name] = json.loads(data)
                else:
                    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                    self._documents[name] = yaml.load(data, Loader=loader)
            except (ValueError, yaml.YAMLError, RecursionError) as exc:  # JSONDecodeError: a ValueError
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise SchemaError(f"{path} is not a readable OpenAPI document: {first}") from None
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
            # OpenAPI 3.0 ignores the siblings of $ref, except that tools honour 'nullable'.
            # Both readings keep that: they differ only on enums, the point where 2.2.1 and
            # validators disagree (no IF-021/IF-041 field puts 'nullable' beside a $ref).
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
            # An enum lists every allowed value. The lenient reading (most tools, and Elexon's
            # own 2.1.0, which wrote null into these enums) lets nullable add null to it; the
            # strict one (OpenAPI 3.0.3's clarification) does not, so an enum without null
            # refuses null although the type allows it.
            if "enum" in out and None not in out["enum"] and self.nullable == "lenient":
                out["enum"] = [*out["enum"], None]
        # OpenAPI 3.0 (draft 4 style) boolean exclusive bounds -> numeric ones
        for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if isinstance(out.get(bound), bool):
                if out.pop(bound) and limit in out:
                    out[bound] = out.pop(limit)
        return out


# One converter per specification (checksum included, so a changed file is read again) and reading
@lru_cache(maxsize=8)
def _converter(spec_dir: str, sha256: str, nullable: str) -> _OpenAPIConverter:
    return _OpenAPIConverter(Path(spec_dir), nullable)


def _entry(spec: Spec) -> tuple[str, str]:
    """Folder and file whose ``components/schemas`` hold the payload schemas."""
    if spec.kind == "json":
        return str(spec.path.parent), spec.path.name
    return str(spec.path), INTERFACES_FILE


def _official_schema(spec: Spec, interface_id: str, nullable: str) -> dict[str, Any]:
    folder, entry = _entry(spec)
    converter = _converter(folder, spec.sha256, nullable)
    body = converter.resolve(entry, f"/components/schemas/{interface_id}-Payload")
    if not isinstance(body, dict):
        raise SchemaError(f"{entry} has no object schema {interface_id}-Payload")
    return {"$schema": _DRAFT_2020_12, **body}


def official_schema(
    spec: str | os.PathLike[str] | Spec, interface_id: str, *, nullable: str = "lenient"
) -> dict[str, Any]:
    """Elexon's schema of one ``interface_id`` payload, as a self-contained JSON Schema.

    Parameters
    ----------
    spec : str, path or Spec
        A known version (``'2.1.0'``, ``'2.2.1'``, looked up on the search path of
        :func:`mhhs_workbench.validation.spec_versions.search_path`), a folder holding Elexon's unresolved
        OpenAPI YAML files (``Interfaces-EventCodes-unresolved.yaml``, ...; ``$ref``s naming
        :data:`ELEXON_URL_PREFIX` are read from this folder), or one resolved OpenAPI JSON
        document. Nothing is fetched.
    interface_id : str
        Interface such as ``'IF-021'``; the schema is ``<interface_id>-Payload``.
    nullable : {'lenient', 'strict'}
        Reading of OpenAPI 3.0 ``nullable: true`` beside an ``enum``: ``'lenient'`` adds
        ``null`` to the enum, ``'strict'`` does not (OpenAPI 3.0.3: nullable does not widen an
        enum), so an enum that does not list null refuses it.

    Returns
    -------
    dict
        JSON Schema 2020-12 with every ``$ref`` inlined, OpenAPI ``nullable: true`` turned into
        a ``"null"`` type (and, read leniently, a ``null`` enum member; ``anyOf`` beside a
        ``$ref``), OpenAPI-only keywords dropped, and ``\\d`` in patterns made ASCII-only as in
        ECMA-262.

    Raises
    ------
    SchemaError
        When the specification, a file or a referenced schema is missing or unreadable, or
        ``$ref``s are circular.
    ValueError
        When ``nullable`` is not one of the two readings.
    """
    check_nullable(nullable)
    return copy.deepcopy(_official_schema(resolve_spec(spec), interface_id, nullable))


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


# Keywords that apply subschemas other than through 'properties' and one 'items' schema: where
# one appears, the strict-null shortcut below cannot know every place a subschema applies.
_COMPOSITION = frozenset(
    {
        "$ref",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "patternProperties",
        "prefixItems",
        "contains",
        "dependentSchemas",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)


class _Unsupported(Exception):
    """A schema the strict-null shortcut does not handle (the full check is used instead)."""


@dataclass(frozen=True)
class _NullSites:
    """Where a strictly read schema refuses null by an enum alone, as a tree over the payload.

    ``schema`` is the subschema at this place when it refuses null only by its enum (its type
    allows null); ``properties`` and ``items`` lead to such places further down.
    """

    schema: dict[str, Any] | None
    properties: dict[str, _NullSites]
    items: _NullSites | None


def _null_sites(node: Any) -> _NullSites | None:
    if not isinstance(node, dict):
        return None
    if _COMPOSITION & node.keys() or isinstance(node.get("additionalProperties"), dict):
        raise _Unsupported
    items_schema = node.get("items")
    if items_schema is not None and not isinstance(items_schema, dict):
        raise _Unsupported
    kind, enum = node.get("type"), node.get("enum")
    refuses = isinstance(enum, list) and None not in enum and isinstance(kind, list) and "null" in kind
    properties = {}
    for name, sub in (node.get("properties") or {}).items():
        site = _null_sites(sub)
        if site is not None:
            properties[name] = site
    items = _null_sites(items_schema) if items_schema is not None else None
    if not refuses and not properties and items is None:
        return None
    return _NullSites(node if refuses else None, properties, items)


def _null_errors(site: _NullSites, instance: Any, path: tuple[str | int, ...]) -> Iterator[ValidationError]:
    """The errors ``jsonschema`` gives for nulls at ``site``'s places (same validator, schema)."""
    if site.schema is not None and instance is None:
        enum = site.schema["enum"]
        yield ValidationError(
            f"None is not one of {enum!r}",
            validator="enum",
            path=path,
            instance=None,
            schema=site.schema,
            validator_value=enum,
        )
    if site.properties and isinstance(instance, dict):
        for name, sub in site.properties.items():
            if name in instance:
                yield from _null_errors(sub, instance[name], (*path, name))
    if site.items is not None and isinstance(instance, list):
        for i, item in enumerate(instance):
            yield from _null_errors(site.items, item, (*path, i))


@dataclass(frozen=True, eq=False)
class PayloadValidator:
    """A compiled schema for one interface's payloads.

    :meth:`is_valid` takes the fast path (code generated by ``fastjsonschema``);
    :meth:`iter_errors` uses ``jsonschema`` for readable errors, so call it on failures only.

    Attributes
    ----------
    interface_id : str
        Interface whose payloads it checks.
    source : {'package', 'elexon'}
        Whose schema it is.
    schema : dict
        The JSON Schema (do not change it).
    spec : Spec or None
        Elexon's specification it was converted from (version and checksum); ``None`` for the
        package's own schema.
    nullable : {'lenient', 'strict'}
        Reading of OpenAPI ``nullable`` used in the conversion (``'lenient'`` for the package's).
    """

    interface_id: str
    source: str
    schema: dict[str, Any]
    _slow: Any = field(repr=False)
    _fast: Callable[[Any], Any] = field(repr=False)
    spec: Spec | None = None
    nullable: str = "lenient"
    # strict reading only: the same specification read leniently, and where the two differ
    _lenient: PayloadValidator | None = field(default=None, repr=False)
    _null_sites: _NullSites | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """Whose schema, in words: ``'package schema'`` or ``'Elexon DIP API 2.2.1'``, plus
        ``' (strict nullable)'`` when read strictly."""
        if self.spec is None:
            return "package schema"
        strict = " (strict nullable)" if self.nullable == "strict" else ""
        return f"Elexon {self.spec.label}{strict}"

    def is_valid(self, payload: Any) -> bool:
        """Whether ``payload`` satisfies the schema."""
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
        found: Iterable[ValidationError]
        if self._null_sites is not None and self._lenient is not None and self._lenient.is_valid(
            payload
        ):
            # Read strictly, the schema differs from the lenient one only by the nulls its enums
            # refuse; valid under the lenient one, the payload breaks nothing else, so its errors
            # are exactly its nulls at those places. Finding them directly is what keeps a strict
            # run fast: jsonschema's full traversal of a week of periods costs ~25 ms a message.
            found = _null_errors(self._null_sites, payload, ())
        else:
            found = self.iter_errors(payload)
        # (is_key, part) orders array indices numerically and never compares an int with a str
        return sorted(found, key=lambda e: [(isinstance(p, str), p) for p in e.absolute_path])


def _compile_fast(schema: dict[str, Any]) -> Callable[[Any], Any]:
    # fastjsonschema implements drafts 4-7; the schemas here use no keyword whose meaning
    # changed in 2020-12 ($defs is only reached through JSON pointers), so draft 7 agrees.
    return fastjsonschema.compile(
        {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}, use_formats=False
    )


# Compiled once per interface x specification (by checksum) x reading: compiling is what costs.
# 2 interfaces x (package + 2 known versions x 2 readings) = 10, with room for paths given by hand.
@lru_cache(maxsize=32)
def _validator(interface_id: str, spec: Spec | None, nullable: str) -> PayloadValidator:
    if spec is None:
        schema, source = _package_schema(interface_id), "package"
    else:
        _check_interface(interface_id)
        schema, source = _official_schema(spec, interface_id, nullable), "elexon"
    try:
        _JsonSchemaValidator.check_schema(schema)
        fast = _compile_fast(schema)
    except Exception as exc:  # jsonschema's SchemaError, fastjsonschema's definition errors
        if spec is None:
            raise
        # a specification given by path may be any OpenAPI document: say so in one line
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SchemaError(f"{spec.path}: {interface_id}-Payload is not a usable schema: {first}") from None
    lenient, sites = None, None
    if spec is not None and nullable == "strict":
        try:
            sites = _null_sites(schema)
        except _Unsupported:
            sites = None  # every failure gets the full check
        if sites is not None:
            lenient = _validator(interface_id, spec, "lenient")
    return PayloadValidator(
        interface_id=interface_id,
        source=source,
        schema=schema,
        _slow=_JsonSchemaValidator(schema),
        _fast=fast,
        spec=spec,
        nullable=nullable if spec is not None else "lenient",
        _lenient=lenient,
        _null_sites=sites,
    )


def validator_for(
    interface_id: str,
    spec: str | os.PathLike[str] | Spec | None = None,
    *,
    nullable: str = "lenient",
) -> PayloadValidator:
    """A cached, compiled validator of ``interface_id`` payloads.

    Parameters
    ----------
    interface_id : {'IF-021', 'IF-041'}
        Interface of the payloads.
    spec : str, path or Spec, optional
        Elexon's specification: a known version, a folder of YAML or a resolved JSON file (see
        :func:`official_schema`). The validator then checks Elexon's official schema instead of
        the package's own; ``None`` gives the package's.
    nullable : {'lenient', 'strict'}
        Reading of OpenAPI ``nullable`` beside an enum in Elexon's schema (ignored without
        ``spec``: the package's schema says what it means).

    Returns
    -------
    PayloadValidator
        The same object for the same interface, specification (by checksum) and reading.
    """
    check_nullable(nullable)
    if spec is None:
        return _validator(interface_id, None, "lenient")
    return _validator(interface_id, resolve_spec(spec), nullable)

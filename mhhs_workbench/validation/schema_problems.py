"""Schema errors as problems: one short line naming the value and, for Elexon's schema, the release.

A :class:`jsonschema.exceptions.ValidationError` becomes a :class:`~mhhs_workbench.validation.problems.Problem`
coded ``SCHEMA`` (the package's schema), ``SCHEMA-ELEXON`` (Elexon's, naming the release) or
``SCHEMA-ELEXON-NULL`` (a null only the strict reading of OpenAPI ``nullable`` refuses). Messages
quote huge instances shortened.
"""

from __future__ import annotations

from jsonschema.exceptions import ValidationError, best_match

from mhhs_workbench.codes.rules import SCHEMA, SCHEMA_ELEXON, SCHEMA_ELEXON_NULL
from mhhs_workbench.validation.json_values import join_path, short
from mhhs_workbench.validation.problems import Problem
from mhhs_workbench.validation.schema import PayloadValidator

__all__ = ["schema_problem"]


def _describe(error: ValidationError) -> str:
    """A one-line message naming the offending value, short even for huge instances."""
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind in ("maxItems", "minItems") and isinstance(instance, list):
        bound = "more than the maximum" if kind == "maxItems" else "fewer than the minimum"
        return f"array has {len(instance)} items, {bound} of {value}"
    if kind == "minProperties" and isinstance(instance, dict):
        return f"object has {len(instance)} keys, fewer than the minimum of {value}"
    if kind in ("minLength", "maxLength") and isinstance(instance, str):
        how = "too short" if kind == "minLength" else "too long"
        limit = "at least" if kind == "minLength" else "at most"
        return f"{short(instance)} is {how}: {len(instance)} characters, {limit} {value}"
    if kind == "enum":
        allowed = ", ".join(repr(v) for v in value[:12]) + (", ..." if len(value) > 12 else "")
        return f"{short(instance)} is not one of the allowed values ({allowed})"
    if kind == "const":
        return f"{short(instance)} should be {value!r}"
    if kind == "pattern":
        about = error.schema.get("description") if isinstance(error.schema, dict) else None
        return f"{short(instance)} does not match {value!r}" + (f" ({about})" if about else "")
    message = error.message
    full = repr(instance)
    return message.replace(full, short(instance)) if len(full) > 80 else message


def _strict_null(error: ValidationError) -> bool:
    """Whether ``error`` is a null refused only by an enum although the type allows null: what
    the strict reading of OpenAPI ``nullable`` refuses and the lenient one lets through."""
    kind = error.schema.get("type") if isinstance(error.schema, dict) else None
    return (
        error.validator == "enum"
        and error.instance is None
        and isinstance(kind, list)
        and "null" in kind
    )


def schema_problem(error: ValidationError, validator: PayloadValidator, path: str) -> Problem:
    """The problem ``error`` of ``validator``'s schema makes, for a payload at JSON ``path``."""
    # anyOf/oneOf failures hide the useful error among their alternatives
    if error.context:
        error = best_match(error.context) or error
    where = join_path(path, error.absolute_path)
    if validator.source != "elexon":
        return Problem(SCHEMA, where, _describe(error))
    # name the release (and reading) that refused it: releases disagree, and a tester must
    # know which one a message fails
    if validator.nullable == "strict" and _strict_null(error):
        allowed = ", ".join(repr(v) for v in error.validator_value[:12])
        more = ", ..." if len(error.validator_value) > 12 else ""
        return Problem(
            SCHEMA_ELEXON_NULL,
            where,
            f"{validator.label}: null is refused under the strict reading of OpenAPI 3.0 "
            f"nullable: the enum ({allowed}{more}) does not list null and nullable: true does "
            "not add it (the lenient reading accepts null here)",
        )
    return Problem(SCHEMA_ELEXON, where, f"{validator.label}: {_describe(error)}")

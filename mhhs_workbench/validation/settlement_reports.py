"""Check REP-002 / REP-002B messages: the payload against Elexon's schema, the report inside it
against the report's own schema (``REP-002-CustomBlock``, ``REP-002B-CustomBlock``).

Elexon's ``REP-nnn-Payload`` names the report's schema in ``CustomBlock.schema`` (a block never
sent, describing what the compressed report holds); that subschema, resolved with the payload,
is what a decompressed report is checked against, so both come from the same release.
"""

from __future__ import annotations

import binascii
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import fastjsonschema
import jsonschema

from mhhs_workbench.settlement.reports import REPORT_EVENTS, decompress
from mhhs_workbench.validation.schema import official_schema
from mhhs_workbench.validation.spec_versions import Spec

#: Interface IDs checked here.
REPORT_IDS: tuple[str, ...] = tuple(REPORT_EVENTS)


@dataclass(frozen=True)
class _Check:
    """One schema: a compiled test for the usual valid case, jsonschema for the errors."""

    slow: jsonschema.Validator
    fast: Callable[[Any], Any]

    def errors(self, instance: Any) -> list[jsonschema.ValidationError]:
        try:
            self.fast(instance)
            return []
        except fastjsonschema.JsonSchemaValueException:
            pass
        return list(self.slow.iter_errors(instance))


def _check(schema: dict[str, Any]) -> _Check:
    # fastjsonschema speaks drafts 4-7; these schemas use no keyword whose meaning changed since
    fast = fastjsonschema.compile(
        {**schema, "$schema": "http://json-schema.org/draft-07/schema#"}, use_formats=False)
    return _Check(jsonschema.Draft202012Validator(schema), fast)


@lru_cache(maxsize=16)
def report_validators(spec: Spec, interface_id: str) -> tuple[_Check, _Check]:
    """Checks of one report's payload and of its decompressed report, under ``spec``."""
    payload = official_schema(spec, interface_id)
    report = payload["properties"]["CustomBlock"]["properties"]["schema"]
    return _check(payload), _check({"$schema": payload["$schema"], **report})


def report_errors(payload: Any, spec: Spec | None) -> list[tuple[str, str]]:
    """``(JSON path, message)`` of everything wrong with a REP-002 / REP-002B payload.

    Without ``spec`` only the compressed report is checked to be readable (base64 of gzip of
    JSON); with it, the payload and the report are checked against Elexon's schemas too.
    """
    common = payload.get("CommonBlock") if isinstance(payload, dict) else None
    interface_id = (common or {}).get("S0", {}).get("interfaceID") if isinstance(common, dict) else None
    if interface_id not in REPORT_IDS:
        return [("$.CommonBlock.S0.interfaceID", f"{interface_id!r} is not one of {', '.join(REPORT_IDS)}")]
    errors: list[tuple[str, str]] = []
    checks = report_validators(spec, interface_id) if spec is not None else None
    if checks is not None:
        errors += [(_path(e), e.message) for e in checks[0].errors(payload)]
    try:
        text = payload["CustomBlock"]["P03"]["compressedReport"]
        report = decompress(text)
    except (KeyError, TypeError):
        return errors or [("$.CustomBlock.P03.compressedReport", "missing")]
    except (binascii.Error, OSError, EOFError, zlib.error, ValueError) as exc:  # BadGzipFile is an OSError
        return [*errors, ("$.CustomBlock.P03.compressedReport", f"not base64 of gzip of JSON ({exc})")]
    if checks is not None:
        errors += [(f"$.CustomBlock.P03.compressedReport{_path(e)[1:]}", f"report: {e.message}")
                   for e in checks[1].errors(report)]
    return errors


def _path(error: jsonschema.ValidationError) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


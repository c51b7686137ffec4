"""Shared fixtures: where Elexon's specification lies, and small valid example payloads."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

#: Elexon's DIP API YAML files, kept beside the checkout and never inside it.
OFFICIAL_SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dip-api"


def missing_reference(message: str) -> None:
    """Skip a test whose reference files are absent (a user's machine); fail it in CI, where they
    always lie beside the checkout, so a lost folder can never pass as a green run."""
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must have ../shared/reference beside the checkout)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def official_spec_dir() -> Path:
    """Folder of Elexon's unresolved OpenAPI YAML; skips the test when it is absent."""
    if not OFFICIAL_SPEC_DIR.is_dir():
        missing_reference(f"Elexon's DIP API specification not found at {OFFICIAL_SPEC_DIR}")
    return OFFICIAL_SPEC_DIR


def notebook_outputs(path: Path) -> dict[str, list[str]]:
    """Every output of an executed notebook by MIME type: stream text as ``stream``, errors as
    ``error`` (``name: value``), other data as text (JSON for non-text data)."""
    import nbformat

    found: dict[str, list[str]] = {}
    for cell in nbformat.read(path, as_version=4).cells:
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                found.setdefault("stream", []).append(out["text"])
            elif out["output_type"] == "error":
                found.setdefault("error", []).append(f"{out['ename']}: {out['evalue']}")
            else:
                for mime, data in out.get("data", {}).items():
                    found.setdefault(mime, []).append(data if isinstance(data, str) else json.dumps(data))
    return found


def _common_block(interface_id: str, event: str, reference: int) -> dict[str, Any]:
    return {
        "S0": {"interfaceID": interface_id, "schemaVersion": "011", "eventCode": event},
        "S1": {
            "environmentTag": "SIT",
            "subText": None,
            "senderUniqueReference": f"S-{interface_id}-1000000001-SDS-20250331-{reference:06d}",
            "senderTimestamp": "2025-03-31T06:00:00+01:00",
            "senderDIPID": "1000000001",
            "senderRoleID": "SDS",
            "senderCorrelationID": None,
            "DIPConnectionProviderID": None,
        },
        "A0": {"primaryRecipients": ["3000000001"], "secondaryRecipients": [], "always": []},
        "M0": {"MPANCore": "2000056535971", "distributorDIPID": "6000000020", "GSPGroupID": "_H"},
    }


def _consumption_day(day: datetime, n_periods: int) -> dict[str, Any]:
    periods = []
    for k in range(n_periods):
        end = day + timedelta(minutes=30 * (k + 1))
        value = f"{0.1 + 0.01 * k:.3f}"
        periods.append({"sp": end.isoformat(), "v": value, "q": "A", "e": None, "arc": None})
    # one estimate (with its reason) and one zero estimate, as real data has
    if n_periods > 2:
        periods[1].update(q="E1", e="2")
        periods[2].update(q="ZE", v="0.000")
    return {
        "settlementDay": {"settlementDayDate": day.isoformat(), "periodDuration": 30},
        "consumptionPeriods": periods,
    }


def build_if021(
    event: str = "[ActivePower]",
    mqid: str = "AI",
    *,
    days: int = 1,
    first_day: str = "2025-03-30",
    n_periods: int = 48,
    reference: int = 1,
) -> dict[str, Any]:
    """A valid IF-021 payload: ``days`` UTC days of ``n_periods`` periods from ``first_day``."""
    start = datetime.fromisoformat(first_day).replace(tzinfo=UTC)
    return {
        "CommonBlock": _common_block("IF-021", event, reference),
        "CustomBlock": {
            "B044": {"issuingDataServiceDIPID": "1000000001"},
            "B067": {
                "connectionTypeIndicator": "W",
                "connectionTypeEffectiveFromDate": "2020-01-01T00:00:00+00:00",
            },
            "B900": {
                "MQID": {"measurementQuantityID": mqid},
                "settlementDayConsumptionPeriods": [
                    _consumption_day(start + timedelta(days=d), n_periods) for d in range(days)
                ],
            },
        },
    }


def build_if041(event: str = "[ReadingRemote]", *, reference: int = 1) -> dict[str, Any]:
    """A valid IF-041 payload: one cumulative reading and two time-of-use register readings."""
    when = "2025-03-31T00:00:00+00:00"
    return {
        "CommonBlock": _common_block("IF-041", event, reference),
        "CustomBlock": {
            "B064List": [
                {
                    "meterID": "24M0123456",
                    "cumulativeRegisterReading": "12345.678",
                    "cumulativeRegisterReadingDateTime": when,
                    "readingMethod": "A",
                    "siteVisitCheckCode": None,
                }
            ],
            "B065List": [
                {
                    "meterID": "24M0123456",
                    "configurableRegisterReadingDate": when,
                    "configurableRegisterID": register,
                    "configurableRegisterReading": reading,
                }
                for register, reading in (("01", "8000.123"), ("02", "4345.555"))
            ],
        },
    }


@pytest.fixture
def make_if021() -> Callable[..., dict[str, Any]]:
    """Factory of valid IF-021 payloads (see :func:`build_if021`)."""
    return build_if021


@pytest.fixture
def make_if041() -> Callable[..., dict[str, Any]]:
    """Factory of valid IF-041 payloads (see :func:`build_if041`)."""
    return build_if041


#: Fixtures that build a year-long data set: a test that uses one (directly, or as the value of a
#: parameter it looks up) is outside the quick subset (``pytest -m "not slow"``).
SLOW_FIXTURES = frozenset({"year", "year_set"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that needs a year-long data set."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        used = set(getattr(item, "fixturenames", ())) | {v for v in params.values() if isinstance(v, str)}
        if used & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)

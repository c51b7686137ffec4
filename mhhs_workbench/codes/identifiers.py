"""Identifiers used in MHHS messages: MPAN cores, GSP groups, DIP IDs, meter serials, references.

Generated MPANs and meter serials are keyed bijections of meter numbers (``indexed_*``), so a
meter's identifiers do not depend on how many meters there are, and never collide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

#: Weights applied to MPAN core digits 1-12 before the modulus-11 check.
MPAN_CHECK_WEIGHTS = np.array([3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43], dtype=np.int64)

#: Distributor ID (first two MPAN digits) of each licensed distribution area -> GSP group ID.
GSP_GROUP_BY_DISTRIBUTOR: dict[str, str] = {
    "10": "_A",
    "11": "_B",
    "12": "_C",
    "13": "_D",
    "14": "_E",
    "15": "_F",
    "16": "_G",
    "17": "_P",
    "18": "_N",
    "19": "_J",
    "20": "_H",
    "21": "_K",
    "22": "_L",
    "23": "_M",
}

#: GSP group ID -> distributor ID of the host area.
DISTRIBUTOR_BY_GSP_GROUP: dict[str, str] = {g: d for d, g in GSP_GROUP_BY_DISTRIBUTOR.items()}

#: The 14 GSP groups, in ID order.
GSP_GROUPS: tuple[str, ...] = tuple(sorted(DISTRIBUTOR_BY_GSP_GROUP))

#: GSP group names, for tables and plots.
GSP_GROUP_NAMES: dict[str, str] = {
    "_A": "Eastern",
    "_B": "East Midlands",
    "_C": "London",
    "_D": "Merseyside & N Wales",
    "_E": "Midlands",
    "_F": "Northern",
    "_G": "North Western",
    "_H": "Southern",
    "_J": "South Eastern",
    "_K": "South Wales",
    "_L": "South Western",
    "_M": "Yorkshire",
    "_N": "South Scotland",
    "_P": "North Scotland",
}

#: Nation of each GSP group, as used for bank holidays (``holidays`` subdivision codes).
NATION_BY_GSP_GROUP: dict[str, str] = {
    **{g: "ENG" for g in GSP_GROUPS},
    "_D": "WLS",  # Merseyside & North Wales: most sites follow the England & Wales calendar
    "_K": "WLS",
    "_N": "SCT",
    "_P": "SCT",
}

#: Representative latitude of each GSP group [degrees north], used for dusk/dawn and solar.
LATITUDE_BY_GSP_GROUP: dict[str, float] = {
    "_A": 52.2,
    "_B": 52.9,
    "_C": 51.5,
    "_D": 53.2,
    "_E": 52.5,
    "_F": 54.9,
    "_G": 53.6,
    "_H": 51.0,
    "_J": 51.2,
    "_K": 51.6,
    "_L": 50.7,
    "_M": 53.8,
    "_N": 55.8,
    "_P": 57.3,
}

#: Representative longitude of each GSP group [degrees east].
LONGITUDE_BY_GSP_GROUP: dict[str, float] = {
    "_A": 0.5,
    "_B": -1.0,
    "_C": -0.1,
    "_D": -3.0,
    "_E": -2.0,
    "_F": -1.6,
    "_G": -2.6,
    "_H": -1.3,
    "_J": 0.6,
    "_K": -3.5,
    "_L": -3.8,
    "_M": -1.4,
    "_N": -3.7,
    "_P": -3.5,
}

#: Market roles that send or receive IF-021 / IF-041 messages.
ROLE_IDS: tuple[str, ...] = ("SDS", "ADS", "UMSDS", "SUP", "MSS", "LDSO", "LSS", "MDS", "SMRS")

#: Pattern Elexon gives for ``senderUniqueReference`` (DI-995).
SENDER_UNIQUE_REFERENCE_PATTERN = re.compile(
    r"^S-((IF|REP)-)?\d{3,4}-[0-9a-fA-F]{10}-[A-Z]{3,5}-\d{8}-[a-zA-Z0-9]+$"
)

_DIP_ID_ROLE_DIGIT = {role: str(i + 1) for i, role in enumerate(ROLE_IDS)}


class IdentifierError(ValueError):
    """An identifier breaks its format rule."""


def mpan_check_digit(first_twelve: str | Sequence[str] | np.ndarray) -> str | np.ndarray:
    """Check digit of MPAN cores from their first 12 digits.

    Parameters
    ----------
    first_twelve : str or array-like of str
        The distributor ID and unique identifier, 12 decimal digits each.

    Returns
    -------
    str or numpy.ndarray
        The check digit (``'0'``-``'9'``), one per input.
    """
    scalar = isinstance(first_twelve, str)
    check = _weighted_sum(first_twelve) % 11 % 10
    out = check.astype("U1")
    return str(out[0]) if scalar else out


def is_valid_mpan(mpan: str) -> bool:
    """Whether ``mpan`` is a 13-digit MPAN core whose check digit is right.

    Examples
    --------
    >>> is_valid_mpan("2000056535971")
    True
    >>> is_valid_mpan("2000056535972")
    False
    """
    if not isinstance(mpan, str) or len(mpan) != 13 or not mpan.isdigit() or not mpan.isascii():
        return False
    return mpan_check_digit(mpan[:12]) == mpan[12]


def mpan_problem(mpan: object) -> str | None:
    """Why ``mpan`` is not a valid MPAN core, or ``None`` when it is."""
    if not isinstance(mpan, str):
        return f"MPAN core must be a string, got {type(mpan).__name__}"
    if len(mpan) != 13 or not (mpan.isdigit() and mpan.isascii()):
        return f"MPAN core {mpan!r} must be exactly 13 digits"
    expected = mpan_check_digit(mpan[:12])
    if expected != mpan[12]:
        return f"MPAN core {mpan} has check digit {mpan[12]}, expected {expected}"
    return None


def gsp_group_of_mpan(mpan: str) -> str | None:
    """GSP group of an MPAN's distributor area, ``None`` for IDNOs and unknown distributors."""
    return GSP_GROUP_BY_DISTRIBUTOR.get(mpan[:2])


#: How many distinct MPAN cores :func:`indexed_mpans` can make in one GSP group.
MPANS_PER_GSP_GROUP = 9 * 10**8
#: How many distinct serials :func:`indexed_meter_serials` can make.
METER_SERIALS = 5 * 10**7
_SERIAL_MAKERS = np.array(list("ELMPS"))


def _weighted_sum(prefixes: np.ndarray) -> np.ndarray:
    """Sum of MPAN digits 1-12 times their weights, per 12-digit prefix."""
    values = np.atleast_1d(np.asarray(prefixes, dtype="U12"))
    digits = values.astype("S12").view(np.uint8).reshape(values.size, 12).astype(np.int64) - 48
    if np.any((digits < 0) | (digits > 9)):
        bad = values[np.any((digits < 0) | (digits > 9), axis=1)][0]
        raise IdentifierError(f"MPAN prefix {bad!r} is not 12 digits")
    return digits @ MPAN_CHECK_WEIGHTS


def dip_id(role: str, index: int) -> str:
    """A deterministic 10-digit DIP participant ID for test participant ``index`` of ``role``.

    The first digit encodes the role so that IDs of different roles never collide.
    """
    if role not in _DIP_ID_ROLE_DIGIT:
        raise IdentifierError(f"unknown role {role!r}; expected one of {', '.join(ROLE_IDS)}")
    if not 0 <= index < 10**8:
        raise IdentifierError(f"participant index {index} out of range")
    return f"{_DIP_ID_ROLE_DIGIT[role]}0{index:08d}"


def is_valid_dip_id(value: object) -> bool:
    """Whether ``value`` is a 10-character DIP participant ID."""
    return isinstance(value, str) and len(value) == 10


def sender_unique_references(
    interface_id: str,
    sender_dip_id: str,
    sender_role: str,
    day_yyyymmdd: str,
    sequence: Iterable[int],
) -> list[str]:
    """``senderUniqueReference`` values following Elexon's pattern.

    Parameters
    ----------
    interface_id : str
        ``'IF-021'`` or ``'IF-041'``.
    sender_dip_id : str
        10 hexadecimal characters (DIP IDs made by :func:`dip_id` are decimal).
    sender_role : str
        3-5 capital letters, e.g. ``'SDS'``.
    day_yyyymmdd : str
        Creation date as ``YYYYMMDD``.
    sequence : iterable of int
        Running numbers; unique within a data set, so are the references.
    """
    prefix = f"S-{interface_id}-{sender_dip_id}-{sender_role}-{day_yyyymmdd}-"
    refs = [f"{prefix}{i:08d}" for i in sequence]
    if refs and not SENDER_UNIQUE_REFERENCE_PATTERN.match(refs[0]):
        raise IdentifierError(f"sender reference {refs[0]!r} does not match Elexon's pattern")
    return refs

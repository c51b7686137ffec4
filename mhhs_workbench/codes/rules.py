"""The rule registry: every check the validator makes, by code, with what valid data does.

The validator reports these codes, the negative generator breaks them and scenarios name them;
all three take the codes from here. A rule is registered once, where it is named.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """A check with its code and a one-line statement of what valid data does."""

    code: str
    text: str


#: Every check, by code.
RULES: dict[str, Rule] = {}


def _rule(code: str, text: str) -> str:
    RULES[code] = Rule(code, text)
    return code


FILE = _rule("FILE", "a message file must be readable UTF-8 JSON")
ENVELOPE = _rule(
    "ENVELOPE", 'a message file is a non-empty JSON array of {"payload": {...}} items, nothing else'
)
INTERFACE = _rule("INTERFACE", "CommonBlock.S0.interfaceID must be IF-021 or IF-041")
SCHEMA = _rule("SCHEMA", "the payload must satisfy the package's JSON Schema")
SCHEMA_ELEXON = _rule("SCHEMA-ELEXON", "the payload must satisfy Elexon's official JSON Schema")
SCHEMA_ELEXON_NULL = _rule(
    "SCHEMA-ELEXON-NULL",
    "read strictly (OpenAPI 3.0.3: nullable does not widen an enum), Elexon's schema refuses null "
    "where an enum does not list it",
)
ECS1002 = _rule("ECS1002", "MQID must fit the event: [ActivePower] AI/AE, [ReactivePower] RI/RE")
ECS1004 = _rule("ECS1004", "periodDuration must be 30")
ECS1005 = _rule("ECS1005", "sp must be a date-time on :00 or :30 (UTC)")
ECS1006 = _rule("ECS1006", "no sp may appear twice in a message")
ECS1007 = _rule("ECS1007", "periods and settlement days of a message must not overlap")
ECS1010 = _rule("ECS1010", "consumption values must not be negative")
ECS1011 = _rule("ECS1011", "the value must be 0.000 when q is a ZE code")
ECS1013 = _rule("ECS1013", "no sp may be before the connection type's effective-from date (B067)")
ECS1014 = _rule("ECS1014", "settlementDayDate must be UTC midnight (T00:00:00+00:00)")
ECS1015 = _rule("ECS1015", "estimated data (q E*, EA*, EAE*, AAE*) must carry a reason code e")
SP_DAY = _rule("WB-SP-DAY", "every sp must end a period of its UTC day D: D 00:30 ... D+1 00:00")
MPAN = _rule("WB-MPAN", "the MPAN core's check digit must be right")
GSP = _rule("WB-GSP", "GSPGroupID must be the GSP group of the MPAN's distributor")
REFERENCE = _rule("WB-SUR-DUP", "senderUniqueReference must be unique across the files checked")
READ_TIME = _rule(
    "WB-READ-DT", "register reading date-times must be valid 25-character date-times with offset"
)
READ_NEGATIVE = _rule("WB-READ-NEG", "register readings must not be negative")
DUP_KEY = _rule("JSON-DUP-KEY", "no JSON object may repeat a key (parsers silently keep one)")
FILE_BOM = _rule("FILE-BOM", "a message file must not start with a byte order mark (UTF-8, no BOM)")
FILE_KIND = _rule("FILE-KIND", "a message file must be a regular file (no FIFO, device or socket)")
FILE_SIZE = _rule(
    "FILE-SIZE", "a message file, and each message in it, must be within the size limit"
)
DAY_RESENT = _rule(
    "WB-DAY-RESENT",
    "an MPAN/MQID/UTC settlement day may be sent again only as a later revision: a new "
    "senderUniqueReference and a strictly later senderTimestamp",
)
READ_RECONCILE = _rule(
    "WB-READ-RECONCILE",
    "between consecutive register reads the advance equals the MPAN's IF-021 consumption [Wh]",
)
READ_BACK = _rule(
    "WB-READ-BACK", "register reads never go backwards, except at a wrap of the register's digits"
)
MPAN_DIRECTION = _rule(
    "WB-MPAN-DIRECTION",
    "an MPAN has one energy direction: its IF-021 active energy is import (AI) or export (AE), never both",
)


#: Rules of the validator no message can break alone, with the reason.
NOT_ALONE: dict[str, str] = {
    "SCHEMA-ELEXON": "Elexon's schema is looser than the package's: every message it refuses, "
    "the package's schema refuses too; the SCHEMA cases say whether Elexon's schema refuses "
    "them (column elexon_schema_rejects)",
    "SCHEMA-ELEXON-NULL": "valid data sets carry null in e, arc and siteVisitCheckCode, which "
    "the strict reading of nullable refuses: a reading the user chooses, not a broken rule",
    "FILE-KIND": "needs a FIFO, device or socket where a message file should be: not something "
    "a published, checksummed folder can hold",
    "FILE-SIZE": "needs a file over the validator's size limit (20 GB by default): not a small "
    "file; validate any case with --max-file-gb below its size to see it",
}

#: Rules a negative case can break in one message or one small file set: every rule but those above.
BREAKABLE: tuple[str, ...] = tuple(code for code in RULES if code not in NOT_ALONE)

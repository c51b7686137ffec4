"""Code lists of IF-021 and IF-041 messages, kept in one place.

The values follow Elexon's DIP data catalogue (v2.1.0). The package's JSON Schemas
(``mhhs_workbench/schemas/*.json``) repeat them as ``enum`` lists; a test keeps the two equal.
"""

from __future__ import annotations

#: Interfaces the workbench produces.
INTERFACE_IDS: tuple[str, ...] = ("IF-021", "IF-041")

#: ``S0.schemaVersion`` of both interfaces.
SCHEMA_VERSION = "011"

#: ``S1.environmentTag`` values (DT-013).
ENVIRONMENT_TAGS: tuple[str, ...] = ("PRD", "SITB", "SIT", "UIT", "DEV")

#: IF-021 event codes: period consumption of active or reactive power.
IF021_EVENT_CODES: tuple[str, ...] = ("[ActivePower]", "[ReactivePower]")

#: IF-041 event codes: why a register reading was taken or sent.
IF041_EVENT_CODES: tuple[str, ...] = (
    "[ReadingRemote]",
    "[ReadingRemv]",
    "[ReadingInstl]",
    "[ReadingEnergisationChg]",
    "[ReadingCOR]",
    "[ReadingOnSite]",
    "[ReadingCOS]",
    "[DSEstimate]",
    "[SupplierAgreedCOS]",
    "[ReadingOverride]",
)

#: ``S0.eventCode`` values per interface.
EVENT_CODES: dict[str, tuple[str, ...]] = {
    "IF-021": IF021_EVENT_CODES,
    "IF-041": IF041_EVENT_CODES,
}

#: Measurement quantity IDs (DI-052): active / reactive, import / export.
MEASUREMENT_QUANTITY_IDS: tuple[str, ...] = ("AI", "AE", "RI", "RE")

#: Measurement quantities each IF-021 event may carry (rule ECS1002).
MQIDS_BY_EVENT: dict[str, tuple[str, ...]] = {
    "[ActivePower]": ("AI", "AE"),
    "[ReactivePower]": ("RI", "RE"),
}

#: Settlement period quality indicator ``q`` (DI-083), in catalogue order, with meanings.
QUALITY_CODE_NAMES: dict[str, str] = {
    "A": "Actual",
    "E": "Estimate",
    "E0": "Single missing period",
    "E1": "ADA available",
    "E2": "DA available",
    "E3": "NDM advance",
    "E4": "Register read history",
    "E5": "Previous DA",
    "E6": "PMA only",
    "E7": "No recent data",
    "E8": "Agreed or OR read",
    "E9": "AAC or SNAC",
    "ZE": "Zero advance",
    "ZE1": "No period or advance",
    "ZE2": "LTV",
    "ZE3": "Meter disabled",
    # Advanced Data Service only
    **{f"A{i}": "ADS only" for i in range(1, 4)},
    **{f"AAE{i}": "ADS only" for i in range(1, 4)},
    **{f"EAE{i}": "ADS only" for i in range(1, 4)},
    **{f"EA{i}": f"ADS estimation method {i}" for i in range(1, 14)},
}
QUALITY_CODES: tuple[str, ...] = tuple(QUALITY_CODE_NAMES)

#: Zero-estimate quality codes; their value must be ``"0.000"`` (rule ECS1011).
ZE_CODES: tuple[str, ...] = tuple(q for q in QUALITY_CODES if q.startswith("ZE"))

#: Estimated-data quality codes, which must carry a reason ``e`` (rule ECS1015): every code
#: starting with ``E`` (including the Advanced ``EA*`` and ``EAE*``) plus the Advanced ``AAE*``.
ESTIMATE_CODES: tuple[str, ...] = tuple(
    q for q in QUALITY_CODES if q.startswith("E") or q.startswith("AAE")
)

#: Quality codes that are neither estimates nor zero estimates: ``A`` and the ADS ``A1``-``A3``.
ACTUAL_CODES: tuple[str, ...] = tuple(
    q for q in QUALITY_CODES if q not in ZE_CODES and q not in ESTIMATE_CODES
)

#: Codes DI-083 reserves for the Advanced Data Service (``ADS Only`` / ``ADS Method n``).
ADS_ONLY_CODES: tuple[str, ...] = tuple(
    q for q in QUALITY_CODES if q.startswith(("A1", "A2", "A3", "AAE", "EAE", "EA"))
)

#: The estimation hierarchy of smart and unmetered data services (``E`` and ``E0``-``E9``); an
#: Advanced Data Service estimates with its own ``EA*`` methods instead.
NON_ADS_ESTIMATE_CODES: tuple[str, ...] = tuple(
    q for q in ESTIMATE_CODES if q not in ADS_ONLY_CODES
)

#: The ADS method standing in for each hierarchy step, ``EA(n+1)`` for ``En``: DI-083 numbers the
#: ADS methods without naming them, so the workbench pairs them with the hierarchy in order.
ADS_METHOD_OF: dict[str, str] = {f"E{n}": f"EA{n + 1}" for n in range(10)}


def allowed_quality_codes(role: str) -> tuple[str, ...]:
    """``q`` values a data service in ``role`` may send (``ADS``, ``SDS`` or ``UMSDS``).

    The ADS sends actuals, zero estimates and its reserved codes; other data services send
    actuals, zero estimates and the ``E``/``E0``-``E9`` hierarchy, never an ADS-only code.
    """
    banned = NON_ADS_ESTIMATE_CODES if role == "ADS" else ADS_ONLY_CODES
    return tuple(q for q in QUALITY_CODES if q not in banned)


#: Estimation reason code ``e`` (DI-076), ``None`` when the value is not estimated.
ESTIMATION_REASON_NAMES: dict[str, str] = {
    "1": "OptOut",
    "2": "Missing",
    "3": "Invalid",
    "4": "CommsFault",
    "5": "LTV",
    "6": "Disabled",
    "7": "De-energised",
    "8": "Disconnected",
    "9": "Consumption amendment",
    "10": "NonSmart",
}
ESTIMATION_REASONS: tuple[str, ...] = tuple(ESTIMATION_REASON_NAMES)

#: Supplier consumption amendment reason ``arc`` (DI-166), ``None`` when not amended.
AMENDMENT_REASON_NAMES: dict[str, str] = {
    "A": "Agreed read",
    "E": "Estimation issue",
    "M": "Metering issue",
    "R": "Reading issue",
    "S": "Stolen or lost meter",
    "T": "Tampering or theft",
    "X": "Other",
}
AMENDMENT_REASONS: tuple[str, ...] = tuple(AMENDMENT_REASON_NAMES)

#: Connection type indicator (DI-015).
CONNECTION_TYPE_NAMES: dict[str, str] = {
    "W": "Whole current",
    "L": "LV with CT",
    "H": "HV with CT",
    "E": "EHV with CT",
    "U": "Unmetered",
}
CONNECTION_TYPES: tuple[str, ...] = tuple(CONNECTION_TYPE_NAMES)

#: How a register reading was obtained (DI-094).
READING_METHOD_NAMES: dict[str, str] = {
    "A": "Actual, recovered from the meter",
    "C": "Customer",
    "E": "Estimated by the Data Service",
    "S": "Estimated by the Supplier",
}
READING_METHODS: tuple[str, ...] = tuple(READING_METHOD_NAMES)

#: Site visit check codes (DI-096): not a full 01-89 range; 12, 45-49 and 59-87 are unused.
SITE_VISIT_CHECK_CODES: tuple[str, ...] = (
    *(f"{i:02d}" for i in range(1, 12)),
    *(f"{i:02d}" for i in range(13, 45)),
    *(f"{i:02d}" for i in range(50, 59)),
    "88",
    "89",
)

#: Length of a settlement period [minutes] (DI-081; rule ECS1004). The one definition: every
#: other period length and count in the package derives from it.
PERIOD_MINUTES = 30

#: Settlement periods in one UTC settlement day (48): the periods of an IF-021 settlement day,
#: the columns of a day in every ``(n, n_days * 48)`` array, and the local clock slots of a
#: normal local day. Local settlement days have 46 or 50 on the clock-change days, see
#: :data:`mhhs_workbench.time.periods.MIN_LOCAL_PERIODS` and ``MAX_LOCAL_PERIODS``.
PERIODS_PER_UTC_DAY = 24 * 60 // PERIOD_MINUTES

#: Most settlement days in one IF-021 message.
MAX_DAYS_PER_MESSAGE = 200

#: Most configurable register readings (``B065List``) in one IF-041 message.
MAX_CONFIGURABLE_REGISTERS = 48

#: DIP date-time text (DT-003): exactly 25 characters, ``YYYY-MM-DDTHH:MM:SS`` and an offset; the
#: ``Z`` form is refused. The package's JSON Schemas carry the same pattern.
DIP_DATETIME_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9][+-]([01][0-9]|2[0-3]):[0-5][0-9]$"
)

#: ``subText`` length limits (DI-977).
SUB_TEXT_MAX_LENGTH = 500

#: ``register_id`` of the cumulative (B064) register; other IDs are configurable (B065) ones.
CUMULATIVE_REGISTER = "C"

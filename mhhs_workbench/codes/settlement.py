"""Codes settlement reports name meters by: DUoS tariffs and distributor IDs.

DUoS tariff IDs (DI-345, at most 3 characters) are synthetic, one per archetype for import and
one per premise kind for export; each has its energy direction (DI-485, ``I``/``E``) and
domestic premise indicator (DI-486):

=====  =========  ========  ==============================================
ID     direction  domestic  meters
=====  =========  ========  ==============================================
D01    I          yes       domestic unrestricted
D02    I          yes       domestic Economy 7
N01    I          no        non-domestic unrestricted
N02    I          no        non-domestic Economy 7
H05    I          no        maximum demand, profile class 5 (H06-H08: 6-8)
U01    I          no        unmetered street lighting
S01    I          no        consumption a user supplied (premise kind unknown)
X01    E          yes       export of domestic premises (rooftop PV)
X02    E          no        export of any other premises
=====  =========  ========  ==============================================

Distributor IDs (DI-029, 4 characters) are the market participant IDs of the 14 licensed
distribution areas, by the two-digit distributor ID that opens each MPAN.
"""

from __future__ import annotations

import numpy as np

from mhhs_workbench.codes.identifiers import DISTRIBUTOR_BY_GSP_GROUP

#: DUoS tariff ID -> (energy direction, domestic premise indicator).
TARIFFS: dict[str, tuple[str, bool]] = {
    "D01": ("I", True),
    "D02": ("I", True),
    "N01": ("I", False),
    "N02": ("I", False),
    "H05": ("I", False),
    "H06": ("I", False),
    "H07": ("I", False),
    "H08": ("I", False),
    "U01": ("I", False),
    "S01": ("I", False),
    "X01": ("E", True),
    "X02": ("E", False),
}
#: Tariff IDs in a fixed order (report and table order).
TARIFF_IDS: tuple[str, ...] = tuple(TARIFFS)

#: Import tariff of each archetype (``supplied``: meters whose consumption a user gave).
IMPORT_TARIFF_BY_ARCHETYPE: dict[str, str] = {
    "domestic_unrestricted": "D01",
    "domestic_economy7": "D02",
    "non_domestic_unrestricted": "N01",
    "non_domestic_economy7": "N02",
    "maximum_demand_pc5": "H05",
    "maximum_demand_pc6": "H06",
    "maximum_demand_pc7": "H07",
    "maximum_demand_pc8": "H08",
    "unmetered_street_lighting": "U01",
    "supplied": "S01",
}
#: Export tariff of domestic and of other premises.
EXPORT_TARIFF = {True: "X01", False: "X02"}

#: Market participant ID (DI-029) of each distribution area, by two-digit distributor ID.
DISTRIBUTOR_MPID: dict[str, str] = {
    "10": "EELC",
    "11": "EMEB",
    "12": "LOND",
    "13": "MANW",
    "14": "MIDE",
    "15": "NEEB",
    "16": "NORW",
    "17": "HYDE",
    "18": "SPOW",
    "19": "SEEB",
    "20": "SOUT",
    "21": "SWAE",
    "22": "SWEB",
    "23": "YELG",
}


def distributor_mpid(gsp_group: str) -> str:
    """DI-029 distributor ID of the host distributor of a GSP group."""
    return DISTRIBUTOR_MPID[DISTRIBUTOR_BY_GSP_GROUP[gsp_group]]


def duos_tariffs(archetype: np.ndarray, domestic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Import and export DUoS tariff IDs of meters, object arrays.

    Parameters
    ----------
    archetype : array of str
        Each meter's archetype (or ``'supplied'``).
    domestic : array of bool
        Whether each meter is at a domestic premise.
    """
    kinds, which = np.unique(np.asarray(archetype).astype(str), return_inverse=True)
    unknown = set(kinds) - set(IMPORT_TARIFF_BY_ARCHETYPE)
    if unknown:
        raise ValueError(f"no DUoS tariff for archetype(s) {', '.join(sorted(unknown))}")
    imports = np.array([IMPORT_TARIFF_BY_ARCHETYPE[k] for k in kinds], dtype=object)[which.reshape(-1)]
    exports = np.where(np.asarray(domestic, dtype=bool), EXPORT_TARIFF[True], EXPORT_TARIFF[False]).astype(object)
    return imports, exports

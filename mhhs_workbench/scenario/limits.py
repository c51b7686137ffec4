"""The values a scenario may name and the limits its loading and checks enforce.

Output names and their older aliases, event types, and every bound on a scenario's numbers and
files: shared by the loader (:mod:`~mhhs_workbench.scenario.loading`), the checks
(:mod:`~mhhs_workbench.scenario.checks`) and the panels that offer the same choices.
"""

from __future__ import annotations

from mhhs_workbench.codes.identifiers import METER_SERIALS

OUTPUTS = ("if021", "if041", "parquet", "csv", "settlement")
#: Older output names still accepted, and what they now give: ``aggregates`` (a GSP group x period
#: sum that matched no central report) is the ``settlement`` table and reports now.
OUTPUT_ALIASES = {"aggregates": "settlement"}
EVENT_TYPES = ("change_of_supplier",)

#: Largest scenario file read [bytes] (1 MB); a scenario is a short description, never data.
MAX_SCENARIO_BYTES = 1_000_000
#: Most characters of a user's value that an error message echoes (longer ones end in "...").
SHOW_CHARS = 80
#: Seeds are ``0 <= seed < SEED_LIMIT``: numpy's generators take them and JSON keeps them exactly.
SEED_LIMIT = 2**64
#: Integers the manifest (orjson) can hold: ``INT_MIN <= value < SEED_LIMIT``.
INT_MIN = -(2**63)
#: Most meters in one data set: each needs its own meter serial.
MAX_METERS = METER_SERIALS
#: Latest a data service may send a day's batch after the day ends [h] (ten days).
MAX_SEND_DELAY_HOURS = 240
#: Widest random spread of a batch's send time [h]: under a day keeps batches in day order.
MAX_SEND_SPREAD_HOURS = 23

"""When each message is sent: daily batches per data service, and revisions of recovered days.

Every data service (SDS, ADS, UMSDS) sends one *batch* a day: the batch of UTC day ``d`` goes out
``delay_hours`` plus a random share of ``spread_hours`` after the day ends (its 24:00), the random
share drawn per ``(seed, service, day)``. A message goes in the first batch after its last day is
complete, so it is never sent before its last period ends; a register read at 00:00 of day ``b``
closes day ``b - 1`` and goes in that day's batch (the opening read at 00:00 of the first day in
the first batch).

A communications fault leaves a meter's days estimated (reason 4, ``CommsFault``). For a share of
faults (``sending.revision_share``, drawn per meter) the data service later collects the meter's
stored half hours and sends the fault's days again, one message per measurement quantity and day,
now actual: in the first batch after the fault clears and after every message first carrying
those days was sent. The fault's days then end with the actual values; register reads are
integrated from each day's final values, so they reconcile with the latest revision.

A *batch id* is ``role * n_batches + day``; :attr:`SendTimeline.order` lists the batch ids in send
order (time, then role), which is the order of the message files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from mhhs_workbench.model.quality import NO_SPELL
from mhhs_workbench.model.randomness import Stream, hash_counter, meter_keys, meter_uniform, uniform
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.scenario.sections import ServiceTiming

#: Data service roles, in the order count arrays use (as in the messages' addressing).
ROLES = ("SDS", "ADS", "UMSDS")
#: Scenario key of each role's timing.
TIMING_KEYS = ("smart_data_service", "advanced_data_service", "unmetered_data_service")
#: Keyed streams of the timeline's draws, numbered past :class:`~.profiles.randomness.Stream`'s.
SEND_TIME_STREAM = Stream.SEND_TIME
REVISION_STREAM = Stream.REVISION
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class SendTimeline:
    """Send time of every data service's daily batch.

    Attributes
    ----------
    first_day : numpy.datetime64
        The data set's first UTC day.
    n_days : int
        UTC days in the data set.
    send_s : numpy.ndarray of int64, shape ``(len(ROLES), n_days + 1)``
        Send time of each role's batch of each day [s since 1970-01-01 UTC]; batch ``n_days``
        (after the last day) carries only revisions.
    """

    first_day: np.datetime64
    n_days: int
    send_s: np.ndarray

    @classmethod
    def of(cls, scenario: Scenario, days: np.ndarray) -> SendTimeline:
        """The timeline of a scenario over its consecutive UTC ``days``."""
        first = np.datetime64(days[0], "D")
        n_days = int(len(days))
        # keyed by the absolute UTC day, so a day's batch time does not depend on the date range
        absolute = first.astype(np.int64) + np.arange(n_days + 1, dtype=np.int64)
        send = np.empty((len(ROLES), n_days + 1), dtype=np.int64)
        for r, key in enumerate(TIMING_KEYS):
            timing: ServiceTiming = getattr(scenario.sending, key)
            u = uniform(hash_counter(meter_keys(scenario.seed, np.array([r]), SEND_TIME_STREAM), absolute))
            offset = np.rint((timing.delay_hours + timing.spread_hours * u) * 3600).astype(np.int64)
            send[r] = (absolute + 1) * SECONDS_PER_DAY + offset
        return cls(first, n_days, send)

    @property
    def n_batches(self) -> int:
        """Batches per role (one per day, and one after the last day)."""
        return self.n_days + 1

    @property
    def n_ids(self) -> int:
        """Batch ids of all roles."""
        return len(ROLES) * self.n_batches

    @cached_property
    def order(self) -> np.ndarray:
        """Batch ids in send order: by send time, then role."""
        ids = np.arange(self.n_ids)
        return np.lexsort((ids // self.n_batches, self.send_s.ravel()))

    @cached_property
    def rank(self) -> np.ndarray:
        """Position of each batch id in :attr:`order`."""
        rank = np.empty(self.n_ids, dtype=np.int64)
        rank[self.order] = np.arange(self.n_ids)
        return rank

    @cached_property
    def stamps(self) -> list[str]:
        """``senderTimestamp`` text of each batch id (``2025-10-21T05:12:09+00:00``)."""
        text = np.datetime_as_string(self.send_s.ravel().astype("datetime64[s]"), unit="s")
        return [f"{t}+00:00" for t in text.tolist()]

    def reference_date(self, batch_id: int) -> str:
        """``YYYYMMDD`` of a batch's send date (the creation date in ``senderUniqueReference``)."""
        return self.stamps[batch_id][:10].replace("-", "")

    def sent_at(self, batch_id: np.ndarray) -> np.ndarray:
        """Send times of batch ids, datetime64[s] [UTC]."""
        return self.send_s.ravel()[np.asarray(batch_id)].astype("datetime64[s]")

    def batch_id(self, role: np.ndarray | int, day: np.ndarray | int) -> np.ndarray:
        """Batch id of ``role`` (index into :data:`ROLES`) and batch day."""
        return np.asarray(role, dtype=np.int64) * self.n_batches + np.asarray(day, dtype=np.int64)


def read_batch_day(boundary: np.ndarray | int) -> np.ndarray:
    """Batch day of a register read at 00:00 of day ``boundary``: the day it closes (the first
    day's batch for the opening read)."""
    return np.maximum(np.asarray(boundary, dtype=np.int64) - 1, 0)


def recovered_faults(scenario: Scenario, meter_index: np.ndarray, comms_first: np.ndarray) -> np.ndarray:
    """Which meters' communications faults are recovered and re-sent as actuals (keyed draw)."""
    u = meter_uniform(scenario.seed, np.asarray(meter_index, dtype=np.int64), REVISION_STREAM)
    return (np.asarray(comms_first) != NO_SPELL) & (u < scenario.sending.revision_share)


def message_blocks(n_days: int, days_per_message: int, cos_day: int | None, first_day: int = 0) -> list[tuple[int, int, int]]:
    """``(first, stop, segment)`` day ranges of one value row's first-sent IF-021 messages.

    Blocks of ``days_per_message`` days within each supplier's days, from the first reported day.
    """
    if cos_day is None or cos_day < 1:
        segments = [(first_day, n_days)]
    else:
        at = max(cos_day, first_day)
        segments = [(first_day, at), (at, n_days)]
    return [(lo, min(lo + days_per_message, hi), s) for s, (lo, hi) in enumerate(segments)
            for lo in range(lo, hi, days_per_message)]


def revision_day(blocks: list[tuple[int, int, int]], fault_first: int, fault_days: int) -> int:
    """Batch day of a recovered fault's revisions: after the fault clears and after the last
    first-sent message carrying one of its days."""
    last = fault_first + fault_days - 1
    covering = max(stop - 1 for lo, stop, _ in blocks if lo <= last < stop)
    return max(fault_first + fault_days, covering + 1)

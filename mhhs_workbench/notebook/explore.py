"""Explore a published data set: fleet, one MPAN's data and messages, and the settlement totals.

The queries run in DuckDB straight over the data set's Parquet tables (``tables/*.parquet``, see
:mod:`~mhhs_workbench.dataset`), so only the rows asked for are read: one MPAN of a
100-million-row consumption table, or a grouped total, stays quick. Message look-ups use the
``send_schedule`` table (file and place of every message) when the data set has one, and scan
the message files otherwise. DuckDB comes with the optional extra ``explore``.

Typical use, as in ``notebooks/explore_dataset.ipynb``::

    ex = explore.open_dataset("demo-data")
    ex.fleet_summary()
    ex.consumption(mpan)          # one MPAN's half hours [kWh] with quality flags
    ex.day_messages(mpan, "2025-10-21")
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from mhhs_workbench.codes.archetypes import ARCHETYPES, archetype_spec
from mhhs_workbench.model.profiles.reference import CLASS_FILES, PROFILE_COLUMNS, reference_profile
from mhhs_workbench.publish.manifest import MANIFEST
from mhhs_workbench.time.periods import CLOCK_SLOTS_PER_DAY, profile_day_types, seasons

__all__ = [
    "DayMessage",
    "DatasetExplorer",
    "ExploreError",
    "class_comparison_note",
    "open_dataset",
    "require_duckdb",
]

#: Tables the explorer reads when the data set has them.
TABLES = ("meters", "consumption", "readings", "settlement", "aggregates", "send_schedule")


class ExploreError(ValueError):
    """A data set, MPAN or day that cannot be explored; the message says which and why.

    In a notebook it shows as its message, without a traceback (IPython's
    ``_render_traceback_``), and still fails a headless run.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"Stopped: {self}"]


def require_duckdb() -> Any:
    """The ``duckdb`` module, or an :class:`ExploreError` saying how to install it."""
    try:
        import duckdb
    except ImportError:
        raise ExploreError("exploring a data set needs DuckDB: pip install 'mhhs-workbench[explore]'") from None
    return duckdb


@dataclass(frozen=True)
class DayMessage:
    """One message that carries a given MPAN and UTC day.

    Attributes
    ----------
    interface : str
        ``IF-021`` or ``IF-041``.
    file : str
        The message file, relative to the data set (``messages/IF-021/IF-021_000001.json``).
    index : int
        Place of the message in the file's list (from 0).
    revision : int
        0 for the first send of the day, 1, 2 ... for re-sends.
    message : dict
        The message exactly as in the file (``{"payload": ...}``).
    """

    interface: str
    file: str
    index: int
    revision: int
    message: dict[str, Any]


def open_dataset(path: str | os.PathLike[str]) -> DatasetExplorer:
    """A :class:`DatasetExplorer` over the data set at ``path``."""
    return DatasetExplorer(path)


class DatasetExplorer:
    """Queries over one data set's tables and messages.

    Parameters
    ----------
    path : path
        A published data set folder (holding ``manifest.json`` and ``tables/``).

    Raises
    ------
    ExploreError
        If the folder is not a data set with a consumption table, or DuckDB is missing.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        duckdb = require_duckdb()
        self.path = Path(path).absolute()
        tables = self.path / "tables"
        if not (tables / "consumption.parquet").is_file():
            what = "no data set" if not (self.path / MANIFEST).is_file() else "a data set without tables"
            raise ExploreError(f"{self.path}: {what} (expected tables/consumption.parquet); "
                               "set `path` to a folder that generate_dataset or convert_csv published")
        self._db = duckdb.connect()
        self._mpans: list[str] | None = None
        self._known: set[str] = set()
        self.tables: tuple[str, ...] = tuple(t for t in TABLES if (tables / f"{t}.parquet").is_file())
        for table in self.tables:
            file = str(tables / f"{table}.parquet").replace("'", "''")
            self._db.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{file}')")

    def __repr__(self) -> str:
        return f"<DatasetExplorer {self.path} ({', '.join(self.tables)})>"

    def sql(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a DuckDB query over the data set's tables (views named as the tables)."""
        return self._db.execute(query, params or []).df()

    # ------------------------------------------------------------------ fleet

    def fleet_summary(self) -> pd.DataFrame:
        """The data set in a few labelled figures (one row each, column ``value``)."""
        c = self.sql(
            "SELECT count(DISTINCT mpan) AS mpans, min(utc_period_end) AS first_end, "
            "max(utc_period_end) AS last_end, count(*) AS rows, "
            "sum(value_wh) FILTER (WHERE mqid = 'AI') AS import_wh, "
            "coalesce(sum(value_wh) FILTER (WHERE mqid = 'AE'), 0) AS export_wh, "
            "count(*) FILTER (WHERE quality <> 'A') AS not_actual FROM consumption").iloc[0]
        rows: dict[str, Any] = {}
        if "meters" in self.tables:
            m = self.sql("SELECT count(*) AS n, count(*) FILTER (WHERE energy_direction = 'E') AS export, "
                         "count(DISTINCT gsp_group) AS gsp, count(DISTINCT archetype) AS archetypes "
                         "FROM meters").iloc[0]
            rows["metering points (MPANs)"] = int(m["n"])
            rows["of which export MPANs"] = int(m["export"])
            rows["GSP groups"] = int(m["gsp"])
            rows["archetypes"] = int(m["archetypes"])
        rows["MPANs with consumption"] = int(c["mpans"])
        rows["first half hour ends [UTC]"] = str(c["first_end"])
        rows["last half hour ends [UTC]"] = str(c["last_end"])
        rows["half-hour values"] = int(c["rows"])
        rows["import (AI) [kWh]"] = round(float(c["import_wh"] or 0) / 1000, 3)
        rows["export (AE) [kWh]"] = round(float(c["export_wh"] or 0) / 1000, 3)
        rows["share not actual (estimated or missing) [%]"] = round(100 * int(c["not_actual"]) / max(int(c["rows"]), 1), 2)
        if "readings" in self.tables:
            rows["register reads"] = int(self.sql("SELECT count(*) AS n FROM readings").iloc[0]["n"])
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)}).rename_axis("what")

    def fleet_by(self, column: str = "archetype") -> pd.DataFrame:
        """MPANs and their import in the data set [kWh] by a column of the meters table.

        Parameters
        ----------
        column : str
            A column of the meters table, e.g. ``archetype``, ``gsp_group``, ``connection_type``.
        """
        if "meters" not in self.tables:
            raise ExploreError(f"{self.path}: no meters table")
        known = set(self.sql("SELECT * FROM meters LIMIT 0").columns)
        if column not in known:
            raise ExploreError(f"meters table has no column {column!r}; it has {', '.join(sorted(known))}")
        return self.sql(
            f'SELECT m."{column}", count(DISTINCT m.mpan) AS mpans, '
            "round(coalesce(sum(c.value_wh) FILTER (WHERE c.mqid = 'AI'), 0) / 1000.0, 3) AS import_kwh "
            f'FROM meters m LEFT JOIN consumption c USING (mpan) GROUP BY 1 ORDER BY 1').set_index(column)

    def mpans(self, search: str = "") -> list[str]:
        """The MPANs with consumption, sorted; those containing ``search`` when given."""
        if self._mpans is None:  # one pass over the table, then kept: the picker asks often
            self._mpans = self.sql("SELECT DISTINCT mpan FROM consumption ORDER BY mpan")["mpan"].tolist()
            self._known = set(self._mpans)
        return [m for m in self._mpans if search in m] if search else list(self._mpans)

    # ------------------------------------------------------------------ one MPAN

    def _check_mpan(self, mpan: str) -> str:
        mpan = str(mpan)
        self.mpans()
        if mpan not in self._known:
            raise ExploreError(f"MPAN {mpan!r} is not in {self.path}; set `mpan` to one of its MPANs "
                               "(e.g. from the fleet table)")
        return mpan

    def meter(self, mpan: str) -> pd.Series:
        """The meters table's row of an MPAN."""
        mpan = self._check_mpan(mpan)
        if "meters" not in self.tables:
            return pd.Series({"mpan": mpan})
        return self.sql("SELECT * FROM meters WHERE mpan = ?", [mpan]).iloc[0]

    def days(self, mpan: str) -> list[dt.date]:
        """The UTC days with consumption of an MPAN, in order."""
        mpan = self._check_mpan(mpan)
        days = self.sql("SELECT DISTINCT CAST(utc_period_end - INTERVAL 30 MINUTE AS DATE) AS day "
                        "FROM consumption WHERE mpan = ? ORDER BY day", [mpan])["day"]
        return [pd.Timestamp(d).date() for d in days]

    def consumption(self, mpan: str) -> pd.DataFrame:
        """One MPAN's half hours: period end [UTC], MQID, energy [kWh], quality and reason codes."""
        mpan = self._check_mpan(mpan)
        return self.sql("SELECT utc_period_end, mqid, value_wh / 1000.0 AS kwh, quality, reason "
                        "FROM consumption WHERE mpan = ? ORDER BY mqid, utc_period_end", [mpan])

    def readings(self, mpan: str) -> pd.DataFrame:
        """One MPAN's register reads: read time [UTC], register, reading [kWh] and method."""
        mpan = self._check_mpan(mpan)
        if "readings" not in self.tables:
            return pd.DataFrame(columns=["read_datetime", "register_id", "reading_kwh", "reading_method"])
        return self.sql("SELECT read_datetime, register_id, reading_wh / 1000.0 AS reading_kwh, "
                        "reading_method FROM readings WHERE mpan = ? ORDER BY register_id, read_datetime",
                        [mpan])

    def day_messages(self, mpan: str, day: str | dt.date) -> list[DayMessage]:
        """The messages that carry an MPAN's data of one UTC day, exactly as in their files.

        IF-021 messages whose settlement days include ``day``, and IF-041 messages holding a
        register read taken on ``day`` [UTC] (from 00:00 to the next 00:00 included, the read that
        closes the day).

        Parameters
        ----------
        mpan : str
            The MPAN (MPAN core).
        day : str or date
            The UTC day, ``YYYY-MM-DD``.
        """
        mpan = self._check_mpan(mpan)
        day = _as_date(day)
        candidates = self._candidate_messages(mpan, day)
        found = []
        for (interface, file), places in candidates.items():
            items = orjson.loads((self.path / file).read_bytes())
            for index, revision in places:
                message = items[index]
                if _carries(message["payload"], mpan, day):
                    found.append(DayMessage(interface, file, index, revision, message))
        return sorted(found, key=lambda m: (m.interface, m.revision, m.file, m.index))

    def _candidate_messages(self, mpan: str, day: dt.date) -> dict[tuple[str, str], list[tuple[int, int]]]:
        """Messages that may carry the day: ``(interface, file) -> [(index, revision)]``."""
        out: dict[tuple[str, str], list[tuple[int, int]]] = {}
        if "send_schedule" in self.tables:
            rows = self.sql(
                "SELECT interface, message_file, index_in_file, revision FROM send_schedule "
                "WHERE mpan = ? AND (interface = 'IF-041' OR (first_utc_day <= ? AND last_utc_day >= ?))",
                [mpan, day, day])
            for r in rows.itertuples(index=False):
                file = f"messages/{r.interface}/{r.message_file}"
                out.setdefault((r.interface, file), []).append((int(r.index_in_file), int(r.revision)))
            return out
        for interface in ("IF-021", "IF-041"):  # no schedule: look through every file
            for file in sorted((self.path / "messages" / interface).glob(f"{interface}_*.json")):
                items = orjson.loads(file.read_bytes())
                places = [(i, 0) for i, m in enumerate(items)
                          if m["payload"]["CommonBlock"]["M0"]["MPANCore"] == mpan]
                if places:
                    out[(interface, file.relative_to(self.path).as_posix())] = places
        return out

    # ------------------------------------------------------------------ settlement

    @property
    def settlement_table(self) -> str | None:
        """Which table holds the settlement totals: ``settlement``, ``aggregates`` or None."""
        return next((t for t in ("settlement", "aggregates") if t in self.tables), None)

    def _totals(self) -> str:
        """SQL of the settlement totals as ``gsp_group, settlement_date, settlement_period,
        direction, value_wh``: the latest run of each day from ``settlement``, or ``aggregates``."""
        table = self.settlement_table
        if table == "settlement":
            return ("SELECT gsp_group, settlement_date, settlement_period, energy_direction AS direction, "
                    "volume_wh AS value_wh FROM settlement s WHERE run_number = (SELECT max(run_number) "
                    "FROM settlement r WHERE r.settlement_date = s.settlement_date)")
        if table == "aggregates":
            return ("SELECT gsp_group, settlement_date, settlement_period, "
                    "CASE WHEN mqid IN ('AE', 'RE') THEN 'E' ELSE 'I' END AS direction, value_wh "
                    "FROM aggregates WHERE mqid IN ('AI', 'AE')")
        raise ExploreError(f"{self.path}: no settlement or aggregates table")

    def gsp_totals(self) -> pd.DataFrame:
        """Energy by GSP group [kWh]: import and export columns (latest settlement run)."""
        return self.sql(
            f"SELECT gsp_group, round(sum(value_wh) FILTER (WHERE direction = 'I') / 1000.0, 3) AS import_kwh, "
            f"round(coalesce(sum(value_wh) FILTER (WHERE direction = 'E'), 0) / 1000.0, 3) AS export_kwh "
            f"FROM ({self._totals()}) GROUP BY 1 ORDER BY 1").set_index("gsp_group")

    def period_totals(self, direction: str = "I") -> pd.DataFrame:
        """Energy per local settlement day and period [kWh]: days as rows, periods as columns.

        Parameters
        ----------
        direction : {'I', 'E'}
            Import or export.
        """
        frame = self.sql(f"SELECT settlement_date, settlement_period, sum(value_wh) / 1000.0 AS kwh "
                         f"FROM ({self._totals()}) WHERE direction = ? GROUP BY 1, 2", [direction])
        return frame.pivot(index="settlement_date", columns="settlement_period", values="kwh").sort_index()

    # ------------------------------------------------------------------ reference classes

    def class_comparison(self, reference_dir: str | os.PathLike[str]) -> pd.DataFrame:
        """Mean import per meter of each archetype against Elexon's class average [kW].

        For every archetype with a profile class, the mean over its MPANs and days of each local
        settlement period's import (AI, as kW: Wh per half hour / 500) beside the average of
        Elexon's profile class for the same seasons and day types (weighted by the days of each).
        Periods 1-48 only (clock change days have 46 or 50).

        Parameters
        ----------
        reference_dir : path
            Folder with ``elexon_profile_class_1.csv`` ... ``_8.csv``.

        Returns
        -------
        pandas.DataFrame
            Columns ``archetype``, ``profile_class``, ``settlement_period``, ``generated_kw``,
            ``elexon_kw``.
        """

        if "meters" not in self.tables:
            raise ExploreError(f"{self.path}: no meters table to tell the archetypes")
        generated = self.sql(
            "SELECT m.archetype, c.settlement_date, c.settlement_period, avg(c.value_wh) / 500.0 AS kw "
            f"FROM consumption c JOIN meters m USING (mpan) WHERE c.mqid = 'AI' AND c.settlement_period <= {CLOCK_SLOTS_PER_DAY} "
            "GROUP BY 1, 2, 3")
        if generated.empty:
            return pd.DataFrame(columns=["archetype", "profile_class", "settlement_period", "generated_kw", "elexon_kw"])
        dates = np.array(sorted(generated["settlement_date"].unique()), dtype="datetime64[D]")
        column_of = {d: PROFILE_COLUMNS[s * 3 + t]
                     for d, s, t in zip(dates, seasons(dates), profile_day_types(dates), strict=True)}
        generated["column"] = generated["settlement_date"].map(lambda d: column_of[np.datetime64(d, "D")])
        parts = []
        for archetype, rows in generated.groupby("archetype"):
            if str(archetype) not in ARCHETYPES:
                continue  # a user's own meters (``supplied``, converted from a CSV) have no class
            profile_class = archetype_spec(str(archetype)).profile_class
            if profile_class is None:
                continue
            ref = reference_profile(profile_class, reference_dir).to_numpy()  # 48 periods x 15 columns
            ref_kw = rows["column"].map(lambda c: PROFILE_COLUMNS.index(c)).to_numpy()
            rows = rows.assign(elexon_kw=ref[rows["settlement_period"].to_numpy() - 1, ref_kw])
            mean = rows.groupby("settlement_period")[["kw", "elexon_kw"]].mean().reset_index()
            parts.append(mean.assign(archetype=archetype, profile_class=profile_class))
        columns = ["archetype", "profile_class", "settlement_period", "kw", "elexon_kw"]
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
        out = out.rename(columns={"kw": "generated_kw"})
        return out[["archetype", "profile_class", "settlement_period", "generated_kw", "elexon_kw"]]


def class_comparison_note(reference_dir: str | os.PathLike[str]) -> str | None:
    """Why Elexon's class averages cannot be compared, or None when ``reference_dir`` has them."""
    folder = Path(reference_dir)

    missing = [name for name in CLASS_FILES if not (folder / name).is_file()]
    if not missing:
        return None
    return (f"Note: Elexon's profile class averages were not found in {folder.absolute()} "
            f"({len(missing)} of 8 files missing), so the comparison is left out; set "
            "`reference_dir` to the folder holding elexon_profile_class_1.csv ... _8.csv.")


def _as_date(day: str | dt.date) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    try:
        return dt.date.fromisoformat(str(day))
    except ValueError:
        raise ExploreError(f"day {day!r} is not a date (YYYY-MM-DD)") from None


def _carries(payload: dict[str, Any], mpan: str, day: dt.date) -> bool:
    """Whether a message payload holds the MPAN's data of the UTC day."""
    if payload["CommonBlock"]["M0"]["MPANCore"] != mpan:
        return False
    custom = payload.get("CustomBlock", {})
    if "B900" in custom:
        return any(dt.datetime.fromisoformat(d["settlementDay"]["settlementDayDate"]).astimezone(dt.UTC).date() == day
                   for d in custom["B900"]["settlementDayConsumptionPeriods"])
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    end = start + dt.timedelta(days=1)
    return any(start <= dt.datetime.fromisoformat(r["cumulativeRegisterReadingDateTime"]) <= end
               for r in custom.get("B064List", []))

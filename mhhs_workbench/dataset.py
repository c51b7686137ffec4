"""The product's main job: from a Scenario to a published, checksummed data set.

Layout of a data set folder::

    scenario.yaml                  the scenario, as loaded (re-runnable)
    messages/IF-021/IF-021_000001.json ...   DIP request bodies, period consumption
    messages/IF-041/IF-041_000001.json ...   DIP request bodies, register readings
    tables/meters.{parquet,csv}              the meter register (one row per MPAN)
    tables/consumption.{parquet,csv}         one row per MPAN x MQID x UTC half hour
    tables/readings.{parquet,csv}            one row per register read
    tables/settlement.{parquet,csv}          run x Supplier x GSP group x DUoS tariff x local period
    messages/REP-002/REP-002_000001.json ... expected REP-002 (per Supplier) as DIP request bodies
    messages/REP-002B/REP-002B_000001.json   expected REP-002B (per distributor and GSP group)
    reports/REP-002/*.json, reports/REP-002B/*.json   the same reports uncompressed
    negative/expected.csv, negative/cases/...   labelled invalid messages (scenario option negative)
    manifest.json                  scenario, seed, version, counts and sha256 of every file (last)

Meters are processed in chunks (:mod:`~mhhs_workbench.pipeline.run`); every random draw derives from
(seed, meter index), and files are cut by global message and row counts, never by chunk, so the
bytes depend neither on the chunk size nor on how many processes or machines wrote the chunks.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from mhhs_workbench import __version__
from mhhs_workbench.model.chunk import DatasetFrame
from mhhs_workbench.model.profiles import load_temperature_csv
from mhhs_workbench.model.supplied import REPORT_COLUMNS, SuppliedConsumption
from mhhs_workbench.pipeline.cluster import run_dask
from mhhs_workbench.pipeline.run import RunPlan, assemble, run_local
from mhhs_workbench.publish.budget import check_budget
from mhhs_workbench.publish.publication import Publication
from mhhs_workbench.publish.replacing import DATASET_KIND
from mhhs_workbench.scenario.demo import demo_scenario
from mhhs_workbench.scenario.document import Scenario
from mhhs_workbench.sending.addressing import Addressing, sender_timestamp

__all__ = ["DatasetSummary", "convert_csv", "generate_dataset", "sender_timestamp"]


@dataclass(frozen=True)
class DatasetSummary:
    """What a generation run published."""

    path: Path
    manifest: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def counts(self) -> dict[str, int]:
        """Counts of meters, messages, files and rows."""
        return self.manifest["counts"]

    def describe(self) -> str:
        """A few lines for the terminal."""
        c = self.counts
        return (
            f"data set {self.path}\n"
            f"  {c['meters']} meters x {c['days']} UTC days\n"
            f"  IF-021: {c['if021_messages']} messages in {c['if021_files']} files\n"
            f"  IF-041: {c['if041_messages']} messages in {c['if041_files']} files\n"
            f"  tables: {c['consumption_rows']} consumption rows, {c['reading_rows']} reads, "
            f"{c['settlement_rows']} settlement rows\n"
            f"  settlement: {c['rep002_messages']} REP-002 and {c['rep002b_messages']} REP-002B reports\n"
            f"  {len(self.manifest['files'])} files checksummed in manifest.json"
        )


def generate_dataset(
    scenario: Scenario,
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    chunk_size: int = 500,
    progress: bool = True,
    on_chunk: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    scheduler_timeout: float | None = None,
    overwrite_extra_files: bool = False,
    allow_large: bool = False,
    overwrite_modified: bool = False,
) -> DatasetSummary:
    """Generate a scenario's data set and publish it atomically at ``out``.

    Parameters
    ----------
    scenario : Scenario
        What to generate.
    out : path
        Folder the data set is published as; must not exist unless ``overwrite``.
    overwrite : bool
        Replace an existing data set at ``out`` (only once the new one is complete), unless it
        holds files its manifest does not list.
    chunk_size : int
        Meters generated at once; affects memory and speed, never the output bytes.
    progress : bool
        Show a progress bar.
    on_chunk : callable, optional
        Called with ``(meters_done, meters_total)`` after each chunk (for widgets).
    workers : int, optional
        Write chunks on a local Dask cluster of this many single-threaded workers.
    scheduler : str, optional
        Address of an existing Dask scheduler to write chunks on (workers must share the file
        system of ``out``).
    scheduler_timeout : float, optional
        Seconds to wait for ``scheduler`` to answer and a worker to join it (default 30); then
        :class:`~mhhs_workbench.pipeline.cluster.ScaleUnavailable` is raised and nothing published.
    overwrite_extra_files : bool
        Also replace a data set holding files its manifest does not list (deleting them).
    overwrite_modified : bool
        Also replace a data set whose listed files were edited (the edits are lost); without it
        such a data set, and negative test data, are never replaced.
    allow_large : bool
        Generate even when the size estimate is over the output limit, the free space or memory.

    Raises
    ------
    ScenarioError
        The scenario breaks a rule (nothing is written).
    BudgetError
        The estimated output or memory is too large and ``allow_large`` is false.
    PublicationError
        ``out`` exists and ``overwrite`` is false, or publishing there is refused.
    TemperatureDataError
        The scenario's temperature CSV is missing or malformed (nothing is written).

    Returns
    -------
    DatasetSummary
        Where the data set is and its manifest.
    """
    # everything that can fail on the user's input fails here, before anything is written
    scenario.check()
    temperature = load_temperature_csv(scenario.temperature_csv) if scenario.temperature_csv else None
    return _build(DatasetFrame(scenario, temperature), out, overwrite=overwrite, chunk_size=chunk_size,
                  progress=progress, on_chunk=on_chunk, workers=workers, scheduler=scheduler,
                  scheduler_timeout=scheduler_timeout,
                  overwrite_extra_files=overwrite_extra_files, allow_large=allow_large,
                  overwrite_modified=overwrite_modified)


def convert_csv(
    supplied: SuppliedConsumption,
    out: str | os.PathLike[str],
    *,
    scenario: Scenario | None = None,
    overwrite: bool = False,
    chunk_size: int = 500,
    progress: bool = True,
    on_chunk: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    scheduler_timeout: float | None = None,
    overwrite_extra_files: bool = False,
    allow_large: bool = False,
    overwrite_modified: bool = False,
) -> DatasetSummary:
    """Publish a data set from consumption the user supplied (see :mod:`~mhhs_workbench.csv_input.reader`).

    The same layout, manifest and ``verify`` as :func:`generate_dataset`: messages, reads
    integrated exactly from the supplied half hours, tables and settlement data, plus
    ``inputs/conversion_report.csv`` listing every change made to the user's data.

    Parameters
    ----------
    supplied : SuppliedConsumption
        The checked consumption.
    out : path
        Folder the data set is published as.
    scenario : Scenario, optional
        Participants, environment tag, messages per file, reading settings and seed; the built-in
        demo scenario's when omitted. Its dates and meter count are replaced by the supplied ones.

    Other parameters are as for :func:`generate_dataset`.
    """
    scenario = supplied_scenario(scenario or demo_scenario(), supplied)
    return _build(DatasetFrame(scenario, None, supplied), out, overwrite=overwrite, chunk_size=chunk_size,
                  progress=progress, on_chunk=on_chunk, workers=workers, scheduler=scheduler,
                  scheduler_timeout=scheduler_timeout,
                  overwrite_extra_files=overwrite_extra_files, allow_large=allow_large,
                  overwrite_modified=overwrite_modified)


def supplied_scenario(base: Scenario, supplied: SuppliedConsumption) -> Scenario:
    """``base`` with the supplied data's UTC days and meter count, no events and no weather file."""
    data = base.to_dict()
    data.update(
        start_date=str(supplied.days[0]),
        end_date=str(supplied.days[-1]),
        meters={**data["meters"], "count": supplied.n_meters},
        events=[],
        temperature_csv="",
    )
    return Scenario.from_dict(data)


def _build(frame: DatasetFrame, out: str | os.PathLike[str], *, overwrite: bool, chunk_size: int, progress: bool,
           on_chunk: Callable[[int, int], None] | None, workers: int | None, scheduler: str | None,
           scheduler_timeout: float | None, overwrite_extra_files: bool, allow_large: bool, overwrite_modified: bool) -> DatasetSummary:
    """Plan, write the chunks (here or on Dask), assemble and publish a data set."""
    if chunk_size < 1:
        raise ValueError(f"chunk size must be at least 1, got {chunk_size}")
    scenario = frame.scenario
    Addressing.from_scenario(scenario)
    # the guard first: it counts messages by the plan's rule on a sample, so it answers at once
    check_budget(scenario, out, allow_large, chunk_size=chunk_size)
    plan = RunPlan.build(frame, chunk_size)
    with Publication(out, overwrite=overwrite, overwrite_extra_files=overwrite_extra_files,
                     overwrite_modified=overwrite_modified, kind=DATASET_KIND) as pub:
        root = pub.staging
        _write_inputs(frame, root)
        if {"if021", "if041"} & set(scenario.outputs):
            (root / "messages").mkdir()
        if workers or scheduler:

            results = run_dask(plan, root, workers=workers, scheduler=scheduler, timeout=scheduler_timeout)
        else:
            results = run_local(plan, root)
        # closed inside the publication: a cluster is stopped before a failed run is cleaned up
        with contextlib.closing(results):
            counts, seconds, checksums = assemble(plan, root, results, progress=progress, on_chunk=on_chunk)
        if scenario.negative is not None and (root / "messages").is_dir():

            # derived from the finished valid messages, so it is as deterministic as they are
            # imported here: the negative catalogue loads jsonschema (seconds with its format
            # checkers), which a data set without negative cases never needs
            from mhhs_workbench.negative.cases import NEGATIVE_FOLDER, build_cases, write_cases

            negative = scenario.negative
            write_cases(build_cases(root, negative.rules, negative.per_rule), root / NEGATIVE_FOLDER)
        header = {
            "package_version": __version__,
            "scenario": scenario.to_dict(),
            "seed": scenario.seed,
            "counts": counts,
        }
        if frame.supplied is not None:
            header["source"] = {"kind": "supplied consumption", "files": list(frame.supplied.sources)}
        t = time.perf_counter()
        manifest = pub.publish(header, checksums)
        seconds["publication"] += time.perf_counter() - t
    return DatasetSummary(Path(out), manifest, seconds)


def _write_inputs(frame: DatasetFrame, root: Path) -> None:
    """The scenario, and the user's own inputs that drive the data, kept with the data set."""
    scenario = frame.scenario
    (root / "scenario.yaml").write_text(scenario.to_yaml(), encoding="utf-8")
    if scenario.temperature_csv:
        # the user's weather drives the data: keep it, checksummed, with the data set
        (root / "inputs").mkdir()
        shutil.copyfile(scenario.temperature_csv, root / "inputs" / "temperature.csv")
    if frame.supplied is not None:
        # not the user's files (they may hold real identifiers): what was changed in them
        (root / "inputs").mkdir(exist_ok=True)
        columns = {name: [note.get(name) for note in frame.supplied.notes] for name in REPORT_COLUMNS}
        report = pa.table(columns, schema=pa.schema([(name, pa.string()) for name in REPORT_COLUMNS]))
        pacsv.write_csv(report, root / "inputs" / "conversion_report.csv",
                        pacsv.WriteOptions(quoting_style="needed"))

"""Consumption CSV input: strict checks, UTC and local days, round trips, pseudonyms, the CLI.

The malformed corpus (``tests/csv_corpus/``) runs through the real command line, as a user would;
valid inputs of every layout become data sets that validate against Elexon's specification and
whose register reads reconcile with the half hours to the Wh.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mhhs_workbench.codes.identifiers import GSP_GROUP_BY_DISTRIBUTOR, is_valid_mpan
from mhhs_workbench.codes.messages import MEASUREMENT_QUANTITY_IDS, QUALITY_CODES
from mhhs_workbench.csv_input.reader import (
    BLOCK_BYTES,
    MAX_REPORTED,
    CsvInputError,
    notes_frame,
    pseudonymise_meter_ids,
    pseudonymise_mpans,
    read_csv_input,
    read_supplied,
)
from mhhs_workbench.dataset import convert_csv
from mhhs_workbench.model.supplied import NO_REGISTER_START
from mhhs_workbench.notebook.message_frames import if021_frame, if041_frame
from mhhs_workbench.publish.manifest import verify
from mhhs_workbench.validation.files import validate_files

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "csv_corpus"
EXAMPLES = ROOT / "examples"
NOTEBOOK = ROOT / "notebooks" / "convert_csv.ipynb"
CLI = [sys.executable, "-m", "mhhs_workbench.cli"]

A = "2000056535971"  # Southern (_H)
B = "1200000000020"  # London (_C)
B_EXPORT = "1200000000049"  # London (_C): the export MPAN of B's site
ADVANCED = "1400000000075"  # Midlands (_E)
UNMETERED = "2200000000041"  # South Western (_L)
IDNO = "2400000000031"  # distributor 24: not a host distributor
UTC = dt.UTC

_NAN = "letters in a number: write plain decimals such as 0.125"
_GAP = "supply them or estimate them (fill_missing, --fill-missing)"

#: Every malformed input with the exact problem lines the command line prints for it (run in
#: the corpus folder, so file names are as given). Keys of several files run them together.
EXPECTED: dict[str | tuple[str, ...], list[str]] = {
    "actual_with_reason.csv": [
        "actual_with_reason.csv:3: reason: '2': actual data (q A, A1-A3) carries no estimation reason e"],
    "binary.csv": [
        "binary.csv:1: file: 'PK\\x03\\x04\\x14\\x00\\x06\\x00\\x08\\x00\\x00\\x00!\\x00bi': binary content, "
        "not CSV text (a zip file or Excel workbook? save it as CSV UTF-8)"],
    "bom_line_numbers.csv": [f"bom_line_numbers.csv:4: kwh: 'oops': {_NAN}"],
    "both_directions.csv": [
        "both_directions.csv:2: mqid: 'AE': MPAN 2000056535971 has import (AI) values too (first on "
        "both_directions.csv:4): a metering point has one direction; give the export under the site's "
        "own export MPAN"],
    "connection_type_unknown.csv": [
        "connection_type_unknown.csv:2: connection_type: 'Z': not a connection type "
        "(W smart, L or H advanced, U unmetered)"],
    "duplicate_period.csv": [
        "duplicate_period.csv:4: timestamp: '2025-06-01T00:30:00+00:00': duplicate: the same MPAN, MQID "
        "and half hour as duplicate_period.csv:2"],
    "empty.csv": ["empty.csv:1: header: '': the file is empty: expected a header such as mpan,timestamp,kwh"],
    "estimate_without_reason.csv": [
        "estimate_without_reason.csv:3: reason: '': estimated data (q E*, EA*, EAE*, AAE*) must carry a "
        "reason code e [ECS1015]"],
    "gsp_mismatch.csv": [
        "gsp_mismatch.csv:2: gsp_group: '_A': MPAN 2000056535971 is in _H: GSPGroupID must be the GSP "
        "group of the MPAN's distributor [WB-GSP]"],
    "header_only.csv": ["header_only.csv:2: row: '': no data rows after the header"],
    "idno_without_gsp.csv": [
        "idno_without_gsp.csv:2: mpan: '2400000000031': distributor 24 is not one of the 14 host "
        "distributors (an IDNO?): give its gsp_group"],
    "kwh_and_wh.csv": ["kwh_and_wh.csv:1: header: 'mpan,timestamp,kwh,wh': give kwh or wh, not both"],
    "kwh_decimals.csv": [
        "kwh_decimals.csv:3: kwh: '0.1234': more than 3 decimals: the DIP's resolution is 1 Wh "
        "(0.001 kWh); values are never rounded"],
    "kwh_empty.csv": [
        "kwh_empty.csv:3: kwh: '': empty value: a row needs a value (leave the row out to have it estimated)"],
    "kwh_inf.csv": ["kwh_inf.csv:3: kwh: 'inf': not a finite number"],
    "kwh_letters.csv": [f"kwh_letters.csv:3: kwh: '1.2kWh': {_NAN}"],
    "kwh_nan.csv": ["kwh_nan.csv:3: kwh: 'NaN': not a number (NaN)"],
    "kwh_negative.csv": [
        "kwh_negative.csv:3: kwh: '-0.5': negative value: consumption values must not be negative [ECS1010]"],
    "kwh_thousands_comma.csv": [
        "kwh_thousands_comma.csv:3: kwh: '1,250.5': comma in a number: no thousands separators, and a "
        "point for decimals"],
    "kwh_too_big.csv": [
        "kwh_too_big.csv:3: kwh: '10000.001': more than 10000 kWh in one half hour is impossible for a "
        "metering point (max_kwh, --max-kwh)"],
    "latin1_meter_id.csv": ["latin1_meter_id.csv:2: meter_id: 'M\\xe9ter1': not UTF-8 text"],
    "local_impossible_date.csv": ["local_impossible_date.csv:3: settlement_date: '2025-02-29': impossible date"],
    "local_period_47_on_46.csv": [
        "local_period_47_on_46.csv:4: settlement_period: '47': settlement period 47 does not exist on "
        "2025-03-30: it has 46 periods (the March clock change)"],
    "local_period_49_on_48.csv": [
        "local_period_49_on_48.csv:4: settlement_period: '49': settlement period 49 does not exist on "
        "2025-06-01: it has 48 periods"],
    "local_period_letters.csv": [
        "local_period_letters.csv:3: settlement_period: '2a': a settlement period is a whole number, 1 to 50"],
    "local_period_zero.csv": [
        "local_period_zero.csv:2: settlement_period: '0': settlement period 0 does not exist: periods start at 1"],
    "many_problems.csv": [f"many_problems.csv:{i + 2}: kwh: 'bad{i}': {_NAN}" for i in range(MAX_REPORTED)]
    + ["... and 10 more problems"],
    "meter_id_conflict.csv": [
        "meter_id_conflict.csv:3: meter_id: '24S0000002': differs from '24S0000001' given earlier for MPAN "
        "2000056535971: one value per MPAN"],
    "missing_periods.csv": [
        "missing_periods.csv:11: mpan: '2000056535971': AI: 3 half hours ending 2025-06-01T05:30:00+00:00 to "
        f"2025-06-01T06:30:00+00:00 are missing after this row: {_GAP}",
        "missing_periods.csv:58: mpan: '2000056535971': AI: 1 half hour ending 2025-06-02T06:30:00+00:00 is "
        "missing after this row: supply it or estimate it (fill_missing, --fill-missing)"],
    "missing_value_column.csv": [
        "missing_value_column.csv:1: header: 'mpan,timestamp': the long layout needs the column(s) kwh (or wh)"],
    "misspelt_column.csv": ["misspelt_column.csv:1: header: 'timstamp': unknown column (did you mean 'timestamp'?)"],
    "mpan_check_digit.csv": [
        "mpan_check_digit.csv:3: mpan: '2000056535972': the check digit should be 1: the MPAN core's check "
        "digit must be right [WB-MPAN]"],
    "mpan_letters.csv": [
        "mpan_letters.csv:3: mpan: '20000565359A1': an MPAN core is 13 digits: no letters, spaces or other "
        "characters"],
    "mpan_short.csv": ["mpan_short.csv:3: mpan: '200005653597': an MPAN core is 13 digits, this has 12"],
    "mqid_unknown.csv": ["mqid_unknown.csv:3: mqid: 'AX': not a measurement quantity (AI, AE, RI, RE)"],
    "no_header.csv": [
        "no_header.csv:1: header: '2000056535971,2025-06-01T00:30:00+00:00,0.250': no header: the first line "
        "must name the columns, e.g. mpan,timestamp,kwh"],
    "nul_bytes.csv": ["nul_bytes.csv:1: file: 'mpan,timestamp,k': binary content, not CSV text (NUL bytes)"],
    "quality_unknown.csv": [
        "quality_unknown.csv:3: quality: 'X1': not a quality code q (DI-083: A, E, E0-E9, ZE, ZE1-ZE3, "
        "A1-A3, AAE1-3, EAE1-3, EA1-13)"],
    "quoted_line_break.csv": [  # the quoted value spans lines 2-3: the next row is line 4
        "quoted_line_break.csv:2: meter_id: '24S\\n0001': a line break inside a value",
        "quoted_line_break.csv:4: kwh: '-0.250': negative value: consumption values must not be negative "
        "[ECS1010]"],
    "quoted_line_break_in_value.csv": [
        "quoted_line_break_in_value.csv:2: kwh: '0.2\\n50': a line break inside a value",
        "quoted_line_break_in_value.csv:4: kwh: '-1': negative value: consumption values must not be negative "
        "[ECS1010]"],
    "ragged.csv": [
        "ragged.csv:3: row: '2000056535971,2025-06-01T01:00:00+00:00,0.250,extra': 4 cells, the header has 3",
        "ragged.csv:4: row: '2000056535971,2025-06-01T01:30:00+00:00': 2 cells, the header has 3"],
    "reason_unknown.csv": [
        "reason_unknown.csv:2: reason: '11': not an estimation reason e (DI-076: 1 to 10, or empty)"],
    "semicolons.csv": ["semicolons.csv:1: header: 'mpan;timestamp;kwh': columns must be separated by commas"],
    "several_problems.csv": [
        "several_problems.csv:3: mpan: '2000056535972': the check digit should be 1: the MPAN core's check "
        "digit must be right [WB-MPAN]",
        "several_problems.csv:3: kwh: '-1': negative value: consumption values must not be negative [ECS1010]",
        "several_problems.csv:4: timestamp: '2025-06-01T01:15:00+00:00': not the end of a half hour: sp must "
        "be a date-time on :00 or :30 (UTC) [ECS1005]",
        f"several_problems.csv:5: kwh: 'abc': {_NAN}"],
    "timestamp_garbage.csv": [
        "timestamp_garbage.csv:3: timestamp: 'yesterday at noon': not an ISO 8601 period end such as "
        "2025-10-26T01:30:00+00:00"],
    "timestamp_impossible.csv": [
        "timestamp_impossible.csv:3: timestamp: '2025-02-30T01:00:00+00:00': impossible date or time"],
    "timestamp_no_offset.csv": [
        "timestamp_no_offset.csv:3: timestamp: '2025-06-01T01:00:00': no UTC offset: write the time with its "
        "offset, e.g. 2025-10-26T01:30:00+00:00 or ...Z"],
    "timestamp_off_grid.csv": [
        "timestamp_off_grid.csv:3: timestamp: '2025-06-01T00:45:00+00:00': not the end of a half hour: sp "
        "must be a date-time on :00 or :30 (UTC) [ECS1005]"],
    "unknown_column.csv": ["unknown_column.csv:1: header: 'temperature': unknown column"],
    "utf16.csv": [
        "utf16.csv:1: file: '\\xff\\xfem\\x00p\\x00a\\x00n\\x00,\\x00t\\x00i\\x00': UTF-16 text: save the "
        "file as CSV UTF-8"],
    "wh_fraction.csv": ["wh_fraction.csv:3: wh: '12.5': Wh values are whole numbers: the DIP's resolution is 1 Wh"],
    "wide_missing_columns.csv": [
        "wide_missing_columns.csv:1: header: 'mpan,settlement_date,p1,p2,p3,p4,p5,p6,p7,p8,p9,p10,p11,p12,p13,"
        "p14,p15,p16...': the wide layout needs the columns p1, p2, ... in a run from p1 to p46, p48 or p50"],
    "wide_value_beyond_day.csv": [
        "wide_value_beyond_day.csv:2: p47: '0.100': settlement period 47 does not exist on 2025-03-30: it "
        "has 46 periods (the March clock change)"],
    "ze_not_zero.csv": [
        "ze_not_zero.csv:3: kwh: '0.500': the value must be 0.000 when q is a ZE code [ECS1011]"],
    ("mixed_layout_long.csv", "mixed_layout_local.csv", "no_such_file.csv"): [
        "mixed_layout_local.csv:1: header: 'mpan,settlement_date,settlement_period,kwh': local layout, but "
        "mixed_layout_long.csv has the long layout: give files of one layout",
        "no_such_file.csv: file not found"],
}


def _files(case: str | tuple[str, ...]) -> tuple[str, ...]:
    return case if isinstance(case, tuple) else (case,)


def cli(*args: object, cwd: Path | None = None, timeout: float = 300,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``mhhs-workbench ARGS`` in a fresh interpreter."""
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env=env)


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory) -> dict[str | tuple[str, ...], tuple[subprocess.CompletedProcess[str], Path]]:
    """Every corpus case through ``from-csv``, two at a time, each with its own empty folder."""
    def run(case: str | tuple[str, ...]) -> tuple[subprocess.CompletedProcess[str], Path]:
        folder = tmp_path_factory.mktemp("corpus")
        return cli("from-csv", *_files(case), "--out", folder / "out", "--no-progress", cwd=CORPUS), folder

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(EXPECTED, pool.map(run, EXPECTED), strict=True))


def test_the_corpus_is_complete() -> None:
    files = {p.name for p in CORPUS.iterdir()}
    used = {f for case in EXPECTED for f in _files(case)} - {"no_such_file.csv"}
    assert files == used, "every corpus file needs its expected lines, and every case its file"
    assert len(files) >= 30


@pytest.mark.slow
@pytest.mark.parametrize("case", list(EXPECTED), ids=lambda c: "+".join(_files(c)))
def test_malformed_input_is_refused_with_exact_lines(case, corpus_runs) -> None:
    done, folder = corpus_runs[case]
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert lines[:-1] == EXPECTED[case]
    total = len(EXPECTED[case]) + (9 if case == "many_problems.csv" else 0)
    assert lines[-1] == f"error: {total} problem{'s' * (total > 1)} in the input; nothing was converted"
    assert list(folder.iterdir()) == [], "nothing written: no data set, no hidden .out.partial-* folder"


def test_problems_carry_the_same_lines_through_the_api() -> None:
    with pytest.raises(CsvInputError) as caught:
        read_supplied(CORPUS / "several_problems.csv")
    assert caught.value.total == 4
    assert [p.split(": ", 1)[1] for p in caught.value.problems] == [
        line.split(": ", 1)[1] for line in EXPECTED["several_problems.csv"]]
    assert isinstance(caught.value, ValueError)


# --------------------------------------------------------------------------- helpers


def kwh(wh: int) -> str:
    """Whole Wh as kWh text with 3 decimals."""
    return f"{wh // 1000}.{wh % 1000:03d}"


def plausible_wh(meter: int, k: int) -> int:
    """A deterministic, plausible half hour [Wh]: 80-480 Wh, different for every meter."""
    return 80 + (k * 37 + meter * 101) % 400


def utc_ends(first: str, days: int) -> list[dt.datetime]:
    """Period ends [UTC] of consecutive UTC days from ``first``."""
    start = dt.datetime.fromisoformat(first).replace(tzinfo=UTC)
    return [start + dt.timedelta(minutes=30 * k) for k in range(1, days * 48 + 1)]


def grid(supplied, mpan: str, mqid: str = "AI") -> pd.DataFrame:
    """One series of a SuppliedConsumption as a table indexed by UTC period end."""
    meter = int(np.flatnonzero(supplied.meters["mpan"].to_numpy() == mpan)[0])
    row = int(np.flatnonzero((supplied.row_meter == meter)
                             & (supplied.row_mqid == MEASUREMENT_QUANTITY_IDS.index(mqid)))[0])
    start = dt.datetime.combine(supplied.days[0].astype(dt.date), dt.time(), tzinfo=UTC)
    index = [start + dt.timedelta(minutes=30 * (k + 1)) for k in range(supplied.values.shape[1])]
    return pd.DataFrame({"wh": supplied.values[row], "q": np.array(QUALITY_CODES)[supplied.quality[row]],
                         "e": supplied.reasons[row]}, index=index)


def local_day_csv(path: Path, days: list[str], mpans: list[str], value=lambda m, d, p: p) -> Path:
    """A local-layout CSV of whole local days; ``value(meter, day, period)`` [Wh]."""
    from mhhs_workbench.time.periods import local_period_counts

    counts = local_period_counts(np.array(days, dtype="datetime64[D]"))
    lines = ["mpan,settlement_date,settlement_period,kwh"]
    for m, mpan in enumerate(mpans):
        for d, (day, n) in enumerate(zip(days, counts.tolist(), strict=True)):
            lines += [f"{mpan},{day},{p},{kwh(value(m, d, p))}" for p in range(1, n + 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


def wide_from_local(local: Path, path: Path) -> Path:
    """The same days as a wide CSV (blank cells beyond each day's periods)."""
    frame = pd.read_csv(local, dtype=str)
    table = frame.pivot(index=["mpan", "settlement_date"], columns="settlement_period", values="kwh")
    table = table.reindex(columns=[str(k) for k in range(1, 51)]).fillna("")
    table.columns = [f"p{k}" for k in range(1, 51)]
    table.reset_index().to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- UTC and local days


def _local_midnight_utc(day: str) -> dt.datetime:
    """Local midnight of ``day`` in UTC, worked out by hand: BST (UTC+1) between the changes."""
    d = dt.date.fromisoformat(day)
    last_sunday = {m: max(dt.date(d.year, m, x) for x in range(25, 32) if dt.date(d.year, m, x).weekday() == 6)
                   for m in (3, 10)}
    bst = last_sunday[3] < d <= last_sunday[10]
    return dt.datetime(d.year, d.month, d.day, tzinfo=UTC) - dt.timedelta(hours=bst)


@pytest.mark.parametrize(("day", "periods", "completed"), [
    ("2025-03-30", 46, 2),    # 00:00Z .. 23:00Z: the UTC day lacks its last two half hours
    ("2025-10-26", 50, 46),   # 23:00Z on the 25th .. 00:00Z on the 27th: the 25th has 2 of 48
    ("2025-06-15", 48, 48),   # an ordinary summer day: 2 half hours on the 14th, 46 on the 15th
])
def test_a_local_day_lands_on_the_right_utc_half_hours(tmp_path, day, periods, completed) -> None:
    path = local_day_csv(tmp_path / "day.csv", [day], [A], value=lambda m, d, p: 1000 + p)
    supplied = read_supplied(path)
    series = grid(supplied, A)
    midnight = _local_midnight_utc(day)
    for p in range(1, periods + 1):  # value by value: period p ends p half hours after local midnight
        end = midnight + dt.timedelta(minutes=30 * p)
        assert series.loc[end, "wh"] == 1000 + p and series.loc[end, "q"] == "A" and series.loc[end, "e"] == 0
    estimated = series[series["q"] != "A"]
    assert len(estimated) == completed and len(series) == len(supplied.days) * 48
    assert set(estimated["q"]) == {"E5"} and set(estimated["e"]) == {2}
    notes = notes_frame(supplied)
    assert len(notes) == completed and set(notes["action"]) == {"completed UTC day"}
    assert sorted(notes["utc_period_end"]) == sorted(t.isoformat() for t in estimated.index)


def test_wide_and_local_layouts_give_the_same_values(tmp_path) -> None:
    days = ["2025-10-25", "2025-10-26", "2025-10-27", "2025-03-29"]
    local = local_day_csv(tmp_path / "local.csv", days[:3], [A, B], value=lambda m, d, p: plausible_wh(m, 50 * d + p))
    wide = read_supplied(wide_from_local(local, tmp_path / "wide.csv"))
    same = read_supplied(local)
    for name in ("days", "values", "quality", "reasons", "row_meter", "row_mqid"):
        assert np.array_equal(getattr(wide, name), getattr(same, name)), name
    assert wide.values.shape == (2, 4 * 48)


def test_offsets_and_z_mean_the_same_instant(tmp_path) -> None:
    ends = utc_ends("2025-06-01", 1)
    forms = [
        [f"{A},{e.isoformat()},{kwh(plausible_wh(0, k))}" for k, e in enumerate(ends)],
        [f"{A},{e.strftime('%Y-%m-%dT%H:%M:%SZ')},{kwh(plausible_wh(0, k))}" for k, e in enumerate(ends)],
        [f"{A},{e.astimezone(dt.timezone(dt.timedelta(hours=1))).isoformat()},{kwh(plausible_wh(0, k))}"
         for k, e in enumerate(ends)],
    ]
    results = []
    for i, rows in enumerate(forms):
        path = tmp_path / f"f{i}.csv"
        path.write_text("mpan,timestamp,kwh\n" + "\n".join(rows) + "\n")
        results.append(read_supplied(path))
    for other in results[1:]:
        assert np.array_equal(results[0].values, other.values) and np.array_equal(results[0].days, other.days)
    assert results[0].days.tolist() == [dt.date(2025, 6, 1)] and not results[0].notes


def test_leap_day_in_long_and_local_layouts(tmp_path) -> None:
    ends = utc_ends("2024-02-28", 3)
    path = tmp_path / "leap.csv"
    path.write_text("mpan,timestamp,kwh\n" + "".join(f"{A},{e.isoformat()},{kwh(plausible_wh(0, k))}\n"
                                                     for k, e in enumerate(ends)))
    supplied = read_supplied(path)
    assert [str(d) for d in supplied.days] == ["2024-02-28", "2024-02-29", "2024-03-01"]
    assert supplied.values[0].tolist() == [plausible_wh(0, k) for k in range(len(ends))]
    local = read_supplied(local_day_csv(tmp_path / "local.csv", ["2024-02-29"], [A]))
    assert [str(d) for d in local.days] == ["2024-02-29"]  # GMT: the local day is the UTC day
    assert local.values[0].tolist() == list(range(1, 49)) and not local.notes


# --------------------------------------------------------------------------- exactness and limits


def test_kwh_text_becomes_exact_wh(tmp_path) -> None:
    texts = ["0.001", "0.1", "0.2", "9999.999", "1.2000", "0.300", "12", "0", "0.30000"]
    ends = utc_ends("2025-06-01", 1)
    rows = [f"{A},{e.isoformat()},{texts[k % len(texts)]}" for k, e in enumerate(ends)]
    path = tmp_path / "exact.csv"
    path.write_text("mpan,timestamp,kwh\n" + "\n".join(rows) + "\n")
    got = read_supplied(path).values[0]
    expected = [1, 100, 200, 9_999_999, 1200, 300, 12_000, 0, 300]
    assert got.tolist() == [expected[k % len(texts)] for k in range(48)]
    wh = path.with_name("wh.csv")
    wh.write_text("mpan,timestamp,wh\n" + "\n".join(f"{A},{e.isoformat()},{k * 1000 + 7}" for k, e in enumerate(ends)))
    assert read_supplied(wh).values[0].tolist() == [k * 1000 + 7 for k in range(48)]


def test_max_kwh_is_a_setting(tmp_path) -> None:
    ends = utc_ends("2025-06-01", 1)
    path = tmp_path / "big.csv"
    path.write_text("mpan,timestamp,kwh\n" + "\n".join(f"{A},{e.isoformat()},12.5" for e in ends) + "\n")
    with pytest.raises(CsvInputError) as caught:
        read_supplied(path, max_kwh=10)
    assert caught.value.total == 48
    assert caught.value.problems[0].endswith(
        "more than 10 kWh in one half hour is impossible for a metering point (max_kwh, --max-kwh)")
    assert len(caught.value.problems) == 48
    assert read_supplied(path, max_kwh=12.5).values.max() == 12_500


def test_lines_stay_exact_across_blocks_blank_lines_and_crlf(tmp_path) -> None:
    """Problems deep in a file bigger than several pyarrow blocks are on the right lines."""
    ends = utc_ends("2021-01-01", 1600)  # 76,800 rows x 2 meters: several blocks
    rows = [f"{m},{e.isoformat()},{kwh(plausible_wh(i, k))}" for i, m in enumerate((A, B)) for k, e in enumerate(ends)]
    rows[9_999] = rows[9_999].rsplit(",", 1)[0] + ",x1"  # line 10,001
    rows.insert(20_000, "")  # a blank line: ignored, but it counts as a line
    rows.insert(30_000, rows[29_999] + ",extra")  # ragged: line 30,002
    rows[50_000] = rows[50_000].rsplit(",", 1)[0] + ",-2"  # line 50,002
    text = "\ufeffmpan,timestamp,kwh\r\n" + "\r\n".join(rows) + "\r\n"
    path = tmp_path / "big.csv"
    path.write_bytes(text.encode())
    assert path.stat().st_size > 3 * BLOCK_BYTES
    with pytest.raises(CsvInputError) as caught:
        read_supplied(path)
    lines = [p.split(": ", 2)[:2] for p in caught.value.problems]
    assert lines == [[f"{path}:10001", "kwh"],
                     [f"{path}:30002", "row"], [f"{path}:50002", "kwh"]]


# --------------------------------------------------------------------------- gaps, completion, drops


def _long_csv(path: Path, ends: list[dt.datetime], mpan: str = A, skip: tuple[int, ...] = (),
              meter: int = 0) -> list[str]:
    return [f"{mpan},{e.isoformat()},{kwh(plausible_wh(meter, k))}" for k, e in enumerate(ends) if k not in skip]


def test_fill_missing_estimates_gaps_plausibly(tmp_path) -> None:
    ends = utc_ends("2025-01-06", 3)
    path = tmp_path / "gaps.csv"
    path.write_text("mpan,timestamp,kwh\n" + "\n".join(_long_csv(path, ends, skip=(60, 100, 101, 102))) + "\n")
    with pytest.raises(CsvInputError):
        read_supplied(path)
    supplied = read_supplied(path, fill_missing=True)
    series = grid(supplied, A)
    values = [plausible_wh(0, k) for k in range(len(ends))]
    single = series.iloc[60]
    assert single["q"] == "E0" and single["e"] == 2
    assert single["wh"] == (values[59] + values[61] + 1) // 2  # the mean of its neighbours
    for k in (100, 101, 102):  # in winter the UTC and local half hour of day agree: same k % 48
        same_time = [values[j] for j in range(len(values)) if j % 48 == k % 48 and j not in (100, 101, 102)]
        assert series.iloc[k]["q"] == "E5" and series.iloc[k]["e"] == 2
        assert series.iloc[k]["wh"] == (2 * sum(same_time) + len(same_time)) // (2 * len(same_time))
    untouched = [k for k in range(len(ends)) if k not in (60, 100, 101, 102)]
    assert series["wh"].to_numpy()[untouched].tolist() == [values[k] for k in untouched]
    notes = notes_frame(supplied)
    assert list(notes["action"]) == ["filled missing half hour"] * 4
    assert list(notes["utc_period_end"]) == [ends[k].isoformat() for k in (60, 100, 101, 102)]


def test_a_whole_day_leading_gap_on_every_channel_is_the_install_date(tmp_path) -> None:
    ends = utc_ends("2025-01-06", 4)
    lines = ["mpan,mqid,timestamp,kwh"]
    for m, mpan in enumerate([A, B]):
        late = 2 * 48 if mpan == B else 0  # B's AI and RI both start at 00:00 UTC on 8 January
        lines += [f"{mpan},{q},{e.isoformat()},{kwh(plausible_wh(m, k))}"
                  for q in ("AI", "RI") for k, e in enumerate(ends) if k >= late]
    path = tmp_path / "installed.csv"
    path.write_text("\n".join(lines) + "\n")
    supplied = read_supplied(path)
    installs = dict(zip(supplied.meters["mpan"], supplied.install_days.tolist(), strict=True))
    assert installs == {A: -1, B: 2}
    notes = notes_frame(supplied)
    assert list(notes["action"]) == ["meter installed"] and list(notes["mpan"]) == [B]
    assert "2025-01-08" in notes["detail"].iloc[0]
    out = tmp_path / "data"
    done = cli("from-csv", path, "--out", out, "--no-progress")
    assert done.returncode == 0, done.stderr
    values = if021_frame([out / "messages"])
    assert values.loc[values["mpan"] == B, "sp"].min() == pd.Timestamp("2025-01-08T00:30", tz="UTC")
    reads = if041_frame([out / "messages"])
    first = reads[reads["mpan"] == B].sort_values("read_datetime").iloc[0]
    assert first["event_code"] == "[ReadingInstl]" and first["read_datetime"] == pd.Timestamp("2025-01-08", tz="UTC")
    assert validate_files([out], business_rules=True).ok


@pytest.mark.parametrize("starts", [{"AI": 96, "RI": 100}, {"AI": 96, "RI": 144}, {"AI": 100, "RI": 100}])
def test_other_leading_gaps_are_still_refused(tmp_path, starts) -> None:
    """A gap not shared by all of an MPAN's channels, or not ending at 00:00 UTC, is a gap."""
    ends = utc_ends("2025-01-06", 4)
    lines = ["mpan,mqid,timestamp,kwh"] + [f"{A},AI,{e.isoformat()},{kwh(plausible_wh(0, k))}" for k, e in enumerate(ends)]
    lines += [f"{B},{q},{e.isoformat()},{kwh(plausible_wh(1, k))}"
              for q, first in starts.items() for k, e in enumerate(ends) if k >= first]
    path = tmp_path / "gap.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CsvInputError) as caught:
        read_supplied(path)
    assert any(_GAP in line for line in caught.value.problems)


def test_drop_incomplete_days_keeps_whole_utc_days_only(tmp_path) -> None:
    path = local_day_csv(tmp_path / "summer.csv", ["2025-06-01", "2025-06-02", "2025-06-03"], [A, B],
                         value=lambda m, d, p: plausible_wh(m, 48 * d + p))
    completed = read_supplied(path)
    assert [str(d) for d in completed.days] == ["2025-05-31", "2025-06-01", "2025-06-02", "2025-06-03"]
    dropped = read_supplied(path, drop_incomplete_days=True)
    assert [str(d) for d in dropped.days] == ["2025-06-01", "2025-06-02"]
    assert (dropped.quality == 0).all() and np.array_equal(dropped.values, completed.values[:, 48:144])
    notes = notes_frame(dropped)
    assert list(notes["action"]) == ["dropped day"] * 4
    assert notes["detail"].str.contains("UTC day 2025-05-31 is incomplete: its 2 supplied").sum() == 2
    assert notes["detail"].str.contains("UTC day 2025-06-03 is incomplete: its 46 supplied").sum() == 2


def test_meters_with_different_ranges(tmp_path) -> None:
    ends = utc_ends("2025-01-06", 3)
    path = tmp_path / "ranges.csv"
    rows = _long_csv(path, ends) + _long_csv(path, ends[48:], mpan=B, meter=1)  # B starts a day later
    path.write_text("mpan,timestamp,kwh\n" + "\n".join(rows) + "\n")
    # B's only channel starts at 00:00 UTC a day later: its meter was installed then, nothing is
    # missing (and nothing is estimated before it, with or without fill_missing)
    for supplied in (read_supplied(path), read_supplied(path, fill_missing=True)):
        assert dict(zip(supplied.meters["mpan"], supplied.install_days.tolist(), strict=True)) == {A: -1, B: 1}
        assert list(notes_frame(supplied)["action"]) == ["meter installed"]
        assert (grid(supplied, B)["q"].iloc[48:] == "A").all() and (grid(supplied, A)["q"] == "A").all()


def test_only_whole_local_days_are_completed_without_asking(tmp_path) -> None:
    """Values from local midnight (23:00 UTC in summer) complete their UTC day; values from 05:00
    leave a gap, which needs fill_missing or drop_incomplete_days."""
    ends = utc_ends("2025-06-01", 3)
    path = tmp_path / "starts.csv"
    rows = _long_csv(path, ends[46:]) + _long_csv(path, ends[10:], mpan=B, meter=1)  # 23:00Z; 05:00Z
    path.write_text("mpan,timestamp,kwh\n" + "\n".join(rows) + "\n")
    with pytest.raises(CsvInputError) as caught:
        read_supplied(path)
    assert caught.value.problems == [
        f"{path}:100: mpan: '{B}': AI: 10 half hours ending 2025-06-01T00:30:00+00:00 to "
        f"2025-06-01T05:00:00+00:00 are missing before this row: {_GAP}"]
    filled = notes_frame(read_supplied(path, fill_missing=True))
    assert filled.groupby("mpan")["action"].agg(set).to_dict() == {
        A: {"completed UTC day"}, B: {"filled missing half hour"}}
    assert filled["mpan"].value_counts().to_dict() == {A: 46, B: 10}
    dropped = read_supplied(path, drop_incomplete_days=True)
    assert [str(d) for d in dropped.days] == ["2025-06-02", "2025-06-03"] and (dropped.quality == 0).all()


# --------------------------------------------------------------------------- whole data sets


def _advanced_long_csv(path: Path) -> Path:
    """Three UTC days over the 2024 leap day: every optional column, five kinds of meter."""
    meters = [  # mpan, mqids, connection type, gsp group, meter id, register start [kWh]
        (A, ("AI",), "W", "", "24S0000001", "1000.000"),
        (B, ("AI",), "W", "", "24S0000002", ""),
        (B_EXPORT, ("AE",), "W", "", "24S0000005", ""),
        (IDNO, ("AI",), "W", "_C", "24S0000003", ""),
        (ADVANCED, ("AI", "RI", "RE"), "L", "", "24L0000004", "50000.5"),
        (UNMETERED, ("AI",), "U", "", "", ""),
    ]
    lines = ["mpan,mqid,timestamp,kwh,quality,reason,meter_id,connection_type,gsp_group,register_start_kwh"]
    for m, (mpan, mqids, connection, gsp, meter_id, register) in enumerate(meters):
        for q_i, mqid in enumerate(mqids):
            for k, end in enumerate(utc_ends("2024-02-28", 3)):
                wh, q, e = plausible_wh(m + 7 * q_i, k), "A", ""
                if connection == "U":
                    q, e = "E", "10"
                elif mpan == A and k == 20:
                    q, e = "E1", "2"
                elif mpan == B and mqid == "AI" and 60 <= k < 64:
                    wh, q, e = 0, "ZE", "7"
                lines.append(f"{mpan},{mqid},{end.isoformat()},{kwh(wh)},{q},{e},{meter_id},{connection},{gsp},"
                             f"{register}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _clock_change_local_csv(path: Path) -> Path:
    return local_day_csv(path, ["2025-03-29", "2025-03-30", "2025-03-31"], [A, B, ADVANCED],
                         value=lambda m, d, p: plausible_wh(m, 50 * d + p))


def _clock_change_wide_csv(path: Path) -> Path:
    local = local_day_csv(path.with_name("tmp-local.csv"), ["2025-10-25", "2025-10-26", "2025-10-27"], [A, B],
                          value=lambda m, d, p: plausible_wh(m, 50 * d + p))
    return wide_from_local(local, path)


def assert_reads_reconcile(folder: Path) -> int:
    """Every cumulative register advance equals the IF-021 import (export, on an export MPAN)
    between the two reads [Wh]."""
    meters = pd.read_parquet(folder / "tables" / "meters.parquet").set_index("mpan")
    periods = if021_frame([folder / "messages"])
    active = periods[periods["mqid"].isin(["AI", "AE"])]
    assert active.groupby("mpan")["mqid"].nunique().max() == 1  # one direction per MPAN
    reads = if041_frame([folder / "messages"])
    reads = reads[reads["register_id"] == "C"].drop_duplicates(["mpan", "read_datetime"])
    checked = 0
    for mpan, group in reads.groupby("mpan"):
        capacity = 10 ** (int(meters.loc[mpan, "register_digits"]) + 3)
        series = active[active["mpan"] == mpan].set_index("sp")["value_wh"].sort_index()
        group = group.sort_values("read_datetime")
        times, values = group["read_datetime"].to_list(), group["reading_wh"].to_numpy()
        for i in range(1, len(times)):
            used = int(series[(series.index > times[i - 1]) & (series.index <= times[i])].sum())
            assert (values[i] - values[i - 1]) % capacity == used, (mpan, times[i - 1], times[i])
            checked += 1
    return checked


@pytest.mark.parametrize("make", [_advanced_long_csv, _clock_change_local_csv, _clock_change_wide_csv],
                         ids=["long-leap-day", "local-46", "wide-50"])
def test_valid_csv_gives_a_valid_data_set_whose_reads_reconcile(tmp_path, make, official_spec_dir) -> None:
    source = make(tmp_path / "input.csv")
    done = cli("from-csv", source, "--out", tmp_path / "data", "--no-progress")
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "data"
    official = validate_files([folder], spec_dir=official_spec_dir, business_rules=True)
    assert official.ok, official
    assert validate_files([folder], business_rules=True).ok
    assert verify(folder) == []
    assert assert_reads_reconcile(folder) >= 6
    supplied = read_supplied(source)
    frame = if021_frame([folder / "messages"])
    # the messages carry exactly the supplied (and completed) values
    assert frame["value_wh"].sum() == supplied.values.sum()
    assert len(frame) == supplied.values.size
    report = pd.read_csv(folder / "inputs" / "conversion_report.csv", dtype=str)
    assert len(report) == len(supplied.notes)


def test_optional_columns_reach_the_data_set(tmp_path) -> None:
    source = _advanced_long_csv(tmp_path / "input.csv")
    supplied = read_supplied(source)
    meters = supplied.meters.set_index("mpan")
    assert meters.loc[IDNO, "gsp_group"] == "_C" and meters.loc[A, "gsp_group"] == "_H"
    assert meters.loc[ADVANCED, "connection_type"] == "L" and meters.loc[UNMETERED, "connection_type"] == "U"
    assert meters.loc[A, "register_start_wh"] == 1_000_000 and meters.loc[ADVANCED, "register_start_wh"] == 50_000_500
    assert meters.loc[B, "register_start_wh"] == NO_REGISTER_START
    assert list(supplied.meters["mpan"]) == sorted(supplied.meters["mpan"])
    convert_csv(supplied, tmp_path / "data", progress=False)
    frame = if021_frame([tmp_path / "data" / "messages"])
    assert set(frame[frame["mpan"] == ADVANCED]["mqid"]) == {"AI", "RI", "RE"}
    ze = frame[(frame["mpan"] == B) & (frame["quality"] == "ZE")]
    assert len(ze) == 4 and (ze["value_wh"] == 0).all() and set(ze["reason"]) == {"7"}
    reads = if041_frame([tmp_path / "data" / "messages"])
    first = reads[(reads["mpan"] == A) & (reads["register_id"] == "C")].sort_values("read_datetime").iloc[0]
    assert first["reading_wh"] == 1_000_000 and first["meter_id"] == "24S0000001"


def test_register_start_is_at_the_first_supplied_half_hour(tmp_path) -> None:
    """The user's register is at their first half hour: estimates completing the UTC day before it
    are taken off, values in a dropped first day added."""
    path = local_day_csv(tmp_path / "summer.csv", ["2025-06-01", "2025-06-02"], [A],
                         value=lambda m, d, p: 100 + p)
    registers = tmp_path / "registers.csv"
    registers.write_text(f"mpan,register_start_kwh\n{A},1234.567\n")
    supplied = read_supplied(path, register_csv=registers)
    before = grid(supplied, A)
    estimated = int(before[before["q"] != "A"]["wh"].iloc[:46].sum())
    assert supplied.meters["register_start_wh"].tolist() == [1_234_567 - estimated]
    dropped = read_supplied(path, register_csv=registers, drop_incomplete_days=True)
    assert dropped.meters["register_start_wh"].tolist() == [1_234_567 + 101 + 102]


def test_register_csv_problems(tmp_path) -> None:
    path = local_day_csv(tmp_path / "day.csv", ["2025-01-15"], [A])
    registers = tmp_path / "registers.csv"
    registers.write_text(f"mpan,register_start_kwh\n{B},1.000\n{A},-3\n{A},2.5\n{A},2.5\n")
    with pytest.raises(CsvInputError) as caught:
        read_supplied(path, register_csv=registers)
    assert caught.value.problems == [
        f"{registers}:2: mpan: '{B}': MPAN not in the consumption files",
        f"{registers}:3: register_start_kwh: '-3': negative value: consumption values must not be negative "
        "[ECS1010]",
        f"{registers}:5: mpan: '{A}': MPAN given twice (first on line 4)",
    ]


# --------------------------------------------------------------------------- round trip


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo-data"
    done = cli("demo", "--out", out, "--no-progress")
    assert done.returncode == 0, done.stderr
    return out


def _latest(values: pd.DataFrame, folder: Path) -> pd.DataFrame:
    """Each (MPAN, MQID, period)'s latest IF-021 value (later ``senderTimestamp``, then reference):
    the consumption table holds what a re-sent day ended as."""
    stamps = {}
    for path in sorted((folder / "messages").rglob("IF-021_*.json")):
        for item in json.loads(path.read_bytes()):
            s1 = item["payload"]["CommonBlock"]["S1"]
            stamps[s1["senderUniqueReference"]] = s1["senderTimestamp"]
    values = values.assign(sent_at=pd.to_datetime(values["reference"].map(stamps), utc=True))
    values = values.sort_values(["sent_at", "reference"], kind="stable")
    return values.drop_duplicates(["mpan", "mqid", "sp"], keep="last").drop(columns="sent_at")


@pytest.mark.slow
@pytest.mark.parametrize("table", ["consumption.csv", "consumption.parquet"])
def test_a_data_sets_consumption_table_round_trips(demo_dir, tmp_path, table) -> None:
    out = tmp_path / "again"
    done = cli("from-csv", demo_dir / "tables" / table, "--out", out, "--no-progress")
    assert done.returncode == 0, done.stderr
    key = ["mpan", "mqid", "sp"]
    before = _latest(if021_frame([demo_dir / "messages"]), demo_dir).set_index(key).sort_index()
    after = if021_frame([out / "messages"]).set_index(key).sort_index()
    assert before.index.equals(after.index)
    for column in ("value_wh", "quality", "reason"):
        assert before[column].fillna("").tolist() == after[column].fillna("").tolist(), column
    # nothing had to change: meters installed inside the range are read as such, and said so
    report = pd.read_csv(out / "inputs" / "conversion_report.csv", dtype={"mpan": str})
    meters = pd.read_parquet(demo_dir / "tables" / "meters.parquet")
    start = pd.to_datetime(before.index.get_level_values("sp")).min() - pd.Timedelta(minutes=30)
    installed = meters.loc[pd.to_datetime(meters["install_date"]).dt.tz_localize("UTC") > start, "mpan"]
    assert len(installed) > 0
    assert set(report["action"]) == {"meter installed"} and sorted(report["mpan"]) == sorted(installed)
    again = pd.read_parquet(out / "tables" / "meters.parquet").set_index("mpan")["install_date"]
    assert (again[installed].to_numpy() == meters.set_index("mpan").loc[installed, "install_date"].to_numpy()).all()
    installs = if041_frame([out / "messages"])
    # each installed MPAN, import or export, has its register's installation read
    assert (meters.loc[meters["mpan"].isin(installed), "energy_direction"] == "E").any()
    assert set(installs.loc[installs["event_code"] == "[ReadingInstl]", "mpan"]) == set(installed)


def test_parquet_input_is_checked_like_csv(tmp_path) -> None:
    ends = utc_ends("2025-06-01", 1)
    naive = pa.table({"mpan": [A] * 48, "utc_period_end": pa.array([e.replace(tzinfo=None) for e in ends]),
                      "value_kwh": [0.1 + 0.2] + [0.25] * 47})
    pq.write_table(naive, tmp_path / "naive.parquet")
    with pytest.raises(CsvInputError) as caught:
        read_supplied(tmp_path / "naive.parquet")
    assert caught.value.problems[0] == (
        f"{tmp_path / 'naive.parquet'}:row 1: utc_period_end: '2025-06-01T00:30:00': no UTC offset: write the "
        "time with its offset, e.g. 2025-10-26T01:30:00+00:00 or ...Z")
    assert caught.value.problems[1] == (  # a float that is not whole Wh is refused, not rounded
        f"{tmp_path / 'naive.parquet'}:row 1: value_kwh: '0.30000000000000004': more than 3 decimals: the DIP's "
        "resolution is 1 Wh (0.001 kWh); values are never rounded")


# --------------------------------------------------------------------------- pseudonyms


def _identifiers_csv(path: Path) -> Path:
    lines = ["mpan,timestamp,kwh,meter_id,gsp_group"]
    for m, (mpan, meter_id, gsp) in enumerate([(A, "19K4481516", ""), (B, "21E7730044", ""),
                                                (IDNO, "ACME000123", "_C")]):
        lines += [f"{mpan},{e.isoformat()},{kwh(plausible_wh(m, k))},{meter_id},{gsp}"
                  for k, e in enumerate(utc_ends("2025-01-06", 2))]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_pseudonymised_output_holds_no_real_identifier(tmp_path) -> None:
    source = _identifiers_csv(tmp_path / f"export-{A}.csv")  # exports are often named by MPAN
    mapping = tmp_path / "mapping.csv"
    done = cli("from-csv", source, "--out", tmp_path / "data", "--pseudonymise", "k3y", "--mapping-out", mapping,
               "--no-progress")
    assert done.returncode == 0, done.stderr
    real = [A, B, IDNO, "19K4481516", "21E7730044", "ACME000123"]
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert len(files) > 8
    for path in files:
        data = path.read_bytes()
        texts = [data]
        if path.suffix == ".parquet":  # compressed columns: search the decoded values too
            texts.append(pq.read_table(path).to_pandas().to_csv().encode())
        for text in texts:
            for identifier in real:
                assert identifier.encode() not in text, (identifier, path)
    table = pd.read_csv(mapping, dtype=str)
    assert sorted(table["real"]) == sorted(real)
    pseudo = dict(zip(table["real"], table["pseudonym"], strict=True))
    meters = pd.read_parquet(tmp_path / "data" / "tables" / "meters.parquet").set_index("mpan")
    for mpan in (A, B, IDNO):
        fake = pseudo[mpan]
        assert is_valid_mpan(fake) and fake[:2] == mpan[:2] and fake in meters.index
    assert meters.loc[pseudo[IDNO], "gsp_group"] == "_C"
    assert meters.loc[pseudo[A], "gsp_group"] == GSP_GROUP_BY_DISTRIBUTOR["20"]
    assert meters.loc[pseudo[A], "meter_id"] == pseudo["19K4481516"]
    assert mapping.stat().st_mode & 0o077 == 0, "the mapping re-identifies: owner only"


def test_pseudonyms_are_repeatable_per_key(tmp_path) -> None:
    source = _identifiers_csv(tmp_path / "real.csv")
    first = read_csv_input(source, pseudonymise_key="one").mapping
    again = read_csv_input(source, pseudonymise_key="one").mapping
    other = read_csv_input(source, pseudonymise_key="two").mapping
    pd.testing.assert_frame_equal(first, again)
    assert (first["pseudonym"] != other["pseudonym"]).all()
    assert first["pseudonym"].is_unique and not set(first["pseudonym"]) & set(first["real"])
    assert read_csv_input(source).mapping is None


def test_pseudonyms_never_collide_nor_reuse_a_real_identifier() -> None:
    mpans = [A, B, IDNO, ADVANCED]
    fake = pseudonymise_mpans(mpans, "k")
    # the pseudonym of A given as a real MPAN beside A: A must then get another one
    both = pseudonymise_mpans([A, str(fake[0])], "k")
    assert both[0] not in (A, fake[0]) and len(set(both)) == 2 and all(map(is_valid_mpan, both))
    assert len(set(fake.tolist())) == len(mpans) and [f[:2] for f in fake] == [m[:2] for m in mpans]
    from mhhs_workbench.model.identities import indexed_mpans

    fleet = indexed_mpans("_A", np.arange(20_000), 5, np.full(20_000, 0.5))
    out = pseudonymise_mpans(fleet, "key")
    assert len(set(out.tolist())) == fleet.size and not set(out.tolist()) & set(fleet.tolist())
    ids = pseudonymise_meter_ids(["M1", "M2", "24S0000001"], "k")
    assert len(set(ids.tolist())) == 3 and all(len(i) == 10 for i in ids)


def test_mapping_out_is_refused_inside_the_data_set_or_without_a_key(tmp_path) -> None:
    source = _identifiers_csv(tmp_path / "real.csv")
    inside = cli("from-csv", source, "--out", tmp_path / "data", "--pseudonymise", "k",
                 "--mapping-out", tmp_path / "data" / "mapping.csv", "--no-progress")
    assert inside.returncode == 2 and "keep it outside the data set" in inside.stderr
    keyless = cli("from-csv", source, "--out", tmp_path / "data", "--mapping-out", tmp_path / "m.csv",
                  "--no-progress")
    assert keyless.returncode == 2 and "error: --mapping-out needs --pseudonymise KEY" in keyless.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.csv"]


# --------------------------------------------------------------------------- examples and notebook


@pytest.mark.parametrize("layout", ["long", "local", "wide"])
def test_examples_convert(tmp_path, layout) -> None:
    done = cli("from-csv", EXAMPLES / f"consumption_{layout}.csv", "--out", tmp_path / "data", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "data set" in done.stdout and validate_files([tmp_path / "data"]).ok


def test_notebook_is_committed_clean() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for name in ("csv", "out", "scenario_file", "layout", "fill_missing", "pseudonymise", "spec_dir"):
        assert f"{name} = " in tagged[0].source
    # parameters are kept in the evidence, inside the data set: the key must never be one
    assert "pseudonymise_key" not in tagged[0].source


def _run_notebook(tmp_path: Path, notebook: str) -> Path:
    out = tmp_path / "converted"
    done = cli("run", notebook, "-p", "csv", EXAMPLES / "consumption_long.csv", "-p", "out", out,
               "--out", tmp_path / "evidence", cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert verify(out) == []
    executed = nbformat.read(tmp_path / "evidence" / "convert_csv.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells])
    assert "Validation OK" in text and '"output_type": "error"' not in text
    return out


@pytest.mark.slow
def test_notebook_runs_headless(tmp_path) -> None:
    _run_notebook(tmp_path, str(NOTEBOOK))


@pytest.mark.slow
def test_notebook_runs_by_its_bare_name(tmp_path) -> None:
    from mhhs_workbench.notebook.runner import BUNDLED_NOTEBOOKS

    assert "convert_csv" in BUNDLED_NOTEBOOKS
    _run_notebook(tmp_path, "convert_csv")


@pytest.mark.slow
def test_notebook_takes_the_pseudonymisation_key_from_the_environment_only(tmp_path) -> None:
    from mhhs_workbench.csv_input.reader import PSEUDONYMISE_KEY_ENV, pseudonymisation_key

    assert pseudonymisation_key(False) is None
    env = {k: v for k, v in os.environ.items() if k != PSEUDONYMISE_KEY_ENV}
    out = tmp_path / "converted"
    done = cli("run", str(NOTEBOOK), "-p", "csv", EXAMPLES / "consumption_long.csv", "-p", "out", out,
               "-p", "pseudonymise", "true", "--out", tmp_path / "evidence", cwd=tmp_path, timeout=600,
               env={**env, PSEUDONYMISE_KEY_ENV: "s3cret-key"})
    assert done.returncode == 0, done.stderr
    for path in [*out.rglob("*"), *(tmp_path / "evidence").rglob("*")]:
        if path.is_file():
            assert b"s3cret-key" not in path.read_bytes(), path
    real = pd.read_csv(EXAMPLES / "consumption_long.csv", dtype=str)["mpan"].unique()
    consumption = pd.read_parquet(out / "tables" / "consumption.parquet")
    assert not set(real) & set(consumption["mpan"])

"""Throughput and memory of the CSV input on one core.

Writes a long-layout CSV (default 1,000 MPANs x 209 UTC days = 10,032,000 rows, about 460 MB;
deterministic, valid MPANs), times :func:`mhhs_workbench.csv_input.reader.read_csv_input` on it in a
fresh process and reports rows per second against the 1 million/s target and that process's
peak resident memory against 1 GiB. With ``--full`` it also times the whole conversion
(:func:`mhhs_workbench.dataset.convert_csv`) in another fresh process.

Usage::

    python benchmarks/bench_csv.py [--meters N] [--days D] [--folder DIR] [--keep] [--full]
"""

from __future__ import annotations

import os

# one core: set before numpy loads its BLAS
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mhhs_workbench.codes.identifiers import GSP_GROUPS  # noqa: E402
from mhhs_workbench.model.identities import indexed_mpans  # noqa: E402

TARGET_ROWS_PER_SECOND = 1e6
TARGET_PEAK_BYTES = 1 << 30
FIRST_DAY = np.datetime64("2025-01-01", "D")


def write_long_csv(path: Path, meters: int, days: int) -> int:
    """Write ``meters`` x ``days`` x 48 rows of ``mpan,timestamp,kwh``; returns the row count.

    MPANs are keyed bijections (valid check digits, every GSP group); values a domestic-looking
    0-3 kWh drawn from a seeded generator, so the file is the same on every run.
    """
    groups = np.array(GSP_GROUPS)[np.arange(meters) % len(GSP_GROUPS)]
    mpans = np.empty(meters, dtype="U13")
    for g in GSP_GROUPS:
        sel = np.flatnonzero(groups == g)
        mpans[sel] = indexed_mpans(g, sel // len(GSP_GROUPS), 11, np.full(sel.size, 0.5))
    ends = FIRST_DAY.astype("datetime64[m]") + np.arange(1, days * 48 + 1) * np.timedelta64(30, "m")
    stamps = np.char.add(np.datetime_as_string(ends, unit="s"), "+00:00")
    rng = np.random.default_rng(20251026)
    with path.open("w", encoding="ascii", newline="") as fh:
        fh.write("mpan,timestamp,kwh\n")
        for mpan in mpans:
            wh = rng.gamma(1.5, 150.0, stamps.size).astype(np.int64) % 3000
            kwh = np.char.add(np.char.add((wh // 1000).astype("U1"), "."), np.char.zfill((wh % 1000).astype("U3"), 3))
            fh.write("".join(np.char.add(np.char.add(np.char.add(f"{mpan},", stamps), ","), kwh + "\n").tolist()))
    return meters * stamps.size


#: How the parent hands ``--days-per-message`` to the measured child processes.
DAYS_PER_MESSAGE_ENV = "BENCH_CSV_DAYS_PER_MESSAGE"


def _child(mode: str, csv_path: str, out: str) -> None:
    """Run one measured step in this (fresh) process and print its figures as JSON."""
    import resource

    from mhhs_workbench.csv_input.reader import read_csv_input

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, threads included
    t0 = time.perf_counter()
    read = read_csv_input(csv_path)
    t_read = time.perf_counter() - t0
    figures = {"rows": read.rows, "read_seconds": t_read}
    if mode in ("full", "messages"):
        from mhhs_workbench.dataset import convert_csv
        from mhhs_workbench.scenario import Scenario, demo_scenario

        # "messages": what the converter is for, IF-021 and IF-041 only; "full": every output
        outputs = ["if021", "if041"] if mode == "messages" else list(demo_scenario().outputs)
        base = demo_scenario().to_dict()
        per_message = os.environ.get(DAYS_PER_MESSAGE_ENV)  # --days-per-message, else the demo's
        if per_message:
            base["messages"] = {**base["messages"], "days_per_message": int(per_message)}
        scenario = Scenario.from_dict({**base, "outputs": outputs})
        t1 = time.perf_counter()
        summary = convert_csv(read.supplied, out, scenario=scenario, progress=False)
        figures["convert_seconds"] = time.perf_counter() - t1
        figures["counts"] = summary.counts
    figures["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(figures))


def _measure(mode: str, csv_path: Path, out: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(csv_path), str(out)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{mode} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Write the file, measure, print the figures; returns the exit status."""
    parser = argparse.ArgumentParser(description="CSV input throughput and memory")
    parser.add_argument("--meters", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=209, help="UTC days (209 x 48 x 1,000 > 10 M rows)")
    parser.add_argument("--folder", type=Path, help="where to write the CSV (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the CSV (and data set) afterwards")
    parser.add_argument("--full", action="store_true", help="also time the whole conversion to a data set")
    parser.add_argument("--days-per-message", type=int,
                        help="days per IF-021 message of the conversion (default: the demo's, one)")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "CSV", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.days_per_message:
        os.environ[DAYS_PER_MESSAGE_ENV] = str(args.days_per_message)
    if args.child:
        _child(*args.child)
        return 0

    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench-csv-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "long.csv"
    t0 = time.perf_counter()
    rows = write_long_csv(csv_path, args.meters, args.days)
    size = csv_path.stat().st_size
    print(f"wrote {rows:,} rows ({size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s: {csv_path}")

    read = _measure("read", csv_path, folder / "data")
    rate = read["rows"] / read["read_seconds"]
    peak = read["peak_rss_bytes"]
    print(f"read_csv_input: {read['rows']:,} rows in {read['read_seconds']:.2f} s = {rate / 1e6:.2f} M rows/s "
          f"(target {TARGET_ROWS_PER_SECOND / 1e6:.0f} M/s: {'OK' if rate >= TARGET_ROWS_PER_SECOND else 'MISSED'})")
    print(f"peak RSS of the reading process: {peak / 2**20:.0f} MiB "
          f"(target < 1024 MiB: {'OK' if peak < TARGET_PEAK_BYTES else 'MISSED'})")
    ok = rate >= TARGET_ROWS_PER_SECOND and peak < TARGET_PEAK_BYTES
    if args.full:
        for mode, label in (("messages", "IF-021 + IF-041"), ("full", "all outputs, tables too")):
            full = _measure(mode, csv_path, folder / f"data-{mode}")
            c = full["counts"]
            total = full["read_seconds"] + full["convert_seconds"]
            rate = full["rows"] / total
            peak = full["peak_rss_bytes"]
            print(f"convert ({label}): read + convert {total:.1f} s for {c['if021_messages']:,} IF-021 and "
                  f"{c['if041_messages']:,} IF-041 messages, {c['consumption_rows']:,} table rows = "
                  f"{rate / 1e6:.2f} M rows/s end to end "
                  f"(target {TARGET_ROWS_PER_SECOND / 1e6:.0f} M/s: {'OK' if rate >= TARGET_ROWS_PER_SECOND else 'MISSED'}); "
                  f"peak RSS {peak / 2**20:.0f} MiB (target < 1024 MiB: {'OK' if peak < TARGET_PEAK_BYTES else 'MISSED'})")
    if not args.keep:
        import shutil

        for leftover in ([folder] if args.folder is None else [folder / "data-messages", folder / "data-full"]):
            shutil.rmtree(leftover, ignore_errors=True)
        csv_path.unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

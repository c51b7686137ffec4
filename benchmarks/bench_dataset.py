"""Throughput of the whole data set pipeline on one core: generation, messages, tables, manifest.

Usage: ``python benchmarks/bench_dataset.py [--meters N] [--days D] [--chunk-size C] [--out-dir P]``

Prints meters per second, half-hourly values per second, messages per second, the time to validate
the result and the peak resident memory. The process is pinned to one core, and the data set is
written to a temporary folder under ``--out-dir`` (default: the current directory, a real disk
rather than a tmpfs ``/tmp``), removed afterwards. For the issue's targets (IF-021 against a
baseline writer and ``dd``, stage shares, memory at three sizes, Dask) see ``bench_generate.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import tempfile
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

from mhhs_workbench.dataset import generate_dataset  # noqa: E402
from mhhs_workbench.scenario import MeterMix, Scenario  # noqa: E402
from mhhs_workbench.validation.files import validate_files  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--out-dir", type=Path, default=Path.cwd(),
                        help="a temporary folder is made (and removed) under it")
    args = parser.parse_args()
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})  # one core

    start = dt.date(2025, 10, 20)
    scenario = Scenario(name="bench", seed=1, start_date=start,
                        end_date=start + dt.timedelta(days=args.days - 1),
                        meters=MeterMix(count=args.meters))
    with tempfile.TemporaryDirectory(prefix=".bench-dataset-", dir=args.out_dir) as tmp:
        out = Path(tmp) / "bench"
        t0 = time.perf_counter()
        summary = generate_dataset(scenario, out, chunk_size=args.chunk_size, progress=False)
        elapsed = time.perf_counter() - t0
        c = summary.counts
        t1 = time.perf_counter()
        report = validate_files([out])
        validate_s = time.perf_counter() - t1
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    messages = c["if021_messages"] + c["if041_messages"]
    print(f"data set: {args.meters} meters x {args.days} days, chunk {args.chunk_size}")
    print(f"generate+publish: {elapsed:.2f} s  = {args.meters / elapsed:,.0f} meters/s, "
          f"{c['consumption_rows'] / elapsed:,.0f} half-hourly values/s, "
          f"{messages / elapsed:,.0f} messages/s")
    print(f"validate (package schema + rules): {validate_s:.2f} s = "
          f"{report.messages / validate_s:,.0f} messages/s, ok={report.ok}")
    print(f"peak resident memory: {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main()

"""Throughput of the consumption engine on one core.

Generates a domestic population (default 10,000 meters x 30 days = 14.4 million half-hourly
values) and reports values per second against the 20 million/s target, and peak memory.

Usage::

    python benchmarks/bench_consumption.py [--meters N] [--days D] [--repeat R] [--overlays]
"""

from __future__ import annotations

import os

# one core: set before numpy loads its BLAS
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mhhs_workbench.model.profiles import consumption, default_meters  # noqa: E402
from mhhs_workbench.time.periods import day_range  # noqa: E402

TARGET_VALUES_PER_SECOND = 20e6


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; returns the exit status."""
    parser = argparse.ArgumentParser(description="consumption engine throughput")
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--overlays",
        action="store_true",
        help="give 20 %% of homes PV, 10 %% an EV and 5 %% a heat pump",
    )
    args = parser.parse_args(argv)

    shares = {"pv_share": 0.2, "ev_share": 0.1, "heat_pump_share": 0.05} if args.overlays else {}
    meters = default_meters(args.meters, "domestic_unrestricted", seed=1, **shares)
    first = day_range("2025-01-06", "2025-01-06")[0]
    days = day_range(first, first + args.days - 1)
    values = args.meters * days.size * 48

    consumption(meters.iloc[:64], days, seed=7)  # warm-up: noise bank and year context
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = consumption(meters, days, seed=7)
        times.append(time.perf_counter() - t0)
        del result

    tracemalloc.start()
    result = consumption(meters, days, seed=7)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    output_bytes = 4 * result.import_wh.nbytes
    del result
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    best, median = min(times), statistics.median(times)
    rate = values / best
    print(
        f"population      : {args.meters:,} domestic meters x {days.size} days"
        f"{' with overlays' if args.overlays else ''} = {values:,} half-hourly values"
    )
    print(f"time            : best {best:.3f} s, median {median:.3f} s over {args.repeat} runs")
    print(
        f"throughput      : {rate / 1e6:.1f} million values/s (median {values / median / 1e6:.1f})"
    )
    print(
        f"vs target       : {rate / TARGET_VALUES_PER_SECOND:.2f} x the 20 million values/s target"
    )
    print(
        f"peak memory     : {peak / 2**20:.0f} MiB traced by tracemalloc "
        f"(of which the four int64 output arrays {output_bytes / 2**20:.0f} MiB); "
        f"process max RSS {rss_kib / 1024:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

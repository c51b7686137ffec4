"""Validator throughput beside orjson parse-only, and peak memory on a large file.

Usage: ``taskset -c 1 python benchmarks/bench_validate.py [--messages N] [--days D] [--spec-dir DIR]
[--big-gb G] [--repeat R] [--out-dir P]``

Generates IF-021 messages of ``--days`` UTC days each with the package (default 2,000 messages of
30 days: 2.88 M half-hourly values), then times on the same files, side by side:

- parse only: ``orjson.loads`` of each file;
- ``validate_files``: package schema and business rules (and Elexon's schema with ``--spec-dir``).

Each is run ``--repeat`` times and the fastest kept (the machine may be shared). Prints values/s,
the ratio to parse-only, and the peak resident memory of a separate process validating one file
of about ``--big-gb`` GB (all the messages of a larger data set in one array; 0 skips it).
Files are written under a temporary folder in ``--out-dir`` and removed afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from mhhs_workbench.dataset import generate_dataset
from mhhs_workbench.scenario import Messages, MeterMix, Scenario
from mhhs_workbench.validation.files import validate_files

TARGET_VALUES_PER_S = 2e6
TARGET_RATIO = 4.0
TARGET_PEAK_MB = 500


def _generate(out: Path, meters: int, days: int) -> list[Path]:
    start = dt.date(2025, 9, 1)
    scenario = Scenario(name="bench", seed=1, start_date=start,
                        end_date=start + dt.timedelta(days=days - 1),
                        meters=MeterMix(count=meters),
                        messages=Messages(days_per_message=days), outputs=["if021"])
    generate_dataset(scenario, out, progress=False)
    return sorted((out / "messages" / "IF-021").glob("*.json"))


def _take(files: list[Path], n: int, out: Path) -> tuple[list[Path], int]:
    """The first ``n`` messages of ``files`` rewritten as files of 100; and their value count."""
    items = [item for f in files for item in orjson.loads(f.read_bytes())][:n]
    if len(items) < n:
        raise SystemExit(f"only {len(items)} messages generated, {n} wanted")
    out.mkdir()
    written = []
    for k in range(0, n, 100):
        path = out / f"IF-021_{k // 100 + 1:06d}.json"
        path.write_bytes(orjson.dumps(items[k : k + 100]))
        written.append(path)
    values = sum(len(day["consumptionPeriods"]) for item in items
                 for day in item["payload"]["CustomBlock"]["B900"]["settlementDayConsumptionPeriods"])
    return written, values


def _verdict(met: bool) -> str:
    return "meets" if met else "MISSES"


def _best(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


def _big_file(files: list[Path], path: Path, gb: float) -> int:
    """Concatenate the messages of ``files`` into one array of at most ``gb`` GB; its size."""
    limit = int(gb * 1e9)
    size = 0
    with path.open("wb") as out:
        out.write(b"[")
        first = True
        for f in files:
            for item in orjson.loads(f.read_bytes()):
                text = orjson.dumps(item)
                if size + len(text) > limit:
                    break
                out.write(text if first else b"," + text)
                first = False
                size += len(text) + 1
        out.write(b"]")
    return path.stat().st_size


def _peak_mb(path: Path, spec_dir: str | None) -> tuple[float, float, bool]:
    """Seconds and peak RSS [MB] of a fresh process validating ``path``, and its verdict.

    The peak is the child's own ``VmHWM``: ``ru_maxrss`` of a child counts the copy of this
    (large) process it was forked from.
    """
    code = ("import sys; from mhhs_workbench.validation.files import validate_files; "
            "r = validate_files([sys.argv[1]], spec_dir=sys.argv[2] or None); "
            "hwm = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]; "
            "print(int(hwm) / 1024, r.ok)")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path), spec_dir or ""], check=True,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    peak, ok = done.stdout.split()
    return elapsed, float(peak), ok == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--spec-dir", default=None, help="also check Elexon's schema from here")
    parser.add_argument("--big-gb", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out-dir", type=Path, default=Path.cwd(), help="where the files are made (created if missing)")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".bench-validate-", dir=args.out_dir) as tmp:
        root = Path(tmp)
        # about 1.3 IF-021 messages per meter (import, and export or reactive for some)
        generated = _generate(root / "ds", int(args.messages / 1.25) + 50, args.days)
        files, values = _take(generated, args.messages, root / "msgs")
        size_mb = sum(f.stat().st_size for f in files) / 1e6

        parse_s = _best(lambda: [orjson.loads(f.read_bytes()) for f in files], args.repeat)
        report = None

        def run(spec_dir: str | None = None) -> None:
            nonlocal report
            report = validate_files(files, spec_dir=spec_dir)

        check_s = _best(run, args.repeat)
        ok = report.ok
        print(f"{args.messages} IF-021 messages x {args.days} days: {values:,} half-hourly values, "
              f"{size_mb:,.0f} MB in {len(files)} files; {cores} core(s)")
        print(f"orjson.loads parse only:           {parse_s:6.2f} s = "
              f"{values / parse_s / 1e6:5.2f} M values/s")
        print(f"validate (package schema + rules): {check_s:6.2f} s = "
              f"{values / check_s / 1e6:5.2f} M values/s "
              f"[{_verdict(values / check_s >= TARGET_VALUES_PER_S)} >= "
              f"{TARGET_VALUES_PER_S / 1e6:.0f} M], {check_s / parse_s:4.2f}x parse "
              f"[{_verdict(check_s / parse_s <= TARGET_RATIO)} <= {TARGET_RATIO:.0f}x], ok={ok}")
        if args.spec_dir:
            spec_s = _best(lambda: run(args.spec_dir), args.repeat)
            print(f"validate (+ Elexon schema):        {spec_s:6.2f} s = "
                  f"{values / spec_s / 1e6:5.2f} M values/s, {spec_s / parse_s:4.2f}x parse, "
                  f"ok={report.ok}")
        if args.big_gb > 0:
            more = _generate(root / "big-ds", int(args.big_gb * 9000), args.days)
            big = root / "big.json"
            size = _big_file(more, big, args.big_gb)
            elapsed, peak, big_ok = _peak_mb(big, args.spec_dir)
            print(f"one file of {size / 1e9:.2f} GB: validated in {elapsed:.1f} s, peak RSS "
                  f"{peak:,.0f} MB [{_verdict(peak < TARGET_PEAK_MB)} < {TARGET_PEAK_MB} MB], "
                  f"ok={big_ok}")


if __name__ == "__main__":
    main()

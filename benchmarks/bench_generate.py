"""End-to-end benchmarks of ``generate_dataset``: throughput, stage shares, memory and Dask scaling.

Every figure is measured side by side in one run and printed with the target it is judged by.
Single-process measurements are pinned to one core (``sched_setaffinity``, and one BLAS/OpenMP
thread); the Dask measurements are not pinned.

Subcommands::

    python benchmarks/bench_generate.py if021 [--meters 10000] [--days 30]
        package vs the straightforward baseline writer vs dd of the same bytes
    python benchmarks/bench_generate.py mix [--meters 2000] [--days 30]
        the demo mix (IF-021, IF-041, Parquet/CSV tables, aggregates): values/s and stage shares
    python benchmarks/bench_generate.py rss [--meters 1000 10000 100000] [--days 7] [--mix]
        peak RSS of each size, each generated in a fresh subprocess (``rss-one``)
    python benchmarks/bench_generate.py memory [--meters 4500 9000 18000] [--messages-per-file 1000000]
        peak RSS and wall time of the demo mix, IF-021 only, 30 days a message, huge files
    python benchmarks/bench_generate.py dask [--workers 2] [--repeat 3] [--meters 10000] [--days 30]
        one process (one core) vs a local Dask cluster; sha256 of every file compared
    python benchmarks/bench_generate.py all

Every subcommand takes ``--out-dir`` (default: the current directory, so the data sets are
written to a real disk rather than a tmpfs ``/tmp``); a temporary folder is made under it and
removed afterwards.
"""

from __future__ import annotations

import os

# one BLAS/OpenMP thread: set before numpy loads
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from baseline_writer import write_if021  # noqa: E402

from mhhs_workbench.dataset import DatasetSummary, generate_dataset  # noqa: E402
from mhhs_workbench.scenario import MeterMix, Scenario, demo_scenario  # noqa: E402

# ------------------------------------------------------------------------------------ targets

#: End-to-end IF-021 throughput, meter half-hours per second on one core.
TARGET_VALUES_PER_S = 5e6
#: Package speed over the baseline writer, at least.
TARGET_VS_BASELINE = 15.0
#: Package time over ``dd`` writing the same bytes, at most.
TARGET_VS_DD = 3.0
#: Largest share of one stage in the demo mix.
TARGET_STAGE_SHARE = 0.40
#: Peak resident memory of one run [MiB], below.
TARGET_RSS_MIB = 1024.0
#: Spread of peak RSS over the sizes, (max - min) / min, at most.
TARGET_RSS_SPREAD = 0.20
#: Peak resident memory of one ``memory`` run (huge message files) [MiB], below.
TARGET_MEMORY_MIB = 600.0
#: Speed-up of two Dask workers on two cores over one process, at least.
TARGET_DASK_SPEEDUP = 1.7

#: First UTC day of the IF-021 benchmarks (a Monday in winter).
IF021_START = dt.date(2025, 1, 6)
#: First UTC day of the ``memory`` scenario (30 days, one message each per meter and MQID).
MEMORY_START = dt.date(2025, 1, 1)
#: First UTC day of the demo mix (the demo's own start: spans the October clock change).
MIX_START = dt.date(2025, 10, 20)
PERIODS_PER_DAY = 48
#: Width of the label column of printed figures.
LABEL = 46


# ------------------------------------------------------------------------------------ helpers


def line(label: str, text: str) -> None:
    """Print one figure: a label column and the text."""
    print(f"  {label:<{LABEL}}: {text}", flush=True)


def verdict(ok: bool) -> str:
    """``meets`` or ``MISSES``, for a figure against its target."""
    return "meets" if ok else "MISSES"


def heading(text: str) -> None:
    """Print a section heading."""
    print(f"\n== {text}", flush=True)


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo, else ``platform.processor()``."""
    with contextlib.suppress(OSError):
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                return row.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> float:
    """Total memory of the machine [GiB] (0 when unknown)."""
    with contextlib.suppress(OSError, ValueError):
        for row in Path("/proc/meminfo").read_text().splitlines():
            if row.startswith("MemTotal:"):
                return int(row.split()[1]) / 2**20
    return 0.0


def file_system(path: Path) -> str:
    """Type of the file system holding ``path`` (from /proc/mounts), or ``unknown``."""
    best, kind = "", "unknown"
    target = str(path.resolve())
    with contextlib.suppress(OSError):
        for row in Path("/proc/mounts").read_text().splitlines():
            parts = row.split()
            mount = parts[1]
            inside = target == mount or target.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best):
                best, kind = mount, parts[2]
    return kind


def print_machine(out_dir: Path) -> None:
    """Print where the figures are measured: cores, CPU, memory, Python, numpy, scratch disk."""
    import pandas as pd

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0))
    print(f"machine: {cores} cores ({usable} usable), {cpu_model()}, {memory_gib():.0f} GiB memory")
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"{platform.system()} {platform.release()}")
    print(f"scratch: {out_dir.resolve()} ({file_system(out_dir)})", flush=True)


@contextlib.contextmanager
def one_core() -> Iterator[int]:
    """Pin this process (and children started meanwhile) to one CPU; restore afterwards."""
    before = os.sched_getaffinity(0)
    cpu = max(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


@contextlib.contextmanager
def scratch(out_dir: Path) -> Iterator[Path]:
    """A temporary folder under ``out_dir``, removed with everything in it afterwards."""
    out_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".bench-generate-", dir=out_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def tree_bytes(root: Path) -> int:
    """Bytes of every file under ``root``."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def tree_sha256(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, by path relative to it."""
    digests = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 22):
                h.update(block)
        digests[path.relative_to(root).as_posix()] = h.hexdigest()
    return digests


def count_periods(root: Path) -> int:
    """Consumption period values in the IF-021 files under ``root`` (occurrences of ``"sp":``)."""
    return sum(p.read_bytes().count(b'"sp":') for p in root.glob("messages/IF-021/*.json"))


def if021_scenario(meters: int, days: int) -> Scenario:
    """IF-021 only, domestic unrestricted meters (with the default PV/EV/heat-pump overlays)."""
    return Scenario(
        name="bench-if021",
        seed=1,
        start_date=IF021_START,
        end_date=IF021_START + dt.timedelta(days=days - 1),
        meters=MeterMix(count=meters, archetypes={"domestic_unrestricted": 1.0}),
        outputs=["if021"],
    )


def mix_scenario(meters: int, days: int) -> Scenario:
    """The demo scenario (mixed archetypes, every output, a change of supplier), resized."""
    demo = demo_scenario()
    end = MIX_START + dt.timedelta(days=days - 1)
    events = [e for e in demo.events if MIX_START < e.date <= end]
    return dataclasses.replace(
        demo,
        name="bench-mix",
        start_date=MIX_START,
        end_date=end,
        meters=dataclasses.replace(demo.meters, count=meters),
        events=events,
    )


def memory_scenario(meters: int, days: int, messages_per_file: int) -> Scenario:
    """The demo mix of archetypes, IF-021 only, every day of a meter in one message.

    With ``days`` days a message and one send batch per data service, a file holds up to
    ``messages_per_file`` messages: with a huge value each data service's messages make one file,
    which grows with the meters (the worst case for joining the pieces of shared files).
    """
    demo = demo_scenario()
    return dataclasses.replace(
        demo,
        name="bench-memory",
        start_date=MEMORY_START,
        end_date=MEMORY_START + dt.timedelta(days=days - 1),
        meters=dataclasses.replace(demo.meters, count=meters),
        messages=dataclasses.replace(demo.messages, days_per_message=days,
                                     messages_per_file=messages_per_file),
        events=[],
        outputs=["if021"],
    )


def timed_generate(scenario: Scenario, out: Path, chunk_size: int, **kwargs: object
                   ) -> tuple[float, DatasetSummary]:
    """Generate ``scenario`` at ``out``; returns wall seconds and the summary."""
    t0 = time.perf_counter()
    summary = generate_dataset(scenario, out, chunk_size=chunk_size, progress=False, **kwargs)
    return time.perf_counter() - t0, summary


def warm_up(folder: Path, scenario: Scenario, chunk_size: int) -> None:
    """Run a tiny version of ``scenario`` once so imports and caches are not timed."""
    small = dataclasses.replace(
        scenario, meters=dataclasses.replace(scenario.meters, count=20),
        end_date=scenario.start_date + dt.timedelta(days=1), events=[],
    )
    timed_generate(small, folder / "warm-up", chunk_size)
    shutil.rmtree(folder / "warm-up")


def meter_half_hours(summary: DatasetSummary) -> int:
    """Meters x days x 48: the half-hourly values the targets count."""
    return summary.counts["meters"] * summary.counts["days"] * PERIODS_PER_DAY


def print_stages(seconds: dict[str, float], wall: float) -> float:
    """Print each stage's seconds and share of all stages; returns the largest share."""
    total = sum(seconds.values()) or 1.0
    for stage, s in sorted(seconds.items(), key=lambda kv: -kv[1]):
        line(f"stage {stage}", f"{s:8.2f} s  {100 * s / total:5.1f} %")
    line("sum of stages / wall time", f"{total:.2f} s / {wall:.2f} s")
    return max(seconds.values()) / total


# ------------------------------------------------------------------------------------ if021


def dd_seconds(folder: Path, n_bytes: int) -> tuple[float, int]:
    """Seconds ``dd ... conv=fdatasync`` takes to write ``n_bytes`` rounded up to MiB."""
    mib = -(-n_bytes // 2**20)
    target = folder / "dd.bin"
    t0 = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", f"of={target}", "bs=1M", f"count={mib}",
                    "conv=fdatasync"], check=True, capture_output=True)
    seconds = time.perf_counter() - t0
    target.unlink()
    return seconds, mib


def bench_if021(args: argparse.Namespace) -> None:
    """Package vs the baseline writer vs dd, IF-021 only, on one core."""
    scenario = if021_scenario(args.meters, args.days)
    heading(f"if021: {args.meters:,} domestic meters x {args.days} UTC days, IF-021 only, one core")
    with scratch(args.out_dir) as folder, one_core() as cpu:
        line("pinned to CPU", str(cpu))
        warm_up(folder, scenario, args.chunk_size)
        seconds, summary = timed_generate(scenario, folder / "package", args.chunk_size)
        root = folder / "package"
        n_bytes = tree_bytes(root)
        message_bytes = tree_bytes(root / "messages")
        values = meter_half_hours(summary)
        periods = count_periods(root)
        shutil.rmtree(root)

        base = write_if021(dataclasses.replace(scenario, meters=dataclasses.replace(
            scenario.meters, count=20)), folder / "warm-up-baseline")
        base = write_if021(scenario, folder / "baseline")
        shutil.rmtree(folder / "baseline")
        shutil.rmtree(folder / "warm-up-baseline")

        dd_s, mib = dd_seconds(folder, n_bytes)

    c = summary.counts
    rate = values / seconds
    line("package generate (end to end)", f"{seconds:.2f} s")
    line("meter half-hours (meters x days x 48)", f"{values:,}")
    line("package throughput", f"{rate / 1e6:.2f} M values/s   target >= "
         f"{TARGET_VALUES_PER_S / 1e6:.0f} M/s -> {verdict(rate >= TARGET_VALUES_PER_S)}")
    line("package output", f"{c['if021_messages']:,} messages in {c['if021_files']:,} files, "
         f"{periods:,} period values (AI + AE), {message_bytes / 2**20:,.1f} MiB messages, "
         f"{n_bytes / 2**20:,.1f} MiB in all")
    line("baseline writer (end to end)",
         f"{base.seconds:.2f} s (model {base.seconds_model:.2f} s, dicts + json.dumps + write "
         f"{base.seconds_write:.2f} s)")
    line("baseline output", f"{base.messages:,} messages in {base.files:,} files, "
         f"{base.values:,} period values, {base.bytes / 2**20:,.1f} MiB")
    ratio = base.seconds / seconds
    line("package speed-up over baseline", f"{ratio:.1f} x   target >= {TARGET_VS_BASELINE:.0f} x "
         f"-> {verdict(ratio >= TARGET_VS_BASELINE)}")
    line(f"dd bs=1M count={mib} conv=fdatasync", f"{dd_s:.2f} s = {mib / dd_s:,.0f} MiB/s")
    dd_ratio = seconds / dd_s
    ok = verdict(dd_ratio <= TARGET_VS_DD)
    line("package time / dd time (same bytes)",
         f"{dd_ratio:.2f} x   target <= {TARGET_VS_DD:.0f} x -> {ok}")
    print("  package stage seconds (summed over chunks):")
    print_stages(summary.seconds, seconds)


# ------------------------------------------------------------------------------------ mix


def bench_mix(args: argparse.Namespace) -> None:
    """The demo mix on one core: values/s, messages/s and the share of each stage."""
    scenario = mix_scenario(args.meters, args.days)
    heading(f"mix: {args.meters:,} demo-mix meters x {args.days} UTC days, all outputs "
            f"({', '.join(scenario.outputs)}), one core")
    with scratch(args.out_dir) as folder, one_core() as cpu:
        line("pinned to CPU", str(cpu))
        warm_up(folder, scenario, args.chunk_size)
        seconds, summary = timed_generate(scenario, folder / "package", args.chunk_size)
        n_bytes = tree_bytes(folder / "package")
    c = summary.counts
    messages = c["if021_messages"] + c["if041_messages"]
    line("package generate (end to end)", f"{seconds:.2f} s, {n_bytes / 2**20:,.1f} MiB written")
    line("counts", f"{c['if021_messages']:,} IF-021 + {c['if041_messages']:,} IF-041 messages, "
         f"{c['consumption_rows']:,} consumption rows, {c['reading_rows']:,} reads, "
         f"{c['settlement_rows']:,} settlement rows")
    line("meter half-hours / s", f"{meter_half_hours(summary) / seconds / 1e6:.2f} M/s "
         f"({meter_half_hours(summary):,} meters x days x 48)")
    line("consumption rows / s", f"{c['consumption_rows'] / seconds / 1e6:.2f} M/s "
         "(MPAN x MQID x half hour)")
    line("messages / s", f"{messages / seconds:,.0f} (IF-021 + IF-041)")
    print("  stage seconds (summed over chunks) and share of all stages:")
    top = print_stages(summary.seconds, seconds)
    line("largest stage share", f"{100 * top:.1f} %   target <= {100 * TARGET_STAGE_SHARE:.0f} % "
         f"-> {verdict(top <= TARGET_STAGE_SHARE)}")


# ------------------------------------------------------------------------------------ rss


def own_peak_rss_kib() -> int:
    """Peak RSS of this process's own address space [KiB]: ``VmHWM`` of /proc/self/status.

    ``getrusage(RUSAGE_SELF).ru_maxrss`` is not used as the figure: on Linux it keeps the
    high-water mark of the address space replaced by ``exec``, i.e. of the parent process that
    forked this one, so a child of a large parent reports at least the parent's RSS.
    """
    with contextlib.suppress(OSError, ValueError):
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_one(args: argparse.Namespace) -> None:
    """Generate one size in this (fresh) process, pinned to one core; print its own peak RSS."""
    if args.messages_per_file:
        scenario = memory_scenario(args.meters, args.days, args.messages_per_file)
    else:
        scenario = (mix_scenario if args.mix else if021_scenario)(args.meters, args.days)
    with scratch(args.out_dir) as folder, one_core():
        seconds, summary = timed_generate(scenario, folder / "package", args.chunk_size)
    peak_kib = own_peak_rss_kib()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"rss-one meters={args.meters} days={args.days} seconds={seconds:.2f} "
          f"values={meter_half_hours(summary)} peak_rss_kib={peak_kib} "
          f"ru_maxrss_kib={maxrss_kib}", flush=True)


def rss_in_subprocesses(args: argparse.Namespace, extra: list[str], target_mib: float) -> list[float]:
    """Run ``rss-one`` for each of ``args.meters`` in a fresh subprocess; print and return peaks [MiB]."""
    peaks = []
    for meters in args.meters:
        command = [sys.executable, str(Path(__file__).resolve()), "rss-one",
                   "--meters", str(meters), "--days", str(args.days),
                   "--out-dir", str(args.out_dir), "--chunk-size", str(args.chunk_size), *extra]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        found = re.search(r"seconds=([\d.]+) values=(\d+) peak_rss_kib=(\d+)", done.stdout)
        if not found:
            raise RuntimeError(f"rss-one printed no figures:\n{done.stdout}\n{done.stderr}")
        seconds, values, kib = float(found[1]), int(found[2]), int(found[3])
        peaks.append(kib / 1024)
        line(f"{meters:,} meters peak RSS", f"{kib / 1024:,.0f} MiB   ({seconds:.1f} s, "
             f"{values / seconds / 1e6:.2f} M values/s)   target < {target_mib:,.0f} MiB -> "
             f"{verdict(kib / 1024 < target_mib)}")
    return peaks


def bench_rss(args: argparse.Namespace) -> None:
    """Peak RSS of each size, each in a fresh subprocess."""
    kind = "demo mix" if args.mix else "IF-021 only"
    heading(f"rss: peak resident memory, {', '.join(f'{m:,}' for m in args.meters)} meters x "
            f"{args.days} days, {kind}, chunk {args.chunk_size}, each in a fresh process")
    peaks = rss_in_subprocesses(args, ["--mix"] if args.mix else [], TARGET_RSS_MIB)
    spread = (max(peaks) - min(peaks)) / min(peaks)
    line("spread (max - min) / min", f"{100 * spread:.1f} %   target <= "
         f"{100 * TARGET_RSS_SPREAD:.0f} % -> {verdict(spread <= TARGET_RSS_SPREAD)}")


def bench_memory(args: argparse.Namespace) -> None:
    """Peak RSS with huge message files: each size in a fresh subprocess."""
    heading(f"memory: peak resident memory, {', '.join(f'{m:,}' for m in args.meters)} meters x "
            f"{args.days} days, demo mix, IF-021 only, {args.days} days a message, "
            f"{args.messages_per_file:,} messages a file, chunk {args.chunk_size}, each in a fresh process")
    peaks = rss_in_subprocesses(args, ["--messages-per-file", str(args.messages_per_file)],
                                TARGET_MEMORY_MIB)
    spread = (max(peaks) - min(peaks)) / min(peaks)
    line("spread (max - min) / min", f"{100 * spread:.1f} %   target <= "
         f"{100 * TARGET_RSS_SPREAD:.0f} % -> {verdict(spread <= TARGET_RSS_SPREAD)}")


# ------------------------------------------------------------------------------------ dask


def compare_trees(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """Paths whose sha256 differs or that only one tree has."""
    return sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p))


def identity_text(single: dict[str, str], differ: set[str], runs: int) -> str:
    """Whether every file of every run had the single-process file's sha256."""
    if not differ:
        return f"yes, in all {runs} run(s) ({len(single)} files, sha256 of each compared)"
    return f"NO, {len(differ)} differ: {', '.join(sorted(differ)[:5])}"


def speed_up_text(n: int, single_s: float, times: list[float]) -> str:
    """Best seconds, speed-up and efficiency of ``n`` workers; judged by the target for two."""
    speed_up = single_s / min(times)
    text = (f"best {min(times):.2f} s, speed-up {speed_up:.2f} x, efficiency "
            f"{100 * speed_up / n:.0f} %")
    if n == 2:
        ok = verdict(speed_up >= TARGET_DASK_SPEEDUP)
        text += f"   target >= {TARGET_DASK_SPEEDUP} x -> {ok}"
    return text


def runs_text(times: list[float]) -> str:
    """Every run's seconds."""
    return ", ".join(f"{s:.2f}" for s in times) + " s"


def stage_text(seconds: dict[str, float]) -> str:
    """Non-zero stage seconds on one line, largest first."""
    busy = sorted(((s, k) for k, s in seconds.items() if s >= 0.005), reverse=True)
    return ", ".join(f"{k} {s:.2f} s" for s, k in busy)


@dataclasses.dataclass
class DaskRuns:
    """Timings of repeated Dask runs and the files that differed from the single process."""

    times: list[float] = dataclasses.field(default_factory=list)
    differ: set[str] = dataclasses.field(default_factory=set)
    stages: dict[str, float] = dataclasses.field(default_factory=dict)

    def add(self, seconds: float, summary: DatasetSummary, single: dict[str, str],
            out: Path) -> None:
        """Record one run: its time, its stages if fastest, and any file that differs."""
        if not self.times or seconds < min(self.times):
            self.stages = summary.seconds
        self.times.append(seconds)
        self.differ |= set(compare_trees(single, tree_sha256(out)))
        shutil.rmtree(out)


def print_dask(label: str, n: int, single_s: float, single: dict[str, str],
               runs: DaskRuns) -> None:
    """Print one Dask variant: best time and speed-up, every run, stages, byte identity."""
    line(label, speed_up_text(n, single_s, runs.times))
    line("  runs", runs_text(runs.times))
    line("  stages of the best run (worker-seconds)", stage_text(runs.stages))
    line("  byte-identical to one process", identity_text(single, runs.differ, len(runs.times)))


def dask_cold(scenario: Scenario, folder: Path, n: int, args: argparse.Namespace,
              single_s: float, single: dict[str, str]) -> None:
    """``generate_dataset(workers=n)``: starts (and stops) its own local cluster, timed."""
    label = f"workers={n} (starts its own cluster)"
    runs = DaskRuns()
    try:
        for _ in range(args.repeat):
            seconds, summary = timed_generate(scenario, folder / "cold", args.chunk_size,
                                              workers=n)
            runs.add(seconds, summary, single, folder / "cold")
    except Exception as exc:  # report and go on to the running-cluster measurement
        line(label, f"FAILED inside mhhs_workbench: {type(exc).__name__}: {exc}")
        shutil.rmtree(folder / "cold", ignore_errors=True)
        return
    print_dask(label, n, single_s, single, runs)


def dask_running(scenario: Scenario, folder: Path, n: int, args: argparse.Namespace,
                 single_s: float, single: dict[str, str]) -> None:
    """``generate_dataset(scheduler=...)`` on a local cluster started (and warmed) beforehand."""
    from distributed import Client, LocalCluster

    label = f"{n} workers, cluster already running"
    runs = DaskRuns()
    try:
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
                Client(cluster):
            address = cluster.scheduler_address
            tiny = dataclasses.replace(scenario, meters=dataclasses.replace(scenario.meters,
                                                                             count=20 * n))
            timed_generate(tiny, folder / "warm-up", 20, scheduler=address)  # imports on workers
            shutil.rmtree(folder / "warm-up")
            for _ in range(args.repeat):
                seconds, summary = timed_generate(scenario, folder / "running", args.chunk_size,
                                                  scheduler=address)
                runs.add(seconds, summary, single, folder / "running")
    except Exception as exc:  # report and go on with the next worker count
        line(label, f"FAILED inside mhhs_workbench: {type(exc).__name__}: {exc}")
        for name in ("warm-up", "running"):
            shutil.rmtree(folder / name, ignore_errors=True)
        return
    print_dask(label, n, single_s, single, runs)


def bench_dask(args: argparse.Namespace) -> None:
    """One process on one core vs local Dask clusters; identical bytes checked file by file."""
    scenario = if021_scenario(args.meters, args.days)
    heading(f"dask: {args.meters:,} domestic meters x {args.days} UTC days, IF-021 only, "
            f"workers {' '.join(map(str, args.workers))}, {os.cpu_count()} cores, "
            f"best of {args.repeat}")
    with scratch(args.out_dir) as folder:
        times = []
        with one_core() as cpu:
            warm_up(folder, scenario, args.chunk_size)
            for _ in range(args.repeat):
                shutil.rmtree(folder / "single", ignore_errors=True)
                seconds, summary = timed_generate(scenario, folder / "single", args.chunk_size)
                times.append(seconds)
        single_s = min(times)
        values = meter_half_hours(summary)
        line(f"one process (pinned to CPU {cpu})",
             f"best {single_s:.2f} s = {values / single_s / 1e6:.2f} M values/s")
        line("  runs", runs_text(times))
        line("  stages of the last run", stage_text(summary.seconds))
        single = tree_sha256(folder / "single")
        shutil.rmtree(folder / "single")
        for n in args.workers:
            dask_cold(scenario, folder, n, args, single_s, single)
            dask_running(scenario, folder, n, args, single_s, single)


# ------------------------------------------------------------------------------------ main


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(description="end-to-end benchmarks of generate_dataset")
    sub = top.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str, meters: int | list[int] | None, days: int | None
            ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        if isinstance(meters, list):
            p.add_argument("--meters", type=int, nargs="+", default=meters)
        elif meters is not None:
            p.add_argument("--meters", type=int, default=meters)
        if days is not None:
            p.add_argument("--days", type=int, default=days)
        p.add_argument("--out-dir", type=Path, default=Path.cwd(),
                       help="a temporary folder is made (and removed) under it")
        p.add_argument("--chunk-size", type=int, default=500)
        return p

    add("if021", "package vs baseline writer vs dd (IF-021)", 10_000, 30)
    add("mix", "demo mix: values/s and stage shares", 2_000, 30)
    rss = add("rss", "peak RSS per size, fresh subprocess each", [1_000, 10_000, 100_000], 7)
    rss.add_argument("--mix", action="store_true", help="the demo mix instead of IF-021 only")
    one = add("rss-one", "one size of rss (internal)", 1_000, 7)
    one.add_argument("--mix", action="store_true")
    one.add_argument("--messages-per-file", type=int, default=0,
                     help="the memory scenario with this many messages a file (0: rss's scenario)")
    memory = add("memory", "peak RSS with huge message files, fresh subprocess each",
                 [4_500, 9_000, 18_000], 30)
    memory.add_argument("--messages-per-file", type=int, default=1_000_000)
    dask = add("dask", "one process vs Dask workers", 10_000, 30)
    dask.add_argument("--workers", type=int, nargs="+", default=[2])
    dask.add_argument("--repeat", type=int, default=3, help="runs of each variant; best counts")
    add("all", "if021, mix, rss and dask with their defaults", None, None)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmark(s)."""
    args = parser().parse_args(argv)
    if args.command == "rss-one":
        rss_one(args)
        return 0
    print_machine(args.out_dir)
    if args.command == "all":
        for name in ("if021", "mix", "rss", "dask"):
            sub_args = parser().parse_args([name, "--out-dir", str(args.out_dir),
                                            "--chunk-size", str(args.chunk_size)])
            BENCHMARKS[name](sub_args)
    else:
        BENCHMARKS[args.command](args)
    return 0


BENCHMARKS = {"if021": bench_if021, "mix": bench_mix, "rss": bench_rss, "memory": bench_memory,
              "dask": bench_dask}

if __name__ == "__main__":
    raise SystemExit(main())

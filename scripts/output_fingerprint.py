"""Fingerprint every data set the command line makes from this checkout's examples.

A byte-identity check for refactorings: run it before and after a change and compare the two
files (``diff``). It generates, into a temporary folder and through the ``mhhs-workbench``
command line only (``mhhs_workbench.cli:console``, run by this interpreter):

- the built-in demo (``demo``), and the demo again on a local Dask cluster of ``--workers``
  processes with a small chunk size (skipped with ``--workers 0``);
- every ``examples/*.yaml`` scenario (``generate``);
- every ``examples/*.csv`` file (``from-csv``), and one pseudonymised conversion under
  ``examples/every_feature.yaml`` with its mapping file;
- labelled invalid messages derived from the demo (``negative``).

It then writes one line ``sha256  dataset/relative/path`` per file, sorted by path, and prints
the count. The examples and the package come from the checkout the script sits in (its
repository root is put first on ``PYTHONPATH`` and is the working folder of every command), so
input paths recorded in a data set read the same in any checkout.

Example::

    .venv/bin/python scripts/output_fingerprint.py /tmp/fingerprint_after.txt
    diff /tmp/fingerprint_before.txt /tmp/fingerprint_after.txt
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Repository root of the checkout this script sits in.
ROOT = Path(__file__).resolve().parents[1]
#: Example scenarios and consumption CSV files.
EXAMPLES = ROOT / "examples"
#: Scenario used for the pseudonymised ``from-csv`` conversion (when present).
CSV_SCENARIO = EXAMPLES / "every_feature.yaml"
#: Fixed pseudonymisation key, so the pseudonyms are the same on every run.
PSEUDONYMISE_KEY = "output-fingerprint"
#: The ``mhhs-workbench`` console script, run by this interpreter.
CLI = [sys.executable, "-c", "from mhhs_workbench.cli import console; console()"]


def _environment() -> dict[str, str]:
    """Environment of the commands: this checkout's package first on ``PYTHONPATH``.

    Returns
    -------
    dict of str to str
        A copy of ``os.environ`` with the repository root (and its ``src`` folder, if it has
        one) put before any ``PYTHONPATH`` already set.
    """
    env = dict(os.environ)
    paths = [str(ROOT / "src")] if (ROOT / "src").is_dir() else []
    paths.append(str(ROOT))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _jobs(work: Path, workers: int) -> list[tuple[str, list[str]]]:
    """List the data sets to make, each as its name and its command-line arguments.

    Parameters
    ----------
    work : pathlib.Path
        Folder each data set is published in, as ``work/<name>``.
    workers : int
        Dask worker processes for the second demo; 0 leaves that data set out.

    Returns
    -------
    list of (str, list of str)
        Data set name and ``mhhs-workbench`` arguments, in the order they are run. Input files
        are given relative to the repository root.
    """

    def rel(path: Path) -> str:
        return path.relative_to(ROOT).as_posix()

    quiet = ["--no-progress"]
    jobs = [("demo", ["demo", "--out", str(work / "demo"), *quiet])]
    if workers > 0:
        jobs.append((f"demo-workers{workers}",
                     ["demo", "--out", str(work / f"demo-workers{workers}"), "--workers", str(workers),
                      "--chunk-size", "40", *quiet]))
    for scenario in sorted(EXAMPLES.glob("*.yaml")):
        name = f"generate-{scenario.stem}"
        jobs.append((name, ["generate", rel(scenario), "--out", str(work / name), *quiet]))
    csv_files = sorted(EXAMPLES.glob("*.csv"))
    for csv_file in csv_files:
        name = f"from-csv-{csv_file.stem}"
        jobs.append((name, ["from-csv", rel(csv_file), "--out", str(work / name), *quiet]))
    if csv_files and CSV_SCENARIO.is_file():
        name = "from-csv-pseudonymised"
        mapping = work / f"{name}-mapping" / "mapping.csv"
        mapping.parent.mkdir(parents=True)
        jobs.append((name, ["from-csv", rel(csv_files[-1]), "--scenario", rel(CSV_SCENARIO),
                            "--pseudonymise", PSEUDONYMISE_KEY, "--mapping-out", str(mapping),
                            "--out", str(work / name), *quiet]))
    jobs.append(("negative-demo", ["negative", str(work / "demo"), "--out", str(work / "negative-demo")]))
    return jobs


def _sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(work: Path) -> list[str]:
    """One ``sha256  dataset/relative/path`` line per file under ``work``, sorted by path.

    Parameters
    ----------
    work : pathlib.Path
        Folder holding one sub-folder per data set.

    Returns
    -------
    list of str
        The lines, without line ends.
    """
    files = sorted((p for p in work.rglob("*") if p.is_file()), key=lambda p: p.relative_to(work).as_posix())
    return [f"{_sha256(p)}  {p.relative_to(work).as_posix()}" for p in files]


def make_datasets(work: Path, workers: int) -> None:
    """Make every data set under ``work``, printing each one's time; exit on the first failure.

    Parameters
    ----------
    work : pathlib.Path
        Empty folder to publish the data sets in.
    workers : int
        Dask worker processes for the second demo; 0 leaves it out.
    """
    env = _environment()
    where = subprocess.run([sys.executable, "-c", "import mhhs_workbench; print(mhhs_workbench.__file__)"],
                           cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    print(f"package: {where.stdout.strip() or where.stderr.strip()}")
    for name, args in _jobs(work, workers):
        started = time.perf_counter()
        done = subprocess.run([*CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            sys.exit(f"error: {name} failed with exit status {done.returncode}: mhhs-workbench {' '.join(args)}")
        print(f"{name:<34} {seconds:7.1f} s")


def main(argv: list[str] | None = None) -> None:
    """Command line: make the data sets, write their fingerprint, print the number of files.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="file to write the 'sha256  dataset/path' lines to")
    parser.add_argument("--workers", type=int, default=2,
                        help="Dask worker processes for the second demo; 0 leaves it out (default: 2)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="make the data sets in DIR (new or empty) and keep them, instead of a "
                        "temporary folder")
    args = parser.parse_args(argv)
    if args.workers < 0:
        parser.error("--workers must be 0 or more")
    started = time.perf_counter()
    if args.keep is not None:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep} is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        make_datasets(args.keep.resolve(), args.workers)
        lines = fingerprint(args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="mhhs-fingerprint-") as tmp:
            make_datasets(Path(tmp), args.workers)
            lines = fingerprint(Path(tmp))
    args.output.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    print(f"{len(lines)} files hashed into {args.output} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

"""Hostile message files: each gets one clear finding, never a traceback, a hang or unbounded memory."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from mhhs_workbench.cli import main
from mhhs_workbench.validation.files import validate_files
from mhhs_workbench.validation.json_stream import MAX_FILE_GB_ENV, StreamError, iter_items


def _write(path: Path, payloads: list) -> Path:
    path.write_bytes(orjson.dumps([{"payload": p} for p in payloads]))
    return path


def _error(path: Path, **options):
    report = validate_files([path], **options)
    assert not report.ok
    return report.files[0].error


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"", "FILE", "empty"),
        (b" \n\t  \n", "FILE", "only whitespace"),
        (b"[" * 100_000, "FILE", "not valid JSON"),
        (b'[{"payload": NaN}]', "FILE", "not valid JSON"),
        (b'[{"payload": Infinity}]', "FILE", "not valid JSON"),
        (b"\xef\xbb\xbf[]", "FILE-BOM", "byte order mark"),
        ('[{"payload": "é"}]'.encode("utf-16"), "FILE", "not UTF-8"),
        ('[{"payload": "é"}]'.encode("utf-16-le"), "FILE", "not UTF-8"),
        (b'[{"payload": "\xff"}]', "FILE", "not valid JSON"),
        (b'[{"payload": 1}] x', "FILE", "after the end"),
        (b'[{"payload": {"a": 1}', "FILE", "not valid JSON"),
        (b'[{"payload": [1]}', "FILE", "not closed"),
        (b'"text"', "ENVELOPE", "found a JSON string"),
    ],
)
def test_hostile_content(tmp_path: Path, content: bytes, code: str, words: str) -> None:
    path = tmp_path / "hostile.json"
    path.write_bytes(content)
    error = _error(path)
    assert error.code == code and words in error.message
    assert "\n" not in error.message


def test_duplicate_keys_are_found_where_they_are(tmp_path: Path, make_if021) -> None:
    good = orjson.dumps(make_if021()).decode()
    # repeat the MPAN key inside M0: orjson alone would keep the second silently
    twice = good.replace('"MPANCore":"2000056535971"',
                        '"MPANCore":"2000056535971","MPANCore":"2000056535971"')
    assert twice != good
    path = tmp_path / "dup.json"
    path.write_text(f'[{{"payload":{good}}},{{"payload":{twice}}}]', encoding="utf-8")
    file = validate_files([path]).files[0]
    assert (file.messages, file.invalid) == (2, 1)
    (problem,) = [p for p in file.findings if p.code == "JSON-DUP-KEY"]
    assert problem.path == "$[1].payload.CommonBlock.M0" and problem.index == 1
    assert "MPANCore" in problem.message and problem.value == "'MPANCore'"


def test_colons_in_strings_are_no_duplicate(tmp_path: Path, make_if021) -> None:
    payload = make_if021()
    payload["CommonBlock"]["S1"]["subText"] = "a:b \\u003a :"
    assert validate_files([_write(tmp_path / "ok.json", [payload])]).ok


def test_fifo_and_device_are_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    report = validate_files([fifo, Path("/dev/zero")])
    assert [f.error.code for f in report.files] == ["FILE-KIND", "FILE-KIND"]
    assert "FIFO" in report.files[0].error.message
    assert "character device" in report.files[1].error.message


def test_size_limit_option_and_variable(tmp_path: Path, make_if021, monkeypatch) -> None:
    path = _write(tmp_path / "big.json", [make_if021()])
    size = path.stat().st_size
    assert validate_files([path], max_file_gb=size / 1e9 * 2).ok
    error = _error(path, max_file_gb=size / 1e9 / 2)
    assert error.code == "FILE-SIZE" and f"{size:,} bytes" in error.message
    monkeypatch.setenv(MAX_FILE_GB_ENV, str(size / 1e9 / 2))
    assert _error(path).code == "FILE-SIZE"
    monkeypatch.setenv(MAX_FILE_GB_ENV, "lots")
    done = CliRunner().invoke(main, ["validate", str(path)])
    assert done.exit_code == 2 and "is not a number" in done.output


def test_cli_gives_one_line_per_hostile_file(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf[1]")
    done = CliRunner().invoke(main, ["validate", str(tmp_path / "empty.json"),
                                     str(tmp_path / "bom.json"), "/dev/zero"])
    assert done.exit_code == 1
    assert "Traceback" not in done.output
    assert "character device" in done.output and "byte order mark" in done.output


@pytest.mark.parametrize("block", [1, 2, 5, 64, 1 << 20])
def test_splitting_does_not_depend_on_blocks(block: int, make_if021) -> None:
    items = [{"payload": make_if021(n_periods=2)}, {"payload": {"x": "a\\\"],{\"payload\":"}},
             [1, {"payload": 2}], "\\", {"payload": None}]
    compact = orjson.dumps(items)
    pretty = orjson.dumps(items, option=orjson.OPT_INDENT_2)
    for text in (compact, pretty):
        found = [value for _, value in iter_items(io.BytesIO(text), block_bytes=block)]
        assert found == items


def test_an_item_over_the_limit_stops_the_file() -> None:
    text = b'[{"payload": "' + b"x" * 5000 + b'"}]'
    with pytest.raises(StreamError) as caught:
        list(iter_items(io.BytesIO(text), max_item_bytes=1000, block_bytes=256))
    assert caught.value.code == "FILE-SIZE"


def _run_limited(path: Path, limit_mb: int | None) -> tuple[str, int]:
    """Validate ``path`` in a fresh process, its address space capped at ``limit_mb`` [MiB];
    its summary line and peak virtual memory [MiB]."""
    code = textwrap.dedent("""
        import resource, sys
        from mhhs_workbench.validation import validate_files
        if sys.argv[2]:
            limit = int(sys.argv[2]) << 20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        report = validate_files([sys.argv[1]])
        status = open("/proc/self/status").read().split("VmPeak:")[1].split()[0]
        print(report.messages, report.invalid, report.files[0].error, int(status) >> 10)
    """)
    done = subprocess.run([sys.executable, "-c", code, str(path), str(limit_mb or "")],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    *summary, peak = done.stdout.split()
    return " ".join(summary), int(peak)


def _many_messages(path: Path, template: dict, n: int) -> Path:
    """``n`` distinct valid messages: ``template`` (4 days) moved 4 days on each time, with its
    own reference."""
    text = orjson.dumps({"payload": template})

    def moved(i: int) -> bytes:
        shift = timedelta(days=4 * i)
        out = re.sub(rb"\d{4}-\d{2}-\d{2}",
                     lambda m: (date.fromisoformat(m.group().decode()) + shift).isoformat().encode(),
                     text)
        return out.replace(b"-000000", f"-{i:06d}".encode())

    with path.open("wb") as out:
        out.write(b"[" + b",".join(moved(i) for i in range(n)) + b"]")
    return path


@pytest.mark.slow
def test_memory_is_bounded_by_one_message(tmp_path: Path, make_if021) -> None:
    _, small_peak = _run_limited(_write(tmp_path / "one.json", [make_if021()]), None)
    n = 4000
    big = _many_messages(tmp_path / "big.json", make_if021(reference=0, days=4), n)
    size_mb = big.stat().st_size >> 20
    assert size_mb > 40
    limit = small_peak + size_mb
    # parsed whole, the file takes several times its size: more than the limit allows ...
    whole = subprocess.run(
        [sys.executable, "-c", "import resource, sys, orjson; from mhhs_workbench import validation; "
         f"resource.setrlimit(resource.RLIMIT_AS, ({limit} << 20, {limit} << 20)); "
         "orjson.loads(open(sys.argv[1], 'rb').read())", str(big)],
        capture_output=True, text=True, timeout=600, check=False)
    assert whole.returncode != 0  # MemoryError, or a crash of the parser out of memory
    # ... read a message at a time, it is checked within that limit
    summary, _ = _run_limited(big, limit)
    assert summary == f"{n} 0 None"

"""Reports of a validation run: findings as JSON, JUnit XML and a self-contained HTML page.

Each finding names the file, the message index, the JSON path, the rule code, the offending value
(shortened) and a one-line reason. The HTML page carries its own chart (inline SVG) so that it
can be attached as test evidence on its own.
"""

from __future__ import annotations

import html
import os
import stat
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import orjson

from mhhs_workbench.codes.rules import RULES
from mhhs_workbench.validation.problems import ValidationReport

__all__ = [
    "findings_rows",
    "report_json",
    "rule_chart_svg",
    "write_html",
    "write_junit",
]

#: Findings shown per rule on the HTML page.
FIRST_PER_RULE = 10


def findings_rows(report: ValidationReport) -> list[dict[str, Any]]:
    """Every kept finding as a row: ``file``, ``index``, ``path``, ``code``, ``value``,
    ``reason``."""
    return [
        {
            "file": str(file.path),
            "index": problem.index,
            "path": problem.path,
            "code": problem.code,
            "value": problem.value,
            "reason": problem.message,
        }
        for file, problem in report.findings()
    ]


def report_json(report: ValidationReport) -> str:
    """The run as JSON: what was checked, the counts per rule and the findings list."""
    document = {
        "ok": report.ok,
        "checked_against": report.checked_against,
        "files": len(report.files),
        "messages": report.messages,
        "invalid_messages": report.invalid,
        "rule_counts": dict(sorted(report.rule_counts.items())),
        "findings": findings_rows(report),
        "files_checked": [
            {"file": str(f.path), "messages": f.messages, "invalid": f.invalid, "ok": f.ok}
            for f in report.files
        ],
        "skipped": [{"file": str(p), "reason": why} for p, why in report.skipped],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


def write_junit(report: ValidationReport, path: str | os.PathLike[str]) -> Path:
    """Write a JUnit XML file: one test case per message file, a failure per invalid file."""
    suite = ET.Element(
        "testsuite",
        name="mhhs-workbench validate",
        tests=str(len(report.files)),
        failures=str(sum(not f.ok for f in report.files)),
        errors="0",
        skipped="0",
    )
    ET.SubElement(ET.SubElement(suite, "properties"), "property",
                  name="checked_against", value=report.checked_against)
    for file in report.files:
        case = ET.SubElement(suite, "testcase", classname="validate", name=str(file.path))
        if file.ok:
            continue
        first = file.error or (file.findings[0] if file.findings else None)
        summary = ", ".join(f"{code} x{n}" for code, n in sorted(file.problem_counts.items()))
        failure = ET.SubElement(
            case, "failure", type=first.code if first else "invalid",
            message=f"{file.invalid} of {file.messages} messages invalid; {summary}"
            if file.error is None else file.error.message,
        )
        failure.text = "\n".join(str(p) for p in file.findings)
    return _write_whole(path, ET.tostring(suite, encoding="utf-8", xml_declaration=True))


def rule_chart_svg(counts: Counter[str] | dict[str, int], *, width: int = 640) -> str:
    """A horizontal bar chart of problems per rule code, as inline SVG (empty counts: a note)."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    bar_h, gap, label_w = 20, 6, 170
    height = max(1, len(items)) * (bar_h + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="problems per rule">'
    ]
    if not items:
        parts.append(f'<text x="4" y="{bar_h}" font-family="sans-serif" font-size="13">'
                     "no problems found</text>")
    top = max((n for _, n in items), default=1)
    for k, (code, n) in enumerate(items):
        y = gap + k * (bar_h + gap)
        w = max(1, round((width - label_w - 70) * n / top))
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h - 5}" text-anchor="end" '
            f'font-family="sans-serif" font-size="13">{html.escape(code)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#c0392b">'
            f"<title>{html.escape(code)}: {n}</title></rect>"
            f'<text x="{label_w + w + 6}" y="{y + bar_h - 5}" font-family="sans-serif" '
            f'font-size="13">{n:,}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _cell(value: Any) -> str:
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


def write_html(report: ValidationReport, path: str | os.PathLike[str]) -> Path:
    """Write a self-contained HTML page: verdict, counts per rule, chart, first findings per
    rule and the files checked."""
    counts = report.rule_counts
    verdict = "OK" if report.ok else "FAIL"
    rows = findings_rows(report)
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        listed = by_rule.setdefault(row["code"], [])
        if len(listed) < FIRST_PER_RULE:
            listed.append(row)
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Validation {verdict}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;font-size:13px}"
        ".OK{color:#1e8449}.FAIL{color:#c0392b}</style></head><body>",
        f"<h1 class='{verdict}'>Validation: {verdict}</h1>",
        f"<p>Checked against: {html.escape(report.checked_against)}</p>",
        f"<p>{len(report.files)} files, {report.messages:,} messages, "
        f"{report.invalid:,} invalid messages, {sum(counts.values()):,} problems.</p>",
        "<h2>Problems per rule</h2>",
        "<table><tr><th>rule</th><th>problems</th><th>what valid data does</th></tr>",
    ]
    for code, n in sorted(counts.items()):
        rule = RULES.get(code)
        out.append(f"<tr>{_cell(code)}{_cell(f'{n:,}')}{_cell(rule.text if rule else '')}</tr>")
    out.append("</table>")
    out.append(rule_chart_svg(counts))
    out.append(f"<h2>First findings per rule (up to {FIRST_PER_RULE})</h2>")
    if not by_rule:
        out.append("<p>None.</p>")
    for code, listed in sorted(by_rule.items()):
        out.append(f"<h3>{html.escape(code)}</h3><table><tr><th>file</th><th>message</th>"
                   "<th>path</th><th>value</th><th>reason</th></tr>")
        for row in listed:
            out.append("<tr>" + "".join(_cell(row[k]) for k in
                                        ("file", "index", "path", "value", "reason")) + "</tr>")
        out.append("</table>")
    out.append("<h2>Files</h2><table><tr><th>file</th><th>messages</th><th>invalid</th>"
               "<th>verdict</th></tr>")
    for f in report.files:
        out.append(f"<tr>{_cell(f.path)}{_cell(f.messages)}{_cell(f.invalid)}"
                   f"{_cell('OK' if f.ok else 'FAIL')}</tr>")
    out.append("</table></body></html>")
    return _write_whole(path, "\n".join(out).encode("utf-8"))


def _write_whole(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write a report whole or not at all (a full disk leaves no partial or temporary file).

    A regular file (or a new one) is written to a temporary file beside it, flushed and renamed
    over it, through a symbolic link to it; anything else (``/dev/stdout``, a FIFO) is written as
    it is, never replaced.

    Parameters
    ----------
    path : path
        The report file.
    data : bytes
        Its whole content.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        The file could not be written; the old file, if any, is left as it was.
    """
    target = Path(path)
    real = Path(os.path.realpath(target))
    umask = os.umask(0)
    os.umask(umask)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG | (0o666 & ~umask)
    if not stat.S_ISREG(mode):
        with open(real, "wb") as f:
            f.write(data)
        return target
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(mode))  # mkstemp makes it private; keep the old file's mode
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

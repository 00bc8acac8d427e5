"""The Markdown report: what a person reviews. Everything cited is escaped."""

from __future__ import annotations

import re
from typing import TextIO

from crawler.model import CheckResult, Link, Problem, Verdict
from crawler.report import Report
from crawler.text import visible

_ESCAPED = re.compile(r"([\\`*_\[\]|~#])")
# "&" only matters where it could start an entity ("&copy;" would render ©).
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
_MAX_TEXT = 240
_ATTENTION = (Verdict.DEAD, Verdict.MOVED)


def escape(text: str) -> str:
    """Cited text as inert Markdown: no markup, no HTML, no table breaks, no terminal controls."""
    text = visible(" ".join(text.split()))
    text = _ENTITY_LIKE.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    return _ESCAPED.sub(r"\\\1", text)


def shorten(text: str, limit: int = _MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_DESTINATION_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f<>|\\`]")


def destination(url: str) -> str:
    """A link destination that cannot end the link or split a table row.

    A server's Location ("http://x|**BOLD**|@good.test/") must not add cells;
    percent-encoding keeps the URL the same URL.
    """
    return _DESTINATION_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), visible(url))


def link_cell(link: Link) -> str:
    # The text is the citation as written, Unicode kept; the destination the normalised URL.
    return f"[{escape(link.cited_as)}](<{destination(link.url)}>)"


def url_cell(url: str) -> str:
    return f"[{escape(url)}](<{destination(url)}>)"


def where(source: str, line: int) -> str:
    return escape(f"{source}:{line}")


def _cited_in(link: Link) -> str:
    return "<br>".join(where(c.reference.source, c.reference.line) for c in link.citations)


def _accessed(link: Link) -> str:
    dates = sorted({c.accessed.isoformat() for c in link.citations if c.accessed})
    return ", ".join(dates) or "–"


def _verdict_cell(result: CheckResult | None) -> str:
    if result is None or result.verdict is None:
        return "not judged"
    cell = f"**{result.verdict.value}** ({escape(result.reason)})"
    if result.verdict is Verdict.MOVED and result.final_url:
        cell += f" → {url_cell(result.final_url)}"
    return cell


def write(report: Report, stream: TextIO) -> None:
    s = report.summary
    stream.write("# Reference links\n\n")
    stream.write(f"Generated {report.generated.strftime('%Y-%m-%d %H:%M UTC')}: "
                 f"{s['links']} links in {s['references']} references, {s['problems']['total']} problems.\n")
    checked = report.results is not None
    if report.network == "down":
        stream.write("\n**The network was down: no link was judged.** Run the audit again when it is back.\n")
    elif checked:
        counts = ", ".join(f"{n} {name}" for name, n in s["verdicts"].items() if n)
        stream.write(f"\nVerdicts: {counts or 'none'}.\n")
    if report.errors:
        stream.write("\n## Inputs that could not be read\n\n")
        for error in report.errors:
            stream.write(f"- {escape(error.source)}: {escape(error.message)}\n")
    if checked and report.network != "down":
        _attention(report, stream)
    stream.write("\n## Links\n\n")
    if not report.links:
        stream.write("No links found.\n")
    elif checked:
        stream.write("| # | Verdict | Link | Status | Accessed | Cited in |\n|--:|---|---|--:|---|---|\n")
        for n, link in enumerate(report.links, 1):
            result = report.result(link)
            status = str(result.status) if result and result.status is not None else "–"
            stream.write(f"| {n} | {_verdict_cell(result)} | {link_cell(link)} | {status} | {_accessed(link)} | "
                         f"{_cited_in(link)} |\n")
    else:
        stream.write("| # | Link | Accessed | Cited in |\n|--:|---|---|---|\n")
        for n, link in enumerate(report.links, 1):
            stream.write(f"| {n} | {link_cell(link)} | {_accessed(link)} | {_cited_in(link)} |\n")
    stream.write("\n## Problems\n\n")
    if report.problems:
        stream.write("| Problem | Where | What is wrong | Reference |\n|---|---|---|---|\n")
        for problem in report.problems:
            stream.write(_problem_row(problem))
    else:
        stream.write("No problems found.\n")


def _attention(report: Report, stream: TextIO) -> None:
    rows = [(link, result) for link in report.links
            if (result := report.result(link)) is not None and result.verdict in _ATTENTION]
    if not rows:
        return
    stream.write("\n## Needs attention\n\n| Verdict | Link | Why | Cited in |\n|---|---|---|---|\n")
    for link, result in sorted(rows, key=lambda row: _ATTENTION.index(row[1].verdict)):
        stream.write(f"| {_verdict_cell(result)} | {link_cell(link)} | {escape(result.detail)} | "
                     f"{_cited_in(link)} |\n")


def _problem_row(problem: Problem) -> str:
    ref = problem.reference
    kind = problem.kind.value.replace("_", " ")
    return (f"| {kind} | {where(ref.source, ref.line)} | {escape(problem.detail)} | "
            f"{escape(shorten(ref.text))} |\n")

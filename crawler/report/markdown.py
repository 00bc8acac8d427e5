"""The Markdown report: what a person reviews. Everything cited is escaped."""

from __future__ import annotations

import re
from typing import TextIO

from crawler.model import Link, Problem
from crawler.report import Report

_ESCAPED = re.compile(r"([\\`*_\[\]|~#])")
_MAX_TEXT = 240


def escape(text: str) -> str:
    """Cited text as inert Markdown: no markup, no HTML, no table breaks."""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ESCAPED.sub(r"\\\1", text)


def shorten(text: str, limit: int = _MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def link_cell(link: Link) -> str:
    # The destination is the normalised URL (no spaces, "<" or ">" after
    # percent-encoding); the text is the citation as written, Unicode kept.
    return f"[{escape(link.cited_as)}](<{link.url}>)"


def where(source: str, line: int) -> str:
    return escape(f"{source}:{line}")


def _cited_in(link: Link) -> str:
    return "<br>".join(where(c.reference.source, c.reference.line) for c in link.citations)


def _accessed(link: Link) -> str:
    dates = sorted({c.accessed.isoformat() for c in link.citations if c.accessed})
    return ", ".join(dates) or "–"


def write(report: Report, stream: TextIO) -> None:
    s = report.summary
    stream.write("# Reference links\n\n")
    stream.write(f"Generated {report.generated.strftime('%Y-%m-%d %H:%M UTC')}: "
                 f"{s['links']} links in {s['references']} references, {s['problems']} problems.\n")
    if report.errors:
        stream.write("\n## Inputs that could not be read\n\n")
        for error in report.errors:
            stream.write(f"- {escape(error.source)}: {escape(error.message)}\n")
    stream.write("\n## Links\n\n")
    if report.links:
        stream.write("| # | Link | Accessed | Cited in |\n|--:|---|---|---|\n")
        for n, link in enumerate(report.links, 1):
            stream.write(f"| {n} | {link_cell(link)} | {_accessed(link)} | {_cited_in(link)} |\n")
    else:
        stream.write("No links found.\n")
    stream.write("\n## Problems\n\n")
    if report.problems:
        stream.write("| Problem | Where | What is wrong | Reference |\n|---|---|---|---|\n")
        for problem in report.problems:
            stream.write(_problem_row(problem))
    else:
        stream.write("No problems found.\n")


def _problem_row(problem: Problem) -> str:
    ref = problem.reference
    kind = problem.kind.value.replace("_", " ")
    return (f"| {kind} | {where(ref.source, ref.line)} | {escape(problem.detail)} | "
            f"{escape(shorten(ref.text))} |\n")

"""Reading crawler.report/2 in tests: links and problems joined to the references they point to."""

from __future__ import annotations

from typing import Any


def _references(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {ref["id"]: ref for ref in report["references"]}


def cited_in(report: dict[str, Any], link: dict[str, Any]) -> list[dict[str, Any]]:
    """A link's citations as {source, line, number, text, accessed}."""
    refs = _references(report)
    return [{**{k: v for k, v in refs[c["reference"]].items() if k != "id"}, "accessed": c["accessed"]}
            for c in link["citations"]]


def problems(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Problems as {kind, source, line, text, detail, url}."""
    refs = _references(report)
    joined = []
    for problem in report["problems"]:
        ref = refs[problem["reference"]]
        joined.append({"kind": problem["kind"], "source": ref["source"], "line": ref["line"], "text": ref["text"],
                       "detail": problem["detail"], "url": problem["url"]})
    return joined


def table_rows(markdown: str) -> list[tuple[str, str]]:
    """(header, row) for every row of every table in a Markdown report."""
    pairs = []
    header = None
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            header = None
            continue
        if header is None:
            if i + 1 < len(lines) and lines[i + 1].startswith(("|-", "|:")):
                header = line
            continue
        if line.startswith(("|-", "|:")):
            continue
        pairs.append((header, line))
    return pairs


def cells(row: str) -> int:
    """The number of cells GitHub's table parser sees: unescaped pipes split them."""
    return row.replace("\\\\", "").replace("\\|", "").count("|") - 1

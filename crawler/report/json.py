"""The JSON report, schema ``crawler.report/1`` (documented in README.md).

Link rows are written one at a time, so the writer never builds the whole
document as one object.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from crawler.model import CheckResult, Citation, Link, Problem, Snapshot
from crawler.report import SCHEMA, Report


# One encoder for the whole report: json.dumps(..., ensure_ascii=False) would
# build a new one for every link.
_dumps = json.JSONEncoder(ensure_ascii=False).encode


def reference_json(citation: Citation) -> dict[str, Any]:
    ref = citation.reference
    return {
        "source": ref.source,
        "line": ref.line,
        "text": ref.text,
        "accessed": citation.accessed.isoformat() if citation.accessed else None,
    }


def snapshot_json(snapshot: Snapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {"url": snapshot.url, "timestamp": snapshot.timestamp, "archive": snapshot.archive,
            "status": snapshot.status}


def link_json(link: Link, result: CheckResult | None = None) -> dict[str, Any]:
    return {
        "url": link.url,
        "cited_as": link.cited_as,
        "verdict": result.verdict.value if result and result.verdict else None,
        "reason": result.reason if result else None,
        "detail": result.detail if result else None,
        "status": result.status if result else None,
        "final_url": result.final_url if result else None,
        "redirects": [{"status": r.status, "url": r.url} for r in result.redirects] if result else [],
        "known_snapshot": snapshot_json(link.known_snapshot),
        "alternatives": list(link.alternatives),
        "references": [reference_json(c) for c in link.citations],
    }


def problem_json(problem: Problem) -> dict[str, Any]:
    ref = problem.reference
    return {"kind": problem.kind.value, "source": ref.source, "line": ref.line, "text": ref.text,
            "detail": problem.detail}


def write(report: Report, stream: TextIO) -> None:
    head = {"schema": SCHEMA, "generated": report.generated.isoformat(timespec="seconds"),
            "network": report.network}
    stream.write("{\n")
    for key, value in head.items():
        stream.write(f"  {_dumps(key)}: {_dumps(value)},\n")
    _write_list(stream, "links", (link_json(link, report.result(link)) for link in report.links))
    stream.write(",\n")
    _write_list(stream, "problems", (problem_json(p) for p in report.problems))
    stream.write(",\n")
    _write_list(stream, "errors", ({"source": e.source, "message": e.message} for e in report.errors))
    stream.write(f',\n  "summary": {_dumps(report.summary)}\n}}\n')


def _write_list(stream: TextIO, key: str, items: Any) -> None:
    stream.write(f"  {_dumps(key)}: [")
    first = True
    for item in items:
        stream.write("\n    " if first else ",\n    ")
        stream.write(_dumps(item))
        first = False
    stream.write("]" if first else "\n  ]")

"""The JSON report, schema ``crawler.report/2`` (documented in README.md).

Each reference is written once, in a top-level ``references`` list, and
links and problems point to it by ``id``: a paragraph citing 1,909 URLs
once repeated its whole text in every link, and a 200 KB input made a
382 MB report. Now the report's size is linear in the input's.

Rows are written one at a time, so the writer never builds the whole
document as one object. Every string is valid Unicode, and the characters
a terminal would act on (C1 controls, bidi overrides) are written as
``\\u`` escapes, which the JSON value keeps intact.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Any, TextIO

from crawler.model import ArchiveResult, CheckResult, History, Link, Problem, Reference, Snapshot
from crawler.report import SCHEMA, TOOL, Changes, Report, archive_key
from crawler.text import valid

# One encoder for the whole report: json.dumps(..., ensure_ascii=False) would
# build a new one for every link. (C0 controls it escapes itself.)
_encode = json.JSONEncoder(ensure_ascii=False).encode
_UNSAFE_RE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _dumps(value: Any) -> str:
    text = valid(_encode(value))
    return _UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if not text.isascii() else text


def _time(value: _dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def reference_json(ref: Reference, ident: int) -> dict[str, Any]:
    return {"id": ident, "source": ref.source, "line": ref.line, "number": ref.number, "text": ref.text}


def snapshot_json(snapshot: Snapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {"url": snapshot.url, "timestamp": snapshot.timestamp, "archive": snapshot.archive,
            "status": snapshot.status}


def archive_json(result: ArchiveResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"status": result.status.value, "archive": result.archive, "snapshot_url": result.snapshot_url,
            "timestamp": result.timestamp, "relation": result.relation, "detail": result.detail}


def history_json(history: History | None, change: str | None = None) -> dict[str, Any] | None:
    if history is None:
        return None
    return {"checks": history.checks, "consecutive_failures": history.consecutive_failures,
            "first_failed": _time(history.first_failed), "last_alive": _time(history.last_alive),
            "last_checked": _time(history.last_checked), "confirmed": history.confirmed, "change": change}


def link_json(link: Link, result: CheckResult | None, ids: dict[Reference, int], report: Report) -> dict[str, Any]:
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
        "uncertain": link.uncertain,
        "citations": [{"reference": ids[c.reference],
                       "accessed": c.accessed.isoformat() if c.accessed else None} for c in link.citations],
        "archive": archive_json(report.archive(archive_key(link))),
        "history": history_json(report.history(link), report.changes.of(link.url) if report.changes else None),
    }


def problem_json(problem: Problem, ids: dict[Reference, int], report: Report) -> dict[str, Any]:
    return {"kind": problem.kind.value, "reference": ids[problem.reference], "detail": problem.detail,
            "url": problem.url, "archive": archive_json(report.archive(archive_key(problem)))}


def write(report: Report, stream: TextIO) -> None:
    ids = {ref: n for n, ref in enumerate(report.references, 1)}
    for item in [*(c.reference for link in report.links for c in link.citations),
                 *(p.reference for p in report.problems)]:
        ids.setdefault(item, len(ids) + 1)  # a reference the extraction did not list: still once
    finished = report.finished
    head = {
        "schema": SCHEMA,
        "tool": TOOL,
        "command": report.command,
        "generated": _time(report.generated),
        "started": _time(report.started),
        "finished": _time(finished),
        "duration_s": round((finished - report.started).total_seconds(), 3) if finished else None,
        "network": report.network,
        "interrupted": report.interrupted,
        "confirmation": ({"failures": report.confirmation.failures,
                          "spacing_days": report.confirmation.spacing_days} if report.confirmation else None),
        "notes": list(report.notes),
        "changes": _changes_json(report.changes) if report.changes is not None else None,
    }
    stream.write("{\n")
    for key, value in head.items():
        stream.write(f"  {_dumps(key)}: {_dumps(value)},\n")
    _write_list(stream, "references", (reference_json(ref, n) for ref, n in ids.items()))
    stream.write(",\n")
    _write_list(stream, "links", (link_json(link, report.result(link), ids, report) for link in report.links))
    stream.write(",\n")
    _write_list(stream, "problems", (problem_json(p, ids, report) for p in report.problems))
    stream.write(",\n")
    _write_list(stream, "errors", ({"source": e.source, "message": e.message} for e in report.errors))
    stream.write(f',\n  "summary": {_dumps(report.summary)}\n}}\n')


def _changes_json(changes: Changes) -> dict[str, Any]:
    return {"previous_run": _time(changes.previous), "newly_dead": sorted(changes.newly_dead),
            "newly_failing": sorted(changes.newly_failing), "recovered": sorted(changes.recovered)}


def _write_list(stream: TextIO, key: str, items: Any) -> None:
    stream.write(f"  {_dumps(key)}: [")
    first = True
    for item in items:
        stream.write("\n    " if first else ",\n    ")
        stream.write(_dumps(item))
        first = False
    stream.write("]" if first else "\n  ]")

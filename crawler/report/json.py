"""The JSON report, schema ``crawler.report/2`` (documented in README.md).

Each reference is written once, in a top-level ``references`` list, and
links and problems point to it by ``id``: a paragraph citing 1,909 URLs
once repeated its whole text in every link, and a 200 KB input made a
382 MB report. Now the report's size is linear in the input's.

Rows are written a few hundred at a time, so the writer never builds the
whole document as one object. Every string is valid Unicode, and the
characters a terminal would act on (C1 controls, bidi overrides) are
written as ``\\u`` escapes, which the JSON value keeps intact.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, TextIO

from crawler.model import (
    ArchiveResult,
    ArchiveStatus,
    CheckResult,
    History,
    Link,
    Problem,
    ProblemKind,
    Reference,
    Snapshot,
    Verdict,
)
from crawler.report import SCHEMA, TOOL, Changes, Report, archive_key
from crawler.text import valid

_UNSAFE_RE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
ROWS_PER_WRITE = 256  # rows joined into one write: fewer calls, and still never the whole list at once
# An enum's .value is a Python-level property on 3.11: looked up once here, not once per row.
_VERDICT = {verdict: verdict.value for verdict in Verdict}
_ARCHIVE_STATUS = {status: status.value for status in ArchiveStatus}
_PROBLEM_KIND = {kind: kind.value for kind in ProblemKind}


def _encoder() -> Callable[[Any], str]:
    """json.JSONEncoder(ensure_ascii=False).encode, without its per-call setup.

    That setup (a closure and a C encoder made anew) cost more than encoding
    a link's row. The C encoder is made once, without the circular-reference
    check: every value encoded here is a tree of fresh dicts and lists.
    """
    if c_make_encoder is None:  # no _json accelerator: the pure-Python encoder, as before
        return json.JSONEncoder(ensure_ascii=False).encode
    encode = c_make_encoder(None, json.JSONEncoder().default, encode_basestring, None, ": ", ", ",
                            False, False, True)
    join = "".join

    def encode_value(value: Any) -> str:
        return join(encode(value, 0))
    return encode_value


# One encoder for the whole report (C0 controls it escapes itself).
_encode = _encoder()


def _dumps(value: Any) -> str:
    return _safe(_encode(value))


def _safe(text: str) -> str:
    """JSON text as the report writes it: valid Unicode, with terminal controls escaped."""
    if text.isascii():
        return text
    return _UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", valid(text))


def _time(value: _dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def reference_json(ref: Reference, ident: int) -> dict[str, Any]:
    return {"id": ident, "source": ref.source, "line": ref.line, "number": ref.number, "text": ref.text}


def reference_text(ref: Reference, ident: int) -> str:
    """_dumps(reference_json(ref, ident)), from a template (see _link_text)."""
    line, number = ref.line, ref.number
    if (type(line) is not int or (number is not None and type(number) is not int) or type(ident) is not int
            or type(ref.source) is not str or type(ref.text) is not str):
        return _dumps(reference_json(ref, ident))
    quote = encode_basestring
    return _safe(f'{{"id": {ident}, "source": {quote(ref.source)}, "line": {line}, '
                 f'"number": {"null" if number is None else number}, "text": {quote(ref.text)}}}')


def snapshot_json(snapshot: Snapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {"url": snapshot.url, "timestamp": snapshot.timestamp, "archive": snapshot.archive,
            "status": snapshot.status}


def archive_json(result: ArchiveResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"status": _ARCHIVE_STATUS[result.status], "archive": result.archive,
            "snapshot_url": result.snapshot_url, "timestamp": result.timestamp, "relation": result.relation,
            "detail": result.detail}


def history_json(history: History | None, change: str | None = None) -> dict[str, Any] | None:
    if history is None:
        return None
    return {"checks": history.checks, "consecutive_failures": history.consecutive_failures,
            "first_failed": _time(history.first_failed), "last_alive": _time(history.last_alive),
            "last_checked": _time(history.last_checked), "confirmed": history.confirmed, "change": change}


class _Ids:
    """Each reference's id, by equality as before; by identity first, which needs no dataclass __hash__.

    Links' citations almost always hold the very Reference objects of
    Report.references, and hashing a frozen dataclass is a Python call.
    """

    def __init__(self, references: Sequence[Reference]) -> None:
        self.by_value: dict[Reference, int] = {ref: n for n, ref in enumerate(references, 1)}
        # With two equal references listed, the dict keeps the later number: identity would disagree.
        self.by_identity: dict[int, int] = (
            {id(ref): n for n, ref in enumerate(references, 1)} if len(self.by_value) == len(references) else {})

    def add(self, ref: Reference) -> int:
        """The id of ``ref``; a reference the extraction did not list gets the next one, still once."""
        known = self.by_identity.get(id(ref))
        if known is None:
            known = self.by_identity[id(ref)] = self.by_value.setdefault(ref, len(self.by_value) + 1)
        return known

    def __getitem__(self, ref: Reference) -> int:
        """The id of a reference already add()ed."""
        return self.by_identity[id(ref)]


def link_json(link: Link, result: CheckResult | None, ids: Any, report: Report) -> dict[str, Any]:
    return _link_row(report)(link, result, ids)


def _link_row(report: Report) -> Callable[[Link, CheckResult | None, Any], dict[str, Any]]:
    """link_json for every link of ``report``, with what is the same for all of them looked up once."""
    archives, histories, changes = report.archives, report.histories, report.changes
    verdicts = _VERDICT

    def row(link: Link, result: CheckResult | None, ids: Any) -> dict[str, Any]:
        if result is not None:
            verdict = result.verdict
            redirects = [{"status": r.status, "url": r.url} for r in result.redirects] if result.redirects else []
            checked = (verdicts[verdict] if verdict else None, result.reason, result.detail, result.status,
                       result.final_url)
        else:
            redirects, checked = [], (None, None, None, None, None)
        snapshot = link.known_snapshot
        history = histories.get(link.url) if histories is not None else None
        return {
            "url": link.url,
            "cited_as": link.cited_as,
            "verdict": checked[0],
            "reason": checked[1],
            "detail": checked[2],
            "status": checked[3],
            "final_url": checked[4],
            "redirects": redirects,
            "known_snapshot": snapshot_json(snapshot) if snapshot is not None else None,
            "alternatives": list(link.alternatives),
            "uncertain": link.uncertain,
            "citations": [{"reference": ids[c.reference],
                           "accessed": c.accessed.isoformat() if c.accessed is not None else None}
                          for c in link.citations],
            "archive": archive_json(archives.get(link.url)) if archives is not None else None,
            "history": (history_json(history, changes.of(link.url) if changes else None)
                        if history is not None else None),
        }
    return row


_JSON_BOOL = {True: "true", False: "false"}


def _link_text(report: Report) -> Callable[[Link, CheckResult | None, Any], str]:
    """Each link's row as JSON text, exactly _dumps(link_json(...)).

    The usual row (checked, no redirect, no snapshot, archive or history) is
    filled into a template: the general encoder built a dict and encoded its
    fourteen keys again for every row, at four times the cost.
    """
    row = _link_row(report)
    archives, histories, verdicts, quote = report.archives, report.histories, _VERDICT, encode_basestring

    def text(link: Link, result: CheckResult | None, ids: Any) -> str:
        url = link.url
        if (result is None or result.redirects or link.known_snapshot is not None or link.alternatives
                or (archives is not None and archives.get(url) is not None)
                or (histories is not None and histories.get(url) is not None)):
            return _dumps(row(link, result, ids))
        status, final_url, verdict, reason, detail = (result.status, result.final_url, result.verdict,
                                                      result.reason, result.detail)
        uncertain = _JSON_BOOL.get(link.uncertain)
        # Only the types the template writes as the encoder would; anything else goes the general way.
        if ((status is not None and type(status) is not int) or uncertain is None or type(reason) is not str
                or type(detail) is not str or (final_url is not None and type(final_url) is not str)):
            return _dumps(row(link, result, ids))
        citations = ", ".join(
            f'{{"reference": {ids[c.reference]}, '
            f'"accessed": {quote(c.accessed.isoformat()) if c.accessed is not None else "null"}}}'
            for c in link.citations)
        return _safe(
            f'{{"url": {quote(url)}, "cited_as": {quote(link.cited_as)}, '
            f'"verdict": {quote(verdicts[verdict]) if verdict else "null"}, "reason": {quote(reason)}, '
            f'"detail": {quote(detail)}, "status": {"null" if status is None else status}, '
            f'"final_url": {"null" if final_url is None else quote(final_url)}, "redirects": [], '
            f'"known_snapshot": null, "alternatives": [], "uncertain": {uncertain}, "citations": [{citations}], '
            f'"archive": null, "history": null}}')
    return text


def problem_json(problem: Problem, ids: Any, report: Report) -> dict[str, Any]:
    return {"kind": _PROBLEM_KIND[problem.kind], "reference": ids[problem.reference], "detail": problem.detail,
            "url": problem.url, "archive": archive_json(report.archive(archive_key(problem)))}


def write(report: Report, stream: TextIO) -> None:
    ids = _Ids(report.references)
    for link in report.links:
        for c in link.citations:
            ids.add(c.reference)
    for p in report.problems:
        ids.add(p.reference)
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
    _write_list(stream, "references", (reference_text(ref, n) for ref, n in ids.by_value.items()), encoded=True)
    stream.write(",\n")
    row = _link_text(report)
    results = report.results
    if results is None:
        rows = (row(link, None, ids) for link in report.links)
    else:
        get = results.get
        rows = (row(link, get(link.url), ids) for link in report.links)
    _write_list(stream, "links", rows, encoded=True)
    stream.write(",\n")
    _write_list(stream, "problems", (problem_json(p, ids, report) for p in report.problems))
    stream.write(",\n")
    _write_list(stream, "errors", ({"source": e.source, "message": e.message} for e in report.errors))
    stream.write(f',\n  "summary": {_dumps(report.summary)}\n}}\n')


def _changes_json(changes: Changes) -> dict[str, Any]:
    return {"previous_run": _time(changes.previous), "newly_dead": sorted(changes.newly_dead),
            "newly_failing": sorted(changes.newly_failing), "recovered": sorted(changes.recovered)}


def _write_list(stream: TextIO, key: str, items: Iterable[Any], *, encoded: bool = False) -> None:
    """``items`` as a JSON list; ``encoded``: they are JSON text already."""
    stream.write(f"  {_dumps(key)}: [")
    dumps, chunk, first = (str if encoded else _dumps), [], True
    for item in items:
        chunk.append(dumps(item))
        if len(chunk) == ROWS_PER_WRITE:
            stream.write(("\n    " if first else ",\n    ") + ",\n    ".join(chunk))
            chunk, first = [], False
    if chunk:
        stream.write(("\n    " if first else ",\n    ") + ",\n    ".join(chunk))
        first = False
    stream.write("]" if first else "\n  ]")

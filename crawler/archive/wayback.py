"""The Wayback Machine: captures from its CDX index, decided on recorded status.

The CDX index is asked for captures that recorded HTTP 200 (and the answer
is filtered again here: a server may ignore the filter), closest to the
access date: first the latest ones at or before it, then, only if none of
those is good, the earliest after it. The Availability API is not used to
decide: its "closest" capture can be a recorded 404 or redirect. It serves
only as a fallback while the index does not answer, and what it offers is
checked like any capture.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from crawler.archive.base import Archive, Capture, Excluded, captured_url, order_by_target
from crawler.archive.memento import timemap_captures
from crawler.archive.net import ArchiveHttp, ArchiveUnavailable, Family
from crawler.archive.plan import Action, ArchiveJob, parse_timestamp, timestamp_of
from crawler.archive.settings import WAYBACK, ArchiveSettings

FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest")
_PLAIN_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
# pywb's CDX API names some fields differently.
_ALIASES = {"url": "original", "mime": "mimetype", "status": "statuscode"}
_BLOCKED = ("AdministrativeAccessControlException", "Blocked Site Error", "RobotAccessControlException")


class CdxError(ValueError):
    pass


def parse_cdx(body: bytes) -> list[dict[str, str]]:
    """Rows of a CDX answer: the JSON array (header row first; ``[]`` when empty),
    pywb's JSON lines, or plain text in the default field order."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CdxError(f"not valid JSON ({exc.msg})") from None
        except RecursionError:  # nesting deeper than the parser goes: not CDX data either
            raise CdxError("not valid JSON (nested too deeply)") from None
        if not isinstance(data, list):
            raise CdxError("not a JSON array")
        if not data:
            return []
        header = data[0]
        if not isinstance(header, list) or not all(isinstance(h, str) for h in header):
            raise CdxError("no header row")
        names = [_ALIASES.get(h, h) for h in header]
        rows = []
        for row in data[1:]:
            if not isinstance(row, list) or not row:
                break  # an empty row, then a resume key, end the captures
            if len(row) != len(names):
                raise CdxError("a row does not match the header")
            rows.append({name: str(value) for name, value in zip(names, row)})
        return rows
    if text.startswith("{"):
        rows = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise CdxError(f"not valid JSON lines ({exc.msg})") from None
            except RecursionError:
                raise CdxError("not valid JSON lines (nested too deeply)") from None
            if not isinstance(item, dict):
                raise CdxError("not JSON objects")
            rows.append({_ALIASES.get(k, k): str(v) for k, v in item.items()})
        return rows
    if text.lstrip().startswith("<"):
        raise CdxError("an HTML page, not CDX data")
    rows = []
    for line in text.splitlines():
        parts = line.split(" ")
        if not line.strip():
            break  # the blank line before a resume key
        if len(parts) != len(_PLAIN_FIELDS):
            raise CdxError("a line without the 7 CDX fields")
        rows.append(dict(zip(_PLAIN_FIELDS, parts)))
    return rows


def _real_timestamp(stamp: str) -> bool:
    """14 digits that are a real moment: 20190230000000 names no capture, and fetching it only
    makes the archive fail (an error for the link, a strike towards its breaker)."""
    return len(stamp) == 14 and parse_timestamp(stamp) is not None


def _usable(row: dict[str, str]) -> bool:
    return row.get("statuscode") == "200" and _real_timestamp(row.get("timestamp", "")) and bool(row.get("original"))


class WaybackArchive(Archive):
    supports_prefix = True
    nothing_found = "no capture that recorded HTTP 200"

    def __init__(self, settings: ArchiveSettings, http: ArchiveHttp, *, lookup: Family, availability: Family,
                 replay: Family, now: Callable[[], _dt.datetime]) -> None:
        super().__init__(WAYBACK, http, replay)
        self.settings = settings
        self.lookup_family = lookup
        self.availability_family = availability
        self.now = now

    def _capture(self, row: dict[str, str], *, conclusive: bool = True, note: str = "") -> Capture:
        return Capture(WAYBACK, row["timestamp"], row["original"], self.raw(row["timestamp"], row["original"]),
                       digest=row.get("digest", "") if row.get("digest") != "-" else "", conclusive=conclusive,
                       note=note)

    def raw(self, timestamp: str, original: str) -> str:
        return f"{self.settings.replay}{timestamp}id_/{original}"

    async def captures(self, job: ArchiveJob) -> AsyncIterator[Capture]:
        known = job.known_snapshot
        if known is not None and known.archive == WAYBACK:
            yield Capture(WAYBACK, known.timestamp, job.url, self.raw(known.timestamp, job.url),
                          note="the copy the citation points to")
        if not self.settings.cdx:
            # A Wayback without a CDX index: its TimeMap lists the captures, without their statuses.
            async for capture in timemap_captures(self.http, self.lookup_family, WAYBACK,
                                                  self.settings.timemap + job.url, job,
                                                  max_bytes=self.settings.max_index_bytes):
                yield capture
            return
        if job.prefix:
            async for capture in self._prefix(job):
                yield capture
            return
        async for capture in self._exact(job.url, job):
            yield capture

    async def _exact(self, url: str, job: ArchiveJob, note: str = "") -> AsyncIterator[Capture]:
        target = job.target
        now = timestamp_of(self.now())
        try:
            if job.action is Action.SAVE:
                since = None
                if self.settings.max_age_days:
                    since = timestamp_of(self.now() - _dt.timedelta(days=self.settings.max_age_days))
                rows = await self._query(url, frm=since, closest=now)
                ordered = order_by_target([(r["timestamp"], r) for r in rows], None)
            elif target is None:
                rows = await self._query(url, closest=now)
                ordered = order_by_target([(r["timestamp"], r) for r in rows], None)
            else:
                rows = await self._query(url, to=target, closest=target)
                ordered = order_by_target([(r["timestamp"], r) for r in rows if r["timestamp"] <= target], target)
        except ArchiveUnavailable as exc:
            if not self.settings.availability_fallback or not self.settings.availability:
                raise
            async for capture in self._availability(url, target, exc):
                yield capture
            return
        for row in ordered:
            yield self._capture(row, note=note)
        if target is not None and job.action is Action.LOOKUP:
            # None good at or before the access date: the earliest after it.
            after = await self._query(url, frm=_next_second(target))
            for row in order_by_target([(r["timestamp"], r) for r in after if r["timestamp"] > target], target):
                yield self._capture(row, note=note)

    async def _prefix(self, job: ArchiveJob) -> AsyncIterator[Capture]:
        rows = await self._query(job.url, prefix=True, collapse="urlkey")
        originals: list[str] = []
        keys: set[str] = set()
        for row in rows:
            key = row.get("urlkey") or row["original"]
            if key not in keys:
                keys.add(key)
                originals.append(row["original"])
        for i, original in enumerate(originals):
            others = [o for o in originals if o != original]
            note = "the archived page whose address starts with the cut one"
            if others:
                shown = ", ".join(others[:3]) + (" …" if len(others) > 3 else "")
                note = f"one of {len(originals)} archived pages whose address starts with the cut one (also: {shown})"
            async for capture in self._exact(original, ArchiveJob(url=original), note=note):
                yield capture

    async def _query(self, url: str, *, prefix: bool = False, frm: str | None = None, to: str | None = None,
                     closest: str | None = None, collapse: str | None = None) -> list[dict[str, str]]:
        params = [("url", url), ("output", "json"), ("fl", ",".join(FIELDS)), ("filter", "statuscode:200"),
                  ("limit", str(self.settings.index_limit))]
        if prefix:
            params.append(("matchType", "prefix"))
        if frm:
            params.append(("from", frm))
        if to:
            params.append(("to", to))
        if closest and not prefix:
            params += [("closest", closest), ("sort", "closest")]
        if collapse:
            params.append(("collapse", collapse))
        answer = await self.http.request(self.lookup_family, self.settings.cdx, params=params,
                                         headers={"Accept": "application/json"},
                                         max_bytes=self.settings.max_index_bytes)
        body = answer.body.decode("utf-8", "replace")
        if answer.status == 403 and (any(word in body for word in _BLOCKED) or any(
                word in answer.headers.get("x-archive-wayback-runtime-error", "") for word in _BLOCKED)):
            raise Excluded("the Wayback Machine excludes this site (blocked by the site or a takedown)")
        if answer.status != 200:
            raise ArchiveUnavailable(f"the Wayback CDX index answered HTTP {answer.status}")
        if answer.cut:
            raise ArchiveUnavailable("the Wayback CDX index answered more than max_index_bytes")
        try:
            rows = parse_cdx(answer.body)
        except CdxError as exc:
            raise ArchiveUnavailable(f"the Wayback CDX index gave an unexpected answer: {exc}") from None
        return [row for row in rows if _usable(row)]

    async def _availability(self, url: str, target: str | None, cdx: ArchiveUnavailable) -> AsyncIterator[Capture]:
        """What the Availability API calls closest, while the index is not answering."""
        params = [("url", url.split("://", 1)[-1])]  # it matches better without a scheme
        if target:
            params.append(("timestamp", target))
        try:
            answer = await self.http.request(self.availability_family, self.settings.availability, params=params,
                                             headers={"Accept": "application/json"}, max_bytes=65536)
        except ArchiveUnavailable as exc:
            if exc.detail == cdx.detail:
                raise cdx from None
            raise ArchiveUnavailable(f"{cdx.detail}; {exc.detail}") from None
        closest = _closest(answer.status, answer.content_type, answer.body)
        if closest is None:
            raise ArchiveUnavailable(f"{cdx.detail}; the Availability API named no capture either")
        status = str(closest.get("status", ""))
        stamp = str(closest.get("timestamp", ""))
        original = captured_url(str(closest.get("url", ""))) or url
        if status != "200" or not _real_timestamp(stamp):
            raise ArchiveUnavailable(f"{cdx.detail}; the Availability API offered only a capture that "
                                     f"recorded HTTP {status or 'unknown'}, which is never offered")
        yield Capture(WAYBACK, stamp, original, self.raw(stamp, original), conclusive=False,
                      note="named by the Availability API while the CDX index did not answer; "
                           "maybe not the closest good copy")


def _closest(status: int, content_type: str, body: bytes) -> dict[str, Any] | None:
    if status != 200 or "json" not in content_type.lower():
        return None
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return None
    snapshots = data.get("archived_snapshots") if isinstance(data, dict) else None
    closest = snapshots.get("closest") if isinstance(snapshots, dict) else None
    return closest if isinstance(closest, dict) else None


def _next_second(timestamp: str) -> str:
    when = _dt.datetime.strptime(timestamp, "%Y%m%d%H%M%S") + _dt.timedelta(seconds=1)
    return when.strftime("%Y%m%d%H%M%S")

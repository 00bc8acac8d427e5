"""Is a capture the page the author saw? The checker's tests, applied to its replay.

An index saying "200" is not enough: a capture can be the site's "page not
found" served with 200, its front page, or a bot challenge. The raw replay
is fetched (a bounded read) and judged as the checker would judge the live
page. Memento-Datetime tells an archived response from the archive's own:
an archived 404 or redirect is a capture of an error, a 404 without it
means the archive has no such capture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from crawler.archive.base import Archive, Capture, captured_url
from crawler.archive.linkformat import http_date_to_timestamp, parse_links
from crawler.archive.net import REDIRECTS, UnusableCapture
from crawler.archive.settings import WAYBACK
from crawler.check.evidence import Evidence
from crawler.check.verdict import decide, is_root
from crawler.extract.urls import UrlError, canonical_url
from crawler.model import Verdict

GOOD_STATUSES = frozenset({200, 203, 206})
_ORIGINAL_HEADER = "x-archive-orig-"


@dataclass(frozen=True, slots=True)
class Checked:
    ok: bool
    reason: str = ""  # why the capture is not offered
    timestamp: str = ""  # when the replayed capture was made (14 digits)
    snapshot_url: str = ""


async def check_capture(archive: Archive, capture: Capture, page_url: str, *, max_bytes: int) -> Checked:
    """Fetch the capture's raw replay and judge it. Raises ArchiveUnavailable when the archive fails."""
    try:
        answer = await archive.http.request(archive.replay_family, capture.replay, max_bytes=max_bytes)
    except UnusableCapture as exc:
        return Checked(False, f"the capture cannot be replayed ({exc.detail})")
    archived_at = answer.memento_datetime
    status = answer.status
    if archived_at is None:
        if status == 404:
            return Checked(False, "the archive has no such capture (HTTP 404)")
        return Checked(False, f"the archive answered HTTP {status} with a page of its own, not a capture")
    if status in REDIRECTS or 300 <= status < 400:
        where = answer.headers.get("location", "")
        return Checked(False, f"the capture recorded a redirect (HTTP {status}{' to ' + where if where else ''})")
    if status not in GOOD_STATUSES:
        return Checked(False, f"the capture recorded HTTP {status}")
    final = answer.hops[-1] if answer.hops else capture.replay
    moved_to = _host(final)
    if capture.archive == WAYBACK and moved_to != _host(capture.replay):
        # The reader would be sent to that host for the copy: it is not the Wayback's capture.
        # Only the Wayback: Memento archives may serve from mirrors of their own
        # (archive.today answers as archive.ph, archive.is, archive.md...).
        return Checked(False, f"the archive sent the replay to another host ({moved_to})")
    timestamp = _timestamp(final, capture, archived_at)
    original = _original(answer.headers.get("link", "")) or captured_url(final) or capture.original
    if _root(original) and not _root(page_url):
        return Checked(False, f"the capture is the site's front page ({original})")
    # The index row, the Availability API's "closest" or the archive's own redirect
    # may name a capture of some other page: a replacement must be this page's copy.
    if page_key(original) != page_key(page_url):
        return Checked(False, f"the capture is a capture of another address ({original})")
    headers = {name[len(_ORIGINAL_HEADER):]: value for name, value in answer.headers.items()
               if name.startswith(_ORIGINAL_HEADER)}
    evidence = Evidence(url=page_url, final_url=page_url, status=200, method="GET",
                        content_type=answer.content_type, headers=headers, body=answer.body)
    result = decide(evidence, None, dns_trusted=True)
    if result.verdict is Verdict.BLOCKED:
        return Checked(False, f"the capture is a bot challenge, not the page ({result.detail})")
    if result.verdict is not Verdict.ALIVE:
        return Checked(False, f"the capture is a “not found” page ({result.detail})")
    return Checked(True, timestamp=timestamp, snapshot_url=archive.snapshot_url(final))


def _timestamp(final: str, capture: Capture, archived_at: str) -> str:
    from_header = http_date_to_timestamp(archived_at)
    if from_header:
        return from_header
    digits = final.split("://", 1)[-1]
    for part in digits.split("/"):
        stamp = part[:14]
        if len(stamp) == 14 and stamp.isdigit():
            return stamp
    return capture.timestamp


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def page_key(url: str) -> str:
    """The address as the archives match it: scheme, "www.", default ports, case and escapes do not matter.

    The Wayback's own index key (SURT) ignores the same differences, so a
    capture listed for the page always has the page's key.
    """
    rest = url.split("://", 1)[-1].split("#", 1)[0]
    host, slash, path = rest.partition("/")
    host = host.lower().rsplit("@", 1)[-1]
    for default in (":80", ":443"):
        host = host.removesuffix(default)
    host = re.sub(r"^www\d*\.", "", host)
    # Lower case as SURT has it: the index lists /Reports/ and /reports/ as one page.
    path, _, query = unquote(path).lower().partition("?")
    query = "&".join(sorted(part for part in query.split("&") if part))
    return f"{host}/{path.rstrip('/')}" + (f"?{query}" if query else "")


def _original(link_header: str) -> str | None:
    if not link_header:
        return None
    for entry in parse_links(link_header):
        if "original" in entry.rels:
            return entry.uri
    return None


def _root(url: str) -> bool:
    try:
        return is_root(canonical_url(url if "://" in url else "http://" + url))
    except UrlError:
        return False

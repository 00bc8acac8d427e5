"""What every archive module provides: its captures of a URL, best first.

An archive is one module with one class deriving from ``Archive``: it knows
how to ask its index for the captures of a URL around a date. Checking a
capture (fetching its replay and applying the checker's tests) is the same
for every archive and lives in ``validate``; choosing among archives lives in
``stage``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass

from crawler.archive.net import ArchiveHttp, Family
from crawler.archive.plan import ArchiveJob

_RAW_RE = re.compile(r"/(\d{14})id_/")
_WAYBACK_PATH_RE = re.compile(r"/(\d{14})(?:[a-z]{2}_)?/(.+)$")


class Excluded(Exception):
    """The archive answered that it keeps no copies of this site (a takedown, robots.txt)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Capture:
    archive: str
    timestamp: str  # 14-digit UTC as the index lists it (a prefix for a cited copy)
    original: str  # the URL as captured
    replay: str  # the raw replay to fetch and check
    digest: str = ""  # the payload's hash, when the index gives it: equal digests, equal pages
    # False when the capture comes from a fallback: its failing proves nothing
    # about the archive's other copies.
    conclusive: bool = True
    note: str = ""  # said in the result's detail when this capture is offered


class Archive(ABC):
    name: str
    supports_prefix = False  # can search for every URL starting with a truncated one
    nothing_found = "no capture"  # the detail when the archive lists none

    def __init__(self, name: str, http: ArchiveHttp, replay_family: Family) -> None:
        self.name = name
        self.http = http
        self.replay_family = replay_family

    @abstractmethod
    def captures(self, job: ArchiveJob) -> AsyncIterator[Capture]:
        """Captures worth checking for ``job``, best first, fetched lazily.

        Raises ArchiveUnavailable when the archive does not answer, and
        Excluded when it answers that it has nothing by policy.
        """

    def snapshot_url(self, replayed: str) -> str:
        """The address a reader should follow, from the raw replay that was checked."""
        return _RAW_RE.sub(r"/\1/", replayed, count=1)


def raw_replay(memento_url: str) -> str:
    """The raw form of a Wayback-style memento URL (…/20150301000000id_/…): the page as captured.

    pywb, OpenWayback and the Internet Archive serve the page without their
    banner and rewritten links in this form; other URLs are used as they are.
    """
    return re.sub(r"/(\d{14})/", r"/\1id_/", memento_url, count=1)


def captured_url(replay_url: str) -> str | None:
    """The original URL inside a Wayback-style replay URL (…/web/TIMESTAMP[id_]/URL), if it is one."""
    rest = replay_url.split("://", 1)[-1]
    slash = rest.find("/")
    m = _WAYBACK_PATH_RE.search(rest, slash) if slash >= 0 else None
    return m.group(2) if m else None


def order_by_target(items: list[tuple[str, object]], target: str | None) -> list[object]:
    """Items keyed by timestamp in the order they should be tried.

    The latest at or before the target, going back; then the earliest after
    it, going forward. Without a target, the latest first.
    """
    if target is None:
        return [item for _, item in sorted(items, key=lambda pair: pair[0], reverse=True)]
    before = sorted((pair for pair in items if pair[0][:14] <= target), key=lambda pair: pair[0], reverse=True)
    after = sorted((pair for pair in items if pair[0][:14] > target), key=lambda pair: pair[0])
    return [item for _, item in before + after]

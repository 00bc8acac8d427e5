"""Settings of the archive stage; the ``[archive]`` table of the config maps onto these.

The endpoints default to the Internet Archive's. Each can be set on its own
(an institution's own Wayback, a test server), or all at once under one base
with ``with_base`` (the command line's ``--wayback-url BASE``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# The Internet Archive's endpoints. Availability lives on archive.org, the rest
# on web.archive.org.
AVAILABILITY = "https://archive.org/wayback/available"
CDX = "https://web.archive.org/cdx/search/cdx"
SAVE = "https://web.archive.org/save"
SAVE_STATUS = "https://web.archive.org/save/status/"
TIMEMAP = "https://web.archive.org/web/timemap/link/"
REPLAY = "https://web.archive.org/web/"

WAYBACK = "wayback"
# Patterns for validate() alone, compiled (by re, once) when it first runs: a
# run with --no-archive never does, and they cost 0.3 ms to compile at start.
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
# SPN2's timedelta: seconds ("120") or "3d 5h 20m"; two comma-separated values (page, outlinks).
_WITHIN = r"(?:\d+|(?:\d+[dhms]\s*)+)(?:,\s*(?:\d+|(?:\d+[dhms]\s*)+))?"


@dataclass(frozen=True)
class MementoSettings:
    """One Memento (RFC 7089) archive: a name for reports and a TimeMap URL template."""

    name: str = ""
    timemap: str = ""  # e.g. "https://arquivo.pt/wayback/timemap/link/{url}"


@dataclass(frozen=True)
class ArchiveSettings:
    """[archive]: the endpoints, rate limits, retries and circuit breaker of the archives, and Save Page Now."""

    enabled: bool = True
    # Endpoints. save_status and timemap are prefixes: the job id or URL is appended;
    # replay is the prefix of /web/TIMESTAMP/URL.
    availability: str = AVAILABILITY
    cdx: str = CDX
    save: str = SAVE
    save_status: str = SAVE_STATUS
    timemap: str = TIMEMAP
    replay: str = REPLAY
    # Other archives tried, in order, after the Wayback Machine.
    memento: tuple[MementoSettings, ...] = ()
    # With --save: a live link whose newest good capture is older than this many days
    # is captured again. 0: any capture will do.
    max_age_days: int = 0
    # Requests per minute, per endpoint family and archive.
    lookup_per_minute: float = 24.0  # CDX and TimeMap: 80% of the Internet Archive's 30
    availability_per_minute: float = 30.0
    replay_per_minute: float = 480.0  # 80% of 600
    save_per_minute: float = 6.0  # SPN2 allows about 7 captures a minute with keys
    save_status_per_minute: float = 60.0
    # Seconds a family is paused after a live 429, unless Retry-After asks for more.
    pause_after_429: float = 60.0
    # A Retry-After longer than this is a refusal: the archive is not asked again this run.
    retry_after_cap: float = 600.0
    timeout: float = 30.0
    connect_timeout: float = 10.0
    retries: int = 2
    backoff_initial: float = 2.0
    backoff_max: float = 30.0
    # Captures whose replay is fetched and checked, at most, per archive and link.
    max_candidates: int = 3
    # Captures asked of the index per query (the closest ones).
    index_limit: int = 12
    max_body_bytes: int = 65536
    max_index_bytes: int = 2097152
    # Links being looked up at once.
    max_concurrency: int = 8
    # Ask the Availability API when the CDX index does not answer.
    availability_fallback: bool = True
    # Save Page Now.
    save_poll_interval: float = 5.0
    save_timeout: float = 180.0
    save_concurrency: int = 3
    save_if_not_archived_within: str = "1d"
    # Circuit breaker, per archive: it stops asking after this many failed
    # requests in a row, or this many live 429s in a row, for breaker_cooldown seconds.
    breaker_failures: int = 5
    breaker_throttles: int = 2
    breaker_cooldown: float = 600.0
    # Seconds the stage may go on once drained (after the last link was checked). 0: until done.
    drain_timeout: float = 0.0

    def with_base(self, base: str) -> ArchiveSettings:
        """Every Wayback endpoint under one base URL, as pywb and OpenWayback lay them out."""
        base = base.rstrip("/")
        return dataclasses.replace(
            self,
            availability=f"{base}/wayback/available",
            cdx=f"{base}/cdx/search/cdx",
            save=f"{base}/save",
            save_status=f"{base}/save/status/",
            timemap=f"{base}/web/timemap/link/",
            replay=f"{base}/web/",
        )

    def endpoints(self) -> tuple[str, ...]:
        """Every URL the user configured: the private-address guard trusts their hosts."""
        urls = [self.availability, self.cdx, self.save, self.save_status, self.timemap, self.replay]
        urls += [m.timemap for m in self.memento]
        return tuple(u for u in urls if u)

    def validate(self) -> None:
        """Raise ValueError naming the first setting that cannot work."""
        for name in ("availability", "cdx", "save", "save_status", "timemap", "replay"):
            value = getattr(self, name)
            if value and not _is_http(value):
                raise ValueError(f"[archive] {name}: “{value}” is not an http(s) URL")
        if not self.replay:
            raise ValueError("[archive] replay: a replay endpoint is needed to check captures")
        names = {WAYBACK}
        for i, archive in enumerate(self.memento):
            where = f"[[archive.memento]] #{i + 1}"
            if not re.fullmatch(_NAME, archive.name):
                raise ValueError(f"{where}: name “{archive.name}” must be a short word (letters, digits, . _ -)")
            if archive.name in names:
                raise ValueError(f"{where}: the name “{archive.name}” is used twice")
            names.add(archive.name)
            if "{url}" not in archive.timemap or not _is_http(archive.timemap.replace("{url}", "")):
                raise ValueError(f"{where} ({archive.name}): timemap must be an http(s) URL containing {{url}}")
        for name in ("lookup_per_minute", "availability_per_minute", "replay_per_minute", "save_per_minute",
                     "save_status_per_minute", "timeout", "save_poll_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"[archive] {name} must be more than 0")
        for name in ("max_candidates", "index_limit", "max_concurrency", "save_concurrency",
                     "breaker_failures", "breaker_throttles"):
            if getattr(self, name) < 1:
                raise ValueError(f"[archive] {name} must be at least 1")
        if not re.fullmatch(_WITHIN, self.save_if_not_archived_within.strip()):
            raise ValueError(f"[archive] save_if_not_archived_within: “{self.save_if_not_archived_within}” is not "
                             "seconds or a time like \"3d 5h 20m\"")
        if self.max_age_days < 0 or self.retries < 0 or self.drain_timeout < 0:
            raise ValueError("[archive] max_age_days, retries and drain_timeout cannot be negative")


def _is_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)

"""Which links the archive stage works on, and what it looks for: pure functions.

A link that is dead, unreachable or blocked needs the copy its author saw; a
truncated URL may be recovered from the archive by its prefix; a live link
with no capture may be captured now (with --save). A dead link is never
captured: there is nothing left to save but the error.
"""

from __future__ import annotations

import calendar
import datetime as _dt
from dataclasses import dataclass
from enum import StrEnum

from crawler.model import AccessDate, CheckResult, Link, Problem, ProblemKind, Snapshot, Verdict

NEEDS_COPY = frozenset({Verdict.DEAD, Verdict.UNREACHABLE, Verdict.BLOCKED, Verdict.TRUNCATED})
LIVE = frozenset({Verdict.ALIVE, Verdict.MOVED})

BEFORE_ACCESS = "before_access"
AFTER_ACCESS = "after_access"
LATEST = "latest"


class Action(StrEnum):
    LOOKUP = "lookup"  # find the copy closest to the access date
    SAVE = "save"  # find any good capture; if there is none, ask for one


@dataclass(frozen=True, slots=True)
class ArchiveJob:
    url: str
    accessed: AccessDate | None = None
    action: Action = Action.LOOKUP
    prefix: bool = False  # a truncated URL: any archived URL starting with it
    known_snapshot: Snapshot | None = None  # the citation itself pointed to this copy

    @property
    def target(self) -> str | None:
        """The 14-digit time a copy should be at or before, or None for "the latest"."""
        return target_timestamp(self.accessed) if self.accessed is not None else None


def plan(link: Link, result: CheckResult, *, save: bool) -> ArchiveJob | None:
    """The archive work a checked link needs, or None."""
    verdict = result.verdict
    if verdict in NEEDS_COPY:
        return ArchiveJob(url=link.url, accessed=link.accessed, known_snapshot=link.known_snapshot)
    if verdict in LIVE and save:
        return ArchiveJob(url=link.url, action=Action.SAVE, known_snapshot=link.known_snapshot)
    return None


def plan_truncated(problem: Problem) -> ArchiveJob | None:
    """A truncated URL whose host is known is searched for as a prefix."""
    if problem.kind is not ProblemKind.TRUNCATED_URL or not problem.url:
        return None
    return ArchiveJob(url=problem.url, prefix=True)


def target_timestamp(accessed: AccessDate) -> str:
    """The last second of the access day, or of the month when only the month is known."""
    day = accessed.day or calendar.monthrange(accessed.year, accessed.month)[1]
    return f"{accessed.year:04d}{accessed.month:02d}{day:02d}235959"


def relation(timestamp: str, target: str | None) -> str:
    if target is None:
        return LATEST
    return BEFORE_ACCESS if timestamp[:14] <= target else AFTER_ACCESS


def timestamp_of(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).strftime("%Y%m%d%H%M%S")


def parse_timestamp(timestamp: str) -> _dt.datetime | None:
    """A 1-14 digit Wayback timestamp as a UTC datetime (padded to the earliest moment)."""
    digits = timestamp[:14]
    if not digits.isdigit() or len(digits) < 4:
        return None
    padded = digits + "0101000000"[len(digits) - 4:] if len(digits) < 14 else digits
    try:
        return _dt.datetime.strptime(padded, "%Y%m%d%H%M%S").replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        return None

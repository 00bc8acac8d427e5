"""The types that flow between the stages: extract → check → archive → store → report.

They are small frozen dataclasses so that a stage can hand them on without
copying and a test can build them by hand.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


class _Picklable:
    """Pickle as a constructor call.

    Slotted dataclasses otherwise pickle through a __getstate__ that calls
    dataclasses.fields() for every object, which showed in profiles when
    extraction results cross from a worker process.
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.__class__, tuple(getattr(self, f.name) for f in _fields(self.__class__))


_FIELDS: dict[type, tuple[Any, ...]] = {}


def _fields(cls: type) -> tuple[Any, ...]:
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = fields(cls)
    return known


@dataclass(frozen=True, order=True, slots=True)
class AccessDate(_Picklable):
    """The date an author says they saw a page.

    Citations often give only month and year ("Accessed on February 2016");
    inventing a day would be guessing, so ``day`` may be ``None``.
    """

    year: int
    month: int
    day: int | None = None

    def isoformat(self) -> str:
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def wayback_timestamp(self) -> str:
        """The 6- or 8-digit prefix the Wayback APIs accept as a target time."""
        return self.isoformat().replace("-", "")

    def as_date(self) -> _dt.date:
        return _dt.date(self.year, self.month, self.day or 1)

    def __str__(self) -> str:
        return self.isoformat()


@dataclass(frozen=True, slots=True)
class Reference(_Picklable):
    """One entry of a reference list, where it was found and its text as written."""

    source: str
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Snapshot(_Picklable):
    """A capture of a page in a web archive."""

    url: str
    timestamp: str  # 14-digit Wayback time, UTC (a prefix when the citation gave less)
    archive: str = "wayback"
    status: int | None = None


@dataclass(frozen=True, slots=True)
class Citation(_Picklable):
    """One URL as one reference cites it."""

    reference: Reference
    url: str  # normalised: absolute, IDNA host, percent-encoded once
    cited_as: str  # as written, with PDF line breaks and inserted spaces removed
    accessed: AccessDate | None = None
    known_snapshot: Snapshot | None = None
    # Other readings of an ambiguous citation (a hyphen at a line break may or
    # may not belong to the URL); the checker may try them if the first is dead.
    alternatives: tuple[str, ...] = ()


class ProblemKind(StrEnum):
    TRUNCATED_URL = "truncated_url"
    MISSING_URL = "missing_url"
    BAD_ACCESS_DATE = "bad_access_date"
    MALFORMED_URL = "malformed_url"


@dataclass(frozen=True, slots=True)
class Problem(_Picklable):
    """Something wrong with a reference that a person has to fix by hand."""

    kind: ProblemKind
    reference: Reference
    detail: str


@dataclass(slots=True)
class Link:
    """One URL to check, with every citation of it.

    Mutable because extraction keeps adding citations as later references cite
    the same URL; everything after extraction treats it as read-only.
    """

    url: str
    cited_as: str
    citations: list[Citation] = field(default_factory=list)
    known_snapshot: Snapshot | None = None
    alternatives: tuple[str, ...] = ()

    @classmethod
    def from_citation(cls, citation: Citation) -> Link:
        return cls(
            url=citation.url,
            cited_as=citation.cited_as,
            citations=[citation],
            known_snapshot=citation.known_snapshot,
            alternatives=citation.alternatives,
        )

    def add(self, citation: Citation) -> None:
        if any(c.reference == citation.reference for c in self.citations):
            return
        self.citations.append(citation)
        if self.known_snapshot is None and citation.known_snapshot is not None:
            self.known_snapshot = citation.known_snapshot

    @property
    def accessed(self) -> AccessDate | None:
        """The earliest access date any citation gives: the page as first seen."""
        dates = [c.accessed for c in self.citations if c.accessed is not None]
        return min(dates) if dates else None


class Verdict(StrEnum):
    """What a check concluded. Only DEAD is a claim that a page is gone."""

    ALIVE = "alive"  # 2xx, also after redirects that change only scheme, "www." or a trailing slash
    MOVED = "moved"  # a permanent redirect to a different page that is alive
    DEAD = "dead"  # 404/410, a host that does not exist, a redirect to the root or an error page, a soft 404
    UNREACHABLE = "unreachable"  # timeouts, refused connections, TLS failures, 5xx: may be transient
    BLOCKED = "blocked"  # 401/403/429, bot challenges: the site refuses to answer us
    TRUNCATED = "truncated"  # cannot be checked as written
    SKIPPED = "skipped"  # not checked: excluded, a private address, an unsupported scheme


@dataclass(frozen=True, slots=True)
class Redirect(_Picklable):
    status: int
    url: str  # where the redirect pointed


@dataclass(frozen=True, slots=True)
class CheckResult(_Picklable):
    """The verdict on one link and the facts it rests on."""

    verdict: Verdict | None  # None: not judged (the network was down)
    reason: str  # a short machine code: http_404, soft_404, timeout, bot_challenge, …
    detail: str = ""  # the same for a person
    status: int | None = None
    final_url: str | None = None
    redirects: tuple[Redirect, ...] = ()
    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class InputError(_Picklable):
    """An input that could not be read; the run goes on without it."""

    source: str
    message: str
    # False when the rest of the input was still read (one broken BibTeX entry).
    fatal: bool = True

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"

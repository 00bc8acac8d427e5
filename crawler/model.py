"""The types that flow between the stages: extract → check → archive → store → report.

They are small frozen dataclasses so that a stage can hand them on without
copying and a test can build them by hand.
"""

from __future__ import annotations

import datetime as _dt
import operator
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
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
        cls = self.__class__
        values = _VALUES.get(cls)
        if values is None:
            values = _VALUES[cls] = _values(cls)
        return cls, values(self)


# For each class, a function from an object to its fields' values, in C
# (operator.attrgetter): pickling extraction's results is the child's work.
_VALUES: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _values(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    names = [f.name for f in fields(cls)]
    if len(names) == 1:
        name = names[0]
        return lambda obj: (getattr(obj, name),)
    return operator.attrgetter(*names)


def quick_init(cls: type) -> type:
    """Give a frozen, slotted dataclass an ``__init__`` that sets its slots through their descriptors.

    dataclass() makes a frozen class's ``__init__`` set each field with
    ``object.__setattr__(self, name, value)``, which looks the name up on the
    class again and checks the call against its ``__setattr__``: for seven
    fields 11k instructions, four times a mutable class's ``__init__``, and
    each link makes several of these objects in both processes. Each slot's
    descriptor sets the same value directly, in half of that. The class stays
    frozen: only ``__init__`` goes around its ``__setattr__``, as dataclass's
    own does. Same parameters and defaults; the dataclass's ``__init__`` is
    kept as ``__dataclass_init__`` for the test that holds the two together.
    For plain fields only (no default_factory, init=False, kw_only or
    __post_init__), which is checked here.
    """
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"quick_init: {cls.__name__} has a __post_init__")
    params, lines, namespace = [], [], {}
    for f in fields(cls):
        if f.default_factory is not MISSING or not f.init or f.kw_only:
            raise TypeError(f"quick_init: {cls.__name__}.{f.name} is not a plain field")
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        lines.append(f"    _set_{f.name}(self, {f.name})")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(lines or ["    pass"]) + "\n", namespace)
    init = namespace["__init__"]
    original = cls.__init__  # type: ignore[misc]
    init.__qualname__, init.__module__ = f"{cls.__qualname__}.__init__", cls.__module__
    init.__annotations__, init.__doc__ = original.__annotations__, original.__doc__
    cls.__dataclass_init__ = original  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]
    return cls


@quick_init
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
        # %-formatting: a third of the f-string's time, once per citation in every report.
        if self.day is None:
            return "%04d-%02d" % (self.year, self.month)
        return "%04d-%02d-%02d" % (self.year, self.month, self.day)

    def wayback_timestamp(self) -> str:
        """The 6- or 8-digit prefix the Wayback APIs accept as a target time."""
        return self.isoformat().replace("-", "")

    def as_date(self) -> _dt.date:
        return _dt.date(self.year, self.month, self.day or 1)

    def __str__(self) -> str:
        return self.isoformat()


@quick_init
@dataclass(frozen=True, slots=True)
class Reference(_Picklable):
    """One entry of a reference list, where it was found and its text as written."""

    source: str
    line: int
    text: str
    # The reference's number in its list ("12." or "[12]"), when it has one:
    # readers find a reference by it.
    number: int | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Snapshot(_Picklable):
    """A capture of a page in a web archive."""

    url: str
    timestamp: str  # 14-digit Wayback time, UTC (a prefix when the citation gave less)
    archive: str = "wayback"
    status: int | None = None


@quick_init
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
    # The reading rests on a guess (a join at a PDF break, a possibly cut
    # DOI): if every reading fails, that is no evidence the page is gone.
    uncertain: bool = False


class ProblemKind(StrEnum):
    TRUNCATED_URL = "truncated_url"
    MISSING_URL = "missing_url"
    BAD_ACCESS_DATE = "bad_access_date"
    MALFORMED_URL = "malformed_url"


@quick_init
@dataclass(frozen=True, slots=True)
class Problem(_Picklable):
    """Something wrong with a reference that a person has to fix by hand."""

    kind: ProblemKind
    reference: Reference
    detail: str
    # For a truncated URL whose host is known: the normalised part before the
    # cut, which an archive can still be searched by (as a prefix).
    url: str | None = None


# Other readings kept for one link, best first: each costs a request to the
# site before anything is called dead, so a URL wrapped over 300 lines must
# not cost 300.
MAX_ALTERNATIVES = 4


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
    uncertain: bool = False  # see Citation.uncertain

    @classmethod
    def from_citation(cls, citation: Citation) -> Link:
        # Positional (url, cited_as, citations, known_snapshot, alternatives,
        # uncertain): one per link, in the parent's busy event loop.
        return cls(citation.url, citation.cited_as, [citation], citation.known_snapshot, citation.alternatives,
                   citation.uncertain)

    def add(self, citation: Citation) -> None:
        # A reference yields its citations together, so a repeat of the same
        # reference can only be the last one: a constant-time test, where a
        # scan made a URL cited 16,000 times quadratic.
        if self.citations and self.citations[-1].reference == citation.reference:
            return
        self.citations.append(citation)
        if self.known_snapshot is None and citation.known_snapshot is not None:
            self.known_snapshot = citation.known_snapshot
        # Another citation of the same URL may rest on a guess the first did not.
        self.uncertain = self.uncertain or citation.uncertain
        if citation.alternatives and citation.alternatives != self.alternatives:
            merged = dict.fromkeys((*self.alternatives, *citation.alternatives))
            self.alternatives = tuple(merged)[:MAX_ALTERNATIVES]

    @property
    def accessed(self) -> AccessDate | None:
        """The earliest access date any citation gives: the page as first seen.

        A month-only date means the end of that month, so "2016-02-10" comes
        before "2016-02" (and the two compare at all: AccessDate's own order
        cannot compare a missing day with a day).
        """
        dates = [c.accessed for c in self.citations if c.accessed is not None]
        return min(dates, key=_end_of_period) if dates else None


def _end_of_period(date: AccessDate) -> tuple[int, int, int]:
    return date.year, date.month, date.day if date.day is not None else 32


class Verdict(StrEnum):
    """What a check concluded. Only DEAD is a claim that a page is gone."""

    ALIVE = "alive"  # 2xx, also after redirects that change only scheme, "www." or a trailing slash
    MOVED = "moved"  # a permanent redirect to a different page that is alive
    DEAD = "dead"  # 404/410, a host that does not exist, a redirect to the root or an error page, a soft 404
    UNREACHABLE = "unreachable"  # timeouts, refused connections, TLS failures, 5xx: may be transient
    BLOCKED = "blocked"  # 401/403/429, bot challenges: the site refuses to answer us
    TRUNCATED = "truncated"  # cannot be checked as written
    SKIPPED = "skipped"  # not checked: excluded, a private address, an unsupported scheme


@quick_init
@dataclass(frozen=True, slots=True)
class Redirect(_Picklable):
    """One hop of a redirect chain: its status and where it pointed."""

    status: int
    url: str  # where the redirect pointed


@quick_init
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


class ArchiveStatus(StrEnum):
    """What the archive stage did for a link."""

    FOUND = "found"  # a validated capture exists: snapshot_url
    NONE = "none"  # the archive answered, and it has no usable capture
    REQUESTED = "requested"  # a capture was asked for; its job had not finished
    SAVED = "saved"  # a capture was asked for and made: snapshot_url
    ERROR = "error"  # the archive did not answer properly: nothing is known
    SKIPPED = "skipped"  # not looked up (not needed, --no-archive, past a deadline)


@quick_init
@dataclass(frozen=True, slots=True)
class ArchiveResult(_Picklable):
    """The archived copy offered for a link, or why there is none.

    ERROR is never NONE: "the archive did not answer" is not "there is no copy".
    """

    status: ArchiveStatus
    archive: str | None = None  # "wayback", or a configured Memento archive's name
    snapshot_url: str | None = None
    timestamp: str | None = None  # 14-digit UTC, YYYYMMDDhhmmss
    relation: str | None = None  # "before_access", "after_access" or "latest"
    detail: str = ""


@quick_init
@dataclass(frozen=True, slots=True)
class History(_Picklable):
    """A link's checks across runs, and whether the confirmation rule calls it dead.

    Only a DEAD check is a failure; ALIVE or MOVED resets the count; the
    inconclusive verdicts (blocked, unreachable, skipped) change nothing.
    """

    checks: int = 0
    consecutive_failures: int = 0
    first_failed: _dt.datetime | None = None  # first failure of the current streak
    last_alive: _dt.datetime | None = None
    last_checked: _dt.datetime | None = None
    confirmed: bool = False  # K failures spaced at least D apart


@quick_init
@dataclass(frozen=True, slots=True)
class InputError(_Picklable):
    """An input that could not be read; the run goes on without it."""

    source: str
    message: str
    # False when the rest of the input was still read (one broken BibTeX entry).
    fatal: bool = True

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"

"""The store's interface, and the records it hands back.

``Store`` is a Protocol so that a server database can stand in for SQLite
later (several workers sharing one history) without the run changing.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from crawler.model import ArchiveResult, CheckResult, History
from crawler.store.history import Outcome


class StoreError(Exception):
    """The store cannot be opened or written; the message names it."""


class StoreLocked(StoreError):
    """Another run holds the store."""


@dataclass(frozen=True)
class Run:
    """The run being made: new, or an unfinished one resumed."""

    id: int
    started: _dt.datetime
    resumed: bool = False
    # URLs this run has already checked (before a crash or an interruption):
    # they are not checked again.
    done: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RunRecord:
    """A finished run, as the next one compares itself against it."""

    id: int
    started: _dt.datetime
    finished: _dt.datetime
    # Whatever the caller passed to finish_run (the report's summary counts).
    summary: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class StoredCheck:
    """One check of one link, as recorded."""

    run_id: int
    checked_at: _dt.datetime
    result: CheckResult
    snapshot: ArchiveResult | None = None  # the validated snapshot known for the link then, if any


@dataclass(frozen=True)
class LinkHistory:
    """Everything the store knows about one link, for the report."""

    url: str
    history: History
    latest: StoredCheck | None  # the last check, in this run or an earlier one
    snapshot: ArchiveResult | None  # the validated snapshot (FOUND or SAVED), if one was found
    previous: Outcome | None  # what the last finished run concluded; None if no finished run saw it
    next_check: _dt.datetime | None  # when it is next due; None: at every run


@dataclass(frozen=True)
class Schedule:
    """Which links a run checks; decided once, answered from memory.

    A link not known to the store is due. ``waiting`` holds the links that are
    not: checked already in this run (a resumed one), or checked recently
    enough that the recheck policy lets them wait (until the time given).
    """

    waiting: Mapping[str, _dt.datetime | None] = field(default_factory=dict)

    def is_due(self, url: str) -> bool:
        return url not in self.waiting

    def __len__(self) -> int:
        return len(self.waiting)


@runtime_checkable
class Store(Protocol):
    """Runs, checks and snapshots. Recording never blocks; everything else may.

    ``record_check`` and ``record_snapshot`` are called from the event loop and
    must return at once; the others are called before or after the loop (or in
    a thread) and may wait for the disk.
    """

    def begin_run(self, now: _dt.datetime | None = None) -> Run:
        """The unfinished run, resumed, if there is one; else a new run."""
        ...

    def schedule(self, run: Run, now: _dt.datetime | None = None, *, recheck_all: bool = False) -> Schedule:
        """Which links are due now. Links ``run`` already checked are never due, even with ``recheck_all``."""
        ...

    def record_check(self, run: Run, url: str, result: CheckResult, at: _dt.datetime | None = None) -> None:
        """Keep one finished check. Skipped and unjudged results are not checks and are not kept."""
        ...

    def record_snapshot(self, run: Run, url: str, archive: ArchiveResult, at: _dt.datetime | None = None) -> None:
        """Keep one archive lookup's result; a FOUND or SAVED one becomes the link's snapshot."""
        ...

    def snapshot(self, url: str) -> ArchiveResult | None:
        """The link's validated snapshot, if one was ever found: then it need not be looked up again."""
        ...

    def histories(self, urls: Iterable[str]) -> dict[str, LinkHistory]:
        """What the store knows of these links (those it has never seen are left out)."""
        ...

    def previous_run(self, before: Run | None = None) -> RunRecord | None:
        """The last finished run (other than ``before``)."""
        ...

    def finish_run(self, run: Run, summary: Mapping[str, Any] | None = None,
                   now: _dt.datetime | None = None) -> None:
        """Mark the run finished; what it concluded becomes ``previous`` for the next run."""
        ...

    def flush(self) -> None:
        """Wait until everything recorded so far is on disk."""
        ...

    def close(self) -> None:
        """Flush, and release the store for the next run."""
        ...

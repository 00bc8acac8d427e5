"""A scheduled run's side of the pipeline: the store it records into, and what the store adds to its report.

Apart from crawler.pipeline (which exports these names too) because only
`crawler run` keeps a history: an audit does not make these classes at start.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crawler.model import ArchiveResult, ArchiveStatus, CheckResult, History, Link
from crawler.pipeline import now
from crawler.report import Changes


@dataclass(frozen=True)
class Tracking:
    """A scheduled run's store: what is due, where results go."""

    store: Any  # crawler.store.Store
    run: Any  # crawler.store.Run
    schedule: Any  # crawler.store.Schedule
    now: Callable[[], _dt.datetime] = lambda: now()  # when each check happened (a test's simulated day)


@dataclass(frozen=True)
class Standing:
    """What the store adds to a scheduled run's report."""

    results: dict[str, CheckResult]  # the links not checked tonight, as last checked
    histories: dict[str, History]
    changes: Changes
    snapshots: dict[str, ArchiveResult]  # validated snapshots known for links without one tonight


def standing(store: Any, run: Any, links: Sequence[Link], checked: Mapping[str, CheckResult],
             histories: Mapping[str, Any] | None = None) -> Standing:
    """Each link's history, and what changed since the previous finished run.

    ``histories`` are the store's, when the run has read them already.
    """
    from crawler.store import Change, change

    if histories is None:
        histories = store.histories(link.url for link in links)
    results: dict[str, CheckResult] = {}
    snapshots: dict[str, ArchiveResult] = {}
    newly_dead: set[str] = set()
    newly_failing: set[str] = set()
    recovered: set[str] = set()
    for link in links:
        known = histories.get(link.url)
        if known is None:
            continue
        if link.url not in checked and known.latest is not None:
            results[link.url] = known.latest.result
        if known.snapshot is not None and known.snapshot.status in (ArchiveStatus.FOUND, ArchiveStatus.SAVED):
            snapshots[link.url] = known.snapshot
        moved = change(known.previous, known.history)
        if moved is Change.NEWLY_DEAD:
            newly_dead.add(link.url)
        elif moved is Change.NEWLY_FAILING:
            newly_failing.add(link.url)
        elif moved is Change.RECOVERED:
            recovered.add(link.url)
    previous = store.previous_run(before=run)
    counts = dict(previous.summary.get("trend", {})) if previous is not None and previous.summary else {}
    return Standing(results, {url: h.history for url, h in histories.items()},
                    Changes(previous=previous.finished if previous is not None else None,
                            newly_dead=frozenset(newly_dead), recovered=frozenset(recovered),
                            newly_failing=frozenset(newly_failing), previous_counts=counts),
                    snapshots)

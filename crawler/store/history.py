"""When a link is really dead, and when it is due for another check: pure functions.

The confirmation rule follows InternetArchiveBot: one failed check proves
nothing, so a link is reported dead only after K failed checks, each at least
D after the previous counted one (defaults 3 and 3 days). Only a DEAD check is
a failure; ALIVE or MOVED resets the count; blocked, unreachable, skipped and
unjudged checks say nothing about the page and change nothing.

A DEAD check that comes sooner than D after the last counted one (a
``--recheck-all`` run, two runs in one night) is kept in the store but does not
count: so ``consecutive_failures`` counts the strikes the rule has counted, and
"failing (2 of 3)" always means two spaced failures.

The store keeps one ``LinkState`` per link and advances it with each check, so
reading a link's history never replays its checks; ``history_of`` replays them
for tests and for rebuilding the states when the spacing changes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from crawler.model import History, Verdict
from crawler.store.settings import HistorySettings

SUCCESS = frozenset({Verdict.ALIVE, Verdict.MOVED})
FAILURE = frozenset({Verdict.DEAD})
# Verdicts that come from asking the site. Skipped and unjudged links were
# not asked: they are not checks at all, and the store does not record them.
CHECKED = frozenset({Verdict.ALIVE, Verdict.MOVED, Verdict.DEAD, Verdict.BLOCKED, Verdict.UNREACHABLE})


def is_check(verdict: Verdict | None) -> bool:
    """Whether a result is a check the history counts (and a resumed run need not repeat)."""
    return verdict in CHECKED


@dataclass(frozen=True, slots=True)
class LinkState:
    """What the rule needs to remember about one link between checks."""

    checks: int = 0
    failures: int = 0  # strikes counted in the current streak
    first_failed: _dt.datetime | None = None
    last_strike: _dt.datetime | None = None
    last_alive: _dt.datetime | None = None
    last_checked: _dt.datetime | None = None
    last_verdict: Verdict | None = None

    def history(self, settings: HistorySettings) -> History:
        return History(
            checks=self.checks,
            consecutive_failures=self.failures,
            first_failed=self.first_failed,
            last_alive=self.last_alive,
            last_checked=self.last_checked,
            confirmed=self.failures >= settings.confirm_failures,
        )


def advance(state: LinkState, verdict: Verdict | None, at: _dt.datetime, settings: HistorySettings) -> LinkState:
    """The state after one more check."""
    if verdict not in CHECKED:
        return state
    # Built directly rather than with dataclasses.replace: the store's writer
    # runs this for every check, and replace() was most of its Python time.
    last_checked = at if state.last_checked is None or at > state.last_checked else state.last_checked
    if verdict in SUCCESS:
        last_alive = at if state.last_alive is None or at > state.last_alive else state.last_alive
        return LinkState(state.checks + 1, 0, None, None, last_alive, last_checked, verdict)
    failures, first_failed, last_strike = state.failures, state.first_failed, state.last_strike
    if verdict in FAILURE:
        if failures == 0 or last_strike is None:
            failures, first_failed, last_strike = 1, at, at
        elif at - last_strike >= settings.spacing - settings.tolerance:
            failures, last_strike = failures + 1, at
    return LinkState(state.checks + 1, failures, first_failed, last_strike, state.last_alive, last_checked, verdict)


def replay(checks: Iterable[tuple[_dt.datetime, Verdict | None]], settings: HistorySettings) -> LinkState:
    """The state after a link's checks, in time order."""
    state = LinkState()
    for at, verdict in sorted(checks, key=lambda c: c[0]):
        state = advance(state, verdict, at, settings)
    return state


def history_of(checks: Iterable[tuple[_dt.datetime, Verdict | None]], settings: HistorySettings) -> History:
    return replay(checks, settings).history(settings)


# --- The recheck policy ------------------------------------------------------------


def next_check(state: LinkState, settings: HistorySettings) -> _dt.datetime | None:
    """When the link is next due; None when it is due at every run.

    Links never checked, and links whose last check was inconclusive (blocked,
    unreachable), are due at every run. A link found alive or moved waits
    ``recheck_alive_days`` (IABot: 7). A failing link is due as soon as the
    spacing allows its next strike, so it is confirmed (or cleared) as early as
    the rule permits. A confirmed dead link waits ``recheck_dead_days``, so that
    its recovery is noticed.
    """
    if state.last_checked is None or state.last_verdict not in SUCCESS | FAILURE:
        return None
    if state.last_verdict in SUCCESS:
        return state.last_checked + settings.recheck_alive
    if state.failures >= settings.confirm_failures:
        return state.last_checked + settings.recheck_dead
    assert state.last_strike is not None
    return state.last_strike + settings.spacing


def is_due(state: LinkState, now: _dt.datetime, settings: HistorySettings, *, recheck_all: bool = False) -> bool:
    if recheck_all:
        return True
    due = next_check(state, settings)
    return due is None or now >= due - settings.tolerance


# --- What changed since the last run ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a finished run concluded about a link."""

    verdict: Verdict | None  # the latest check's verdict at the end of that run
    consecutive_failures: int
    confirmed: bool


class Change(StrEnum):
    NEWLY_DEAD = "newly_dead"  # confirmed now, not at the end of the last run
    NEWLY_FAILING = "newly_failing"  # a first counted failure: "failing (1 of 3)"
    RECOVERED = "recovered"  # was failing or confirmed dead; a check found it alive again


def change(previous: Outcome | None, now: History) -> Change | None:
    """How a link's standing changed since the previous finished run (None: it did not)."""
    was_failing = previous is not None and previous.consecutive_failures > 0
    was_confirmed = previous is not None and previous.confirmed
    if now.confirmed and not was_confirmed:
        return Change.NEWLY_DEAD
    if now.consecutive_failures > 0 and not now.confirmed and not was_failing:
        return Change.NEWLY_FAILING
    if now.consecutive_failures == 0 and was_failing:
        return Change.RECOVERED
    return None


def standing(history: History, settings: HistorySettings) -> str:
    """The link's standing in words: "dead (confirmed)", "failing (2 of 3)", or ""."""
    if history.confirmed:
        return "dead (confirmed)"
    if history.consecutive_failures:
        return f"failing ({history.consecutive_failures} of {settings.confirm_failures})"
    return ""

"""The SQLite store: what it keeps, resuming, the schedule, snapshots, migrations and the lock."""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from crawler.model import ArchiveResult, ArchiveStatus, CheckResult, History, Redirect, Verdict
from crawler.store import Change, HistorySettings, Store, StoreError, StoreLocked, change, open_store
from crawler.store.history import Outcome
from crawler.store.schema import MIGRATIONS, Migration
from crawler.store.sqlite import SqliteStore

NIGHT = _dt.datetime(2026, 11, 1, 2, 0, tzinfo=_dt.timezone.utc)
KANTEI = "http://www.kantei.go.jp/foreign/0731douyukai.html"
MOFA = "https://www.mofa.go.jp/erp/ca_c/page1e_000160.html"
BROOKINGS = "https://www.brookings.edu/articles/the-shanghai-cooperation-organization-and-japan/"

ALIVE = CheckResult(Verdict.ALIVE, "ok", "", 200, MOFA, (), 0.31)
DEAD = CheckResult(Verdict.DEAD, "redirect_to_root", "redirects to the site's front page (https://www.kantei.go.jp/)",
                   200, "https://www.kantei.go.jp/", (Redirect(301, "https://www.kantei.go.jp/"),), 1.25)
BLOCKED = CheckResult(Verdict.BLOCKED, "http_403", "the site refuses robots (403)", 403)
SNAPSHOT = ArchiveResult(ArchiveStatus.FOUND, "wayback",
                         f"https://web.archive.org/web/20190601000000/{KANTEI}", "20190601000000", "before_access")


def day(n: float) -> _dt.datetime:
    return NIGHT + _dt.timedelta(days=n)


@contextmanager
def database(path: Path) -> Iterator[sqlite3.Connection]:
    """Another program's connection to the file (sqlite3's own "with" would not close it)."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        yield conn


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "crawler.sqlite3"


@pytest.fixture
def store(path: Path):
    opened = open_store(path)
    yield opened
    opened.close()


def test_the_sqlite_store_is_a_store(store):
    assert isinstance(store, Store)


def test_a_check_is_read_back_exactly(store):
    run = store.begin_run(day(0))
    store.record_check(run, KANTEI, DEAD, day(0))
    latest = store.histories([KANTEI])[KANTEI].latest
    assert latest is not None
    assert (latest.run_id, latest.checked_at, latest.result) == (run.id, day(0), DEAD)


def test_every_check_of_every_run_is_kept(path):
    for n, result in enumerate([ALIVE, BLOCKED, DEAD]):
        with open_store(path) as store:
            run = store.begin_run(day(7 * n))
            store.record_check(run, KANTEI, result, day(7 * n))
            store.finish_run(run, now=day(7 * n))
    with open_store(path) as store:
        assert [(c.checked_at, c.result) for c in store.checks_of(KANTEI)] == [
            (day(0), ALIVE), (day(7), BLOCKED), (day(14), DEAD)]
        assert store.histories([KANTEI])[KANTEI].history == History(
            checks=3, consecutive_failures=1, first_failed=day(14), last_alive=day(0), last_checked=day(14))


def test_skipped_and_unjudged_results_are_not_checks(store):
    run = store.begin_run(day(0))
    store.record_check(run, KANTEI, CheckResult(Verdict.SKIPPED, "deadline", "not checked before the deadline"))
    store.record_check(run, MOFA, CheckResult(None, "network_down"))
    assert store.histories([KANTEI, MOFA]) == {}
    assert store.schedule(run, day(0)).is_due(KANTEI)


def test_a_link_never_seen_has_no_history(store):
    store.begin_run(day(0))
    assert store.histories(["https://example.org/new"]) == {}


# --- Runs: resuming, finishing, the previous run ------------------------------------


def test_an_unfinished_run_is_resumed_with_what_it_checked(path):
    with open_store(path) as store:
        first = store.begin_run(day(0))
        store.record_check(first, KANTEI, DEAD, day(0))
        store.record_check(first, MOFA, ALIVE, day(0))
        # …and the process stops before finish_run.
    with open_store(path) as store:
        again = store.begin_run(day(0.5))
        assert (again.id, again.started, again.resumed) == (first.id, day(0), True)
        assert again.done == {KANTEI, MOFA}
        schedule = store.schedule(again, day(0.5), recheck_all=True)
        assert not schedule.is_due(KANTEI) and not schedule.is_due(MOFA) and schedule.is_due(BROOKINGS)


def test_a_run_records_a_link_once(store):
    run = store.begin_run(day(0))
    store.record_check(run, KANTEI, DEAD, day(0))
    store.record_check(run, KANTEI, ALIVE, day(0.1))
    assert [c.result for c in store.checks_of(KANTEI)] == [DEAD]
    assert store.histories([KANTEI])[KANTEI].history.checks == 1


def test_a_finished_run_is_not_resumed(store):
    first = store.begin_run(day(0))
    store.finish_run(first, now=day(0))
    second = store.begin_run(day(1))
    assert second.id != first.id and not second.resumed and second.done == frozenset()


def test_the_previous_run_and_its_summary(store):
    assert store.previous_run() is None
    first = store.begin_run(day(0))
    store.finish_run(first, {"links": 2, "verdicts": {"dead": 1}}, now=day(0.1))
    second = store.begin_run(day(1))
    previous = store.previous_run(before=second)
    assert previous is not None
    assert (previous.id, previous.started, previous.finished) == (first.id, day(0), day(0.1))
    assert previous.summary == {"links": 2, "verdicts": {"dead": 1}}


def test_what_the_previous_run_concluded(store):
    first = store.begin_run(day(0))
    store.record_check(first, KANTEI, DEAD, day(0))
    assert store.histories([KANTEI])[KANTEI].previous is None  # no finished run has seen it yet
    store.finish_run(first, now=day(0))
    second = store.begin_run(day(3))
    store.record_check(second, KANTEI, DEAD, day(3))
    link = store.histories([KANTEI])[KANTEI]
    assert link.previous == Outcome(Verdict.DEAD, 1, False)
    assert link.history.consecutive_failures == 2


def test_nightly_runs_tell_the_story_alive_failing_dead_recovered(path):
    """Through the store, as `crawler run` would use it; the page is gone from day 7 to day 19."""
    story = []
    for n in range(30):
        with open_store(path) as store:
            run = store.begin_run(day(n))
            if store.schedule(run, day(n)).is_due(KANTEI):
                store.record_check(run, KANTEI, DEAD if 7 <= n < 20 else ALIVE, day(n))
                link = store.histories([KANTEI])[KANTEI]
                story.append((n, link.history.consecutive_failures, link.history.confirmed,
                              change(link.previous, link.history)))
            store.finish_run(run, now=day(n))
    assert story == [
        (0, 0, False, None),
        (7, 1, False, Change.NEWLY_FAILING),
        (10, 2, False, None),
        (13, 3, True, Change.NEWLY_DEAD),
        (20, 0, False, Change.RECOVERED),
        (27, 0, False, None),
    ]


# --- The schedule ------------------------------------------------------------------


def test_the_schedule_follows_the_recheck_policy(store):
    first = store.begin_run(day(0))
    store.record_check(first, MOFA, ALIVE, day(0))
    store.record_check(first, KANTEI, DEAD, day(0))
    store.record_check(first, BROOKINGS, BLOCKED, day(0))
    store.finish_run(first, now=day(0))
    run = store.begin_run(day(1))
    tomorrow = store.schedule(run, day(1))
    assert (tomorrow.is_due(MOFA), tomorrow.is_due(KANTEI), tomorrow.is_due(BROOKINGS)) == (False, False, True)
    assert tomorrow.waiting == {MOFA: day(7), KANTEI: day(3)}
    assert store.schedule(run, day(3)).is_due(KANTEI)
    assert store.schedule(run, day(7)).is_due(MOFA)
    assert store.schedule(run, day(1), recheck_all=True).waiting == {}
    assert store.schedule(run, day(1)).is_due("https://example.org/never-seen")


# --- Snapshots ---------------------------------------------------------------------


def test_a_found_snapshot_is_kept_and_never_looked_up_again(path):
    with open_store(path) as store:
        run = store.begin_run(day(0))
        store.record_check(run, KANTEI, DEAD, day(0))
        store.record_snapshot(run, KANTEI, SNAPSHOT, day(0))
        assert store.snapshot(KANTEI) == SNAPSHOT  # at once, before it is written
    with open_store(path) as store:
        assert store.snapshot(KANTEI) == SNAPSHOT
        link = store.histories([KANTEI])[KANTEI]
        assert link.snapshot == SNAPSHOT
        assert link.latest is not None and link.latest.snapshot == SNAPSHOT


def test_a_lookup_without_a_copy_is_not_a_snapshot(store):
    run = store.begin_run(day(0))
    store.record_snapshot(run, KANTEI, ArchiveResult(ArchiveStatus.NONE, "wayback", detail="no capture"))
    store.record_snapshot(run, MOFA, ArchiveResult(ArchiveStatus.ERROR, "wayback", detail="timeout"))
    assert store.snapshot(KANTEI) is None and store.snapshot(MOFA) is None
    assert store.histories([KANTEI])[KANTEI].snapshot is None


def test_a_later_check_carries_the_known_snapshot(store):
    first = store.begin_run(day(0))
    store.record_check(first, KANTEI, DEAD, day(0))
    store.record_snapshot(first, KANTEI, SNAPSHOT, day(0))
    store.finish_run(first, now=day(0))
    second = store.begin_run(day(3))
    store.record_check(second, KANTEI, DEAD, day(3))
    assert [c.snapshot for c in store.checks_of(KANTEI)] == [SNAPSHOT, SNAPSHOT]


# --- The rule's settings -----------------------------------------------------------


def test_changing_the_spacing_recounts_the_strikes(path):
    with open_store(path) as store:
        run = store.begin_run(day(0))
        for n in range(3):
            store.record_check(run, KANTEI if n == 0 else f"{KANTEI}?{n}", DEAD, day(0))
        store.finish_run(run, now=day(0))
        for n in (1, 2):
            run = store.begin_run(day(n))
            store.record_check(run, KANTEI, DEAD, day(n))
            store.finish_run(run, now=day(n))
        assert store.histories([KANTEI])[KANTEI].history.consecutive_failures == 1  # one a day: too close
    with open_store(path, HistorySettings(confirm_spacing_days=1.0)) as store:
        history = store.histories([KANTEI])[KANTEI].history
        assert (history.consecutive_failures, history.confirmed) == (3, True)


def test_the_number_of_failures_needed_applies_at_once(path):
    with open_store(path) as store:
        run = store.begin_run(day(0))
        store.record_check(run, KANTEI, DEAD, day(0))
    with open_store(path, HistorySettings(confirm_failures=1)) as store:
        assert store.histories([KANTEI])[KANTEI].history.confirmed


# --- The file: lock, migrations, damage ----------------------------------------------


def test_a_second_opener_is_refused_with_the_store_named(store, path):
    with pytest.raises(StoreLocked, match=rf"{path}: another crawler run is using this store \(pid \d+"):
        open_store(path)


def test_a_second_opener_through_a_symbolic_link_is_refused_too(store, path, tmp_path):
    # A deployment's state/crawler.sqlite3 -> /var/lib/crawler/crawler.sqlite3: one store, one run.
    link = tmp_path / "elsewhere.sqlite3"
    link.symlink_to(path)
    with pytest.raises(StoreLocked, match=rf"{link}: another crawler run is using this store"):
        open_store(link)


def test_the_store_is_free_again_after_close(path):
    open_store(path).close()
    open_store(path).close()


def test_the_store_is_in_wal_mode_and_one_file_when_closed(path):
    with open_store(path) as store:
        store.begin_run(day(0))
        with database(path) as reader:
            assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not path.with_name(path.name + "-wal").exists()


def test_a_new_store_has_the_latest_schema(store, path):
    with database(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_a_store_from_a_newer_crawler_is_refused(path):
    open_store(path).close()
    with database(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="written by a newer crawler"):
        open_store(path)
    open_store(path.with_name("other.sqlite3")).close()  # and the refusal released the lock


def test_a_new_migration_upgrades_an_existing_store_and_keeps_its_data(path):
    with open_store(path) as store:
        run = store.begin_run(day(0))
        store.record_check(run, KANTEI, DEAD, day(0))
    added = Migration("a note per link", ("ALTER TABLE links ADD COLUMN note TEXT",),
                      code=lambda conn: conn.execute("UPDATE links SET note = 'migrated'"))
    with SqliteStore(path, migrations=(*MIGRATIONS, added)) as store:
        assert store.checks_of(KANTEI)[0].result == DEAD
    with database(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
        assert conn.execute("SELECT note FROM links").fetchall() == [("migrated",)]


def test_a_failed_migration_leaves_the_store_at_its_old_version(path):
    open_store(path).close()
    broken = Migration("broken", ("ALTER TABLE links ADD COLUMN half TEXT", "THIS IS NOT SQL"))
    with pytest.raises(StoreError, match=rf"could not upgrade the store to schema version {len(MIGRATIONS) + 1} "
                                         r"\(broken\): near \"THIS\""):
        SqliteStore(path, migrations=(*MIGRATIONS, broken))
    with database(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert "half" not in [row[1] for row in conn.execute("PRAGMA table_info(links)")]


def test_a_file_that_is_not_a_store_is_named(path):
    path.parent.mkdir(parents=True)
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match=rf"{path}: not a crawler store"):
        open_store(path)


def test_a_closed_store_refuses_records(path):
    store = open_store(path)
    run = store.begin_run(day(0))
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.record_check(run, KANTEI, DEAD)


def test_a_write_that_fails_is_reported_not_lost_silently(path):
    store = open_store(path)
    run = store.begin_run(day(0))
    store.flush()
    # Another program makes the file unwritable under us (here: a trigger that refuses).
    with database(path) as conn:
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON checks BEGIN SELECT RAISE(FAIL, 'disk full'); END")
    store.record_check(run, KANTEI, DEAD, day(0))
    with pytest.raises(StoreError, match=rf"{path}: cannot be written .*disk full"):
        store.flush()
    with pytest.raises(StoreError):
        store.record_check(run, MOFA, ALIVE, day(0))
    with pytest.raises(StoreError, match="disk full"):
        store.close()
    open_store(path).close()  # closed all the same: the lock is free

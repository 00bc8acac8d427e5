"""The embedded store: one SQLite file in WAL mode, written by one thread.

Recording is a put on a queue; a writer thread takes whatever has queued up
(at most ``batch_limit`` items), writes it in one small transaction and
commits at once, so a finished check reaches the disk within milliseconds and
the event loop never waits for it. A crash, kill -9 or Ctrl-C loses at most
the batch being written (a few milliseconds of results, which the next run
simply checks again) and never half of one: each batch is one transaction.

Everything else (begin_run, schedule, histories, finish_run) is run on the
same thread, after what was queued before it, and waited for, so the
connection is used by one thread only and every read sees every earlier
record.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from crawler import __version__
from crawler.model import ArchiveResult, ArchiveStatus, CheckResult, Redirect, Verdict
from crawler.store import schema
from crawler.store.base import LinkHistory, Run, RunRecord, Schedule, StoredCheck, StoreError
from crawler.store.history import CHECKED, LinkState, Outcome, advance, is_due, next_check
from crawler.store.lock import StoreLock
from crawler.store.settings import HistorySettings

T = TypeVar("T")

_CHECK, _SNAPSHOT, _CALL, _STOP = range(4)
_VALIDATED = frozenset({ArchiveStatus.FOUND, ArchiveStatus.SAVED})
_UTC = _dt.timezone.utc
# Bound parameters per query: well under SQLite's limit, and small enough
# that one query never holds the writer for long.
_CHUNK = 500
_STATE_COLUMNS = "checks, failures, first_failed, last_strike, last_alive, last_checked, last_verdict"


class SqliteStore:
    """The ``Store`` on one SQLite file; see crawler.store.base.Store for the contract."""

    def __init__(self, path: Path | str, settings: HistorySettings | None = None, *,
                 batch_limit: int = 1000, migrations: Sequence[schema.Migration] = schema.MIGRATIONS) -> None:
        self.path = Path(path)
        self.settings = settings or HistorySettings()
        self._batch_limit = batch_limit
        self._migrations = migrations
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._failure: StoreError | None = None
        self._closed = False
        self._snapshots: dict[str, ArchiveResult] = {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path.parent}: cannot create the store's directory "
                             f"({exc.strerror or exc})") from None
        self._lock = StoreLock(self.path)
        self._lock.acquire()
        try:
            opened: Future[None] = Future()
            # A daemon thread, so a forgotten close() cannot hang the interpreter's
            # exit; the atexit hook below still flushes what is queued.
            self._thread = threading.Thread(target=self._work, args=(opened,), name="crawler-store", daemon=True)
            self._thread.start()
            opened.result()
            self._snapshots = self._call(_load_snapshots)
        except BaseException:
            self._closed = True
            self._lock.release()
            raise
        atexit.register(self._close_at_exit)

    # --- recording: called from the event loop, never waits -----------------------

    def record_check(self, run: Run, url: str, result: CheckResult, at: _dt.datetime | None = None) -> None:
        if result.verdict not in CHECKED:
            return  # skipped or unjudged: not a check, and a resumed run must still do it
        self._usable()
        self._queue.put((_CHECK, run.id, url, result, time.time() if at is None else at))

    def record_snapshot(self, run: Run, url: str, archive: ArchiveResult, at: _dt.datetime | None = None) -> None:
        self._usable()
        if archive.status in _VALIDATED and archive.snapshot_url:
            self._snapshots[url] = archive
        self._queue.put((_SNAPSHOT, run.id, url, archive, time.time() if at is None else at))

    def snapshot(self, url: str) -> ArchiveResult | None:
        return self._snapshots.get(url)

    # --- the rest: waits for the writer ----------------------------------------

    def begin_run(self, now: _dt.datetime | None = None) -> Run:
        started = _utc(now)

        def begin(conn: sqlite3.Connection) -> Run:
            row = conn.execute("SELECT id, started FROM runs WHERE finished IS NULL ORDER BY id DESC LIMIT 1").fetchone()
            with _transaction(conn):
                if row is None:
                    cur = conn.execute("INSERT INTO runs (started, tool_version) VALUES (?, ?)",
                                       (_iso(started), __version__))
                    return Run(id=int(cur.lastrowid or 0), started=started)
                conn.execute("UPDATE runs SET attempts = attempts + 1 WHERE id = ?", (row[0],))
            done = frozenset(url for (url,) in conn.execute(
                "SELECT l.url FROM checks c JOIN links l ON l.id = c.link_id WHERE c.run_id = ?", (row[0],)))
            return Run(id=row[0], started=_parse(row[1]), resumed=True, done=done)

        return self._call(begin)

    def schedule(self, run: Run, now: _dt.datetime | None = None, *, recheck_all: bool = False) -> Schedule:
        at = _utc(now)
        settings = self.settings

        def plan(conn: sqlite3.Connection) -> Schedule:
            waiting: dict[str, _dt.datetime | None] = {}
            rows = conn.execute(
                f"SELECT url, {_STATE_COLUMNS}, "
                "EXISTS (SELECT 1 FROM checks c WHERE c.run_id = ? AND c.link_id = links.id) FROM links",
                (run.id,))
            for row in rows:
                if row[8]:
                    waiting[row[0]] = None
                elif not recheck_all:
                    state = _state(row, 1)
                    if not is_due(state, at, settings):
                        waiting[row[0]] = next_check(state, settings)
            return Schedule(waiting)

        return self._call(plan)

    def histories(self, urls: Iterable[str]) -> dict[str, LinkHistory]:
        wanted = list(dict.fromkeys(urls))
        settings = self.settings

        def read(conn: sqlite3.Connection) -> dict[str, LinkHistory]:
            found: dict[str, LinkHistory] = {}
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT l.url, {', '.join('l.' + c.strip() for c in _STATE_COLUMNS.split(','))}, "
                    "l.concluded_run, l.concluded_verdict, l.concluded_failures, "
                    f"{_CHECK_FIELDS}, {_snapshot_fields('s')}, {_snapshot_fields('cs')} "
                    "FROM links l LEFT JOIN checks c ON c.id = l.last_check_id "
                    "LEFT JOIN snapshots s ON s.id = l.snapshot_id "
                    "LEFT JOIN snapshots cs ON cs.id = c.snapshot_id "
                    f"WHERE l.url IN ({marks})", chunk)
                for row in rows:
                    state = _state(row, 1)
                    previous = None
                    if row[8] is not None:
                        previous = Outcome(_verdict(row[9]), row[10] or 0,
                                           (row[10] or 0) >= settings.confirm_failures)
                    latest = None
                    if row[11] is not None:
                        latest = StoredCheck(row[11], _parse(row[12]), _check_result(row, 13),
                                             _archive_result(row, 20 + _SNAPSHOT_WIDTH))
                    found[row[0]] = LinkHistory(url=row[0], history=state.history(settings), latest=latest,
                                                snapshot=_archive_result(row, 20), previous=previous,
                                                next_check=next_check(state, settings))
            return found

        return self._call(read)

    def checks_of(self, url: str) -> list[StoredCheck]:
        """Every check of one link, oldest first."""
        def read(conn: sqlite3.Connection) -> list[StoredCheck]:
            rows = conn.execute(
                f"SELECT c.run_id, c.checked_at, {_CHECK_FIELDS_AFTER_RUN}, {_snapshot_fields('cs')} "
                "FROM checks c JOIN links l ON l.id = c.link_id LEFT JOIN snapshots cs ON cs.id = c.snapshot_id "
                "WHERE l.url = ? ORDER BY c.checked_at, c.id", (url,))
            return [StoredCheck(row[0], _parse(row[1]), _check_result(row, 2), _archive_result(row, 9))
                    for row in rows]

        return self._call(read)

    def previous_run(self, before: Run | None = None) -> RunRecord | None:
        exclude = before.id if before is not None else -1

        def read(conn: sqlite3.Connection) -> RunRecord | None:
            row = conn.execute("SELECT id, started, finished, summary FROM runs WHERE finished IS NOT NULL "
                               "AND id != ? ORDER BY finished DESC, id DESC LIMIT 1", (exclude,)).fetchone()
            if row is None:
                return None
            return RunRecord(row[0], _parse(row[1]), _parse(row[2]), json.loads(row[3]) if row[3] else None)

        return self._call(read)

    def finish_run(self, run: Run, summary: Mapping[str, Any] | None = None,
                   now: _dt.datetime | None = None) -> None:
        finished = _iso(_utc(now))
        encoded = json.dumps(summary, ensure_ascii=False, default=str) if summary is not None else None

        def finish(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute("UPDATE runs SET finished = ?, summary = ? WHERE id = ?", (finished, encoded, run.id))
                # What this run concluded is what the next one compares against;
                # only rows whose standing changed are written.
                conn.execute(
                    "UPDATE links SET concluded_run = ?, concluded_verdict = last_verdict, "
                    "concluded_failures = failures WHERE checks > 0 AND (concluded_run IS NULL "
                    "OR concluded_verdict IS NOT last_verdict OR concluded_failures IS NOT failures)", (run.id,))

        self._call(finish)

    def flush(self) -> None:
        self._call(lambda conn: None)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._close_at_exit)
        try:
            if self._thread.is_alive():
                stopped: Future[None] = Future()
                self._queue.put((_STOP, stopped))
                _wait(stopped, self._thread)
        finally:
            self._lock.release()
        if self._failure is not None:
            raise self._failure

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _close_at_exit(self) -> None:
        try:
            self.close()
        except StoreError:
            pass  # already raised to the caller by a record, flush or close

    # --- the writer thread -------------------------------------------------------

    def _usable(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise StoreError(f"{self.path}: the store is closed")

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        self._usable()
        done: Future[T] = Future()
        self._queue.put((_CALL, fn, done))
        result = _wait(done, self._thread)
        if self._failure is not None:
            raise self._failure
        return result

    def _work(self, opened: Future[None]) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:  # noqa: BLE001 - handed to the opener
            opened.set_exception(exc)
            return
        opened.set_result(None)
        stopped: Future[None] | None = None
        try:
            while stopped is None:
                batch = [self._queue.get()]
                while len(batch) < self._batch_limit:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                records: list[tuple[Any, ...]] = []
                for item in batch:
                    kind = item[0]
                    if kind in (_CHECK, _SNAPSHOT):
                        records.append(item)
                        continue
                    self._write(conn, records)
                    records = []
                    if kind == _STOP:
                        stopped = item[1]
                        break
                    _, fn, done = item
                    try:
                        done.set_result(fn(conn))
                    except BaseException as exc:  # noqa: BLE001 - handed to the caller
                        done.set_exception(_store_error(exc, self.path) if isinstance(exc, sqlite3.Error) else exc)
                self._write(conn, records)
        finally:
            # Closing the last connection checkpoints the WAL into the main file
            # and removes it: a closed store is one file (easy to cache or copy).
            conn.close()
            if stopped is not None:
                stopped.set_result(None)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the store ({exc})") from None
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self.path}: SQLite refused WAL mode here (got {mode}); "
                                 f"put the store on a local file system")
            # In WAL mode NORMAL loses nothing on a crash of the process, only
            # (at worst) the last commits on a power cut, never consistency.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            schema.migrate(conn, self._migrations, where=str(self.path))
            _rebuild_if_rule_changed(conn, self.settings)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{self.path}: not a crawler store ({exc})") from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _write(self, conn: sqlite3.Connection, records: list[tuple[Any, ...]]) -> None:
        if not records or self._failure is not None:
            return
        try:
            with _transaction(conn):
                links: dict[str, tuple[int, LinkState, int | None]] = {}
                for record in records:
                    if record[0] == _CHECK:
                        self._write_check(conn, links, *record[1:])
                    else:
                        self._write_snapshot(conn, links, *record[1:])
        except Exception as exc:  # noqa: BLE001 - kept, and raised to the next caller
            self._failure = _store_error(exc, self.path)

    def _link(self, conn: sqlite3.Connection, links: dict[str, tuple[int, LinkState, int | None]],
              url: str) -> tuple[int, LinkState, int | None]:
        known = links.get(url)
        if known is not None:
            return known
        row = conn.execute(f"SELECT id, {_STATE_COLUMNS}, snapshot_id FROM links WHERE url = ?", (url,)).fetchone()
        if row is None:
            cur = conn.execute("INSERT INTO links (url) VALUES (?)", (url,))
            known = (int(cur.lastrowid or 0), LinkState(), None)
        else:
            known = (row[0], _state(row, 1), row[8])
        links[url] = known
        return known

    def _write_check(self, conn: sqlite3.Connection, links: dict[str, tuple[int, LinkState, int | None]],
                     run_id: int, url: str, result: CheckResult, at: float | _dt.datetime) -> None:
        link_id, state, snapshot_id = self._link(conn, links, url)
        when = _utc(at)
        cur = conn.execute(
            "INSERT INTO checks (run_id, link_id, checked_at, verdict, reason, detail, status, final_url, "
            "redirects, elapsed, snapshot_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (run_id, link_id) DO NOTHING",
            (run_id, link_id, _iso(when), result.verdict.value if result.verdict else "", result.reason,
             result.detail, result.status, result.final_url,
             json.dumps([[r.status, r.url] for r in result.redirects], ensure_ascii=False) if result.redirects else "[]",
             result.elapsed, snapshot_id))
        if cur.rowcount == 0:
            return  # this run has checked the link already: the first check stands
        state = advance(state, result.verdict, when, self.settings)
        conn.execute(
            "UPDATE links SET checks = ?, failures = ?, first_failed = ?, last_strike = ?, last_alive = ?, "
            "last_checked = ?, last_verdict = ?, last_check_id = ? WHERE id = ?",
            (*_state_values(state), cur.lastrowid, link_id))
        links[url] = (link_id, state, snapshot_id)

    def _write_snapshot(self, conn: sqlite3.Connection, links: dict[str, tuple[int, LinkState, int | None]],
                        run_id: int, url: str, archive: ArchiveResult, at: float | _dt.datetime) -> None:
        link_id, state, snapshot_id = self._link(conn, links, url)
        cur = conn.execute(
            "INSERT INTO snapshots (link_id, run_id, looked_up, status, archive, snapshot_url, timestamp, "
            "relation, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (link_id, run_id, _iso(_utc(at)), archive.status.value, archive.archive, archive.snapshot_url,
             archive.timestamp, archive.relation, archive.detail))
        if archive.status in _VALIDATED and archive.snapshot_url:
            snapshot_id = cur.lastrowid
            conn.execute("UPDATE links SET snapshot_id = ? WHERE id = ?", (snapshot_id, link_id))
            conn.execute("UPDATE checks SET snapshot_id = ? WHERE run_id = ? AND link_id = ?",
                         (snapshot_id, run_id, link_id))
            links[url] = (link_id, state, snapshot_id)


def open_store(path: Path | str, settings: HistorySettings | None = None) -> SqliteStore:
    """Open (creating if need be) and lock the store at ``path``.

    Raises StoreLocked when another run holds it, StoreError when it cannot be
    opened; both name the file.
    """
    return SqliteStore(path, settings)


# --- rows <-> records ---------------------------------------------------------------


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")


def _transaction(conn: sqlite3.Connection) -> _Transaction:
    return _Transaction(conn)


def _wait(done: Future[T], thread: threading.Thread) -> T:
    # A writer that died (it should not) must not leave the caller waiting forever.
    while True:
        try:
            return done.result(timeout=1.0)
        except TimeoutError:
            if not thread.is_alive() and not done.done():
                raise StoreError("the store's writer stopped") from None


def _store_error(exc: BaseException, path: Path) -> StoreError:
    if isinstance(exc, StoreError):
        return exc
    return StoreError(f"{path}: cannot be written ({exc})")


def _utc(value: float | _dt.datetime | None) -> _dt.datetime:
    if value is None:
        return _dt.datetime.now(_UTC)
    if isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(value, _UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


def _iso(value: _dt.datetime | None) -> str | None:
    # Fixed width, so that the text sorts as the time does.
    return value.isoformat(timespec="microseconds") if value is not None else None


def _parse(text: str | None) -> Any:  # a datetime, or None for None
    return _dt.datetime.fromisoformat(text) if text else None


def _verdict(text: str | None) -> Verdict | None:
    return Verdict(text) if text else None


def _state(row: Sequence[Any], at: int) -> LinkState:
    return LinkState(checks=row[at], failures=row[at + 1], first_failed=_parse(row[at + 2]),
                     last_strike=_parse(row[at + 3]), last_alive=_parse(row[at + 4]),
                     last_checked=_parse(row[at + 5]), last_verdict=_verdict(row[at + 6]))


def _state_values(state: LinkState) -> tuple[Any, ...]:
    return (state.checks, state.failures, _iso(state.first_failed), _iso(state.last_strike),
            _iso(state.last_alive), _iso(state.last_checked),
            state.last_verdict.value if state.last_verdict else None)


_CHECK_FIELDS_AFTER_RUN = "c.verdict, c.reason, c.detail, c.status, c.final_url, c.redirects, c.elapsed"
_CHECK_FIELDS = f"c.run_id, c.checked_at, {_CHECK_FIELDS_AFTER_RUN}"
_SNAPSHOT_WIDTH = 6


def _snapshot_fields(alias: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in
                     ("status", "archive", "snapshot_url", "timestamp", "relation", "detail"))


def _check_result(row: Sequence[Any], at: int) -> CheckResult:
    return CheckResult(verdict=_verdict(row[at]), reason=row[at + 1], detail=row[at + 2], status=row[at + 3],
                       final_url=row[at + 4],
                       redirects=tuple(Redirect(status, url) for status, url in json.loads(row[at + 5])),
                       elapsed=row[at + 6])


def _archive_result(row: Sequence[Any], at: int) -> ArchiveResult | None:
    if row[at] is None:
        return None
    return ArchiveResult(status=ArchiveStatus(row[at]), archive=row[at + 1], snapshot_url=row[at + 2],
                         timestamp=row[at + 3], relation=row[at + 4], detail=row[at + 5] or "")


def _load_snapshots(conn: sqlite3.Connection) -> dict[str, ArchiveResult]:
    rows = conn.execute(f"SELECT l.url, {_snapshot_fields('s')} FROM links l JOIN snapshots s ON s.id = l.snapshot_id")
    return {row[0]: result for row in rows if (result := _archive_result(row, 1)) is not None}


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _rule_key(settings: HistorySettings) -> str:
    return json.dumps({"spacing_days": settings.confirm_spacing_days, "tolerance_hours": settings.tolerance_hours})


def _rebuild_if_rule_changed(conn: sqlite3.Connection, settings: HistorySettings) -> None:
    """Replay every check when the strike spacing changed: the stored strikes were counted under the old one.

    (The number of strikes needed, confirm_failures, is applied when reading, so
    changing it needs no rebuild.)
    """
    key = _rule_key(settings)
    row = conn.execute("SELECT value FROM meta WHERE key = 'rule'").fetchone()
    if row is not None and row[0] == key:
        return
    with _transaction(conn):
        if row is not None:
            states: dict[int, tuple[LinkState, int]] = {}
            for link_id, check_id, at, verdict in conn.execute(
                    "SELECT link_id, id, checked_at, verdict FROM checks ORDER BY link_id, checked_at, id"):
                state, _ = states.get(link_id, (LinkState(), 0))
                states[link_id] = (advance(state, _verdict(verdict), _parse(at), settings), check_id)
            conn.executemany(
                "UPDATE links SET checks = ?, failures = ?, first_failed = ?, last_strike = ?, last_alive = ?, "
                "last_checked = ?, last_verdict = ? WHERE id = ?",
                ((*_state_values(state), link_id) for link_id, (state, _) in states.items()))
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('rule', ?)", (key,))

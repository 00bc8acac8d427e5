"""The SQLite schema, as a list of migration steps.

``PRAGMA user_version`` holds how many steps a store has had. Opening a store
applies the missing ones, each in its own transaction with the version bump,
so a crash between steps leaves a store at a valid earlier version. A store
with a higher version than this code knows was written by a newer crawler and
is refused rather than misread.

Never edit a released step: add a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    description: str
    statements: Sequence[str] = ()
    # For a step SQL alone cannot express (rewriting values): runs after the statements.
    code: Callable[[sqlite3.Connection], None] | None = None


MIGRATIONS: tuple[Migration, ...] = (
    Migration("runs, links, checks and snapshots", (
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started TEXT NOT NULL,          -- ISO 8601, UTC
            finished TEXT,                  -- NULL while running (or after a crash: resumed next time)
            attempts INTEGER NOT NULL DEFAULT 1,  -- 1 + times it was resumed
            tool_version TEXT,
            summary TEXT                    -- JSON given to finish_run
        )
        """,
        """
        CREATE TABLE links (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            -- The confirmation rule's state (crawler.store.history.LinkState), kept
            -- current by every recorded check so reading a history replays nothing.
            checks INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            first_failed TEXT,
            last_strike TEXT,
            last_alive TEXT,
            last_checked TEXT,
            last_verdict TEXT,
            last_check_id INTEGER REFERENCES checks(id),
            snapshot_id INTEGER REFERENCES snapshots(id),   -- the validated snapshot
            -- What the last finished run concluded, for "newly dead" and "recovered".
            concluded_run INTEGER REFERENCES runs(id),
            concluded_verdict TEXT,
            concluded_failures INTEGER
        )
        """,
        """
        CREATE TABLE checks (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            link_id INTEGER NOT NULL REFERENCES links(id),
            checked_at TEXT NOT NULL,
            verdict TEXT NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL,
            status INTEGER,
            final_url TEXT,
            redirects TEXT NOT NULL,        -- JSON [[status, url], ...]
            elapsed REAL NOT NULL,
            snapshot_id INTEGER REFERENCES snapshots(id),
            UNIQUE (run_id, link_id)        -- a run checks a link once, resumed or not
        )
        """,
        "CREATE INDEX checks_by_link ON checks (link_id, checked_at)",
        """
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            link_id INTEGER NOT NULL REFERENCES links(id),
            run_id INTEGER REFERENCES runs(id),
            looked_up TEXT NOT NULL,
            status TEXT NOT NULL,           -- crawler.model.ArchiveStatus
            archive TEXT,
            snapshot_url TEXT,
            timestamp TEXT,
            relation TEXT,
            detail TEXT NOT NULL
        )
        """,
        "CREATE INDEX snapshots_by_link ON snapshots (link_id)",
        # Settings the stored states depend on (the strike spacing): when they
        # change, the states are rebuilt from the checks.
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )),
)


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS, *, where: str) -> int:
    """Bring the store up to date; the version it had before. ``conn`` must be in autocommit mode."""
    from crawler.store.base import StoreError

    before = version(conn)
    if before > len(migrations):
        raise StoreError(f"{where}: written by a newer crawler (schema version {before}; "
                         f"this one knows up to {len(migrations)})")
    for number in range(before, len(migrations)):
        step = migrations[number]
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in step.statements:
                conn.execute(statement)
            if step.code is not None:
                step.code(conn)
            conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.execute("COMMIT")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{where}: could not upgrade the store to schema version {number + 1} "
                                 f"({step.description}): {exc}") from None
            raise
    return before

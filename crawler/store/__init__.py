"""The store: every check of every link across runs, every snapshot found, and the runs themselves.

``Store`` (crawler.store.base) is the interface a run uses; ``SqliteStore`` is
the embedded implementation. The confirmation rule and the recheck policy are
pure functions in crawler.store.history.
"""

from __future__ import annotations

from crawler.lazy import exports
from crawler.store.settings import HistorySettings, StoreSettings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from crawler.store.base import LinkHistory, Run, RunRecord, Schedule, Store, StoredCheck, StoreError, StoreLocked
    from crawler.store.history import Change, LinkState, Outcome, change, history_of, is_due, next_check, standing
    from crawler.store.sqlite import SqliteStore, open_store

_BASE = ("LinkHistory", "Run", "RunRecord", "Schedule", "Store", "StoredCheck", "StoreError", "StoreLocked")
_HISTORY = ("Change", "LinkState", "Outcome", "change", "history_of", "is_due", "next_check", "standing")

# Imported on first use: crawler.config imports this package's settings at
# every start, and only the commands that keep a history need the rest (the
# SQLite side, sqlite3 and threads, all the more).
__getattr__ = exports(__name__, {**dict.fromkeys(_BASE, "crawler.store.base"),
                                 **dict.fromkeys(_HISTORY, "crawler.store.history"),
                                 "SqliteStore": "crawler.store.sqlite", "open_store": "crawler.store.sqlite"})

__all__ = [
    "Change", "HistorySettings", "LinkHistory", "LinkState", "Outcome", "Run", "RunRecord", "Schedule",
    "SqliteStore", "Store", "StoreError", "StoreLocked", "StoreSettings", "StoredCheck", "change",
    "history_of", "is_due", "next_check", "open_store", "standing",
]

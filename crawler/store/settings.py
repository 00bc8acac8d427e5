"""Settings of the store and of the history rules: the ``[store]`` and ``[history]`` tables."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

DEFAULT_STORE_PATH = "state/crawler.sqlite3"


@dataclass(frozen=True)
class StoreSettings:
    """[store]: where the history database is, and how long dated reports are kept."""

    # Relative to the config file's directory (see Settings.store_path()).
    path: str = DEFAULT_STORE_PATH
    # Dated reports kept by `crawler run`; 0 keeps them all.
    keep_reports_days: int = 90


@dataclass(frozen=True)
class HistorySettings:
    """The confirmation rule (after InternetArchiveBot) and the recheck policy."""

    confirm_failures: int = 3
    confirm_spacing_days: float = 3.0
    recheck_alive_days: float = 7.0
    recheck_dead_days: float = 7.0
    # A nightly job reaches a link at a slightly different time each night; without
    # slack, "3 days" would often mean 4 nights.
    tolerance_hours: float = 2.0

    @property
    def spacing(self) -> _dt.timedelta:
        return _dt.timedelta(days=self.confirm_spacing_days)

    @property
    def tolerance(self) -> _dt.timedelta:
        return _dt.timedelta(hours=self.tolerance_hours)

    @property
    def recheck_alive(self) -> _dt.timedelta:
        return _dt.timedelta(days=self.recheck_alive_days)

    @property
    def recheck_dead(self) -> _dt.timedelta:
        return _dt.timedelta(days=self.recheck_dead_days)

    def problems(self) -> list[str]:
        """What is wrong with these values, for a config error message."""
        wrong = []
        if self.confirm_failures < 1:
            wrong.append(f"[history] confirm_failures must be at least 1, not {self.confirm_failures}")
        for name in ("confirm_spacing_days", "recheck_alive_days", "recheck_dead_days", "tolerance_hours"):
            if getattr(self, name) < 0:
                wrong.append(f"[history] {name} must not be negative, not {getattr(self, name)}")
        return wrong

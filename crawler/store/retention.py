"""Which dated reports `crawler run` keeps: the last ``keep_reports_days`` days."""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

# Only files crawler itself names: YYYY-MM-DD.md / .json. latest.* and anything a
# person put in the directory are never touched.
_DATED_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\.(?:md|json)")


def expired_reports(directory: Path, keep_days: int, today: _dt.date) -> list[Path]:
    """Dated reports older than the last ``keep_days`` days (today counts as one); none when 0."""
    if keep_days <= 0 or not directory.is_dir():
        return []
    oldest_kept = today - _dt.timedelta(days=keep_days - 1)
    expired = []
    for path in sorted(directory.iterdir()):
        m = _DATED_RE.fullmatch(path.name)
        if not m or not path.is_file():
            continue
        try:
            day = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
        if day < oldest_kept:
            expired.append(path)
    return expired


def prune_reports(directory: Path, keep_days: int, today: _dt.date) -> list[Path]:
    """Delete the expired dated reports; the ones deleted."""
    removed = []
    for path in expired_reports(directory, keep_days, today):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed

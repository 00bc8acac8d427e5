"""`crawler run` keeps the last N days of dated reports and nothing else is touched."""

from __future__ import annotations

import datetime as _dt

from crawler.store.retention import expired_reports, prune_reports

TODAY = _dt.date(2026, 11, 22)


def reports(directory, *names):
    directory.mkdir(exist_ok=True)
    for name in names:
        (directory / name).write_text("{}", encoding="utf-8")


def test_reports_older_than_the_last_n_days_are_deleted(tmp_path):
    reports(tmp_path, "2026-11-22.md", "2026-11-22.json", "2026-11-20.md", "2026-11-19.md", "2026-11-19.json")
    removed = prune_reports(tmp_path, 3, TODAY)  # today, the 21st and the 20th
    assert sorted(p.name for p in removed) == ["2026-11-19.json", "2026-11-19.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-11-20.md", "2026-11-22.json", "2026-11-22.md"]


def test_latest_and_other_files_are_never_touched(tmp_path):
    reports(tmp_path, "latest.md", "latest.json", "README.md", "2020-01-01.txt", "2020-01-01-notes.md", "2020-13-01.md")
    assert expired_reports(tmp_path, 1, TODAY) == []


def test_zero_keeps_everything(tmp_path):
    reports(tmp_path, "2001-01-01.md")
    assert expired_reports(tmp_path, 0, TODAY) == []


def test_a_missing_directory_has_nothing_to_delete(tmp_path):
    assert prune_reports(tmp_path / "reports", 30, TODAY) == []

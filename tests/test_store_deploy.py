"""The scheduling examples: the new-dead-links alarm they share, and that each runs `crawler run`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
ALARM = ROOT / "deploy" / "new_dead_links.py"
KANTEI = "http://www.kantei.go.jp/foreign/0731douyukai.html"


def report(tmp_path: Path, newly_dead: int, finished: str = "2026-11-22T03:40:00+00:00") -> Path:
    links = [{"url": KANTEI, "verdict": "dead", "detail": "redirects to the site's front page",
              "history": {"checks": 5, "consecutive_failures": 3, "confirmed": True, "change": "newly_dead"},
              "references": [{"source": "config/references/central-asia-plus-japan-dialogue.txt", "line": 9}]},
             {"url": "https://www.mofa.go.jp/files/000494314.pdf", "verdict": "alive",
              "history": {"checks": 2, "consecutive_failures": 0, "confirmed": False, "change": None},
              "references": []}]
    path = tmp_path / "latest.json"
    path.write_text(json.dumps({"started": "2026-11-22T03:17:05+00:00", "finished": finished,
                                "links": links[:newly_dead] + links[1:], "summary": {"history": {"newly_dead": newly_dead}}}),
                    encoding="utf-8")
    return path


def alarm(*args: str, github: bool = False, tmp_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    if github and tmp_path is not None:
        env.update(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"))
    return subprocess.run([sys.executable, str(ALARM), *args], capture_output=True, text=True, env=env, timeout=60)


def test_no_newly_dead_links_is_silent_success(tmp_path):
    done = alarm(str(report(tmp_path, 0)))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_newly_dead_links_fail_and_are_named(tmp_path):
    done = alarm(str(report(tmp_path, 1)))
    assert done.returncode == 1
    assert done.stdout == ("1 link newly dead (confirmed by repeated checks):\n"
                           f"  {KANTEI}  (config/references/central-asia-plus-japan-dialogue.txt:9)  "
                           "redirects to the site's front page\n")


def test_in_github_actions_they_are_annotations_and_a_step_summary(tmp_path):
    done = alarm(str(report(tmp_path, 1)), github=True, tmp_path=tmp_path)
    assert done.returncode == 1
    assert f"::error title=Newly dead link::{KANTEI} (config/references/" in done.stdout
    assert "### 1 newly dead link\n" in (tmp_path / "summary.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "missing.json", "no report"),
    (lambda p: (p / "bad.json").write_text("{", encoding="utf-8") and p / "bad.json", "cannot be read"),
    (lambda p: (p / "audit.json").write_text('{"summary": {}}', encoding="utf-8") and p / "audit.json",
     "no summary.history.newly_dead"),
])
def test_a_report_it_cannot_trust_is_an_error_not_silence(tmp_path, make, message):
    done = alarm(str(make(tmp_path)))
    assert done.returncode == 2 and message in done.stderr


def test_a_report_left_by_an_earlier_run_is_an_error(tmp_path):
    stale = report(tmp_path, 1, finished="2026-11-21T03:40:00+00:00")
    done = alarm(str(stale), "--since", "2026-11-22T03:17:00Z")
    assert done.returncode == 2 and "written by an earlier run" in done.stderr
    assert alarm(str(report(tmp_path, 1)), "--since", "2026-11-22T03:17:00Z").returncode == 1


@pytest.mark.parametrize("example", [
    ".github/workflows/nightly.yml", "deploy/cron/crawler.cron", "deploy/systemd/crawler.service",
])
def test_every_example_runs_crawler_run_and_raises_the_alarm(example):
    text = (ROOT / example).read_text(encoding="utf-8")
    assert "crawler run --config config/crawler.toml --state state/crawler.sqlite3 --reports reports" in text
    assert "deploy/new_dead_links.py reports/latest.json" in text


def test_the_timer_starts_the_service_nightly():
    timer = (ROOT / "deploy" / "systemd" / "crawler.timer").read_text(encoding="utf-8")
    assert "OnCalendar=*-*-* 02:17:00" in timer and "Persistent=true" in timer

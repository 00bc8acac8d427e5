"""`crawler run`, the scheduled job: history across nights, resuming after a crash, one run at a time.

Nights are simulated with CRAWLER_NOW; the sites are local stand-ins.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from aiohttp import web

from crawler.cli import main
from crawler.store import open_store
from sites import FakeWeb, html, page

CONFIG = """
[check]
retries = 0
timeout = 3.0
max_per_host = 32
max_concurrency = 64
canary_urls = ["http://canary.test/"]

[archive]
enabled = false
"""
DAY0 = "2026-11-01T03:00:00+00:00"


class Site:
    """One site whose pages can be set alive or gone from night to night."""

    def __init__(self, fake: FakeWeb) -> None:
        self.gone: set[str] = set()
        fake.route("canary.test", "/", page("Canary"))
        fake.fallback("journal.test", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        name = request.path.rsplit("/", 1)[-1]
        if name in self.gone or not name.startswith("article"):
            return web.Response(status=404, text="<title>404 Not Found</title>", content_type="text/html")
        return web.Response(text=html(f"Article {name}"), content_type="text/html")


def night(n: int) -> str:
    return f"2026-11-{1 + n:02d}T03:00:00+00:00"


def run(tmp: Path, fake: FakeWeb, refs: Path, when: str, monkeypatch, *extra: str) -> tuple[int, dict]:
    config = tmp / "crawler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("CRAWLER_NOW", when)
    code = main(["run", str(refs), "--config", str(config), "--state", str(tmp / "state.sqlite3"),
                 "--reports", str(tmp / "reports"), "--connect-to", f"::127.0.0.1:{fake.http_port}", "--quiet",
                 *extra])
    latest = tmp / "reports" / "latest.json"
    return code, json.loads(latest.read_text(encoding="utf-8"))


def link(report: dict, name: str) -> dict:
    return next(item for item in report["links"] if item["url"].endswith(name))


@pytest.fixture
def refs(tmp_path: Path) -> Path:
    path = tmp_path / "refs.txt"
    path.write_text("1. Aso, T. (2006). Speech. http://journal.test/a/article-one.html\n"
                    "2. Abe, S. (2015). Speech. http://journal.test/a/article-two.html\n", encoding="utf-8")
    return path


def test_a_link_goes_alive_then_failing_then_dead_then_recovered(tmp_path, refs, monkeypatch):
    with FakeWeb() as fake:
        site = Site(fake)
        code, report = run(tmp_path, fake, refs, night(0), monkeypatch)
        assert (code, link(report, "article-one.html")["verdict"]) == (0, "alive")
        site.gone.add("article-one.html")
        stories = []
        for n in (7, 10, 13):  # alive links wait 7 days; failing ones 3 (the spacing)
            code, report = run(tmp_path, fake, refs, night(n), monkeypatch)
            one = link(report, "article-one.html")
            stories.append((code, one["verdict"], one["history"]["consecutive_failures"],
                            one["history"]["confirmed"], one["history"]["change"]))
        assert stories == [(0, "dead", 1, False, "newly_failing"), (0, "dead", 2, False, None),
                           (1, "dead", 3, True, "newly_dead")]  # exit 1 only for the news
        assert report["summary"]["history"]["newly_dead"] == 1
        site.gone.clear()
        code, report = run(tmp_path, fake, refs, night(20), monkeypatch)  # a dead link is rechecked after 7 days
    one = link(report, "article-one.html")
    assert (code, one["verdict"], one["history"]["confirmed"], one["history"]["change"]) == (0, "alive", False,
                                                                                            "recovered")
    assert report["changes"]["recovered"] == [one["url"]]


def test_a_second_run_reports_what_changed_and_each_links_history(tmp_path, refs, monkeypatch):
    with FakeWeb() as fake:
        site = Site(fake)
        run(tmp_path, fake, refs, night(0), monkeypatch)
        site.gone.add("article-two.html")
        code, report = run(tmp_path, fake, refs, night(8), monkeypatch)
    two = link(report, "article-two.html")
    assert two["history"]["checks"] == 2 and two["history"]["change"] == "newly_failing"
    assert report["changes"]["newly_failing"] == [two["url"]]
    assert report["confirmation"] == {"failures": 3, "spacing_days": 3.0}
    markdown = (tmp_path / "reports" / "latest.md").read_text(encoding="utf-8")
    assert "### Failing, not yet confirmed" in markdown and "failing (1 of 3)" in markdown
    assert "Change since 2026-11-01" in markdown
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "2026-11-01.json", "2026-11-01.md", "2026-11-09.json", "2026-11-09.md", "latest.json", "latest.md"]


def test_links_checked_recently_and_alive_wait_for_their_interval(tmp_path, refs, monkeypatch):
    with FakeWeb() as fake:
        Site(fake)
        run(tmp_path, fake, refs, night(0), monkeypatch)
        before = len(fake.requests("journal.test"))
        _, report = run(tmp_path, fake, refs, night(1), monkeypatch)
        assert len(fake.requests("journal.test")) == before  # nothing due
        assert link(report, "article-one.html")["verdict"] == "alive"  # as last checked
        run(tmp_path, fake, refs, night(1), monkeypatch, "--recheck-all")
        assert len(fake.requests("journal.test")) > before


def test_a_second_run_on_the_same_store_is_refused(tmp_path, refs, capsys):
    config = tmp_path / "crawler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    state = tmp_path / "state.sqlite3"
    with open_store(state):
        code = main(["run", str(refs), "--config", str(config), "--state", str(state),
                     "--reports", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("crawler: error: ") and str(state) in err and err.count("\n") == 1


def test_a_store_another_program_holds_a_write_lock_on_is_an_error_naming_it_not_a_traceback(tmp_path, refs, capsys):
    # The sqlite3 shell with a transaction left open, say: SQLite gives up after its busy timeout.
    config = tmp_path / "crawler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    state = tmp_path / "state.sqlite3"
    open_store(state).close()
    with closing(sqlite3.connect(state, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        code = main(["run", str(refs), "--config", str(config), "--state", str(state),
                     "--reports", str(tmp_path / "reports")])
        other.execute("ROLLBACK")
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert f"crawler: error: {state}: cannot be written (database is locked)" in err


# --- crashes and signals, in real processes

LINKS = 5000


def slow_site(fake: FakeWeb) -> None:
    fake.route("canary.test", "/", page("Canary"))

    async def article(request: web.Request) -> web.Response:
        await __import__("asyncio").sleep(0.002)
        return web.Response(body=b"%PDF-1.4", content_type="application/pdf")
    for n in range(8):
        fake.fallback(f"host{n}.test", article)


def write_refs(path: Path) -> list[str]:
    urls = [f"http://host{n % 8}.test/files/{n}.pdf" for n in range(LINKS)]
    path.write_text("".join(f"{n + 1}. Author {n}. Report {n}. {url}\n" for n, url in enumerate(urls)),
                    encoding="utf-8")
    return urls


def start_run(tmp: Path, fake: FakeWeb, refs: Path) -> subprocess.Popen[bytes]:
    config = tmp / "crawler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    env = {**os.environ, "CRAWLER_NOW": DAY0}
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "run", str(refs), "--config", str(config), "--state",
         str(tmp / "state.sqlite3"), "--reports", str(tmp / "reports"), "--connect-to",
         f"::127.0.0.1:{fake.http_port}", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)


def wait_for(fake: FakeWeb, count: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sum(1 for s in fake.seen if s.host.startswith("host")) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


def checks_per_link(state: Path) -> dict[str, int]:
    with closing(sqlite3.connect(state)) as db:
        rows = db.execute("SELECT links.url, COUNT(checks.id) FROM links LEFT JOIN checks "
                          "ON checks.link_id = links.id GROUP BY links.url").fetchall()
    return dict(rows)


@pytest.mark.parametrize("how", ["kill -9", "SIGINT"])
def test_a_run_stopped_halfway_is_resumed_and_every_link_is_checked_exactly_once(tmp_path, how):
    refs = tmp_path / "refs.txt"
    urls = write_refs(refs)
    with FakeWeb() as fake:
        slow_site(fake)
        first = start_run(tmp_path, fake, refs)
        try:
            wait_for(fake, LINKS // 2, first)
            os.killpg(first.pid, signal.SIGKILL) if how == "kill -9" else first.send_signal(signal.SIGINT)
            first.communicate(timeout=20)
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
        halfway = checks_per_link(tmp_path / "state.sqlite3")
        assert 0 < len(halfway) < LINKS
        second = start_run(tmp_path, fake, refs)
        _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()
    counts = checks_per_link(tmp_path / "state.sqlite3")
    assert set(counts) == set(urls) and set(counts.values()) == {1}  # nothing lost, nothing twice
    report = json.loads((tmp_path / "reports" / "latest.json").read_text(encoding="utf-8"))
    assert len(report["links"]) == LINKS
    assert {item["verdict"] for item in report["links"]} == {"alive"}


def test_a_snapshot_found_one_night_is_not_looked_up_again_the_next(tmp_path, refs, monkeypatch):
    from wayback_fake import FakeWayback

    wayback = FakeWayback()
    wayback.add("http://journal.test/a/article-one.html", "20200101000000", title="Article one as it was")
    config = CONFIG.replace("[archive]\nenabled = false\n", "[archive]\nlookup_per_minute = 6000.0\n"
                            "replay_per_minute = 6000.0\n")
    with FakeWeb() as fake:
        site = Site(fake)
        site.gone.add("article-one.html")
        fake.fallback("127.0.0.1", wayback.handle)
        wayback.base = f"http://127.0.0.1:{fake.http_port}"
        reports = []
        for n in (0, 1, 4):  # the dead link waits 3 days (the spacing) between checks
            (tmp_path / "crawler.toml").write_text(config, encoding="utf-8")
            monkeypatch.setenv("CRAWLER_NOW", night(n))
            main(["run", str(refs), "--config", str(tmp_path / "crawler.toml"), "--state", str(tmp_path / "s.sqlite3"),
                  "--reports", str(tmp_path / "reports"), "--connect-to", f"journal.test:80:127.0.0.1:{fake.http_port}",
                  "--connect-to", f"canary.test:80:127.0.0.1:{fake.http_port}", "--wayback-url", wayback.base,
                  "--quiet"])
            reports.append(json.loads((tmp_path / "reports" / "latest.json").read_text(encoding="utf-8")))
    assert len(wayback.requests("cdx")) == 1  # found the first night; the store has it since
    for report in reports:
        one = link(report, "article-one.html")
        assert (one["verdict"], one["archive"]["status"], one["archive"]["timestamp"]) == ("dead", "found",
                                                                                          "20200101000000")

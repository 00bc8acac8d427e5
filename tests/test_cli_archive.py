"""`crawler audit` with the archive stage, end to end: the sample list, stand-in sites and a fake Wayback.

The stand-ins are those of test_cli_audit (reached by name through
--connect-to); the fake Wayback Machine answers on 127.0.0.1 through
--wayback-url, trusted as a configured endpoint without --allow-private.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.cli import main
from sites import FakeWeb
from test_cli_audit import DIALOGUE, TLS_NAMES, _stand_ins
from wayback_fake import FakeMementoArchive, FakeWayback

CONFIG = """
[check]
retries = 1
backoff_initial = 0.05
backoff_max = 0.2
timeout = 2.0
canary_urls = ["https://www.wikipedia.org/"]
canary_timeout = 2.0

[archive]
lookup_per_minute = 6000.0
availability_per_minute = 6000.0
replay_per_minute = 6000.0
save_per_minute = 6000.0
save_status_per_minute = 6000.0
backoff_initial = 0.01
backoff_max = 0.02
save_poll_interval = 0.05
"""
NOT_FOUND = ("<!DOCTYPE html><html><head><title>Page not found | MOFA</title></head>"
             "<body><p>Sorry.</p></body></html>")
KANTEI = "http://www.kantei.go.jp/foreign/0731douyukai.html"
NG = "http://www.ng.ru/courier/2006-01-16/9_china.html"
SPEECH = "http://www.mofa.go.jp/region/europe/uzbekistan/speech0408.html"
SOFT = ("https://prudentsolutions-analitika.org/2017/04/30/%D1%80%D0%BE%D0%BB%D1%8C-%D1%8F%D0%BF%D0%BE%D0%BD%D0%B8"
        "%D0%B8-%D0%B2-%D1%86%D0%B5%D0%BD%D1%82%D1%80%D0%B0%D0%BB%D1%8C%D0%BD%D0%BE%D0%B9-%D0%B0%D0%B7%D0%B8%D0%B8-"
        "%D0%B2%D0%BE%D0%B7%D0%BC%D0%BE%D0%B6/")
BROOKINGS = ("https://www.brookings.edu/articles/the-shanghai-cooperation-organization-and-japan-moving-together-to-"
             "reshape-the-eurasian-community/")
HOKUDAI = "http://src-h.slav.hokudai.ac.jp/coe21/publish/no16_1_ses/04_yuasa.pdf"
NEEDS_COPY = {KANTEI, NG, SPEECH, SOFT, BROOKINGS, HOKUDAI}


def captures(wayback: FakeWayback) -> None:
    # kantei (accessed 2020-07-20): a good capture in 2015, a 404 the day before the access date.
    wayback.add(KANTEI.replace("http://", "https://"), "20150301000000", title="Address by Prime Minister Hashimoto")
    wayback.add(KANTEI, "20200719000000", 404, body=NOT_FOUND)
    # ng.ru: nothing but 404s.
    wayback.add(NG, "20190101000000", 404, body=NOT_FOUND)
    wayback.add(NG, "20230101000000", 404, body=NOT_FOUND)
    # The Uzbekistan speech: a 200 capture that is the site's "not found" page, and an older good one.
    wayback.add(SPEECH, "20190601000000", body=NOT_FOUND)
    wayback.add(SPEECH, "20180101000000", title="Speech by the Minister in Tashkent")
    # The Brookings article (blocked today) and the Hokkaido PDF (unreachable) were captured.
    wayback.add(BROOKINGS, "20200501000000", title="The SCO and Japan")
    wayback.add(HOKUDAI, "20210101000000", body="%PDF-1.4", mimetype="application/pdf")


def audit(tmp: Path, *extra: str, setup=captures, config: str = CONFIG, memento: FakeMementoArchive | None = None,
          out_name: str = "report.json") -> tuple[int, dict | None, str, FakeWayback]:
    config_file = tmp / "crawler.toml"
    wayback = FakeWayback()
    setup(wayback)
    with FakeWeb(tls_names=TLS_NAMES, tmp=tmp) as fake:
        _stand_ins(fake)
        fake.fallback("127.0.0.1", wayback.handle)
        if memento is not None:
            fake.fallback(memento.host, memento.handle)
            config += f'\n[[archive.memento]]\nname = "arquivo"\ntimemap = "http://{memento.host}/wayback/timemap/link/{{url}}"\n'
        config_file.write_text(config, encoding="utf-8")
        wayback.base = f"http://127.0.0.1:{fake.http_port}"
        rules = [arg for rule in fake.connect_to() for arg in ("--connect-to", rule)]
        out = tmp / out_name
        code = main(["audit", str(DIALOGUE), *rules, "--ca-bundle", fake.ca_file, "--config", str(config_file),
                     "--wayback-url", wayback.base, "--output", str(out), *extra])
    text = out.read_text(encoding="utf-8")
    return code, json.loads(text) if out.suffix == ".json" else None, str(out), wayback


def archive_of(report: dict, url: str) -> dict:
    return next(link["archive"] for link in report["links"] if link["url"] == url)


@pytest.fixture(scope="module")
def archived(tmp_path_factory) -> dict:
    _, report, _, _ = audit(tmp_path_factory.mktemp("archived"), "--quiet")
    return report


def test_dead_link_gets_the_latest_good_capture_before_its_access_date_not_the_404(archived):
    found = archive_of(archived, KANTEI)
    assert (found["status"], found["timestamp"], found["relation"]) == ("found", "20150301000000", "before_access")
    assert found["snapshot_url"].endswith("/web/20150301000000/https://www.kantei.go.jp/foreign/0731douyukai.html")


def test_dead_link_whose_captures_are_all_404s_gets_none(archived):
    assert archive_of(archived, NG)["status"] == "none"


def test_a_capture_that_is_a_not_found_page_is_passed_over_for_an_older_good_one(archived):
    found = archive_of(archived, SPEECH)
    assert (found["status"], found["timestamp"]) == ("found", "20180101000000")


def test_blocked_and_unreachable_links_get_copies_too(archived):
    assert archive_of(archived, BROOKINGS)["status"] == "found"
    hokudai = archive_of(archived, HOKUDAI)
    assert (hokudai["status"], hokudai["relation"]) == ("found", "after_access")


def test_live_links_are_not_looked_up_without_save(archived):
    for link in archived["links"]:
        if link["url"] not in NEEDS_COPY:
            assert link["archive"] is None, link["url"]


def test_summary_counts_copies_found_and_lost(archived):
    assert archived["summary"]["archive"] == {"found": 4, "lost": 2, "requested": 0, "saved": 0, "errors": 0}


def test_markdown_report_shows_the_copy_with_its_date(tmp_path):
    code, _, path, _ = audit(tmp_path, "--quiet", out_name="report.md")
    text = Path(path).read_text(encoding="utf-8")
    assert code == 1
    assert "### Dead, with an archived copy (ready to fix)" in text
    assert "[archived 2015-03-01](<http://127.0.0.1:" in text
    assert "### Dead, with no archived copy (lost)" in text


def test_an_archive_answering_429_to_everything_gives_errors_never_none(tmp_path):
    def throttled(wayback: FakeWayback) -> None:
        captures(wayback)
        for family in ("cdx", "availability", "timemap", "replay"):
            wayback.fault(family, 429)

    # The archive's real pace, but a short rest after a 429 (the default minute is timed in the README).
    code, report, _, wayback = audit(tmp_path, "--quiet", setup=throttled, config=CONFIG.replace(
        "lookup_per_minute = 6000.0", "lookup_per_minute = 24.0") + "pause_after_429 = 2.0\n")
    statuses = {link["url"]: link["archive"]["status"] for link in report["links"] if link["archive"]}
    assert set(statuses) == NEEDS_COPY
    assert set(statuses.values()) == {"error"}
    assert any("not answering" in note for note in report["notes"])
    assert len(wayback.requests()) <= 4  # the breaker stops asking: a 429 is never hammered


def test_save_requests_a_capture_for_exactly_the_live_links_without_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IA_ACCESS_KEY_ID", "test-access")
    monkeypatch.setenv("IA_SECRET_ACCESS_KEY", "test-secret")

    def some_live_captured(wayback: FakeWayback) -> None:
        captures(wayback)
        wayback.add("https://www.mofa.go.jp/files/000494314.pdf", "20230101000000", body="%PDF-1.7",
                    mimetype="application/pdf")

    code, report, path, wayback = audit(tmp_path, "--save", setup=some_live_captured)
    saved = {s.form.get("url") for s in wayback.requests("save")}
    live = {link["url"] for link in report["links"] if link["verdict"] in ("alive", "moved")}
    assert saved  # something was captured
    assert saved <= live - {"https://www.mofa.go.jp/files/000494314.pdf"}
    assert not saved & NEEDS_COPY  # a dead, blocked or unreachable link is never captured
    statuses = {link["archive"]["status"] for link in report["links"] if link["url"] in saved}
    assert statuses <= {"saved", "requested"}
    assert wayback.requests("status")  # the jobs were polled
    everything = Path(path).read_text(encoding="utf-8") + capsys.readouterr().err
    assert "test-secret" not in everything


def test_save_without_keys_says_so_and_still_looks_up(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("IA_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("IA_SECRET_ACCESS_KEY", raising=False)
    code, report, _, wayback = audit(tmp_path, "--save")
    err = capsys.readouterr().err
    assert "IA_ACCESS_KEY_ID" in err and "IA_SECRET_ACCESS_KEY" in err
    assert not wayback.requests("save")
    assert archive_of(report, KANTEI)["status"] == "found"


def test_a_link_with_no_wayback_capture_gets_the_copy_of_a_second_archive(tmp_path):
    memento = FakeMementoArchive("arquivo.test")
    memento.add(NG, "20220101000000", title="China in Central Asia")
    _, report, _, _ = audit(tmp_path, "--quiet", memento=memento)
    found = archive_of(report, NG)
    assert (found["status"], found["archive"]) == ("found", "arquivo")


def test_no_archive_turns_the_stage_off(tmp_path):
    _, report, _, wayback = audit(tmp_path, "--quiet", "--no-archive")
    assert wayback.requests() == []
    assert all(link["archive"] is None for link in report["links"])
    assert "archive" not in report["summary"]

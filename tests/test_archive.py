"""The archive stage against a local fake of the Wayback Machine and of a Memento archive.

Each test is one behaviour, on captures laid out the way real ones are:
good 200s, recorded 404s and redirects, "not found" pages served with 200.
The fakes live in tests/wayback_fake.py; time is a fake clock, so a minute's
pause after a 429 costs nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Iterator

import pytest
from aiohttp import web

from archive_support import KEYS, Archives, FakeClock, archives, run_stage
from wayback_fake import Fault
from crawler.archive.net import Clock
from crawler.archive.plan import Action, ArchiveJob
from crawler.model import AccessDate, ArchiveStatus, Snapshot

REPORT = "https://example.org/reports/2019/annual.html"
ACCESSED = AccessDate(2020, 7, 20)
NOT_FOUND_PAGE = ("<!DOCTYPE html><html><head><title>Page not found | Example</title></head>"
                  "<body><p>Sorry, we could not find that page.</p></body></html>")


@pytest.fixture
def fakes() -> Iterator[Archives]:
    with archives() as a:
        yield a


def lookup(url: str = REPORT, accessed: AccessDate | None = ACCESSED, **options) -> dict:
    return {url: ArchiveJob(url, accessed, **options)}


# --- choosing the capture


def test_the_latest_good_capture_before_the_access_date_wins_over_the_404_called_closest(fakes):
    w = fakes.wayback
    w.add("http://www.example.org/reports/2019/annual.html", "20150301000000", title="Annual report")
    w.add("http://www.example.org/reports/2019/annual.html", "20200719000000", 404, body=NOT_FOUND_PAGE)
    w.add("https://example.org/reports/2019/annual.html", "20200725000000", title="Annual report again")
    # The Availability API would offer the 404: it is the closest capture.
    assert '"status": "404"' in _availability(fakes, "example.org/reports/2019/annual.html", "20200720235959")
    w.seen.clear()
    result = run_stage(fakes, lookup())[REPORT]
    assert (result.status, result.timestamp, result.relation) == (ArchiveStatus.FOUND, "20150301000000",
                                                                  "before_access")
    assert result.snapshot_url == f"{w.base}/web/20150301000000/http://www.example.org/reports/2019/annual.html"
    assert result.archive == "wayback"
    assert not w.requests("availability")  # the index decides, not "closest"


def test_a_200_capture_that_is_a_not_found_page_is_passed_over_for_an_older_good_one(fakes):
    w = fakes.wayback
    w.add(REPORT, "20160101000000", title="Annual report")
    w.add(REPORT, "20190601000000", body=NOT_FOUND_PAGE)
    result = run_stage(fakes, lookup())[REPORT]
    assert (result.status, result.timestamp) == (ArchiveStatus.FOUND, "20160101000000")
    assert "2019-06-01 00:00:00: the capture is a “not found” page" in result.detail


def test_identical_bad_captures_are_checked_once(fakes):
    w = fakes.wayback
    w.add(REPORT, "20120101000000", title="Annual report")
    for month in ("01", "02", "03", "04", "05"):
        w.add(REPORT, f"2019{month}01000000", body=NOT_FOUND_PAGE)
    settings = fakes.settings(max_candidates=2)
    result = run_stage(fakes, lookup(), settings)[REPORT]
    assert (result.status, result.timestamp) == (ArchiveStatus.FOUND, "20120101000000")
    assert len(w.requests("replay")) == 2


def test_a_link_whose_only_captures_are_404s_gets_none(fakes):
    fakes.wayback.add(REPORT, "20170101000000", 404, body=NOT_FOUND_PAGE)
    fakes.wayback.add(REPORT, "20210101000000", 404, body=NOT_FOUND_PAGE)
    result = run_stage(fakes, lookup())[REPORT]
    assert result.status is ArchiveStatus.NONE
    assert result.snapshot_url is None


def test_captures_of_redirects_are_never_offered(fakes):
    fakes.wayback.add(REPORT, "20180101000000", 301, body="", location="https://example.org/")
    assert run_stage(fakes, lookup())[REPORT].status is ArchiveStatus.NONE


def test_a_link_never_archived_gets_none(fakes):
    result = run_stage(fakes, lookup())[REPORT]
    assert (result.status, result.detail) == (ArchiveStatus.NONE, "no capture that recorded HTTP 200")


def test_with_nothing_good_before_the_access_date_the_earliest_after_it(fakes):
    w = fakes.wayback
    w.add(REPORT, "20200101000000", body=NOT_FOUND_PAGE)
    w.add(REPORT, "20220101000000", title="Later")
    w.add(REPORT, "20210101000000", title="Soon after")
    result = run_stage(fakes, lookup())[REPORT]
    assert (result.status, result.timestamp, result.relation) == (ArchiveStatus.FOUND, "20210101000000",
                                                                  "after_access")


def test_without_an_access_date_the_latest_good_capture(fakes):
    w = fakes.wayback
    w.add(REPORT, "20100101000000", title="Old")
    w.add(REPORT, "20230101000000", title="Newest")
    w.add(REPORT, "20240101000000", 404, body=NOT_FOUND_PAGE)
    result = run_stage(fakes, lookup(accessed=None))[REPORT]
    assert (result.timestamp, result.relation) == ("20230101000000", "latest")


def test_a_month_only_access_date_counts_the_whole_month(fakes):
    fakes.wayback.add(REPORT, "20160228120000", title="Late February")
    result = run_stage(fakes, lookup(accessed=AccessDate(2016, 2)))[REPORT]
    assert (result.timestamp, result.relation) == ("20160228120000", "before_access")


def test_matching_ignores_the_scheme_and_www(fakes):
    fakes.wayback.add("http://www.example.org/reports/2019/annual.html", "20190101000000", title="Annual report")
    assert run_stage(fakes, lookup())[REPORT].status is ArchiveStatus.FOUND


def test_captures_of_bot_challenges_are_not_offered(fakes):
    challenge = ("<html><head><title>Just a moment...</title></head><body>"
                 "<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1'></script></body></html>")
    fakes.wayback.add(REPORT, "20190101000000", body=challenge)
    fakes.wayback.add(REPORT, "20170101000000", title="Annual report")
    result = run_stage(fakes, lookup())[REPORT]
    assert result.timestamp == "20170101000000"
    assert "bot challenge" in result.detail


def test_a_pdf_capture_is_offered(fakes):
    url = "https://example.org/files/report.pdf"
    fakes.wayback.add(url, "20190101000000", body="%PDF-1.4 …", mimetype="application/pdf")
    assert run_stage(fakes, lookup(url))[url].status is ArchiveStatus.FOUND


OTHER = "https://other.example.net/press/release.html"


def _cdx_rows(*rows: list[str]) -> str:
    return json.dumps([["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest"], *rows])


def test_a_capture_the_index_lists_for_another_address_is_not_offered(fakes):
    # An index that ignored the url parameter (or a proxy's cached answer for another query).
    w = fakes.wayback
    w.add(OTHER, "20190101000000", title="Press release")
    w.fault("cdx", 200, body=_cdx_rows(["net,example,other)/press/release.html", "20190101000000", OTHER,
                                        "text/html", "200", "AAAA"]), content_type="application/json")
    result = run_stage(fakes, lookup())[REPORT]
    assert result.status is ArchiveStatus.NONE
    assert "a capture of another address" in result.detail


def test_a_replay_the_archive_redirects_to_another_address_is_not_offered(fakes):
    w = fakes.wayback
    w.add(REPORT, "20190101000000", title="Annual report")
    w.add(OTHER, "20190101000000", title="Press release")
    w.fault("replay", 302, count=1, body="", headers={"Location": f"{w.base}/web/20190101000000id_/{OTHER}"})
    result = run_stage(fakes, lookup())[REPORT]
    assert result.status is ArchiveStatus.NONE
    assert "a capture of another address" in result.detail


def test_a_capture_of_another_address_named_by_the_availability_api_is_not_offered(fakes):
    w = fakes.wayback
    w.add(OTHER, "20190101000000", title="Press release")
    w.fault("cdx", 503)
    w.fault("availability", 200, content_type="application/json", body=json.dumps({"archived_snapshots": {
        "closest": {"status": "200", "available": True, "timestamp": "20190101000000",
                    "url": f"http://web.archive.org/web/20190101000000/{OTHER}"}}}))
    result = run_stage(fakes, lookup())[REPORT]
    assert result.status is ArchiveStatus.ERROR  # the index did not answer: nothing is known
    assert result.snapshot_url is None
    assert "a capture of another address" in result.detail


@pytest.mark.parametrize("stamp", ["20190230000000", "99999999999999", "20191301000000"])
def test_an_index_row_with_an_impossible_timestamp_is_skipped_not_fetched(fakes, stamp):
    w = fakes.wayback
    w.add(REPORT, "20180101000000", title="Annual report")
    good = ["org,example)/reports/2019/annual.html", "20180101000000", REPORT, "text/html", "200", "GOOD"]
    bad = ["org,example)/reports/2019/annual.html", stamp, REPORT, "text/html", "200", "BAD"]
    w.fault("cdx", 200, count=1, body=_cdx_rows(bad, good), content_type="application/json")
    result = run_stage(fakes, lookup())[REPORT]
    assert (result.status, result.timestamp) == (ArchiveStatus.FOUND, "20180101000000")
    assert all(stamp not in seen.path_qs for seen in w.requests("replay"))


def test_a_capture_of_the_same_address_written_differently_is_offered(fakes):
    fakes.wayback.add("http://WWW.Example.org:80/Reports/2019/annual.html", "20190101000000", title="Annual report")
    result = run_stage(fakes, lookup())[REPORT]
    assert (result.status, result.timestamp) == (ArchiveStatus.FOUND, "20190101000000")


# --- what the citation already points to


def test_a_cited_archive_copy_is_kept_when_it_is_good(fakes):
    w = fakes.wayback
    w.add(REPORT, "20160301000000", title="As cited")
    w.add(REPORT, "20200101000000", title="Closer to the access date")
    known = Snapshot(f"https://web.archive.org/web/20160301000000/{REPORT}", "20160301000000")
    result = run_stage(fakes, lookup(known_snapshot=known))[REPORT]
    assert result.timestamp == "20160301000000"
    assert "the copy the citation points to" in result.detail
    assert not w.requests("cdx")


def test_a_cited_copy_given_to_the_day_follows_the_archive_to_the_capture(fakes):
    fakes.wayback.add(REPORT, "20160301120000", title="As cited")
    known = Snapshot(f"https://web.archive.org/web/20160301/{REPORT}", "20160301")
    result = run_stage(fakes, lookup(known_snapshot=known))[REPORT]
    assert (result.status, result.timestamp) == (ArchiveStatus.FOUND, "20160301120000")
    assert result.snapshot_url.endswith(f"/web/20160301120000/{REPORT}")


def test_a_cited_copy_that_recorded_a_404_is_replaced_by_a_good_one(fakes):
    w = fakes.wayback
    w.add(REPORT, "20160301000000", 404, body=NOT_FOUND_PAGE)
    w.add(REPORT, "20150101000000", title="Good")
    known = Snapshot(f"https://web.archive.org/web/20160301000000/{REPORT}", "20160301000000")
    result = run_stage(fakes, lookup(known_snapshot=known))[REPORT]
    assert result.timestamp == "20150101000000"
    assert "the capture recorded HTTP 404" in result.detail


# --- truncated URLs


def test_a_truncated_url_is_recovered_from_the_archive_by_its_prefix(fakes):
    full = "http://www.mofa.go.jp/region/europe/speech0606.html"
    fakes.wayback.add(full, "20070101000000", title="Speech by Mr. Taro Aso")
    fakes.wayback.add("http://www.mofa.go.jp/region/asia/other.html", "20070101000000", title="Other")
    cut = "http://www.mofa.go.jp/region/europe/spe"
    result = run_stage(fakes, lookup(cut, None, prefix=True))[cut]
    assert result.status is ArchiveStatus.FOUND
    assert result.snapshot_url.endswith(f"/web/20070101000000/{full}")
    assert "starts with the cut one" in result.detail


# --- the Availability API, only as a fallback


def test_while_the_index_fails_the_availability_apis_404_is_never_offered_and_it_is_an_error(fakes):
    w = fakes.wayback
    w.add(REPORT, "20150101000000", title="Good")
    w.add(REPORT, "20200720000000", 404, body=NOT_FOUND_PAGE)
    w.fault("cdx", 504)
    result = run_stage(fakes, lookup())[REPORT]
    assert result.status is ArchiveStatus.ERROR
    assert "recorded HTTP 404, which is never offered" in result.detail
    assert w.requests("availability")[0].path_qs.startswith("/wayback/available?url=example.org/")


def test_while_the_index_fails_a_good_capture_named_by_the_availability_api_is_checked_and_offered(fakes):
    fakes.wayback.add(REPORT, "20190101000000", title="Good")
    fakes.wayback.fault("cdx", 504)
    result = run_stage(fakes, lookup())[REPORT]
    assert (result.status, result.timestamp) == (ArchiveStatus.FOUND, "20190101000000")
    assert "Availability API" in result.detail


def test_deeply_nested_json_from_the_availability_api_is_an_unexpected_answer_not_an_internal_error(fakes):
    fakes.wayback.fault("cdx", 503)
    fakes.wayback.fault("availability", 200, body='{"a":' * 50_000 + "1" + "}" * 50_000,
                        content_type="application/json")
    result = run_stage(fakes, lookup())[REPORT]
    assert result.status is ArchiveStatus.ERROR
    assert "internal error" not in result.detail
    assert "the Availability API named no capture either" in result.detail


def test_an_empty_availability_answer_while_the_index_fails_is_an_error_not_none(fakes):
    fakes.wayback.add(REPORT, "20190101000000", title="Good")
    fakes.wayback.spurious_empty_availability = True
    fakes.wayback.fault("cdx", 503)
    assert run_stage(fakes, lookup())[REPORT].status is ArchiveStatus.ERROR


def test_a_site_the_archive_excludes_gets_none_with_the_reason(fakes):
    fakes.wayback.fault("cdx", 403, body="org.archive.wayback.exception.AdministrativeAccessControlException: "
                        "Blocked Site Error", content_type="text/plain")
    result = run_stage(fakes, lookup())[REPORT]
    assert result.status is ArchiveStatus.NONE
    assert "excludes this site" in result.detail


# --- being a good citizen


def test_a_burst_of_429s_pauses_the_index_and_the_lookup_then_succeeds(fakes):
    fakes.wayback.add(REPORT, "20190101000000", title="Good")
    fakes.wayback.fault("cdx", 429, count=1)
    clock = FakeClock()
    result = run_stage(fakes, lookup(), fakes.settings(retries=2), clock=clock)[REPORT]
    assert result.status is ArchiveStatus.FOUND
    assert len(fakes.wayback.requests("cdx")) == 2
    assert max(clock.slept) >= 60.0  # a minute's rest after the 429, as the archive asks


def test_retry_after_is_honoured_when_it_asks_for_more_than_a_minute(fakes):
    fakes.wayback.add(REPORT, "20190101000000", title="Good")
    fakes.wayback.fault("cdx", 429, count=1, headers={"Retry-After": "120"})
    clock = FakeClock()
    run_stage(fakes, lookup(), fakes.settings(retries=2), clock=clock)
    assert max(clock.slept) >= 120.0


def test_a_503_asking_to_wait_longer_than_the_cap_stops_asking_the_archive_at_once(fakes):
    # A maintenance window: "come back tomorrow". As for a 429, waiting would hold the run for nothing.
    w = fakes.wayback
    for family in ("cdx", "availability"):
        w.fault(family, 503, headers={"Retry-After": "86400"})
    jobs = {f"https://example.org/page{i}.html": ArchiveJob(f"https://example.org/page{i}.html", ACCESSED)
            for i in range(5)}
    clock = FakeClock()
    results = run_stage(fakes, jobs, fakes.settings(retries=2), clock=clock)
    assert {r.status for r in results.values()} == {ArchiveStatus.ERROR}
    assert all("HTTP 503 asking to wait 86400 s" in r.detail for r in results.values())
    assert len(w.requests()) == 1
    assert sum(clock.slept) < fakes.settings().retry_after_cap


def test_an_archive_answering_429_to_everything_gives_error_on_every_link_quickly(fakes):
    w = fakes.wayback
    for family in ("cdx", "availability", "replay", "timemap"):
        w.fault(family, 429)
    jobs = {f"https://example.org/page{i}.html": ArchiveJob(f"https://example.org/page{i}.html", ACCESSED)
            for i in range(20)}
    stages: list = []
    started = time.monotonic()
    results = run_stage(fakes, jobs, fakes.settings(retries=2), stage_out=stages)
    assert time.monotonic() - started < 10
    assert {r.status for r in results.values()} == {ArchiveStatus.ERROR}
    assert all("rate-limited" in r.detail or "429" in r.detail for r in results.values())
    # It stopped asking: two 429s in a row open the breaker, and nothing else was sent.
    assert len(w.requests()) == 2
    assert any("is not answering" in notice for notice in stages[0].notices)


def test_with_real_time_and_short_pauses_a_throttling_archive_still_ends_in_errors(fakes):
    for family in ("cdx", "availability", "replay", "timemap"):
        fakes.wayback.fault(family, 429)
    jobs = {f"https://example.org/p{i}": ArchiveJob(f"https://example.org/p{i}", ACCESSED) for i in range(10)}
    settings = fakes.settings(retries=2, pause_after_429=0.05, lookup_per_minute=6000.0)
    results = run_stage(fakes, jobs, settings, clock=Clock())
    assert {r.status for r in results.values()} == {ArchiveStatus.ERROR}


def test_an_archive_outage_mid_run_makes_the_rest_errors_not_nones(fakes):
    w = fakes.wayback
    urls = [f"https://example.org/page{i}.html" for i in range(8)]
    for url in urls:
        w.add(url, "20190101000000", title="Good page")
    seen: list[str] = []

    def on_result(key, result):
        seen.append(key)
        if len(seen) == 2:
            w.down = True

    results = run_stage(fakes, {u: ArchiveJob(u, ACCESSED) for u in urls}, fakes.settings(max_concurrency=1),
                        on_result=on_result)
    statuses = [results[u].status for u in urls]
    assert statuses[:2] == [ArchiveStatus.FOUND, ArchiveStatus.FOUND]
    assert set(statuses[2:]) == {ArchiveStatus.ERROR}
    assert len(w.requests()) < 2 * 2 + 6  # the breaker stopped it after a few failures


def test_a_live_429_on_a_replay_is_the_archive_throttling_not_the_capture(fakes):
    fakes.wayback.add(REPORT, "20190101000000", title="Good")
    fakes.wayback.fault("replay", 429, count=1)
    result = run_stage(fakes, lookup(), fakes.settings(retries=2))[REPORT]
    assert (result.status, result.timestamp) == (ArchiveStatus.FOUND, "20190101000000")


def test_a_replay_without_memento_datetime_is_the_archives_own_page_not_a_capture(fakes):
    fakes.wayback.add(REPORT, "20190101000000", title="Good")
    fakes.wayback.fault("replay", 200, body="<html><title>Wayback Machine</title>Sorry. This URL has been "
                        "excluded from the Wayback Machine.</html>")
    result = run_stage(fakes, lookup())[REPORT]
    assert result.status is ArchiveStatus.NONE
    assert "a page of its own" in result.detail


def test_the_same_page_cited_two_ways_is_looked_up_once(fakes):
    fakes.wayback.add(REPORT, "20190101000000", title="Good")
    other = "http://www.example.org/reports/2019/annual.html"
    results = run_stage(fakes, {REPORT: ArchiveJob(REPORT, ACCESSED), other: ArchiveJob(other, ACCESSED)})
    assert results[REPORT] == results[other]
    assert results[REPORT].status is ArchiveStatus.FOUND
    assert len(fakes.wayback.requests("cdx")) == 1


def test_progress_counts_submitted_done_and_each_status(fakes):
    fakes.wayback.add(REPORT, "20190101000000", title="Good")
    stages: list = []
    run_stage(fakes, {REPORT: ArchiveJob(REPORT, ACCESSED),
                      "https://example.org/gone": ArchiveJob("https://example.org/gone", ACCESSED)},
              stage_out=stages)
    progress = stages[0].progress
    assert (progress.submitted, progress.done, progress.by_status) == (2, 2, {"found": 1, "none": 1})
    assert progress.line() == "archive 2/2 found 1 none 1"


def test_every_key_gets_exactly_one_result_callback(fakes):
    calls: list[str] = []
    jobs = {f"https://example.org/p{i}": ArchiveJob(f"https://example.org/p{i}", ACCESSED) for i in range(5)}
    jobs["http://www.example.org/p0"] = ArchiveJob("http://www.example.org/p0", ACCESSED)
    run_stage(fakes, jobs, on_result=lambda key, result: calls.append(key))
    assert sorted(calls) == sorted(jobs)


def test_a_stage_turned_off_skips_everything_without_a_request(fakes):
    results = run_stage(fakes, lookup(), fakes.settings(enabled=False))
    assert results[REPORT].status is ArchiveStatus.SKIPPED
    assert not fakes.wayback.requests()


def test_at_the_deadline_what_is_left_is_marked_error_or_skipped(fakes):
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(text="[]")

    fakes.web.route("127.0.0.1", "/cdx/search/cdx", hang)
    urls = [f"https://example.org/slow{i}" for i in range(3)]
    results = run_stage(fakes, {u: ArchiveJob(u, ACCESSED) for u in urls}, fakes.settings(max_concurrency=1),
                        deadline_in=0.3)
    assert results[urls[0]].status is ArchiveStatus.ERROR
    assert "had not answered by the deadline" in results[urls[0]].detail
    assert [results[u].status for u in urls[1:]] == [ArchiveStatus.SKIPPED] * 2


def test_a_replay_redirected_past_the_access_date_does_not_stand_for_the_capture_before_it(fakes):
    # The index lists a copy from before the access date; the archive replays one from years later.
    w = fakes.wayback
    w.add(REPORT, "20190101000000", title="Annual report")
    w.add(REPORT, "20170101000000", title="Annual report, older")
    w.add(REPORT, "20250101000000", title="Annual report, rewritten")
    w.fault("replay", 302, count=1, body="", headers={"Location": f"{w.base}/web/20250101000000id_/{REPORT}"})
    result = run_stage(fakes, lookup())[REPORT]
    assert (result.status, result.timestamp, result.relation) == (ArchiveStatus.FOUND, "20170101000000",
                                                                  "before_access")


def test_a_capture_whose_replay_redirects_in_circles_is_passed_over(fakes):
    w = fakes.wayback
    w.add(REPORT, "20190101000000", title="Loops")
    w.add(REPORT, "20170101000000", title="Good")
    loop = f"{w.base}/web/20190101000000id_/{REPORT}"
    w.fault("replay", 302, count=6, body="", headers={"Location": loop})
    result = run_stage(fakes, lookup())[REPORT]
    assert (result.status, result.timestamp) == (ArchiveStatus.FOUND, "20170101000000")
    assert "cannot be replayed" in result.detail


def test_a_replay_the_archive_redirects_to_another_host_is_not_offered(fakes):
    # The copy would be served by that host, whatever its path says: not the archive's capture.
    from crawler.check.resolve import ConnectTo
    from wayback_fake import FakeWayback

    elsewhere = FakeWayback()
    elsewhere.add(REPORT, "20190101000000", title="Annual report")
    fakes.web.fallback("mirror.test", elsewhere.handle)
    w = fakes.wayback
    w.add(REPORT, "20190101000000", title="Annual report")
    w.fault("replay", 302, count=1, body="",
            headers={"Location": f"http://mirror.test/web/20190101000000id_/{REPORT}"})
    connect_to = [ConnectTo.parse(rule) for rule in fakes.web.connect_to(fakes.memento.host, "mirror.test")]
    result = run_stage(fakes, lookup(), connect_to=connect_to)[REPORT]
    assert result.status is ArchiveStatus.NONE
    assert result.snapshot_url is None
    assert "another host (mirror.test)" in result.detail


def test_a_memento_archive_may_serve_its_replay_from_a_mirror_of_its_own(fakes):
    # archive.today's TimeMap names archive.today, and its replays answer from archive.ph.
    from crawler.check.resolve import ConnectTo
    from wayback_fake import FakeMementoArchive

    mirror = FakeMementoArchive("mirror.arquivo.test")
    mirror.add(REPORT, "20180505000000", title="Annual report")
    fakes.web.fallback(mirror.host, mirror.handle)
    fakes.memento.add(REPORT, "20180505000000", title="Annual report")
    fakes.memento.fault_replays(302, count=1, body="",
                                headers={"Location": f"http://{mirror.host}/wayback/20180505000000id_/{REPORT}"})
    connect_to = [ConnectTo.parse(rule) for rule in fakes.web.connect_to(fakes.memento.host, mirror.host)]
    result = run_stage(fakes, lookup(), fakes.settings(memento=True), connect_to=connect_to)[REPORT]
    assert (result.status, result.archive, result.timestamp) == (ArchiveStatus.FOUND, "arquivo", "20180505000000")
    assert mirror.seen  # the copy was checked where the archive sent it


def test_a_redirect_from_the_archive_to_a_private_address_is_refused(fakes):
    fakes.wayback.add(REPORT, "20190101000000", title="Good")
    fakes.wayback.fault("replay", 302, body="", headers={"Location": "http://127.0.0.2:9/internal"})
    result = run_stage(fakes, lookup())[REPORT]
    assert result.status is ArchiveStatus.ERROR
    assert "refused" in result.detail


def test_a_wayback_without_a_cdx_index_is_read_through_its_timemap(fakes):
    fakes.wayback.add(REPORT, "20160101000000", title="Good")
    fakes.wayback.add(REPORT, "20190101000000", 404, body=NOT_FOUND_PAGE)
    result = run_stage(fakes, lookup(), fakes.settings(cdx=""))[REPORT]
    assert (result.status, result.timestamp) == (ArchiveStatus.FOUND, "20160101000000")
    assert "recorded HTTP 404" in result.detail


# --- a second archive


@pytest.mark.parametrize("quoted", [True, False])
def test_a_link_with_no_wayback_capture_gets_the_memento_archives_one_named(fakes, quoted):
    fakes.memento.quoted = quoted
    fakes.memento.add(REPORT, "20180505000000", title="Annual report")
    fakes.memento.add(REPORT, "20210505000000", title="Annual report later")
    result = run_stage(fakes, lookup(), fakes.settings(memento=True))[REPORT]
    assert (result.status, result.archive, result.timestamp) == (ArchiveStatus.FOUND, "arquivo", "20180505000000")
    assert result.snapshot_url == f"http://arquivo.test/wayback/20180505000000/{REPORT}"
    assert any("id_/" in path for path in fakes.memento.seen)  # the raw capture was checked


def test_wayback_comes_first(fakes):
    fakes.wayback.add(REPORT, "20170101000000", title="Good")
    fakes.memento.add(REPORT, "20200101000000", title="Closer")
    result = run_stage(fakes, lookup(), fakes.settings(memento=True))[REPORT]
    assert result.archive == "wayback"
    assert not fakes.memento.seen


def test_a_memento_capture_that_is_a_not_found_page_is_passed_over(fakes):
    fakes.memento.add(REPORT, "20190101000000", body=NOT_FOUND_PAGE)
    fakes.memento.add(REPORT, "20150101000000", title="Good")
    result = run_stage(fakes, lookup(), fakes.settings(memento=True))[REPORT]
    assert (result.archive, result.timestamp) == ("arquivo", "20150101000000")


def test_a_memento_that_is_the_sites_front_page_is_not_offered(fakes):
    fakes.memento.add(REPORT, "20190101000000", title="Example — home", original="https://example.org/")
    fakes.memento.add(REPORT, "20160101000000", title="Annual report")
    result = run_stage(fakes, lookup(), fakes.settings(memento=True))[REPORT]
    assert result.timestamp == "20160101000000"
    assert "the site's front page" in result.detail


def test_a_memento_that_recorded_a_404_is_not_offered(fakes):
    fakes.memento.add(REPORT, "20190101000000", status=404, body=NOT_FOUND_PAGE)
    result = run_stage(fakes, lookup(), fakes.settings(memento=True))[REPORT]
    assert result.status is ArchiveStatus.NONE


def test_an_archive_that_did_not_answer_makes_the_result_error_even_if_another_has_none(fakes):
    fakes.memento.faults.append(Fault(503))
    result = run_stage(fakes, lookup(), fakes.settings(memento=True))[REPORT]
    assert result.status is ArchiveStatus.ERROR
    assert result.archive == "arquivo"
    assert "wayback: no capture that recorded HTTP 200" in result.detail


def test_the_wayback_failing_does_not_stop_the_memento_archive_from_answering(fakes):
    fakes.wayback.down = True
    fakes.memento.add(REPORT, "20180505000000", title="Annual report")
    result = run_stage(fakes, lookup(), fakes.settings(memento=True))[REPORT]
    assert (result.status, result.archive) == (ArchiveStatus.FOUND, "arquivo")
    assert "wayback:" in result.detail  # and it says the Wayback Machine did not answer


# --- Save Page Now


def test_with_save_exactly_the_live_links_without_a_capture_are_captured_and_followed(fakes):
    w = fakes.wayback
    live_archived = "https://example.org/archived.html"
    live_new = "https://example.org/new.html"
    dead = "https://example.org/gone.html"
    w.add(live_archived, "20240101000000", title="Archived already")
    jobs = {live_archived: ArchiveJob(live_archived, action=Action.SAVE),
            live_new: ArchiveJob(live_new, action=Action.SAVE),
            dead: ArchiveJob(dead, ACCESSED)}
    results = run_stage(fakes, jobs, credentials=KEYS, save=True)
    assert results[live_archived].status is ArchiveStatus.FOUND
    assert results[dead].status is ArchiveStatus.NONE
    saved = results[live_new]
    assert (saved.status, saved.timestamp) == (ArchiveStatus.SAVED, w.now)
    assert saved.snapshot_url == f"{w.base}/web/{w.now}/{live_new}"
    posts = w.requests("save")
    assert [p.form["url"] for p in posts] == [live_new]
    assert posts[0].form["skip_first_archive"] == "1" and posts[0].form["if_not_archived_within"] == "1d"
    assert posts[0].headers["Authorization"] == "LOW test-access:test-secret"
    assert "json" in posts[0].headers["Accept"]
    assert len(w.requests("status")) == w.polls_pending + 1  # polled to the end


def test_max_age_days_captures_again_a_page_whose_newest_capture_is_older(fakes):
    url = "https://example.org/old.html"
    fakes.wayback.add(url, "20150101000000", title="Old capture")
    settings = fakes.settings(max_age_days=365)
    today = dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc)
    result = run_stage(fakes, {url: ArchiveJob(url, action=Action.SAVE)}, settings, credentials=KEYS, save=True,
                       now=lambda: today)[url]
    assert result.status is ArchiveStatus.SAVED


def test_save_without_keys_says_it_needs_them_and_the_lookups_still_run(fakes):
    w = fakes.wayback
    w.add(REPORT, "20190101000000", title="Good")
    live = "https://example.org/new.html"
    stages: list = []
    results = run_stage(fakes, {REPORT: ArchiveJob(REPORT, ACCESSED), live: ArchiveJob(live, action=Action.SAVE)},
                        save=True, credentials=None, stage_out=stages)
    assert results[REPORT].status is ArchiveStatus.FOUND
    assert results[live].status is ArchiveStatus.NONE
    assert "IA_ACCESS_KEY_ID" in results[live].detail
    assert any("needs Internet Archive keys" in n for n in stages[0].notices)
    assert not w.requests("save")


def test_the_archive_answers_401_without_keys(fakes):
    # What happens to a capture request without keys: the reason --save needs them.
    async def post() -> int:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.post(f"{fakes.wayback.base}/save", data={"url": REPORT},
                                    headers={"Accept": "application/json"}) as response:
                return response.status

    assert asyncio.run(post()) == 401


def test_refused_keys_stop_further_capture_requests_and_are_never_shown(fakes):
    from crawler.archive.credentials import Credentials

    wrong = Credentials("wrong-access", "wrong-secret")
    jobs = {f"https://example.org/new{i}.html": ArchiveJob(f"https://example.org/new{i}.html", action=Action.SAVE)
            for i in range(3)}
    stages: list = []
    results = run_stage(fakes, jobs, fakes.settings(save_concurrency=1), credentials=wrong, save=True,
                        stage_out=stages)
    assert {r.status for r in results.values()} == {ArchiveStatus.ERROR}
    assert len(fakes.wayback.requests("save")) == 1
    assert all("refused the keys (HTTP 401)" in r.detail for r in results.values())
    shown = " ".join([r.detail for r in results.values()] + stages[0].notices + [repr(stages[0])])
    assert "wrong-secret" not in shown and "wrong-access" not in shown


def test_an_error_returned_with_http_200_at_submission_is_recorded_with_its_kind(fakes):
    url = "https://example.org/popular.html"
    fakes.wayback.refuse_at_submit[url] = {"status": "error", "status_ext": "error:too-many-daily-captures",
                                           "message": "This URL has been already captured 5 times today."}
    result = run_stage(fakes, {url: ArchiveJob(url, action=Action.SAVE)}, credentials=KEYS, save=True)[url]
    assert result.status is ArchiveStatus.ERROR
    assert "error:too-many-daily-captures (quota)" in result.detail
    assert not fakes.wayback.requests("status")


@pytest.mark.parametrize(("code", "kind"), [("error:not-found", "permanent"), ("error:read-timeout", "transient"),
                                            ("error:brand-new-problem", "transient")])
def test_an_error_in_the_job_status_is_recorded_with_its_kind(fakes, code, kind):
    url = "https://example.org/flaky.html"
    fakes.wayback.save_outcomes[url] = {"status": "error", "status_ext": code, "message": "It went wrong."}
    result = run_stage(fakes, {url: ArchiveJob(url, action=Action.SAVE)}, credentials=KEYS, save=True)[url]
    assert result.status is ArchiveStatus.ERROR
    assert f"{code} ({kind}): It went wrong." in result.detail


def test_a_job_still_pending_when_polling_gives_up_is_requested(fakes):
    url = "https://example.org/slow.html"
    fakes.wayback.save_outcomes[url] = {"status": "pending"}
    result = run_stage(fakes, {url: ArchiveJob(url, action=Action.SAVE)}, fakes.settings(save_timeout=20),
                       credentials=KEYS, save=True)[url]
    assert result.status is ArchiveStatus.REQUESTED
    assert "spn2-" in result.detail


def test_at_the_deadline_a_capture_not_yet_answered_is_an_error_and_one_not_asked_is_skipped(fakes):
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.json_response({})

    fakes.web.route("127.0.0.1", "/save", hang)
    urls = ["https://example.org/new1.html", "https://example.org/new2.html"]
    results = run_stage(fakes, {u: ArchiveJob(u, action=Action.SAVE) for u in urls},
                        fakes.settings(save_concurrency=1, max_concurrency=1), credentials=KEYS, save=True,
                        deadline_in=0.5)
    assert [results[u].status for u in urls] == [ArchiveStatus.ERROR, ArchiveStatus.SKIPPED]
    assert "had not answered the capture request" in results[urls[0]].detail
    assert "no capture requested before the deadline" in results[urls[1]].detail


def test_at_the_deadline_a_capture_being_followed_is_requested(fakes):
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.json_response({})

    url = "https://example.org/new.html"
    fakes.web.route("127.0.0.1", f"/save/status/{fakes.wayback.job_id(url)}", hang)
    result = run_stage(fakes, {url: ArchiveJob(url, action=Action.SAVE)}, credentials=KEYS, save=True,
                       deadline_in=0.5)[url]
    assert result.status is ArchiveStatus.REQUESTED
    assert "spn2-" in result.detail


def test_a_capture_save_page_now_reports_for_another_address_is_not_offered_as_this_ones(fakes):
    url = "https://example.org/new.html"
    fakes.wayback.fault("status", 200, content_type="application/json", body=json.dumps(
        {"status": "success", "timestamp": "20261122120000", "original_url": OTHER}))
    result = run_stage(fakes, {url: ArchiveJob(url, action=Action.SAVE)}, credentials=KEYS, save=True)[url]
    assert result.status is ArchiveStatus.ERROR
    assert result.snapshot_url is None
    assert OTHER in result.detail


@pytest.mark.parametrize("stamp", ["20261131120000", "99999999999999"])
def test_a_capture_save_page_now_reports_with_an_impossible_timestamp_is_not_offered(fakes, stamp):
    url = "https://example.org/new.html"
    fakes.wayback.fault("status", 200, content_type="application/json", body=json.dumps(
        {"status": "success", "timestamp": stamp, "original_url": url}))
    result = run_stage(fakes, {url: ArchiveJob(url, action=Action.SAVE)}, credentials=KEYS, save=True)[url]
    assert result.status is ArchiveStatus.ERROR
    assert result.snapshot_url is None


def test_a_dead_link_is_never_captured_even_with_save(fakes):
    dead = "https://example.org/gone.html"
    run_stage(fakes, {dead: ArchiveJob(dead, ACCESSED)}, credentials=KEYS, save=True)
    assert not fakes.wayback.requests("save")


def _availability(fakes: Archives, url: str, timestamp: str) -> str:
    async def get() -> str:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.get(f"{fakes.wayback.base}/wayback/available",
                                   params={"url": url, "timestamp": timestamp}) as response:
                return await response.text()

    return asyncio.run(get())

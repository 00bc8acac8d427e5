"""Reading archives' answers: CDX rows, TimeMaps in link format, and the pace and breaker."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive_support import FakeClock
from crawler.archive.base import captured_url, order_by_target, raw_replay
from crawler.archive.linkformat import http_date_to_timestamp, parse_links, timestamp_to_http_date
from crawler.archive.memento import mementos
from crawler.archive.net import ArchiveUnavailable, Breaker, Pace
from crawler.archive.save import SaveErrorKind, classify, describe_error
from crawler.archive.wayback import CdxError, parse_cdx

# --- CDX


def test_cdx_json_has_a_header_row_and_string_values():
    body = json.dumps([["urlkey", "timestamp", "original", "statuscode"],
                       ["org,example)/", "20200101000000", "http://example.org/", "200"]]).encode()
    assert parse_cdx(body) == [{"urlkey": "org,example)/", "timestamp": "20200101000000",
                                "original": "http://example.org/", "statuscode": "200"}]


def test_an_empty_cdx_result_is_an_empty_array_or_an_empty_body():
    assert parse_cdx(b"[]") == []
    assert parse_cdx(b"") == []
    assert parse_cdx(b'[["urlkey","timestamp"]]') == []


def test_a_resume_key_after_the_rows_is_not_a_capture():
    body = b'[["timestamp","original"],["20200101000000","http://a.org/"],[],["org,a)/ 2020010100000:"]]'
    assert parse_cdx(body) == [{"timestamp": "20200101000000", "original": "http://a.org/"}]


def test_pywb_json_lines_and_plain_text_are_read_too():
    pywb = b'{"urlkey": "org,a)/", "timestamp": "20200101000000", "url": "http://a.org/", "status": "200"}\n'
    assert parse_cdx(pywb)[0]["original"] == "http://a.org/"
    assert parse_cdx(pywb)[0]["statuscode"] == "200"
    plain = b"org,a)/ 20200101000000 http://a.org/ text/html 404 ABCD 512\n"
    assert parse_cdx(plain)[0]["statuscode"] == "404"


@pytest.mark.parametrize("body", [b"<html><title>429 Too Many Requests</title></html>", b"[[1, 2]", b'{"a": ',
                                  b"just some words"])
def test_an_answer_that_is_not_cdx_data_is_an_error_not_an_empty_result(body):
    # waybackpy read a throttled answer as "no captures"; here it is an error.
    with pytest.raises(CdxError):
        parse_cdx(body)


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000])
def test_deeply_nested_json_within_max_index_bytes_is_a_cdx_error(body):
    # json.loads raises RecursionError, not ValueError, for nesting this deep.
    with pytest.raises(CdxError):
        parse_cdx(body)


@given(st.binary(max_size=300))
def test_cdx_parsing_never_fails_other_than_with_cdx_error(body):
    try:
        parse_cdx(body)
    except CdxError:
        pass


# --- link format


TIMEMAP = """<http://blog.example.jp:80/someone/>; rel="original",
<http://web.archive.org/web/timemap/link/http://blog.example.jp/someone/>; rel="self"; type="application/link-format"; from="Fri, 24 Feb 2012 10:27:47 GMT",
<http://web.archive.org>; rel="timegate",
<http://web.archive.org/web/20120224102747/http://blog.example.jp:80/someone/>; rel="first memento"; datetime="Fri, 24 Feb 2012 10:27:47 GMT",
<http://web.archive.org/web/20120225014230/http://blog.example.jp:80/someone>; rel="memento"; datetime="Sat, 25 Feb 2012 01:42:30 GMT",
<http://web.archive.org/web/20130101000000/http://blog.example.jp/someone/>; rel="last memento"; datetime="Tue, 01 Jan 2013 00:00:00 GMT"
"""


def test_a_timemap_lists_each_memento_with_its_time():
    assert mementos(TIMEMAP) == [
        ("20120224102747", "http://web.archive.org/web/20120224102747/http://blog.example.jp:80/someone/"),
        ("20120225014230", "http://web.archive.org/web/20120225014230/http://blog.example.jp:80/someone"),
        ("20130101000000", "http://web.archive.org/web/20130101000000/http://blog.example.jp/someone/"),
    ]


def test_unquoted_attributes_are_read_and_a_dates_own_comma_is_not_a_separator():
    text = ("<https://perma.cc/ABCD-1234>; rel=memento; datetime=Sat, 25 Feb 2012 01:42:30 GMT,\n"
            "<https://perma.cc/EFGH-5678>; rel=memento; datetime=Sun, 26 Feb 2012 01:42:30 GMT")
    assert mementos(text) == [("20120225014230", "https://perma.cc/ABCD-1234"),
                              ("20120226014230", "https://perma.cc/EFGH-5678")]


def test_commas_inside_a_uri_do_not_split_entries():
    entries = parse_links('<http://a.org/x,y>; rel="memento"; datetime="Sat, 25 Feb 2012 01:42:30 GMT"')
    assert [e.uri for e in entries] == ["http://a.org/x,y"]


_uris = st.from_regex(r"https?://[a-z]{1,10}\.org/[a-z0-9/,;=_-]{0,20}", fullmatch=True)
_times = st.datetimes(min_value=dt.datetime(1996, 1, 1), max_value=dt.datetime(2030, 1, 1))


@given(st.lists(st.tuples(_uris, _times, st.booleans()), max_size=6), st.sampled_from([",", ",\n", " ,\r\n  "]))
def test_any_timemap_reads_back_its_mementos_quoted_or_not(items, separator):
    unique = {}
    for uri, when, _ in items:
        unique.setdefault(uri, when.replace(microsecond=0))
    lines = []
    for (uri, when), (_, _, quoted) in zip(unique.items(), items):
        date = timestamp_to_http_date(when.strftime("%Y%m%d%H%M%S"))
        q = (lambda v: f'"{v}"') if quoted else (lambda v: v)
        lines.append(f"<{uri}>; rel={q('memento')}; datetime={q(date)}")
    assert mementos(separator.join(lines)) == [(w.strftime("%Y%m%d%H%M%S"), u) for u, w in unique.items()]


@given(st.text(max_size=300))
def test_link_format_parsing_never_fails(text):
    parse_links(text)
    mementos(text)


def test_memento_datetimes_become_wayback_timestamps():
    assert http_date_to_timestamp("Fri, 24 Nov 2017 15:13:15 GMT") == "20171124151315"
    assert http_date_to_timestamp("yesterday") is None


def test_raw_replays_and_captured_urls_of_wayback_style_addresses():
    assert raw_replay("https://arquivo.pt/wayback/20150301000000/http://a.pt/x") == \
        "https://arquivo.pt/wayback/20150301000000id_/http://a.pt/x"
    assert raw_replay("https://archive.ph/AbCdE") == "https://archive.ph/AbCdE"
    assert captured_url("https://web.archive.org/web/20150301000000id_/http://a.org/x?y=1") == "http://a.org/x?y=1"


def test_captures_are_tried_latest_before_the_access_date_then_earliest_after():
    stamps = ["20100101000000", "20190101000000", "20200801000000", "20210101000000", "20180101000000"]
    assert order_by_target([(s, s) for s in stamps], "20200720235959") == [
        "20190101000000", "20180101000000", "20100101000000", "20200801000000", "20210101000000"]
    assert order_by_target([(s, s) for s in stamps], None)[0] == "20210101000000"


# --- Save Page Now error codes


@pytest.mark.parametrize(("code", "kind"), [
    ("error:too-many-daily-captures", SaveErrorKind.QUOTA), ("error:user-session-limit", SaveErrorKind.QUOTA),
    ("error:not-found", SaveErrorKind.PERMANENT), ("error:blocked-url", SaveErrorKind.PERMANENT),
    ("error:read-timeout", SaveErrorKind.TRANSIENT), ("error:celery", SaveErrorKind.TRANSIENT),
    ("error:something-new", SaveErrorKind.TRANSIENT),
])
def test_save_page_now_errors_are_sorted_and_unknown_ones_are_transient(code, kind):
    assert classify(code) is kind


def test_a_save_error_says_its_code_kind_and_message():
    assert describe_error({"status_ext": "error:not-found", "message": "Target answered 404"}) == \
        "Save Page Now: error:not-found (permanent): Target answered 404"


# --- pace and circuit breaker


def test_a_pause_holds_back_the_next_request_of_the_family():
    clock = FakeClock()
    pace = Pace("cdx", 24.0, clock)

    async def main() -> None:
        await pace.wait()
        pace.pause(60.0)
        await pace.wait()

    asyncio.run(main())
    assert sum(clock.slept) >= 60.0


def test_requests_of_a_family_are_spaced_to_its_rate():
    clock = FakeClock()
    pace = Pace("cdx", 24.0, clock)

    async def main() -> list[float]:
        starts = []
        for _ in range(4):
            await pace.wait()
            starts.append(clock.now())
        return starts

    starts = asyncio.run(main())
    assert [round(b - a, 3) for a, b in zip(starts, starts[1:])] == [2.5, 2.5, 2.5]


def test_waiters_give_up_at_once_when_the_breaker_opens():
    clock = FakeClock()
    pace = Pace("cdx", 24.0, clock)
    breaker = Breaker("wayback", failures=5, throttles=2, cooldown=600, clock=clock)

    async def main() -> list[str]:
        await pace.wait(breaker.raise_if_open)
        pace.pause(60.0)
        breaker.trip("testing")
        outcomes = []
        for _ in range(20):
            try:
                await pace.wait(breaker.raise_if_open)
                outcomes.append("went")
            except ArchiveUnavailable:
                outcomes.append("refused")
        return outcomes

    assert asyncio.run(main()) == ["refused"] * 20
    assert sum(clock.slept) == 0  # nobody sat out the pause to learn that


def test_the_breaker_opens_on_throttling_and_tries_once_after_its_cooldown():
    clock = FakeClock()
    opened: list[str] = []
    breaker = Breaker("wayback", failures=5, throttles=2, cooldown=600, clock=clock,
                      on_open=lambda name, reason: opened.append(reason))
    breaker.begin()
    breaker.failure("HTTP 429", throttled=True)
    breaker.begin()
    breaker.failure("HTTP 429", throttled=True)
    assert breaker.is_open and len(opened) == 1 and "2 rate-limited answers in a row" in opened[0]
    with pytest.raises(ArchiveUnavailable):
        breaker.begin()
    clock.t += 601
    breaker.begin()  # the trial
    with pytest.raises(ArchiveUnavailable):
        breaker.begin()  # only one at a time
    breaker.success()
    assert not breaker.is_open
    breaker.begin()


def test_failures_in_a_row_open_the_breaker_and_an_answer_resets_the_count():
    breaker = Breaker("wayback", failures=3, throttles=2, cooldown=600, clock=FakeClock())
    for _ in range(2):
        breaker.failure("HTTP 503")
    breaker.success()
    for _ in range(2):
        breaker.failure("HTTP 503")
    assert not breaker.is_open
    breaker.failure("HTTP 503")
    assert breaker.is_open

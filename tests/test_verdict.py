"""The verdict as a pure function: a table of facts and the verdict they earn, no network."""

from __future__ import annotations

import datetime as _dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.check.evidence import Evidence, page_title, similarity, tokens
from crawler.check.http import parse_retry_after, wants_head
from crawler.check.probe import probe_key, probe_url
from crawler.check.verdict import (CHALLENGE_SCAN_BYTES, Probe, challenge_page, decide, is_root,
                                   not_found_title, same_page)
from crawler.model import Redirect, Verdict

URL = "https://www.mofa.go.jp/region/europe/speech0606.html"
PAGE = b"<html><head><title>Speech by Mr. Taro Aso</title></head><body>" + b" ".join(
    f"word{i}".encode() for i in range(80)) + b"</body></html>"
SORRY = b"<html><head><title>MOFA</title></head><body>" + b" ".join(
    f"sorry{i}".encode() for i in range(80)) + b"</body></html>"


def ev(status: int | None = 200, *, url: str = URL, final: str | None = None, redirects=(), body: bytes = PAGE,
       ctype: str = "text/html; charset=utf-8", error: str | None = None, headers=None, method: str = "GET"):
    return Evidence(url=url, final_url=final or url, status=status, redirects=list(redirects), body=body,
                    content_type=ctype, error=error, headers=headers or {}, method=method)


HARD_404 = Probe(status=404, final_url="", tokens=frozenset())
SOFT_SITE = Probe(status=200, final_url=URL.rsplit("/", 1)[0] + "/xyz.html", tokens=tokens(SORRY.decode()))


@pytest.mark.parametrize(("evidence", "probe", "expected"), [
    (ev(200), HARD_404, (Verdict.ALIVE, "ok")),
    (ev(200), None, (Verdict.ALIVE, "ok")),
    (ev(204, body=b""), None, (Verdict.ALIVE, "ok")),
    (ev(404), None, (Verdict.DEAD, "http_404")),
    (ev(410), None, (Verdict.DEAD, "http_410")),
    (ev(401), None, (Verdict.BLOCKED, "http_401")),
    (ev(403), None, (Verdict.BLOCKED, "http_403")),
    (ev(451), None, (Verdict.BLOCKED, "http_451")),
    (ev(429), None, (Verdict.BLOCKED, "rate_limited")),
    (ev(405), None, (Verdict.BLOCKED, "http_405")),
    (ev(500), None, (Verdict.UNREACHABLE, "http_500")),
    (ev(503), None, (Verdict.UNREACHABLE, "http_503")),
    (ev(503, headers={"cf-mitigated": "challenge"}), None, (Verdict.BLOCKED, "bot_challenge")),
    (ev(403, body=b"<title>Just a moment...</title>"), None, (Verdict.BLOCKED, "bot_challenge")),
    (ev(200, body=b"<html><title>Just a moment...</title>cf-chl-</html>"), None, (Verdict.BLOCKED, "bot_challenge")),
    (ev(None, error="timeout"), None, (Verdict.UNREACHABLE, "timeout")),
    (ev(None, error="connection_refused"), None, (Verdict.UNREACHABLE, "connection_refused")),
    (ev(None, error="connection_reset"), None, (Verdict.UNREACHABLE, "connection_reset")),
    (ev(None, error="tls_error"), None, (Verdict.UNREACHABLE, "tls_error")),
    (ev(None, error="dns_error"), None, (Verdict.UNREACHABLE, "dns_error")),
    (ev(None, error="dns_nxdomain"), None, (Verdict.UNREACHABLE, "dns_nxdomain")),  # DNS not seen working
    (ev(None, error="redirect_loop"), None, (Verdict.UNREACHABLE, "redirect_loop")),
    (ev(None, error="private_address"), None, (Verdict.SKIPPED, "private_address")),
    # redirects
    (ev(200, final="https://mofa.go.jp/region/europe/speech0606.html/",
        redirects=[Redirect(301, "https://mofa.go.jp/region/europe/speech0606.html/")]), HARD_404,
     (Verdict.ALIVE, "ok")),
    (ev(200, final="https://www.mofa.go.jp/erp/speech.html", redirects=[Redirect(301, "https://www.mofa.go.jp/erp/speech.html")]),
     HARD_404, (Verdict.MOVED, "moved_permanently")),
    (ev(200, final="https://www.mofa.go.jp/erp/speech.html", redirects=[Redirect(302, "https://www.mofa.go.jp/erp/speech.html")]),
     HARD_404, (Verdict.ALIVE, "redirect")),
    (ev(200, final="https://www.mofa.go.jp/", redirects=[Redirect(301, "https://www.mofa.go.jp/")]), None,
     (Verdict.DEAD, "redirect_to_root")),
    (ev(200, final="https://www.mofa.go.jp/index.html", redirects=[Redirect(302, "https://www.mofa.go.jp/index.html")]),
     None, (Verdict.DEAD, "redirect_to_root")),
    (ev(200, final="https://www.mofa.go.jp/en/", redirects=[Redirect(302, "https://www.mofa.go.jp/en/")]), None,
     (Verdict.DEAD, "redirect_to_root")),
    (ev(200, final="https://www.mofa.go.jp/404.html", redirects=[Redirect(302, "https://www.mofa.go.jp/404.html")]),
     None, (Verdict.DEAD, "redirect_to_error_page")),
    (ev(200, final="https://www.mofa.go.jp/NotFound.aspx?aspxerrorpath=/x",
        redirects=[Redirect(302, "https://www.mofa.go.jp/NotFound.aspx?aspxerrorpath=/x")]), None,
     (Verdict.DEAD, "redirect_to_error_page")),
    (ev(200, final="https://www.mofa.go.jp/login?next=/x", redirects=[Redirect(302, "https://www.mofa.go.jp/login?next=/x")]),
     None, (Verdict.BLOCKED, "login_required")),
    (ev(404, final="https://www.mofa.go.jp/erp/x.html", redirects=[Redirect(301, "https://www.mofa.go.jp/erp/x.html")]),
     None, (Verdict.DEAD, "http_404")),
    # soft 404s
    (ev(200, body=SORRY), SOFT_SITE, (Verdict.DEAD, "soft_404")),
    (ev(200), SOFT_SITE, (Verdict.ALIVE, "ok")),
    (ev(200, body=b"<title>Page not found | MOFA</title>"), None, (Verdict.DEAD, "soft_404")),
    (ev(200, body=b"<title>Page not found | MOFA</title>"), HARD_404, (Verdict.ALIVE, "ok")),
    (ev(200, url="https://www.mofa.go.jp/", body=b"<title>404</title>"), None, (Verdict.ALIVE, "ok")),
    (ev(200, body=SORRY, ctype="application/pdf"), SOFT_SITE, (Verdict.ALIVE, "ok")),
    (ev(200, body=SORRY, method="HEAD"), SOFT_SITE, (Verdict.ALIVE, "ok")),
    (ev(200, final="https://www.mofa.go.jp/catchall", redirects=[Redirect(302, "https://www.mofa.go.jp/catchall")]),
     Probe(200, "https://www.mofa.go.jp/catchall", frozenset()), (Verdict.DEAD, "soft_404")),
], ids=lambda v: None)
def test_facts_to_verdict(evidence, probe, expected):
    result = decide(evidence, probe)
    assert (result.verdict, result.reason) == expected, result.detail


ERROR_ASPX = "https://www.mofa.go.jp/Error.aspx?aspxerrorpath=/region/europe/speech0606.html"


def to_error_page(body: bytes = SORRY):
    return ev(200, final=ERROR_ASPX, redirects=[Redirect(302, ERROR_ASPX)], body=body)


def test_generic_error_page_is_not_dead_when_the_site_gives_missing_pages_a_real_404():
    # ASP.NET's defaultRedirect takes a failing page (a 500) to the same
    # Error.aspx as a missing one; this site answers a made-up page with 404,
    # so this page is not missing: it failed.
    result = decide(to_error_page(), HARD_404)
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "redirect_to_generic_error_page")


def test_generic_error_page_is_not_dead_without_a_probe():
    assert decide(to_error_page(), None).verdict is Verdict.UNREACHABLE


def test_generic_error_page_is_dead_when_a_made_up_page_lands_there_too():
    made_up = Probe(200, "https://www.mofa.go.jp/Error.aspx?aspxerrorpath=/region/europe/q8z3kd.html",
                    tokens(SORRY.decode()))
    result = decide(to_error_page(), made_up)
    assert (result.verdict, result.reason) == (Verdict.DEAD, "redirect_to_error_page")


def test_generic_error_page_is_dead_when_it_says_not_found():
    result = decide(to_error_page(b"<title>Page not found | MOFA</title>"), HARD_404)
    assert (result.verdict, result.reason) == (Verdict.DEAD, "redirect_to_error_page")
    assert "Page not found" in result.detail


def test_a_not_found_title_is_read_in_the_charset_the_pages_meta_names():
    # Pages of Japanese ministries are often Shift_JIS, named only in a <meta>.
    body = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
            "<title>ページが見つかりません | 外務省</title></head><body>…</body></html>").encode("shift_jis")
    evidence = ev(200, body=body, ctype="text/html")
    assert evidence.title == "ページが見つかりません | 外務省"
    assert (decide(evidence, None).verdict, decide(evidence, None).reason) == (Verdict.DEAD, "soft_404")


def test_a_redirect_to_a_page_whose_query_holds_404_is_no_error_page():
    moved = "https://www.mofa.go.jp/press/article.php?id=404"
    result = decide(ev(200, final=moved, redirects=[Redirect(301, moved)]), HARD_404)
    assert (result.verdict, result.reason) == (Verdict.MOVED, "moved_permanently")


def test_a_meta_naming_utf_16_on_a_page_read_as_ascii_is_taken_as_utf_8():
    body = '<meta charset="utf-16"><title>Страница не найдена</title>'.encode("utf-8")
    assert ev(200, body=body, ctype="text/html").title == "Страница не найдена"


def test_missing_name_is_dead_only_when_dns_was_seen_working():
    assert decide(ev(None, error="dns_nxdomain"), dns_trusted=True).verdict is Verdict.DEAD
    assert decide(ev(None, error="dns_nxdomain"), dns_trusted=False).verdict is Verdict.UNREACHABLE


def test_accepted_status_overrides():
    assert decide(ev(403), accept=frozenset({403})).verdict is Verdict.ALIVE


def test_no_inconclusive_fact_is_ever_dead():
    inconclusive = [ev(code) for code in (401, 403, 405, 406, 429, 451, 500, 502, 503, 504, 520, 599)] + [
        ev(None, error=e) for e in ("timeout", "connection_refused", "connection_reset", "tls_error", "dns_error",
                                    "dns_nxdomain", "redirect_loop", "too_many_redirects", "protocol_error",
                                    "connection_error", "bad_redirect")]
    for evidence in inconclusive:
        assert decide(evidence, None).verdict is not Verdict.DEAD, evidence


@pytest.mark.parametrize(("title", "expected"), [
    ("Page not found | Brookings", True), ("404 Not Found", True), ("Error 404", True),
    ("Страница не найдена", True), ("ページが見つかりません | 外務省", True),
    ("Missing plane not found", False), ("The 404 Project: a history", False),
    ("Ministry of Foreign Affairs of Japan", False),
])
def test_not_found_titles(title, expected):
    assert not_found_title(title) is expected


@pytest.mark.parametrize(("url", "root"), [
    ("https://www.mofa.go.jp/", True), ("https://www.mofa.go.jp/index.html", True),
    ("https://www.mofa.go.jp/en/", True), ("https://www.mofa.go.jp/en/index.php", True),
    ("https://www.mofa.go.jp/erp/", False), ("https://www.mofa.go.jp/?id=3", False),
    ("https://www.mofa.go.jp/ja/", True), ("https://www.gc.ca/fr-ca/", True), ("https://www.mofa.go.jp/zh-hans/", True),
    ("https://example.org/es-419/", True), ("https://example.org/pt_BR/index.html", True),
    # Two letters that are no language are a page like any other.
    ("https://example.org/ok", False), ("https://example.org/tv", False), ("https://example.org/xx/", False),
    ("https://example.org/en-usa/", False),
])
def test_site_root(url, root):
    assert is_root(url) is root


@pytest.mark.parametrize("path", ["/ok", "/tv", "/qq/"])
def test_redirect_to_a_two_letter_page_that_is_no_language_is_not_the_front_page(path):
    evidence = ev(200, final=f"https://www.mofa.go.jp{path}", redirects=[Redirect(302, f"https://www.mofa.go.jp{path}")])
    assert decide(evidence, HARD_404).verdict is Verdict.ALIVE


def test_same_page_ignores_scheme_www_and_trailing_slash():
    assert same_page("http://mofa.go.jp/a", "https://www.mofa.go.jp/a/")
    assert not same_page("http://mofa.go.jp/a", "https://www.mofa.go.jp/b")


def test_probe_is_a_sibling_with_the_same_extension():
    url = probe_url("https://www.mofa.go.jp/region/europe/speech0606.html")
    assert url.startswith("https://www.mofa.go.jp/region/europe/") and url.endswith(".html")
    assert url != "https://www.mofa.go.jp/region/europe/speech0606.html"


def test_probe_of_a_query_url_randomises_the_values():
    url = probe_url("https://centrasia.org/cnt2.php?st=1083320274")
    assert url.startswith("https://centrasia.org/cnt2.php?st=") and "1083320274" not in url


def test_probe_key_is_per_directory():
    assert probe_key("https://x.org/a/b.html") == probe_key("https://x.org/a/c.html")
    assert probe_key("https://x.org/a/b.html") != probe_key("https://x.org/z/b.html")


def test_retry_after_in_seconds_and_as_a_date():
    now = _dt.datetime(2026, 11, 22, 12, 0, tzinfo=_dt.timezone.utc)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Sun, 22 Nov 2026 12:00:30 GMT", now=now) == 30
    assert parse_retry_after("Sun, 22 Nov 2026 11:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon") is None


def test_head_is_used_only_for_files():
    assert wants_head("https://www.mofa.go.jp/files/000494314.pdf")
    assert not wants_head("https://www.mofa.go.jp/region/europe/speech0606.html")


def test_page_title_and_tokens():
    assert page_title(b"<html><TITLE> Speech &amp; remarks </TITLE>") == "Speech & remarks"
    body = "<script>var hidden=1</script><p>Visible words here</p>"
    assert tokens(body) == {"visible", "words", "here"}
    assert similarity(frozenset({"a", "b"}), frozenset({"a", "b"})) == 1.0


# The challenge scan: the same answers as the one regex it replaced, at a fraction of the cost.
_ONE_REGEX = re.compile(
    rb"challenge-platform|cf-chl-|cf_chl_|/cdn-cgi/challenge|px-captcha|captcha-delivery\.com|"
    rb"_incapsula_resource|sgcaptcha|<title>\s*(?:just a moment|attention required|access denied|"
    rb"are you a robot|robot check|security check|checking your browser)"
)
_PIECES = [b"<html>", b"<title>", b"</title>", b" ", b"\n", b"Just a Moment...", b"Access Denied", b"Robot Check",
           b"challenge", b"-platform", b"CF-CHL-", b"cf_chl_", b"/cdn-cgi/", b"px-", b"CAPTCHA", b"-delivery.com",
           b"_Incapsula_", b"resource", b"sg", b"chl", b"article text", b"<TITLE>", b"security check"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12), st.integers(min_value=0, max_value=CHALLENGE_SCAN_BYTES))
def test_the_challenge_scan_agrees_with_one_regex_over_the_lowered_start(pieces, padding):
    body = b"x" * padding + b"".join(pieces)
    expected = bool(_ONE_REGEX.search(body[:CHALLENGE_SCAN_BYTES].lower()))
    assert challenge_page(body) is expected


def test_a_challenge_marker_past_the_scanned_start_is_not_read():
    assert not challenge_page(b"<html>" + b"x" * CHALLENGE_SCAN_BYTES + b"cf-chl-")


_PATH_PIECES = ["/", "en", "EN", "ar", "zh", "-", "_", "hant", "419", "us", "index", "Home", "homepage", "main",
                "start", "default", ".html", ".php", "articles", "5", "x", "ticles", "i", "d", "s"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PATH_PIECES), max_size=6))
def test_is_root_answers_as_the_front_page_pattern_alone(pieces):
    from crawler.check.verdict import _ROOT_PATH_RE

    path = "/" + "".join(pieces)
    assert is_root("https://www.mofa.go.jp" + path) is bool(_ROOT_PATH_RE.fullmatch(path))

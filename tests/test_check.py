"""Checking links against local stand-ins for real sites: one behaviour per test.

Every server here is a local aiohttp server on 127.0.0.1 (tests/sites.py),
reached by the real-looking names through --connect-to rules.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiohttp import web

from crawler.check import Checker, CheckRun, CheckSettings, ConnectTo, HostSettings, StaticResolver
from crawler.extract.urls import normalise
from crawler.model import CheckResult, Link, Verdict
from sites import NOT_FOUND, FakeWeb, Garbage, Hanging, free_port, html, page, redirect, status

FAST = CheckSettings(retries=2, backoff_initial=0.01, backoff_max=0.05, timeout=5.0, canary_timeout=5.0,
                     canary_urls=("http://canary.test/",))


@pytest.fixture
def fake(tmp_path) -> Iterator[FakeWeb]:
    with FakeWeb(tls_names=("www.mofa.go.jp", "centrasia.org"), tmp=tmp_path) as site:
        site.route("canary.test", "/", page("Canary"))
        yield site


def run_check(fake: FakeWeb, *urls: str, settings: CheckSettings = FAST, connect_to: list[str] | None = None,
              resolver=None, alternatives: dict[str, tuple[str, ...]] | None = None,
              uncertain: frozenset[str] = frozenset()) -> CheckRun:
    links = []
    for url in urls:
        normalised = normalise(url).url
        links.append(Link(url=normalised, cited_as=url, alternatives=(alternatives or {}).get(url, ()),
                          uncertain=url in uncertain))
    rules = connect_to if connect_to is not None else fake.connect_to()
    if fake.ca_file and not settings.ca_bundle:
        settings = replace(settings, ca_bundle=fake.ca_file)
    checker = Checker(settings, connect_to=[ConnectTo.parse(r) for r in rules], resolver=resolver)
    return asyncio.run(checker.check(links))


def verdict(fake: FakeWeb, url: str, **options) -> CheckResult:
    return run_check(fake, url, **options).results[normalise(url).url]


# --- alive, moved and dead

def test_page_that_answers_200_is_alive(fake):
    fake.route("www.mofa.go.jp", "/region/europe/speech0606.html", page("Speech by Mr. Taro Aso"))
    result = verdict(fake, "http://www.mofa.go.jp/region/europe/speech0606.html")
    assert (result.verdict, result.reason, result.status) == (Verdict.ALIVE, "ok", 200)


def test_redirect_that_only_adds_www_and_https_is_alive(fake):
    fake.route("mofa.go.jp", "/erp/page.html", redirect("https://www.mofa.go.jp/erp/page.html"))
    fake.route("www.mofa.go.jp", "/erp/page.html", page("Central Asia plus Japan"))
    result = verdict(fake, "http://mofa.go.jp/erp/page.html")
    assert result.verdict is Verdict.ALIVE
    assert result.final_url == "https://www.mofa.go.jp/erp/page.html"
    assert [r.status for r in result.redirects] == [301]


def test_permanent_redirect_to_another_page_is_moved(fake):
    fake.route("www.mofa.go.jp", "/region/europe/speech0606.html", redirect("/erp/ca_c/speech0606.html", 301))
    fake.route("www.mofa.go.jp", "/erp/ca_c/speech0606.html", page("Speech by Mr. Taro Aso"))
    result = verdict(fake, "http://www.mofa.go.jp/region/europe/speech0606.html")
    assert (result.verdict, result.reason) == (Verdict.MOVED, "moved_permanently")
    assert result.final_url == "http://www.mofa.go.jp/erp/ca_c/speech0606.html"


def test_temporary_redirect_to_another_page_is_alive(fake):
    fake.route("www.mofa.go.jp", "/latest", redirect("/erp/2023.html", 302))
    fake.route("www.mofa.go.jp", "/erp/2023.html", page("Latest news"))
    assert verdict(fake, "http://www.mofa.go.jp/latest").verdict is Verdict.ALIVE


@pytest.mark.parametrize("code", [404, 410])
def test_404_and_410_are_dead(fake, code):
    fake.route("www.mofa.go.jp", "/gone.html", status(code))
    result = verdict(fake, "http://www.mofa.go.jp/gone.html")
    assert (result.verdict, result.reason) == (Verdict.DEAD, f"http_{code}")


def test_redirect_to_the_site_root_is_dead(fake):
    fake.route("www.kantei.go.jp", "/foreign/0731douyukai.html", redirect("/", 301))
    fake.route("www.kantei.go.jp", "/", page("Prime Minister's Office of Japan"))
    result = verdict(fake, "http://www.kantei.go.jp/foreign/0731douyukai.html")
    assert (result.verdict, result.reason) == (Verdict.DEAD, "redirect_to_root")


def test_redirect_to_an_error_page_is_dead(fake):
    fake.route("www.mofa.go.jp", "/old.html", redirect("/errors/404.html", 302))
    fake.route("www.mofa.go.jp", "/errors/404.html", page("Sorry"))
    result = verdict(fake, "http://www.mofa.go.jp/old.html")
    assert (result.verdict, result.reason) == (Verdict.DEAD, "redirect_to_error_page")


async def _aspx_error(request: web.Request) -> web.Response:
    # ASP.NET customErrors with a defaultRedirect: every error, 404 or 500, lands here.
    return web.Response(status=302, headers={"Location": f"/Error.aspx?aspxerrorpath={request.path}"})


def test_redirect_to_a_generic_error_page_of_a_site_that_sends_missing_pages_there_is_dead(fake):
    fake.fallback("www.mofa.go.jp", _aspx_error)
    fake.route("www.mofa.go.jp", "/", page("Ministry of Foreign Affairs of Japan: the front page"))
    fake.route("www.mofa.go.jp", "/Error.aspx", page("Ministry of Foreign Affairs of Japan"))
    result = verdict(fake, "http://www.mofa.go.jp/region/europe/speech0606.aspx")
    assert (result.verdict, result.reason) == (Verdict.DEAD, "redirect_to_error_page")


def test_redirect_to_a_generic_error_page_of_a_site_that_gives_missing_pages_a_404_is_not_dead(fake):
    # Only the failing page goes to Error.aspx (a 500 behind customErrors);
    # a made-up page of the same directory gets a real 404.
    fake.route("www.mofa.go.jp", "/region/europe/speech0606.aspx", _aspx_error)
    fake.route("www.mofa.go.jp", "/Error.aspx", page("Ministry of Foreign Affairs of Japan"))
    result = verdict(fake, "http://www.mofa.go.jp/region/europe/speech0606.aspx")
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "redirect_to_generic_error_page")


def test_redirect_to_a_location_with_a_stray_percent_asks_it_as_the_server_wrote_it(fake):
    # Browsers send "/en/100%zz.html" as written (WHATWG URL); asked as
    # "/en/100%25zz.html" it would be another page, and this site's 404.
    fake.route("www.mofa.go.jp", "/old.html", redirect("/en/100%zz.html", 302))
    fake.route("www.mofa.go.jp", "/en/100%zz.html", page("Speech by Mr. Taro Aso"))
    result = verdict(fake, "http://www.mofa.go.jp/old.html")
    assert (result.verdict, result.final_url) == (Verdict.ALIVE, "http://www.mofa.go.jp/en/100%zz.html")
    assert [s.raw_path for s in fake.requests("www.mofa.go.jp")][:2] == ["/old.html", "/en/100%zz.html"]


def test_redirect_to_a_generic_error_page_where_the_front_page_is_sent_too_is_not_dead(fake):
    # The site is failing (its database is down): every page, its front page
    # too, goes to Error.aspx, the made-up page as well. That the made-up page
    # lands there says nothing about this page.
    fake.fallback("www.mofa.go.jp", _aspx_error)
    fake.route("www.mofa.go.jp", "/Error.aspx", page("Ministry of Foreign Affairs of Japan"))
    result = verdict(fake, "http://www.mofa.go.jp/region/europe/speech0606.aspx")
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "site_answers_alike")


def test_redirect_with_backslashes_goes_where_browsers_go(fake):
    # Browsers read a backslash as "/" in an http(s) Location (WHATWG URL), so this
    # page lives at /en/new/page.html; read literally, it would be a 404.
    fake.route("www.mofa.go.jp", "/old.html", redirect("\\en\\new\\page.html", 302))
    fake.route("www.mofa.go.jp", "/en/new/page.html", page("Speech by Mr. Taro Aso"))
    result = verdict(fake, "http://www.mofa.go.jp/old.html")
    assert (result.verdict, result.final_url) == (Verdict.ALIVE, "http://www.mofa.go.jp/en/new/page.html")


def test_redirect_to_a_login_page_is_blocked(fake):
    fake.route("www.mofa.go.jp", "/members/report.html", redirect("/login?next=/members/report.html", 302))
    fake.route("www.mofa.go.jp", "/login", page("Sign in"))
    result = verdict(fake, "http://www.mofa.go.jp/members/report.html")
    assert (result.verdict, result.reason) == (Verdict.BLOCKED, "login_required")


# --- soft 404s

def test_soft_404_page_matching_the_sites_answer_for_a_made_up_page_is_dead(fake):
    # The site answers every unknown path with the same 200 "sorry" page.
    fake.fallback("www.ng.ru", page("Nezavisimaya gazeta: sorry, nothing here"))
    fake.route("www.ng.ru", "/", page("Nezavisimaya gazeta: the front page"))
    fake.route("www.ng.ru", "/courier/2006-01-16/live.html", page("Central Asia: no one wanted to win"))
    results = run_check(fake, "http://www.ng.ru/courier/2006-01-16/9_china.html",
                        "http://www.ng.ru/courier/2006-01-16/live.html").results
    dead = results["http://www.ng.ru/courier/2006-01-16/9_china.html"]
    assert (dead.verdict, dead.reason) == (Verdict.DEAD, "soft_404")
    assert results["http://www.ng.ru/courier/2006-01-16/live.html"].verdict is Verdict.ALIVE


def test_site_that_redirects_every_page_and_its_front_page_to_one_page_is_not_dead(fake):
    # Down for maintenance (or behind a wall): every URL, the front page too,
    # is sent to one page. The made-up page lands where the link does, but
    # so would a page that exists: nothing says this one is gone.
    fake.route("www.ng.ru", "/maintenance.html", page("Nezavisimaya gazeta: scheduled maintenance"))
    fake.fallback("www.ng.ru", redirect("/maintenance.html", 302))
    result = verdict(fake, "http://www.ng.ru/courier/2006-01-16/live.html")
    assert result.verdict is not Verdict.DEAD, result


def test_site_that_answers_every_page_and_its_front_page_alike_is_not_dead(fake):
    # A maintenance page served with 200 for every path, the front page too.
    fake.fallback("www.ng.ru", page("Nezavisimaya gazeta: scheduled maintenance"))
    result = verdict(fake, "http://www.ng.ru/courier/2006-01-16/live.html")
    assert result.verdict is not Verdict.DEAD, result


def test_page_like_a_made_up_one_is_not_dead_when_the_front_page_does_not_answer_in_time(fake):
    # Every path gets the same 200 page, as in maintenance; the front page,
    # which would show whether it gets that page too, is slow. Without its
    # answer nothing tells a soft 404 from a site answering everything alike.
    async def slow_front(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text=html("Nezavisimaya gazeta: scheduled maintenance"), content_type="text/html")
    fake.fallback("www.ng.ru", page("Nezavisimaya gazeta: scheduled maintenance"))
    fake.route("www.ng.ru", "/", slow_front)
    result = verdict(fake, "http://www.ng.ru/courier/2006-01-16/live.html", settings=replace(FAST, link_budget=1.5))
    assert result.verdict is not Verdict.DEAD, result


def test_soft_404_with_a_not_found_title_is_dead(fake):
    fake.route("centrasia.org", "/cnt2.php?st=1083320274", page("Страница не найдена | CentrAsia"))
    fake.fallback("centrasia.org", page("Страница не найдена | CentrAsia"))
    result = verdict(fake, "https://centrasia.org/cnt2.php?st=1083320274")
    assert (result.verdict, result.reason) == (Verdict.DEAD, "soft_404")


def test_page_about_404_errors_on_a_site_with_real_404s_is_alive(fake):
    fake.route("www.mofa.go.jp", "/help/404.html", page("404 Not Found"))
    assert verdict(fake, "http://www.mofa.go.jp/help/404.html").verdict is Verdict.ALIVE


def test_soft_404_probe_is_asked_once_per_directory(fake):
    for n in range(5):
        fake.route("www.osce.org", f"/odihr/page{n}.html", page(f"ODIHR page {n}"))
    urls = [f"http://www.osce.org/odihr/page{n}.html" for n in range(5)]
    run = run_check(fake, *urls)
    assert all(run.results[u].verdict is Verdict.ALIVE for u in urls)
    probes = {s.path_qs for s in fake.requests("www.osce.org") if not s.path_qs.startswith("/odihr/page")}
    # One made-up page (its 404 may be asked twice: once more on a new connection if it came on a reused one).
    assert len(probes) == 1
    (probe,) = probes
    assert probe.startswith("/odihr/") and probe.endswith(".html")


def test_javascript_shell_that_looks_the_same_everywhere_is_not_a_soft_404(fake):
    shell = "<html><head><title>App</title></head><body><div id=root></div><script>x()</script></body></html>"

    async def spa(request: web.Request) -> web.Response:
        return web.Response(text=shell, content_type="text/html")
    fake.fallback("app.example.org", spa)
    assert verdict(fake, "http://app.example.org/articles/42").verdict is Verdict.ALIVE


# --- HEAD, GET and bodies

def test_head_refused_with_405_falls_back_to_get(fake):
    async def pdf(request: web.Request) -> web.Response:
        if request.method == "HEAD":
            return web.Response(status=405)
        return web.Response(body=b"%PDF-1.7 ...", content_type="application/pdf")
    fake.route("www.mofa.go.jp", "/files/000494314.pdf", pdf)
    result = verdict(fake, "https://www.mofa.go.jp/files/000494314.pdf")
    assert (result.verdict, result.status) == (Verdict.ALIVE, 200)
    assert [s.method for s in fake.requests("www.mofa.go.jp")] == ["HEAD", "GET"]


def test_head_that_never_answers_falls_back_to_get(fake):
    # Some servers (and the proxies before them) let HEAD hang but answer GET.
    async def pdf(request: web.Request) -> web.Response:
        if request.method == "HEAD":
            await asyncio.sleep(30)
        return web.Response(body=b"%PDF-1.7 ...", content_type="application/pdf")
    fake.route("www.mofa.go.jp", "/files/000494315.pdf", pdf)
    result = verdict(fake, "https://www.mofa.go.jp/files/000494315.pdf", settings=replace(FAST, timeout=0.5))
    assert (result.verdict, result.status) == (Verdict.ALIVE, 200)


def test_a_file_that_answers_head_is_not_downloaded(fake):
    async def pdf(request: web.Request) -> web.Response:
        return web.Response(body=b"%PDF-1.7" + b"0" * 1000, content_type="application/pdf")
    fake.route("www.osce.org", "/files/f/documents/1/9/22976.pdf", pdf)
    assert verdict(fake, "https://www.osce.org/files/f/documents/1/9/22976.pdf",
                   connect_to=fake.connect_to("www.osce.org", "canary.test")).verdict in (Verdict.UNREACHABLE,)
    # (www.osce.org has no certificate on the fake TLS server: see the TLS tests.)
    assert verdict(fake, "http://www.osce.org/files/f/documents/1/9/22976.pdf").verdict is Verdict.ALIVE
    assert [s.method for s in fake.requests("www.osce.org")][-1] == "HEAD"


def test_thirty_megabyte_body_is_not_downloaded(fake):
    sent = {"bytes": 0, "finished": False}

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.content_length = 30 * 1024 * 1024
        await response.prepare(request)
        chunk = b"<p>" + b"x" * 65533
        try:
            for _ in range(30 * 16):
                await response.write(chunk)
                sent["bytes"] += len(chunk)
            sent["finished"] = True
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response
    fake.route("www.brookings.edu", "/big-report", huge)
    started = time.monotonic()
    result = verdict(fake, "http://www.brookings.edu/big-report")
    assert result.verdict is Verdict.ALIVE
    time.sleep(0.2)
    assert not sent["finished"]
    assert sent["bytes"] < 30 * 1024 * 1024
    assert time.monotonic() - started < 20


# --- retries, rate limits and flaky servers

def test_503_twice_then_200_is_alive(fake):
    answers = iter([503, 503, 200])

    async def flaky(request: web.Request) -> web.Response:
        code = next(answers)
        return web.Response(status=code, text=html("CACO") if code == 200 else "busy", content_type="text/html")
    fake.route("www.mofa.go.jp", "/flaky.html", flaky)
    result = verdict(fake, "http://www.mofa.go.jp/flaky.html")
    assert result.verdict is Verdict.ALIVE
    assert len(fake.requests("www.mofa.go.jp", "/flaky.html")) == 3


def test_persistent_5xx_is_unreachable_not_dead(fake):
    fake.route("www.mofa.go.jp", "/down.html", status(503))
    result = verdict(fake, "http://www.mofa.go.jp/down.html")
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "http_503")


def test_429_with_retry_after_is_waited_for_then_alive(fake):
    answers = iter([429, 200])

    async def limited(request: web.Request) -> web.Response:
        code = next(answers)
        if code == 429:
            return web.Response(status=429, headers={"Retry-After": "1"})
        return web.Response(text=html("Brookings"), content_type="text/html")
    fake.route("www.brookings.edu", "/articles/sco/", limited)
    result = verdict(fake, "http://www.brookings.edu/articles/sco/")
    assert result.verdict is Verdict.ALIVE
    first, second = fake.requests("www.brookings.edu", "/articles/sco/")
    assert second.at - first.at >= 0.9  # Retry-After: 1 was honoured


def test_persistent_429_is_blocked_rate_limited(fake):
    fake.route("www.brookings.edu", "/limited", status(429, {"Retry-After": "0"}))
    result = verdict(fake, "http://www.brookings.edu/limited")
    assert (result.verdict, result.reason) == (Verdict.BLOCKED, "rate_limited")


def test_retry_after_beyond_the_cap_is_not_waited_for(fake):
    fake.route("www.brookings.edu", "/tomorrow", status(429, {"Retry-After": "86400"}))
    started = time.monotonic()
    result = verdict(fake, "http://www.brookings.edu/tomorrow")
    assert result.verdict is Verdict.BLOCKED
    assert len(fake.requests("www.brookings.edu", "/tomorrow")) == 1
    assert time.monotonic() - started < 10


# --- bot walls

def test_cloudflare_challenge_is_blocked_not_dead(fake):
    challenge = ("<html><head><title>Just a moment...</title></head><body>"
                 "<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1'></script></body></html>")
    fake.route("www.brookings.edu", "/articles/x/", status(403, {"cf-mitigated": "challenge", "Server": "cloudflare",
                                                                 "Content-Type": "text/html"}, challenge))
    result = verdict(fake, "http://www.brookings.edu/articles/x/")
    assert (result.verdict, result.reason) == (Verdict.BLOCKED, "bot_challenge")


def test_challenge_page_served_with_200_is_not_alive(fake):
    challenge = "<html><head><title>Just a moment...</title></head><body>cf-chl-widget</body></html>"
    fake.route("www.brookings.edu", "/y/", status(200, {"Content-Type": "text/html"}, challenge))
    assert verdict(fake, "http://www.brookings.edu/y/").verdict is Verdict.BLOCKED


def _refuses_libraries(request: web.Request):
    agent = request.headers.get("User-Agent", "")
    if any(word in agent.lower() for word in ("python", "aiohttp", "curl", "bot")):
        return web.Response(status=403, text="Forbidden")
    return web.Response(text=html("Global Affairs"), content_type="text/html")


def test_site_refusing_library_user_agents_answers_the_default_one(fake):
    async def handler(request):
        return _refuses_libraries(request)
    fake.route("globalaffairs.ru", "/articles/dilemma/", handler)
    assert verdict(fake, "http://globalaffairs.ru/articles/dilemma/").verdict is Verdict.ALIVE


def test_user_agent_based_403_is_blocked_not_dead(fake):
    async def handler(request):
        return _refuses_libraries(request)
    fake.route("globalaffairs.ru", "/articles/dilemma/", handler)
    result = verdict(fake, "http://globalaffairs.ru/articles/dilemma/",
                     settings=replace(FAST, user_agent="python-requests/2.31"))
    assert (result.verdict, result.reason) == (Verdict.BLOCKED, "http_403")


# --- connections that fail

def test_hanging_server_times_out_as_unreachable(fake):
    with Hanging() as hanging:
        started = time.monotonic()
        result = verdict(fake, "http://slow.example.org/page", settings=replace(FAST, timeout=0.5, retries=1),
                         connect_to=[f"slow.example.org:80:127.0.0.1:{hanging.port}", *fake.connect_to("canary.test")])
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "timeout")
    assert time.monotonic() - started < 10


def _slow(seconds: float):
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(seconds)
        return web.Response(text=html("Too late", 60), content_type="text/html")
    return handler


# One link at a time, so the order of the answers is the order of the links.
PATIENT_ONCE = replace(FAST, timeout=0.3, retries=0, max_per_host=1, give_up_after=3)


def test_after_links_in_a_row_without_answer_the_hosts_others_are_unreachable_without_being_asked(fake):
    asked: list[str] = []

    async def hang(request: web.Request) -> web.Response:
        asked.append(request.path)
        await asyncio.sleep(5)
        return web.Response(text="never")
    fake.fallback("slow.example.org", hang)
    fake.route("www.mofa.go.jp", "/speech.html", page("Speech by the Minister"))
    urls = [f"http://slow.example.org/report{i}.html" for i in range(20)]
    run = run_check(fake, *urls, "http://www.mofa.go.jp/speech.html", settings=PATIENT_ONCE)
    reasons = [run.results[normalise(url).url].reason for url in urls]
    assert reasons == ["timeout"] * 3 + ["host_unresponsive"] * 17
    assert {run.results[normalise(url).url].verdict for url in urls} == {Verdict.UNREACHABLE}
    assert len(asked) == 3
    assert run.results["http://www.mofa.go.jp/speech.html"].verdict is Verdict.ALIVE  # other hosts are asked


def test_a_host_that_answers_between_its_timeouts_keeps_being_asked(fake):
    for i in range(12):
        fake.route("slow.example.org", f"/p{i}.html", page(f"Page {i}") if i % 3 == 2 else _slow(5))
    urls = [f"http://slow.example.org/p{i}.html" for i in range(12)]
    run = run_check(fake, *urls, settings=PATIENT_ONCE)
    reasons = [run.results[normalise(url).url].reason for url in urls]
    assert "host_unresponsive" not in reasons
    assert reasons.count("ok") == 4


def test_give_up_after_zero_asks_every_link(fake):
    fake.fallback("slow.example.org", _slow(5))
    urls = [f"http://slow.example.org/report{i}.html" for i in range(6)]
    run = run_check(fake, *urls, settings=replace(PATIENT_ONCE, give_up_after=0))
    assert {run.results[normalise(url).url].reason for url in urls} == {"timeout"}


def test_refused_port_is_unreachable(fake):
    result = verdict(fake, "http://closed.example.org/", connect_to=[
        f"closed.example.org:80:127.0.0.1:{free_port()}", *fake.connect_to("canary.test")])
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "connection_refused")


def test_redirect_loop_is_unreachable_not_dead(fake):
    fake.route("www.mofa.go.jp", "/a", redirect("/b", 302))
    fake.route("www.mofa.go.jp", "/b", redirect("/a", 302))
    result = verdict(fake, "http://www.mofa.go.jp/a")
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "redirect_loop")


# --- TLS

def test_tls_with_the_test_ca_is_alive(fake):
    fake.route("www.mofa.go.jp", "/erp/ca_c/page1e_000160.html", page("Sixth Foreign Ministers' Meeting"))
    result = verdict(fake, "https://www.mofa.go.jp/erp/ca_c/page1e_000160.html")
    assert (result.verdict, result.status) == (Verdict.ALIVE, 200)
    assert fake.requests("www.mofa.go.jp")[0].headers["Host"] == "www.mofa.go.jp"


def test_certificate_for_the_wrong_name_is_a_tls_error(fake):
    # The fake TLS server has certificates for www.mofa.go.jp and centrasia.org only.
    result = verdict(fake, "https://www.osce.org/odihr")
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "tls_error")


def test_untrusted_ca_is_a_tls_error(fake, tmp_path):
    other_ca = tmp_path / "other.pem"
    import trustme
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    result = verdict(fake, "https://www.mofa.go.jp/", settings=replace(FAST, ca_bundle=str(other_ca)))
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "tls_error")


# --- names

def test_name_that_does_not_resolve_is_dead_when_dns_works(fake):
    resolver = StaticResolver({"canary.test": "127.0.0.1"})
    settings = replace(FAST, canary_urls=(f"http://canary.test:{fake.http_port}/",), allow_private=True)
    result = verdict(fake, "http://www.no-such-ministry.example/speech.html", settings=settings,
                     connect_to=[], resolver=resolver)
    assert (result.verdict, result.reason) == (Verdict.DEAD, "dns_nxdomain")


def test_name_that_does_not_resolve_is_not_dead_when_dns_was_not_seen_working(fake):
    resolver = StaticResolver({})
    result = verdict(fake, "http://www.no-such-ministry.example/speech.html",
                     connect_to=fake.connect_to("canary.test"), resolver=resolver)
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "dns_nxdomain")


def test_unicode_host_and_path_are_requested_as_idna_and_percent_encoded(fake):
    fake.route("xn--d1abbgf6aiiy.xn--p1ai", "/news/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
               page("Президент России"))
    result = verdict(fake, "http://президент.рф/news/новости")
    assert result.verdict is Verdict.ALIVE
    first = fake.requests("xn--d1abbgf6aiiy.xn--p1ai")[0]
    assert first.raw_path == "/news/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8"
    assert first.headers["Host"] == "xn--d1abbgf6aiiy.xn--p1ai"


# --- the private-address guard

def test_private_address_is_refused_by_default(fake):
    result = verdict(fake, f"http://127.0.0.1:{fake.http_port}/admin")
    assert (result.verdict, result.reason) == (Verdict.SKIPPED, "private_address")
    assert fake.requests(path="/admin") == []


def test_name_resolving_to_a_private_address_is_refused(fake):
    resolver = StaticResolver({"intranet.example.org": "10.1.2.3"})
    result = verdict(fake, "http://intranet.example.org/", connect_to=fake.connect_to("canary.test"),
                     resolver=resolver)
    assert (result.verdict, result.reason) == (Verdict.SKIPPED, "private_address")


def test_redirect_to_a_private_address_is_refused(fake):
    fake.route("www.mofa.go.jp", "/redirect", redirect("http://169.254.169.254/latest/meta-data/", 302))
    result = verdict(fake, "http://www.mofa.go.jp/redirect")
    assert (result.verdict, result.reason) == (Verdict.SKIPPED, "private_address")


def test_redirect_to_a_private_address_written_with_backslashes_is_refused(fake):
    # A browser reads the Location as //169.254.169.254/latest/meta-data: that host, not a path.
    fake.route("www.mofa.go.jp", "/redirect", redirect("\\\\169.254.169.254\\latest\\meta-data", 302))
    result = verdict(fake, "http://www.mofa.go.jp/redirect")
    assert (result.verdict, result.reason) == (Verdict.SKIPPED, "private_address")


def test_allow_private_lets_loopback_through(fake):
    fake.route("127.0.0.1", "/admin", page("Local admin"))
    result = verdict(fake, f"http://127.0.0.1:{fake.http_port}/admin", settings=replace(FAST, allow_private=True))
    assert result.verdict is Verdict.ALIVE


# --- the network being down

def test_network_fully_down_judges_nothing(fake):
    resolver = StaticResolver({})  # nothing resolves, as offline
    run = run_check(fake, "http://www.mofa.go.jp/a.html", "http://www.kantei.go.jp/b.html",
                    "https://centrasia.org/c", connect_to=[], resolver=resolver)
    assert run.network == "down"
    assert {r.verdict for r in run.results.values()} == {None}
    assert {r.reason for r in run.results.values()} == {"network_down"}


def test_canary_down_but_sites_answering_means_network_up(fake):
    fake.route("www.mofa.go.jp", "/a.html", page("Speech"))
    run = run_check(fake, "http://www.mofa.go.jp/a.html", connect_to=fake.connect_to("www.mofa.go.jp"),
                    resolver=StaticResolver({}))
    assert run.network == "up"
    assert run.results["http://www.mofa.go.jp/a.html"].verdict is Verdict.ALIVE


def test_mass_nxdomain_is_taken_for_broken_dns_not_dead_sites(fake):
    resolver = StaticResolver({"canary.test": "127.0.0.1"})
    settings = replace(FAST, canary_urls=(f"http://canary.test:{fake.http_port}/",), allow_private=True)
    urls = [f"http://site{n}.example/x" for n in range(4)]
    run = run_check(fake, *urls, settings=settings, connect_to=[], resolver=resolver)
    assert {run.results[u].verdict for u in urls} == {Verdict.UNREACHABLE}


# --- politeness and options

def _counting_concurrency() -> tuple[dict[str, int], object]:
    """A slow page that records how many requests it served at once."""
    state = {"now": 0, "max": 0}

    async def slow(request: web.Request) -> web.Response:
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        await asyncio.sleep(0.05)
        state["now"] -= 1
        return web.Response(text=html("Page"), content_type="text/html")
    return state, slow


def test_per_host_limit_is_respected(fake):
    state, slow = _counting_concurrency()
    fake.fallback("www.mofa.go.jp", slow)
    urls = [f"http://www.mofa.go.jp/p{n}" for n in range(12)]
    run_check(fake, *urls, settings=replace(FAST, max_per_host=3, soft_404=False))
    assert state["max"] == 3


def test_per_host_override_from_config(fake):
    state, slow = _counting_concurrency()
    fake.fallback("www.kantei.go.jp", slow)
    settings = replace(FAST, max_per_host=4, soft_404=False,
                       hosts={"www.kantei.go.jp": HostSettings(max_per_host=1, delay=0.02)})
    run_check(fake, *[f"http://www.kantei.go.jp/p{n}" for n in range(5)], settings=settings)
    assert state["max"] == 1


def test_accepted_status_counts_as_alive(fake):
    fake.route("www.brookings.edu", "/paywalled", status(403))
    result = verdict(fake, "http://www.brookings.edu/paywalled", settings=replace(FAST, accept=(403,)))
    assert (result.verdict, result.reason) == (Verdict.ALIVE, "http_403_accepted")


def test_excluded_urls_are_skipped_without_a_request(fake):
    result = verdict(fake, "http://www.mofa.go.jp/x.html", settings=replace(FAST, exclude=(r"mofa\.go\.jp",)))
    assert (result.verdict, result.reason) == (Verdict.SKIPPED, "excluded")
    assert fake.requests("www.mofa.go.jp") == []


def test_other_reading_of_a_pdf_line_break_is_tried_before_calling_it_dead(fake):
    fake.route("www.osce.org", "/files/annualreport.pdf", page("Annual report"))
    url = "http://www.osce.org/files/annual-report.pdf"
    result = run_check(fake, url, alternatives={url: ("http://www.osce.org/files/annualreport.pdf",)}).results[url]
    assert (result.verdict, result.reason) == (Verdict.ALIVE, "alternative_reading")
    assert result.final_url == "http://www.osce.org/files/annualreport.pdf"


def test_a_reading_that_may_be_cut_is_not_evidence_of_death(fake):
    # "doi.org/10.1016/S0301- 4215(03)00123-4": both the cut and the joined reading fail.
    url = "http://www.osce.org/files/annual-"
    alternative = "http://www.osce.org/files/annual-report.pdf"
    result = run_check(fake, url, alternatives={url: (alternative,)}, uncertain=frozenset({url})).results[url]
    assert (result.verdict, result.reason) == (Verdict.TRUNCATED, "possibly_cut")
    assert {s.path_qs for s in fake.requests("www.osce.org")} >= {"/files/annual-", "/files/annual-report.pdf"}


def test_readings_that_are_no_guess_are_dead_when_they_all_fail(fake):
    url = "http://www.osce.org/files/annual‑report.pdf"  # a typeset hyphen, read as "-"; the literal one kept
    alternative = "http://www.osce.org/files/annual%E2%80%91report.pdf"
    result = run_check(fake, url, alternatives={url: (alternative,)}).results[normalise(url).url]
    assert (result.verdict, result.reason) == (Verdict.DEAD, "http_404")


def test_run_deadline_skips_what_is_left(fake):
    with Hanging() as hanging:
        result = verdict(fake, "http://slow.example.org/", settings=replace(FAST, run_timeout=0.5, timeout=5),
                         connect_to=[f"slow.example.org:80:127.0.0.1:{hanging.port}", *fake.connect_to("canary.test")])
    assert (result.verdict, result.reason) == (Verdict.SKIPPED, "deadline")


def test_unused_fallback_is_a_real_404(fake):
    assert NOT_FOUND is not None
    assert verdict(fake, "http://www.mofa.go.jp/nothing-here").verdict is Verdict.DEAD


def test_without_a_canary_dns_is_trusted_once_it_answers_for_another_link(fake):
    resolver = StaticResolver({"www.mofa.go.jp": "127.0.0.1"})
    fake.route("www.mofa.go.jp", "/a.html", page("Speech"))
    settings = replace(FAST, canary_urls=(), allow_private=True)
    run = run_check(fake, f"http://www.mofa.go.jp:{fake.http_port}/a.html", "http://gone.example/x",
                    settings=settings, connect_to=[], resolver=resolver)
    assert run.network == "up"
    assert run.results["http://gone.example/x"].verdict is Verdict.DEAD


def test_without_a_canary_a_missing_name_alone_is_not_dead(fake):
    settings = replace(FAST, canary_urls=())
    run = run_check(fake, "http://www.mofa.go.jp/a.html", "http://gone.example/x", settings=settings,
                    connect_to=fake.connect_to("www.mofa.go.jp"), resolver=StaticResolver({}))
    assert run.results["http://gone.example/x"].verdict is Verdict.UNREACHABLE


def test_cookie_check_redirect_to_the_same_page_is_not_a_loop(fake):
    async def cookie_wall(request: web.Request) -> web.Response:
        if request.cookies.get("visited") == "1":
            return web.Response(text=html("Report on Central Asia"), content_type="text/html")
        return web.Response(status=302, headers={"Location": "/report.html", "Set-Cookie": "visited=1; Path=/"})
    fake.route("www.osce.org", "/report.html", cookie_wall)
    assert verdict(fake, "http://www.osce.org/report.html").verdict is Verdict.ALIVE


def test_link_budget_bounds_a_url_however_many_hops_it_takes(fake):
    async def slow_redirect(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        n = int(request.path.rsplit("/", 1)[1])
        return web.Response(status=302, headers={"Location": f"/hop/{n + 1}"})
    fake.fallback("www.mofa.go.jp", slow_redirect)
    started = time.monotonic()
    result = verdict(fake, "http://www.mofa.go.jp/hop/0", settings=replace(FAST, link_budget=1.0, max_redirects=50))
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "timeout")
    assert time.monotonic() - started < 5


def test_link_budget_covers_the_wait_for_the_soft_404_probe(fake):
    async def slow_page(request: web.Request) -> web.Response:
        await asyncio.sleep(1.0)
        return web.Response(text=html("Speech by Mr. Taro Aso"), content_type="text/html")

    async def hanging(request: web.Request) -> web.Response:
        await asyncio.sleep(30)  # the made-up sibling: no answer
        return web.Response(text="late")
    fake.route("www.mofa.go.jp", "/erp/speech.html", slow_page)
    fake.fallback("www.mofa.go.jp", hanging)
    started = time.monotonic()
    result = verdict(fake, "http://www.mofa.go.jp/erp/speech.html", settings=replace(FAST, link_budget=1.5))
    # The page answered and the probe did not in the link's 1.5 s: no
    # soft-404 evidence, so alive, and not 1.5 s more for the probe's own budget.
    assert (result.verdict, result.reason) == (Verdict.ALIVE, "ok")
    assert time.monotonic() - started < 2.3


def test_links_that_stop_waiting_for_a_probe_leave_it_to_the_links_after_them(fake):
    async def made_up(request: web.Request) -> web.Response:
        await asyncio.sleep(0.6)
        return web.Response(text=html("Sorry"), content_type="text/html")
    pages = [f"/erp/{n}.html" for n in range(6)]
    for path in pages:
        fake.route("www.mofa.go.jp", path, page("Speech"))
    fake.fallback("www.mofa.go.jp", made_up)
    run = run_check(fake, *(f"http://www.mofa.go.jp{path}" for path in pages), settings=replace(FAST, link_budget=0.3))
    assert {r.verdict for r in run.results.values()} == {Verdict.ALIVE}
    # The directory's one probe went on after the first link stopped waiting
    # for it; no link after it asked again.
    probes = [s for s in fake.requests("www.mofa.go.jp") if s.path_qs not in pages]
    assert len(probes) == 1


def test_a_reading_that_cannot_be_judged_keeps_the_citation_from_being_dead(fake):
    # As cited the PDF is a 404; the reading without the line-break hyphen
    # is refused (403): the author may have meant it, so nothing is dead yet.
    fake.route("www.osce.org", "/files/annualreport.pdf", status(403))
    url = "http://www.osce.org/files/annual-report.pdf"
    result = run_check(fake, url, alternatives={url: ("http://www.osce.org/files/annualreport.pdf",)}).results[url]
    assert (result.verdict, result.reason) == (Verdict.BLOCKED, "http_403")
    assert "as cited, HTTP 404" in result.detail


def test_server_answering_garbage_is_unreachable_not_dead(fake):
    with Garbage() as garbage:
        result = verdict(fake, "http://broken.example.org/page", connect_to=[
            f"broken.example.org:80:127.0.0.1:{garbage.port}", *fake.connect_to("canary.test")])
    assert result.verdict is Verdict.UNREACHABLE
    assert result.reason in ("protocol_error", "connection_reset")


def test_enormous_header_is_unreachable_not_dead(fake):
    with Garbage(b"HTTP/1.1 200 OK\r\nX-Junk: " + b"a" * 100_000 + b"\r\n\r\n") as garbage:
        result = verdict(fake, "http://broken.example.org/page", connect_to=[
            f"broken.example.org:80:127.0.0.1:{garbage.port}", *fake.connect_to("canary.test")])
    assert result.verdict is Verdict.UNREACHABLE

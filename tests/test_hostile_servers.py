"""One server's odd answer is that link's result, never the run's end.

Each case here once ended a whole audit with a traceback and no report. Now
each is one link's verdict (never dead), and the other links are still
checked and reported.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web

from crawler.check import Checker, CheckSettings, ConnectTo, checker, verdict
from crawler.cli import main
from crawler.model import Link, Verdict
from rawserver import Answer, RawServer
from sites import FakeWeb, page

CONFIG = """
[check]
retries = 0
timeout = 3.0
canary_urls = ["http://canary.test/"]
canary_timeout = 3.0

[archive]
enabled = false
"""


def answer(status: int, body: bytes = b"", **headers: str):
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, headers=headers)
    return handler


HOSTILE = {
    "location-open-bracket": answer(301, Location="http://[/"),
    "location-not-an-address": answer(301, Location="http://[x]/"),
    "location-bracket-in-host": answer(302, Location="http://exa]mple.org/"),
    "retry-after-superscript": answer(429, **{"Retry-After": "²"}),
    "retry-after-year-overflow": answer(429, **{"Retry-After": "Wed, 21 Oct 99999999999999999999 07:28:00 GMT"}),
    "charset-undefined": answer(200, b"<title>Page not found</title>", **{"Content-Type": "text/html; charset=undefined"}),
    "charset-idna": answer(200, b"<title>\xff not found</title>", **{"Content-Type": "text/html; charset=idna"}),
    "charset-punycode": answer(200, b"<title>\xff</title>", **{"Content-Type": "text/html; charset=punycode"}),
    # Both decode to a lone surrogate, which UTF-8 cannot hold.
    "charset-utf7": answer(200, b"<title>Page not found | +2AA-</title>", **{"Content-Type": "text/html; charset=utf-7"}),
    "charset-unicode-escape": answer(200, b"<title>Page not found | \\ud800</title>",
                                     **{"Content-Type": "text/html; charset=unicode_escape"}),
}


def audit_hostile(tmp_path: Path, fmt: str, *names: str) -> tuple[int, str]:
    refs = tmp_path / "refs.txt"
    # A host per case, answering every path alike (the soft-404 probe too).
    refs.write_text("".join(f"{i}. Author. Page {name}. http://{name}.test/{name}.html\n"
                            for i, name in enumerate([*names, "fine"], 1)), encoding="utf-8")
    config = tmp_path / "crawler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    out = tmp_path / f"report.{fmt}"
    with FakeWeb() as fake:
        fake.route("canary.test", "/", page("Canary"))
        fake.route("fine.test", "/fine.html", page("A fine page"))
        for name in names:
            fake.fallback(f"{name}.test", HOSTILE[name])
        code = main(["audit", str(refs), "--config", str(config), "--connect-to", f"::127.0.0.1:{fake.http_port}",
                     "--format", fmt, "--output", str(out), "--quiet"])
    return code, out.read_text(encoding="utf-8")


def verdicts(report: dict) -> dict[str, tuple[str, str]]:
    return {link["url"].rsplit("/", 1)[1].removesuffix(".html"): (link["verdict"], link["reason"])
            for link in report["links"]}


@pytest.mark.parametrize("name", ["location-open-bracket", "location-not-an-address", "location-bracket-in-host"])
def test_redirect_to_a_malformed_host_is_a_bad_redirect(tmp_path, name):
    code, text = audit_hostile(tmp_path, "json", name)
    found = verdicts(json.loads(text))
    assert found[name] == ("unreachable", "bad_redirect")
    assert found["fine"] == ("alive", "ok")


def test_retry_after_that_is_a_digit_but_not_a_number_is_rate_limited(tmp_path):
    _, text = audit_hostile(tmp_path, "json", "retry-after-superscript")
    assert verdicts(json.loads(text))["retry-after-superscript"] == ("blocked", "rate_limited")


def test_retry_after_with_a_year_too_large_for_a_date_is_rate_limited(tmp_path):
    _, text = audit_hostile(tmp_path, "json", "retry-after-year-overflow")
    assert verdicts(json.loads(text))["retry-after-year-overflow"] == ("blocked", "rate_limited")


@pytest.mark.parametrize("name", ["charset-undefined", "charset-idna", "charset-punycode"])
def test_a_charset_that_cannot_decode_falls_back_to_utf8(tmp_path, name):
    _, text = audit_hostile(tmp_path, "json", name)
    verdict, _ = verdicts(json.loads(text))[name]
    assert verdict in ("alive", "dead")  # judged on the text, as UTF-8


@pytest.mark.parametrize("fmt", ["json", "markdown"])
@pytest.mark.parametrize("name", ["charset-utf7", "charset-unicode-escape"])
def test_a_title_decoding_to_a_lone_surrogate_still_gives_a_report(tmp_path, name, fmt):
    code, text = audit_hostile(tmp_path, fmt, name)
    assert "\ud800" not in text
    text.encode("utf-8")  # valid Unicode throughout
    if fmt == "json":
        report = json.loads(text)
        assert verdicts(report)[name] == ("dead", "soft_404")


def test_every_hostile_answer_at_once_leaves_the_rest_of_the_run_intact(tmp_path):
    code, text = audit_hostile(tmp_path, "json", *HOSTILE)
    found = verdicts(json.loads(text))
    assert len(found) == len(HOSTILE) + 1
    assert found["fine"] == ("alive", "ok")
    assert not any(v == "dead" for name, (v, _) in found.items() if not name.startswith("charset-"))


def test_a_check_that_raises_is_that_links_error_and_the_run_goes_on(tmp_path, monkeypatch):
    real = verdict.decide

    def flaky(evidence, *args, **kwargs):
        if "explodes" in evidence.url:
            raise KeyError("a bug in the checker")
        return real(evidence, *args, **kwargs)

    monkeypatch.setattr(checker, "decide", flaky)
    refs = tmp_path / "refs.txt"
    refs.write_text("1. A. http://hostile.test/explodes.html\n2. B. http://hostile.test/fine.html\n", encoding="utf-8")
    config = tmp_path / "crawler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    out = tmp_path / "r.json"
    with FakeWeb() as fake:
        fake.route("canary.test", "/", page("Canary"))
        fake.route("hostile.test", "/fine.html", page("A fine page"))
        code = main(["audit", str(refs), "--config", str(config), "--connect-to", f"::127.0.0.1:{fake.http_port}",
                     "--format", "json", "--output", str(out), "--quiet"])
    links = {link["url"].rsplit("/", 1)[1]: link for link in json.loads(out.read_text())["links"]}
    assert (links["explodes.html"]["verdict"], links["explodes.html"]["reason"]) == ("unreachable", "error")
    assert "KeyError" in links["explodes.html"]["detail"]
    assert links["fine.html"]["verdict"] == "alive"
    assert code == 0


def test_an_answer_nobody_asked_for_is_not_the_next_links_answer():
    # A server that sends a second, unsolicited response (a 404) on a kept-alive
    # connection once the first was read: the next link sent on that
    # connection must not take it for its own answer and be called dead.
    page_answer = Answer(headers=((b"Content-Type", b"text/html"),), body=b"<title>A page</title>")
    stray = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"
    with RawServer() as server:
        server.answers = {"/canary": page_answer, "/first": Answer(**{**page_answer.__dict__, "unsolicited": stray}),
                          "/second": page_answer}
        # One connection at a time, and a pause between requests to the host,
        # so the second link is sent on the connection the stray answer sits on.
        settings = CheckSettings(retries=0, timeout=3.0, max_per_host=1, delay=0.5, soft_404=False,
                                 canary_urls=("http://canary.test/canary",))
        links = [Link(url=f"http://stray.test/{name}", cited_as=name) for name in ("first", "second")]
        run = asyncio.run(Checker(settings, connect_to=[ConnectTo.parse(f"::127.0.0.1:{server.port}")]).check(links))
    assert run.results["http://stray.test/second"].verdict is Verdict.ALIVE, run.results


def test_a_probe_that_raises_is_an_error_of_the_links_sharing_it_and_the_run_goes_on(tmp_path, monkeypatch):
    # Links of one directory share one soft-404 probe; a bug while probing
    # once ended the run for all of them (a CancelledError out of every worker).
    class BuggyProbes(checker.ProbeCache):
        def __init__(self, fetch, **kwargs):
            async def buggy(url):
                if "/papers/" in url:
                    await asyncio.sleep(0.2)  # the other links of the directory wait on this probe now
                    raise KeyError("a bug in the probe")
                return await fetch(url)
            super().__init__(buggy, **kwargs)

    monkeypatch.setattr(checker, "ProbeCache", BuggyProbes)
    refs = tmp_path / "refs.txt"
    refs.write_text("".join(f"{n}. A. http://hostile.test/papers/{n}.html\n" for n in range(1, 4))
                    + "4. B. http://hostile.test/fine.html\n", encoding="utf-8")
    config = tmp_path / "crawler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    out = tmp_path / "r.json"
    with FakeWeb() as fake:
        fake.route("canary.test", "/", page("Canary"))
        fake.route("hostile.test", "/fine.html", page("A fine page"))
        for n in range(1, 4):
            fake.route("hostile.test", f"/papers/{n}.html", page(f"Paper {n}"))
        code = main(["audit", str(refs), "--config", str(config), "--connect-to", f"::127.0.0.1:{fake.http_port}",
                     "--format", "json", "--output", str(out), "--quiet"])
    links = {link["url"].rsplit("/", 1)[1]: link for link in json.loads(out.read_text())["links"]}
    assert {(links[f"{n}.html"]["verdict"], links[f"{n}.html"]["reason"]) for n in range(1, 4)} == {("unreachable", "error")}
    assert links["fine.html"]["verdict"] == "alive"


def test_a_canary_check_that_raises_does_not_end_the_run(tmp_path, monkeypatch):
    # The canary is asked before any link, outside the per-link boundary; a
    # captive portal can answer it with anything.
    real = checker.Fetcher.fetch

    async def fetch(self, url, **kwargs):
        if "canary.test" in url:
            raise KeyError("a bug met at the canary")
        return await real(self, url, **kwargs)

    monkeypatch.setattr(checker.Fetcher, "fetch", fetch)
    refs = tmp_path / "refs.txt"
    refs.write_text("1. B. http://hostile.test/fine.html\n", encoding="utf-8")
    config = tmp_path / "crawler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    out = tmp_path / "r.json"
    with FakeWeb() as fake:
        fake.route("hostile.test", "/fine.html", page("A fine page"))
        main(["audit", str(refs), "--config", str(config), "--connect-to", f"::127.0.0.1:{fake.http_port}",
              "--format", "json", "--output", str(out), "--quiet"])
    (link,) = json.loads(out.read_text())["links"]
    assert link["verdict"] == "alive"

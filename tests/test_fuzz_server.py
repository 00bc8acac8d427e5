"""Fuzzing the checker with generated server answers: no answer may crash a run or fake a death.

Hypothesis builds a handful of answers per example (statuses, Location,
Retry-After, Content-Type and charset, Set-Cookie, Content-Encoding, byte
bodies, answers cut short or never given) and a raw server sends them as
they are. For every example:

- the check never raises, and every link gets a verdict;
- both report formats are written, and the JSON parses;
- no inconclusive answer (401/403/407/429/451, 5xx, a connection closed
  early, no answer at all, a malformed status line) is called dead.

The example count follows the hypothesis profile: HYPOTHESIS_PROFILE=long
runs tens of thousands of answers (the count is printed at the end, with -s).
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.check import Checker, CheckSettings, ConnectTo
from crawler.extract.urls import canonical_url
from crawler.model import Link, Verdict
from crawler.report import Report, write_report
from rawserver import Answer, RawServer

SETTINGS = CheckSettings(retries=1, backoff_initial=0.001, backoff_max=0.005, timeout=0.5, connect_timeout=0.5,
                         link_budget=3.0, retry_after_cap=0.05, canary_urls=("http://canary.test/canary",),
                         canary_timeout=2.0, max_body_bytes=4096)
INCONCLUSIVE = frozenset({401, 403, 407, 429, 451})
EXAMPLES = max(10, settings().max_examples // 2)

_line = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
_status_code = st.one_of(st.sampled_from([200, 200, 200, 204, 301, 302, 303, 307, 308, 400, 401, 403, 404, 405,
                                          410, 429, 451, 500, 502, 503, 504, 520, 999]),
                         st.integers(100, 599))
_status_line = st.one_of(
    _status_code.map(lambda code: b"HTTP/1.1 %d Reason" % code),
    _status_code.map(lambda code: b"HTTP/1.0 %d" % code),
    st.sampled_from([b"garbage", b"HTTP/1.1 abc OK", b"HTTP/1.1 99 Low", b"HTTP/9.9 200 OK", b"", b"HTTP/1.1 200 OK\x00"]),
)
_location = st.one_of(
    st.integers(0, 9).map(lambda n: b"/f/%d" % n),
    st.sampled_from([b"/", b"/en/", b"/ok", b"/404.html", b"/login?next=/x", b"//other.test/f/1", b"http://[/",
                     b"http://[x]/", b"http://exa]mple.org/", b"javascript:alert(1)", b"http://127.0.0.1/admin",
                     b"http://[64:ff9b::7f00:1]/", b"http://x|**BOLD**|@good.test/ok", b"ftp://x/", b"",
                     b"http://\xd0\xbf\xd1\x80.test/", b"/f/0#frag", b"?q=1", b"http://a/" + b"b" * 3000]),
    _line,
)
_charset = st.sampled_from(["utf-8", "utf-7", "unicode_escape", "undefined", "idna", "punycode", "rot13", "hex",
                            "base64", "zlib", "latin-1", "bogus", "utf-16", "utf-32", "", "\"utf-8\""])
_header = st.one_of(
    _location.map(lambda v: (b"Location", v)),
    st.one_of(st.sampled_from([b"1", b"0", "²".encode(), b"-5", b"1e9", b"Wed, 21 Oct 2015 07:28:00 GMT", b"soon",
                               b"99999999999999999999"]), _line).map(lambda v: (b"Retry-After", v)),
    st.one_of(_charset.map(lambda c: f"text/html; charset={c}".encode()),
              st.sampled_from([b"application/pdf", b"text/plain", b"text/html", b""]), _line)
    .map(lambda v: (b"Content-Type", v)),
    st.one_of(st.sampled_from([b"a=b", b"a", b"=;;;", b"x=" + b"y" * 5000, b"s=1; Path=/; HttpOnly"]), _line)
    .map(lambda v: (b"Set-Cookie", v)),
    st.sampled_from([b"gzip", b"deflate", b"br", b"identity", b"x-bogus", b"gzip, gzip", b""])
    .map(lambda v: (b"Content-Encoding", v)),
    st.just((b"cf-mitigated", b"challenge")),
    st.tuples(_line, _line),
)
_html = st.sampled_from([
    "<html><head><title>Page not found</title></head><body>gone</body></html>",
    "<html><head><title>Just a moment...</title></head><body>challenge-platform</body></html>",
    "<html><head><title>Страница не найдена</title></head><body>нет</body></html>",
    "<html><head><title>A real article</title></head><body>" + " ".join(f"word{i}" for i in range(80)) + "</body></html>",
    "<html><head><title>+2AA- \\ud800</title></head></html>",
    "<title>\x1b[2J\u202e</title>",
]).map(str.encode)
_body = st.one_of(st.binary(max_size=600), _html, _html.map(gzip.compress))


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    body = draw(_body)
    encoded_len = 4096
    return Answer(
        status_line=draw(_status_line),
        headers=tuple(draw(st.lists(_header, max_size=5))),
        body=body,
        content_length=draw(st.integers(0, 9).map(lambda n: n != 0)),
        close_after=draw(st.one_of(st.none(), st.none(), st.integers(0, encoded_len))),
        hang=draw(st.integers(0, 49).map(lambda n: n == 0)),
    )


def status_of(answer: Answer) -> int | None:
    m = re.fullmatch(rb"HTTP/1\.[01] (\d{3})(?: .*)?", answer.status_line)
    return int(m.group(1)) if m else None


def is_inconclusive(answer: Answer) -> bool:
    """An answer that proves nothing about the page: it must never make a link dead."""
    status = status_of(answer)
    if answer.hang or status is None:
        return True
    encoded = answer.encode()
    full = Answer(**{**answer.__dict__, "close_after": None}).encode()
    head_end = full.find(b"\r\n\r\n") + 4
    if answer.close_after is not None and (len(encoded) < head_end or (answer.content_length and len(encoded) < len(full))):
        return True  # cut before its headers ended, or before the length it promised
    if 300 <= status < 400 and any(name.lower() == b"location" for name, _ in answer.headers):
        return False  # a redirect: the verdict is the chain's, judged elsewhere
    return status in INCONCLUSIVE or status >= 500


@pytest.fixture(scope="module")
def server():
    with RawServer() as raw:
        yield raw
        print(f"\nfuzz: {raw.served} generated server answers served", file=sys.stderr)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
@given(pages=st.lists(answers(), min_size=1, max_size=10), default=answers())
def test_no_server_answer_crashes_a_run_or_fakes_a_dead_link(server, pages, default):
    server.answers = {f"/f/{n}": answer for n, answer in enumerate(pages)}
    server.answers["/canary"] = Answer(body=b"<title>Canary</title>")
    server.default = default  # what the soft-404 probes and other paths get
    links = [Link(url=canonical_url(f"http://fuzz.test/f/{n}"), cited_as=f"fuzz.test/f/{n}") for n in range(len(pages))]
    checker = Checker(SETTINGS, connect_to=[ConnectTo.parse(f"::127.0.0.1:{server.port}")])
    run = asyncio.run(checker.check(links))

    assert run.network == "up"
    assert set(run.results) == {link.url for link in links}
    for n, link in enumerate(links):
        result = run.results[link.url]
        assert result.verdict is not None, result
        if is_inconclusive(pages[n]):
            assert result.verdict is not Verdict.DEAD, (pages[n], result)

    report = Report(links=links, problems=[], references=[], command="audit", network=run.network,
                    results=run.results)
    for fmt in ("json", "markdown"):
        out = io.StringIO()
        write_report(report, fmt, out)
        text = out.getvalue()
        text.encode("utf-8")
        if fmt == "json":
            assert len(json.loads(text)["links"]) == len(links)

"""The checker's transport against servers that misbehave: a broken server is that link's result, never another's.

Each test is one way a server (or a document) once got the lean transport
(crawler/check/transport.py) to send a link's request more often than
promised, to lose what aiohttp's ClientSession kept, or to raise where a
link's result was due. Servers are local asyncio servers on 127.0.0.1, in
the test's own loop, reached by made-up names through --connect-to rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import ClientConnectionError, ServerDisconnectedError, web
from aiohttp.abc import AbstractResolver
from yarl import URL

from crawler.check import Checker, CheckSettings, ConnectTo
from crawler.check.resolve import GuardedResolver
from crawler.check.transport import Transport
from crawler.model import Link, Verdict
from rawserver import Answer, RawServer
from sites import FakeWeb, Hanging, html, page, redirect

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 21\r\n\r\n<title>A page</title>"


@contextlib.asynccontextmanager
async def serving(handler: Handler, host: str = "127.0.0.1") -> AsyncIterator[int]:
    """A raw server in this loop; yields its port."""
    handlers: set[asyncio.Task] = set()

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(guarded, host, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


def transport_to(port: int, **kwargs) -> Transport:
    return Transport(GuardedResolver(connect_to=(ConnectTo.parse(f"::127.0.0.1:{port}"),)), headers={}, **kwargs)


async def get(transport: Transport, url: str, **kwargs) -> tuple[int, bytes]:
    async with asyncio.timeout(5):
        reply = await transport.request("GET", URL(url, encoded=True), connect_timeout=2, **kwargs)
        try:
            return reply.status, await reply.content.read()
        finally:
            reply.release()


async def test_a_request_a_reused_connection_loses_is_sent_once_more_on_a_new_connection_only():
    # A server restarted behind a load balancer: every connection kept alive
    # from before is closed the moment it is used again. The request goes
    # out once more, on a new connection, not once on each idle connection.
    requests: list[bytes] = []

    async def answers_once_a_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = True
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            requests.append(head.split(b"\r\n", 1)[0])
            if not first:
                return  # closed without an answer
            first = False
            writer.write(OK)
            await writer.drain()

    async with serving(answers_once_a_connection) as port:
        transport = transport_to(port)
        try:
            await asyncio.gather(*(get(transport, f"http://www.example.org/{n}") for n in range(4)))
            assert transport._idle_count == 4
            requests.clear()
            assert await get(transport, "http://www.example.org/paper.html") == (200, b"<title>A page</title>")
        finally:
            await transport.close()
    assert requests == [b"GET /paper.html HTTP/1.1"] * 2


async def test_a_request_a_new_connection_loses_is_not_sent_again_by_the_transport():
    # Only a kept-alive connection may have been closed before the request
    # reached the server; a new one that closes without an answer is the
    # server's answer (connection_reset), retried, if at all, by the fetcher.
    requests: list[bytes] = []

    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append((await reader.readuntil(b"\r\n\r\n")).split(b"\r\n", 1)[0])

    async with serving(never_answers) as port:
        transport = transport_to(port)
        try:
            with pytest.raises(ServerDisconnectedError):
                await get(transport, "http://www.example.org/paper.html")
        finally:
            await transport.close()
    assert requests == [b"GET /paper.html HTTP/1.1"]


FAST = CheckSettings(retries=0, timeout=3.0, canary_timeout=3.0, canary_urls=("http://canary.test/",))


def check(fake: FakeWeb, *urls: str, settings: CheckSettings = FAST) -> dict[str, object]:
    checker = Checker(settings, connect_to=[ConnectTo.parse(rule) for rule in fake.connect_to()])
    return asyncio.run(checker.check([Link(url=url, cited_as=url) for url in urls])).results


# Set-Cookie headers that browsers (and aiohttp's ClientSession, before the
# transport) take, but http.cookies.SimpleCookie drops whole.
COOKIES_SIMPLECOOKIE_DROPS = {
    "partitioned (CHIPS)": ("gate=1; Path=/; Secure; SameSite=None; Partitioned", "gate=1"),
    "JSON value": ('consent={"analytics":false}; Path=/', 'consent={"analytics":false}'),
    "quoted value with a semicolon": ('pref="a;b"; Path=/', 'pref="a;b"'),
}


@pytest.mark.parametrize("set_cookie, sent_back", COOKIES_SIMPLECOOKIE_DROPS.values(),
                         ids=COOKIES_SIMPLECOOKIE_DROPS.keys())
def test_a_cookie_wall_is_passed_with_the_cookie_sent_back_as_the_server_set_it(set_cookie, sent_back):
    # A site that sets a cookie and redirects to the same page, and shows the
    # page only to a visitor who sends that cookie back (as it sent it).
    async def cookie_wall(request: web.Request) -> web.Response:
        if sent_back in request.headers.get("Cookie", "").split("; "):
            return web.Response(text=html("Annual report 2023"), content_type="text/html")
        return web.Response(status=302, headers={"Location": "/report.html", "Set-Cookie": set_cookie})

    with FakeWeb() as fake:
        fake.route("canary.test", "/", page("Canary"))
        fake.route("www.osce.org", "/report.html", cookie_wall)
        results = check(fake, "http://www.osce.org/report.html")
    assert results["http://www.osce.org/report.html"].verdict is Verdict.ALIVE


def test_a_cookie_beyond_latin1_is_sent_back_in_utf8_not_judged_a_malformed_url():
    # aiohttp's parser reads header values as UTF-8; the request head must go
    # out the same way (as ClientSession's did), not fail to encode.
    async def cookie_wall(request: web.Request) -> web.Response:
        if "currency=€" in request.headers.get("Cookie", ""):
            return web.Response(text=html("Exchange rates"), content_type="text/html")
        return web.Response(status=302, headers={"Location": "/rates.html", "Set-Cookie": "currency=€; Path=/"})

    with FakeWeb() as fake:
        fake.route("canary.test", "/", page("Canary"))
        fake.route("www.ecb.europa.eu", "/rates.html", cookie_wall)
        results = check(fake, "http://www.ecb.europa.eu/rates.html")
    result = results["http://www.ecb.europa.eu/rates.html"]
    assert (result.verdict, result.reason) == (Verdict.ALIVE, "ok")



class SlowDns(AbstractResolver):
    """A name server that takes an hour to answer."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
        await asyncio.sleep(3600)
        return []

    async def close(self) -> None:
        pass


async def test_closing_the_transport_fails_a_request_waiting_for_dns_instead_of_cancelling_its_task():
    # A CancelledError out of a task nobody cancelled passes every
    # "except Exception" boundary, and ends whatever awaits that task.
    transport = Transport(GuardedResolver(base=SlowDns()), headers={})
    waiting = asyncio.ensure_future(get(transport, "http://www.example.org/"))
    await asyncio.sleep(0.1)
    await transport.close()
    with pytest.raises(ClientConnectionError):
        await asyncio.wait_for(waiting, 2)
    assert not waiting.cancelled()


async def test_closing_the_transport_opens_no_new_connection_for_a_request_in_flight():
    connections = 0

    async def slow_second_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(OK)
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(3600)

    async with serving(slow_second_answer) as port:
        transport = transport_to(port)
        await get(transport, "http://www.example.org/")
        in_flight = asyncio.ensure_future(get(transport, "http://www.example.org/paper.html"))  # on the kept-alive one
        await asyncio.sleep(0.1)
        await transport.close()
        with pytest.raises(ClientConnectionError):
            await asyncio.wait_for(in_flight, 2)
        await asyncio.sleep(0.1)
    assert connections == 1


def test_a_redirect_to_the_address_of_a_kept_alive_connection_is_still_refused():
    # The site is reached through a --connect-to rule (the user's choice) and
    # its connection is kept alive; a redirect to that very address, written
    # as an IP literal, is the document's choice and must not ride on it.
    with FakeWeb() as fake:
        fake.route("canary.test", "/", page("Canary"))
        fake.route("www.example.org", "/a.html", page("A page"))
        fake.route("www.example.org", "/moved", redirect(f"http://127.0.0.1:{fake.http_port}/admin", 302))
        settings = CheckSettings(retries=0, timeout=3.0, canary_timeout=3.0, canary_urls=("http://canary.test/",),
                                 max_per_host=1, soft_404=False)
        results = check(fake, "http://www.example.org/a.html", "http://www.example.org/moved", settings=settings)
        admin = fake.requests(path="/admin")
    assert results["http://www.example.org/a.html"].verdict is Verdict.ALIVE
    moved = results["http://www.example.org/moved"]
    assert (moved.verdict, moved.reason) == (Verdict.SKIPPED, "private_address")
    assert admin == []


@pytest.mark.parametrize("url, host_header", [
    ("http://www.example.org:8080/a.html", "www.example.org:8080"),
    ("http://www.example.org:80/a.html", "www.example.org"),
    ("http://[::1]:{port}/a.html", "[::1]:{port}"),
])
async def test_the_host_header_names_the_port_only_when_it_is_not_the_schemes_default(url, host_header):
    heads: list[bytes] = []

    async def records(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(OK)
        await writer.drain()

    async with serving(records, host="::1") as port:
        # An IP literal is connected to as it is (no --connect-to), so loopback must be allowed.
        transport = Transport(GuardedResolver(connect_to=(ConnectTo.parse(f"::[::1]:{port}"),), allow_private=True),
                              headers={})
        try:
            assert (await get(transport, url.format(port=port)))[0] == 200
        finally:
            await transport.close()
    assert f"\r\nHost: {host_header.format(port=port)}\r\n".encode() in heads[0]


PAGE = b"<!DOCTYPE html><title>Annual report</title><p>" + b"report " * 40
GZIP_CORRUPT = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xde\xad\xbe\xef" * 16
BROKEN_ANSWERS = {
    "switching-protocols-unasked": Answer(b"HTTP/1.1 101 Switching Protocols",
                                          ((b"Upgrade", b"websocket"), (b"Connection", b"Upgrade")),
                                          content_length=False),
    "a-hundred-early-hints": Answer(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" * 100
                                    + b"HTTP/1.1 200 OK", ((b"Content-Type", b"text/html"),), PAGE),
    "no-content-with-a-body": Answer(b"HTTP/1.1 204 No Content", body=PAGE),
    "bad-chunk-size": Answer(b"HTTP/1.1 200 OK", ((b"Transfer-Encoding", b"chunked"),), b"zz\r\n" + PAGE,
                             content_length=False),
    "chunk-longer-than-sent": Answer(b"HTTP/1.1 200 OK", ((b"Transfer-Encoding", b"chunked"),),
                                     b"ffff\r\n" + PAGE, content_length=False),
    "body-shorter-than-content-length": Answer(b"HTTP/1.1 200 OK\r\nContent-Length: 99999", body=PAGE,
                                               content_length=False),
    "header-line-too-long": Answer(headers=((b"X-Trace", b"a" * 20000),), body=PAGE),
    "too-many-headers": Answer(headers=tuple((b"X-H%d" % n, b"v") for n in range(300)), body=PAGE),
    "not-a-status-line": Answer(b"HTTP/1.1 OK", body=PAGE),
    "status-beyond-999": Answer(b"HTTP/1.1 2000 OK", body=PAGE),
    "http-1.0-without-length": Answer(b"HTTP/1.0 200 OK", ((b"Content-Type", b"text/html"),), PAGE,
                                      content_length=False),
    "corrupt-gzip": Answer(headers=((b"Content-Type", b"text/html"), (b"Content-Encoding", b"gzip")),
                           body=GZIP_CORRUPT),
    "corrupt-deflate": Answer(headers=((b"Content-Type", b"text/html"), (b"Content-Encoding", b"deflate")),
                              body=b"\xde\xad\xbe\xef" * 16),
    "unknown-encoding": Answer(headers=((b"Content-Type", b"text/html"), (b"Content-Encoding", b"x-made-up")),
                               body=PAGE),
    "closed-in-the-head": Answer(headers=((b"Content-Type", b"text/html"),), body=PAGE, close_after=20),
}


def test_each_broken_answer_is_its_own_links_result_never_dead_and_the_rest_of_the_run_is_judged():
    fine = Answer(headers=((b"Content-Type", b"text/html"),), body=PAGE)
    with RawServer() as server:
        server.answers = {"/canary": fine, "/fine.html": fine,
                          **{f"/{name}.html": answer for name, answer in BROKEN_ANSWERS.items()}}
        settings = CheckSettings(retries=1, backoff_initial=0.01, backoff_max=0.02, timeout=2.0, canary_timeout=2.0,
                                 canary_urls=("http://canary.test/canary",), soft_404=False)
        # A host of its own for each, and fine.test's page last on a connection the others may have spoiled.
        urls = [f"http://{name}.test/{name}.html" for name in BROKEN_ANSWERS] + ["http://fine.test/fine.html"]
        checker = Checker(settings, connect_to=[ConnectTo.parse(f"::127.0.0.1:{server.port}")])
        run = asyncio.run(checker.check([Link(url=url, cited_as=url) for url in urls]))
    found = {url.rsplit("/", 1)[1].removesuffix(".html"): result for url, result in run.results.items()}
    assert found.pop("fine").verdict is Verdict.ALIVE
    assert set(found) == set(BROKEN_ANSWERS)
    assert {name: result.verdict for name, result in found.items() if result.verdict is Verdict.DEAD} == {}


def test_an_answer_nobody_asked_for_arriving_after_the_connection_was_reused_is_no_false_dead():
    # The stray 404 comes 50 ms after the first link's answer; with no delay
    # between a host's links (the default), the second link's request is on
    # that connection by then and the stray reads as its answer. A "gone" from
    # a reused connection is believed only once a new connection says it too.
    page_answer = Answer(headers=((b"Content-Type", b"text/html"),), body=b"<title>A page</title>")
    stray = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"
    with RawServer() as server:
        server.answers = {"/canary": page_answer, "/first": Answer(**{**page_answer.__dict__, "unsolicited": stray}),
                          "/second": page_answer, "/gone": Answer(b"HTTP/1.1 404 Not Found", body=b"not found")}
        settings = CheckSettings(retries=0, timeout=3.0, max_per_host=1, soft_404=False,
                                 canary_urls=("http://canary.test/canary",))
        links = [Link(url=f"http://stray.test/{name}", cited_as=name) for name in ("first", "second", "gone")]
        run = asyncio.run(Checker(settings, connect_to=[ConnectTo.parse(f"::127.0.0.1:{server.port}")]).check(links))
    assert run.results["http://stray.test/second"].verdict is Verdict.ALIVE, run.results
    assert run.results["http://stray.test/gone"].verdict is Verdict.DEAD


def test_a_stray_redirect_to_the_front_page_arriving_after_reuse_is_no_false_dead():
    # As above, but the server's second answer is a 301 to its front page: the
    # next link reads it as its own answer, and the transport's re-asking of a
    # 404 does not apply. A dead verdict resting on a reused connection is
    # asked again on new connections before it is believed.
    page_answer = Answer(headers=((b"Content-Type", b"text/html"),), body=b"<title>A page</title>")
    stray = b"HTTP/1.1 301 Moved Permanently\r\nLocation: /\r\nContent-Length: 0\r\n\r\n"
    with RawServer() as server:
        server.answers = {"/canary": page_answer, "/first": Answer(**{**page_answer.__dict__, "unsolicited": stray}),
                          "/second": page_answer, "/": page_answer,
                          "/moved": Answer(b"HTTP/1.1 301 Moved Permanently", headers=((b"Location", b"/"),))}
        settings = CheckSettings(retries=0, timeout=3.0, max_per_host=1, soft_404=False,
                                 canary_urls=("http://canary.test/canary",))
        links = [Link(url=f"http://stray.test/{name}", cited_as=name) for name in ("first", "second", "moved")]
        run = asyncio.run(Checker(settings, connect_to=[ConnectTo.parse(f"::127.0.0.1:{server.port}")]).check(links))
    assert run.results["http://stray.test/second"].verdict is Verdict.ALIVE, run.results
    # A real redirect to the front page is still dead, asked on a new connection.
    assert run.results["http://stray.test/moved"].reason == "redirect_to_root"


async def test_a_gone_answer_is_asked_again_only_when_a_get_had_it_from_a_reused_connection():
    requests: list[tuple[int, bytes]] = []  # (connection, request line)
    connections = 0

    async def gone(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        number = connections
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            requests.append((number, head.split(b"\r\n", 1)[0]))
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n"
                         + (b"" if head.startswith(b"HEAD") else b"not found"))
            await writer.drain()

    async with serving(gone) as port:
        transport = transport_to(port)
        try:
            assert (await get(transport, "http://www.example.org/a"))[0] == 404  # a new connection: believed
            async with asyncio.timeout(5):
                head = await transport.request("HEAD", URL("http://www.example.org/b"), connect_timeout=2)
                head.release()  # HEAD is never believed by the fetcher anyway: not confirmed
            assert (await get(transport, "http://www.example.org/c"))[0] == 404  # reused: once more, anew
        finally:
            await transport.close()
    assert requests == [(1, b"GET /a HTTP/1.1"), (1, b"HEAD /b HTTP/1.1"), (1, b"GET /c HTTP/1.1"),
                        (2, b"GET /c HTTP/1.1")]


def test_a_tls_handshake_that_never_completes_is_a_timeout_within_the_connect_timeout():
    with FakeWeb() as fake, Hanging() as silent:
        fake.route("canary.test", "/", page("Canary"))
        settings = CheckSettings(retries=0, timeout=10.0, connect_timeout=0.5, canary_timeout=3.0,
                                 canary_urls=("http://canary.test/",))
        rules = [*fake.connect_to("canary.test"), f"www.example.org:443:127.0.0.1:{silent.port}"]
        checker = Checker(settings, connect_to=[ConnectTo.parse(rule) for rule in rules])
        started = time.monotonic()
        run = asyncio.run(checker.check([Link(url="https://www.example.org/a.html", cited_as="a")]))
        elapsed = time.monotonic() - started
    result = run.results["https://www.example.org/a.html"]
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "timeout")
    assert elapsed < 5


def test_plain_http_on_an_https_url_is_a_tls_error_not_dead():
    with FakeWeb() as fake:
        fake.route("canary.test", "/", page("Canary"))
        fake.route("www.example.org", "/a.html", page("A page"))
        rules = [*fake.connect_to("canary.test"), f"www.example.org:443:127.0.0.1:{fake.http_port}"]
        checker = Checker(FAST, connect_to=[ConnectTo.parse(rule) for rule in rules])
        run = asyncio.run(checker.check([Link(url="https://www.example.org/a.html", cited_as="a")]))
    result = run.results["https://www.example.org/a.html"]
    assert (result.verdict, result.reason) == (Verdict.UNREACHABLE, "tls_error")


class CountingDns(AbstractResolver):
    """A name server that answers after ``delay`` seconds, counting the questions."""

    def __init__(self, port: int, delay: float) -> None:
        self.port, self.delay, self.asked = port, delay, 0

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
        self.asked += 1
        await asyncio.sleep(self.delay)
        return [{"hostname": host, "host": "127.0.0.1", "port": self.port, "family": socket.AF_INET,
                 "proto": 0, "flags": 0}]

    async def close(self) -> None:
        pass


async def test_links_to_one_host_share_one_lookup_that_outlives_the_ones_who_gave_up_on_it():
    async def answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(OK)
            await writer.drain()

    async with serving(answers) as port:
        dns = CountingDns(port, delay=0.3)
        transport = Transport(GuardedResolver(base=dns, allow_private=True), headers={})
        try:
            async def impatient() -> None:
                async with asyncio.timeout(0.1):
                    await get(transport, "http://www.example.org/a.html")

            gave_up = await asyncio.gather(*(impatient() for _ in range(20)), return_exceptions=True)
            assert all(isinstance(outcome, TimeoutError) for outcome in gave_up)
            answered = await asyncio.gather(*(get(transport, f"http://www.example.org/{n}.html") for n in range(20)))
        finally:
            await transport.close()
    assert {status for status, _ in answered} == {200}
    assert dns.asked == 1


def test_a_cookie_no_one_can_parse_is_dropped_without_a_word_on_stderr(capsys, monkeypatch):
    # aiohttp's cookie parser logs a warning for it, which with no logging
    # configured (the CLI) Python prints to stderr: a line a link, from a server.
    monkeypatch.setattr(logging.root, "handlers", [])  # as in the CLI, not as under pytest
    with FakeWeb() as fake:
        fake.route("canary.test", "/", page("Canary"))
        fake.route("www.example.org", "/a.html", page("A page", headers={"Set-Cookie": "bad name=1; Path=/"}))
        results = check(fake, "http://www.example.org/a.html")
    assert results["http://www.example.org/a.html"].verdict is Verdict.ALIVE
    assert capsys.readouterr().err == ""


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_stopping_the_run_mid_request_leaves_no_connection_open():
    with RawServer() as server:
        server.answers = {"/canary": Answer(headers=((b"Content-Type", b"text/html"),), body=PAGE),
                          "/slow.html": Answer(hang=True)}
        settings = CheckSettings(retries=0, timeout=30.0, canary_timeout=3.0, soft_404=False,
                                 canary_urls=("http://canary.test/canary",))
        checker = Checker(settings, connect_to=[ConnectTo.parse(f"::127.0.0.1:{server.port}")])
        before = open_files()

        async def stopped_midway():
            links = [Link(url=f"http://host{n}.test/slow.html", cited_as=f"{n}") for n in range(30)]
            run = asyncio.ensure_future(checker.check(links))
            while server.served < 31:  # the canary and every link's request are out
                await asyncio.sleep(0.01)
            checker.stop("SIGTERM")
            return await asyncio.wait_for(run, 5)

        run = asyncio.run(stopped_midway())
        deadline = time.monotonic() + 3  # the server's side closes once it sees the client's close
        while open_files() > before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert open_files() <= before
    assert run.interrupted == "SIGTERM"


async def keeps_answering(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(OK)
        await writer.drain()


async def test_a_connection_idle_longer_than_keepalive_is_closed_not_reused():
    connections = 0

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await keeps_answering(reader, writer)

    now = [1000.0]
    async with serving(counted) as port:
        transport = transport_to(port, keepalive=15.0, clock=lambda: now[0])
        try:
            await get(transport, "http://www.example.org/a.html")
            now[0] += 14.0
            await get(transport, "http://www.example.org/b.html")  # reused
            now[0] += 15.0
            await get(transport, "http://www.example.org/c.html")  # the server may have closed it by now
        finally:
            await transport.close()
    assert connections == 2


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
async def test_connections_to_hundreds_of_hosts_stay_within_max_idle_and_are_all_closed_at_the_end():
    async with serving(keeps_answering) as port:
        transport = transport_to(port, max_idle=16)
        before = open_files()
        try:
            for wave in range(0, 300, 10):
                await asyncio.gather(*(get(transport, f"http://host{n}.example.org/") for n in range(wave, wave + 10)))
                # Both ends of each connection are in this process: at most 2 x (max_idle + the 10 in flight).
                assert open_files() - before <= 2 * (16 + 10)
        finally:
            await transport.close()
        for _ in range(100):
            if open_files() <= before:
                break
            await asyncio.sleep(0.01)
        assert open_files() <= before


def test_a_stray_copy_of_a_page_read_as_the_soft_404_probes_answer_is_no_false_dead():
    # A report page, answered on a new connection; 50 ms later the server sends
    # the same answer again. The directory's made-up page is asked at once on
    # the kept-alive connection and reads the copy as its own answer: the page
    # then looks like the site's answer for a page that cannot exist (a soft
    # 404), though the site answers made-up pages with a real 404.
    words = " ".join(f"paragraph{n}" for n in range(40))
    report = Answer(headers=((b"Content-Type", b"text/html"),),
                    body=f"<html><title>Annual report 2019</title><body>{words}</body></html>".encode())
    stray = report.encode()
    front = Answer(headers=((b"Content-Type", b"text/html"),),
                   body=b"<html><title>Ministry</title><body>" + b" ".join(b"news%d" % n for n in range(40)) + b"</body></html>")
    with RawServer() as server:
        server.answers = {"/canary": front, "/": front,
                          "/reports/annual-2019.html": Answer(**{**report.__dict__, "unsolicited": stray})}
        settings = CheckSettings(retries=0, timeout=3.0, max_per_host=1, canary_urls=("http://canary.test/canary",))
        url = "http://ministry.test/reports/annual-2019.html"
        run = asyncio.run(Checker(settings, connect_to=[ConnectTo.parse(f"::127.0.0.1:{server.port}")]).check(
            [Link(url=url, cited_as=url)]))
    assert run.results[url].verdict is Verdict.ALIVE, run.results[url]


def test_a_host_reached_by_redirect_and_caught_sending_strays_gets_no_connection_reused():
    # The cited host redirects to the site's new name, and the new one follows
    # every answer with a stray 301 to its front page. Once a re-check on new
    # connections showed a dead verdict to be a stray's, it is the new name's
    # connections that are no longer reused: no link after it reads a stray,
    # so none is asked twice.
    requested: list[bytes] = []

    class Recording(RawServer):
        def _answer(self, head: bytes) -> Answer:
            requested.append(head.split(b"\r\n", 1)[0])
            return super()._answer(head)

    page_answer = Answer(headers=((b"Content-Type", b"text/html"),), body=b"<title>A page</title>")
    stray = b"HTTP/1.1 301 Moved Permanently\r\nLocation: /\r\nContent-Length: 0\r\n\r\n"
    names = ("first", "second", "third", "fourth", "fifth")
    with Recording() as server:
        server.answers = {"/canary": page_answer, "/": page_answer}
        for name in names:
            server.answers[f"/old/{name}"] = Answer(b"HTTP/1.1 301 Moved Permanently",
                                                    headers=((b"Location", f"http://new.test/{name}".encode()),))
            server.answers[f"/{name}"] = Answer(**{**page_answer.__dict__, "unsolicited": stray})
        settings = CheckSettings(retries=0, timeout=3.0, max_per_host=1, soft_404=False,
                                 canary_urls=("http://canary.test/canary",))
        links = [Link(url=f"http://old.test/old/{name}", cited_as=name) for name in names]
        run = asyncio.run(Checker(settings, connect_to=[ConnectTo.parse(f"::127.0.0.1:{server.port}")]).check(links))
    assert {result.verdict for result in run.results.values()} == {Verdict.MOVED}, run.results
    asked_twice = [name for name in names if requested.count(f"GET /{name} HTTP/1.1".encode()) > 1]
    assert len(asked_twice) <= 1, requested

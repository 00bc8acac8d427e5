"""The checker's transport: what it promises about connections, lookups and answers.

A scripted server on 127.0.0.1, in the test's own event loop, counts the
connections it accepts and records each request's head, so reuse, retries
and headers are observed from the server's side, as a real site would see them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from aiohttp import ServerDisconnectedError
from yarl import URL

from crawler.check.resolve import GuardedResolver, StaticResolver
from crawler.check.transport import ConnectFailure, DnsFailure, Reply, Transport

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class Script:
    """A server answering each request head with ``answer(head, n)``: bytes, or None to close without a word."""

    def __init__(self, answer: Callable[[bytes, int], bytes | None] = lambda head, n: OK) -> None:
        self.answer = answer
        self.connections = 0
        self.heads: list[bytes] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.closed_by_client = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                reply = self.answer(head, len(self.heads))
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
        except asyncio.IncompleteReadError:
            self.closed_by_client += 1
        except ConnectionError:
            pass
        finally:
            writer.close()


class Counting(StaticResolver):
    def __init__(self, table: dict[str, str]) -> None:
        super().__init__(table)
        self.lookups = 0

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        self.lookups += 1
        await asyncio.sleep(0.01)  # a lookup takes a while: concurrent requests overlap it
        return await super().resolve(host, port, family)


@pytest.fixture
async def serve():
    servers = []

    async def start(script: Script) -> int:
        server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        server.close()


def transport_for(resolver: Counting | None = None, **options: Any) -> tuple[Transport, Counting]:
    resolver = resolver or Counting({"www.mofa.go.jp": "127.0.0.1", "www.kantei.go.jp": "127.0.0.1"})
    return Transport(GuardedResolver(allow_private=True, base=resolver), headers={"User-Agent": "crawler-test"},
                     **options), resolver


async def get(transport: Transport, url: str, method: str = "GET", **options: Any) -> tuple[int, bytes]:
    async with asyncio.timeout(5):
        reply = await transport.request(method, URL(url, encoded=True), connect_timeout=2, **options)
        try:
            return reply.status, await reply.content.read()
        finally:
            reply.release()


async def test_a_kept_alive_connection_carries_the_next_request_to_the_same_host(serve):
    script = Script()
    port = await serve(script)
    transport, _ = transport_for()
    for n in range(3):
        assert await get(transport, f"http://www.mofa.go.jp:{port}/page{n}.html") == (200, b"ok")
    await transport.close()
    assert script.connections == 1 and len(script.heads) == 3


async def test_a_connection_whose_answer_was_not_read_to_the_end_is_not_reused(serve):
    # Larger than the parser buffers ahead of the reader: a 30 MB PDF, as far as a prefix knows.
    long_body = b"HTTP/1.1 200 OK\r\nContent-Length: 4000000\r\n\r\n" + b"a" * 4_000_000
    script = Script(lambda head, n: long_body if n == 1 else OK)
    port = await serve(script)
    transport, _ = transport_for()
    async with asyncio.timeout(5):
        reply = await transport.request("GET", URL(f"http://www.mofa.go.jp:{port}/big.pdf"), connect_timeout=2)
        assert len(await reply.content.read(10)) == 10  # a prefix, as the checker reads
        reply.release()
    assert await get(transport, f"http://www.mofa.go.jp:{port}/next.html") == (200, b"ok")
    await transport.close()
    assert script.connections == 2  # the rest of the first body would have been the second answer


async def test_a_name_is_looked_up_once_for_many_concurrent_requests(serve):
    port = await serve(Script())
    transport, resolver = transport_for()
    answers = await asyncio.gather(*(get(transport, f"http://www.mofa.go.jp:{port}/{n}") for n in range(20)))
    await transport.close()
    assert answers == [(200, b"ok")] * 20
    assert resolver.lookups == 1


async def test_a_name_that_does_not_exist_is_a_dns_failure_naming_it(serve):
    transport, _ = transport_for()
    with pytest.raises(DnsFailure) as raised:
        await get(transport, "http://www.brookings-gone.example/report")
    await transport.close()
    assert "does not exist" in str(raised.value.os_error)


async def test_a_refused_connection_is_a_connect_failure_that_says_so(serve):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: connections are refused
        transport, _ = transport_for()
        with pytest.raises(ConnectFailure) as raised:
            await get(transport, f"http://www.mofa.go.jp:{port}/")
        await transport.close()
    assert isinstance(raised.value.os_error, ConnectionRefusedError)


async def test_a_request_a_reused_connection_loses_is_sent_once_more_on_a_new_one(serve):
    script = Script(lambda head, n: None if n == 2 else OK)  # the 2nd request finds the connection closing
    port = await serve(script)
    transport, _ = transport_for()
    assert await get(transport, f"http://www.mofa.go.jp:{port}/a") == (200, b"ok")
    assert await get(transport, f"http://www.mofa.go.jp:{port}/b") == (200, b"ok")
    await transport.close()
    assert script.connections == 2 and len(script.heads) == 3


async def test_a_request_a_new_connection_loses_is_not_sent_again(serve):
    script = Script(lambda head, n: None)
    port = await serve(script)
    transport, _ = transport_for()
    with pytest.raises(ServerDisconnectedError):
        await get(transport, f"http://www.mofa.go.jp:{port}/a")
    await transport.close()
    assert len(script.heads) == 1  # the retry on a fresh connection is the Fetcher's, with its backoff


async def test_a_connection_idle_longer_than_keepalive_is_not_reused(serve):
    script = Script()
    port = await serve(script)
    now = [1000.0]
    transport, _ = transport_for(keepalive=15, clock=lambda: now[0])
    await get(transport, f"http://www.mofa.go.jp:{port}/a")
    now[0] += 16  # servers close idle connections after a while; the moment may be now
    await get(transport, f"http://www.mofa.go.jp:{port}/b")
    await transport.close()
    assert script.connections == 2


async def test_idle_connections_beyond_max_idle_are_closed(serve):
    scripts = [Script() for _ in range(6)]
    ports = [await serve(script) for script in scripts]
    transport, _ = transport_for(max_idle=4)
    for port in ports:  # six hosts visited and left
        await get(transport, f"http://www.mofa.go.jp:{port}/")
    await asyncio.sleep(0.05)
    assert sum(script.closed_by_client for script in scripts) >= 2
    assert sum(len(pool) for pool in transport._idle.values()) <= 4
    await transport.close()


async def test_closing_the_transport_closes_every_idle_connection(serve):
    script = Script()
    port = await serve(script)
    transport, _ = transport_for()
    await get(transport, f"http://www.mofa.go.jp:{port}/")
    await transport.close()
    await asyncio.sleep(0.05)
    assert script.closed_by_client == 1


async def test_interim_answers_are_skipped_for_the_final_one(serve):
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    port = await serve(Script(lambda head, n: b"HTTP/1.1 100 Continue\r\n\r\n" + hints + OK))
    transport, _ = transport_for()
    assert await get(transport, f"http://www.mofa.go.jp:{port}/") == (200, b"ok")
    await transport.close()


async def test_an_answer_to_head_has_no_body_and_leaves_the_connection_usable(serve):
    head_answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 31457280\r\n\r\n"
    script = Script(lambda head, n: head_answer if head.startswith(b"HEAD") else OK)
    port = await serve(script)
    transport, _ = transport_for()
    assert await get(transport, f"http://www.mofa.go.jp:{port}/report.pdf", method="HEAD") == (200, b"")
    assert await get(transport, f"http://www.mofa.go.jp:{port}/page.html") == (200, b"ok")
    await transport.close()
    assert script.connections == 1


async def test_the_request_names_the_host_with_its_port_and_carries_the_links_cookies(serve):
    script = Script()
    port = await serve(script)
    transport, _ = transport_for()
    await get(transport, f"http://www.mofa.go.jp:{port}/a%20b.html?q=1#part", cookies={"session": "abc"})
    await transport.close()
    head = script.heads[0].decode("latin-1")
    assert head.startswith("GET /a%20b.html?q=1 HTTP/1.1\r\n")  # as cited: not re-quoted, no fragment
    assert f"\r\nHost: www.mofa.go.jp:{port}\r\n" in head
    assert "\r\nCookie: session=abc\r\n" in head and "\r\nUser-Agent: crawler-test\r\n" in head
    assert "\r\nAccept-Encoding: gzip, deflate" in head


async def test_connections_are_kept_apart_by_host_name(serve):
    script = Script()
    port = await serve(script)
    transport, _ = transport_for()
    await get(transport, f"http://www.mofa.go.jp:{port}/")
    await get(transport, f"http://www.kantei.go.jp:{port}/")  # same address, another site
    await transport.close()
    assert script.connections == 2


async def test_after_a_reused_connection_is_lost_the_request_goes_on_a_new_one_not_another_idle_one(serve):
    script = Script(lambda head, n: None if n == 3 else OK)
    port = await serve(script)
    transport, _ = transport_for()
    url = f"http://www.mofa.go.jp:{port}/"
    await asyncio.gather(get(transport, url + "a"), get(transport, url + "b"))  # two connections, both idle now
    assert await get(transport, url + "c") == (200, b"ok")
    await transport.close()
    # The other idle connection is as old as the lost one: a server that closed one may have closed both.
    assert script.connections == 3 and len(script.heads) == 4


async def test_credentials_in_the_cited_url_are_sent_as_basic_auth_as_aiohttp_sent_them(serve):
    script = Script()
    port = await serve(script)
    transport, _ = transport_for()
    await get(transport, f"http://guest:p%40ss@www.mofa.go.jp:{port}/members/")
    await get(transport, f"http://www.mofa.go.jp:{port}/public/")
    await transport.close()
    first, second = (head.decode("latin-1") for head in script.heads)
    assert "\r\nAuthorization: Basic Z3Vlc3Q6cEBzcw==\r\n" in first  # guest:p@ss
    assert "Authorization" not in second and f"\r\nHost: www.mofa.go.jp:{port}\r\n" in first


GONE = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"


async def test_a_hosts_gone_answers_from_reused_connections_are_believed_once_new_ones_agreed_three_times(serve):
    script = Script(lambda head, n: GONE)
    port = await serve(script)
    transport, _ = transport_for()
    for n in range(6):
        assert await get(transport, f"http://www.mofa.go.jp:{port}/gone{n}.html") == (404, b"not found")
    await transport.close()
    # gone0 on a new connection (believed), gone1-3 asked twice (reused, then new), gone4-5 once.
    requested = [head.split(b" ")[1].decode() for head in script.heads]
    assert requested == ["/gone0.html", *(f"/gone{n}.html" for n in (1, 1, 2, 2, 3, 3)), "/gone4.html", "/gone5.html"]


async def test_a_host_seen_sending_an_answer_no_one_asked_for_gets_a_new_connection_for_every_request(serve):
    heads: list[bytes] = []
    connections: list[int] = []

    async def stray_after_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(heads))
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                return
            heads.append(head)
            writer.write(OK if len(heads) == 1 else GONE)
            if len(heads) == 1:
                await asyncio.sleep(0.02)
                writer.write(GONE)  # a second answer to the first request

    server = await asyncio.start_server(stray_after_first, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, _ = transport_for()
    url = f"http://www.mofa.go.jp:{port}/"
    assert await get(transport, url + "page.html") == (200, b"ok")
    await asyncio.sleep(0.1)  # the stray arrives on the idle connection, which is then not reused
    for n in range(5):
        assert await get(transport, url + f"gone{n}.html") == (404, b"not found")
    await transport.close()
    server.close()
    # On a reused connection any answer of such a host, not only a 404, may be
    # the previous request's: each request is asked once, each on its own connection.
    assert len(heads) == 1 + 5
    assert connections == [0, 1, 2, 3, 4, 5]


@given(st.lists(st.text(max_size=40), max_size=4))
def test_reading_cookies_never_fails_and_keeps_only_named_ones(headers):
    from multidict import CIMultiDict, CIMultiDictProxy

    reply = Reply(200, CIMultiDictProxy(CIMultiDict(("Set-Cookie", h) for h in headers)), None, None, None, None)
    for name, value in reply.cookies().items():
        assert name and not any(c in name for c in ' \t\r\n=;"')
        assert ";" not in value or value.startswith('"')  # an attribute is never part of a value


def test_a_cookies_value_is_what_the_server_set_attributes_left_out():
    from multidict import CIMultiDict, CIMultiDictProxy

    headers = CIMultiDict([("Set-Cookie", "gate=1; Path=/; Partitioned"), ("Set-Cookie", 'pref="a;b"; Path=/'),
                           ("Set-Cookie", "bad name=1"), ("Set-Cookie", "=nameless"),
                           ("Set-Cookie", 'consent={"analytics":false}; Secure')])
    reply = Reply(200, CIMultiDictProxy(headers), None, None, None, None)
    assert reply.cookies() == {"gate": "1", "pref": '"a;b"', "consent": '{"analytics":false}'}

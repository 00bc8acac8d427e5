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
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from yarl import URL

from crawler.check import Checker, CheckSettings, ConnectTo
from crawler.check.resolve import GuardedResolver
from crawler.check.transport import Transport
from crawler.model import Link, Verdict
from sites import FakeWeb, html, page

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 21\r\n\r\n<title>A page</title>"


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
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

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
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

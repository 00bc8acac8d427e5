"""A local web farm for benchmarks: N hosts on 127.0.0.x, each answering after a fixed latency.

Run as a separate process (python bench/farm.py --hosts 20 --latency 0.05);
it prints the port once every host listens. /articles/<n>.html answers 200
with a small HTML page, /moved/<n>.html a 301 to /articles/<n>.html;
anything else is a real 404, as most sites do.

It is a bare asyncio HTTP/1.1 server (keep-alive, GET and HEAD), not an
aiohttp application: real remote sites cost the client's machine nothing, so
the stand-in should cost as little as it can. With aiohttp.web it used a
whole core at 5,000 requests/s and competed with the clients being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import sys

_ARTICLE_RE = re.compile(rb"^/articles/(\d+)\.html$")
_MOVED_RE = re.compile(rb"^/moved/(\d+)\.html$")
_NOT_FOUND = b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>"


def _page(n: bytes) -> bytes:
    words = b" ".join(b"w%sx%d" % (n, i) for i in range(40))
    return (b"<!DOCTYPE html><html><head><title>Article %s</title></head><body><h1>Article %s</h1>"
            b"<p>%s</p></body></html>" % (n, n, words))


def _response(status: bytes, body: bytes, head_only: bool, extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 %s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n%s"
            b"Connection: keep-alive\r\n\r\n%s" % (status, len(body), extra, b"" if head_only else body))


class _Site(asyncio.Protocol):
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        loop = asyncio.get_running_loop()
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            method, path = head.split(b" ", 2)[:2]
            loop.call_later(self.latency, self._answer, method, path)

    def _answer(self, method: bytes, path: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        m = _ARTICLE_RE.match(path)
        head_only = method == b"HEAD"
        if m:
            self.transport.write(_response(b"200 OK", _page(m.group(1)), head_only))
        elif moved := _MOVED_RE.match(path):
            self.transport.write(_response(b"301 Moved Permanently", b"", head_only,
                                           b"Location: /articles/%s.html\r\n" % moved.group(1)))
        else:
            self.transport.write(_response(b"404 Not Found", _NOT_FOUND, head_only))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def serve(hosts: int, latency: float, port: int) -> None:
    loop = asyncio.get_running_loop()
    for n in range(1, hosts + 1):
        await loop.create_server(lambda: _Site(latency), f"127.0.0.{n}", port, backlog=4096)
    print(port, flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.hosts, args.latency, args.port or free_port()))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()

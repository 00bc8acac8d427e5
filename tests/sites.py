"""Fake web sites for tests: local aiohttp servers that answer as named hosts.

One plain and one TLS server run on 127.0.0.1 in a thread of their own (a
separate event loop, like a real remote server), and dispatch on the Host
header, so ``--connect-to`` can send every name there while URLs, the Host
header and TLS server names stay the real ones.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    host: str
    method: str
    path_qs: str
    raw_path: str
    headers: dict[str, str]
    at: float


def html(title: str, words: int = 60, body: str = "") -> str:
    """A page with a title and enough distinct text to compare pages by."""
    text = " ".join(f"{title.split()[0].lower()}{i}" for i in range(words))
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body><p>{text}</p>{body}</body></html>"


def page(title: str, words: int = 60, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=html(title, words), status=status, content_type="text/html",
                            headers=headers)
    return handler


def status(code: int, headers: dict[str, str] | None = None, text: str = "") -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=code, text=text or f"status {code}", headers=headers)
    return handler


def redirect(location: str, code: int = 301) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=code, headers={"Location": location})
    return handler


NOT_FOUND = status(404, text="<html><head><title>404 Not Found</title></head><body>Not Found</body></html>")


@dataclass
class FakeWeb:
    tls_names: tuple[str, ...] = ()
    tmp: Path | None = None
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    fallbacks: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    http_port: int = 0
    https_port: int = 0
    ca_file: str = ""

    def route(self, host: str, path: str, handler: Handler) -> None:
        """``path`` includes the query string when it matters ("/cnt2.php?st=1")."""
        self.routes[(host.lower(), path)] = handler

    def fallback(self, host: str, handler: Handler) -> None:
        """What ``host`` answers for every path without a route (by default a 404)."""
        self.fallbacks[host.lower()] = handler

    def requests(self, host: str | None = None, path: str | None = None) -> list[Seen]:
        return [s for s in self.seen if (host is None or s.host == host) and (path is None or s.path_qs == path)]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        host = request.host.rsplit(":", 1)[0].lower() if not request.host.startswith("[") else request.host
        self.seen.append(Seen(host, request.method, request.path_qs, request.raw_path,
                              dict(request.headers), time.monotonic()))
        handler = (self.routes.get((host, request.raw_path)) or self.routes.get((host, request.path_qs))
                   or self.routes.get((host, request.path)) or self.fallbacks.get(host) or NOT_FOUND)
        return await handler(request)

    def connect_to(self, *hosts: str) -> list[str]:
        """--connect-to rules sending ``hosts`` (or every host) to these servers."""
        names = hosts or ("",)
        rules = []
        for name in names:
            rules.append(f"{name}:80:127.0.0.1:{self.http_port}")
            if self.https_port:
                rules.append(f"{name}:443:127.0.0.1:{self.https_port}")
        return rules

    # --- running in a thread

    def __enter__(self) -> FakeWeb:
        started = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._error: BaseException | None = None

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._start())
            except BaseException as exc:  # surfaced in __enter__
                self._error = exc
                started.set()
                return
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        started.wait(10)
        if self._error:
            raise self._error
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        plain = web.TCPSite(self._runner, "127.0.0.1", 0)
        await plain.start()
        self.http_port = plain._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        if self.tls_names:
            ca = trustme.CA()
            assert self.tmp is not None, "TLS needs a directory for the CA file"
            self.ca_file = str(self.tmp / "test-ca.pem")
            ca.cert_pem.write_to_path(self.ca_file)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(*self.tls_names).configure_cert(context)
            secure = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
            await secure.start()
            self.https_port = secure._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def free_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Hanging:
    """A TCP server that accepts connections and never answers."""

    def __enter__(self) -> Hanging:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.close()


class Garbage:
    """A TCP server that answers every connection with bytes that are not HTTP."""

    def __init__(self, reply: bytes = b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff garbage\r\n\r\n") -> None:
        self.reply = reply

    def __enter__(self) -> Garbage:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.port = self._server.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self._server.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.recv(4096)
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._thread.join(2)
        self._server.close()

"""The connections the checker asks through: a lean HTTP/1.1 client on aiohttp's own protocol and parser.

aiohttp's ``ClientSession`` is a general client: cookie jars, proxies,
traces, auth, request bodies, redirects, a Connection object and a
ClientResponse per request. The checker needs none of it (it follows
redirects by hand, keeps its own cookies and reads a bounded prefix), yet
those layers were most of a link's CPU: 311k of the bare loop's 482k
instructions a link (bench/http_floor.py, README "Benchmarks"). This module
keeps what does the real work, aiohttp's ``ResponseHandler`` protocol with
its C parser (chunked and compressed bodies, header limits, payload errors),
and replaces the rest with a pool of kept-alive connections and one
request function.

What it keeps of aiohttp's client, on purpose:
- every connection's address comes from the ``GuardedResolver`` (the
  private-address guard, --connect-to, --dns-server), looked up once a host
  for ``dns_ttl`` seconds, one lookup at a time a host;
- addresses are tried with Happy Eyeballs, each attempt (TLS handshake
  included) within ``connect_timeout``;
- a kept-alive connection is reused only if nothing arrived on it while it
  sat idle (a stray answer would be the next link's answer), it was idle
  for less than ``keepalive`` seconds, and its last answer was read to the
  end; otherwise it is closed;
- a request that a reused connection loses before any answer is sent once
  more on a new connection (RFC 9112 §9.3.1, as aiohttp does for GET/HEAD);
- a 404 or 410 from a reused connection is asked once more on a new one:
  a server's late, unasked-for second answer would read as the next
  link's, and a false "dead" is the one error the checker must not make
  (always for a host seen sending such answers, otherwise until a new
  connection has agreed GONE_TRUST_AFTER times);
- 1xx answers are skipped, HEAD answers have no body, and the body is
  decompressed as aiohttp would.

``ResponseHandler`` is aiohttp's internal API; pyproject bounds aiohttp's
version, and tests/test_transport.py pins down what the checker relies on.
"""

from __future__ import annotations

import asyncio
import base64
import re
import socket
import ssl as _ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohappyeyeballs
from aiohttp import ClientConnectionError, ClientOSError, ServerDisconnectedError
from aiohttp.client_proto import ResponseHandler
from yarl import URL

from crawler.check.resolve import GuardedResolver, is_ip_literal

# A cookie's name: an RFC 9110 token.
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_DEFAULT_PORTS = {"http": 80, "https": 443}
# What the verdict reads as "dead" by its status alone.
GONE = frozenset({404, 410})  # the answers that make a link dead by themselves
# "Gone" answers a host's new connections must confirm before its reused ones are believed.
GONE_TRUST_AFTER = 3


def _addr_info(address: dict[str, Any]) -> tuple[int, int, int, str, tuple[Any, ...]]:
    host, port = address["host"], address["port"]
    if ":" in host:
        return socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port, 0, 0)
    return socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port)


def _accept_encoding() -> str:
    # What aiohttp's own requests offer: brotli and zstd only where their decoders are installed.
    try:
        from aiohttp.client_reqrep import _gen_default_accept_encoding

        return _gen_default_accept_encoding()
    except ImportError:  # pragma: no cover - older aiohttp
        return "gzip, deflate"


def _verified_context() -> _ssl.SSLContext:
    # aiohttp makes a verified context at import; a second one costs ~80 ms of CPU at every start.
    try:
        from aiohttp.connector import _SSL_CONTEXT_VERIFIED

        if isinstance(_SSL_CONTEXT_VERIFIED, _ssl.SSLContext):
            return _SSL_CONTEXT_VERIFIED
    except ImportError:  # pragma: no cover - older aiohttp
        pass
    return _ssl.create_default_context()


class DnsFailure(Exception):
    """A host's addresses could not be had; ``os_error`` says why (NameNotFoundError, PrivateAddressError…)."""

    def __init__(self, os_error: OSError) -> None:
        super().__init__(str(os_error))
        self.os_error = os_error


class ConnectFailure(Exception):
    """No address of a host took a connection; ``os_error`` is the last attempt's error."""

    def __init__(self, os_error: OSError) -> None:
        super().__init__(str(os_error) or type(os_error).__name__)
        self.os_error = os_error


@dataclass(slots=True)
class Reply:
    """An answer's head and its body stream; ``release()`` must follow, always."""

    status: int
    headers: Any  # CIMultiDictProxy[str], as aiohttp's parser made it
    content: Any  # aiohttp StreamReader (EMPTY_PAYLOAD for HEAD, 204, 304)
    _transport: Transport
    _key: tuple[bool, str, int]
    _protocol: ResponseHandler | None
    reused: bool = False  # it came over a kept-alive connection

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        # The parser has refused an unreadable Content-Length already.
        return int(value) if value is not None and value.isascii() and value.isdigit() else None

    def cookies(self) -> dict[str, str]:
        """Each cookie's value as the server sent it, which is what goes back in the Cookie header.

        Only the leading name=value of each Set-Cookie is read, as browsers
        do: SimpleCookie drops a whole header for one attribute it does not
        know ("Partitioned") or a JSON value, and a cookie wall then
        redirects forever. aiohttp's lenient parser is internal and only in
        its newer releases.
        """
        jar: dict[str, str] = {}
        for header in self.headers.getall("Set-Cookie", ()):
            name, sep, rest = header.partition("=")
            name = name.strip()
            if not sep or not _COOKIE_NAME.fullmatch(name):
                continue  # a cookie no one can parse is no cookie
            rest = rest.lstrip()
            end = rest.find('"', 1) if rest.startswith('"') else -1
            jar[name] = rest[:end + 1] if end != -1 else rest.split(";", 1)[0].strip()
        return jar

    def release(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            self._transport._give_back(self._key, protocol)


def _connection_key(url: URL) -> tuple[bool, str, int]:
    """Which kept-alive connections may carry a request for ``url``: (TLS, host, port)."""
    scheme = url.scheme
    return scheme == "https", url.raw_host or "", url.port or _DEFAULT_PORTS.get(scheme, 0)


class Transport:
    """Kept-alive connections by (TLS, host, port), and the one request the checker makes."""

    def __init__(self, resolver: GuardedResolver, *, headers: dict[str, str], ssl: _ssl.SSLContext | None = None,
                 max_field_size: int = 16384, dns_ttl: float = 300.0, keepalive: float = 15.0,
                 max_idle: int = 256, clock: Callable[[], float] = time.monotonic) -> None:
        self.resolver = resolver
        self.ssl = ssl or _verified_context()
        self.max_field_size = max_field_size
        self.dns_ttl = dns_ttl
        self.keepalive = keepalive
        self.max_idle = max_idle
        self._clock = clock
        fixed = {"Accept-Encoding": _accept_encoding(), **headers}
        self._fixed_headers = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        self._idle: dict[tuple[bool, str, int], list[tuple[ResponseHandler, float]]] = {}
        self._idle_count = 0
        self._addresses: dict[tuple[str, int], tuple[float, list[dict[str, Any]]]] = {}
        self._lookups: dict[tuple[str, int], asyncio.Future[list[dict[str, Any]]]] = {}
        self._busy: set[ResponseHandler] = set()
        self._closed = False
        # By connection key: "gone" answers from reused connections that a new one confirmed,
        # and hosts seen sending an answer no one asked for (never reused again).
        self._gone_agreed: dict[tuple[bool, str, int], int] = {}
        self._strays: set[tuple[bool, str, int]] = set()

    async def request(self, method: str, url: URL, *, connect_timeout: float,
                      cookies: dict[str, str] | None = None, fresh: bool = False) -> Reply:
        """Send ``method url`` and return the answer's head; its body is read from ``Reply.content``.

        The caller bounds the whole (``asyncio.timeout``), the body included,
        as one deadline; each connection attempt has ``connect_timeout``.
        Raises DnsFailure, ConnectFailure, ssl.SSLError, or aiohttp's
        ServerDisconnectedError, ClientOSError, ClientPayloadError and
        HttpProcessingError for what the connection or the parser saw.
        """
        host = url.raw_host
        if not host:
            raise ValueError(f"{url} has no host")
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(f"{scheme}: URLs are not asked")
        key = _connection_key(url)
        port = key[2]
        target = url.raw_path_qs or "/"
        netloc = url.host_subcomponent if url.is_default_port() else f"{url.host_subcomponent}:{port}"
        cookie_line = ("Cookie: " + "; ".join(f"{name}={value}" for name, value in cookies.items()) + "\r\n"
                       if cookies else "")
        if url.raw_user is not None:
            # Credentials in the cited URL go as Basic auth, as ClientSession sent them.
            token = base64.b64encode(f"{url.user or ''}:{url.password or ''}".encode()).decode("ascii")
            cookie_line += f"Authorization: Basic {token}\r\n"
        head = f"{method} {target} HTTP/1.1\r\nHost: {netloc}\r\n{self._fixed_headers}{cookie_line}\r\n"
        # UTF-8, as aiohttp writes a head and reads a header: a cookie set as
        # "currency=€" comes back in the next hop's Cookie line.
        message = head.encode("utf-8")
        retried = False
        gone: int | None = None
        while True:
            # The one retry goes to a new connection: after a restart every idle
            # connection to the host may be dead, and each would take the request.
            protocol = None if retried or fresh else self._reused(key)
            reused = protocol is not None
            if protocol is None:
                protocol = await self._connect(key, connect_timeout)
            self._busy.add(protocol)
            try:
                protocol.set_response_params(skip_payload=method == "HEAD", read_until_eof=True,
                                             auto_decompress=True, max_line_size=8190,
                                             max_field_size=self.max_field_size)
                transport = protocol.transport
                if transport is None:
                    raise ServerDisconnectedError()
                transport.write(message)
                while True:
                    answer, payload = await protocol.read()
                    if not 100 <= answer.code < 200 or answer.code == 101:
                        break  # 1xx are interim: 100 Continue, 103 Early Hints
            except (ServerDisconnectedError, ClientOSError):
                self._discard(protocol)
                if reused and not self._closed:
                    retried = True
                    continue  # the server closed it while idle: once more, on a new connection
                raise
            except BaseException:
                self._discard(protocol)
                raise
            if gone is not None:  # the answer of a new connection to a "gone" from a reused one
                if answer.code == gone:
                    self._gone_agreed[key] = self._gone_agreed.get(key, 0) + 1
                else:
                    self._strays.add(key)
            elif (reused and answer.code in GONE and method == "GET" and not self._closed
                  and (key in self._strays or self._gone_agreed.get(key, 0) < GONE_TRUST_AFTER)):
                # A stray answer that arrives just after the connection was reused
                # (a server's second response, sent late) reads as this request's.
                # A 404 or 410 makes a link dead by itself, so it is believed from
                # a new connection: always for a host seen sending strays, else
                # until a new connection has said the same GONE_TRUST_AFTER times
                # (dead links cluster on a few hosts, and each re-ask costs a round
                # trip on the very hosts that hold the run up). Not for HEAD: the
                # fetcher asks GET after any HEAD that failed.
                self._discard(protocol)
                retried = True
                gone = answer.code
                continue
            return Reply(answer.code, answer.headers, payload, self, key, protocol, reused)

    def distrust(self, url: URL) -> None:
        """Reuse no connection to the host of ``url`` again: it was seen sending answers no one asked for."""
        self._strays.add(_connection_key(url))

    def _reused(self, key: tuple[bool, str, int]) -> ResponseHandler | None:
        pool = self._idle.get(key)
        now = self._clock()
        while pool:
            protocol, since = pool.pop()
            self._idle_count -= 1
            if protocol.is_connected():
                if protocol.should_close:
                    # It was clean when it was put here: something arrived since, an
                    # answer no one asked for. This host's connections are not reused.
                    self._strays.add(key)
                elif now - since < self.keepalive and key not in self._strays:
                    return protocol
            protocol.close()  # stale, closed by the server, or an answer no one asked for is waiting
        return None

    async def _connect(self, key: tuple[bool, str, int], connect_timeout: float) -> ResponseHandler:
        tls, host, port = key
        if is_ip_literal(host):
            # As in aiohttp, an address is connected to as it is: no resolver, no --connect-to.
            literal = host.strip("[]")
            self.resolver.check_literal(literal, port)
            addresses = [{"hostname": literal, "host": literal, "port": port, "family": 0}]
        else:
            addresses = await self._resolve(host, port)
        loop = asyncio.get_running_loop()
        tried = [_addr_info(address) for address in addresses]
        server_name = addresses[0]["hostname"].rstrip(".") if tls else None
        error: OSError = OSError("no address to connect to")
        while tried:
            try:
                # Each attempt within connect_timeout, the TLS handshake included, as in aiohttp.
                async with asyncio.timeout(connect_timeout):
                    # Happy Eyeballs (RFC 8305), as aiohttp does: a host whose IPv6
                    # address is a black hole is reached over IPv4 250 ms later.
                    sock = await aiohappyeyeballs.start_connection(tried, happy_eyeballs_delay=0.25, loop=loop)
                    _, protocol = await loop.create_connection(lambda: ResponseHandler(loop), sock=sock,
                                                               ssl=self.ssl if tls else None,
                                                               server_hostname=server_name)
            except OSError as exc:  # refused, unreachable, timed out, or TLS (ssl.SSLError): the next address
                error = exc
                aiohappyeyeballs.pop_addr_infos_interleave(tried, None)
                continue
            if self._closed:
                protocol.close()
                raise ClientConnectionError("the transport is closed")
            return protocol
        raise ConnectFailure(error)

    async def _resolve(self, host: str, port: int) -> list[dict[str, Any]]:
        name = (host, port)
        known = self._addresses.get(name)
        if known is not None and known[0] > self._clock():
            return known[1]
        pending = self._lookups.get(name)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup(host, port))
            self._lookups[name] = pending
            pending.add_done_callback(lambda done: self._forget_lookup(name, done))
        # shield: one caller's timeout must not cancel the lookup others wait for.
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if pending.cancelled() and task is not None and not task.cancelling():
                # The lookup was cancelled (close()), not this caller: a CancelledError
                # out of a task nobody cancelled would pass every "except Exception".
                raise ClientConnectionError("the transport is closed" if self._closed
                                            else f"the lookup of {host} was cancelled") from None
            raise

    def _forget_lookup(self, name: tuple[str, int], done: asyncio.Future[Any]) -> None:
        self._lookups.pop(name, None)
        if not done.cancelled():
            done.exception()  # retrieved, even when every caller gave up waiting

    async def _lookup(self, host: str, port: int) -> list[dict[str, Any]]:
        try:
            addresses = await self.resolver.resolve(host, port, family=socket.AF_UNSPEC)
        except OSError as exc:
            raise DnsFailure(exc) from exc
        if not addresses:
            raise DnsFailure(OSError(f"{host}: no address"))
        self._addresses[(host, port)] = (self._clock() + self.dns_ttl, addresses)
        return addresses

    def _give_back(self, key: tuple[bool, str, int], protocol: ResponseHandler) -> None:
        self._busy.discard(protocol)
        if self._closed or protocol.should_close or not protocol.is_connected() or key in self._strays:
            # Its answer was not read to the end, the server asked to close, or
            # the host was seen sending answers no one asked for: on a reused
            # connection of such a host any answer (a 200 "not found" page, a
            # 301 to the front page) may be the last request's, so it gets a
            # new connection for every request.
            protocol.close()
            return
        if self._idle_count >= self.max_idle:
            self._evict()
        self._idle.setdefault(key, []).append((protocol, self._clock()))
        self._idle_count += 1

    def _discard(self, protocol: ResponseHandler) -> None:
        self._busy.discard(protocol)
        protocol.close()

    def _evict(self) -> None:
        """Close the older half of the idle connections: hosts of a long list are visited and left."""
        everyone = sorted(((since, key, protocol) for key, pool in self._idle.items() for protocol, since in pool),
                          key=lambda entry: entry[0])
        for since, key, protocol in everyone[:len(everyone) // 2 + 1]:
            self._idle[key].remove((protocol, since))
            protocol.close()
            self._idle_count -= 1
        self._idle = {key: pool for key, pool in self._idle.items() if pool}

    async def close(self) -> None:
        self._closed = True
        for pool in self._idle.values():
            for protocol, _ in pool:
                protocol.close()
        self._idle.clear()
        self._idle_count = 0
        for protocol in list(self._busy):
            protocol.close()
        self._busy.clear()
        for pending in list(self._lookups.values()):
            pending.cancel()
        # Let the transports' connection_lost run before the loop closes.
        await asyncio.sleep(0)

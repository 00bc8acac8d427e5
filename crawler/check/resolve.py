"""Name resolution: curl's --connect-to, and the guard against private addresses.

Every connection the checker's transport makes goes through
``GuardedResolver``, redirects included, so a document cannot make crawler
reach a loopback or intranet address unless asked (an SSRF guard for auditing
untrusted documents). URLs with an IP literal bypass resolvers, so
``check_literal`` guards those before a request is made.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

from aiohttp.abc import AbstractResolver
from aiohttp.resolver import ThreadedResolver


class PrivateAddressError(OSError):
    """The name resolves only to addresses crawler will not connect to."""


class NameNotFoundError(OSError):
    """The name does not exist (NXDOMAIN), as opposed to a lookup that failed."""


@dataclass(frozen=True)
class ConnectTo:
    """One --connect-to HOST:PORT:ADDR:PORT rule; empty fields match anything / keep the original."""

    host: str
    port: int | None
    to_host: str
    to_port: int | None

    @classmethod
    def parse(cls, text: str) -> ConnectTo:
        fields = _split_fields(text)
        if len(fields) != 4:
            raise ValueError(f"“{text}” is not HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT")
        host, port, to_host, to_port = fields
        try:
            return cls(host.lower().strip("[]"), int(port) if port else None, to_host.strip("[]"),
                       int(to_port) if to_port else None)
        except ValueError:
            raise ValueError(f"“{text}”: ports must be numbers") from None

    def matches(self, host: str, port: int) -> bool:
        return (not self.host or self.host == host.lower()) and (self.port is None or self.port == port)


def _split_fields(text: str) -> list[str]:
    """Split on ":" outside [IPv6] brackets."""
    fields, current, depth = [], [], 0
    for c in text:
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        if c == ":" and not depth:
            fields.append("".join(current))
            current = []
        else:
            current.append(c)
    fields.append("".join(current))
    return fields


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries, by every standard way of carrying one.

    A NAT64 gateway turns 64:ff9b::7f00:1 into a connection to 127.0.0.1, so
    an address is only as public as what it embeds; Python's is_global
    judges the IPv6 address alone.
    """
    if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return [ip.ipv4_mapped]
    if ip in _NAT64 or ip in _IPV4_TRANSLATED or ip in _IPV4_COMPATIBLE:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:  # 2002:AABB:CCDD::/48
        return [ip.sixtofour]
    if ip.teredo is not None:  # 2001:0::/32, server and (de-obfuscated) client
        return list(ip.teredo)
    return []


@functools.lru_cache(maxsize=4096)
def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL or ip.is_site_local:
            # Local-use NAT64 (RFC 8215) and site-local addresses are never
            # global, whatever they embed or in whichever RFC 6052 layout.
            return False
        embedded = embedded_ipv4(ip)
        if embedded:
            return all(v4.is_global and not v4.is_multicast for v4 in embedded)
    return ip.is_global and not ip.is_multicast


@functools.lru_cache(maxsize=4096)
def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class GuardedResolver(AbstractResolver):
    """Resolves through --connect-to rules first, then DNS, refusing non-public addresses."""

    def __init__(self, *, connect_to: tuple[ConnectTo, ...] = (), allow_private: bool = False,
                 base: AbstractResolver | None = None) -> None:
        self.connect_to = connect_to
        self.allow_private = allow_private
        self._base = base
        # Names a real lookup answered with a public address: evidence that DNS works.
        self.answered: set[str] = set()

    @property
    def base(self) -> AbstractResolver:
        if self._base is None:  # created lazily: it needs the running loop
            # getaddrinfo, as the system resolves names (nsswitch, /etc/hosts),
            # even where aiodns makes aiohttp's default c-ares; --dns-server
            # is the way to ask c-ares.
            self._base = ThreadedResolver()
        return self._base

    def rule_for(self, host: str, port: int) -> ConnectTo | None:
        return next((rule for rule in self.connect_to if rule.matches(host, port)), None)

    def check_literal(self, host: str, port: int) -> None:
        """Guard URLs whose host is an IP address.

        They are connected to without asking a resolver, so --connect-to
        rules cannot apply to them, and cannot vouch for them either.
        """
        if not self.allow_private and not is_public(host.strip("[]")):
            raise PrivateAddressError(f"{host} is a private or reserved address")

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[dict[str, Any]]:
        rule = self.rule_for(host, port)
        if rule is not None:
            target = rule.to_host or host
            target_port = rule.to_port or port
            if is_ip_literal(target):
                addresses = [target]
            else:
                addresses = [r["host"] for r in await self._lookup(target, target_port, family)]
            # The rule is the user's explicit choice: no guard, and the original
            # name stays the Host header and the TLS server name.
            return [_result(host, address, target_port) for address in addresses]
        results = await self._lookup(host, port, family)
        allowed = [r for r in results if self.allow_private or is_public(r["host"])]
        if not allowed:
            raise PrivateAddressError(f"{host} resolves only to private or reserved addresses "
                                      f"({', '.join(sorted({r['host'] for r in results}))})")
        if any(is_public(r["host"]) for r in allowed) or self.allow_private:
            self.answered.add(host.lower())
        return allowed

    async def _lookup(self, host: str, port: int, family: socket.AddressFamily) -> list[dict[str, Any]]:
        try:
            return await self.base.resolve(host, port, family)
        except OSError as exc:
            if _is_nxdomain(exc):
                raise NameNotFoundError(exc.errno, f"{host}: name does not exist") from exc
            raise

    async def close(self) -> None:
        if self._base is not None:
            await self._base.close()


def _result(hostname: str, address: str, port: int) -> dict[str, Any]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return {"hostname": hostname, "host": address, "port": port, "family": family, "proto": 0,
            "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV}


def _is_nxdomain(exc: OSError) -> bool:
    # getaddrinfo says EAI_NONAME for a name that does not exist (and EAI_NODATA
    # for one without addresses); aiodns uses its own codes (ARES_ENOTFOUND = 4).
    codes = {getattr(socket, "EAI_NONAME", -2), getattr(socket, "EAI_NODATA", -5)}
    if isinstance(exc, NameNotFoundError) or exc.errno in codes:
        return True
    # aiohttp's AsyncResolver raises OSError(None, message) from aiodns's
    # DNSError(code, message): ARES_ENOTFOUND = 4, ARES_ENODATA = 1.
    cause = exc if type(exc).__name__ == "DNSError" else exc.__cause__
    return type(cause).__name__ == "DNSError" and bool(cause.args) and cause.args[0] in (1, 4)


class StaticResolver(AbstractResolver):
    """A resolver with a fixed table, for tests and air-gapped runs; other names do not exist."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = {name.lower(): address for name, address in table.items()}

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[dict[str, Any]]:
        address = self.table.get(host.lower())
        if address is None:
            raise NameNotFoundError(socket.EAI_NONAME, f"{host}: name does not exist")
        return [_result(host, address, port)]

    async def close(self) -> None:
        pass

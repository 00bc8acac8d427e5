"""``--dns-server``: look host names up with DNS servers of the user's choosing.

Some networks need it: split-horizon DNS inside an institution, or a
resolver that turns NXDOMAIN into an advertising page (which makes dead
hosts look alive). Tests need it too: the system resolver cannot be told
what to say, so "the name does not exist, hence dead" could not be tested
end to end.

The lookups go through c-ares (aiodns, aio-libs), asynchronous on the event
loop where the system resolver runs getaddrinfo in threads. The resolver
made here is the base of crawler.check.resolve.GuardedResolver like the
system's: its answers pass the private-address guard, and a name it answers
counts as "DNS seen working" in the same way.

Parsing a server needs no aiohttp, so the command line can check its
arguments before the heavy imports.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DNS_PORT = 53
# Seconds c-ares waits for one server's answer, and how many rounds over the
# servers it makes before a lookup fails; the request's own timeout bounds it too.
QUERY_TIMEOUT = 3.0
QUERY_TRIES = 2


@dataclass(frozen=True)
class DnsServer:
    """A server of --dns-server or [check] dns_servers."""

    address: str  # an IPv4 or IPv6 address, without brackets
    port: int = DNS_PORT

    @classmethod
    def parse(cls, text: str) -> DnsServer:
        """ADDR, ADDR:PORT, an IPv6 address alone, or [IPv6]:PORT."""
        value = text.strip()
        port = ""
        if value.startswith("["):
            address, bracket, rest = value[1:].partition("]")
            if not bracket or (rest and not rest.startswith(":")):
                raise ValueError(f"“{text}” is not ADDR[:PORT] (write an IPv6 address as [::1]:5353)")
            port = rest[1:]
        elif value.count(":") == 1:
            address, _, port = value.partition(":")
        else:
            address = value  # IPv4 alone, or IPv6 alone (several colons)
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ValueError(f"“{text}”: a DNS server must be an IP address, not “{address}”") from None
        # isascii(): "²".isdigit() is true too, and int() refuses it.
        if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
            raise ValueError(f"“{text}”: the port must be a number from 1 to 65535")
        return cls(address, int(port) if port else DNS_PORT)

    def __str__(self) -> str:
        """As c-ares takes it."""
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def dns_server(text: str) -> str:
    """An argparse type: ``text`` checked, as given."""
    DnsServer.parse(text)
    return text


def make_resolver(servers: Sequence[str], *, timeout: float = QUERY_TIMEOUT, tries: int = QUERY_TRIES) -> Any:
    """An aiohttp resolver asking ``servers``; to be made inside the running event loop."""
    from crawler.check.resolve import NameNotFoundError

    import aiodns
    from aiohttp.resolver import AsyncResolver

    # c-ares's own codes for "no such name" and "no address of that kind".
    missing = {aiodns.error.ARES_ENOTFOUND, aiodns.error.ARES_ENODATA}

    class ChosenServersResolver(AsyncResolver):
        async def resolve(self, host: str, port: int = 0,
                          family: socket.AddressFamily = socket.AF_INET) -> list[dict[str, Any]]:
            try:
                return await super().resolve(host, port, family)
            except OSError as exc:
                # aiohttp turns c-ares's error into OSError(None, message): the
                # code that tells NXDOMAIN from a failed lookup is in the cause.
                cause = exc.__cause__
                if isinstance(cause, aiodns.error.DNSError) and cause.args and cause.args[0] in missing:
                    raise NameNotFoundError(cause.args[0], f"{host}: name does not exist") from exc
                raise

    nameservers = [str(DnsServer.parse(server)) for server in servers]
    return ChosenServersResolver(nameservers=nameservers, timeout=timeout, tries=tries)

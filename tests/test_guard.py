"""The private-address guard judges what an address really reaches, IPv4 inside IPv6 included."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from crawler.check import Checker, CheckSettings, StaticResolver
from crawler.check.resolve import embedded_ipv4, is_public
from crawler.extract.urls import normalise
from crawler.model import Link, Verdict

# Each form reaches a loopback, link-local (cloud metadata) or private IPv4 address.
REFUSED = {
    "NAT64 to the metadata address": "64:ff9b::a9fe:a9fe",
    "NAT64 to loopback": "64:ff9b::7f00:1",
    "NAT64 to a private network": "64:ff9b::a00:1",
    "local-use NAT64 (RFC 8215)": "64:ff9b:1::7f00:1",
    "local-use NAT64 in a /48 layout": "64:ff9b:1:7f00:0:100::",
    "IPv4-compatible loopback": "::127.0.0.1",
    "IPv4-compatible metadata address": "::169.254.169.254",
    "IPv4-translated loopback": "::ffff:0:127.0.0.1",
    "IPv4-mapped loopback": "::ffff:127.0.0.1",
    "6to4 of loopback": "2002:7f00:1::1",
    "6to4 of a private network": "2002:c0a8:101::1",
    "Teredo with a private client": "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "site-local": "fec0::1",
    "IPv6 loopback": "::1",
    "unique local": "fd00::1",
    "link-local": "fe80::1",
    "IPv4 loopback": "127.0.0.1",
    "IPv4 metadata": "169.254.169.254",
    "IPv4 private": "10.1.2.3",
    "IPv4 shared (carrier-grade NAT)": "100.64.0.1",
}
ALLOWED = {
    "NAT64 to a public address": "64:ff9b::808:808",
    "6to4 of a public address": "2002:808:808::1",
    "IPv4-compatible public address": "::8.8.8.8",
    "public IPv6": "2606:4700::1111",
    "public IPv4": "93.184.216.34",
}


@pytest.mark.parametrize("address", REFUSED.values(), ids=REFUSED.keys())
def test_address_reaching_a_non_public_network_is_refused(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ALLOWED.values(), ids=ALLOWED.keys())
def test_address_reaching_a_public_network_is_allowed(address):
    assert is_public(address)


def test_nat64_address_carries_its_ipv4_address():
    assert embedded_ipv4(ipaddress.IPv6Address("64:ff9b::a9fe:a9fe")) == [ipaddress.IPv4Address("169.254.169.254")]


SETTINGS = CheckSettings(retries=0, canary_urls=(), timeout=2.0)


def check(url: str, resolver: StaticResolver | None = None) -> Verdict | None:
    link = Link(url=normalise(url).url, cited_as=url)
    run = asyncio.run(Checker(SETTINGS, resolver=resolver).check([link]))
    result = run.results[link.url]
    assert result.reason == "private_address", result
    return result.verdict


@pytest.mark.parametrize("address", ["64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "::127.0.0.1", "::ffff:0:127.0.0.1"])
def test_url_with_an_ipv4_in_ipv6_literal_is_skipped_without_a_connection(address):
    assert check(f"http://[{address}]/latest/meta-data/") is Verdict.SKIPPED


def test_name_resolving_to_nat64_of_the_metadata_address_is_refused():
    resolver = StaticResolver({"metadata.example.org": "64:ff9b::a9fe:a9fe"})
    assert check("http://metadata.example.org/latest/meta-data/", resolver) is Verdict.SKIPPED

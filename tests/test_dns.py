"""--dns-server: names looked up with a DNS server of our choosing, here a small one on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from crawler.check.dns import DnsServer, dns_server
from crawler.cli import main
from sites import FakeWeb, page


class TinyDns:
    """A UDP DNS server answering A queries from a table; other names do not exist (NXDOMAIN)."""

    def __init__(self, table: dict[str, str], failing: dict[str, int] | None = None) -> None:
        self.table = {name.lower().rstrip("."): address for name, address in table.items()}
        # Names the server fails for, with the reply code it gives (SERVFAIL, REFUSED…).
        self.failing = {name.lower().rstrip("."): rcode for name, rcode in (failing or {}).items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.asked: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TinyDns:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = DNSRecord.parse(data)
            name = str(query.q.qname).lower().rstrip(".")
            self.asked.append(name)
            reply = query.reply()
            address = self.table.get(name)
            if name in self.failing:
                reply.header.rcode = self.failing[name]
            elif address is None:
                reply.header.rcode = RCODE.NXDOMAIN
            elif query.q.qtype == QTYPE.A:
                reply.add_answer(RR(query.q.qname, QTYPE.A, rdata=A(address), ttl=60))
            # AAAA for a known name: no error and no answer (NODATA), as for an IPv4-only site.
            self.sock.sendto(reply.pack(), peer)


ALIVE = ("www.mofa.go.jp", "centrasia.org", "www.osce.org")
MISSING = ("gone.mofa-archive.jp", "no-such-host.centrasia.org")


@pytest.fixture
def web(tmp_path) -> Iterator[FakeWeb]:
    with FakeWeb(tmp=tmp_path) as fake:
        for host in ALIVE:
            fake.route(host, "/page.html", page(f"Page of {host}"))
        yield fake


def references(tmp_path: Path, port: int, hosts: tuple[str, ...]) -> Path:
    path = tmp_path / "refs.txt"
    path.write_text("".join(f"{n}. A page. http://{host}:{port}/page.html (accessed 3.3.2021)\n"
                            for n, host in enumerate(hosts, 1)), encoding="utf-8")
    return path


def audit(tmp_path: Path, refs: Path, *args: str) -> tuple[int, dict[str, dict]]:
    config = tmp_path / "crawler.toml"
    config.write_text("[check]\ncanary_urls = []\nretries = 0\ntimeout = 5.0\n", encoding="utf-8")
    out = tmp_path / "report.json"
    # --no-archive: the Wayback Machine is not what these tests ask the server about.
    code = main(["audit", str(refs), "--config", str(config), "--no-archive", "--format", "json", "--output", str(out),
                 "--quiet", *args])
    links = json.loads(out.read_text(encoding="utf-8"))["links"]
    return code, {link["url"].split("//", 1)[1].split(":", 1)[0]: link for link in links}


def test_an_audit_through_a_chosen_dns_server_calls_missing_names_dead_and_the_rest_alive(tmp_path, web):
    table = {host: "127.0.0.1" for host in ALIVE}
    with TinyDns(table) as dns:
        refs = references(tmp_path, web.http_port, ALIVE + MISSING)
        code, links = audit(tmp_path, refs, "--dns-server", f"127.0.0.1:{dns.port}", "--allow-private")
    assert code == 1  # dead links found
    for host in ALIVE:
        assert (links[host]["verdict"], links[host]["reason"]) == ("alive", "ok"), links[host]
    for host in MISSING:
        assert (links[host]["verdict"], links[host]["reason"]) == ("dead", "dns_nxdomain"), links[host]
    assert set(ALIVE + MISSING) <= set(dns.asked)  # the system resolver was not asked instead


@pytest.mark.parametrize("rcode", [RCODE.SERVFAIL, RCODE.REFUSED])
def test_a_name_the_chosen_server_fails_for_is_unreachable_never_dead(tmp_path, web, rcode):
    # A split-horizon server that refuses outside names, or one whose upstream
    # is broken: it said nothing about whether the name exists.
    failing = MISSING[0]
    with TinyDns({host: "127.0.0.1" for host in ALIVE}, failing={failing: rcode}) as dns:
        refs = references(tmp_path, web.http_port, ALIVE + (failing,))
        code, links = audit(tmp_path, refs, "--dns-server", f"127.0.0.1:{dns.port}", "--allow-private")
    assert code == 0  # nothing dead
    assert links[failing]["verdict"] == "unreachable", links[failing]
    assert links[failing]["reason"] != "dns_nxdomain"
    for host in ALIVE:
        assert links[host]["verdict"] == "alive", links[host]


def test_the_private_address_guard_applies_to_a_chosen_servers_answers(tmp_path, web):
    with TinyDns({host: "127.0.0.1" for host in ALIVE}) as dns:
        refs = references(tmp_path, web.http_port, ALIVE[:1] + MISSING[:1])
        _, links = audit(tmp_path, refs, "--dns-server", f"127.0.0.1:{dns.port}")
    assert (links[ALIVE[0]]["verdict"], links[ALIVE[0]]["reason"]) == ("skipped", "private_address")
    # Only private answers came: DNS was not seen working, so a missing name is not proof.
    assert links[MISSING[0]]["verdict"] == "unreachable"
    assert web.requests() == []


def test_a_server_that_does_not_answer_leaves_the_run_unjudged_not_the_links_dead(tmp_path, web):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))  # bound, never answers
    try:
        refs = references(tmp_path, web.http_port, ALIVE[:1])
        code, links = audit(tmp_path, refs, "--dns-server", f"127.0.0.1:{silent.getsockname()[1]}",
                            "--allow-private", "--timeout", "2")
    finally:
        silent.close()
    assert code == 3  # no lookup answered: as good as no network
    assert (links[ALIVE[0]]["verdict"], links[ALIVE[0]]["reason"]) == (None, "network_down")


@pytest.mark.parametrize(("text", "server"), [
    ("192.0.2.53", DnsServer("192.0.2.53", 53)),
    ("192.0.2.53:5353", DnsServer("192.0.2.53", 5353)),
    ("::1", DnsServer("::1", 53)),
    ("[::1]:5353", DnsServer("::1", 5353)),
    ("[2001:db8::53]", DnsServer("2001:db8::53", 53)),
])
def test_dns_servers_are_read_as_curl_writes_them(text, server):
    assert DnsServer.parse(text) == server


def test_ipv6_servers_are_given_to_c_ares_in_brackets():
    assert str(DnsServer.parse("[::1]:5353")) == "[::1]:5353"
    assert str(DnsServer.parse("192.0.2.53")) == "192.0.2.53:53"


@pytest.mark.parametrize("text", ["dns.example.org", "192.0.2.53:0", "192.0.2.53:dns", "[::1", "[::1]5353", ""])
def test_a_bad_dns_server_is_refused(text):
    with pytest.raises(ValueError):
        dns_server(text)


@pytest.mark.parametrize("text", ["192.0.2.53:65536", "192.0.2.53:²", "[::1]:٥٣", "192.0.2.53: 53"])
def test_a_dns_servers_port_must_be_a_number_from_1_to_65535(text):
    with pytest.raises(ValueError, match="the port must be a number from 1 to 65535"):
        dns_server(text)


def test_a_bad_dns_server_on_the_command_line_is_a_usage_error(tmp_path, capsys):
    refs = references(tmp_path, 80, ALIVE[:1])
    with pytest.raises(SystemExit) as exit:
        main(["audit", str(refs), "--dns-server", "dns.example.org"])
    assert exit.value.code == 2
    assert "--dns-server" in capsys.readouterr().err


def test_nxdomain_from_aiohttps_c_ares_resolver_is_told_from_a_failed_lookup():
    import aiodns

    from crawler.check.resolve import _is_nxdomain

    def raised(code: int) -> OSError:
        error = OSError(None, "lookup failed")  # what aiohttp's AsyncResolver raises…
        error.__cause__ = aiodns.error.DNSError(code, "message")  # …from c-ares's code
        return error

    assert _is_nxdomain(raised(aiodns.error.ARES_ENOTFOUND))
    assert not _is_nxdomain(raised(aiodns.error.ARES_ETIMEOUT))
    assert not _is_nxdomain(raised(aiodns.error.ARES_ESERVFAIL))


def test_a_bad_dns_server_in_the_config_is_a_config_error_naming_the_key(tmp_path, capsys):
    config = tmp_path / "crawler.toml"
    config.write_text('[check]\ndns_servers = ["dns.example.org"]\n', encoding="utf-8")
    refs = references(tmp_path, 80, ALIVE[:1])
    assert main(["audit", str(refs), "--config", str(config)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("crawler: error: config:") and "dns_servers" in error and "\n" not in error


def test_dns_servers_from_the_config_are_used_like_the_flag(tmp_path, web):
    with TinyDns({ALIVE[0]: "127.0.0.1"}) as dns:
        config = tmp_path / "crawler.toml"
        config.write_text(f'[check]\ncanary_urls = []\nretries = 0\nallow_private = true\n'
                          f'dns_servers = ["127.0.0.1:{dns.port}"]\n', encoding="utf-8")
        out = tmp_path / "report.json"
        refs = references(tmp_path, web.http_port, ALIVE[:1])
        main(["audit", str(refs), "--config", str(config), "--format", "json", "--output", str(out), "--quiet"])
    assert json.loads(out.read_text(encoding="utf-8"))["links"][0]["verdict"] == "alive"
    assert ALIVE[0] in dns.asked

"""`crawler audit` end to end: the sample lists against stand-ins for the real sites."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web

from conftest import SEEDS
from crawler.cli import main
from sites import FakeWeb, free_port, html, page, redirect, status

DIALOGUE = SEEDS / "central-asia-plus-japan-dialogue.txt"
FAST_CONFIG = """
[check]
retries = 1
backoff_initial = 0.05
backoff_max = 0.2
timeout = 2.0
canary_urls = ["https://www.wikipedia.org/"]
canary_timeout = 2.0

[archive]
enabled = false
"""
TLS_NAMES = ("www.wikipedia.org", "www.kantei.go.jp", "centrasia.org", "www.mofa.go.jp", "www.brookings.edu",
             "www.osce.org", "globalaffairs.ru", "prudentsolutions-analitika.org")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "crawler.toml"
    path.write_text(FAST_CONFIG, encoding="utf-8")
    return path


def audit(*args: str, config: Path, out: Path) -> tuple[int, dict]:
    code = main(["audit", *args, "--config", str(config), "--format", "json", "--output", str(out), "--quiet"])
    return code, json.loads(out.read_text(encoding="utf-8"))


# --- stand-ins for the sites the dialogue list cites

def _stand_ins(fake: FakeWeb) -> None:
    fake.route("www.wikipedia.org", "/", page("Wikipedia"))
    # kantei.go.jp moved to HTTPS and dropped the old speech; the Koizumi one survived.
    fake.route("www.kantei.go.jp", "/foreign/0731douyukai.html", redirect("https://www.kantei.go.jp/", 301))
    fake.route("www.kantei.go.jp", "/", page("Prime Minister's Office of Japan"))
    koizumi = "/foreign/koizumispeech/2002/04/12/boao_s_e.html"

    async def kantei_https(request: web.Request) -> web.StreamResponse:
        if not request.secure:
            return web.Response(status=301, headers={"Location": f"https://www.kantei.go.jp{request.path}"})
        if request.path == koizumi:
            return web.Response(text=html("Speech by Prime Minister Junichiro Koizumi"), content_type="text/html")
        return web.Response(status=404, text="Not Found")
    fake.fallback("www.kantei.go.jp", kantei_https)
    # centrasia.org answers any st= with a page; the real one has real text.
    fake.route("centrasia.org", "/cnt2.php?st=1083320274", page("CACO Central Asia Cooperation Organisation"))
    fake.fallback("centrasia.org", page("ЦентрАзия: материал не найден", words=5))

    # mofa.go.jp: http → https for everything; one speech gone, one page moved.
    async def mofa(request: web.Request) -> web.StreamResponse:
        path = request.path
        if not request.secure:
            return web.Response(status=301, headers={"Location": f"https://www.mofa.go.jp{path}"})
        if path == "/region/europe/speech0606.html":
            return web.Response(text=html("Speech by Mr. Taro Aso"), content_type="text/html")
        if path == "/erp/ca_c/page1e_000160.html":
            return web.Response(text=html("Sixth Foreign Ministers Meeting"), content_type="text/html")
        if path == "/files/000494314.pdf":
            return web.Response(body=b"%PDF-1.7", content_type="application/pdf")
        if path == "/mofaj/erp/ca_c/kz/page1_000148.html":
            return web.Response(status=301, headers={"Location": "/mofaj/area/kazakhstan/page1_000148.html"})
        if path == "/mofaj/area/kazakhstan/page1_000148.html":
            return web.Response(text=html("Abe speech Kazakhstan"), content_type="text/html")
        return web.Response(status=404, text="<title>404 Not Found</title>", content_type="text/html")
    fake.fallback("www.mofa.go.jp", mofa)
    # brookings.edu: Cloudflare challenges the article; the PDF is rate limited once.
    fake.route("www.brookings.edu", "/articles/the-shanghai-cooperation-organization-and-japan-moving-together-"
               "to-reshape-the-eurasian-community/", status(403, {"cf-mitigated": "challenge",
                                                                   "Content-Type": "text/html"},
                                                            "<title>Just a moment...</title>"))
    answers = iter([429, 200, 200, 200])

    async def brookings_pdf(request: web.Request) -> web.Response:
        if next(answers) == 429:
            return web.Response(status=429, headers={"Retry-After": "1"})
        return web.Response(body=b"%PDF-1.5", content_type="application/pdf")
    fake.route("www.brookings.edu", "/wp-content/uploads/2020/06/FP_20200615_china_central_asia_thornton.pdf",
               brookings_pdf)
    # ng.ru lost the 2006 article.
    fake.route("www.ng.ru", "/courier/2006-01-16/9_china.html", status(404))

    # osce.org refuses HEAD.
    async def osce(request: web.Request) -> web.Response:
        if request.method == "HEAD":
            return web.Response(status=405)
        return web.Response(body=b"%PDF-1.4", content_type="application/pdf")
    fake.route("www.osce.org", "/files/f/documents/1/9/22976.pdf", osce)

    # globalaffairs.ru refuses library user agents.
    async def globalaffairs(request: web.Request) -> web.Response:
        if "python" in request.headers.get("User-Agent", "").lower():
            return web.Response(status=403)
        return web.Response(text=html("Strategic dilemma of Central Asia"), content_type="text/html")
    fake.route("globalaffairs.ru", "/articles/strategicheskaya-dilemma-czentralnoj-azii/", globalaffairs)
    # prudentsolutions answers every missing page with the same 200 page: a soft 404.
    fake.fallback("prudentsolutions-analitika.org", page("Prudent Solutions: nothing found, try the search"))
    fake.route("prudentsolutions-analitika.org", "/", page("Prudent Solutions: analytics of Central Asia"))

    # hokudai.ac.jp hangs.
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(status=200)
    fake.fallback("src-h.slav.hokudai.ac.jp", hang)


EXPECTED = {
    "http://www.kantei.go.jp/foreign/0731douyukai.html": ("dead", "redirect_to_root"),
    "http://www.kantei.go.jp/foreign/koizumispeech/2002/04/12/boao_s_e.html": ("alive", "ok"),
    "https://centrasia.org/cnt2.php?st=1083320274": ("alive", "ok"),
    "http://www.mofa.go.jp/region/europe/speech0606.html": ("alive", "ok"),
    "https://www.mofa.go.jp/erp/ca_c/page1e_000160.html": ("alive", "ok"),
    "https://www.mofa.go.jp/files/000494314.pdf": ("alive", "ok"),
    "https://www.brookings.edu/articles/the-shanghai-cooperation-organization-and-japan-moving-together-to-"
    "reshape-the-eurasian-community/": ("blocked", "bot_challenge"),
    "http://www.ng.ru/courier/2006-01-16/9_china.html": ("dead", "http_404"),
    "http://www.mofa.go.jp/region/europe/uzbekistan/speech0408.html": ("dead", "http_404"),
    "http://www.mofa.go.jp/mofaj/erp/ca_c/kz/page1_000148.html": ("moved", "moved_permanently"),
    "https://www.osce.org/files/f/documents/1/9/22976.pdf": ("alive", "ok"),
    "https://www.brookings.edu/wp-content/uploads/2020/06/FP_20200615_china_central_asia_thornton.pdf":
        ("alive", "ok"),
    "https://globalaffairs.ru/articles/strategicheskaya-dilemma-czentralnoj-azii/": ("alive", "ok"),
    "https://prudentsolutions-analitika.org/2017/04/30/%D1%80%D0%BE%D0%BB%D1%8C-%D1%8F%D0%BF%D0%BE%D0%BD%D0%B8"
    "%D0%B8-%D0%B2-%D1%86%D0%B5%D0%BD%D1%82%D1%80%D0%B0%D0%BB%D1%8C%D0%BD%D0%BE%D0%B9-%D0%B0%D0%B7%D0%B8%D0%B8-"
    "%D0%B2%D0%BE%D0%B7%D0%BC%D0%BE%D0%B6/": ("dead", "soft_404"),
    "http://src-h.slav.hokudai.ac.jp/coe21/publish/no16_1_ses/04_yuasa.pdf": ("unreachable", "timeout"),
}


@pytest.fixture(scope="module")
def dialogue_audit(tmp_path_factory) -> tuple[int, dict]:
    tmp = tmp_path_factory.mktemp("audit")
    config = tmp / "crawler.toml"
    config.write_text(FAST_CONFIG, encoding="utf-8")
    with FakeWeb(tls_names=TLS_NAMES, tmp=tmp) as fake:
        _stand_ins(fake)
        rules = [arg for rule in fake.connect_to() for arg in ("--connect-to", rule)]
        return audit(str(DIALOGUE), *rules, "--ca-bundle", fake.ca_file, config=config, out=tmp / "report.json")


def test_audit_of_the_dialogue_list_checks_all_fifteen_links(dialogue_audit):
    _, report = dialogue_audit
    assert report["network"] == "up"
    assert [link["url"] for link in report["links"]] == list(EXPECTED)


@pytest.mark.parametrize("url", list(EXPECTED), ids=lambda u: u.split("/")[2] + "…" + u[-25:])
def test_each_stand_in_gets_its_verdict(dialogue_audit, url):
    _, report = dialogue_audit
    link = next(link for link in report["links"] if link["url"] == url)
    assert (link["verdict"], link["reason"]) == EXPECTED[url], link["detail"]


def test_moved_link_reports_where_it_went(dialogue_audit):
    _, report = dialogue_audit
    link = next(link for link in report["links"] if "page1_000148" in link["url"])
    assert link["final_url"] == "https://www.mofa.go.jp/mofaj/area/kazakhstan/page1_000148.html"
    assert [r["status"] for r in link["redirects"]] == [301, 301]


def test_dead_links_exit_one_and_are_counted(dialogue_audit):
    code, report = dialogue_audit
    assert code == 1
    verdicts = report["summary"]["verdicts"]
    assert (verdicts["dead"], verdicts["alive"], verdicts["moved"]) == (4, 8, 1)
    assert (verdicts["blocked"], verdicts["unreachable"]) == (1, 1)


# --- the network being down

def test_fully_offline_audit_exits_three_and_calls_nothing_dead(tmp_path, config):
    # Every connection, the canary's included, goes to a port nobody listens on.
    unreachable = f"::127.0.0.1:{free_port()}"
    code, report = audit(str(SEEDS), "--connect-to", unreachable, config=config, out=tmp_path / "r.json")
    assert code == 3
    assert report["network"] == "down"
    assert {link["verdict"] for link in report["links"]} == {None}
    assert report["summary"]["verdicts"]["dead"] == 0


def test_offline_markdown_report_says_the_network_was_down(tmp_path, config):
    out = tmp_path / "r.md"
    code = main(["audit", str(DIALOGUE), "--connect-to", f"::127.0.0.1:{free_port()}", "--config", str(config),
                 "--output", str(out), "--quiet"])
    assert code == 3
    assert "The network was down" in out.read_text(encoding="utf-8")


# --- options and usage

def test_all_alive_exits_zero(tmp_path, config):
    refs = tmp_path / "refs.txt"
    refs.write_text("Aso, T. Speech. https://www.mofa.go.jp/region/europe/speech0606.html (accessed 3.3.2021)\n",
                    encoding="utf-8")
    with FakeWeb(tls_names=TLS_NAMES, tmp=tmp_path) as fake:
        _stand_ins(fake)
        rules = [arg for rule in fake.connect_to() for arg in ("--connect-to", rule)]
        code, report = audit(str(refs), *rules, "--ca-bundle", fake.ca_file, config=config, out=tmp_path / "r.json")
    assert code == 0
    assert report["links"][0]["verdict"] == "alive"


def test_bad_connect_to_is_a_usage_error(config, capsys):
    assert main(["audit", str(DIALOGUE), "--connect-to", "nonsense", "--config", str(config)]) == 2
    assert "--connect-to" in capsys.readouterr().err


def test_bad_accept_is_a_usage_error(config, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", str(DIALOGUE), "--accept", "abc", "--config", str(config)])
    assert exit_info.value.code == 2


def test_missing_ca_bundle_is_a_usage_error(config, capsys):
    assert main(["audit", str(DIALOGUE), "--ca-bundle", "/no/such.pem", "--config", str(config)]) == 2


def test_markdown_audit_report_lists_what_needs_attention(tmp_path, config):
    refs = tmp_path / "refs.txt"
    refs.write_text("Malashenko, A. http://www.ng.ru/courier/2006-01-16/9_china.html (accessed 10.06.2023)\n",
                    encoding="utf-8")
    out = tmp_path / "r.md"
    with FakeWeb(tls_names=TLS_NAMES, tmp=tmp_path) as fake:
        _stand_ins(fake)
        rules = [arg for rule in fake.connect_to() for arg in ("--connect-to", rule)]
        code = main(["audit", str(refs), *rules, "--ca-bundle", fake.ca_file, "--config", str(config),
                     "--output", str(out), "--quiet"])
    text = out.read_text(encoding="utf-8")
    assert code == 1
    assert "## Needs attention" in text
    assert "### Dead, with no archived copy (lost)" in text
    assert "not found (404)" in text


def test_stdin_is_audited_too(tmp_path, config):
    import subprocess
    import sys

    refs = "Aso, T. Speech. http://www.mofa.go.jp/region/europe/speech0606.html (accessed 3.3.2021)\n"
    with FakeWeb(tls_names=TLS_NAMES, tmp=tmp_path) as fake:
        _stand_ins(fake)
        rules = [arg for rule in fake.connect_to() for arg in ("--connect-to", rule)]
        result = subprocess.run([sys.executable, "-m", "crawler", "audit", "-", *rules, "--ca-bundle", fake.ca_file,
                                 "--config", str(config), "--format", "json", "--quiet"],
                                input=refs.encode(), capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout)
    assert report["references"][0]["source"] == "<stdin>"
    assert report["links"][0]["verdict"] == "alive"


def test_missing_input_is_reported_without_touching_the_network(tmp_path, config, capsys):
    code = main(["audit", str(tmp_path / "nope.txt"), "--config", str(config), "--connect-to",
                 f"::127.0.0.1:{free_port()}"])
    assert code == 2
    assert "nope.txt: no such file or directory" in capsys.readouterr().err


def test_only_excluded_links_need_no_network_but_verify_nothing(tmp_path, config):
    refs = tmp_path / "refs.txt"
    refs.write_text("Aso, T. http://www.mofa.go.jp/a.html\n", encoding="utf-8")
    code, report = audit(str(refs), "--exclude", "mofa", config=config, out=tmp_path / "r.json")
    assert code == 3  # a run that verified nothing does not say "all is well"
    assert report["network"] is None
    assert report["links"][0]["verdict"] == "skipped"

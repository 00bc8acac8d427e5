"""The two real reference lists, end to end through `crawler extract --format json`."""

from __future__ import annotations

import json

import pytest

from conftest import SEEDS
from crawler.cli import main
from reports import cited_in, problems

DIALOGUE = str(SEEDS / "central-asia-plus-japan-dialogue.txt")
STRATEGIES = str(SEEDS / "china-japan-strategies-central-asia-2012-2016.txt")

# (url, line of the citing reference, access date)
EXPECTED_LINKS = [
    ("http://www.kantei.go.jp/foreign/0731douyukai.html", 9, "2020-07-20"),
    ("http://www.kantei.go.jp/foreign/koizumispeech/2002/04/12/boao_s_e.html", 10, "2010-10-11"),
    ("https://centrasia.org/cnt2.php?st=1083320274", 11, "2023-06-10"),
    ("http://www.mofa.go.jp/region/europe/speech0606.html", 12, None),  # "20.0.2020"
    ("https://www.mofa.go.jp/erp/ca_c/page1e_000160.html", 14, "2023-08-01"),
    ("https://www.mofa.go.jp/files/000494314.pdf", 15, "2023-06-10"),
    ("https://www.brookings.edu/articles/the-shanghai-cooperation-organization-and-japan-moving-"
     "together-to-reshape-the-eurasian-community/", 20, "2020-05-10"),
    ("http://www.ng.ru/courier/2006-01-16/9_china.html", 22, "2023-06-10"),  # "assessed"
    ("http://www.mofa.go.jp/region/europe/uzbekistan/speech0408.html", 25, "2020-07-20"),  # дата обращения
    ("http://www.mofa.go.jp/mofaj/erp/ca_c/kz/page1_000148.html", 27, None),  # no date given
    ("https://www.osce.org/files/f/documents/1/9/22976.pdf", 30, "2020-06-10"),
    ("https://www.brookings.edu/wp-content/uploads/2020/06/FP_20200615_china_central_asia_thornton.pdf",
     31, "2023-06-10"),
    ("https://globalaffairs.ru/articles/strategicheskaya-dilemma-czentralnoj-azii/", 32, "2023-06-10"),
    ("https://prudentsolutions-analitika.org/2017/04/30/%D1%80%D0%BE%D0%BB%D1%8C-%D1%8F%D0%BF%D0%BE%D0%BD"
     "%D0%B8%D0%B8-%D0%B2-%D1%86%D0%B5%D0%BD%D1%82%D1%80%D0%B0%D0%BB%D1%8C%D0%BD%D0%BE%D0%B9-%D0%B0%D0%B7"
     "%D0%B8%D0%B8-%D0%B2%D0%BE%D0%B7%D0%BC%D0%BE%D0%B6/", 33, "2020-07-15"),
    ("http://src-h.slav.hokudai.ac.jp/coe21/publish/no16_1_ses/04_yuasa.pdf", 35, "2020-07-10"),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report") / "report.json"
    code = main(["extract", DIALOGUE, STRATEGIES, "--format", "json", "--output", str(out), "--quiet"])
    assert code == 1  # problems were found
    return json.loads(out.read_text(encoding="utf-8"))


def test_report_declares_its_schema(report):
    assert report["schema"] == "crawler.report/2"
    assert report["network"] is None


def test_exactly_the_fifteen_cited_urls_in_citation_order(report):
    assert [link["url"] for link in report["links"]] == [url for url, _, _ in EXPECTED_LINKS]


@pytest.mark.parametrize(("url", "line", "accessed"), EXPECTED_LINKS, ids=lambda v: str(v)[:40])
def test_each_link_has_its_reference_line_and_access_date(report, url, line, accessed):
    link = next(link for link in report["links"] if link["url"] == url)
    [reference] = cited_in(report, link)
    assert reference["source"] == DIALOGUE
    assert reference["line"] == line
    assert reference["accessed"] == accessed
    assert link["verdict"] is None


def test_thirteen_links_carry_a_valid_access_date(report):
    dated = [link for link in report["links"] if link["citations"][0]["accessed"]]
    assert len(dated) == 13


def test_schemeless_urls_keep_their_written_form(report):
    link = report["links"][0]
    assert link["cited_as"] == "www.kantei.go.jp/foreign/0731douyukai.html"


def test_cyrillic_path_is_shown_as_written(report):
    link = next(link for link in report["links"] if "prudentsolutions" in link["url"])
    assert link["cited_as"].endswith("/роль-японии-в-центральной-азии-возмож/")


def test_host_less_fragment_is_truncated_with_the_pdf_space_joined(report):
    [truncated] = [p for p in problems(report) if p["kind"] == "truncated_url"]
    assert truncated["source"] == STRATEGIES
    assert truncated["line"] == 14
    assert "php?option=com_content&view=category&layout=blog&id=31&Itemid=29&lang=en" in truncated["detail"]


def test_six_references_announce_a_url_they_do_not_give(report):
    missing = [p for p in problems(report) if p["kind"] == "missing_url"]
    assert [(p["source"], p["line"]) for p in missing] == [(STRATEGIES, n) for n in (32, 49, 50, 51, 52, 53)]


def test_impossible_date_is_flagged_not_guessed(report):
    [bad] = [p for p in problems(report) if p["kind"] == "bad_access_date"]
    assert (bad["source"], bad["line"]) == (DIALOGUE, 12)
    assert "20.0.2020" in bad["detail"]


def test_no_other_problems(report):
    assert len(report["problems"]) == 8
    assert (report["summary"]["references"], report["summary"]["links"]) == (22, 15)
    assert report["summary"]["problems"] == {"total": 8, "truncated_url": 1, "missing_url": 6, "bad_access_date": 1,
                                             "malformed_url": 0}

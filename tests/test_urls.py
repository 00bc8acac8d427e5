"""The URL-extraction cases that break naive extractors, one row each."""

from __future__ import annotations

import pytest

from crawler.extract.references import read_entry
from crawler.extract.split import Entry
from crawler.extract.urls import Kind, canonical_url, clean_text, find_urls, normalise
from conftest import TODAY


def urls(text: str) -> list[str]:
    read = read_entry(Entry("t.txt", 1, text), today=TODAY)
    return [c.url for c in read.citations]


def problems(text: str) -> list[str]:
    return [p.kind.value for p in read_entry(Entry("t.txt", 1, text), today=TODAY).problems]


@pytest.mark.parametrize(("text", "expected"), [
    # schemeless www. URLs get http://, which every site answers
    ("cabinet - www.kantei.go.jp/foreign/0731douyukai.html (accessed: 20.07.2020)",
     ["http://www.kantei.go.jp/foreign/0731douyukai.html"]),
    # a schemeless host without www. only with a path, and only in lower case
    ("see centrasia.org/cnt2.php?st=1083320274.", ["http://centrasia.org/cnt2.php?st=1083320274"]),
    ("Vol.II/III and U.S./Japan relations, e.g. pp.12/15", []),
    # a line break inside a URL, after "/" and inside a path segment
    ("https://www.mofa.go.jp/policy/other/bluebook/2007/html/chapter2/\ncentralasia.html (accessed 1.2.2020)",
     ["https://www.mofa.go.jp/policy/other/bluebook/2007/html/chapter2/centralasia.html"]),
    ("https://www.mofa.go.jp/region/eu\nrope/speech0606.html", ["https://www.mofa.go.jp/region/europe/speech0606.html"]),
    # a line break right after the scheme
    ("Available at: https://\nwww.osce.org/odihr", ["https://www.osce.org/odihr"]),
    # but a URL that ends at a line end is not glued to the next line's words
    ("https://www.osce.org/odihr\nAccessed 3 March 2021.", ["https://www.osce.org/odihr"]),
    ("https://www.osce.org/odihr/\nand the report", ["https://www.osce.org/odihr/"]),
    # a space inserted by PDF copy, joined when only a URL can continue that way
    ("http://www.sectsco.org/index.php?option=com_content&id=31&Ite mid=29&lang=en, 5 February 2016",
     ["http://www.sectsco.org/index.php?option=com_content&id=31&Itemid=29&lang=en"]),
    ("http://www.ng.ru/courier/2006-01-16/9_china.html and other sources",
     ["http://www.ng.ru/courier/2006-01-16/9_china.html"]),
    # soft hyphen and zero-width space inside a URL
    ("https://www.brook\u00adings.edu/re\u200bsearch/", ["https://www.brookings.edu/research/"]),
    # trailing punctuation, quotes and brackets are not part of the URL
    ("(http://www.mofa.go.jp/region/europe/speech0606.html).", ["http://www.mofa.go.jp/region/europe/speech0606.html"]),
    ("“https://www.mofa.go.jp/erp/ca_c/page1e_000160.html”,", ["https://www.mofa.go.jp/erp/ca_c/page1e_000160.html"]),
    ("[https://www.osce.org/files/f/documents/1/9/22976.pdf];", ["https://www.osce.org/files/f/documents/1/9/22976.pdf"]),
    # balanced parentheses that belong to the URL are kept
    ("https://en.wikipedia.org/wiki/Central_Asia_(region).", ["https://en.wikipedia.org/wiki/Central_Asia_(region)"]),
    ("(see https://en.wikipedia.org/wiki/Central_Asia_(region))", ["https://en.wikipedia.org/wiki/Central_Asia_(region)"]),
    # a bracket the URL never closes is where the copy lost a space
    ("http://www.mofa.go.jp/region/europe/speech0606.html(accessed 3 March 2021)",
     ["http://www.mofa.go.jp/region/europe/speech0606.html"]),
    # labels and angle brackets
    ("<https://www.un.org/en/>", ["https://www.un.org/en/"]),
    ("URL: http://www.kremlin.ru/events/president/news/19190", ["http://www.kremlin.ru/events/president/news/19190"]),
    ("Available at:https://www.gov.uk/government/news", ["https://www.gov.uk/government/news"]),
    ("(in Russ.)-http://www.ng.ru/courier/", ["http://www.ng.ru/courier/"]),
    # Unicode paths are percent-encoded exactly once
    ("https://ru.wikipedia.org/wiki/Центральная_Азия",
     ["https://ru.wikipedia.org/wiki/%D0%A6%D0%B5%D0%BD%D1%82%D1%80%D0%B0%D0%BB%D1%8C%D0%BD%D0%B0%D1%8F_"
      "%D0%90%D0%B7%D0%B8%D1%8F"]),
    ("https://ru.wikipedia.org/wiki/%D0%90%D0%B7%D0%B8%D1%8F", ["https://ru.wikipedia.org/wiki/%D0%90%D0%B7%D0%B8%D1%8F"]),
    ("https://example.org/100%_sure", ["https://example.org/100%25_sure"]),
    # Unicode hosts are IDNA-encoded for the request
    ("http://президент.рф/news/19190", ["http://xn--d1abbgf6aiiy.xn--p1ai/news/19190"]),
    ("http://Президент.РФ/news/19190", ["http://xn--d1abbgf6aiiy.xn--p1ai/news/19190"]),
    # DOIs in every spelling resolve through doi.org
    ("doi:10.1080/09512748.2013.870223.", ["https://doi.org/10.1080/09512748.2013.870223"]),
    ("DOI: 10.1080/09512748.2013.870223", ["https://doi.org/10.1080/09512748.2013.870223"]),
    ("http://dx.doi.org/10.1080/09512748.2013.870223", ["https://doi.org/10.1080/09512748.2013.870223"]),
    ("https://doi.org/10.1016/S0140-6736(20)30183-5.", ["https://doi.org/10.1016/S0140-6736(20)30183-5"]),
    # links into the Wayback Machine are the original URL (with a known snapshot)
    ("https://web.archive.org/web/20150301000000/http://www.mofa.go.jp/region/europe/speech0606.html",
     ["http://www.mofa.go.jp/region/europe/speech0606.html"]),
    # case, default ports, empty paths and fragments
    ("HTTP://WWW.UN.ORG:80#top", ["http://www.un.org/"]),
    ("https://www.un.org:8443/en/", ["https://www.un.org:8443/en/"]),
    # e-mail addresses are not URLs
    ("write to info@mofa.go.jp/press or editor@www.example.org", []),
    # the same URL twice in one reference is one citation
    ("http://www.un.org/en/ (mirror: http://www.un.org/en/)", ["http://www.un.org/en/"]),
], ids=lambda v: v[:50] if isinstance(v, str) else None)
def test_url_found_and_normalised(text, expected):
    assert urls(text) == expected


def test_a_stray_percent_in_a_servers_location_is_kept_as_browsers_keep_it():
    # In cited text "100%_sure" means a percent sign ("%25"); in a Location the
    # server wrote, "%zz" is its own URL and stays as written.
    assert canonical_url("https://example.org/100%_sure") == "https://example.org/100%25_sure"
    assert canonical_url("https://example.org/100%_sure?q=5%", location=True) == "https://example.org/100%_sure?q=5%"
    assert canonical_url("https://example.org/été%zz", location=True) == "https://example.org/%C3%A9t%C3%A9%zz"


def test_encoded_dots_in_a_path_are_dot_segments_as_browsers_read_them():
    assert canonical_url("https://example.org/a/%2e%2e/b", location=True) == "https://example.org/b"
    assert canonical_url("https://example.org/a/.%2E/b/%2e/c") == "https://example.org/b/c"
    assert canonical_url("https://example.org/a/%2e%2ex/b") == "https://example.org/a/%2e%2ex/b"  # no dot segment


def test_wayback_link_carries_its_snapshot():
    read = read_entry(Entry("t.txt", 1, "https://web.archive.org/web/20150301000000/"
                                        "http://www.mofa.go.jp/region/europe/speech0606.html"))
    [citation] = read.citations
    assert citation.known_snapshot is not None
    assert citation.known_snapshot.timestamp == "20150301000000"
    assert citation.known_snapshot.url.startswith("https://web.archive.org/web/20150301000000/")


def test_hyphen_at_a_line_break_is_kept_and_the_other_reading_offered():
    read = read_entry(Entry("t.txt", 1, "https://www.osce.org/files/annual-\nreport.pdf"))
    [citation] = read.citations
    assert citation.url == "https://www.osce.org/files/annual-report.pdf"
    assert citation.alternatives == ("https://www.osce.org/files/annualreport.pdf",)


def test_guessed_join_across_a_line_break_offers_the_unjoined_url():
    read = read_entry(Entry("t.txt", 1, "https://carnegieendowment.org/2015/10/27/japan-s-central-asia-to\n"
                                        "ur-pub-61767 (Accessed: February 2016)."))
    [citation] = read.citations
    assert citation.url.endswith("/japan-s-central-asia-tour-pub-61767")
    assert citation.alternatives == ("https://carnegieendowment.org/2015/10/27/japan-s-central-asia-to",)


@pytest.mark.parametrize(("text", "kind"), [
    ("Available at: php?option=com_content&view=category&id=31&Itemid=29&lang=en", "truncated_url"),
    ("Available at: /foreign/0731douyukai.html", "truncated_url"),
    ("https://www.brookings.edu/research/the-shanghai-coop...", "truncated_url"),
    ("https://www.brookings.edu/research/the-shanghai-coop…", "truncated_url"),
    ("https://www.mofa.go.jp/policy/.../chapter2/centralasia.html", "truncated_url"),
    ("cut at the line end: http://www", "truncated_url"),
    ("Iokibe, M. Fifty Years of Japanese Diplomacy, Available at:", "missing_url"),
    ("- , Accessed on: 12 February 2016.", "missing_url"),
    ("Retrieved from", "missing_url"),
    ("Режим доступа: свободный", "missing_url"),
    ("http://www.mofa.go.jp/region/europe/speech0606.html (accessed: 20.0.2020)", "bad_access_date"),
    ("http://exa$mple.org/page", "malformed_url"),
], ids=lambda v: v[:50])
def test_reference_problem(text, kind):
    assert problems(text) == [kind]


def test_truncated_url_is_not_a_link():
    assert urls("https://www.brookings.edu/research/the-shanghai-coop...") == []


def test_fragment_with_no_host_is_not_a_link():
    assert urls("Available at: php?option=com_content&id=31&lang=en") == []


def test_plain_prose_has_no_urls_and_no_problems():
    text = ("Dadabaev, T. (2014b), “Chinese and Japanese Foreign Policies towards Central Asia from a "
            "Comparative Perspective,” Pacific Review, 27(1). pp.298-321, and/or km/h, report.pdf")
    assert urls(text) == []
    assert problems(text) == []


def test_invisible_characters_are_removed_and_no_break_spaces_become_spaces():
    assert clean_text("a\u00adb\u200bc\u00a0d") == "abc d"


def test_fragment_kind_never_normalises():
    with pytest.raises(ValueError):
        normalise("php?option=x", Kind.FRAGMENT)


def test_found_spans_point_into_the_text():
    text = "see https://www.un.org/en/ now"
    [found] = find_urls(text)
    assert text[found.start:found.end] == "https://www.un.org/en/"


@pytest.mark.parametrize(("text", "expected"), [
    ("(https://data.worldbank.org/indicator/NY.GDP.MKTP.CD?\nlocations=KZ-UZ-KG).",
     "https://data.worldbank.org/indicator/NY.GDP.MKTP.CD?locations=KZ-UZ-KG"),
    ("https://doi.org/10.1353/asp.2017\n.0028", "https://doi.org/10.1353/asp.2017.0028"),
    ("Central Asian Survey, 38(4), 512–530. doi: 10.1080/\n02634937.2019.1652568",
     "https://doi.org/10.1080/02634937.2019.1652568"),
], ids=["query after ?", "line starting with a dot", "doi at a line end"])
def test_more_pdf_line_breaks(text, expected):
    assert urls(text) == [expected]


def test_a_thousand_and_two_item_list_gives_each_reference_its_own_url(tmp_path):
    from crawler.extract import extract_all

    path = tmp_path / "long.txt"
    path.write_text("".join(f"{n}. Author{n}, A. Title. https://www.example.org/ref/{n}\n" for n in range(1, 1003)),
                    encoding="utf-8")
    links = extract_all([str(path)]).links
    assert len(links) == 1002
    assert [(link.url, link.citations[0].reference.number) for link in links[-2:]] == [
        ("https://www.example.org/ref/1001", 1001), ("https://www.example.org/ref/1002", 1002)]


@pytest.mark.parametrize(("text", "prefix"), [
    ("https://example.org/long-art...", "https://example.org/long-art"),
    ("https://www.brookings.edu/research/the-shanghai-coop…", "https://www.brookings.edu/research/the-shanghai-coop"),
    ("www.mofa.go.jp/policy/.../chapter2/centralasia.html", "http://www.mofa.go.jp/policy/"),
    ("https://www.brook…", None),  # cut inside the host: nothing to search by
    ("Available at: php?option=com_content&id=31...", None),  # no host at all
], ids=lambda v: str(v)[:40])
def test_truncated_url_gives_the_known_prefix(text, prefix):
    [problem] = read_entry(Entry("t.txt", 1, text), today=TODAY).problems
    assert problem.kind.value == "truncated_url"
    assert problem.url == prefix


def test_a_guessed_join_is_uncertain_and_a_sure_one_is_not():
    [guess] = read_entry(Entry("t.txt", 1, "https://www.osce.org/files/annual-\nreport.pdf")).citations
    [sure] = read_entry(Entry("t.txt", 1, "https://www.mofa.go.jp/region/eu\nrope/speech0606.html")).citations
    [plain] = read_entry(Entry("t.txt", 1, "https://www.mofa.go.jp/region/europe/speech0606.html")).citations
    assert (guess.uncertain, sure.uncertain, plain.uncertain) == (True, False, False)


def test_link_takes_the_uncertain_flag_of_its_citation():
    from crawler.model import Link

    [citation] = read_entry(Entry("t.txt", 1, "https://www.osce.org/files/annual-\nreport.pdf")).citations
    assert Link.from_citation(citation).uncertain

"""The misreads that become false "dead" links (issue 9), one table per class.

Each row is invented, after a class seen in real reference lists. A row says
what must be checked first (the URL), which other readings must be offered
(a subset of the alternatives, in order), and whether the reading rests on a
guess (uncertain: if every reading fails, that is no evidence).
"""

from __future__ import annotations

import pytest

from conftest import TODAY
from crawler.extract.references import read_entry
from crawler.extract.split import Entry


def read(text: str):
    return read_entry(Entry("t.txt", 1, text), today=TODAY)


def one(text: str):
    result = read(text)
    assert len(result.citations) == 1, [c.url for c in result.citations]
    return result.citations[0]


def check(text: str, url: str, alternatives: tuple[str, ...], uncertain: bool) -> None:
    citation = one(text)
    assert citation.url == url
    offered = [a for a in citation.alternatives if a in alternatives]
    assert offered == list(alternatives), citation.alternatives
    assert citation.uncertain is uncertain


def ids(value):
    return value[:45] if isinstance(value, str) else None


# --- 1. DOIs broken by spaces ------------------------------------------------

@pytest.mark.parametrize(("text", "url", "alternatives", "uncertain"), [
    # the examples of the issue
    ("http://dx.doi.org/10.1016/S0301- 4215(03)00123-4", "https://doi.org/10.1016/S0301-4215(03)00123-4", (), False),
    ("https://doi.org/10.1080/j. envsci.2011.04.007", "https://doi.org/10.1080/j.envsci.2011.04.007",
     ("https://doi.org/10.1080/j",), True),
    ("http://dx.doi.org/ 10.1061/(ASCE)0733-9445(1999)125: 3(212).",
     "https://doi.org/10.1061/(ASCE)0733-9445(1999)125:3(212)", (), False),
    ("doi:10.2305/IUCN.UK.2015 2.RLTS.T22689999A93869999.en",
     "https://doi.org/10.2305/IUCN.UK.20152.RLTS.T22689999A93869999.en",
     ("https://doi.org/10.2305/IUCN.UK.2015-2.RLTS.T22689999A93869999.en",), True),
    # more of the same
    ("Energy Policy 31, 1–12. doi:10.1016/S0140- 6736(20)30183-5", "https://doi.org/10.1016/S0140-6736(20)30183-5",
     (), False),
    ("Central Asian Survey. doi: 10.1080/ 02634937.2019.1652568. Accessed 3 March 2021.",
     "https://doi.org/10.1080/02634937.2019.1652568", (), False),
    ("https://doi.org/ 10.1177/0010836718808331", "https://doi.org/10.1177/0010836718808331", (), False),
    ("DOI: 10.1111/j. 1468-2478.2011.00123.x", "https://doi.org/10.1111/j.1468-2478.2011.00123.x",
     ("https://doi.org/10.1111/j",), True),
    ("https://doi.org/10.1002/(SICI)1097-4571(199806)49: 8.693::AID-ASI4.3.0.CO;2-0",
     "https://doi.org/10.1002/(SICI)1097-4571(199806)49:8.693::AID-ASI4.3.0.CO;2-0", (), False),
], ids=ids)
def test_doi_broken_by_a_space(text, url, alternatives, uncertain):
    check(text, url, alternatives, uncertain)


@pytest.mark.parametrize("text", [
    "http://dx.doi.org/ 10.1061/(ASCE)0733-9445(1999)125: 3(212).",
    "Available at: https://doi.org/",
    "doi:10.1016/ and the rest of the sentence",
    "DOI: 10.1080/ (forthcoming)",
], ids=ids)
def test_never_an_empty_or_prefix_only_doi(text):
    for citation in read(text).citations:
        suffix = citation.url.removeprefix("https://doi.org/")
        assert suffix != citation.url or "doi.org" not in citation.url
        assert "/" in suffix and suffix.split("/", 1)[1], citation.url


@pytest.mark.parametrize(("text", "url"), [
    ("doi:10.1000/182. Retrieved 3 March 2021.", "https://doi.org/10.1000/182"),
    ("doi:10.1000/182. 2019.", "https://doi.org/10.1000/182"),
    ("doi:10.1000/182 and other works", "https://doi.org/10.1000/182"),
], ids=ids)
def test_doi_followed_by_prose_is_not_joined(text, url):
    assert one(text).url == url


def test_doi_cut_at_a_hyphen_is_uncertain():
    citation = one("Smith, J. Energy Policy. doi:10.1016/S0301- (in press)")
    assert citation.url == "https://doi.org/10.1016/S0301-"
    assert citation.uncertain


# --- 2. A break inside a host name -------------------------------------------

@pytest.mark.parametrize(("text", "url", "alternatives", "uncertain"), [
    ("http://www.state- archive.eu/reports/2013/plan.pdf", "http://www.state-archive.eu/reports/2013/plan.pdf",
     ("http://www.statearchive.eu/reports/2013/plan.pdf",), True),
    ("http://www.bookse llers.com/authors/smith.html", "http://www.booksellers.com/authors/smith.html", (), True),
    ("http: //people.example.cn/n/2014/0305/c4915-245365.", "http://people.example.cn/n/2014/0305/c4915-245365",
     (), False),
    ("Ministry report, https://www.minis try-of-energy.gov.kz/en/plan (accessed 3 March 2021)",
     "https://www.ministry-of-energy.gov.kz/en/plan", (), True),
    ("www.nation al-archives.org.uk/docs/1.pdf", "http://www.national-archives.org.uk/docs/1.pdf", (), True),
    ("https: //www.osce.org/odihr/elections", "https://www.osce.org/odihr/elections", (), False),
    ("http:// www.un.org/en/ga/", "http://www.un.org/en/ga/", (), False),
    ("https://www.regional- studies.org/events/2020/", "https://www.regional-studies.org/events/2020/",
     ("https://www.regionalstudies.org/events/2020/",), True),
], ids=ids)
def test_break_inside_a_host(text, url, alternatives, uncertain):
    check(text, url, alternatives, uncertain)


@pytest.mark.parametrize("text", [
    "http://www.bookse and llers",
    "See https://www.kantei.g and the rest",
    "https://intranet.corp/page",
], ids=ids)
def test_a_host_without_a_real_top_level_domain_is_malformed_not_checked(text):
    result = read(text)
    assert result.citations == ()
    assert [p.kind.value for p in result.problems] == ["malformed_url"]


def test_neither_fragment_of_a_broken_host_is_checked():
    urls = [c.url for c in read("http://www.bookse llers.com/authors/smith.html").citations]
    assert not any("bookse/" in u or u.startswith("http://llers.com") for u in urls)


# --- 3. Typographic characters inside URLs --------------------------------------

@pytest.mark.parametrize(("text", "url", "literal"), [
    ("https://www.mzp.cz/cz/planovani\u2011v\u2011oblasti\u2011vod", "https://www.mzp.cz/cz/planovani-v-oblasti-vod",
     "https://www.mzp.cz/cz/planovani%E2%80%91v%E2%80%91oblasti%E2%80%91vod"),
    ("https://www.example.org/annual\u2010report\u20102019.pdf", "https://www.example.org/annual-report-2019.pdf",
     "https://www.example.org/annual%E2%80%90report%E2%80%902019.pdf"),
    ("https://en.wikipedia.org/wiki/Mexican\u2013American_War", "https://en.wikipedia.org/wiki/Mexican-American_War",
     "https://en.wikipedia.org/wiki/Mexican%E2%80%93American_War"),
    ("https://www.example.org/a\u2012b", "https://www.example.org/a-b", "https://www.example.org/a%E2%80%92b"),
    ("https://www.example.org/soft\u00ad\u2010hyphen", "https://www.example.org/soft-hyphen",
     "https://www.example.org/soft%E2%80%90hyphen"),
    ("doi:10.1016/S0140\u20106736(20)30183\u20105", "https://doi.org/10.1016/S0140-6736(20)30183-5",
     "https://doi.org/10.1016/S0140%E2%80%906736(20)30183%E2%80%905"),
    ("www.state\u2010archive.eu/reports/", "http://www.state-archive.eu/reports/", None),
], ids=ids)
def test_typeset_hyphens_are_read_as_ascii_with_the_literal_kept(text, url, literal):
    citation = one(text)
    assert citation.url == url
    if literal is not None:
        assert citation.alternatives[-1] == literal
    assert not citation.uncertain


def test_typeset_hyphen_is_shown_as_written():
    citation = one("https://www.mzp.cz/cz/planovani\u2011v\u2011oblasti\u2011vod")
    assert citation.cited_as == "https://www.mzp.cz/cz/planovani\u2011v\u2011oblasti\u2011vod"


@pytest.mark.parametrize(("text", "url"), [
    (r"https://github.com/org/repo/issues.html?issue=64\&id=6", "https://github.com/org/repo/issues.html?issue=64&id=6"),
    (r"\url{https://www.example.org/my\_file.pdf}", "https://www.example.org/my_file.pdf"),
    (r"https://www.example.org/100\%25/x", "https://www.example.org/100%25/x"),
    (r"https://www.example.org/page\#section2 and more", "https://www.example.org/page"),
    (r"https://www.example.org/\~{}smith/papers", "https://www.example.org/~smith/papers"),
    (r"http://www.example.org/\~smith/index.html", "http://www.example.org/~smith/index.html"),
], ids=ids)
def test_latex_escapes_in_urls(text, url):
    assert one(text).url == url


# --- 4. Boundaries ---------------------------------------------------------------

@pytest.mark.parametrize(("text", "url"), [
    ("Revue, 2007, no 1, p. 61. [online].www.example.fr/revue-2007-1-page-61.htm",
     "http://www.example.fr/revue-2007-1-page-61.htm"),
    ("Rapport annuel (en ligne).www.example.fr/rapport.pdf", "http://www.example.fr/rapport.pdf"),
    ("Informe [en línea].www.example.es/informe-2019.html", "http://www.example.es/informe-2019.html"),
    ("Available at:www.gov.uk/government/news", "http://www.gov.uk/government/news"),
], ids=ids)
def test_url_glued_to_punctuation(text, url):
    assert one(text).url == url


def test_www_inside_a_word_is_not_a_url_start():
    assert [c.url for c in read("mail.www.example.org is a host name").citations] == []


@pytest.mark.parametrize(("text", "url", "alternatives"), [
    ("http://www.example.org/content.cfm/data-use-and -educational-improvement-details",
     "http://www.example.org/content.cfm/data-use-and-educational-improvement-details",
     ("http://www.example.org/content.cfm/data-use-and",)),
    ("https://www.example.org/news/2019/new-plan-for -central-asia.html",
     "https://www.example.org/news/2019/new-plan-for-central-asia.html",
     ("https://www.example.org/news/2019/new-plan-for",)),
    ("https://www.example.org/reports/water-management -in-the-aral-sea-basin/",
     "https://www.example.org/reports/water-management-in-the-aral-sea-basin/",
     ("https://www.example.org/reports/water-management",)),
], ids=ids)
def test_space_before_a_hyphenated_continuation(text, url, alternatives):
    check(text, url, alternatives, True)


def test_a_spaced_dash_after_a_url_is_not_its_continuation():
    assert one("https://www.example.org/news/plan - accessed 3 March 2021").url == "https://www.example.org/news/plan"


@pytest.mark.parametrize(("text", "url", "accessed"), [
    ("Leadership U. Truth Journal. leaderu.com, accessed 23 April 2000.", "http://leaderu.com/", "2000-04-23"),
    ("Smith, J. Home page. Available at: www-personal.example.edu (accessed 3 March 2021)",
     "http://www-personal.example.edu/", "2021-03-03"),
    ("Ministry of Energy. Available at: energo.gov.kz", "http://energo.gov.kz/", None),
    ("The Heritage Foundation, heritage.org (retrieved 5 May 2019)", "http://heritage.org/", "2019-05-05"),
], ids=ids)
def test_host_only_citation_marked_by_an_access_phrase_or_a_label(text, url, accessed):
    citation = one(text)
    assert citation.url == url
    assert (citation.accessed.isoformat() if citation.accessed else None) == accessed


@pytest.mark.parametrize("text", [
    "See leaderu.com for more essays.",
    "Published by example.org in 2019. Accessed 3 March 2021.",
    "Node.js documentation, accessed 3 March 2021.",
    "Medium.com. Retrieved May 5, 2019, from https://medium.com/@ev/renewing",
], ids=ids)
def test_host_alone_is_no_citation_without_the_mark(text):
    assert [c.url for c in read(text).citations if "medium.com/@ev" not in c.url] == []


@pytest.mark.parametrize(("text", "url", "joined"), [
    ("https://www.wola.org/wp-content/uploads/2015/11/WOLA Report_Increased Enforcement_Nov 2015.pdf",
     "https://www.wola.org/wp-content/uploads/2015/11/WOLA",
     "https://www.wola.org/wp-content/uploads/2015/11/WOLA%20Report_Increased%20Enforcement_Nov%202015.pdf"),
    ("https://www.example.org/files/Annual Report 2019.pdf (accessed 3 March 2021)",
     "https://www.example.org/files/Annual",
     "https://www.example.org/files/Annual%20Report%202019.pdf"),
    ("https://www.example.org/docs/Final Draft v2.docx.", "https://www.example.org/docs/Final",
     "https://www.example.org/docs/Final%20Draft%20v2.docx"),
], ids=ids)
def test_file_name_with_spaces_offers_the_joined_reading(text, url, joined):
    citation = one(text)
    assert citation.url == url
    assert citation.alternatives[0] == joined
    assert citation.uncertain


def test_a_file_name_with_one_space_is_joined_and_the_spaced_reading_offered():
    citation = one("https://www.example.org/files/WOLA Report.pdf")
    assert citation.url == "https://www.example.org/files/WOLAReport.pdf"
    assert citation.alternatives[0] == "https://www.example.org/files/WOLA%20Report.pdf"
    assert citation.uncertain


def test_prose_after_a_url_is_not_a_file_name():
    citation = one("https://www.example.org/files/report and the appendix were read.")
    assert citation.alternatives == () and not citation.uncertain

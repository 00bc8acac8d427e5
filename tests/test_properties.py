"""Property tests: extraction holds up on any text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extract.references import read_entry
from crawler.extract.split import Entry, split_entries
from crawler.extract.urls import UrlError, normalise

PIECES = st.sampled_from([
    "http://", "https://", "www.", "doi:10.1080/", "10.1234/", "web.archive.org/web/2015/", "://", "/", ".",
    ",", ";", ":", "(", ")", "[", "]", "<", ">", "{", "}", "\"", "“", "”", "'", "…", "...", "?", "&", "=",
    "#", "%", "%D1", "-", "_", "~", " ", "  ", "\n", "\n    ", "\t", "\u00ad", "\u200b", "\u00a0",
    "mofa.go.jp", "example.org", "президент.рф", "роль-японии", "index.php?option=com_content",
    "Available at:", "URL:", "accessed", "(accessed: 20.07.2020)", "20.0.2020", "дата обращения",
    "- ", "1. ", "[1] ", "Ite mid=29", "page", "2020", "a", "Z", "ж",
])
HOSTS = st.sampled_from(["www.mofa.go.jp", "centrasia.org", "президент.рф", "doi.org", "web.archive.org",
                         "xn--d1abbgf6aiiy.xn--p1ai", "127.0.0.1", "www", "a.b"])
# Text around something URL-shaped, so most examples exercise the URL scanner.
URLISH = st.builds(
    lambda before, scheme, host, path, after: f"{before}{scheme}{host}{path}{after}",
    st.lists(PIECES, max_size=5).map("".join),
    st.sampled_from(["http://", "https://", "", "doi:", "HTTP://", "http//", "<https://"]),
    HOSTS,
    st.lists(PIECES, max_size=12).map("".join),
    st.lists(PIECES, max_size=5).map("".join),
)
TEXT = st.one_of(
    URLISH,
    st.lists(PIECES, max_size=40).map("".join),
    st.text(max_size=300),
)
TRAILING = ".,;:!?'\"“”’‘»"


def balanced(url: str) -> bool:
    for opener, closer in ("()", "[]"):
        depth = 0
        for c in url:
            depth += (c == opener) - (c == closer)
            if depth < 0:
                return False
        if depth:
            return False
    return True


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_extraction_never_crashes_and_urls_are_clean(text):
    for entry in split_entries(text.split("\n"), "t.txt"):
        read = read_entry(entry)
        for citation in read.citations:
            for url in (citation.url, citation.cited_as):
                assert not any(c.isspace() for c in url), url
                assert balanced(url), url
            assert citation.cited_as[-1] not in TRAILING, citation.cited_as
            if "#" not in citation.cited_as:  # dropping a "#fragment" may leave "a." as written
                assert citation.url[-1] not in TRAILING, citation.url
            assert citation.url.startswith(("http://", "https://", "ftp://")), citation.url
        for problem in read.problems:
            assert problem.reference.line >= 1


@settings(max_examples=300)
@given(TEXT)
def test_every_entry_line_is_a_line_of_the_input(text):
    lines = text.split("\n")
    for entry in split_entries(lines, "t.txt"):
        assert 1 <= entry.line <= len(lines)
        assert lines[entry.line - 1].strip()


@settings(max_examples=300)
@given(st.lists(PIECES, min_size=1, max_size=12).map("".join))
def test_normalising_twice_changes_nothing(text):
    """Percent-encoding happens exactly once: a normalised URL is a fixed point."""
    try:
        once = normalise("https://www.example.org/" + text.replace(" ", "").replace("\n", "")).url
    except UrlError:
        return
    assert normalise(once).url == once


@given(st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=30))
def test_unicode_paths_are_percent_encoded_ascii(path):
    url = normalise("https://www.example.org/" + path).url
    assert url.isascii()
    assert normalise(url).url == url


@given(TEXT)
def test_reading_is_deterministic(text):
    entry = Entry("t.txt", 1, text)
    assert read_entry(entry) == read_entry(entry)

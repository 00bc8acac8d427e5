"""Property tests: extraction holds up on any text, in every input format.

The example counts come from the hypothesis profile (tests/conftest.py):
small by default, large with HYPOTHESIS_PROFILE=long.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from crawler.extract.formats import bibtex_entries, html_entries, markdown_entries
from crawler.extract.references import ReadReference, read_entry
from crawler.extract.split import Entry, split_entries
from crawler.extract.urls import UrlError, normalise
from crawler.model import InputError

PIECES = st.sampled_from([
    "http://", "https://", "www.", "doi:10.1080/", "10.1234/", "web.archive.org/web/2015/", "://", "/", ".",
    ",", ";", ":", "(", ")", "[", "]", "<", ">", "{", "}", "\"", "“", "”", "'", "…", "...", "?", "&", "=",
    "#", "%", "%D1", "-", "_", "~", " ", "  ", "\n", "\n    ", "\t", "\u00ad", "\u200b", "\u00a0",
    "mofa.go.jp", "example.org", "президент.рф", "роль-японии", "index.php?option=com_content",
    "Available at:", "URL:", "accessed", "(accessed: 20.07.2020)", "20.0.2020", "дата обращения",
    "- ", "1. ", "[1] ", "Ite mid=29", "page", "2020", "a", "Z", "ж",
    "\u2010", "\u2011", "\u2013", "\u00ad\u2010", "\\&", "\\_", "\\%", "\\~{}", "http: //", ".pdf", " -",
])
# C0 and C1 controls, bidi overrides, odd line and paragraph separators.
CONTROLS = st.sampled_from([
    "\x00", "\x07", "\x08", "\x0b", "\x0c", "\r", "\x1b", "\x1bc", "\x1b(0", "\x1b]0;PWNED\x07", "\x1b[2J",
    "\x7f", "\x85", "\x9b", "\u2028", "\u2029", "\u202e", "\u2066", "\u200e", "\ufeff", "\ufffe",
]) | st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs"])
HOSTS = st.sampled_from(["www.mofa.go.jp", "centrasia.org", "президент.рф", "doi.org", "web.archive.org",
                         "xn--d1abbgf6aiiy.xn--p1ai", "127.0.0.1", "www", "a.b", "www.state-", "bookse llers.com"])
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
WITH_CONTROLS = st.lists(st.one_of(PIECES, CONTROLS, URLISH), max_size=30).map("".join)
TRAILING = ".,;:!?'\"“”’‘»"
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


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


def valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean_url_text(text: str) -> bool:
    """No whitespace, no control character, no bidi override."""
    return not any(c.isspace() or unicodedata.category(c) == "Cc" or c in BIDI for c in text)


def assert_sound(read: ReadReference) -> None:
    """What every reading of every input must satisfy."""
    reference = read.reference
    assert reference.line >= 1
    assert valid_unicode(reference.text) and valid_unicode(reference.source)
    for citation in read.citations:
        for url in (citation.url, *citation.alternatives):
            assert url.startswith(("http://", "https://", "ftp://")), url
            assert url.isascii() and all(0x20 < ord(c) < 0x7F for c in url), url
        assert clean_url_text(citation.cited_as), repr(citation.cited_as)
        assert valid_unicode(citation.cited_as)
        assert citation.url not in citation.alternatives
    for problem in read.problems:
        assert problem.reference == reference
        assert valid_unicode(problem.detail)
        assert "\n" not in problem.detail
        if problem.url is not None:
            assert problem.url.isascii() and clean_url_text(problem.url), problem.url


def assert_entries_sound(entries) -> None:  # noqa: ANN001 - entries or input errors
    for entry in entries:
        if isinstance(entry, InputError):
            assert valid_unicode(str(entry)) and "\n" not in entry.message
            continue
        assert_sound(read_entry(entry))


# --- plain text

@given(TEXT)
def test_extraction_never_crashes_and_urls_are_clean(text):
    for entry in split_entries(text.split("\n"), "t.txt"):
        read = read_entry(entry)
        assert_sound(read)
        for citation in read.citations:
            for url in (citation.url, citation.cited_as):
                assert not any(c.isspace() for c in url), url
                assert balanced(url), url
            assert citation.cited_as[-1] not in TRAILING, citation.cited_as
            if "#" not in citation.cited_as:  # dropping a "#fragment" may leave "a." as written
                assert citation.url[-1] not in TRAILING, citation.url


@given(WITH_CONTROLS)
def test_control_characters_never_enter_a_url(text):
    assert_entries_sound(split_entries(text.split("\n"), "t.txt"))


@given(TEXT)
def test_every_entry_line_is_a_line_of_the_input(text):
    lines = text.split("\n")
    for entry in split_entries(lines, "t.txt"):
        assert 1 <= entry.line <= len(lines)
        assert lines[entry.line - 1].strip()


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


# --- HTML: nesting, anchors, skipped elements, broken markup

TAGS = st.sampled_from(["div", "p", "li", "ol", "ul", "span", "b", "i", "section", "td", "tr", "table",
                        "blockquote", "pre", "script", "style", "nav", "a", "font", "x-custom"])
HTML_TEXT = st.lists(st.one_of(PIECES, CONTROLS, st.sampled_from(["&amp;", "&hellip;", "&#0;", "&#xD800;",
                                                                  "&nbsp;", "<", ">", "</", "<!--", "-->"])),
                     max_size=8).map("".join)
HREF = st.one_of(URLISH, st.sampled_from(["#top", "/relative/x.html", "mailto:a@b.org", "http://[/", "//x.org/a",
                                           "javascript:void(0)", ""]))


def _element(tag: str, href: str, children: list[str]) -> str:
    attributes = f' href="{href}"' if tag == "a" else ""
    return f"<{tag}{attributes}>{''.join(children)}</{tag}>"


HTML_TREE = st.recursive(
    HTML_TEXT | st.just("<br>") | st.just("<br/>"),
    lambda children: st.builds(_element, TAGS, HREF, st.lists(children, max_size=4)),
    max_leaves=25,
)


@given(HTML_TREE, st.integers(min_value=0, max_value=1500), st.sampled_from(["div", "span", "a", "li"]),
       st.sampled_from(["", '<base href="https://www.example.org/dir/">', '<base href="http://[x]/">']))
def test_html_of_any_shape_and_depth_reads_soundly(tree, depth, wrapper, base):
    html = f"<html><head>{base}</head><body>" + f"<{wrapper}>" * depth + tree + f"</{wrapper}>" * depth
    assert_entries_sound(html_entries(html.encode("utf-8"), "t.html"))


@given(st.lists(st.sampled_from(["+2AA-", "+2D3eAA-", "+AGEAYgBj-", "+", "-", "http://www.example.org/",
                                 "a", " ", "\xff", "\x00"]), max_size=20).map("".join),
       st.sampled_from(["utf-7", "utf-16", "utf-8", "x-unknown", "idna", "punycode"]))
def test_html_in_any_declared_charset_gives_valid_unicode(body, charset):
    html = f'<html><head><meta charset="{charset}"></head><body><p>{body}</p></body></html>'
    assert_entries_sound(html_entries(html.encode("latin-1"), "t.html"))


# --- BibTeX: entries, braces, quotes, macros, concatenation, LaTeX

BIB_VALUE_PIECES = st.one_of(PIECES, CONTROLS, st.sampled_from([
    "{", "}", "{{", "}}", "\\", "\\url{", "\\href{", "}{", "\\&", "\\_", "\\%", "\\#", "\\~{}", "\\'e", "\\v{c}",
    "\\textasciitilde", "$", "@", "@misc{", "\n@article{x,", "\"", "#", ",", "=",
]))
BIB_VALUE = st.one_of(
    st.lists(BIB_VALUE_PIECES, max_size=10).map(lambda parts: "{" + "".join(parts) + "}"),
    st.lists(BIB_VALUE_PIECES, max_size=10).map(lambda parts: '"' + "".join(parts) + '"'),
    st.sampled_from(["2019", "jan", "coop", "undefined_macro", "{", '"', ""]),
)
BIB_FIELD = st.builds(
    lambda name, values, comma: f"  {name} = {' # '.join(values)}{comma}\n",
    st.sampled_from(["url", "doi", "howpublished", "note", "urldate", "title", "author", "year", "eprint",
                     "archiveprefix", "journal", "x-field", "", "="]),
    st.lists(BIB_VALUE, min_size=1, max_size=3),
    st.sampled_from([",", "", ",,"]),
)
BIB_ENTRY = st.builds(
    lambda kind, key, fields, closer: f"@{kind}{{{key},\n{''.join(fields)}{closer}\n",
    st.sampled_from(["misc", "article", "online", "string", "comment", "preamble", "book", "MISC", "x"]),
    st.sampled_from(["key", "a:b", "", "k k", "{"]),
    st.lists(BIB_FIELD, max_size=5),
    st.sampled_from(["}", ")", "", "}}"]),
)


@given(st.lists(st.one_of(BIB_ENTRY, PIECES, CONTROLS), max_size=8).map("".join))
def test_bibtex_of_any_structure_reads_soundly(text):
    items = list(bibtex_entries(text, "t.bib"))
    for item in items:
        if isinstance(item, InputError):
            assert not item.fatal  # a broken entry is skipped; the rest is still read
    assert_entries_sound(items)


# --- Markdown: fences, code, links, tables, quotes, headings

MD_LINE = st.one_of(
    st.lists(st.one_of(PIECES, CONTROLS, st.sampled_from(["`", "``", "```", "*", "_", "\\", "!", "|"])),
             max_size=12).map("".join),
    st.builds(lambda text, target, title: f"[{text}]({target}{title})", st.lists(PIECES, max_size=4).map("".join),
              st.one_of(URLISH, st.just("<>"), st.just("(a(b)c)")), st.sampled_from(["", ' "Title"', " 'x'", " ("])),
    st.builds(lambda n, cells: "|" + "|".join(cells[:n]) + "|", st.integers(1, 4),
              st.lists(st.one_of(URLISH, st.just("Accessed"), st.just("3 March 2021")), min_size=4, max_size=4)),
    st.sampled_from(["```", "~~~", "````python", "# References", "## Web", "---", "***", "| --- | --- |",
                     "> quoted", "> > - bullet", "[1]: https://www.example.org/def \"t\"", "    indented code",
                     "<!-- comment -->", "1. ", "- ", ""]),
)


@given(st.lists(MD_LINE, max_size=20))
def test_markdown_of_any_structure_reads_soundly(lines):
    assert_entries_sound(markdown_entries(lines, "t.md"))

"""Markdown, HTML and BibTeX inputs: what their markup adds and hides."""

from __future__ import annotations

from pathlib import Path

from conftest import TODAY
from crawler.extract import extract_all


def links(tmp_path: Path, name: str, content: str | bytes) -> list[tuple[str, int, str | None]]:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    extraction = extract_all([str(path)], today=TODAY)
    assert extraction.errors == []
    return [(link.url, link.citations[0].reference.line,
             link.citations[0].accessed.isoformat() if link.citations[0].accessed else None)
            for link in extraction.links]


# --- Markdown

def test_markdown_link_target_is_used_and_its_title_ignored(tmp_path):
    md = '- Aso, T. [Central Asia as a Corridor](https://www.mofa.go.jp/region/europe/speech0606.html "Speech")\n'
    assert links(tmp_path, "r.md", md) == [("https://www.mofa.go.jp/region/europe/speech0606.html", 1, None)]


def test_markdown_link_with_parentheses_in_its_target(tmp_path):
    md = "1. [Central Asia](https://en.wikipedia.org/wiki/Central_Asia_(region)), accessed 3 March 2021.\n"
    assert links(tmp_path, "r.md", md) == [("https://en.wikipedia.org/wiki/Central_Asia_(region)", 1, "2021-03-03")]


def test_markdown_elided_link_text_is_not_a_truncated_url(tmp_path):
    md = "- [https://www.brookings.edu/articles/the-shan…](https://www.brookings.edu/articles/the-shanghai/)\n"
    path = tmp_path / "r.md"
    path.write_text(md, encoding="utf-8")
    extraction = extract_all([str(path)])
    assert [link.url for link in extraction.links] == ["https://www.brookings.edu/articles/the-shanghai/"]
    assert extraction.problems == []


def test_markdown_code_is_not_read(tmp_path):
    md = "# References\n\n```\nhttps://www.example.org/in-a-fence\n```\n\nUse `https://www.example.org/inline` or\n"
    assert links(tmp_path, "r.md", md) == []


def test_markdown_autolinks_and_definitions(tmp_path):
    md = "- Kono, T. <https://www.mofa.go.jp/files/000494314.pdf>\n\n[1]: https://www.osce.org/secretariat \"OSCE\"\n"
    assert links(tmp_path, "r.md", md) == [("https://www.mofa.go.jp/files/000494314.pdf", 1, None),
                                           ("https://www.osce.org/secretariat", 3, None)]


# --- HTML

HTML = """<!DOCTYPE html>
<html><head><title>Refs</title><script>var u = "https://www.example.org/script";</script></head>
<body>
<nav><a href="https://www.example.org/home">Home</a></nav>
<ol>
  <li>Iwashita, A. <a href="https://www.brookings.edu/articles/the-shanghai-cooperation-organization/">https://www.brookings.edu/articles/the-shan&hellip;</a> (accessed 10.05.2020)</li>
  <li>Thornton, A. <a href="https://www.brookings.edu/wp-content/uploads/2020/06/x.pdf?a=1&amp;b=2">China in Central Asia</a>.
      Accessed 20&nbsp;July&nbsp;2020. <a href="#cite-1">^</a> <a href="mailto:ed@example.org">mail</a></li>
  <li>Plain text link: https://www.osce.org/files/f/documents/1/9/22976.pdf</li>
</ol>
<p>Kono, T. Article.<br>Aso, T. Speech, <a href="/relative/page.html">here</a>.</p>
</body></html>
"""


def test_html_uses_hrefs_and_plain_text_urls_and_skips_navigation(tmp_path):
    assert links(tmp_path, "r.html", HTML) == [
        ("https://www.brookings.edu/articles/the-shanghai-cooperation-organization/", 6, "2020-05-10"),
        ("https://www.brookings.edu/wp-content/uploads/2020/06/x.pdf?a=1&b=2", 7, "2020-07-20"),
        ("https://www.osce.org/files/f/documents/1/9/22976.pdf", 9, None),
    ]


def test_html_elided_anchor_text_is_not_flagged(tmp_path):
    path = tmp_path / "r.html"
    path.write_text(HTML, encoding="utf-8")
    assert extract_all([str(path)]).problems == []


def test_html_relative_links_resolve_against_base(tmp_path):
    html = '<html><head><base href="https://www.mofa.go.jp/"></head><body><p>Speech <a href="region/x.html">x</a></p></body></html>'
    assert links(tmp_path, "r.html", html) == [("https://www.mofa.go.jp/region/x.html", 1, None)]


def test_html_declared_charset_is_honoured(tmp_path):
    html = ('<html><head><meta charset="windows-1251"></head><body><p>Доклад. '
            'http://www.ng.ru/doklad (дата обращения: 12.03.2021)</p></body></html>').encode("cp1251")
    assert links(tmp_path, "r.html", html) == [("http://www.ng.ru/doklad", 1, "2021-03-12")]


# --- BibTeX

BIB = r"""@string{coop = "Cooperation and Conflict"}
@comment{ https://www.example.org/commented-out }

@online{mofa2006,
  author  = {{Ministry of Foreign Affairs of Japan}},
  title   = {Central Asia as a Corridor of Peace and Stability},
  url     = {http://www.mofa.go.jp/region/europe/speech\_0606.html},
  urldate = {2020-07-20},
}
@article{murata2019,
  author = {Murata, Kenji}, journal = coop, year = 2019,
  doi = {10.1177/0010836718808331},
  note = {Last accessed 5 May 2019}
}
@misc{wiki,
  title = {Central Asia},
  howpublished = {\url{https://en.wikipedia.org/wiki/Central_Asia_(region)}},
  note = {Accessed: 2021-03-03}
}
@book{green2001, author = {Green, Michael}, title = {Japan's Reluctant Realism}, year = {2001}}
"""


def test_bibtex_url_doi_and_howpublished_fields(tmp_path):
    assert links(tmp_path, "r.bib", BIB) == [
        ("http://www.mofa.go.jp/region/europe/speech_0606.html", 4, "2020-07-20"),
        ("https://doi.org/10.1177/0010836718808331", 10, "2019-05-05"),
        ("https://en.wikipedia.org/wiki/Central_Asia_(region)", 15, "2021-03-03"),
    ]


def test_bibtex_reference_text_is_readable(tmp_path):
    path = tmp_path / "r.bib"
    path.write_text(BIB, encoding="utf-8")
    link = extract_all([str(path)]).links[1]
    assert link.citations[0].reference.text == "Murata, Kenji. (2019). Cooperation and Conflict"


def test_broken_bibtex_entry_is_reported_and_the_rest_read(tmp_path):
    bib = "@misc{a, url = {https://www.un.org/a}\n\n@misc{b, url = {https://www.un.org/b}}\n"
    path = tmp_path / "r.bib"
    path.write_text(bib, encoding="utf-8")
    extraction = extract_all([str(path)])
    assert [link.url for link in extraction.links] == ["https://www.un.org/b"]
    [error] = extraction.errors
    assert error.source == f"{path}:1" and not error.fatal


def test_bibtex_string_macros_are_expanded(tmp_path):
    bib = ('@string{un = "https://www.un.org/"}\n'
           '@misc{a, url = un # "a"}\n')
    assert links(tmp_path, "r.bib", bib) == [("https://www.un.org/a", 2, None)]


def test_bibtex_macros_that_double_themselves_are_reported_not_expanded(tmp_path):
    # A "billion laughs": each macro two copies of the one before, 2**40 characters from 1 KB.
    bib = ('@string{s0 = "ab"}\n'
           + "".join(f"@string{{s{i} = s{i - 1} # s{i - 1}}}\n" for i in range(1, 41))
           + "@misc{big, note = s40}\n"
           "@misc{b, url = {https://www.un.org/b}}\n")
    path = tmp_path / "r.bib"
    path.write_text(bib, encoding="utf-8")
    extraction = extract_all([str(path)])
    assert [link.url for link in extraction.links] == ["https://www.un.org/b"]
    assert extraction.errors and all("@string macros expand" in error.message for error in extraction.errors)
    assert all(not error.fatal for error in extraction.errors)


def test_stdin_format_is_sniffed():
    import io

    extraction = extract_all(["-"], stdin=io.BytesIO(BIB.encode()), today=TODAY)
    assert len(extraction.links) == 3


# --- Hostile HTML

def test_html_page_that_is_only_a_url_is_read_without_a_warning(tmp_path, recwarn):
    assert links(tmp_path, "r.html", "https://www.un.org/a") == [("https://www.un.org/a", 1, None)]
    assert [str(w.message) for w in recwarn] == []


def test_deeply_nested_html_is_walked_without_recursion(tmp_path):
    html = "<html><body>" + "<div>" * 1000 + "http://www.example.org/deep" + "</div>" * 1000 + "</body></html>"
    assert len(html) < 12_000  # the 11 KB file that stopped a recursive walk
    assert links(tmp_path, "r.html", html) == [("http://www.example.org/deep", 1, None)]


def test_utf7_lone_surrogate_leaves_extraction_as_a_replacement_character(tmp_path):
    html = b'<html><head><meta charset="utf-7"></head><body><p>Title +2AA- http://www.example.org/a</p></body></html>'
    path = tmp_path / "r.html"
    path.write_bytes(html)
    [link] = extract_all([str(path)]).links
    text = link.citations[0].reference.text
    assert text == "Title \ufffd http://www.example.org/a"
    text.encode("utf-8")  # a report can hold it


def test_unicode_escape_encoding_cannot_smuggle_a_surrogate(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(b"Report \\ud800 http://www.example.org/b\n")
    [link] = extract_all([str(path)], encoding="unicode_escape").links
    assert "\ufffd" in link.citations[0].reference.text


def test_malformed_base_href_loses_only_the_relative_links(tmp_path):
    html = ('<html><head><base href="http://[/"></head><body><p><a href="x.html">x</a></p>'
            '<p>Plain https://www.example.org/plain</p></body></html>')
    assert links(tmp_path, "r.html", html) == [("https://www.example.org/plain", 1, None)]


def test_html_ordered_list_items_carry_their_numbers(tmp_path):
    html = ('<html><body><ol start="7"><li>Aso. https://www.example.org/a</li>'
            '<li><p>Kono. https://www.example.org/b</p></li><li value="12">Abe. https://www.example.org/c</li></ol>'
            '<ul><li>Hirose. https://www.example.org/d</li></ul></body></html>')
    path = tmp_path / "r.html"
    path.write_text(html, encoding="utf-8")
    numbers = [link.citations[0].reference.number for link in extract_all([str(path)]).links]
    assert numbers == [7, 8, 12, None]

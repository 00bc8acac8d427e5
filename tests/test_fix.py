"""`crawler fix` as a library: archived copies added after dead links, moved links replaced, nothing else."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import FIXTURES, SEEDS, TODAY
from crawler.extract import extract_all
from crawler.model import (
    ArchiveResult,
    ArchiveStatus,
    CheckResult,
    Citation,
    Link,
    Reference,
    Snapshot,
    Verdict,
)
from crawler.report.fix import ArchiveEdit, FixError, MoveEdit, edits_for, fix, format_of

WAYBACK = "https://web.archive.org/web/20190601000000/"
KANTEI = "http://www.kantei.go.jp/foreign/0731douyukai.html"
MOFA_PDF = "https://www.mofa.go.jp/files/000494314.pdf"


def dead(line: int, cited_as: str, url: str | None = None, timestamp: str = "20190601000000") -> ArchiveEdit:
    url = url or (cited_as if "://" in cited_as else f"http://{cited_as}")
    return ArchiveEdit(line, cited_as, url, f"https://web.archive.org/web/{timestamp}/{url}", timestamp)


def moved(line: int, cited_as: str, new_url: str) -> MoveEdit:
    return MoveEdit(line, cited_as, cited_as, new_url)


def without(fixed: bytes, *added: bytes) -> bytes:
    for piece in added:
        assert fixed.count(piece) >= 1, piece
        fixed = fixed.replace(piece, b"", 1)
    return fixed


def archived(edit: ArchiveEdit) -> bytes:
    return f" [archived {edit.date}: {edit.snapshot_url}]".encode()


# --- Plain text --------------------------------------------------------------------

HASHIMOTO = ("Address by Prime Minister Ryutaro Hashimoto to the Japan Association of Corporate executives. "
             "24 July 1997. Prime Minister of Japan and his cabinet - www.kantei.go.jp/foreign/0731douyukai.html "
             "(accessed: 20.07.2020)\n")
KONO = ("Foreign Minister Kono’s article contributed to Kazinform (Republic of Kazakhstan). 17. 05. 2019. "
        "Ministry of Foreign Affairs of Japan. - https://www.mofa.go.jp/files/000494314.pdf (accessed 10.06.2023)\n")


def test_the_snapshot_goes_right_after_the_dead_link():
    content = ("Intro line.\n" + HASHIMOTO + KONO).encode()
    edit = dead(2, "www.kantei.go.jp/foreign/0731douyukai.html")
    result = fix(content, "text", [edit])
    assert (b"0731douyukai.html [archived 2019-06-01: https://web.archive.org/web/20190601000000/"
            b"http://www.kantei.go.jp/foreign/0731douyukai.html] (accessed: 20.07.2020)") in result.content
    assert without(result.content, archived(edit)) == content
    assert result.applied == (edit,)


def test_a_second_fix_adds_nothing():
    content = (HASHIMOTO + KONO).encode()
    edits = [dead(1, "www.kantei.go.jp/foreign/0731douyukai.html"), dead(2, MOFA_PDF)]
    once = fix(content, "text", edits)
    twice = fix(once.content, "text", edits)
    assert twice.content == once.content
    assert twice.applied == () and set(twice.already) == set(edits)


def test_a_second_fix_with_another_snapshot_still_adds_nothing():
    content = KONO.encode()
    once = fix(content, "text", [dead(1, MOFA_PDF, timestamp="20190601000000")])
    assert fix(once.content, "text", [dead(1, MOFA_PDF, timestamp="20230101000000")]).content == once.content


def test_a_url_broken_over_two_lines_by_a_pdf():
    content = (b"Diplomatic Bluebook 2007. Ministry of Foreign Affairs of Japan. https://www.mofa.go.jp/policy/other/\n"
               b"bluebook/2007/html/h2/h2_05.html (accessed 3 March 2021)\n")
    edit = dead(1, "https://www.mofa.go.jp/policy/other/bluebook/2007/html/h2/h2_05.html")
    result = fix(content, "text", [edit])
    assert b"h2_05.html [archived 2019-06-01: " in result.content
    assert without(result.content, archived(edit)) == content


def test_a_space_inserted_by_a_pdf_and_a_hyphen_at_a_line_break():
    content = (b"CACO. https://centrasia.org/cnt2.php?option=com_content&Ite mid=29&lang=en (accessed 10.06.2023)\n"
               b"Annual report. https://example.org/annual-\nreport.pdf\n")
    edits = [dead(1, "https://centrasia.org/cnt2.php?option=com_content&Itemid=29&lang=en"),
             dead(2, "https://example.org/annualreport.pdf")]
    result = fix(content, "text", edits)
    assert result.applied == tuple(edits)
    assert without(result.content, *map(archived, edits)) == content


def test_a_url_cited_twice_gets_its_snapshot_at_each_citation():
    content = ("1. " + KONO + "2. Something else entirely. https://example.org/\n" + "3. Again: " + KONO).encode()
    edits = [dead(1, MOFA_PDF), dead(3, MOFA_PDF)]
    result = fix(content, "text", edits)
    assert result.content.count(b"[archived 2019-06-01: ") == 2
    assert without(result.content, archived(edits[0]), archived(edits[1])) == content


def test_only_the_cited_occurrence_is_touched():
    content = ("1. " + KONO + "   see also " + MOFA_PDF + "\n2. " + HASHIMOTO).encode()
    result = fix(content, "text", [dead(3, MOFA_PDF)])
    assert result.content == content  # not cited at line 3: nothing is guessed
    assert [why for _, why in result.skipped] == [f"“{MOFA_PDF}” not found at line 3"]


def test_a_longer_url_is_not_taken_for_the_cited_one():
    content = b"1. https://example.org/report.pdf.old and https://example.org/report.pdf\n"
    result = fix(content, "text", [dead(1, "https://example.org/report.pdf")])
    assert result.content == (b"1. https://example.org/report.pdf.old and https://example.org/report.pdf "
                              b"[archived 2019-06-01: https://web.archive.org/web/20190601000000/"
                              b"https://example.org/report.pdf]\n")


def test_crlf_line_endings_stay():
    content = (HASHIMOTO + KONO).replace("\n", "\r\n").encode()
    edits = [dead(1, "www.kantei.go.jp/foreign/0731douyukai.html"), dead(2, MOFA_PDF)]
    result = fix(content, "text", edits)
    assert result.content.count(b"\r\n") == 2 and b"\n" not in result.content.replace(b"\r\n", b"")
    assert without(result.content, *map(archived, edits)) == content


def test_a_utf8_byte_order_mark_stays():
    content = codecs.BOM_UTF8 + KONO.encode()
    edit = dead(1, MOFA_PDF)
    result = fix(content, "text", [edit])
    assert result.content.startswith(codecs.BOM_UTF8)
    assert without(result.content, archived(edit)) == content


def test_a_legacy_encoding_stays():
    content = "Россия и Япония. http://www.ng.ru/courier/2006-01-16/9_china.html (дата обращения 10.06.2023)\n"
    edit = dead(1, "http://www.ng.ru/courier/2006-01-16/9_china.html")
    result = fix(content.encode("cp1251"), "text", [edit], encoding="cp1251")
    assert without(result.content, archived(edit)) == content.encode("cp1251")


def test_utf16_with_a_byte_order_mark():
    content = KONO.encode("utf-16")
    result = fix(content, "text", [dead(1, MOFA_PDF)])
    assert result.content.decode("utf-16") == KONO.replace(".pdf ", f".pdf [archived 2019-06-01: {WAYBACK}{MOFA_PDF}] ")


def test_a_moved_link_gets_its_new_url():
    content = b"Koizumi at Boao. www.kantei.go.jp/foreign/koizumispeech/2002/04/12/boao_s_e.html (accessed: 11.10.2010)\n"
    edit = moved(1, "www.kantei.go.jp/foreign/koizumispeech/2002/04/12/boao_s_e.html",
                 "https://japan.kantei.go.jp/koizumispeech/2002/04/12/boao_s_e.html")
    result = fix(content, "text", [edit])
    assert result.content == (b"Koizumi at Boao. https://japan.kantei.go.jp/koizumispeech/2002/04/12/boao_s_e.html "
                              b"(accessed: 11.10.2010)\n")
    again = fix(result.content, "text", [edit])
    assert again.content == result.content and again.already == (edit,)


def test_nothing_to_do_returns_the_same_bytes():
    content = (HASHIMOTO + KONO).encode()
    assert fix(content, "text", []).content is content


_ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(before=st.tuples(_ANY_TEXT, st.sampled_from([" ", "(", "<", " - ", ": ", "\n", "「"])).map("".join),
       after=st.tuples(st.sampled_from([" ", ", ", ". ", ").", "\n", "»", "」", "\t"]), _ANY_TEXT).map("".join),
       crlf=st.booleans())
def test_around_any_text_the_fix_only_adds_and_is_idempotent(before, after, crlf):
    newline = "\r\n" if crlf else "\n"
    content = f"Heading{newline}{before}{MOFA_PDF}{after}{newline}".encode()
    edit = dead(2, MOFA_PDF)  # a search starts at the reference's line and looks on from there
    once = fix(content, "text", [edit])
    assert once.applied == (edit,)
    assert without(once.content, archived(edit)) == content
    assert fix(once.content, "text", [edit]).content == once.content


# --- Markdown ----------------------------------------------------------------------


MARKDOWN = """# Sources

1. Hashimoto, R. (1997). [Address to the Japan Association of Corporate Executives](http://www.kantei.go.jp/foreign/0731douyukai.html "Kantei"), accessed 2020-07-20.
2. Kono, T. (2019). Article for Kazinform. <https://www.mofa.go.jp/files/000494314.pdf>
3. MOFA, *Central Asia plus Japan*, https://www.mofa.go.jp/erp/ca\\_c/page1e\\_000160.html (accessed 2023-08-01)
4. [https://www.brookings.edu/old-article/](https://www.brookings.edu/old-article/)

| Source | Accessed |
| --- | --- |
| [OSCE](https://www.osce.org/files/f/documents/1/9/22976.pdf) | 2020-06-10 |

[carnegie]: https://carnegieendowment.org/2019/04/central-asia
"""


def test_markdown_links_stay_valid_with_the_snapshot_after_them():
    edits = [dead(3, KANTEI), dead(4, MOFA_PDF), dead(5, "https://www.mofa.go.jp/erp/ca_c/page1e_000160.html"),
             dead(10, "https://www.osce.org/files/f/documents/1/9/22976.pdf")]
    result = fix(MARKDOWN.encode(), "markdown", edits)
    text = result.content.decode()
    assert (f'(http://www.kantei.go.jp/foreign/0731douyukai.html "Kantei") [archived 2019-06-01]({WAYBACK}{KANTEI}), '
            f'accessed') in text
    assert f"<{MOFA_PDF}> [archived 2019-06-01]({WAYBACK}{MOFA_PDF})\n" in text
    assert (f"page1e\\_000160.html [archived 2019-06-01]({WAYBACK}https://www.mofa.go.jp/erp/ca_c/"
            f"page1e_000160.html) (accessed") in text
    assert (f"(https://www.osce.org/files/f/documents/1/9/22976.pdf) [archived 2019-06-01]"
            f"({WAYBACK}https://www.osce.org/files/f/documents/1/9/22976.pdf) | 2020-06-10 |") in text
    assert result.applied == tuple(edits)
    assert fix(result.content, "markdown", edits).content == result.content


def test_a_snapshot_url_that_would_break_a_markdown_link_is_bracketed():
    content = b"1. See https://example.org/a_(b.html here\n"
    edit = dead(1, "https://example.org/a_(b.html")
    text = fix(content, "markdown", [edit]).content.decode()
    assert text == f"1. See https://example.org/a_(b.html [archived 2019-06-01](<{WAYBACK}https://example.org/a_(b.html>) here\n"


def test_a_moved_markdown_link_keeps_its_text_unless_the_text_is_the_url():
    edits = [moved(3, KANTEI, "https://japan.kantei.go.jp/0731douyukai.html"),
             moved(6, "https://www.brookings.edu/old-article/", "https://www.brookings.edu/articles/new/")]
    text = fix(MARKDOWN.encode(), "markdown", edits).content.decode()
    assert ('[Address to the Japan Association of Corporate Executives](https://japan.kantei.go.jp/0731douyukai.html '
            '"Kantei")') in text
    assert "4. [https://www.brookings.edu/articles/new/](https://www.brookings.edu/articles/new/)\n" in text


def test_a_markdown_link_reference_definition_is_reported_not_broken():
    edit = dead(12, "https://carnegieendowment.org/2019/04/central-asia")
    result = fix(MARKDOWN.encode(), "markdown", [edit])
    assert result.content == MARKDOWN.encode()
    assert [why for _, why in result.skipped] == [
        "line 12: a Markdown link reference definition ([label]: URL) has no room for the archived copy"]


def test_a_doi_shown_as_link_text_gets_the_snapshot_after_the_link():
    content = b"Zhou et al. (2020). *Nature*. doi:[10.1038/s41586-020-2012-7](https://doi.org/10.1038%2Fs41586-020-2012-7).\n"
    edit = dead(1, "doi:10.1038/s41586-020-2012-7", "https://doi.org/10.1038/s41586-020-2012-7")
    text = fix(content, "markdown", [edit]).content.decode()
    assert text.endswith(f"2012-7) [archived 2019-06-01]({WAYBACK}https://doi.org/10.1038/s41586-020-2012-7).\n")


# --- BibTeX ------------------------------------------------------------------------


BIBTEX = r"""@online{kantei1997,
  author  = {{Prime Minister of Japan and His Cabinet}},
  title   = {Address by Prime Minister Ryutaro Hashimoto},
  year    = {1997},
  url     = {http://www.kantei.go.jp/foreign/0731douyukai.html},
  urldate = {2020-07-20}
}

@misc{kono2019,
  title = "Foreign Minister Kono's article contributed to Kazinform",
  howpublished = {\url{https://www.mofa.go.jp/files/000494314.pdf}},
  note = {Accessed 10 June 2023},
}

@techreport{osce2006, title={Speech by T. Iwaya}, url={https://www.osce.org/files/f/documents/1/9/22976.pdf}}

@misc{two,
	url = {https://example.org/first\_page.html},
	note = {Also at \url{https://example.org/second}}
}
"""


def test_bibtex_gets_a_note_after_the_url_in_the_entrys_own_layout():
    edit = dead(1, KANTEI)
    result = fix(BIBTEX.encode(), "bibtex", [edit])
    assert (f"  url     = {{{KANTEI}}},\n"
            f"  note    = {{Archived 2019-06-01 at \\url{{{WAYBACK}{KANTEI}}}}},\n"
            f"  urldate = {{2020-07-20}}\n") in result.content.decode()
    assert without(result.content, f",\n  note    = {{Archived 2019-06-01 at \\url{{{WAYBACK}{KANTEI}}}}}".encode()
                   ) == BIBTEX.encode()


def test_bibtex_appends_to_an_existing_note():
    edit = dead(9, MOFA_PDF)
    text = fix(BIBTEX.encode(), "bibtex", [edit]).content.decode()
    assert f"  note = {{Accessed 10 June 2023. Archived 2019-06-01 at \\url{{{WAYBACK}{MOFA_PDF}}}}},\n" in text


def test_bibtex_entry_on_one_line_stays_on_one_line():
    url = "https://www.osce.org/files/f/documents/1/9/22976.pdf"
    text = fix(BIBTEX.encode(), "bibtex", [dead(15, url)]).content.decode()
    assert (f"@techreport{{osce2006, title={{Speech by T. Iwaya}}, url={{{url}}}, "
            f"note={{Archived 2019-06-01 at \\url{{{WAYBACK}{url}}}}}}}\n") in text


def test_two_dead_links_in_one_entry_share_one_note():
    edits = [dead(17, "https://example.org/first_page.html"), dead(17, "https://example.org/second")]
    result = fix(BIBTEX.encode(), "bibtex", edits)
    text = result.content.decode()
    assert ("\tnote = {Also at \\url{https://example.org/second}. "
            f"Archived 2019-06-01 at \\url{{{WAYBACK}https://example.org/first_page.html}}. "
            f"Archived 2019-06-01 at \\url{{{WAYBACK}https://example.org/second}}}}\n") in text
    assert result.applied == tuple(edits)
    assert fix(result.content, "bibtex", edits).content == result.content


def test_bibtex_escapes_percent_and_hash_in_the_note_and_is_idempotent():
    url = "http://www.kantei.go.jp/foreign/a_b%20c.html#top"
    content = b"@online{k,\r\n  url = {http://www.kantei.go.jp/foreign/a\\_b\\%20c.html\\#top},\r\n}\r\n"
    edit = dead(1, url)
    once = fix(content, "bibtex", [edit])
    assert once.content == (b"@online{k,\r\n  url = {http://www.kantei.go.jp/foreign/a\\_b\\%20c.html\\#top},\r\n"
                            b"  note = {Archived 2019-06-01 at \\url{https://web.archive.org/web/20190601000000/"
                            b"http://www.kantei.go.jp/foreign/a_b\\%20c.html\\#top}},\r\n}\r\n")
    assert fix(once.content, "bibtex", [edit]).content == once.content


def test_a_moved_bibtex_url_is_replaced_and_written_as_the_file_writes_urls():
    edits = [moved(1, KANTEI, "https://japan.kantei.go.jp/0731_douyukai.html"),
             moved(17, "https://example.org/first_page.html", "https://example.org/new_page.html")]
    text = fix(BIBTEX.encode(), "bibtex", edits).content.decode()
    assert "  url     = {https://japan.kantei.go.jp/0731_douyukai.html},\n" in text
    assert "\turl = {https://example.org/new\\_page.html},\n" in text
    assert "urldate = {2020-07-20}" in text


# --- Edits from an audit -------------------------------------------------------------


def citation(source: str, line: int, url: str, cited_as: str | None = None,
             known: Snapshot | None = None) -> Citation:
    return Citation(Reference(source, line, "A reference"), url, cited_as or url, known_snapshot=known)


def test_edits_come_from_dead_links_with_a_snapshot_and_from_moved_links():
    links = [
        Link.from_citation(citation("refs.txt", 3, KANTEI, "www.kantei.go.jp/foreign/0731douyukai.html")),
        Link.from_citation(citation("refs.txt", 5, MOFA_PDF)),
        Link.from_citation(citation("refs.txt", 7, "https://example.org/old")),
        Link.from_citation(citation("refs.txt", 9, "https://doi.org/10.1080/09512748.2013.870223",
                                    "doi:10.1080/09512748.2013.870223")),
        Link.from_citation(citation("other.txt", 1, "https://example.org/gone")),
        Link.from_citation(citation("refs.txt", 11, "https://example.org/gone-archived",
                                    known=Snapshot(f"{WAYBACK}https://example.org/gone-archived", "20190601000000"))),
    ]
    links[4].add(citation("refs.txt", 12, "https://example.org/gone"))
    results = {
        KANTEI: CheckResult(Verdict.DEAD, "redirect_to_root"),
        MOFA_PDF: CheckResult(Verdict.DEAD, "http_404"),  # no snapshot: nothing to add
        "https://example.org/old": CheckResult(Verdict.MOVED, "moved_permanently", final_url="https://example.org/new"),
        "https://doi.org/10.1080/09512748.2013.870223": CheckResult(
            Verdict.MOVED, "moved_permanently", final_url="https://www.tandfonline.com/doi/10.1080/09512748.2013.870223"),
        "https://example.org/gone": CheckResult(Verdict.DEAD, "http_410"),
        "https://example.org/gone-archived": CheckResult(Verdict.DEAD, "http_404"),
    }
    snapshots = {
        KANTEI: ArchiveResult(ArchiveStatus.FOUND, "wayback", f"{WAYBACK}{KANTEI}", "20190601000000", "before_access"),
        MOFA_PDF: ArchiveResult(ArchiveStatus.NONE, "wayback"),
        "https://example.org/gone": Snapshot(f"{WAYBACK}https://example.org/gone", "20190601000000"),
        "https://example.org/gone-archived": Snapshot(f"{WAYBACK}https://example.org/gone-archived", "20190601000000"),
    }
    assert edits_for("refs.txt", links, results, snapshots) == [
        ArchiveEdit(3, "www.kantei.go.jp/foreign/0731douyukai.html", KANTEI, f"{WAYBACK}{KANTEI}", "20190601000000"),
        MoveEdit(7, "https://example.org/old", "https://example.org/old", "https://example.org/new"),
        ArchiveEdit(12, "https://example.org/gone", "https://example.org/gone",
                    f"{WAYBACK}https://example.org/gone", "20190601000000"),
    ]


@pytest.mark.parametrize("path", [
    SEEDS / "central-asia-plus-japan-dialogue.txt",
    FIXTURES / "styles" / "library.bib",
    FIXTURES / "styles" / "chicago.txt",
    FIXTURES / "styles" / "gost.txt",
    FIXTURES / "styles" / "long_urls.txt",
    FIXTURES / "styles" / "pdf_wrapped.txt",
    FIXTURES / "styles" / "pdf_two_column.txt",
    FIXTURES / "styles" / "email_and_noise.txt",
    FIXTURES / "styles" / "web_page_copy.md",
], ids=lambda p: p.name)
def test_every_dead_link_of_a_real_list_is_fixed_and_nothing_else(path, tmp_path):
    """The audit's own citations, all taken as dead: each is found, and a second pass changes nothing."""
    content = path.read_bytes()
    fixed = _fix_all_dead(path, content)
    assert fixed.skipped == () and len(fixed.applied) > 0
    added = fixed.content
    for edit in fixed.applied:
        assert isinstance(edit, ArchiveEdit)
        assert edit.snapshot_url.encode() in added or edit.snapshot_url.replace("%", r"\%").encode() in added
    again = tmp_path / path.name
    again.write_bytes(fixed.content)
    assert _fix_all_dead(again, fixed.content).content == fixed.content


def _fix_all_dead(path: Path, content: bytes):
    extraction = extract_all([str(path)], today=TODAY)
    results = {link.url: CheckResult(Verdict.DEAD, "http_404") for link in extraction.links}
    snapshots = {link.url: Snapshot(f"{WAYBACK}{link.url}", "20190601000000") for link in extraction.links}
    return fix(content, format_of(path, content), edits_for(str(path), extraction.links, results, snapshots))


def test_only_the_dead_links_of_the_sample_list_change(tmp_path):
    path = SEEDS / "central-asia-plus-japan-dialogue.txt"
    content = path.read_bytes()
    extraction = extract_all([str(path)], today=TODAY)
    gone = {KANTEI, "http://www.mofa.go.jp/region/europe/speech0606.html"}
    results = {link.url: CheckResult(Verdict.DEAD if link.url in gone else Verdict.ALIVE, "x")
               for link in extraction.links}
    snapshots = {url: Snapshot(f"{WAYBACK}{url}", "20190601000000") for url in gone}
    edits = edits_for(str(path), extraction.links, results, snapshots)
    fixed = fix(content, "text", edits)
    assert len(fixed.applied) == 2
    assert without(fixed.content, *(archived(e) for e in edits if isinstance(e, ArchiveEdit))) == content


# --- Formats -----------------------------------------------------------------------


def test_html_is_not_written_back():
    with pytest.raises(FixError, match="cannot write html back"):
        fix(b"<html></html>", "html", [])


def test_the_format_is_the_extractors():
    assert format_of(Path("refs.bib"), b"") == "bibtex"
    assert format_of(Path("refs.md"), b"") == "markdown"
    assert format_of(Path("refs"), b"@article{x,\n title={y}}\n") == "bibtex"
    assert format_of(Path("refs.txt"), b"[1] Hashimoto") == "text"


def test_an_undecodable_list_is_refused():
    with pytest.raises(FixError, match="cannot be read as utf-16"):
        fix(codecs.BOM_UTF16_LE + b"\x00\xd8", "text", [dead(1, MOFA_PDF)])


def test_the_snapshot_date_is_shown_as_far_as_its_timestamp_goes():
    assert dead(1, MOFA_PDF, timestamp="201906").date == "2019-06"
    assert dead(1, MOFA_PDF, timestamp="20190601123456").date == "2019-06-01"


def _fix_time(entries: int) -> float:
    import time

    # Every entry opens a value it never closes, after the URL that gets a copy.
    text = "".join(f"@misc{{k{n},\n  url = {{http://gone.test/{n}}},\n  title = {{never closed\n"
                   for n in range(entries))
    edits = [ArchiveEdit(3 * n + 1, f"http://gone.test/{n}", f"http://gone.test/{n}",
                         f"https://web.archive.org/web/20190601000000/http://gone.test/{n}", "20190601000000")
             for n in range(entries)]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        fix(text.encode(), "bibtex", edits)
        best = min(best, time.perf_counter() - started)
    return best


def test_fixing_bibtex_full_of_unclosed_values_stays_linear():
    small, large = _fix_time(500), _fix_time(2000)
    assert large / small < 10, (small, large)  # linear grows about 4x; scanning to the end of the file, 16x

"""Extraction's fast paths give exactly what the general code gives.

Each shortcut in the extractor rests on a claim ("this test fails, so that
pattern cannot match"; "this URL needs no encoding"); these properties check
the claims on generated text. The example counts come from the hypothesis
profile (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import inspect
import io
import re
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler import model
from crawler.extract import dates, references, split, urls
from crawler.extract.split import split_entries
from crawler.extract.urls import UrlError
from crawler.lazy import LazyPattern
from crawler.model import (AccessDate, ArchiveResult, ArchiveStatus, CheckResult, Citation, Link, Redirect, Reference,
                           Verdict)
from test_properties import PIECES, TEXT

# _START_RE as it was before its two look-aheads, which only prune.
_UNGUARDED_START_RE = re.compile(
    urls._START_RE.pattern.replace("(?=[\\w.-]*+/)", "", 1).replace("(?=[\\w.-]*+\\?)", "", 1),
    urls._START_RE.flags,
)
# Characters that steer the start pattern, and those case-folding maps onto ASCII letters.
START_PIECES = st.sampled_from([
    "h", "H", "f", "F", "w", "W", "d", "D", "o", "i", "1", "0", ".", ":", "/", "?", "-", "_", "@", "%", "=", "&",
    " ", "\n", "x", "a", "com", "org", "www", "WWW", "Www", "doi", "DoI", "10.", "10.1234/", "http://", "ftp:/",
    "php?", "html?", "ſ", "ı", "İ", "K", "рф", "中国", "é",
])
START_TEXT = st.one_of(st.lists(START_PIECES, max_size=25).map("".join), TEXT)


@given(START_TEXT, st.integers(min_value=0, max_value=60))
def test_start_pattern_look_aheads_change_no_match(text, pos):
    pos = min(pos, len(text))
    new, old = urls._START_RE.search(text, pos), _UNGUARDED_START_RE.search(text, pos)
    assert (new and (new.span(), new.lastgroup)) == (old and (old.span(), old.lastgroup))
    if old is not None:
        assert urls.may_start_url(text[pos:]) and urls._may_start_after(text, pos)
        # find_urls reads the branch from lastgroup: one named group per branch, nothing nested.
        assert old.lastgroup == next(name for name, value in old.groupdict().items() if value is not None)


URL_CHARS = st.sampled_from(list("aZ09-._~/:@!$&'()*+,;=?#%[] \t\\^`{}|\"<>") + ["é", "ж", "%41", "%zz", "/./",
                                                                               "/../", "..", "/.well-known"])
HOST = st.one_of(
    st.sampled_from(["example.org", "EXAMPLE.org", "127.0.0.1", "localhost", "a..b", "x.y.", "-a.com", "a-.com",
                     "www.bookse", "doi.org", "dx.doi.org", "xn--d1abbgf6aiiy.xn--p1ai", "президент.рф",
                     "a" * 64 + ".com",
                     ("a." * 130) + "com", "[::1]", "user@example.org", "example.org:", "b"]),
    st.lists(st.sampled_from(["a", "Z", "0", "-", ".", "org", "com"]), min_size=1, max_size=8).map("".join),
)


@given(st.sampled_from(["http://", "https://", "ftp://", "HTTP://", "mailto://", "http:/"]), HOST,
       st.one_of(st.none(), st.integers(min_value=0, max_value=99999), st.sampled_from(["080", "", "x"])),
       st.lists(URL_CHARS, max_size=12).map("".join))
def test_simple_urls_are_made_canonical_as_any_url(scheme, host, port, rest):
    text = f"{scheme}{host}{'' if port is None else f':{port}'}{rest}"

    def outcome(function):  # noqa: ANN001, ANN202
        try:
            return function(text)
        except UrlError as exc:
            return ("error", exc.kind, exc.detail)
    assert outcome(urls.canonical_url) == outcome(urls._canonical_url)


@given(st.lists(PIECES, min_size=1, max_size=6).map("".join),
       st.sampled_from([" ", "\n", "  ", "\t", " \n ", ""]),
       st.sampled_from(list(urls._NEVER_CONTINUES)),
       st.lists(PIECES, max_size=4).map("".join),
       st.booleans(), st.sampled_from(["", " (", "\n", ". x", "…"]))
def test_no_rule_joins_a_token_that_opens_a_bracket_or_quotation(url, gap, first, rest, doi, after):
    assert urls._continues_at_all(url, gap, first + rest, doi=doi, after=after) is None


@given(st.text(max_size=200) | st.lists(st.sampled_from(
    ["accessed", "ACCESSED", "last viewed", "retrieved", "дата", "Дата обращения", "cit.", "/OL", "閲覧", " ",
     "x", "İ", "ß", "sed", "esed", "consult", "zugriff", "data"]), max_size=12).map("".join))
def test_the_first_keyword_stem_is_the_leftmost_of_any(text):
    lowered = text.lower()
    found = [i for i in map(lowered.find, dates._KEYWORD_STEMS) if i >= 0]
    stem = dates._KEYWORD_STEMS_RE.search(lowered)
    assert (stem.start() if stem else None) == (min(found) if found else None)


LINE_PIECES = st.sampled_from([
    "Author, A. ", "Smith J. ", "van Dijk, K. ", "(2019). ", "Title of a work.", "Publisher, 2019. ",
    "http://example.org/a", " https://example.org/b-", "doi: 10.1080/", "02634937", "Available at: ", "URL: ",
    "(accessed 10.06.2023)", "accessed 3 March 2021", "Retrieved from ", "1. ", "[2] ", "- ", "* ", "> ", "| a | b |",
    "|---|---|", "[x]: ", "---. ", "    ", "\t", "  ", "and more text", "et al.", "U.S.", "pp.", "Cases", "ок", "Ж",
    "", " ", "x", "2001. ", "www.example.org/", "?q=1", ".", ",",
])


@given(st.lists(st.lists(LINE_PIECES, max_size=6).map("".join), max_size=25))
def test_lines_starting_with_a_letter_split_as_any_line(lines):
    fast = list(split_entries(lines, "s"))
    split._FAST_LINES = False
    try:
        general = list(split_entries(lines, "s"))
    finally:
        split._FAST_LINES = True
    assert fast == general


@pytest.mark.parametrize("text", ["accessed 10.06.2023", "accessed 31.02.2023", "accessed 1.1.1980",
                                  "accessed 20.0.2020", "accessed 3 March 2099"])
def test_a_validated_date_is_the_same_each_time(text):
    first = dates.find_access_dates(text)
    dates._VALIDATED.clear()
    assert dates.find_access_dates(text) == first == dates.find_access_dates(text)


@given(st.lists(st.sampled_from([".", "pdf", "PDF", "html", "php5", "php٣", "x", "/", "\n", " ", "docx", "a.b",
                                 "json", "Ż"]), max_size=8).map("".join))
def test_an_extension_is_found_at_the_last_dot(text):
    assert urls._has_extension(text) == bool(urls._EXTENSION_RE.search(text))


@given(st.text(max_size=120) | st.lists(st.sampled_from(
    ["available", "AVAILABLE", "url", "URL", "link", "ligne", "режим", "Доступно", "disponível", "İ", " ", "x",
     "retrieved", "online", "dostupn", "abrufbar", "verfügbar"]), max_size=10).map("".join))
def test_the_label_stem_pattern_finds_a_stem_when_any_is_there(text):
    lowered = text.lower()
    assert (urls._LABEL_STEMS_RE.search(lowered) is not None) == any(stem in lowered for stem in urls._LABEL_STEMS)


@given(HOST, HOST)
def test_a_host_checked_before_comes_out_the_same(host, other):
    def outcome(text):  # noqa: ANN001, ANN202
        try:
            return urls._host(text, "http://" + text)
        except UrlError as exc:
            return ("error", exc.kind, exc.detail)
    urls._VALID_HOSTS.clear()
    first = [outcome(host), outcome(other)]
    assert [outcome(host), outcome(other)] == first  # now from the cache, where valid
    urls._VALID_HOSTS.clear()
    assert [outcome(other), outcome(host)] == first[::-1]


@given(st.sampled_from(["http://", "https://", "http:///", "https:////", "HTTP://", "http: //", "ftp://", "http:/",
                        "web.archive.org/web/2015/", "https://web.archive.org/web/20150101000000/", ""]),
       st.lists(URL_CHARS | st.sampled_from(["example.org", "/", "archive", "ARCHIVE", "archıve",
                                             "web.archive.org/web/2015/"]), max_size=8).map("".join))
def test_urls_that_skip_the_scheme_fix_and_archive_test_need_neither(prefix, rest):
    text = prefix + rest
    if text.startswith(("http://", "https://")) and text[7 if text[4] == ":" else 8:][:1] != "/":
        assert urls._SCHEME_FIX_RE.sub(lambda m: m.group(1).lower() + "://", text, count=1) == text
    if text.isascii() and "archive" not in text.lower():
        assert urls._WAYBACK_RE.match(text) is None


# The checker's per-link shortcuts.

@given(st.text(alphabet="ab.-_~%", max_size=12))
def test_probe_extension_is_splitexts(name: str) -> None:
    import posixpath

    from crawler.check.probe import extension

    assert extension(name) == posixpath.splitext(name)[1]


# wants_head() as it was: a regex search anchored at the path's end.
_FILE_RE = re.compile(
    r"\.(?:pdf|docx?|xlsx?|pptx?|odt|ods|odp|rtf|zip|gz|tgz|bz2|xz|7z|rar|tar|epub|mobi|djvu|ps|"
    r"mp3|mp4|m4a|avi|mov|wmv|mkv|webm|ogg|wav|flac|jpe?g|png|gif|tiff?|bmp|svg|webp|csv|tsv|xml|json|iso)$",
    re.IGNORECASE,
)


@given(st.lists(st.sampled_from(["/", ".", "pdf", "PDF", "PdF", "jpg", "jpeg", "JPEG", "tif", "tiff", "docx", "doc",
                                 "tar", "gz", "7z", "html", "a", "x", "p", "s", "S", "%2E"]), max_size=8).map("".join),
       st.sampled_from(["", "?a=b.pdf", "?x"]))
def test_head_first_for_exactly_the_files_the_regex_named(path: str, query: str) -> None:
    # Canonical URLs, the only ones checked, have ASCII paths (the rest is percent-encoded).
    from crawler.check.http import wants_head

    path = "/" + path
    assert wants_head(f"https://example.org{path}{query}") == bool(_FILE_RE.search(path))


@given(st.lists(st.sampled_from(["/", ".", "a", "B", "html", "HTML", "pdf", "x.y", "..", "%2F"]), max_size=8)
       .map(lambda parts: "/" + "".join(parts)))
def test_probe_key_groups_paths_by_directory_and_extension_as_before(path: str) -> None:
    from crawler.check.probe import _split, probe_key

    directory, extension, trailing = _split(path)  # what probe_key() took apart before its short cut
    assert probe_key(f"https://example.org{path}") == (
        "https", "example.org", directory, extension.lower(), "/" if trailing else "")


_BODIES = st.sampled_from([b"", b"<html><head><title>Article</title></head><body>text</body></html>",
                           b"<html><head><title>Just a moment...</title></head></html>",
                           b"<script src='/cdn-cgi/challenge-platform/h/b/orchestrate'></script>"])


@given(st.sampled_from([200, 203, 204, 299, 301, 404, 429, 503]), st.booleans(), st.sampled_from([None, "timeout"]),
       st.sampled_from([None, 200, 404, 410, 500]), _BODIES, st.sampled_from([{}, {"cf-mitigated": "challenge"}]),
       st.sampled_from([frozenset(), frozenset({200}), frozenset({204, 404})]),
       st.sampled_from(["GET", "HEAD"]), st.sampled_from(["text/html", "application/pdf", ""]))
def test_the_verdicts_short_cut_gives_what_the_whole_decision_gives(status, redirected, error, probe_status, body,
                                                                     headers, accept, method, content_type):
    from crawler.check.evidence import Evidence
    from crawler.check.verdict import Probe, _decide, decide
    from crawler.model import CheckResult, Redirect

    url = "https://example.org/articles/1.html"
    evidence = Evidence(url=url, final_url="https://example.org/en/1.html" if redirected else url, status=status,
                        method=method, redirects=[Redirect(301, "https://example.org/en/1.html")] if redirected else [],
                        content_type=content_type, headers=headers, body=body, error=error, elapsed=0.12345)
    probe = None if probe_status is None else Probe(status=probe_status, final_url="", tokens=frozenset())
    verdict, reason, detail = _decide(evidence, probe, True, accept)
    assert decide(evidence, probe, dns_trusted=True, accept=accept) == CheckResult(
        verdict, reason, detail, status, evidence.final_url if redirected else None, tuple(evidence.redirects), 0.123)


# The JSON report's row template.

_STRINGS = st.text(alphabet=st.sampled_from(['a', 'é', '"', '\\', '\n', '\x00', '\x85', '\u202e', '\u2028', '\ud800',
                                             '中', '😀', '/', ' ']), max_size=6)


@given(_STRINGS, _STRINGS, st.sampled_from([None, *Verdict]), _STRINGS, _STRINGS | st.none(),
       st.sampled_from([None, 200, 404, True]),
       st.sampled_from([None, "https://example.org/b"]), st.booleans(), st.booleans(),
       st.lists(st.sampled_from([None, AccessDate(2023, 6, 10), AccessDate(2016, 2)]), max_size=3),
       st.sampled_from([(), ("https://example.org/alt",)]), st.booleans(), st.booleans())
def test_a_link_row_from_the_template_is_the_row_the_encoder_writes(url, cited_as, verdict, reason, detail, status,
                                                                    final_url, redirected, uncertain, accessed,
                                                                    alternatives, checked, archived):
    from crawler.report import Report
    from crawler.report.json import _dumps, _link_text, link_json

    references = [Reference("refs.txt", n, f"Reference {n}") for n in range(1, len(accessed) + 1)]
    citations = [Citation(ref, url, cited_as, date) for ref, date in zip(references, accessed)]
    link = Link(url, cited_as, citations, None, alternatives, uncertain)
    result = CheckResult(verdict, reason, detail, status, final_url,
                         (Redirect(301, "https://example.org/b"),) if redirected else (), 0.1)
    report = Report(links=[link], problems=[], references=references, command="audit", network="up",
                    results={url: result} if checked else {},
                    archives={url: ArchiveResult(ArchiveStatus.FOUND, "wayback")} if archived else None)
    ids = {ref: n for n, ref in enumerate(references, 1)}
    got = report.results.get(url)
    assert _link_text(report)(link, got, ids) == _dumps(link_json(link, got, ids, report))


# What an audit imports at every start, seen from a fresh interpreter: this one
# has long since imported and compiled everything.
_AUDIT_IMPORTS = "import crawler.cli, crawler.check.checker, crawler.pipeline, crawler.report.json\n"


def _in_a_fresh_interpreter(code: str) -> None:
    subprocess.run([sys.executable, "-c", _AUDIT_IMPORTS + textwrap.dedent(code)], check=True, timeout=60)


def test_the_rare_patterns_html_and_history_wait_for_their_first_use() -> None:
    _in_a_fresh_interpreter("""
        import sys
        from crawler.check import verdict
        from crawler.check.evidence import page_title

        # vars(), not hasattr(): asking a LazyPattern for what it lacks compiles it.
        assert not any("compiled" in vars(p) for p in (verdict._NOT_FOUND_PART_RE, verdict._TITLE_SEPARATORS_RE,
                                                        verdict._ROOT_PATH_RE))
        assert "html" not in sys.modules
        assert "crawler.tracking" not in sys.modules  # only `crawler run` keeps a history
        from crawler import text

        assert "compiled" not in vars(text._CONTROL_RE)
        # The first use gives the same answers as any later one.
        assert verdict.not_found_title("Error 404 - Page Not Found | Example")
        assert not verdict.not_found_title("Missing plane not found")
        assert verdict.is_root("https://example.org/EN/Index.html") and not verdict.is_root("https://example.org/enx")
        assert page_title(b"<title>Fish &amp; Chips</title>") == "Fish & Chips"
        assert text.visible("a\\x1bb\\u202ec\\td") == "a\\\\x1bb\\\\u202ec\\td"
    """)


def test_the_patterns_made_on_first_use_are_made_once_ignoring_case() -> None:
    from crawler.check import verdict

    root, not_found = verdict._ROOT_PATH_RE, verdict._NOT_FOUND_PART_RE
    assert verdict.is_root("https://example.org/EN/") and verdict.not_found_title("PAGE NOT FOUND")
    made = root.compiled, not_found.compiled
    assert verdict.is_root("https://example.org/fr/") and verdict.not_found_title("Not found")
    assert (root.compiled, not_found.compiled) == made and root.compiled is made[0]
    assert root.compiled.flags & re.IGNORECASE and not_found.compiled.flags & re.IGNORECASE
    assert root.compiled.pattern == root.pattern and not_found.compiled.pattern == not_found.pattern


@given(st.lists(st.sampled_from(["&amp;", "&", "&lt;", "&#233;", "&eacute", "&#x26;", "&&", ";", "amp", "a", "Page",
                                 " ", "\n", "\t", "\xa0", "é", "<b>"]), max_size=12).map("".join))
def test_a_title_is_unescaped_as_html_unescape_would(title: str) -> None:
    import html

    from crawler.check.evidence import decode, page_title

    general = " ".join(html.unescape(decode(title.encode(), "")).split())[:300] or None
    assert page_title(b"<html><title>" + title.encode() + b"</title>") == general


def test_the_pipeline_still_exports_what_a_scheduled_run_adds() -> None:
    import crawler.pipeline
    import crawler.tracking

    for name in ("Tracking", "Standing", "standing"):
        assert getattr(crawler.pipeline, name) is getattr(crawler.tracking, name)


ARGUMENTS = st.lists(st.sampled_from([
    "extract", "audit", "run", "fix", "audits", "-h", "--help", "--version", "--", "-q", "--quiet", "-o", "out.json",
    "--format", "json", "markdown", "--config", "c.toml", "--no-archive", "--save", "--state", "s.db",
    "--recheck-all", "--timeout", "5", "0", "--fail-on", "dead", "x", "--accept", "200..299", "--dns-server",
    "[::1]:5353", "--include", "(", "refs.txt", "-", "--max-per-host", "--reports", "--encoding", "utf-8",
]), max_size=8)


def _parsed(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[object, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            outcome: object = vars(parser.parse_args(argv))
        except SystemExit as exc:
            outcome = ("exit", exc.code)
    return outcome, out.getvalue(), err.getvalue()


@given(ARGUMENTS)
def test_the_parser_of_the_named_command_alone_parses_as_the_whole_one(argv: list[str]) -> None:
    from crawler.cli import COMMANDS, _parser

    named = argv[0] if argv and argv[0] in COMMANDS else None
    assert _parsed(_parser(named), argv) == _parsed(_parser(), argv)


# Access phrases and dates, glued to what comes before them: masked URLs, words, the look-behind's letters.
DATE_PIECES = st.sampled_from([
    "accessed", "Accessed", "last accessed", "date of access", "(accessed ", "[Accessed: ", "retrieved",
    "дата обращения: ", "consulté le ", "abgerufen am ", "cit. ", "閲覧", "viewed on ", "10.06.2023", "31.02.2023",
    "3 March 2021", "March 3, 2021", "2021-03-03", "2099-01-01", "1.1.1980", "20.0.2020", "2021年3月3日", "Feb 2016",
    ")", "]", ".", " ", "  ", "\n", "\x00" * 30, "\x00", "x", "a", "1", "İ", "１０.０６.２０２３", "date", "     ",
])
DATE_TEXT = st.one_of(st.lists(DATE_PIECES, max_size=12).map("".join), TEXT)


@given(st.lists(DATE_TEXT, min_size=1, max_size=4),
       st.sampled_from([None, dates._dt.date(2022, 1, 1), dates._dt.date(2026, 11, 22)]))
def test_access_dates_read_from_a_tail_seen_before_are_those_read_afresh(texts, today):
    dates._TAILS.clear()
    remembered = [dates.find_access_dates(text, today=today) for text in texts + texts]  # the second round hits
    dates._READ_TAILS = False
    try:
        afresh = [dates.find_access_dates(text, today=today) for text in texts + texts]
    finally:
        dates._READ_TAILS = True
    assert remembered == afresh


def _lazy_patterns() -> list[LazyPattern]:
    from crawler.extract import formats, sources
    found = [p for p in dates._FORMS if isinstance(p, LazyPattern)]
    for module in (dates, formats, sources):
        found += [value for name, value in vars(module).items() if isinstance(value, LazyPattern)]
    return found


def test_the_rarely_needed_patterns_are_compiled_lazily():
    assert len([p for p in dates._FORMS if isinstance(p, LazyPattern)]) == len(dates._FORMS) - 2
    assert len(_lazy_patterns()) == len(dates._FORMS) - 2 + 4 + 14 + 3  # dates, formats, sources


@given(st.one_of(DATE_TEXT, st.lists(st.sampled_from(["@article{", "\\url{", "\\href{a}{b}", "```", "# ", "[x](",
                                                      "<html>", "http://", "`", "\\'e", "|", " ", "\n"]),
                                     max_size=10).map("".join)),
       st.integers(min_value=0, max_value=40))
def test_lazily_compiled_patterns_match_as_compiled_ones(text, pos):
    for pattern in _lazy_patterns():
        subject = text.encode("utf-8", "replace") if isinstance(pattern.pattern, bytes) else text
        compiled = re.compile(pattern.pattern, pattern.flags)
        for method in ("match", "fullmatch", "search"):
            new, old = getattr(pattern, method)(subject, pos), getattr(compiled, method)(subject, pos)
            assert (new and (new.span(), new.groups())) == (old and (old.span(), old.groups()))
        assert [m.span() for m in pattern.finditer(subject)] == [m.span() for m in compiled.finditer(subject)]


def _any_case(words: list[str]) -> st.SearchStrategy[str]:
    """Each word in any mix of upper and lower case."""
    return st.sampled_from(words).flatmap(
        lambda word: st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
            lambda upper: "".join(c.upper() if u else c for c, u in zip(word, upper))))


# Every alternative of the access phrase pattern, typos included, and words that are not one.
KEYWORD_PHRASES = ["last accessed", "date accessed", "first accessed", "accessed", "acessed", "asessed", "acsessed",
                   "accesed", "assessed", "acccessed", "accessed on", "accessed at", "access", "date of access",
                   "access date", "last viewed", "viewed", "visited", "consulted", "retrieved on", "downloaded",
                   "checked", "cited", "cit.", "citováno", "citováno dne", "page consultée", "consultés", "consulté le",
                   "date de consultation", "zuletzt abgerufen am", "abgerufen", "aufgerufen", "zugegriffen",
                   "eingesehen am", "letzter zugriff", "zugriff am", "consultado", "consultada el", "recuperado en",
                   "fecha de consulta", "fecha de acceso", "accedido el", "último acceso", "acceso el", "consultato il",
                   "ultimo accesso", "data di accesso", "data consultazione", "acesso em", "acessado", "дата обращения",
                   "последнее обращение", "最終閲覧日", "アクセス", "引用日期", "ſ", "K", "ı", "İ", "x", "", "lasting",
                   "data", "accessible", "author", "consultancy", "citation"]
KEYWORD_WORDS = [*KEYWORD_PHRASES, " ", "  ", "\n", ":", "(", "[", "3 March 2021", "10.06.2023", " 3 March 2021",
                 ": 10.06.2023", ", 2021-03-03"]
ACCESS_OPENING = st.builds(lambda phrase, gap, date, rest: phrase + gap + date + rest, _any_case(KEYWORD_PHRASES),
                           st.sampled_from(["", " ", ": ", "\n", "  ", " on ", ", "]),
                           st.sampled_from(["3 March 2021", "10.06.2023", "2021-03-03", "31.02.2023", "x", ""]),
                           st.sampled_from(["", ")", " more"]))


@given(st.one_of(ACCESS_OPENING, st.lists(_any_case(KEYWORD_WORDS), max_size=6).map("".join), TEXT, DATE_TEXT))
def test_a_line_is_seen_to_open_with_an_access_date_as_the_pattern_sees_it(text):
    m = dates._KEYWORD_RE.match(text)
    assert dates.starts_with_access_date(text) == bool(m and dates.parse_date(text[m.end():])[2])


@pytest.mark.parametrize("phrase", KEYWORD_PHRASES)
def test_every_access_phrase_is_seen_to_open_a_line(phrase):
    for text in (phrase, phrase.upper(), phrase.title(), phrase.capitalize()):
        for line in (text + " 3 March 2021", text + ": 10.06.2023", text):
            m = dates._KEYWORD_RE.match(line)
            assert dates.starts_with_access_date(line) == bool(m and dates.parse_date(line[m.end():])[2])


LABEL_WORDS = ["available", "at", "from", "online", "on", "line", "retrieved", "url", "режим", "доступа",
               "доступно", "по", "ссылке", "disponible", "sur", "en", "à", "a", "ligne", "disponível", "em",
               "recuperado", "obtenido", "extraído", "de", "verfügbar", "abrufbar", "unter", "[online]",
               "[en ligne]", "link", "dostupné", "dostupný", "z", "na", "[", "ſ", "K", "İ", " ", "\n", ":", "x"]


LABELS = ["available at", "available from", "available online", "available online at", "available on line",
          "available:", "available :", "retrieved from", "url:", "url :", "режим доступа", "доступно по ссылке",
          "disponible sur", "disponible en", "disponible à", "disponible a", "disponible en ligne", "disponível em",
          "recuperado de", "obtenido de", "extraído de", "verfügbar unter", "abrufbar unter", "online verfügbar",
          "[online]", "[en ligne]", "en ligne:", "en ligne :", "link:", "dostupné z", "dostupný na", "dostupná online"]


@given(st.one_of(_any_case(LABELS), st.lists(_any_case(LABEL_WORDS), max_size=6).map("".join), TEXT))
def test_a_line_is_seen_to_open_with_a_label_as_the_pattern_sees_it(line):
    assert urls.starts_with_label(line) == (urls.LABEL_RE.match(line) is not None)


@pytest.mark.parametrize("label", LABELS)
def test_every_label_is_seen_to_open_a_line(label):
    for line in (label, label.upper(), label.title(), label + " https://example.org/"):
        assert urls.LABEL_RE.match(line) is not None
        assert urls.starts_with_label(line)
        found = [m.span() for m in urls.find_labels("See " + line)]
        assert found == [m.span() for m in urls.LABEL_RE.finditer("See " + line)] and found[0][0] == 4


@given(st.one_of(_any_case(LABELS), st.lists(_any_case(LABEL_WORDS), max_size=8).map("".join), TEXT))
def test_labels_found_past_the_stem_test_are_all_there_are(text):
    assert [m.span() for m in urls.find_labels(text)] == [m.span() for m in urls.LABEL_RE.finditer(text)]


@given(st.lists(TEXT, max_size=6), st.sampled_from(["items", "done"]))
def test_the_extraction_child_pickles_as_pickle_dumps(texts, kind):
    import pickle

    from crawler.extract.background import _dumps
    from crawler.extract.references import read_entry
    from crawler.extract.sources import Document
    from crawler.extract.split import Entry
    from crawler.model import InputError

    items = [Document("list.txt", None), InputError("list.txt:3", "bad", fatal=False)]
    items += [read_entry(Entry("list.txt", line, text)) for line, text in enumerate(texts, 1) if text.strip()]
    message = ("items", items) if kind == "items" else ("done", len(items))
    assert _dumps(message) == pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    assert repr(pickle.loads(_dumps(message))) == repr(message)


@given(_STRINGS, st.integers(min_value=0, max_value=10**6), _STRINGS, st.sampled_from([None, 1, 12]),
       st.integers(min_value=1, max_value=10**6))
def test_a_reference_from_the_template_is_the_one_the_encoder_writes(source, line, text, number, ident):
    from crawler.report.json import _dumps, reference_json, reference_text

    ref = Reference(source, line, text, number)
    assert reference_text(ref, ident) == _dumps(reference_json(ref, ident))


# The frozen result types whose __init__ crawler.model.quick_init made.
QUICK_INIT = sorted(
    (cls for module in (model, references) for cls in vars(module).values()
     if isinstance(cls, type) and "__dataclass_init__" in vars(cls)),
    key=lambda cls: cls.__name__)
ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.tuples(st.integers()))


def test_quick_init_covers_the_types_each_link_makes():
    assert {"AccessDate", "Reference", "Citation", "CheckResult", "ReadReference"} <= {c.__name__ for c in QUICK_INIT}


@pytest.mark.parametrize("cls", QUICK_INIT, ids=lambda cls: cls.__name__)
def test_a_quick_init_takes_the_dataclass_inits_parameters(cls):
    assert inspect.signature(cls.__init__) == inspect.signature(cls.__dataclass_init__)


@pytest.mark.parametrize("cls", QUICK_INIT, ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_a_quick_init_sets_exactly_what_the_dataclass_init_sets(cls, data):
    fields = dataclasses.fields(cls)
    required = sum(f.default is dataclasses.MISSING for f in fields)
    values = data.draw(st.lists(ANY_VALUE, min_size=required, max_size=len(fields)))
    quick = cls(*values)
    general = object.__new__(cls)
    cls.__dataclass_init__(general, *values)
    for f in fields:
        assert getattr(quick, f.name) is getattr(general, f.name)


@pytest.mark.parametrize("cls", QUICK_INIT, ids=lambda cls: cls.__name__)
def test_a_quick_init_leaves_the_type_frozen(cls):
    fields = dataclasses.fields(cls)
    made = cls(*[0 for f in fields if f.default is dataclasses.MISSING])
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, fields[0].name, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(made, fields[0].name)
    with pytest.raises(TypeError):
        cls(*range(len(fields) + 1))  # one argument too many, as before


def test_quick_init_refuses_a_field_it_cannot_set_as_dataclass_would():
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithFactory:
        items: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match="not a plain field"):
        model.quick_init(WithFactory)

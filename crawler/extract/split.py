"""Splitting a plain-text reference list into entries.

Reference lists arrive numbered ("1.", "[1]"), bulleted, blank-line separated,
with hanging indents, or one per line with wrapped continuation lines, and
often mixed with the paper's own prose. The splitter keeps line breaks inside
an entry so the URL scanner can decide whether a URL was broken across lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from crawler.extract.dates import find_access_dates, starts_with_access_date
from crawler.extract.urls import _START_RE, clean_text, find_urls, may_start_url, starts_with_label


# Slotted, not frozen: a frozen dataclass sets each field through
# object.__setattr__, and every reference is one. Never changed once made.
@dataclass(slots=True)
class Entry:
    """One reference's text as found in a document, before URLs are read from it.

    ``scan`` is what the URL scanner reads: the text with its original line
    breaks, plus, for markup formats, the link targets the markup carries.
    """

    source: str
    line: int
    text: str
    scan: str = ""
    number: int | None = None  # the reference's number in its list ("12.", "[12]")

    def __post_init__(self) -> None:
        if not self.scan:
            self.scan = self.text


# A dash that is not the start of MLA's "---." (same author as above).
_BULLET_RE = re.compile(r"[ \t]*(?:[-–—•·▪●◦‣⁃](?![-–—])(?=[ \t]*\S)|[*+](?=[ \t]+\S))[ \t]*")
# MLA's "---." for "same author as above" starts a reference of its own.
_SAME_AUTHOR_RE = re.compile(r"[ \t]*[-–—_]{2,}[ \t]*[.,]")
# Markdown link reference definitions, "[carnegie-2019]: <https://…>".
_DEFINITION_RE = re.compile(r"[ \t]{0,3}\[[^\]]+\]:(?=[ \t]*\S)")
# Any number of digits: a list of 20,000 references has five-digit numbers.
_BRACKET_NUMBER_RE = re.compile(r"[ \t]*\[(\d+)\][ \t]*")
_NUMBER_RE = re.compile(r"[ \t]*\(?(\d+)[.)](?=[ \t]|$)[ \t]*")
# The start of a new reference in styles without markers: "Surname, X." or
# "Surname X." or "SURNAME, X.", possibly with a particle ("van", "de").
_AUTHOR_START_RE = re.compile(
    r"(?:(?:van|von|de|der|den|du|da|di|le|la|al|el|bin|ibn)\s+)*"
    r"[A-ZА-ЯЁ][\w'’-]+(?:,\s*(?:[A-ZА-ЯЁ]\.|[A-ZА-ЯЁ][a-zа-яё]+)|\s+[A-ZА-ЯЁ]\.)"
)
# APA and its cousins: "Castells, M. (2009).", "Ministerio de Ciencia. (2020).", "(s.f.)".
_AUTHOR_YEAR_RE = re.compile(
    r"[A-ZÀ-ÖØ-ÞА-ЯЁ][^()]{0,150}?\((?:\d{4}[a-z]?|s\.\s?f\.|n\.\s?d\.|б\.\s?г\.)(?:,[^)]{0,30})?\)\.")
_TERMINAL = ".)]”\"»!?"
_DOI_END_RE = re.compile(r"(?:^|:)10\.\d{4,9}/$")
# APA's date, wrapped away from its author or from its title.
_APA_DATE_START_RE = re.compile(r"\((?:\d{4}[a-z]?|n\.\s?d\.|s\.\s?f\.)(?:,[^)]{0,30})?\)[.,]")
_APA_DATE_END_RE = re.compile(r"(?:^|\.\s)\((?:\d{4}[a-z]?|n\.\s?d\.|s\.\s?f\.)(?:,[^)]{0,30})?\)\.$")
# Lines ending in an initial or an abbreviation that never ends a reference
# ("U.S.", "pp.", "No.", "et al.") have not ended their sentence. Not "p." or
# "ed.": "368 p." and "2nd ed." do end references.
_ABBREVIATION_END_RE = re.compile(
    r"(?:\b(?-i:[A-Z]\.){1,3}|\b(?:pp|vol|vols|no|nos|eds|trans|et al|e\.g|i\.e|cf|vs|mr|mrs|ms|dr|st|jr|sr|"
    r"под ред)\.)$",
    re.IGNORECASE)
# No reference runs longer; past this, prose that never ends a sentence at a
# line end (a pasted novel) is cut, so work stays linear in the input.
MAX_LINES = 60
# Quoting in e-mail and Markdown: "> > From the syllabus…"
_QUOTE_RE = re.compile(r"[ \t]*(?:>[ \t]?)+")
# A table row ("| Source | URL | Accessed |") is a reference of its own.
TABLE_ROW_RE = re.compile(r"[ \t]*\|(.*)\|[ \t]*$")  # the group holds the cells
TABLE_RULE_RE = re.compile(r"[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*(?::?-{3,}:?)?[ \t]*$")


# What no reference begins with, only goes on with: a publication statement
# before an ISO 690 citation date ("Praha: ČHMÚ, 2019 [cit. …]", "Praha, 2020
# [cit. …]"; without the bracket, "UNESCO: World Water Report, 2020." may begin
# one), or a year and volume ("2018, 8, 9499 [cit. …]").
_PUBLICATION_LINE_RE = re.compile(
    r"[^\W\d_][\w.-]{1,30}(?:\s[^\W\d_][\w.-]{1,30})?(?:\s?:\s[^,:\n\[]{1,80})?,\s(?:\d{4}|s\.\s?a\.)"
    r"\s*\[(?:cit|cited|online|viewed|accessed)"
    r"|\d{4}[a-z]?,\s*(?:roč\.\s*|vol\.\s*)?\d{1,4},\s*(?:č\.\s*|no\.\s*)?\d",
    re.IGNORECASE,
)


@dataclass(slots=True)
class _Open:
    line: int
    indent: int
    marked: bool
    lines: list[str] = field(default_factory=list)
    last_indent: int = 0
    number: int | None = None

    def text(self) -> str:
        return "\n".join(self.lines)


def _indent(line: str) -> int:
    stripped = line.lstrip(" \t")
    return len(line[: len(line) - len(stripped)].expandtabs(4))


class _Numbering:
    """Accepts "12." as a marker only when it follows "11.": a wrapped line can start with "2001."."""

    def __init__(self) -> None:
        self.last: int | None = None

    def accept(self, number: int) -> bool:
        # A list may begin past 1 (a page of a longer list), but one that
        # begins past 999 is a wrapped line starting with a year ("2019.").
        if self.last is None and number < 1000 or number == (self.last or 0) + 1 or number == 1:
            self.last = number
            return True
        return False


_FAST_LINES = True  # tests turn it off to compare


def split_entries(lines: Iterable[str], source: str, *, first_line: int = 1) -> Iterator[Entry]:
    """Group lines into reference entries. ``lines`` carry no line ends."""
    current: _Open | None = None
    numbering = _Numbering()

    def flush() -> Iterator[Entry]:
        nonlocal current
        if current is not None and any(map(str.strip, current.lines)):
            yield Entry(source, current.line, current.text(), number=current.number)
        current = None

    for lineno, raw in enumerate(lines, first_line):
        line = clean_text(raw).rstrip()
        if _FAST_LINES and line[:1].isalpha():
            # Most lines: one that starts with a letter is not indented, and no
            # quote, table, definition, "---." or list marker can start it, so
            # only the last two cases below apply (tests/test_properties.py
            # compares this with the general way).
            if current is not None and len(current.lines) < MAX_LINES and _continues(current, line, 0):
                current.lines.append(line)
                current.last_indent = 0
                continue
            if current is not None and any(map(str.strip, current.lines)):  # flush(), without a generator
                yield Entry(source, current.line, current.text(), number=current.number)
            current = _Open(lineno, 0, False, [line], 0)
            continue
        if line.lstrip().startswith(">"):
            line = _QUOTE_RE.sub("", line, count=1)
        if not line.strip() or TABLE_RULE_RE.match(line):
            yield from flush()
            continue
        if TABLE_ROW_RE.match(line):
            yield from flush()
            yield Entry(source, lineno, line.strip())
            continue
        if _DEFINITION_RE.match(line) or _SAME_AUTHOR_RE.match(line):
            # Always a reference of its own, but not a list marker that the
            # following unmarked lines would belong to.
            yield from flush()
            current = _Open(lineno, _indent(line), False, [line.strip()], _indent(line))
            continue
        marker = _marker(line, numbering)
        if marker is not None:
            body, number = marker
            yield from flush()
            current = _Open(lineno, _indent(line), True, [body.strip()], _indent(line), number)
            continue
        indent = _indent(line)
        if current is not None and len(current.lines) < MAX_LINES and _continues(current, line.strip(), indent):
            current.lines.append(line.strip())
            current.last_indent = indent
            continue
        yield from flush()
        current = _Open(lineno, indent, False, [line.strip()], indent)
    yield from flush()


def _marker(line: str, numbering: _Numbering) -> tuple[str, int | None] | None:
    """The text after a list marker and the item's number, or None when the line starts no list item."""
    m = _BRACKET_NUMBER_RE.match(line)
    if m:
        numbering.last = int(m.group(1))
        return line[m.end():], numbering.last
    m = _NUMBER_RE.match(line)
    if m and numbering.accept(int(m.group(1))):
        return line[m.end():], int(m.group(1))
    m = _BULLET_RE.match(line)
    if m:
        return line[m.end():], None
    return None


def _continues(entry: _Open, line: str, indent: int) -> bool:
    """Whether ``line`` carries on ``entry`` rather than starting a new reference."""
    previous = entry.lines[-1]
    if _url_runs_on(previous, line):
        return True
    if entry.marked:
        # In a numbered or bulleted list, unmarked lines belong to the item above.
        return True
    if indent > entry.indent:
        return True  # hanging indent
    if entry.indent > 0 and indent < entry.indent:
        return True  # first-line indent
    if entry.last_indent > indent:
        return False  # back at the margin after an indented continuation
    if _START_RE.match(line) or starts_with_label(line):
        # "Available at: …" or a URL on its own line finishes the reference above,
        # unless that one has its URL already (a plain list of URLs).
        text = entry.text()
        return not (may_start_url(text) and _START_RE.search(text))
    if starts_with_access_date(line.lstrip("([ ")):
        return not find_access_dates(entry.text())
    if _AUTHOR_START_RE.match(line) or _AUTHOR_YEAR_RE.match(line):
        return False
    if _PUBLICATION_LINE_RE.match(line):
        return True  # "… [online]." + "Praha: ČHMÚ, 2019 [cit. 2021-03-03]": no reference starts so
    if len(entry.lines) == 1 and _looks_like_heading(previous):
        return False
    if _APA_DATE_START_RE.match(line) or _APA_DATE_END_RE.search(previous):
        return True  # "Ministry of …." + "(2020). Title", or "Author. (2022, January 6)." + "Title"
    if previous[-1] not in _TERMINAL and not previous.endswith(("://", "/")) and not _ends_with_url(previous):
        return True  # the sentence is not finished
    if _ABBREVIATION_END_RE.search(previous):
        return True  # "…Russia, China, and the U.S." + "Kennan Cable No. 56": a full stop that ends no sentence
    return line[0].islower()


def _looks_like_heading(line: str) -> bool:
    """"Cases", "Works Cited", "Legislation and International Materials", "参考文献"."""
    words = line.split()
    return (len(words) <= 6 and len(line) <= 60 and line[-1] not in ",;:-–—(&" and line[0].isupper() or
            not line.isascii() and len(line) <= 12 and line.isalpha()) and not any(c.isdigit() for c in line)


def _ends_with_url(line: str) -> bool:
    last = line.rsplit(None, 1)[-1]
    return may_start_url(last) and bool(_START_RE.search(last)) and not last.endswith(":")


def _url_runs_on(previous: str, line: str) -> bool:
    """A URL at the end of ``previous`` that ``line`` continues ("doi: 10.1080/" + "02634937…")."""
    last = previous.rsplit(None, 1)[-1] if previous.strip() else ""
    # _DOI_END_RE ends in "/$", and ``last`` holds no line end.
    if not (may_start_url(last) and _START_RE.search(last) or last.endswith("/") and _DOI_END_RE.search(last)):
        return False  # no URL (or DOI cut after its "/") at the end of the line
    # Read the seam as the URL scanner will: the end of the line above, the
    # line break and the next line's first token. A URL found across it runs on.
    tail = previous[-300:]
    seam = len(tail)
    joint = tail + "\n" + line[:300]  # more than the first token: what follows it matters too
    return any(item.start < seam < item.end for item in find_urls(joint))

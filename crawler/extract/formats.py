"""Turning each input format into reference entries.

Plain text goes straight to the splitter. Markdown is first stripped of the
syntax that is not reference text (code, headings, link brackets). HTML and
BibTeX carry their link targets in markup, which is more trustworthy than the
visible text (an anchor often shows an elided "https://…shan…" while its href is
whole), so their entries hand the scanner the targets themselves.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

from crawler.extract.split import TABLE_ROW_RE, TABLE_RULE_RE, Entry, split_entries
from crawler.extract.urls import clean_text
from crawler.lazy import LazyPattern
from crawler.model import InputError


class Format:
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
    BIBTEX = "bibtex"


def text_entries(lines: Iterable[str], source: str) -> Iterator[Entry]:
    return split_entries(lines, source)


# --- Markdown -----------------------------------------------------------------

_FENCE_RE = LazyPattern(r"[ \t]{0,3}(`{3,}|~{3,})")
_BLOCK_SYNTAX_RE = LazyPattern(r"[ \t]{0,3}(?:#{1,6}(?:[ \t]|$)|(?:[-*_][ \t]*){3,}$|=+[ \t]*$|<!--.*-->[ \t]*$)")
_BACKTICKS_RE = LazyPattern(r"`+")
_MD_LINK_RE = LazyPattern(
    r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"
    r"\(\s*(<[^<>\n]*>|(?:[^()\s]|\((?:[^()\s]|\([^()\s]*\))*\))+)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
_MD_ESCAPE_RE = LazyPattern(r"\\([\\`*_{}\[\]()#+\-.!])")
_URLISH_RE = LazyPattern(r"^\s*(?:[a-z][a-z0-9+.-]*://|www\.|doi:)", re.IGNORECASE)


def _markdown_link(m: re.Match[str]) -> str:
    text, target = m.group(1), m.group(2).strip("<>")
    # Link text that is itself a URL is usually an elided copy of the target.
    if _URLISH_RE.match(text):
        return f"<{target}>"
    return f"{text} <{target}>"


_ACCESS_HEADER_RE = LazyPattern(r"access|retriev|visit|consult|abgeruf|zugriff|обращени|閲覧|アクセス|引用|访问|fecha",
                               re.IGNORECASE)


def _cells(line: str) -> list[str] | None:
    m = TABLE_ROW_RE.match(line)
    return [cell.strip() for cell in m.group(1).split("|")] if m else None


def markdown_lines(lines: Iterable[str]) -> Iterator[str]:
    """Markdown lines with non-reference syntax blanked, one output line per input line.

    In a table whose header names an access column, that column's cells
    become "accessed: …", so each row is read as a reference with its date.
    """
    fence: str | None = None
    header: list[str] | None = None
    access_columns: set[int] = set()
    for line in lines:
        m = _FENCE_RE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            yield ""
            continue
        if m:
            fence = m.group(1)
            yield ""
            continue
        if _BLOCK_SYNTAX_RE.match(line):
            yield ""
            continue
        cells = _cells(line)
        if cells is None:
            header, access_columns = None, set()
        elif TABLE_RULE_RE.match(line):
            access_columns = {i for i, name in enumerate(header or []) if _ACCESS_HEADER_RE.search(name)}
        elif access_columns:
            line = "| " + " | ".join(f"accessed: {cell}" if i in access_columns and cell else cell
                                     for i, cell in enumerate(cells)) + " |"
        else:
            header = cells
        line = blank_inline_code(line)
        line = _MD_LINK_RE.sub(_markdown_link, line)
        yield _MD_ESCAPE_RE.sub(r"\1", line)


def blank_inline_code(line: str) -> str:
    """``line`` with its code spans (`` `x` ``, ``` ``a`b`` ```) blanked to spaces.

    A run of n backticks opens a span that the next run of exactly n closes;
    with no such run it is literal. Each length's runs are visited once,
    where a backtracking pattern took minutes on a line of growing runs.
    """
    if "`" not in line:
        return line
    runs = [(m.start(), m.end()) for m in _BACKTICKS_RE.finditer(line)]
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    cursor = dict.fromkeys(by_length, 0)  # per length: the first of its runs not yet passed
    pieces: list[str] = []
    done = 0
    i = 0
    while i < len(runs):
        start, end = runs[i]
        same = by_length[end - start]
        k = cursor[end - start]
        while k < len(same) and same[k] <= i:
            k += 1
        cursor[end - start] = k
        if k == len(same):
            i += 1  # never closed: literal backticks
            continue
        close = runs[same[k]][1]
        pieces.append(line[done:start])
        pieces.append(" " * (close - start))
        done = close
        i = same[k] + 1
    pieces.append(line[done:])
    return "".join(pieces)


def markdown_entries(lines: Iterable[str], source: str) -> Iterator[Entry]:
    return split_entries(markdown_lines(lines), source)


# --- HTML ---------------------------------------------------------------------

_BLOCKS = frozenset(
    "address article aside blockquote body caption dd details div dl dt figcaption figure form "
    "h1 h2 h3 h4 h5 h6 hr li main ol p pre section summary table tbody td tfoot th thead tr ul".split()
)
_SKIPPED = frozenset("script style noscript template head nav header footer svg math button select".split())
_CHECKED_SCHEMES = ("http://", "https://", "ftp://", "doi:")


@dataclass
class _Segment:
    line: int | None = None
    number: int | None = None  # of the <ol> item it begins
    text: list[str] = field(default_factory=list)
    scan: list[str] = field(default_factory=list)

    def add(self, text: str, line: int | None, scan: str | None = None) -> None:
        if self.line is None and text.strip():
            self.line = line
        self.text.append(text)
        self.scan.append(text if scan is None else scan)


def html_entries(content: bytes | str, source: str) -> Iterator[Entry]:
    """One entry per innermost block (or <br>-separated line) of an HTML page."""
    from bs4 import BeautifulSoup, Comment, Declaration, Doctype, ProcessingInstruction
    from bs4 import MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        # A page that is only a URL (or a file name) is a reference list of one
        # link, not a mistake: without this, bs4 printed ten lines of advice.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(content, "html.parser")
    base_tag = soup.find("base", href=True)
    base = str(base_tag["href"]) if base_tag is not None else ""
    entries: list[Entry] = []
    segment = _Segment()

    def flush() -> None:
        nonlocal segment
        text = clean_text("".join(segment.text))
        if text.strip():
            entries.append(Entry(source, segment.line or 1, " ".join(text.split()),
                                 clean_text("".join(segment.scan)), segment.number))
            segment = _Segment()
        else:  # "<li><p>…": the item's number goes to its first text
            segment = _Segment(number=segment.number)

    counters: dict[int, int] = {}  # id of an <ol> → the number of its next item

    # An explicit stack, not recursion: an input of 1,000 nested <div>s is
    # 11 KB, and a recursive walk dies on it.
    stack = [(soup, iter(soup.children), False)]
    while stack:
        node, children, block = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if block:
                flush()
            continue
        if isinstance(child, (Comment, Doctype, Declaration, ProcessingInstruction)):
            continue
        if isinstance(child, str):
            segment.add(str(child), node.sourceline)
            continue
        name = child.name
        if name in _SKIPPED:
            continue
        if name == "br":
            flush()
        elif name == "a":
            visible = child.get_text()
            href = _absolute(str(child.get("href") or ""), base)
            if href is None:
                segment.add(visible, child.sourceline)
            elif _URLISH_RE.match(visible):
                segment.add(visible, child.sourceline, f" <{href}> ")
            else:
                segment.add(visible, child.sourceline, f"{visible} <{href}> ")
        else:
            if name in _BLOCKS:
                flush()
            if name == "ol":
                counters[id(child)] = _integer(child.get("start"), 1)
            elif name == "li" and id(node) in counters:
                number = _integer(child.get("value"), counters[id(node)])
                counters[id(node)] = number + 1
                segment.number = number
            stack.append((child, iter(child.children), name in _BLOCKS))

    flush()
    yield from entries


def _integer(value: object, default: int) -> int:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else default


def _absolute(href: str, base: str) -> str | None:
    href = href.strip()
    if base and not href.lower().startswith(_CHECKED_SCHEMES):
        try:
            href = urljoin(base, href)
        except ValueError:  # a malformed <base> ("http://[/"): the link cannot be resolved
            return None
    elif href.startswith("//"):
        href = "http:" + href
    return href if href.lower().startswith(_CHECKED_SCHEMES) else None


# --- BibTeX -------------------------------------------------------------------

_BIB_MONTHS = {m: str(i) for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_URL_FIELDS = ("url", "howpublished", "note", "annote", "annotation", "addendum")
_ACCESS_FIELDS = ("urldate", "lastchecked", "accessed", "access-date", "accessdate",
                  "urlaccessdate", "visited", "access_date")
_ACCENTS = {'"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303",
            "=": "\u0304", ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306",
            "H": "\u030b", "k": "\u0328"}
_LATEX_ACCENT_RE = LazyPattern(r"\\([\"'`^~=.]|[cvuHk](?=[\s{]))\s*\{?\s*(?:\\([ij])|([A-Za-z]))\s*\}?")
_LATEX_SYMBOLS = {r"\ss": "ß", r"\o": "ø", r"\O": "Ø", r"\ae": "æ", r"\AE": "Æ", r"\oe": "œ",
                  r"\aa": "å", r"\AA": "Å", r"\l": "ł", r"\L": "Ł", r"\i": "ı"}
_LATEX_SYMBOL_RE = LazyPattern(r"\{?(" + "|".join(re.escape(s) for s in
                                                _LATEX_SYMBOLS) + r")(?![A-Za-z])\s*\}?")
_URL_COMMAND_RE = LazyPattern(r"\\(?:url|path)\s*\{([^{}]*)\}")
_HREF_COMMAND_RE = LazyPattern(r"\\href\s*\{([^{}]*)\}\s*\{([^{}]*)\}")


def latex_url(text: str) -> str:
    """A URL as written in a BibTeX field, with LaTeX escapes removed."""
    text = re.sub(r"\\textasciitilde\s*(?:\{\})?|\\~\{\}|\{\\textasciitilde\}", "~", text)
    text = re.sub(r"\\([_%&#$~])", r"\1", text)
    return text.replace("{", "").replace("}", "")


_BARE_URL_RE = LazyPattern(r"(?:https?|ftp)://[^\s{}]+", re.IGNORECASE)


def latex_text(text: str) -> str:
    """Readable text from a BibTeX field; URLs in it keep their "~" and "_"."""
    urls: list[str] = []

    def keep(url: str) -> str:
        urls.append(latex_url(url))
        return f" \x00{len(urls) - 1}\x00 "

    text = _HREF_COMMAND_RE.sub(lambda m: f"{m.group(2)} <{keep(m.group(1)).strip()}>", text)
    text = _URL_COMMAND_RE.sub(lambda m: keep(m.group(1)), text)
    text = _BARE_URL_RE.sub(lambda m: keep(m.group()), text)
    text = _LATEX_ACCENT_RE.sub(
        lambda m: unicodedata.normalize("NFC", (m.group(3) or m.group(2)) + _ACCENTS[m.group(1)]), text)
    text = _LATEX_SYMBOL_RE.sub(lambda m: _LATEX_SYMBOLS[m.group(1)], text)
    text = re.sub(r"\\([_%&#$])", r"\1", text)
    text = re.sub(r"\\[A-Za-z]+\*?\s*", "", text)
    text = text.replace("---", "—").replace("--", "–").replace("~", " ")
    text = " ".join(text.replace("{", "").replace("}", "").split())
    return re.sub("\x00(\\d+)\x00", lambda m: urls[int(m.group(1))], text)


# A line that starts an entry. No value runs past one: an unclosed "{" costs
# its own entry, where scanning on to the end of the file for each of 4,000
# unclosed values made a file quadratic.
_ENTRY_START_RE = LazyPattern(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*[{(]", re.MULTILINE)
_VALUE_SPECIAL_RE = LazyPattern(r'[\\{}"]')


class _BibSyntaxError(ValueError):
    pass


class _BibParser:
    """A forgiving BibTeX reader: a broken entry is reported and skipped, the rest still read."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.macros = dict(_BIB_MONTHS)
        # What @string macros may add to the document, all uses together. A
        # macro can be two copies of the one before it: thirty such lines,
        # 700 bytes, made a gigabyte. Real files reuse short macros: far less.
        self._expansion_budget = 4 * len(text) + (1 << 20)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._entry_starts = entry_starts(text)

    def line_of(self, pos: int) -> int:
        return bisect.bisect_right(self._line_starts, pos)

    def _limit(self, pos: int) -> int:
        """Where the next entry starts after ``pos``: no value or comment runs past it."""
        i = bisect.bisect_right(self._entry_starts, pos)
        return self._entry_starts[i] if i < len(self._entry_starts) else len(self.text)

    def entries(self) -> Iterator[tuple[int, str, str, dict[str, str]] | tuple[int, str]]:
        text = self.text
        while True:
            at = text.find("@", self.pos)
            if at < 0:
                return
            m = re.compile(r"@\s*([A-Za-z]+)\s*([{(])").match(text, at)
            if not m:
                self.pos = at + 1
                continue
            kind = m.group(1).lower()
            closer = "}" if m.group(2) == "{" else ")"
            self.pos = m.end()
            try:
                if kind in ("comment", "preamble"):
                    self._skip_balanced(m.group(2), closer)
                elif kind == "string":
                    name, value = self._field()
                    self.macros[name] = value
                    self._expect(closer)
                else:
                    key_m = re.compile(r"\s*([^,\s{}()]*)\s*,?").match(text, self.pos)
                    assert key_m is not None
                    self.pos = key_m.end()
                    fields: dict[str, str] = {}
                    while True:
                        self._skip_space()
                        if self.pos >= len(text):
                            raise _BibSyntaxError(f"entry is not closed with “{closer}”")
                        if text[self.pos] == closer:
                            self.pos += 1
                            break
                        name, value = self._field()
                        fields[name] = value
                        self._skip_space()
                        if text.startswith(",", self.pos):
                            self.pos += 1
                    yield (self.line_of(at), kind, key_m.group(1), fields)
            except _BibSyntaxError as exc:
                yield (self.line_of(at), f"malformed BibTeX entry @{kind}: {exc}; skipped")
                # Resume at the next entry that starts a line.
                self.pos = self._limit(at)

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and (self.text[self.pos].isspace()):
            self.pos += 1

    def _expect(self, char: str) -> None:
        self._skip_space()
        if not self.text.startswith(char, self.pos):
            raise _BibSyntaxError(f"expected “{char}” at line {self.line_of(self.pos)}")
        self.pos += 1

    def _skip_balanced(self, opener: str, closer: str) -> None:
        depth, limit = 1, self._limit(self.pos)
        while self.pos < limit and depth:
            c = self.text[self.pos]
            depth += (c == opener) - (c == closer)
            self.pos += 1
        if depth:
            raise _BibSyntaxError(f"not closed with “{closer}” before the next entry")

    def _field(self) -> tuple[str, str]:
        m = re.compile(r"\s*([A-Za-z0-9_:.+\-]+)\s*=\s*").match(self.text, self.pos)
        if not m:
            raise _BibSyntaxError(f"expected a field at line {self.line_of(self.pos)}")
        self.pos = m.end()
        parts = [self._value()]
        while True:
            self._skip_space()
            if not self.text.startswith("#", self.pos):
                break
            self.pos += 1
            self._skip_space()
            parts.append(self._value())
        return m.group(1).lower(), "".join(parts)

    def _value(self) -> str:
        text, start = self.text, self.pos
        if start >= len(text):
            raise _BibSyntaxError("value missing at end of file")
        c = text[start]
        if c in "{\"":
            end = delimited_value_end(text, start, self._limit(start))
            if end is None:
                raise _BibSyntaxError(f"unbalanced braces in the value at line {self.line_of(start)}")
            self.pos = end
            return text[start + 1:end - 1]
        m = re.compile(r"[A-Za-z0-9_:.+\-]+").match(text, start)
        if not m:
            raise _BibSyntaxError(f"unexpected “{c}” at line {self.line_of(start)}")
        self.pos = m.end()
        word = m.group()
        if word.isdigit():
            return word
        value = self.macros.get(word.lower(), word)
        self._expansion_budget -= len(value)
        if self._expansion_budget < 0:
            raise _BibSyntaxError(f"@string macros expand to far more text than the file holds "
                                  f"(“{word[:40]}” at line {self.line_of(start)})")
        return value


def delimited_value_end(text: str, start: int, limit: int) -> int | None:
    """Where a BibTeX value in braces or quotes that opens at ``start`` ends (after its delimiter).

    None when it does not close before ``limit``: the caller passes the start of
    the next entry, so an unclosed brace costs its own entry, not the rest of
    the file, and scanning stays linear.
    """
    opener = text[start]
    depth, i = 0, start
    while True:
        special = _VALUE_SPECIAL_RE.search(text, i, limit)
        if special is None:
            return None
        i = special.start()
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if opener == "{" and depth == 0:
                return i + 1
        elif ch == '"' and opener == '"' and depth == 0 and i > start:
            return i + 1
        i += 1


def entry_starts(text: str) -> list[int]:
    """Where the lines that start a BibTeX entry begin: the bound no value runs past."""
    return [m.start() for m in _ENTRY_START_RE.finditer(text)]


def bibtex_entries(text: str, source: str) -> Iterator[Entry | InputError]:
    for item in _BibParser(text).entries():
        if len(item) == 2:
            line, message = item  # type: ignore[misc]
            yield InputError(f"{source}:{line}", message, fatal=False)
            continue
        line, _kind, key, fields = item  # type: ignore[misc]
        yield _bib_entry(source, line, key, fields)


def _bib_entry(source: str, line: int, key: str, fields: dict[str, str]) -> Entry:
    get = lambda name: latex_text(fields.get(name, ""))  # noqa: E731
    who = get("author") or get("editor") or get("organization") or get("institution")
    where = get("journal") or get("booktitle") or get("publisher") or get("organization")
    parts = [p for p in (who, f"({get('year')})" if get("year") else "", get("title"), where) if p]
    text = ". ".join(parts) or key
    scan = [text]
    for name, value in fields.items():  # in the entry's order, as a reader sees them
        if name == "url":
            scan.append(f" URL: {latex_url(value)} ")
        elif name == "doi":
            doi = latex_url(value).strip()
            scan.append(f" doi:{doi} " if doi.startswith("10.") else f" {doi} ")
        elif name in _URL_FIELDS:
            scan.append(f" {latex_text(value)} ")
    eprint = fields.get("eprint", "").strip()
    if eprint and fields.get("archiveprefix", fields.get("eprinttype", "")).lower() == "arxiv":
        scan.append(f" https://arxiv.org/abs/{eprint} ")
    for name in _ACCESS_FIELDS:
        if name in fields:
            scan.append(f" (accessed {latex_text(fields[name])}) ")
            break
    return Entry(source, line, text, "".join(scan))

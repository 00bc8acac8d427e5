"""``crawler fix``: the reference list back, byte for byte, with archived copies added.

Given a list's bytes, its format and the edits an audit calls for, ``fix``
returns the same bytes except that:

- each dead link gets its snapshot added after it:
  plain text ``URL [archived 2019-06-01: https://web.archive.org/web/…]``,
  Markdown ``[text](URL) [archived 2019-06-01](https://web.archive.org/web/…)``
  (after the whole link, so the link stays valid Markdown),
  BibTeX ``note = {Archived 2019-06-01 at \\url{https://web.archive.org/web/…}}``
  (a new field after the URL's, or appended to an existing note);
- each moved link's URL is replaced by its new one.

Nothing else changes: line endings, the byte-order mark, the encoding, the
spacing of BibTeX fields. Running it again on its own output adds nothing: a
link already followed by an archived copy is left alone.

A citation's ``cited_as`` has PDF line breaks and inserted spaces removed, so
the text is looked for tolerantly (any run of spaces, a line break, a soft
hyphen or a hyphen at a line break may sit between two of its characters;
Markdown and LaTeX escapes too), starting at the reference's first line.
"""

from __future__ import annotations

import bisect
import codecs
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crawler.extract.formats import delimited_value_end, entry_starts
from crawler.model import ArchiveResult, ArchiveStatus, CheckResult, Link, Snapshot, Verdict


class FixError(ValueError):
    """The list cannot be fixed (an unsupported format, an undecodable file)."""


@dataclass(frozen=True)
class ArchiveEdit:
    """A dead link cited at ``line``: add its snapshot after it."""

    line: int  # the reference's first line, 1-based
    cited_as: str
    url: str  # the link's normalised URL
    snapshot_url: str
    timestamp: str  # 14-digit Wayback time (or a prefix)

    @property
    def date(self) -> str:
        t = self.timestamp
        return "-".join(part for part in (t[0:4], t[4:6], t[6:8]) if part)


@dataclass(frozen=True)
class MoveEdit:
    """A moved link cited at ``line``: replace it with ``new_url``."""

    line: int
    cited_as: str
    url: str
    new_url: str


Edit = ArchiveEdit | MoveEdit


@dataclass(frozen=True)
class FixResult:
    content: bytes
    applied: tuple[Edit, ...] = ()
    already: tuple[Edit, ...] = ()  # done by an earlier fix: nothing to add
    skipped: tuple[tuple[Edit, str], ...] = ()  # could not be applied, and why

    @property
    def changed(self) -> bool:
        return bool(self.applied)


TEXT, MARKDOWN, BIBTEX = "text", "markdown", "bibtex"  # the names crawler.extract.formats.Format uses
FORMATS = (TEXT, MARKDOWN, BIBTEX)


# --- Edits from an audit -------------------------------------------------------------


def edits_for(source: str, links: Iterable[Link], results: Mapping[str, CheckResult],
              snapshots: Mapping[str, ArchiveResult | Snapshot]) -> list[Edit]:
    """The edits an audit calls for in one source: its dead links with a snapshot, its moved links.

    A citation that already points into an archive is left as it is, and DOIs
    are never rewritten: a DOI's redirect is how it works, not a move.
    """
    edits: list[Edit] = []
    for link in links:
        result = results.get(link.url)
        if result is None or result.verdict not in (Verdict.DEAD, Verdict.MOVED):
            continue
        snapshot = _snapshot(snapshots.get(link.url))
        for citation in link.citations:
            if citation.reference.source != source:
                continue
            line, cited_as = citation.reference.line, citation.cited_as
            if result.verdict is Verdict.DEAD:
                if snapshot is not None and citation.known_snapshot is None:
                    edits.append(ArchiveEdit(line, cited_as, link.url, *snapshot))
            elif result.final_url and result.final_url != link.url and not _is_doi(link.url, cited_as):
                edits.append(MoveEdit(line, cited_as, link.url, result.final_url))
    return edits


def _snapshot(found: ArchiveResult | Snapshot | None) -> tuple[str, str] | None:
    if isinstance(found, Snapshot):
        return found.url, found.timestamp
    if isinstance(found, ArchiveResult) and found.status in (ArchiveStatus.FOUND, ArchiveStatus.SAVED) \
            and found.snapshot_url:
        return found.snapshot_url, found.timestamp or ""
    return None


def _is_doi(url: str, cited_as: str) -> bool:
    return bool(re.match(r"https?://(?:dx\.)?doi\.org/", url, re.IGNORECASE)) or cited_as.lower().startswith("doi")


def format_of(path: Path, content: bytes) -> str:
    """The format the extractor reads ``path`` as (by extension, else sniffed)."""
    # The extractor's own rule, so that fix never reads a file differently from audit.
    from crawler.extract.sources import Document, _format

    return _format(Document(str(path), path), content[:64 * 1024])


# --- The fix -----------------------------------------------------------------------


def fix(content: bytes, format: str, edits: Sequence[Edit], *, encoding: str | None = None) -> FixResult:
    """``content`` with ``edits`` applied; see the module's docstring."""
    if format not in FORMATS:
        raise FixError(f"cannot write {format} back (only plain text, Markdown and BibTeX)")
    decoded = _Decoded.of(content, encoding)
    text = decoded.text
    lines = _line_starts(text, by_newline=format == BIBTEX or decoded.streamed_as_lines)
    planner = {TEXT: _TextPlanner, MARKDOWN: _MarkdownPlanner, BIBTEX: _BibtexPlanner}[format](text, lines)
    for edit in _unique(edits):
        planner.plan(edit)
    planner.finish()
    changes = sorted(planner.changes, key=lambda c: (c.start, c.end))
    applied: list[Edit] = []
    kept: list[_Change] = []
    skipped = list(planner.skipped)
    for c in changes:
        if kept and c.start < kept[-1].end:
            skipped.extend((e, "overlaps another edit") for e in c.edits)
            continue
        kept.append(c)
        applied.extend(e for e in c.edits if e not in applied)
    return FixResult(decoded.splice(kept), tuple(applied), tuple(planner.already), tuple(skipped))


def _unique(edits: Sequence[Edit]) -> Iterator[Edit]:
    seen: set[Edit] = set()
    for edit in edits:
        if edit not in seen:
            seen.add(edit)
            yield edit


@dataclass
class _Change:
    start: int  # character offsets in the decoded text
    end: int
    text: str
    edits: list[Edit] = field(default_factory=list)


# --- Bytes <-> text, exactly ----------------------------------------------------------


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


@dataclass(frozen=True)
class _Decoded:
    """The text, and how to put edited text back into the original bytes.

    Untouched stretches are copied from the original bytes, not re-encoded,
    so nothing outside an edit can change even where a codec would not
    round-trip.
    """

    raw: bytes
    bom: bytes
    codec: str
    text: str
    # The extractor counts lines by "\\n" for UTF-8 text it streams, and by
    # str.splitlines() (which also breaks at \\r, \\f, \\v, U+2028…) otherwise.
    streamed_as_lines: bool

    @classmethod
    def of(cls, content: bytes, encoding: str | None) -> _Decoded:
        try:
            given = codecs.lookup(encoding).name if encoding else None
        except LookupError:
            raise FixError(f"unknown encoding “{encoding}”") from None
        bom, codec = b"", given or "utf-8"
        for mark, name in _BOMS:
            family = name.rsplit("-", 1)[0]  # utf-8, utf-16, utf-32
            if content.startswith(mark) and (given is None or given.startswith(family)):
                bom, codec = mark, name
                break
        else:
            # Without a mark, these would write one before every edit.
            codec = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}.get(codec, codec)
        try:
            text = content[len(bom):].decode(codec, "surrogateescape" if _ascii_compatible(codec) else "strict")
        except UnicodeDecodeError as exc:
            raise FixError(f"cannot be read as {codec} ({exc})") from None
        head = content[:64 * 1024]
        streamed = codecs.lookup(codec).name == "utf-8" and (b"\n" in head or b"\r" not in head)
        return cls(content, bom, codec, text, streamed)

    def splice(self, changes: Sequence[_Change]) -> bytes:
        if not changes:
            return self.raw
        out = [self.raw[:len(self.bom)]]
        errors = "surrogateescape" if _ascii_compatible(self.codec) else "strict"
        char, byte = 0, len(self.bom)
        for c in changes:
            kept = len(self.text[char:c.start].encode(self.codec, errors))
            out.append(self.raw[byte:byte + kept])
            byte += kept
            byte += len(self.text[c.start:c.end].encode(self.codec, errors))
            out.append(c.text.encode(self.codec, errors))
            char = c.end
        out.append(self.raw[byte:])
        return b"".join(out)


def _ascii_compatible(codec: str) -> bool:
    return codecs.lookup(codec).name not in ("utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be", "utf-32")


_SPLITLINES_RE = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _line_starts(text: str, *, by_newline: bool) -> list[int]:
    breaks = re.finditer("\n", text) if by_newline else _SPLITLINES_RE.finditer(text)
    return [0] + [m.end() for m in breaks]


# --- Finding what a reference cites -------------------------------------------------------


# What a PDF copy or a line wrap may have put inside a URL that cited_as leaves out.
# A line break may carry an e-mail quote marker ("> ") on the next line.
_GAP = r"(?:[ \t\r\u00a0\u00ad\u200b\u200c\u200d\u2060\ufeff]|-?[ \t]*\r?\n(?:[ \t]*>)*)*"
_MD_ESCAPABLE = set("\\`*_{}[]()#+-.!")
_TEX_ESCAPED = set("_%&#$")
# A match must be a whole URL, not part of a longer one: not preceded by a
# letter, digit or slash, nor followed by one, or by URL punctuation that
# goes on (".old" after "report.pdf"; a final "." or "," ends a sentence).
_URL_CHAR = re.compile(r"[A-Za-z0-9/]")
_GOES_ON_RE = re.compile(r"[A-Za-z0-9/]|[-.~_%&=?#+@!$'*]+[A-Za-z0-9]")


def _cited_pattern(cited_as: str, format: str) -> re.Pattern[str]:
    pieces = []
    for char in cited_as:
        piece = re.escape(char)
        if format == MARKDOWN and char in _MD_ESCAPABLE:
            piece = r"\\?" + piece
        elif format == BIBTEX:
            if char in _TEX_ESCAPED:
                piece = r"\\?" + piece
            elif char == "~":
                piece = r"(?:~|\\textasciitilde\s*(?:\{\})?|\\~\{\}|\{\\textasciitilde\})"
        pieces.append(piece)
    gap = _GAP if format != BIBTEX else _GAP[:-2] + r"|[{}])*"
    return re.compile(gap.join(pieces))


_WAYBACK_BEFORE_RE = re.compile(r"web\.archive\.org/web/\d{1,14}[a-z_]*/(?:[A-Za-z][A-Za-z0-9+.-]*:/{1,3})?$",
                                re.IGNORECASE)


class _Planner:
    """Turns edits into changes for one format; subclasses know the format's syntax."""

    format = TEXT
    window = 60  # lines after the reference's first line that it may still occupy

    def __init__(self, text: str, lines: list[int]) -> None:
        self.text = text
        self.lines = lines
        self.changes: list[_Change] = []
        self.already: list[Edit] = []
        self.skipped: list[tuple[Edit, str]] = []

    def plan(self, edit: Edit) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass

    def span_of_line(self, line: int) -> tuple[int, int]:
        if line < 1 or line > len(self.lines):
            return len(self.text), len(self.text)
        start = self.lines[line - 1]
        end_line = line - 1 + self.window
        end = self.lines[end_line] if end_line < len(self.lines) else len(self.text)
        return start, end

    def candidates(self, edit: Edit, start: int, end: int) -> Iterator[re.Match[str]]:
        """Where the edit's citation may be: as cited, else (a DOI) the bare DOI."""
        yield from self.find(edit.cited_as, start, end)
        if edit.cited_as.lower().startswith("doi:"):
            yield from self.find(edit.cited_as[4:].lstrip(), start, end)

    def find(self, cited_as: str, start: int, end: int) -> Iterator[re.Match[str]]:
        """Whole-URL occurrences of ``cited_as`` in text[start:end], in order."""
        pattern = _cited_pattern(cited_as, self.format)
        for m in pattern.finditer(self.text, start, end):
            before = self.text[m.start() - 1] if m.start() > 0 else " "
            if _URL_CHAR.fullmatch(before) or _GOES_ON_RE.match(self.text, m.end()):
                continue
            yield m

    def inside_wayback(self, m: re.Match[str]) -> bool:
        return bool(_WAYBACK_BEFORE_RE.search(self.text, max(0, m.start() - 120), m.start()))

    def archived_in(self, edit: ArchiveEdit, start: int, end: int) -> bool:
        """An archived copy of this link is already in text[start:end]."""
        if edit.snapshot_url in self.text[start:end]:
            return True
        pattern = _cited_pattern(edit.cited_as, self.format)
        return any(self.inside_wayback(m) for m in pattern.finditer(self.text, start, end))

    def add(self, start: int, end: int, text: str, edit: Edit) -> None:
        self.changes.append(_Change(start, end, text, [edit]))


_ARCHIVED_AFTER_RE = re.compile(r"[ \t]*(?:\r?\n[ \t]*)?\[archived\b", re.IGNORECASE)


class _TextPlanner(_Planner):
    format = TEXT

    def plan(self, edit: Edit) -> None:
        start, end = self.span_of_line(edit.line)
        m = next(self.candidates(edit, start, end), None)
        if m is None:
            self.not_found(edit, start, end)
            return
        if isinstance(edit, MoveEdit):
            self.add(m.start(), m.end(), edit.new_url, edit)
            return
        if _ARCHIVED_AFTER_RE.match(self.text, m.end()):
            self.already.append(edit)
            return
        self.add(m.end(), m.end(), f" {self.archive_text(edit)}", edit)

    def archive_text(self, edit: ArchiveEdit) -> str:
        return f"[archived {edit.date}: {edit.snapshot_url}]"

    def not_found(self, edit: Edit, start: int, end: int) -> None:
        if isinstance(edit, MoveEdit) and next(self.find(edit.new_url, start, end), None) is not None:
            self.already.append(edit)  # replaced by an earlier fix
        elif isinstance(edit, ArchiveEdit) and self.archived_in(edit, start, end):
            self.already.append(edit)
        else:
            self.skipped.append((edit, f"“{edit.cited_as}” not found at line {edit.line}"))


_DEFINITION_BEFORE_RE = re.compile(r"(?:^|\n)[ \t]{0,3}\[[^\]\n]+\]:[ \t]*<?$")
_DESTINATION_BEFORE_RE = re.compile(r"\]\([ \t]*<?$")
_DESTINATION_AFTER_RE = re.compile(r">?(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*\)")
# What follows a link's visible text: "](target "title")".
_LINK_REST_RE = re.compile(
    r"[^\[\]\n]*\\?\]\([ \t]*(?P<target><[^<>\n]*>|(?:[^()\s]|\((?:[^()\s])*\))+)"
    r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*\)")


class _MarkdownPlanner(_TextPlanner):
    format = MARKDOWN

    def plan(self, edit: Edit) -> None:
        start, end = self.span_of_line(edit.line)
        for m in self.candidates(edit, start, end):
            before = self.text[max(0, m.start() - 300):m.start()]
            rest = _LINK_REST_RE.match(self.text, m.end())
            if rest is not None and "[" in before:
                # The citation is a link's visible text.
                if _cited_pattern(edit.cited_as, MARKDOWN).fullmatch(rest.group("target").strip("<>")):
                    continue  # [https://old](https://old): the target comes next
                # doi:[10.1038/…](https://doi.org/10.1038%2F…): the text is what was cited.
                if isinstance(edit, MoveEdit):
                    self.skipped.append((edit, f"line {edit.line}: “{edit.cited_as}” is a link's text, "
                                               f"and its target is another URL"))
                elif _ARCHIVED_AFTER_RE.match(self.text, rest.end()):
                    self.already.append(edit)
                else:
                    self.add(rest.end(), rest.end(), f" {self.archive_text(edit)}", edit)
                return
            if _DEFINITION_BEFORE_RE.search(before):
                self.definition(edit, m)
                return
            self.occurrence(edit, m, before)
            return
        self.not_found(edit, start, end)

    def occurrence(self, edit: Edit, m: re.Match[str], before: str) -> None:
        bracketed = before.endswith("<")
        construct_end = m.end()
        destination = _DESTINATION_BEFORE_RE.search(before)
        if destination is not None:
            after = _DESTINATION_AFTER_RE.match(self.text, m.end())
            if after is None:
                self.skipped.append((edit, f"the Markdown link around “{edit.cited_as}” at line {edit.line} "
                                           f"is not closed"))
                return
            construct_end = after.end()
        elif bracketed and self.text.startswith(">", m.end()):
            construct_end = m.end() + 1  # an autolink, <https://…>
        if isinstance(edit, MoveEdit):
            self.add(m.start(), m.end(), _md_destination(edit.new_url, bracketed, destination is not None), edit)
            if destination is not None:
                self.replace_link_text(edit, before, m.start())
            return
        if _ARCHIVED_AFTER_RE.match(self.text, construct_end):
            self.already.append(edit)
            return
        self.add(construct_end, construct_end, f" {self.archive_text(edit)}", edit)

    def replace_link_text(self, edit: MoveEdit, before: str, target_start: int) -> None:
        """[https://old](https://old): a link whose visible text is its old URL shows the new one too."""
        opener = before.rfind("[")
        text_start = target_start - len(before) + opener + 1
        close = _DESTINATION_BEFORE_RE.search(before)
        assert close is not None
        text_end = target_start - len(before) + close.start()
        if text_start < text_end:
            visible = self.text[text_start:text_end]
            if _cited_pattern(edit.cited_as, MARKDOWN).fullmatch(visible):
                self.add(text_start, text_end, edit.new_url, edit)

    def definition(self, edit: Edit, m: re.Match[str]) -> None:
        if isinstance(edit, MoveEdit):
            self.add(m.start(), m.end(), edit.new_url, edit)
        else:
            self.skipped.append((edit, f"line {edit.line}: a Markdown link reference definition "
                                       f"([label]: URL) has no room for the archived copy"))

    def archive_text(self, edit: ArchiveEdit) -> str:
        return f"[archived {edit.date}]({_md_destination(edit.snapshot_url, False, True)})"


def _md_destination(url: str, bracketed: bool, in_link: bool) -> str:
    # A "|" would end a table cell; spaces, unbalanced parentheses and angle
    # brackets would end the link: only the first is escaped in the URL
    # itself, the others call for the <…> form.
    url = url.replace("|", "%7C")
    if bracketed:
        return url.replace("<", "%3C").replace(">", "%3E")
    if in_link and (re.search(r"[\s<>]", url) or url.count("(") != url.count(")")):
        return "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
    return url


# --- BibTeX --------------------------------------------------------------------------


_ENTRY_RE = re.compile(r"@[ \t]*([A-Za-z]+)[ \t\r\n]*([{(])")
_FIELD_RE = re.compile(r"([A-Za-z0-9_:.+\-]+)([ \t\r\n]*=[ \t\r\n]*)")


@dataclass
class _Field:
    name: str  # lower case
    start: int  # where its name starts
    equals: str  # the " = " as written
    value_start: int
    value_end: int  # after the closing delimiter
    delimited: bool  # {…} or "…", rather than a macro or number


@dataclass
class _Entry:
    start: int
    end: int  # after the closing delimiter
    fields: list[_Field]
    notes: list[tuple[str, ArchiveEdit]] = field(default_factory=list)
    after: _Field | None = None  # the field the new note follows


class _BibtexPlanner(_Planner):
    format = BIBTEX

    def __init__(self, text: str, lines: list[int]) -> None:
        super().__init__(text, lines)
        self.entries: dict[int, _Entry] = {}
        self._entry_starts: list[int] | None = None

    def plan(self, edit: Edit) -> None:
        start = self.lines[edit.line - 1] if 1 <= edit.line <= len(self.lines) else len(self.text)
        entry = self.entry_at(start)
        if entry is None:
            self.skipped.append((edit, f"no BibTeX entry at line {edit.line}"))
            return
        m = next(self.find(edit.cited_as, entry.start, entry.end), None)
        if m is None and edit.cited_as.lower().startswith("doi:"):
            m = next(self.find(edit.cited_as[4:], entry.start, entry.end), None)
        holder = next((f for f in entry.fields if f.value_start <= (m.start() if m else -1) < f.value_end), None)
        if isinstance(edit, MoveEdit):
            if m is None or holder is None:
                self.not_found_in(edit, entry)
                return
            value = self.text[holder.value_start:holder.value_end]
            escaped = bool(re.search(r"\\[_%&#$]", value))
            self.add(m.start(), m.end(), _tex_escape(edit.new_url) if escaped else edit.new_url, edit)
            return
        if self.archived_in(edit, entry.start, entry.end) or any(e == edit for _, e in entry.notes):
            self.already.append(edit)
            return
        if m is None or holder is None:
            self.not_found_in(edit, entry)
            return
        entry.notes.append((f"Archived {edit.date} at \\url{{{_url_escape(edit.snapshot_url)}}}", edit))
        if entry.after is None:
            entry.after = holder

    def not_found_in(self, edit: Edit, entry: _Entry) -> None:
        if isinstance(edit, MoveEdit) and next(self.find(edit.new_url, entry.start, entry.end), None):
            self.already.append(edit)
        else:
            self.skipped.append((edit, f"“{edit.cited_as}” not found in the entry at line {edit.line}"))

    def finish(self) -> None:
        # One note per entry, whichever of its links are dead.
        for entry in self.entries.values():
            if not entry.notes:
                continue
            added = ". ".join(text for text, _ in entry.notes)
            edits: list[Edit] = [e for _, e in entry.notes]
            note = next((f for f in entry.fields if f.name == "note"), None)
            if note is not None:
                self.append_to(note, added, edits)
            else:
                self.new_note(entry, added, edits)

    def append_to(self, note: _Field, added: str, edits: list[Edit]) -> None:
        if not note.delimited:  # note = somemacro
            self.changes.append(_Change(note.value_end, note.value_end, f' # {{. {added}}}', list(edits)))
            return
        inside = self.text[note.value_start + 1:note.value_end - 1].rstrip()
        separator = "" if not inside else " " if inside.endswith((".", "!", "?")) else ". "
        at = note.value_start + 1 + len(inside)
        self.changes.append(_Change(at, at, f"{separator}{added}", list(edits)))

    def new_note(self, entry: _Entry, added: str, edits: list[Edit]) -> None:
        after = entry.after
        assert after is not None
        line_start = self.text.rfind("\n", 0, after.start) + 1
        indent = re.match(r"[ \t]*", self.text[line_start:after.start])
        if line_start <= entry.start or indent is None or indent.end() != after.start - line_start:
            # The entry is written on one line (or the field shares its line): stay on it.
            layout = " "
        else:
            line_end = self.text.find("\n", after.value_end)
            newline = "\r\n" if line_end > 0 and self.text[line_end - 1] == "\r" else "\n"
            layout = newline + indent.group()
        equals = after.equals if "\n" not in after.equals else " = "
        padding = len(equals) - len(equals.lstrip(" "))
        if padding > 1:  # "url     = {…}": keep the "=" in its column
            equals = " " * max(1, len(after.name) + padding - len("note")) + equals.lstrip(" ")
        self.changes.append(_Change(after.value_end, after.value_end, f",{layout}note{equals}{{{added}}}",
                                    list(edits)))

    def entry_at(self, start: int) -> _Entry | None:
        m = _ENTRY_RE.search(self.text, start)
        if m is None:
            return None
        if m.start() in self.entries:
            return self.entries[m.start()]
        entry = self.parse_entry(m)
        if entry is not None:
            self.entries[m.start()] = entry
        return entry

    def parse_entry(self, m: re.Match[str]) -> _Entry | None:
        text = self.text
        closer = "}" if m.group(2) == "{" else ")"
        pos = m.end()
        key = re.compile(r"[ \t\r\n]*[^,\s{}()]*[ \t\r\n]*,?").match(text, pos)
        assert key is not None
        pos = key.end()
        fields: list[_Field] = []
        while pos < len(text):
            while pos < len(text) and (text[pos].isspace() or text[pos] == ","):
                pos += 1
            if pos >= len(text):
                return None
            if text[pos] == closer:
                return _Entry(m.start(), pos + 1, fields)
            f = _FIELD_RE.match(text, pos)
            if f is None:
                return None
            value_start = f.end()
            value_end = self.value_end(value_start)
            if value_end is None:
                return None
            # Concatenations (a # b): the field runs to the last part.
            while True:
                more = re.compile(r"[ \t\r\n]*#[ \t\r\n]*").match(text, value_end)
                if more is None:
                    break
                nxt = self.value_end(more.end())
                if nxt is None:
                    return None
                value_end = nxt
            fields.append(_Field(f.group(1).lower(), f.start(), f.group(2), value_start, value_end,
                                 text[value_start] in "{\"" and text[value_end - 1] in "}\""))
            pos = value_end
        return None

    def value_end(self, start: int) -> int | None:
        text = self.text
        if start >= len(text):
            return None
        if text[start] in "{\"":
            if self._entry_starts is None:
                self._entry_starts = entry_starts(text)
            i = bisect.bisect_right(self._entry_starts, start)
            limit = self._entry_starts[i] if i < len(self._entry_starts) else len(text)
            return delimited_value_end(text, start, limit)  # the extractor's own reading, bounded alike
        word = re.compile(r"[A-Za-z0-9_:.+\-]+").match(text, start)
        return word.end() if word else None


def _tex_escape(url: str) -> str:
    return re.sub(r"([_%&#$])", r"\\\1", url)


def _url_escape(url: str) -> str:
    # Inside another command's argument (the note), \url needs % and # escaped
    # (url.sty's documentation); hyperref prints them without the backslash.
    return url.replace("%", r"\%").replace("#", r"\#")

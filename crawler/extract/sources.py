"""Inputs: files, directories and stdin, read safely.

A bad input (missing, binary, undecodable, too big) becomes an InputError that
names it; the other inputs are still read. Text inputs are validated and then
streamed line by line, so a large list does not sit in memory twice.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from crawler.extract.formats import (
    Format,
    bibtex_entries,
    html_entries,
    markdown_entries,
    text_entries,
)
from crawler.extract.split import Entry
from crawler.extract.urls import valid_unicode
from crawler.lazy import LazyPattern
from crawler.model import InputError

STDIN = "-"
_EXTENSION_FORMATS = {
    ".md": Format.MARKDOWN, ".markdown": Format.MARKDOWN, ".mdown": Format.MARKDOWN,
    ".html": Format.HTML, ".htm": Format.HTML, ".xhtml": Format.HTML,
    ".bib": Format.BIBTEX, ".bibtex": Format.BIBTEX,
    ".txt": Format.TEXT, ".text": Format.TEXT,
}
_SNIFF_BYTES = 64 * 1024
_BIBTEX_SNIFF_RE = LazyPattern(
    rb"^\s*@\s*(?:article|book|booklet|misc|online|electronic|www|webpage|inproceedings|incollection|"
    rb"inbook|conference|techreport|report|phdthesis|mastersthesis|thesis|manual|unpublished|"
    rb"proceedings|string|comment|preamble)\s*[{(]",
    re.IGNORECASE | re.MULTILINE,
)
_HTML_SNIFF_RE = LazyPattern(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]",
                            re.IGNORECASE | re.DOTALL)
_MARKDOWN_SNIFF_RE = LazyPattern(rb"^#{1,6} |\]\((?:https?://|<)|^\[[^\]]+\]:\s*\S", re.MULTILINE)


@dataclass(frozen=True)
class Document:
    """One input to read: a file or stdin."""

    source: str  # as shown in reports: the path as given, or "<stdin>"
    path: Path | None  # None for stdin


def find_documents(inputs: Sequence[str], extensions: Iterable[str]) -> Iterator[Document | InputError]:
    """Expand the command line's inputs into documents, directories recursively and in a stable order.

    Each file is read once, under the name it was first reached by, however
    often it is named or reached again (a directory and a file in it, a link).
    """
    wanted = {e.lower() for e in extensions}
    seen: set[tuple[int, int] | str] = set()
    for given in inputs:
        try:
            for item in _documents(given, wanted):
                if isinstance(item, Document):
                    identity = _identity(item)
                    if identity in seen:
                        continue
                    seen.add(identity)
                yield item
        except (OSError, ValueError) as exc:  # an unreadable directory, a name the OS refuses
            yield InputError(shown(given), f"cannot be read ({getattr(exc, 'strerror', None) or exc})")


def _identity(document: Document) -> tuple[int, int] | str:
    if document.path is None:
        return STDIN
    try:
        status = document.path.stat()
    except OSError:
        return os.path.abspath(document.path)  # reading it will say what is wrong
    return (status.st_dev, status.st_ino)


def _documents(given: str, wanted: set[str]) -> Iterator[Document | InputError]:
    if given == STDIN:
        yield Document("<stdin>", None)
        return
    path = Path(given)
    if path.is_dir():
        found = False
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith(".") and Path(name).suffix.lower() in wanted:
                    found = True
                    yield Document(shown(str(Path(root, name))), Path(root, name))
        if not found:
            yield InputError(shown(given), f"directory has no reference lists ({', '.join(sorted(wanted))})")
    elif path.exists():
        yield Document(shown(given), path)
    else:
        yield InputError(shown(given), "no such file or directory")


def shown(name: str) -> str:
    """A file name as reports show it: valid Unicode, undecodable bytes as \\xNN escapes."""
    if name.isascii():
        return name
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeError:
        return valid_unicode(name)


def read_document(
    document: Document,
    *,
    max_bytes: int,
    encoding: str | None = None,
    stdin: BinaryIO | None = None,
) -> Iterator[Entry | InputError]:
    """The entries of one document, or one InputError saying why it cannot be read."""
    try:
        if document.path is None:
            stream = stdin or sys.stdin.buffer
            data = stream.read(max_bytes + 1)
            if len(data) > max_bytes:
                yield InputError(document.source, f"is larger than {max_bytes} bytes (inputs.max_file_bytes)")
                return
            yield from _read(document, io.BytesIO(data), encoding)
            return
        if not document.path.is_file():
            yield InputError(document.source, "is not a regular file")
            return
        size = document.path.stat().st_size
        if size > max_bytes:
            yield InputError(document.source, f"is larger than {max_bytes} bytes (inputs.max_file_bytes)")
            return
        with document.path.open("rb") as stream:
            yield from _read(document, stream, encoding)
    except PermissionError:
        yield InputError(document.source, "permission denied")
    except IsADirectoryError:
        yield InputError(document.source, "is a directory")
    except OSError as exc:
        yield InputError(document.source, f"cannot be read ({exc.strerror or exc})")


def _read(document: Document, stream: BinaryIO, encoding: str | None) -> Iterator[Entry | InputError]:
    head = stream.read(_SNIFF_BYTES)
    if head.startswith(b"%PDF"):
        yield InputError(document.source, "is a PDF; extract its text first (for example with pdftotext)")
        return
    detected = encoding or _bom_encoding(head)
    if detected is None and b"\x00" in head:
        yield InputError(document.source, "is a binary file, not a reference list")
        return
    form = _format(document, head)
    encoding = detected or "utf-8"
    stream.seek(0)
    if form == Format.HTML and detected is None:
        # HTML declares its own charset; BeautifulSoup honours <meta charset>.
        yield from html_entries(stream.read(), document.source)
        return
    error = _check_decodes(stream, encoding)
    if error:
        yield InputError(document.source, error)
        return
    stream.seek(0)
    streamable = b"\n" in head or b"\r" not in head  # not old Mac "\r"-only line ends
    if form in (Format.TEXT, Format.MARKDOWN) and streamable and encoding.replace("-", "").lower() in ("utf8", "utf8sig"):
        lines: Iterable[str] = _utf8_lines(stream)
        yield from (text_entries if form == Format.TEXT else markdown_entries)(lines, document.source)
        return
    text = codecs.decode(stream.read(), encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    if form == Format.HTML:
        yield from html_entries(text, document.source)
    elif form == Format.BIBTEX:
        yield from bibtex_entries(text, document.source)
    elif form == Format.MARKDOWN:
        yield from markdown_entries(text.splitlines(), document.source)
    else:
        yield from text_entries(text.splitlines(), document.source)


def _bom_encoding(head: bytes) -> str | None:
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return name
    return None


def _format(document: Document, head: bytes) -> str:
    suffix = document.path.suffix.lower() if document.path else ""
    if suffix in _EXTENSION_FORMATS:
        return _EXTENSION_FORMATS[suffix]
    # Unknown extensions and stdin: look at the content.
    if _HTML_SNIFF_RE.match(head):
        return Format.HTML
    if _BIBTEX_SNIFF_RE.search(head):
        return Format.BIBTEX
    if _MARKDOWN_SNIFF_RE.search(head):
        return Format.MARKDOWN
    return Format.TEXT


def _check_decodes(stream: BinaryIO, encoding: str) -> str | None:
    """Why the stream does not decode, naming the line; None when it does."""
    try:
        if not codecs.lookup(encoding)._is_text_encoding:  # rot13, base64, zlib: bytes to bytes
            return f"“{encoding}” is not a text encoding"
        decoder = codecs.getincrementaldecoder(encoding)("strict")
    except LookupError:
        return f"unknown encoding “{encoding}”"
    line = 1
    while True:
        chunk = stream.read(1 << 20)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            bad = chunk[exc.start:exc.start + 1]
            line += chunk.count(b"\n", 0, exc.start)
            return (f"is not valid {encoding.upper()} text (byte 0x{bad.hex()} on line {line}); "
                    f"convert it to UTF-8 or give its encoding with --encoding")
        if not chunk:
            return None
        line += chunk.count(b"\n")


def _utf8_lines(stream: BinaryIO) -> Iterator[str]:
    # A newline byte never occurs inside a UTF-8 sequence, so splitting bytes on
    # b"\n" first is safe, and streams without holding the file.
    first = True
    for raw in stream:
        line = raw.decode("utf-8")
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        yield line.rstrip("\r\n")

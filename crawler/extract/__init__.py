"""Extraction: reference lists in, cited URLs with access dates and problems out.

The stage knows nothing of the command line: it never prints and never exits.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import BinaryIO

from crawler.extract.collect import Extraction, collect
from crawler.extract.references import ReadReference, read_entry
from crawler.extract.sources import STDIN, Document, find_documents, read_document
from crawler.extract.split import Entry
from crawler.extract.urls import valid_unicode
from crawler.model import InputError

DEFAULT_EXTENSIONS = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".bib")
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024

__all__ = ["Document", "Extraction", "ReadReference", "STDIN", "extract", "extract_all"]


def extract(
    inputs: Sequence[str],
    *,
    extensions: Sequence[str] = DEFAULT_EXTENSIONS,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    encoding: str | None = None,
    stdin: BinaryIO | None = None,
    today: _dt.date | None = None,
) -> Iterator[Document | ReadReference | InputError]:
    """Stream what each input's references cite, in input order.

    Each document is announced before its references, so a consumer can tell
    an input that yielded nothing from one that could not be read. Nothing
    one input holds can stop the others: see _read.
    """
    for document in find_documents(inputs, extensions):
        if isinstance(document, InputError):
            yield _valid_error(document)
            continue
        yield document
        yield from _read(document, max_file_bytes, encoding, stdin, today)


def _read(document: Document, max_file_bytes: int, encoding: str | None, stdin: BinaryIO | None,
          today: _dt.date | None) -> Iterator[ReadReference | InputError]:
    """One document's references, behind the one boundary where a failure becomes an InputError.

    The readers handle every input problem they know of (a missing file, a
    bad byte, a broken BibTeX entry). Anything else they raise is a bug that
    a hostile or odd input found: it costs that reference (or the rest of
    that document), never the run. Everything that leaves is valid Unicode.
    """
    last_line: int | None = None
    try:
        for entry in read_document(document, max_bytes=max_file_bytes, encoding=encoding, stdin=stdin):
            if isinstance(entry, InputError):
                yield _valid_error(entry)
                continue
            last_line = entry.line
            try:
                read = read_entry(_valid_entry(entry), today=today)
            except Exception as exc:  # noqa: BLE001 - the boundary: one reference lost, not the run
                yield InputError(f"{document.source}:{entry.line}",
                                 f"reference could not be read ({_describe(exc)}); skipped", fatal=False)
                continue
            yield read
    except Exception as exc:  # noqa: BLE001 - the boundary: the rest of one document lost, not the run
        if last_line is None:
            yield InputError(document.source, f"could not be read ({_describe(exc)})")
        else:
            yield InputError(f"{document.source}:{last_line}",
                             f"reading stopped after the reference on this line ({_describe(exc)}); "
                             "the rest of the file was skipped", fatal=False)


def _describe(exc: Exception) -> str:
    """The exception in one short line: its type, and its message's first line."""
    message = valid_unicode(str(exc)).strip().split("\n", 1)[0]
    if len(message) > 160:
        message = message[:157] + "…"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _valid_entry(entry: Entry) -> Entry:
    if entry.text.isascii() and entry.scan.isascii() and entry.source.isascii():
        return entry
    return replace(entry, source=valid_unicode(entry.source), text=valid_unicode(entry.text),
                   scan=valid_unicode(entry.scan))


def _valid_error(error: InputError) -> InputError:
    if error.source.isascii() and error.message.isascii():
        return error
    return replace(error, source=valid_unicode(error.source), message=valid_unicode(error.message))


def extract_all(inputs: Sequence[str], **options) -> Extraction:  # noqa: ANN003 - same as extract()
    """Extract and deduplicate everything the inputs cite."""
    return collect(extract(inputs, **options))

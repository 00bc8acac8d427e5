"""Extraction: reference lists in, cited URLs with access dates and problems out.

The stage knows nothing of the command line: it never prints and never exits.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from crawler.extract.collect import Extraction, collect
from crawler.extract.references import ReadReference, read_entry
from crawler.extract.sources import STDIN, Document, find_documents, read_document
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
    an input that yielded nothing from one that could not be read.
    """
    for document in find_documents(inputs, extensions):
        if isinstance(document, InputError):
            yield document
            continue
        yield document
        yield from _read(document, max_file_bytes, encoding, stdin, today)


def _read(document: Document, max_file_bytes: int, encoding: str | None, stdin: BinaryIO | None,
          today: _dt.date | None) -> Iterator[ReadReference | InputError]:
    for entry in read_document(document, max_bytes=max_file_bytes, encoding=encoding, stdin=stdin):
        if isinstance(entry, InputError):
            yield entry
        else:
            yield read_entry(entry, today=today)


def extract_all(inputs: Sequence[str], **options) -> Extraction:  # noqa: ANN003 - same as extract()
    """Extract and deduplicate everything the inputs cite."""
    return collect(extract(inputs, **options))

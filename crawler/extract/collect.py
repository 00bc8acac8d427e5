"""Deduplication: one Link per normalised URL, carrying every reference that cites it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from crawler.extract.references import ReadReference
from crawler.extract.sources import Document
from crawler.model import InputError, Link, Problem, Reference


@dataclass
class Extraction:
    """Everything extraction found, in the order the inputs give it."""

    links: list[Link] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)  # those that cite something or have a problem
    read: set[str] = field(default_factory=set)  # inputs read, at least in part

    @property
    def nothing_read(self) -> bool:
        return not self.read

    def add(self, item: Document | ReadReference | InputError, index: dict[str, Link]) -> list[Link]:
        """Take in one extracted item; return the links it cites for the first time."""
        if type(item) is not ReadReference:  # nearly every item is one: tested first, in the parent's event loop
            if isinstance(item, Document):
                self.read.add(item.source)
                return []
            if isinstance(item, InputError):
                self.errors.append(item)
                if item.fatal:
                    self.read.discard(item.source)
                return []
        if item.citations or item.problems:
            self.references.append(item.reference)
        self.problems.extend(item.problems)
        new = []
        for citation in item.citations:
            link = index.get(citation.url)
            if link is None:
                link = index[citation.url] = Link.from_citation(citation)
                self.links.append(link)
                new.append(link)
            else:
                link.add(citation)
        return new


def collect(items: Iterable[Document | ReadReference | InputError]) -> Extraction:
    extraction = Extraction()
    index: dict[str, Link] = {}
    for item in items:
        extraction.add(item, index)
    return extraction


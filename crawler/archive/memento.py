"""Any Memento (RFC 7089) archive, configured by a TimeMap URL template.

archive.today, Arquivo.pt, the UK Web Archive, the Library of Congress, an
institution's own MemGator aggregator: each lists a page's captures as a
TimeMap in link format, every memento with its URL and datetime. A TimeMap
says nothing of what a capture recorded, so each one offered is checked by
its replay (Memento-Datetime and status, then the checker's tests).

    [[archive.memento]]
    name = "arquivo.pt"
    timemap = "https://arquivo.pt/wayback/timemap/link/{url}"
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from crawler.archive.base import Archive, Capture, order_by_target, raw_replay
from crawler.archive.linkformat import http_date_to_timestamp, parse_links
from crawler.archive.net import ArchiveHttp, ArchiveUnavailable, Family
from crawler.archive.plan import Action, ArchiveJob

LINK_FORMAT = "application/link-format"


def mementos(text: str) -> list[tuple[str, str]]:
    """(14-digit timestamp, memento URL) for every memento of a TimeMap, each URL once."""
    found: dict[str, str] = {}
    for entry in parse_links(text):
        if "memento" not in entry.rels or not entry.datetime:
            continue
        stamp = http_date_to_timestamp(entry.datetime)
        if stamp and entry.uri not in found:
            found[entry.uri] = stamp
    return [(stamp, uri) for uri, stamp in found.items()]


async def timemap_captures(http: ArchiveHttp, family: Family, name: str, timemap_url: str, job: ArchiveJob,
                           *, max_bytes: int) -> AsyncIterator[Capture]:
    answer = await http.request(family, timemap_url, headers={"Accept": LINK_FORMAT}, max_bytes=max_bytes)
    if answer.status in (404, 410):
        return  # the archive has no memento of this URL
    if answer.status != 200:
        raise ArchiveUnavailable(f"{name}: the TimeMap answered HTTP {answer.status}")
    if "html" in answer.content_type.lower():
        raise ArchiveUnavailable(f"{name}: the TimeMap answered with an HTML page, not link format")
    listed = mementos(answer.body.decode("utf-8", "replace"))
    target = None if job.action is Action.SAVE else job.target
    # A TimeMap cut at max_index_bytes still lists real mementos, only not all.
    conclusive = not answer.cut
    for stamp, uri in order_by_target([(stamp, (stamp, uri)) for stamp, uri in listed], target):  # type: ignore[misc]
        yield Capture(name, stamp, job.url, raw_replay(uri), conclusive=conclusive)


class MementoArchive(Archive):
    def __init__(self, name: str, timemap: str, http: ArchiveHttp, *, lookup: Family, replay: Family,
                 max_index_bytes: int) -> None:
        super().__init__(name, http, replay)
        self.template = timemap
        self.lookup_family = lookup
        self.max_index_bytes = max_index_bytes

    def captures(self, job: ArchiveJob) -> AsyncIterator[Capture]:
        # The URL goes in as it is: Memento archives expect the URI-R appended raw.
        return timemap_captures(self.http, self.lookup_family, self.name, self.template.replace("{url}", job.url),
                                job, max_bytes=self.max_index_bytes)

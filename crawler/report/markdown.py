"""The Markdown report: the page an editor fixes a reference list from, top to bottom.

Summary first (counts that add up, with a change against the last run),
then what needs attention (newly dead, dead with an archived copy to use,
dead and lost, moved, truncated and missing URLs), then what could not be
verified and must be checked by hand, what recovered, a per-host
breakdown, and every link. Each row names the reference as a reader knows
it (its number, author, year and title), where it is, its access date, the
verdict in words, the status chain and history, and the archived copy.

Everything from outside (cited text, file names, server answers) is
escaped: it cannot break a table, add a link, inject HTML or steer a
terminal. GitHub-flavoured Markdown; few columns, so it reads at 1,000 px.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TextIO
from urllib.parse import urlsplit

from crawler.model import ArchiveResult, ArchiveStatus, CheckResult, History, Link, Problem, ProblemKind, Verdict
from crawler.report import Report, archive_key
from crawler.text import visible

_ESCAPED = re.compile(r"([\\`*_\[\]|~#])")
# "&" only matters where it could start an entity ("&copy;" would render ©).
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
_MAX_TEXT = 240
_SHORT_TEXT = 110
_UNVERIFIED = (Verdict.BLOCKED, Verdict.UNREACHABLE, Verdict.SKIPPED)

# Reasons in words, for people.
REASONS = {
    "ok": "answers", "redirect": "answers after a temporary redirect", "moved_permanently": "moved permanently",
    "alternative_reading": "answers when the citation is read another way",
    "http_404": "not found (404)", "http_410": "gone (410)", "dns_nxdomain": "the host name no longer exists",
    "redirect_to_root": "redirects to the site's front page", "redirect_to_error_page": "redirects to an error page",
    "redirect_to_generic_error_page": "redirects to an error page that does not say the page is missing",
    "soft_404": "a “not found” page served as if it were the page",
    "site_answers_alike": "the site answers every page alike (maintenance, a wall?); not judged",
    "front_page_unanswered": "like the site's answer for a made-up page, but its front page did not answer; "
                             "not judged",
    "possibly_cut": "the citation may be cut or joined wrongly; no reading answers",
    "host_unresponsive": "not asked: its host answered none of the links before it",
    "timeout": "no answer in time", "connection_refused": "connection refused", "connection_reset": "connection reset",
    "connection_error": "cannot connect", "tls_error": "secure connection failed", "dns_error": "name lookup failed",
    "redirect_loop": "redirects in a loop", "too_many_redirects": "too many redirects",
    "bad_redirect": "redirects to an unusable address", "protocol_error": "the server's answer is broken",
    "error": "the check failed unexpectedly", "rate_limited": "rate limited (429)",
    "bot_challenge": "a bot challenge instead of the page", "login_required": "redirects to a login page",
    "excluded": "excluded by configuration", "private_address": "a private address (not checked)",
    "unsupported_scheme": "not a web address", "malformed_url": "a malformed address",
    "deadline": "not checked before the run's deadline", "interrupted": "not checked: the run was interrupted",
    "network_down": "not checked: the network was down",
}
_PROBLEMS = {
    ProblemKind.TRUNCATED_URL: "truncated URL", ProblemKind.MISSING_URL: "no URL",
    ProblemKind.BAD_ACCESS_DATE: "impossible access date", ProblemKind.MALFORMED_URL: "malformed URL",
}


def escape(text: str) -> str:
    """Cited text as inert Markdown: no markup, no HTML, no table breaks, no terminal controls."""
    text = visible(" ".join(text.split()))
    text = _ENTITY_LIKE.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    return _ESCAPED.sub(r"\\\1", text)


def shorten(text: str, limit: int = _MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_DESTINATION_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f<>|\\`]")


def destination(url: str) -> str:
    """A link destination that cannot end the link or split a table row.

    A server's Location ("http://x|**BOLD**|@good.test/") must not add cells;
    percent-encoding keeps the URL the same URL.
    """
    return _DESTINATION_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), visible(url))


def middle(text: str, limit: int = 60) -> str:
    """Long link text shortened in the middle, where URLs say least: the destination stays whole."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit * 2 // 3].rstrip() + "…" + text[-(limit // 3):]


def url_cell(url: str, text: str | None = None) -> str:
    return f"[{escape(middle(text if text is not None else url))}](<{destination(url)}>)"


def link_cell(link: Link) -> str:
    # The text is the citation as written, Unicode kept; the destination the normalised URL.
    return url_cell(link.url, link.cited_as)


def where(source: str, line: int) -> str:
    return escape(f"{source}:{line}")


def reason_words(result: CheckResult | None) -> str:
    if result is None or result.verdict is None:
        return "not judged"
    return REASONS.get(result.reason, result.reason.replace("_", " "))


def status_chain(result: CheckResult | None) -> str:
    """"301 → 200", "302 → timeout": a bare 200 on a dead link would mislead."""
    if result is None or result.verdict is None:
        return "–"
    parts = [str(r.status) for r in result.redirects]
    if result.reason in ("redirect_loop", "too_many_redirects"):
        parts.append(result.reason.replace("_", " "))  # the looping hop is among the redirects
    elif result.reason == "bad_redirect":
        parts += [str(result.status), "unusable Location"]
    elif result.status is None:
        parts.append(result.reason.replace("_", " "))
    else:
        parts.append(str(result.status))
    return escape(" → ".join(parts))


class _Rows:
    """The pieces of a row that every section shares."""

    def __init__(self, report: Report, describe: Callable[[str], str]) -> None:
        self.report = report
        self.describe = describe
        self.numbers = {id(link): n for n, link in enumerate(report.links, 1)}

    def reference(self, link: Link) -> str:
        """The citing references as a reader knows them, and where each is."""
        if not link.citations:
            return escape(link.cited_as)
        first = link.citations[0].reference
        text = self._reference_text(first)
        others = len(link.citations) - 1
        if others:
            text += f" (and {others} more)"
        return f"{text}<br>{self.cited_in(link)}"

    def _reference_text(self, ref) -> str:  # noqa: ANN001 - a Reference
        number = f"\\[{ref.number}\\] " if ref.number is not None else ""
        return number + escape(shorten(self.describe(ref.text), _SHORT_TEXT))

    def problem_reference(self, problem: Problem) -> str:
        ref = problem.reference
        return f"{self._reference_text(ref)}<br>{where(ref.source, ref.line)}"

    def cited_in(self, link: Link) -> str:
        places = [where(c.reference.source, c.reference.line) for c in link.citations[:3]]
        if len(link.citations) > 3:
            places.append(f"+{len(link.citations) - 3}")
        return "<br>".join(places)

    @staticmethod
    def accessed(link: Link) -> str:
        dates = sorted({c.accessed.isoformat() for c in link.citations if c.accessed})
        return ", ".join(dates) or "–"

    def history(self, link: Link) -> str:
        history = self.report.history(link)
        result = self.report.result(link)
        return history_words(history, result, self.report.confirmation.failures if self.report.confirmation else 0)

    def archive(self, result: ArchiveResult | None) -> str:
        return archive_words(result)


def history_words(history: History | None, result: CheckResult | None, needed: int) -> str:
    if history is None or not history.checks:
        return "first check" if needed else "–"
    if history.confirmed:
        since = history.first_failed.date().isoformat() if history.first_failed else "?"
        return f"dead since {since} ({history.consecutive_failures} failed checks)"
    if history.consecutive_failures and result is not None and result.verdict is Verdict.DEAD:
        since = history.first_failed.date().isoformat() if history.first_failed else "?"
        return f"failing ({history.consecutive_failures} of {needed}) since {since}"
    if history.last_alive:
        return f"last alive {history.last_alive.date().isoformat()}, {history.checks} checks"
    return f"{history.checks} checks, never seen alive"


def archive_words(result: ArchiveResult | None) -> str:
    if result is None:
        return "–"
    if result.status in (ArchiveStatus.FOUND, ArchiveStatus.SAVED) and result.snapshot_url:
        date = _ts_date(result.timestamp)
        label = f"{result.archive or 'archive'} {date}" if result.archive and result.archive != "wayback" else (
            f"archived {date}")
        return url_cell(result.snapshot_url, label) + (" (new capture)" if result.status is ArchiveStatus.SAVED else "")
    if result.status is ArchiveStatus.NONE:
        return "no archived copy"
    if result.status is ArchiveStatus.REQUESTED:
        return "capture requested"
    if result.status is ArchiveStatus.ERROR:
        return "archive did not answer" + (f": {escape(shorten(result.detail, 80))}" if result.detail else "")
    return "–"


def _ts_date(timestamp: str | None) -> str:
    if not timestamp or len(timestamp) < 8 or not timestamp[:8].isdigit():
        return timestamp or "?"
    return f"{timestamp[:4]}-{timestamp[4:6]}-{timestamp[6:8]}"


def _verdict(result: CheckResult | None) -> str:
    return f"**{result.verdict.value}**" if result is not None and result.verdict is not None else "not judged"


def _identity(text: str) -> str:
    return text


def write(report: Report, stream: TextIO, *, describe: Callable[[str], str] | None = None) -> None:
    rows = _Rows(report, describe or _default_describe())
    s = report.summary
    checked = report.results is not None
    title = {"extract": "Reference links", "audit": "Reference links: audit", "run": "Reference links: nightly run"}
    stream.write(f"# {title.get(report.command, 'Reference links')}\n\n")
    stream.write(f"Generated {report.generated.strftime('%Y-%m-%d %H:%M UTC')}: {_n(s['links'], 'link')} in "
                 f"{_n(s['references'], 'reference')}, {_n(s['problems']['total'], 'problem')}")
    if report.finished is not None and report.command != "extract":
        stream.write(f", in {(report.finished - report.started).total_seconds():.0f} s")
    stream.write(".\n")
    if checked:
        if report.confirmation is not None:
            c = report.confirmation
            stream.write(f"\nA link is reported dead after {c.failures} failed checks at least "
                         f"{c.spacing_days:g} days apart; until then it is *failing*.\n")
        else:
            stream.write("\nEach verdict is a single check, made now: a one-off audit does not confirm a death "
                         "across days (a scheduled `crawler run` does).\n")
    _notes(report, stream)
    if checked and report.network != "down":
        _summary(report, stream)
    _problems_summary(report, stream)
    if report.errors:
        stream.write("\n## Inputs that could not be read\n\n")
        for error in report.errors:
            stream.write(f"- {escape(error.source)}: {escape(error.message)}\n")
    if checked and report.network != "down":
        _attention(report, rows, stream)
        _unverified(report, rows, stream)
        _recovered(report, rows, stream)
        _hosts(report, stream)
    elif report.problems:
        stream.write("\n## Problems\n")
        _problem_table(report, rows, stream, report.problems, f"{len(report.problems)} in the references")
    _all_links(report, rows, stream)


def _default_describe() -> Callable[[str], str]:
    try:
        from crawler.extract.describe import describe
    except ImportError:  # pragma: no cover - until the describer exists
        return _identity
    return lambda text: describe(text).short or text


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _notes(report: Report, stream: TextIO) -> None:
    lines = []
    if report.network == "down":
        lines.append("**The network was down: no link was judged.** Run the audit again when it is back.")
    if report.interrupted:
        lines.append(f"**The run was interrupted ({escape(report.interrupted)})**: links not checked by then are "
                     "marked skipped.")
    lines.extend(escape(note) for note in report.notes)
    for line in lines:
        stream.write(f"\n{line}\n")


def _arrow(now: int, before: int | None) -> str:
    if before is None:
        return ""
    if now == before:
        return "="
    return f"↑{now - before}" if now > before else f"↓{before - now}"


def _summary(report: Report, stream: TextIO) -> None:
    previous = report.changes.previous_counts if report.changes and report.changes.previous_counts else None
    history = report.history_counts() if report.histories is not None else None
    rows: list[tuple[str, int, str]] = []

    def add(label: str, key: str | None, value: int) -> None:
        before = previous.get(key) if previous is not None and key is not None else None
        rows.append((label, value, _arrow(value, before) if previous is not None else ""))

    trend = report.trend_counts()
    add("alive", "alive", trend["alive"])
    add("moved", "moved", trend["moved"])
    if history is not None:
        add("dead (confirmed)", "dead", trend["dead"])
        add("failing, not yet confirmed", "failing", trend["failing"])
    else:
        add("dead", "dead", trend["dead"])
    add("could not verify (blocked, unreachable, skipped)", "unverified", trend["unverified"])
    add("possibly cut", "truncated", trend["truncated"])
    if trend["unjudged"]:
        add("not judged", "unjudged", trend["unjudged"])
    stream.write("\n## Summary\n\n")
    since = ""
    if report.changes is not None and report.changes.previous is not None:
        since = f" since {report.changes.previous.strftime('%Y-%m-%d')}"
    stream.write(f"| Links | Count | Change{since} |\n|---|--:|:-:|\n" if previous is not None
                 else "| Links | Count |\n|---|--:|\n")
    for label, value, arrow in rows:
        stream.write(f"| {label} | {value} | {arrow} |\n" if previous is not None else f"| {label} | {value} |\n")
    total = sum(value for _, value, _ in rows)
    stream.write(f"| **total** | **{total}** |{' |' if previous is not None else ''}\n")
    if report.archives is not None:
        a = report.archive_counts()
        stream.write(f"\nArchived copies: {a['found']} found, {a['lost']} lost (no copy), "
                     f"{_n(a['requested'], 'capture')} requested, {a['saved']} saved; archive errors: {a['errors']}.\n")
    saved = report.summary.get("saved_from_false_dead", 0)
    if saved:
        stream.write(f"\nNot called dead although their first reading failed: {_n(saved, 'link')} whose citation "
                     "could be read another way or may be cut.\n")


_COUNTED = {ProblemKind.TRUNCATED_URL: ("truncated URL", "truncated URLs"),
            ProblemKind.MISSING_URL: ("reference without a URL", "references without a URL"),
            ProblemKind.BAD_ACCESS_DATE: ("impossible access date", "impossible access dates"),
            ProblemKind.MALFORMED_URL: ("malformed URL", "malformed URLs")}


def _problems_summary(report: Report, stream: TextIO) -> None:
    if not report.problems:
        return
    counts = Counter(p.kind for p in report.problems)
    parts = [f"{n} {_COUNTED[kind][n != 1]}" for kind, n in counts.items()]
    stream.write(f"\nProblems in the references (counted apart from links): {', '.join(parts)}.\n")


def _table(stream: TextIO, heading: str, columns: Iterable[str], body: Iterable[Iterable[str]], note: str = "") -> None:
    lines = [f"| {' | '.join(cells)} |" for cells in body]
    if not lines:
        return
    columns = list(columns)
    stream.write(f"\n### {heading}\n\n")
    if note:
        stream.write(f"{note}\n\n")
    stream.write(f"| {' | '.join(columns)} |\n|{'|'.join('---' for _ in columns)}|\n")
    stream.write("\n".join(lines) + "\n")


def _attention(report: Report, rows: _Rows, stream: TextIO) -> None:
    links = report.links
    changes = report.changes
    dead = [link for link in links if report.is_dead(link)]
    newly = [link for link in dead if changes is not None and link.url in changes.newly_dead]
    with_copy = [link for link in dead if _copy(report, link)]
    lost = [link for link in dead if not _copy(report, link)]
    failing = [link for link in links if report.confirmation is not None and not report.is_dead(link)
               and (r := report.result(link)) is not None and r.verdict is Verdict.DEAD]
    moved = [link for link in links if (r := report.result(link)) is not None and r.verdict is Verdict.MOVED]
    cut = [link for link in links if (r := report.result(link)) is not None and r.verdict is Verdict.TRUNCATED]
    if not (dead or failing or moved or cut or report.problems):
        stream.write("\n## Needs attention\n\nNothing: every link checked is alive.\n")
        return
    stream.write("\n## Needs attention\n")

    def dead_row(link: Link) -> list[str]:
        result = report.result(link)
        return [str(rows.numbers[id(link)]), rows.reference(link), rows.accessed(link),
                f"{escape(reason_words(result))}<br>{status_chain(result)}", link_cell(link),
                rows.archive(report.archive(archive_key(link)))]

    columns = ("#", "Reference", "Accessed", "Why", "Link", "Archived copy")
    _table(stream, "Newly dead since the last run", columns, map(dead_row, newly))
    _table(stream, "Dead, with an archived copy (ready to fix)", columns, map(dead_row, with_copy),
           "Replace the link with its archived copy, or add the copy after it (`crawler fix` does this).")
    _table(stream, "Dead, with no archived copy (lost)", columns, map(dead_row, lost),
           "Find the page elsewhere, or mark the reference as no longer available.")
    _table(stream, "Failing, not yet confirmed", (*columns[:5], "History"),
           ([*dead_row(link)[:5], rows.history(link)] for link in failing))
    _table(stream, "Moved", ("#", "Reference", "Cited link", "New address"),
           ([str(rows.numbers[id(link)]), rows.reference(link), link_cell(link),
             url_cell(result.final_url) if (result := report.result(link)) and result.final_url else "–"]
            for link in moved), "Update the link to its new address (once).")
    _table(stream, "Possibly cut (check by hand)", columns, map(dead_row, cut),
           "Every reading of these citations failed, but each reading may be cut: the page may be alive.")
    _problem_table(report, rows, stream, [p for p in report.problems if p.kind is not ProblemKind.BAD_ACCESS_DATE],
                   "Truncated URLs and references without a URL")
    _problem_table(report, rows, stream, [p for p in report.problems if p.kind is ProblemKind.BAD_ACCESS_DATE],
                   "Impossible access dates")


def _copy(report: Report, link: Link) -> bool:
    archive = report.archive(archive_key(link))
    return archive is not None and archive.status in (ArchiveStatus.FOUND, ArchiveStatus.SAVED)


def _problem_table(report: Report, rows: _Rows, stream: TextIO, problems: list[Problem], heading: str) -> None:
    with_archive = report.archives is not None and any(p.url for p in problems)
    columns = ["Problem", "Reference", "What is wrong"] + (["Archived copy"] if with_archive else [])
    body = []
    for problem in problems:
        cells = [_PROBLEMS[problem.kind], rows.problem_reference(problem), escape(shorten(problem.detail, 160))]
        if with_archive:
            cells.append(rows.archive(report.archive(archive_key(problem))) if problem.url else "–")
        body.append(cells)
    _table(stream, heading, columns, body)


def _unverified(report: Report, rows: _Rows, stream: TextIO) -> None:
    links = [link for link in report.links if (r := report.result(link)) is not None and r.verdict in _UNVERIFIED]
    if not links:
        return
    stream.write("\n## Could not verify (check by hand)\n\nBlocked, unreachable or skipped: none of these is "
                 "evidence that the page is gone.\n")
    body = []
    for link in links:
        result = report.result(link)
        body.append([str(rows.numbers[id(link)]), rows.reference(link), link_cell(link),
                     f"{_verdict(result)}: {escape(reason_words(result))}<br>{status_chain(result)}",
                     rows.history(link), rows.archive(report.archive(archive_key(link)))])
    _table(stream, f"{len(links)} link{'s' if len(links) != 1 else ''}",
           ("#", "Reference", "Link", "Why", "History", "Archived copy"), body)


def _recovered(report: Report, rows: _Rows, stream: TextIO) -> None:
    if report.changes is None or not report.changes.recovered:
        return
    links = [link for link in report.links if link.url in report.changes.recovered]
    if not links:
        return
    stream.write("\n## Recovered\n\nFailing or dead before, alive now.\n")
    _table(stream, f"{len(links)} link{'s' if len(links) != 1 else ''}", ("#", "Reference", "Link"),
           ([str(rows.numbers[id(link)]), rows.reference(link), link_cell(link)]
            for link in links))


def _host(url: str) -> str:
    try:
        host = urlsplit(url).hostname or "?"
    except ValueError:
        return "?"
    return host.removeprefix("www.")


def _hosts(report: Report, stream: TextIO) -> None:
    by_host: dict[str, Counter[str]] = {}
    for link in report.links:
        result = report.result(link)
        verdict = result.verdict if result is not None else None
        group = ("unverified" if verdict in _UNVERIFIED else verdict.value if verdict is not None else "unjudged")
        if verdict is Verdict.DEAD and not report.is_dead(link):
            group = "failing"
        by_host.setdefault(_host(link.url), Counter())[group] += 1
    if len(by_host) < 2:
        return
    stream.write("\n## By host\n\n| Host | Links | alive | moved | dead | failing | could not verify | possibly cut |\n"
                 "|---|--:|--:|--:|--:|--:|--:|--:|\n")
    for host, counts in sorted(by_host.items(), key=lambda item: (-sum(item[1].values()), item[0])):
        cells = [counts[k] or "" for k in ("alive", "moved", "dead", "failing", "unverified", "truncated")]
        stream.write(f"| {escape(visible(host))} | {sum(counts.values())} | {' | '.join(map(str, cells))} |\n")


def _all_links(report: Report, rows: _Rows, stream: TextIO) -> None:
    stream.write("\n## All links\n\n")
    if not report.links:
        stream.write("No links found.\n")
        return
    if report.results is None:
        stream.write("| # | Link | Accessed | Cited in |\n|--:|---|---|---|\n")
        for n, link in enumerate(report.links, 1):
            stream.write(f"| {n} | {link_cell(link)} | {rows.accessed(link)} | {rows.cited_in(link)} |\n")
        return
    stream.write("| # | Verdict | Link | Status | Accessed | Cited in |\n|--:|---|---|---|---|---|\n")
    for n, link in enumerate(report.links, 1):
        result = report.result(link)
        stream.write(f"| {n} | {_verdict(result)} | {link_cell(link)} | {status_chain(result)} | "
                     f"{rows.accessed(link)} | {rows.cited_in(link)} |\n")

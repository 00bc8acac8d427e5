"""A local stand-in for the Wayback Machine and for a second, Memento-only archive.

Faithful to the documented behaviour (copied into the tests, never read from
elsewhere): the Availability API picks the capture closest in time whatever
it recorded; the CDX index canonicalises URLs (scheme, "www.", case), filters
with full-match regular expressions, pads partial from/to timestamps, sorts
by closeness only with sort=closest, and answers ``[]`` when nothing matches;
replays of an exact capture carry Memento-Datetime and the archived status,
an inexact timestamp is a 302 to the nearest capture without it, and a live
429 has none. Save Page Now wants ``Authorization: LOW key:secret``, answers
401 without it, returns errors with HTTP 200 both at submission and in job
status, and a job is pending for a few polls.

Both archives are handlers for tests/sites.FakeWeb: the Wayback one answers
for 127.0.0.1 (endpoints configured as http://127.0.0.1:PORT/…), the Memento
one for a name reached through --connect-to.
"""

from __future__ import annotations

import base64
import datetime as _dt
import email.utils
import hashlib
import html as _html
import json
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
GOOD_PAGE_WORDS = 80


def page_html(title: str, words: int = GOOD_PAGE_WORDS) -> str:
    text = " ".join(f"{title.split()[0].lower()}{i}" for i in range(words))
    return f"<!DOCTYPE html><html><head><title>{_html.escape(title)}</title></head><body><p>{text}</p></body></html>"


def surt(url: str) -> str:
    """The CDX server's canonical key: no scheme, no "www.", no default port, lower case."""
    rest = url.split("://", 1)[1] if "://" in url else url
    hostport, slash, path = rest.partition("/")
    host = hostport.lower()
    for port in (":80", ":443"):
        host = host.removesuffix(port)
    host = re.sub(r"^www\d*\.", "", host)
    return ",".join(reversed(host.split("."))) + ")/" + (path if slash else "").lower()


def pad_low(ts: str) -> str:
    return ts + "00000000000000"[len(ts):]


def pad_high(ts: str) -> str:
    return ts + "99999999999999"[len(ts):]


def to_datetime(ts: str) -> _dt.datetime:
    digits = ts[:14]
    filler = "0101000000"
    padded = digits + filler[len(digits) - 4:] if len(digits) < 14 else digits
    return _dt.datetime.strptime(padded, "%Y%m%d%H%M%S").replace(tzinfo=_dt.timezone.utc)


def http_date(ts: str) -> str:
    return email.utils.format_datetime(to_datetime(ts), usegmt=True)


@dataclass
class Capture:
    url: str  # as captured
    timestamp: str
    status: int = 200
    body: str = ""
    mimetype: str = "text/html"
    location: str | None = None  # for a recorded redirect

    @property
    def key(self) -> str:
        return surt(self.url)

    @property
    def digest(self) -> str:
        raw = hashlib.sha1(f"{self.status}{self.location}{self.body}".encode()).digest()
        return base64.b32encode(raw).decode()

    def row(self) -> dict[str, str]:
        return {"urlkey": self.key, "timestamp": self.timestamp, "original": self.url, "mimetype": self.mimetype,
                "statuscode": str(self.status), "digest": self.digest, "length": str(len(self.body) + 300)}


@dataclass
class Fault:
    status: int = 429
    remaining: int | None = None  # None: forever
    body: str = "<html><head><title>429 Too Many Requests</title></head><body>Too Many Requests</body></html>"
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html"


@dataclass
class SaveJob:
    job_id: str
    url: str
    polls_pending: int
    outcome: dict[str, object]
    polls: int = 0


@dataclass
class Seen:
    family: str
    method: str
    path_qs: str
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)


class FakeWayback:
    """The Wayback Machine's APIs over an in-memory list of captures."""

    def __init__(self, *, access_key: str = "test-access", secret: str = "test-secret") -> None:
        self.captures: list[Capture] = []
        self.faults: dict[str, list[Fault]] = {}
        self.seen: list[Seen] = []
        self.access_key = access_key
        self.secret = secret
        self.base = ""  # set by the test once the server's port is known
        self.spurious_empty_availability = False
        self.jobs: dict[str, SaveJob] = {}
        self.save_outcomes: dict[str, dict[str, object]] = {}  # by URL: what the job ends with
        self.refuse_at_submit: dict[str, dict[str, object]] = {}  # by URL: 200-with-error answers
        self.polls_pending = 2
        self.now = "20261122120000"
        self.down = False  # every request answered 503, as in an outage

    # --- test helpers

    def add(self, url: str, timestamp: str, status: int = 200, title: str = "", *, body: str | None = None,
            location: str | None = None, mimetype: str = "text/html") -> Capture:
        capture = Capture(url, timestamp, status,
                          body if body is not None else page_html(title or f"Page {timestamp}"),
                          mimetype, location)
        self.captures.append(capture)
        return capture

    def fault(self, family: str, status: int = 429, count: int | None = None, **options: object) -> None:
        self.faults.setdefault(family, []).append(Fault(status, count, **options))  # type: ignore[arg-type]

    @staticmethod
    def job_id(url: str) -> str:
        return "spn2-" + hashlib.sha1(url.encode()).hexdigest()

    def requests(self, family: str | None = None) -> list[Seen]:
        return [s for s in self.seen if family is None or s.family == family]

    # --- dispatch

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        raw = request.raw_path
        if path == "/wayback/available":
            family = "availability"
        elif path == "/cdx/search/cdx":
            family = "cdx"
        elif path.startswith("/web/timemap/link/"):
            family = "timemap"
        elif path.startswith("/web/"):
            family = "replay"
        elif path in ("/save", "/save/"):
            family = "save"
        elif path.startswith("/save/status/"):
            family = "status"
        else:
            return web.Response(status=404, text="not found")
        form = dict(await request.post()) if request.method == "POST" else {}
        self.seen.append(Seen(family, request.method, raw, dict(request.headers), {k: str(v) for k, v in form.items()}))
        if self.down:
            return web.Response(status=503, text="<html><title>503 Service Unavailable</title></html>",
                                content_type="text/html")
        fault = self._take_fault(family)
        if fault is not None:
            return web.Response(status=fault.status, text=fault.body, content_type=fault.content_type,
                                headers=fault.headers)
        if family == "save":
            return await self._save(request, form)
        handler = {"availability": self._availability, "cdx": self._cdx, "timemap": self._timemap,
                   "replay": self._replay, "status": self._status}[family]
        return await handler(request)

    def _take_fault(self, family: str) -> Fault | None:
        for fault in self.faults.get(family, []):
            if fault.remaining is None:
                return fault
            if fault.remaining > 0:
                fault.remaining -= 1
                return fault
        return None

    def _matching(self, url: str, match_type: str = "exact") -> list[Capture]:
        key = surt(url)
        if match_type == "prefix":
            found = [c for c in self.captures if c.key.startswith(key)]
        elif match_type in ("host", "domain"):
            host = key.split(")", 1)[0]
            found = [c for c in self.captures if c.key.split(")", 1)[0] == host
                     or (match_type == "domain" and c.key.startswith(host + ","))]
        else:
            found = [c for c in self.captures if c.key == key]
        return sorted(found, key=lambda c: (c.key, c.timestamp))

    # --- Availability API

    async def _availability(self, request: web.Request) -> web.Response:
        url = request.query.get("url", "")
        timestamp = request.query.get("timestamp")
        body: dict[str, object] = {"url": url, "archived_snapshots": {}}
        if timestamp is not None:
            body["timestamp"] = timestamp
        if "://" in url:  # it does not canonicalise a URL given with its scheme
            candidates = [c for c in self.captures if c.url == url]
        else:
            candidates = self._matching(url)
        if candidates and not self.spurious_empty_availability:
            if timestamp:
                target = to_datetime(timestamp)
                chosen = min(candidates, key=lambda c: abs((to_datetime(c.timestamp) - target).total_seconds()))
            else:
                chosen = max(candidates, key=lambda c: c.timestamp)
            body["archived_snapshots"] = {"closest": {
                "status": str(chosen.status), "available": True, "timestamp": chosen.timestamp,
                "url": f"http://web.archive.org/web/{chosen.timestamp}/{chosen.url}"}}
        callback = request.query.get("callback")
        if callback:
            return web.Response(text=f"{callback}({json.dumps(body)})", content_type="application/javascript")
        return web.json_response(body)

    # --- CDX server

    async def _cdx(self, request: web.Request) -> web.Response:
        q = request.query
        url = q.get("url")
        if not url:
            return web.Response(status=400, text="url parameter is required")
        match_type = q.get("matchType")
        if match_type is None and url.endswith("*"):
            url, match_type = url[:-1], "prefix"
        elif match_type is None and url.startswith("*."):
            url, match_type = url[2:], "domain"
        rows = [c.row() for c in self._matching(url, match_type or "exact")]
        if "from" in q:
            rows = [r for r in rows if r["timestamp"] >= pad_low(q["from"])]
        if "to" in q:
            rows = [r for r in rows if r["timestamp"] <= pad_high(q["to"])]
        for spec in q.getall("filter", []):
            rows = [r for r in rows if _filter_passes(spec, r)]
        for spec in q.getall("collapse", []):
            name, _, n = spec.partition(":")
            kept: list[dict[str, str]] = []
            for r in rows:
                value = r.get(name, "")[: int(n)] if n else r.get(name, "")
                previous = kept[-1].get(name, "")[: int(n)] if n and kept else (kept[-1].get(name, "") if kept else None)
                if kept and value == previous:
                    continue
                kept.append(r)
            rows = kept
        sort = q.get("sort", "regular")
        if sort == "reverse":
            rows.reverse()
        elif sort == "closest" and "closest" in q:
            target = to_datetime(q["closest"])
            rows.sort(key=lambda r: abs((to_datetime(r["timestamp"]) - target).total_seconds()))
        offset = int(q.get("offset", "0") or 0)
        rows = rows[offset:]
        if "limit" in q:
            limit = int(q["limit"])
            rows = rows[:limit] if limit >= 0 else rows[limit:]
        names = q["fl"].split(",") if "fl" in q else list(FIELDS)
        if q.get("output") == "json":
            if not rows:
                return web.Response(text="[]", content_type="application/json")
            table = [names] + [[r[n] for n in names] for r in rows]
            return web.Response(text=json.dumps(table), content_type="application/json")
        return web.Response(text="".join(" ".join(r[n] for n in names) + "\n" for r in rows),
                            content_type="text/plain")

    # --- replay, TimeGate and TimeMap

    def _replay_url(self, timestamp: str, modifier: str, url: str) -> str:
        return f"{self.base}/web/{timestamp}{modifier}/{url}"

    def _links(self, url: str, captures: list[Capture], current: Capture | None = None) -> str:
        entries = [f'<{url}>; rel="original"',
                   f'<{self.base}/web/timemap/link/{url}>; rel="timemap"; type="application/link-format"',
                   f'<{self.base}/web/{url}>; rel="timegate"']
        for i, c in enumerate(captures):
            rel = "memento"
            if i == 0:
                rel = "first memento"
            if i == len(captures) - 1:
                rel = "last memento" if i else "first last memento"
            if current is not None and c is not current and i not in (0, len(captures) - 1):
                continue
            entries.append(f'<{self._replay_url(c.timestamp, "", c.url)}>; rel="{rel}"; '
                           f'datetime="{http_date(c.timestamp)}"')
        return ", ".join(entries)

    async def _replay(self, request: web.Request) -> web.Response:
        rest = request.raw_path[len("/web/"):]
        m = re.match(r"(\d{1,14})([a-z]{2}_)?/(.*)$", rest)
        if not m:  # a TimeGate: /web/URL, negotiated by Accept-Datetime
            return self._timegate(request, unquote(rest))
        timestamp, modifier, url = m.group(1), m.group(2) or "", m.group(3)
        captures = sorted(self._matching(url), key=lambda c: c.timestamp)
        if not captures:
            return web.Response(status=404, text="<html><title>Wayback Machine</title>Hrm. The Wayback "
                                "Machine has not archived that URL.</html>", content_type="text/html",
                                headers={"x-ts": "404"})
        exact = next((c for c in captures if c.timestamp == timestamp), None)
        if exact is None:
            target = to_datetime(timestamp)
            nearest = min(captures, key=lambda c: abs((to_datetime(c.timestamp) - target).total_seconds()))
            return web.Response(status=302, text="", content_type="text/plain", headers={
                "Location": self._replay_url(nearest.timestamp, modifier, nearest.url),
                "X-Archive-Redirect-Reason": f"found capture at {nearest.timestamp}"})
        headers = {"Memento-Datetime": http_date(exact.timestamp), "Link": self._links(exact.url, captures, exact),
                   "x-ts": str(exact.status), "x-archive-orig-content-type": exact.mimetype}
        if exact.location:
            headers["Location"] = self._replay_url(exact.timestamp, modifier, exact.location)
        return web.Response(status=exact.status, body=exact.body.encode(), content_type=exact.mimetype,
                            headers=headers)

    def _timegate(self, request: web.Request, url: str) -> web.Response:
        captures = sorted(self._matching(url), key=lambda c: c.timestamp)
        if not captures:
            return web.Response(status=404, text="not archived")
        wanted = request.headers.get("Accept-Datetime")
        chosen = captures[-1]
        if wanted:
            try:
                target = email.utils.parsedate_to_datetime(wanted)
            except (TypeError, ValueError):
                return web.Response(status=400, text="bad Accept-Datetime")
            chosen = min(captures, key=lambda c: abs((to_datetime(c.timestamp) - target).total_seconds()))
        return web.Response(status=302, headers={"Location": self._replay_url(chosen.timestamp, "", chosen.url),
                                                 "Vary": "accept-datetime", "Link": self._links(url, captures)})

    async def _timemap(self, request: web.Request) -> web.Response:
        url = request.raw_path[len("/web/timemap/link/"):]
        captures = sorted(self._matching(url), key=lambda c: c.timestamp)
        if not captures:
            return web.Response(status=404, text="")
        lines = [f'<{url}>; rel="original"',
                 f'<{self.base}/web/timemap/link/{url}>; rel="self"; type="application/link-format"; '
                 f'from="{http_date(captures[0].timestamp)}"',
                 f'<{self.base}/web/{url}>; rel="timegate"']
        for i, c in enumerate(captures):
            rel = "first memento" if i == 0 else ("last memento" if i == len(captures) - 1 else "memento")
            lines.append(f'<{self._replay_url(c.timestamp, "", c.url)}>; rel="{rel}"; '
                         f'datetime="{http_date(c.timestamp)}"')
        return web.Response(text=",\n".join(lines) + "\n", content_type="application/link-format")

    # --- Save Page Now 2

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"LOW {self.access_key}:{self.secret}"

    async def _save(self, request: web.Request, form: dict[str, object]) -> web.Response:
        if request.method != "POST":
            return web.Response(status=405, text="POST only")
        if not self._authorised(request):
            return web.Response(status=401, text="<html><body>You need to be logged in to use Save Page Now."
                                "</body></html>", content_type="text/html")
        if "json" not in request.headers.get("Accept", ""):
            return web.Response(text="<html><script>spn.watchJob('x')</script></html>", content_type="text/html")
        url = str(form.get("url", ""))
        if not url:
            return web.json_response({"status": "error", "status_ext": "error:invalid-url-syntax",
                                      "message": "URL syntax is not valid."})
        if url in self.refuse_at_submit:
            return web.json_response(self.refuse_at_submit[url])
        for job in self.jobs.values():
            if job.url == url:
                return web.json_response({"url": url, "job_id": job.job_id,
                                          "message": "The same snapshot had been made 1 minutes ago."})
        job_id = self.job_id(url)
        outcome = self.save_outcomes.get(url, {"status": "success"})
        self.jobs[job_id] = SaveJob(job_id, url, self.polls_pending, outcome)
        return web.json_response({"url": url, "job_id": job_id})

    async def _status(self, request: web.Request) -> web.Response:
        job_id = request.path[len("/save/status/"):]
        if job_id == "system":
            return web.json_response({"status": "ok"})
        if job_id == "user":
            if not self._authorised(request):
                return web.Response(status=401, text="not logged in")
            return web.json_response({"processing": 0, "available": 3, "daily_captures": 0,
                                      "daily_captures_limit": 30000})
        job = self.jobs.get(job_id)
        if job is None:
            return web.json_response({"status": "error", "message": "job not found"}, status=404)
        job.polls += 1
        if job.polls <= job.polls_pending:
            return web.json_response({"status": "pending", "job_id": job_id, "resources": []})
        if job.outcome.get("status") == "error":
            return web.json_response({"job_id": job_id, "resources": [], **job.outcome})
        if job.outcome.get("status") == "pending":
            return web.json_response({"status": "pending", "job_id": job_id, "resources": []})
        self.add(job.url, self.now, title="Captured today")
        return web.json_response({"status": "success", "job_id": job_id, "original_url": job.url,
                                  "timestamp": self.now, "duration_sec": 6.2, "resources": [job.url],
                                  "outlinks": [], "http_status": 200})


def _filter_passes(spec: str, row: dict[str, str]) -> bool:
    contains = spec.startswith("~")
    if contains:
        spec = spec[1:]
    invert = spec.startswith("!")
    if invert:
        spec = spec[1:]
    name, colon, pattern = spec.partition(":")
    if not colon:
        value, pattern = " ".join(row[n] for n in FIELDS), name
    elif name.isdigit():
        value = row[FIELDS[int(name)]]
    else:
        value = row.get(name, "")
    matched = pattern in value if contains else re.fullmatch(pattern, value) is not None
    return matched != invert


@dataclass
class Memento:
    url: str
    timestamp: str
    status: int = 200
    body: str = ""
    original: str = ""  # what rel="original" says, when the archive resolved the URL elsewhere


class FakeMementoArchive:
    """A Memento-only archive (think Arquivo.pt): a TimeMap in link format, and mementos.

    ``quoted=False`` writes the attributes unquoted, as some archives have.
    """

    def __init__(self, host: str, *, quoted: bool = True) -> None:
        self.host = host
        self.quoted = quoted
        self.mementos: list[Memento] = []
        self.seen: list[str] = []
        self.faults: list[Fault] = []  # for every request
        self.replay_faults: list[Fault] = []

    def fault_replays(self, status: int, count: int | None = None, **options: object) -> None:
        """Answer the next ``count`` replays (not the TimeMap) so."""
        self.replay_faults.append(Fault(status, count, **options))  # type: ignore[arg-type]

    def add(self, url: str, timestamp: str, title: str = "", *, status: int = 200, body: str | None = None,
            original: str = "") -> None:
        self.mementos.append(Memento(url, timestamp, status, body if body is not None else page_html(
            title or f"Kept {timestamp}"), original))

    def _uri(self, m: Memento) -> str:
        return f"http://{self.host}/wayback/{m.timestamp}/{m.url}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = request.raw_path
        self.seen.append(raw)
        for fault in self.faults:
            if fault.remaining is None or fault.remaining > 0:
                if fault.remaining is not None:
                    fault.remaining -= 1
                return web.Response(status=fault.status, text=fault.body, content_type=fault.content_type,
                                    headers=fault.headers)
        if raw.startswith("/wayback/timemap/link/"):
            url = raw[len("/wayback/timemap/link/"):]
            found = sorted((m for m in self.mementos if surt(m.url) == surt(url)), key=lambda m: m.timestamp)
            if not found:
                return web.Response(status=404, text="")
            q = (lambda v: f'"{v}"') if self.quoted else (lambda v: v)
            lines = [f"<{url}>; rel={q('original')}"]
            for m in found:
                lines.append(f"<{self._uri(m)}>; rel={q('memento')}; datetime={q(http_date(m.timestamp))}")
            return web.Response(text=",\n".join(lines), content_type="application/link-format")
        m = re.match(r"/wayback/(\d{14})(id_)?/(.*)$", raw)
        if m:
            for fault in self.replay_faults:
                if fault.remaining is None or fault.remaining > 0:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return web.Response(status=fault.status, text=fault.body, content_type=fault.content_type,
                                        headers=fault.headers)
            memento = next((x for x in self.mementos if x.timestamp == m.group(1)
                            and surt(x.url) == surt(m.group(3))), None)
            if memento is None:
                return web.Response(status=404, text="not in the archive")
            return web.Response(status=memento.status, body=memento.body.encode(), content_type="text/html",
                                headers={"Memento-Datetime": http_date(memento.timestamp),
                                         "Link": f'<{memento.original or memento.url}>; rel="original"'})
        return web.Response(status=404, text="not found")

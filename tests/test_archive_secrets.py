"""The Internet Archive keys never leave the Authorization header of a capture request.

Not in a result, a notice, a log line (at any level) or a repr; not even when
aiohttp's own exception quotes back what a broken server echoed.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from archive_support import archives, run_stage
from crawler.archive.credentials import Credentials
from crawler.archive.net import Clock
from crawler.archive.plan import Action, ArchiveJob
from sites import free_port

ACCESS, SECRET = "AKIAEXAMPLEACCESS", "s3cr3t-Example-Secret-Key"
KEYS = Credentials(ACCESS, SECRET)
LIVE = "https://example.org/new.html"


class Echo:
    """A broken server that answers with a status line quoting the request's Authorization header."""

    def __enter__(self) -> Echo:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(65536)
                auth = next((line for line in data.split(b"\r\n") if line.lower().startswith(b"authorization")),
                            b"no authorization")
                conn.sendall(b"HTTP/1.1 2OO " + auth + b"\r\n" + auth + b"\r\n\r\n")

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


@pytest.fixture
def fakes() -> Iterator:
    with archives() as a:
        yield a


def _everything_shown(results: dict, stage, caplog) -> str:
    texts = [repr(r) for r in results.values()] + list(stage.notices) + [repr(stage), caplog.text]
    texts += [str(record.args) for record in caplog.records]
    return "\n".join(texts)


def test_keys_are_not_quoted_back_from_aiohttps_own_error_text(fakes, caplog):
    caplog.set_level(logging.DEBUG)
    stages: list = []
    with Echo() as echo:
        settings = fakes.settings(save=f"http://127.0.0.1:{echo.port}/save")
        results = run_stage(fakes, {LIVE: ArchiveJob(LIVE, action=Action.SAVE)}, settings, credentials=KEYS,
                            save=True, stage_out=stages)
    result = results[LIVE]
    assert result.status.value == "error"
    assert "malformed response" in result.detail and "[hidden]" in result.detail  # the echo was there…
    shown = _everything_shown(results, stages[0], caplog)
    assert SECRET not in shown and ACCESS not in shown  # …but not the keys


def test_keys_are_not_shown_when_the_save_endpoint_is_down(fakes, caplog):
    caplog.set_level(logging.DEBUG)
    stages: list = []
    settings = fakes.settings(save=f"http://127.0.0.1:{free_port()}/save")
    results = run_stage(fakes, {LIVE: ArchiveJob(LIVE, action=Action.SAVE)}, settings, credentials=KEYS,
                        save=True, stage_out=stages)
    assert results[LIVE].status.value == "error"
    assert "connection refused" in results[LIVE].detail
    shown = _everything_shown(results, stages[0], caplog)
    assert SECRET not in shown and ACCESS not in shown


def test_keys_are_sent_only_to_save_page_now(fakes, caplog):
    fakes.wayback.access_key, fakes.wayback.secret = ACCESS, SECRET
    caplog.set_level(logging.DEBUG)
    stages: list = []
    dead = "https://example.org/gone.html"
    fakes.wayback.add(dead, "20190101000000", title="Gone now")
    results = run_stage(fakes, {LIVE: ArchiveJob(LIVE, action=Action.SAVE), dead: ArchiveJob(dead)},
                        credentials=KEYS, save=True, stage_out=stages)
    assert results[LIVE].status.value == "saved"
    for seen in fakes.wayback.requests():
        authorised = "Authorization" in seen.headers
        assert authorised == (seen.family in ("save", "status")), seen.family
    shown = _everything_shown(results, stages[0], caplog)
    assert SECRET not in shown and ACCESS not in shown


ECHOED_JOB = {"url": LIVE, "job_id": f"spn2-LOW {ACCESS}:{SECRET}"}  # a broken SPN quoting the header back


def test_keys_quoted_back_in_a_job_id_are_not_shown_when_the_capture_succeeds(fakes, caplog):
    caplog.set_level(logging.DEBUG)
    stages: list = []
    w = fakes.wayback
    w.fault("save", 200, body=json.dumps(ECHOED_JOB), content_type="application/json")
    w.fault("status", 200, content_type="application/json", body=json.dumps(
        {"status": "success", "timestamp": "20261122120000", "original_url": LIVE}))
    results = run_stage(fakes, {LIVE: ArchiveJob(LIVE, action=Action.SAVE)}, credentials=KEYS, save=True,
                        stage_out=stages)
    assert results[LIVE].status.value == "saved"
    shown = _everything_shown(results, stages[0], caplog)
    assert SECRET not in shown and ACCESS not in shown


def test_keys_quoted_back_in_a_job_id_are_not_shown_when_the_deadline_comes(fakes, caplog):
    caplog.set_level(logging.DEBUG)
    stages: list = []
    w = fakes.wayback
    w.fault("save", 200, body=json.dumps(ECHOED_JOB), content_type="application/json")
    w.fault("status", 200, body=json.dumps({"status": "pending"}), content_type="application/json")
    results = run_stage(fakes, {LIVE: ArchiveJob(LIVE, action=Action.SAVE)}, fakes.settings(save_poll_interval=0.05),
                        credentials=KEYS, save=True, stage_out=stages, clock=Clock(), deadline_in=0.5)
    assert results[LIVE].status.value == "requested"
    shown = _everything_shown(results, stages[0], caplog)
    assert SECRET not in shown and ACCESS not in shown

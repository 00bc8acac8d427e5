"""SIGINT and SIGTERM end an audit cleanly: one line, a partial report, nothing left behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiohttp import web

from sites import FakeWeb, page

LINKS = 40


def slow_site(fake: FakeWeb) -> None:
    fake.route("canary.test", "/", page("Canary"))

    async def slow(request: web.Request) -> web.Response:
        if request.path in ("/0.pdf", "/1.pdf", "/2.pdf"):  # files: no soft-404 probe needed
            return web.Response(body=b"%PDF-1.4", content_type="application/pdf")
        await asyncio.sleep(30)
        return web.Response(text="late")
    fake.fallback("slow.test", slow)


def start(tmp_path: Path, fake: FakeWeb, out: Path) -> subprocess.Popen[bytes]:
    refs = tmp_path / "refs.txt"
    refs.write_text("".join(f"{n}. Author {n}. http://slow.test/{n}.pdf\n" for n in range(LINKS)), encoding="utf-8")
    config = tmp_path / "crawler.toml"
    config.write_text('[check]\nretries = 0\ntimeout = 60.0\nmax_per_host = 64\ncanary_urls = ["http://canary.test/"]\n[archive]\nenabled = false\n',
                      encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "audit", str(refs), "--config", str(config), "--connect-to",
         f"::127.0.0.1:{fake.http_port}", "--output", str(out), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def wait_for_requests(fake: FakeWeb, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(fake.requests("slow.test")) < count:
        assert time.monotonic() < deadline, "the audit never reached the slow site"
        time.sleep(0.05)


def gone(pid: int, timeout: float = 5.0) -> bool:
    """The process has exited (a zombie waiting for its reaper counts), within a grace period."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("to_group", [False, True], ids=["process", "process group"])
def test_signal_writes_a_partial_report_and_one_line(tmp_path, name, to_group):
    out = tmp_path / "report.json"
    with FakeWeb() as fake:
        slow_site(fake)
        process = start(tmp_path, fake, out)
        try:
            wait_for_requests(fake, LINKS)  # every link is in flight, three answered
            time.sleep(0.3)
            children = children_of(process.pid)
            sig = getattr(signal, name)
            os.killpg(process.pid, sig) if to_group else process.send_signal(sig)
            _, err = process.communicate(timeout=10)  # "within a few seconds"
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == {"SIGINT": 130, "SIGTERM": 143}[name]
    lines = err.decode().strip().splitlines()
    assert lines == [f"crawler: interrupted ({name}): partial report written to {out}"], err.decode()
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["interrupted"] == name
    verdicts = [(link["verdict"], link["reason"]) for link in report["links"]]
    assert verdicts.count(("alive", "ok")) == 3
    assert verdicts.count(("skipped", "interrupted")) == LINKS - 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []  # no temporary file
    assert all(gone(child) for child in children)  # no process outlived the run


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_signal_to_the_group_while_references_are_still_read_leaves_one_line(tmp_path, name):
    refs = tmp_path / "big.txt"
    with refs.open("w", encoding="utf-8") as f:
        f.write("1. First. http://slow.test/0.pdf\n")
        for n in range(2, 120_000):
            f.write(f"{n}. Author {n}, A. A title of some length, number {n}. Publisher, 2019. "
                    f"http://slow.test/{n}.html (accessed 10.06.2023)\n")
    config = tmp_path / "crawler.toml"
    config.write_text('[check]\nretries = 0\ncanary_urls = ["http://canary.test/"]\n[archive]\nenabled = false\n', encoding="utf-8")
    out = tmp_path / "report.json"
    with FakeWeb() as fake:
        slow_site(fake)
        process = subprocess.Popen(
            [sys.executable, "-m", "crawler", "audit", str(refs), "--config", str(config), "--connect-to",
             f"::127.0.0.1:{fake.http_port}", "--output", str(out), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            wait_for_requests(fake, 1)  # checking has begun; the child is still reading
            children = children_of(process.pid)
            os.killpg(process.pid, getattr(signal, name))
            _, err = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    text = err.decode()
    assert "Traceback" not in text, text
    assert text.strip().splitlines() == [f"crawler: interrupted ({name}): partial report written to {out}"], text
    report = json.loads(out.read_text(encoding="utf-8"))
    assert 0 < len(report["links"]) < 120_000
    assert all(gone(child) for child in children)


def test_signal_while_the_archive_is_still_looking_stops_the_run_within_seconds(tmp_path):
    from wayback_fake import FakeWayback

    wayback = FakeWayback()
    wayback.add("http://slow.test/gone.html", "20200101000000", title="The page as it was")

    asked: list[str] = []

    async def slow_index(request: web.Request) -> web.StreamResponse:
        if request.path == "/cdx/search/cdx":
            asked.append(request.path_qs)
            await asyncio.sleep(60)  # the archive's index is very slow tonight
        return await wayback.handle(request)

    refs = tmp_path / "refs.txt"
    refs.write_text("1. Author. A page that is gone. http://slow.test/gone.html (accessed 1 June 2020)\n",
                    encoding="utf-8")
    config = tmp_path / "crawler.toml"
    config.write_text('[check]\nretries = 0\ncanary_urls = ["http://canary.test/"]\n', encoding="utf-8")
    out = tmp_path / "report.json"
    with FakeWeb() as fake:
        fake.route("canary.test", "/", page("Canary"))
        fake.fallback("127.0.0.1", slow_index)
        wayback.base = f"http://127.0.0.1:{fake.http_port}"
        process = subprocess.Popen(
            [sys.executable, "-m", "crawler", "audit", str(refs), "--config", str(config), "--connect-to",
             f"slow.test:80:127.0.0.1:{fake.http_port}", "--connect-to", f"canary.test:80:127.0.0.1:{fake.http_port}",
             "--wayback-url", wayback.base, "--output", str(out), "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while not asked:  # checking is over; the archive lookup hangs
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=10)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err.decode()
    assert err.decode().strip().splitlines() == [f"crawler: interrupted (SIGINT): partial report written to {out}"]
    report = json.loads(out.read_text(encoding="utf-8"))
    [link] = report["links"]
    assert link["verdict"] == "dead"
    assert link["archive"]["status"] in ("error", "skipped")  # never "none": the archive did not answer

"""Extraction in a child process: everything arrives, a lost child is reported, not fatal."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from aiohttp import web

from crawler import cli, pipeline
from crawler.extract import background, extract
from crawler.extract.background import BackgroundExtraction
from crawler.model import InputError
from sites import NOT_FOUND, FakeWeb, html


def reference_list(path: Path, references: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for n in range(references):
            f.write(f"Author{n}, A. Article number {n}. Publisher, 2019. - "
                    f"https://example{n % 7}.org/articles/{n}.html (accessed 10.06.2023)\n")
    return path


async def collect(stream: BackgroundExtraction, *, kill_after: int | None = None) -> list[object]:
    items: list[object] = []
    async for item in stream:
        items.append(item)
        if len(items) == kill_after:
            os.kill(stream.pid, signal.SIGKILL)
    return items


@pytest.fixture(params=["fork", "fresh interpreter"])
def start(request, monkeypatch):
    """Both ways the child starts: forked where safe, else a fresh interpreter."""
    if request.param == "fork":
        monkeypatch.setattr(background, "_can_fork", lambda: sys.platform.startswith("linux"))
    else:
        monkeypatch.setattr(background, "_can_fork", lambda: False)
    return request.param


async def test_the_stream_yields_what_extract_yields(tmp_path, start):
    path = reference_list(tmp_path / "refs.txt", 600)
    items = await collect(BackgroundExtraction([str(path)]))
    assert items == list(extract([str(path)]))


async def test_a_child_killed_mid_stream_ends_the_stream_with_one_error_after_what_arrived(tmp_path, start):
    path = reference_list(tmp_path / "refs.txt", 30_000)
    items = await collect(BackgroundExtraction([str(path)]), kill_after=1)
    *arrived, last = items
    assert arrived and not any(isinstance(item, InputError) for item in arrived)
    assert len(arrived) < 30_001  # the document and its references: it did not get to the end
    assert isinstance(last, InputError) and last.source == "<extraction>"
    assert "killed by SIGKILL" in last.message and "\n" not in last.message
    assert f"after {len(arrived):,} items" in last.message


async def test_the_child_yields_the_core_to_the_checks(tmp_path, start):
    path = reference_list(tmp_path / "refs.txt", 30_000)
    stream = BackgroundExtraction([str(path)])
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        deadline = time.monotonic() + 5
        while os.getpriority(os.PRIO_PROCESS, stream.pid) == ours and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        assert os.getpriority(os.PRIO_PROCESS, stream.pid) == min(ours + background._NICENESS, 19)
    finally:
        stream.close()


async def test_an_error_in_the_child_is_reported_as_such(tmp_path, monkeypatch):
    # Only a forked child sees the patched extract().
    if not sys.platform.startswith("linux"):
        pytest.skip("the fork start needs Linux")
    monkeypatch.setattr(background, "_can_fork", lambda: True)

    def broken(inputs, **options):
        yield from extract(inputs, **options)
        raise ValueError("a bug in a rule")

    monkeypatch.setattr(background, "extract", broken)
    path = reference_list(tmp_path / "refs.txt", 20)
    *arrived, last = await collect(BackgroundExtraction([str(path)]))
    assert len(arrived) == 21
    assert isinstance(last, InputError)
    assert last.message.startswith("extraction failed after 21 items (ValueError: a bug in a rule)")


async def test_an_item_that_cannot_cross_the_pipe_is_reported_not_hung_on(tmp_path, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("the fork start needs Linux")
    monkeypatch.setattr(background, "_can_fork", lambda: True)

    def unpicklable(inputs, **options):
        yield from extract(inputs, **options)
        yield lambda: None  # pickle refuses functions defined inline

    monkeypatch.setattr(background, "extract", unpicklable)
    path = reference_list(tmp_path / "refs.txt", 3)
    *arrived, last = await asyncio.wait_for(collect(BackgroundExtraction([str(path)])), 30)
    assert isinstance(last, InputError) and last.message.startswith("extraction failed after ")
    assert "PicklingError" in last.message or "AttributeError" in last.message, last.message


async def test_a_finished_child_exits_cleanly(tmp_path, start):
    stream = BackgroundExtraction([str(reference_list(tmp_path / "refs.txt", 10))])
    items = await collect(stream)
    assert not any(isinstance(item, InputError) for item in items)
    assert stream._process.poll() == 0


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # a zombie uses no CPU; its new parent reaps it when it will


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("how", ["fork", "fresh interpreter"])
def test_the_child_does_not_outlive_a_killed_parent(tmp_path, how):
    path = reference_list(tmp_path / "refs.txt", 200_000)
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from crawler.extract import background
        background._can_fork = lambda: {how == "fork"}
        stream = background.BackgroundExtraction([{str(path)!r}])
        print(stream.pid, flush=True)
        time.sleep(60)  # never reads: the child works on, or waits on a full pipe
        """)], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        time.sleep(0.3)
        assert not _gone(child)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child), "the extraction child outlived its parent"


def test_an_audit_whose_child_is_lost_reports_it_in_one_line_and_checks_what_arrived(tmp_path, monkeypatch, capsys):
    class LostEarly(BackgroundExtraction):
        async def batches(self):
            arrived = 0
            async for batch in super().batches():
                yield batch
                arrived += 1
                if arrived == 1:
                    os.kill(self.pid, signal.SIGKILL)

    async def article(request: web.Request) -> web.Response:
        if not re.fullmatch(r"/articles/\d+\.html", request.path):
            return await NOT_FOUND(request)
        return web.Response(text=html(f"Article {request.path}", body=request.path), content_type="text/html")

    monkeypatch.setattr(pipeline, "BackgroundExtraction", LostEarly)
    monkeypatch.setattr(background, "_PIPE_BYTES", 4096)  # few items in flight when it dies
    refs = tmp_path / "refs.txt"
    with refs.open("w", encoding="utf-8") as f:
        for n in range(30_000):
            f.write(f"Author{n}. Article {n}. https://www.mofa.go.jp/articles/{n}.html (accessed 3.3.2021)\n")
    config = tmp_path / "crawler.toml"
    config.write_text("[check]\ncanary_urls = []\nretries = 0\ntimeout = 5.0\n", encoding="utf-8")
    out = tmp_path / "report.json"
    with FakeWeb(tls_names=("www.mofa.go.jp",), tmp=tmp_path) as fake:
        fake.fallback("www.mofa.go.jp", article)
        rules = [arg for rule in fake.connect_to() for arg in ("--connect-to", rule)]
        code = cli.main(["audit", str(refs), *rules, "--ca-bundle", fake.ca_file, "--config", str(config),
                         "--format", "json", "--output", str(out), "--quiet"])
    errors = capsys.readouterr().err.splitlines()
    report = json.loads(out.read_text(encoding="utf-8"))
    assert code == 2  # an input error: the run is incomplete
    assert len(errors) == 1 and "killed by SIGKILL" in errors[0], errors
    assert 0 < len(report["links"]) < 30_000
    assert {link["verdict"] for link in report["links"]} == {"alive"}

"""Benchmark: crawler audit against a bare aiohttp GET loop, side by side.

    python bench/check_speed.py                      # 10,000 links over 20 hosts
    python bench/check_speed.py --links 100000       # also reports peak RSS

A local farm (bench/farm.py, its own process) serves 20 hosts on
127.0.0.1-20 with 50 ms latency per request. Both clients get the same URL
list and the same bounds (256 in flight, 16 per host) and run in fresh
processes, alternately, --rounds times; the median is reported.

The bare loop is the floor of what aiohttp can do: a queue, N workers, GET,
read the body, nothing else. Both are timed as whole commands (interpreter
start, imports, reading the list); for crawler that also covers extracting
the references, soft-404 probes and writing the JSON report. The bare loop
is also reported without its process start, the strictest comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write_list(path: Path, links: int, hosts: int, port: int) -> list[str]:
    urls = [f"http://127.0.0.{n % hosts + 1}:{port}/articles/{n}.html" for n in range(links)]
    with path.open("w", encoding="utf-8") as f:
        for n, url in enumerate(urls):
            f.write(f"Author{n}, A. Article number {n}. Publisher, 2019. - {url} (accessed 10.06.2023)\n")
    return urls


async def bare_loop(urls: list[str], concurrency: int, per_host: int) -> float:
    import aiohttp

    started = time.perf_counter()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    ok = 0
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=per_host)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            nonlocal ok
            while not queue.empty():
                url = queue.get_nowait()
                async with session.get(url) as response:
                    await response.read()
                    ok += response.status == 200
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    assert ok == len(urls), f"bare loop: {ok} of {len(urls)} answered 200"
    return time.perf_counter() - started


def run_bare(list_file: Path, concurrency: int, per_host: int) -> tuple[float, float]:
    """(whole process, loop alone) in seconds."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--bare", str(list_file), "--concurrency", str(concurrency),
                          "--per-host", str(per_host)], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, float(out.stdout.strip())


def run_crawler(list_file: Path, config: Path, report: Path, concurrency: int, per_host: int) -> tuple[float, int]:
    command = [sys.executable, "-m", "crawler", "audit", str(list_file), "--config", str(config),
               "--allow-private", "--max-concurrency", str(concurrency), "--max-per-host", str(per_host),
               "--format", "json", "--output", str(report), "--quiet"]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"crawler audit failed with exit code {process.returncode}")
    return elapsed, usage.ru_maxrss  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--per-host", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-bare", action="store_true", help="only run crawler (memory runs)")
    parser.add_argument("--bare", metavar="LIST", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.bare:
        urls = [line.rsplit(" - ", 1)[1].split(" ")[0] for line in Path(args.bare).read_text().splitlines()]
        print(asyncio.run(bare_loop(urls, args.concurrency, args.per_host)))
        return

    farm = subprocess.Popen([sys.executable, str(HERE / "farm.py"), "--hosts", str(args.hosts),
                             "--latency", str(args.latency)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(farm.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            tmpdir = Path(tmp)
            list_file = tmpdir / "references.txt"
            write_list(list_file, args.links, args.hosts, port)
            config = tmpdir / "crawler.toml"
            # No canary: the farm is the whole network here.
            config.write_text("[check]\ncanary_urls = []\n", encoding="utf-8")
            report = tmpdir / "report.json"
            bare_times, bare_loop_times, crawler_times, rss = [], [], [], []
            for _ in range(args.rounds):
                if not args.skip_bare:
                    whole, loop = run_bare(list_file, args.concurrency, args.per_host)
                    bare_times.append(whole)
                    bare_loop_times.append(loop)
                elapsed, maxrss = run_crawler(list_file, config, report, args.concurrency, args.per_host)
                crawler_times.append(elapsed)
                rss.append(maxrss)
            verdicts = json.loads(report.read_text())["summary"]["verdicts"]
            assert verdicts["alive"] == args.links, verdicts
    finally:
        farm.terminate()
        farm.wait()

    crawler = args.links / statistics.median(crawler_times)
    print(f"links: {args.links} over {args.hosts} hosts, {args.latency * 1000:.0f} ms latency, "
          f"concurrency {args.concurrency}, {args.per_host} per host, median of {args.rounds}")
    print(f"crawler audit (whole command): {crawler:,.0f} links/s  "
          f"({', '.join(f'{t:.2f}' for t in crawler_times)} s)")
    if bare_times:
        bare = args.links / statistics.median(bare_times)
        loop_only = args.links / statistics.median(bare_loop_times)
        print(f"bare aiohttp GET loop (whole):  {bare:,.0f} links/s  ({', '.join(f'{t:.2f}' for t in bare_times)} s)")
        print(f"bare loop alone (no startup):   {loop_only:,.0f} links/s  "
              f"({', '.join(f'{t:.2f}' for t in bare_loop_times)} s)")
        print(f"ratio, whole commands: {crawler / bare:.2f}; against the bare loop alone: {crawler / loop_only:.2f}")
    print(f"crawler peak RSS: {max(rss) / 1024:.0f} MiB")


if __name__ == "__main__":
    main()

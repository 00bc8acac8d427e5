"""How much the event loop pays for recording checks in the store.

Records N check results from inside a running asyncio loop (as the checker's
on_result callback would) and reports the CPU time the loop's thread spent in
record_check, the wall time until everything was committed (flush), and the
writer thread's throughput.

    python bench/store_records.py [--links 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from crawler.model import CheckResult, Redirect, Verdict
from crawler.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--links", type=int, default=100_000)
    args = parser.parse_args()
    results = [
        CheckResult(Verdict.ALIVE, "ok", "", 200, None, (), 0.05),
        CheckResult(Verdict.DEAD, "http_404", "the server says the page does not exist (404)", 404,
                    "https://example.org/moved/page", (Redirect(301, "https://example.org/moved/page"),), 0.1),
    ]
    urls = [f"https://host{i % 20}.example/section/{i}/page.html" for i in range(args.links)]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "crawler.sqlite3")
        run = store.begin_run()

        async def loop() -> tuple[float, float]:
            cpu = 0.0
            started = time.perf_counter()
            # Records arrive in bursts as checks finish; yield to the loop between them.
            for start in range(0, len(urls), 100):
                before = time.thread_time()
                for i in range(start, min(start + 100, len(urls))):
                    store.record_check(run, urls[i], results[i % 7 == 0])
                cpu += time.thread_time() - before
                await asyncio.sleep(0)
            return cpu, time.perf_counter() - started

        wall_started = time.perf_counter()
        process_started = time.process_time()
        cpu, loop_wall = asyncio.run(loop())
        store.flush()
        committed = time.perf_counter() - wall_started
        # The loop thread does little else here, so the rest is the writer's.
        writer_cpu = time.process_time() - process_started - cpu
        store.close()
        size = (Path(tmp) / "crawler.sqlite3").stat().st_size
    n = len(urls)
    print(f"{n} records: event loop thread CPU in record_check {cpu * 1000:.0f} ms "
          f"({cpu / n * 1e6:.2f} µs each); loop wall {loop_wall:.2f} s; all committed after {committed:.2f} s "
          f"({n / committed:,.0f} records/s); writer thread CPU about {writer_cpu:.2f} s; "
          f"store {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

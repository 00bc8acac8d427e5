"""Benchmark: the CPU cost of extraction per reference, as `crawler audit` pays it.

    python bench/extract_speed.py                  # 10,000 references of check_speed.py's list, 5 rounds
    python bench/extract_speed.py --links 100000 --rounds 3
    python bench/extract_speed.py --list refs.txt  # any reference list

Each round runs in a fresh process and measures three things in CPU time
(not wall time: the machine is shared):

- ``inline``: ``extract()`` in the process itself, no child, no pickling
  (run after the child, so the child inherits nothing it warmed);
- ``child``: the extraction child of ``BackgroundExtraction``, its whole life
  (reading, extracting, pickling, writing the pipe);
- ``parent``: the parent's side: unpickling the batches (``_decode``) and
  ``Extraction.add``, which is what the audit's event loop pays.

``child + parent`` is what bench/stages.py calls the extraction stage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one_round(list_file: str) -> dict[str, float]:
    import crawler.cli  # noqa: F401 - the child forks from a process as big as the audit's
    import crawler.pipeline  # noqa: F401
    from crawler.extract import Extraction, extract
    from crawler.extract.background import BackgroundExtraction
    from crawler.model import Link

    parent = 0.0
    decode = BackgroundExtraction._decode

    def timed_decode(self: BackgroundExtraction, frame: bytes) -> tuple:
        nonlocal parent
        t = time.thread_time()
        try:
            return decode(self, frame)
        finally:
            parent += time.thread_time() - t

    BackgroundExtraction._decode = timed_decode  # type: ignore[method-assign]

    async def receive() -> int:
        nonlocal parent
        extraction = Extraction()
        index: dict[str, Link] = {}
        async for item in BackgroundExtraction([list_file]):
            t = time.thread_time()
            extraction.add(item, index)
            parent += time.thread_time() - t
        return len(extraction.links)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    links = asyncio.run(receive())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # After the child: it must not inherit what this warmed (the re module's cache, lazily built tables).
    started = time.process_time()
    refs = sum(1 for item in extract([list_file]) if type(item).__name__ == "ReadReference")
    inline = time.process_time() - started
    return {"refs": refs, "links": links, "inline": inline, "child": child, "parent": parent}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--list", help="a reference list to read instead of check_speed.py's")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a round, in its own process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_round(args.one)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        list_file = args.list
        if list_file is None:
            sys.path.insert(0, str(HERE))
            from check_speed import make_urls, write_list
            urls, _ = make_urls("uniform", args.links, 20, 8000)
            list_file = str(Path(tmp) / "list.txt")
            write_list(Path(list_file), urls)
        rounds = [json.loads(subprocess.run([sys.executable, __file__, "--one", list_file], check=True,
                                            capture_output=True, text=True).stdout) for _ in range(args.rounds)]
    refs = rounds[0]["refs"]
    print(f"{refs:,} references, {rounds[0]['links']:,} links; medians of {args.rounds} rounds")
    for key in ("inline", "child", "parent"):
        value = statistics.median(r[key] for r in rounds)
        print(f"  {key:8} {value:7.3f} CPU-s  {value / refs * 1e6:6.1f} µs/ref  {value / refs * 1e4:6.3f} CPU-s/10k")
    stage = statistics.median(r["child"] + r["parent"] for r in rounds)
    print(f"  {'stage':8} {stage:7.3f} CPU-s  {stage / refs * 1e6:6.1f} µs/ref  {stage / refs * 1e4:6.3f} CPU-s/10k"
          "  (child + parent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

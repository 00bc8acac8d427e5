"""Benchmark: instructions per link, crawler's parent and child against the bare loop, under callgrind.

    python bench/instructions.py                 # 2,000 links of check_speed.py's uniform farm
    python bench/instructions.py --links 5000 --farm clustered

Wall and CPU seconds on a shared 2-core VM drift by a third between runs a
minute apart (the bare loop took 1.8-4.1 CPU-s for the same 10,000 links in
one session), so a change worth 3 % cannot be seen in them. Instruction
counts do not drift: each client runs under valgrind's callgrind, once with
``--links`` links and once with one, and the difference divided by
``--links - 1`` is what one more link costs, apart from start-up and exit
(the one-link run's count, shown as the fixed cost).

Instructions are a proxy, not a timing. Callgrind counts user-space
instructions only, so system calls are left out (they are the same for
both clients: the same requests on the same connections), and an
instruction of string building costs less time than one of the
interpreter's dispatch. Use the figures to compare code with code (before
and after a change, crawler against the bare loop), and check_speed.py for
rates.

Each client runs the same commands as in check_speed.py, against the same
farm (bench/farm.py, 1 ms latency: under valgrind the clients, not the
farm, set the pace). The checkout that runs is this script's: the commands
start in its root, where ``python -m crawler`` imports that checkout.

A third row counts bench/http_floor.py, the same loop without aiohttp's
client (a bare Protocol, Content-Length bodies): the bare loop less that
floor is what aiohttp's client costs a link. A fourth counts the floor on
aiohttp's own protocol and parser, without its session, request and response
objects: what crawler's transport is built on, so crawler's parent less that
floor is crawler's own code, its transport's included. (On the clustered farm
the floors do not follow the redirects, so they make fewer requests.)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from check_speed import bare_command, compile_bytecode, crawler_command, make_urls, start_farm, write_list  # noqa: E402

_SUMMARY_RE = re.compile(r"^summary:\s+(\d+)", re.MULTILINE)


def callgrind(command: list[str], out: Path) -> dict[int, int]:
    """Run ``command`` under callgrind: instructions by process (the first is the command's own)."""
    out.mkdir()
    process = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p",
                                "--dump-instr=no", *command],
                               cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, errors = process.communicate()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed under valgrind ({process.returncode}):\n{errors[-2000:]}")
    counts = {}
    for path in out.glob("cg.*"):
        m = _SUMMARY_RE.search(path.read_text(errors="replace"))
        if m:
            counts[int(path.name.split(".")[1])] = int(m.group(1))
    # The command's own process: valgrind runs it under the pid Popen started.
    return dict(sorted(counts.items(), key=lambda item: item[0] != process.pid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--farm", choices=("uniform", "clustered"), default="uniform")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--per-host", type=int, default=16)
    args = parser.parse_args()
    if args.links < 2:
        parser.error("--links must be at least 2")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt install valgrind)")

    compile_bytecode()
    farm, port = start_farm(args.hosts, 0.001)
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            config = tmp / "crawler.toml"
            config.write_text("[check]\ncanary_urls = []\n", encoding="utf-8")
            counts: dict[tuple[str, int], list[int]] = {}
            for links in (args.links, 1):
                urls, _ = make_urls(args.farm, links, args.hosts, port)
                listing = tmp / f"list{links}.txt"
                write_list(listing, urls)
                crawler = [sys.executable, "-m", "crawler",
                           *crawler_command(listing, config, tmp / f"report{links}.json", args)]
                bare = bare_command(listing, args)
                floor = [sys.executable, str(HERE / "http_floor.py"), str(listing),
                         "--concurrency", str(args.concurrency), "--per-host", str(args.per_host)]
                for name, command in (("crawler", crawler), ("bare", bare), ("floor", floor),
                                      ("parser", [*floor, "--parser", "aiohttp"])):
                    counts[(name, links)] = list(callgrind(command, tmp / f"{name}{links}").values())
    finally:
        farm.terminate()
        farm.wait()

    def per_link(name: str, index: int) -> float:
        many, one = counts[(name, args.links)], counts[(name, 1)]
        if len(many) <= index or len(one) <= index:
            return 0.0
        # A forked child's count starts from its parent's at the fork; the difference is its own.
        return (many[index] - one[index]) / (args.links - 1)

    parent, child, bare = per_link("crawler", 0), per_link("crawler", 1), per_link("bare", 0)
    floor, parser = per_link("floor", 0), per_link("parser", 0)
    print(f"# bench/instructions.py, {args.links} links ({args.farm} farm), callgrind, "
          f"{os.cpu_count()} cores; thousands of instructions")
    print()
    print("| process | per link | fixed (one-link run) |")
    print("|---|---|---|")
    print(f"| crawler, parent | {parent / 1e3:,.0f}k | {counts[('crawler', 1)][0] / 1e6:,.0f}M |")
    print(f"| crawler, extraction child | {child / 1e3:,.0f}k | |")
    print(f"| bare loop | {bare / 1e3:,.0f}k | {counts[('bare', 1)][0] / 1e6:,.0f}M |")
    print(f"| HTTP floor (bench/http_floor.py: no aiohttp client) | {floor / 1e3:,.0f}k | "
          f"{counts[('floor', 1)][0] / 1e6:,.0f}M |")
    print(f"| HTTP floor on aiohttp's protocol and parser (--parser aiohttp) | {parser / 1e3:,.0f}k | "
          f"{counts[('parser', 1)][0] / 1e6:,.0f}M |")
    print()
    print(f"crawler / bare loop, per link: parent {parent / bare:.2f}x, parent + child {(parent + child) / bare:.2f}x")
    print(f"aiohttp's client, per link: bare loop - HTTP floor = {(bare - floor) / 1e3:,.0f}k; "
          f"crawler's own (its transport included): parent - floor on aiohttp's parser = "
          f"{(parent - parser) / 1e3:,.0f}k")


if __name__ == "__main__":
    main()

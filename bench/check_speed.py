"""Benchmark: crawler audit against a bare aiohttp GET loop (and linkinator), side by side.

    python bench/check_speed.py                      # 10,000 links, both farms, 5 rounds
    python bench/check_speed.py --links 100000 --latency 0.005 --farms uniform --rounds 3

A local farm (bench/farm.py, its own process) serves 20 hosts on
127.0.0.1-20 with 50 ms latency per request. Two link lists are checked:

- ``uniform``: every link answers 200;
- ``clustered``: the dead links and redirects fall on a few hosts, as on the
  real web where dead links cluster: on the first 4 of the 20 hosts, half of
  the links are 404 and a quarter are 301 to another page.

Every client gets the same URL list and the same bounds (256 in flight, 16 per
host) and runs as a fresh process, alternately, --rounds times; medians are
reported. The bare loop is the floor of what aiohttp can do: a queue, N
workers, GET (following redirects), read the body, nothing else. All are
timed as whole processes (interpreter start, imports, reading the list); for
crawler that also covers extracting the references, soft-404 probes,
verdicts and writing the JSON report. CPU is user + system time of the whole
process tree (os.wait4's rusage, children included: crawler's extraction
child too).

Besides the ratio of the medians (the acceptance figure), each round's own
ratio is shown, crawler against the bare loop run just before or after it:
their median and range, since this VM's speed drifts by a third between
minutes.

After the timed rounds, one more crawler run per farm goes through
bench/stages.py, which splits crawler's CPU by stage (see there).

With ``node`` on the PATH, linkinator (npm; installed on first use into
bench/.peers/, not committed) checks the same links at the same concurrency
from an HTML page listing them; its rate is shown beside crawler's, and its
output rows are counted to make sure it checked every link.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers"
# linkinator 8 needs Node 22 (its undici 8 calls zlib.createZstdDecompress, which
# Node 20 lacks); 7.6.1 is the last for Node 20, with undici 7 (Node >= 20.18.1),
# pinned so every run measures the same code.
LINKINATOR_PACKAGE = {"private": True, "dependencies": {"linkinator": "7.6.1"}, "overrides": {"undici": "7.30.2"}}
STAGES = ("imports", "extraction", "requests", "checker", "report")
STAGE_NAMES = {"imports": "startup, imports and exit", "extraction": "extraction (child + receiving)",
               "requests": "requests (transport, aiohttp's parser, event loop)", "checker": "the checker's own logic",
               "report": "writing the report"}
# The clustered farm: on these first hosts, of every 4 links 2 are 404 and 1 is a 301.
CLUSTERED_HOSTS = 4


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds, children included
    rss_kib: int  # peak resident set of the largest process of the tree


def make_urls(farm: str, links: int, hosts: int, port: int) -> tuple[list[str], Counter[str]]:
    """The links of a farm, and the verdicts crawler must give them."""
    urls: list[str] = []
    expected: Counter[str] = Counter()
    for n in range(links):
        host = n % hosts + 1
        kind = "alive"
        if farm == "clustered" and host <= CLUSTERED_HOSTS:
            kind = ("dead", "dead", "moved", "alive")[(n // hosts) % 4]
        path = {"alive": "articles", "dead": "gone", "moved": "moved"}[kind]
        urls.append(f"http://127.0.0.{host}:{port}/{path}/{n}.html")
        expected[kind] += 1
    return urls, expected


def write_list(path: Path, urls: list[str]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for n, url in enumerate(urls):
            f.write(f"Author{n}, A. Article number {n}. Publisher, 2019. - {url} (accessed 10.06.2023)\n")


def write_page(path: Path, urls: list[str]) -> None:
    """The same links as one HTML page, for link checkers that read pages."""
    with path.open("w", encoding="utf-8") as f:
        f.write("<!DOCTYPE html><html><head><title>References</title></head><body><ol>\n")
        for url in urls:
            f.write(f'<li><a href="{url}">{url}</a></li>\n')
        f.write("</ol></body></html>\n")


async def bare_loop(urls: list[str], concurrency: int, per_host: int) -> tuple[float, dict[int, int]]:
    import aiohttp

    started = time.perf_counter()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for url in urls:
        queue.put_nowait(url)
    statuses: Counter[int] = Counter()
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=per_host)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            while not queue.empty():
                url = queue.get_nowait()
                async with session.get(url) as response:
                    await response.read()
                    statuses[response.status] += 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    assert sum(statuses.values()) == len(urls), statuses
    return time.perf_counter() - started, dict(statuses)


def measure(command: list[str]) -> tuple[Sample, str, int]:
    """Run ``command`` to its end: its Sample, its stdout and its exit code."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = process.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.stdout.close()  # type: ignore[union-attr]
    process.returncode = os.waitstatus_to_exitcode(status)
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss), out, process.returncode


def bare_command(list_file: Path, args: argparse.Namespace) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--bare", str(list_file), "--concurrency",
            str(args.concurrency), "--per-host", str(args.per_host)]


def run_bare(list_file: Path, args: argparse.Namespace, expected: Counter[str]) -> Sample:
    sample, out, code = measure(bare_command(list_file, args))
    if code:
        raise SystemExit(f"bare loop failed with exit code {code}")
    statuses = {int(k): v for k, v in json.loads(out)["statuses"].items()}
    assert statuses.get(200, 0) == expected["alive"] + expected["moved"], statuses
    return sample


def crawler_command(list_file: Path, config: Path, report: Path, args: argparse.Namespace) -> list[str]:
    # --no-archive: the bare loop knows nothing of archives, and there is no Wayback Machine here.
    return ["audit", str(list_file), "--config", str(config), "--allow-private", "--no-archive",
            "--max-concurrency", str(args.concurrency), "--max-per-host", str(args.per_host),
            "--format", "json", "--output", str(report), "--quiet"]


def check_report(report: Path, expected: Counter[str]) -> None:
    # Read in a process of its own: a 100,000-link report takes some 200 MB
    # to load, and Linux carries a process's peak RSS over into the ru_maxrss
    # of every child it starts afterwards (through vfork and exec).
    out = subprocess.run([sys.executable, "-c", "import json, sys; "
                          "print(json.dumps(json.load(open(sys.argv[1]))['summary']['verdicts']))", str(report)],
                         capture_output=True, text=True, check=True).stdout
    verdicts = json.loads(out)
    wrong = {k: (verdicts.get(k), n) for k, n in expected.items() if verdicts.get(k) != n}
    assert not wrong, f"crawler's verdicts (got, expected): {wrong}"


def run_crawler(command: list[str], report: Path, expected: Counter[str]) -> Sample:
    report.unlink(missing_ok=True)
    sample, _, code = measure([sys.executable, "-m", "crawler", *command])
    if code not in (0, 1):
        raise SystemExit(f"crawler audit failed with exit code {code}")
    check_report(report, expected)
    return sample


def run_stages(command: list[str], report: Path, expected: Counter[str], tmp: Path) -> dict[str, float]:
    """One crawler run through bench/stages.py: CPU seconds by stage (summing to the whole tree's)."""
    out = tmp / "stages.json"
    report.unlink(missing_ok=True)
    sample, _, code = measure([sys.executable, str(HERE / "stages.py"), str(out), *command])
    if code not in (0, 1):
        raise SystemExit(f"crawler audit (stages) failed with exit code {code}")
    check_report(report, expected)
    s = json.loads(out.read_text())
    parent = sample.cpu - s["child"]
    extraction_parent = s.get("extraction_parent", 0.0)
    return {
        "imports": parent - s["check_span"] - s.get("report", 0.0),
        "extraction": s["child"] + extraction_parent,
        "requests": s["check_span"] - extraction_parent - s.get("checker", 0.0),
        "checker": s.get("checker", 0.0),
        "report": s.get("report", 0.0),
        "gc": s.get("gc", 0.0),
        "gc_runs": s.get("gc_runs", 0.0),
        "total": sample.cpu,
        "of_which_imported": s["imported"],
    }


def linkinator_ready() -> Path | None:
    """The linkinator command, installed into bench/.peers/ if need be; None without node."""
    if not (shutil.which("node") and shutil.which("npm")):
        return None
    binary = PEERS / "node_modules" / ".bin" / "linkinator"
    if not binary.exists():
        PEERS.mkdir(exist_ok=True)
        (PEERS / "package.json").write_text(json.dumps(LINKINATOR_PACKAGE, indent=2) + "\n", encoding="utf-8")
        print("installing linkinator into bench/.peers/ …", file=sys.stderr)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEERS, check=True)
    return binary


def run_linkinator(binary: Path, page: Path, args: argparse.Namespace, links: int) -> Sample:
    sample, out, code = measure([str(binary), str(page), "--concurrency", str(args.concurrency),
                                 "--format", "csv", "--timeout", "20000"])
    if code not in (0, 1):  # 1: it found broken links
        raise SystemExit(f"linkinator failed with exit code {code}")
    rows = [row for row in csv.DictReader(io.StringIO(out)) if row.get("url", "").startswith("http://127.")]
    checked = {row["url"] for row in rows}
    assert len(checked) == links, f"linkinator checked {len(checked)} of {links} links"
    return sample


def median(samples: list[Sample], field: str) -> float:
    return statistics.median(getattr(s, field) for s in samples)


def bench_farm(farm: str, port: int, tmp: Path, args: argparse.Namespace, linkinator: Path | None) -> dict:
    urls, expected = make_urls(farm, args.links, args.hosts, port)
    list_file = tmp / f"{farm}.txt"
    write_list(list_file, urls)
    page = tmp / f"{farm}.html"
    write_page(page, urls)
    config = tmp / "crawler.toml"
    # No canary: the farm is the whole network here.
    config.write_text("[check]\ncanary_urls = []\n", encoding="utf-8")
    report = tmp / "report.json"
    command = crawler_command(list_file, config, report, args)
    results: dict[str, list[Sample]] = {"crawler": [], "bare": [], "linkinator": []}
    for n in range(args.rounds):
        # Alternate who goes first, so neither always runs on a warmer machine.
        order = ["bare", "crawler"] if n % 2 == 0 else ["crawler", "bare"]
        if args.skip_bare:
            order = ["crawler"]
        for who in order:
            if who == "bare":
                results["bare"].append(run_bare(list_file, args, expected))
            else:
                results["crawler"].append(run_crawler(command, report, expected))
        if linkinator is not None and n < args.peer_rounds:
            results["linkinator"].append(run_linkinator(linkinator, page, args, args.links))
    stages = [run_stages(command, report, expected, tmp) for _ in range(args.stage_rounds)]
    return {"farm": farm, "expected": dict(expected), "samples": results, "stages": stages}


def show(result: dict, args: argparse.Namespace) -> None:
    links, samples = args.links, result["samples"]
    per10k = 10_000 / links
    crawler = samples["crawler"]
    print(f"\n## farm: {result['farm']}  ({', '.join(f'{v} {k}' for k, v in sorted(result['expected'].items()))})")
    print(f"{links} links over {args.hosts} hosts, {args.latency * 1000:g} ms latency, concurrency "
          f"{args.concurrency}, {args.per_host} per host, medians of {len(crawler)} alternating rounds\n")
    print("| client | links/s | wall s | CPU s | CPU s per 10k links | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for who in ("crawler", "bare", "linkinator"):
        if samples[who]:
            wall, cpu = median(samples[who], "wall"), median(samples[who], "cpu")
            rss = max(s.rss_kib for s in samples[who]) / 1024
            print(f"| {who} | {links / wall:,.0f} | {wall:.2f} | {cpu:.2f} | {cpu * per10k:.2f} | {rss:.0f} |")
    if samples["bare"]:
        wall_ratio = median(samples["bare"], "wall") / median(crawler, "wall")
        cpu_ratio = median(crawler, "cpu") / median(samples["bare"], "cpu")
        print(f"\ncrawler / bare loop: wall rate {wall_ratio:.2f}x, CPU {cpu_ratio:.2f}x")
        # The two runs of a round follow each other, so a round's ratio leaves out
        # most of the machine's drift between rounds; their spread shows the noise.
        walls = sorted(b.wall / c.wall for b, c in zip(samples["bare"], crawler))
        cpus = sorted(c.cpu / b.cpu for b, c in zip(samples["bare"], crawler))
        print(f"round by round: wall rate {statistics.median(walls):.2f}x ({walls[0]:.2f}-{walls[-1]:.2f}), "
              f"CPU {statistics.median(cpus):.2f}x ({cpus[0]:.2f}-{cpus[-1]:.2f})")
    if samples["linkinator"]:
        print(f"crawler / linkinator: rate {median(samples['linkinator'], 'wall') / median(crawler, 'wall'):.1f}x")
        # No client can ask faster than the farm answers: with `concurrency`
        # requests in flight, each taking `latency`, the requests alone take
        # links * latency / concurrency. A multiple of a fast peer above that
        # is out of any client's reach on this farm; a lower latency shows the
        # clients' own speed instead.
        ceiling = args.concurrency / args.latency
        wanted = 3 * links / median(samples["linkinator"], "wall")
        print(f"the farm's ceiling ({args.concurrency} in flight / {args.latency * 1000:g} ms): {ceiling:,.0f} links/s; "
              f"3x linkinator: {wanted:,.0f} links/s" + (" (above the ceiling: no client can reach it here)"
                                                          if wanted > ceiling else ""))
    print("walls: " + "; ".join(f"{who} " + ", ".join(f"{s.wall:.2f}" for s in samples[who])
                                for who in samples if samples[who]))
    print("CPU:   " + "; ".join(f"{who} " + ", ".join(f"{s.cpu:.2f}" for s in samples[who])
                                for who in samples if samples[who]))
    if result["stages"]:
        stages = result["stages"]
        med = {key: statistics.median(s[key] for s in stages) for key in stages[0]}
        print(f"\ncrawler's CPU by stage (bench/stages.py, median of {len(stages)}), CPU seconds per 10k links:\n")
        print("| stage | CPU s per 10k links |")
        print("|---|---|")
        for key in STAGES:
            print(f"| {STAGE_NAMES[key]} | {med[key] * per10k:.2f} |")
        print(f"| **total** | **{med['total'] * per10k:.2f}** |")
        print(f"| (of which garbage collection: {med['gc_runs']:.0f} runs) | {med['gc'] * per10k:.2f} |")


def compile_bytecode() -> None:
    # An installed crawler has its bytecode cached (pip compiles it), as aiohttp
    # has; an editable checkout under PYTHONDONTWRITEBYTECODE=1 would compile
    # every module again in every round (some 0.05 CPU-s).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "crawler")], check=True)


def start_farm(hosts: int, latency: float) -> tuple[subprocess.Popen[str], int]:
    """bench/farm.py in a process of its own, and the port it serves on."""
    farm = subprocess.Popen([sys.executable, str(HERE / "farm.py"), "--hosts", str(hosts), "--latency", str(latency)],
                            stdout=subprocess.PIPE, text=True)
    return farm, int(farm.stdout.readline())  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--per-host", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--farms", default="uniform,clustered", help="comma-separated: uniform, clustered")
    parser.add_argument("--stage-rounds", type=int, default=1, help="runs through bench/stages.py per farm")
    parser.add_argument("--peers", choices=("auto", "yes", "no"), default="auto",
                        help="run linkinator: auto = if node is there and --links is at most 20,000")
    parser.add_argument("--peer-rounds", type=int, default=3, help="linkinator rounds (it is slow)")
    parser.add_argument("--skip-bare", action="store_true", help="only run crawler (memory runs)")
    parser.add_argument("--bare", metavar="LIST", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.bare:
        urls = [line.rsplit(" - ", 1)[1].split(" ")[0] for line in Path(args.bare).read_text().splitlines()]
        loop_time, statuses = asyncio.run(bare_loop(urls, args.concurrency, args.per_host))
        print(json.dumps({"loop": loop_time, "statuses": statuses}))
        return

    compile_bytecode()
    # linkinator holds every result in memory (some 450 MB at 10,000 links): not at 100,000.
    linkinator = linkinator_ready() if args.peers == "yes" or (args.peers == "auto" and args.links <= 20_000) \
        else None
    farm, port = start_farm(args.hosts, args.latency)
    print(f"# bench/check_speed.py, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
          f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in args.farms.split(","):
                show(bench_farm(name.strip(), port, Path(tmp), args, linkinator), args)
    finally:
        farm.terminate()
        farm.wait()
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(peak RSS figures cannot be below this benchmark's own, {own:.0f} MiB: Linux carries it over to children)")


if __name__ == "__main__":
    main()

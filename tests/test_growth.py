"""Extraction takes linear time and memory on hostile input (issue 8 §3).

Each test reads an input and the same input grown four times, and compares:
linear work grows about 4×, the quadratic work these inputs once caused grows
16× and more. The bound (10×) leaves room for a noisy machine; there are no
wall-clock limits. Each run is repeated until it takes a measurable time, and
the fastest of a few rounds counts, so one slow moment does not fail a test.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from crawler.extract import extract_all

GROWTH = 4
MAX_RATIO = 10.0  # linear: about 4; quadratic: about 16


def _once(path: Path) -> float:
    gc.collect()
    start = time.perf_counter()
    extract_all([str(path)])
    return time.perf_counter() - start


def _best(path: Path, repeats: int, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            extract_all([str(path)])
        best = min(best, time.perf_counter() - start)
    return best


def time_ratio(tmp_path: Path, name: str, make: Callable[[int], str], size: int) -> float:
    """How much longer extraction takes when the input is GROWTH times larger."""
    small, large = tmp_path / f"small-{name}", tmp_path / f"large-{name}"
    small.write_text(make(size), encoding="utf-8")
    large.write_text(make(size * GROWTH), encoding="utf-8")
    _once(small)  # imports and caches
    repeats = max(1, min(50, int(0.03 / max(_once(small), 1e-6))))
    return _best(large, repeats) / _best(small, repeats)


def peak_memory(path: Path) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        extract_all([str(path)])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def memory_ratio(tmp_path: Path, name: str, make: Callable[[int], str], size: int) -> tuple[float, float]:
    """The peak memory's growth, and the large input's peak per input byte."""
    small, large = tmp_path / f"small-{name}", tmp_path / f"large-{name}"
    small.write_text(make(size), encoding="utf-8")
    large.write_text(make(size * GROWTH), encoding="utf-8")
    peak_small, peak_large = peak_memory(small), peak_memory(large)
    return peak_large / peak_small, peak_large / large.stat().st_size


# --- the five inputs of issue 8 §3

def backtick_runs(size: int) -> str:
    """`a``a```a…: runs of growing length, none closed by its like."""
    parts, total, n = [], 0, 1
    while total < size:
        part = "`" * n + "a"
        parts.append(part)
        total += len(part)
        n += 1
    return "".join(parts) + "\n"


def unclosed_bibtex(size: int) -> str:
    return "@misc{k,title={x\n" * (size // 17)


def one_url_cited_everywhere(size: int) -> str:
    return "- Speech. http://www.mofa.go.jp/a\n" * (size // 34)


def wrapped_url_html(size: int) -> str:
    return "<html><body><p>http://www.example.org/" + "\n".join(["part-"] * (size // 6)) + "end</p></body></html>"


def wrapped_url_bibtex(size: int) -> str:
    return "@misc{k, url = {http://www.example.org/" + "\n".join(["part-"] * (size // 6)) + "end}}\n"


def www_token(size: int) -> str:
    return "www." * (size // 4) + "\n"


def access_phrases(size: int) -> str:
    """One reference of nothing but access phrases without a date (Cyrillic: no ASCII fast path)."""
    return "1. " + "дата обращения " * (size // 15) + "\n"


def test_markdown_backtick_runs_are_linear(tmp_path):
    assert time_ratio(tmp_path, "r.md", backtick_runs, 64_000) < MAX_RATIO


def test_bibtex_unclosed_values_are_linear(tmp_path):
    assert time_ratio(tmp_path, "r.bib", unclosed_bibtex, 9_000) < MAX_RATIO


def test_one_url_cited_thousands_of_times_is_linear(tmp_path):
    assert time_ratio(tmp_path, "r.txt", one_url_cited_everywhere, 34_000) < MAX_RATIO


def test_url_wrapped_over_many_html_lines_is_linear(tmp_path):
    assert time_ratio(tmp_path, "r.html", wrapped_url_html, 16_000) < MAX_RATIO


def test_url_wrapped_over_many_bibtex_lines_is_linear(tmp_path):
    assert time_ratio(tmp_path, "r.bib", wrapped_url_bibtex, 16_000) < MAX_RATIO


def test_url_wrapped_over_many_lines_keeps_a_few_alternatives(tmp_path):
    path = tmp_path / "r.html"
    path.write_text(wrapped_url_html(16_000), encoding="utf-8")
    [link] = extract_all([str(path)]).links
    assert 1 <= len(link.alternatives) <= 4
    growth, per_byte = memory_ratio(tmp_path, "r.html", wrapped_url_html, 16_000)
    assert growth < MAX_RATIO and per_byte < 100  # the parsed HTML tree included


def test_huge_www_token_is_linear_in_time_and_memory(tmp_path):
    assert time_ratio(tmp_path, "r.txt", www_token, 250_000) < MAX_RATIO
    growth, per_byte = memory_ratio(tmp_path, "r.txt", www_token, 250_000)
    assert growth < MAX_RATIO and per_byte < 16


def test_a_reference_of_thousands_of_access_phrases_is_linear(tmp_path):
    # Each phrase once read the whole rest of the reference for its date.
    assert time_ratio(tmp_path, "r.txt", access_phrases, 7_500) < MAX_RATIO

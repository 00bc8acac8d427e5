"""Progress on the terminal, part of the command line (the library never prints).

On a TTY one line is redrawn, at most ten times a second, with counts per
verdict; elsewhere (CI logs, cron mail) nothing is drawn, so logs stay clean.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

from crawler.model import CheckResult, Link, Verdict


class Progress:
    def __init__(self, total: Callable[[], int], stream: TextIO, *, quiet: bool = False,
                 interval: float = 0.1) -> None:
        self.total = total  # links found so far: extraction may still be running
        self.extra: Callable[[], str] = lambda: ""  # more to show (the archive stage's counts)
        self.stream = stream
        self.enabled = not quiet and _isatty(stream)
        self.interval = interval
        self.done = 0
        self.counts: Counter[Verdict | None] = Counter()  # by verdict, named only when drawn
        self._last = 0.0
        self._width = 0

    def update(self, link: Link, result: CheckResult) -> None:
        self.done += 1
        if not self.enabled:
            return  # called once per link: nothing more to do where nothing is drawn
        self.counts[result.verdict] += 1
        now = time.monotonic()
        if now - self._last >= self.interval or self.done == self.total():
            self._last = now
            self._draw()

    def refresh(self) -> None:
        """Redraw now and then while nothing is being checked (the archive stage is still at work)."""
        if self.enabled and time.monotonic() - self._last >= self.interval:
            self._last = time.monotonic()
            self._draw()

    def _draw(self) -> None:
        counts = " ".join(f"{name} {n}" for name, n in sorted(
            (verdict.value if verdict else "unjudged", n) for verdict, n in self.counts.items()))
        extra = self.extra()
        line = f"checked {self.done}/{self.total()}  {counts}" + (f"  | {extra}" if extra else "")
        self.stream.write("\r" + line.ljust(self._width))
        self._width = len(line)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

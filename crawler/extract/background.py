"""Extraction in a process of its own, streamed to an event loop.

Reading references is CPU work, checking links is waiting: in one process the
event loop stalls while a large list is parsed. ``BackgroundExtraction`` runs
``extract()`` in a child process and hands its results over in batches, so
checking starts with the first links and both use a core each.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import sys
import traceback
from collections.abc import AsyncIterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

from crawler.extract import extract
from crawler.extract.sources import STDIN

BATCH = 256
_DONE = "done"
_CRASH = "crash"


def _child(conn: Connection, inputs: Sequence[str], options: dict[str, Any], stdin: bytes | None) -> None:
    try:
        if stdin is not None:
            options = {**options, "stdin": io.BytesIO(stdin)}
        batch: list[Any] = []
        size = 8  # small batches first, so checking starts at once
        for item in extract(inputs, **options):
            batch.append(item)
            if len(batch) >= size:
                conn.send(batch)
                batch = []
                size = min(size * 2, BATCH)
        if batch:
            conn.send(batch)
        conn.send(_DONE)
    except BaseException:  # a bug: report it to the parent rather than die silently
        conn.send((_CRASH, traceback.format_exc()))
    finally:
        conn.close()


class BackgroundExtraction:
    """What ``extract(inputs, **options)`` yields, computed in a child process.

    The process starts at construction, so it can work while the caller
    imports and sets up the rest; iterate it asynchronously, once.
    """

    def __init__(self, inputs: Sequence[str], **options: Any) -> None:
        stdin = None
        if STDIN in inputs:
            # The child cannot share our stdin; the size limit still applies.
            stdin = sys.stdin.buffer.read(options.get("max_file_bytes", 1 << 26) + 1)
        context = multiprocessing.get_context("spawn")  # never fork a process with threads or a loop
        self._receiver, sender = context.Pipe(duplex=False)
        self._child = context.Process(target=_child, args=(sender, list(inputs), options, stdin), daemon=True,
                                      name="crawler-extract")
        self._child.start()
        sender.close()

    async def __aiter__(self) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    message = await loop.run_in_executor(None, self._receive)
                except EOFError:
                    raise RuntimeError("the extraction process ended without finishing") from None
                if message == _DONE:
                    return
                if isinstance(message, tuple) and message and message[0] == _CRASH:
                    raise RuntimeError(f"extraction failed:\n{message[1]}")
                for item in message:
                    yield item
        finally:
            self.close()

    def _receive(self) -> Any:
        return self._receiver.recv()

    def close(self) -> None:
        self._receiver.close()
        if self._child.is_alive():
            self._child.terminate()
        self._child.join(5)

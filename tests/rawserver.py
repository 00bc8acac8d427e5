"""A raw HTTP server for fuzzing: it sends exactly the bytes it is told, malformed or not.

aiohttp.web refuses to send a broken header or close a response half-way;
real servers do both. This one runs its own event loop in a thread and
answers each request by its path from a table of ``Answer``s, so a test can
serve any status line, any header bytes, any body, a connection closed at any
point, or no answer at all.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    status_line: bytes = b"HTTP/1.1 200 OK"
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""
    content_length: bool = True  # send a correct Content-Length
    close_after: int | None = None  # close the connection after this many bytes of the whole answer
    hang: bool = False  # never answer
    unsolicited: bytes = b""  # sent a moment after the answer, on the connection left idle

    def encode(self) -> bytes:
        head = [self.status_line]
        head.extend(name + b": " + value for name, value in self.headers)
        if self.content_length:
            head.append(b"Content-Length: " + str(len(self.body)).encode())
        data = b"\r\n".join(head) + b"\r\n\r\n" + self.body
        return data if self.close_after is None else data[: self.close_after]


@dataclass
class RawServer:
    answers: dict[str, Answer] = field(default_factory=dict)  # by path (with query)
    default: Answer = field(default_factory=lambda: Answer(b"HTTP/1.1 404 Not Found", body=b"not found"))
    served: int = 0  # answers sent (a test quotes how many it generated)
    port: int = 0

    def _answer(self, head: bytes) -> Answer:
        try:
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
        except IndexError:
            return self.default
        return self.answers.get(target, self.default)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                answer = self._answer(head)
                self.served += 1
                if answer.hang:
                    await reader.read()  # no answer, until the client gives up and closes
                    return
                writer.write(answer.encode())
                await writer.drain()
                if answer.unsolicited:
                    await asyncio.sleep(0.05)  # the client has read the answer and pooled the connection
                    writer.write(answer.unsolicited)
                    await writer.drain()
                if answer.close_after is not None or not answer.content_length:
                    return  # the body ends when the connection does
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    def __enter__(self) -> RawServer:
        started = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, limit=1 << 16))
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

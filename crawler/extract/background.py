"""Extraction in a process of its own, streamed to an event loop.

Reading references is CPU work, checking links is waiting: in one process the
event loop stalls while a large list is parsed. ``BackgroundExtraction`` runs
``extract()`` in a child process and hands its results over in batches, so
checking starts with the first links and both use a core each.

The child starts lean. Where it is safe (Linux, a single thread) it is a
fork, which inherits the modules already imported and costs a few
milliseconds; otherwise it is a fresh interpreter that runs this module
(``python -m crawler.extract.background``), which imports crawler.extract
and nothing of the command line.

Its end is told apart from a crash. Every message is a length-prefixed
pickle of ``(kind, ...)``: ``items`` batches, then ``done`` with the number
of items sent, or ``crash`` with the error. A pipe that closes without
``done`` means the child was lost (killed, out of memory): the stream then
ends with an ``InputError`` saying so, after everything that did arrive,
so the caller checks what it has and reports the loss in one line instead
of losing the run.

The child never outlives its parent: it exits when writing to the parent
fails, and a watchdog thread exits it when the parent is gone (checked
twice a second), even in the middle of a long parse. It ignores SIGINT and
SIGTERM, which reach the whole process group: the parent handles those and
ends the child itself.
"""

from __future__ import annotations

import asyncio
import copyreg
import gc
import io
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from crawler.extract import extract
from crawler.extract.references import ReadReference
from crawler.extract.sources import STDIN
from crawler.model import AccessDate, Citation, InputError, Problem, Reference, Snapshot, _values

BATCH = 256
FIRST_BATCH = 8  # small batches first, so checking starts at once
SOURCE = "<extraction>"  # the InputError's source when the child is lost, as the pipeline names it
_ITEMS, _DONE, _CRASH = "items", "done", "crash"
_HEADER = struct.Struct("!I")
_PIPE_BYTES = 1 << 20  # room for the child to read ahead while the parent imports aiohttp
_WATCH_INTERVAL = 0.5
_EXIT_WAIT = 2.0  # seconds to wait for a lost child's exit status
_NICENESS = 10


# The child's side.

def _reducer(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    values = _values(cls)
    return lambda obj: (cls, values(obj))


class _DispatchTable(dict):
    """The pickler's reductions: ours first, then copyreg's, as pickle.dumps() looks them up."""

    def __missing__(self, cls: type) -> Any:
        return copyreg.dispatch_table[cls]


# What crawler.model._Picklable.__reduce__ gives, without its method call
# (object.__reduce_ex__ finding a __reduce__ in Python, then a look-up by
# class): the same bytes, the parent's side unchanged; the child pickles a
# third faster.
_DISPATCH = _DispatchTable({cls: _reducer(cls) for cls in (ReadReference, Reference, Citation, Problem, AccessDate,
                                                            Snapshot, InputError)})


def _dumps(message: tuple[Any, ...]) -> bytes:
    """pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL), byte for byte."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(message)
    return buffer.getvalue()


def _send(fd: int, message: tuple[Any, ...]) -> None:
    data = _dumps(message)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while True:
            time.sleep(_WATCH_INTERVAL)
            if os.getppid() != parent:
                os._exit(1)  # the parent is gone: nobody will read what we make
    threading.Thread(target=watch, name="crawler-extract-watchdog", daemon=True).start()


def _produce(fd: int, inputs: Sequence[str], options: dict[str, Any], stdin: bytes | None, parent: int) -> int:
    """Run in the child: extract, stream the results to ``fd``; the exit code."""
    # Ctrl-C and a SIGTERM to the process group are the parent's to handle:
    # it stops the run, keeps what was checked and then ends the child
    # (SIGKILL: it holds nothing to clean up). A child that died of them on
    # its own would only add a second, misleading error line. The parent's
    # signal wake-up pipe (asyncio's) is not ours to write to either.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        signal.set_wakeup_fd(-1)
    except ValueError:
        pass
    _watch_parent(parent)
    # The child reads ahead of the checks by far; where the two share a core
    # (one core, or a busy machine), the parent's event loop goes first.
    try:
        os.nice(_NICENESS)
    except (AttributeError, OSError):  # not POSIX, or not allowed
        pass
    # What exists now (modules, and in a fork the parent's objects) lives as
    # long as the child: the collector need not walk it again and again.
    gc.freeze()
    sent = 0
    batch: list[Any] = []
    try:
        if stdin is not None:
            options = {**options, "stdin": io.BytesIO(stdin)}
        size = FIRST_BATCH
        for item in extract(inputs, **options):
            batch.append(item)
            if len(batch) >= size:
                _send(fd, (_ITEMS, batch))
                sent += len(batch)
                batch = []
                size = min(size * 2, BATCH)
        if batch:
            _send(fd, (_ITEMS, batch))
            sent += len(batch)
        _send(fd, (_DONE, sent))
        return 0
    except BrokenPipeError:
        return 1  # the parent stopped reading: nothing to report to
    except BaseException as exc:  # a bug: tell the parent rather than die silently
        if batch:  # what was read before the error is still good, unless it is what failed
            try:
                _send(fd, (_ITEMS, batch))
                sent += len(batch)
            except Exception:  # noqa: BLE001 - the crash below says what matters
                pass
        try:
            _send(fd, (_CRASH, sent, f"{type(exc).__name__}: {exc}"))
        except Exception:  # noqa: BLE001 - the parent is gone, or cannot be told more
            pass
        return 1


def _spawned_main() -> None:
    """``python -m crawler.extract.background FD``: the job comes pickled on stdin."""
    fd = int(sys.argv[1])
    inputs, options, stdin, parent = pickle.load(sys.stdin.buffer)
    sys.stdin.close()
    sys.exit(_produce(fd, inputs, options, stdin, parent))


# The parent's side.

class _Forked:
    """A forked child, with the part of subprocess.Popen's interface used here."""

    def __init__(self, fd: int, read_fd: int, job: tuple[Any, ...]) -> None:
        pid = os.fork()
        if pid == 0:  # the child: never return into the parent's code
            code = 1
            try:
                os.close(read_fd)  # else its own copy would keep the pipe open when the parent dies
                code = _produce(fd, *job)
            finally:
                os._exit(code)
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -signal.SIGKILL  # reaped elsewhere: its status is lost
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def wait(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.returncode


class _Spawned:
    """A fresh interpreter running this module; the same interface as _Forked."""

    def __init__(self, fd: int, job: tuple[Any, ...]) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])  # so the child imports this very crawler
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self._popen = subprocess.Popen([sys.executable, "-m", "crawler.extract.background", str(fd)],
                                       stdin=subprocess.PIPE, pass_fds=(fd,), env=env)
        self.pid = self._popen.pid
        assert self._popen.stdin is not None
        try:
            pickle.dump(job, self._popen.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._popen.stdin.close()
        except BrokenPipeError:
            pass  # it died at once: the stream will say so

    def poll(self) -> int | None:
        return self._popen.poll()

    def send_signal(self, sig: int) -> None:
        self._popen.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def _can_fork() -> bool:
    # Forking a process with other threads can copy a lock in a held state;
    # macOS frameworks are not fork-safe at all.
    return (sys.platform.startswith("linux") and threading.active_count() == 1
            and threading.current_thread() is threading.main_thread())


def _describe(returncode: int | None) -> str:
    if returncode is None:
        return "closed its output without finishing"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with status {returncode} without finishing"


class BackgroundExtraction:
    """What ``extract(inputs, **options)`` yields, computed in a child process.

    The process starts at construction, so it can work while the caller
    imports and sets up the rest; iterate it asynchronously, once. If the
    child fails, the stream ends with an ``InputError`` (source
    ``"<extraction>"``) after the items that arrived.
    """

    def __init__(self, inputs: Sequence[str], **options: Any) -> None:
        stdin = None
        if STDIN in inputs:
            # The child cannot share our stdin; the size limit still applies.
            stdin = sys.stdin.buffer.read(options.get("max_file_bytes", 1 << 26) + 1)
        self._read_fd, write_fd = os.pipe()
        try:
            _widen(write_fd)
            job = (list(inputs), options, stdin, os.getpid())
            self._process: _Forked | _Spawned = (
                _Forked(write_fd, self._read_fd, job) if _can_fork() else _Spawned(write_fd, job))
        except BaseException:
            os.close(self._read_fd)
            raise
        finally:
            os.close(write_fd)  # the child holds the only writing end now
        self._reading = False

    @property
    def pid(self) -> int:
        return self._process.pid

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for batch in self.batches():
            for item in batch:
                yield item

    async def batches(self) -> AsyncIterator[list[Any]]:
        """The items in the batches the child sent them in: an async step per batch, not per item."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 16)
        self._reading = True
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                    os.fdopen(self._read_fd, "rb", buffering=0))
        received = 0
        try:
            while True:
                try:
                    header = await reader.readexactly(_HEADER.size)
                    message = self._decode(await reader.readexactly(_HEADER.unpack(header)[0]))
                except asyncio.IncompleteReadError:
                    yield [InputError(SOURCE, await self._lost(received), fatal=False)]
                    return
                kind = message[0]
                if kind == _ITEMS:
                    received += len(message[1])
                    yield message[1]
                elif kind == _DONE:
                    await self._exited(_EXIT_WAIT)  # it exits right after: let it, rather than end it
                    return
                else:  # _CRASH
                    _, _, error = message
                    yield [InputError(SOURCE, f"extraction failed after {received:,} items ({error}); "
                                              "the links read before were checked", fatal=False)]
                    return
        finally:
            transport.close()
            self.close()

    def _decode(self, frame: bytes) -> tuple[Any, ...]:
        return pickle.loads(frame)

    async def _exited(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while self._process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        return self._process.poll()

    async def _lost(self, received: int) -> str:
        await self._exited(_EXIT_WAIT)
        return (f"the extraction process {_describe(self._process.poll())} after {received:,} items; "
                "the links read before were checked")

    def close(self) -> None:
        """End the child if it still runs, and reap it."""
        if not self._reading:
            self._reading = True
            os.close(self._read_fd)
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)  # it ignores SIGTERM, see _produce()
            self._process.wait(5)


def _widen(fd: int) -> None:
    """Give the pipe room (Linux), so the child is not held up while the parent is busy."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        return
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        try:
            fcntl.fcntl(fd, set_size, _PIPE_BYTES)
        except OSError:
            pass  # above the system's limit: the default is fine


if __name__ == "__main__":
    _spawned_main()

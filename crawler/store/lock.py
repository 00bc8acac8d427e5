"""One run per store: an flock on a file next to it, released by the kernel when the process dies.

An flock is held by the open file, so it is gone the moment the process ends,
however it ends (kill -9 included): there is never a stale lock to clean up.
The file keeps the holder's pid and start time only to name it in the refusal.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import os
from pathlib import Path

from crawler.store.base import StoreError, StoreLocked


class StoreLock:
    def __init__(self, store: Path) -> None:
        self.store = store
        # Next to the file itself: a store opened through a symbolic link (or as the link's
        # target) is one store, and must take the same lock.
        real = store.resolve()
        self.path = real.with_name(real.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the store's lock file ({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise StoreLocked(f"{self.store}: another crawler run is using this store{holder}; "
                              f"wait for it to finish, or give this run another --state FILE") from None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"{self.path}: cannot lock the store ({exc.strerror or exc})") from None
        started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {started}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            # The file stays: unlinking it would let a waiting opener lock a file
            # that a third process can no longer see.
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def _read(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f" ({text})" if text else ""

"""Internet Archive keys for Save Page Now, kept out of every text crawler writes.

The keys go into one request header and nowhere else: not a repr, a log
line, an exception message or a report. ``redact`` scrubs them from any text
that came from elsewhere (an aiohttp exception may quote what it was sent).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

ACCESS_ENV = "IA_ACCESS_KEY_ID"
SECRET_ENV = "IA_SECRET_ACCESS_KEY"
HIDDEN = "[hidden]"
_KEY_RE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: what a header can carry


class CredentialsError(ValueError):
    """The keys in the environment cannot be used; the message never contains them."""


class Credentials:
    __slots__ = ("_access", "_secret")

    def __init__(self, access_key: str, secret: str) -> None:
        for name, value in ((ACCESS_ENV, access_key), (SECRET_ENV, secret)):
            if not _KEY_RE.fullmatch(value) or (name == ACCESS_ENV and ":" in value):
                raise CredentialsError(f"{name} is not a usable key (printable ASCII without spaces"
                                       f"{', and no colon' if name == ACCESS_ENV else ''})")
        self._access = access_key
        self._secret = secret

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials | None:
        """Keys from IA_ACCESS_KEY_ID and IA_SECRET_ACCESS_KEY; None when either is unset or empty."""
        env = os.environ if environ is None else environ
        access = env.get(ACCESS_ENV, "").strip()
        secret = env.get(SECRET_ENV, "").strip()
        if not access or not secret:
            return None
        return cls(access, secret)

    def authorization(self) -> str:
        """The value of the Authorization header SPN2 expects."""
        return f"LOW {self._access}:{self._secret}"

    def redact(self, text: str) -> str:
        for value in (self.authorization(), self._secret, self._access):
            text = text.replace(value, HIDDEN)
        return text

    def __repr__(self) -> str:
        return f"Credentials({HIDDEN})"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("Credentials are not picklable: they would leave the process")

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Credentials) and other._access == self._access
                and other._secret == self._secret)

    def __hash__(self) -> int:
        return hash((self._access, self._secret))

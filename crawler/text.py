"""Text from outside (documents, servers, file names) made safe to show.

Two guarantees, used wherever such text leaves crawler:

- ``valid`` makes it valid Unicode: a lone surrogate (which ``utf-7`` or
  ``unicode_escape`` can decode to) cannot be written as UTF-8 and would end a
  report mid-file, so it becomes U+FFFD.
- ``visible`` makes it inert on a terminal and in Markdown: C0 and C1 control
  characters (ESC starts terminal commands) and the bidirectional overrides
  that reorder what a reader sees become visible escapes such as ``\\x1b``
  and ``\\u202e``.
"""

from __future__ import annotations

import re

from crawler.lazy import LazyPattern

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# C0 (but tab), DEL, C1; the bidi embeddings, overrides and isolates; the
# invisible marks that steer them.
# Compiled on first use, not at every start (0.5 ms): printable text, almost
# all there is, never needs it.
_CONTROL_RE = LazyPattern("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def valid(text: str) -> str:
    """``text`` with lone surrogates replaced, so it always encodes as UTF-8."""
    if text.isascii():
        return text
    return _SURROGATE_RE.sub("\ufffd", text)


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` as valid Unicode with control and bidi characters shown as escapes.

    Newlines are escaped too: callers that keep lines split them first.
    """
    text = valid(text)
    if text.isprintable():
        return text
    return _CONTROL_RE.sub(_escape, text)

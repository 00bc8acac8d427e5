"""What is made only on first use: the names a package exports, and regular expressions.

Reading the settings must not cost the import of aiohttp or sqlite3: the
command line starts extraction first, and a package's __init__ stays light.
Every start compiles only the patterns it needs.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``table[name]`` (a module path) when ``name`` is first asked for."""
    def __getattr__(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(table[name]), name)
    return __getattr__


class LazyPattern:
    """A regular expression compiled the first time it is used.

    Compiling every pattern of a module at import cost more than the rest of
    importing it, for patterns most runs never reach (the month names of the
    date forms, the not-found titles in a dozen languages, BibTeX's). Once
    compiled, the pattern's own methods are found on the object directly, at
    no cost per call; ``compiled`` is there from then on.
    """

    def __init__(self, pattern: str | bytes, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def __getattr__(self, name: str) -> object:  # only while nothing is compiled: see below
        compiled = re.compile(self.pattern, self.flags)
        for method in ("match", "fullmatch", "search", "finditer", "findall", "sub", "subn", "split"):
            setattr(self, method, getattr(compiled, method))
        self.compiled = compiled
        return compiled if name == "compiled" else getattr(compiled, name)

"""Names a package exports but imports only on first use.

Reading the settings must not cost the import of aiohttp or sqlite3: the
command line starts extraction first, and a package's __init__ stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``table[name]`` (a module path) when ``name`` is first asked for."""
    def __getattr__(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(table[name]), name)
    return __getattr__

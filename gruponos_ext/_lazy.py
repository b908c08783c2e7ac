"""Lazy package exports (PEP 562), so importing a package costs only what is used."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``homes[name]`` on first access.

    A home starting with ``.`` is relative to ``package``. The value is cached
    in the package's namespace, so later accesses are plain lookups.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home, package), name)
        setattr(importlib.import_module(package), name, value)
        return value

    return __getattr__

"""The core: Result, errors, keys, registry, container. Knows nothing of Meltano or Oracle.

Names are loaded on first use, so ``import gruponos_ext.core.errors`` (which
every layer does) does not pay for the container's logging imports; the
errors themselves (standard library only) are imported at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext._lazy import lazy_exports
from gruponos_ext.core import errors
from gruponos_ext.core.errors import *  # noqa: F403 - the errors: listed once, in errors.__all__

if TYPE_CHECKING:
    from gruponos_ext.core.container import Container, ServiceInfo
    from gruponos_ext.core.disposal import DisposeSummary
    from gruponos_ext.core.keys import Key
    from gruponos_ext.core.registry import Lifetime, Registration, Registry
    from gruponos_ext.core.result import FlextResult, Result, UnwrapFailedError

_HOMES = {
    **dict.fromkeys(("Container", "ServiceInfo"), "gruponos_ext.core.container"),
    "DisposeSummary": "gruponos_ext.core.disposal",
    "Key": "gruponos_ext.core.keys",
    **dict.fromkeys(("Lifetime", "Registration", "Registry"), "gruponos_ext.core.registry"),
    **dict.fromkeys(("FlextResult", "Result", "UnwrapFailedError"), "gruponos_ext.core.result"),
}

__all__ = [
    "Container",
    "DisposeSummary",
    "FlextResult",
    "Key",
    "Lifetime",
    "Registration",
    "Registry",
    "Result",
    "ServiceInfo",
    "UnwrapFailedError",
]
__all__ += errors.__all__


__getattr__ = lazy_exports(__name__, _HOMES)

"""The core: Result, errors and the container. Knows nothing of Meltano or Oracle.

Names are loaded on first use, so ``import gruponos_ext.core.errors`` (which
every layer does) does not pay for the container's logging imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gruponos_ext.core.container import (
        Container,
        DisposeSummary,
        Lifetime,
        Registration,
        ServiceInfo,
    )
    from gruponos_ext.core.errors import (
        CircularDependencyError,
        ContainerDisposedError,
        ContainerError,
        DisposeError,
        GruponosError,
        RegistrationError,
        ServiceCreationError,
        ServiceNotFoundError,
        ServiceTypeError,
    )
    from gruponos_ext.core.result import FlextResult, Result, UnwrapFailedError

_HOMES = {
    **dict.fromkeys(
        ("Container", "DisposeSummary", "Lifetime", "Registration", "ServiceInfo"),
        "gruponos_ext.core.container",
    ),
    **dict.fromkeys(
        (
            "CircularDependencyError",
            "ContainerDisposedError",
            "ContainerError",
            "DisposeError",
            "GruponosError",
            "RegistrationError",
            "ServiceCreationError",
            "ServiceNotFoundError",
            "ServiceTypeError",
        ),
        "gruponos_ext.core.errors",
    ),
    **dict.fromkeys(("FlextResult", "Result", "UnwrapFailedError"), "gruponos_ext.core.result"),
}

__all__ = [
    "CircularDependencyError",
    "Container",
    "ContainerDisposedError",
    "ContainerError",
    "DisposeError",
    "DisposeSummary",
    "FlextResult",
    "GruponosError",
    "Lifetime",
    "Registration",
    "RegistrationError",
    "Result",
    "ServiceCreationError",
    "ServiceInfo",
    "ServiceNotFoundError",
    "ServiceTypeError",
    "UnwrapFailedError",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)

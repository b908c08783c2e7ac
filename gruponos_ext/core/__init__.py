"""The core: Result, errors and the container. Knows nothing of Meltano or Oracle.

Names are loaded on first use, so ``import gruponos_ext.core.errors`` (which
every layer does) does not pay for the container's logging imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext._lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, _HOMES)

"""The core: Result, errors, keys, registry, container. Knows nothing of Meltano or Oracle.

Names are loaded on first use, so ``import gruponos_ext.core.errors`` (which
every layer does) does not pay for the container's logging imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext._lazy import lazy_exports

if TYPE_CHECKING:
    from gruponos_ext.core.container import Container, ServiceInfo
    from gruponos_ext.core.disposal import DisposeSummary
    from gruponos_ext.core.errors import (
        CircularDependencyError,
        ContainerDisposedError,
        ContainerError,
        DisposeError,
        GruponosError,
        RegistrationError,
        ResolutionTooDeepError,
        ServiceCreationError,
        ServiceNotFoundError,
        ServiceTypeError,
    )
    from gruponos_ext.core.keys import Key
    from gruponos_ext.core.registry import Lifetime, Registration, Registry
    from gruponos_ext.core.result import FlextResult, Result, UnwrapFailedError

_HOMES = {
    **dict.fromkeys(("Container", "ServiceInfo"), "gruponos_ext.core.container"),
    "DisposeSummary": "gruponos_ext.core.disposal",
    "Key": "gruponos_ext.core.keys",
    **dict.fromkeys(("Lifetime", "Registration", "Registry"), "gruponos_ext.core.registry"),
    **dict.fromkeys(
        (
            "CircularDependencyError",
            "ContainerDisposedError",
            "ContainerError",
            "DisposeError",
            "GruponosError",
            "RegistrationError",
            "ResolutionTooDeepError",
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
    "Key",
    "Lifetime",
    "Registration",
    "RegistrationError",
    "Registry",
    "ResolutionTooDeepError",
    "Result",
    "ServiceCreationError",
    "ServiceInfo",
    "ServiceNotFoundError",
    "ServiceTypeError",
    "UnwrapFailedError",
]


__getattr__ = lazy_exports(__name__, _HOMES)

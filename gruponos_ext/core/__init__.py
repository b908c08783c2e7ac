"""The core: Result, errors and the container. Knows nothing of Meltano or Oracle."""

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

"""The error hierarchy: every expected failure carries a stable ``code``.

Codes are part of the public API (they appear in Results, JSON reports and
logs); messages are for people and may improve between releases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

__all__ = [
    "CircularDependencyError",
    "ContainerDisposedError",
    "ContainerError",
    "DisposeError",
    "GruponosError",
    "RegistrationError",
    "ServiceCreationError",
    "ServiceNotFoundError",
    "ServiceTypeError",
]


class GruponosError(Exception):
    """Base of every error this package raises on purpose.

    ``code`` is stable and machine-readable; ``details`` holds structured
    context that is safe to log (never secret values).
    """

    code: ClassVar[str] = "GRUPONOS_ERROR"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message


class ContainerError(GruponosError):
    """A problem with service registration, resolution or disposal."""

    code = "CONTAINER_ERROR"


def format_path(path: Sequence[str]) -> str:
    """``['a', 'b']`` -> ``'a -> b'``: how every resolution path is shown."""
    return " -> ".join(path)


class RegistrationError(ContainerError):
    """A registration was refused (bad factory signature, replacing a live singleton...)."""

    code = "INVALID_REGISTRATION"


class ServiceNotFoundError(ContainerError):
    """No service is registered under the requested name."""

    code = "SERVICE_NOT_FOUND"

    def __init__(self, name: str, path: Sequence[str], suggestions: Sequence[str]) -> None:
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        where = f" (needed by {format_path(path)})" if path else ""
        super().__init__(
            f"no service registered as {name!r}{where}{hint}",
            details={"service": name, "path": list(path), "suggestions": list(suggestions)},
        )
        self.service = name
        self.path = tuple(path)
        self.suggestions = tuple(suggestions)


class CircularDependencyError(ContainerError):
    """A service depends, directly or not, on itself."""

    code = "CIRCULAR_DEPENDENCY"

    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__(
            f"circular dependency: {format_path(cycle)}",
            details={"cycle": list(cycle)},
        )
        self.cycle = tuple(cycle)


class ServiceCreationError(ContainerError):
    """A factory raised; the original exception is chained as ``__cause__``."""

    code = "SERVICE_CREATION_FAILED"

    def __init__(self, name: str, path: Sequence[str], cause: BaseException) -> None:
        reason = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        super().__init__(
            f"factory of {name!r} failed while resolving {format_path(path)}: {reason}",
            details={"service": name, "path": list(path), "cause": type(cause).__name__},
        )
        self.service = name
        self.path = tuple(path)


class ContainerDisposedError(ContainerError):
    """The container was disposed; it resolves nothing any more."""

    code = "CONTAINER_DISPOSED"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"cannot resolve {name!r}: the container has been disposed; create a new one",
            details={"service": name},
        )


class ServiceTypeError(ContainerError):
    """A typed resolve found an instance of another type."""

    code = "SERVICE_TYPE_MISMATCH"

    def __init__(self, name: str, expected: type, actual: type) -> None:
        super().__init__(
            f"service {name!r} is a {actual.__qualname__}, expected {expected.__qualname__}",
            details={"service": name, "expected": expected.__qualname__},
        )


class DisposeError(ContainerError):
    """One or more cleanup callbacks raised during ``dispose()``."""

    code = "DISPOSE_FAILED"

    def __init__(self, failures: Mapping[str, BaseException]) -> None:
        parts = "; ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in failures.items())
        super().__init__(
            f"{len(failures)} cleanup(s) failed: {parts}",
            details={"failed": list(failures)},
        )
        self.failures = dict(failures)

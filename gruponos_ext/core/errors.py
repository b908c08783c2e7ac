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
    context that is safe to log (never secret values). ``exit_code`` is the
    process exit status the CLI ends with when this error stops a command:
    1 (something failed) unless a subclass means bad usage or settings (2).
    """

    code: ClassVar[str] = "GRUPONOS_ERROR"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self._message = message
        self._details: dict[str, Any] = dict(details or {})

    @property
    def message(self) -> str:
        """The one-line explanation shown to people."""
        return self._message

    @property
    def details(self) -> dict[str, Any]:
        """Structured context, safe to log."""
        return self._details

    def __str__(self) -> str:
        return self.message


def format_path(path: Sequence[str]) -> str:
    """``['a', 'b']`` -> ``'a -> b'``: how every resolution path is shown."""
    return " -> ".join(path)


class ContainerError(GruponosError):
    """A problem with service registration, resolution or disposal.

    The container does not track the resolution path on its hot path: an
    error raised deep in a graph records, while it propagates, each service
    whose resolution it passes through (:meth:`passed_through`), so the
    message shows the whole path once it reaches the caller.
    """

    code = "CONTAINER_ERROR"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, details=details)
        self._outer: list[str] = []  # innermost first

    def passed_through(self, name: str) -> None:
        """Record that the resolution of ``name`` was interrupted by this error."""
        self._outer.append(name)

    @property
    def resolution_path(self) -> tuple[str, ...]:
        """The services being resolved when this happened, outermost first."""
        return tuple(reversed(self._outer))


class RegistrationError(ContainerError):
    """A registration was refused (bad factory signature, replacing a live singleton...)."""

    code = "INVALID_REGISTRATION"


class ServiceNotFoundError(ContainerError):
    """No service is registered under the requested name."""

    code = "SERVICE_NOT_FOUND"

    def __init__(self, name: str, suggestions: Sequence[str]) -> None:
        super().__init__(f"no service registered as {name!r}")
        self.service = name
        self.suggestions = tuple(suggestions)

    @property
    def path(self) -> tuple[str, ...]:
        """Who needed the missing service, outermost first (empty for a direct resolve)."""
        return self.resolution_path

    @property
    def message(self) -> str:
        hint = (
            f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?"
            if self.suggestions
            else ""
        )
        where = f" (needed by {format_path(self.path)})" if self.path else ""
        return f"no service registered as {self.service!r}{where}{hint}"

    @property
    def details(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "path": list(self.path),
            "suggestions": list(self.suggestions),
        }


class CircularDependencyError(ContainerError):
    """A service depends, directly or not, on itself.

    Built either with the ``cycle`` (when the path was tracked) or, on the
    untracked hot path, from the resolutions a ``RecursionError`` unwound:
    the cycle is then the first repetition in that path.
    """

    code = "CIRCULAR_DEPENDENCY"

    def __init__(self, cycle: Sequence[str] = ()) -> None:
        super().__init__("circular dependency")
        self._cycle = tuple(cycle)

    @property
    def cycle(self) -> tuple[str, ...]:
        """The cycle, closing on its first name (``('a', 'b', 'a')``)."""
        if self._cycle:
            return self._cycle
        path = self.resolution_path
        first_seen: dict[str, int] = {}
        for index, name in enumerate(path):
            if name in first_seen:
                return path[first_seen[name] : index + 1]
            first_seen[name] = index
        return ()

    @property
    def message(self) -> str:
        if self.cycle:
            return f"circular dependency: {format_path(self.cycle)}"
        return (
            f"resolving {format_path(self.resolution_path)} exceeded the recursion limit "
            "without a repeated service: a factory recursing without end?"
        )

    @property
    def details(self) -> dict[str, Any]:
        return {"cycle": list(self.cycle)}


class ServiceCreationError(ContainerError):
    """A factory raised; the original exception is chained as ``__cause__``."""

    code = "SERVICE_CREATION_FAILED"

    def __init__(self, name: str, cause: BaseException) -> None:
        self.reason = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        super().__init__(f"factory of {name!r} failed: {self.reason}")
        self.service = name
        self._outer.append(name)

    @property
    def path(self) -> tuple[str, ...]:
        """From the outermost service being resolved to the one whose factory failed."""
        return self.resolution_path

    @property
    def message(self) -> str:
        return (
            f"factory of {self.service!r} failed while resolving {format_path(self.path)}: "
            f"{self.reason}"
        )

    @property
    def details(self) -> dict[str, Any]:
        cause = self.__cause__
        return {
            "service": self.service,
            "path": list(self.path),
            "cause": type(cause).__name__ if cause is not None else None,
        }


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

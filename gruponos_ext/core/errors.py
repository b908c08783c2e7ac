"""The error hierarchy: every expected failure carries a stable ``code``.

Codes are part of the public API (they appear in Results, JSON reports and
logs); messages are for people and may improve between releases. Each
container error keeps its facts as fields (``service``, ``path``, ``cycle``
...) and renders its message from them, path included:

>>> error = CircularDependencyError(("orchestrator", "alert_manager", "orchestrator"))
>>> error.code, error.cycle
('CIRCULAR_DEPENDENCY', ('orchestrator', 'alert_manager', 'orchestrator'))
>>> print(error)
circular dependency: orchestrator -> alert_manager -> orchestrator
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
    "ResolutionTooDeepError",
    "ServiceCreationError",
    "ServiceNotFoundError",
    "ServiceTypeError",
    "format_path",
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


def format_path(path: Sequence[str], *, keep: int = 12) -> str:
    """``['a', 'b']`` -> ``'a -> b'``: how every resolution path is shown.

    A path longer than ``keep`` names shows its two ends and how many were left out:

    >>> format_path(["a", "b"])
    'a -> b'
    >>> format_path([f"s{i}" for i in range(300)], keep=4)
    's0 -> s1 -> ... (296 more) -> s298 -> s299'
    """
    if len(path) <= keep:
        return " -> ".join(path)
    head, tail = keep // 2, keep - keep // 2
    return " -> ".join(
        [*path[:head], f"... ({len(path) - head - tail} more)", *path[len(path) - tail :]]
    )


class ContainerError(GruponosError):
    """A problem with service registration, resolution or disposal."""

    code = "CONTAINER_ERROR"


class RegistrationError(ContainerError):
    """A registration was refused (bad factory signature, replacing a live singleton...)."""

    code = "INVALID_REGISTRATION"


class ServiceNotFoundError(ContainerError):
    """No service is registered under the requested name.

    ``path`` names who needed it, outermost first (empty for a direct resolve).
    """

    code = "SERVICE_NOT_FOUND"

    def __init__(self, name: str, suggestions: Sequence[str], path: Sequence[str] = ()) -> None:
        self.service = str(name)
        self.suggestions = tuple(suggestions)
        self.path = tuple(path)
        hint = f"; did you mean {', '.join(map(repr, self.suggestions))}?" if suggestions else ""
        where = f" (needed by {format_path(self.path)})" if self.path else ""
        super().__init__(
            f"no service registered as {self.service!r}{where}{hint}",
            details={
                "service": self.service,
                "path": list(self.path),
                "suggestions": list(self.suggestions),
            },
        )


class CircularDependencyError(ContainerError):
    """A service depends, directly or not, on itself.

    ``cycle`` closes on its first name (``('a', 'b', 'a')``); a cycle found
    across threads (each holding one singleton the other needs) is shown the
    same way.
    """

    code = "CIRCULAR_DEPENDENCY"

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = tuple(cycle)
        super().__init__(
            f"circular dependency: {format_path(self.cycle)}", details={"cycle": list(self.cycle)}
        )


class ResolutionTooDeepError(ContainerError):
    """Resolving ran into Python's recursion limit without meeting a service twice.

    Either a factory recurses without end, or a dependency chain is deeper
    than the interpreter allows (each level of a chain is two or three Python
    frames plus the factory's own). ``path`` is the chain as far as it got.
    """

    code = "RESOLUTION_TOO_DEEP"

    def __init__(self, path: Sequence[str], recursion_limit: int) -> None:
        self.path = tuple(path)
        self.recursion_limit = recursion_limit
        super().__init__(
            f"resolving {format_path(self.path)} ({len(self.path)} services deep) exceeded "
            f"the recursion limit without a repeated service (sys.getrecursionlimit() is "
            f"{recursion_limit}): a factory recursing without end, or a chain too deep; "
            "flatten the chain or raise the limit",
            details={"path": list(self.path), "depth": len(self.path), "limit": recursion_limit},
        )


class ServiceCreationError(ContainerError):
    """A factory raised; the original exception is chained as ``__cause__``.

    ``path`` runs from the outermost service being resolved to ``service``,
    whose factory failed.
    """

    code = "SERVICE_CREATION_FAILED"

    def __init__(self, name: str, cause: BaseException, path: Sequence[str] = ()) -> None:
        self.service = str(name)
        self.path = tuple(path) or (self.service,)
        self.reason = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        super().__init__(
            f"factory of {self.service!r} failed while resolving {format_path(self.path)}: "
            f"{self.reason}",
            details={
                "service": self.service,
                "path": list(self.path),
                "cause": type(cause).__name__,
            },
        )


class ContainerDisposedError(ContainerError):
    """The container was disposed; it resolves nothing any more."""

    code = "CONTAINER_DISPOSED"

    def __init__(self, name: str) -> None:
        self.service = str(name)
        super().__init__(
            f"cannot resolve {self.service!r}: the container has been disposed; create a new one",
            details={"service": self.service},
        )


class ServiceTypeError(ContainerError):
    """A typed resolve found an instance of another type."""

    code = "SERVICE_TYPE_MISMATCH"

    def __init__(self, name: str, expected: type, actual: type) -> None:
        self.service = str(name)
        wanted = expected.__qualname__
        super().__init__(
            f"service {self.service!r} is a {actual.__qualname__}, expected {wanted}",
            details={"service": self.service, "expected": expected.__qualname__},
        )


def _failure_text(exc: BaseException) -> str:
    # Our errors are sentences already ("cleanup of 'pool' timed out after 5.0 s").
    return exc.message if isinstance(exc, GruponosError) else f"{type(exc).__name__}: {exc}"


class DisposeError(ContainerError):
    """Cleanups that raised, or overran their time bound, during ``dispose()``.

    ``failures`` maps each service to what went wrong: the exception its
    cleanup raised, or a :class:`~gruponos_ext.core.deadline.DeadlineExceeded`
    for one that did not return in time (it was abandoned, not stopped).
    """

    code = "DISPOSE_FAILED"

    def __init__(self, failures: Mapping[str, BaseException]) -> None:
        self.failures = dict(failures)
        parts = "; ".join(f"{name}: {_failure_text(exc)}" for name, exc in failures.items())
        super().__init__(
            f"{len(failures)} cleanup(s) failed: {parts}", details={"failed": list(failures)}
        )

"""A small, fast, thread-safe dependency-injection container.

Services are registered by *name* with a factory and a lifetime:

* **singleton** — created on first resolve, then shared; created exactly once
  even when many threads ask at the same time; its ``cleanup`` runs on
  :meth:`Container.dispose`.
* **transient** — a new instance on every resolve.
* **instance** — an object you already have.

A factory takes no argument, or takes the container (to resolve its own
dependencies). Each registration is a frozen :class:`Registration` record.
Expected failures raise subclasses of
:class:`~gruponos_ext.core.errors.ContainerError` (each with a stable
``code``); :meth:`Container.try_resolve` returns them as a
:class:`~gruponos_ext.core.result.Result` instead.

This module knows nothing of Meltano, Oracle or health checks: a registration
may carry an opaque ``health_check`` that the health layer interprets.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from gruponos_ext.core.errors import (
    CircularDependencyError,
    ContainerDisposedError,
    ContainerError,
    DisposeError,
    RegistrationError,
    ServiceCreationError,
    ServiceNotFoundError,
    ServiceTypeError,
)
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.result import Result

if TYPE_CHECKING:
    from gruponos_ext.core.wiring import WiringReport

__all__ = [
    "Container",
    "DisposeSummary",
    "Lifetime",
    "Registration",
    "ServiceInfo",
]

T = TypeVar("T")
Factory = Callable[..., Any]
Cleanup = Callable[[Any], object]

_log = get_logger("gruponos_ext.container")


class Lifetime(str, Enum):
    """How long a resolved service lives."""

    SINGLETON = "singleton"
    TRANSIENT = "transient"
    INSTANCE = "instance"


@dataclass(frozen=True, slots=True)
class Registration:
    """One service recipe, immutable once registered.

    ``takes_container`` is decided at registration from the factory's
    signature, so resolution never inspects it again.
    """

    name: str
    lifetime: Lifetime
    factory: Factory | None
    takes_container: bool = False
    cleanup: Cleanup | None = None
    health_check: object | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What :meth:`Container.services` reports for one service (never its value)."""

    name: str
    lifetime: Lifetime
    state: str
    has_cleanup: bool
    has_health_check: bool
    description: str = ""


@dataclass(frozen=True, slots=True)
class DisposeSummary:
    """What a successful :meth:`Container.dispose` released, in order."""

    disposed: tuple[str, ...] = ()
    already_disposed: bool = False
    durations_ms: Mapping[str, float] = field(default_factory=dict)


_MISSING: Any = object()


def _failure(name: str, exc: Exception) -> ContainerError:
    """The container error to raise when building ``name`` raised ``exc``."""
    if isinstance(exc, ContainerError):
        exc.passed_through(name)
        return exc
    if isinstance(exc, RecursionError):
        # Untracked resolution of a cycle recurses until Python stops it; the
        # path it unwinds through shows the cycle (see CircularDependencyError).
        cycle = CircularDependencyError()
        cycle.passed_through(name)
        return cycle
    _log.warning("service_creation_failed", service=name, error_type=type(exc).__name__)
    return ServiceCreationError(name, exc)


def _call(name: str, creator: Callable[[], Any]) -> Any:
    """Call a factory; what it raises becomes a container error naming ``name``."""
    try:
        return creator()
    except Exception as exc:
        error = _failure(name, exc)
        if error is exc:
            raise
        raise error from (None if isinstance(exc, RecursionError) else exc)


class _LiveInstances(dict[str, Any]):
    """Live singletons and instances; a miss resolves a transient or falls through.

    ``__missing__`` turns a miss into a plain call instead of a raised
    ``KeyError``, and builds an untracked transient right here: one Python
    frame per transient, no per-resolve bookkeeping (a cycle is caught by the
    recursion limit instead, and reported with its whole path).
    """

    __slots__ = ("_resolve_slow", "_transients")

    def __init__(
        self, transients: dict[str, Callable[[], Any]], resolve_slow: Callable[[str], Any]
    ) -> None:
        super().__init__()
        self._transients = transients
        self._resolve_slow = resolve_slow

    def __missing__(self, name: str) -> Any:
        creator = self._transients.get(name)
        if creator is None:
            return self._resolve_slow(name)
        try:  # _call() inlined: a frame fewer on the transient hot path
            return creator()
        except Exception as exc:
            error = _failure(name, exc)
            if error is exc:
                raise
            raise error from (None if isinstance(exc, RecursionError) else exc)


class _TrackedInstances(dict[str, Any]):
    """For throw-away probe containers: every miss goes through the tracked path."""

    __slots__ = ("_resolve_slow",)

    def __init__(self, resolve_slow: Callable[[str], Any]) -> None:
        super().__init__()
        self._resolve_slow = resolve_slow

    def __missing__(self, name: str) -> Any:
        return self._resolve_slow(name)


def _takes_container(name: str, factory: Factory) -> bool:
    """Whether ``factory`` wants the container; refuse any other signature."""
    if not callable(factory):
        raise RegistrationError(
            f"factory for {name!r} is a {type(factory).__qualname__}, not a callable; "
            "to register an existing object use register_instance()",
            details={"service": name},
        )
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # some builtins have no signature: call them bare
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in signature.parameters.values() if p.default is p.empty]
    keyword_only = [p.name for p in required if p.kind is inspect.Parameter.KEYWORD_ONLY]
    required_positional = [p.name for p in required if p.kind in positional]
    if keyword_only or len(required_positional) > 1:
        params = ", ".join(required_positional + keyword_only)
        raise RegistrationError(
            f"factory for {name!r} requires arguments ({params}); a factory takes no "
            "argument or takes the container as its only argument",
            details={"service": name, "parameters": required_positional + keyword_only},
        )
    return len(required_positional) == 1


class Container:
    """Registers services by name and resolves them with their dependencies.

    Thread-safe: singletons are created once under a per-service lock, so
    resolving one singleton never blocks callers of another. Use it as a
    context manager to dispose it on exit.
    """

    # Tracked containers keep each thread's resolution path: slower, but they
    # see every edge. Only the throw-away children of validate() are tracked.
    _tracked = False

    def __init__(self) -> None:
        self._registrations: dict[str, Registration] = {}
        # name -> zero-argument callable building a new transient.
        self._transients: dict[str, Callable[[], Any]] = {}
        # name -> live singleton or instance; the whole fast path is one lookup here.
        self._instances: dict[str, Any] = (
            _TrackedInstances(self._resolve_slow)
            if self._tracked
            else _LiveInstances(self._transients, self._resolve_slow)
        )
        # The hot path: resolve() is the dict lookup itself, with no Python frame
        # in between (a created singleton costs one C call). The method below
        # documents it and is what subclasses and type checkers see.
        self.resolve = self._instances.__getitem__  # type: ignore[method-assign,assignment]
        self._singleton_locks: dict[str, threading.RLock] = {}
        # (name, instance, cleanup) in creation order, for reverse-order disposal.
        self._created: list[tuple[str, Any, Cleanup | None]] = []
        self._created_lock = threading.Lock()
        self._resolving = threading.local()
        self._disposed = False

    # -- registration ---------------------------------------------------------
    def register_singleton(
        self,
        name: str,
        factory: Factory,
        *,
        cleanup: Cleanup | None = None,
        health_check: object | None = None,
        description: str = "",
    ) -> None:
        """Register a service created once, on first resolve, and shared.

        ``cleanup(instance)`` runs on :meth:`dispose`. Registering a name again
        replaces its recipe, unless the singleton was already created: then use
        :meth:`override`.
        """
        takes = _takes_container(name, factory)
        self._add(
            Registration(
                name, Lifetime.SINGLETON, factory, takes, cleanup, health_check, description
            )
        )

    def register_transient(
        self,
        name: str,
        factory: Factory,
        *,
        health_check: object | None = None,
        description: str = "",
    ) -> None:
        """Register a service built anew by ``factory`` on every resolve."""
        takes = _takes_container(name, factory)
        self._add(
            Registration(name, Lifetime.TRANSIENT, factory, takes, None, health_check, description)
        )

    def register_instance(
        self,
        name: str,
        value: object,
        *,
        cleanup: Cleanup | None = None,
        health_check: object | None = None,
        description: str = "",
    ) -> None:
        """Register an existing object; ``cleanup(value)`` runs on :meth:`dispose`."""
        self._add(
            Registration(name, Lifetime.INSTANCE, None, False, cleanup, health_check, description),
            value,
        )

    def _add(self, registration: Registration, value: object = _MISSING) -> None:
        name = registration.name
        if not isinstance(name, str) or not name:
            raise RegistrationError(
                "a service name must be a non-empty string", details={"service": repr(name)}
            )
        if self._disposed:
            raise ContainerDisposedError(name)
        previous = self._registrations.get(name)
        if (
            previous is not None
            and previous.lifetime is not Lifetime.TRANSIENT
            and name in self._instances
        ):
            raise RegistrationError(
                f"service {name!r} was already created; replacing it now would leave its users "
                "holding the old instance: use container.override(name, replacement) in tests, "
                "or register before the first resolve",
                details={"service": name},
            )
        self._install(registration, value)
        _log.debug(
            "service_registered",
            service=name,
            lifetime=registration.lifetime.value,
            replaced=previous is not None,
        )

    def _install(self, registration: Registration, value: object = _MISSING) -> None:
        """Make ``registration`` current, building the zero-argument creator once."""
        name = registration.name
        self._registrations[name] = registration
        self._transients.pop(name, None)
        self._instances.pop(name, None)
        if registration.lifetime is Lifetime.INSTANCE:
            self._instances[name] = value
            self._remember(name, value, registration.cleanup)
        elif registration.lifetime is Lifetime.TRANSIENT:
            self._transients[name] = self._creator(registration)
        else:
            self._singleton_locks.setdefault(name, threading.RLock())

    def _creator(self, registration: Registration) -> Callable[[], Any]:
        factory = registration.factory
        assert factory is not None
        return functools.partial(factory, self) if registration.takes_container else factory

    def _remember(self, name: str, instance: object, cleanup: Cleanup | None) -> None:
        with self._created_lock:
            self._created.append((name, instance, cleanup))

    # -- resolution -----------------------------------------------------------
    def resolve(self, name: str) -> Any:
        """Return the service registered as ``name``, creating it if needed.

        Raises :class:`ServiceNotFoundError`, :class:`CircularDependencyError`,
        :class:`ServiceCreationError` (the factory's exception chained) or
        :class:`ContainerDisposedError`.
        """
        return self._instances[name]

    def _path(self) -> list[str]:
        """The services this thread is resolving (tracked containers only)."""
        try:
            return self._resolving.path  # type: ignore[no-any-return]
        except AttributeError:
            path: list[str] = []
            self._resolving.path = path
            return path

    def _resolve_slow(self, name: str) -> Any:
        """Everything but a live instance or an untracked transient."""
        if self._tracked:
            creator = self._transients.get(name)
            if creator is not None:
                return self._build(name, creator)
        registration = self._registrations.get(name)
        if registration is None or self._disposed:
            raise self._missing(name)
        if self._tracked:
            path = self._path()
            if name in path:  # before locking: re-entering our own lock would hide the cycle
                raise CircularDependencyError([*path[path.index(name) :], name])
        with self._singleton_locks[name]:
            instance = self._instances.get(name, _MISSING)
            if instance is not _MISSING:
                return instance
            started = time.perf_counter()
            creator = self._creator(registration)
            instance = self._build(name, creator) if self._tracked else _call(name, creator)
            if self._disposed:  # disposed while we were building: hand nothing out
                raise ContainerDisposedError(name)
            self._instances[name] = instance
            self._remember(name, instance, registration.cleanup)
        _log.debug(
            "service_created",
            service=name,
            lifetime="singleton",
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        return instance

    def _build(self, name: str, creator: Callable[[], Any]) -> Any:
        """Call ``creator`` with ``name`` on this thread's path (tracked containers)."""
        path = self._path()
        if name in path:
            raise CircularDependencyError([*path[path.index(name) :], name])
        path.append(name)
        try:
            return _call(name, creator)
        finally:
            path.pop()

    def _missing(self, name: str) -> ContainerError:
        if self._disposed:
            return ContainerDisposedError(name)
        import difflib

        near = difflib.get_close_matches(name, list(self._registrations), n=3, cutoff=0.6)
        return ServiceNotFoundError(name, near)

    def resolve_typed(self, name: str, expected: type[T]) -> T:
        """Like :meth:`resolve`, but check the instance is an ``expected`` (mypy sees it)."""
        instance = self.resolve(name)
        if not isinstance(instance, expected):
            raise ServiceTypeError(name, expected, type(instance))
        return instance

    @overload
    def try_resolve(self, name: str) -> Result[Any]: ...
    @overload
    def try_resolve(self, name: str, expected: type[T]) -> Result[T]: ...
    def try_resolve(self, name: str, expected: type[Any] | None = None) -> Result[Any]:
        """Resolve without raising: the failures of :meth:`resolve` come back as a Result.

        The Result's ``error_code`` is the error's stable code
        (``SERVICE_NOT_FOUND``, ``CIRCULAR_DEPENDENCY``, ``SERVICE_CREATION_FAILED``,
        ``CONTAINER_DISPOSED``, ``SERVICE_TYPE_MISMATCH``).
        """
        try:
            value = self.resolve(name) if expected is None else self.resolve_typed(name, expected)
        except ContainerError as exc:
            return Result.fail(exc.message, exc.code, exc.details, exception=exc)
        return Result.ok(value)

    # -- introspection --------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._registrations

    def __len__(self) -> int:
        return len(self._registrations)

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._registrations)

    def registration(self, name: str) -> Registration:
        """The current recipe for ``name``; raises :class:`ServiceNotFoundError`."""
        registration = self._registrations.get(name)
        if registration is None:
            raise self._missing(name)
        return registration

    def registrations(self) -> tuple[Registration, ...]:
        """Every current recipe, in registration order."""
        return tuple(self._registrations.values())

    def services(self) -> tuple[ServiceInfo, ...]:
        """Name, lifetime and state of every service, never its value."""
        infos = []
        for reg in self._registrations.values():
            if reg.lifetime is Lifetime.TRANSIENT:
                state = "transient"
            elif self._disposed:
                state = "disposed"
            else:
                state = "created" if reg.name in self._instances else "not created"
            infos.append(
                ServiceInfo(
                    reg.name,
                    reg.lifetime,
                    state,
                    reg.cleanup is not None,
                    reg.health_check is not None,
                    reg.description,
                )
            )
        return tuple(infos)

    def validate(self) -> WiringReport:
        """Check the whole graph without touching this container.

        Every recipe is resolved in a throw-away child container that is
        disposed afterwards; see :func:`gruponos_ext.core.wiring.validate_wiring`.
        """
        from gruponos_ext.core.wiring import validate_wiring

        return validate_wiring(self)

    def graph(self, format: str = "mermaid") -> str:
        """The dependency graph as ``"mermaid"`` or ``"dot"`` text (found by :meth:`validate`)."""
        from gruponos_ext.core.wiring import to_dot, to_mermaid

        exporters = {"mermaid": to_mermaid, "dot": to_dot}
        if format not in exporters:
            raise ValueError(f"unknown graph format {format!r}; use 'mermaid' or 'dot'")
        return exporters[format](self.validate())

    @property
    def disposed(self) -> bool:
        """True once :meth:`dispose` has run."""
        return self._disposed

    # -- lifecycle -------------------------------------------------------------
    def dispose(self) -> Result[DisposeSummary]:
        """Run every cleanup, newest first; then refuse to resolve anything.

        Every cleanup runs even when others raise; failures are reported
        together, by service name, as a failed Result (code ``DISPOSE_FAILED``)
        whose exception is a :class:`DisposeError`. Idempotent.
        """
        if self._disposed:
            return Result.ok(DisposeSummary(already_disposed=True))
        self._disposed = True
        with self._created_lock:
            created, self._created = self._created, []
        self._instances.clear()
        self._transients.clear()
        disposed: list[str] = []
        durations: dict[str, float] = {}
        failures: dict[str, BaseException] = {}
        for name, instance, cleanup in reversed(created):
            if cleanup is None:
                continue
            started = time.perf_counter()
            try:
                cleanup(instance)
            except Exception as exc:  # every cleanup must get its turn
                failures[name] = exc
                _log.warning("service_cleanup_failed", service=name, error_type=type(exc).__name__)
                continue
            durations[name] = round((time.perf_counter() - started) * 1000, 3)
            disposed.append(name)
            _log.debug("service_disposed", service=name, duration_ms=durations[name])
        if failures:
            error = DisposeError(failures)
            return Result.fail(
                error.message,
                error.code,
                {"failed": list(failures), "disposed": disposed},
                exception=error,
            )
        return Result.ok(DisposeSummary(tuple(disposed), False, durations))

    def __enter__(self) -> Container:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        result = self.dispose()
        if result.failure and exc is None and isinstance(result.exception, DisposeError):
            raise result.exception

    # -- testing --------------------------------------------------------------
    @contextmanager
    def override(self, name: str, replacement: object) -> Iterator[object]:
        """Serve ``replacement`` as ``name`` inside the block, then restore.

        The previous recipe and any instance already created come back on
        exit (the replacement's cleanup is never run: the test owns it).
        Services created inside the block keep the replacement they received.
        """
        previous = self._registrations.get(name)
        previous_instance = self._instances.get(name, _MISSING)
        self._registrations[name] = Registration(
            name, Lifetime.INSTANCE, None, description="override"
        )
        transient = self._transients.pop(name, None)
        self._instances[name] = replacement
        _log.debug("service_overridden", service=name)
        try:
            yield replacement
        finally:
            self._instances.pop(name, None)
            if previous is None:
                del self._registrations[name]
            else:
                self._registrations[name] = previous
                if transient is not None:
                    self._transients[name] = transient
                if previous_instance is not _MISSING:
                    self._instances[name] = previous_instance
            _log.debug("service_override_restored", service=name)

    def _child(self) -> Container:
        """A fresh tracked container with the same recipes and no created singletons."""
        child = object.__new__(type(self))
        child.__dict__.update(self.__dict__)  # a subclass's own attributes (settings...)
        child._tracked = True
        Container.__init__(child)
        for reg in self._registrations.values():
            if reg.lifetime is Lifetime.INSTANCE:
                # shared, not owned: the child never cleans up the parent's objects
                child._install(
                    Registration(
                        reg.name, reg.lifetime, None, False, None, reg.health_check, reg.description
                    ),
                    self._instances.get(reg.name),
                )
            else:
                child._install(reg)
        return child

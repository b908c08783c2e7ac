"""A small, fast, thread-safe dependency-injection container.

Services are registered by *name* (a ``str``, or a typed
:class:`~gruponos_ext.core.keys.Key`) with a factory and a lifetime:

* **singleton** -- created on first resolve, then shared; created exactly once
  even when many threads ask at the same time; its ``cleanup`` runs on
  :meth:`Container.dispose`.
* **transient** -- a new instance on every resolve.
* **instance** -- an object you already have.

A factory takes no argument, or takes the container (to resolve its own
dependencies):

>>> container = Container()
>>> container.register_instance("greeting", "hello")
>>> container.register_transient("shout", lambda c: c.resolve("greeting").upper() + "!")
>>> container.resolve("shout")
'HELLO!'
>>> container.try_resolve("whisper").error_code
'SERVICE_NOT_FOUND'

How it is built (one way: registry -> container -> wiring report -> graph export):

* :mod:`~gruponos_ext.core.registry` keeps the recipes (frozen
  :class:`Registration` records); this module compiles each into a creator
  when it is registered and keeps the instances.
* :meth:`Container.resolve` is the fast path: a created singleton is one
  dict lookup; a transient is built right there. Everything else (creating a
  singleton, unknown names, cycles, a disposed container) is
  :meth:`Container._resolve_slow`.
* Each thread's resolution path is tracked explicitly (the list of names
  being resolved), so a cycle is reported the moment a name comes round
  again: every factory of a cycle runs at most once before the error.
  :mod:`~gruponos_ext.core.claims` makes one thread the creator of each
  singleton; a thread about to wait for one that another thread is creating
  first checks that the wait does not close a loop of threads waiting on
  each other (a cycle too, reported instead of deadlocking).
* :meth:`Container.dispose` hands what was created to a
  :class:`~gruponos_ext.core.disposal.Disposal`, which runs each cleanup
  once within a time bound.
* :meth:`Container.validate` resolves every recipe in a throw-away probing
  child and hands what it saw to :mod:`~gruponos_ext.core.wiring`;
  :mod:`~gruponos_ext.core.graph_export` draws the result.

**Depth.** Resolution recurses through the factories, so a dependency chain
is as deep as Python's recursion limit allows: each level costs two frames
for a transient (``resolve`` and the factory), three for a singleton being
created, plus whatever the factory calls. At the default limit of 1000 that
is about 450 transients or 300 singletons in a row; a deeper chain raises
:class:`~gruponos_ext.core.errors.ResolutionTooDeepError` naming the chain
(never a false cycle).

Expected failures raise subclasses of
:class:`~gruponos_ext.core.errors.ContainerError` (each with a stable
``code``); :meth:`Container.try_resolve` returns them as a
:class:`~gruponos_ext.core.result.Result` instead. This module knows nothing
of Meltano, Oracle or health checks: a registration may carry an opaque
``health_check`` that the health layer interprets.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MethodType, TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, overload

from gruponos_ext.core.claims import MISSING, Claims, Done
from gruponos_ext.core.deadline import Deadline
from gruponos_ext.core.disposal import (
    DEFAULT_CLEANUP_TIMEOUT,
    Disposal,
    DisposeSummary,
    check_timeout,
)
from gruponos_ext.core.errors import (
    CircularDependencyError,
    ContainerDisposedError,
    ContainerError,
    DisposeError,
    RegistrationError,
    ResolutionTooDeepError,
    ServiceCreationError,
    ServiceNotFoundError,
    ServiceTypeError,
)
from gruponos_ext.core.keys import Key
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.registry import Cleanup, Factory, Lifetime, Registration, Registry
from gruponos_ext.core.result import Result

if TYPE_CHECKING:
    from gruponos_ext.core.wiring import WiringReport

__all__ = [
    "DEFAULT_CLEANUP_TIMEOUT",
    "Container",
    "DisposeSummary",
    "Lifetime",
    "Registration",
    "ServiceInfo",
]

T = TypeVar("T")
Path = list[str]  # one thread's resolution path: the names being resolved, outermost first

_log = get_logger("gruponos_ext.container")


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What :meth:`Container.services` reports for one service (never its value)."""

    name: str
    lifetime: Lifetime
    state: str
    has_cleanup: bool
    has_health_check: bool
    description: str = ""


@dataclass(slots=True)
class _Saved:
    """What one :meth:`Container.override` replaced, to put back on exit."""

    registration: Registration | None
    transient: tuple[Callable[[], Any], bool] | None
    instance: Any


@dataclass(slots=True)
class _Probe:
    """What a probing child (see :meth:`Container.validate`) records and keeps."""

    edges: dict[str, dict[str, None]]
    made: dict[str, Any] = field(default_factory=dict)  # singletons, instances, transients


class Container:
    """Registers services by name and resolves them with their dependencies.

    Thread-safe: singletons are created once; creating one never blocks
    callers of another. Use it as a context manager to dispose it on exit.
    """

    def __init__(self) -> None:
        self._registry = Registry()
        # The fast path reads these two without a lock (a dict read is atomic):
        # name -> live singleton or instance (or an override's replacement) ...
        self._instances: dict[str, Any] = {}
        # ... and name -> (compiled zero-argument creator, is a leaf) of a transient.
        self._transients: dict[str, tuple[Callable[[], Any], bool]] = {}
        self._resolving = threading.local()  # .path: this thread's Path
        self._claims = Claims()  # which thread creates which singleton
        self._dispose_lock = threading.RLock()
        # Everything below changes under this lock only.
        self._lock = self._claims.lock
        self._created: list[tuple[str, Any, Cleanup | None]] = []  # for disposal, oldest first
        self._overrides: dict[str, list[_Saved]] = {}
        self._disposed = False
        self._disposal: Disposal | None = None
        self._probe: _Probe | None = None

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
        self._add(
            Registration.of(name, Lifetime.SINGLETON, factory, cleanup, health_check, description)
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
        self._add(
            Registration.of(name, Lifetime.TRANSIENT, factory, None, health_check, description)
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
            Registration.of(name, Lifetime.INSTANCE, None, cleanup, health_check, description),
            value,
        )

    def _add(self, registration: Registration, value: object = MISSING) -> None:
        name = registration.name
        with self._lock:
            if self._disposed:
                raise ContainerDisposedError(name)
            previous = self._registry.get(name)
            creating = self._claims.is_being_created(name)
            if creating or name in self._overrides:
                doing = "being created" if creating else "overridden"
                raise RegistrationError(
                    f"service {name!r} is {doing} right now; register it before first use",
                    details={"service": name},
                )
            if (
                previous is not None
                and previous.lifetime is not Lifetime.TRANSIENT
                and name in self._instances
            ):
                raise RegistrationError(
                    f"service {name!r} was already created; replacing it now would leave its "
                    "users holding the old instance: use container.override(name, replacement) "
                    "in tests, or register before the first resolve",
                    details={"service": name},
                )
            self._registry.add(registration)
            self._install(registration, value)
        _log.debug(
            "service_registered",
            service=name,
            lifetime=registration.lifetime.value,
            replaced=previous is not None,
        )

    def _install(self, registration: Registration, value: object = MISSING) -> None:
        """Make ``registration`` servable (under the lock): compile it once, here."""
        name = registration.name
        self._transients.pop(name, None)
        self._instances.pop(name, None)
        if self._probe is not None:  # a probing child serves everything from its slow path
            if registration.lifetime is Lifetime.INSTANCE:
                self._probe.made[name] = value
            return
        if registration.lifetime is Lifetime.INSTANCE:
            self._instances[name] = value
            self._created.append((name, value, registration.cleanup))
        elif registration.lifetime is Lifetime.TRANSIENT:
            self._transients[name] = self._compile(registration)

    def _compile(self, registration: Registration) -> tuple[Callable[[], Any], bool]:
        """The zero-argument creator of a transient, and whether it is a leaf.

        Two measured tricks keep the transient chain of bench/bench_container.py
        ahead of dishka (each tracked level costs ~80 ns, a third of it the
        thread-local read):

        * a factory that takes the container is bound to it as a method rather
          than with functools.partial (Python 3.11 calls a bound method of a
          Python function inline: ~20 ns less per call);
        * a *class* taking no argument is a leaf: it is handed nothing it could
          resolve with, so the fast path calls it without tracking it. (A
          zero-argument function is tracked: a lambda often reaches a container
          through its closure.)
        """
        factory = registration.factory
        assert factory is not None, "an instance registration has no creator"
        if registration.takes_container:
            return MethodType(factory, self), False
        return factory, isinstance(factory, type)

    # -- resolution -----------------------------------------------------------
    @overload
    def resolve(self, name: Key[T]) -> T: ...
    @overload
    def resolve(self, name: str) -> Any: ...
    def resolve(self, name: str) -> Any:
        """Return the service registered as ``name``, creating it if needed.

        Raises :class:`~gruponos_ext.core.errors.ServiceNotFoundError`,
        :class:`~gruponos_ext.core.errors.CircularDependencyError`,
        :class:`~gruponos_ext.core.errors.ServiceCreationError` (the factory's
        exception chained), :class:`~gruponos_ext.core.errors.ResolutionTooDeepError`
        or :class:`~gruponos_ext.core.errors.ContainerDisposedError`.
        """
        # The fast path. A created singleton or an instance: one lookup.
        instance = self._instances.get(name, MISSING)
        if instance is not MISSING:
            return instance
        transient = self._transients.get(name)
        if transient is None:
            return self._resolve_slow(name)
        # A transient, built right here: one frame per level of a chain.
        creator, leaf = transient
        if leaf:
            try:
                return creator()
            except Exception as exc:
                self._creation_failed(name, exc, [*self._path(), name])
        try:
            path: Path = self._resolving.path
        except AttributeError:
            path = self._resolving.path = []
        if name in path:
            return self._resolve_slow(name)  # a cycle: reported there
        path.append(name)
        try:
            return creator()
        except ContainerError:
            raise
        except Exception as exc:
            self._creation_failed(name, exc, path)
        finally:
            path.pop()

    def _path(self) -> Path:
        try:
            return self._resolving.path  # type: ignore[no-any-return]
        except AttributeError:
            path: Path = []
            self._resolving.path = path
            return path

    def _resolve_slow(self, name: str) -> Any:
        """Everything the fast path does not serve; the factory is called from here."""
        path = self._path()
        probe = self._probe
        if probe is not None and path:  # validate(): every resolve is an edge of the graph
            probe.edges.setdefault(path[-1], {})[name] = None
        registration = self._registry.get(name)
        if registration is None or self._disposed:
            raise self._missing(name, path)
        if name in path:
            raise CircularDependencyError([*path[path.index(name) :], name])
        lifetime = registration.lifetime
        if probe is not None:
            made = probe.made.get(name, MISSING)
            if made is not MISSING:
                return made
        if lifetime is Lifetime.INSTANCE:  # a resolve racing an override's restore
            with self._lock:
                instance = self._instances.get(name, MISSING)
            if instance is MISSING:
                raise self._missing(name, path)
            return instance
        done = None  # a singleton's claim: released when its creation ends
        if lifetime is Lifetime.SINGLETON:
            instance, done = self._claims.claim(name, path, self._made)
            if done is None:
                return instance
        started = time.perf_counter()
        factory = registration.factory
        assert factory is not None
        path.append(name)
        try:
            instance = factory(self) if registration.takes_container else factory()
        except BaseException as exc:
            if done is not None:
                done.release()  # first, and in one C call: no Python frame may be left
                self._abandoned(name)
            if isinstance(exc, Exception) and not isinstance(exc, ContainerError):
                self._creation_failed(name, exc, path)
            raise
        finally:
            path.pop()
        if done is not None:
            return self._publish(registration, instance, done, started)
        if probe is not None:  # a probe builds each transient once: the graph is what counts
            probe.made[name] = instance
        return instance

    def _creation_failed(self, name: str, exc: Exception, path: list[str]) -> NoReturn:
        """Raise the container error for ``name``'s factory raising ``exc``."""
        if isinstance(exc, RecursionError):
            raise ResolutionTooDeepError(list(path), sys.getrecursionlimit()) from None
        _log.warning("service_creation_failed", service=name, error_type=type(exc).__name__)
        raise ServiceCreationError(name, exc, list(path)) from exc

    def _missing(self, name: str, path: Path) -> ContainerError:
        if self._disposed:
            return ContainerDisposedError(name)
        import difflib

        names = self._registry.names()
        near = (
            difflib.get_close_matches(name, names, n=3, cutoff=0.6) if isinstance(name, str) else []
        )
        return ServiceNotFoundError(name, near, list(path))

    # -- creating a singleton: claim (core.claims), build (in _resolve_slow), publish --
    def _made(self, name: str) -> Any:
        """The singleton if made, else MISSING; under the lock, from :meth:`Claims.claim`."""
        if self._disposed:
            raise ContainerDisposedError(name)
        made = self._instances if self._probe is None else self._probe.made
        return made.get(name, MISSING)

    def _abandoned(self, name: str) -> None:
        """The factory of singleton ``name`` raised: nothing was made, nothing to clean up."""
        disposal = self._disposal
        if disposal is not None:
            disposal.forget(name)

    def _publish(
        self, registration: Registration, instance: Any, done: Done, started: float
    ) -> Any:
        """Hand out a newly created singleton, unless dispose began meanwhile."""
        name = registration.name
        late: Disposal | None = None
        with self._lock:
            done.release()  # waiters look again once we let go of the lock
            disposed = self._disposed
            if not disposed:
                if self._probe is not None:
                    self._probe.made[name] = instance
                elif name in self._overrides:  # kept for when the override ends
                    saved = self._overrides[name][0]
                    if saved.instance is MISSING:
                        saved.instance = instance
                else:
                    self._instances[name] = instance
            if not disposed or self._disposal is None:
                # (disposed: dispose() is still waiting for us and cleans this up)
                self._created.append((name, instance, registration.cleanup))
            else:
                late = self._disposal
        if disposed:
            if late is not None:  # dispose() stopped waiting: clean up here
                late.release_late(name, instance, registration.cleanup)
            raise ContainerDisposedError(name)
        _log.debug(
            "service_created",
            service=name,
            lifetime="singleton",
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        return instance

    # -- typed and non-raising resolution --------------------------------------
    def resolve_typed(self, name: str, expected: type[T]) -> T:
        """Like :meth:`resolve`, but check the instance is an ``expected`` (mypy sees it)."""
        instance = self.resolve(name)
        if not isinstance(instance, expected):
            raise ServiceTypeError(name, expected, type(instance))
        return instance

    @overload
    def try_resolve(self, name: Key[T]) -> Result[T]: ...
    @overload
    def try_resolve(self, name: str) -> Result[Any]: ...
    @overload
    def try_resolve(self, name: str, expected: type[T]) -> Result[T]: ...
    def try_resolve(self, name: str, expected: type[Any] | None = None) -> Result[Any]:
        """Resolve without raising: the failures of :meth:`resolve` come back as a Result.

        The Result's ``error_code`` is the error's stable code
        (``SERVICE_NOT_FOUND``, ``CIRCULAR_DEPENDENCY``, ``SERVICE_CREATION_FAILED``,
        ``RESOLUTION_TOO_DEEP``, ``CONTAINER_DISPOSED``, ``SERVICE_TYPE_MISMATCH``).
        """
        try:
            value = self.resolve(name) if expected is None else self.resolve_typed(name, expected)
        except ContainerError as exc:
            return Result.fail(exc.message, exc.code, exc.details, exception=exc)
        return Result.ok(value)

    # -- introspection --------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._registry

    def __len__(self) -> int:
        return len(self._registry)

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return self._registry.names()

    def registration(self, name: str) -> Registration:
        """The current recipe for ``name``; raises :class:`ServiceNotFoundError`."""
        registration = self._registry.get(name)
        if registration is None:
            raise self._missing(name, [])
        return registration

    def registrations(self) -> tuple[Registration, ...]:
        """Every current recipe, in registration order."""
        return tuple(self._registry)

    def services(self) -> tuple[ServiceInfo, ...]:
        """Name, lifetime and state of every service, never its value."""
        infos = []
        for reg in self._registry:
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

        Every recipe is resolved, in registration order, in a throw-away
        probing child (same recipes, nothing created, each transient built
        once) that records every resolve as an edge and is disposed
        afterwards. What it saw becomes a
        :class:`~gruponos_ext.core.wiring.WiringReport`.

        >>> container = Container()
        >>> container.register_transient("job", lambda c: c.resolve("db"))
        >>> print(container.validate().render_text())
        1 services, 1 dependencies
        error: 'job' needs 'db', which is not registered; path: job -> db
        wiring has 1 error(s)
        """
        child = self._probing_child()
        assert child._probe is not None
        lifetimes = {r.name: r.lifetime for r in child._registry}
        failures: list[tuple[str, ContainerError]] = []
        too_deep: set[str] = set()  # on a chain already reported: probing it again finds the same
        for name in lifetimes:
            if name in too_deep:
                continue
            try:
                child.resolve(name)
            except ResolutionTooDeepError as exc:
                failures.append((name, exc))
                too_deep.update(exc.path)
            except ContainerError as exc:
                failures.append((name, exc))
        disposal = child.dispose()
        # Here, not at import: only validate and graph report the wiring (~1.4 ms of health).
        from gruponos_ext.core.wiring import report_wiring

        return report_wiring(
            lifetimes,
            child._probe.edges,
            failures,
            disposal_error=disposal.error if disposal.failure else None,
        )

    def _probing_child(self) -> Container:
        """A fresh child with the same recipes and no created singletons.

        It has this container's class and attributes (a subclass's settings
        stay reachable), shares this container's instances without owning
        them (their cleanups never run in the child) and serves everything
        through the slow path, where each resolve is recorded.
        """
        child = object.__new__(type(self))
        child.__dict__.update(self.__dict__)  # a subclass's own attributes (settings...)
        Container.__init__(child)
        child._probe = _Probe({name: {} for name in self._registry.names()})
        for reg in self._registry:
            if reg.lifetime is Lifetime.INSTANCE:
                shared = Registration(reg.name, reg.lifetime, None, False, None, reg.health_check)
                child._registry.add(shared)
                child._install(shared, self._instances.get(reg.name))
            else:
                child._registry.add(reg)
        return child

    def graph(self, format: str = "mermaid") -> str:
        """The dependency graph as ``"mermaid"`` or ``"dot"`` text (found by :meth:`validate`)."""
        from gruponos_ext.core.graph_export import render_graph

        return render_graph(self.validate(), format)

    @property
    def disposed(self) -> bool:
        """True once :meth:`dispose` has begun."""
        return self._disposed

    # -- lifecycle -------------------------------------------------------------
    def dispose(self, timeout: float | None = DEFAULT_CLEANUP_TIMEOUT) -> Result[DisposeSummary]:
        """Run every cleanup once, newest first, each within ``timeout`` seconds.

        From the first call on, the container resolves nothing. A singleton
        whose factory is still running is waited for (up to ``timeout``) and
        then cleaned up with the rest; it is never handed out. A cleanup that
        raises or overruns its bound (it is abandoned in its daemon thread;
        ``None`` runs cleanups in this thread, unbounded) does not stop the
        ones after it; all failures come back together, by service name, as a
        failed Result (code ``DISPOSE_FAILED``) whose exception is a
        :class:`~gruponos_ext.core.errors.DisposeError`.

        A second call runs no cleanup again: it waits up to ``timeout`` for
        those still running and reports where things stand now (success,
        with ``already_disposed``, only once every cleanup has succeeded).
        """
        check_timeout(timeout)
        with self._dispose_lock:  # one dispose() at a time; a later one reports
            if self._disposal is not None:
                return self._disposal.report(timeout)
            with self._lock:
                self._disposed = True
                self._instances.clear()
                self._transients.clear()
            try:
                # Wait for singletons other threads are creating (not for one this
                # thread creates, if dispose() is called from inside a factory).
                self._claims.wait_for_others(
                    getattr(self._resolving, "path", None),
                    Deadline.after(timeout) if timeout is not None else None,
                )
            finally:
                with self._lock:
                    created, self._created = self._created, []
                    self._disposal = Disposal(
                        created, timeout=timeout, unfinished=self._claims.being_created()
                    )
            return self._disposal.run()

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
        exit (the replacement's cleanup is never run: the test owns it). A
        singleton whose creation was under way when the block began is
        created once and kept for afterwards. Services created inside the
        block keep the replacement they received.
        """
        with self._lock:
            saved = _Saved(
                self._registry.get(name),
                self._transients.pop(name, None),
                self._instances.get(name, MISSING),
            )
            self._overrides.setdefault(name, []).append(saved)
            self._registry.add(Registration.of(name, Lifetime.INSTANCE, description="override"))
            self._instances[name] = replacement
        _log.debug("service_overridden", service=name)
        try:
            yield replacement
        finally:
            with self._lock:
                stack = self._overrides[name]
                stack.remove(saved)
                if not stack:
                    del self._overrides[name]
                self._instances.pop(name, None)
                if saved.registration is None:
                    self._registry.remove(name)
                else:
                    self._registry.add(saved.registration)
                    if saved.transient is not None:
                        self._transients[name] = saved.transient
                    if saved.instance is not MISSING and not self._disposed:
                        self._instances[name] = saved.instance
            _log.debug("service_override_restored", service=name)

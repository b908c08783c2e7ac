"""A circuit breaker for calls to external systems (Oracle, the WMS API, alert channels).

States: ``closed`` (calls pass; consecutive failures are counted), ``open``
(calls are refused with :class:`CircuitOpenError` until ``reset_timeout`` has
passed), ``half_open`` (at most ``half_open_max_calls`` trial calls are let
through; when all of them succeed the breaker closes, the first failure opens
it again).

Unlike pybreaker, the lock guards the state transitions only, never the
protected call: callers run concurrently. ``call`` protects sync callables,
``await execute`` protects coroutines (or sync callables, or callables that
return an awaitable, as in ``await breaker.execute(lambda: svc.op())``).

Exceptions listed in ``excluded_exceptions`` -- and ``BaseException``s that are
not ``Exception``s, such as cancellation -- count as neither success nor
failure; they are re-raised untouched. Listener errors are logged and never
break the call.

A failure's text is outside text (an exception from a driver or a server):
the breaker keeps it only as its ``redactor`` has cleaned it
(:class:`~gruponos_ext.core.redaction.Redactor`; the container's registry
gets the one that knows every configured secret).
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any, ParamSpec, TypeVar, overload

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.redaction import Redactor

__all__ = [
    "BreakerListener",
    "BreakerRegistry",
    "BreakerSnapshot",
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpenError",
]

P = ParamSpec("P")
T = TypeVar("T")

_log = get_logger(__name__)

# How much of a failure's message a snapshot keeps.
_MAX_FAILURE_TEXT = 1000


class BreakerState(str, Enum):
    """Where a breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


BreakerListener = Callable[["CircuitBreaker", BreakerState, BreakerState], object]
"""Called as ``listener(breaker, old_state, new_state)`` after every transition."""


class CircuitOpenError(GruponosError):
    """The breaker refused the call: it is open, or its half-open trials are taken."""

    code = "CIRCUIT_OPEN"

    def __init__(self, name: str, retry_after: float, *, half_open: bool = False) -> None:
        if half_open:
            why = "half-open and its trial calls are in progress"
        else:
            why = f"open; retry in {retry_after:.1f} s"
        super().__init__(
            f"circuit breaker {name!r} is {why}",
            details={"breaker": name, "retry_after_s": round(retry_after, 3)},
        )
        self.breaker = name
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """A consistent, read-only view of a breaker, for health checks and reports.

    ``opened_at`` is wall-clock UTC; ``retry_after_s`` is the time left before
    an open breaker lets a trial call through (``None`` unless open);
    ``last_failure`` is ``"ExceptionType: message"`` with secrets removed.
    """

    name: str
    state: BreakerState
    failure_count: int
    failure_threshold: int
    reset_timeout: float
    opened_at: datetime | None
    retry_after_s: float | None
    last_failure: str | None


@dataclass(frozen=True, slots=True)
class _Ticket:
    """What a caller was admitted under, so late results of old states are ignored."""

    generation: int
    trial: bool


class CircuitBreaker:
    """Consecutive-failure circuit breaker; thread-safe and asyncio-friendly.

    ``clock`` must be monotonic (seconds); inject a fake one in tests.
    ``redactor`` cleans the failure text kept in :attr:`BreakerSnapshot.last_failure`
    (by default it removes credential-looking text only).
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        excluded_exceptions: tuple[type[BaseException], ...] = (),
        clock: Callable[[], float] = time.monotonic,
        redactor: Redactor | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        if reset_timeout < 0:
            raise ValueError("reset_timeout must be >= 0")
        if half_open_max_calls < 1:
            raise ValueError("half_open_max_calls must be >= 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = float(reset_timeout)
        self.half_open_max_calls = half_open_max_calls
        self.excluded_exceptions = tuple(excluded_exceptions)
        self._clock = clock
        self._redact = redactor if redactor is not None else Redactor()
        self._lock = threading.Lock()
        self._listeners: list[BreakerListener] = []
        self._state = BreakerState.CLOSED
        # Bumped on every transition: a result is only counted by the state it
        # was admitted under, so a slow call from before a trip changes nothing.
        self._generation = 0
        self._failures = 0
        self._opened_at: float | None = None
        self._opened_wall: datetime | None = None
        self._trials_started = 0
        self._trials_succeeded = 0
        self._last_failure: str | None = None

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker({self.name!r}, state={self._state.value}, "
            f"failures={self._failures}/{self.failure_threshold})"
        )

    # -- observation -------------------------------------------------------
    @property
    def state(self) -> BreakerState:
        """The current state; an open breaker whose timeout passed reads ``half_open``."""
        with self._lock:
            changes = self._refresh_locked()
            state = self._state
        self._notify(changes)
        return state

    @property
    def failure_count(self) -> int:
        """Consecutive failures counted in the closed state (kept while open)."""
        return self._failures

    def snapshot(self) -> BreakerSnapshot:
        """A consistent view of the breaker at this instant."""
        with self._lock:
            changes = self._refresh_locked()
            retry_after = self._retry_after_locked() if self._state is BreakerState.OPEN else None
            snap = BreakerSnapshot(
                name=self.name,
                state=self._state,
                failure_count=self._failures,
                failure_threshold=self.failure_threshold,
                reset_timeout=self.reset_timeout,
                opened_at=self._opened_wall,
                retry_after_s=retry_after,
                last_failure=self._last_failure,
            )
        self._notify(changes)
        return snap

    def add_listener(self, listener: BreakerListener) -> None:
        """Call ``listener(breaker, old_state, new_state)`` after each transition."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: BreakerListener) -> None:
        """Stop notifying ``listener``; unknown listeners are ignored."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # -- control -----------------------------------------------------------
    def reset(self) -> None:
        """Force the breaker closed and forget the failures (calls in flight are ignored)."""
        with self._lock:
            changes = self._transition_locked(BreakerState.CLOSED)
            if not changes:
                self._generation += 1  # still forget results of calls in flight
            self._failures = 0
            self._last_failure = None
        self._notify(changes)

    # -- protected calls ---------------------------------------------------
    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` under the breaker.

        Raises :class:`CircuitOpenError` without calling ``fn`` when the
        breaker is open; otherwise returns or re-raises whatever ``fn`` does.
        """
        ticket = self._admit()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._on_error(ticket, exc)
            raise
        self._on_success(ticket)
        return result

    @overload
    async def execute(
        self, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T: ...

    @overload
    async def execute(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T: ...

    async def execute(self, fn: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> Any:
        """Async :meth:`call`: awaits ``fn``'s result when it is awaitable.

        A sync ``fn`` runs in the event loop's thread (wrap blocking work in
        ``asyncio.to_thread`` yourself). Cancellation counts as neither
        success nor failure.
        """
        ticket = self._admit()
        try:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except BaseException as exc:
            self._on_error(ticket, exc)
            raise
        self._on_success(ticket)
        return result

    # -- state machine (all *_locked methods run under self._lock) -------
    def _admit(self) -> _Ticket:
        with self._lock:
            changes = self._refresh_locked()
            state = self._state
            if state is BreakerState.CLOSED:
                ticket = _Ticket(self._generation, trial=False)
                error = None
            elif state is BreakerState.OPEN:
                error = CircuitOpenError(self.name, self._retry_after_locked())
            elif self._trials_started < self.half_open_max_calls:
                self._trials_started += 1
                ticket = _Ticket(self._generation, trial=True)
                error = None
            else:
                error = CircuitOpenError(self.name, 0.0, half_open=True)
        self._notify(changes)
        if error is not None:
            _log.debug("circuit_call_rejected", breaker=self.name, state=state.value)
            raise error
        return ticket

    def _on_success(self, ticket: _Ticket) -> None:
        with self._lock:
            changes: list[tuple[BreakerState, BreakerState]] = []
            if ticket.generation == self._generation:
                if ticket.trial:
                    self._trials_succeeded += 1
                    if self._trials_succeeded >= self.half_open_max_calls:
                        changes = self._transition_locked(BreakerState.CLOSED)
                        self._failures = 0
                else:
                    self._failures = 0
        self._notify(changes)

    def _on_error(self, ticket: _Ticket, exc: BaseException) -> None:
        if not isinstance(exc, Exception) or isinstance(exc, self.excluded_exceptions):
            self._on_neutral(ticket)
            return
        described = self._redact.exception(exc, limit=_MAX_FAILURE_TEXT)
        with self._lock:
            changes: list[tuple[BreakerState, BreakerState]] = []
            if ticket.generation == self._generation:
                self._last_failure = described
                self._failures += 1
                if ticket.trial or self._failures >= self.failure_threshold:
                    changes = self._transition_locked(BreakerState.OPEN)
        if changes:
            _log.warning(
                "circuit_opened",
                breaker=self.name,
                failures=self._failures,
                reset_timeout_s=self.reset_timeout,
                error=type(exc).__name__,
            )
        self._notify(changes)

    def _on_neutral(self, ticket: _Ticket) -> None:
        # A neutral trial hands its permit back, else half-open could never end.
        if ticket.trial:
            with self._lock:
                if ticket.generation == self._generation and self._trials_started > 0:
                    self._trials_started -= 1

    def _refresh_locked(self) -> list[tuple[BreakerState, BreakerState]]:
        if (
            self._state is BreakerState.OPEN
            and self._opened_at is not None
            and self._clock() - self._opened_at >= self.reset_timeout
        ):
            return self._transition_locked(BreakerState.HALF_OPEN)
        return []

    def _retry_after_locked(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.reset_timeout - self._clock())

    def _transition_locked(self, new: BreakerState) -> list[tuple[BreakerState, BreakerState]]:
        old = self._state
        if old is new:
            return []
        self._state = new
        self._generation += 1
        self._trials_started = 0
        self._trials_succeeded = 0
        if new is BreakerState.OPEN:
            self._opened_at = self._clock()
            self._opened_wall = datetime.now(timezone.utc)
        elif new is BreakerState.CLOSED:
            self._opened_at = None
            self._opened_wall = None
        return [(old, new)]

    def _notify(self, changes: list[tuple[BreakerState, BreakerState]]) -> None:
        if not changes:
            return
        listeners = tuple(self._listeners)
        for old, new in changes:
            _log.info("circuit_state_changed", breaker=self.name, old=old.value, new=new.value)
            for listener in listeners:
                try:
                    listener(self, old, new)
                except Exception as exc:
                    # A broken listener (an alert that cannot be sent...) must
                    # never turn a successful protected call into a failure.
                    _log.error(
                        "circuit_listener_failed",
                        breaker=self.name,
                        listener=getattr(listener, "__qualname__", repr(listener)),
                        error=type(exc).__name__,
                    )


class BreakerRegistry:
    """Breakers by name, one per protected dependency; owned by the container.

    ``defaults`` (``failure_threshold``, ``reset_timeout``, ...) apply to every
    breaker it creates; keyword arguments of :meth:`get_or_create` override
    them. Listeners added here are attached to every breaker, present and future.
    """

    def __init__(self, **defaults: Any) -> None:
        self._defaults = dict(defaults)
        self._breakers: dict[str, CircuitBreaker] = {}
        self._listeners: list[BreakerListener] = []
        self._lock = threading.Lock()

    def get_or_create(self, name: str, **config: Any) -> CircuitBreaker:
        """The breaker called ``name``; created with ``defaults | config`` the first time.

        ``config`` is ignored when the breaker already exists: the first
        creator decides its settings.
        """
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = CircuitBreaker(name, **{**self._defaults, **config})
                for listener in self._listeners:
                    breaker.add_listener(listener)
                self._breakers[name] = breaker
            return breaker

    def get(self, name: str) -> CircuitBreaker | None:
        """The breaker called ``name``, or ``None``."""
        return self._breakers.get(name)

    def all(self) -> tuple[CircuitBreaker, ...]:
        """Every breaker, in creation order."""
        with self._lock:
            return tuple(self._breakers.values())

    def snapshots(self) -> tuple[BreakerSnapshot, ...]:
        """A snapshot of every breaker, in creation order."""
        return tuple(b.snapshot() for b in self.all())

    def add_listener(self, listener: BreakerListener) -> None:
        """Attach ``listener`` to every breaker, including ones created later."""
        with self._lock:
            self._listeners.append(listener)
            breakers = tuple(self._breakers.values())
        for breaker in breakers:
            breaker.add_listener(listener)

    def reset_all(self) -> None:
        """Close every breaker."""
        for breaker in self.all():
            breaker.reset()

    def __contains__(self, name: object) -> bool:
        return name in self._breakers

    def __len__(self) -> int:
        return len(self._breakers)

    def __iter__(self) -> Iterator[CircuitBreaker]:
        return iter(self.all())

"""The circuit breaker: state machine, neutral exceptions, listeners, concurrency, async."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from typing import Any

import pytest
from structlog.testing import capture_logs

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.redaction import Redactor
from gruponos_ext.services.breaker import (
    BreakerRegistry,
    BreakerState,
    CircuitBreaker,
    CircuitOpenError,
)
from tests.support.secrets import assert_no_leak, leak_forms


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Boom(Exception):
    pass


class NotOurProblem(Exception):
    pass


def boom(message: str = "boom") -> None:
    raise Boom(message)


def fail_times(breaker: CircuitBreaker, n: int, exc: type[Exception] = Boom) -> None:
    for _ in range(n):
        with pytest.raises(exc):
            breaker.call(_raiser(exc))


def _raiser(exc: type[Exception]) -> Any:
    def fn() -> None:
        raise exc("failed")

    return fn


def state(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state, read afresh (a plain attribute read lets mypy narrow it)."""
    return breaker.state


def make(clock: FakeClock | None = None, **kw: Any) -> CircuitBreaker:
    return CircuitBreaker("oracle", clock=clock or FakeClock(), **kw)


# -- closed ----------------------------------------------------------------


def test_closed_breaker_passes_arguments_and_result_through() -> None:
    def add(a: int, b: int = 0) -> int:
        return a + b

    breaker = make()
    assert breaker.call(add, 40, b=2) == 42
    assert state(breaker) is BreakerState.CLOSED


def test_failures_below_threshold_keep_it_closed_and_are_reraised_unchanged() -> None:
    breaker = make(failure_threshold=3)
    with pytest.raises(Boom, match="exact message"):
        breaker.call(boom, "exact message")
    fail_times(breaker, 1)
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.failure_count == 2


def test_success_resets_the_consecutive_failure_count() -> None:
    breaker = make(failure_threshold=3)
    fail_times(breaker, 2)
    breaker.call(lambda: None)
    assert breaker.failure_count == 0
    fail_times(breaker, 2)
    assert state(breaker) is BreakerState.CLOSED


# -- open ------------------------------------------------------------------


def test_threshold_consecutive_failures_open_it_and_calls_are_refused_without_running() -> None:
    clock = FakeClock()
    breaker = make(clock, failure_threshold=3, reset_timeout=30.0)
    fail_times(breaker, 3)
    assert state(breaker) is BreakerState.OPEN
    clock.advance(10.0)
    called: list[int] = []
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(called.append, 1)
    assert called == []
    err = info.value
    assert isinstance(err, GruponosError)
    assert err.code == "CIRCUIT_OPEN"
    assert err.breaker == "oracle"
    assert err.retry_after == pytest.approx(20.0)
    assert "'oracle'" in str(err) and "retry in 20.0 s" in str(err)
    assert err.details == {"breaker": "oracle", "retry_after_s": 20.0}


def test_open_breaker_turns_half_open_only_after_the_reset_timeout() -> None:
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, reset_timeout=30.0)
    fail_times(breaker, 1)
    clock.advance(29.9)
    assert state(breaker) is BreakerState.OPEN
    clock.advance(0.1)
    assert state(breaker) is BreakerState.HALF_OPEN


# -- half-open -------------------------------------------------------------


def test_successful_trial_closes_the_breaker() -> None:
    clock = FakeClock()
    breaker = make(clock, failure_threshold=2, reset_timeout=5.0)
    fail_times(breaker, 2)
    clock.advance(5.0)
    assert breaker.call(lambda: "recovered") == "recovered"
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.failure_count == 0
    # A fresh closed breaker needs the full threshold again to open.
    fail_times(breaker, 1)
    assert state(breaker) is BreakerState.CLOSED


def test_failed_trial_reopens_with_a_fresh_reset_timeout() -> None:
    clock = FakeClock()
    breaker = make(clock, failure_threshold=5, reset_timeout=5.0)
    fail_times(breaker, 5)
    clock.advance(5.0)
    fail_times(breaker, 1)  # one trial failure is enough, whatever the threshold
    assert state(breaker) is BreakerState.OPEN
    clock.advance(4.0)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(lambda: None)
    assert info.value.retry_after == pytest.approx(1.0)


def test_half_open_admits_at_most_max_calls_trials_and_rejects_the_rest() -> None:
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, reset_timeout=1.0, half_open_max_calls=2)
    fail_times(breaker, 1)
    clock.advance(1.0)

    inside = threading.Barrier(3, timeout=5)
    release = threading.Event()
    results: list[str] = []

    def trial() -> None:
        def slow() -> str:
            inside.wait()
            release.wait(5)
            return "ok"

        results.append(breaker.call(slow))

    threads = [threading.Thread(target=trial) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()  # both trials are inside the protected call now
    with pytest.raises(CircuitOpenError, match="half-open") as info:
        breaker.call(lambda: "third")
    assert info.value.retry_after == 0.0
    assert state(breaker) is BreakerState.HALF_OPEN
    release.set()
    for t in threads:
        t.join(5)
    assert results == ["ok", "ok"]
    assert state(breaker) is BreakerState.CLOSED


def test_all_trials_must_succeed_before_closing() -> None:
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, reset_timeout=1.0, half_open_max_calls=2)
    fail_times(breaker, 1)
    clock.advance(1.0)
    breaker.call(lambda: None)
    assert state(breaker) is BreakerState.HALF_OPEN
    fail_times(breaker, 1)
    assert state(breaker) is BreakerState.OPEN


# -- neutral exceptions ------------------------------------------------------


def test_excluded_exceptions_count_as_neither_success_nor_failure() -> None:
    breaker = make(failure_threshold=3, excluded_exceptions=(NotOurProblem,))
    fail_times(breaker, 2)
    for _ in range(5):
        with pytest.raises(NotOurProblem):
            breaker.call(_raiser(NotOurProblem))
    # not a failure: still closed after 5 of them; not a success: the count is kept
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.failure_count == 2
    fail_times(breaker, 1)
    assert state(breaker) is BreakerState.OPEN


def test_excluded_exception_in_half_open_hands_the_trial_permit_back() -> None:
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, reset_timeout=1.0, excluded_exceptions=(KeyError,))
    fail_times(breaker, 1)
    clock.advance(1.0)
    with pytest.raises(KeyError):
        breaker.call(lambda: {"present": 1}["missing"])
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.call(lambda: 1) == 1  # a new trial was admitted
    assert state(breaker) is BreakerState.CLOSED


def test_base_exceptions_that_are_not_errors_are_neutral() -> None:
    class Interrupted(BaseException):
        pass

    def interrupt() -> None:
        raise Interrupted

    breaker = make(failure_threshold=1)
    with pytest.raises(Interrupted):
        breaker.call(interrupt)
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.failure_count == 0


# -- listeners ---------------------------------------------------------------


def test_listeners_see_every_transition_in_order() -> None:
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, reset_timeout=1.0)
    seen: list[tuple[str, BreakerState, BreakerState]] = []
    breaker.add_listener(lambda b, old, new: seen.append((b.name, old, new)))
    fail_times(breaker, 1)
    clock.advance(1.0)
    breaker.call(lambda: None)
    assert seen == [
        ("oracle", BreakerState.CLOSED, BreakerState.OPEN),
        ("oracle", BreakerState.OPEN, BreakerState.HALF_OPEN),
        ("oracle", BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]


def test_a_raising_listener_is_logged_and_never_breaks_the_call() -> None:
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, reset_timeout=1.0)
    later: list[BreakerState] = []

    def broken(*_: object) -> None:
        raise RuntimeError("listener exploded")

    breaker.add_listener(broken)
    breaker.add_listener(lambda _b, _old, new: later.append(new))
    fail_times(breaker, 1)  # still the original Boom, not the listener's error
    clock.advance(1.0)
    with capture_logs() as logs:
        assert breaker.call(lambda: "value") == "value"
    assert later == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]
    failures = [e for e in logs if e["event"] == "circuit_listener_failed"]
    assert len(failures) == 2  # open->half_open and half_open->closed
    assert failures[0]["error"] == "RuntimeError"


def test_removed_listener_is_not_called() -> None:
    breaker = make(failure_threshold=1)
    seen: list[object] = []

    def listener(*args: object) -> None:
        seen.append(args)

    breaker.add_listener(listener)
    breaker.remove_listener(listener)
    fail_times(breaker, 1)
    assert seen == []


# -- concurrency -------------------------------------------------------------


def test_callers_are_not_serialised_by_the_breaker() -> None:
    n = 8
    breaker = CircuitBreaker("wms")
    # Every caller waits until all n are inside the protected call at once;
    # a breaker holding its lock around the call would break the barrier.
    inside = threading.Barrier(n, timeout=5)
    errors: list[BaseException] = []

    def caller() -> None:
        try:
            breaker.call(inside.wait)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert state(breaker) is BreakerState.CLOSED


def test_concurrent_failures_open_exactly_once() -> None:
    breaker = CircuitBreaker("wms", failure_threshold=5)
    transitions: list[BreakerState] = []
    breaker.add_listener(lambda _b, _o, new: transitions.append(new))
    start = threading.Barrier(20, timeout=5)

    def caller() -> None:
        start.wait()
        with contextlib.suppress(Boom, CircuitOpenError):
            breaker.call(boom)

    threads = [threading.Thread(target=caller) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert state(breaker) is BreakerState.OPEN
    assert transitions == [BreakerState.OPEN]


@pytest.mark.parametrize("trip_first", [True, False])
def test_a_slow_call_from_before_a_reset_does_not_count_afterwards(trip_first: bool) -> None:
    breaker = CircuitBreaker("wms", failure_threshold=1)
    entered, release = threading.Event(), threading.Event()

    def slow_failure() -> None:
        entered.set()
        release.wait(5)
        raise Boom("late")

    def caller() -> None:
        with pytest.raises(Boom):
            breaker.call(slow_failure)

    t = threading.Thread(target=caller)
    t.start()
    entered.wait(5)
    if trip_first:
        fail_times(breaker, 1)
        assert state(breaker) is BreakerState.OPEN
    breaker.reset()
    release.set()
    t.join(5)
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.failure_count == 0


# -- async -------------------------------------------------------------------


def test_execute_awaits_coroutines_lambdas_returning_coroutines_and_sync_callables() -> None:
    breaker = CircuitBreaker("alerts")

    async def op(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    async def main() -> tuple[int, int, int]:
        a = await breaker.execute(op, 1)
        b = await breaker.execute(lambda: op(2))  # the seed's form
        c = await breaker.execute(lambda: 3)
        return a, b, c

    assert asyncio.run(main()) == (2, 4, 3)


def test_execute_counts_async_failures_and_refuses_when_open() -> None:
    breaker = CircuitBreaker("alerts", failure_threshold=2)
    attempts = 0

    async def failing() -> None:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0)
        raise Boom("async failure")

    async def main() -> None:
        for _ in range(2):
            with pytest.raises(Boom):
                await breaker.execute(failing)
        with pytest.raises(CircuitOpenError):
            await breaker.execute(failing)

    asyncio.run(main())
    assert attempts == 2
    assert state(breaker) is BreakerState.OPEN


def test_async_callers_run_concurrently() -> None:
    breaker = CircuitBreaker("alerts")
    n = 10
    active = 0
    peak = 0

    async def op() -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1

    async def main() -> None:
        await asyncio.gather(*(breaker.execute(op) for _ in range(n)))

    asyncio.run(main())
    assert peak == n


def test_cancellation_is_neutral() -> None:
    breaker = CircuitBreaker("alerts", failure_threshold=1)

    async def main() -> None:
        started = asyncio.Event()

        async def forever() -> None:
            started.set()
            await asyncio.Event().wait()

        task = asyncio.create_task(breaker.execute(forever))
        await started.wait()  # the protected call is running when it is cancelled
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert state(breaker) is BreakerState.CLOSED


# -- snapshot, reset, validation ------------------------------------------------


def test_snapshot_is_frozen_and_sanitises_the_last_failure() -> None:
    clock = FakeClock()
    breaker = make(clock, failure_threshold=1, reset_timeout=30.0)
    with pytest.raises(Boom):
        breaker.call(boom, "cannot connect to postgresql://etl:s3cr3t@db.example/meltano")
    clock.advance(12.0)
    snap = breaker.snapshot()
    assert snap.name == "oracle"
    assert snap.state is BreakerState.OPEN
    assert snap.failure_count == 1
    assert snap.retry_after_s == pytest.approx(18.0)
    assert snap.opened_at is not None and snap.opened_at.tzinfo is not None
    assert snap.last_failure is not None
    assert snap.last_failure.startswith("Boom: cannot connect to postgresql://etl:")
    assert "db.example/meltano" in snap.last_failure
    for rendering in (repr(snap), str(snap), repr(breaker), snap.last_failure):
        assert "s3cr3t" not in rendering
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.state = BreakerState.CLOSED  # type: ignore[misc]


def test_the_last_failure_is_cleaned_of_every_form_of_the_secrets_the_redactor_knows() -> None:
    user, password = "wms_etl", "Pl4nted-Br3aker-Pw"
    forms = leak_forms(password, user=user)
    registry = BreakerRegistry(
        failure_threshold=1, redactor=Redactor.of([password], credentials=[(user, password)])
    )
    breaker = registry.get_or_create("wms")
    with pytest.raises(Boom):
        breaker.call(boom, "proxy echoed " + " ".join(sorted(forms)))

    snap = breaker.snapshot()
    assert snap.last_failure is not None and snap.last_failure.startswith("Boom: proxy echoed ***")
    assert_no_leak(repr(snap) + repr(registry.snapshots()), forms, where="the snapshot")


def test_snapshot_of_a_closed_breaker_has_no_open_time() -> None:
    snap = make().snapshot()
    assert (snap.state, snap.opened_at, snap.retry_after_s, snap.last_failure) == (
        BreakerState.CLOSED,
        None,
        None,
        None,
    )


def test_reset_closes_an_open_breaker_and_notifies() -> None:
    breaker = make(failure_threshold=1)
    seen: list[BreakerState] = []
    breaker.add_listener(lambda _b, _o, new: seen.append(new))
    fail_times(breaker, 1)
    breaker.reset()
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.snapshot().last_failure is None
    assert seen == [BreakerState.OPEN, BreakerState.CLOSED]
    assert breaker.call(lambda: 1) == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"failure_threshold": 0}, {"reset_timeout": -1.0}, {"half_open_max_calls": 0}],
)
def test_invalid_configuration_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker("x", **kwargs)


# -- registry ----------------------------------------------------------------


def test_registry_returns_one_breaker_per_name_with_defaults_and_overrides() -> None:
    registry = BreakerRegistry(failure_threshold=3, reset_timeout=10.0)
    oracle = registry.get_or_create("oracle")
    wms = registry.get_or_create("wms", reset_timeout=60.0)
    assert registry.get_or_create("oracle", failure_threshold=99) is oracle
    assert (oracle.failure_threshold, oracle.reset_timeout) == (3, 10.0)
    assert (wms.failure_threshold, wms.reset_timeout) == (3, 60.0)
    assert registry.all() == (oracle, wms)
    assert registry.get("nope") is None
    assert "wms" in registry and len(registry) == 2
    assert [s.name for s in registry.snapshots()] == ["oracle", "wms"]


def test_registry_listeners_reach_present_and_future_breakers() -> None:
    registry = BreakerRegistry(failure_threshold=1)
    first = registry.get_or_create("first")
    seen: list[str] = []
    registry.add_listener(lambda b, _o, _n: seen.append(b.name))
    second = registry.get_or_create("second")
    fail_times(first, 1)
    fail_times(second, 1)
    assert seen == ["first", "second"]
    registry.reset_all()
    assert {b.state for b in registry} == {BreakerState.CLOSED}

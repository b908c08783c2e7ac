"""The core container: lifetimes, errors with stable codes, threads, dispose, overrides."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from structlog.testing import capture_logs

from gruponos_ext.core import (
    CircularDependencyError,
    Container,
    ContainerDisposedError,
    DisposeError,
    Key,
    Lifetime,
    Registration,
    RegistrationError,
    ResolutionTooDeepError,
    ServiceCreationError,
    ServiceNotFoundError,
    ServiceTypeError,
)


class Thing:
    def __init__(self, label: str = "") -> None:
        self.label = label


def test_singleton_is_created_once_and_shared() -> None:
    calls: list[int] = []
    container = Container()
    container.register_singleton("thing", lambda: calls.append(1) or Thing())
    first = container.resolve("thing")
    assert container.resolve("thing") is first
    assert calls == [1]


def test_transient_is_new_on_every_resolve() -> None:
    container = Container()
    container.register_transient("thing", Thing)
    assert container.resolve("thing") is not container.resolve("thing")


def test_instance_is_served_as_registered() -> None:
    container = Container()
    value = Thing("mine")
    container.register_instance("thing", value)
    assert container.resolve("thing") is value


def test_factory_may_take_the_container_to_resolve_dependencies() -> None:
    container = Container()
    container.register_singleton("dep", lambda: Thing("dep"))
    container.register_transient("user", lambda c: (c, c.resolve("dep")))
    got_container, dep = container.resolve("user")
    assert got_container is container
    assert dep.label == "dep"


def test_class_with_a_required_argument_is_called_with_the_container() -> None:
    class NeedsContainer:
        def __init__(self, container: Container) -> None:
            self.container = container

    container = Container()
    container.register_singleton("svc", NeedsContainer)
    assert container.resolve("svc").container is container


@pytest.mark.parametrize(
    ("factory", "fragment"),
    [
        (lambda a, b: None, "requires arguments (a, b)"),
        (lambda *, key: None, "requires arguments (key)"),
        ("not callable", "not a callable; to register an existing object use register_instance"),
    ],
)
def test_registration_refuses_factories_with_other_signatures(factory: Any, fragment: str) -> None:
    container = Container()
    with pytest.raises(RegistrationError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        container.register_singleton("bad", factory)
    assert "bad" not in container


def test_factory_with_optional_arguments_is_called_bare() -> None:
    container = Container()
    container.register_singleton("svc", lambda label="default": Thing(label))
    assert container.resolve("svc").label == "default"


def test_registering_again_replaces_the_recipe_before_creation() -> None:
    container = Container()
    container.register_singleton("svc", lambda: Thing("old"))
    container.register_singleton("svc", lambda: Thing("new"))
    assert container.resolve("svc").label == "new"


def test_replacing_a_created_singleton_is_refused_pointing_to_override() -> None:
    container = Container()
    container.register_singleton("svc", Thing)
    container.resolve("svc")
    with pytest.raises(RegistrationError, match=r"already created.*override\(") as info:
        container.register_singleton("svc", Thing)
    assert info.value.code == "INVALID_REGISTRATION"


def test_unknown_service_error_lists_near_names() -> None:
    container = Container()
    container.register_singleton("oracle_manager", Thing)
    result = container.try_resolve("oracle_manger")
    assert result.failure and result.error_code == "SERVICE_NOT_FOUND"
    assert "no service registered as 'oracle_manger'" in (result.error or "")
    assert "did you mean 'oracle_manager'" in (result.error or "")
    with pytest.raises(ServiceNotFoundError):
        container.resolve("oracle_manger")


def test_unknown_dependency_error_names_who_needs_it() -> None:
    container = Container()
    container.register_transient("orchestrator", lambda c: c.resolve("alert_mgr"))
    result = container.try_resolve("orchestrator")
    assert result.error_code == "SERVICE_NOT_FOUND"
    assert "'alert_mgr' (needed by orchestrator)" in (result.error or "")


def test_circular_dependency_shows_the_whole_path() -> None:
    container = Container()
    container.register_singleton("orchestrator", lambda c: c.resolve("alert_manager"))
    container.register_transient("alert_manager", lambda c: c.resolve("orchestrator"))
    result = container.try_resolve("orchestrator")
    assert result.error_code == "CIRCULAR_DEPENDENCY"
    assert result.error == "circular dependency: orchestrator -> alert_manager -> orchestrator"
    assert isinstance(result.exception, CircularDependencyError)
    assert result.exception.cycle == ("orchestrator", "alert_manager", "orchestrator")


def test_self_dependency_is_a_cycle_of_one() -> None:
    container = Container()
    container.register_transient("loop", lambda c: c.resolve("loop"))
    with pytest.raises(CircularDependencyError, match="loop -> loop"):
        container.resolve("loop")


def test_factory_failure_chains_the_cause_and_shows_the_path() -> None:
    container = Container()
    container.register_transient("outer", lambda c: c.resolve("inner"))

    def inner() -> Thing:
        raise OSError("disk on fire")

    container.register_singleton("inner", inner)
    result = container.try_resolve("outer")
    assert result.error_code == "SERVICE_CREATION_FAILED"
    assert result.error == (
        "factory of 'inner' failed while resolving outer -> inner: OSError: disk on fire"
    )
    with pytest.raises(ServiceCreationError) as info:
        container.resolve("outer")
    assert isinstance(info.value.__cause__, OSError)


def test_failing_singleton_factory_caches_nothing_and_is_retried() -> None:
    attempts: list[int] = []

    def flaky() -> Thing:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("first try fails")
        return Thing("second")

    container = Container()
    container.register_singleton("svc", flaky)
    assert container.try_resolve("svc").failure
    assert container.resolve("svc").label == "second"
    assert container.resolve("svc").label == "second"
    assert len(attempts) == 2


def test_resolve_typed_checks_the_type() -> None:
    container = Container()
    container.register_instance("n", 5)
    assert container.resolve_typed("n", int) == 5
    with pytest.raises(ServiceTypeError, match="'n' is a int, expected str") as info:
        container.resolve_typed("n", str)
    assert info.value.code == "SERVICE_TYPE_MISMATCH"
    assert container.try_resolve("n", str).error_code == "SERVICE_TYPE_MISMATCH"
    assert container.try_resolve("n", int).value == 5


@pytest.mark.parametrize("round_", range(20))
def test_64_threads_racing_the_first_resolve_create_the_singleton_exactly_once(round_: int) -> None:
    calls: list[int] = []
    barrier = threading.Barrier(64)

    def slow_factory() -> Thing:
        calls.append(1)
        time.sleep(0.01)  # widen the window in which a second creation could slip in
        return Thing()

    container = Container()
    container.register_singleton("shared", slow_factory)
    seen: list[Any] = []

    def worker() -> None:
        barrier.wait()
        seen.append(container.resolve("shared"))

    threads = [threading.Thread(target=worker) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(seen) == 64 and all(s is seen[0] for s in seen)


def test_creating_one_singleton_does_not_block_resolving_another() -> None:
    release = threading.Event()
    entered = threading.Event()

    def blocking() -> Thing:
        entered.set()
        release.wait(10)
        return Thing()

    container = Container()
    container.register_singleton("slow", blocking)
    container.register_singleton("fast", Thing)
    thread = threading.Thread(target=container.resolve, args=("slow",))
    thread.start()
    assert entered.wait(5)
    started = time.monotonic()
    container.resolve("fast")
    assert time.monotonic() - started < 1.0
    release.set()
    thread.join()


def test_dispose_runs_cleanups_in_reverse_creation_order() -> None:
    order: list[str] = []
    container = Container()
    for name in ("a", "b", "c"):
        container.register_singleton(name, Thing, cleanup=lambda _, n=name: order.append(n))
    container.resolve("b")
    container.resolve("c")
    container.resolve("a")
    result = container.dispose()
    assert result.success
    assert order == ["a", "c", "b"]
    assert result.value.disposed == ("a", "c", "b")


def test_dispose_runs_every_cleanup_and_reports_every_failure_by_name() -> None:
    ran: list[str] = []

    def failing(name: str) -> Any:
        def cleanup(_: object) -> None:
            ran.append(name)
            raise RuntimeError(f"{name} would not close")

        return cleanup

    container = Container()
    container.register_singleton("pool", Thing, cleanup=failing("pool"))
    container.register_singleton("ok", Thing, cleanup=lambda _: ran.append("ok"))
    container.register_singleton("client", Thing, cleanup=failing("client"))
    for name in ("pool", "ok", "client"):
        container.resolve(name)
    result = container.dispose()
    assert ran == ["client", "ok", "pool"]
    assert result.failure and result.error_code == "DISPOSE_FAILED"
    assert "client: RuntimeError: client would not close" in (result.error or "")
    assert "pool: RuntimeError: pool would not close" in (result.error or "")
    assert isinstance(result.exception, DisposeError)
    assert set(result.exception.failures) == {"pool", "client"}


def test_dispose_is_idempotent_and_then_resolving_fails_with_disposed() -> None:
    cleaned: list[int] = []
    container = Container()
    container.register_singleton("svc", Thing, cleanup=lambda _: cleaned.append(1))
    container.register_transient("t", Thing)
    container.resolve("svc")
    assert container.dispose().success
    second = container.dispose()
    assert second.success and second.value.already_disposed
    assert cleaned == [1]
    for name in ("svc", "t", "never-registered"):
        result = container.try_resolve(name)
        assert result.error_code == "CONTAINER_DISPOSED", name
    with pytest.raises(ContainerDisposedError, match="disposed"):
        container.resolve("svc")


def test_uncreated_singletons_are_not_cleaned_up() -> None:
    cleaned: list[int] = []
    container = Container()
    container.register_singleton("never", Thing, cleanup=lambda _: cleaned.append(1))
    container.dispose()
    assert cleaned == []


def test_instance_cleanup_runs_on_dispose() -> None:
    cleaned: list[object] = []
    value = Thing()
    container = Container()
    container.register_instance("v", value, cleanup=cleaned.append)
    container.dispose()
    assert cleaned == [value]


def test_context_manager_disposes_on_exit_and_raises_cleanup_failures() -> None:
    cleaned: list[int] = []
    with Container() as container:
        container.register_singleton("svc", Thing, cleanup=lambda _: cleaned.append(1))
        container.resolve("svc")
    assert cleaned == [1] and container.disposed

    def boom(_: object) -> None:
        raise RuntimeError("nope")

    with pytest.raises(DisposeError, match="svc: RuntimeError: nope"), Container() as c2:
        c2.register_singleton("svc", Thing, cleanup=boom)
        c2.resolve("svc")


def test_override_serves_the_replacement_and_restores_recipe_and_instance() -> None:
    container = Container()
    container.register_singleton("svc", lambda: Thing("real"))
    real = container.resolve("svc")
    double = Thing("double")
    with container.override("svc", double) as given:
        assert given is double
        assert container.resolve("svc") is double
    assert container.resolve("svc") is real


def test_override_of_an_uncreated_transient_restores_the_recipe() -> None:
    container = Container()
    container.register_transient("svc", lambda: Thing("real"))
    with container.override("svc", Thing("double")):
        assert container.resolve("svc").label == "double"
    assert container.resolve("svc").label == "real"
    assert container.resolve("svc") is not container.resolve("svc")


def test_override_of_an_unknown_name_is_removed_afterwards() -> None:
    container = Container()
    with container.override("temp", 1):
        assert container.resolve("temp") == 1
    assert "temp" not in container
    assert container.try_resolve("temp").error_code == "SERVICE_NOT_FOUND"


def test_override_restores_even_when_the_block_raises() -> None:
    container = Container()
    container.register_instance("svc", "real")
    with pytest.raises(KeyError), container.override("svc", "double"):
        raise KeyError("test failure")
    assert container.resolve("svc") == "real"


def test_services_lists_name_lifetime_and_state_never_values() -> None:
    container = Container()
    container.register_singleton("made", lambda: "SECRET-VALUE", cleanup=lambda _: None)
    container.register_singleton("lazy", Thing)
    container.register_transient("fresh", Thing)
    container.register_instance("given", "ANOTHER-SECRET")
    container.resolve("made")
    infos = {i.name: i for i in container.services()}
    assert infos["made"].state == "created" and infos["made"].has_cleanup
    assert infos["lazy"].state == "not created"
    assert infos["fresh"].state == "transient" and infos["fresh"].lifetime is Lifetime.TRANSIENT
    assert infos["given"].lifetime is Lifetime.INSTANCE
    assert "SECRET" not in repr(container.services())


def test_logs_register_create_and_dispose_with_names_and_durations_never_values() -> None:
    container = Container()
    with capture_logs() as logs:
        container.register_singleton("svc", lambda: "s3cr3t-value", cleanup=lambda _: None)
        container.resolve("svc")
        container.dispose()
    events = {e["event"]: e for e in logs}
    assert events["service_registered"]["service"] == "svc"
    assert "duration_ms" in events["service_created"]
    assert "duration_ms" in events["service_disposed"]
    assert "s3cr3t-value" not in repr(logs)


def test_factory_failure_is_logged_with_its_path() -> None:
    container = Container()
    container.register_singleton("svc", lambda: 1 / 0)
    with capture_logs() as logs:
        container.try_resolve("svc")
    failure = next(e for e in logs if e["event"] == "service_creation_failed")
    assert failure["service"] == "svc" and failure["error_type"] == "ZeroDivisionError"


def test_cycle_through_singletons_is_reported_and_leaves_the_container_usable() -> None:
    container = Container()
    container.register_singleton("a", lambda c: c.resolve("b"))
    container.register_singleton("b", lambda c: c.resolve("a"))
    container.register_singleton("ok", Thing)
    for _ in range(2):  # no lock left held, nothing cached: the same answer twice
        result = container.try_resolve("a")
        assert result.error == "circular dependency: a -> b -> a"
    assert container.try_resolve("b").error == "circular dependency: b -> a -> b"
    assert isinstance(container.resolve("ok"), Thing)


def test_cycle_entered_from_outside_reports_only_the_cycle() -> None:
    container = Container()
    container.register_transient("entry", lambda c: c.resolve("x"))
    container.register_transient("x", lambda c: c.resolve("y"))
    container.register_singleton("y", lambda c: c.resolve("x"))
    result = container.try_resolve("entry")
    assert result.error == "circular dependency: x -> y -> x"
    assert result.error_data == {"cycle": ["x", "y", "x"]}


def test_a_factory_recursing_without_end_is_not_called_a_cycle() -> None:
    def runaway(depth: int = 0) -> int:
        return runaway(depth + 1)

    container = Container()
    container.register_transient("runaway", runaway)
    result = container.try_resolve("runaway")
    assert result.error_code == "RESOLUTION_TOO_DEEP"
    assert "exceeded the recursion limit without a repeated service" in (result.error or "")


# -- issue 9: cycles are found on an explicit path, never by the recursion limit ----
def _run_in_threads(*targets: Any, timeout: float = 20.0) -> list[threading.Thread]:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return threads


def test_a_cycle_of_singletons_resolved_from_two_threads_is_reported_not_deadlocked() -> None:
    both_building = threading.Barrier(2, timeout=10)
    first_call: set[str] = set()

    def factory(name: str, needs: str) -> Any:
        def build(c: Container) -> Thing:
            if name not in first_call:  # each thread holds one singleton before crossing over
                first_call.add(name)
                both_building.wait()
            return Thing(c.resolve(needs))

        return build

    container = Container()
    container.register_singleton("a", factory("a", "b"))
    container.register_singleton("b", factory("b", "a"))
    results: dict[str, Any] = {}
    threads = _run_in_threads(
        lambda: results.update(a=container.try_resolve("a")),
        lambda: results.update(b=container.try_resolve("b")),
    )
    assert not any(t.is_alive() for t in threads), "deadlocked: each thread holds one singleton"
    assert {r.error_code for r in results.values()} == {"CIRCULAR_DEPENDENCY"}
    cycles = {tuple(r.error_data["cycle"]) for r in results.values()}
    assert cycles <= {("a", "b", "a"), ("b", "a", "b")}
    assert container.try_resolve("a").error == "circular dependency: a -> b -> a"  # no lock left


@pytest.mark.parametrize("lifetime", ["singleton", "transient"])
def test_each_factory_of_a_cycle_runs_once_before_the_error(lifetime: str) -> None:
    calls: list[str] = []

    def factory(name: str, needs: str) -> Any:
        return lambda c: calls.append(name) or c.resolve(needs)

    container = Container()
    register = getattr(container, f"register_{lifetime}")
    register("a", factory("a", "b"))
    register("b", factory("b", "a"))
    result = container.try_resolve("a")
    assert result.error == "circular dependency: a -> b -> a"
    assert calls == ["a", "b"]


def test_a_cycle_through_a_closure_is_found_like_any_other() -> None:
    calls: list[str] = []
    container = Container()
    container.register_transient("a", lambda: calls.append("a") or container.resolve("b"))
    container.register_transient("b", lambda: calls.append("b") or container.resolve("a"))
    assert container.try_resolve("a").error == "circular dependency: a -> b -> a"
    assert calls == ["a", "b"]


def _chain(container: Container, lifetime: str, length: int) -> str:
    """``n0 -> n1 -> ... -> n{length-1}``, registered leaf first; returns the head."""
    register = getattr(container, f"register_{lifetime}")
    register(f"n{length - 1}", Thing)
    for i in reversed(range(length - 1)):
        register(f"n{i}", lambda c, dep=f"n{i + 1}": Thing(c.resolve(dep)))
    return "n0"


@pytest.mark.parametrize(("lifetime", "length"), [("singleton", 300), ("transient", 450)])
def test_a_deep_valid_chain_resolves(lifetime: str, length: int) -> None:
    container = Container()
    head = _chain(container, lifetime, length)
    thing, depth = container.resolve(head), 1
    while thing.label:
        thing, depth = thing.label, depth + 1
    assert depth == length


@pytest.mark.parametrize("lifetime", ["singleton", "transient"])
def test_a_chain_deeper_than_python_allows_is_too_deep_not_a_cycle(lifetime: str) -> None:
    calls: list[str] = []
    container = Container()
    register = getattr(container, f"register_{lifetime}")
    for i in range(5_000):
        register(f"n{i}", lambda c, me=f"n{i}", dep=f"n{i + 1}": calls.append(me) or c.resolve(dep))
    result = container.try_resolve("n0")
    assert result.error_code == "RESOLUTION_TOO_DEEP"
    assert isinstance(result.exception, ResolutionTooDeepError)
    depth = len(result.exception.path)
    assert 200 < depth < 600 and result.exception.path[:3] == ("n0", "n1", "n2")
    assert f"({depth} services deep) exceeded the recursion limit" in (result.error or "")
    assert "n0 -> n1 -> " in (result.error or "") and "more) ->" in (result.error or "")
    assert len(calls) == len(set(calls))  # every factory ran at most once
    again: list[Any] = []  # no singleton left claimed: asking again fails the same way
    threads = _run_in_threads(lambda: again.append(container.try_resolve("n0")))
    assert not threads[0].is_alive() and again[0].error_code == "RESOLUTION_TOO_DEEP"


def test_a_factory_raising_recursion_error_itself_is_too_deep_with_its_path() -> None:
    def bottomless() -> Thing:
        raise RecursionError("maximum recursion depth exceeded")

    container = Container()
    container.register_transient("outer", lambda c: c.resolve("bottomless"))
    container.register_singleton("bottomless", bottomless)
    result = container.try_resolve("outer")
    assert result.error_code == "RESOLUTION_TOO_DEEP"
    assert result.error_data["path"] == ["outer", "bottomless"]


# -- issue 9: dispose is bounded and honest ---------------------------------------------
def test_a_hanging_cleanup_is_abandoned_after_its_bound_and_the_others_still_run() -> None:
    release = threading.Event()
    ran: list[str] = []
    container = Container()
    container.register_singleton("db", Thing, cleanup=lambda _: ran.append("db"))
    container.register_singleton("pool", Thing, cleanup=lambda _: release.wait(30))
    container.register_singleton("client", Thing, cleanup=lambda _: ran.append("client"))
    for name in ("db", "pool", "client"):
        container.resolve(name)
    started = time.monotonic()
    result = container.dispose(timeout=0.2)
    assert time.monotonic() - started < 10
    assert ran == ["client", "db"]
    assert result.failure and result.error_code == "DISPOSE_FAILED"
    assert result.error_data == {"failed": ["pool"], "disposed": ["client", "db"]}
    assert "pool: cleanup of 'pool' timed out after 0.2 s" in (result.error or "")
    release.set()


def test_a_second_dispose_reports_what_is_still_undone_and_runs_nothing_twice() -> None:
    release = threading.Event()
    calls: list[str] = []

    def hanging(_: object) -> None:
        calls.append("pool")
        release.wait(30)

    def failing(_: object) -> None:
        calls.append("broken")
        raise OSError("socket already closed")

    container = Container()
    container.register_singleton("pool", Thing, cleanup=hanging)
    container.register_singleton("broken", Thing, cleanup=failing)
    container.resolve("pool")
    container.resolve("broken")
    assert container.dispose(timeout=0.2).error_data["failed"] == ["broken", "pool"]
    second = container.dispose(timeout=0.2)
    assert second.failure and second.error_data["failed"] == ["broken", "pool"]
    release.set()
    third = container.dispose(timeout=5)
    assert third.failure and third.error_data == {"failed": ["broken"], "disposed": ["pool"]}
    assert "broken: OSError: socket already closed" in (third.error or "")
    assert calls == ["broken", "pool"]  # each cleanup ran once


def test_a_cleanup_that_overran_and_then_finished_counts_as_done_on_the_next_dispose() -> None:
    release = threading.Event()
    container = Container()
    container.register_singleton("pool", Thing, cleanup=lambda _: release.wait(30))
    container.resolve("pool")
    assert container.dispose(timeout=0.1).failure
    release.set()
    again = container.dispose(timeout=5)
    assert again.success and again.value.already_disposed and again.value.disposed == ("pool",)


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan")])
def test_dispose_refuses_a_timeout_that_bounds_nothing(timeout: float) -> None:
    with pytest.raises(ValueError, match="dispose timeout must be a number of seconds > 0"):
        Container().dispose(timeout=timeout)


def test_dispose_timeout_none_runs_cleanups_in_the_calling_thread() -> None:
    threads: list[threading.Thread] = []
    container = Container()
    container.register_singleton(
        "svc", Thing, cleanup=lambda _: threads.append(threading.current_thread())
    )
    container.resolve("svc")
    assert container.dispose(timeout=None).success
    assert threads == [threading.current_thread()]


class SlowSingletonBeingResolved:
    """A container whose singleton ``slow`` a thread is resolving, its factory held.

    ``release`` lets the factory return; ``made`` and ``cleaned`` record the
    instances created and cleaned up; ``got`` the resolving thread's Result.
    """

    def __init__(self) -> None:
        self.release = threading.Event()
        self.made: list[Thing] = []
        self.cleaned: list[object] = []
        self.got: list[Any] = []
        entered = threading.Event()

        def factory() -> Thing:
            entered.set()
            self.release.wait(30)
            self.made.append(Thing("slow"))
            return self.made[-1]

        self.container = Container()
        self.container.register_singleton("slow", factory, cleanup=self.cleaned.append)
        self.resolver = threading.Thread(
            target=lambda: self.got.append(self.container.try_resolve("slow"))
        )
        self.resolver.start()
        assert entered.wait(10)


def test_a_singleton_created_while_dispose_waits_is_cleaned_up_and_never_handed_out() -> None:
    slow = SlowSingletonBeingResolved()
    threading.Timer(0.3, slow.release.set).start()  # the factory returns while dispose waits
    result = slow.container.dispose(timeout=10)
    slow.resolver.join(10)
    assert result.success and result.value.disposed == ("slow",)
    assert slow.cleaned == slow.made and len(slow.made) == 1
    assert slow.got[0].error_code == "CONTAINER_DISPOSED"


def test_a_singleton_still_being_created_when_dispose_gives_up_is_cleaned_up_later() -> None:
    slow = SlowSingletonBeingResolved()
    first = slow.container.dispose(timeout=0.2)
    assert first.failure and first.error_data["failed"] == ["slow"]
    assert "creating 'slow' timed out after 0.2 s" in (first.error or "")
    slow.release.set()
    slow.resolver.join(10)
    assert slow.got[0].error_code == "CONTAINER_DISPOSED"  # never handed out ...
    assert slow.cleaned == slow.made and len(slow.made) == 1  # ... and its cleanup ran
    second = slow.container.dispose(timeout=5)
    assert second.success and second.value.disposed == ("slow",)


# -- issue 9: override racing resolves ---------------------------------------------------
def test_override_racing_resolves_creates_the_singleton_once() -> None:
    calls: list[int] = []

    def slow() -> Thing:
        calls.append(1)
        time.sleep(0.005)
        return Thing("real")

    container = Container()
    container.register_singleton("svc", slow)
    stop = threading.Event()
    seen: list[str] = []

    def resolver() -> None:
        while not stop.is_set():
            seen.append(container.resolve("svc").label)
            time.sleep(0)  # let the overriding thread in

    threads = [threading.Thread(target=resolver, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    double = Thing("double")
    for _ in range(400):
        with container.override("svc", double):
            time.sleep(0.0005)
    stop.set()
    for thread in threads:
        thread.join(10)
    assert len(calls) == 1
    assert container.resolve("svc").label == "real"
    assert set(seen) <= {"real", "double"}


# -- issue 10: resolve is a plain method; typed keys ---------------------------------
def test_a_subclass_override_of_resolve_is_honoured() -> None:
    asked: list[str] = []

    class Recording(Container):
        def resolve(self, name: str) -> Any:
            asked.append(name)
            return super().resolve(name)

    container = Recording()
    container.register_instance("db", Thing("db"))
    container.register_transient("job", lambda c: c.resolve("db"))
    assert container.resolve("job").label == "db"
    assert asked == ["job", "db"]
    assert "Return the service registered as" in (Container.resolve.__doc__ or "")


def test_a_typed_key_is_the_same_service_as_its_name() -> None:
    settings: Key[Thing] = Key("settings")
    container = Container()
    container.register_singleton(settings, lambda: Thing("cfg"))
    assert container.resolve("settings") is container.resolve(settings)
    assert container.resolve(settings).label == "cfg"
    assert container.names() == ("settings",) and type(container.names()[0]) is str
    assert container.try_resolve(settings).value.label == "cfg"
    missing: Key[Thing] = Key("setings")
    assert "did you mean 'settings'" in (container.try_resolve(missing).error or "")


def test_a_recipe_refuses_a_cleanup_for_a_transient_and_a_factory_for_an_instance() -> None:
    with pytest.raises(RegistrationError, match="transient 't' cannot have a cleanup"):
        Registration.of("t", Lifetime.TRANSIENT, Thing, cleanup=print)
    with pytest.raises(RegistrationError, match="instance 'i' takes its value, not a factory"):
        Registration.of("i", Lifetime.INSTANCE, Thing)
    recipe = Registration.of("s", Lifetime.SINGLETON, lambda c: Thing())
    assert recipe.takes_container and recipe.lifetime is Lifetime.SINGLETON


def test_dispose_asked_by_a_cleanup_during_dispose_reports_what_is_not_done_yet() -> None:
    nested: list[Any] = []
    container = Container()
    container.register_singleton("svc", Thing, cleanup=lambda _: nested.append(container.dispose()))
    container.resolve("svc")
    assert container.dispose(timeout=None).success
    assert nested[0].failure and nested[0].error_data["failed"] == ["svc"]
    assert "svc: RuntimeError: not done yet: dispose() is still running" in nested[0].error
    assert container.dispose().success

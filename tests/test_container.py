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
    Lifetime,
    RegistrationError,
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
    assert result.error_code == "CIRCULAR_DEPENDENCY"
    assert "exceeded the recursion limit without a repeated service" in (result.error or "")

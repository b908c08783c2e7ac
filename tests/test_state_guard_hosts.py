"""Guards on several simulated hosts sharing one PostgreSQL state store.

Real processes throughout: ``gruponos_extension guard`` runs inside its own
UTS and pid namespaces (a host of its own, see :mod:`tests.support.hosts`),
with the fake ``meltano`` of :mod:`tests.support.runs` as its child and a
short ``lock_ttl`` (the guard heartbeats every ``lock_ttl / 3``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gruponos_ext.state import LockOwner, ReclaimReason, RunStatus, StateStore
from tests.support.cli import CLI_BIN, with_bytecode_cache
from tests.support.hosts import host_command, require_unshare
from tests.support.postgres import PostgresServer
from tests.support.runs import FakeMeltano, Processes, clean_env, wait_until
from tests.support.state import StoreSpec, settings_env

pytestmark = pytest.mark.timeout(300)

TTL = 3.0
HEARTBEAT = TTL / 3


@pytest.fixture
def pg_spec(pg_state_uri: str, pg_schema: str) -> StoreSpec:
    require_unshare()
    return StoreSpec("postgres", uri=pg_state_uri, schema=pg_schema)


class Hosts:
    """Starts guards on simulated hosts, each with its own fake meltano and state dir."""

    def __init__(
        self, tmp_path: Path, processes: Processes, spec: StoreSpec, cache: dict[str, str]
    ) -> None:
        self.tmp_path = tmp_path
        self.processes = processes
        self.spec = spec
        self.cache = cache
        self.fakes: dict[str, FakeMeltano] = {}

    def fake(self, host: str) -> FakeMeltano:
        if host not in self.fakes:
            self.fakes[host] = FakeMeltano(self.tmp_path / f"fake-{host}").install()
        return self.fakes[host]

    def env(self, host: str, **extra: str) -> dict[str, str]:
        env = with_bytecode_cache(clean_env(), self.cache)
        env.update(settings_env(self.spec, self.tmp_path / host / "state"))
        env.update(self.fake(host).env())
        env.update(GRUPONOS_INFRA_LOCK_TTL=str(TTL), **extra)
        return env

    def start_guard(self, host: str, **extra: str) -> subprocess.Popen[str]:
        argv = host_command(host, [str(CLI_BIN), "guard", "nightly"])
        return self.processes.start(argv, env=self.env(host, **extra))

    def run_guard(self, host: str) -> subprocess.CompletedProcess[str]:
        argv = host_command(host, [str(CLI_BIN), "guard", "nightly"])
        return subprocess.run(
            argv, env=self.env(host), capture_output=True, text=True, timeout=120, check=False
        )


@pytest.fixture
def hosts(
    tmp_path: Path, processes: Processes, pg_spec: StoreSpec, bytecode_cache_env: dict[str, str]
) -> Hosts:
    return Hosts(tmp_path, processes, pg_spec, bytecode_cache_env)


def namespace_init(unshare: subprocess.Popen[str]) -> int:
    """The global pid of the process ``unshare --fork`` started: the host's pid 1 (the guard)."""
    children = Path(f"/proc/{unshare.pid}/task/{unshare.pid}/children")
    wait_until(lambda: children.read_text().split(), timeout=30, what="the namespace's pid 1")
    return int(children.read_text().split()[0])


def test_a_guard_heartbeating_past_lock_ttl_keeps_its_lock_and_other_hosts_are_refused(
    hosts: Hosts, pg_spec: StoreSpec
) -> None:
    hosts.fake("host-a").plan({"sleep": 3 * TTL, "exit": 0})
    first = hosts.start_guard("host-a")
    wait_until(hosts.fake("host-a").started, timeout=60, what="host-a's run")
    time.sleep(TTL + HEARTBEAT)  # past the lease it acquired with

    second = hosts.run_guard("host-b")

    assert second.returncode == 1, second.stderr
    assert "not started" in second.stderr and "host-a" in second.stderr
    assert hosts.fake("host-b").calls() == []
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    store = pg_spec.open()
    assert store.current_lock("nightly") is None  # released by its dispose
    (run,) = store.recent_runs("nightly")
    assert run.host == "host-a" and run.status is RunStatus.SUCCESS


def test_after_kill_9_of_a_hosts_guard_and_child_another_host_takes_over_within_the_lease(
    hosts: Hosts, pg_spec: StoreSpec
) -> None:
    hosts.fake("host-a").plan({"sleep": 120, "exit": 0})
    first = hosts.start_guard("host-a")
    wait_until(hosts.fake("host-a").started, timeout=60, what="host-a's run")
    time.sleep(HEARTBEAT * 1.5)  # at least one heartbeat has renewed the lease

    os.kill(namespace_init(first), signal.SIGKILL)  # pid 1 of the host: everything in it dies
    killed_at = time.time()
    first.wait(timeout=30)

    deadline = time.monotonic() + 60
    while True:
        attempt = hosts.run_guard("host-b")
        if attempt.returncode == 0 or time.monotonic() > deadline:
            break
        assert "not started" in attempt.stderr, attempt.stderr
        time.sleep(0.2)
    assert attempt.returncode == 0, attempt.stderr
    store = pg_spec.open()
    runs = {r.host: r for r in store.recent_runs("nightly")}
    assert runs["host-b"].status is RunStatus.SUCCESS
    assert runs["host-a"].status is RunStatus.ABANDONED
    assert "reclaimed (expired)" in runs["host-a"].message
    took = runs["host-b"].started_at.timestamp() - killed_at
    # lock_ttl plus one heartbeat, plus the start of one guard process on a loaded machine.
    assert took <= TTL + HEARTBEAT + 4.0, took


@pytest.fixture
def frozen_holder(hosts: Hosts, pg_spec: StoreSpec) -> Iterator[dict[str, object]]:
    """host-a's guard frozen (SIGSTOP) past its lease while host-b's guard takes the lock."""
    hosts.fake("host-a").plan({"sleep": 60, "exit": 0})
    first = hosts.start_guard("host-a")
    wait_until(hosts.fake("host-a").started, timeout=60, what="host-a's run")
    store = pg_spec.open()
    lock_a = store.current_lock("nightly")
    assert lock_a is not None and lock_a.owner.host == "host-a"
    guard_a = namespace_init(first)
    os.kill(guard_a, signal.SIGSTOP)
    time.sleep(TTL + HEARTBEAT)
    hosts.fake("host-b").plan({"sleep": 30, "exit": 0})
    second = hosts.start_guard("host-b")
    wait_until(hosts.fake("host-b").started, timeout=60, what="host-b's run")
    lock_b = store.current_lock("nightly")
    assert lock_b is not None and lock_b.owner.host == "host-b"
    assert lock_b.fence > lock_a.fence
    os.kill(guard_a, signal.SIGCONT)
    yield {"store": store, "first": first, "second": second, "lock_a": lock_a, "lock_b": lock_b}


def test_a_frozen_holder_woken_after_its_lease_is_fenced_off(
    hosts: Hosts, frozen_holder: dict[str, object]
) -> None:
    store = frozen_holder["store"]
    first = frozen_holder["first"]
    assert isinstance(store, StateStore) and isinstance(first, subprocess.Popen)
    lock_b = frozen_holder["lock_b"]
    time.sleep(3 * HEARTBEAT)  # host-a's guard heartbeats again after waking

    # Its heartbeats renewed nothing: the lock, fence and lease stay host-b's.
    now = store.current_lock("nightly")
    assert now is not None and now.owner == lock_b.owner and now.fence == lock_b.fence  # type: ignore[attr-defined]
    (abandoned,) = [r for r in store.recent_runs("nightly") if r.host == "host-a"]
    assert abandoned.status is RunStatus.ABANDONED
    # Whatever host-a does next (it stops its run on finding the lock lost, and
    # disposes), host-b's lock stays.
    try:
        first.wait(timeout=TTL + 25.0)
    except subprocess.TimeoutExpired:
        os.kill(namespace_init(first), signal.SIGTERM)
    first.communicate(timeout=120)
    after = store.current_lock("nightly")
    assert after is not None and after.owner == lock_b.owner  # type: ignore[attr-defined]


def test_a_frozen_holder_woken_after_its_lease_has_its_guard_stop_the_child(
    hosts: Hosts, frozen_holder: dict[str, object]
) -> None:
    first = frozen_holder["first"]
    assert isinstance(first, subprocess.Popen)
    # Its next heartbeat finds the lock lost: the guard stops its child and fails.
    try:
        first.wait(timeout=TTL + 25.0)
    except subprocess.TimeoutExpired:
        pytest.fail("host-a's guard kept running its child after losing the lock")
    assert first.returncode != 0
    assert any("signal" in e for e in hosts.fake("host-a").events())
    assert "lost" in (first.stderr.read() if first.stderr else "")


def test_the_database_going_down_mid_run_is_reported_and_leaves_no_lock_forever(
    tmp_path: Path,
    processes: Processes,
    own_postgres: PostgresServer,
    bytecode_cache_env: dict[str, str],
) -> None:
    require_unshare()
    spec = StoreSpec("postgres", uri=own_postgres.uri, schema="gruponos_infra")
    hosts = Hosts(tmp_path, processes, spec, bytecode_cache_env)
    store = spec.open()
    earlier = store.start_run("other-job", "ctx-earlier", host="elsewhere", pid=1)
    store.finish_run(earlier.id, "success", 0)

    hosts.fake("host-a").plan({"sleep": 4 * TTL, "exit": 0})
    guard = hosts.start_guard("host-a", GRUPONOS_INFRA_STATE_TIMEOUT="2")
    wait_until(hosts.fake("host-a").started, timeout=60, what="host-a's run")
    own_postgres.stop("fast")
    down_at = time.monotonic()
    out, err = guard.communicate(timeout=120)
    where = f"127.0.0.1:{own_postgres.port}"

    # The guard said so: heartbeats that failed, and in its last line, the database it lost.
    assert "run_lock_not_renewed" in err and "STATE_STORE_ERROR" in err, err
    last = err.strip().splitlines()[-1]
    assert guard.returncode != 0 and where in last and "cannot connect" in last, last
    assert "postgres@" not in out + err

    own_postgres.start()
    lock = store.current_lock("nightly")
    assert lock is not None and lock.owner.host == "host-a" and lock.expires_at is not None
    (open_run,) = [r for r in store.recent_runs("nightly") if r.status is RunStatus.RUNNING]
    # Not held forever: the lease the last heartbeat granted runs out...
    wait_until(
        lambda: (store.current_lock("nightly") or lock).stale is ReclaimReason.EXPIRED,
        timeout=TTL + 10,
        what="the lease to run out",
    )
    assert time.monotonic() - down_at <= TTL + 10
    taken = store.acquire_lock("nightly", LockOwner.current("ctx-next"), 60)
    assert taken and taken.reclaim_reason is ReclaimReason.EXPIRED
    # ...and nothing is lost: the run is closed as abandoned, the older history is there.
    assert taken.abandoned_run_ids == (open_run.id,)
    run = store.get_run(open_run.id)
    assert run is not None and run.status is RunStatus.ABANDONED
    assert store.get_run(earlier.id) is not None

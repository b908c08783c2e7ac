"""The StateStore contract: one suite, run on SQLite and on a real PostgreSQL server.

Times here are real (PostgreSQL decides by its own clock), so leases are
short and waits generous; races use real processes.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from gruponos_ext.health.model import CheckResult, HealthReport, Status
from gruponos_ext.state import (
    LOCK_HELD,
    AlertDeduplicator,
    LockLoss,
    LockOwner,
    ReclaimReason,
    RunStatus,
    StateStore,
)
from tests.support.state import StoreSpec, dead_pid, open_store

LEASE = 0.6  # a lease short enough to wait out
PAST_LEASE = LEASE + 0.5


def owner(ctx: str, **kw: Any) -> LockOwner:
    return LockOwner.current(ctx, **kw)


def report(*statuses: Status) -> HealthReport:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    results = tuple(
        CheckResult(f"check{i}:probe", s, f"{s.value} message", 0.01 * (i + 1), when)
        for i, s in enumerate(statuses)
    )
    return HealthReport.aggregate(results, 0.5, when)


# -- shape ---------------------------------------------------------------------------


def test_store_satisfies_the_protocols_and_opens_nothing_until_used(
    store_spec: StoreSpec,
) -> None:
    store = store_spec.open()
    assert isinstance(store, StateStore) and isinstance(store, AlertDeduplicator)
    assert "state" in store.ping().lower() or "schema" in store.ping()


# -- runs ------------------------------------------------------------------------------


def test_run_lifecycle_from_start_to_finish(any_store: StateStore) -> None:
    run = any_store.start_run("nightly", "ctx-1", host="host-a", pid=4242)
    assert run.status is RunStatus.RUNNING and run.finished_at is None
    assert (run.host, run.pid) == ("host-a", 4242)
    assert any_store.find_open_run("ctx-1") == run

    (done,) = any_store.finish_run("ctx-1", "success", 0, "all good")

    assert done.id == run.id and done.status is RunStatus.SUCCESS
    assert (done.exit_code, done.message) == (0, "all good")
    assert done.duration_s is not None and done.duration_s >= 0
    assert any_store.find_open_run("ctx-1") is None
    assert any_store.get_run(run.id) == done
    # Finishing again changes nothing.
    assert any_store.finish_run(run.id, "failed", 1) == ()
    assert any_store.finish_run("ctx-1", "failed", 1) == ()


def test_start_run_is_idempotent_while_open(any_store: StateStore) -> None:
    first = any_store.start_run("nightly", "ctx", host="h", pid=1)
    assert any_store.start_run("nightly", "ctx", host="h", pid=1) == first
    any_store.finish_run(first.id, "success", 0)
    assert any_store.start_run("nightly", "ctx", host="h", pid=1).id != first.id


def test_finish_by_context_limited_to_one_job(any_store: StateStore) -> None:
    a = any_store.start_run("job-a", "ctx", host="h", pid=1)
    b = any_store.start_run("job-b", "ctx", host="h", pid=1)
    (finished,) = any_store.finish_run("ctx", "success", 0, job="job-a")
    assert finished.id == a.id
    assert any_store.find_open_run("ctx") == b
    with pytest.raises(ValueError, match="final status"):
        any_store.finish_run("ctx", "running")


def test_recent_runs_and_last_success(any_store: StateStore) -> None:
    base = datetime(2026, 3, 1, tzinfo=timezone.utc)
    for i, (job, status) in enumerate(
        [("a", "success"), ("b", "success"), ("a", "success"), ("a", "failed")]
    ):
        at = base + timedelta(minutes=10 * i)
        any_store.start_run(job, f"ctx-{i}", host=f"host-{i}", pid=i + 1, started_at=at)
        any_store.finish_run(f"ctx-{i}", status, 0, finished_at=at + timedelta(minutes=5))
    assert [r.context_id for r in any_store.recent_runs()] == ["ctx-3", "ctx-2", "ctx-1", "ctx-0"]
    assert [r.context_id for r in any_store.recent_runs("a", limit=2)] == ["ctx-3", "ctx-2"]
    assert [r.host for r in any_store.recent_runs()] == ["host-3", "host-2", "host-1", "host-0"]
    last = any_store.last_success("a")
    assert last is not None and last.context_id == "ctx-2"
    with pytest.raises(ValueError):
        any_store.recent_runs(limit=-1)


def test_long_messages_keep_their_end(any_store: StateStore) -> None:
    any_store.start_run("nightly", "ctx", host="h", pid=1)
    (run,) = any_store.finish_run("ctx", "failed", 1, "x" * 10_000 + "THE-END")
    assert len(run.message) <= 4000 and run.message.endswith("THE-END")


# -- locks -----------------------------------------------------------------------------


def test_free_lock_is_acquired_and_a_live_holder_refuses_others(any_store: StateStore) -> None:
    first = any_store.acquire_lock("job", owner("ctx-a"), 3600)
    assert first and first.lock.fence >= 1 and first.reclaimed_from is None

    refused = any_store.acquire_lock("job", owner("ctx-b"), 3600)

    assert not refused and refused.error_code == LOCK_HELD
    assert "ctx-a" in refused.message and refused.lock.owner.context_id == "ctx-a"
    assert any_store.current_lock("job") == first.lock


def test_same_context_reacquires_keeping_its_fence_and_renewing(any_store: StateStore) -> None:
    first = any_store.acquire_lock("job", owner("ctx"), 100)
    time.sleep(0.05)
    again = any_store.acquire_lock("job", owner("ctx", pid=1), 100)
    assert again and again.already_held and again.reclaimed_from is None
    assert again.lock.fence == first.lock.fence
    assert again.lock.owner == first.lock.owner
    assert again.lock.expires_at is not None and first.lock.expires_at is not None
    assert again.lock.expires_at > first.lock.expires_at


def test_fence_grows_with_every_new_holder_even_after_release(any_store: StateStore) -> None:
    fences = []
    for i in range(3):
        acquisition = any_store.acquire_lock("job", owner(f"ctx-{i}"), 60)
        fences.append(acquisition.lock.fence)
        assert any_store.release_lock("job", f"ctx-{i}")
    other = any_store.acquire_lock("other-job", owner("ctx-x"), 60)
    assert fences == sorted(set(fences)) and other.lock.fence >= 1


def test_expired_lease_is_reclaimed_with_a_new_fence_and_abandons_the_run(
    any_store: StateStore,
) -> None:
    held = any_store.acquire_lock("job", owner("ctx-old"), LEASE)
    run = any_store.start_run("job", "ctx-old", host="h", pid=os.getpid())
    assert not any_store.acquire_lock("job", owner("ctx-new"), 60)

    time.sleep(PAST_LEASE)
    lock = any_store.current_lock("job")
    assert lock is not None and lock.stale is ReclaimReason.EXPIRED
    taken = any_store.acquire_lock("job", owner("ctx-new"), 60)

    assert taken and taken.reclaim_reason is ReclaimReason.EXPIRED
    assert taken.reclaimed_from == held.lock.owner
    assert taken.lock.fence > held.lock.fence
    assert taken.abandoned_run_ids == (run.id,)
    abandoned = any_store.get_run(run.id)
    assert abandoned is not None and abandoned.status is RunStatus.ABANDONED
    assert "ctx-new" in abandoned.message


def test_lock_without_lease_is_not_expired_by_time(any_store: StateStore) -> None:
    assert any_store.acquire_lock("job", owner("ctx-a"), None)
    time.sleep(0.2)
    assert not any_store.acquire_lock("job", owner("ctx-b"), 0)


def test_heartbeat_renews_only_the_holder_and_tells_a_stale_holder_it_lost(
    any_store: StateStore,
) -> None:
    first = any_store.acquire_lock("job", owner("ctx-a"), LEASE)
    renewed = any_store.refresh_lock("job", "ctx-a", LEASE, fence=first.lock.fence)
    assert renewed and renewed.expires_at is not None and renewed.lost is None

    time.sleep(PAST_LEASE)  # ctx-a froze past its lease...
    second = any_store.acquire_lock("job", owner("ctx-b"), 60)
    assert second and second.reclaim_reason is ReclaimReason.EXPIRED

    # ...and, woken, is fenced off: by fence, and by context.
    lost = any_store.refresh_lock("job", "ctx-a", 60, fence=first.lock.fence)
    assert not lost and lost.lost is LockLoss.TAKEN
    assert lost.holder is not None and lost.holder.owner.context_id == "ctx-b"
    assert lost.holder.fence == second.lock.fence
    assert "lost" in lost.message and "ctx-b" in lost.message
    assert not any_store.refresh_lock("job", "ctx-a", 60)
    assert not any_store.refresh_lock("job", "ctx-b", 60, fence=first.lock.fence)
    assert any_store.refresh_lock("job", "ctx-b", 60, fence=second.lock.fence)
    current = any_store.current_lock("job")
    assert current is not None and current.owner.context_id == "ctx-b"


def test_heartbeat_after_the_lock_was_broken_says_it_is_gone(any_store: StateStore) -> None:
    held = any_store.acquire_lock("job", owner("ctx"), 60)
    assert any_store.break_lock("job") == held.lock
    assert any_store.break_lock("job") is None
    lost = any_store.refresh_lock("job", "ctx", 60)
    assert not lost and lost.lost is LockLoss.GONE and lost.holder is None


def test_release_only_by_the_holder_and_idempotent(any_store: StateStore) -> None:
    held = any_store.acquire_lock("job", owner("ctx-a"), 3600)
    assert any_store.release_lock("job", "ctx-b") is False
    assert any_store.current_lock("job") == held.lock
    assert any_store.release_lock("job", "ctx-a") is True
    assert any_store.release_lock("job", "ctx-a") is False
    assert any_store.current_lock("job") is None


def test_release_locks_for_context(any_store: StateStore) -> None:
    for job in ("b-job", "a-job"):
        any_store.acquire_lock(job, owner("ctx-1"), 3600)
    any_store.acquire_lock("other", owner("ctx-2"), 3600)
    assert any_store.release_locks_for_context("ctx-1") == ("a-job", "b-job")
    assert any_store.release_locks_for_context("ctx-1") == ()
    assert [lock.job for lock in any_store.all_locks()] == ["other"]


def test_dead_holder_on_this_machine_instance_is_reclaimed(any_store: StateStore) -> None:
    gone = dead_pid()
    assert any_store.acquire_lock("job", owner("ctx-dead", pid=gone), 3600)
    taken = any_store.acquire_lock("job", owner("ctx-next"), 3600)
    assert taken and taken.reclaim_reason is ReclaimReason.PROCESS_GONE
    assert taken.reclaimed_from is not None and taken.reclaimed_from.pid == gone


def test_lock_of_another_host_is_freed_only_by_its_lease(any_store: StateStore) -> None:
    remote = LockOwner("ctx-remote", "worker-7", dead_pid(), datetime.now(timezone.utc))
    assert any_store.acquire_lock("job", remote, LEASE)
    refused = any_store.acquire_lock("job", owner("ctx-local"), 60)
    assert not refused and "worker-7" in refused.message

    time.sleep(PAST_LEASE)
    taken = any_store.acquire_lock("job", owner("ctx-local"), 60)
    assert taken.reclaim_reason is ReclaimReason.EXPIRED and taken.reclaimed_from == remote


def test_invalid_lock_requests_are_refused(any_store: StateStore) -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        any_store.acquire_lock("job", owner("ctx"), -1)
    with pytest.raises(ValueError):
        any_store.acquire_lock("", owner("ctx"), 1)


# -- health and alerts ---------------------------------------------------------------------


def test_health_reports_round_trip_with_their_host(any_store: StateStore) -> None:
    first = any_store.record_health(report(Status.PASS, Status.FAIL))
    second = any_store.record_health(report(Status.WARN), job="nightly")

    latest, earlier = any_store.recent_health(10)
    assert (latest.id, earlier.id) == (second, first)
    assert latest.job == "nightly" and latest.status == "warn"
    assert earlier.status == "fail" and earlier.duration_s == 0.5
    assert earlier.host == latest.host and earlier.host
    assert [(c.name, c.status) for c in earlier.checks] == [
        ("check0:probe", "pass"),
        ("check1:probe", "fail"),
    ]
    assert [h.id for h in any_store.recent_health(10, job="nightly")] == [second]


def test_alert_window_is_shared_by_two_instances(store_spec: StoreSpec) -> None:
    first, second = store_spec.open(), store_spec.open()
    assert first.should_send("oracle-down", 3600) is True
    assert second.should_send("oracle-down", 3600) is False
    assert second.should_send("wms-down", 3600) is True
    assert all(first.should_send("k", 0) for _ in range(3))  # a zero window never suppresses
    assert first.should_send("short", 0.3) is True
    time.sleep(0.5)
    assert second.should_send("short", 0.3) is True
    assert [a.sent for a in first.alert_history(key="oracle-down")] == [False, True]


def test_forgotten_send_no_longer_suppresses(store_spec: StoreSpec) -> None:
    first, second = store_spec.open(), store_spec.open()
    assert first.forget("smtp-down") is False
    assert first.should_send("smtp-down", 3600) is True
    assert first.forget("smtp-down") is True
    assert second.should_send("smtp-down", 3600) is True
    assert first.should_send("smtp-down", 3600) is False
    newest, _, oldest = first.alert_history(key="smtp-down")
    assert oldest.sent and oldest.forgotten
    assert newest.sent is False and newest.forgotten is False


def test_prune_removes_old_history_but_never_locked_runs_or_locks(any_store: StateStore) -> None:
    old = datetime.now(timezone.utc) - timedelta(days=40)
    any_store.start_run("job", "old-done", host="h", pid=1, started_at=old)
    any_store.finish_run("old-done", "success", 0, finished_at=old + timedelta(minutes=5))
    any_store.start_run("locked", "old-locked", host="h", pid=1, started_at=old)
    any_store.acquire_lock("locked", owner("old-locked"), None)
    any_store.start_run("job", "recent", host="h", pid=1)

    assert any_store.prune(30).runs == 1
    assert sorted(r.context_id for r in any_store.recent_runs()) == ["old-locked", "recent"]

    any_store.record_health(report(Status.PASS))
    any_store.should_send("an-alert", 60)
    time.sleep(0.05)
    pruned = any_store.prune(0, max_rows=1)  # everything recorded so far is "old"
    assert (pruned.health_results, pruned.alerts) == (1, 1)
    assert any_store.current_lock("locked") is not None


# -- racing processes ------------------------------------------------------------------------


def _race_worker(spec: StoreSpec, worker: int, rounds: int, barrier: Any, results: Any) -> None:
    store = open_store(spec)
    for round_no in range(rounds):
        barrier.wait(timeout=120)
        try:
            acq = store.acquire_lock(f"race-{round_no}", owner(f"w{worker}-r{round_no}"), 3600)
            results.put((round_no, "lock", acq.acquired, acq.lock.owner.context_id))
            sent = store.should_send(f"alert-{round_no}", 3600)
            results.put((round_no, "alert", sent, ""))
            run = store.start_run(f"race-{round_no}", "shared-ctx", host="h", pid=os.getpid())
            results.put((round_no, "run", run.id, ""))
        except Exception as exc:  # reported to the parent, which fails the test
            results.put((round_no, "error", repr(exc), ""))
    barrier.wait(timeout=120)  # winners stay alive until everyone is done


def test_racing_processes_one_lock_winner_one_alert_one_open_run(store_spec: StoreSpec) -> None:
    workers, rounds = 12, 10
    store_spec.open().ping()  # the schema exists before the race (its creation races elsewhere)
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=_race_worker, args=(store_spec, w, rounds, barrier, results))
        for w in range(workers)
    ]
    for proc in procs:
        proc.start()
    seen: dict[tuple[int, str], list[Any]] = defaultdict(list)
    try:
        for _ in range(workers * rounds * 3):
            round_no, kind, value, holder = results.get(timeout=180)
            assert kind != "error", value
            seen[(round_no, kind)].append((value, holder))
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():  # pragma: no cover - only on a hung worker
                proc.kill()
    assert all(proc.exitcode == 0 for proc in procs)
    for round_no in range(rounds):
        locks = seen[(round_no, "lock")]
        winners = [holder for won, holder in locks if won]
        assert len(winners) == 1, locks
        assert {holder for _, holder in locks} == set(winners)  # losers name the winner
        assert sorted(sent for sent, _ in seen[(round_no, "alert")]).count(True) == 1
        assert len({run_id for run_id, _ in seen[(round_no, "run")]}) == 1


def _alert_worker(spec: StoreSpec, keys: list[str], barrier: Any, results: Any) -> None:
    store = open_store(spec)
    barrier.wait(timeout=120)
    results.put([(key, store.should_send(key, 3600)) for key in keys])


def test_twenty_racing_processes_send_each_alert_exactly_once(store_spec: StoreSpec) -> None:
    workers, keys = 20, [f"key-{i}" for i in range(20)]
    store_spec.open().ping()
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=_alert_worker, args=(store_spec, keys, barrier, results))
        for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    sends: dict[str, int] = defaultdict(int)
    try:
        for _ in range(workers):
            for key, sent in results.get(timeout=180):
                sends[key] += sent
    finally:
        for proc in procs:
            proc.join(timeout=60)
    assert dict(sends) == dict.fromkeys(keys, 1)

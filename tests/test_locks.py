"""Run locks across real processes: races, killed holders, leases, ownership."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from gruponos_ext.state import LOCK_HELD, LockOwner, ReclaimReason, RunStatus
from gruponos_ext.state.locks import boot_id, pid_alive, process_identity
from gruponos_ext.state.store import SqliteStateStore
from tests.support.state import dead_pid

HAS_PROC = Path("/proc/self/stat").exists()


class Clock:
    """A settable clock (seconds since the epoch) to drive leases."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "state.db"


# -- racing processes -----------------------------------------------------------


def _race_worker(
    rounds: list[tuple[str, str]],
    worker: int,
    barrier: Any,
    results: Any,
) -> None:
    """Runs in a spawned process: per round, all workers try one (database, job) together."""
    stores: dict[str, SqliteStateStore] = {}
    for round_no, (db, job) in enumerate(rounds):
        store = stores.setdefault(db, SqliteStateStore(db, busy_timeout_s=60))
        owner = LockOwner.current(f"worker{worker}-round{round_no}")
        barrier.wait(timeout=120)
        try:
            acq = store.acquire_lock(job, owner, 3600)
        except Exception as exc:  # reported to the parent, which fails the test
            results.put((round_no, worker, "error", repr(exc), None))
            continue
        reclaimed = acq.reclaimed_from.pid if acq.reclaimed_from else None
        results.put((round_no, worker, acq.acquired, acq.lock.owner.context_id, reclaimed))
    # Stay alive until every worker is done: a dead winner's lock would be stale.
    barrier.wait(timeout=120)


def _race(rounds: list[tuple[str, str]], workers: int) -> dict[int, list[tuple[Any, ...]]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_race_worker, args=(rounds, w, barrier, results)) for w in range(workers)
    ]
    for proc in procs:
        proc.start()
    by_round: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    try:
        for _ in range(workers * len(rounds)):
            item = results.get(timeout=120)
            by_round[item[0]].append(item)
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():  # pragma: no cover - only on a hung worker
                proc.kill()
    assert all(proc.exitcode == 0 for proc in procs)
    assert sorted(by_round) == list(range(len(rounds)))
    for round_no, outcomes in by_round.items():
        assert not [o for o in outcomes if o[2] == "error"], outcomes
        winners = [o for o in outcomes if o[2] is True]
        assert len(winners) == 1, f"round {round_no}: {outcomes}"
        # Every loser was refused in favour of the one winner.
        assert {o[3] for o in outcomes} == {f"worker{winners[0][1]}-round{round_no}"}
    return by_round


def test_racing_processes_have_exactly_one_winner_every_round(db: Path) -> None:
    rounds = 30
    _race([(str(db), f"race-{r}") for r in range(rounds)], workers=4)
    assert len(SqliteStateStore(db).all_locks()) == rounds


def test_racing_processes_opening_a_new_database_all_get_an_answer(tmp_path: Path) -> None:
    # Each round races the creation of a new file: WAL switch, schema, first lock.
    _race([(str(tmp_path / f"db{r}" / "state.db"), "job") for r in range(25)], workers=4)


def test_racing_processes_reclaim_a_dead_holders_lock_exactly_once(db: Path) -> None:
    store = SqliteStateStore(db)
    gone = dead_pid()
    jobs = [f"stale-{r}" for r in range(10)]
    for job in jobs:
        assert store.acquire_lock(job, LockOwner.current(f"dead-{job}", pid=gone), 3600)

    by_round = _race([(str(db), job) for job in jobs], workers=3)

    for outcomes in by_round.values():
        (winner,) = [o for o in outcomes if o[2] is True]
        assert winner[4] == gone  # the winner says whose lock it reclaimed
        assert all(o[4] is None for o in outcomes if o is not winner)


# -- killed holders ---------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import os, sys, time
    from gruponos_ext.state.model import LockOwner
    from gruponos_ext.state.store import SqliteStateStore
    store = SqliteStateStore(sys.argv[1])
    context = sys.argv[2]
    store.start_run("nightly", context, host=store.hostname, pid=os.getpid())
    acquisition = store.acquire_lock("nightly", LockOwner.current(context), 3600)
    print("HOLDER-LOCKED" if acquisition else "HOLDER-REFUSED", flush=True)
    time.sleep(120)
    """
)


@pytest.fixture
def holder(db: Path) -> Iterator[subprocess.Popen[str]]:
    """A real process that holds the ``nightly`` lock and sleeps."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), "ctx-holder"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # structlog may print before the marker
        if line.startswith("HOLDER-"):
            assert line.strip() == "HOLDER-LOCKED"
            break
    else:
        pytest.fail(f"holder exited early with {proc.wait()}")
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


def test_lock_of_a_holder_killed_with_sigkill_is_reclaimed(
    db: Path, holder: subprocess.Popen[str]
) -> None:
    store = SqliteStateStore(db)
    assert not store.acquire_lock("nightly", LockOwner.current("ctx-next"), 3600)

    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()

    acq = store.acquire_lock("nightly", LockOwner.current("ctx-next"), 3600)
    assert acq.acquired
    assert acq.reclaimed_from is not None
    assert acq.reclaimed_from.pid == holder.pid
    assert acq.reclaimed_from.context_id == "ctx-holder"
    assert acq.reclaim_reason is ReclaimReason.PROCESS_GONE
    assert "reclaim" in acq.message and "ctx-holder" in acq.message
    # The dead run is closed as abandoned, not left "running" forever.
    (run_id,) = acq.abandoned_run_ids
    run = store.get_run(run_id)
    assert run is not None and run.status is RunStatus.ABANDONED
    assert store.find_open_run("ctx-holder") is None
    lock = store.current_lock("nightly")
    assert lock is not None and lock.owner.context_id == "ctx-next"


@pytest.mark.skipif(not HAS_PROC, reason="zombie detection reads /proc")
def test_killed_holder_not_yet_reaped_counts_as_gone(
    db: Path, holder: subprocess.Popen[str]
) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    # Not reaped: a zombie still answers kill(pid, 0). Wait until it is one.
    for _ in range(500):
        stat = Path(f"/proc/{holder.pid}/stat").read_text()
        if stat.rpartition(")")[2].split()[0] == "Z":
            break
        os.sched_yield()
    assert not pid_alive(holder.pid)

    acq = SqliteStateStore(db).acquire_lock("nightly", LockOwner.current("ctx-next"), 3600)
    assert acq.acquired and acq.reclaim_reason is ReclaimReason.PROCESS_GONE


def test_live_holder_refusal_names_host_pid_and_since(
    db: Path, holder: subprocess.Popen[str]
) -> None:
    store = SqliteStateStore(db)
    acq = store.acquire_lock("nightly", LockOwner.current("ctx-second"), 3600)

    assert not acq
    assert acq.error_code == LOCK_HELD
    held = store.current_lock("nightly")
    assert held is not None and held.stale is None
    since = held.acquired_at.isoformat(timespec="seconds")
    for part in (store.hostname, f"pid {holder.pid}", since, "ctx-holder", "nightly"):
        assert part in acq.message
    result = acq.to_result()
    assert result.failure and result.error_code == LOCK_HELD
    assert result.error_data["pid"] == holder.pid
    assert result.error_data["host"] == store.hostname
    assert result.error_data["context_id"] == "ctx-holder"
    assert result.error_data["since"] == held.acquired_at.isoformat()
    # The refused attempt changed nothing.
    assert store.current_lock("nightly") == held


# -- leases -----------------------------------------------------------------------


def test_expired_lease_is_reclaimed(db: Path) -> None:
    clock = Clock()
    store = SqliteStateStore(db, clock=clock)
    # The holder is alive (this process): only its lease can free the lock.
    assert store.acquire_lock("job", LockOwner.current("ctx-a"), ttl_s=600)

    clock.now += 599
    assert not store.acquire_lock("job", LockOwner.current("ctx-b"), ttl_s=600)

    clock.now += 1
    acq = store.acquire_lock("job", LockOwner.current("ctx-b"), ttl_s=600)
    assert acq.acquired
    assert acq.reclaim_reason is ReclaimReason.EXPIRED
    assert acq.reclaimed_from is not None and acq.reclaimed_from.context_id == "ctx-a"
    assert acq.lock.expires_at == datetime.fromtimestamp(clock.now + 600, timezone.utc)


def test_lock_without_lease_never_expires(db: Path) -> None:
    clock = Clock()
    store = SqliteStateStore(db, clock=clock)
    assert store.acquire_lock("job", LockOwner.current("ctx-a"), ttl_s=None)
    clock.now += 10 * 365 * 86400
    assert not store.acquire_lock("job", LockOwner.current("ctx-b"), ttl_s=0)


def test_lock_from_another_host_is_freed_only_by_its_lease(db: Path) -> None:
    clock = Clock()
    store = SqliteStateStore(db, clock=clock)
    remote = LockOwner("ctx-remote", "worker-7", dead_pid(), datetime.now(timezone.utc))
    assert store.acquire_lock("job", remote, ttl_s=60)

    # That pid means nothing on this host: it must not be checked here.
    refused = store.acquire_lock("job", LockOwner.current("ctx-local"), ttl_s=60)
    assert not refused and "worker-7" in refused.message

    clock.now += 60
    acq = store.acquire_lock("job", LockOwner.current("ctx-local"), ttl_s=60)
    assert acq.reclaim_reason is ReclaimReason.EXPIRED and acq.reclaimed_from == remote


def test_refresh_lock_extends_the_lease_of_its_owner_only(db: Path) -> None:
    clock = Clock()
    store = SqliteStateStore(db, clock=clock)
    assert store.acquire_lock("job", LockOwner.current("ctx-a"), ttl_s=100)

    clock.now += 90
    assert store.refresh_lock("job", "ctx-a", 100)
    assert not store.refresh_lock("job", "ctx-other", 1_000_000)

    clock.now += 90  # 180 s after acquisition, 90 s after the refresh
    assert not store.acquire_lock("job", LockOwner.current("ctx-b"), ttl_s=100)
    clock.now += 10
    assert store.acquire_lock("job", LockOwner.current("ctx-b"), ttl_s=100).reclaim_reason is (
        ReclaimReason.EXPIRED
    )


# -- process identity ---------------------------------------------------------------


def _set_identity(db: Path, job: str, identity: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE locks SET process_identity = ? WHERE job = ?", (identity, job))
    conn.close()


@pytest.mark.skipif(not HAS_PROC, reason="process identity reads /proc")
def test_alive_pid_of_a_later_process_does_not_keep_the_lock(db: Path) -> None:
    store = SqliteStateStore(db)
    assert store.acquire_lock("job", LockOwner.current("ctx-old"), 3600)
    # The recorded holder started at another time: this pid was recycled.
    current = process_identity(os.getpid())
    assert current is not None
    _set_identity(db, "job", current.rpartition(":")[0] + ":1")

    lock = store.current_lock("job")
    assert lock is not None and lock.stale is ReclaimReason.PID_REUSED
    acq = store.acquire_lock("job", LockOwner.current("ctx-new"), 3600)
    assert acq.acquired and acq.reclaim_reason is ReclaimReason.PID_REUSED


@pytest.mark.skipif(not HAS_PROC, reason="boot id reads /proc")
def test_lock_taken_before_a_reboot_is_stale(db: Path) -> None:
    store = SqliteStateStore(db)
    assert store.acquire_lock("job", LockOwner.current("ctx-old"), 3600)
    assert boot_id() is not None
    _set_identity(db, "job", "00000000-0000-0000-0000-000000000000:12345")

    acq = store.acquire_lock("job", LockOwner.current("ctx-new"), 3600)
    assert acq.acquired and acq.reclaim_reason is ReclaimReason.HOST_REBOOTED


def test_pid_liveness_follows_kill_zero_semantics() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())
    # 0 and negative pids address process groups: never "alive".
    assert not pid_alive(0)
    assert not pid_alive(-1)


def test_pid_of_another_users_process_counts_as_alive() -> None:
    if os.geteuid() != 0:
        assert pid_alive(1)  # init belongs to root: kill(1, 0) gives EPERM
        return
    # As root kill() never says EPERM; ask from a child that dropped to nobody.
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    gone = dead_pid()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            try:
                os.kill(parent, 0)
                eperm = False
            except PermissionError:
                eperm = True
            answer = f"{int(eperm)}{int(pid_alive(parent))}{int(pid_alive(gone))}"
            os.write(write_fd, answer.encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    answer = os.read(read_fd, 16).decode()
    os.close(read_fd)
    os.waitpid(child, 0)
    assert answer == "110"  # EPERM seen, yet alive; a gone pid is still dead


# -- ownership ------------------------------------------------------------------------


def test_release_by_a_non_owner_is_refused_and_keeps_the_lock(db: Path) -> None:
    store = SqliteStateStore(db)
    acq = store.acquire_lock("job", LockOwner.current("ctx-a"), 3600)

    assert store.release_lock("job", "ctx-b") is False
    assert store.current_lock("job") == acq.lock
    assert store.release_lock("job", "ctx-a") is True
    assert store.current_lock("job") is None


def test_release_is_idempotent(db: Path) -> None:
    store = SqliteStateStore(db)
    assert store.release_lock("never-locked", "ctx") is False
    store.acquire_lock("job", LockOwner.current("ctx"), 3600)
    assert store.release_lock("job", "ctx") is True
    assert store.release_lock("job", "ctx") is False


def test_release_locks_for_context_releases_only_that_contexts_locks(db: Path) -> None:
    store = SqliteStateStore(db)
    for job in ("b-job", "a-job"):
        store.acquire_lock(job, LockOwner.current("ctx-1"), 3600)
    store.acquire_lock("other", LockOwner.current("ctx-2"), 3600)

    assert store.release_locks_for_context("ctx-1") == ("a-job", "b-job")
    assert store.release_locks_for_context("ctx-1") == ()
    assert [lock.job for lock in store.all_locks()] == ["other"]


def test_same_context_reacquires_without_refusal_and_renews_lease(db: Path) -> None:
    clock = Clock()
    store = SqliteStateStore(db, clock=clock)
    first = store.acquire_lock("job", LockOwner.current("ctx"), ttl_s=100)
    clock.now += 50

    again = store.acquire_lock("job", LockOwner.current("ctx", pid=1), ttl_s=100)
    assert again.acquired and again.already_held and again.reclaimed_from is None
    # The original owner stays; only the lease moved on.
    assert again.lock.owner == first.lock.owner
    assert again.lock.expires_at == datetime.fromtimestamp(clock.now + 100, timezone.utc)


def test_break_lock_removes_any_holders_lock(db: Path) -> None:
    store = SqliteStateStore(db)
    acq = store.acquire_lock("job", LockOwner.current("ctx"), 3600)
    assert store.break_lock("job") == acq.lock
    assert store.break_lock("job") is None
    assert store.acquire_lock("job", LockOwner.current("ctx-2"), 3600).reclaimed_from is None


def test_invalid_lease_is_rejected(db: Path) -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        SqliteStateStore(db).acquire_lock("job", LockOwner.current("ctx"), -1)

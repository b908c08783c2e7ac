"""The SQLite state store: schema, runs, health, alert de-duplication, retention, errors."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.health.model import CheckResult, HealthReport, Status
from gruponos_ext.state import (
    AlertDeduplicator,
    LockOwner,
    RunStatus,
    StateStore,
    StateStoreError,
)
from gruponos_ext.state.store import SCHEMA_VERSION, SqliteStateStore

DAY = 86400.0


class Clock:
    """A settable clock (seconds since the epoch)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def at(self, offset_s: float = 0.0) -> datetime:
        return datetime.fromtimestamp(self.now + offset_s, timezone.utc)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "meltano" / "gruponos-infra" / "state.db"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db: Path, clock: Clock) -> SqliteStateStore:
    return SqliteStateStore(db, clock=clock)


def start(store: SqliteStateStore, job: str, ctx: str, **kw: Any) -> Any:
    return store.start_run(job, ctx, host="host-a", pid=4242, **kw)


def make_report(*statuses: Status, when: datetime | None = None) -> HealthReport:
    when = when or datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    results = tuple(
        CheckResult(f"check{i}:probe", s, f"{s.value} message", 0.01 * (i + 1), when)
        for i, s in enumerate(statuses)
    )
    return HealthReport.aggregate(results, 0.5, when)


# -- opening ------------------------------------------------------------------------


def test_constructor_opens_nothing(db: Path) -> None:
    SqliteStateStore(db)
    assert not db.parent.exists()


def test_first_use_creates_directory_wal_database_and_versioned_schema(
    store: SqliteStateStore, db: Path
) -> None:
    store.ping()

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert {"runs", "locks", "health_results", "alerts"} <= tables


def test_sqlite_store_satisfies_the_protocols(store: SqliteStateStore) -> None:
    assert isinstance(store, StateStore)
    assert isinstance(store, AlertDeduplicator)


def test_importing_the_state_package_does_not_import_sqlite3() -> None:
    import subprocess
    import sys

    code = (
        "import sys, gruponos_ext.state; assert 'sqlite3' not in sys.modules; "
        "gruponos_ext.state.SqliteStateStore; assert 'sqlite3' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- runs ---------------------------------------------------------------------------


def test_run_lifecycle_from_start_to_finish(store: SqliteStateStore, clock: Clock) -> None:
    run = start(store, "nightly", "ctx-1")
    assert run.status is RunStatus.RUNNING and run.finished_at is None
    assert run.started_at == clock.at()
    assert store.find_open_run("ctx-1") == run

    clock.now += 75
    (done,) = store.finish_run("ctx-1", "success", 0, "all good")

    assert done.id == run.id
    assert done.status is RunStatus.SUCCESS
    assert (done.exit_code, done.message, done.duration_s) == (0, "all good", 75.0)
    assert store.find_open_run("ctx-1") is None
    assert store.get_run(run.id) == done


def test_finishing_twice_is_harmless(store: SqliteStateStore) -> None:
    run = start(store, "nightly", "ctx-1")
    assert store.finish_run(run.id, RunStatus.FAILED, 2, "tap failed")
    assert store.finish_run(run.id, RunStatus.SUCCESS, 0) == ()
    assert store.finish_run("ctx-1", RunStatus.SUCCESS, 0) == ()
    assert store.get_run(run.id).status is RunStatus.FAILED  # type: ignore[union-attr]


def test_start_run_is_idempotent_while_the_run_is_open(store: SqliteStateStore) -> None:
    first = start(store, "nightly", "ctx-1")
    assert start(store, "nightly", "ctx-1") == first
    store.finish_run(first.id, "success", 0)
    assert start(store, "nightly", "ctx-1").id != first.id


def test_finish_by_context_can_be_limited_to_one_job(store: SqliteStateStore) -> None:
    # One `meltano run job-a job-b` shares a single context id.
    a = start(store, "job-a", "ctx")
    b = start(store, "job-b", "ctx")
    (finished,) = store.finish_run("ctx", "success", 0, job="job-a")
    assert finished.id == a.id
    assert store.find_open_run("ctx") == b
    assert store.find_open_run("ctx", job="job-a") is None


def test_finish_needs_a_final_status(store: SqliteStateStore) -> None:
    start(store, "nightly", "ctx")
    with pytest.raises(ValueError, match="final status"):
        store.finish_run("ctx", "running")
    with pytest.raises(ValueError):
        store.finish_run("ctx", "exploded")


def test_recent_runs_newest_first_filtered_and_limited(
    store: SqliteStateStore, clock: Clock
) -> None:
    for i in range(5):
        clock.now += 10
        start(store, "a" if i % 2 == 0 else "b", f"ctx-{i}")
    assert [r.context_id for r in store.recent_runs()] == [f"ctx-{i}" for i in (4, 3, 2, 1, 0)]
    assert [r.context_id for r in store.recent_runs("a")] == ["ctx-4", "ctx-2", "ctx-0"]
    assert [r.context_id for r in store.recent_runs(limit=2)] == ["ctx-4", "ctx-3"]


def test_last_success_is_the_latest_successful_run_not_the_latest_run(
    store: SqliteStateStore, clock: Clock
) -> None:
    assert store.last_success("nightly") is None
    for ctx, status in (("c1", "success"), ("c2", "success"), ("c3", "failed")):
        clock.now += 60
        start(store, "nightly", ctx)
        store.finish_run(ctx, status, 0 if status == "success" else 1)
    start(store, "other", "c4")
    store.finish_run("c4", "success", 0)

    last = store.last_success("nightly")
    assert last is not None and last.context_id == "c2"


def test_long_messages_are_clipped_keeping_the_tail(store: SqliteStateStore) -> None:
    start(store, "nightly", "ctx")
    (run,) = store.finish_run("ctx", "failed", 1, "x" * 10_000 + "THE-END")
    assert len(run.message) <= 4000 and run.message.endswith("THE-END")


def test_one_store_shared_by_threads_records_every_run(store: SqliteStateStore) -> None:
    def work(t: int) -> None:
        for i in range(15):
            run = start(store, "job", f"t{t}-{i}")
            store.finish_run(run.id, "success", 0)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runs = store.recent_runs(limit=1000)
    assert len(runs) == 90 == len({r.id for r in runs})
    assert all(r.status is RunStatus.SUCCESS for r in runs)


# -- health -------------------------------------------------------------------------


def test_health_reports_round_trip(store: SqliteStateStore) -> None:
    report = make_report(Status.PASS, Status.FAIL)
    first = store.record_health(report)
    second = store.record_health(make_report(Status.WARN), job="nightly")

    latest, earlier = store.recent_health(10)
    assert (latest.id, earlier.id) == (second, first)
    assert latest.job == "nightly" and latest.status == "warn"
    assert earlier.job is None and earlier.status == "fail"
    assert earlier.time == report.time and earlier.duration_s == 0.5
    assert [(c.name, c.status, c.message) for c in earlier.checks] == [
        ("check0:probe", "pass", "pass message"),
        ("check1:probe", "fail", "fail message"),
    ]
    assert [h.id for h in store.recent_health(10, job="nightly")] == [second]
    assert earlier.to_dict()["checks"][1]["status"] == "fail"


# -- alert de-duplication -------------------------------------------------------------


def test_dedup_window_is_shared_by_two_stores_on_one_file(db: Path, clock: Clock) -> None:
    # Two instances stand for two processes: they share only the file.
    first, second = SqliteStateStore(db, clock=clock), SqliteStateStore(db, clock=clock)

    assert first.should_send("oracle-down", 3600) is True
    assert second.should_send("oracle-down", 3600) is False
    assert second.should_send("wms-down", 3600) is True
    clock.now += 3599
    assert first.should_send("oracle-down", 3600) is False
    clock.now += 1
    assert second.should_send("oracle-down", 3600) is True

    history = first.alert_history(key="oracle-down")
    assert [a.sent for a in history] == [True, False, False, True]
    assert [a.key for a in first.alert_history(1)] == ["oracle-down"]


def test_zero_window_never_suppresses(store: SqliteStateStore) -> None:
    assert all(store.should_send("k", 0) for _ in range(3))


def _dedup_worker(db: str, barrier: Any, results: Any) -> None:
    store = SqliteStateStore(db, busy_timeout_s=60)
    for round_no in range(10):
        barrier.wait(timeout=120)
        results.put((round_no, store.should_send(f"alert-{round_no}", 3600)))


def test_racing_processes_send_an_alert_exactly_once(db: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    workers = 3
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=_dedup_worker, args=(str(db), barrier, results)) for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    decisions: dict[int, list[bool]] = {}
    for _ in range(workers * 10):
        round_no, sent = results.get(timeout=120)
        decisions.setdefault(round_no, []).append(sent)
    for proc in procs:
        proc.join(timeout=30)
    assert all(proc.exitcode == 0 for proc in procs)
    assert {r: sorted(d) for r, d in decisions.items()} == {
        r: [False] * (workers - 1) + [True] for r in range(10)
    }


# -- retention ----------------------------------------------------------------------


def test_prune_removes_only_history_older_than_retention(
    store: SqliteStateStore, clock: Clock
) -> None:
    old = clock.at(-40 * DAY)
    start(store, "job", "old-done", started_at=old)
    store.finish_run("old-done", "success", 0, finished_at=old + timedelta(minutes=5))
    start(store, "job", "old-orphan", started_at=old)  # died, lock long gone
    start(store, "locked", "old-locked", started_at=old)
    store.acquire_lock("locked", LockOwner.current("old-locked"), None)
    start(store, "job", "recent", started_at=clock.at(-1 * DAY))
    clock.now -= 40 * DAY
    store.record_health(make_report(Status.PASS))
    store.should_send("old-alert", 60)
    clock.now += 40 * DAY
    fresh_health = store.record_health(make_report(Status.PASS))
    store.should_send("new-alert", 60)

    result = store.prune(30)

    assert (result.runs, result.health_results, result.alerts) == (2, 1, 1)
    assert sorted(r.context_id for r in store.recent_runs()) == ["old-locked", "recent"]
    assert [h.id for h in store.recent_health()] == [fresh_health]
    assert [a.key for a in store.alert_history()] == ["new-alert"]
    assert store.current_lock("locked") is not None  # locks are never pruned
    assert store.prune(30).total == 0


def test_prune_is_bounded_per_call_and_catches_up(store: SqliteStateStore, clock: Clock) -> None:
    clock.now -= 100 * DAY
    for i in range(7):
        store.should_send(f"k{i}", 0)
    clock.now += 100 * DAY

    assert store.prune(30, max_rows=3).alerts == 3
    assert store.prune(30, max_rows=3).alerts == 3
    assert store.prune(30, max_rows=3).alerts == 1


def test_start_run_prunes_opportunistically(db: Path, clock: Clock) -> None:
    store = SqliteStateStore(db, clock=clock, retention_days=30)
    clock.now -= 31 * DAY
    store.should_send("ancient", 0)
    clock.now += 31 * DAY

    start(store, "job", "ctx")
    assert store.alert_history() == []


# -- errors -------------------------------------------------------------------------


def test_directory_under_a_regular_file_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    path = blocker / "gruponos-infra" / "state.db"

    with pytest.raises(StateStoreError) as info:
        SqliteStateStore(path).start_run("job", "ctx", host="h", pid=1)

    error = info.value
    assert isinstance(error, GruponosError)
    assert error.code == "STATE_STORE_ERROR"
    assert error.reason == "unwritable"
    assert str(path) in str(error) and "state_dir" in str(error)
    assert error.details["path"] == str(path)


def test_corrupted_database_file_is_named_in_the_error(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database, just some bytes " * 200)

    with pytest.raises(StateStoreError) as info:
        SqliteStateStore(db).recent_runs()

    assert info.value.reason == "corrupt"
    assert str(db) in str(info.value) and "move it aside" in str(info.value)
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


def test_corruption_found_after_opening_is_reported_too(db: Path) -> None:
    store = SqliteStateStore(db)
    store.ping()
    db.write_bytes(b"\0garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)

    with pytest.raises(StateStoreError) as info:
        store.acquire_lock("job", LockOwner.current("ctx"), 60)
    assert info.value.reason == "corrupt" and str(db) in str(info.value)


def test_database_locked_beyond_busy_timeout_fails_with_locked(db: Path) -> None:
    store = SqliteStateStore(db, busy_timeout_s=0.3)
    store.ping()
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        began = time.monotonic()
        with pytest.raises(StateStoreError) as info:
            store.acquire_lock("job", LockOwner.current("ctx"), 60)
        waited = time.monotonic() - began
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    assert info.value.reason == "locked" and "busy timeout (0.3s)" in str(info.value)
    assert waited >= 0.25  # it did wait for the other writer first
    # Readers are not blocked by a writer in WAL mode, and the store recovers.
    assert store.all_locks() == []
    assert store.acquire_lock("job", LockOwner.current("ctx"), 60)


def test_database_from_a_newer_version_is_refused(db: Path) -> None:
    SqliteStateStore(db).ping()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()

    with pytest.raises(StateStoreError) as info:
        SqliteStateStore(db).ping()
    assert info.value.reason == "schema" and "upgrade" in str(info.value)


def test_store_is_usable_in_a_forked_child(store: SqliteStateStore) -> None:
    store.ping()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            store.start_run("forked", "ctx-child", host="h", pid=os.getpid())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert store.find_open_run("ctx-child") is not None


def test_forgotten_send_no_longer_suppresses_the_next_alert(db: Path, clock: Clock) -> None:
    first, second = SqliteStateStore(db, clock=clock), SqliteStateStore(db, clock=clock)
    assert first.forget("smtp-down") is False  # nothing sent yet

    assert first.should_send("smtp-down", 3600) is True
    assert first.forget("smtp-down") is True  # it reached no channel
    assert second.should_send("smtp-down", 3600) is True
    assert first.should_send("smtp-down", 3600) is False

    newest, _, oldest = first.alert_history(key="smtp-down")
    assert oldest.sent and oldest.forgotten
    assert newest.sent is False and newest.forgotten is False


def test_sqlite_store_fits_the_alert_managers_deduplicator(store: SqliteStateStore) -> None:
    alerts = pytest.importorskip("gruponos_ext.services.alerts")
    assert isinstance(store, alerts.ForgettingDeduplicator)


def test_another_applications_database_is_left_untouched(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, state TEXT)")  # like meltano.db
    conn.commit()
    conn.close()

    with pytest.raises(StateStoreError) as info:
        SqliteStateStore(db).recent_runs()

    assert info.value.reason == "schema" and "not a gruponos-infra state database" in str(
        info.value
    )
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()

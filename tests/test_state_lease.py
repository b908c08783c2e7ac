"""LeaseKeeper: the heartbeat a lock holder (guard) runs, on both stores."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from gruponos_ext.state import LockLoss, LockOwner, StateStore
from gruponos_ext.state.lease import LeaseKeeper
from gruponos_ext.state.postgres import PostgresStateStore
from tests.support.state import StoreSpec


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_heartbeats_keep_the_lock_and_report_it_lost_once_taken(any_store: StateStore) -> None:
    held = any_store.acquire_lock("job", LockOwner.current("ctx-a"), 0.6)
    keeper = LeaseKeeper(any_store, "job", "ctx-a", 0.6, fence=held.lock.fence)
    assert keeper.interval == pytest.approx(0.2)
    for _ in range(3):  # renewing past the lease keeps it
        time.sleep(0.3)
        renewal = keeper.renew()
        assert renewal and renewal.error is None
    assert not any_store.acquire_lock("job", LockOwner.current("ctx-b"), 60)

    time.sleep(1.0)  # frozen past the lease: another run takes over
    assert any_store.acquire_lock("job", LockOwner.current("ctx-b"), 60)
    lost = keeper.renew()
    assert not lost and lost.lost is LockLoss.TAKEN and keeper.lost == lost
    assert keeper.renew() is lost  # lost stays lost, without asking the store again


def _break(spec: StoreSpec, store: StateStore) -> StateStore:
    """A store that can no longer be reached: the file replaced, or a port that refuses."""
    if spec.kind == "sqlite":
        path = Path(spec.path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.mkdir()
        return store
    from tests.support.net import free_port

    return PostgresStateStore(f"postgresql://etl:pw-secret@127.0.0.1:{free_port()}/db", timeout_s=2)


def test_an_unreachable_store_keeps_the_lock_until_the_last_lease_then_reports_it_lost(
    store_spec: StoreSpec,
) -> None:
    store = store_spec.open()
    held = store.acquire_lock("job", LockOwner.current("ctx"), 60)
    clock = Clock()
    broken = _break(store_spec, store)
    keeper = LeaseKeeper(broken, "job", "ctx", 60, fence=held.lock.fence, clock=clock)

    clock.now += 59
    unconfirmed = keeper.renew()
    assert unconfirmed and unconfirmed.error and "not renewed" in unconfirmed.message
    clock.now += 1
    lost = keeper.renew()
    assert not lost and lost.lost is LockLoss.UNCONFIRMED
    assert "could not renew" in lost.message and "pw-secret" not in lost.message
    if store_spec.kind == "sqlite":
        shutil.rmtree(store_spec.path)


def test_a_lease_keeper_needs_a_lease(any_store: StateStore) -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        LeaseKeeper(any_store, "job", "ctx", 0)

"""Run state: runs, run locks, health results and alert history.

The records and the :class:`StateStore` interface import nothing heavy;
:class:`SqliteStateStore` (and with it ``sqlite3``) and
:class:`PostgresStateStore` (and with it ``psycopg``) load on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext._lazy import lazy_exports
from gruponos_ext.state.model import (
    DEFAULT_PRUNE_BATCH,
    LOCK_HELD,
    AlertRecord,
    HealthCheckRecord,
    HealthRecord,
    LeaseRenewal,
    LockAcquisition,
    LockInfo,
    LockLoss,
    LockOwner,
    PruneResult,
    ReclaimReason,
    RunRecord,
    RunStatus,
    StateStoreError,
)
from gruponos_ext.state.protocol import AlertDeduplicator, StateStore

if TYPE_CHECKING:
    from gruponos_ext.state.postgres import PostgresStateStore
    from gruponos_ext.state.sqlite import SqliteStateStore

__all__ = [
    "DEFAULT_PRUNE_BATCH",
    "LOCK_HELD",
    "AlertDeduplicator",
    "AlertRecord",
    "HealthCheckRecord",
    "HealthRecord",
    "LeaseRenewal",
    "LockAcquisition",
    "LockInfo",
    "LockLoss",
    "LockOwner",
    "PostgresStateStore",
    "PruneResult",
    "ReclaimReason",
    "RunRecord",
    "RunStatus",
    "SqliteStateStore",
    "StateStore",
    "StateStoreError",
]


__getattr__ = lazy_exports(
    __name__, {"SqliteStateStore": ".sqlite", "PostgresStateStore": ".postgres"}
)

"""Retention of both stores: ``prune`` deletes old history in bounded batches.

Runs go by their end (or start, if never finished); a run whose lock is
still held is kept whatever its age, and locks are never touched. Oldest
rows go first, so repeated calls catch up. Each store supplies the cutoff by
its own clock (:meth:`StoreHousekeeping._cutoff`) and the pruning of tables
only it has (:meth:`StoreHousekeeping._prune_more`).
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Any

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.common.base import C, StoreBase
from gruponos_ext.state.model import DEFAULT_PRUNE_BATCH, PruneResult

__all__ = ["StoreHousekeeping"]

_log = get_logger("gruponos_ext.state")

# Each deletes at most %(max)s rows older than %(cutoff)s, oldest first.
_PRUNE_RUNS = (
    "DELETE FROM {s}.runs WHERE id IN (SELECT id FROM {s}.runs r"
    " WHERE COALESCE(r.finished_at, r.started_at) < %(cutoff)s"
    " AND NOT EXISTS (SELECT 1 FROM {s}.locks l"
    "  WHERE l.job = r.job AND l.context_id = r.context_id)"
    " ORDER BY r.id LIMIT %(max)s)"
)
_PRUNE_HEALTH = (
    "DELETE FROM {s}.health_results WHERE id IN (SELECT id FROM {s}.health_results"
    " WHERE recorded_at < %(cutoff)s ORDER BY id LIMIT %(max)s)"
)
_PRUNE_ALERTS = (
    "DELETE FROM {s}.alerts WHERE id IN (SELECT id FROM {s}.alerts"
    " WHERE at < %(cutoff)s ORDER BY id LIMIT %(max)s)"
)


class StoreHousekeeping(StoreBase[C]):
    """``prune`` of :class:`~gruponos_ext.state.protocol.StateStore`."""

    @abstractmethod
    def _cutoff(self, conn: C, retention_days: float) -> float | datetime:
        """The store's time ``retention_days`` ago."""

    @abstractmethod
    def _prune_more(self, conn: C, params: dict[str, Any]) -> None:
        """Prune what only this store keeps (``params``: ``cutoff`` and ``max``)."""

    def prune(self, retention_days: float, *, max_rows: int = DEFAULT_PRUNE_BATCH) -> PruneResult:
        """Delete history older than ``retention_days``, at most ``max_rows`` per table."""
        if retention_days < 0:
            raise ValueError(f"retention_days must be >= 0, got {retention_days}")
        with self._transaction("prune") as conn:
            p = {"cutoff": self._cutoff(conn, retention_days), "max": max_rows}
            result = PruneResult(
                runs=conn.execute(self.sql(_PRUNE_RUNS), p).rowcount,
                health_results=conn.execute(self.sql(_PRUNE_HEALTH), p).rowcount,
                alerts=conn.execute(self.sql(_PRUNE_ALERTS), p).rowcount,
            )
            self._prune_more(conn, p)
        if result.total:
            _log.info(
                "state_pruned",
                runs=result.runs,
                health_results=result.health_results,
                alerts=result.alerts,
                retention_days=retention_days,
            )
        return result

"""Retention and self-checks of the SQLite store: ``prune``, ``ping``, ``close``."""

from __future__ import annotations

import sqlite3

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.model import DEFAULT_PRUNE_BATCH, PruneResult
from gruponos_ext.state.rows import log_pruned
from gruponos_ext.state.sqlite.database import SqliteDatabase, rollback
from gruponos_ext.state.sqlite.schema import SCHEMA_VERSION

__all__ = ["SqliteHousekeeping"]

_log = get_logger("gruponos_ext.state.store")


class SqliteHousekeeping(SqliteDatabase):
    """Bounded retention and the store's own health."""

    def prune(self, retention_days: float, *, max_rows: int = DEFAULT_PRUNE_BATCH) -> PruneResult:
        """Delete history older than ``retention_days``, at most ``max_rows`` per table.

        Runs go by their end (or start, if never finished); a run whose
        lock is still held is kept whatever its age, and locks are never
        touched. Oldest rows go first, so repeated calls catch up.
        """
        if retention_days < 0:
            raise ValueError(f"retention_days must be >= 0, got {retention_days}")
        with self._transaction("prune") as conn:
            cutoff = self.now() - retention_days * 86400.0
            runs = conn.execute(
                "DELETE FROM runs WHERE id IN (SELECT id FROM runs r"
                " WHERE COALESCE(r.finished_at, r.started_at) < ?"
                " AND NOT EXISTS (SELECT 1 FROM locks l"
                "  WHERE l.job = r.job AND l.context_id = r.context_id)"
                " ORDER BY r.id LIMIT ?)",
                (cutoff, max_rows),
            ).rowcount
            health = conn.execute(
                "DELETE FROM health_results WHERE id IN (SELECT id FROM health_results"
                " WHERE recorded_at < ? ORDER BY id LIMIT ?)",
                (cutoff, max_rows),
            ).rowcount
            alerts = conn.execute(
                "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts"
                " WHERE at < ? ORDER BY id LIMIT ?)",
                (cutoff, max_rows),
            ).rowcount
        return log_pruned(
            PruneResult(runs=runs, health_results=health, alerts=alerts), retention_days
        )

    def ping(self) -> str:
        """Open the database (creating it if needed), check it, and try a write.

        ``PRAGMA quick_check`` must say ``ok`` and a write transaction must
        be possible (it is rolled back): a corrupt, read-only or busy file
        raises ``StateStoreError``. Returns what was checked, for people.
        """
        self._ensure_ready("ping")
        conn = self._open("ping")
        try:
            verdict = [str(r[0]) for r in conn.execute("PRAGMA quick_check(5)")]
            if verdict != ["ok"]:
                raise self._refusal(
                    f"state database {self._path} failed its integrity check "
                    f"({'; '.join(verdict)[:300]}); move it aside (with its -wal and -shm "
                    "files) and restore a backup or start a new history",
                    "ping",
                    "corrupt",
                )
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")  # a real write, undone
            rows = int(conn.execute("SELECT COUNT(*) FROM locks").fetchone()[0])
            conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            rollback(conn)
            raise self._error(exc, "ping") from exc
        finally:
            conn.close()
        return (
            f"SQLite {self._path}: quick_check ok, writable, schema v{SCHEMA_VERSION}, "
            f"{rows} lock(s) held"
        )

    def close(self) -> None:
        """Nothing to release: connections live for one operation."""

"""Retention and self-checks of the PostgreSQL store: ``prune``, ``ping``, ``close``."""

from __future__ import annotations

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.model import DEFAULT_PRUNE_BATCH, PruneResult
from gruponos_ext.state.postgres.database import PostgresDatabase
from gruponos_ext.state.postgres.schema import SCHEMA_VERSION
from gruponos_ext.state.rows import log_pruned

__all__ = ["PostgresHousekeeping"]

_log = get_logger("gruponos_ext.state.postgres")

_CUTOFF = "clock_timestamp() - make_interval(days => 0, secs => %(days)s * 86400.0)"


class PostgresHousekeeping(PostgresDatabase):
    """Bounded retention and the store's own health."""

    def prune(self, retention_days: float, *, max_rows: int = DEFAULT_PRUNE_BATCH) -> PruneResult:
        """Delete history older than ``retention_days`` (server time), ``max_rows`` per table.

        Runs whose lock is still held are kept; locks are never touched.
        """
        if retention_days < 0:
            raise ValueError(f"retention_days must be >= 0, got {retention_days}")
        p = {"days": float(retention_days), "max": max_rows}
        with self._transaction("prune") as conn:
            runs = conn.execute(
                self.t(
                    "DELETE FROM {s}.runs WHERE id IN (SELECT id FROM {s}.runs r"
                    f" WHERE COALESCE(r.finished_at, r.started_at) < {_CUTOFF}"
                    " AND NOT EXISTS (SELECT 1 FROM {s}.locks l"
                    "  WHERE l.job = r.job AND l.context_id = r.context_id)"
                    " ORDER BY r.id LIMIT %(max)s)"
                ),
                p,
            ).rowcount
            health = conn.execute(
                self.t(
                    "DELETE FROM {s}.health_results WHERE id IN (SELECT id FROM"
                    f" {{s}}.health_results WHERE recorded_at < {_CUTOFF}"
                    " ORDER BY id LIMIT %(max)s)"
                ),
                p,
            ).rowcount
            alerts = conn.execute(
                self.t(
                    "DELETE FROM {s}.alerts WHERE id IN (SELECT id FROM {s}.alerts"
                    f" WHERE at < {_CUTOFF} ORDER BY id LIMIT %(max)s)"
                ),
                p,
            ).rowcount
            # A key's decision state goes once its window and the retention are both over.
            conn.execute(
                self.t(
                    f"DELETE FROM {{s}}.alert_state WHERE last_sent < {_CUTOFF}"
                    " AND last_sent + make_interval(secs => window_s) < clock_timestamp()"
                ),
                p,
            )
        return log_pruned(
            PruneResult(runs=runs, health_results=health, alerts=alerts), retention_days
        )

    def ping(self) -> str:
        """Connect, make sure our schema is there and current, and make a round trip."""
        with self._transaction("ping", write=False) as conn:
            row = conn.execute(
                self.t(
                    "SELECT current_setting('server_version') AS version,"
                    " (SELECT count(*) FROM {s}.locks) AS locks"
                )
            ).fetchone()
        version = row["version"] if row else "?"
        locks = int(row["locks"]) if row else 0
        return (
            f"PostgreSQL {version} at {self.location}: schema {self.schema} "
            f"v{SCHEMA_VERSION}, {locks} lock(s) held"
        )

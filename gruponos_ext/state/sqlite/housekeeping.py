"""Retention and self-checks of the SQLite store: the prune cutoff, ``ping``, ``close``."""

from __future__ import annotations

import sqlite3
from typing import Any

from gruponos_ext.state.common.housekeeping import StoreHousekeeping
from gruponos_ext.state.sqlite.database import SqliteDatabase, rollback
from gruponos_ext.state.sqlite.schema import SCHEMA_VERSION

__all__ = ["SqliteHousekeeping"]


class SqliteHousekeeping(StoreHousekeeping[sqlite3.Connection], SqliteDatabase):
    """Retention by this store's clock, and the store's own health."""

    def _cutoff(self, conn: sqlite3.Connection, retention_days: float) -> float:
        """This store's clock minus ``retention_days``, in seconds since the epoch."""
        return self.now() - retention_days * 86400.0

    def _prune_more(self, conn: sqlite3.Connection, params: dict[str, Any]) -> None:
        """Nothing: the alert decisions live in ``alerts`` only."""

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

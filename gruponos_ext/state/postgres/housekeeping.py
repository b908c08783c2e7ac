"""Retention and self-checks of the PostgreSQL store: the prune cutoff, ``ping``, ``close``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gruponos_ext.state.common.housekeeping import StoreHousekeeping
from gruponos_ext.state.postgres.database import PgConnection, PostgresDatabase
from gruponos_ext.state.postgres.schema import SCHEMA_VERSION

__all__ = ["PostgresHousekeeping"]


class PostgresHousekeeping(StoreHousekeeping[PgConnection], PostgresDatabase):
    """Retention by the server's clock, and the store's own health."""

    def _cutoff(self, conn: PgConnection, retention_days: float) -> datetime:
        """The server's ``clock_timestamp()`` minus ``retention_days``."""
        row = conn.execute(
            "SELECT clock_timestamp() - make_interval(secs => %s) AS cutoff",
            (retention_days * 86400.0,),
        ).fetchone()
        assert row is not None  # a SELECT without FROM returns one row
        cutoff: datetime = row["cutoff"]
        return cutoff

    def _prune_more(self, conn: PgConnection, params: dict[str, Any]) -> None:
        """A key's decision state goes once its window and the retention are both over."""
        conn.execute(
            self.sql(
                "DELETE FROM {s}.alert_state WHERE last_sent < %(cutoff)s"
                " AND last_sent + make_interval(secs => window_s) < clock_timestamp()"
            ),
            params,
        )

    def ping(self) -> str:
        """Connect, make sure our schema is there and current, and make a round trip."""
        with self._transaction("ping", write=False) as conn:
            row = conn.execute(
                self.sql(
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

"""Alert de-duplication in the PostgreSQL store: "send once" in one statement.

Under READ COMMITTED a SELECT-then-INSERT lets several processes all decide
to send. The decision is instead one ``INSERT ... ON CONFLICT (key) DO
UPDATE ... WHERE <window passed> RETURNING``: of racing processes exactly one
gets a row back (PostgreSQL re-checks the WHERE against the row the winner
committed); the same statement records the decision in the history.
"""

from __future__ import annotations

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.common.alerts import StoreAlerts
from gruponos_ext.state.postgres.database import PgConnection, PostgresDatabase

__all__ = ["PostgresAlerts"]

_log = get_logger("gruponos_ext.state.postgres")

_DECIDE = (
    "WITH decision AS ("
    " INSERT INTO {s}.alert_state AS st (key, last_sent, window_s)"
    " VALUES (%(key)s, clock_timestamp(), %(window)s)"
    " ON CONFLICT (key) DO UPDATE SET last_sent = EXCLUDED.last_sent, window_s = %(window)s"
    " WHERE st.last_sent IS NULL OR %(window)s <= 0"
    " OR st.last_sent <= EXCLUDED.last_sent - make_interval(secs => %(window)s)"
    " RETURNING 1)"
    " INSERT INTO {s}.alerts (key, at, sent, window_s, host)"
    " SELECT %(key)s, clock_timestamp(), EXISTS (SELECT 1 FROM decision), %(window)s, %(host)s"
    " RETURNING sent"
)


class PostgresAlerts(StoreAlerts[PgConnection], PostgresDatabase):
    """``should_send`` and ``forget`` on PostgreSQL."""

    def should_send(self, key: str, window_s: float) -> bool:
        """True unless ``key`` was sent less than ``window_s`` seconds ago (server time)."""
        params = {"key": key, "window": float(window_s), "host": self.hostname}
        with self._transaction("should_send") as conn:
            row = conn.execute(self.sql(_DECIDE), params).fetchone()
        send = bool(row and row["sent"])
        if not send:
            _log.debug("alert_suppressed", key=key, window_s=window_s)
        return send

    def forget(self, key: str) -> bool:
        """Take back the latest send of ``key`` (it reached no channel); False if none."""
        with self._transaction("forget") as conn:
            conn.execute(
                self.sql("SELECT 1 FROM {s}.alert_state WHERE key = %s FOR UPDATE"), (key,)
            )
            taken_back = conn.execute(
                self.sql(
                    "UPDATE {s}.alerts SET forgotten = true WHERE id = (SELECT max(id)"
                    " FROM {s}.alerts WHERE key = %s AND sent AND NOT forgotten) RETURNING id"
                ),
                (key,),
            ).fetchone()
            if taken_back:
                conn.execute(
                    self.sql(
                        "UPDATE {s}.alert_state SET last_sent = (SELECT max(at) FROM {s}.alerts"
                        " WHERE key = %s AND sent AND NOT forgotten) WHERE key = %s"
                    ),
                    (key, key),
                )
        return taken_back is not None

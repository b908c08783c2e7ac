"""Alert de-duplication in the SQLite store: "send once per window" across processes."""

from __future__ import annotations

import sqlite3

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.common.alerts import StoreAlerts
from gruponos_ext.state.sqlite.database import SqliteDatabase

__all__ = ["SqliteAlerts"]

_log = get_logger("gruponos_ext.state.store")


class SqliteAlerts(StoreAlerts[sqlite3.Connection], SqliteDatabase):
    """``should_send`` and ``forget`` on SQLite."""

    def should_send(self, key: str, window_s: float) -> bool:
        """True unless ``key`` was sent less than ``window_s`` seconds ago.

        Check and record are one write transaction (``BEGIN IMMEDIATE``
        serialises every writer of the file), so of several processes asking
        at once exactly one gets True. Every decision is kept in the alert
        history. Build ``key`` from non-secret fields only (it is stored as is).
        """
        with self._transaction("should_send") as conn:
            now = self.now()
            last = conn.execute(
                "SELECT MAX(at) FROM alerts WHERE key = ? AND sent = 1 AND forgotten = 0", (key,)
            ).fetchone()[0]
            send = last is None or window_s <= 0 or now - float(last) >= window_s
            conn.execute(
                "INSERT INTO alerts (key, at, sent, window_s) VALUES (?, ?, ?, ?)",
                (key, now, int(send), float(window_s)),
            )
        if not send:
            _log.debug("alert_suppressed", key=key, window_s=window_s)
        return send

    def forget(self, key: str) -> bool:
        """Take back the latest send of ``key`` (it reached no channel).

        The next ``should_send`` for ``key`` is then True again instead of
        being suppressed for a whole window. False if there was nothing to
        take back.
        """
        with self._transaction("forget") as conn:
            cursor = conn.execute(
                "UPDATE alerts SET forgotten = 1 WHERE id = (SELECT MAX(id) FROM alerts"
                " WHERE key = ? AND sent = 1 AND forgotten = 0)",
                (key,),
            )
        return cursor.rowcount > 0

"""Alert de-duplication of both stores: the history of decisions, read the same way.

The decision itself (``should_send``) and taking one back (``forget``) are
each store's own: SQLite serialises every writer of the file, PostgreSQL
decides in one statement (see ``state.postgres.alerts``).
"""

from __future__ import annotations

from gruponos_ext.state.common.base import C, Row, StoreBase
from gruponos_ext.state.model import AlertRecord, to_time

__all__ = ["StoreAlerts", "alert_from_row"]


def alert_from_row(row: Row) -> AlertRecord:
    return AlertRecord(
        id=int(row["id"]),
        key=row["key"],
        time=to_time(row["at"]),
        sent=bool(row["sent"]),
        window_s=float(row["window_s"]),
        forgotten=bool(row["forgotten"]),
    )


class StoreAlerts(StoreBase[C]):
    """``alert_history`` of :class:`~gruponos_ext.state.protocol.StateStore`."""

    def alert_history(self, limit: int = 50, *, key: str | None = None) -> list[AlertRecord]:
        """De-duplication decisions (sent and suppressed) of every host, newest first."""
        rows = self._newest(
            "alert_history", "alerts", order="at DESC, id DESC", limit=limit, where=("key", key)
        )
        return [alert_from_row(r) for r in rows]

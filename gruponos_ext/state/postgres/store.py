"""``PostgresStateStore``: run locks and history shared by every host, on PostgreSQL.

The parts live one per module: where to connect (:mod:`.target`), the
database and its transactions (:mod:`.database`), our schema (:mod:`.schema`),
runs, locks, health history, alert de-duplication and housekeeping; this
class only puts them together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext.state.postgres.alerts import PostgresAlerts
from gruponos_ext.state.postgres.health import PostgresHealth
from gruponos_ext.state.postgres.housekeeping import PostgresHousekeeping
from gruponos_ext.state.postgres.locks import PostgresLocks
from gruponos_ext.state.postgres.runs import PostgresRuns

if TYPE_CHECKING:
    from gruponos_ext.state.protocol import StateStore

__all__ = ["PostgresStateStore"]


class PostgresStateStore(
    PostgresRuns, PostgresLocks, PostgresHealth, PostgresAlerts, PostgresHousekeeping
):
    """:class:`~gruponos_ext.state.protocol.StateStore` on a shared PostgreSQL database.

    ``PostgresStateStore(uri, schema=..., timeout_s=..., retention_days=...)``;
    nothing is opened by the constructor, and the URI (a secret) appears in
    no repr or message: the server is named ``host:port/db``.
    """


if TYPE_CHECKING:

    def _conforms(store: PostgresStateStore) -> StateStore:
        # mypy proves here that PostgresStateStore implements the protocol.
        return store

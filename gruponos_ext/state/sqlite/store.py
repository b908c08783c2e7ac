"""``SqliteStateStore``: the embedded state store, one SQLite file per Meltano project.

The parts live one per module: the file and its transactions
(:mod:`.database`), the schema (:mod:`.schema`), runs, locks, health history,
alert de-duplication and housekeeping; this class only puts them together.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gruponos_ext.state.sqlite.alerts import SqliteAlerts
from gruponos_ext.state.sqlite.database import DEFAULT_FILENAME
from gruponos_ext.state.sqlite.health import SqliteHealth
from gruponos_ext.state.sqlite.housekeeping import SqliteHousekeeping
from gruponos_ext.state.sqlite.locks import SqliteLocks
from gruponos_ext.state.sqlite.runs import SqliteRuns

if TYPE_CHECKING:
    from gruponos_ext.state.protocol import StateStore

__all__ = ["SqliteStateStore"]


class SqliteStateStore(SqliteRuns, SqliteLocks, SqliteHealth, SqliteAlerts, SqliteHousekeeping):
    """:class:`~gruponos_ext.state.protocol.StateStore` on a local SQLite file.

    Nothing is opened by the constructor. With ``retention_days``,
    ``start_run`` prunes old history at most once an hour per instance.
    """

    @classmethod
    def in_dir(cls, state_dir: Path | str, **kwargs: Any) -> SqliteStateStore:
        """The store at ``<state_dir>/state.db`` (the settings' ``state_dir``)."""
        return cls(Path(state_dir) / DEFAULT_FILENAME, **kwargs)


if TYPE_CHECKING:

    def _conforms(store: SqliteStateStore) -> StateStore:
        # mypy proves here that SqliteStateStore implements the protocol.
        return store

"""The shared PostgreSQL state store (needs the ``postgres`` extra: psycopg 3).

Importing this package imports psycopg; the rest of the extension imports it
only when ``state_uri`` is set.
"""

from gruponos_ext.state.postgres.schema import SCHEMA_VERSION
from gruponos_ext.state.postgres.store import PostgresStateStore
from gruponos_ext.state.postgres.target import PostgresTarget, StateUriError

__all__ = ["SCHEMA_VERSION", "PostgresStateStore", "PostgresTarget", "StateUriError"]

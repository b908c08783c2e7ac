"""Where the PostgreSQL store connects: the ``state_uri`` parsed, bounded, and named safely.

The URI is a secret (it may carry a password); :class:`PostgresTarget` keeps
it out of every repr and message and names the server as ``host:port/db``.
Meltano's ``postgresql+psycopg://`` form is accepted (the ``+driver`` part is
dropped), so ``state_uri: $MELTANO_DATABASE_URI`` works.

>>> target = PostgresTarget.from_uri("postgresql+psycopg://etl:s3cret@db.internal:6432/meltano")
>>> target.describe(), target
('db.internal:6432/meltano', PostgresTarget('db.internal:6432/meltano'))
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from gruponos_ext.core.errors import GruponosError

__all__ = ["SCHEMA_NAME", "PostgresTarget", "StateUriError", "check_schema_name"]

_DRIVER_SUFFIX = re.compile(r"^(postgres(?:ql)?)\+[a-z0-9_]+://", re.IGNORECASE)
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SCHEMES = ("postgresql://", "postgres://")


def check_schema_name(schema: str) -> str:
    """``schema`` if it is a plain lower-case SQL name (it is quoted into statements)."""
    if not SCHEMA_NAME.match(schema) or schema.startswith("pg_"):
        raise ValueError(
            f"state_schema {schema!r} must be a lower-case SQL name (letters, digits, _), "
            "not starting with a digit or pg_"
        )
    return schema


@dataclass(frozen=True)
class PostgresTarget:
    """A parsed ``state_uri``: what to connect to, and how to name it without secrets."""

    host: str
    port: int | None
    dbname: str
    user: str | None
    _params: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_uri(cls, uri: str) -> PostgresTarget:
        """Parse ``postgresql://``, ``postgres://`` or ``postgresql+<driver>://`` URIs."""
        from psycopg.conninfo import conninfo_to_dict

        text = _DRIVER_SUFFIX.sub(r"\1://", uri.strip(), count=1)
        if not text.lower().startswith(_SCHEMES):
            raise _bad_uri("it must start with postgresql:// (or Meltano's postgresql+psycopg://)")
        try:
            params: dict[str, Any] = dict(conninfo_to_dict(text))
        except Exception as exc:  # psycopg.ProgrammingError: never show the text
            raise _bad_uri("it cannot be parsed as a PostgreSQL URI") from exc
        host = str(params.get("host") or "localhost")
        port_text = str(params.get("port") or "")
        port = int(port_text) if port_text.isdigit() else None
        dbname = str(params.get("dbname") or params.get("user") or "postgres")
        user = params.get("user")
        return cls(host, port, dbname, None if user is None else str(user), params)

    @property
    def password(self) -> str | None:
        value = self._params.get("password")
        return None if value is None else str(value)

    def describe(self) -> str:
        """``host:port/database`` -- how messages name the server (never the password)."""
        port = self.port if self.port is not None else 5432
        return f"{self.host}:{port}/{self.dbname}"

    def connect_params(self, timeout_s: float) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect``: the URI's, plus bounded waits.

        ``connect_timeout`` bounds connecting (libpq counts whole seconds, at
        least 2); TCP keepalives and ``tcp_user_timeout`` make a server that
        vanishes mid-statement an error instead of a wait of hours.
        """
        seconds = max(2, math.ceil(timeout_s))
        params = dict(self._params)
        params.setdefault("application_name", "gruponos-infra")
        params["connect_timeout"] = seconds
        if not self.host.startswith("/"):
            params.setdefault("keepalives", 1)
            params.setdefault("keepalives_idle", seconds)
            params.setdefault("keepalives_interval", 1)
            params.setdefault("keepalives_count", 3)
            params.setdefault("tcp_user_timeout", int(timeout_s * 1000))
        return params

    def __repr__(self) -> str:
        return f"PostgresTarget({self.describe()!r})"


class StateUriError(GruponosError):
    """``state_uri`` cannot name a PostgreSQL database (a settings error: exit 2)."""

    code = "STATE_URI_INVALID"
    exit_code = 2


def _bad_uri(why: str) -> StateUriError:
    return StateUriError(
        f"GRUPONOS_INFRA_STATE_URI: {why} (the value is not shown: it may hold a password)"
    )

"""Oracle: configuration, error classification, the connection manager and its health check.

- :mod:`~gruponos_ext.services.oracle.errors` -- the error classes (stable
  codes) and :func:`classify_oracle_error`, which maps driver codes to them.
- :mod:`~gruponos_ext.services.oracle.config` -- :class:`OracleConfig` and
  :func:`build_dsn` (the connect descriptor).
- :mod:`~gruponos_ext.services.oracle.manager` --
  :class:`OracleConnectionManager`: bounded pings, the lazy pool.
- :mod:`~gruponos_ext.services.oracle.check` -- the ``oracle:connection`` check.

python-oracledb is imported only when a connection is made: importing this
package costs no driver.
"""

from __future__ import annotations

from gruponos_ext.services.oracle.check import CHECK_NAME, health_check, oracle_service_check
from gruponos_ext.services.oracle.config import OracleConfig, build_dsn
from gruponos_ext.services.oracle.errors import (
    OracleAuthError,
    OracleConfigError,
    OracleListenerRefusedError,
    OracleManagerClosedError,
    OracleNotConfiguredError,
    OracleServiceError,
    OracleTimeoutError,
    OracleTlsError,
    OracleUnknownServiceError,
    OracleUnreachableError,
    classify_oracle_error,
)
from gruponos_ext.services.oracle.manager import PING_SQL, OracleConnectionManager, OraclePing

__all__ = [
    "CHECK_NAME",
    "PING_SQL",
    "OracleAuthError",
    "OracleConfig",
    "OracleConfigError",
    "OracleConnectionManager",
    "OracleListenerRefusedError",
    "OracleManagerClosedError",
    "OracleNotConfiguredError",
    "OraclePing",
    "OracleServiceError",
    "OracleTimeoutError",
    "OracleTlsError",
    "OracleUnknownServiceError",
    "OracleUnreachableError",
    "build_dsn",
    "classify_oracle_error",
    "health_check",
    "oracle_service_check",
]

"""Where and how to connect to Oracle: the configuration and its connect descriptor.

:class:`OracleConfig` is checked when built (one :class:`OracleConfigError`
lists every problem) and never shows the password; :func:`build_dsn` turns it
into the connect descriptor python-oracledb parses.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gruponos_ext.services.oracle.errors import OracleConfigError, OracleNotConfiguredError

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings

__all__ = ["NOT_CONFIGURED", "OracleConfig", "build_dsn"]

NOT_CONFIGURED = "Oracle is not configured (GRUPONOS_INFRA_ORACLE_HOST is not set)"
"""Why there is no Oracle to use (a skipped check, :class:`OracleNotConfiguredError`)."""

# Characters that would break out of a connect-descriptor value.
_DESCRIPTOR_META = re.compile(r"[()=\s]")


@dataclass(frozen=True, repr=False)
class OracleConfig:
    """Where and how to connect. Exactly one of ``service_name`` and ``sid``.

    Timeouts are in seconds. The password never shows in ``repr``/``str``.
    """

    host: str
    port: int
    service_name: str | None
    sid: str | None
    user: str
    password: str
    protocol: str = "tcp"
    wallet_location: str | None = None
    pool_min: int = 1
    pool_max: int = 4
    pool_increment: int = 1
    connect_timeout: float = 10.0
    call_timeout: float = 60.0

    def __post_init__(self) -> None:
        problems = []
        if not self.host:
            problems.append("host is empty")
        if not 0 < self.port < 65536:
            problems.append(f"port {self.port} is not in 1..65535")
        if bool(self.service_name) == bool(self.sid):
            problems.append("give exactly one of service_name and sid")
        if self.protocol not in ("tcp", "tcps"):
            problems.append(f"protocol {self.protocol!r} is not 'tcp' or 'tcps'")
        if not self.user:
            problems.append("user is empty")
        # Values are spliced into a connect descriptor; these would change its meaning.
        for name in ("host", "service_name", "sid"):
            value = getattr(self, name)
            if value and _DESCRIPTOR_META.search(value):
                problems.append(f"{name} contains '(', ')', '=' or whitespace")
        if self.wallet_location and re.search(r"[()=]", self.wallet_location):
            problems.append("wallet_location contains '(', ')' or '='")
        if not 0 <= self.pool_min <= self.pool_max or self.pool_max < 1:
            problems.append(
                f"pool sizes need 0 <= pool_min <= pool_max and pool_max >= 1 "
                f"(got min={self.pool_min}, max={self.pool_max})"
            )
        if self.pool_increment < 1:
            problems.append("pool_increment must be >= 1")
        if not self.connect_timeout > 0 or not self.call_timeout > 0:
            problems.append("connect_timeout and call_timeout must be > 0 seconds")
        if problems:
            raise OracleConfigError(
                "invalid Oracle configuration: " + "; ".join(problems),
                details={"problems": problems},
            )

    def __repr__(self) -> str:
        where = f"service_name={self.service_name!r}" if self.service_name else f"sid={self.sid!r}"
        return (
            f"OracleConfig(host={self.host!r}, port={self.port}, {where}, user={self.user!r}, "
            f"password='***', protocol={self.protocol!r}, "
            f"wallet_location={self.wallet_location!r}, "
            f"pool={self.pool_min}..{self.pool_max}+{self.pool_increment}, "
            f"connect_timeout={self.connect_timeout}, call_timeout={self.call_timeout})"
        )

    __str__ = __repr__

    @classmethod
    def from_settings(cls, settings: GruponosMeltanoSettings) -> OracleConfig:
        """The configuration the settings describe.

        Raises :class:`OracleNotConfiguredError` when no host is set, and
        :class:`OracleConfigError` when the rest is incomplete.
        """
        if not settings.oracle_host:
            raise OracleNotConfiguredError(NOT_CONFIGURED)
        secret = settings.oracle_password
        wallet = settings.oracle_wallet_location
        return cls(
            host=settings.oracle_host,
            port=int(settings.oracle_port),
            service_name=settings.oracle_service_name or None,
            sid=settings.oracle_sid or None,
            user=settings.oracle_user or "",
            password=secret.get_secret_value() if secret is not None else "",
            protocol=str(getattr(settings.oracle_protocol, "value", settings.oracle_protocol)),
            wallet_location=os.fspath(wallet) if wallet else None,
            pool_min=settings.oracle_pool_min,
            pool_max=settings.oracle_pool_max,
            pool_increment=settings.oracle_pool_increment,
            connect_timeout=float(settings.oracle_connect_timeout),
            call_timeout=float(settings.oracle_call_timeout),
        )

    @classmethod
    def from_dsn(cls, dsn: str, user: str, password: str, **options: Any) -> OracleConfig:
        """The configuration an Easy Connect string or connect descriptor names.

        Used for the ``GRUPONOS_TEST_ORACLE_DSN`` test database; ``options``
        are the pool and timeout fields.
        """
        import oracledb

        params = oracledb.ConnectParams()
        params.parse_connect_string(dsn)
        return cls(
            host=params.host,
            port=params.port,
            service_name=params.service_name or None,
            sid=None if params.service_name else params.sid,
            user=user,
            password=password,
            protocol=params.protocol or "tcp",
            **options,
        )

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 hosts bracketed)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def describe_target(self) -> str:
        """``host:port/service`` (or ``host:port (SID x)``), for messages and logs."""
        if self.service_name:
            return f"{self.address}/{self.service_name}"
        return f"{self.address} (SID {self.sid})"


def _seconds(value: float) -> str:
    """A descriptor time value: ``10`` or ``2.5`` (python-oracledb reads both)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def build_dsn(config: OracleConfig) -> str:
    """The connect descriptor for ``config``: TCP or TCPS, service name or SID.

    ``CONNECT_TIMEOUT``/``TRANSPORT_CONNECT_TIMEOUT`` bound the TCP connect
    only (the rest is bounded by the manager); ``RETRY_COUNT=0`` keeps one
    attempt per call so the deadline math holds. For TCPS the wallet
    directory goes into ``SECURITY`` and the server certificate's DN must
    match the host.
    """
    timeout = _seconds(config.connect_timeout)
    connect_data = (
        f"(SERVICE_NAME={config.service_name})" if config.service_name else f"(SID={config.sid})"
    )
    parts = [
        "(DESCRIPTION=",
        f"(CONNECT_TIMEOUT={timeout})(TRANSPORT_CONNECT_TIMEOUT={timeout})(RETRY_COUNT=0)",
        f"(ADDRESS=(PROTOCOL={config.protocol.upper()})(HOST={config.host})(PORT={config.port}))",
        f"(CONNECT_DATA={connect_data})",
    ]
    if config.protocol == "tcps":
        wallet = f"(MY_WALLET_DIRECTORY={config.wallet_location})" if config.wallet_location else ""
        parts.append(f"(SECURITY=(SSL_SERVER_DN_MATCH=ON){wallet})")
    parts.append(")")
    return "".join(parts)

"""The Oracle connection manager: a lazy pool, bounded pings and plain error messages.

python-oracledb (thin mode) is imported only when a connection is needed, so
wiring the container or describing the extension never pays for it.

Every wait is bounded by this module, not by driver parameters: a listener
that accepts the TCP connection and then says nothing makes a synchronous
``oracledb.connect()`` hang forever, whatever ``tcp_connect_timeout`` says.
So :meth:`OracleConnectionManager.ping` connects with ``connect_async`` under
``asyncio.wait_for`` on a private event loop in a daemon thread (the caller
stops waiting at the deadline even if that loop misbehaves), and the pool --
whose background thread is *not* a daemon and would keep the process alive if
it hung -- is only created after such a bounded connect has succeeded.

Driver errors become :class:`OracleServiceError` subclasses with stable codes
and messages that name ``host:port/service`` and the user, never the password.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.result import Result
from gruponos_ext.health.model import CheckOutcome, ServiceCheck
from gruponos_ext.services.breaker import CircuitOpenError

if TYPE_CHECKING:
    from gruponos_ext.services.breaker import CircuitBreaker

__all__ = [
    "OracleAuthError",
    "OracleConfig",
    "OracleConfigError",
    "OracleConnectionManager",
    "OracleListenerRefusedError",
    "OracleManagerClosedError",
    "OracleNotConfiguredError",
    "OraclePing",
    "OracleServiceError",
    "OracleSettings",
    "OracleTimeoutError",
    "OracleTlsError",
    "OracleUnknownServiceError",
    "OracleUnreachableError",
    "build_dsn",
    "classify_oracle_error",
    "health_check",
    "oracle_service_check",
]

_log = get_logger(__name__)

CHECK_NAME = "oracle:connection"
PING_SQL = "SELECT 1 FROM DUAL"
# Extra time the caller grants the worker thread past the ping's own deadline,
# for closing a half-made connection and tearing the private loop down.
_WORKER_GRACE_S = 1.0
# How long close() waits for the driver to close the pool.
_MIN_CLOSE_WAIT_S = 5.0
# Characters that would break out of a connect-descriptor value.
_DESCRIPTOR_META = re.compile(r"[()=\s]")


# -- errors --------------------------------------------------------------------
class OracleServiceError(GruponosError):
    """An Oracle operation failed; ``code`` says how (this base: ``ORACLE_ERROR``)."""

    code = "ORACLE_ERROR"


class OracleAuthError(OracleServiceError):
    """The server rejected the credentials (ORA-01017, locked or expired account...)."""

    code = "ORACLE_AUTH_FAILED"


class OracleUnknownServiceError(OracleServiceError):
    """The listener does not know the service name or SID (ORA-12514, ORA-12505)."""

    code = "ORACLE_UNKNOWN_SERVICE"


class OracleUnreachableError(OracleServiceError):
    """No Oracle listener could be talked to: refused, unresolvable, closed on us."""

    code = "ORACLE_UNREACHABLE"


class OracleTimeoutError(OracleServiceError):
    """Connecting or a round trip took longer than allowed."""

    code = "ORACLE_TIMEOUT"


class OracleTlsError(OracleServiceError):
    """The TCPS (TLS) handshake failed: certificate, wallet or DN mismatch."""

    code = "ORACLE_TLS_ERROR"


class OracleListenerRefusedError(OracleServiceError):
    """The listener answered but refused the connection (no handler, blocked...)."""

    code = "ORACLE_LISTENER_REFUSED"


class OracleManagerClosedError(OracleServiceError):
    """The manager was closed (container disposed); it hands out no more connections."""

    code = "ORACLE_MANAGER_CLOSED"


class OracleConfigError(GruponosError, ValueError):
    """The Oracle configuration is unusable."""

    code = "ORACLE_CONFIG_INVALID"


class OracleNotConfiguredError(OracleConfigError):
    """No Oracle host is configured."""

    code = "ORACLE_NOT_CONFIGURED"


# -- configuration -------------------------------------------------------------
class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class OracleSettings(Protocol):
    """The part of ``GruponosMeltanoSettings`` the Oracle manager reads."""

    @property
    def oracle_host(self) -> str | None: ...
    @property
    def oracle_port(self) -> int: ...
    @property
    def oracle_service_name(self) -> str | None: ...
    @property
    def oracle_sid(self) -> str | None: ...
    @property
    def oracle_user(self) -> str | None: ...
    @property
    def oracle_password(self) -> _Secret | None: ...
    @property
    def oracle_protocol(self) -> str: ...
    @property
    def oracle_wallet_location(self) -> str | os.PathLike[str] | None: ...
    @property
    def oracle_pool_min(self) -> int: ...
    @property
    def oracle_pool_max(self) -> int: ...
    @property
    def oracle_pool_increment(self) -> int: ...
    @property
    def oracle_connect_timeout(self) -> float: ...
    @property
    def oracle_call_timeout(self) -> float: ...


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
    def from_settings(cls, settings: OracleSettings) -> OracleConfig:
        """The configuration the settings describe.

        Raises :class:`OracleNotConfiguredError` when no host is set, and
        :class:`OracleConfigError` when the rest is incomplete.
        """
        if not settings.oracle_host:
            raise OracleNotConfiguredError(
                "Oracle is not configured (GRUPONOS_INFRA_ORACLE_HOST is not set)"
            )
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
    only (the rest is bounded by this module); ``RETRY_COUNT=0`` keeps one
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


# -- results -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OraclePing:
    """A successful ping: the ``SELECT 1 FROM DUAL`` round trip and the connect time (ms)."""

    latency_ms: float
    server_version: str
    target: str
    connect_ms: float = 0.0


# -- error mapping ---------------------------------------------------------------
_CODE_RE = re.compile(r"\b(ORA|DPY|DPI|TNS)-(\d{4,5})\b")
_NO_PASSWORD_CODES = {"ORA-01005", "DPY-4001"}
_AUTH_CODES = {
    "ORA-01017": "",
    "ORA-28000": " (the account is locked)",
    "ORA-28001": " (the password has expired)",
    "ORA-01045": " (the user lacks the CREATE SESSION privilege)",
}
_UNKNOWN_SERVICE_CODES = {"DPY-6001", "DPY-6003", "ORA-12514", "ORA-12505"}
_TIMEOUT_CODES = {
    "DPY-4024": "a call",
    "DPY-4005": "a free pool connection",
    "ORA-12170": "the connection",
    "ORA-12535": "the connection",
    "ORA-03136": "the connection",
    "DPI-1067": "a call",
}
_TLS_CODES = {"DPY-6002", "DPY-6006", "ORA-29024", "ORA-28759", "ORA-28860"}
# The listener answered, but will not hand the connection to a server process.
_LISTENER_REFUSED_CODES = {
    "ORA-12516",
    "ORA-12518",
    "ORA-12519",
    "ORA-12520",
    "ORA-12526",
    "ORA-12527",
    "ORA-12528",
    "ORA-12529",
}
_UNREACHABLE_CODES = {
    "ORA-12541": "no listener on that port",
    "ORA-12545": "the host does not exist or cannot be resolved",
    "ORA-12543": "the destination host is unreachable",
    "DPY-4011": "the server closed the connection (is this an Oracle listener?)",
    "ORA-03113": "the server closed the connection",
    "ORA-03135": "the connection was lost",
}


def _normalise_code(prefix: str, number: str) -> str:
    width = 5 if prefix in ("ORA", "TNS") else 4
    return f"{'ORA' if prefix == 'TNS' else prefix}-{int(number):0{width}d}"


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _driver_codes(exc: BaseException) -> list[str]:
    """Oracle/driver codes an exception carries (structured ones first, then from its text)."""
    codes: list[str] = []
    error = exc.args[0] if exc.args else None
    full_code = getattr(error, "full_code", None)
    if isinstance(full_code, str):
        match = _CODE_RE.fullmatch(full_code)
        if match:
            codes.append(_normalise_code(*match.groups()))
    number = getattr(error, "code", 0)
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        codes.append(f"ORA-{number:05d}")
    codes.extend(_normalise_code(*m.groups()) for m in _CODE_RE.finditer(str(exc)))
    return list(dict.fromkeys(codes))


def _first_line(exc: BaseException, secrets: tuple[str, ...]) -> str:
    from gruponos_ext.health.runner import sanitise

    lines = [
        line.strip()
        for line in str(exc).splitlines()
        if line.strip() and not line.startswith("Help:")
    ]
    # DPY-6005 says only "cannot connect"; the line after it has the reason.
    if len(lines) > 1 and lines[0].startswith("DPY-6005"):
        lines = lines[1:]
    text = lines[0] if lines else type(exc).__name__
    text = re.sub(r"\s*\(CONNECTION_ID=[^)]*\)", "", text)
    return sanitise(text, secrets)[:300]


def classify_oracle_error(
    exc: BaseException,
    config: OracleConfig,
    *,
    timeout: float | None = None,
    doing: str = "connecting to",
) -> OracleServiceError:
    """The :class:`OracleServiceError` a driver (or socket) exception means.

    Looks at the whole cause chain (python-oracledb wraps the reason of a
    failed connect, e.g. ``DPY-6001`` or ``ConnectionRefusedError``, inside
    ``DPY-6005``). The message names the target and user, never the password.
    """
    import ssl

    if isinstance(exc, OracleServiceError):
        return exc
    target = config.describe_target()
    chain = _exception_chain(exc)
    codes = list(dict.fromkeys(code for link in chain for code in _driver_codes(link)))
    secrets = (config.password,) if config.password else ()
    details: dict[str, Any] = {
        "target": target,
        "user": config.user,
        "driver_codes": codes,
        "cause": type(chain[-1]).__name__,
    }

    def has(*wanted: str) -> str | None:
        return next((code for code in codes if code in wanted), None)

    if (code := has(*_TIMEOUT_CODES)) is not None or any(
        isinstance(link, TimeoutError) for link in chain
    ):
        waited = f" after {timeout:.1f} s" if timeout is not None else ""
        what = _TIMEOUT_CODES.get(code or "", "")
        if what in ("a call", "a free pool connection"):
            message = f"timed out{waited} waiting for {what} on {target}"
        else:
            message = f"timed out{waited} {doing} {target}"
        return OracleTimeoutError(message, details=details)
    if has(*_NO_PASSWORD_CODES) is not None:
        return OracleAuthError(
            f"no password given for user {config.user} at {target} "
            f"(set GRUPONOS_INFRA_ORACLE_PASSWORD)",
            details=details,
        )
    if (code := has(*_AUTH_CODES)) is not None:
        return OracleAuthError(
            f"credentials rejected for user {config.user} at {target}{_AUTH_CODES[code]}",
            details=details,
        )
    if has(*_UNKNOWN_SERVICE_CODES) is not None:
        what = f"service {config.service_name}" if config.service_name else f"SID {config.sid}"
        return OracleUnknownServiceError(
            f"the listener at {config.address} does not know {what}", details=details
        )
    if has(*_TLS_CODES) is not None or any(isinstance(link, ssl.SSLError) for link in chain):
        return OracleTlsError(
            f"TLS handshake with {config.address} failed: {_first_line(chain[-1], secrets)}",
            details=details,
        )
    if has("DPY-6000", *_LISTENER_REFUSED_CODES) is not None:
        refused = next((c for c in codes if c.startswith("ORA-")), "DPY-6000")
        return OracleListenerRefusedError(
            f"the listener at {config.address} refused the connection ({refused})",
            details=details,
        )
    reason = _unreachable_reason(chain, codes, config)
    if reason is not None:
        return OracleUnreachableError(
            f"cannot reach Oracle at {config.address}: {reason}", details=details
        )
    return OracleServiceError(
        f"Oracle error at {target}: {_first_line(exc, secrets)}", details=details
    )


def _unreachable_reason(
    chain: list[BaseException], codes: list[str], config: OracleConfig
) -> str | None:
    for link in chain:
        if isinstance(link, socket.gaierror):
            return f"host name {config.host!r} cannot be resolved"
        if isinstance(link, ConnectionRefusedError):
            return "connection refused (is the listener running on that port?)"
        if isinstance(link, ConnectionResetError):
            return "the server reset the connection (is this an Oracle listener?)"
        if isinstance(link, OSError) and link.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "no route to the host"
    for code in codes:
        if code in _UNREACHABLE_CODES:
            return _UNREACHABLE_CODES[code]
    if "DPY-6005" in codes:
        return "cannot connect to the database"
    for link in chain:
        if isinstance(link, OSError):
            return (link.strerror or type(link).__name__).lower()
    return None


# -- bounded work in a daemon thread -------------------------------------------
T = TypeVar("T")


class _Worker(Generic[T]):
    """Runs ``fn`` in a daemon thread; the caller waits at most ``wait`` seconds.

    A daemon thread never delays interpreter exit, so an attempt the caller
    gave up on cannot keep the process alive.
    """

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        self._fn = fn
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:
            self._error = exc
        finally:
            self._done.set()

    def run(self, wait: float) -> tuple[bool, T | None, BaseException | None]:
        """``(finished, value, error)`` after at most ``wait`` seconds."""
        self._thread.start()
        finished = self._done.wait(wait)
        return finished, self._value, self._error


class _Phase:
    """What a ping is doing, so a timeout message can say where it stopped."""

    def __init__(self) -> None:
        self.doing = "connecting to"


# -- the manager -----------------------------------------------------------------
class OracleConnectionManager:
    """Connections to the GrupoNOS Oracle database.

    Opens nothing when built. The pool is created on the first
    :meth:`connection`; :meth:`ping` uses a connection of its own; :meth:`close`
    (alias :meth:`close_all`, the seed's ``connection_pool`` cleanup) closes
    the pool. With a ``breaker``, connects and pings go through it.
    """

    def __init__(self, config: OracleConfig, *, breaker: CircuitBreaker | None = None) -> None:
        self._config = config
        self._breaker = breaker
        self._dsn = build_dsn(config)
        self._pool: Any = None
        self._pool_lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_settings(
        cls, settings: OracleSettings, *, breaker: CircuitBreaker | None = None
    ) -> OracleConnectionManager:
        """A manager for the database the settings name (see :meth:`OracleConfig.from_settings`)."""
        return cls(OracleConfig.from_settings(settings), breaker=breaker)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._pool is not None else "not created")
        return (
            f"OracleConnectionManager(target={self.describe_target()!r}, "
            f"user={self._config.user!r}, pool={state})"
        )

    def __enter__(self) -> OracleConnectionManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- introspection -------------------------------------------------------
    @property
    def config(self) -> OracleConfig:
        return self._config

    @property
    def breaker(self) -> CircuitBreaker | None:
        return self._breaker

    @property
    def dsn(self) -> str:
        """The connect descriptor (it carries no credentials)."""
        return self._dsn

    @property
    def pool_open(self) -> bool:
        """True once the pool exists and until :meth:`close`."""
        return self._pool is not None

    @property
    def closed(self) -> bool:
        return self._closed

    def describe_target(self) -> str:
        """``host:port/service``, for messages."""
        return self._config.describe_target()

    # -- ping ----------------------------------------------------------------
    def ping(self, timeout: float | None = None) -> Result[OraclePing]:
        """Connect, run ``SELECT 1 FROM DUAL``, report latency and server version.

        Bounded by ``timeout`` seconds (default: the connect timeout) whatever
        the server does; never raises for connection problems.
        """
        limit = self._config.connect_timeout if timeout is None else float(timeout)
        if limit <= 0:
            raise ValueError("ping timeout must be > 0 seconds")
        started = time.perf_counter()
        try:
            ping = self._guarded(lambda: self._ping_bounded(limit))
        except CircuitOpenError as exc:
            _log.info("oracle_ping_skipped", target=self.describe_target(), reason=exc.code)
            return Result.fail(
                f"not connecting to Oracle at {self.describe_target()}: {exc.message}",
                exc.code,
                exc.details,
                exception=exc,
            )
        except OracleServiceError as exc:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            _log.warning(
                "oracle_ping_failed",
                target=self.describe_target(),
                error_code=exc.code,
                error=exc.message,
                duration_ms=duration_ms,
            )
            return Result.fail(exc.message, exc.code, exc.details, exception=exc)
        _log.info(
            "oracle_ping_ok",
            target=ping.target,
            latency_ms=round(ping.latency_ms, 2),
            connect_ms=round(ping.connect_ms, 2),
            server_version=ping.server_version,
        )
        return Result.ok(ping)

    def _guarded(self, fn: Callable[[], T]) -> T:
        if self._breaker is None:
            return fn()
        return self._breaker.call(fn)

    def _ping_bounded(self, timeout: float) -> OraclePing:
        # Imported here, not in the worker, so a cold import is not billed to the deadline.
        import asyncio  # noqa: F401

        import oracledb  # noqa: F401

        phase = _Phase()
        worker: _Worker[OraclePing] = _Worker(
            lambda: self._ping_in_private_loop(timeout, phase), name="gruponos-oracle-ping"
        )
        finished, value, error = worker.run(timeout + _WORKER_GRACE_S)
        if not finished:
            raise OracleTimeoutError(
                f"timed out after {timeout:.1f} s {phase.doing} {self.describe_target()}",
                details=self._timeout_details(timeout),
            )
        if isinstance(error, OracleServiceError):
            raise error
        if error is not None:
            raise classify_oracle_error(
                error, self._config, timeout=timeout, doing=phase.doing
            ) from error
        return cast(OraclePing, value)

    def _timeout_details(self, timeout: float) -> dict[str, Any]:
        return {"target": self.describe_target(), "user": self._config.user, "timeout_s": timeout}

    def _ping_in_private_loop(self, timeout: float, phase: _Phase) -> OraclePing:
        import asyncio

        import oracledb

        config = self._config
        connections: list[Any] = []

        async def connect_and_query() -> OraclePing:
            started = time.perf_counter()
            connection = await oracledb.connect_async(
                user=config.user,
                password=config.password or None,
                dsn=self._dsn,
                tcp_connect_timeout=config.connect_timeout,
            )
            connections.append(connection)
            connected = time.perf_counter()
            phase.doing = f"waiting for {PING_SQL} on"
            remaining = max(0.001, timeout - (connected - started))
            connection.call_timeout = max(1, int(remaining * 1000))
            with connection.cursor() as cursor:
                await cursor.execute(PING_SQL)
                row = await cursor.fetchone()
            answered = time.perf_counter()
            if row is None or row[0] != 1:
                raise OracleServiceError(
                    f"unexpected answer to {PING_SQL} from {self.describe_target()}: {row!r}"
                )
            return OraclePing(
                latency_ms=(answered - connected) * 1000,
                server_version=str(connection.version),
                target=self.describe_target(),
                connect_ms=(connected - started) * 1000,
            )

        async def main() -> OraclePing:
            try:
                return await asyncio.wait_for(connect_and_query(), timeout)
            except asyncio.TimeoutError as exc:  # asyncio's own class on 3.10
                raise OracleTimeoutError(
                    f"timed out after {timeout:.1f} s {phase.doing} {self.describe_target()}",
                    details=self._timeout_details(timeout),
                ) from exc
            finally:
                for connection in connections:
                    # Best effort: the answer (or the failure) is already known.
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), _WORKER_GRACE_S / 2)

        return asyncio.run(main())

    # -- pool ------------------------------------------------------------------
    def _ensure_pool(self) -> Any:
        with self._pool_lock:
            if self._closed:
                raise OracleManagerClosedError(
                    f"the Oracle connection manager for {self.describe_target()} is closed"
                )
            if self._pool is not None:
                return self._pool
            # The driver's pool thread is not a daemon and its connects have no
            # read timeout: create it only once the server has just answered.
            self._ping_bounded(self._config.connect_timeout)
            import oracledb

            config = self._config
            started = time.perf_counter()
            try:
                self._pool = oracledb.create_pool(
                    user=config.user,
                    password=config.password or None,
                    dsn=self._dsn,
                    min=config.pool_min,
                    max=config.pool_max,
                    increment=config.pool_increment,
                    tcp_connect_timeout=config.connect_timeout,
                    getmode=oracledb.POOL_GETMODE_TIMEDWAIT,
                    wait_timeout=int(config.connect_timeout * 1000),
                )
            except Exception as exc:
                raise classify_oracle_error(exc, config) from exc
            _log.info(
                "oracle_pool_created",
                target=self.describe_target(),
                pool_min=config.pool_min,
                pool_max=config.pool_max,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            return self._pool

    def _acquire(self) -> Any:
        pool = self._ensure_pool()
        try:
            connection = pool.acquire()
        except Exception as exc:
            raise classify_oracle_error(
                exc, self._config, timeout=self._config.connect_timeout
            ) from exc
        connection.call_timeout = int(self._config.call_timeout * 1000)
        return connection

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A pooled ``oracledb.Connection`` with ``call_timeout`` set, returned on exit.

        The pool is created on first use. Acquiring is bounded by the
        connect timeout; every round trip by the call timeout. Raises an
        :class:`OracleServiceError` subclass (or ``CircuitOpenError``) when no
        connection can be had.
        """
        connection = self._guarded(self._acquire)
        try:
            yield connection
        finally:
            try:
                connection.close()
            except Exception as exc:
                _log.warning(
                    "oracle_connection_release_failed",
                    target=self.describe_target(),
                    error=type(exc).__name__,
                )

    def close(self) -> None:
        """Close the pool, waiting at most ``max(5 s, connect timeout)``; idempotent.

        Raises :class:`OracleTimeoutError` if the driver did not finish closing
        in time (a connect of its pool thread is stuck); the manager counts as
        closed anyway.
        """
        with self._pool_lock:
            pool, self._pool = self._pool, None
            already = self._closed
            self._closed = True
        if pool is None:
            if not already:
                _log.debug("oracle_manager_closed", target=self.describe_target(), pool=False)
            return
        wait = max(_MIN_CLOSE_WAIT_S, self._config.connect_timeout)
        started = time.perf_counter()
        finished, _, error = _Worker(
            lambda: pool.close(force=True), name="gruponos-oracle-pool-close"
        ).run(wait)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        if not finished:
            _log.error("oracle_pool_close_timed_out", target=self.describe_target(), waited_s=wait)
            raise OracleTimeoutError(
                f"timed out after {wait:.1f} s closing the connection pool for "
                f"{self.describe_target()}",
                details=self._timeout_details(wait),
            )
        if error is not None:
            mapped = classify_oracle_error(error, self._config, doing="closing the pool for")
            _log.warning(
                "oracle_pool_close_failed",
                target=self.describe_target(),
                error_code=mapped.code,
                error=mapped.message,
            )
            raise mapped from error
        _log.info("oracle_pool_closed", target=self.describe_target(), duration_ms=duration_ms)

    def close_all(self) -> None:
        """Alias of :meth:`close`, as the seed's ``connection_pool`` cleanup calls it."""
        self.close()


# -- health --------------------------------------------------------------------
def health_check(
    manager: OracleConnectionManager | None, timeout: float | None = None
) -> CheckOutcome:
    """The ``oracle:connection`` outcome: connect + round trip, latency in ms.

    ``None`` (Oracle not configured) is a skip.
    """
    if manager is None:
        return CheckOutcome.skipped(
            "Oracle is not configured (GRUPONOS_INFRA_ORACLE_HOST is not set)",
            component_type="datastore",
        )
    result = manager.ping(timeout)
    if result.failure:
        return CheckOutcome.failed(
            result.error or "Oracle ping failed",
            component_type="datastore",
            details={"error_code": result.error_code, "target": manager.describe_target()},
        )
    ping = result.value
    return CheckOutcome.passed(
        f"Oracle {ping.server_version} at {ping.target} answered {PING_SQL} in "
        f"{ping.latency_ms:.1f} ms (connect {ping.connect_ms:.0f} ms)",
        observed_value=round(ping.latency_ms, 2),
        observed_unit="ms",
        component_type="datastore",
        details={
            "server_version": ping.server_version,
            "target": ping.target,
            "connect_ms": round(ping.connect_ms, 2),
        },
    )


def oracle_service_check(timeout: float | None = None) -> ServiceCheck:
    """The ``oracle:connection`` check to carry on the ``oracle_manager`` registration.

    The ping is bounded by ``timeout`` (default: the manager's connect
    timeout); the check's own timeout leaves a little more, so the report
    shows the ping's message rather than a generic one.
    """
    return ServiceCheck(
        name=CHECK_NAME,
        probe=lambda manager: health_check(manager, timeout),
        tags=frozenset({"oracle", "database", "external"}),
        critical=True,
        timeout=None if timeout is None else timeout + _WORKER_GRACE_S + 0.5,
        description=f"connect to Oracle and run {PING_SQL}",
    )

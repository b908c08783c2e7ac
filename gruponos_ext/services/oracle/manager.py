"""The Oracle connection manager: a lazy pool, bounded pings and plain error messages.

python-oracledb (thin mode) is imported only when a connection is needed, so
wiring the container or describing the extension never pays for it.

Every wait is bounded by this module, not by driver parameters: a listener
that accepts the TCP connection and then says nothing makes a synchronous
``oracledb.connect()`` hang forever, whatever ``tcp_connect_timeout`` says.
So :meth:`OracleConnectionManager.ping` connects with ``connect_async`` under
``asyncio.wait_for`` on a private event loop, run through
:func:`~gruponos_ext.core.deadline.call_within` (the caller stops waiting at
the deadline even if that loop misbehaves), and the pool -- whose background
thread is *not* a daemon and would keep the process alive if it hung -- is
only created after such a bounded connect has succeeded.

Driver errors become :class:`~gruponos_ext.services.oracle.errors.OracleServiceError`
subclasses; what the server says (its version, a driver message) is outside
text and goes through the manager's :class:`~gruponos_ext.core.redaction.Redactor`.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gruponos_ext.core.deadline import DeadlineExceeded, call_within
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.result import Result
from gruponos_ext.services.breaker import CircuitOpenError
from gruponos_ext.services.client import ServiceClient
from gruponos_ext.services.oracle.config import OracleConfig, build_dsn
from gruponos_ext.services.oracle.errors import (
    OracleManagerClosedError,
    OracleServiceError,
    OracleTimeoutError,
    classify_oracle_error,
)

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings

__all__ = ["PING_SQL", "WORKER_GRACE_S", "OracleConnectionManager", "OraclePing"]

_log = get_logger(__name__)

PING_SQL = "SELECT 1 FROM DUAL"
WORKER_GRACE_S = 1.0
"""Extra time the caller grants a ping past its own deadline, for closing a
half-made connection and tearing the private loop down."""
# How long close() waits for the driver to close the pool.
_MIN_CLOSE_WAIT_S = 5.0


@dataclass(frozen=True, slots=True)
class OraclePing:
    """A successful ping: the ``SELECT 1 FROM DUAL`` round trip and the connect time (ms)."""

    latency_ms: float
    server_version: str
    target: str
    connect_ms: float = 0.0


class _Phase:
    """What a ping is doing, so a timeout message can say where it stopped."""

    def __init__(self) -> None:
        self.doing = "connecting to"


# -- the manager -----------------------------------------------------------------
class OracleConnectionManager(ServiceClient[OracleConfig]):
    """Connections to the GrupoNOS Oracle database.

    ``OracleConnectionManager(config, breaker=..., redactor=...)`` or
    :meth:`from_settings`; opens nothing when built. The pool is created on
    the first :meth:`connection`; :meth:`ping` uses a connection of its own;
    :meth:`close` (alias :meth:`close_all`, the seed's ``connection_pool``
    cleanup) closes the pool. With a ``breaker``, connects and pings go
    through it. ``redactor`` cleans what the server and the driver say
    before it is shown.
    """

    # Until the first connection (and again after close): no pool; both change
    # under the client's lazy lock.
    _pool: Any = None
    _closed = False

    @classmethod
    def config_from_settings(cls, settings: GruponosMeltanoSettings) -> OracleConfig:
        """See :meth:`OracleConfig.from_settings`."""
        return OracleConfig.from_settings(settings)

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
    @functools.cached_property
    def dsn(self) -> str:
        """The connect descriptor (it carries no credentials)."""
        return build_dsn(self._config)

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
            return self._refused(exc, f"connecting to Oracle at {self.describe_target()}")
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

    def _ping_bounded(self, timeout: float) -> OraclePing:
        # Imported here, not in the worker, so a cold import is not billed to the deadline.
        import asyncio  # noqa: F401

        import oracledb  # noqa: F401

        phase = _Phase()
        try:
            return call_within(
                lambda: self._ping_in_private_loop(timeout, phase),
                timeout + WORKER_GRACE_S,
                what=f"Oracle ping of {self.describe_target()}",
            )
        except DeadlineExceeded:
            raise OracleTimeoutError(
                f"timed out after {timeout:.1f} s {phase.doing} {self.describe_target()}",
                details=self._timeout_details(timeout),
            ) from None
        except OracleServiceError:
            raise
        except BaseException as exc:  # whatever ended the worker (even a cancelled loop) failed
            raise self._classify(exc, timeout=timeout, doing=phase.doing) from exc

    def _classify(
        self, exc: BaseException, *, timeout: float | None = None, doing: str = "connecting to"
    ) -> OracleServiceError:
        return classify_oracle_error(
            exc, self._config, timeout=timeout, doing=doing, redactor=self._redact
        )

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
                dsn=self.dsn,
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
                answer = self._redact(repr(row), limit=100)
                raise OracleServiceError(
                    f"unexpected answer to {PING_SQL} from {self.describe_target()}: {answer}"
                )
            return OraclePing(
                latency_ms=(answered - connected) * 1000,
                server_version=self._redact(str(connection.version), limit=100),
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
                        await asyncio.wait_for(connection.close(), WORKER_GRACE_S / 2)

        return asyncio.run(main())

    # -- pool ------------------------------------------------------------------
    def _ensure_pool(self) -> Any:
        with self._lazy_lock:
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
                    dsn=self.dsn,
                    min=config.pool_min,
                    max=config.pool_max,
                    increment=config.pool_increment,
                    tcp_connect_timeout=config.connect_timeout,
                    getmode=oracledb.POOL_GETMODE_TIMEDWAIT,
                    wait_timeout=int(config.connect_timeout * 1000),
                )
            except Exception as exc:
                raise self._classify(exc) from exc
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
            raise self._classify(exc, timeout=self._config.connect_timeout) from exc
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
        with self._lazy_lock:
            pool, self._pool = self._pool, None
            already = self._closed
            self._closed = True
        if pool is None:
            if not already:
                _log.debug("oracle_manager_closed", target=self.describe_target(), pool=False)
            return
        wait = max(_MIN_CLOSE_WAIT_S, self._config.connect_timeout)
        started = time.perf_counter()
        try:
            call_within(
                lambda: pool.close(force=True),
                wait,
                what=f"closing the Oracle pool for {self.describe_target()}",
            )
        except DeadlineExceeded:
            _log.error("oracle_pool_close_timed_out", target=self.describe_target(), waited_s=wait)
            raise OracleTimeoutError(
                f"timed out after {wait:.1f} s closing the connection pool for "
                f"{self.describe_target()}",
                details=self._timeout_details(wait),
            ) from None
        except Exception as error:
            mapped = self._classify(error, doing="closing the pool for")
            _log.warning(
                "oracle_pool_close_failed",
                target=self.describe_target(),
                error_code=mapped.code,
                error=mapped.message,
            )
            raise mapped from error
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        _log.info("oracle_pool_closed", target=self.describe_target(), duration_ms=duration_ms)

    def close_all(self) -> None:
        """Alias of :meth:`close`, as the seed's ``connection_pool`` cleanup calls it."""
        self.close()

"""The ``oracle:connection`` health check: connect, ``SELECT 1 FROM DUAL``, latency."""

from __future__ import annotations

from gruponos_ext.health.model import CheckOutcome, ServiceCheck
from gruponos_ext.services.oracle.config import NOT_CONFIGURED
from gruponos_ext.services.oracle.manager import PING_SQL, WORKER_GRACE_S, OracleConnectionManager

__all__ = ["CHECK_NAME", "health_check", "oracle_service_check"]

CHECK_NAME = "oracle:connection"


def health_check(
    manager: OracleConnectionManager | None, timeout: float | None = None
) -> CheckOutcome:
    """The ``oracle:connection`` outcome: connect + round trip, latency in ms.

    ``None`` (Oracle not configured) is a skip.
    """
    if manager is None:
        return CheckOutcome.skipped(NOT_CONFIGURED, component_type="datastore")
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
        timeout=None if timeout is None else timeout + WORKER_GRACE_S + 0.5,
        description=f"connect to Oracle and run {PING_SQL}",
    )

"""The ``wms_api:reachability`` health check: an authenticated GET of the health path."""

from __future__ import annotations

from gruponos_ext.health.model import CheckOutcome, ServiceCheck
from gruponos_ext.services.wms.client import WmsApiClient
from gruponos_ext.services.wms.config import NOT_CONFIGURED

__all__ = ["CHECK_NAME", "health_check", "wms_service_check"]

CHECK_NAME = "wms_api:reachability"


def health_check(client: WmsApiClient | None, timeout: float | None = None) -> CheckOutcome:
    """The ``wms_api:reachability`` outcome; ``None`` (not configured) is a skip."""
    if client is None:
        return CheckOutcome.skipped(NOT_CONFIGURED, component_type="system")
    result = client.probe(timeout)
    if result.failure:
        return CheckOutcome.failed(
            result.error or "WMS API probe failed",
            component_type="system",
            details={"error_code": result.error_code, "url": client.config.health_url},
        )
    probe = result.value
    return CheckOutcome.passed(
        f"WMS API at {probe.url} answered HTTP {probe.status} in {probe.latency_ms:.1f} ms",
        observed_value=round(probe.latency_ms, 2),
        observed_unit="ms",
        component_type="system",
        details={"status": probe.status, "url": probe.url},
    )


def wms_service_check(timeout: float | None = None) -> ServiceCheck:
    """The ``wms_api:reachability`` check to carry on the ``wms_client`` registration.

    The probe is bounded by ``timeout`` (default: the client's timeout); the
    check's own timeout leaves half a second more so the probe's message wins.
    """
    return ServiceCheck(
        name=CHECK_NAME,
        probe=lambda client: health_check(client, timeout),
        tags=frozenset({"wms", "api", "external"}),
        critical=True,
        timeout=None if timeout is None else timeout + 0.5,
        description="authenticated GET of the WMS API health path",
    )

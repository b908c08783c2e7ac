"""Alert channels that stay inside this process: the recorder and the log.

:class:`RecordingChannel` keeps alerts in memory (the test profile's
channel); :class:`LogChannel` writes them to the structured log, the
fallback when nothing else is configured.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from gruponos_ext.core.logging import get_logger
from gruponos_ext.services.alerts.channel import NamedChannel
from gruponos_ext.services.alerts.model import Alert, Severity

__all__ = ["LogChannel", "RecordingChannel"]

_log = get_logger(__name__)


class RecordingChannel(NamedChannel):
    """Keeps every alert in memory; the channel of ``configure_for_testing``.

    A real, side-effect-free destination, handy to assert what a component
    alerted about. Thread-safe.
    """

    def __init__(self, name: str = "recorder", timeout: float = 1.0) -> None:
        super().__init__(name, timeout)
        self._lock = threading.Lock()
        self._alerts: list[Alert] = []

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Alerts received so far, oldest first."""
        with self._lock:
            return tuple(self._alerts)

    def send(self, alert: Alert) -> None:
        with self._lock:
            self._alerts.append(alert)

    def clear(self) -> None:
        """Forget the recorded alerts."""
        with self._lock:
            self._alerts.clear()

    def __repr__(self) -> str:
        return f"RecordingChannel(name={self._name!r}, alerts={len(self._alerts)})"


_LOG_METHODS: Mapping[Severity, str] = {
    Severity.INFO: "info",
    Severity.WARNING: "warning",
    Severity.ERROR: "error",
    Severity.CRITICAL: "critical",
}


class LogChannel(NamedChannel):
    """Writes each alert as a structlog ``alert`` event at the alert's severity.

    The fallback when no other channel is configured, so an alert is never
    silently dropped.
    """

    def __init__(self, name: str = "log", timeout: float = 1.0) -> None:
        super().__init__(name, timeout)

    def send(self, alert: Alert) -> None:
        emit = getattr(_log, _LOG_METHODS[alert.severity])
        emit(
            "alert",
            title=alert.title,
            message=alert.message,
            severity=alert.severity.value,
            source=alert.source,
            job=alert.job,
            details=dict(alert.details),
            dedup_key=alert.dedup_key,
            alert_time=alert.iso_time,
        )

    def __repr__(self) -> str:
        return f"LogChannel(name={self._name!r})"

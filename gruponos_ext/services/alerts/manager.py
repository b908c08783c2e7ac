"""The alert manager: severity filter, de-duplication, fan-out to every channel, one report.

:class:`AlertManager` drops alerts below its minimum severity, asks an
:class:`AlertDeduplicator` (the state store) whether the alert was sent
within the window, then delivers to every channel at once -- each behind its
own circuit breaker, each bounded by its timeout through
:mod:`gruponos_ext.core.deadline` -- and reports the outcome per channel as
a :class:`~gruponos_ext.core.result.Result`; it never raises.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from gruponos_ext.core.deadline import Deadline, Pending, start
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.redaction import Redactor
from gruponos_ext.core.result import Result
from gruponos_ext.services.alerts.channel import (
    DEFAULT_CHANNEL_TIMEOUT,
    AlertChannel,
    describe_failure,
    shown_reason,
)
from gruponos_ext.services.alerts.configured import (
    AlertSettings,
    alert_redactor,
    channels_from_settings,
)
from gruponos_ext.services.alerts.delivery import AlertDelivery, ChannelOutcome
from gruponos_ext.services.alerts.local import LogChannel
from gruponos_ext.services.alerts.model import Alert, Severity

if TYPE_CHECKING:
    from gruponos_ext.services.breaker import CircuitBreaker

__all__ = [
    "ALERT_DELIVERY_FAILED",
    "AlertDeduplicator",
    "AlertManager",
    "ForgettingDeduplicator",
]

_log = get_logger(__name__)

ALERT_DELIVERY_FAILED = "ALERT_DELIVERY_FAILED"

# How long the manager waits past a channel's own timeout before it gives up
# on the channel: its own timeout error (clearer) normally arrives first.
_TIMEOUT_GRACE = 1.0


@runtime_checkable
class AlertDeduplicator(Protocol):
    """Decides whether an alert is sent, across processes and runs (the state store).

    ``should_send(key, window_s)`` is True at most once per key within the
    window and records the send in the same step (atomically).
    """

    def should_send(self, key: str, window_s: float, /) -> bool: ...


@runtime_checkable
class ForgettingDeduplicator(AlertDeduplicator, Protocol):
    """A deduplicator that can take a send back.

    When an alert reached no channel, the manager calls ``forget(key)`` so the
    next run tries again instead of being suppressed for a whole window.
    """

    def forget(self, key: str, /) -> None: ...


def _is_circuit_open(exc: BaseException) -> bool:
    from gruponos_ext.services.breaker import CircuitOpenError

    return isinstance(exc, CircuitOpenError)


class AlertManager:
    """Sends alerts to every channel; reports per channel; never raises.

    ``send`` drops alerts below ``min_severity`` (``suppressed="severity"``),
    asks ``deduplicator`` whether the alert's key was sent within
    ``dedup_window`` seconds (``suppressed="duplicate"``; a window of 0 turns
    de-duplication off; a deduplicator that fails lets the alert through), then
    delivers to all channels at once. The result is a failure with code
    ``ALERT_DELIVERY_FAILED`` when no channel delivered (all failed or were
    skipped by an open breaker); partial delivery is a success whose
    :class:`AlertDelivery` lists the failures. ``redactor`` cleans the
    failure text of channels that raise something else than
    :class:`~gruponos_ext.services.alerts.channel.AlertChannelError`.
    """

    def __init__(
        self,
        channels: Sequence[AlertChannel],
        *,
        min_severity: Severity | str = Severity.WARNING,
        breakers: Mapping[str, CircuitBreaker] | None = None,
        deduplicator: AlertDeduplicator | None = None,
        dedup_window: float = 3600.0,
        redactor: Redactor | None = None,
    ) -> None:
        channels = list(channels) or [LogChannel()]
        names = [c.name for c in channels]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"alert channel names must be unique; repeated: {duplicates}")
        unknown = sorted(set(breakers or {}) - set(names))
        if unknown:
            raise ValueError(f"breakers given for unknown alert channels {unknown}; have {names}")
        if dedup_window < 0:
            raise ValueError(f"dedup_window must be >= 0 seconds, got {dedup_window!r}")
        self._channels: tuple[AlertChannel, ...] = tuple(channels)
        self._min_severity = Severity.parse(min_severity)
        self._breakers: dict[str, CircuitBreaker] = dict(breakers or {})
        self._deduplicator = deduplicator
        self._dedup_window = float(dedup_window)
        self._redact = redactor if redactor is not None else Redactor()

    @classmethod
    def from_settings(
        cls,
        settings: AlertSettings,
        *,
        breakers: Mapping[str, CircuitBreaker] | None = None,
        deduplicator: AlertDeduplicator | None = None,
        timeout: float = DEFAULT_CHANNEL_TIMEOUT,
        redactor: Redactor | None = None,
    ) -> AlertManager:
        """Channels from the ``alert_*`` settings; a :class:`LogChannel` when none is set.

        Channel names are ``webhook``, ``slack`` and ``email``
        (:func:`~gruponos_ext.services.alerts.configured.channels_from_settings`);
        ``breakers`` is keyed by them (entries for channels that are not
        configured are ignored). ``redactor`` is what the configuration knows
        of its secrets (``GruponosMeltanoSettings.redactor()``); the alert
        secrets are added to it.
        """
        redactor = alert_redactor(settings, redactor)
        channels = channels_from_settings(settings, timeout=timeout, redactor=redactor)
        names = {c.name for c in channels}
        return cls(
            channels,
            min_severity=settings.alert_min_severity,
            breakers={k: v for k, v in (breakers or {}).items() if k in names},
            deduplicator=deduplicator,
            dedup_window=settings.alert_dedup_window,
            redactor=redactor,
        )

    @property
    def channels(self) -> tuple[AlertChannel, ...]:
        return self._channels

    @property
    def min_severity(self) -> Severity:
        return self._min_severity

    @property
    def dedup_window(self) -> float:
        return self._dedup_window

    def __repr__(self) -> str:
        return (
            f"AlertManager(channels={list(self._channels)!r}, "
            f"min_severity={self._min_severity.value}, dedup_window={self._dedup_window:g})"
        )

    def send(self, alert: Alert) -> Result[AlertDelivery]:
        """Deliver ``alert``; the Result says what happened on every channel."""
        try:
            return self._send(alert)
        except Exception as exc:  # the contract is "never raises"; this is the backstop
            _log.error("alert_manager_crashed", error=type(exc).__name__)
            return Result.fail(
                f"alert delivery crashed: {type(exc).__name__}",
                ALERT_DELIVERY_FAILED,
                exception=exc,
            )

    def _send(self, alert: Alert) -> Result[AlertDelivery]:
        key = alert.dedup_key
        if alert.severity < self._min_severity:
            _log.debug(
                "alert_suppressed", reason="severity", severity=alert.severity.value, dedup_key=key
            )
            return Result.ok(AlertDelivery(alert, suppressed="severity"))
        dedup = self._deduplicator if self._dedup_window > 0 else None
        if dedup is not None:
            try:
                fresh = dedup.should_send(key, self._dedup_window)
            except Exception as exc:
                # Better a repeated alert than a lost one.
                _log.warning("alert_dedup_unavailable", dedup_key=key, error=type(exc).__name__)
                fresh = True
            if not fresh:
                _log.info("alert_suppressed", reason="duplicate", dedup_key=key, title=alert.title)
                return Result.ok(AlertDelivery(alert, suppressed="duplicate"))

        delivery = AlertDelivery(alert, self._deliver(alert))
        if delivery.delivered:
            log = _log.warning if delivery.failed or delivery.skipped else _log.info
            log(
                "alert_sent",
                dedup_key=key,
                title=alert.title,
                severity=alert.severity.value,
                channels=dict(delivery.by_channel),
            )
            return Result.ok(delivery)

        if dedup is not None and isinstance(dedup, ForgettingDeduplicator):
            try:
                dedup.forget(key)
            except Exception as exc:
                _log.warning("alert_dedup_forget_failed", dedup_key=key, error=type(exc).__name__)
        _log.error(
            "alert_not_delivered",
            dedup_key=key,
            title=alert.title,
            severity=alert.severity.value,
            channels=dict(delivery.by_channel),
        )
        return Result.fail(
            f"alert {alert.title!r} reached no channel: {delivery.summary()}",
            ALERT_DELIVERY_FAILED,
            {"dedup_key": key, "channels": dict(delivery.by_channel), "delivery": delivery},
        )

    def _deliver(self, alert: Alert) -> tuple[ChannelOutcome, ...]:
        # Every channel runs at once, in a daemon thread of its own. Sequential
        # sending would make the total the *sum* of the timeouts, and a channel
        # that ignores its own timeout (a DNS lookup, a third-party channel)
        # would hold up every channel after it. Each channel is waited for at
        # most its timeout plus a grace from the common start, then abandoned
        # and reported failed; daemon threads never delay process exit.
        started = time.monotonic()
        finished = threading.Condition()
        calls: list[tuple[AlertChannel, Deadline, Pending[ChannelOutcome]]] = [
            (
                channel,
                Deadline(started + channel.timeout + _TIMEOUT_GRACE),
                start(
                    functools.partial(self._run_channel, channel, alert),
                    name=f"alert-{channel.name}",
                    notify=finished,
                ),
            )
            for channel in self._channels
        ]
        with finished:
            while waits := [d.remaining() for _, d, p in calls if not p.done and not d.expired]:
                finished.wait(min(waits))
        return tuple(self._outcome(channel, pending, started) for channel, _, pending in calls)

    def _outcome(
        self, channel: AlertChannel, pending: Pending[ChannelOutcome], started: float
    ) -> ChannelOutcome:
        if not pending.done:
            limit = channel.timeout + _TIMEOUT_GRACE
            return ChannelOutcome(
                channel.name, "failed", f"no answer within {limit:g} s", time.monotonic() - started
            )
        try:
            return pending.result()
        except BaseException as exc:  # even a SystemExit in a channel is that channel's failure
            return self._failed(channel, exc, pending.duration)

    def _failed(self, channel: AlertChannel, exc: BaseException, duration: float) -> ChannelOutcome:
        reason = shown_reason(self._redact, describe_failure(exc, channel.timeout))
        return ChannelOutcome(channel.name, "failed", reason, duration)

    def _run_channel(self, channel: AlertChannel, alert: Alert) -> ChannelOutcome:
        started = time.monotonic()
        breaker = self._breakers.get(channel.name)
        try:
            if breaker is None:
                channel.send(alert)
            else:
                breaker.call(channel.send, alert)
        except Exception as exc:
            if _is_circuit_open(exc):
                return ChannelOutcome(
                    channel.name, "skipped", "circuit open", time.monotonic() - started
                )
            return self._failed(channel, exc, time.monotonic() - started)
        return ChannelOutcome(channel.name, "delivered", None, time.monotonic() - started)

"""Alerts: the alert record, the channels that deliver it and the manager that fans it out.

- :mod:`~gruponos_ext.services.alerts.model` -- :class:`Severity`, :class:`Alert`.
- :mod:`~gruponos_ext.services.alerts.channel` -- the :class:`AlertChannel`
  protocol, :class:`AlertChannelError`, plain wording of network failures.
- :mod:`~gruponos_ext.services.alerts.webhook` -- JSON webhook and Slack (HTTP).
- :mod:`~gruponos_ext.services.alerts.smtp` -- e-mail over SMTP.
- :mod:`~gruponos_ext.services.alerts.local` -- the in-memory recorder and the log.
- :mod:`~gruponos_ext.services.alerts.configured` -- channels from the ``alert_*`` settings.
- :mod:`~gruponos_ext.services.alerts.delivery` -- the per-channel report.
- :mod:`~gruponos_ext.services.alerts.manager` -- :class:`AlertManager`:
  severity filter, de-duplication, bounded fan-out; never raises.

Every failure text a channel reports went through a
:class:`~gruponos_ext.core.redaction.Redactor` that knows the channel's
secrets (webhook URL tokens, the SMTP password); channels render their URL
only as ``scheme://host/…``.
"""

from __future__ import annotations

from gruponos_ext.services.alerts.channel import (
    DEFAULT_CHANNEL_TIMEOUT,
    AlertChannel,
    AlertChannelError,
    describe_failure,
)
from gruponos_ext.services.alerts.configured import AlertSettings, channels_from_settings
from gruponos_ext.services.alerts.delivery import AlertDelivery, ChannelOutcome
from gruponos_ext.services.alerts.local import LogChannel, RecordingChannel
from gruponos_ext.services.alerts.manager import (
    ALERT_DELIVERY_FAILED,
    AlertDeduplicator,
    AlertManager,
    ForgettingDeduplicator,
)
from gruponos_ext.services.alerts.model import Alert, Severity, derive_dedup_key
from gruponos_ext.services.alerts.smtp import EmailChannel
from gruponos_ext.services.alerts.webhook import SlackChannel, WebhookChannel

__all__ = [
    "ALERT_DELIVERY_FAILED",
    "DEFAULT_CHANNEL_TIMEOUT",
    "Alert",
    "AlertChannel",
    "AlertChannelError",
    "AlertDeduplicator",
    "AlertDelivery",
    "AlertManager",
    "AlertSettings",
    "ChannelOutcome",
    "EmailChannel",
    "ForgettingDeduplicator",
    "LogChannel",
    "RecordingChannel",
    "Severity",
    "SlackChannel",
    "WebhookChannel",
    "channels_from_settings",
    "derive_dedup_key",
    "describe_failure",
]

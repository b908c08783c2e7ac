"""Which alert channels the ``alert_*`` settings ask for: :func:`channels_from_settings`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gruponos_ext.core.redaction import Redactor
from gruponos_ext.services.alerts.channel import DEFAULT_CHANNEL_TIMEOUT, AlertChannel
from gruponos_ext.services.alerts.smtp import EmailChannel
from gruponos_ext.services.alerts.webhook import SlackChannel, WebhookChannel

__all__ = ["AlertSettings", "alert_redactor", "channels_from_settings"]


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class AlertSettings(Protocol):
    """The settings :meth:`AlertManager.from_settings` reads (``GruponosMeltanoSettings``)."""

    @property
    def alert_webhook_url(self) -> _Secret | str | None: ...
    @property
    def alert_slack_webhook_url(self) -> _Secret | str | None: ...
    @property
    def alert_smtp_host(self) -> str | None: ...
    @property
    def alert_smtp_port(self) -> int: ...
    @property
    def alert_smtp_user(self) -> str | None: ...
    @property
    def alert_smtp_password(self) -> _Secret | str | None: ...
    @property
    def alert_smtp_starttls(self) -> bool: ...
    @property
    def alert_email_from(self) -> str | None: ...
    @property
    def alert_email_to(self) -> Sequence[str]: ...
    @property
    def alert_min_severity(self) -> str: ...
    @property
    def alert_dedup_window(self) -> float: ...


def _reveal(value: _Secret | str | None) -> str | None:
    if value is None:
        return None
    revealed = value if isinstance(value, str) else value.get_secret_value()
    return revealed.strip() or None


def alert_redactor(settings: AlertSettings, redactor: Redactor | None = None) -> Redactor:
    """``redactor`` (or an empty one) that also knows every secret of the ``alert_*`` settings."""
    base = redactor if redactor is not None else Redactor()
    urls = (_reveal(settings.alert_webhook_url), _reveal(settings.alert_slack_webhook_url))
    return base.including(
        (url for url in urls if url),
        credentials=[(settings.alert_smtp_user, _reveal(settings.alert_smtp_password))],
    )


def channels_from_settings(
    settings: AlertSettings,
    *,
    timeout: float = DEFAULT_CHANNEL_TIMEOUT,
    redactor: Redactor | None = None,
) -> list[AlertChannel]:
    """The ``webhook``, ``slack`` and ``email`` channels that are configured, in that order.

    E-mail is configured by ``alert_smtp_host`` and then needs
    ``alert_email_from`` and ``alert_email_to`` (ValueError naming them).
    Every channel gets ``redactor`` plus the alert secrets.
    """
    redactor = alert_redactor(settings, redactor)
    channels: list[AlertChannel] = []
    webhook = _reveal(settings.alert_webhook_url)
    if webhook:
        channels.append(WebhookChannel(webhook, timeout, redactor=redactor))
    slack = _reveal(settings.alert_slack_webhook_url)
    if slack:
        channels.append(SlackChannel(slack, timeout, redactor=redactor))
    if settings.alert_smtp_host:
        if not settings.alert_email_to or not settings.alert_email_from:
            raise ValueError(
                "e-mail alerts need GRUPONOS_INFRA_ALERT_EMAIL_FROM and "
                "GRUPONOS_INFRA_ALERT_EMAIL_TO when GRUPONOS_INFRA_ALERT_SMTP_HOST is set"
            )
        channels.append(
            EmailChannel(
                settings.alert_smtp_host,
                settings.alert_smtp_port,
                settings.alert_smtp_user,
                _reveal(settings.alert_smtp_password),
                settings.alert_smtp_starttls,
                settings.alert_email_from,
                list(settings.alert_email_to),
                timeout,
                redactor=redactor,
            )
        )
    return channels

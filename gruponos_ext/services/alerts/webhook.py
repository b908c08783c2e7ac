"""Alert channels over HTTP: a generic JSON webhook and Slack incoming webhooks.

A webhook URL carries its credential in the path or query, so every
rendering of a channel (repr, logs, error messages) shows only
``scheme://host/…`` (:func:`~gruponos_ext.core.redaction.mask_url`), and what
the receiving server answers -- a status line, the first line of an error
body, which may echo the URL or the request -- is redacted with a
:class:`~gruponos_ext.core.redaction.Redactor` that knows the URL (and so its
token segments) before any message quotes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from gruponos_ext.core.redaction import Redactor, mask_url
from gruponos_ext.services.alerts.channel import (
    DEFAULT_CHANNEL_TIMEOUT,
    AlertChannelError,
    RemoteChannel,
    describe_failure,
    shown_reason,
)
from gruponos_ext.services.alerts.model import Alert, Severity

if TYPE_CHECKING:
    import urllib.request

__all__ = ["JsonPostChannel", "SlackChannel", "WebhookChannel"]

# How much of an error body a failure reason quotes (Slack says ``invalid_payload`` there).
_BODY_QUOTED = 120


def _no_redirects() -> urllib.request.HTTPRedirectHandler:
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        # A redirected POST silently turns into a GET without the body, and
        # could carry the alert elsewhere: report the 3xx instead.
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return _NoRedirect()


def describe_http_failure(exc: BaseException, timeout: float | None = None) -> str:
    """:func:`describe_failure` that also words HTTP statuses and urllib's wrapping.

    Not redacted: the reason phrase is the server's text.
    """
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):
        reason = f" {exc.reason}" if exc.reason else ""
        return f"HTTP {exc.code}{reason}"
    if isinstance(exc, urllib.error.URLError):
        inner = exc.reason
        if isinstance(inner, BaseException):
            return describe_http_failure(inner, timeout)
        return f"cannot reach host: {inner}"
    return describe_failure(exc, timeout)


def _error_body(exc: Any) -> str:
    """The first line of an HTTP error body, not yet redacted; empty when there is none."""
    try:
        raw = exc.read(200)
    except Exception:
        return ""
    lines = raw.decode("utf-8", "replace").strip().splitlines() if raw else []
    return lines[0].strip()[:_BODY_QUOTED] if lines else ""


class JsonPostChannel(RemoteChannel):
    """Shared plumbing of the webhook channels: one JSON POST, bounded by ``timeout``.

    ``redactor`` (optional) is what the configuration knows of its secrets;
    the channel adds its own URL to it.
    """

    kind: ClassVar[str] = "webhook"

    def __init__(
        self,
        url: str,
        timeout: float = DEFAULT_CHANNEL_TIMEOUT,
        *,
        name: str | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        from urllib.parse import unquote, urlsplit

        try:
            parts = urlsplit(url.strip())
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            valid = False
        if not valid:
            raise ValueError(
                f"{self.kind} URL must be http(s)://host/...; got {mask_url(url)}"
            ) from None
        self._url = url.strip()
        # A server may echo the URL, or just its token, percent-decoded or not.
        own = [self._url, unquote(self._url), parts.password or ""]
        super().__init__(
            name or self.kind,
            timeout,
            redactor=redactor,
            secrets=(secret for secret in own if secret),
        )

    @property
    def masked_url(self) -> str:
        """The URL as it may be shown: ``scheme://host/…``."""
        return mask_url(self._url)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self._name!r}, url={self.masked_url!r}, "
            f"timeout={self._timeout:g})"
        )

    __str__ = __repr__

    def payload(self, alert: Alert) -> dict[str, Any]:
        """The JSON body sent for ``alert``."""
        raise NotImplementedError

    def send(self, alert: Alert) -> None:
        """POST the payload; any 2xx is delivered, anything else raises AlertChannelError."""
        import urllib.error
        import urllib.request

        body = json.dumps(self.payload(alert), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            self._url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "gruponos-infra-alerts/1",
            },
        )
        opener = urllib.request.build_opener(_no_redirects())
        try:
            with opener.open(request, timeout=self._timeout) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            said = _error_body(exc)
            reason = describe_http_failure(exc, self._timeout) + (f": {said}" if said else "")
            raise AlertChannelError(
                f"POST to {self.masked_url} answered {shown_reason(self._redact, reason)}",
                details={"channel": self._name, "status": exc.code},
            ) from None
        except Exception as exc:
            wording = describe_http_failure(exc, self._timeout)
            # ``from None``: the original exception's text may quote the URL.
            raise self._undelivered(f"POST to {self.masked_url} failed: ", exc, wording) from None


class WebhookChannel(JsonPostChannel):
    """POSTs :meth:`Alert.to_dict` as JSON to a generic webhook (any 2xx = delivered)."""

    kind = "webhook"

    def payload(self, alert: Alert) -> dict[str, Any]:
        return alert.to_dict()


_SLACK_STYLE: Mapping[Severity, tuple[str, str]] = {
    Severity.INFO: (":information_source:", "#439FE0"),
    Severity.WARNING: (":warning:", "#DAA038"),
    Severity.ERROR: (":x:", "#D00000"),
    Severity.CRITICAL: (":rotating_light:", "#7A0019"),
}


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SlackChannel(JsonPostChannel):
    """POSTs to a Slack incoming webhook: a coloured attachment of Block Kit blocks.

    ``text`` (the notification fallback) starts with the severity emoji and
    label; the attachment's colour bar follows the severity; blocks show the
    message, severity, job, source, time, details and the de-duplication key.
    Texts are cut to Slack's block limits.
    """

    kind = "slack"

    def payload(self, alert: Alert) -> dict[str, Any]:
        emoji, colour = _SLACK_STYLE[alert.severity]
        label = alert.severity.label
        where = f" (job {alert.job})" if alert.job else ""
        fields = [
            {"type": "mrkdwn", "text": f"*Severity*\n{emoji} {label}"},
            {"type": "mrkdwn", "text": f"*Job*\n{_slack_escape(alert.job or '-')}"},
            {"type": "mrkdwn", "text": f"*Source*\n{_slack_escape(alert.source)}"},
            {"type": "mrkdwn", "text": f"*Time*\n{alert.iso_time}"},
        ]
        blocks: list[dict[str, Any]] = [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _cut(f"{label}: {alert.title}", 150)},
            },
            {"type": "section", "fields": fields},
        ]
        if alert.message:
            blocks.append(
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": _cut(_slack_escape(alert.message), 3000)},
                }
            )
        if alert.details:
            lines = "\n".join(
                f"• *{_slack_escape(k)}*: {_slack_escape(v)}" for k, v in alert.details.items()
            )
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": _cut(lines, 3000)}}
            )
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"dedup key `{alert.dedup_key}`"}],
            }
        )
        return {
            "text": _cut(f"{emoji} [{label}] {_slack_escape(alert.title)}{where}", 3000),
            "attachments": [{"color": colour, "blocks": blocks}],
        }

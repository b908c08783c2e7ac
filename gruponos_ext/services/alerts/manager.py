"""Alerts: severities, the alert record, delivery channels and the AlertManager.

An :class:`Alert` is an immutable record; a *channel* delivers it somewhere
(a generic JSON webhook, a Slack incoming webhook, e-mail over SMTP, the log,
or an in-memory recorder) and raises :class:`AlertChannelError` when it
cannot. :class:`AlertManager` filters by severity, de-duplicates across runs
through an :class:`AlertDeduplicator` (the state store), fans the alert out to
every channel -- each behind its own circuit breaker -- and reports the
outcome per channel as a :class:`~gruponos_ext.core.result.Result`; it never
raises.

Webhook URLs carry their credential in the path or query, so every rendering
of a channel (repr, logs, error messages) shows only ``scheme://host/…``
(:func:`mask_url`); SMTP passwords are never rendered at all.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.result import Result

if TYPE_CHECKING:
    import ssl
    import urllib.request
    from email.message import EmailMessage

    from gruponos_ext.services.breaker import CircuitBreaker

__all__ = [
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
    "derive_dedup_key",
    "mask_url",
    "sanitize_error",
]

_log = get_logger(__name__)

DEFAULT_CHANNEL_TIMEOUT = 10.0
"""Seconds a channel may take to deliver one alert (connect, send, answer)."""

ALERT_DELIVERY_FAILED = "ALERT_DELIVERY_FAILED"

# How long the manager waits past a channel's own timeout before it gives up
# on the channel: its own timeout error (clearer) normally arrives first.
_TIMEOUT_GRACE = 1.0
_MAX_REASON = 300
_REDACTED = "***"


# -- severity -----------------------------------------------------------------
class Severity(Enum):
    """How bad it is: ``info < warning < error < critical``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        """``"WARNING"``, ``"warn"``, ``" error "`` -> the member; ValueError names the choices."""
        if isinstance(value, Severity):
            return value
        key = str(value).strip().lower()
        key = _SEVERITY_ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown severity {value!r}; expected one of {choices}") from None

    @property
    def rank(self) -> int:
        """0 for info up to 3 for critical."""
        return _SEVERITY_ORDER.index(self.value)

    @property
    def label(self) -> str:
        """Upper-case name, as shown in subjects: ``"CRITICAL"``."""
        return self.value.upper()

    def __str__(self) -> str:
        return self.value

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_SEVERITY_ORDER = ("info", "warning", "error", "critical")
_SEVERITY_ALIASES = {"warn": "warning", "err": "error", "crit": "critical", "fatal": "critical"}


# -- the alert ------------------------------------------------------------------
def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def derive_dedup_key(title: str, job: str | None, severity: Severity) -> str:
    """The default de-duplication key: a stable digest of title, job and severity.

    The message is left out on purpose: it usually carries run-specific text
    (exit codes, output tails) that would make every repeat look new.
    """
    raw = "\x1f".join((title.strip(), job or "", severity.value))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Alert:
    """Something operators must hear about.

    ``details`` are short string facts (exit code, host, run id...) shown by
    every channel; ``dedup_key`` defaults to :func:`derive_dedup_key`;
    ``time`` must be timezone-aware and is stored in UTC.
    """

    title: str
    message: str
    severity: Severity
    source: str = "gruponos-infra"
    job: str | None = None
    details: Mapping[str, str] = field(default_factory=dict, hash=False)
    dedup_key: str = ""
    time: datetime = field(default_factory=_utcnow)

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("an alert needs a non-empty title")
        severity = Severity.parse(self.severity)
        object.__setattr__(self, "severity", severity)
        # A private copy: the caller's dict can change, this alert must not.
        object.__setattr__(self, "details", {str(k): str(v) for k, v in self.details.items()})
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise ValueError("Alert.time must be timezone-aware (use datetime.now(timezone.utc))")
        object.__setattr__(self, "time", self.time.astimezone(timezone.utc))
        if not self.dedup_key:
            object.__setattr__(self, "dedup_key", derive_dedup_key(self.title, self.job, severity))

    @property
    def iso_time(self) -> str:
        """``time`` as ISO 8601 with a ``Z`` suffix."""
        return self.time.isoformat().replace("+00:00", "Z")

    def to_dict(self) -> dict[str, Any]:
        """The alert as JSON-ready data: the generic webhook's payload.

        ``{"version": 1, "title", "message", "severity": "error", "source",
        "job": str | null, "details": {str: str}, "dedup_key", "time":
        "2024-05-01T10:20:30.123456Z"}``.
        """
        return {
            "version": 1,
            "title": self.title,
            "message": self.message,
            "severity": self.severity.value,
            "source": self.source,
            "job": self.job,
            "details": dict(self.details),
            "dedup_key": self.dedup_key,
            "time": self.iso_time,
        }


# -- secrets and error messages ----------------------------------------------------
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>]+")


def mask_url(url: str) -> str:
    """``https://hooks.slack.com/services/T0/B0/XyZ?x=1`` -> ``https://hooks.slack.com/…``.

    Keeps scheme, host and port; drops user info, path, query and fragment,
    which is where webhook tokens live. Unparseable input gives ``<invalid url>``.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<invalid url>"
    if not parts.scheme or not host:
        return "<invalid url>"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}/…"


def _scrub(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, _REDACTED)
    text = _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
    if len(text) > _MAX_REASON:
        text = text[: _MAX_REASON - 1] + "…"
    return text


def sanitize_error(
    exc: BaseException, *, timeout: float | None = None, secrets: Iterable[str] = ()
) -> str:
    """A short, secret-free reason for ``exc``, as shown in deliveries and logs.

    Known network, TLS, HTTP and SMTP failures get a plain wording
    (``"connection refused"``, ``"timed out after 5 s"``, ``"HTTP 500 Internal
    Server Error"``); anything else is ``"Type: message"``. URLs are masked
    and every string in ``secrets`` is replaced by ``***``.
    """
    return _scrub(_describe(exc, timeout), secrets)


def _describe(exc: BaseException, timeout: float | None) -> str:
    # Imported here: only a failing delivery pays for them, and the channels
    # that raise these have imported them already.
    import smtplib
    import socket
    import ssl
    import urllib.error

    if isinstance(exc, GruponosError):
        return exc.message
    if isinstance(exc, urllib.error.HTTPError):
        reason = f" {exc.reason}" if exc.reason else ""
        return f"HTTP {exc.code}{reason}"
    if isinstance(exc, urllib.error.URLError):
        inner = exc.reason
        if isinstance(inner, BaseException):
            return _describe(inner, timeout)
        return f"cannot reach host: {inner}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"SMTP authentication rejected ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(f"{addr} ({code})" for addr, (code, _) in exc.recipients.items())
        return f"every recipient refused: {refused}"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender {exc.sender} refused ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        msg = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return f"SMTP error {exc.smtp_code}: {msg}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib reports a read timeout as a disconnection; say what happened.
        if isinstance(exc.__context__, TimeoutError):
            return _describe(exc.__context__, timeout)
        return "the SMTP server closed the connection"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"not supported by the SMTP server: {exc}"
    if isinstance(exc, smtplib.SMTPException):
        return f"SMTP error: {exc}"
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g} s" if timeout is not None else "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or type(exc).__name__}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "cannot resolve the host name"
    if isinstance(exc, OSError):
        return f"cannot reach host: {exc.strerror or type(exc).__name__}"
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class AlertChannelError(GruponosError):
    """A channel could not deliver an alert; the message is already sanitised."""

    code = "ALERT_CHANNEL_FAILED"


# -- channels ---------------------------------------------------------------------
@runtime_checkable
class AlertChannel(Protocol):
    """Delivers alerts to one destination.

    ``send`` returns when the destination accepted the alert and raises
    (preferably :class:`AlertChannelError`) when it did not; it gives up after
    about ``timeout`` seconds. ``name`` is unique within an
    :class:`AlertManager` and keys breakers and outcomes.
    """

    @property
    def name(self) -> str: ...

    @property
    def timeout(self) -> float: ...

    def send(self, alert: Alert) -> None: ...


def _check_timeout(timeout: float) -> float:
    if not timeout > 0:
        raise ValueError(f"a channel timeout must be > 0 seconds, got {timeout!r}")
    return float(timeout)


def _no_redirects() -> urllib.request.HTTPRedirectHandler:
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        # A redirected POST silently turns into a GET without the body, and
        # could carry the alert elsewhere: report the 3xx instead.
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return _NoRedirect()


class _JsonPostChannel:
    """Shared plumbing of the webhook channels: one JSON POST, bounded by ``timeout``."""

    kind: ClassVar[str] = "webhook"

    def __init__(
        self, url: str, timeout: float = DEFAULT_CHANNEL_TIMEOUT, *, name: str | None = None
    ) -> None:
        from urllib.parse import urlsplit

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
        self._name = name or self.kind
        self._timeout = _check_timeout(timeout)

    @property
    def name(self) -> str:
        return self._name

    @property
    def timeout(self) -> float:
        return self._timeout

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
            reason = sanitize_error(exc, timeout=self._timeout, secrets=self._secrets())
            answer = _error_body(exc, self._secrets())
            raise AlertChannelError(
                f"POST to {self.masked_url} answered {reason}{answer}",
                details={"channel": self._name, "status": exc.code},
            ) from None
        except Exception as exc:
            reason = sanitize_error(exc, timeout=self._timeout, secrets=self._secrets())
            # ``from None``: the original exception's text may quote the URL.
            raise AlertChannelError(
                f"POST to {self.masked_url} failed: {reason}",
                details={"channel": self._name, "cause": type(exc).__name__},
            ) from None

    def _secrets(self) -> tuple[str, ...]:
        from urllib.parse import parse_qsl, urlsplit

        # Any piece of the path or query may be the token, and a server may
        # echo it bare in its error text ("invalid token ..."): scrub them all.
        parts = urlsplit(self._url)
        pieces = [self._url, parts.path, parts.query, parts.password or ""]
        pieces += parts.path.split("/")
        pieces += [v for _, v in parse_qsl(parts.query, keep_blank_values=True)]
        return tuple(p for p in pieces if len(p) >= 6)


def _error_body(exc: Any, secrets: Sequence[str]) -> str:
    """The first line of an HTTP error body (Slack says ``invalid_payload`` there)."""
    try:
        raw = exc.read(200)
    except Exception:
        return ""
    text = raw.decode("utf-8", "replace").strip().splitlines() if raw else []
    if not text or not text[0].strip():
        return ""
    return f": {_scrub(text[0].strip()[:120], secrets)}"


class WebhookChannel(_JsonPostChannel):
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


class SlackChannel(_JsonPostChannel):
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


def _header_safe(text: str) -> str:
    return " ".join(text.split())


class EmailChannel:
    """Sends each alert as a plain-text e-mail over SMTP.

    Subject ``[SEVERITY] title``; headers ``X-Gruponos-Severity``,
    ``X-Gruponos-Source``, ``X-Gruponos-Job`` (when set) and
    ``X-Gruponos-Dedup-Key``. With ``starttls`` the server must offer STARTTLS
    and present a certificate ``ssl_context`` trusts (the system's by
    default): the channel never falls back to clear text. ``user`` and
    ``password`` go together; login happens after STARTTLS. The socket
    timeout applies to every SMTP step.
    """

    def __init__(
        self,
        host: str,
        port: int = 587,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        sender: str | None = None,
        recipients: Sequence[str] = (),
        timeout: float = DEFAULT_CHANNEL_TIMEOUT,
        *,
        name: str = "email",
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if not host or not host.strip():
            raise ValueError("an SMTP host is required")
        if not 0 < port < 65536:
            raise ValueError(f"SMTP port must be 1..65535, got {port}")
        if bool(user) != bool(password):
            raise ValueError("SMTP user and password go together: set both or neither")
        if not sender or not _looks_like_address(sender):
            raise ValueError(f"a sender address is required for e-mail alerts, got {sender!r}")
        if isinstance(recipients, str):
            recipients = [r.strip() for r in recipients.split(",") if r.strip()]
        bad = [r for r in recipients if not _looks_like_address(r)]
        if not recipients or bad:
            raise ValueError(
                f"e-mail alerts need valid recipient addresses; bad: {bad or '(none)'}"
            )
        self.host = host.strip()
        self.port = port
        self.user = user or None
        self._password = password or None
        self.starttls = starttls
        self.sender = sender
        self.recipients = tuple(recipients)
        self._name = name
        self._timeout = _check_timeout(timeout)
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname

    @property
    def name(self) -> str:
        return self._name

    @property
    def timeout(self) -> float:
        return self._timeout

    def __repr__(self) -> str:
        return (
            f"EmailChannel(name={self._name!r}, host={self.host!r}, port={self.port}, "
            f"user={self.user!r}, starttls={self.starttls}, sender={self.sender!r}, "
            f"recipients={len(self.recipients)}, timeout={self._timeout:g})"
        )

    __str__ = __repr__

    def build_message(self, alert: Alert) -> EmailMessage:
        """The e-mail sent for ``alert`` (no network)."""
        from email.message import EmailMessage
        from email.utils import format_datetime, make_msgid

        msg = EmailMessage()
        msg["Subject"] = _header_safe(f"[{alert.severity.label}] {alert.title}")
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = format_datetime(alert.time, usegmt=True)
        # An explicit domain: make_msgid() would otherwise do a DNS lookup.
        domain = self.sender.rpartition("@")[2] or "gruponos-infra.invalid"
        msg["Message-ID"] = make_msgid("gruponos-alert", domain=domain)
        msg["X-Gruponos-Severity"] = alert.severity.value
        msg["X-Gruponos-Source"] = _header_safe(alert.source)
        if alert.job:
            msg["X-Gruponos-Job"] = _header_safe(alert.job)
        msg["X-Gruponos-Dedup-Key"] = alert.dedup_key
        lines = [
            alert.message,
            "",
            f"Severity: {alert.severity.label}",
            f"Job: {alert.job or '-'}",
            f"Source: {alert.source}",
            f"Time: {alert.iso_time}",
            f"Dedup key: {alert.dedup_key}",
        ]
        if alert.details:
            lines += ["", "Details:"] + [f"  {k}: {v}" for k, v in alert.details.items()]
        msg.set_content("\n".join(lines) + "\n")
        return msg

    def send(self, alert: Alert) -> None:
        """Connect, optionally STARTTLS and log in, send; raise AlertChannelError on failure."""
        import smtplib
        import socket
        import ssl

        message = self.build_message(alert)
        where = f"SMTP {self.host}:{self.port}"
        secrets = (self._password,) if self._password else ()
        try:
            # gethostname(), not smtplib's default getfqdn(): no DNS lookup.
            local = self._local_hostname or socket.gethostname() or "localhost"
            with smtplib.SMTP(
                self.host, self.port, timeout=self._timeout, local_hostname=local
            ) as smtp:
                smtp.ehlo()
                if self.starttls:
                    if not smtp.has_extn("starttls"):
                        raise AlertChannelError(
                            f"{where}: the server does not offer STARTTLS; "
                            "refusing to send in clear text (set starttls off to allow it)",
                            details={"channel": self._name},
                        )
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                    smtp.ehlo()
                elif self.user:
                    _log.warning("alert_smtp_auth_without_tls", channel=self._name, host=self.host)
                if self.user and self._password:
                    smtp.login(self.user, self._password)
                refused = smtp.send_message(
                    message, from_addr=self.sender, to_addrs=list(self.recipients)
                )
        except AlertChannelError:
            raise
        except Exception as exc:
            reason = sanitize_error(exc, timeout=self._timeout, secrets=secrets)
            # ``from None``: smtplib errors can echo what was sent.
            raise AlertChannelError(
                f"{where}: {reason}", details={"channel": self._name, "cause": type(exc).__name__}
            ) from None
        if refused:
            _log.warning(
                "alert_email_recipients_refused",
                channel=self._name,
                refused=sorted(refused),
                accepted=len(self.recipients) - len(refused),
            )


_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")


def _looks_like_address(value: str) -> bool:
    return bool(_ADDRESS.match(value.strip()))


class RecordingChannel:
    """Keeps every alert in memory; the channel of ``configure_for_testing``.

    A real, side-effect-free destination, handy to assert what a component
    alerted about. Thread-safe.
    """

    def __init__(self, name: str = "recorder", timeout: float = 1.0) -> None:
        self._name = name
        self._timeout = _check_timeout(timeout)
        self._lock = threading.Lock()
        self._alerts: list[Alert] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def timeout(self) -> float:
        return self._timeout

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


class LogChannel:
    """Writes each alert as a structlog ``alert`` event at the alert's severity.

    The fallback when no other channel is configured, so an alert is never
    silently dropped.
    """

    def __init__(self, name: str = "log", timeout: float = 1.0) -> None:
        self._name = name
        self._timeout = _check_timeout(timeout)

    @property
    def name(self) -> str:
        return self._name

    @property
    def timeout(self) -> float:
        return self._timeout

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


# -- delivery report ---------------------------------------------------------------
OutcomeStatus = Literal["delivered", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    """What happened on one channel; ``str()`` gives ``delivered`` / ``failed: reason``."""

    channel: str
    status: OutcomeStatus
    reason: str | None = None
    duration: float = 0.0

    def __str__(self) -> str:
        return f"{self.status}: {self.reason}" if self.reason else self.status


@dataclass(frozen=True, slots=True)
class AlertDelivery:
    """The outcome of :meth:`AlertManager.send`.

    ``suppressed`` is ``"severity"`` (below the minimum) or ``"duplicate"``
    (sent within the de-duplication window) when no channel was tried;
    ``outcomes`` has one entry per channel, in channel order.
    """

    alert: Alert
    outcomes: tuple[ChannelOutcome, ...] = ()
    suppressed: Literal["severity", "duplicate"] | None = None

    @property
    def delivered(self) -> tuple[str, ...]:
        """Names of the channels that delivered."""
        return tuple(o.channel for o in self.outcomes if o.status == "delivered")

    @property
    def failed(self) -> Mapping[str, str]:
        """Channel name -> reason, for channels that failed."""
        return {o.channel: o.reason or "" for o in self.outcomes if o.status == "failed"}

    @property
    def skipped(self) -> Mapping[str, str]:
        """Channel name -> reason, for channels skipped (circuit open)."""
        return {o.channel: o.reason or "" for o in self.outcomes if o.status == "skipped"}

    @property
    def by_channel(self) -> Mapping[str, str]:
        """Channel name -> ``"delivered"`` / ``"failed: reason"`` / ``"skipped: circuit open"``."""
        return {o.channel: str(o) for o in self.outcomes}

    def summary(self) -> str:
        """One line for people: ``webhook delivered; email failed: ...``."""
        if self.suppressed:
            return f"suppressed ({self.suppressed})"
        return "; ".join(f"{o.channel} {o}" for o in self.outcomes) or "no channel"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dedup key, suppression and the per-channel outcomes."""
        return {
            "title": self.alert.title,
            "severity": self.alert.severity.value,
            "dedup_key": self.alert.dedup_key,
            "suppressed": self.suppressed,
            "channels": dict(self.by_channel),
        }


# -- protocols the manager depends on --------------------------------------------
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


def _is_circuit_open(exc: BaseException) -> bool:
    from gruponos_ext.services.breaker import CircuitOpenError

    return isinstance(exc, CircuitOpenError)


# -- the manager --------------------------------------------------------------------
class AlertManager:
    """Sends alerts to every channel; reports per channel; never raises.

    ``send`` drops alerts below ``min_severity`` (``suppressed="severity"``),
    asks ``deduplicator`` whether the alert's key was sent within
    ``dedup_window`` seconds (``suppressed="duplicate"``; a window of 0 turns
    de-duplication off; a deduplicator that fails lets the alert through), then
    delivers to all channels at once. The result is a failure with code
    ``ALERT_DELIVERY_FAILED`` when no channel delivered (all failed or were
    skipped by an open breaker); partial delivery is a success whose
    :class:`AlertDelivery` lists the failures.
    """

    def __init__(
        self,
        channels: Sequence[AlertChannel],
        *,
        min_severity: Severity | str = Severity.WARNING,
        breakers: Mapping[str, CircuitBreaker] | None = None,
        deduplicator: AlertDeduplicator | None = None,
        dedup_window: float = 3600.0,
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

    @classmethod
    def from_settings(
        cls,
        settings: AlertSettings,
        *,
        breakers: Mapping[str, CircuitBreaker] | None = None,
        deduplicator: AlertDeduplicator | None = None,
        timeout: float = DEFAULT_CHANNEL_TIMEOUT,
    ) -> AlertManager:
        """Channels from the ``alert_*`` settings; a :class:`LogChannel` when none is set.

        Channel names are ``webhook``, ``slack`` and ``email``; ``breakers``
        is keyed by them (entries for channels that are not configured are
        ignored). E-mail is configured by ``alert_smtp_host`` and then needs
        ``alert_email_from`` and ``alert_email_to``.
        """
        channels: list[AlertChannel] = []
        webhook = _reveal(settings.alert_webhook_url)
        if webhook:
            channels.append(WebhookChannel(webhook, timeout))
        slack = _reveal(settings.alert_slack_webhook_url)
        if slack:
            channels.append(SlackChannel(slack, timeout))
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
                )
            )
        names = {c.name for c in channels}
        return cls(
            channels,
            min_severity=settings.alert_min_severity,
            breakers={k: v for k, v in (breakers or {}).items() if k in names},
            deduplicator=deduplicator,
            dedup_window=settings.alert_dedup_window,
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
        # Every channel runs in its own daemon thread, all at once. Sequential
        # sending would make the total the *sum* of the timeouts, and a channel
        # that ignores its own timeout (a DNS lookup, a third-party channel)
        # would hold up every channel after it. Here each channel is waited for
        # at most its timeout plus a grace from a common start, then abandoned
        # and reported failed; daemon threads never delay process exit.
        slots: list[ChannelOutcome | None] = [None] * len(self._channels)
        start = time.monotonic()
        threads = []
        for index, channel in enumerate(self._channels):
            thread = threading.Thread(
                target=self._run_channel,
                args=(index, channel, alert, slots),
                name=f"alert-{channel.name}",
                daemon=True,
            )
            thread.start()
            threads.append(thread)
        outcomes = []
        for index, (channel, thread) in enumerate(zip(self._channels, threads, strict=True)):
            limit = channel.timeout + _TIMEOUT_GRACE
            thread.join(max(0.0, start + limit - time.monotonic()))
            outcome = slots[index]
            if outcome is None:
                outcome = ChannelOutcome(
                    channel.name,
                    "failed",
                    f"no answer within {limit:g} s",
                    time.monotonic() - start,
                )
            outcomes.append(outcome)
        return tuple(outcomes)

    def _run_channel(
        self,
        index: int,
        channel: AlertChannel,
        alert: Alert,
        slots: list[ChannelOutcome | None],
    ) -> None:
        started = time.monotonic()
        breaker = self._breakers.get(channel.name)
        try:
            if breaker is None:
                channel.send(alert)
            else:
                breaker.call(channel.send, alert)
        except Exception as exc:
            if _is_circuit_open(exc):
                outcome = ChannelOutcome(
                    channel.name, "skipped", "circuit open", time.monotonic() - started
                )
            else:
                reason = sanitize_error(exc, timeout=channel.timeout)
                outcome = ChannelOutcome(channel.name, "failed", reason, time.monotonic() - started)
        else:
            outcome = ChannelOutcome(channel.name, "delivered", None, time.monotonic() - started)
        slots[index] = outcome

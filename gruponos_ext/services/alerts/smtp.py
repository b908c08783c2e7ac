"""The e-mail alert channel: one plain-text message per alert over SMTP.

The SMTP password is never rendered; what the server replies is outside text
and goes through the channel's :class:`~gruponos_ext.core.redaction.Redactor`
(which knows the user/password pair, so an echoed ``AUTH PLAIN`` is caught).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.procfs import host_name
from gruponos_ext.core.redaction import Redactor
from gruponos_ext.services.alerts.channel import (
    DEFAULT_CHANNEL_TIMEOUT,
    AlertChannelError,
    RemoteChannel,
    describe_failure,
)
from gruponos_ext.services.alerts.model import Alert

if TYPE_CHECKING:
    import ssl
    from email.message import EmailMessage

__all__ = ["EmailChannel", "describe_smtp_failure"]

_log = get_logger(__name__)


def describe_smtp_failure(exc: BaseException, timeout: float | None = None) -> str:
    """:func:`describe_failure` that also words SMTP replies.

    Not redacted: a reply is the server's text.
    """
    import smtplib

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
            return describe_failure(exc.__context__, timeout)
        return "the SMTP server closed the connection"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"not supported by the SMTP server: {exc}"
    if isinstance(exc, smtplib.SMTPException):
        return f"SMTP error: {exc}"
    return describe_failure(exc, timeout)


def _header_safe(text: str) -> str:
    return " ".join(text.split())


class EmailChannel(RemoteChannel):
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
        redactor: Redactor | None = None,
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
        # The AUTH exchange is base64 of the user and password: an echo of it is caught too.
        super().__init__(
            name, timeout, redactor=redactor, credentials=[(user or None, password or None)]
        )
        self.host = host.strip()
        self.port = port
        self.user = user or None
        self._password = password or None
        self.starttls = starttls
        self.sender = sender
        self.recipients = tuple(recipients)
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname

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
        import ssl

        message = self.build_message(alert)
        where = f"SMTP {self.host}:{self.port}"
        try:
            # The host name, not smtplib's default getfqdn(): no DNS lookup.
            local = self._local_hostname or host_name() or "localhost"
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
            wording = describe_smtp_failure(exc, self._timeout)
            # ``from None``: smtplib errors can echo what was sent.
            raise self._undelivered(f"{where}: ", exc, wording) from None
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

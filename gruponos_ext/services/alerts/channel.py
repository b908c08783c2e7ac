"""What every alert channel is: the :class:`AlertChannel` protocol and how its failures read.

A channel delivers an alert to one destination or raises; the reason it
gives is already redacted (:class:`AlertChannelError`). Network failures get
a plain wording (:func:`describe_failure`); the channel families add their
own (HTTP statuses, SMTP replies) before falling back to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.redaction import Redactor, mask_urls_in
from gruponos_ext.services.alerts.model import Alert

__all__ = [
    "DEFAULT_CHANNEL_TIMEOUT",
    "MAX_REASON",
    "AlertChannel",
    "AlertChannelError",
    "NamedChannel",
    "RemoteChannel",
    "check_timeout",
    "describe_failure",
    "shown_reason",
]

DEFAULT_CHANNEL_TIMEOUT = 10.0
"""Seconds a channel may take to deliver one alert (connect, send, answer)."""

MAX_REASON = 300
"""How long a failure reason may get (after redaction)."""


def shown_reason(redact: Redactor, text: str) -> str:
    """A failure reason as it may be shown: redacted, cut, URLs reduced to their host.

    A reason quotes outside text (a server's reply, a foreign exception).
    ``redact`` removes the secrets it knows; a URL it does not know may still
    carry a token, so only its destination is kept.
    """
    return mask_urls_in(redact(text, limit=MAX_REASON))


class AlertChannelError(GruponosError):
    """A channel could not deliver an alert; the message is already redacted."""

    code = "ALERT_CHANNEL_FAILED"


@runtime_checkable
class AlertChannel(Protocol):
    """Delivers alerts to one destination.

    ``send`` returns when the destination accepted the alert and raises
    (preferably :class:`AlertChannelError`) when it did not; it gives up after
    about ``timeout`` seconds. ``name`` is unique within an
    :class:`~gruponos_ext.services.alerts.manager.AlertManager` and keys
    breakers and outcomes.
    """

    @property
    def name(self) -> str: ...

    @property
    def timeout(self) -> float: ...

    def send(self, alert: Alert) -> None: ...


def check_timeout(timeout: float) -> float:
    """``timeout`` as a float; ValueError unless it is > 0."""
    if not timeout > 0:
        raise ValueError(f"a channel timeout must be > 0 seconds, got {timeout!r}")
    return float(timeout)


class NamedChannel:
    """The ``name`` and ``timeout`` every channel has; the channels here build on it."""

    def __init__(self, name: str, timeout: float) -> None:
        self._name = name
        self._timeout = check_timeout(timeout)

    @property
    def name(self) -> str:
        """Unique within a manager; keys breakers and outcomes."""
        return self._name

    @property
    def timeout(self) -> float:
        """Seconds one delivery may take."""
        return self._timeout


class RemoteChannel(NamedChannel):
    """A channel that talks to a server: its secrets are known, its failures quoted safely.

    ``redactor`` (optional) is what the configuration knows of its secrets;
    the channel adds its own ``secrets`` and ``credentials`` to it, and every
    reason it gives passes through the result (:func:`shown_reason`).
    """

    def __init__(
        self,
        name: str,
        timeout: float,
        *,
        redactor: Redactor | None,
        secrets: Iterable[str] = (),
        credentials: Iterable[tuple[str | None, str | None]] = (),
    ) -> None:
        super().__init__(name, timeout)
        base = redactor if redactor is not None else Redactor()
        self._redact = base.including(secrets, credentials=credentials)

    def _undelivered(self, prefix: str, exc: BaseException, wording: str) -> AlertChannelError:
        """The error of a delivery that raised ``exc``: ``prefix`` and ``wording``, redacted.

        Raise it ``from None``: the original exception's text may quote a secret.
        """
        return AlertChannelError(
            prefix + shown_reason(self._redact, wording),
            details={"channel": self._name, "cause": type(exc).__name__},
        )


def describe_failure(exc: BaseException, timeout: float | None = None) -> str:
    """A short wording of a network, TLS or timeout failure; ``Type: message`` otherwise.

    Not redacted: the caller passes the result through its redactor, since
    the message of a foreign exception is outside text.

    >>> describe_failure(ConnectionRefusedError(111, "Connection refused"))
    'connection refused'
    >>> describe_failure(TimeoutError(), timeout=5)
    'timed out after 5 s'
    """
    # Imported here: only a failing delivery pays for them.
    import socket
    import ssl

    if isinstance(exc, GruponosError):
        return exc.message
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

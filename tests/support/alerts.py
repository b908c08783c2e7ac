"""Real local servers for alert tests (127.0.0.1 only), as reusable pytest fixtures.

- ``webhook_receiver``: a threaded ``http.server`` that records every request
  (method, path, headers, body; ``.json()``) and answers ``status`` (200 by
  default) with ``response_body`` -- or, with ``hang = True``, records the
  request and never answers. ``wait_for(n)`` blocks until n requests arrived.
- ``smtp_server``: an aiosmtpd server recording every message (envelope,
  parsed ``EmailMessage``, whether the session was authenticated / TLS).
  ``SmtpServer(auth=(user, password), auth_require_tls=False)`` accepts AUTH
  on a plain connection; ``SmtpServer(tls_context=..., require_starttls=True)``
  offers STARTTLS (e.g. with ``tests.support.net.self_signed_cert``).
- ``echoing_smtp``: an :class:`EchoingSmtpListener`, a raw-socket SMTP server
  that accepts any ``AUTH PLAIN`` and then rejects the message quoting the
  AUTH line it was sent (base64 of ``\0user\0password``), as a badly
  written relay might.

Raw sockets (``closed_port``, ``silent_listener``) and the test certificate
(``self_signed_cert``) come from ``tests.support.net``; they are not duplicated
here, so both plugins can be registered together without fixture clashes.

Registered as a plugin by ``tests/conftest.py``; test modules import the
helper classes from here.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.net import Listener

__all__ = [
    "EchoingSmtpListener",
    "ReceivedMail",
    "ReceivedRequest",
    "SmtpServer",
    "WebhookReceiver",
    "echoing_smtp",
    "smtp_server",
    "webhook_receiver",
]

LOCALHOST = "127.0.0.1"


# -- HTTP webhook receiver ----------------------------------------------------------
@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the receiver saw it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that records requests.

    Set ``status``/``response_body``/``response_headers`` to choose the answer,
    ``hang = True`` to never answer (the request is still recorded).
    Thread-safe; usable as a context manager.
    """

    def __init__(self) -> None:
        self.status = 200
        self.response_body = b"ok"
        self.response_headers: dict[str, str] = {}
        self.hang = False
        self._requests: list[ReceivedRequest] = []
        self._cond = threading.Condition()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer((LOCALHOST, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            # A short poll interval: close() (shutdown) waits up to one interval.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="webhook-receiver",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def url(self, path: str = "/hook") -> str:
        """A URL on this receiver; put a token in ``path`` to test masking."""
        return f"{self.base_url}{path if path.startswith('/') else '/' + path}"

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._cond:
            return list(self._requests)

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedRequest]:
        """The first ``count`` requests; AssertionError if they do not arrive in time."""
        with self._cond:
            arrived = self._cond.wait_for(lambda: len(self._requests) >= count, timeout)
            if not arrived:
                raise AssertionError(
                    f"expected {count} request(s) within {timeout} s, got {len(self._requests)}"
                )
            return list(self._requests[:count])

    def reset(self) -> None:
        with self._cond:
            self._requests.clear()
        self.status, self.response_body, self.hang = 200, b"ok", False
        self.response_headers = {}

    def close(self) -> None:
        self._release.set()  # lets hanging handlers finish
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, request: ReceivedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver._record(
                    ReceivedRequest(self.command, self.path, dict(self.headers.items()), body)
                )
                if receiver.hang:
                    receiver._release.wait(60)
                    self.close_connection = True
                    return
                payload = receiver.response_body
                self.send_response(receiver.status)
                for name, value in receiver.response_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET = do_PUT = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A started :class:`WebhookReceiver`, closed after the test."""
    with WebhookReceiver() as receiver:
        yield receiver


# -- SMTP server ------------------------------------------------------------------
@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server accepted it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    authenticated_as: str | None
    tls: bool

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        content = part.get_content()
        assert isinstance(content, str)
        return content


@dataclass
class _Recorder:
    mails: list[ReceivedMail] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        login = getattr(session.auth_data, "login", None)
        mail = ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=parsed,
            raw=raw,
            authenticated_as=login.decode() if isinstance(login, bytes) else login,
            tls=session.ssl is not None,
        )
        with self.cond:
            self.mails.append(mail)
            self.cond.notify_all()
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real aiosmtpd server on 127.0.0.1 (a free port, bound before start).

    ``auth=(user, password)`` requires AUTH with those credentials (every
    attempt is recorded in ``logins`` as ``(user, accepted)``);
    ``tls_context`` offers STARTTLS; ``require_starttls`` refuses mail without it.
    """

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        auth_require_tls: bool = True,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
    ) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self._recorder = _Recorder()
        recorder = self._recorder
        sock = socket.socket()
        sock.bind((LOCALHOST, 0))
        self.host = LOCALHOST
        self.port = int(sock.getsockname()[1])

        kwargs: dict[str, Any] = {
            "require_starttls": require_starttls,
            "auth_require_tls": auth_require_tls,
        }
        if tls_context is not None:
            kwargs["tls_context"] = tls_context
        if auth is not None:
            expected = (auth[0].encode(), auth[1].encode())

            def authenticator(
                server: Any, session: Any, envelope: Any, mechanism: str, data: Any
            ) -> Any:
                ok = isinstance(data, LoginPassword) and (data.login, data.password) == expected
                with recorder.cond:
                    login = data.login.decode() if isinstance(data, LoginPassword) else "?"
                    recorder.logins.append((login, ok))
                return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

            kwargs["authenticator"] = authenticator
            kwargs["auth_required"] = True

        class _BoundController(Controller):  # type: ignore[misc]
            # Serves on a socket bound to port 0 beforehand: no port race.
            def _create_server(self) -> Any:
                return self.loop.create_server(self._factory_invoker, sock=sock)

        self._controller = _BoundController(
            recorder, hostname=LOCALHOST, port=self.port, ready_timeout=10.0, **kwargs
        )
        self._controller.start()

    @property
    def mails(self) -> list[ReceivedMail]:
        with self._recorder.cond:
            return list(self._recorder.mails)

    @property
    def logins(self) -> list[tuple[str, bool]]:
        with self._recorder.cond:
            return list(self._recorder.logins)

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:
        """The first ``count`` mails; AssertionError if they do not arrive in time."""
        with self._recorder.cond:
            arrived = self._recorder.cond.wait_for(
                lambda: len(self._recorder.mails) >= count, timeout
            )
            if not arrived:
                raise AssertionError(
                    f"expected {count} mail(s) within {timeout} s, got {len(self._recorder.mails)}"
                )
            return list(self._recorder.mails[:count])

    def close(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server (no AUTH, no TLS) recording every message."""
    with SmtpServer() as server:
        yield server


# -- an SMTP server that echoes the login ------------------------------------------
class EchoingSmtpListener(Listener):
    """Speaks just enough SMTP to take a login and a message, then rejects the message.

    The rejection (``554``) quotes the ``AUTH`` line the client sent; ``auth_lines``
    records those lines.
    """

    def __init__(self) -> None:
        self.auth_lines: list[str] = []
        super().__init__()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(5.0)
        stream = conn.makefile("rwb")

        def reply(line: str) -> None:
            stream.write(line.encode() + b"\r\n")
            stream.flush()

        reply("220 echo.test ESMTP")
        auth = "-"
        while line := stream.readline():
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = text.split(" ", 1)[0].upper()
            if verb == "EHLO":
                reply("250-echo.test")
                reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                auth = text
                self.auth_lines.append(text)
                reply("235 2.7.0 Authentication successful")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP", "HELO"):
                reply("250 OK")
            elif verb == "DATA":
                reply("354 End data with <CR><LF>.<CR><LF>")
                while (data := stream.readline()) and data not in (b".\r\n", b".\n"):
                    pass
                reply(f"554 5.7.1 Message rejected; you logged in with {auth}")
            elif verb == "QUIT":
                reply("221 Bye")
                return
            else:
                reply("502 Command not implemented")


@pytest.fixture
def echoing_smtp() -> Iterator[EchoingSmtpListener]:
    """An :class:`EchoingSmtpListener` on 127.0.0.1, closed after the test."""
    listener = EchoingSmtpListener()
    yield listener
    listener.close()

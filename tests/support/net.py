"""Real sockets and HTTP servers on 127.0.0.1 for tests of network clients.

Registered as a plugin by ``tests/conftest.py``; test modules import the
helper classes from ``tests.support.net``.

Nothing here is a mock: every fixture is a real listening socket in this
process, served by daemon threads and closed at teardown.

- ``closed_port``: a port on 127.0.0.1 nothing listens on (connects are refused).
- ``silent_listener``: accepts TCP connections and never sends a byte
  (a hung listener, or a firewall that drops packets after the handshake).
- ``silent_http_url``: ``http://127.0.0.1:<port>`` of such a listener.
- ``garbage_listener``: reads the first bytes a client sends, answers with
  bytes of no known protocol and closes.
- ``tns_refuse_listener``: factory ``(err_code) -> Listener``; imitates an
  Oracle listener that refuses the connect with ``(ERR=<err_code>)``
  (12514 unknown service, 12505 unknown SID, 12520 no handler...).
- ``http_server``: factory ``(routes=None, *, default=404, basic_auth=None,
  tls=None) -> HttpTestServer``; answers the status codes it is given per
  path, optionally requires HTTP Basic credentials (answering 401 otherwise),
  and records every request. A ``Route(status, echo=True)`` answers like a
  careless proxy: it echoes the request back (see :class:`Route`).
- ``self_signed_cert``: ``(certfile, keyfile)`` for ``localhost``/127.0.0.1,
  made with ``cryptography`` (skips when it is not installed).
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "GarbageListener",
    "HttpTestServer",
    "Listener",
    "RecordedRequest",
    "Route",
    "SilentListener",
    "TnsRefuseListener",
    "closed_port",
    "garbage_listener",
    "http_server",
    "self_signed_cert",
    "silent_http_url",
    "silent_listener",
    "tns_refuse_listener",
]

HOST = "127.0.0.1"


def free_port() -> int:
    """A port that was free a moment ago (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


# -- raw TCP listeners -------------------------------------------------------------
class Listener:
    """A TCP listener on 127.0.0.1 whose connections are handled by :meth:`handle`."""

    def __init__(self) -> None:
        self._server = socket.create_server((HOST, 0), backlog=64)
        self._server.settimeout(0.1)
        self.host = HOST
        self.port: int = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self.accepted = 0
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"{type(self).__name__}-{self.port}", daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.accepted += 1
                self._connections.append(conn)
            threading.Thread(target=self._safe_handle, args=(conn,), daemon=True).start()

    def _safe_handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        """Serve one connection (runs in its own daemon thread)."""

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.close()


class SilentListener(Listener):
    """Accepts connections and never answers; they stay open until :meth:`close`."""


class GarbageListener(Listener):
    """Reads what the client sends first, answers ``garbage`` and closes."""

    garbage = b"\x00\xff\x13\x37 this is no protocol at all \xde\xad\xbe\xef" * 8

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        with contextlib.suppress(TimeoutError):
            conn.recv(65536)
        conn.sendall(self.garbage)
        conn.close()


class TnsRefuseListener(Listener):
    """Answers a TNS connect packet with a REFUSE packet carrying ``(ERR=<code>)``.

    That is what a real Oracle listener sends for an unknown service (12514)
    or SID (12505); python-oracledb turns it into DPY-6001/DPY-6003/DPY-6000.
    """

    def __init__(self, err_code: int) -> None:
        self.err_code = err_code
        super().__init__()

    def refuse_packet(self) -> bytes:
        text = (
            f"(DESCRIPTION=(TMP=)(VSNNUM=0)(ERR={self.err_code})"
            f"(ERROR_STACK=(ERROR=(CODE={self.err_code})(EMFI=4))))"
        ).encode()
        # REFUSE payload: user reason, system reason, data length, data.
        payload = b"\x00\x00" + len(text).to_bytes(2, "big") + text
        # Packet header: length (2 bytes before the ACCEPT), checksum, type 4, flags, checksum.
        header = (8 + len(payload)).to_bytes(2, "big") + b"\x00\x00" + b"\x04\x00" + b"\x00\x00"
        return header + payload

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(2.0)
        with contextlib.suppress(TimeoutError):
            conn.recv(65536)
        conn.sendall(self.refuse_packet())
        # Let the client read the packet before the EOF arrives.
        self._stop.wait(0.2)
        conn.close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections."""
    return free_port()


@pytest.fixture
def silent_listener() -> Iterator[SilentListener]:
    """A TCP listener on 127.0.0.1 that accepts and never answers."""
    listener = SilentListener()
    yield listener
    listener.close()


@pytest.fixture
def silent_http_url(silent_listener: SilentListener) -> str:
    """``http://127.0.0.1:<port>`` of a server that accepts and never answers."""
    return f"http://{silent_listener.host}:{silent_listener.port}"


@pytest.fixture
def garbage_listener() -> Iterator[GarbageListener]:
    """A TCP listener that answers garbage to whatever it is sent, then closes."""
    listener = GarbageListener()
    yield listener
    listener.close()


@pytest.fixture
def tns_refuse_listener() -> Iterator[Callable[[int], TnsRefuseListener]]:
    """Factory: an imitation Oracle listener refusing every connect with ``(ERR=code)``."""
    listeners: list[TnsRefuseListener] = []

    def make(err_code: int) -> TnsRefuseListener:
        listener = TnsRefuseListener(err_code)
        listeners.append(listener)
        return listener

    yield make
    for listener in listeners:
        listener.close()


# -- HTTP ------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """What the server answers on one path. ``body`` may be bytes, str or JSON-able data.

    ``echo=True`` ignores ``body`` and echoes the request back, as a careless
    proxy or a debugging endpoint does: the ``Authorization`` token as the
    status line's reason phrase and in ``X-Echo-Authorization``, the path and
    query as ``Location``, and a body whose first line quotes the header, the
    target and the request body, followed by the same as JSON.
    """

    status: int = 200
    body: Any = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    echo: bool = False

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received; ``authorized`` is None when no auth is required."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    authorized: bool | None
    body: bytes = b""


class HttpTestServer:
    """A threaded HTTP(S) server on 127.0.0.1 answering configured statuses per path."""

    def __init__(
        self,
        routes: Mapping[str, int | Route] | None = None,
        *,
        default: int | Route = 404,
        basic_auth: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._routes: dict[str, Route] = {}
        for path, route in (routes or {}).items():
            self.set_route(path, route)
        self.default = default if isinstance(default, Route) else Route(default)
        self.basic_auth = basic_auth
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((HOST, 0), _make_handler(self))
        self._httpd.daemon_threads = True
        if tls is not None:
            # Handshake in the handler thread, so a non-TLS client cannot stall accept().
            self._httpd.socket = tls.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self.scheme = "https" if tls is not None else "http"
        self.host = HOST
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"HttpTestServer-{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:<port>`` (no trailing slash)."""
        return f"{self.scheme}://{self.host}:{self.port}"

    def set_route(self, path: str, route: int | Route) -> None:
        self._routes[path] = route if isinstance(route, Route) else Route(route)

    def route_for(self, path: str) -> Route:
        return self._routes.get(path, self.default)

    def expected_authorization(self) -> str | None:
        if self.basic_auth is None:
            return None
        token = f"{self.basic_auth[0]}:{self.basic_auth[1]}".encode()
        return "Basic " + base64.b64encode(token).decode("ascii")

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=2)


def _make_handler(server: HttpTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            sent = self.rfile.read(length) if length else b""
            expected = server.expected_authorization()
            authorized = None if expected is None else self.headers.get("Authorization") == expected
            server.record(
                RecordedRequest(
                    self.command, path, query, dict(self.headers.items()), authorized, sent
                )
            )
            if authorized is False:
                route = Route(401, "credentials required", {"WWW-Authenticate": 'Basic realm="t"'})
            else:
                route = server.route_for(path)
            if route.echo:
                self._echo(route, sent)
                return
            body, content_type = route.encoded()
            self.send_response(route.status)
            headers = {"Content-Type": content_type, **route.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _echo(self, route: Route, sent: bytes) -> None:
            authorization = self.headers.get("Authorization", "")
            token = authorization.partition(" ")[2] or "-"
            text = sent.decode("utf-8", "replace")
            first = f"you sent Authorization: {authorization} to {self.path} with {text}"
            echoed = {"authorization": authorization, "target": self.path, "body": text}
            body = (" ".join(first.split()) + "\n" + json.dumps(echoed)).encode()
            self.send_response(route.status, f"Echo {token}")
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("X-Echo-Authorization", authorization or "-")
            self.send_header("Location", self.path)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _serve
        do_HEAD = _serve
        do_POST = _serve

    return Handler


@pytest.fixture
def http_server() -> Iterator[Callable[..., HttpTestServer]]:
    """Factory for :class:`HttpTestServer`; every server is shut down at teardown.

    ``http_server({"/health": 200, "/down": 500}, basic_auth=("u", "p"))``
    """
    servers: list[HttpTestServer] = []

    def make(
        routes: Mapping[str, int | Route] | None = None,
        *,
        default: int | Route = 404,
        basic_auth: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> HttpTestServer:
        server = HttpTestServer(routes, default=default, basic_auth=basic_auth, tls=tls)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def self_signed_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(certfile, keyfile)``: a self-signed certificate for localhost and 127.0.0.1."""
    pytest.importorskip("cryptography", reason="cryptography is needed to make a certificate")
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certfile, keyfile


def server_tls_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """A server-side TLS context for :class:`HttpTestServer` from ``self_signed_cert``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    return context

"""A real, throw-away PostgreSQL server for the state-store tests.

- ``postgres_server`` (session): the server every PostgreSQL test shares. It is
  the user's own when ``GRUPONOS_TEST_PG_URI`` is set; otherwise one started
  here with the machine's PostgreSQL binaries (Debian's
  ``/usr/lib/postgresql/<version>/bin``) and stopped at the end of the session.
- ``pg_state_uri`` / ``pg_schema``: a fresh schema of that server per test
  (dropped afterwards), so tests never see each other's rows.
- ``own_postgres``: a server of the test's own, which the test may stop and
  start again (:func:`start_postgres` makes one).

When no server can be had, the tests that need one are skipped with the
reason, except under CI (``CI`` set), where they fail: a green CI must have
run them.

PostgreSQL refuses to run as root, so as root the server runs as an
unprivileged system user (created with ``useradd --system`` when missing) in
a mode-755 directory of its own: pytest's ``/tmp/pytest-of-root`` is mode 700
and that user could not reach a data directory below it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = [
    "PG_URI_ENV",
    "PostgresServer",
    "PostgresUnavailable",
    "find_pg_bin",
    "own_postgres",
    "pg_schema",
    "pg_state_uri",
    "postgres_server",
    "require_server",
    "start_postgres",
]

PG_URI_ENV = "GRUPONOS_TEST_PG_URI"
SERVER_USER = "gruponos-pg"
_START_ATTEMPTS = 3


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here (the reason is the message)."""


def find_pg_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``pg_ctl``."""
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return None
    candidates = sorted(
        (p / "bin" for p in root.iterdir() if (p / "bin" / "pg_ctl").exists()),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parent.name.split(".")],
    )
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    """The user the server runs as: None when we are not root (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    else:
        return SERVER_USER
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and "already exists" not in result.stderr:
        raise PostgresUnavailable(f"cannot create user {SERVER_USER}: {result.stderr.strip()}")
    return SERVER_USER


@dataclass
class PostgresServer:
    """A PostgreSQL server: ``uri`` connects as its superuser to database ``postgres``."""

    uri: str
    host: str
    port: int
    owned: bool = False
    data_dir: Path | None = None
    bin_dir: Path | None = None
    user: str | None = None
    log_file: Path | None = None
    _base: Path | None = field(default=None, repr=False)

    def _as_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--", *argv] if self.user else argv

    def _pg_ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        assert self.bin_dir is not None and self.data_dir is not None
        return subprocess.run(
            self._as_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args]),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            close_fds=True,  # an inherited lock descriptor would never be released
            stdin=subprocess.DEVNULL,
        )

    def start(self) -> None:
        """Start the server (again) on its port; waits until it accepts connections."""
        assert self.owned and self.data_dir is not None and self.log_file is not None
        self._clear_leftovers()
        options = (
            f"-p {self.port} -k {self.data_dir.parent / 'sock'} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        result = self._pg_ctl("-w", "-t", "60", "-l", str(self.log_file), "start", "-o", options)
        if result.returncode != 0:
            log = (
                self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            )
            raise PostgresUnavailable(
                f"pg_ctl start failed ({result.returncode}): {result.stderr.strip()} {log}"
            )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode``: smart, fast or immediate); waits until it is gone."""
        if self.owned:
            self._pg_ctl("-w", "-t", "60", "-m", mode, "stop")

    @property
    def running(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1):
            return True
        return False

    def _clear_leftovers(self) -> None:
        """Remove the lock files of a killed server, once nothing runs in its data dir."""
        assert self.data_dir is not None
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().split()[0])
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.05)  # a killed postmaster may be a zombie for a while
        pid_file.unlink(missing_ok=True)
        sock_dir = self.data_dir.parent / "sock"
        for lock in sock_dir.glob(".s.PGSQL.*.lock"):
            lock.unlink(missing_ok=True)

    def remove(self) -> None:
        """Stop the server and delete its files."""
        if not self.owned:
            return
        with contextlib.suppress(Exception):
            self.stop("immediate")
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)

    def connect(self, dbname: str | None = None) -> object:
        """A psycopg connection (autocommit) to ``dbname`` (default: the URI's database)."""
        import psycopg

        uri = self.uri if dbname is None else self.uri_for(dbname)
        return psycopg.connect(
            uri.replace("postgresql+psycopg://", "postgresql://", 1),
            autocommit=True,
            connect_timeout=10,
        )

    def execute(self, statement: str, *params: object, dbname: str | None = None) -> list[tuple]:
        """Run one statement as the superuser; its rows (empty when it returns none)."""
        with self.connect(dbname) as conn:  # type: ignore[attr-defined]
            cursor = conn.execute(statement, params or None)
            return list(cursor.fetchall()) if cursor.description else []

    def uri_for(self, dbname: str) -> str:
        return self.uri.rsplit("/", 1)[0] + f"/{dbname}"

    @contextlib.contextmanager
    def scratch_database(self, prefix: str) -> Iterator[str]:
        """A new, empty database named ``<prefix><random>``, dropped afterwards."""
        name = f"{prefix}{uuid.uuid4().hex[:10]}"
        self.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def start_postgres() -> PostgresServer:
    """A new server of its own (initdb + start), on a free port; ``remove()`` it when done."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise PostgresUnavailable(
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin "
            "(apt-get install -y postgresql, or set GRUPONOS_TEST_PG_URI)"
        )
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="gruponos-pg-", dir="/tmp"))
    base.chmod(0o755)  # the server's user must traverse it
    data_dir, sock_dir, log_file = base / "data", base / "sock", base / "server.log"
    for directory in (data_dir, sock_dir):
        directory.mkdir()
    log_file.touch()
    if user is not None:
        entry = pwd.getpwnam(user)
        for path in (data_dir, sock_dir, log_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    init = subprocess.run(
        (["runuser", "-u", user, "--"] if user else [])
        + [str(bin_dir / "initdb"), "-D", str(data_dir), "-A", "trust", "-U", "postgres"]
        + ["-E", "UTF8", "--locale=C", "--no-sync"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        close_fds=True,
        stdin=subprocess.DEVNULL,
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-1000:]}")
    last: Exception | None = None
    for _ in range(_START_ATTEMPTS):  # another process may take the free port first
        port = _free_port()
        server = PostgresServer(
            uri=f"postgresql://postgres@127.0.0.1:{port}/postgres",
            host="127.0.0.1",
            port=port,
            owned=True,
            data_dir=data_dir,
            bin_dir=bin_dir,
            user=user,
            log_file=log_file,
            _base=base,
        )
        try:
            server.start()
        except (PostgresUnavailable, subprocess.TimeoutExpired) as exc:
            last = exc
            continue
        return server
    shutil.rmtree(base, ignore_errors=True)
    raise PostgresUnavailable(f"the server did not start: {last}")


def _external_server(uri: str) -> PostgresServer:
    from urllib.parse import urlsplit

    parts = urlsplit(uri.replace("postgresql+psycopg://", "postgresql://", 1))
    return PostgresServer(uri=uri, host=parts.hostname or "localhost", port=parts.port or 5432)


def require_server(reason: str) -> None:
    """Skip the test with ``reason`` -- or fail it under CI, where it must run."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's server: ``GRUPONOS_TEST_PG_URI``'s, or a throw-away one started here."""
    given = os.environ.get(PG_URI_ENV)
    if given:
        yield _external_server(given)
        return
    try:
        server = start_postgres()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
        require_server(str(exc))
        return
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def pg_schema(postgres_server: PostgresServer) -> Iterator[str]:
    """A schema name of the test's own, dropped (with everything in it) afterwards."""
    schema = f"gi_test_{uuid.uuid4().hex[:12]}"
    try:
        yield schema
    finally:
        with contextlib.suppress(Exception):
            postgres_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_state_uri(postgres_server: PostgresServer) -> str:
    """The server's URI, as a user would put it in ``state_uri``."""
    return postgres_server.uri


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A throw-away server of this test's own (it may stop and start it); removed afterwards."""
    try:
        server = start_postgres()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
        require_server(str(exc))
        raise  # not reached: require_server skips or fails
    try:
        yield server
    finally:
        server.remove()

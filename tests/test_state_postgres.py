"""What only the PostgreSQL store has: its own schema, bounded waits, safe errors, lazy driver.

Against the session's real server (``tests.support.postgres``).
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gruponos_ext.state import LockOwner, StateStoreError
from gruponos_ext.state.postgres import PostgresStateStore, PostgresTarget, StateUriError
from gruponos_ext.state.postgres.schema import SCHEMA_VERSION
from tests.support.cli import CLI_BIN
from tests.support.net import SilentListener
from tests.support.postgres import PostgresServer
from tests.support.runs import clean_env

SECRET = "Pg-S3cr3t-9431"
OUR_TABLES = {
    "schema_version",
    "runs",
    "locks",
    "lock_fences",
    "health_results",
    "alert_state",
    "alerts",
}


def tables(server: PostgresServer, schema: str, dbname: str | None = None) -> set[str]:
    rows = server.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        schema,
        dbname=dbname,
    )
    return {r[0] for r in rows}


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database of the test's own (its ``public`` schema starts empty)."""
    with postgres_server.scratch_database("gi_db_") as name:
        yield name


def test_every_table_lives_in_our_schema_and_none_in_public(
    postgres_server: PostgresServer, database: str
) -> None:
    uri = postgres_server.uri_for(database).replace("postgresql://", "postgresql+psycopg://")
    store = PostgresStateStore(uri, schema="gruponos_infra")
    store.acquire_lock("job", LockOwner.current("ctx"), 60)
    store.start_run("job", "ctx", host="h", pid=1)
    store.should_send("k", 60)

    assert tables(postgres_server, "gruponos_infra", database) == OUR_TABLES
    assert tables(postgres_server, "public", database) == set()
    sequences = postgres_server.execute(
        "SELECT sequence_schema FROM information_schema.sequences", dbname=database
    )
    assert {r[0] for r in sequences} == {"gruponos_infra"}
    assert postgres_server.execute(
        "SELECT max(version) FROM gruponos_infra.schema_version", dbname=database
    ) == [(SCHEMA_VERSION,)]


def _open_and_ping(uri: str, schema: str, results: Any) -> None:
    try:
        results.put(PostgresStateStore(uri, schema=schema, timeout_s=30).ping())
    except Exception as exc:  # reported to the parent
        results.put(f"error: {exc!r}")


def test_processes_creating_the_schema_together_all_succeed_and_migrate_once(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_open_and_ping, args=(postgres_server.uri, pg_schema, results))
        for _ in range(8)
    ]
    for proc in procs:
        proc.start()
    answers = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert not [a for a in answers if a.startswith("error")], answers
    assert postgres_server.execute(f'SELECT count(*) FROM "{pg_schema}".schema_version') == [(1,)]


def test_a_schema_from_a_newer_version_is_refused(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    PostgresStateStore(postgres_server.uri, schema=pg_schema).ping()
    postgres_server.execute(f'INSERT INTO "{pg_schema}".schema_version (version) VALUES (99)')
    with pytest.raises(StateStoreError) as info:
        PostgresStateStore(postgres_server.uri, schema=pg_schema).ping()
    assert info.value.reason == "schema" and "upgrade" in info.value.message


def test_a_user_who_may_not_create_the_schema_is_told_what_to_do(
    postgres_server: PostgresServer, database: str
) -> None:
    role = f"gi_limited_{uuid.uuid4().hex[:6]}"
    postgres_server.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
    try:
        uri = (
            f"postgresql://{role}:{SECRET}@{postgres_server.host}:{postgres_server.port}/{database}"
        )
        with pytest.raises(StateStoreError) as info:
            PostgresStateStore(uri, schema="gruponos_infra").ping()
        assert info.value.reason == "denied"
        assert "CREATE SCHEMA gruponos_infra AUTHORIZATION" in info.value.message
        assert SECRET not in str(info.value)

        # What the message says works: a DBA creates the schema for the user.
        postgres_server.execute(
            f"CREATE SCHEMA gruponos_infra AUTHORIZATION {role}", dbname=database
        )
        assert "schema gruponos_infra" in PostgresStateStore(uri).ping()
        assert tables(postgres_server, "public", database) == set()
    finally:
        postgres_server.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        postgres_server.execute(f"DROP ROLE IF EXISTS {role}")


def test_a_server_that_refuses_connections_is_named_without_the_password(
    closed_port: int,
) -> None:
    uri = f"postgresql+psycopg://etl:{SECRET}@127.0.0.1:{closed_port}/meltano"
    store = PostgresStateStore(uri, timeout_s=5)
    began = time.monotonic()
    with pytest.raises(StateStoreError) as info:
        store.acquire_lock("job", LockOwner.current("ctx"), 60)
    assert time.monotonic() - began < 5
    error = info.value
    assert error.reason == "unreachable" and error.code == "STATE_STORE_ERROR"
    assert f"127.0.0.1:{closed_port}/meltano" in error.message
    assert "\n" not in error.message
    for text in (error.message, repr(error), str(error.details), repr(store)):
        assert SECRET not in text and "etl:" not in text


def test_a_server_that_never_answers_fails_within_the_timeout_and_then_at_once(
    silent_listener: SilentListener,
) -> None:
    uri = f"postgresql://etl:{SECRET}@127.0.0.1:{silent_listener.port}/db"
    store = PostgresStateStore(uri, timeout_s=2)
    began = time.monotonic()
    with pytest.raises(StateStoreError) as info:
        store.ping()
    waited = time.monotonic() - began
    assert 1.5 <= waited < 6, waited
    assert info.value.reason == "unreachable"
    assert f"127.0.0.1:{silent_listener.port}/db" in info.value.message
    # The same process does not wait for the same dead server again at once.
    began = time.monotonic()
    with pytest.raises(StateStoreError):
        store.should_send("alert", 60)
    assert time.monotonic() - began < 0.5


def test_a_lock_row_held_by_a_stuck_transaction_fails_after_state_timeout(
    postgres_server: PostgresServer, pg_schema: str
) -> None:
    store = PostgresStateStore(postgres_server.uri, schema=pg_schema, timeout_s=1)
    assert store.acquire_lock("job", LockOwner.current("ctx-a"), 60)
    stuck = postgres_server.connect()
    try:
        stuck.execute("BEGIN")  # type: ignore[attr-defined]
        stuck.execute(f'SELECT * FROM "{pg_schema}".locks FOR UPDATE')  # type: ignore[attr-defined]
        began = time.monotonic()
        with pytest.raises(StateStoreError) as info:
            store.acquire_lock("job", LockOwner.current("ctx-b"), 60)
        waited = time.monotonic() - began
    finally:
        stuck.close()  # type: ignore[attr-defined]
    assert info.value.reason == "timeout" and "state_timeout" in info.value.message
    assert 0.8 <= waited < 5, waited
    assert not store.acquire_lock("job", LockOwner.current("ctx-b"), 60)  # and then recovers


def test_uri_forms_meltano_uses_are_accepted_and_bad_ones_refused_without_echo() -> None:
    for uri in (
        "postgresql://u:pw@db:6432/meltano",
        "postgresql+psycopg://u:pw@db:6432/meltano",
        "postgres://u:pw@db:6432/meltano",
    ):
        assert PostgresTarget.from_uri(uri).describe() == "db:6432/meltano"
    assert PostgresTarget.from_uri("postgresql:///meltano?host=/run/pg").describe() == (
        "/run/pg:5432/meltano"
    )
    with pytest.raises(StateUriError) as info:
        PostgresTarget.from_uri(f"mysql://u:{SECRET}@db/x")
    assert info.value.exit_code == 2 and SECRET not in str(info.value)
    with pytest.raises(ValueError, match="state_schema"):
        PostgresStateStore("postgresql://db/x", schema='x"; DROP TABLE runs; --')


def test_the_sqlite_path_never_imports_psycopg(tmp_path: Path) -> None:
    code = f"""
import sys
from gruponos_ext.config import GruponosMeltanoSettings
from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer
c = GruponosMeltanoContainer(GruponosMeltanoSettings(state_dir={str(tmp_path)!r}))
c.configure_for_environment()
store = c.resolve("state_store")
store.ping()
report = c.health_runner().run()
assert "psycopg" not in sys.modules, "psycopg imported on the SQLite path"
print(type(store).__name__, report.status.value)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split()[0] == "SqliteStateStore"


def test_state_uri_wires_the_postgres_store(
    postgres_server: PostgresServer, pg_schema: str, tmp_path: Path
) -> None:
    code = f"""
import sys
from pydantic import SecretStr
from gruponos_ext.config import GruponosMeltanoSettings
from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer
settings = GruponosMeltanoSettings(
    state_dir={str(tmp_path)!r}, state_uri=SecretStr({postgres_server.uri!r}),
    state_schema={pg_schema!r},
)
c = GruponosMeltanoContainer(settings)
c.configure_for_environment()
store = c.resolve("state_store")
result = c.health_runner().run(names=["state_store:ping"]).results[0]
print(type(store).__name__, "psycopg" in sys.modules, result.status.value, result.message)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), check=False
    )
    assert done.returncode == 0, done.stderr
    kind, imported, status, *message = done.stdout.splitlines()[-1].split()
    assert (kind, imported, status) == ("PostgresStateStore", "True", "pass")
    assert f"schema {pg_schema}" in " ".join(message) and "round trip" in " ".join(message)


def test_without_the_driver_state_uri_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pydantic import SecretStr

    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer
    from gruponos_ext.state.model import StateDriverMissingError

    for name in list(sys.modules):
        if name == "psycopg" or name.startswith(("psycopg.", "gruponos_ext.state.postgres")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError
    settings = GruponosMeltanoSettings(state_dir=tmp_path, state_uri=SecretStr("postgresql://db/x"))
    container = GruponosMeltanoContainer(settings)
    container.configure_for_environment()
    with pytest.raises(Exception) as info:
        container.resolve("state_store")
    error = info.value
    while not isinstance(error, StateDriverMissingError) and error.__cause__ is not None:
        error = error.__cause__  # the container wraps factory errors
    assert isinstance(error, StateDriverMissingError) and error.exit_code == 2
    assert "gruponos-infra[postgres]" in error.message


def _cli(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI_BIN), *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def test_preflight_with_the_database_down_refuses_in_one_line_within_the_timeout(
    silent_listener: SilentListener, tmp_path: Path
) -> None:
    env = clean_env()
    env.update(
        GRUPONOS_INFRA_STATE_DIR=str(tmp_path / "state"),
        GRUPONOS_INFRA_STATE_URI=f"postgresql://etl:{SECRET}@127.0.0.1:{silent_listener.port}/db",
        GRUPONOS_INFRA_STATE_TIMEOUT="2",
    )
    began = time.monotonic()
    done = _cli(["preflight", "--job", "nightly"], env)
    took = time.monotonic() - began
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if "preflight failed" in line]
    assert len(lines) == 1, done.stderr
    assert "[STATE_STORE_ERROR]" in lines[0]
    assert f"127.0.0.1:{silent_listener.port}" in lines[0]
    assert SECRET not in done.stdout + done.stderr
    assert took < 2 + 5, took  # the connect timeout, plus process start-up

    health = _cli(["health", "--check", "state_store:ping", "--format", "json"], env)
    assert health.returncode == 1 and SECRET not in health.stdout + health.stderr
    (check,) = json.loads(health.stdout)["checks"]["state_store:ping"]
    assert check["status"] == "fail" and f"127.0.0.1:{silent_listener.port}" in check["output"]


def test_history_shows_runs_locks_and_health_of_every_host(
    postgres_server: PostgresServer, pg_schema: str, tmp_path: Path
) -> None:
    from datetime import datetime, timezone

    from gruponos_ext.health.model import Status
    from tests.test_state_contract import report

    for host in ("worker-a", "worker-b"):
        store = PostgresStateStore(postgres_server.uri, schema=pg_schema, hostname=host)
        store.start_run("nightly", f"ctx-{host}", host=host, pid=100)
        store.record_health(report(Status.PASS))
        if host == "worker-b":
            owner = LockOwner(f"ctx-{host}", host, 100, datetime.now(timezone.utc))
            assert store.acquire_lock("nightly", owner, 600)
    env = clean_env()
    env.update(
        GRUPONOS_INFRA_STATE_DIR=str(tmp_path / "state"),
        GRUPONOS_INFRA_STATE_URI=postgres_server.uri,
        GRUPONOS_INFRA_STATE_SCHEMA=pg_schema,
    )
    text = _cli(["history"], env)
    assert text.returncode == 0, text.stderr
    runs, locks, health = text.stdout.split("locks (")[0], text.stdout.split("locks (")[1], ""
    health = text.stdout.split("health (")[1]
    for host in ("worker-a", "worker-b"):
        assert f"{host}:100" in runs
        assert host in health
    assert "on host worker-b" in locks
    document = json.loads(_cli(["history", "--format", "json"], env).stdout)
    assert {h["host"] for h in document["health"]} == {"worker-a", "worker-b"}
    assert {r["host"] for r in document["runs"]} == {"worker-a", "worker-b"}
    assert document["locks"][0]["fence"] >= 1


def test_the_kept_connection_is_replaced_when_the_server_restarted(
    own_postgres: PostgresServer,
) -> None:
    store = PostgresStateStore(own_postgres.uri, timeout_s=5)
    assert store.acquire_lock("job", LockOwner.current("ctx"), 60)
    own_postgres.stop("fast")
    own_postgres.start()
    # The next operation notices the dead connection on its first statement and reconnects.
    renewal = store.refresh_lock("job", "ctx", 60)
    assert renewal and renewal.error is None
    store.close()
    store.close()  # idempotent

"""Built-in checks against real files, directories, SQLite databases and sockets."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.result import Result
from gruponos_ext.health.checks import (
    breakers_check,
    disk_space_check,
    meltano_db_check,
    settings_check,
    state_dir_check,
)
from gruponos_ext.health.model import Status
from gruponos_ext.health.report import render_json, render_text
from gruponos_ext.health.runner import HealthCheckRunner
from gruponos_ext.services.breaker import BreakerRegistry

SECRET = "Pg-s3cr3t-42"


# -- disk -----------------------------------------------------------------------------


def test_disk_space_passes_with_free_mib_observed(tmp_path: Path) -> None:
    outcome = disk_space_check(tmp_path, warn_mb=0, fail_mb=0).run()
    free_mib = shutil.disk_usage(tmp_path).free / 2**20
    assert outcome.status is Status.PASS
    assert outcome.observed_unit == "MiB"
    assert isinstance(outcome.observed_value, float)
    assert outcome.observed_value == pytest.approx(free_mib, rel=0.05)
    assert str(tmp_path) in outcome.message


def test_disk_space_warns_then_fails_below_thresholds(tmp_path: Path) -> None:
    huge = 10**12  # MiB: more than any disk here
    warned = disk_space_check(tmp_path, warn_mb=huge, fail_mb=0).run()
    failed = disk_space_check(tmp_path, warn_mb=huge, fail_mb=huge).run()
    assert warned.status is Status.WARN and f"below {huge:g} MiB" in warned.message
    assert failed.status is Status.FAIL


def test_disk_space_of_a_path_not_created_yet_is_measured_at_its_ancestor(tmp_path: Path) -> None:
    outcome = disk_space_check(tmp_path / "not" / "yet", warn_mb=0, fail_mb=0).run()
    assert outcome.status is Status.PASS
    assert outcome.details["path"] == str(tmp_path)


def test_disk_space_without_a_path_is_skipped() -> None:
    outcome = disk_space_check(None).run()
    assert (outcome.status, outcome.message) == (Status.SKIP, "no path configured")


def test_disk_space_refuses_warn_below_fail() -> None:
    with pytest.raises(ValueError, match="warn_mb"):
        disk_space_check("/", warn_mb=10, fail_mb=20)


# -- Meltano system database: SQLite --------------------------------------------------


@pytest.fixture
def meltano_db(tmp_path: Path) -> Path:
    path = tmp_path / ".meltano" / "meltano.db"
    path.parent.mkdir()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, payload TEXT)")
        conn.executemany(
            "INSERT INTO runs (payload) VALUES (?)", [(f"row {i} " * 20,) for i in range(3000)]
        )
    conn.close()
    return path


def test_sqlite_database_passes_quick_check_read_only(meltano_db: Path) -> None:
    before = (meltano_db.read_bytes(), sorted(os.listdir(meltano_db.parent)))
    outcome = meltano_db_check(f"sqlite:///{meltano_db}").run()
    assert outcome.status is Status.PASS, outcome.message
    assert "quick_check ok, 2 tables" in outcome.message
    assert outcome.observed_unit == "MiB"
    assert outcome.observed_value == pytest.approx(meltano_db.stat().st_size / 2**20, abs=0.001)
    # read-only: the file is untouched and no journal or WAL file appeared
    assert (meltano_db.read_bytes(), sorted(os.listdir(meltano_db.parent))) == before


def test_relative_sqlite_path_resolves_from_the_project_root(
    meltano_db: Path, tmp_path: Path
) -> None:
    check = meltano_db_check("sqlite:///.meltano/meltano.db", base_dir=tmp_path)
    assert check.run().status is Status.PASS
    assert check.tags == frozenset({"local", "meltano"})


def test_missing_sqlite_file_fails_clearly_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "meltano.db"
    outcome = meltano_db_check(f"sqlite:///{missing}").run()
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(f"Meltano system database not found at {missing}")
    assert not missing.exists()


def test_file_that_is_not_a_database_fails_as_corrupt(tmp_path: Path) -> None:
    bogus = tmp_path / "meltano.db"
    bogus.write_bytes(os.urandom(8192))
    outcome = meltano_db_check(f"sqlite:///{bogus}").run()
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        f"Meltano system database {bogus} is corrupt: file is not a database"
    )


def test_database_with_damaged_pages_fails(meltano_db: Path) -> None:
    page_size = 4096
    with meltano_db.open("r+b") as f:
        f.seek(page_size * 3)
        f.write(b"\xff" * page_size * 4)
    outcome = meltano_db_check(f"sqlite:///{meltano_db}").run()
    assert outcome.status is Status.FAIL
    assert "corrupt" in outcome.message or "failed quick_check" in outcome.message


def test_database_without_tables_warns(tmp_path: Path) -> None:
    empty = tmp_path / "meltano.db"
    empty.touch()
    outcome = meltano_db_check(f"sqlite:///{empty}").run()
    assert outcome.status is Status.WARN
    assert "is empty" in outcome.message


def test_in_memory_or_unset_database_is_skipped() -> None:
    assert meltano_db_check("sqlite://").run().status is Status.SKIP
    unset = meltano_db_check(None).run()
    assert (unset.status, unset.message) == (Status.SKIP, "MELTANO_DATABASE_URI is not set")


# -- Meltano system database: server URLs -------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_server_url_on_a_closed_port_fails_with_cannot_reach_and_no_password(
    closed_port: int,
) -> None:
    uri = f"postgresql://meltano:{SECRET}@127.0.0.1:{closed_port}/meltano"
    check = meltano_db_check(uri, timeout=2.0)
    assert check.tags == frozenset({"external", "meltano"})
    report = HealthCheckRunner([check]).run()
    result = report.results[0]
    assert result.status is Status.FAIL
    assert result.message.startswith(f"cannot reach postgresql server at 127.0.0.1:{closed_port}: ")
    assert "refused" in result.message.lower()
    for rendering in (render_text(report), render_json(report), repr(check), repr(report)):
        assert SECRET not in rendering
        assert "meltano:" not in rendering.replace("meltano_db:", "")


def test_server_url_on_a_listening_port_passes_with_latency(listening_port: int) -> None:
    uri = f"postgresql+psycopg://meltano:{SECRET}@127.0.0.1:{listening_port}/meltano"
    outcome = meltano_db_check(uri).run()
    assert outcome.status is Status.PASS
    assert outcome.message == f"postgresql server at 127.0.0.1:{listening_port} reachable"
    assert outcome.observed_unit == "ms"
    assert isinstance(outcome.observed_value, float) and outcome.observed_value >= 0


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        (f"meltano:{SECRET}@localhost/db", "is not a database URL"),
        (f"postgresql://meltano:{SECRET}@db.example:abc/meltano", "has an invalid port"),
        (f"postgresql://meltano:{SECRET}@/meltano", "names no host"),
        (f"weirddb://meltano:{SECRET}@db.example/x", "names no port"),
    ],
)
def test_unusable_database_urls_fail_without_echoing_them(uri: str, problem: str) -> None:
    outcome = meltano_db_check(uri).run()
    assert outcome.status is Status.FAIL
    assert problem in outcome.message
    assert SECRET not in outcome.message


# -- state directory ---------------------------------------------------------------------


def test_missing_state_dir_is_created_and_left_clean(tmp_path: Path) -> None:
    state = tmp_path / ".meltano" / "gruponos-infra"
    outcome = state_dir_check(state).run()
    assert outcome.status is Status.PASS
    assert outcome.message == f"state directory {state} is created and writable"
    assert state.is_dir() and list(state.iterdir()) == []
    again = state_dir_check(state).run()
    assert again.message == f"state directory {state} is writable"


def test_state_dir_that_is_a_file_fails(tmp_path: Path) -> None:
    occupied = tmp_path / "state"
    occupied.write_text("not a directory")
    outcome = state_dir_check(occupied).run()
    assert outcome.status is Status.FAIL
    assert "exists but is not a directory" in outcome.message


def test_state_dir_under_a_file_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    outcome = state_dir_check(blocker / "state").run()
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(f"cannot create state directory {blocker / 'state'}")


def test_unconfigured_state_dir_is_skipped() -> None:
    assert state_dir_check(None).run().status is Status.SKIP


# -- circuit breakers ------------------------------------------------------------------------


def trip(registry: BreakerRegistry, name: str, message: str = "down") -> None:
    breaker = registry.get_or_create(name)

    def fail() -> None:
        raise ConnectionError(message)

    with pytest.raises(ConnectionError):
        breaker.call(fail)


def test_breakers_check_warns_naming_open_breakers() -> None:
    registry = BreakerRegistry(failure_threshold=1, reset_timeout=60.0)
    registry.get_or_create("oracle")
    trip(registry, "wms", f"GET https://etl:{SECRET}@wms.example/health refused")
    check = breakers_check(registry)
    outcome = check.run()
    assert outcome.status is Status.WARN
    assert outcome.message.startswith("1 of 2 circuit breakers open: wms (retry in ")
    assert "last failure: ConnectionError" in outcome.message
    assert SECRET not in outcome.message
    assert outcome.observed_value == 1
    assert outcome.details["open"] == ["wms"]
    assert not check.critical


def test_breakers_check_passes_when_closed_or_half_open() -> None:
    registry = BreakerRegistry(failure_threshold=1, reset_timeout=0.0)
    registry.get_or_create("oracle")
    assert breakers_check(registry).run().message == "all 1 circuit breakers closed"
    trip(registry, "wms")  # reset_timeout 0: it reads half-open at once
    outcome = breakers_check(registry).run()
    assert outcome.status is Status.PASS
    assert "half-open" in outcome.message and "wms" in outcome.message


def test_breakers_check_with_nothing_registered_or_configured() -> None:
    assert breakers_check(BreakerRegistry()).run().message == "no circuit breakers registered"
    assert breakers_check(None).run().status is Status.SKIP


# -- settings ------------------------------------------------------------------------------


class FakeSettingsError(GruponosError):
    code = "SETTINGS_INVALID"


def test_settings_check_passes_when_loading_succeeds() -> None:
    assert settings_check(object).run().status is Status.PASS
    assert settings_check(lambda: Result.ok(1)).run().status is Status.PASS


def test_settings_check_fails_with_the_settings_error_message() -> None:
    def load() -> object:
        raise FakeSettingsError("GRUPONOS_INFRA_ORACLE_PORT: not an integer")

    outcome = settings_check(load).run()
    assert outcome.status is Status.FAIL
    assert outcome.message == "GRUPONOS_INFRA_ORACLE_PORT: not an integer"
    assert outcome.details == {"code": "SETTINGS_INVALID"}


def test_settings_check_fails_on_a_failed_result() -> None:
    outcome = settings_check(lambda: Result.fail("bad", "SETTINGS_INVALID")).run()
    assert (outcome.status, outcome.message) == (Status.FAIL, "bad")


def test_unexpected_settings_exception_is_sanitised_by_the_runner() -> None:
    def load() -> object:
        raise ValueError(f"oracle_password={SECRET} rejected")

    report = HealthCheckRunner([settings_check(load)]).run()
    assert report.results[0].status is Status.FAIL
    assert report.results[0].message == "ValueError: oracle_password=*** rejected"

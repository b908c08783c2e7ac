"""Our state next to Meltano's own system database, on one real PostgreSQL database.

A real ``meltano`` with ``MELTANO_DATABASE_URI=postgresql+psycopg://...`` and
the utility configured with ``state_uri: $MELTANO_DATABASE_URI`` (the README's
advice): Meltano's migrations and ours leave each other's tables alone, and
nothing of ours lands in ``public``.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from gruponos_ext.state import PostgresStateStore, RunStatus
from tests.support.cli import with_bytecode_cache
from tests.support.meltano import (
    REPO_ROOT,
    MeltanoProject,
    copy_bundled_project,
    offline_meltano_env,
)
from tests.support.postgres import PostgresServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

MELTANO_TABLES = {"alembic_version", "plugin_settings", "runs", "state"}


def public_tables(server: PostgresServer, dbname: str) -> set[str]:
    rows = server.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        dbname=dbname,
    )
    return {r[0] for r in rows}


def count(server: PostgresServer, dbname: str, table: str) -> int:
    return int(server.execute(f"SELECT count(*) FROM {table}", dbname=dbname)[0][0])


@pytest.fixture
def system_db(postgres_server: PostgresServer) -> Iterator[str]:
    with postgres_server.scratch_database("meltano_") as name:
        yield name


@pytest.fixture
def project(
    tmp_path: Path,
    postgres_server: PostgresServer,
    system_db: str,
    bytecode_cache_env: dict[str, str],
) -> MeltanoProject:
    root = copy_bundled_project(tmp_path / "project")
    text = (root / "meltano.yml").read_text(encoding="utf-8")
    # The utility with the postgres extra, its state in Meltano's own database.
    checkout = f"pip_url: -e {shlex.quote(str(REPO_ROOT))}"
    assert text.count(checkout) == 1
    text = text.replace(checkout, f"pip_url: -e '{REPO_ROOT}[postgres]'")
    anchor = "    executable: gruponos_extension\n"
    assert text.count(anchor) == 1
    text = text.replace(anchor, anchor + "    config:\n      state_uri: $MELTANO_DATABASE_URI\n")
    (root / "meltano.yml").write_text(text, encoding="utf-8")
    env = with_bytecode_cache(offline_meltano_env(), bytecode_cache_env)
    for name in ("LOG_LEVEL", "LOG_LEVELS", "VIRTUAL_ENV"):
        env.pop(name, None)
    uri = postgres_server.uri_for(system_db).replace("postgresql://", "postgresql+psycopg://")
    env["MELTANO_DATABASE_URI"] = uri
    return MeltanoProject(root=root, env=env)


def test_our_schema_and_meltanos_tables_survive_each_other(
    project: MeltanoProject, postgres_server: PostgresServer, system_db: str
) -> None:
    uri = project.env["MELTANO_DATABASE_URI"]
    # Our schema first, with history in it, before Meltano ever saw the database.
    ours = PostgresStateStore(uri)
    earlier = ours.start_run("earlier-job", "ctx-earlier", host="old-host", pid=1)
    ours.finish_run(earlier.id, "success", 0)
    assert public_tables(postgres_server, system_db) == set()

    upgraded = project.run("upgrade", "database")
    assert upgraded.returncode == 0, upgraded.stderr
    assert public_tables(postgres_server, system_db) == MELTANO_TABLES
    assert ours.get_run(earlier.id) is not None

    project.install("gruponos-infra", "tap-jsonl", "target-jsonl")
    health = project.run("invoke", "gruponos-infra:health")
    assert health.returncode == 0, health.stdout + health.stderr
    # `state_uri: $MELTANO_DATABASE_URI` reached the plugin expanded: our store is that database.
    (line,) = [x for x in health.stdout.splitlines() if "state_store:ping" in x]
    assert line.startswith("PASS") and f"/{system_db}: schema gruponos_infra" in line
    assert "postgres@" not in health.stdout + health.stderr

    ran = project.run("run", "sample-jsonl")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    (ours_run,) = ours.recent_runs("sample-jsonl")
    assert ours_run.status is RunStatus.SUCCESS and ours.all_locks() == []
    assert count(postgres_server, system_db, "public.runs") >= 1  # Meltano's own run record

    before = {
        t: count(postgres_server, system_db, f"gruponos_infra.{t}")
        for t in ("runs", "health_results", "schema_version")
    }
    again = project.run("upgrade", "database")
    assert again.returncode == 0, again.stderr
    after = {t: count(postgres_server, system_db, f"gruponos_infra.{t}") for t in before}
    assert after == before and before["runs"] == 2 and before["health_results"] >= 1
    assert public_tables(postgres_server, system_db) == MELTANO_TABLES

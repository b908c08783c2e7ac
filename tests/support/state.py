"""State stores for the contract tests: the same suite on SQLite and on PostgreSQL.

- ``store_spec`` (parametrised ``sqlite`` / ``postgres``): a :class:`StoreSpec`,
  plain data that names one empty store (a SQLite file of the test's own, or a
  schema of the test's own on the session's PostgreSQL server). Specs travel
  to worker processes, which open their own store with :func:`open_store`.
- ``any_store``: the store of ``store_spec``, opened in this process.
- :func:`settings_env`: the ``GRUPONOS_INFRA_*`` variables that make the
  extension use a spec's store.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gruponos_ext.state.locks import pid_alive
from gruponos_ext.state.protocol import StateStore

__all__ = ["StoreSpec", "any_store", "dead_pid", "open_store", "settings_env", "store_spec"]


@dataclass(frozen=True)
class StoreSpec:
    """Which store: ``kind`` ``sqlite`` (``path``) or ``postgres`` (``uri`` + ``schema``)."""

    kind: str
    path: str = ""
    uri: str = ""
    schema: str = ""

    def open(self, **options: Any) -> StateStore:
        return open_store(self, **options)


def open_store(spec: StoreSpec, **options: Any) -> StateStore:
    """A new store instance on ``spec`` (one per process, as the extension has)."""
    if spec.kind == "sqlite":
        from gruponos_ext.state.sqlite import SqliteStateStore

        return SqliteStateStore(spec.path, **options)
    from gruponos_ext.state.postgres import PostgresStateStore

    options.setdefault("timeout_s", 30.0)
    return PostgresStateStore(spec.uri, schema=spec.schema, **options)


def settings_env(spec: StoreSpec, state_dir: Path) -> dict[str, str]:
    """Environment for ``gruponos_extension`` to keep its state in ``spec``'s store."""
    env = {"GRUPONOS_INFRA_STATE_DIR": str(state_dir)}
    if spec.kind == "postgres":
        env["GRUPONOS_INFRA_STATE_URI"] = spec.uri
        env["GRUPONOS_INFRA_STATE_SCHEMA"] = spec.schema
    else:
        assert Path(spec.path).parent == state_dir, "SQLite keeps state.db in the state dir"
    return env


@pytest.fixture(params=["sqlite", "postgres"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSpec:
    """An empty store of each kind (PostgreSQL: a schema of this test's own)."""
    if request.param == "sqlite":
        return StoreSpec("sqlite", path=str(tmp_path / "state" / "state.db"))
    uri = request.getfixturevalue("pg_state_uri")
    schema = request.getfixturevalue("pg_schema")
    return StoreSpec("postgres", uri=uri, schema=schema)


@pytest.fixture
def any_store(store_spec: StoreSpec) -> StateStore:
    """The store of ``store_spec``."""
    return store_spec.open()


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    pid = int(proc.stdout)
    assert not pid_alive(pid)
    return pid

"""The state store as a fixture parameter: every store the protocol has, one test each.

``state_store`` yields an empty, real :class:`~gruponos_ext.state.protocol.StateStore`
per parameter. Today that is the embedded SQLite store; a shared store (e.g.
PostgreSQL) is added by appending its name to ``STORE_KINDS`` and a branch to
:func:`_open_store`, and every test using the fixture then runs against it too.

Registered as a plugin by ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gruponos_ext.state.protocol import StateStore
from gruponos_ext.state.store import SqliteStateStore

__all__ = ["STORE_KINDS", "state_store"]

STORE_KINDS = ("sqlite",)


def _open_store(kind: str, tmp_path: Path) -> StateStore:
    if kind == "sqlite":
        return SqliteStateStore(tmp_path / "state" / "state.db")
    raise AssertionError(f"unknown state store kind {kind!r}")


@pytest.fixture(params=STORE_KINDS)
def state_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """An empty state store of each kind, closed after the test."""
    store = _open_store(request.param, tmp_path)
    try:
        yield store
    finally:
        store.close()

"""The ``state_store:ping`` health check: is the state database usable right now?

Carried by the ``state_store`` registration, so it probes whichever store is
configured: SQLite (the file opens, ``PRAGMA quick_check`` passes, a write
is possible: a corrupt, empty, read-only file or a directory in its place
fails) or PostgreSQL (connect, schema present, one round trip). The latency
is the observed value, in milliseconds.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.health.model import CheckOutcome, ServiceCheck

if TYPE_CHECKING:
    from gruponos_ext.state.protocol import StateStore

__all__ = ["CHECK_NAME", "probe_state_store", "state_store_check"]

CHECK_NAME = "state_store:ping"


def probe_state_store(store: StateStore) -> CheckOutcome:
    """Ping ``store``: pass with what was checked and the latency, fail with why not."""
    started = time.perf_counter()
    try:
        checked = store.ping()
    except GruponosError as exc:  # messages of the stores are one line, secret-free
        return CheckOutcome.failed(exc.message, component_type="datastore")
    latency_ms = round((time.perf_counter() - started) * 1000.0, 1)
    return CheckOutcome.passed(
        f"{checked}; round trip {latency_ms:g} ms",
        observed_value=latency_ms,
        observed_unit="ms",
        component_type="datastore",
    )


def state_store_check(timeout: float | None = None, *, shared: bool = False) -> ServiceCheck:
    """The check to carry on the ``state_store`` registration (critical: preflight needs it).

    ``shared``: the store is a database server (tagged ``external``), not a local file.
    """
    return ServiceCheck(
        name=CHECK_NAME,
        probe=probe_state_store,
        tags=frozenset({"state", "database", "external" if shared else "local"}),
        critical=True,
        timeout=timeout,
        description="the state database answers and is usable (runs, locks, alerts)",
    )

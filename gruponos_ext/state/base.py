"""What every state store shares above its database: who it runs as, and retention.

:class:`StoreBase` is the root of both stores' parts (SQLite and PostgreSQL):
the host name and :class:`~gruponos_ext.state.locks.HostIdentity` it records
and checks locks with, the one-line description of where its state lives, and
the opportunistic pruning ``start_run`` triggers (at most once an hour per
instance; never a reason for the run to fail).
"""

from __future__ import annotations

import socket
import time

from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.locks import HostIdentity
from gruponos_ext.state.model import DEFAULT_PRUNE_BATCH, PruneResult, StateStoreError

__all__ = ["AUTO_PRUNE_INTERVAL_S", "StoreBase"]

_log = get_logger("gruponos_ext.state")

AUTO_PRUNE_INTERVAL_S = 3600.0


class StoreBase:
    """Identity and retention of a store; its database parts derive from it."""

    def __init__(self, *, hostname: str | None, retention_days: float | None) -> None:
        self._host = hostname or socket.gethostname()
        self._here: HostIdentity | None = None
        self._retention_days = retention_days
        self._last_auto_prune: float | None = None

    @property
    def hostname(self) -> str:
        """The host this store records (runs, health) and whose pids it may check."""
        return self._host

    @property
    def here(self) -> HostIdentity:
        """This process's host identity (read once, when first needed)."""
        if self._here is None:
            self._here = HostIdentity.current(self._host)
        return self._here

    @property
    def location(self) -> str:
        """Where the state lives, for messages (never a secret)."""
        raise NotImplementedError

    def prune(self, retention_days: float, *, max_rows: int = DEFAULT_PRUNE_BATCH) -> PruneResult:
        raise NotImplementedError

    def _auto_prune(self) -> None:
        """Prune by ``retention_days``, at most once an hour; failures are only logged."""
        if self._retention_days is None:
            return
        now = time.monotonic()
        last = self._last_auto_prune
        if last is not None and now - last < AUTO_PRUNE_INTERVAL_S:
            return
        self._last_auto_prune = now
        try:
            self.prune(self._retention_days)
        except StateStoreError as exc:
            # Housekeeping must never fail the run that triggered it.
            _log.warning("state_prune_failed", where=self.location, reason=exc.reason)

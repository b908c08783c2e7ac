"""Keeping a guarded run's lock: lease renewal, and noticing that the lock is lost.

A lock's lease (``lock_ttl``) is renewed every third of its length while
guard runs. The lock is *lost* when a renewal finds another owner (or no
lock: someone broke it), or when renewals keep failing (state database
unreachable) until the lease would expire before the next try. Either way
the run no longer holds what keeps a second copy from starting, so guard
stops it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.protocol import StateStore

__all__ = ["LeaseKeeper"]

_log = get_logger(__name__)

_MAX_INTERVAL_S = 300.0
_RETRY_S = 2.0


@dataclass
class LeaseKeeper:
    """Renews ``job``'s lock for ``context_id``; calling it says whether the lock is lost."""

    store: StateStore
    job: str
    context_id: str
    ttl: float
    clock: Callable[[], float] = time.monotonic
    lost_reason: str | None = None
    _last_ok: float = field(default=0.0, init=False)
    _next: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        now = self.clock()
        self._last_ok = now
        self._next = now + self.interval

    @property
    def interval(self) -> float:
        return min(self.ttl / 3.0, _MAX_INTERVAL_S)

    def __call__(self) -> bool:
        """Renew when due; True once the lock is lost (and from then on)."""
        if self.lost_reason is not None:
            return True
        now = self.clock()
        if now < self._next:
            return False
        try:
            renewed = bool(self.store.refresh_lock(self.job, self.context_id, self.ttl))
        except GruponosError as exc:
            _log.warning("run_lock_not_renewed", job=self.job, error=exc.code)
            if now - self._last_ok + min(self.interval, _RETRY_S) >= self.ttl:
                self.lost_reason = (
                    f"its lease could not be renewed for {now - self._last_ok:.0f} s "
                    f"({exc.message})"
                )
                return True
            self._next = now + min(self.interval, _RETRY_S)
            return False
        if not renewed:
            self.lost_reason = self._taken_by()
            _log.error("run_lock_lost", job=self.job, context_id=self.context_id)
            return True
        self._last_ok = now
        self._next = now + self.interval
        return False

    def _taken_by(self) -> str:
        try:
            holder = self.store.current_lock(self.job)
        except GruponosError:
            holder = None
        if holder is None:
            return "its lock was removed (broken by an operator or another process)"
        return f"its lock is now held by {holder.describe()}"

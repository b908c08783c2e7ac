"""Keeping a guarded run's lock while it runs, and stopping it when the lock is lost.

The lease itself (renewal with the fencing number, what counts as lost, how
long an unreachable store is tolerated) is the state layer's
:class:`~gruponos_ext.state.lease.LeaseKeeper`. This module only paces it for
guard's polling loop: a renewal every third of ``lock_ttl`` (at most every
five minutes), and after a failed renewal a retry within seconds, so a store
that comes back is noticed before the last lease runs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gruponos_ext.state.lease import LeaseKeeper
from gruponos_ext.state.protocol import StateStore

__all__ = ["LeasePacer"]

_MAX_INTERVAL_S = 300.0
_RETRY_S = 2.0


class LeasePacer:
    """Renews ``job``'s lock when due; calling it says whether the lock is lost."""

    def __init__(
        self,
        store: StateStore,
        job: str,
        context_id: str,
        ttl: float,
        *,
        fence: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keeper = LeaseKeeper(store, job, context_id, ttl, fence=fence, clock=clock)
        self._clock = clock
        self._interval = min(self._keeper.interval, _MAX_INTERVAL_S)
        self._next = clock() + self._interval
        self.lost_reason: str | None = None

    def __call__(self) -> bool:
        """Renew when due; True once the lock is lost (and from then on)."""
        if self.lost_reason is not None:
            return True
        now = self._clock()
        if now < self._next:
            return False
        renewal = self._keeper.renew()
        if not renewal:
            self.lost_reason = renewal.message
            return True
        retry = renewal.error is not None
        self._next = now + (min(self._interval, _RETRY_S) if retry else self._interval)
        return False

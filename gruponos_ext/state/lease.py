"""Keeping a run lock: heartbeats, and knowing when the lock is lost.

:class:`LeaseKeeper` is what a long-lived holder (``guard``) calls on every
heartbeat. It renews the lease with the holder's fencing number and answers
with a :class:`~gruponos_ext.state.model.LeaseRenewal`:

- truthy, ``error`` None: renewed;
- truthy, ``error`` set: the store did not answer, but the last lease it
  granted has not run out yet (counted on this machine's monotonic clock
  from the moment that renewal was *sent*, so never longer than the server's);
- falsy: lost -- ``taken`` by another run, ``gone`` (broken or released), or
  ``unconfirmed`` (the store stayed unreachable until the last lease ran out,
  so another host may have taken it). The holder must stop its work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.logging import get_logger
from gruponos_ext.state.model import LeaseRenewal, LockLoss

if TYPE_CHECKING:
    from gruponos_ext.state.protocol import StateStore

__all__ = ["LeaseKeeper"]

_log = get_logger(__name__)


class LeaseKeeper:
    """Renews ``job``'s lock held by ``context_id`` (with ``fence``) for ``ttl_s`` at a time.

    ``acquired_at`` is the monotonic time the lock was requested (the lease
    granted then counts from no earlier); ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        store: StateStore,
        job: str,
        context_id: str,
        ttl_s: float,
        *,
        fence: int | None = None,
        acquired_at: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("a lease keeper needs a lease: ttl_s > 0")
        self.store = store
        self.job = job
        self.context_id = context_id
        self.ttl_s = float(ttl_s)
        self.fence = fence
        self._clock = clock
        start = clock() if acquired_at is None else acquired_at
        self._confirmed_until = start + self.ttl_s
        self._lost: LeaseRenewal | None = None

    @property
    def interval(self) -> float:
        """How often to renew: a third of the lease, so two renewals may fail in a row."""
        return self.ttl_s / 3.0

    @property
    def lost(self) -> LeaseRenewal | None:
        """The renewal that found the lock lost, once one did (it stays lost)."""
        return self._lost

    def renew(self) -> LeaseRenewal:
        """One heartbeat; see the module docs for the three answers."""
        if self._lost is not None:
            return self._lost
        sent = self._clock()
        try:
            renewal = self.store.refresh_lock(
                self.job, self.context_id, self.ttl_s, fence=self.fence
            )
        except GruponosError as exc:
            if self._clock() < self._confirmed_until:
                _log.warning("run_lock_not_renewed", job=self.job, error=exc.code)
                return LeaseRenewal(self.job, self.context_id, True, error=exc.message)
            renewal = LeaseRenewal(
                self.job, self.context_id, False, lost=LockLoss.UNCONFIRMED, error=exc.message
            )
        if renewal:
            self._confirmed_until = sent + self.ttl_s
            return renewal
        _log.error("run_lock_lost", job=self.job, context_id=self.context_id, lost=renewal.lost)
        self._lost = renewal
        return renewal

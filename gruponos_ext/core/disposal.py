"""Disposal: run each cleanup once, each within a time bound, and keep the score.

A :class:`Disposal` is made by :meth:`Container.dispose` from what the
container created, newest first. Each cleanup runs in a daemon thread of its
own (:func:`gruponos_ext.core.deadline.start`) and is waited for at most
``timeout`` seconds: one that hangs is abandoned (it cannot be stopped) and
the cleanups after it still run. Asked again (a second ``dispose()``), the
disposal runs nothing again: it waits once more for what is still running
and reports where things stand now, so it never claims what did not happen.

>>> closed = []
>>> disposal = Disposal([("pool", "the pool", closed.append)], timeout=1.0)
>>> disposal.run().value.disposed, closed
(('pool',), ['the pool'])
>>> disposal.report(timeout=1.0).value.already_disposed
True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gruponos_ext.core.deadline import Deadline, DeadlineExceeded, Pending, start
from gruponos_ext.core.errors import DisposeError
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.registry import Cleanup
from gruponos_ext.core.result import Result

__all__ = ["DEFAULT_CLEANUP_TIMEOUT", "Disposal", "DisposeSummary"]

DEFAULT_CLEANUP_TIMEOUT = 10.0
"""Seconds each cleanup may take by default: closing a pool may wait on its
server for a few seconds, but a cleanup silent for 10 s is hung."""

_log = get_logger("gruponos_ext.container")


@dataclass(frozen=True, slots=True)
class DisposeSummary:
    """What a successful :meth:`Container.dispose` released, in the order it did."""

    disposed: tuple[str, ...] = ()
    already_disposed: bool = False
    durations_ms: Mapping[str, float] = field(default_factory=dict)


def check_timeout(timeout: float | None) -> float | None:
    """``timeout`` if it is a usable bound (None: unbounded); ValueError otherwise."""
    if timeout is not None and not (0 < timeout < float("inf")):
        raise ValueError(
            f"dispose timeout must be a number of seconds > 0 or None, not {timeout!r}"
        )
    return timeout


class Disposal:
    """The cleanups of one container, run once; see the module docstring.

    ``timeout=None`` runs each cleanup in the calling thread, unbounded (for
    cleanups that must run on the thread that made their object).
    """

    def __init__(
        self,
        created: Sequence[tuple[str, Any, Cleanup | None]],
        *,
        timeout: float | None,
        unfinished: Sequence[str] = (),
    ) -> None:
        self._cleanups = [(n, i, c) for n, i, c in reversed(created) if c is not None]
        self._not_run = [name for name, _, _ in self._cleanups]  # by run(), so far
        self._timeout = check_timeout(timeout)
        self._lock = threading.Lock()
        self._done: dict[str, float] = {}  # name -> duration in ms
        self._failed: dict[str, BaseException] = {}
        self._running: dict[str, Pending[object]] = {}  # overran: abandoned, may still finish
        # Singletons whose factory was still running when dispose gave up waiting:
        # their builder hands them to release_late() (or forget()) when it returns.
        self._unfinished: dict[str, DeadlineExceeded] = {
            name: DeadlineExceeded(f"creating {name!r}", timeout or 0.0) for name in unfinished
        }

    def run(self) -> Result[DisposeSummary]:
        """Run every cleanup, newest first, each within the bound; report."""
        cleanups, self._cleanups = self._cleanups, []
        for name, instance, cleanup in cleanups:
            self._release(name, instance, cleanup)
            with self._lock:
                self._not_run.remove(name)
        return self._outcome(already_disposed=False)

    def report(self, timeout: float | None) -> Result[DisposeSummary]:
        """Where things stand now, after waiting up to ``timeout`` for what still runs."""
        check_timeout(timeout)
        deadline = Deadline.after(timeout) if timeout is not None else None  # None: no bound
        with self._lock:
            running = list(self._running.items())
        for name, pending in running:
            pending.wait(deadline.remaining() if deadline is not None else None)
            self._settle(name, pending)
        return self._outcome(already_disposed=True)

    def release_late(self, name: str, instance: object, cleanup: Cleanup | None) -> None:
        """A singleton finished after dispose stopped waiting: clean it up now."""
        with self._lock:
            self._unfinished.pop(name, None)
        if cleanup is not None:
            self._release(name, instance, cleanup)

    def forget(self, name: str) -> None:
        """A singleton still being created at dispose failed: nothing to clean up."""
        with self._lock:
            self._unfinished.pop(name, None)

    # -- one cleanup ---------------------------------------------------------------
    def _release(self, name: str, instance: object, cleanup: Cleanup) -> None:
        if self._timeout is None:
            started = time.monotonic()
            try:
                cleanup(instance)
            except Exception as exc:  # every cleanup must get its turn
                self._record(name, error=exc)
            else:
                self._record(name, seconds=time.monotonic() - started)
            return
        pending: Pending[object] = start(lambda: cleanup(instance), name=f"dispose:{name}")
        if pending.wait(self._timeout):
            self._settle(name, pending)
            return
        _log.warning("service_cleanup_timed_out", service=name, timeout_s=self._timeout)
        with self._lock:
            self._running[name] = pending

    def _settle(self, name: str, pending: Pending[object]) -> None:
        """Record the outcome of a cleanup that has returned (no-op while it runs)."""
        if not pending.done:
            return
        with self._lock:
            self._running.pop(name, None)
        try:
            pending.result()
        except Exception as exc:
            self._record(name, error=exc)
        else:
            self._record(name, seconds=pending.duration)

    def _record(
        self, name: str, *, seconds: float | None = None, error: BaseException | None = None
    ) -> None:
        with self._lock:
            if error is not None:
                self._failed[name] = error
            elif seconds is not None:
                self._done[name] = round(seconds * 1000, 3)
        if error is not None:
            _log.warning("service_cleanup_failed", service=name, error_type=type(error).__name__)
        else:
            _log.debug("service_disposed", service=name, duration_ms=self._done[name])

    def _outcome(self, *, already_disposed: bool) -> Result[DisposeSummary]:
        with self._lock:
            failures: dict[str, BaseException] = dict(self._failed)
            failures.update(
                (name, DeadlineExceeded(f"cleanup of {name!r}", self._timeout or 0.0))
                for name in self._running
            )
            failures.update(self._unfinished)
            failures.update(  # asked by a cleanup while run() is still going
                (name, RuntimeError("not done yet: dispose() is still running"))
                for name in self._not_run
            )
            disposed = tuple(self._done)
            durations = dict(self._done)
        if failures:
            error = DisposeError(failures)
            return Result.fail(
                error.message,
                error.code,
                {"failed": list(failures), "disposed": list(disposed)},
                exception=error,
            )
        return Result.ok(DisposeSummary(disposed, already_disposed, durations))

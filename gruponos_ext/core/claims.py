"""Who is creating which singleton, and who waits for whom.

A singleton is created by exactly one thread: the first to *claim* it. The
claim hands that thread a held lock, its *done* lock; others asking for the
singleton meanwhile wait on it, then look again (and find the singleton
made, or claim it themselves if the factory failed). Ending a creation is
``done.release()``, one C call: it works even when a factory fails with a
RecursionError and not one more Python frame fits. Claiming never blocks
callers of other singletons: :attr:`Claims.lock` guards the bookkeeping only.

A thread about to wait first follows the chain "who creates what I want ->
what does that thread wait for -> who creates that ...". Arriving back at
itself means each thread in the loop holds a singleton the next one needs: a
cycle spread over threads, which would deadlock. It is reported as a
:class:`~gruponos_ext.core.errors.CircularDependencyError` instead.

Threads are known by their resolution path (a list of names, one per
thread; see :mod:`gruponos_ext.core.container`), which also names the cycle.

>>> claims = Claims()
>>> made, done = claims.claim("db", [], lambda name: MISSING)
>>> made is MISSING, claims.is_being_created("db")
(True, True)
>>> done.release()  # the creation ended
>>> claims.is_being_created("db")
False
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from gruponos_ext.core.deadline import Deadline
from gruponos_ext.core.errors import CircularDependencyError

__all__ = ["MISSING", "Claims"]

Path = list[str]
Done = threading.Lock  # held by a creator until its creation ends

MISSING: Any = object()  # what a lookup returns for a singleton not made yet


class Claims:
    """The singletons being created, by whom, and the threads waiting for them.

    :attr:`lock` also guards the caller's state that must change together
    with a claim: the container publishes an instance under it, then
    releases the creation's done lock.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._creations: dict[str, tuple[Path, Done]] = {}  # name -> (creator's path, done)
        self._waiting: dict[int, tuple[Path, str]] = {}  # id(path) -> (path, singleton awaited)

    def claim(self, name: str, path: Path, lookup: Callable[[str], Any]) -> tuple[Any, Done | None]:
        """``(singleton, None)`` once ``lookup`` finds it, or ``(MISSING, done)``: create it.

        ``lookup`` runs under :attr:`lock`; it returns :data:`MISSING` for a
        singleton not made yet and may raise (e.g. the container was
        disposed). The creator must ``done.release()`` when it has published
        the singleton (under :attr:`lock`) or given up.
        """
        while True:
            with self.lock:
                made = lookup(name)
                if made is not MISSING:
                    return made, None
                creation = self._current(name)
                if creation is None:
                    done = threading.Lock()
                    done.acquire()
                    self._creations[name] = (path, done)
                    return MISSING, done
                cycle = self._wait_cycle(path, name)
                if cycle:
                    raise CircularDependencyError(cycle)
                self._waiting[id(path)] = (path, name)
            try:
                with creation[1]:  # returns once the creator has released it
                    pass
            finally:
                with self.lock:
                    del self._waiting[id(path)]

    def is_being_created(self, name: str) -> bool:
        """Whether a thread is creating ``name`` now (call with :attr:`lock` held)."""
        return self._current(name) is not None

    def wait_for_others(self, own: Path | None, deadline: Deadline | None) -> None:
        """Wait until threads other than ``own``'s end their creations, at most until ``deadline``.

        Call without :attr:`lock` (the creators need it to publish).
        """
        with self.lock:
            pending = [done for path, done in self._creations.values() if path is not own]
        for done in pending:
            if done.acquire(timeout=-1 if deadline is None else deadline.remaining()):
                done.release()

    def being_created(self) -> tuple[str, ...]:
        """The singletons still being created (call with :attr:`lock` held)."""
        return tuple(name for name in list(self._creations) if self._current(name))

    def _current(self, name: str) -> tuple[Path, Done] | None:
        """The creation of ``name`` under way, if any; forgets one that has ended."""
        creation = self._creations.get(name)
        if creation is not None and not creation[1].locked():
            del self._creations[name]
            return None
        return creation

    def _wait_cycle(self, path: Path, name: str) -> list[str] | None:
        """The cycle if ``path``'s thread waiting for ``name`` would close a loop of waits."""
        chain = [(path, name)]
        creation = self._current(name)
        for _ in range(len(self._waiting) + 1):
            if creation is None:
                return None
            if creation[0] is path:
                return _cycle_through(chain)
            waiting = self._waiting.get(id(creation[0]))
            if waiting is None:  # the creator is working, not waiting: it will end
                return None
            chain.append(waiting)
            creation = self._current(waiting[1])
        return None


def _cycle_through(chain: list[tuple[Path, str]]) -> list[str]:
    """The cycle a loop of waiting threads forms, starting and ending at one name.

    ``chain`` is ``[(path, wanted), ...]``: the first thread wants the first
    name, which the second thread is creating, and so on; the first thread
    is creating the last name wanted.

    >>> _cycle_through([(["b"], "a"), (["a", "t"], "b")])
    ['b', 'a', 't', 'b']
    """
    cycle: list[str] = []
    held = chain[-1][1]  # created by the first thread, which the last thread waits for
    for path, wanted in chain:
        cycle += path[path.index(held) :]
        held = wanted
    cycle.append(chain[-1][1])
    return cycle

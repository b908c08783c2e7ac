"""Stop an abandoned check's thread at its next Python instruction.

A check the runner no longer waits for keeps its daemon thread. If that
thread is *computing* (a busy loop, a retry loop with short sleeps), it keeps
taking the interpreter lock (the GIL) from every other thread: the runner's
own thread then needs seconds for each step that releases the lock (starting
a thread, writing a log line, importing a module), and the time bound breaks.
So an abandoned check is not only forgotten but stopped: CPython's
``PyThreadState_SetAsyncExc`` raises :class:`CheckAbandoned` in its thread
the next time that thread runs Python code.

What this can and cannot stop:

* Python code (loops, busy or polling): stopped within one switch interval.
* A C call that releases the GIL (``time.sleep``, a socket read, a lock
  wait): costs nothing while it blocks; stopped when it returns to Python.
* A single C call that *holds* the GIL (``sum(range(10**10))``, a regular
  expression backtracking over huge text): nothing inside the process can
  interrupt it, and no other thread of the process runs until it returns.
  :mod:`gruponos_ext.health.isolation` bounds such checks from another process.

A stop is only ever placed, never taken back: CPython's way to take one back
(the same call with ``NULL``) leaves the interpreter's "asynchronous
exception pending" flag set with nobody to clear it, so every thread of the
process then takes the slow path at each instruction (and under a profiler
the runner livelocked). The check's thread instead lets a stop that arrives
late be raised inside the runner's own ``try`` (see ``HealthCheckRunner._work``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

__all__ = ["CheckAbandoned", "stop_thread"]


@functools.cache
def _set_async_exc() -> Callable[[int, type[BaseException]], int]:
    """CPython's ``PyThreadState_SetAsyncExc``, typed for ctypes.

    Looked up on the first stop, not at import: ctypes costs ~2 ms of every
    ``health`` run (bench/bench_startup.py) and most runs abandon nothing.
    """
    import ctypes

    setter = ctypes.pythonapi.PyThreadState_SetAsyncExc
    setter.argtypes = (ctypes.c_ulong, ctypes.py_object)
    setter.restype = ctypes.c_int
    return setter


class CheckAbandoned(BaseException):
    """Raised inside an abandoned check's thread to make it stop.

    A ``BaseException``, so a check's ``except Exception`` does not swallow it.
    """


def stop_thread(thread: threading.Thread) -> bool:
    """Ask ``thread`` to raise :class:`CheckAbandoned`; True if the request was placed.

    >>> stop_thread(threading.Thread(target=print))  # never started: nothing to stop
    False
    """
    ident = thread.ident
    if ident is None or not thread.is_alive():
        return False
    return bool(_set_async_exc()(ident, CheckAbandoned) == 1)

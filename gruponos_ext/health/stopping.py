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
"""

from __future__ import annotations

import ctypes
import threading

__all__ = ["CheckAbandoned", "cancel_stop", "stop_thread"]

# No argtypes: the same function both places an exception (a class) and, given
# NULL (None), takes back one not yet raised.
_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.restype = ctypes.c_int


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
    return bool(_set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(CheckAbandoned)) == 1)


def cancel_stop() -> None:
    """Take back a :class:`CheckAbandoned` placed on the calling thread and not raised yet.

    A check's thread calls it once the check's code is over (under the lock
    that :func:`stop_thread`'s caller holds), so no stop can surface later in
    code that is not the check's.
    """
    _set_async_exc(ctypes.c_ulong(threading.get_ident()), None)

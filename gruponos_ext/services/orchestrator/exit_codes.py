"""The exit codes of a guarded run, beyond the run's own.

==========  =================================================================
code        meaning
==========  =================================================================
0           the run succeeded
*n*         the run (``meltano run``) exited with *n*
124         stopped by ``--timeout`` / ``run_timeout`` (as GNU ``timeout``)
125         stopped because guard lost its run lock (taken over or unrenewable)
127         Meltano could not be started (not found / not executable)
128 + *n*   guard received signal *n* (SIGHUP 129, SIGINT 130, SIGTERM 143)
            and stopped the run
137         the run ignored SIGTERM and was killed after the grace period
1           preflight refused the run (lock held, critical check failed)
==========  =================================================================
"""

from __future__ import annotations

import signal

__all__ = [
    "CANNOT_START",
    "KILLED_AFTER_GRACE",
    "LOCK_LOST",
    "REFUSED",
    "TIMED_OUT",
    "signalled",
]

TIMED_OUT = 124
LOCK_LOST = 125
CANNOT_START = 127
KILLED_AFTER_GRACE = 128 + signal.SIGKILL
REFUSED = 1


def signalled(signum: int) -> int:
    """The exit code of a run stopped because guard received ``signum``.

    >>> signalled(signal.SIGHUP), signalled(signal.SIGTERM)
    (129, 143)
    """
    return 128 + int(signum)

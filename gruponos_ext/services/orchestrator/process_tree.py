"""The processes of one run, found and stopped as a whole (Linux ``/proc``).

A guarded run is a tree: ``meltano run``, its blocks, taps and targets, and
whatever they start -- including processes that leave the run's process
group or session with ``setsid``. Two marks find all of them:

* *ancestry*: the parent links in ``/proc/<pid>/stat``; a process that set
  itself as *child subreaper* (:func:`become_subreaper`) inherits the orphans
  of its tree, so the links never leave it;
* *the run marker*: every process of a guarded run inherits the variable
  ``GRUPONOS_RUN_CONTEXT=<context>`` (``/proc/<pid>/environ``), which no
  ``setsid`` or double fork removes.

:func:`stop_processes` sends SIGTERM, waits a grace period, then SIGKILLs
what is left, and reaps those that are this process's children.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Callable, Iterable

from gruponos_ext.core.procfs import PROC, alive, live_stat_fields, pids

__all__ = [
    "become_subreaper",
    "descendants",
    "die_with_parent",
    "marked_processes",
    "stop_processes",
]

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    """``prctl(option, value)``; False where there is no prctl (not Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(signum: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent *thread* exits.

    Call it in the child (before ``exec``, or first thing in a child
    program). The signal fires when the thread that created the child
    exits, so the creating thread must live as long as the child.
    """
    return _prctl(_PR_SET_PDEATHSIG, int(signum))


def become_subreaper() -> bool:
    """Make this process inherit the orphans of its descendants (not init)."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def descendants(root: int) -> set[int]:
    """Every live process below ``root`` (children, their children...), not ``root``."""
    children: dict[int, list[int]] = {}
    for pid in pids():
        fields = live_stat_fields(pid)
        if fields is not None:
            with contextlib.suppress(ValueError):
                children.setdefault(int(fields[1]), []).append(pid)
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def marked_processes(name: str, value: str) -> set[int]:
    """Live processes whose environment holds ``name=value`` (the run marker)."""
    needle = f"{name}={value}".encode()
    me = os.getpid()
    found: set[int] = set()
    for pid in pids():
        if pid == me:
            continue
        try:
            environ = (PROC / str(pid) / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and alive(pid):
            found.add(pid)
    return found


def _signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _reap(pids: Iterable[int]) -> None:
    """Collect the exit status of those ``pids`` that are our children (no zombies left)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


def stop_processes(
    find: Callable[[], set[int]],
    *,
    grace: float,
    kill_wait: float = 5.0,
) -> set[int]:
    """Stop every process ``find()`` returns: SIGTERM, ``grace`` seconds, then SIGKILL.

    ``find`` is asked again while waiting, so processes started meanwhile are
    stopped too. Returns the pids that still lived after SIGKILL (normally
    none).
    """
    seen: set[int] = set()
    for signum, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, kill_wait)):
        targets = find()
        if not targets:
            return set()
        seen |= targets
        _signal_all(targets, signum)
        deadline = time.monotonic() + wait
        while True:
            _reap(seen)
            left = {pid for pid in find() if alive(pid)}
            if not left:
                return set()
            if time.monotonic() > deadline:
                break
            new = left - seen
            if new:  # started while we were stopping the others
                seen |= new
                _signal_all(new, signum)
            time.sleep(0.05)
    return {pid for pid in find() if alive(pid)}

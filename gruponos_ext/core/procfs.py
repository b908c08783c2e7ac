"""Processes as Linux ``/proc`` shows them: which pids exist, a process's
``stat`` fields, command line, environment and working directory.

Every reader answers "nothing" (None, an empty list, False) where ``/proc``
is missing or the process is gone, so callers need no platform checks.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PROC",
    "alive",
    "cmdline",
    "cwd",
    "environ_value",
    "host_name",
    "live_stat_fields",
    "pids",
    "stat_fields",
]

PROC = Path("/proc")

_EXITED = ("Z", "X")  # zombie (exited, not yet reaped) and dead


def host_name() -> str:
    """This machine's host name, as ``socket.gethostname()`` gives it.

    Both read the kernel's node name (``uname``; ``/proc/sys/kernel/hostname``);
    this way costs no ``socket`` import (~2 ms of every ``health`` run,
    bench/bench_startup.py).
    """
    return os.uname().nodename


def stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name, or None.

    They start at field 3 of proc(5): state, ppid, pgrp, ... (so starttime,
    field 22, is index 19).
    """
    try:
        raw = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name is parenthesised and may itself contain spaces or ')'.
    fields = raw.rpartition(")")[2].split()
    return fields if len(fields) > 1 else None


def live_stat_fields(pid: int) -> list[str] | None:
    """:func:`stat_fields` of a process that has not exited (None for a zombie)."""
    fields = stat_fields(pid)
    return fields if fields is not None and fields[0] not in _EXITED else None


def alive(pid: int) -> bool:
    """Whether ``/proc`` shows ``pid`` as a process that has not exited (not a zombie)."""
    return live_stat_fields(pid) is not None


def pids() -> list[int]:
    """Every pid in ``/proc`` (empty without it)."""
    try:
        return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]
    except OSError:
        return []


def cmdline(pid: int) -> list[str]:
    """The argv of ``pid`` (empty for a kernel thread, a zombie or a gone process)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "surrogateescape") for part in raw.split(b"\0")[:-1]]


def environ_value(pid: int, name: str) -> str | None:
    """The value of variable ``name`` in the environment ``pid`` started with, or None."""
    prefix = name.encode() + b"="
    try:
        entries = (PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for entry in entries:
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode("utf-8", "surrogateescape")
    return None


def cwd(pid: int) -> str | None:
    """The working directory of ``pid``, or None where it cannot be read."""
    try:
        return os.readlink(PROC / str(pid) / "cwd")
    except OSError:
        return None

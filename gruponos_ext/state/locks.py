"""Is a lock holder still alive? Process liveness and the stale-lock verdict.

Liveness is only knowable on the holder's own host; a lock taken on another
host goes stale only when its lease expires. On Linux a process is also
identified by its boot and start time (``/proc``), so a recycled pid or a
reboot does not keep a dead run's lock alive.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from gruponos_ext.state.model import LockInfo, ReclaimReason

__all__ = ["boot_id", "pid_alive", "process_identity", "stale_reason"]

_PROC = Path("/proc")


def _proc_stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name is parenthesised and may itself contain spaces or ')'.
    _, _, rest = raw.rpartition(")")
    fields = rest.split()
    return fields or None


def group_alive(pgid: int) -> bool:
    """Whether a live (non-zombie) process is left in process group ``pgid``."""
    if not _PROC.is_dir():  # no /proc: ask the kernel (zombies then count as alive)
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _proc_stat_fields(int(entry.name))  # state, ppid, pgrp, ...
        if fields and len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie.

    ``os.kill(pid, 0)`` semantics: no such process means dead, ``EPERM``
    means alive (it belongs to another user). A zombie has exited and only
    waits to be reaped, so it counts as dead (Linux only; elsewhere it looks
    alive until reaped).
    """
    if pid <= 0:
        # 0 and negative pids address process groups, never one process.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except OSError as exc:  # pragma: no cover - other errnos do not occur for signal 0
        return exc.errno == errno.EPERM
    fields = _proc_stat_fields(pid)
    return not (fields and fields[0] in ("Z", "X"))


def boot_id() -> str | None:
    """This machine's boot id (changes on every boot), or None where unknown."""
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def process_identity(pid: int) -> str | None:
    """``<boot id>:<start time>`` of ``pid``: unique per process across reboots.

    ``None`` where ``/proc`` is not available or the process does not exist.
    """
    fields = _proc_stat_fields(pid)
    boot = boot_id()
    # starttime is field 22 of stat; fields here begin at field 3 (state).
    if not fields or len(fields) < 20 or boot is None:
        return None
    return f"{boot}:{fields[19]}"


def stale_reason(
    lock: LockInfo, identity: str | None, *, now: float, host: str
) -> ReclaimReason | None:
    """Why ``lock`` may be reclaimed at time ``now`` by a process on ``host``.

    ``identity`` is the :func:`process_identity` recorded with the lock. The
    lease is checked first (it applies to every host); liveness only when the
    holder is on ``host``.
    """
    if lock.expires_at is not None and now >= lock.expires_at.timestamp():
        return ReclaimReason.EXPIRED
    if lock.owner.host != host:
        return None
    if identity is not None:
        recorded_boot, _, _ = identity.partition(":")
        current_boot = boot_id()
        if current_boot is not None and recorded_boot != current_boot:
            return ReclaimReason.HOST_REBOOTED
    if not pid_alive(lock.owner.pid):
        return ReclaimReason.PROCESS_GONE
    if identity is not None:
        current = process_identity(lock.owner.pid)
        if current is not None and current != identity:
            return ReclaimReason.PID_REUSED
    return None

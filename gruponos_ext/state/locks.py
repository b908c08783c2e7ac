"""Is a lock holder still alive? Host identity, process liveness, the stale-lock verdict.

A pid means something only on the machine instance that recorded it: the
same host name, the same boot (``/proc/sys/kernel/random/boot_id``) *and* the
same pid namespace (``/proc/self/ns/pid``). Two containers may share a host
name (and a boot id, on one machine) while their pids name different
processes, so a lock recorded under another :class:`HostIdentity` goes stale
only when its lease expires. On Linux a process is also identified by its
start time, so a recycled pid does not keep a dead run's lock alive.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from gruponos_ext.core.procfs import (
    PROC,
    alive,
    host_name,
    live_stat_fields,
    pids,
    stat_fields,
)
from gruponos_ext.state.model import LockInfo, ReclaimReason

__all__ = [
    "HostIdentity",
    "boot_id",
    "group_alive",
    "machine_id",
    "pid_alive",
    "pid_namespace",
    "process_identity",
    "stale_reason",
]


def group_alive(pgid: int) -> bool:
    """Whether a live (non-zombie) process is left in process group ``pgid``."""
    if not PROC.is_dir():  # no /proc: ask the kernel (zombies then count as alive)
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for pid in pids():
        fields = live_stat_fields(pid)  # state, ppid, pgrp, ...
        if fields is not None and len(fields) > 2 and fields[2] == str(pgid):
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
    # Where /proc cannot be read the kernel's answer stands.
    return alive(pid) or stat_fields(pid) is None


def _read_first_line(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip() or None
    except OSError:
        return None


def boot_id() -> str | None:
    """This machine's boot id (changes on every boot), or None where unknown."""
    return _read_first_line(PROC / "sys/kernel/random/boot_id")


def machine_id() -> str | None:
    """This installation's ``/etc/machine-id`` (stable across boots), or None."""
    return _read_first_line(Path("/etc/machine-id"))


def pid_namespace() -> str | None:
    """This process's pid namespace (``pid:[4026531836]``), or None where unknown.

    None too when ``/proc`` belongs to another pid namespace than ours (e.g.
    ``unshare --pid --fork`` without ``--mount-proc``): pids read there would
    not be the pids this process sees.
    """
    try:
        namespace = os.readlink(PROC / "self/ns/pid")
        if os.readlink(PROC / "self") != str(os.getpid()):
            return None
    except OSError:
        return None
    return namespace


@dataclass(frozen=True, slots=True)
class HostIdentity:
    """Where a process runs: the host name and, where known, the machine instance.

    Pids recorded under one identity can be checked only by a process of an
    identity that :meth:`shares_pids_with` it.
    """

    host: str
    boot_id: str | None = None
    pid_namespace: str | None = None
    machine_id: str | None = None

    @classmethod
    def current(cls, host: str | None = None) -> HostIdentity:
        """This process's identity (``host`` defaults to the host name)."""
        return cls(host or host_name(), boot_id(), pid_namespace(), machine_id())

    def shares_pids_with(self, other: HostIdentity) -> bool:
        """Same host name, same boot and same pid namespace, all known."""
        return (
            self.host == other.host
            and self.boot_id is not None
            and self.boot_id == other.boot_id
            and self.pid_namespace is not None
            and self.pid_namespace == other.pid_namespace
        )

    def rebooted_since(self, other: HostIdentity) -> bool:
        """``other`` was recorded by this same installation before its current boot.

        Needs the host name and a known machine id to match: another machine
        that shares a host name (a cloned container) has another boot id too,
        and must not count as a reboot of this one.
        """
        return (
            self.host == other.host
            and self.machine_id is not None
            and self.machine_id == other.machine_id
            and self.boot_id is not None
            and other.boot_id is not None
            and self.boot_id != other.boot_id
        )


def process_identity(pid: int) -> str | None:
    """``<boot id>:<start time>`` of ``pid``: unique per process across reboots.

    ``None`` where ``/proc`` is not available (or belongs to another pid
    namespace) or the process does not exist.
    """
    if pid_namespace() is None:
        return None
    fields = stat_fields(pid)
    boot = boot_id()
    # starttime is field 22 of stat; fields here begin at field 3 (state).
    if not fields or len(fields) < 20 or boot is None:
        return None
    return f"{boot}:{fields[19]}"


def stale_reason(
    lock: LockInfo,
    identity: str | None,
    *,
    now: float,
    here: HostIdentity,
    holder: HostIdentity,
) -> ReclaimReason | None:
    """Why ``lock`` may be reclaimed at time ``now`` by a process of identity ``here``.

    ``identity`` is the :func:`process_identity` recorded with the lock and
    ``holder`` the identity of the host that took it. ``now`` is the time of
    the store's clock (the database server's, for a shared database). The
    lease is checked first (it applies everywhere); the holder's pid only
    when ``here`` shares its pids; a reboot only of this same installation.
    """
    if lock.expires_at is not None and now >= lock.expires_at.timestamp():
        return ReclaimReason.EXPIRED
    if identity is not None:
        recorded_boot, _, _ = identity.partition(":")
        # The process's own record wins: it was read with its start time.
        holder = HostIdentity(
            holder.host, recorded_boot or holder.boot_id, holder.pid_namespace, holder.machine_id
        )
    if here.rebooted_since(holder):
        return ReclaimReason.HOST_REBOOTED
    if not here.shares_pids_with(holder):
        return None
    if not pid_alive(lock.owner.pid):
        return ReclaimReason.PROCESS_GONE
    if identity is not None:
        current = process_identity(lock.owner.pid)
        if current is not None and current != identity:
            return ReclaimReason.PID_REUSED
    return None

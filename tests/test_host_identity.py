"""Host identity: when a recorded pid may be checked, and when a host counts as rebooted."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gruponos_ext.state.locks import HostIdentity, boot_id, pid_namespace
from tests.support.hosts import host_command, require_unshare

A = HostIdentity("worker-1", "boot-1", "pid:[4026531836]", "machine-1")


def test_pids_are_shared_only_with_the_same_name_boot_and_pid_namespace() -> None:
    assert A.shares_pids_with(HostIdentity("worker-1", "boot-1", "pid:[4026531836]", "other"))
    for other in (
        HostIdentity("worker-2", "boot-1", "pid:[4026531836]", "machine-1"),  # another host
        HostIdentity("worker-1", "boot-2", "pid:[4026531836]", "machine-1"),  # another boot
        HostIdentity("worker-1", "boot-1", "pid:[4026532178]", "machine-1"),  # a container
        HostIdentity("worker-1", None, "pid:[4026531836]", "machine-1"),  # unknown boot
        HostIdentity("worker-1", "boot-1", None, "machine-1"),  # unknown namespace
    ):
        assert not A.shares_pids_with(other) and not other.shares_pids_with(A)


def test_a_reboot_is_only_recognised_on_the_same_installation() -> None:
    assert A.rebooted_since(HostIdentity("worker-1", "boot-0", "pid:[1]", "machine-1"))
    # Same host name on another machine (a cloned container): not a reboot of this one.
    assert not A.rebooted_since(HostIdentity("worker-1", "boot-0", "pid:[1]", "machine-2"))
    assert not A.rebooted_since(HostIdentity("worker-1", "boot-0", "pid:[1]", None))
    assert not A.rebooted_since(HostIdentity("worker-2", "boot-0", "pid:[1]", "machine-1"))
    assert not A.rebooted_since(A)


@pytest.mark.skipif(not Path("/proc/self/ns/pid").exists(), reason="reads /proc")
def test_this_process_knows_its_boot_and_pid_namespace() -> None:
    here = HostIdentity.current()
    assert here.boot_id == boot_id() and here.boot_id
    assert here.pid_namespace == pid_namespace() == os.readlink("/proc/self/ns/pid")
    assert here.shares_pids_with(HostIdentity.current())


def test_another_pid_namespace_has_another_identity() -> None:
    require_unshare()
    code = "from gruponos_ext.state.locks import pid_namespace; print(pid_namespace())"
    import sys

    inside = subprocess.run(
        host_command(None, [sys.executable, "-c", code], uts=False),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    assert inside.startswith("pid:[") and inside != pid_namespace()
    # Without its own /proc, a namespace's pids cannot be read: identity unknown.
    no_proc = subprocess.run(
        ["unshare", "--pid", "--fork", "--", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    assert no_proc == "None"

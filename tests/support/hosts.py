"""Simulated hosts: processes with a host name and a pid namespace of their own.

``unshare --uts --pid --fork --mount-proc`` (we are root) gives a process what
a container has: its own host name, pids that start at 1 and mean nothing
outside, and its own ``/proc``. Several of them on one ``state_uri`` are
several machines as far as the state store can tell.

- :func:`host_command`: the argv that runs ``argv`` as host ``name``
  (``uts=False`` keeps this machine's host name: the same name in another
  pid namespace, as two containers of one pod template have).
- :func:`require_unshare`: skip (or fail under CI) where namespaces are refused.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence

import pytest

__all__ = ["host_command", "require_unshare", "unshare_works"]


def host_command(name: str | None, argv: Sequence[str], *, uts: bool = True) -> list[str]:
    """``argv`` in new pid (and, with ``uts``, UTS) namespaces, as host ``name``."""
    flags = ["--pid", "--fork", "--mount-proc"] + (["--uts"] if uts else [])
    if not uts:
        return ["unshare", *flags, "--", *argv]
    return [
        "unshare",
        *flags,
        "--",
        "/bin/sh",
        "-c",
        'hostname "$0" && exec "$@"',
        name or "",
        *argv,
    ]


@functools.cache
def unshare_works() -> str | None:
    """None when namespaces can be made here; otherwise why not."""
    if shutil.which("unshare") is None:
        return "unshare is not installed (util-linux)"
    if os.geteuid() != 0:
        return "new pid and UTS namespaces need root"
    probe = subprocess.run(
        host_command("probe-host", ["/bin/true"]), capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        return f"unshare failed: {probe.stderr.strip()}"
    return None


def require_unshare() -> None:
    """Skip the test where namespaces cannot be made -- fail it under CI."""
    reason = unshare_works()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"simulated hosts cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"no simulated hosts: {reason}")

"""The run supervisor: the process between ``guard`` and ``meltano run``.

``python -m gruponos_ext.services.orchestrator.supervisor --parent PID
--grace S --marker NAME=VALUE -- COMMAND...`` runs COMMAND and exits with
its exit code (``128 + n`` when it died of signal ``n``; 127 when it cannot
start). Why a separate process: ``guard`` can be killed with SIGKILL, and
then nothing it runs itself can clean up. The supervisor

* dies with the guard: the kernel sends it SIGTERM when its parent exits
  (parent-death signal), and it stops the whole run;
* is the *child subreaper* of the run, so processes the run leaves behind
  (also those started with ``setsid``) become its children instead of
  init's; when COMMAND exits it stops them (SIGTERM, ``grace`` seconds,
  SIGKILL) before exiting itself, so the guard releases the lock only after
  the whole tree is gone;
* starts COMMAND with a parent-death SIGKILL, so COMMAND cannot outlive it.

SIGTERM, SIGINT and SIGHUP are passed on to every process of the run. It
imports nothing but the standard library and :mod:`.process_tree`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

from gruponos_ext.services.orchestrator.process_tree import (
    become_subreaper,
    descendants,
    die_with_parent,
    marked_processes,
    stop_processes,
)

__all__ = ["CANNOT_START_EXIT_CODE", "main"]

CANNOT_START_EXIT_CODE = 127
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class _Supervisor:
    def __init__(
        self, command: Sequence[str], grace: float, marker: tuple[str, str] | None, parent: int
    ) -> None:
        self.command = list(command)
        self.parent = parent
        self.grace = grace
        self.marker = marker
        self.stop_requested_at: float | None = None
        self.child: subprocess.Popen[bytes] | None = None

    def run_processes(self) -> set[int]:
        found = descendants(os.getpid())
        if self.marker is not None:
            found |= marked_processes(*self.marker)
        return found

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        for pid in self.run_processes():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)

    def run(self) -> int:
        for signum in _STOP_SIGNALS:
            signal.signal(signum, self.on_signal)
        try:
            self.child = subprocess.Popen(
                self.command,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - single-threaded here
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            print(f"cannot start {self.command[0]!r}: {exc.strerror or exc}", flush=True)
            return CANNOT_START_EXIT_CODE
        while True:
            try:
                code = self.child.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
            stopping_since = self.stop_requested_at
            orphaned = self.parent and os.getppid() != self.parent
            if orphaned and stopping_since and time.monotonic() - stopping_since > self.grace:
                # The guard is gone and the run did not stop: nobody else will kill it.
                self.on_signal(signal.SIGKILL, None)
        # What the run left behind goes before the guard may release the lock.
        stop_processes(self.run_processes, grace=self.grace)
        return 128 - code if code < 0 else code


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--" not in args:
        print("usage: supervisor --parent PID --grace S [--marker N=V] -- COMMAND...")
        return 2
    split = args.index("--")
    options, command = args[:split], args[split + 1 :]
    values = dict(zip(options[::2], options[1::2], strict=False))
    parent = int(values.get("--parent", "0"))
    die_with_parent(signal.SIGTERM)
    if parent and os.getppid() != parent:
        return 128 + signal.SIGTERM  # the guard is already gone: start nothing
    become_subreaper()
    marker = None
    if "--marker" in values:
        name, _, value = values["--marker"].partition("=")
        marker = (name, value)
    if not command:
        return 2
    return _Supervisor(command, float(values.get("--grace", "10")), marker, parent).run()


if __name__ == "__main__":
    sys.exit(main())

"""Run health checks in a child process, so the deadline holds against a GIL-holding call.

A check stuck in one C call that holds the interpreter lock
(``sum(range(10**10))``, a regular expression backtracking over huge text)
stops every thread of its process until the call returns: no in-process
runner can return on time. This module runs the whole in-process runner in a
forked child and waits for it from the parent, which shares no interpreter
lock with it:

* the child sends each result over a pipe the moment it is known;
* the parent waits on the pipe until the deadline plus :data:`GRACE_S`,
  then kills the child (``SIGKILL``) and reports every check it heard
  nothing from as ``fail``.

Forking copies only the calling thread; a lock another thread held at that
moment stays locked forever in the child. So the parent forks only when it is
the process's only thread (a command-line process running ``health`` or
``preflight``); otherwise, and where ``fork`` is unsafe or missing (anything
but Linux), the checks run in-process as usual.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable, Sequence

from gruponos_ext.core.deadline import Deadline
from gruponos_ext.health.model import CheckResult, HealthCheck

__all__ = ["GRACE_S", "can_isolate", "run_isolated"]

GRACE_S = 0.5
"""How long after the deadline the parent waits for the child's last results."""

_HEADER = struct.Struct("!II")  # check index, payload length

ResultSink = Callable[[int, CheckResult], None]
StartSink = Callable[[int], None]
RunJobs = Callable[
    [Sequence[HealthCheck], Deadline, ResultSink | None, StartSink | None], list[CheckResult]
]
Unanswered = Callable[[HealthCheck, float, "bool | None"], CheckResult]
"""Makes the result of a check the child did not answer for: (check, elapsed, started)."""

_STARTED = 0xFFFFFFFF  # payload length that marks "this check started", with no payload


def can_isolate() -> bool:
    """Whether :func:`run_isolated` forks here (Linux, and this is the only thread)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def run_isolated(
    run_jobs: RunJobs,
    selected: Sequence[HealthCheck],
    deadline: Deadline,
    unanswered: Unanswered,
) -> list[CheckResult]:
    """``run_jobs(selected, deadline, ...)`` in a child process; its results, in order.

    Falls back to running in this process when :func:`can_isolate` is false.
    """
    if not can_isolate():
        return run_jobs(selected, deadline, None, None)
    if not selected:
        return []
    began = time.monotonic()
    read_fd, write_fd = os.pipe()
    for stream in (sys.stdout, sys.stderr):
        # What is buffered now would otherwise be written twice, once per process.
        with contextlib.suppress(Exception):
            stream.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover -- the child ends in os._exit; its results are the test
        os.close(read_fd)
        _child(run_jobs, selected, deadline, write_fd)
    os.close(write_fd)
    try:
        received, started, finished = _receive(read_fd, deadline.at + GRACE_S)
    finally:
        os.close(read_fd)
        _reap(pid, wait=finished)
    elapsed = time.monotonic() - began
    return [
        received.get(index) or unanswered(check, elapsed, None if finished else index in started)
        for index, check in enumerate(selected)
    ]


def _child(run_jobs: RunJobs, selected: Sequence[HealthCheck], deadline: Deadline, fd: int) -> None:
    """The child's whole life: run, stream each result, exit without cleanup handlers."""
    # The parent decides when to stop waiting; a terminal's Ctrl-C reaches the parent,
    # which then kills this child. A SIGTERM ends the child as it would any process:
    # a handler of the parent (guard's forwarding) has nothing to do here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    code = 0
    lock = threading.Lock()  # results come from this thread, start marks from the checks'

    def write(data: bytes) -> None:
        with lock:
            os.write(fd, data)

    def started(index: int) -> None:
        write(_HEADER.pack(index, _STARTED))

    def send(index: int, result: CheckResult) -> None:
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # details the check returned cannot be carried
            from dataclasses import replace

            from gruponos_ext.health.model import Status

            payload = pickle.dumps(
                replace(
                    result,
                    status=Status.FAIL,
                    message=f"check result cannot be sent from its process: {type(exc).__name__}",
                    details={},
                ),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        write(_HEADER.pack(index, len(payload)) + payload)

    try:
        run_jobs(selected, deadline, send, started)
    except BaseException:
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _receive(fd: int, until: float) -> tuple[dict[int, CheckResult], set[int], bool]:
    """What the child sent on ``fd`` until it closed it (it exited) or ``until``.

    The results by check index, the indexes of checks that started, and
    whether the child closed the pipe.
    """
    received: dict[int, CheckResult] = {}
    started: set[int] = set()
    buffer = b""
    while True:
        remaining = until - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return received, started, False
        chunk = os.read(fd, 65536)
        if not chunk:
            return received, started, True
        buffer += chunk
        while len(buffer) >= _HEADER.size:
            index, length = _HEADER.unpack_from(buffer)
            if length == _STARTED:
                started.add(index)
                buffer = buffer[_HEADER.size :]
                continue
            end = _HEADER.size + length
            if len(buffer) < end:
                break
            received[index] = pickle.loads(buffer[_HEADER.size : end])  # our own child wrote it
            buffer = buffer[end:]


def _reap(pid: int, *, wait: bool) -> None:
    """Collect the child, killing it first unless it has closed its pipe (is exiting)."""
    if not wait:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

"""One guarded attempt: ``meltano run`` under the supervisor, its output teed.

:class:`ChildRunner` starts the :mod:`.supervisor` (which starts the run) in
a session of its own, tees the run's output line by line (redacted),
forwards SIGTERM/SIGINT/SIGHUP that guard receives, stops the run on a
timeout or when the lease keeper says the lock is lost, kills it after a
grace period, and stops whatever carries the run's marker before it
returns. The exit code follows :mod:`.exit_codes`.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any, Protocol

from gruponos_ext.core.logging import get_logger
from gruponos_ext.services.orchestrator import exit_codes
from gruponos_ext.services.orchestrator.process_tree import marked_processes, stop_processes

__all__ = ["OUTPUT_TAIL_LINES", "STOP_GRACE_S", "ChildRunner", "StopReason"]

_log = get_logger(__name__)

OUTPUT_TAIL_LINES = 40
STOP_GRACE_S = 20.0
"""How long a run told to stop may take to exit before it is killed."""
_KILL_WAIT_S = 5.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Ticker(Protocol):
    """Called while the run lasts; True when the run must stop (the lock is lost)."""

    def __call__(self) -> bool: ...


class StopReason:
    """Why guard stopped a run (None: it was not stopped)."""

    SIGNAL = "signal"
    TIMEOUT = "timeout"
    LOCK_LOST = "lock_lost"


class ChildRunner:
    """Runs ``command`` (an argv) attempt by attempt; see the module docstring."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: Path | None,
        env: dict[str, str],
        output: IO[str] | None,
        redact: Callable[[str], str],
        marker: tuple[str, str],
        stop_grace: float = STOP_GRACE_S,
    ) -> None:
        self._command = list(command)
        self._cwd = cwd
        self._env = env
        self._output = output
        self._redact = redact
        self._marker = marker
        self._stop_grace = stop_grace
        self._tail: collections.deque[str] = collections.deque(maxlen=OUTPUT_TAIL_LINES)
        self._process: subprocess.Popen[str] | None = None
        self._stop = threading.Event()
        self.ticker: Ticker | None = None
        self.signal_received: int | None = None
        self.timed_out = False
        self.lock_lost = False
        self.killed = False

    def tail(self) -> list[str]:
        return list(self._tail)

    def note(self, line: str) -> None:
        """Add a line of guard's own to the output tail (and the tee)."""
        self._tail.append(line)
        self._write(line)

    @contextlib.contextmanager
    def forwarding_signals(self) -> Iterator[None]:
        """Route SIGTERM/SIGINT/SIGHUP to :meth:`_on_signal` (main thread only) until exit."""
        previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            yield
        finally:
            for restored, handler in previous.items():
                signal.signal(restored, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signal_received = signum
        self._stop.set()
        self._signal_supervisor(signum)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _signal_supervisor(self, signum: int) -> None:
        """Ask the run to stop: the supervisor passes ``signum`` to all of it."""
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(process.pid, signum)

    def _kill_everything(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        for pid in marked_processes(*self._marker):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def sleep(self, seconds: float) -> bool:
        """Wait between attempts; True when a signal (or a lost lock) cut the wait short."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stop.wait(min(left, 0.5)):
                return True
            if self._tick():
                return True
        return self._stop.is_set()

    def _tick(self) -> bool:
        """Run the ticker; True (and the run told to stop) when the lock is lost."""
        if self.ticker is None or self.lock_lost:
            return self.lock_lost
        if self.ticker():
            self.lock_lost = True
            self._stop.set()
            self.note("[gruponos-infra] the run lock was lost; stopping the run")
            self._signal_supervisor(signal.SIGTERM)
        return self.lock_lost

    def _start(self) -> subprocess.Popen[str] | None:
        program = self._command[0]
        if shutil.which(program, path=self._env.get("PATH", os.defpath)) is None:
            self.note(
                f"cannot start {program!r}: not found or not executable "
                "(set GRUPONOS_INFRA_MELTANO_BIN to the meltano executable)"
            )
            _log.error("guarded_run_not_started", command=program)
            return None
        supervisor = [
            sys.executable,
            "-m",
            "gruponos_ext.services.orchestrator.supervisor",
            "--parent",
            str(os.getpid()),
            "--grace",
            f"{max(self._stop_grace - 1.0, 0.5):g}",
            "--marker",
            "=".join(self._marker),
            "--",
            *self._command,
        ]
        try:
            return subprocess.Popen(
                supervisor,
                cwd=self._cwd,
                env=self._env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                bufsize=1,
                errors="replace",
                start_new_session=True,
            )
        except OSError as exc:
            self.note(f"cannot start the run supervisor: {exc.strerror or exc}")
            return None

    def run(self, timeout: float) -> int:
        """One attempt; its exit code (see :mod:`.exit_codes`)."""
        self.timed_out = False
        self.killed = False
        if self._stop.is_set():
            return self._stopped_code(None)
        process = self._start()
        if process is None:
            return exit_codes.CANNOT_START
        self._process = process
        if self._stop.is_set():
            # The signal came while the child was being started: nobody passed it on.
            self._signal_supervisor(self.signal_received or signal.SIGTERM)
        pump = threading.Thread(target=self._pump, args=(process,), daemon=True)
        pump.start()
        deadline = time.monotonic() + timeout if timeout > 0 else None
        kill_at: float | None = None
        while process.poll() is None:
            now = time.monotonic()
            if deadline is not None and now > deadline and not self.timed_out:
                self.timed_out = True
                self.note(f"[gruponos-infra] run timed out after {timeout:g} s; stopping it")
                self._signal_supervisor(signal.SIGTERM)
            self._tick()
            if (self._stop.is_set() or self.timed_out) and kill_at is None:
                kill_at = now + self._stop_grace  # a stopped run gets this long to clean up
            if kill_at is not None and now > kill_at:
                if not self.killed:
                    self.note(
                        f"[gruponos-infra] the run did not stop within {self._stop_grace:g} s "
                        "of SIGTERM; killing it"
                    )
                self.killed = True
                self._kill_everything()
                kill_at = now + _KILL_WAIT_S
            time.sleep(0.05)
        # Normally the supervisor stopped everything; this catches what escaped it.
        left = stop_processes(
            lambda: marked_processes(*self._marker), grace=self._stop_grace, kill_wait=_KILL_WAIT_S
        )
        if left:
            _log.error("guarded_run_processes_not_stopped", pids=sorted(left))
        pump.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        code = process.returncode
        return self._stopped_code(128 - code if code < 0 else code)

    def _stopped_code(self, code: int | None) -> int:
        """The attempt's exit code, once the reason it was stopped is known."""
        if self.killed:
            return exit_codes.KILLED_AFTER_GRACE
        if self.lock_lost:
            return exit_codes.LOCK_LOST
        if self.timed_out:
            return exit_codes.TIMED_OUT
        if self.signal_received is not None:
            return exit_codes.signalled(self.signal_received)
        if code is None:
            return exit_codes.signalled(signal.SIGTERM)
        return code

    def _write(self, line: str) -> None:
        if self._output is not None:
            try:
                self._output.write(line + "\n")
                self._output.flush()
            except (OSError, ValueError):
                pass

    def _pump(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            for raw in process.stdout:
                line = self._redact(raw.rstrip("\n"))
                self._tail.append(line)
                self._write(line)

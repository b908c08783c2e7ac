"""``GruponosMeltanoOrchestrator``: what keeps tap/target runs safe.

``meltano run`` stops at the first failed block and has no always-run step,
so a ``dispose`` block after a failed tap never runs, and two schedules can
start the same job at once. The orchestrator supplies the missing pieces:

* :meth:`~GruponosMeltanoOrchestrator.preflight` — critical health checks,
  the job's run lock, the run's workspace, the run record; alerts on failure.
* :meth:`~GruponosMeltanoOrchestrator.dispose` — closes the run record,
  releases the lock, removes the workspace; idempotent.
* :meth:`~GruponosMeltanoOrchestrator.guard` — preflight, then ``meltano run
  JOB`` as a child process, then a dispose that always runs (success,
  failure, SIGTERM/SIGINT forwarded to the child), with retries and a timeout.

A preflight block and the dispose block of one ``meltano run`` are matched by
their run context: ``MELTANO_PARENT_CONTEXT_UUID`` (the same for every block
of one invocation), or the guard's own context passed down as
``GRUPONOS_RUN_CONTEXT``.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.result import Result
from gruponos_ext.state.locks import group_alive

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.health.model import HealthReport
    from gruponos_ext.health.runner import HealthCheckRunner
    from gruponos_ext.services.alerts import AlertManager, Severity
    from gruponos_ext.services.oracle import OracleConnectionManager
    from gruponos_ext.services.validator import DataValidator
    from gruponos_ext.state.protocol import StateStore

__all__ = [
    "GUARD_CONTEXT_ENV",
    "DisposeOutcome",
    "GruponosMeltanoOrchestrator",
    "GuardOutcome",
    "PreflightOutcome",
    "resolve_context",
]

_log = get_logger(__name__)

GUARD_CONTEXT_ENV = "GRUPONOS_RUN_CONTEXT"
"""Set by ``guard`` for its child: inner preflight/dispose blocks join the guard's run."""
PARENT_CONTEXT_ENV = "MELTANO_PARENT_CONTEXT_UUID"
OUTPUT_TAIL_LINES = 40
STOP_GRACE_S = 20.0  # how long a stopped child may take to exit before SIGKILL
TIMEOUT_EXIT_CODE = 124  # a timed-out run that still exited 0 (GNU timeout's code)
_MAX_HEARTBEAT_S = 300.0
# Environment variables whose values the child may print and alerts must not carry.
_SECRET_ENV_SUFFIXES = ("PASSWORD", "WEBHOOK_URL", "TOKEN", "SECRET", "_KEY")
_MIN_SECRET_LENGTH = 4
_MASK = "********"


class PreflightError(GruponosError):
    """Preflight refused the run (failed critical check, lock held, no state)."""

    code = "PREFLIGHT_FAILED"


def resolve_context(
    job: str, explicit: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The run context of this block: explicit, the guard's, Meltano's, or per job.

    Without any (a plain ``meltano invoke``), ``manual:<job>`` pairs a
    preflight and a dispose of the same job.
    """
    environ = os.environ if env is None else env
    return (
        explicit
        or environ.get(GUARD_CONTEXT_ENV)
        or environ.get(PARENT_CONTEXT_ENV)
        or f"manual:{job}"
    )


def _env_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """Values of variables named like secrets (``*_PASSWORD``, ``*_TOKEN``...)."""
    return tuple(
        value
        for name, value in env.items()
        if name.upper().endswith(_SECRET_ENV_SUFFIXES) and len(value) >= _MIN_SECRET_LENGTH
    )


@dataclass(frozen=True, slots=True)
class PreflightOutcome:
    job: str
    context_id: str
    lock_message: str
    workspace: Path | None
    health: HealthReport | None = None
    reclaimed: bool = False


@dataclass(frozen=True, slots=True)
class DisposeOutcome:
    context_id: str
    runs_closed: tuple[int, ...] = ()
    locks_released: tuple[str, ...] = ()
    workspace_removed: Path | None = None
    kept_for_guard: bool = False

    @property
    def nothing_to_do(self) -> bool:
        return not (self.runs_closed or self.locks_released or self.workspace_removed)

    def describe(self) -> list[str]:
        lines = []
        if self.runs_closed:
            lines.append(f"closed run record(s) {', '.join(map(str, self.runs_closed))}")
        if self.locks_released:
            lines.append(f"released run lock(s) of job(s) {', '.join(self.locks_released)}")
        if self.workspace_removed:
            lines.append(f"removed run workspace {self.workspace_removed}")
        if self.kept_for_guard:
            lines.append("run lock and record left to the guarding process")
        return lines


@dataclass(frozen=True, slots=True)
class GuardOutcome:
    """What ``guard`` did.

    ``status`` is a run status (``success``, ``failed``, ``cancelled``) or
    ``refused`` when preflight did not let the run start (no run record
    then). ``timed_out`` refers to the last attempt.
    """

    job: str
    context_id: str
    exit_code: int
    attempts: int
    duration_s: float
    status: str
    output_tail: tuple[str, ...] = ()
    signal_received: int | None = None
    timed_out: bool = False
    preflight_error: str | None = None
    dispose_lines: tuple[str, ...] = ()
    alert_summary: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "context_id": self.context_id,
            "status": self.status,
            "exit_code": self.exit_code,
            "attempts": self.attempts,
            "duration_s": round(self.duration_s, 3),
            "signal": self.signal_received,
            "timed_out": self.timed_out,
            "preflight_error": self.preflight_error,
            "dispose": list(self.dispose_lines),
        }


class GruponosMeltanoOrchestrator:
    """Preflight, guarded runs and dispose for the Meltano jobs of one project.

    Built by the container (``orchestrator``), as in the seed README. Every
    collaborator is optional so the orchestrator also works in a bare
    container; what is missing is reported, never silently skipped. The
    values of the settings' secrets (and ``secrets``) are masked in
    everything it stores, alerts or tees from a child's output.
    """

    def __init__(
        self,
        oracle_manager: OracleConnectionManager | None = None,
        validator: DataValidator | None = None,
        alert_manager: AlertManager | None = None,
        *,
        state_store: StateStore | None = None,
        settings: GruponosMeltanoSettings | None = None,
        health: Callable[..., HealthCheckRunner] | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self.oracle_manager = oracle_manager
        self.validator = validator
        self.alert_manager = alert_manager
        self.state_store = state_store
        self.settings = settings
        self._health = health
        from_settings = settings.secret_values() if settings is not None else ()
        self._secrets = self._longest_first((*secrets, *from_settings))

    def __repr__(self) -> str:
        return (
            f"GruponosMeltanoOrchestrator(state_store={self.state_store is not None}, "
            f"alerts={self.alert_manager is not None}, oracle={self.oracle_manager is not None})"
        )

    # -- helpers -------------------------------------------------------------------
    @staticmethod
    def _longest_first(values: Iterable[str]) -> tuple[str, ...]:
        # Longest first, so a secret containing another is masked whole.
        return tuple(sorted({v for v in values if v}, key=len, reverse=True))

    def _store(self) -> StateStore:
        if self.state_store is None:
            raise PreflightError(
                "no state directory, so runs cannot be locked or recorded: run through "
                "Meltano (it sets MELTANO_PROJECT_ROOT) or set GRUPONOS_INFRA_STATE_DIR"
            )
        return self.state_store

    def _workspace(self, context_id: str) -> Path | None:
        if self.settings is None or self.settings.state_dir is None:
            return None
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in context_id)
        return Path(self.settings.state_dir) / "runs" / safe

    def alert(
        self,
        title: str,
        message: str,
        *,
        job: str | None,
        severity: str = "error",
        details: Mapping[str, str] | None = None,
    ) -> str | None:
        """Send an alert with secrets masked; never raises. Returns the delivery summary."""
        if self.alert_manager is None:
            _log.warning("alert_not_sent_no_manager", title=title, job=job)
            return None
        from gruponos_ext.services.alerts import Alert, Severity

        level: Severity = Severity.parse(severity)
        result = self.alert_manager.send(
            Alert(
                title=title,
                message=self._sanitise(message),
                severity=level,
                job=job,
                details={k: self._sanitise(v) for k, v in (details or {}).items()},
            )
        )
        summary = result.value.summary() if result.success else (result.error or "failed")
        _log.info("alert_sent", title=title, job=job, outcome=summary)
        return summary

    def _scrub(self, text: str, extra: Sequence[str] = ()) -> str:
        """``text`` with every known secret value masked."""
        for secret in self._longest_first((*self._secrets, *extra)) if extra else self._secrets:
            if secret in text:
                text = text.replace(secret, _MASK)
        return text

    def _sanitise(self, text: str, extra: Sequence[str] = ()) -> str:
        """Known secrets masked, plus credential-looking text (``password=...``, URL users)."""
        from gruponos_ext.health.runner import sanitise

        return sanitise(self._scrub(text, extra))

    # -- preflight -------------------------------------------------------------------
    def preflight(
        self,
        job: str,
        context_id: str,
        *,
        owner_pid: int | None = None,
        run_health: bool = True,
    ) -> Result[PreflightOutcome]:
        """Critical checks, then the job's lock, workspace and run record.

        ``owner_pid`` is the process that lives as long as the run (the
        ``meltano run`` process for a block; the guard for ``guard``). On any
        failure an alert is sent, a lock this call took is released again,
        and a failed Result (code ``PREFLIGHT_FAILED`` or ``LOCK_HELD``)
        says why.
        """
        from gruponos_ext.state.model import LockOwner

        report = None
        taken = False
        try:
            store = self._store()
            store.ping()  # a store that is down refuses the run at once (STATE_STORE_ERROR)
            if run_health and self._health is not None:
                report = self._health().run(tags=["critical"])
                self._record_health(store, report, job)
                from gruponos_ext.health.model import Status

                failed = [r for r in report.results if r.effective_status is Status.FAIL]
                if failed:
                    reasons = "; ".join(f"{r.name}: {r.message}" for r in failed)
                    raise PreflightError(f"critical health check(s) failed: {reasons}")
            ttl = self.settings.lock_ttl if self.settings is not None else None
            owner = LockOwner.current(context_id, pid=owner_pid)
            acquisition = store.acquire_lock(job, owner, ttl)
            if not acquisition:
                self.alert(
                    f"Meltano job {job} not started: already running",
                    acquisition.message,
                    job=job,
                    severity="warning",
                )
                return Result.fail(
                    acquisition.message,
                    acquisition.error_code,
                    {"job": job, "holder": acquisition.lock.owner.describe()},
                )
            taken = not acquisition.already_held
            if acquisition.reclaimed_from is not None:
                _log.warning("stale_lock_reclaimed", job=job, message=acquisition.message)
                self.alert(
                    f"Stale run lock of job {job} reclaimed",
                    acquisition.message,
                    job=job,
                    severity="warning",
                )
            workspace = self._workspace(context_id)
            if workspace is not None:
                try:
                    workspace.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise PreflightError(
                        f"cannot create the run workspace {workspace}: {exc.strerror or exc}"
                    ) from exc
            store.start_run(job, context_id, host=owner.host, pid=owner.pid)
        except GruponosError as exc:
            if taken:
                # A refused run must not keep the job locked until its owner exits.
                with contextlib.suppress(GruponosError):
                    store.release_lock(job, context_id)
            self.alert(f"Preflight failed for Meltano job {job}", exc.message, job=job)
            return Result.fail(exc.message, exc.code, {"job": job}, exception=exc)
        _log.info("preflight_passed", job=job, context_id=context_id)
        return Result.ok(
            PreflightOutcome(
                job,
                context_id,
                acquisition.message,
                workspace,
                report,
                reclaimed=acquisition.reclaimed_from is not None,
            )
        )

    @staticmethod
    def _record_health(store: StateStore, report: HealthReport, job: str) -> None:
        """Best effort: history is useful, never a reason to refuse a run."""
        try:
            store.record_health(report, job=job)
        except GruponosError as exc:
            _log.warning("health_history_not_recorded", job=job, error=exc.code)

    # -- dispose ---------------------------------------------------------------------
    def dispose(
        self,
        context_id: str,
        *,
        status: str = "success",
        exit_code: int | None = 0,
        message: str = "",
        leave_to_guard: bool = False,
    ) -> Result[DisposeOutcome]:
        """Close the run record, release the locks and remove the workspace of ``context_id``.

        Idempotent: a second call finds nothing and succeeds. With
        ``leave_to_guard`` (a dispose block inside a guarded run) the lock and
        record stay for the guard, which closes them with the real outcome.
        """
        if leave_to_guard:
            return Result.ok(DisposeOutcome(context_id, kept_for_guard=True))
        try:
            store = self._store()
            runs = store.finish_run(context_id, status, exit_code, self._sanitise(message))
            released = store.release_locks_for_context(context_id)
        except GruponosError as exc:
            return Result.fail(exc.message, exc.code, exception=exc)
        workspace = self._workspace(context_id)
        removed = None
        if workspace is not None and workspace.exists():
            shutil.rmtree(workspace, ignore_errors=True)
            removed = workspace
        outcome = DisposeOutcome(context_id, tuple(r.id for r in runs), released, removed)
        _log.info(
            "run_disposed",
            context_id=context_id,
            runs=outcome.runs_closed,
            locks=outcome.locks_released,
        )
        return Result.ok(outcome)

    # -- guard -----------------------------------------------------------------------
    def guard(
        self,
        job: str,
        *,
        meltano_bin: str = "meltano",
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 0.0,
        retries: int = 0,
        retry_delay: float = 0.0,
        output: IO[str] | None = None,
        extra_args: Sequence[str] = (),
        stop_grace: float = STOP_GRACE_S,
    ) -> GuardOutcome:
        """Preflight, ``meltano run JOB`` (retried), and a dispose that always runs.

        SIGTERM and SIGINT received from preflight to dispose are forwarded to
        the child's process group (or keep a child from starting); the child
        is waited for, killed after ``stop_grace`` seconds, and whatever it
        left in its process group is stopped before dispose releases the
        lock. ``timeout`` bounds each attempt. The lock's lease is renewed
        while the guard runs. The exit code is the child's (``128 + signal``
        when it died of one, 124 when a timed-out child exited 0, 1 when
        preflight refused the run).
        """
        started = time.monotonic()
        context_id = f"guard:{uuid.uuid4()}"
        child_env = dict(os.environ if env is None else env)
        child_env[GUARD_CONTEXT_ENV] = context_id
        run_secrets = _env_secrets(child_env)
        scrub = self._longest_first((*self._secrets, *run_secrets))

        def scrub_line(text: str) -> str:
            for secret in scrub:
                if secret in text:
                    text = text.replace(secret, _MASK)
            return text

        command = [meltano_bin, "run", *extra_args, job]
        runner = _ChildRunner(
            command,
            cwd=cwd,
            env=child_env,
            output=output,
            scrub=scrub_line,
            stop_grace=stop_grace,
        )
        with runner.forwarding_signals():
            preflight = self.preflight(job, context_id, owner_pid=os.getpid())
            if preflight.failure:
                return GuardOutcome(
                    job,
                    context_id,
                    1,
                    0,
                    time.monotonic() - started,
                    "refused",
                    signal_received=runner.signal_received,
                    preflight_error=preflight.error,
                )
            runner.heartbeat = self._lease_keeper(job, context_id)
            attempts = 0
            exit_code = 1
            try:
                while True:
                    attempts += 1
                    exit_code = runner.run(timeout)
                    if exit_code == 0 or runner.signal_received or attempts > retries:
                        break
                    _log.warning(
                        "guarded_run_retrying",
                        job=job,
                        attempt=attempts,
                        exit_code=exit_code,
                        delay_s=retry_delay,
                    )
                    if runner.sleep(retry_delay):
                        break
            finally:
                status = (
                    "success"
                    if exit_code == 0
                    else "cancelled"
                    if runner.signal_received
                    else "failed"
                )
                tail = runner.tail()
                disposed = self.dispose(
                    context_id,
                    status=status,
                    exit_code=exit_code,
                    message=self._sanitise("\n".join(tail[-5:]), run_secrets),
                )
            dispose_lines = (
                tuple(disposed.value.describe())
                if disposed.success
                else (f"dispose failed: {disposed.error}",)
            )
            alert_summary = None
            if exit_code != 0:
                why = (
                    f"stopped by signal {runner.signal_received}"
                    if runner.signal_received
                    else f"timed out after {timeout:g} s"
                    if runner.timed_out
                    else f"exited with code {exit_code}"
                )
                alert_summary = self.alert(
                    f"Meltano job {job} failed",
                    self._sanitise(
                        f"`meltano run {job}` {why} after {attempts} attempt(s).\n"
                        + "\n".join(tail[-OUTPUT_TAIL_LINES:]),
                        run_secrets,
                    ),
                    job=job,
                    details={
                        "exit_code": str(exit_code),
                        "attempts": str(attempts),
                        "context_id": context_id,
                    },
                )
        return GuardOutcome(
            job,
            context_id,
            exit_code,
            attempts,
            time.monotonic() - started,
            status,
            output_tail=tuple(tail),
            signal_received=runner.signal_received,
            timed_out=runner.timed_out,
            dispose_lines=dispose_lines,
            alert_summary=alert_summary,
        )

    def _lease_keeper(self, job: str, context_id: str) -> _Heartbeat | None:
        """Renews the guard's lock lease while it runs, so a long run keeps its lock."""
        ttl = self.settings.lock_ttl if self.settings is not None else None
        store = self.state_store
        if not ttl or store is None:
            return None

        def renew() -> None:
            try:
                if not store.refresh_lock(job, context_id, ttl):
                    _log.error("run_lock_lost", job=job, context_id=context_id)
            except GruponosError as exc:
                _log.warning("run_lock_not_renewed", job=job, error=exc.code)

        return _Heartbeat(renew, min(ttl / 3.0, _MAX_HEARTBEAT_S))


@dataclass
class _Heartbeat:
    """Calls ``action`` at most once per ``interval`` seconds, when ticked."""

    action: Callable[[], None]
    interval: float
    _last: float = field(default_factory=time.monotonic)

    def tick(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.action()


class _ChildRunner:
    """Runs the child in its own process group, tees its output, forwards signals."""

    def __init__(
        self,
        command: list[str],
        *,
        cwd: Path | None,
        env: dict[str, str],
        output: IO[str] | None,
        scrub: Callable[[str], str],
        stop_grace: float = STOP_GRACE_S,
    ) -> None:
        self._command = command
        self._cwd = cwd
        self._env = env
        self._output = output
        self._scrub = scrub
        self._stop_grace = stop_grace
        self._tail: collections.deque[str] = collections.deque(maxlen=OUTPUT_TAIL_LINES)
        self._process: subprocess.Popen[str] | None = None
        self._stop = threading.Event()
        self._stop_sent = False
        self.heartbeat: _Heartbeat | None = None
        self.signal_received: int | None = None
        self.timed_out = False

    def tail(self) -> list[str]:
        return list(self._tail)

    @contextlib.contextmanager
    def forwarding_signals(self) -> Iterator[None]:
        """Route SIGTERM/SIGINT to :meth:`_on_signal` (main thread only) until exit."""
        previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            yield
        finally:
            for restored, handler in previous.items():
                signal.signal(restored, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signal_received = signum
        self._stop.set()
        self._signal_child(signum)

    def _signal_child(self, signum: int) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signum)
                self._stop_sent = True

    def sleep(self, seconds: float) -> bool:
        """Wait between attempts; True when a signal cut the wait short."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stop.wait(min(left, 0.5)):
                return True
            self._tick()
        return self._stop.is_set()

    def _tick(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.tick()

    def run(self, timeout: float) -> int:
        """One attempt: the child's exit code (``128 + n`` when it died of signal ``n``)."""
        self.timed_out = False
        self._stop_sent = False
        if self._stop.is_set():
            return 128 + (self.signal_received or signal.SIGTERM)
        try:
            process = subprocess.Popen(
                self._command,
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
            line = f"cannot start {self._command[0]!r}: {exc.strerror or exc}"
            self._tail.append(line)
            _log.error("guarded_run_not_started", command=self._command[0], error=line)
            return 127
        self._process = process
        if self._stop.is_set():
            # The signal came while the child was being started: nobody forwarded it.
            self._signal_child(self.signal_received or signal.SIGTERM)
        pump = threading.Thread(target=self._pump, args=(process,), daemon=True)
        pump.start()
        deadline = time.monotonic() + timeout if timeout > 0 else None
        kill_at: float | None = None
        while process.poll() is None:
            now = time.monotonic()
            if deadline is not None and now > deadline and not self.timed_out:
                self.timed_out = True
                self._tail.append(
                    f"[gruponos-infra] run timed out after {timeout:g} s; stopping it"
                )
                self._signal_child(signal.SIGTERM)
            if (self.signal_received or self.timed_out) and kill_at is None:
                kill_at = now + self._stop_grace  # a stopped child gets this long to clean up
            if kill_at is not None and now > kill_at:
                self._signal_child(signal.SIGKILL)
                kill_at = now + 5.0
            self._tick()
            time.sleep(0.05)
        self._stop_leftovers(process.pid)
        pump.join(timeout=5)
        code = process.returncode
        code = 128 - code if code < 0 else code
        if code == 0 and self._stop_sent:
            # It was told to stop and exited 0 anyway: the run did not complete.
            code = TIMEOUT_EXIT_CODE if self.timed_out else 128 + (self.signal_received or 15)
        return code

    def _stop_leftovers(self, pgid: int) -> None:
        """Stop what the child left in its process group, before the lock is released."""
        if not group_alive(pgid):
            return
        _log.warning("guarded_run_left_processes", pgid=pgid)
        for signum, wait in ((signal.SIGTERM, self._stop_grace), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signum)
            deadline = time.monotonic() + wait
            while group_alive(pgid):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            else:
                return
        _log.error("guarded_run_processes_not_stopped", pgid=pgid)

    def _pump(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = self._scrub(raw.rstrip("\n"))
            self._tail.append(line)
            if self._output is not None:
                try:
                    self._output.write(line + "\n")
                    self._output.flush()
                except (OSError, ValueError):
                    pass

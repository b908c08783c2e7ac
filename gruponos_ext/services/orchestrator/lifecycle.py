"""``GruponosMeltanoOrchestrator``: preflight and dispose of a run, and alerts about it.

``meltano run`` stops at the first failed block and has no always-run step,
so a ``dispose`` block after a failed tap never runs, and two schedules can
start the same job at once. The orchestrator supplies the missing pieces:

* :meth:`~GruponosMeltanoOrchestrator.preflight` -- critical health checks,
  the job's run lock, the run's workspace, the run record; alerts on failure.
* :meth:`~GruponosMeltanoOrchestrator.dispose` -- closes the run record,
  releases the lock, removes the workspace; idempotent.
* :meth:`~GruponosMeltanoOrchestrator.guard` -- preflight, ``meltano run JOB``
  as a supervised child, and a dispose that always runs (:mod:`.guard`).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.redaction import Redactor
from gruponos_ext.core.result import Result
from gruponos_ext.services.orchestrator.context import workspace_path
from gruponos_ext.services.orchestrator.outcomes import (
    DisposeOutcome,
    GuardOutcome,
    PreflightOutcome,
)

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.health.model import HealthReport
    from gruponos_ext.health.runner import HealthCheckRunner
    from gruponos_ext.services.alerts import AlertManager, Severity
    from gruponos_ext.services.oracle import OracleConnectionManager
    from gruponos_ext.services.validator import DataValidator
    from gruponos_ext.state.protocol import StateStore

__all__ = ["GruponosMeltanoOrchestrator", "PreflightError"]

_log = get_logger(__name__)


class PreflightError(GruponosError):
    """Preflight refused the run (failed critical check, lock held, no state)."""

    code = "PREFLIGHT_FAILED"


class GruponosMeltanoOrchestrator:
    """Preflight, guarded runs and dispose for the Meltano jobs of one project.

    Built by the container (``orchestrator``), as in the seed README. Every
    collaborator is optional so the orchestrator also works in a bare
    container; what is missing is reported, never silently skipped. Text
    from outside (a child's output, messages it stores or alerts) goes
    through :attr:`redactor`: the settings' secrets plus ``secrets``.
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
        base = settings.redactor() if settings is not None else Redactor()
        self.redactor = base.including(secrets)

    def __repr__(self) -> str:
        return (
            f"GruponosMeltanoOrchestrator(state_store={self.state_store is not None}, "
            f"alerts={self.alert_manager is not None}, oracle={self.oracle_manager is not None})"
        )

    def store(self) -> StateStore:
        """The state store, or :class:`PreflightError` saying how to get one."""
        if self.state_store is None:
            raise PreflightError(
                "no state directory, so runs cannot be locked or recorded: run through "
                "Meltano (it sets MELTANO_PROJECT_ROOT) or set GRUPONOS_INFRA_STATE_DIR"
            )
        return self.state_store

    @property
    def lock_ttl(self) -> float | None:
        return self.settings.lock_ttl if self.settings is not None else None

    def _workspace(self, context_id: str, job: str) -> Path | None:
        if self.settings is None or self.settings.state_dir is None:
            return None
        return workspace_path(Path(self.settings.state_dir), context_id, job)

    def alert(
        self,
        title: str,
        message: str,
        *,
        job: str | None,
        severity: str = "error",
        details: Mapping[str, str] | None = None,
        redactor: Redactor | None = None,
    ) -> str | None:
        """Send an alert, its text redacted; never raises. Returns the delivery summary."""
        if self.alert_manager is None:
            _log.warning("alert_not_sent_no_manager", title=title, job=job)
            return None
        from gruponos_ext.services.alerts import Alert, Severity

        redact = redactor or self.redactor
        level: Severity = Severity.parse(severity)
        result = self.alert_manager.send(
            Alert(
                title=title,
                message=redact(message),
                severity=level,
                job=job,
                details={k: redact(v) for k, v in (details or {}).items()},
            )
        )
        summary = result.value.summary() if result.success else (result.error or "failed")
        _log.info("alert_sent", title=title, job=job, outcome=summary)
        return summary

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
            store = self.store()
            store.ping()  # a store that is down refuses the run at once (STATE_STORE_ERROR)
            if run_health and self._health is not None:
                report = self._health().run(tags=["critical"])
                self._record_health(store, report, job)
                from gruponos_ext.health.model import Status

                failed = [r for r in report.results if r.effective_status is Status.FAIL]
                if failed:
                    reasons = "; ".join(f"{r.name}: {r.message}" for r in failed)
                    raise PreflightError(f"critical health check(s) failed: {reasons}")
            owner = LockOwner.current(context_id, pid=owner_pid)
            acquisition = store.acquire_lock(job, owner, self.lock_ttl)
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
            workspace = self._workspace(context_id, job)
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
                fence=acquisition.lock.fence,
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
        job: str | None = None,
        status: str = "success",
        exit_code: int | None = 0,
        message: str = "",
        leave_to_guard: bool = False,
        redactor: Redactor | None = None,
    ) -> Result[DisposeOutcome]:
        """Close the run record, release the lock and remove the workspace of a run.

        The run is ``job`` in ``context_id``; without ``job`` every run of the
        context (one ``meltano run`` of several jobs shares a context).
        Idempotent: a second call finds nothing and succeeds. With
        ``leave_to_guard`` (a dispose block inside a guarded run) the lock and
        record stay for the guard, which closes them with the real outcome.
        """
        if leave_to_guard:
            return Result.ok(DisposeOutcome(context_id, kept_for_guard=True))
        redact = redactor or self.redactor
        try:
            store = self.store()
            runs = store.finish_run(context_id, status, exit_code, redact(message), job=job)
            if job is None:
                released = store.release_locks_for_context(context_id)
            else:
                released = (job,) if store.release_lock(job, context_id) else ()
        except GruponosError as exc:
            return Result.fail(exc.message, exc.code, exception=exc)
        removed = []
        for name in sorted({job} if job is not None else {*released, *(r.job for r in runs)}):
            workspace = self._workspace(context_id, name)
            if workspace is not None and workspace.exists():
                shutil.rmtree(workspace, ignore_errors=True)
                removed.append(workspace)
        outcome = DisposeOutcome(context_id, tuple(r.id for r in runs), released, tuple(removed))
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
        meltano_bin: str | Sequence[str] = "meltano",
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 0.0,
        retries: int = 0,
        retry_delay: float = 0.0,
        output: IO[str] | None = None,
        extra_args: Sequence[str] = (),
        stop_grace: float | None = None,
    ) -> GuardOutcome:
        """Preflight, ``meltano run JOB`` (retried), and a dispose that always runs.

        See :func:`gruponos_ext.services.orchestrator.guard.run_guarded`.
        """
        from gruponos_ext.services.orchestrator.guard import GuardSettings, run_guarded

        command = [meltano_bin] if isinstance(meltano_bin, str) else list(meltano_bin)
        return run_guarded(
            self,
            job,
            GuardSettings(
                meltano_command=tuple(command),
                cwd=cwd,
                env=env,
                timeout=timeout,
                retries=retries,
                retry_delay=retry_delay,
                output=output,
                extra_args=tuple(extra_args),
                stop_grace=stop_grace,
            ),
        )

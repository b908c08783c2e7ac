"""``guard``: preflight, ``meltano run JOB`` as a supervised child, a dispose that always runs.

SIGTERM, SIGINT and SIGHUP received from preflight to dispose are passed on
to the run (or keep it from starting). The run is waited for, killed after
the grace period, and everything it started is stopped before dispose
releases the lock (:mod:`.child`, :mod:`.supervisor`). ``timeout`` bounds
each attempt. The lock's lease is renewed while the run lasts; a lost lock
stops the run (:mod:`.lease`). Exit codes: :mod:`.exit_codes`.
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.redaction import Redactor
from gruponos_ext.services.orchestrator import exit_codes
from gruponos_ext.services.orchestrator.child import OUTPUT_TAIL_LINES, STOP_GRACE_S, ChildRunner
from gruponos_ext.services.orchestrator.context import GUARD_CONTEXT_ENV
from gruponos_ext.services.orchestrator.lease import LeasePacer
from gruponos_ext.services.orchestrator.outcomes import GuardOutcome

if TYPE_CHECKING:
    from gruponos_ext.services.orchestrator.lifecycle import GruponosMeltanoOrchestrator

__all__ = ["GuardSettings", "child_secrets", "run_guarded"]

_log = get_logger(__name__)

# Variables of the child's environment whose values it may print: named like secrets.
_SECRET_ENV_SUFFIXES = ("PASSWORD", "WEBHOOK_URL", "TOKEN", "SECRET", "_KEY")
_MIN_SECRET_LENGTH = 4


def child_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """Values of the child's variables named like secrets (``*_PASSWORD``, ``*_TOKEN``...).

    Meltano passes plugin secrets to taps and targets through such variables,
    and a failing tap may echo them.

    >>> child_secrets({"TAP_X_PASSWORD": "hunter22", "HOME": "/root"})
    ('hunter22',)
    """
    return tuple(
        value
        for name, value in env.items()
        if name.upper().endswith(_SECRET_ENV_SUFFIXES) and len(value) >= _MIN_SECRET_LENGTH
    )


@dataclass(frozen=True)
class GuardSettings:
    """How to run the guarded child."""

    meltano_command: tuple[str, ...] = ("meltano",)
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    timeout: float = 0.0
    retries: int = 0
    retry_delay: float = 0.0
    output: IO[str] | None = None
    extra_args: tuple[str, ...] = ()
    stop_grace: float | None = None


def run_guarded(
    orchestrator: GruponosMeltanoOrchestrator, job: str, how: GuardSettings
) -> GuardOutcome:
    """Preflight, the run (retried), dispose, alert; the :class:`GuardOutcome`."""
    started = time.monotonic()
    context_id = f"guard:{uuid.uuid4()}"
    child_env = dict(os.environ if how.env is None else how.env)
    child_env[GUARD_CONTEXT_ENV] = context_id
    redact: Redactor = orchestrator.redactor.including(child_secrets(child_env))
    runner = ChildRunner(
        [*how.meltano_command, "run", *how.extra_args, job],
        cwd=how.cwd,
        env=child_env,
        output=how.output,
        redact=redact,
        marker=(GUARD_CONTEXT_ENV, context_id),
        stop_grace=STOP_GRACE_S if how.stop_grace is None else how.stop_grace,
    )
    with runner.forwarding_signals():
        preflight = orchestrator.preflight(job, context_id, owner_pid=os.getpid())
        if preflight.failure:
            return GuardOutcome(
                job,
                context_id,
                exit_codes.REFUSED,
                0,
                time.monotonic() - started,
                "refused",
                signal_received=runner.signal_received,
                preflight_error=preflight.error,
            )
        ttl = orchestrator.lock_ttl
        lease = (
            LeasePacer(orchestrator.store(), job, context_id, ttl, fence=preflight.value.fence)
            if ttl
            else None
        )
        runner.ticker = lease
        attempts = 0
        exit_code = 1
        try:
            while True:
                attempts += 1
                exit_code = runner.run(how.timeout)
                if exit_code == 0 or runner.stopping or attempts > how.retries:
                    break
                _log.warning(
                    "guarded_run_retrying",
                    job=job,
                    attempt=attempts,
                    exit_code=exit_code,
                    delay_s=how.retry_delay,
                )
                if runner.sleep(how.retry_delay):
                    break
        finally:
            status = (
                "success" if exit_code == 0 else "cancelled" if runner.signal_received else "failed"
            )
            tail = runner.tail()
            disposed = orchestrator.dispose(
                context_id,
                job=job,
                status=status,
                exit_code=exit_code,
                message="\n".join(tail[-5:]),
                redactor=redact,
            )
        outcome = GuardOutcome(
            job,
            context_id,
            exit_code,
            attempts,
            time.monotonic() - started,
            status,
            output_tail=tuple(tail),
            signal_received=runner.signal_received,
            timed_out=runner.timed_out,
            dispose_lines=(
                tuple(disposed.value.describe())
                if disposed.success
                else (f"dispose failed: {disposed.error}",)
            ),
            lock_lost=runner.lock_lost,
            lost_reason=lease.lost_reason if lease is not None else None,
            killed=runner.killed,
        )
        if exit_code == 0:
            return outcome
        why = (
            f"timed out after {how.timeout:g} s and was stopped"
            if runner.timed_out and not (runner.killed or runner.lock_lost)
            else outcome.why
        )
        summary = orchestrator.alert(
            f"Meltano job {job} failed"
            if not runner.lock_lost
            else f"Meltano job {job} stopped: run lock lost",
            f"`meltano run {job}` {why} after {attempts} attempt(s)"
            + ("" if why.startswith("exited") else f" (exit code {exit_code})")
            + ".\n"
            + "\n".join(tail[-OUTPUT_TAIL_LINES:]),
            job=job,
            details={
                "exit_code": str(exit_code),
                "attempts": str(attempts),
                "context_id": context_id,
            },
            redactor=redact,
        )
    return dataclasses.replace(outcome, alert_summary=summary)

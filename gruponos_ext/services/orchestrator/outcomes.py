"""What preflight, dispose and guard did: immutable records for the CLI and tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gruponos_ext.health.model import HealthReport

__all__ = ["DisposeOutcome", "GuardOutcome", "PreflightOutcome"]


@dataclass(frozen=True, slots=True)
class PreflightOutcome:
    job: str
    context_id: str
    lock_message: str
    workspace: Path | None
    health: HealthReport | None = None
    reclaimed: bool = False
    fence: int | None = None
    """The lock's fencing number: renewals by a holder that lost the lock fail."""


@dataclass(frozen=True, slots=True)
class DisposeOutcome:
    context_id: str
    runs_closed: tuple[int, ...] = ()
    locks_released: tuple[str, ...] = ()
    workspaces_removed: tuple[Path, ...] = ()
    kept_for_guard: bool = False

    @property
    def nothing_to_do(self) -> bool:
        return not (self.runs_closed or self.locks_released or self.workspaces_removed)

    def describe(self) -> list[str]:
        lines = []
        if self.runs_closed:
            lines.append(f"closed run record(s) {', '.join(map(str, self.runs_closed))}")
        if self.locks_released:
            lines.append(f"released run lock(s) of job(s) {', '.join(self.locks_released)}")
        lines += [f"removed run workspace {path}" for path in self.workspaces_removed]
        if self.kept_for_guard:
            lines.append("run lock and record left to the guarding process")
        return lines


@dataclass(frozen=True, slots=True)
class GuardOutcome:
    """What ``guard`` did.

    ``status`` is a run status (``success``, ``failed``, ``cancelled``) or
    ``refused`` when preflight did not let the run start (no run record
    then). ``timed_out`` refers to the last attempt; ``lock_lost`` says the
    run was stopped because its lock was lost (``lost_reason`` says how);
    ``killed`` that it ignored SIGTERM and was killed after the grace period.
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
    lock_lost: bool = False
    lost_reason: str | None = None
    killed: bool = False

    @property
    def why(self) -> str:
        """Why the run ended as it did, in words (for alerts and the summary line)."""
        if self.status == "refused":
            return f"was not started: {self.preflight_error}"
        if self.lock_lost:
            return f"was stopped because it lost its run lock: {self.lost_reason}"
        if self.killed:
            return "did not stop within the grace period after SIGTERM and was killed"
        if self.timed_out:
            return "timed out and was stopped"
        if self.signal_received:
            return f"was stopped by signal {self.signal_received}"
        return f"exited with code {self.exit_code}"

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
            "lock_lost": self.lock_lost,
            "killed": self.killed,
            "preflight_error": self.preflight_error,
            "dispose": list(self.dispose_lines),
        }

"""``history``: recent runs, current locks (with staleness) and recent health results."""

from __future__ import annotations

import click

from gruponos_ext.extension.commands.session import UsageError, booted, emit_json
from gruponos_ext.extension.output import ExitCode

__all__ = ["history"]


def history(*, job: str | None, limit: int, output_format: str) -> int:
    """Print the state store's recent records, for one job or all."""
    with booted() as container:
        store = container.try_resolve("state_store").unwrap_or(None)
        if store is None:
            raise UsageError(
                "no state directory: run through Meltano or set GRUPONOS_INFRA_STATE_DIR"
            )
        runs = store.recent_runs(job, limit)
        locks = [lock for lock in store.all_locks() if job is None or lock.job == job]
        checks = store.recent_health(limit, job=job)
    if output_format == "json":
        emit_json(
            {
                "runs": [r.to_dict() for r in runs],
                "locks": [lock.to_dict() for lock in locks],
                "health": [h.to_dict() for h in checks],
            }
        )
        return ExitCode.OK
    click.echo(f"runs ({len(runs)}):")
    for run in runs:
        took = f"{run.duration_s:.1f} s" if run.duration_s is not None else "running"
        code = "" if run.exit_code is None else f" exit {run.exit_code}"
        click.echo(
            f"  #{run.id:<5} {run.job:<22} {run.status.value:<10} {took:>9}{code}  "
            f"{run.started_at.isoformat(timespec='seconds')}  {run.host}:{run.pid}"
        )
    click.echo(f"locks ({len(locks)}):")
    for lock in locks:
        stale = f"  STALE ({lock.stale.value})" if lock.stale is not None else ""
        click.echo(f"  {lock.job:<22} {lock.describe()}{stale}")
    click.echo(f"health ({len(checks)}):")
    for record in checks:
        failing = [c.name for c in record.checks if c.status == "fail"]
        detail = f"  failing: {', '.join(failing)}" if failing else ""
        click.echo(
            f"  {record.time.isoformat(timespec='seconds')}  {record.host or '-':<16} "
            f"{record.status:<5} "
            f"{len(record.checks)} checks in {record.duration_s:.2f} s{detail}"
        )
    return ExitCode.OK

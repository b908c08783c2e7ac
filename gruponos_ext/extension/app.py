"""What each CLI command does, given parsed options; returns the exit code.

This is the edge where settings, the container, the health runner, the state
store and Meltano's project meet. Results go to stdout, logs to stderr;
expected errors become one line and a documented exit code in
:func:`run_safely`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.extension.output import ExitCode

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.health.model import HealthReport
    from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer

__all__ = ["run_safely"]


class UsageError(GruponosError):
    """The command cannot run as asked (exit 2)."""

    code = "INVALID_USAGE"
    exit_code = 2


def run_safely(command: Callable[..., int], **kwargs: Any) -> int:
    """Run ``command``; expected errors print one line, no traceback unless debug."""
    from gruponos_ext.extension.logs import configure_logging, debug_enabled

    configure_logging()
    try:
        return int(command(**kwargs))
    except GruponosError as exc:
        if debug_enabled():
            import traceback

            traceback.print_exc(file=sys.stderr)
        click.echo(f"error: {exc.message}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    except Exception as exc:
        if debug_enabled():
            import traceback

            traceback.print_exc(file=sys.stderr)
        from gruponos_ext.health.runner import sanitise

        click.echo(
            f"error: unexpected {type(exc).__name__}: {sanitise(str(exc))} "
            "(set LOG_LEVEL=debug for the traceback)",
            err=True,
        )
        return ExitCode.FAILED


# -- boot -------------------------------------------------------------------------
def load_settings() -> GruponosMeltanoSettings:
    from gruponos_ext.config import GruponosMeltanoSettings

    return GruponosMeltanoSettings.from_env()


def boot(settings: GruponosMeltanoSettings | None = None) -> GruponosMeltanoContainer:
    """The container for this process, wired for the settings' environment."""
    from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer

    container = GruponosMeltanoContainer(settings or load_settings())
    container.configure_for_environment()
    return container


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def project_root(settings: GruponosMeltanoSettings | None) -> Path | None:
    if settings is not None and settings.project_root is not None:
        return Path(settings.project_root)
    env = os.environ.get("MELTANO_PROJECT_ROOT")
    return Path(env) if env else None


# -- validate ---------------------------------------------------------------------
def validate(*, strict: bool, output_format: str) -> int:
    """Settings, container wiring and meltano.yml; never opens a network connection."""
    from gruponos_ext.config import SettingsError

    findings: list[dict[str, str]] = []
    settings_ok = True
    settings = None
    try:
        settings = load_settings()
    except SettingsError as exc:
        settings_ok = False
        findings += [
            {"severity": "error", "where": f"setting {i.env_var}", "message": i.reason}
            for i in exc.issues
        ]
    if settings is not None:
        container = boot(settings)
        report = container.validate()
        findings += [{"severity": "error", "where": "wiring", "message": e} for e in report.errors]
        findings += [
            {"severity": "warning", "where": "wiring", "message": w} for w in report.warnings
        ]
        container.dispose()
    root = project_root(settings)
    if root is None:
        findings.append(
            {
                "severity": "warning",
                "where": "project",
                "message": "MELTANO_PROJECT_ROOT is not set, so meltano.yml was not checked; "
                "run through `meltano invoke gruponos-infra:validate`",
            }
        )
    else:
        from gruponos_ext.extension.project import validate_project

        project = validate_project(root)  # every environment: a broken prod must fail CI in dev
        findings += [
            {
                "severity": f.severity,
                "where": f"{f.file}: {f.key_path}" if f.key_path else f.file,
                "message": f.message,
            }
            for f in project.findings
        ]
    errors = [f for f in findings if f["severity"] == "error"]
    warnings = [f for f in findings if f["severity"] != "error"]
    # With --strict a warning fails: the verdict must say so, not "passed" with exit 1.
    failed = bool(errors or (strict and warnings))
    if output_format == "json":
        _emit_json({"ok": not failed, "strict": strict, "errors": errors, "warnings": warnings})
    else:
        for f in findings:
            click.echo(f"{f['severity']}: {f['where']}: {f['message']}")
        verdict = "validation failed" if failed else "validation passed"
        if failed and not errors:
            verdict += " (--strict: warnings fail)"
        click.echo(f"{verdict}: {len(errors)} error(s), {len(warnings)} warning(s)")
    if not settings_ok:
        return ExitCode.USAGE
    return ExitCode.FAILED if failed else ExitCode.OK


# -- health -----------------------------------------------------------------------
def run_health(
    container: GruponosMeltanoContainer,
    *,
    checks: Sequence[str] = (),
    tags: Sequence[str] = (),
    timeout: float | None = None,
) -> HealthReport:
    """Run the selected checks; ``timeout`` (``--timeout``) bounds every one of them.

    Checks that carry their own timeout (Oracle, WMS: derived from their
    connect/request timeouts) keep it when it is shorter; an explicit
    ``--timeout`` is the user's upper bound for all of them.
    """
    settings = container.settings
    runner = container.health_runner(
        default_timeout=timeout or settings.health_check_timeout,
        deadline=max(settings.health_deadline, timeout or 0),
        max_check_timeout=timeout,
    )
    return runner.run(names=list(checks) or None, tags=list(tags) or None)


def health(
    *,
    checks: Sequence[str],
    tags: Sequence[str],
    output_format: str,
    timeout: float | None,
    strict: bool,
    json_file: str | None,
    prom_file: str | None,
) -> int:
    """Run the checks and print the report; record it in the state store."""
    from gruponos_ext.health.model import Status
    from gruponos_ext.health.report import render_text, to_ietf_json

    container = boot()
    try:
        report = run_health(container, checks=checks, tags=tags, timeout=timeout)
        document = to_ietf_json(report)
        if output_format == "json":
            _emit_json(document)
        else:
            click.echo(render_text(report))
        _record_health(container, report)
        _write_metrics(
            container, report, json_file=json_file, prom_file=prom_file, document=document
        )
    finally:
        container.dispose()
    if report.status is Status.FAIL or (strict and report.status is Status.WARN):
        return ExitCode.FAILED
    return ExitCode.OK


def _record_health(container: GruponosMeltanoContainer, report: HealthReport) -> None:
    """Best effort: history is useful, but never a reason to fail a health check."""
    from gruponos_ext.core.logging import get_logger

    if container.settings.state_dir is None:
        return
    try:
        container.resolve("state_store").record_health(report)
    except Exception as exc:
        get_logger(__name__).warning(
            "health_history_not_recorded", error=getattr(exc, "message", type(exc).__name__)
        )


def _metrics_path(
    container: GruponosMeltanoContainer, given: str | None, default: str
) -> Path | None:
    if given:
        return Path(given)
    directory = container.settings.metrics_dir
    return Path(directory) / default if directory else None


def _write_metrics(
    container: GruponosMeltanoContainer,
    report: HealthReport,
    *,
    json_file: str | None,
    prom_file: str | None,
    document: dict[str, Any],
) -> None:
    from gruponos_ext.metrics import write_json_atomic, write_prometheus_textfile

    json_path = _metrics_path(container, json_file, "gruponos_health.json")
    prom_path = _metrics_path(container, prom_file, "gruponos_health.prom")
    if json_path is not None:
        write_json_atomic(json_path, document)
    if prom_path is not None:
        write_prometheus_textfile(prom_path, report)


# -- introspection ----------------------------------------------------------------
def services(*, output_format: str) -> int:
    container = boot()
    infos = container.services()
    if output_format == "json":
        _emit_json(
            [
                {
                    "name": i.name,
                    "lifetime": i.lifetime.value,
                    "state": i.state,
                    "cleanup": i.has_cleanup,
                    "health_check": i.has_health_check,
                    "description": i.description,
                }
                for i in infos
            ]
        )
    else:
        width = max((len(i.name) for i in infos), default=4)
        for i in infos:
            extras = ", ".join(
                x for x, on in (("cleanup", i.has_cleanup), ("check", i.has_health_check)) if on
            )
            click.echo(f"{i.name:<{width}}  {i.lifetime.value:<9}  {extras:<14}  {i.description}")
    container.dispose()
    return ExitCode.OK


def graph(*, output_format: str) -> int:
    container = boot()
    click.echo(container.graph(output_format), nl=False)
    container.dispose()
    return ExitCode.OK


def config(*, output_format: str) -> int:
    settings = load_settings()
    values = settings.masked_dump()
    sources = settings.describe_sources()
    if output_format == "json":
        _emit_json(
            {k: {"value": v, "source": sources.get(k, "default")} for k, v in values.items()}
        )
        return ExitCode.OK
    width = max(len(k) for k in values)
    for key, value in values.items():
        shown = "" if value is None else value
        click.echo(f"{key:<{width}}  {shown!s:<40}  ({sources.get(key, 'default')})")
    return ExitCode.OK


# -- run lifecycle ----------------------------------------------------------------
def _orchestrator(container: GruponosMeltanoContainer) -> Any:
    from gruponos_ext.services.orchestrator import GruponosMeltanoOrchestrator

    orchestrator: GruponosMeltanoOrchestrator = container.resolve("orchestrator")
    return orchestrator


def initialize(*, force: bool, write: bool = False) -> int:
    """Create the state directory; show (or with ``write`` apply) the run blocks per job."""
    settings = load_settings()
    if settings.state_dir is None:
        raise UsageError(
            "no state directory: run through `meltano invoke gruponos-infra:initialize` "
            "(Meltano sets MELTANO_PROJECT_ROOT) or set GRUPONOS_INFRA_STATE_DIR"
        )
    state_dir = Path(settings.state_dir)
    from gruponos_ext.infrastructure.factories import STATE_DB_NAME

    database = state_dir / STATE_DB_NAME
    if force and database.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    container = boot(settings)
    try:
        container.resolve("state_store").ping()
    finally:
        container.dispose()
    click.echo(f"state directory ready: {state_dir}")
    root = project_root(settings)
    if root is None or not (root / "meltano.yml").is_file():
        if write:
            raise UsageError("--write needs the Meltano project: run it through `meltano invoke`")
        click.echo("no meltano.yml found (MELTANO_PROJECT_ROOT): no job to set up")
        return ExitCode.OK
    from gruponos_ext.extension.meltano_run.block import DEFAULT_UTILITY
    from gruponos_ext.extension.run_setup.plan import plan_project
    from gruponos_ext.extension.run_setup.write import apply_plan

    plan = plan_project(root, os.environ.get("MELTANO_UTILITY_NAME") or DEFAULT_UTILITY)
    for line in plan.describe():
        click.echo(line)
    if not write:
        if plan.changes:
            click.echo(
                "apply with: meltano invoke gruponos-infra:initialize --write "
                "(keeps comments and formatting; validates afterwards)"
            )
        return ExitCode.OK
    changed = apply_plan(root, plan)
    if changed:
        click.echo("wrote " + ", ".join(p.relative_to(root).as_posix() for p in changed))
    else:
        click.echo("nothing written: the project is already set up")
    return validate(strict=False, output_format="text")


def _run_block(role: str, job: str | None, settings: GruponosMeltanoSettings) -> Any:
    """This block's job and run owner (see ``extension.meltano_run.block.identify_block``)."""
    from gruponos_ext.extension.meltano_run.block import identify_block

    state_dir = Path(settings.state_dir) if settings.state_dir is not None else None
    return identify_block(role, job, state_dir=state_dir, project_root=project_root(settings))


def preflight(*, job: str | None, skip_health: bool) -> int:
    """Critical checks, run lock, workspace and run record; exit 1 stops `meltano run`."""
    from gruponos_ext.config import SettingsError
    from gruponos_ext.services.orchestrator import resolve_context

    try:
        container = boot()
    except SettingsError as exc:
        _alert_invalid_settings(job or "(unknown job)", exc)
        raise  # exit 2: the settings must be fixed, and `meltano run` stops here
    try:
        block = _run_block("preflight", job, container.settings)
        job = block.job
        context_id = resolve_context(job)
        result = _orchestrator(container).preflight(
            job, context_id, owner_pid=block.owner_pid, run_health=not skip_health
        )
        if result.failure:
            code = f" [{result.error_code}]" if result.error_code else ""
            click.echo(f"preflight failed for job {job!r}{code}: {result.error}", err=True)
            return ExitCode.FAILED
        outcome = result.value
        click.echo(f"preflight passed for job {job!r} (run {context_id})")
        click.echo(f"  {outcome.lock_message}")
        if outcome.workspace is not None:
            click.echo(f"  workspace {outcome.workspace}")
        return ExitCode.OK
    finally:
        container.dispose()


def _alert_invalid_settings(job: str, error: GruponosError) -> None:
    """Alert that preflight refused the run, if the alert settings themselves are valid.

    Only the ``GRUPONOS_INFRA_ALERT_*`` variables (and Meltano's own) are
    read, so a bad Oracle port does not also silence the alert about it.
    """
    from gruponos_ext.config import ENV_PREFIX, GruponosMeltanoSettings, SettingsError

    alert_env = {
        name: value
        for name, value in os.environ.items()
        if name.startswith((f"{ENV_PREFIX}ALERT_", "MELTANO_"))
    }
    try:
        container = boot(GruponosMeltanoSettings.from_env(alert_env))
    except SettingsError:
        click.echo("warning: no alert sent: the alert settings are invalid too", err=True)
        return
    try:
        _orchestrator(container).alert(
            f"Preflight failed for Meltano job {job}",
            f"the run was not started: {error.message}",
            job=job,
        )
    finally:
        container.dispose()


def dispose(*, job: str | None, context_id: str | None) -> int:
    """Close this run (lock, workspace, record) and the container's resources."""
    from gruponos_ext.core.names import check_name
    from gruponos_ext.services.orchestrator import (
        GUARD_CONTEXT_ENV,
        PARENT_CONTEXT_ENV,
        resolve_context,
    )

    container = boot()
    lines: list[str] = []
    try:
        under_guard = context_id is None and bool(os.environ.get(GUARD_CONTEXT_ENV))
        in_run = bool(os.environ.get(GUARD_CONTEXT_ENV) or os.environ.get(PARENT_CONTEXT_ENV))
        if job is not None:
            check_name(job, what="job", option="--job")
        if context_id is None and in_run and not under_guard:
            job = _run_block("dispose", job, container.settings).job  # this run's job only
        context = resolve_context(job or "default", context_id)
        result = _orchestrator(container).dispose(context, job=job, leave_to_guard=under_guard)
        if result.failure:
            click.echo(f"error: dispose of run {context} failed: {result.error}", err=True)
            return ExitCode.FAILED
        lines += result.value.describe()
    finally:
        held = _holding_resources(container)
        disposal = container.dispose()
    if disposal.success:
        lines += [f"closed {name}" for name in disposal.value.disposed if name in held]
    else:
        click.echo(f"error: {disposal.error}", err=True)
        return ExitCode.FAILED
    if lines:
        for line in lines:
            click.echo(f"disposed: {line}")
    else:
        click.echo(f"nothing to dispose for run {context}")
    return ExitCode.OK


def _holding_resources(container: GruponosMeltanoContainer) -> set[str]:
    """Created services with a cleanup that hold something open right now.

    A service tells with a ``pool_open`` property (the Oracle manager's pool
    is lazy: a dispose process that never connected has nothing to close).
    The state store is the extension's own bookkeeping, never reported.
    """
    held: set[str] = set()
    for info in container.services():
        if info.state != "created" or not info.has_cleanup or info.name == "state_store":
            continue
        instance = container.try_resolve(info.name).unwrap_or(None)
        if instance is not None and getattr(instance, "pool_open", True):
            held.add(info.name)
    return held


def guard(
    *,
    job: str,
    timeout: float | None,
    retries: int | None,
    json_file: str | None,
    prom_file: str | None,
) -> int:
    """preflight + `meltano run JOB` + a dispose that always runs; exit with the run's code."""
    from gruponos_ext.metrics import write_json_atomic, write_prometheus_textfile

    container = boot()
    settings = container.settings
    root = project_root(settings)
    try:
        from gruponos_ext.core.names import check_name
        from gruponos_ext.extension.meltano_run.meltano_bin import meltano_command

        check_name(job, what="job")
        outcome = _orchestrator(container).guard(
            job,
            meltano_bin=meltano_command(settings),
            cwd=root,
            timeout=settings.run_timeout if timeout is None else timeout,
            retries=settings.run_retries if retries is None else retries,
            retry_delay=settings.run_retry_delay,
            output=sys.stdout,
        )
        store = container.try_resolve("state_store").unwrap_or(None)
        last_success = store.last_success(job) if store is not None else None
    finally:
        container.dispose()
    if outcome.preflight_error:
        click.echo(f"guard: job {job!r} not started: {outcome.preflight_error}", err=True)
    for line in outcome.dispose_lines:
        click.echo(f"guard: disposed: {line}", err=True)
    click.echo(
        f"guard: job {job!r} {outcome.status} (exit code {outcome.exit_code}, "
        f"{outcome.attempts} attempt(s), {outcome.duration_s:.1f} s)",
        err=True,
    )
    from gruponos_ext.core.names import path_component

    json_path = _metrics_path(container, json_file, f"gruponos_job_{path_component(job)}.json")
    prom_path = _metrics_path(container, prom_file, f"gruponos_job_{path_component(job)}.prom")
    if json_path is not None:
        write_json_atomic(json_path, outcome.to_dict())
    # A refused guard ran nothing ("refused" is no run status): the file keeps the last run.
    if prom_path is not None and outcome.status != "refused":
        write_prometheus_textfile(
            prom_path,
            None,
            job=job,
            run_status=outcome.status,
            exit_code=outcome.exit_code,
            last_success_time=last_success.finished_at if last_success is not None else None,
            duration_s=outcome.duration_s,
        )
    return int(outcome.exit_code)


def history(*, job: str | None, limit: int, output_format: str) -> int:
    """Recent runs, current locks and recent health results."""
    container = boot()
    try:
        store = container.try_resolve("state_store").unwrap_or(None)
        if store is None:
            raise UsageError(
                "no state directory: run through Meltano or set GRUPONOS_INFRA_STATE_DIR"
            )
        runs = store.recent_runs(job, limit)
        locks = [lock for lock in store.all_locks() if job is None or lock.job == job]
        checks = store.recent_health(limit, job=job)
    finally:
        container.dispose()
    if output_format == "json":
        _emit_json(
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

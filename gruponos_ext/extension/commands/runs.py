"""The run lifecycle: ``initialize``, ``preflight``, ``dispose`` and ``guard``.

``preflight`` and ``dispose`` are the first and last blocks of a
``meltano run`` job; ``guard`` wraps ``meltano run JOB`` between them with a
dispose that always runs. The work itself is the orchestrator's; these
handlers wire it to the command line and print what happened.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import click

from gruponos_ext.extension.commands.report_files import job_stem, report_files
from gruponos_ext.extension.commands.session import (
    UsageError,
    booted,
    load_settings,
    project_root,
)
from gruponos_ext.extension.output import ExitCode
from gruponos_ext.infrastructure.service_keys import ORCHESTRATOR

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.core.errors import GruponosError
    from gruponos_ext.extension.meltano_run.block import RunBlock
    from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer

__all__ = ["GuardOptions", "dispose", "guard", "initialize", "preflight"]


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
    with booted(settings) as container:
        container.resolve("state_store").ping()
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
    from gruponos_ext.extension.commands.validate import validate

    return validate(strict=False, output_format="text")


def _run_block(role: str, job: str | None, settings: GruponosMeltanoSettings) -> RunBlock:
    """This block's job and run owner (see ``extension.meltano_run.block.identify_block``)."""
    from gruponos_ext.extension.meltano_run.block import identify_block

    state_dir = Path(settings.state_dir) if settings.state_dir is not None else None
    return identify_block(role, job, state_dir=state_dir, project_root=project_root(settings))


def preflight(*, job: str | None, skip_health: bool) -> int:
    """Critical checks, run lock, workspace and run record; 1 stops `meltano run`."""
    from gruponos_ext.config import SettingsError
    from gruponos_ext.services.orchestrator import resolve_context

    try:
        settings = load_settings()
    except SettingsError as error:
        _alert_invalid_settings(job or "(unknown job)", error)
        raise  # exit 2: the settings must be fixed, and `meltano run` stops here
    with booted(settings) as container:
        block = _run_block("preflight", job, settings)
        job = block.job
        context_id = resolve_context(job)
        result = container.resolve(ORCHESTRATOR).preflight(
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
        alert_settings = GruponosMeltanoSettings.from_env(alert_env)
    except SettingsError:
        click.echo("warning: no alert sent: the alert settings are invalid too", err=True)
        return
    with booted(alert_settings) as container:
        container.resolve(ORCHESTRATOR).alert(
            f"Preflight failed for Meltano job {job}",
            f"the run was not started: {error.message}",
            job=job,
        )


def dispose(*, job: str | None, context_id: str | None) -> int:
    """Close this run (lock, workspace, record) and the container's resources."""
    from gruponos_ext.services.orchestrator import (
        GUARD_CONTEXT_ENV,
        PARENT_CONTEXT_ENV,
        resolve_context,
    )

    with booted() as container:
        under_guard = context_id is None and bool(os.environ.get(GUARD_CONTEXT_ENV))
        in_run = bool(os.environ.get(GUARD_CONTEXT_ENV) or os.environ.get(PARENT_CONTEXT_ENV))
        if context_id is None and in_run and not under_guard:
            job = _run_block("dispose", job, container.settings).job  # this run's job only
        context = resolve_context(job or "default", context_id)
        result = container.resolve(ORCHESTRATOR).dispose(
            context, job=job, leave_to_guard=under_guard
        )
        held = _holding_resources(container)
        disposal = container.dispose()
    if result.failure:
        click.echo(f"error: dispose of run {context} failed: {result.error}", err=True)
        return ExitCode.FAILED
    lines = result.value.describe()
    if disposal.failure:
        click.echo(f"error: {disposal.error}", err=True)
        return ExitCode.FAILED
    lines += [f"closed {name}" for name in disposal.value.disposed if name in held]
    for line in lines:
        click.echo(f"disposed: {line}")
    if not lines:
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


class GuardOptions(TypedDict):
    """``guard``'s argument and options, named as the CLI passes them."""

    job: str
    timeout: float | None
    retries: int | None
    json_file: str | None
    prom_file: str | None


def guard(**options: Unpack[GuardOptions]) -> int:
    """preflight + `meltano run JOB` + a dispose that always runs; the run's exit code."""
    job, timeout, retries = options["job"], options["timeout"], options["retries"]
    from gruponos_ext.extension.meltano_run.meltano_bin import meltano_command

    with booted() as container:
        settings = container.settings
        json_report, prom_report = report_files(
            settings,
            json_file=options["json_file"],
            prom_file=options["prom_file"],
            stem=job_stem(job),
        )
        outcome = container.resolve(ORCHESTRATOR).guard(
            job,
            meltano_bin=meltano_command(settings),
            cwd=project_root(settings),
            timeout=settings.run_timeout if timeout is None else timeout,
            retries=settings.run_retries if retries is None else retries,
            retry_delay=settings.run_retry_delay,
            output=sys.stdout,
        )
        store = container.try_resolve("state_store").unwrap_or(None)
        last_success = store.last_success(job) if store is not None else None
    if outcome.preflight_error:
        click.echo(f"guard: job {job!r} not started: {outcome.preflight_error}", err=True)
    for line in outcome.dispose_lines:
        click.echo(f"guard: disposed: {line}", err=True)
    click.echo(
        f"guard: job {job!r} {outcome.status} (exit code {outcome.exit_code}, "
        f"{outcome.attempts} attempt(s), {outcome.duration_s:.1f} s)",
        err=True,
    )
    if json_report is not None:
        json_report.write_json(outcome.to_dict())
    # A refused guard ran nothing ("refused" is no run status): the file keeps the last run.
    if prom_report is not None and outcome.status != "refused":
        prom_report.write_prometheus(
            None,
            job=job,
            run_status=outcome.status,
            exit_code=outcome.exit_code,
            last_success_time=last_success.finished_at if last_success is not None else None,
            duration_s=outcome.duration_s,
        )
    return int(outcome.exit_code)

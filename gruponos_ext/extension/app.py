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

# Error codes that mean "the user must fix the command line or configuration".
USAGE_CODES = frozenset({"INVALID_SETTINGS", "UNKNOWN_CHECK", "INVALID_USAGE", "NO_PROJECT"})


class UsageError(GruponosError):
    """The command cannot run as asked (exit 2)."""

    code = "INVALID_USAGE"


def run_safely(command: Callable[..., int], **kwargs: Any) -> int:
    """Run ``command``; expected errors print one line, no traceback unless debug."""
    from gruponos_ext.extension.logs import configure_logging, debug_enabled
    from gruponos_ext.extension.output import install_scrubber

    install_scrubber()
    configure_logging()
    try:
        return int(command(**kwargs))
    except GruponosError as exc:
        if debug_enabled():
            import traceback

            traceback.print_exc(file=sys.stderr)
        click.echo(f"error: {exc.message}", err=True)
        return ExitCode.USAGE if exc.code in USAGE_CODES else ExitCode.FAILED
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

        project = validate_project(root, environment=os.environ.get("MELTANO_ENVIRONMENT"))
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
    if output_format == "json":
        _emit_json({"ok": not errors, "errors": errors, "warnings": warnings})
    else:
        for f in findings:
            click.echo(f"{f['severity']}: {f['where']}: {f['message']}")
        verdict = "validation passed" if not errors else "validation failed"
        click.echo(f"{verdict}: {len(errors)} error(s), {len(warnings)} warning(s)")
    if not settings_ok:
        return ExitCode.USAGE
    if errors or (strict and warnings):
        return ExitCode.FAILED
    return ExitCode.OK


# -- health -----------------------------------------------------------------------
def run_health(
    container: GruponosMeltanoContainer,
    *,
    checks: Sequence[str] = (),
    tags: Sequence[str] = (),
    timeout: float | None = None,
) -> HealthReport:
    settings = container.settings
    runner = container.health_runner(
        default_timeout=timeout or settings.health_check_timeout,
        deadline=max(settings.health_deadline, timeout or 0),
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
    import structlog

    if container.settings.state_dir is None:
        return
    try:
        container.resolve("state_store").record_health(report)
    except Exception as exc:
        structlog.get_logger(__name__).warning(
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

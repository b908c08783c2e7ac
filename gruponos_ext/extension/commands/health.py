"""``health``: run the checks, print the report, record it, write the report files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

import click

from gruponos_ext.extension.commands.report_files import report_files
from gruponos_ext.extension.commands.session import (
    active_profile,
    booted,
    emit_json,
    profile_line,
)
from gruponos_ext.extension.output import ExitCode
from gruponos_ext.infrastructure.service_keys import ORCHESTRATOR

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gruponos_ext.health.model import HealthReport
    from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer

__all__ = ["HealthOptions", "health", "run_health"]


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


class HealthOptions(TypedDict):
    """``health``'s options, named as the CLI passes them."""

    checks: Sequence[str]
    tags: Sequence[str]
    output_format: str
    timeout: float | None
    strict: bool
    json_file: str | None
    prom_file: str | None


def health(**options: Unpack[HealthOptions]) -> int:
    """Run the checks and print the report; 1 when one failed (or warned, with ``strict``)."""
    output_format, timeout = options["output_format"], options["timeout"]
    from gruponos_ext.health.model import Status
    from gruponos_ext.health.overdue_alerts import alert_overdue_jobs
    from gruponos_ext.health.report import render_text, to_ietf_json

    with booted() as container:
        json_report, prom_report = report_files(
            container.settings,
            json_file=options["json_file"],
            prom_file=options["prom_file"],
            stem="gruponos_health",
        )
        report = run_health(
            container, checks=options["checks"], tags=options["tags"], timeout=timeout
        )
        choice = active_profile(container)
        # Built only when written: its version look-up reads the package metadata (~3 ms).
        written = output_format == "json" or json_report is not None
        document = {**to_ietf_json(report), "profile": choice.to_dict()} if written else {}
        if output_format == "json":
            emit_json(document)
        else:
            click.echo(profile_line(choice))
            click.echo(render_text(report))
        _record(container, report)
        alert_overdue_jobs(report, lambda: container.resolve(ORCHESTRATOR).alert)
        if json_report is not None:
            json_report.write_json(document)
        if prom_report is not None:
            prom_report.write_prometheus(report)
    if report.status is Status.FAIL or (options["strict"] and report.status is Status.WARN):
        return ExitCode.FAILED
    return ExitCode.OK


def _record(container: GruponosMeltanoContainer, report: HealthReport) -> None:
    """Best effort: history is useful, but never a reason to fail a health check."""
    from gruponos_ext.core.logging import get_logger

    store = container.try_resolve("state_store").unwrap_or(None)
    if store is None:
        return
    try:
        store.record_health(report)
    except Exception as exc:
        get_logger(__name__).warning(
            "health_history_not_recorded", error=getattr(exc, "message", type(exc).__name__)
        )

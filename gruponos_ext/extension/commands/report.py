"""``report --html FILE``: the status page of the project's pipelines, one HTML file.

Jobs come from ``meltano.yml``, runs, locks and health from the state store
(embedded or shared), schedule freshness from the ``schedules:freshness``
verdicts. The page is written atomically like the other report files.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gruponos_ext.extension.commands.session import UsageError, booted, load_settings, project_root
from gruponos_ext.extension.output import ExitCode

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.report.page import SchedulePanel
    from gruponos_ext.state.protocol import StateStore

__all__ = ["DEFAULT_PAGE", "report"]

DEFAULT_PAGE = "gruponos_status.html"
"""The page's file name in ``metrics_dir`` (else the state dir) without ``--html``."""


def _default_target(settings: GruponosMeltanoSettings) -> tuple[Path, str]:
    if settings.metrics_dir is not None:
        return Path(settings.metrics_dir) / DEFAULT_PAGE, "metrics_dir (GRUPONOS_INFRA_METRICS_DIR)"
    if settings.state_dir is not None:
        return Path(settings.state_dir) / DEFAULT_PAGE, "state_dir (GRUPONOS_INFRA_STATE_DIR)"
    raise UsageError(
        "no place for the page: give --html FILE, or run through `meltano invoke` "
        "(Meltano sets MELTANO_PROJECT_ROOT), or set GRUPONOS_INFRA_METRICS_DIR"
    )


def _store_label(settings: GruponosMeltanoSettings, store: StateStore) -> str:
    location = getattr(store, "location", "?")
    if settings.state_uri is not None:
        return f"PostgreSQL {location} (schema {settings.state_schema})"
    return f"SQLite {location}"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gruponos-infra")
    except PackageNotFoundError:
        return "unknown"


def report(*, html_file: str | None) -> int:
    """Write the status page; say where."""
    from gruponos_ext.metrics import atomic_write_text, report_target
    from gruponos_ext.project import read_model
    from gruponos_ext.report.collect import collect_page
    from gruponos_ext.report.render import render_html

    settings = load_settings()
    target, source = (Path(html_file), "--html") if html_file else _default_target(settings)
    report_target(target, source=source)  # a FIFO or a device stops us before any work
    root = project_root(settings)
    notes: list[str] = []
    jobs: list[str] = []
    if root is not None and (root / "meltano.yml").is_file():
        model, _ = read_model(root)
        jobs = list(dict.fromkeys(job.name for job in model.jobs)) if model is not None else []
    else:
        notes.append("meltano.yml was not found (MELTANO_PROJECT_ROOT): only jobs with history")
    now = datetime.now(timezone.utc)
    with booted(settings) as container:
        store = container.try_resolve("state_store").unwrap_or(None)
        if store is None:
            raise UsageError(
                "no state store: run through `meltano invoke gruponos-infra:report` "
                "(Meltano sets MELTANO_PROJECT_ROOT) or set GRUPONOS_INFRA_STATE_DIR"
            )
        schedules = _schedule_panels(settings, root, store, now, notes) if root else {}
        page = collect_page(
            store,
            project=root.name if root is not None else "Meltano project",
            jobs=jobs,
            now=now,
            version=_version(),
            store_label=_store_label(settings, store),
            meltano_environment=os.environ.get("MELTANO_ENVIRONMENT") or None,
            schedules=schedules,
            notes=notes,
        )
    written = atomic_write_text(target, render_html(page), source=source)
    click.echo(f"status page written: {written}")
    return ExitCode.OK


def _schedule_panels(
    settings: GruponosMeltanoSettings,
    root: Path,
    store: StateStore,
    now: datetime,
    notes: list[str],
) -> dict[str, list[SchedulePanel]]:
    """Each job's schedules with the ``schedules:freshness`` verdict and the next due time."""
    from gruponos_ext.core.errors import GruponosError
    from gruponos_ext.health.freshness import evaluate_schedules
    from gruponos_ext.project import read_schedules
    from gruponos_ext.project.cron import cron_of, next_due
    from gruponos_ext.report.page import SchedulePanel

    try:
        verdicts, _ = evaluate_schedules(
            read_schedules(root),
            store,
            now,
            grace=settings.schedule_grace,
            exclude=settings.schedule_exclude,
            critical_jobs=settings.critical_jobs,
        )
    except GruponosError as error:
        notes.append(f"schedules not shown: {error.message}")
        return {}
    panels: dict[str, list[SchedulePanel]] = {}
    for verdict in verdicts:
        try:
            cron = cron_of(verdict.interval)
            due = next_due(cron, now) if cron else None
        except GruponosError:  # the verdict already says why it has no due time
            due = None
        panels.setdefault(verdict.job, []).append(
            SchedulePanel(
                name=verdict.schedule,
                interval=verdict.interval or "-",
                state=verdict.status.value,
                message=verdict.message,
                next_due=due,
                overdue_s=verdict.overdue_s,
                last_success=verdict.last_success,
            )
        )
    return panels

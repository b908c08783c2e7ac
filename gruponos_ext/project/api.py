"""The entry points: check a project (:func:`validate_project`), load its model
(:func:`load_project`, :func:`read_model`) or its schedules (:func:`read_schedules`).

Each reads ``meltano.yml`` and its included files the same way
(:mod:`.loading`), without Meltano, opens no connection and needs no secret.
Only the checking entry points run the rules (:mod:`.rules`, imported when
first needed); the others build the model and stop, which is what a part of
the extension that only reads the project (a health check, a run block)
pays for.
"""

from __future__ import annotations

import os
from pathlib import Path

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.project.build import build_model
from gruponos_ext.project.codes import RULES
from gruponos_ext.project.findings import Findings, ProjectFinding, ProjectReport
from gruponos_ext.project.loading import ProjectFile, load_files
from gruponos_ext.project.model import ProjectModel, Schedule
from gruponos_ext.project.yamlio import collector_paused

__all__ = [
    "DEFAULT_UTILITY_NAME",
    "ProjectLoadError",
    "ScheduleSourceError",
    "load_project",
    "read_model",
    "read_project",
    "read_schedules",
    "validate_project",
]

DEFAULT_UTILITY_NAME = "gruponos-infra"


class ProjectLoadError(GruponosError):
    """The project cannot be loaded: no or unreadable meltano.yml, or one Meltano refuses.

    ``findings`` holds every reason (file, key path, line, rule code); the
    message names the first. Without any ``meltano.yml``, ``details["reason"]``
    is ``"missing"`` and the message is that finding's alone.
    """

    code = "PROJECT_INVALID"
    exit_code = 1
    failure = "cannot load the Meltano project"
    """How the message starts: what could not be done."""

    def __init__(self, root: Path, findings: tuple[ProjectFinding, ...]) -> None:
        self.findings = findings
        first = findings[0]
        details: dict[str, object] = {"findings": [f.to_dict() for f in findings]}
        if first.code == "PROJECT_NOT_FOUND":
            details["reason"] = "missing"
            message = first.message
        else:
            more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
            message = f"{self.failure} at {root}: {first.location}: {first.message}{more}"
        super().__init__(message, details=details)


class ScheduleSourceError(ProjectLoadError):
    """The project's schedules cannot be read (see :func:`read_schedules`)."""

    code = "SCHEDULES_UNREADABLE"
    failure = "cannot read the schedules of the Meltano project"


def _load(
    root: Path, findings: Findings, environment: str | None
) -> tuple[ProjectModel | None, tuple[ProjectFile, ...]]:
    files = load_files(root, findings)
    model = build_model(root, files, findings, environment=environment) if files else None
    return model, files


def _report(root: Path, findings: Findings, files: tuple[ProjectFile, ...]) -> ProjectReport:
    files_read = tuple(f.rel for f in files)
    return ProjectReport(project_root=root, findings=findings.items, files=files_read)


def read_model(
    project_root: Path, *, environment: str | None = None
) -> tuple[ProjectModel | None, ProjectReport]:
    """The model as Meltano loads it (None when meltano.yml is unusable), and what loading found.

    No rule runs: the report holds only what reading the files and building
    the model found (what Meltano refuses to load, and what it drops). Never
    raises for the project's content.
    """
    root = Path(project_root)
    findings = Findings()
    with collector_paused():
        model, files = _load(root, findings, environment)
    return model, _report(root, findings, files)


def read_project(
    project_root: Path, *, environment: str | None = None, own_name: str | None = None
) -> tuple[ProjectModel | None, ProjectReport]:
    """The model (None when meltano.yml is unusable) and every finding about the project.

    ``own_name`` is this utility's name in the project; by default
    ``MELTANO_UTILITY_NAME`` (set by Meltano when it runs the plugin), else
    ``gruponos-infra``.
    """
    # The rules (and through them the settings model) load only when a project is checked.
    from gruponos_ext.project.rules import check_project

    root = Path(project_root)
    findings = Findings()
    with collector_paused():
        model, files = _load(root, findings, environment)
        if model is not None:
            name = own_name or os.environ.get("MELTANO_UTILITY_NAME") or DEFAULT_UTILITY_NAME
            check_project(model, findings, own_name=name, environment=environment or None)
    return model, _report(root, findings, files)


def validate_project(project_root: Path, *, environment: str | None = None) -> ProjectReport:
    """Check the Meltano project at ``project_root`` without running anything.

    ``environment`` limits the per-environment checks of this extension's
    settings to that environment; by default every environment is checked.
    The name of this utility in the project comes from ``MELTANO_UTILITY_NAME``
    (set by Meltano when it runs the plugin), else ``gruponos-infra``; a
    utility with namespace ``gruponos_infra`` counts too.
    """
    return read_project(project_root, environment=environment)[1]


def load_project(project_root: Path, environment: str | None = None) -> ProjectModel:
    """The read-only model of the Meltano project at ``project_root``.

    ``environment`` selects :attr:`ProjectModel.active_environment` (default:
    the project's ``default_environment``). Raises :class:`ProjectLoadError`
    when ``meltano.yml`` is missing, unreadable, over the size limit or not
    valid YAML, or when Meltano itself would refuse to load the project
    (every finding of stage ``load``), or when ``environment`` is not defined.
    Mistakes Meltano tolerates (unknown plugins in a job, a bad cron) do not
    raise: :func:`validate_project` reports those.
    """
    model, report = read_project(project_root, environment=environment)
    fatal = tuple(
        f
        for f in report.errors
        if RULES[f.code].stage == "load" or f.code == "ENVIRONMENT_NOT_FOUND"
    )
    if model is None or fatal:
        raise ProjectLoadError(Path(project_root), fatal or report.errors)
    return model


def read_schedules(project_root: Path | str) -> tuple[Schedule, ...]:
    """Every schedule of the project at ``project_root``, in Meltano's order.

    ``meltano.yml``'s first, then each included file's (each file once);
    duplicates kept, as Meltano lists them. No rule runs. Raises
    :class:`ScheduleSourceError` (``SCHEDULES_UNREADABLE``) naming file and
    key path when the schedules cannot be read: no ``meltano.yml``
    (``details["reason"] == "missing"``), a project file Meltano cannot load
    (any of them may hold schedules), or a ``schedules`` section Meltano
    refuses. Mistakes elsewhere in the project are ``validate``'s to report.
    Environments do not change schedules in Meltano 4.4.1.
    """
    root = Path(project_root)
    findings = Findings()
    with collector_paused():
        files = load_files(root, findings)
        if not files or findings.has_errors():  # every file error makes Meltano refuse
            raise ScheduleSourceError(root, _errors(findings) or findings.items)
        model = build_model(root, files, findings)
    broken = tuple(
        f
        for f in _errors(findings)
        if RULES[f.code].stage == "load" and f.key_path.startswith("schedules")
    )
    if broken:
        raise ScheduleSourceError(root, broken)
    return model.schedules


def _errors(findings: Findings) -> tuple[ProjectFinding, ...]:
    return tuple(f for f in findings.items if f.severity == "error")

"""The entry points: check a project (:func:`validate_project`) or load its model
(:func:`load_project`, :func:`read_model`).

Each reads ``meltano.yml`` and its included files the same way
(:mod:`.loading`), without Meltano, opens no connection and needs no secret.
Only the checking entry points run the rules (:mod:`.rules`, imported when
first needed); :func:`read_model` builds the model and stops, which is what
a part of the extension that only reads the project (a run block,
``initialize``, the status page) pays for. The schedules have their own
entry point, :func:`gruponos_ext.project.schedules.read_schedules`.
"""

from __future__ import annotations

import os
from pathlib import Path

from gruponos_ext.project.build import build_model
from gruponos_ext.project.codes import RULES
from gruponos_ext.project.errors import ProjectLoadError
from gruponos_ext.project.findings import Findings, ProjectReport
from gruponos_ext.project.loading import ProjectFile, load_files
from gruponos_ext.project.model import ProjectModel
from gruponos_ext.project.yamlio import collector_paused

__all__ = [
    "DEFAULT_UTILITY_NAME",
    "load_project",
    "read_model",
    "read_project",
    "validate_project",
]

DEFAULT_UTILITY_NAME = "gruponos-infra"


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

"""The entry points: check a project (:func:`validate_project`) or load its model
(:func:`load_project`).

Both read ``meltano.yml`` and its included files without Meltano, open no
connection and need no secret.
"""

from __future__ import annotations

import os
from pathlib import Path

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.project.build import build_model
from gruponos_ext.project.codes import RULES
from gruponos_ext.project.findings import Findings, ProjectFinding, ProjectReport
from gruponos_ext.project.loading import load_files
from gruponos_ext.project.model import ProjectModel
from gruponos_ext.project.rules import check_project
from gruponos_ext.project.yamlio import collector_paused

__all__ = [
    "DEFAULT_UTILITY_NAME",
    "ProjectLoadError",
    "load_project",
    "read_project",
    "validate_project",
]

DEFAULT_UTILITY_NAME = "gruponos-infra"


class ProjectLoadError(GruponosError):
    """The project cannot be loaded: no or unreadable meltano.yml, or one Meltano refuses.

    ``findings`` holds every reason (file, key path, line, rule code); the
    message names the first.
    """

    code = "PROJECT_INVALID"
    exit_code = 1

    def __init__(self, root: Path, findings: tuple[ProjectFinding, ...]) -> None:
        self.findings = findings
        first = findings[0]
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        super().__init__(
            f"cannot load the Meltano project at {root}: {first.location}: {first.message}{more}",
            details={"findings": [f.to_dict() for f in findings]},
        )


def read_project(
    project_root: Path, *, environment: str | None = None, own_name: str | None = None
) -> tuple[ProjectModel | None, ProjectReport]:
    """The model (None when meltano.yml is unusable) and every finding about the project.

    ``own_name`` is this utility's name in the project; by default
    ``MELTANO_UTILITY_NAME`` (set by Meltano when it runs the plugin), else
    ``gruponos-infra``.
    """
    root = Path(project_root)
    findings = Findings()
    with collector_paused():
        files = load_files(root, findings)
        model = None
        if files:
            model = build_model(root, files, findings, environment=environment)
            name = own_name or os.environ.get("MELTANO_UTILITY_NAME") or DEFAULT_UTILITY_NAME
            check_project(model, findings, own_name=name, environment=environment or None)
    report = ProjectReport(
        project_root=root,
        findings=findings.items,
        files=tuple(f.rel for f in files),
    )
    return model, report


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

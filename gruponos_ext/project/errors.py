"""Why a project (or its schedules) cannot be read: errors carrying every finding.

>>> from pathlib import Path
>>> from gruponos_ext.project.findings import ProjectFinding
>>> missing = ProjectFinding(
...     "error", "meltano.yml", "", "no meltano.yml in /srv", "PROJECT_NOT_FOUND"
... )
>>> error = ScheduleSourceError(Path("/srv"), (missing,))
>>> error.code, error.details["reason"], error.message
('SCHEDULES_UNREADABLE', 'missing', 'no meltano.yml in /srv')
"""

from __future__ import annotations

from pathlib import Path

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.project.findings import ProjectFinding

__all__ = ["ProjectLoadError", "ScheduleSourceError"]


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
    """The project's schedules cannot be read (see
    :func:`gruponos_ext.project.schedules.read_schedules`)."""

    code = "SCHEDULES_UNREADABLE"
    failure = "cannot read the schedules of the Meltano project"

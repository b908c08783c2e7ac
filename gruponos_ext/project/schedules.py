"""The project's schedules: what ``schedules:freshness`` and the status page read.

Read with the model's own file loading and ``include_paths`` handling
(:mod:`.loading`) and built by its builder (:mod:`.build`), so they are the
schedules ``validate`` checks and ``load_project`` gives, in Meltano's order.
No rule runs.
"""

from __future__ import annotations

from pathlib import Path

from gruponos_ext.project.build import build_model
from gruponos_ext.project.codes import RULES
from gruponos_ext.project.errors import ScheduleSourceError
from gruponos_ext.project.findings import Findings
from gruponos_ext.project.loading import SourceLog, load_files
from gruponos_ext.project.model import Schedule
from gruponos_ext.project.yamlio import collector_paused

__all__ = ["read_schedules"]


def read_schedules(
    project_root: Path | str, *, sources: SourceLog | None = None
) -> tuple[Schedule, ...]:
    """Every schedule of the project at ``project_root``, in Meltano's order.

    ``meltano.yml``'s first, then each included file's (each file once);
    duplicates kept, as Meltano lists them. Raises
    :class:`~gruponos_ext.project.errors.ScheduleSourceError`
    (``SCHEDULES_UNREADABLE``) naming file and key path when the schedules
    cannot be read: no ``meltano.yml`` (``details["reason"] == "missing"``),
    a project file Meltano cannot load (any of them may hold schedules), or a
    ``schedules`` section Meltano refuses. Mistakes elsewhere in the project
    are ``validate``'s to report. Environments do not change schedules in
    Meltano 4.4.1. ``sources``, when given, hears what was read (see
    :class:`~gruponos_ext.project.loading.SourceLog`).
    """
    root = Path(project_root)
    findings = Findings()
    with collector_paused():
        files = load_files(root, findings, sources=sources)
        if not files or findings.has_errors():  # every file error makes Meltano refuse
            raise ScheduleSourceError(root, findings.errors or findings.items)
        model = build_model(root, files, findings)
    broken = tuple(
        f
        for f in findings.errors
        if RULES[f.code].stage == "load" and f.key_path.startswith("schedules")
    )
    if broken:
        raise ScheduleSourceError(root, broken)
    return model.schedules

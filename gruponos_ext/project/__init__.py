"""A Meltano project as Meltano 4.4.1 reads it: the one reader of ``meltano.yml``.

Everything in the extension that needs the project reads it here: its
model, the checks of ``validate``, the schedules of ``schedules:freshness``
and the status page, the jobs and commands a run block is attributed by, and
``initialize``'s plan. Knowledge of Meltano only: no command line, no
services; it imports neither Meltano nor anything above ``core``/``config``.

:func:`validate_project` reads ``meltano.yml`` (and its ``include_paths``
files), never opens a connection and never needs a secret, and reports what
Meltano would refuse (to load, or to run) and what is likely wrong:
blocks naming plugins or commands that do not exist, schedules naming
missing jobs or with intervals Meltano refuses, environments Meltano's model
rejects, this extension's settings that its runtime would reject, and its
preflight/dispose blocks in the wrong place. Each finding names the file, the
key path, the line and a stable rule code::

    error: meltano.yml:41: jobs[2].tasks[0]: unknown plugin 'tap-oracle-wm'
    (did you mean 'tap-oracle-wms'?) [BLOCK_UNKNOWN_PLUGIN]    <- one line

:func:`load_project` gives the read-only :class:`ProjectModel` (plugins by
type and name, jobs with their blocks, schedules, environments), raising
where Meltano refuses the project; :func:`read_model` gives it without
running any rule and without raising (the cheap path of the parts that only
read); :func:`read_schedules` gives the schedules, raising only when they
cannot be read.

The package, one room per step:

* :mod:`.yamlio`: one file: size limit before parsing, YAML as Meltano reads it, lines;
* :mod:`.loading`: ``meltano.yml`` and its ``include_paths``;
* :mod:`.model` and :mod:`.build`: the project model, built as Meltano builds its own;
* :mod:`.cron`: schedule intervals: which ones Meltano accepts, when one is due;
* :mod:`.rules`: one module per rule family;
* :mod:`.codes`, :mod:`.findings`: rule codes, findings and reports;
* :mod:`.api`, :mod:`.schedules`, :mod:`.errors`: the entry points above, and why they refuse;
* :mod:`.render`: the ``validate`` command's text and JSON output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext._lazy import lazy_exports

if TYPE_CHECKING:
    from gruponos_ext.project.api import (
        DEFAULT_UTILITY_NAME,
        load_project,
        read_model,
        read_project,
        validate_project,
    )
    from gruponos_ext.project.codes import RULES, Rule, Severity
    from gruponos_ext.project.errors import ProjectLoadError, ScheduleSourceError
    from gruponos_ext.project.findings import ProjectFinding, ProjectReport, Where
    from gruponos_ext.project.loading import MELTANO_FILE
    from gruponos_ext.project.model import (
        Block,
        Environment,
        EnvironmentPlugin,
        Job,
        Plugin,
        ProjectModel,
        Task,
    )
    from gruponos_ext.project.schedule import Schedule
    from gruponos_ext.project.schedules import read_schedules
    from gruponos_ext.project.yamlio import MAX_FILE_BYTES

__all__ = [
    "DEFAULT_UTILITY_NAME",
    "MAX_FILE_BYTES",
    "MELTANO_FILE",
    "RULES",
    "Block",
    "Environment",
    "EnvironmentPlugin",
    "Job",
    "Plugin",
    "ProjectFinding",
    "ProjectLoadError",
    "ProjectModel",
    "ProjectReport",
    "Rule",
    "Schedule",
    "ScheduleSourceError",
    "Severity",
    "Task",
    "Where",
    "load_project",
    "read_model",
    "read_project",
    "read_schedules",
    "validate_project",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "DEFAULT_UTILITY_NAME": ".api",
        "ProjectLoadError": ".errors",
        "ScheduleSourceError": ".errors",
        "load_project": ".api",
        "read_model": ".api",
        "read_project": ".api",
        "read_schedules": ".schedules",
        "validate_project": ".api",
        "RULES": ".codes",
        "Rule": ".codes",
        "Severity": ".codes",
        "ProjectFinding": ".findings",
        "ProjectReport": ".findings",
        "Where": ".findings",
        "MELTANO_FILE": ".loading",
        "Block": ".model",
        "Environment": ".model",
        "EnvironmentPlugin": ".model",
        "Job": ".model",
        "Plugin": ".model",
        "ProjectModel": ".model",
        "Schedule": ".schedule",
        "Task": ".model",
        "MAX_FILE_BYTES": ".yamlio",
    },
)

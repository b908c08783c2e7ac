"""The rules that check a :class:`ProjectModel`, one module per family.

Each family module has a ``check(context)`` function; :func:`check_project`
runs them in a fixed order (plugins, environments with this extension's own
settings, jobs and their blocks, schedules), so findings come out in the
same order every time.
"""

from __future__ import annotations

from collections.abc import Callable

from gruponos_ext.project.findings import Findings
from gruponos_ext.project.model import ProjectModel
from gruponos_ext.project.rules.context import RuleContext

__all__ = ["RuleContext", "check_project"]


def check_project(
    model: ProjectModel,
    findings: Findings,
    *,
    own_name: str,
    environment: str | None = None,
) -> None:
    """Run every rule family over ``model``; findings go to ``findings``."""
    from gruponos_ext.project.rules import (
        environments,
        jobs,
        own_settings,
        plugins,
        schedules,
    )

    context = RuleContext(model, findings, own_name=own_name, environment=environment)
    families: tuple[Callable[[RuleContext], None], ...] = (
        plugins.check,
        environments.check,
        own_settings.check,
        jobs.check,
        schedules.check,
    )
    for family in families:
        family(context)

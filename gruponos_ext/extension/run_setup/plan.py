"""What ``initialize`` would change, per job (nothing is written here).

A job gets the bare blocks ``<utility>:preflight`` before its first block
and ``<utility>:dispose`` after its last (the job is inferred when they run),
unless it already has lifecycle blocks of this utility (bare or the explicit
``preflight-<job>`` form, which keeps working). Every job gets a
``guard-<job>`` command, for cron and Airflow, unless a command of that
name exists.

>>> plan = plan_job("daily", ["tap-x target-y"], "infra", {})
>>> plan.new_tasks, plan.guard_command
(['infra:preflight tap-x target-y infra:dispose'], ('guard-daily', 'guard daily'))
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gruponos_ext.extension.meltano_run.attribution import ROLES, utility_commands

__all__ = ["JobPlan", "ProjectPlan", "plan_job", "plan_project"]


@dataclass(frozen=True)
class JobPlan:
    """The change for one job: new tasks (None: keep) and a guard command (None: keep)."""

    job: str
    file: str
    tasks: Any
    new_tasks: Any | None
    guard_command: tuple[str, str] | None
    note: str = ""

    @property
    def changes(self) -> bool:
        return self.new_tasks is not None or self.guard_command is not None

    def describe(self, utility: str) -> list[str]:
        """Lines for people: the exact change, as a diff of the job's tasks."""
        lines = [f"job {self.job} ({self.file}):"]
        if self.new_tasks is not None:
            lines += [f"  - tasks: {_show(self.tasks)}", f"  + tasks: {_show(self.new_tasks)}"]
        elif self.note:
            lines.append(f"    tasks: unchanged ({self.note})")
        if self.guard_command is not None:
            name, args = self.guard_command
            lines.append(
                f"  + command {name}: {args}   (cron/Airflow: meltano invoke {utility}:{name})"
            )
        if not self.changes:
            lines.append("    nothing to change")
        return lines


def _show(tasks: Any) -> str:
    if isinstance(tasks, str):
        return repr(tasks)
    return (
        "[" + ", ".join(_show(t) for t in tasks) + "]" if isinstance(tasks, list) else repr(tasks)
    )


def _strings(tasks: Any) -> list[str]:
    if isinstance(tasks, str):
        return [tasks]
    if isinstance(tasks, list):
        return [s for item in tasks for s in _strings(item)]
    return []


def _has_lifecycle_block(tasks: Any, utility: str, commands: Mapping[str, str]) -> bool:
    for text in _strings(tasks):
        for block in text.split(" "):
            name, _, command = block.partition(":")
            if name != utility or not command:
                continue
            args = commands.get(command, command)
            try:
                first = shlex.split(args)[:1]
            except ValueError:
                continue
            if first and first[0] in ROLES:
                return True
    return False


def _bracket(tasks: Any, utility: str) -> Any:
    """``tasks`` with the bare preflight first and the bare dispose last.

    The first and the last task string get the block (Meltano splits every
    task string on spaces and runs all blocks of a job in order).
    """
    pre, post = f"{utility}:preflight", f"{utility}:dispose"
    if isinstance(tasks, str):
        return f"{pre} {tasks} {post}"
    strings = _strings(tasks)
    first, last = strings[0], strings[-1]
    edited = {"first": False, "last": False}

    def edit(item: Any) -> Any:
        if isinstance(item, list):
            return [edit(x) for x in item]
        text = item
        if item is first and not edited["first"]:
            edited["first"] = True
            text = f"{pre} {text}"
        if item is last and not edited["last"] and sum(1 for s in strings if s is item) == 1:
            edited["last"] = True
            text = f"{text} {post}"
        return text

    result = [edit(item) for item in tasks]
    if not edited["last"]:  # the last string also occurs earlier (same object): edit by position
        flat = _strings(result)
        flat[-1] = f"{flat[-1]} {post}"
        return _rebuild(result, iter(flat))
    return result


def _rebuild(shape: Any, values: Iterator[str]) -> Any:
    if isinstance(shape, list):
        return [_rebuild(item, values) for item in shape]
    return next(values)


def command_name(job: str) -> str:
    """``guard-<job>``, with characters a block name cannot hold made ``-``.

    >>> command_name("odd job")
    'guard-odd-job'
    """
    return "guard-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", job)


def plan_job(
    job: str, tasks: Any, utility: str, commands: Mapping[str, str], *, file: str = "meltano.yml"
) -> JobPlan:
    """The change that brackets ``job`` and gives it a guard command."""
    guard_name = command_name(job)
    guard = None if guard_name in commands else (guard_name, f"guard {shlex.quote(job)}")
    if not _strings(tasks) or not isinstance(tasks, (str, list)):
        return JobPlan(job, file, tasks, None, guard, "its tasks are not a string or a list")
    if _has_lifecycle_block(tasks, utility, commands):
        return JobPlan(job, file, tasks, None, guard, "already has preflight/dispose blocks")
    return JobPlan(job, file, tasks, _bracket(tasks, utility), guard)


@dataclass(frozen=True)
class ProjectPlan:
    utility: str
    jobs: tuple[JobPlan, ...]
    utility_file: Path | None
    scheduled: frozenset[str] = frozenset()

    @property
    def changes(self) -> bool:
        return any(j.changes for j in self.jobs)

    def describe(self) -> list[str]:
        if not self.jobs:
            return ["the project has no jobs: nothing to change"]
        lines: list[str] = []
        for job in self.jobs:
            lines += job.describe(self.utility)
            if job.job in self.scheduled:
                lines.append("    (scheduled: runs as `meltano run` with the blocks above)")
        return lines


def plan_project(root: Path, utility: str) -> ProjectPlan:
    """The plan for every job of the project at ``root`` (meltano.yml and include files).

    A project whose meltano.yml cannot be read has no jobs to plan (``validate``,
    which ``initialize --write`` runs, says why).
    """
    from gruponos_ext.project import read_model

    model, _ = read_model(root)
    commands = utility_commands(model, utility)
    jobs: dict[str, JobPlan] = {}
    for job in model.jobs if model is not None else ():
        if job.name not in jobs:  # Meltano runs the first job of a name
            tasks = job.definition.get("tasks")
            jobs[job.name] = plan_job(job.name, tasks, utility, commands, file=job.where.file)
    defined = model.plugin("utilities", utility) if model is not None else None
    scheduled = frozenset(s.job for s in model.schedules if s.job) if model else frozenset()
    return ProjectPlan(
        utility,
        tuple(jobs.values()),
        root / defined.where.file if defined is not None else None,
        scheduled,
    )

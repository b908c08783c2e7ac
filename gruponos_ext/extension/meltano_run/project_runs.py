"""What a block needs from ``meltano.yml``: the jobs' tasks and this utility's commands.

Read with the same merging rule as Meltano: ``meltano.yml`` plus the files
its ``include_paths`` globs match (relative to the project root). Only
``jobs``, ``schedules`` and ``plugins.utilities`` are read; anything
malformed is skipped here (``validate`` reports it).

>>> flat_tasks(["tap-x target-y", ["dbt:run", "dbt:test"]])
['tap-x', 'target-y', 'dbt:run', 'dbt:test']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MELTANO_FILE", "ProjectRuns", "flat_tasks", "project_files", "read_project_runs"]

MELTANO_FILE = "meltano.yml"


def flat_tasks(tasks: Any) -> list[str]:
    """A job's ``tasks`` as the flat list of blocks ``meltano run`` expands it to.

    Strings split on single spaces, lists flattened (Meltano's ``TaskSets.flat_args``).
    """
    if isinstance(tasks, str):
        return [part for piece in [tasks] for part in _split(piece)]
    if isinstance(tasks, Iterable):
        return [part for item in tasks for part in flat_tasks(item)]
    return []


def _split(text: str) -> Iterator[str]:
    yield from text.split(" ") if " " in text else [text]


@dataclass(frozen=True)
class ProjectRuns:
    """Jobs (name -> raw tasks, in file order), schedules, and one utility's commands."""

    jobs: dict[str, Any] = field(default_factory=dict)
    job_files: dict[str, Path] = field(default_factory=dict)
    schedules: list[Mapping[str, Any]] = field(default_factory=list)
    commands: dict[str, str] = field(default_factory=dict)

    def blocks_of(self, job: str) -> list[str]:
        return flat_tasks(self.jobs.get(job, []))


def _load(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open(encoding="utf-8") as stream:
            return yaml.load(stream, Loader=loader)  # a safe loader
    except (OSError, yaml.YAMLError):
        return None


def project_files(root: Path, main: Mapping[str, Any] | None = None) -> list[Path]:
    """``meltano.yml`` and the files its ``include_paths`` match, in Meltano's order."""
    files = [root / MELTANO_FILE]
    document = _load(files[0]) if main is None else main
    patterns = document.get("include_paths") if isinstance(document, Mapping) else None
    seen = {files[0].resolve()}
    for pattern in patterns if isinstance(patterns, list) else []:
        if not isinstance(pattern, str) or not pattern:
            continue
        try:
            matches = sorted(root.glob(pattern))
        except (ValueError, NotImplementedError):
            continue
        for match in matches:
            resolved = match.resolve()
            if match.is_file() and resolved not in seen:
                seen.add(resolved)
                files.append(match)
    return files


def _utility_commands(entries: list[Mapping[str, Any]], name: str) -> dict[str, str]:
    by_name = {e.get("name"): e for e in entries if isinstance(e, Mapping)}
    lineage: list[Mapping[str, Any]] = []
    current = by_name.get(name)
    while current is not None and current not in lineage:
        lineage.append(current)
        parent = current.get("inherit_from")
        current = by_name.get(parent) if isinstance(parent, str) else None
    commands: dict[str, str] = {}
    for entry in reversed(lineage):  # the nearest definition wins
        defined = entry.get("commands")
        for command, spec in defined.items() if isinstance(defined, Mapping) else ():
            args = spec.get("args") if isinstance(spec, Mapping) else spec
            if isinstance(args, str):
                commands[str(command)] = args
    return commands


def read_project_runs(root: Path, utility: str) -> ProjectRuns:
    """The jobs, schedules and ``utility``'s commands of the project at ``root``."""
    runs = ProjectRuns()
    utilities: list[Mapping[str, Any]] = []
    for path in project_files(root):
        document = _load(path)
        if not isinstance(document, Mapping):
            continue
        for job in document.get("jobs") or []:
            if isinstance(job, Mapping) and isinstance(job.get("name"), str):
                runs.jobs.setdefault(job["name"], job.get("tasks"))
                runs.job_files.setdefault(job["name"], path)
        runs.schedules.extend(s for s in document.get("schedules") or [] if isinstance(s, Mapping))
        plugins = document.get("plugins")
        if isinstance(plugins, Mapping) and isinstance(plugins.get("utilities"), list):
            utilities.extend(plugins["utilities"])
    runs.commands.update(_utility_commands(utilities, utility))
    return runs

"""THE ADAPTER: a Meltano project's schedules, read from ``meltano.yml``.

This is the one place that reads schedules from a project; the freshness
check (:mod:`gruponos_ext.health.freshness`) only sees
:class:`~gruponos_ext.health.schedules.ScheduleSpec` values. It is meant to
be swapped for the project-model loader once that exists: keep its signature,
:func:`read_schedules`.

What it does, as Meltano 4.4.1 does (``meltano.core.project_files``,
``meltano.core.meltano_file``; checked by a parity test against
``meltano schedule list``):

* ``<root>/meltano.yml`` first, then every file matched by its
  ``include_paths`` glob patterns (relative to the project root, in glob
  order, each once, never ``meltano.yml`` itself, only files inside the
  root); the ``schedules`` lists are concatenated in that order;
* an entry with ``job`` is a job schedule; otherwise it is the legacy
  extractor/loader form, whose runs Meltano records under the schedule's own
  name (its state id), so that name is the job whose runs count;
* environments do not change schedules (Meltano's environments carry
  ``config`` and ``env`` only), so ``environment`` selects nothing today; it
  is accepted so that callers need not change when they do.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.health.schedules import ScheduleSpec

__all__ = ["MELTANO_FILE", "ScheduleSourceError", "read_schedules"]

MELTANO_FILE = "meltano.yml"


class ScheduleSourceError(GruponosError):
    """``meltano.yml`` (or an included file) cannot be read for its schedules."""

    code = "SCHEDULES_UNREADABLE"


def _load(path: Path, root: Path) -> Any:
    import yaml

    shown = path.relative_to(root) if path.is_relative_to(root) else path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ScheduleSourceError(
            f"no {shown} in {root}: not a Meltano project, so no schedules",
            details={"file": str(shown), "reason": "missing"},
        ) from exc
    except OSError as exc:
        raise ScheduleSourceError(
            f"cannot read {shown}: {exc.strerror or exc}; the schedules cannot be checked",
            details={"file": str(shown)},
        ) from exc
    # libyaml's loader when PyYAML has it: ten times faster on a large meltano.yml.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ScheduleSourceError(
            f"{shown} is not valid YAML{where}; fix it (meltano itself cannot run either)",
            details={"file": str(shown)},
        ) from exc


def _included_files(root: Path, patterns: object) -> list[Path]:
    if patterns is None:
        return []
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ScheduleSourceError(
            f"{MELTANO_FILE}: include_paths must be a list of glob patterns",
            details={"file": MELTANO_FILE},
        )
    main = root / MELTANO_FILE
    found: dict[Path, None] = {}
    real_root = root.resolve()
    for pattern in patterns:
        for path in root.glob(pattern):
            if path == main:
                continue
            if not path.is_file() or not path.resolve().is_relative_to(real_root):
                raise ScheduleSourceError(
                    f"{MELTANO_FILE}: include_paths pattern {pattern!r} matches {path}, which "
                    "is not a file inside the project",
                    details={"file": MELTANO_FILE, "pattern": pattern},
                )
            found[path] = None
    return list(found)


def _specs(document: object, shown: str) -> list[ScheduleSpec]:
    if document is None:
        return []
    if not isinstance(document, Mapping):
        raise ScheduleSourceError(
            f"{shown} must be a mapping of top-level keys", details={"file": shown}
        )
    entries = document.get("schedules") or []
    if not isinstance(entries, list):
        raise ScheduleSourceError(f"{shown}: schedules must be a list", details={"file": shown})
    specs = []
    for index, entry in enumerate(entries):
        where = f"{shown}: schedules[{index}]"
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not name:
            raise ScheduleSourceError(f"{where} has no name", details={"file": shown})
        job = entry.get("job")
        interval = entry.get("interval")
        if interval is not None and not isinstance(interval, str):
            raise ScheduleSourceError(
                f"{where} ({name!r}): interval must be text such as '@hourly'",
                details={"file": shown},
            )
        specs.append(
            ScheduleSpec(
                name=name,
                job=str(job) if job else name,
                interval=interval,
                source=shown,
            )
        )
    return specs


def read_schedules(project_root: Path | str, environment: str | None = None) -> list[ScheduleSpec]:
    """Every schedule of the project at ``project_root``, in Meltano's order.

    Raises :class:`ScheduleSourceError` (code ``SCHEDULES_UNREADABLE``) naming
    the file at fault; ``details["reason"]`` is ``"missing"`` when there is no
    ``meltano.yml`` at all. ``environment`` is accepted for the day schedules
    depend on it (see the module docstring).
    """
    del environment  # Meltano 4.4.1: environments do not change schedules
    root = Path(project_root)
    main = root / MELTANO_FILE
    document = _load(main, root)
    specs = _specs(document, MELTANO_FILE)
    patterns = document.get("include_paths") if isinstance(document, Mapping) else None
    for path in _included_files(root, patterns):
        shown = str(path.relative_to(root))
        specs += _specs(_load(path, root), shown)
    return specs

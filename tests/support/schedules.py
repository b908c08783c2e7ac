"""Schedules as the project model holds them, for tests of what uses them (freshness, metrics).

Built the way :func:`gruponos_ext.project.read_schedules` builds them from a
``meltano.yml``, without writing one.
"""

from __future__ import annotations

from typing import Any

from gruponos_ext.project.findings import Where
from gruponos_ext.project.model import Schedule, readonly

__all__ = ["schedule"]


def schedule(
    name: str, job: str | None, interval: str | None, *, file: str = "meltano.yml"
) -> Schedule:
    """The schedule ``name`` of ``job`` read from ``file``.

    ``job=None`` is the legacy extractor/loader form, whose runs count under
    the schedule's own name.
    """
    definition: dict[str, Any] = {"name": name, "interval": interval}
    if job is None:
        definition.update(extractor="tap-x", loader="target-y", transform="skip")
    else:
        definition["job"] = job
    return Schedule(
        name=name,
        where=Where(file, "schedules[0]"),
        definition=readonly(definition),
        interval=interval,
        job=job,
        extractor="tap-x" if job is None else None,
        loader="target-y" if job is None else None,
        transform="skip" if job is None else None,
    )

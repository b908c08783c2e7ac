"""A schedule as ``meltano.yml`` declares it: a job (or an extractor/loader pair) and an interval.

Part of the project model (:mod:`.model`), in a module of its own: the
freshness check, the status page and the schedule cache need schedules
without the rest of the model (~5 ms of every ``health`` run,
bench/bench_startup.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from gruponos_ext.project.cron.vocabulary import cron_expression
from gruponos_ext.project.places import Where

__all__ = ["Schedule"]

_NO_ENV: Mapping[str, Any] = MappingProxyType({})


def _no_env() -> Mapping[str, Any]:
    return _NO_ENV


@dataclass(frozen=True)
class Schedule:
    """A schedule: a job (or a legacy extractor/loader pair) and an interval."""

    name: str
    where: Where
    definition: Mapping[str, Any]
    interval: str | None
    """The interval as written (cron expression or ``@`` alias); None when empty."""
    job: str | None = None
    extractor: str | None = None
    loader: str | None = None
    transform: str | None = None
    env: Mapping[str, Any] = field(default_factory=_no_env)

    @property
    def kind(self) -> Literal["job", "elt"]:
        """``job`` when the schedule names a job (Meltano's test), else ``elt``."""
        return "job" if self.job else "elt"

    @property
    def run_job(self) -> str:
        """The job whose successful runs satisfy this schedule: its ``job``, or for the
        legacy extractor/loader form its own name (Meltano's state id for such runs)."""
        return self.job or self.name

    @property
    def cron(self) -> str | None:
        """The interval as a five-field cron expression, aliases expanded (as
        Meltano's ``Schedule.cron_interval``); None for ``@once``, ``@manual``,
        ``@none`` or no interval."""
        return cron_expression(self.interval)

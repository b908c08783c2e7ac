"""The vocabulary of health checks: statuses, outcomes, checks and reports.

A *check* is a named, tagged callable returning a :class:`CheckOutcome`; the
runner turns outcomes into timed :class:`CheckResult` records and aggregates
them into a :class:`HealthReport`. Names follow the IETF health-check draft's
``component:measurement`` form (``oracle:connection``), so they double as the
report's keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

__all__ = [
    "CheckOutcome",
    "CheckResult",
    "HealthCheck",
    "HealthReport",
    "ServiceCheck",
    "Status",
]


class Status(str, Enum):
    """A check's verdict. ``skip`` means "not configured": it never worsens the total."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"

    @property
    def rank(self) -> int:
        """Worst-wins ordering: skip < pass < warn < fail."""
        return _RANK[self]

    @staticmethod
    def worst(statuses: Any) -> Status:
        """The worst of ``statuses``; ``pass`` when there is none or all were skipped."""
        worst = Status.PASS
        for status in statuses:
            if status is not Status.SKIP and _RANK[status] > _RANK[worst]:
                worst = status
        return worst


_RANK = {Status.SKIP: 0, Status.PASS: 1, Status.WARN: 2, Status.FAIL: 3}

Observed = float | int | str | bool | None


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """What a check function returns.

    ``message`` is shown to people and must never contain a secret;
    ``observed_value``/``observed_unit`` are the IETF ``observedValue`` and
    ``observedUnit`` (e.g. ``12.5`` / ``"ms"``).
    """

    status: Status
    message: str = ""
    observed_value: Observed = None
    observed_unit: str | None = None
    component_type: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, message: str = "", **kwargs: Any) -> CheckOutcome:
        return cls(Status.PASS, message, **kwargs)

    @classmethod
    def warned(cls, message: str, **kwargs: Any) -> CheckOutcome:
        return cls(Status.WARN, message, **kwargs)

    @classmethod
    def failed(cls, message: str, **kwargs: Any) -> CheckOutcome:
        return cls(Status.FAIL, message, **kwargs)

    @classmethod
    def skipped(cls, reason: str, **kwargs: Any) -> CheckOutcome:
        return cls(Status.SKIP, reason, **kwargs)


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """A registered check.

    ``run`` is called in a worker thread; the runner bounds it by ``timeout``
    (or its default) and never waits for it past that. A failing non-critical
    check makes the total ``warn`` instead of ``fail``.
    """

    name: str
    run: Callable[[], CheckOutcome]
    tags: frozenset[str] = frozenset()
    critical: bool = True
    timeout: float | None = None
    description: str = ""

    @property
    def component(self) -> str:
        """The part of the name before ``:`` (``oracle`` for ``oracle:connection``)."""
        return self.name.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class ServiceCheck:
    """A check carried by a container registration (svcs-style ``ping``).

    ``probe`` receives the resolved service instance. The health layer turns
    each registration's ``ServiceCheck`` into a :class:`HealthCheck`.
    """

    name: str
    probe: Callable[[Any], CheckOutcome]
    tags: frozenset[str] = frozenset()
    critical: bool = True
    timeout: float | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A check's outcome as reported: the outcome plus timing and metadata."""

    name: str
    status: Status
    message: str
    duration_s: float
    time: datetime
    critical: bool = True
    tags: frozenset[str] = frozenset()
    observed_value: Observed = None
    observed_unit: str | None = None
    component_type: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def effective_status(self) -> Status:
        """What this result contributes to the total: a non-critical fail counts as warn."""
        if self.status is Status.FAIL and not self.critical:
            return Status.WARN
        return self.status


@dataclass(frozen=True, slots=True)
class HealthReport:
    """All results of one run of the checks, with the worst-wins total."""

    status: Status
    results: tuple[CheckResult, ...]
    duration_s: float
    time: datetime

    @classmethod
    def aggregate(
        cls, results: tuple[CheckResult, ...], duration_s: float, time: datetime
    ) -> HealthReport:
        status = Status.worst(r.effective_status for r in results)
        return cls(status=status, results=results, duration_s=duration_s, time=time)

    def by_status(self, status: Status) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status is status)

"""Meltano schedules as data, and when each one was due (cron arithmetic in UTC).

A :class:`ScheduleSpec` is what the freshness check needs of a schedule:
its name, the job whose runs count for it, and its interval as written in
``meltano.yml``. Reading them from a project is the adapter's business
(:mod:`gruponos_ext.health.meltano_schedules`); this module only computes.

Rules, as Meltano 4.4.1 has them (``meltano.core.schedule``):

* an interval is a 5-field cron expression or one of Meltano's ``@`` aliases
  (``@hourly`` = ``0 * * * *``, ``@daily``/``@midnight``, ``@weekly``,
  ``@monthly``, ``@yearly``/``@annually``); ``@once``, ``@manual`` and
  ``@none`` (or no interval) mean "never scheduled";
* validity is Meltano's ``is_valid_cron``: exactly five fields, aliases in
  any case, no ``#`` (nth weekday) and no ``W`` (nearest weekday);
* Meltano itself never computes due times: the orchestrator that runs the
  schedules does (Airflow with croniter, or the system's cron). Due times
  here come from :mod:`gruponos_ext.health.cron`, in UTC, which answers as
  croniter does (a parity test compares them).

>>> cron_of("@hourly"), cron_of("@manual"), cron_of("*/15 * * * *")
('0 * * * *', None, '*/15 * * * *')
>>> from datetime import datetime, timezone
>>> latest_due("0 * * * *", datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)).isoformat()
'2024-05-01T10:00:00+00:00'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.health.cron import CronError, CronExpression

__all__ = [
    "ALIASES",
    "UNSCHEDULED",
    "InvalidScheduleError",
    "ScheduleSpec",
    "count_due",
    "cron_of",
    "latest_due",
    "next_due",
]

ALIASES: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
"""Meltano's cron aliases (``meltano.core.schedule.CRON_INTERVALS``)."""

UNSCHEDULED = frozenset({"@once", "@manual", "@none"})
"""Intervals that never make a schedule due."""


class InvalidScheduleError(GruponosError):
    """A schedule's interval is not a cron expression Meltano accepts, or is never due."""

    code = "SCHEDULE_INVALID"


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """One schedule of a Meltano project.

    ``job`` is the job whose successful runs satisfy the schedule: the
    schedule's ``job``, or for the legacy extractor/loader form the schedule's
    own name (Meltano's state id for such a run). ``source`` names the file
    it was read from, for messages.
    """

    name: str
    job: str
    interval: str | None
    source: str = "meltano.yml"

    @property
    def cron(self) -> str | None:
        """The cron expression, ``None`` when never scheduled; raises if invalid."""
        return cron_of(self.interval)


def cron_of(interval: str | None) -> str | None:
    """The 5-field cron expression ``interval`` stands for; ``None`` if it is never due.

    Raises :class:`InvalidScheduleError` for what Meltano's ``is_valid_cron``
    refuses (or croniter cannot compute).
    """
    if interval is None or not interval.strip():
        return None
    text = interval.strip()
    lowered = text.lower()
    if lowered in UNSCHEDULED:
        return None
    expression = ALIASES.get(lowered, text)
    if not _valid(expression):
        raise InvalidScheduleError(
            f"interval {interval!r} is not a cron expression Meltano accepts (five fields, "
            "e.g. '0 * * * *', or @hourly, @daily, @weekly, @monthly, @yearly, @manual)",
            details={"interval": interval},
        )
    return expression


def _parsed(cron: str) -> CronExpression:
    try:
        return _compiled(cron)
    except CronError as exc:
        raise InvalidScheduleError(
            f"cron expression {cron!r}: {exc}", details={"cron": cron}
        ) from exc


@functools.lru_cache(maxsize=256)
def _compiled(cron: str) -> CronExpression:
    return CronExpression.parse(cron)


def _valid(expression: str) -> bool:
    try:
        _compiled(expression)
    except CronError:
        return False
    return True


def latest_due(cron: str, at: datetime) -> datetime:
    """The latest time at or before ``at`` that ``cron`` is due (UTC).

    Raises :class:`InvalidScheduleError` for an expression that is never due
    (``0 0 31 2 *``).
    """
    try:
        return _parsed(cron).latest(at)
    except CronError as exc:
        raise InvalidScheduleError(f"cron expression {cron!r} is never due (no such date)") from exc


def next_due(cron: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that ``cron`` is due (UTC)."""
    try:
        return _parsed(cron).next_after(after)
    except CronError as exc:
        raise InvalidScheduleError(f"cron expression {cron!r} is never due (no such date)") from exc


def count_due(cron: str, after: datetime, until: datetime, *, limit: int = 1000) -> int:
    """How many due times fall in ``(after, until]``, counting at most ``limit``."""
    count = 0
    moment = after
    while count < limit:
        moment = next_due(cron, moment)
        if moment > until:
            break
        count += 1
    return count

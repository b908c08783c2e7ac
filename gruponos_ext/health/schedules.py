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
  here come from croniter, in UTC, with cron's rule that a restricted
  day-of-month and day-of-week match either.

>>> cron_of("@hourly"), cron_of("@manual"), cron_of("*/15 * * * *")
('0 * * * *', None, '*/15 * * * *')
>>> from datetime import datetime, timezone
>>> latest_due("0 * * * *", datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)).isoformat()
'2024-05-01T10:00:00+00:00'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from gruponos_ext.core.errors import GruponosError

if TYPE_CHECKING:
    from croniter import croniter

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

_EPSILON = timedelta(microseconds=1)
# croniter knows "nth weekday" (5#3) and "nearest weekday" (15W, LW); Meltano refuses both.
_UNSUPPORTED = re.compile(r"#|[0-9l]w", re.IGNORECASE)


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


def _valid(expression: str) -> bool:
    from croniter import croniter

    fields = expression.split()
    if len(fields) != 5 or any(_UNSUPPORTED.search(f) for f in fields):
        return False
    try:
        return bool(croniter.is_valid(expression))
    except Exception:  # croniter raises a few kinds for odd input; all mean "not valid"
        return False


def _iterator(cron: str, start: datetime) -> croniter:
    from croniter import croniter

    if start.tzinfo is None:
        raise ValueError("due times are computed from aware datetimes (UTC)")
    return croniter(cron, start.astimezone(timezone.utc))


def latest_due(cron: str, at: datetime) -> datetime:
    """The latest time at or before ``at`` that ``cron`` is due (UTC).

    Raises :class:`InvalidScheduleError` for an expression that is never due
    (``0 0 31 2 *``).
    """
    return _step(cron, at + _EPSILON, forward=False)


def next_due(cron: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that ``cron`` is due (UTC)."""
    return _step(cron, after, forward=True)


def _step(cron: str, start: datetime, *, forward: bool) -> datetime:
    from croniter import CroniterError

    iterator = _iterator(cron, start)
    try:
        found = iterator.get_next(datetime) if forward else iterator.get_prev(datetime)
    except CroniterError as exc:
        raise InvalidScheduleError(
            f"cron expression {cron!r} is never due (no such date)", details={"cron": cron}
        ) from exc
    assert isinstance(found, datetime)
    return found.astimezone(timezone.utc)


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

"""When a schedule is due: five-field cron expressions read as croniter reads them, in UTC.

Meltano 4.4.1 decides which intervals exist (:mod:`.validity`) but computes
no due time itself: its orchestrators do (Airflow with croniter, or the
system's cron). Why not croniter itself: importing it (with dateutil) costs
~25 ms, a sixth of a whole ``health`` run. This module gives the same answers
as croniter for every expression Meltano accepts --
``tests/test_schedule_cron_parity.py`` compares them over thousands of
expressions and reference times, croniter being the oracle -- including
croniter's own readings, which are what Airflow schedules by:

* a restricted day-of-month and day-of-week match either one; otherwise
  both must match. A day field is unrestricted when it is ``*`` (or ``?``),
  or lists every value while the other day field contains a ``*``;
* ``a-b`` with ``a > b`` wraps around (``fri-mon``, ``22-2``, ``30-2``);
  ``a-a`` means the whole range; a step walks the listed values in order;
* ``a/n`` is ``a-max/n``; weekday 7 is Sunday (0); month and weekday names in
  any case; ``L`` in the day-of-month is the month's last day (``1-L`` too);
* all times are UTC, whole minutes.

:func:`cron_of` is the way in from an interval as written: Meltano's aliases
expanded, ``None`` for a schedule that is never due by time, and
:class:`InvalidScheduleError` for what Meltano refuses or no scheduler can
compute.

>>> expression = CronExpression.parse("*/15 9-17 * * mon-fri")
>>> from datetime import datetime, timezone
>>> expression.latest(datetime(2024, 5, 18, 12, 0, tzinfo=timezone.utc)).isoformat()
'2024-05-17T17:45:00+00:00'
>>> cron_of("@hourly"), cron_of("@manual"), cron_of("*/15 * * * *")
('0 * * * *', None, '*/15 * * * *')
>>> latest_due("0 * * * *", datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)).isoformat()
'2024-05-01T10:00:00+00:00'
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.project.cron.validity import interval_problem
from gruponos_ext.project.cron.vocabulary import (
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    FIELD_RANGES,
    MONTH,
    MONTH_NAMES,
    WEEKDAY_NAMES,
    cron_expression,
)

__all__ = [
    "CronError",
    "CronExpression",
    "InvalidScheduleError",
    "count_due",
    "cron_of",
    "latest_due",
    "next_due",
]

_NAMES: dict[int, dict[str, int]] = {
    MONTH: {name: i + 1 for i, name in enumerate(MONTH_NAMES)},
    DAY_OF_WEEK: {name: i for i, name in enumerate(WEEKDAY_NAMES)},
}
_DOM, _DOW = DAY_OF_MONTH, DAY_OF_WEEK
_LAST = -1  # "L" in the day of month
# No expression is never due for longer than this (29 February around a century).
_HORIZON_DAYS = 366 * 12


class CronError(ValueError):
    """Not a five-field cron expression this module (and Meltano and croniter) accepts."""


def _value(text: str, index: int) -> int:
    low, high = FIELD_RANGES[index]
    names = _NAMES.get(index, {})
    if text.isdigit():
        value = int(text)
        top = 7 if index == _DOW else high  # weekday 7 is Sunday
        if not low <= value <= top:
            raise CronError(f"{text} is out of range {low}-{top}")
        return 0 if index == _DOW and value == 7 else value
    if text in names:
        return names[text]
    if index == _DOM and text == "l":
        return _LAST
    raise CronError(f"{text!r} is not a value of this field")


_Part = tuple[int | None, int | None, int, bool]


def _part(text: str, index: int) -> _Part:
    """``(first, last, step, is_range)`` of one comma-separated part; None for ``*``/``?``."""
    base, slash, step_text = text.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise CronError(f"step {step_text!r} is not a positive number")
        step = int(step_text)
    if base in ("*", "?"):
        if base == "?" and (index not in (_DOM, _DOW) or slash):
            raise CronError("'?' stands alone, in the day fields only")
        return None, None, step, False
    first_text, dash, last_text = base.partition("-")
    first = _value(first_text, index)
    if not dash:
        if first == _LAST and slash:
            raise CronError("'L' takes no step")
        return first, (None if slash else first), step, False
    last = _value(last_text, index)
    if first == _LAST:
        raise CronError("'L' can only end a range")
    return first, last, step, True


@dataclass(frozen=True, slots=True)
class _Field:
    """One field's parts, expanded on demand (the day of month depends on the month)."""

    parts: tuple[_Part, ...]
    low: int
    high: int
    cache: dict[int, frozenset[int]] = field(default_factory=dict, compare=False)

    def values(self, last_day: int = 0) -> frozenset[int]:
        """The values it matches; ``last_day`` is the month's length (day of month only)."""
        found = self.cache.get(last_day)
        if found is None:
            found = frozenset(v for part in self.parts for v in self._expand(part, last_day))
            self.cache[last_day] = found
        return found

    def _expand(self, part: _Part, last_day: int) -> list[int]:
        first, last, step, is_range = part
        low, high = self.low, self.high
        if is_range and first == last:  # croniter: "a-a" is the whole range
            return list(range(low, high + 1))[::step]
        if last_day:  # "L" is the month's last day; plain values past it never match
            first = last_day if first == _LAST else first
            last = last_day if last == _LAST else last
        if first is None:
            sequence = list(range(low, high + 1))
        elif last is None:
            sequence = list(range(first, high + 1))
        elif first <= last:
            sequence = list(range(first, last + 1))
        else:  # wraps around
            sequence = list(range(first, high + 1)) + list(range(low, last + 1))
        return sequence[::step]


@dataclass(frozen=True, slots=True)
class CronExpression:
    """A parsed five-field cron expression; see the module docstring for its rules."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: _Field
    months: frozenset[int]
    weekdays: frozenset[int]
    either_day: bool
    """Both day fields restricted: a day matching either one is due."""

    @classmethod
    def parse(cls, text: str) -> CronExpression:
        """Parse ``text``; :class:`CronError` says what is wrong with it."""
        fields = text.lower().split()
        if len(fields) != 5:
            raise CronError(f"{len(fields)} fields instead of 5")
        parsed = []
        for index, raw in enumerate(fields):
            parts = raw.split(",")
            if any(not part for part in parts):
                raise CronError(f"empty list item in {raw!r}")
            low, high = FIELD_RANGES[index]
            parsed.append(_Field(tuple(_part(p, index) for p in parts), low, high))
        minute, hour, dom, month, dow = parsed
        starred = [fields[i].replace("?", "*") for i in range(5)]
        # croniter's reading: a day field is unrestricted when it is "*", or when
        # it lists every value while the other day field contains a "*".
        dom_free = starred[_DOM] == "*" or (len(dom.values(31)) == 31 and "*" in starred[_DOW])
        dow_free = starred[_DOW] == "*" or (len(dow.values()) == 7 and "*" in starred[_DOM])
        return cls(
            text=text,
            minutes=tuple(sorted(minute.values())),
            hours=tuple(sorted(hour.values())),
            days=dom,
            months=month.values(),
            weekdays=dow.values(),
            either_day=not dom_free and not dow_free,
        )

    def _day_is_due(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        length = calendar.monthrange(day.year, day.month)[1]
        by_date = day.day in self.days.values(length)
        by_weekday = (day.weekday() + 1) % 7 in self.weekdays  # cron: Sunday is 0
        if self.either_day:
            return by_date or by_weekday
        return by_date and by_weekday

    def _walk(
        self, start: datetime, step: int, pick: Callable[[datetime], datetime | None]
    ) -> datetime:
        day = start.date()
        for _ in range(_HORIZON_DAYS):
            if self._day_is_due(day):
                found = pick(datetime(day.year, day.month, day.day, tzinfo=timezone.utc))
                if found is not None:
                    return found
            day += timedelta(days=step)
        raise CronError(f"{self.text!r} is never due")

    def latest(self, at: datetime) -> datetime:
        """The latest due time at or before ``at`` (aware; the result is UTC)."""
        at = _utc(at)

        def pick(midnight: datetime) -> datetime | None:
            for hour in reversed(self.hours):
                for minute in reversed(self.minutes):
                    moment = midnight.replace(hour=hour, minute=minute)
                    if moment <= at:
                        return moment
            return None

        return self._walk(at, -1, pick)

    def next_after(self, after: datetime) -> datetime:
        """The first due time strictly after ``after`` (aware; the result is UTC)."""
        after = _utc(after)

        def pick(midnight: datetime) -> datetime | None:
            for hour in self.hours:
                for minute in self.minutes:
                    moment = midnight.replace(hour=hour, minute=minute)
                    if moment > after:
                        return moment
            return None

        return self._walk(after, 1, pick)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("due times are computed from aware datetimes (UTC)")
    return moment.astimezone(timezone.utc)


class InvalidScheduleError(GruponosError):
    """A schedule's interval is not a cron expression Meltano accepts, or is never due."""

    code = "SCHEDULE_INVALID"


def cron_of(interval: str | None) -> str | None:
    """The 5-field cron expression ``interval`` stands for; ``None`` if it is never due.

    Raises :class:`InvalidScheduleError` for what Meltano's ``is_valid_cron``
    refuses (saying why) or no scheduler can compute.
    """
    expression = cron_expression(interval)
    if expression is None:
        return None
    problem = interval_problem(interval)
    if problem is not None:
        raise InvalidScheduleError(
            f"interval {interval!r} is not a cron expression Meltano accepts: {problem}",
            details={"interval": interval},
        )
    try:
        _compiled(expression)
    except CronError as exc:
        raise InvalidScheduleError(
            f"interval {interval!r} is accepted by Meltano, but no scheduler can compute when "
            f"it is due: {exc}",
            details={"interval": interval},
        ) from exc
    return expression


@functools.lru_cache(maxsize=256)
def _compiled(cron: str) -> CronExpression:
    return CronExpression.parse(cron)


def _parsed(cron: str) -> CronExpression:
    try:
        return _compiled(cron)
    except CronError as exc:
        raise InvalidScheduleError(
            f"cron expression {cron!r}: {exc}", details={"cron": cron}
        ) from exc


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

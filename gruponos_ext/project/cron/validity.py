"""Which schedule intervals Meltano 4.4.1 accepts, and why it refuses the rest.

Meltano accepts an interval that is one of its aliases (exactly as written:
``@once``, ``@manual``, ``@none``, ``@hourly``, ``@daily``, ``@weekly``,
``@monthly``, ``@yearly``, ``@annually``, ``@midnight``) or that its own
cron check (``meltano.core.schedule.is_valid_cron``) passes: five fields,
case-insensitive, aliases of the last seven in any case, ``?`` in the two
day fields, ``L`` in day-of-month, month and weekday names, ``7`` for
Sunday, ranges, steps and lists, a list passing when any of its parts does.
This module applies the same rules (tests run both side by side) and says in
words what is wrong with a refused interval.

>>> interval_problem("0 17 L * *") is None
True
>>> interval_problem("0 0 * ? *")
"'?' is allowed only in the day-of-month and day-of-week fields, not in the month field"
"""

from __future__ import annotations

from typing import Any

from gruponos_ext.project.cron.vocabulary import (
    CRON_ALIASES,
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    FIELD_NAMES,
    FIELD_RANGES,
    MANUAL_ALIASES,
    MONTH,
    MONTH_NAMES,
    WEEKDAY_NAMES,
)

__all__ = ["interval_problem", "is_valid_interval"]

_ALL_ALIASES = ", ".join((*MANUAL_ALIASES, *CRON_ALIASES))


def is_valid_interval(interval: Any) -> bool:
    """Whether Meltano accepts ``interval`` for a schedule (None: no interval, accepted)."""
    return interval is None or interval_problem(interval) is None


def interval_problem(interval: Any) -> str | None:
    """None when Meltano accepts ``interval``, else what is wrong with it, in words."""
    if not isinstance(interval, str):
        return f"must be text: a cron expression or one of {_ALL_ALIASES}"
    if interval in MANUAL_ALIASES or interval in CRON_ALIASES:
        return None
    expression = interval.strip().lower()
    expression = CRON_ALIASES.get(expression, expression)
    if expression.startswith("@"):
        if expression in MANUAL_ALIASES:
            return f"write it in lower case ('{expression}'), as Meltano accepts it only so"
        return f"unknown alias; Meltano knows {_ALL_ALIASES}"
    fields = expression.split()
    if len(fields) != len(FIELD_NAMES):
        if not fields:
            return f"it is empty: give a cron expression or one of {_ALL_ALIASES}"
        extra = " (Meltano's cron has no seconds or year field)" if len(fields) > 5 else ""
        return (
            f"it has {len(fields)} field{'s' if len(fields) != 1 else ''}; a cron expression has "
            f"5: minute hour day-of-month month day-of-week{extra}"
        )
    for index, text in enumerate(fields):
        problem = _field_problem(text, index)
        if problem is not None:
            return problem
    return None


def _field_problem(text: str, index: int) -> str | None:
    name = FIELD_NAMES[index]
    if text == "*":
        return None
    if text == "?":
        if index in (DAY_OF_MONTH, DAY_OF_WEEK):
            return None
        return (
            f"'?' is allowed only in the day-of-month and day-of-week fields, not in the "
            f"{name} field"
        )
    if text == "l":
        if index == DAY_OF_MONTH:
            return None
        return f"'L' (last day) is allowed only in the day-of-month field, not in the {name} field"
    problems = [_part_problem(part, index) for part in text.split(",")]
    if any(problem is None for problem in problems):
        return None  # Meltano accepts a list when any one of its parts is valid
    return f"the {name} field '{text}' is not valid: {problems[0]}"


def _part_problem(part: str, index: int) -> str | None:
    low, high = FIELD_RANGES[index]
    if "/" in part:
        base, step = part.split("/", 1)
        if not (_number(step) or 0) > 0:
            return f"the step '/{step}' must be a whole number above 0"
        if not base:
            return "a step needs something before the '/' (e.g. '*/5')"
        if base == "*":
            return None
        return _part_problem(base, index)
    if "-" in part:
        start_text, end_text = part.split("-", 1)
        start, end = _value(start_text, index), _value(end_text, index)
        if start is None or end is None:
            bad = start_text if start is None else end_text
            return _not_a_value(bad, index)
        if start > end and index == DAY_OF_WEEK:
            return None  # Meltano allows wrapping weekday ranges such as fri-mon
        if end == 7 and index == DAY_OF_WEEK:
            end = 0
        if low <= start <= high and low <= end <= high:
            return None
        return f"the range '{part}' goes outside {low}-{high}"
    value = _value(part, index)
    if value is None:
        return _not_a_value(part, index)
    if index == DAY_OF_WEEK and value == 7:
        return None
    if low <= value <= high:
        return None
    return f"{value} is outside {low}-{high}"


def _value(text: str, index: int) -> int | None:
    if not text:
        return None
    number = _number(text)
    if number is not None:
        return number
    if index == MONTH and text in MONTH_NAMES:
        return MONTH_NAMES.index(text) + 1
    if index == DAY_OF_WEEK and text in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(text)
    if text == "l":
        return 31 if index == DAY_OF_MONTH else None
    return None


def _number(text: str) -> int | None:
    """``int(text)`` for digits only, as Meltano's ``isdigit()`` test (None otherwise)."""
    if not text.isdigit():
        return None
    try:
        return int(text)
    except ValueError:  # digits int() cannot read (e.g. superscripts): Meltano fails too
        return None


def _not_a_value(text: str, index: int) -> str:
    if not text:
        return "a value is missing"
    names = {MONTH: " or a month name (jan-dec)", DAY_OF_WEEK: " or a weekday name (sun-sat)"}
    return f"'{text}' is not a number{names.get(index, '')}"

"""What a schedule interval is made of: Meltano's aliases, the five cron fields, their names.

Shared by both readings of an interval: which ones Meltano accepts
(:mod:`.validity`) and when one is due (:mod:`.due_times`).

>>> cron_expression("@daily"), cron_expression("@Manual"), cron_expression(" */5 * * * * ")
('0 0 * * *', None, '*/5 * * * *')
"""

from __future__ import annotations

__all__ = [
    "CRON_ALIASES",
    "DAY_OF_MONTH",
    "DAY_OF_WEEK",
    "FIELD_NAMES",
    "FIELD_RANGES",
    "MANUAL_ALIASES",
    "MONTH",
    "MONTH_NAMES",
    "WEEKDAY_NAMES",
    "cron_expression",
]

CRON_ALIASES: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@midnight": "0 0 * * *",
}
"""The aliases that stand for a cron expression (``meltano.core.schedule.CRON_INTERVALS``)."""

MANUAL_ALIASES: tuple[str, ...] = ("@once", "@manual", "@none")
"""The aliases for a schedule that no orchestrator triggers by time (never due)."""

FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
"""The lowest and highest value of each field (weekday 7, Sunday, is read as 0)."""
DAY_OF_MONTH, MONTH, DAY_OF_WEEK = 2, 3, 4
"""Indexes of the fields that take names or ``L``/``?``."""
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
"""Month names, January first (value 1)."""
WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
"""Weekday names, Sunday first (value 0)."""


def cron_expression(interval: str | None) -> str | None:
    """The five-field cron expression an interval stands for, not checked.

    Aliases expand in any case (as Meltano's check reads them); the manual
    aliases and an empty interval give None; anything else is returned as
    written (stripped). Meltano's ``Schedule.cron_interval`` (a parity test
    compares them).
    """
    if interval is None or not interval.strip():
        return None
    text = interval.strip()
    lowered = text.lower()
    if lowered in MANUAL_ALIASES:
        return None
    return CRON_ALIASES.get(lowered, text)

"""Schedule intervals, the one place: which ones Meltano accepts, and when one is due.

Used by ``validate`` (is this interval one Meltano accepts? what is wrong
with it?) and by ``schedules:freshness`` and ``report`` (when was it due,
when is it due next?):

* :mod:`.vocabulary`: Meltano's ``@`` aliases, the five cron fields, month
  and weekday names; :func:`cron_expression` expands an alias;
* :mod:`.validity`: Meltano 4.4.1's own acceptance rule
  (``is_valid_cron``), with a reason in words (:func:`interval_problem`);
* :mod:`.due_times`: due times as croniter computes them, in UTC
  (:class:`CronExpression`, :func:`latest_due`, :func:`next_due`), and
  :func:`cron_of`, an interval as written checked by both.

Parity tests hold both readings to their oracles: Meltano's functions for
validity and aliases, croniter for due times.
"""

from __future__ import annotations

from gruponos_ext.project.cron.due_times import (
    CronError,
    CronExpression,
    InvalidScheduleError,
    count_due,
    cron_of,
    latest_due,
    next_due,
)
from gruponos_ext.project.cron.validity import interval_problem, is_valid_interval
from gruponos_ext.project.cron.vocabulary import CRON_ALIASES, MANUAL_ALIASES, cron_expression

__all__ = [
    "CRON_ALIASES",
    "MANUAL_ALIASES",
    "CronError",
    "CronExpression",
    "InvalidScheduleError",
    "count_due",
    "cron_expression",
    "cron_of",
    "interval_problem",
    "is_valid_interval",
    "latest_due",
    "next_due",
]

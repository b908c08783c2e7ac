"""Options and arguments several commands share, and the types that check them.

A value that can never work is refused while the command line is parsed, in
one line naming the option and exit 2, before anything runs: an empty or
300-character job name, ``--timeout inf``, ``--limit 99999999999999999999``.
Numbers are ASCII decimals only, as in the settings (``1_000`` and
Arabic-Indic digits are not numbers here either).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = [
    "JOB",
    "MAX_CHECK_TIMEOUT",
    "MAX_HISTORY",
    "MAX_RUN_TIMEOUT",
    "Count",
    "JobName",
    "Seconds",
    "format_option",
    "report_file_options",
]

F = TypeVar("F", bound=Callable[..., Any])

MAX_CHECK_TIMEOUT = 3600.0
"""Longest ``health --timeout``: a check that needs more than an hour is not a health check."""
MAX_RUN_TIMEOUT = 30 * 86400.0
"""Longest ``guard --timeout`` (30 days); beyond it timers overflow, and no job runs that long."""
MAX_HISTORY = 100_000
"""Most rows ``history --limit`` shows."""


class JobName(click.types.StringParamType):
    """A Meltano job name, checked by :func:`gruponos_ext.core.names.check_name`."""

    name = "job"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from gruponos_ext.core.names import InvalidNameError, check_name

        try:
            return check_name(str(value), what="job")
        except InvalidNameError as error:
            self.fail(error.message, param, ctx)


JOB = JobName()


def _number(value: Any, integer: bool) -> float | None:
    from gruponos_ext.config.values import ascii_integer, ascii_number

    try:
        parsed = ascii_integer(value) if integer else ascii_number(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, (int, float)) else None


class Seconds(click.types.FloatParamType):
    """A finite number of seconds from ``minimum`` to ``maximum``."""

    name = "seconds"

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number = _number(value, integer=False)
        if number is None or not math.isfinite(number):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not self.minimum <= number <= self.maximum:
            self.fail(
                f"{value!r} is not from {self.minimum:g} to {self.maximum:g} seconds", param, ctx
            )
        return float(number)


class Count(click.types.IntParamType):
    """A whole number from ``minimum`` to ``maximum``."""

    name = "integer"

    def __init__(self, minimum: int, maximum: int) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        number = _number(value, integer=True)
        if number is None:
            self.fail(f"{value!r} is not a whole number", param, ctx)
        if not self.minimum <= number <= self.maximum:
            self.fail(f"{value!r} is not from {self.minimum} to {self.maximum}", param, ctx)
        return int(number)


def format_option(*choices: str, help: str | None = None) -> Callable[[F], F]:
    """``--format``, the first choice being the default."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


def report_file_options(what: str) -> Callable[[F], F]:
    """``--json-file`` and ``--prom-file``: where to also write ``what`` (default: metrics_dir)."""

    def decorate(command: F) -> F:
        command = click.option(
            "--prom-file",
            type=click.Path(dir_okay=False),
            default=None,
            help=f"Also write {what} as a Prometheus textfile-collector file (atomically).",
        )(command)
        return click.option(
            "--json-file",
            type=click.Path(dir_okay=False),
            default=None,
            help=f"Also write {what} as JSON to this file (atomically).",
        )(command)

    return decorate

"""Whatever a check returns or raises becomes one clean :class:`CheckOutcome`.

Checks are code from anywhere; their results are text from outside. So a
check's return value is validated field by field (a status that is a plain
string, a message that is not text, details that are not a mapping: each
is the check's ``fail``, never the runner's crash) and every text in it is
redacted where it enters, with the configuration's
:class:`~gruponos_ext.core.redaction.Redactor`.

>>> from gruponos_ext.core.redaction import Redactor
>>> clean_outcome(CheckOutcome("pass", "ok"), Redactor()).message
"check returned status 'pass' (str), expected a Status such as Status.PASS"
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gruponos_ext.core.redaction import Redactor
from gruponos_ext.health.model import CheckOutcome, Observed, Status

__all__ = ["MAX_MESSAGE", "clean_outcome", "outcome_of_exception"]

MAX_MESSAGE = 1000
"""Longest message a report shows (longer ones are cut and marked ``...``)."""

_OPTIONAL_TEXT = ("observed_unit", "component_type")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(outcome: CheckOutcome) -> str | None:
    """What is wrong with ``outcome``'s fields, or None."""
    status: object = outcome.status
    if not isinstance(status, Status):
        return (
            f"check returned status {_shown(status)} ({type(status).__name__}), "
            "expected a Status such as Status.PASS"
        )
    message: object = outcome.message
    if not isinstance(message, str):
        return f"check returned a message of type {type(message).__name__}, expected str"
    observed: object = outcome.observed_value
    if observed is not None and not isinstance(observed, (str, int, float, bool)):
        return (
            f"check returned an observed value of type {type(observed).__name__}, "
            "expected a number, text or bool"
        )
    if isinstance(observed, float) and not math.isfinite(observed):
        return f"check returned the observed value {observed!r}, expected a finite number"
    for name in _OPTIONAL_TEXT:
        value: object = getattr(outcome, name)
        if value is not None and not isinstance(value, str):
            return f"check returned {name} of type {type(value).__name__}, expected str"
    details: object = outcome.details
    if not isinstance(details, Mapping):
        return f"check returned details of type {type(details).__name__}, expected a mapping"
    return None


def clean_outcome(returned: object, redact: Redactor) -> CheckOutcome:
    """``returned`` as a valid, redacted :class:`CheckOutcome`; a ``fail`` if it is not one."""
    if not isinstance(returned, CheckOutcome):
        return CheckOutcome.failed(
            f"check returned {type(returned).__name__}, expected CheckOutcome"
        )
    problem = _problem(returned)
    if problem is not None:
        return CheckOutcome.failed(problem)
    observed: Observed = returned.observed_value
    if isinstance(observed, str):
        observed = redact(observed, limit=MAX_MESSAGE)
    details: Any = redact.structure(dict(returned.details))
    return CheckOutcome(
        returned.status,
        redact(returned.message, limit=MAX_MESSAGE),
        observed_value=observed,
        observed_unit=returned.observed_unit,
        component_type=returned.component_type,
        details=details,
    )


def outcome_of_exception(exc: BaseException, redact: Redactor) -> CheckOutcome:
    """A ``fail`` saying ``ExceptionType: redacted message``."""
    return CheckOutcome.failed(redact.exception(exc, limit=MAX_MESSAGE))

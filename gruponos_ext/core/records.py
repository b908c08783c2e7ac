"""The JSON form of a frozen record: its fields, in order, with JSON-ready values.

>>> from dataclasses import dataclass
>>> from datetime import datetime, timezone
>>> @dataclass(frozen=True)
... class Seen:
...     name: str
...     at: datetime
>>> fields_json(Seen("nightly", datetime(2024, 5, 1, tzinfo=timezone.utc)), late=False)
{'name': 'nightly', 'at': '2024-05-01T00:00:00+00:00', 'late': False}
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from enum import Enum
from typing import Any

__all__ = ["FieldsJson", "fields_json", "json_ready"]


def json_ready(value: Any) -> Any:
    """``value`` as JSON: ISO-8601 for a time, an enum's value, a record's ``to_dict()``,
    a list for a tuple; anything else as it is."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [json_ready(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else value


def fields_json(record: Any, **more: Any) -> dict[str, Any]:
    """Every field of the dataclass ``record`` in declaration order, JSON-ready; then ``more``."""
    return {f.name: json_ready(getattr(record, f.name)) for f in fields(record)} | more


class FieldsJson:
    """A dataclass record whose ``to_dict()`` is :func:`fields_json` of itself."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return fields_json(self)

"""The alert record: what happened, how bad (:class:`Severity`), and its de-duplication key."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

__all__ = ["Alert", "Severity", "derive_dedup_key"]


class Severity(Enum):
    """How bad it is: ``info < warning < error < critical``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        """``"WARNING"``, ``"warn"``, ``" error "`` -> the member; ValueError names the choices."""
        if isinstance(value, Severity):
            return value
        key = str(value).strip().lower()
        key = _SEVERITY_ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown severity {value!r}; expected one of {choices}") from None

    @property
    def rank(self) -> int:
        """0 for info up to 3 for critical."""
        return _SEVERITY_ORDER.index(self.value)

    @property
    def label(self) -> str:
        """Upper-case name, as shown in subjects: ``"CRITICAL"``."""
        return self.value.upper()

    def __str__(self) -> str:
        return self.value

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank


_SEVERITY_ORDER = ("info", "warning", "error", "critical")
_SEVERITY_ALIASES = {"warn": "warning", "err": "error", "crit": "critical", "fatal": "critical"}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def derive_dedup_key(title: str, job: str | None, severity: Severity) -> str:
    """The default de-duplication key: a stable digest of title, job and severity.

    The message is left out on purpose: it usually carries run-specific text
    (exit codes, output tails) that would make every repeat look new.
    """
    raw = "\x1f".join((title.strip(), job or "", severity.value))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Alert:
    """Something operators must hear about.

    ``details`` are short string facts (exit code, host, run id...) shown by
    every channel; ``dedup_key`` defaults to :func:`derive_dedup_key`;
    ``time`` must be timezone-aware and is stored in UTC.
    """

    title: str
    message: str
    severity: Severity
    source: str = "gruponos-infra"
    job: str | None = None
    details: Mapping[str, str] = field(default_factory=dict, hash=False)
    dedup_key: str = ""
    time: datetime = field(default_factory=_utcnow)

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("an alert needs a non-empty title")
        severity = Severity.parse(self.severity)
        object.__setattr__(self, "severity", severity)
        # A private copy: the caller's dict can change, this alert must not.
        object.__setattr__(self, "details", {str(k): str(v) for k, v in self.details.items()})
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise ValueError("Alert.time must be timezone-aware (use datetime.now(timezone.utc))")
        object.__setattr__(self, "time", self.time.astimezone(timezone.utc))
        if not self.dedup_key:
            object.__setattr__(self, "dedup_key", derive_dedup_key(self.title, self.job, severity))

    @property
    def iso_time(self) -> str:
        """``time`` as ISO 8601 with a ``Z`` suffix."""
        return self.time.isoformat().replace("+00:00", "Z")

    def to_dict(self) -> dict[str, Any]:
        """The alert as JSON-ready data: the generic webhook's payload.

        ``{"version": 1, "title", "message", "severity": "error", "source",
        "job": str | null, "details": {str: str}, "dedup_key", "time":
        "2024-05-01T10:20:30.123456Z"}``.
        """
        return {
            "version": 1,
            "title": self.title,
            "message": self.message,
            "severity": self.severity.value,
            "source": self.source,
            "job": self.job,
            "details": dict(self.details),
            "dedup_key": self.dedup_key,
            "time": self.iso_time,
        }

"""What an alert delivery did, per channel: :class:`ChannelOutcome` and :class:`AlertDelivery`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gruponos_ext.services.alerts.model import Alert

__all__ = ["AlertDelivery", "ChannelOutcome", "OutcomeStatus"]

OutcomeStatus = Literal["delivered", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    """What happened on one channel; ``str()`` gives ``delivered`` / ``failed: reason``."""

    channel: str
    status: OutcomeStatus
    reason: str | None = None
    duration: float = 0.0

    def __str__(self) -> str:
        return f"{self.status}: {self.reason}" if self.reason else self.status


@dataclass(frozen=True, slots=True)
class AlertDelivery:
    """The outcome of :meth:`AlertManager.send`.

    ``suppressed`` is ``"severity"`` (below the minimum) or ``"duplicate"``
    (sent within the de-duplication window) when no channel was tried;
    ``outcomes`` has one entry per channel, in channel order.
    """

    alert: Alert
    outcomes: tuple[ChannelOutcome, ...] = ()
    suppressed: Literal["severity", "duplicate"] | None = None

    @property
    def delivered(self) -> tuple[str, ...]:
        """Names of the channels that delivered."""
        return tuple(o.channel for o in self.outcomes if o.status == "delivered")

    @property
    def failed(self) -> Mapping[str, str]:
        """Channel name -> reason, for channels that failed."""
        return {o.channel: o.reason or "" for o in self.outcomes if o.status == "failed"}

    @property
    def skipped(self) -> Mapping[str, str]:
        """Channel name -> reason, for channels skipped (circuit open)."""
        return {o.channel: o.reason or "" for o in self.outcomes if o.status == "skipped"}

    @property
    def by_channel(self) -> Mapping[str, str]:
        """Channel name -> ``"delivered"`` / ``"failed: reason"`` / ``"skipped: circuit open"``."""
        return {o.channel: str(o) for o in self.outcomes}

    def summary(self) -> str:
        """One line for people: ``webhook delivered; email failed: ...``."""
        if self.suppressed:
            return f"suppressed ({self.suppressed})"
        return "; ".join(f"{o.channel} {o}" for o in self.outcomes) or "no channel"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dedup key, suppression and the per-channel outcomes."""
        return {
            "title": self.alert.title,
            "severity": self.alert.severity.value,
            "dedup_key": self.alert.dedup_key,
            "suppressed": self.suppressed,
            "channels": dict(self.by_channel),
        }

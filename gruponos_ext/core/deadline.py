"""Deadlines: run a call in a daemon thread and wait for it at most so long.

Some calls cannot be bounded from the inside: a database driver's connect
that waits forever on a listener that never answers, an HTTP read from a
server that stalls, a health check that hangs. This module bounds them from
the outside: the call runs in a *daemon* thread and the caller waits for it
at most ``timeout`` seconds; a call still running then is abandoned (it
keeps its thread, but never delays the caller or the process exit).

* :func:`call_within` -- one call, its value or :class:`DeadlineExceeded`.
* :func:`start` -- a :class:`Pending` call, for callers that wait for many
  (one :class:`threading.Condition` can be notified by all of them).
* :class:`Deadline` -- a point in monotonic time that budgets nested waits.

>>> call_within(lambda: 6 * 7, 1.0, what="the answer")
42
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from gruponos_ext.core.errors import GruponosError

__all__ = ["Deadline", "DeadlineExceeded", "Pending", "call_within", "format_seconds", "start"]

T = TypeVar("T")


def format_seconds(value: float) -> str:
    """``2`` -> ``'2.0'``, ``0.25`` -> ``'0.25'``: short, but never ``'2'``.

    >>> format_seconds(2), format_seconds(0.25), format_seconds(1.5)
    ('2.0', '0.25', '1.5')
    """
    text = f"{value:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


class DeadlineExceeded(GruponosError):
    """A bounded call did not return in time; it was abandoned, not stopped."""

    code = "DEADLINE_EXCEEDED"

    def __init__(self, what: str, timeout: float) -> None:
        super().__init__(
            f"{what} timed out after {format_seconds(timeout)} s",
            details={"what": what, "timeout_s": timeout},
        )
        self.what = what
        self.timeout = timeout


@dataclass(frozen=True, slots=True)
class Deadline:
    """A moment in :func:`time.monotonic` time.

    >>> Deadline.after(60).remaining() > 59
    True
    """

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        """True once the moment has passed."""
        return time.monotonic() >= self.at

    def cap(self, seconds: float) -> float:
        """``seconds``, but no more than what is left."""
        return min(seconds, self.remaining())


class Pending(Generic[T]):
    """A call running in a daemon thread of its own.

    ``notify`` (optional) is notified, under its lock, when the call ends:
    a caller waiting for many calls waits on that one condition.
    """

    __slots__ = ("_done", "_error", "_notify", "_value", "finished_at", "started_at", "thread")

    def __init__(
        self, call: Callable[[], T], *, name: str, notify: threading.Condition | None = None
    ) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._notify = notify
        self.started_at = time.monotonic()
        self.finished_at: float | None = None
        # Daemon: a call that never returns must never keep the process alive.
        self.thread = threading.Thread(target=self._run, args=(call,), name=name, daemon=True)

    def _run(self, call: Callable[[], T]) -> None:
        try:
            self._value = call()
        except BaseException as exc:  # the caller decides; even SystemExit is the call's
            self._error = exc
        self.finished_at = time.monotonic()
        if self._notify is None:
            self._done.set()
            return
        with self._notify:
            self._done.set()
            self._notify.notify_all()

    @property
    def done(self) -> bool:
        """Whether the call has returned or raised."""
        return self._done.is_set()

    @property
    def duration(self) -> float:
        """Seconds the call took, or has taken so far."""
        end = self.finished_at if self.finished_at is not None else time.monotonic()
        return end - self.started_at

    def wait(self, timeout: float | None) -> bool:
        """Wait at most ``timeout`` seconds; True when the call is done."""
        return self._done.wait(timeout)

    def result(self) -> T:
        """The call's value, or its exception raised again. Only once :attr:`done`."""
        if not self._done.is_set():
            raise RuntimeError(f"{self.thread.name} is still running")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set when no error was raised


def start(
    call: Callable[[], T], *, name: str, notify: threading.Condition | None = None
) -> Pending[T]:
    """Start ``call`` in a daemon thread named ``name``; see :class:`Pending`."""
    pending = Pending(call, name=name, notify=notify)
    pending.thread.start()
    return pending


def call_within(call: Callable[[], T], timeout: float, *, what: str) -> T:
    """``call()``'s value if it returns within ``timeout`` s; else :class:`DeadlineExceeded`.

    What the call raises is raised here. A call that overruns is abandoned in
    its daemon thread: it cannot be interrupted, only no longer waited for.
    """
    pending = start(call, name=f"bounded:{what}")
    if not pending.wait(timeout):
        raise DeadlineExceeded(what, timeout)
    return pending.result()

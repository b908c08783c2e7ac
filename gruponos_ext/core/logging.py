"""Loggers that import structlog only when an event will actually be emitted.

structlog costs ~30 ms to import, a sixth of a health check's whole run.
:func:`get_logger` returns a stand-in that drops events below the threshold
the CLI sets (:func:`set_threshold`) without importing structlog; once
structlog is loaded (by the first emitted event, or by anyone else, e.g.
``structlog.testing.capture_logs`` in tests), every event goes to it and
structlog's own configuration decides. Library users who never call
:func:`set_threshold` get plain structlog behaviour.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["get_logger", "on_first_use", "set_threshold"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
_threshold = 0  # 0: no threshold set, everything goes to structlog
_setup: Callable[[], None] | None = None
_setup_lock = threading.Lock()


def set_threshold(level: int) -> None:
    """Drop events below ``level`` (a ``logging`` level) while structlog is not loaded."""
    global _threshold
    _threshold = level


def on_first_use(setup: Callable[[], None]) -> None:
    """Run ``setup`` (e.g. ``structlog.configure``) just before the first event is emitted."""
    global _setup
    _setup = setup


def _run_setup() -> None:
    global _setup
    with _setup_lock:
        setup, _setup = _setup, None
    if setup is not None:
        setup()


class LazyLogger:
    """The subset of structlog's bound-logger API this package uses."""

    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def _emit(self, level: str, event: str, kwargs: dict[str, Any]) -> None:
        if self._logger is None:
            if _LEVELS[level] < _threshold and "structlog" not in sys.modules:
                return
            _run_setup()
            import structlog

            self._logger = structlog.get_logger(self._name)
        getattr(self._logger, level)(event, **kwargs)

    def debug(self, event: str, **kwargs: Any) -> None:
        self._emit("debug", event, kwargs)

    def info(self, event: str, **kwargs: Any) -> None:
        self._emit("info", event, kwargs)

    def warning(self, event: str, **kwargs: Any) -> None:
        self._emit("warning", event, kwargs)

    def error(self, event: str, **kwargs: Any) -> None:
        self._emit("error", event, kwargs)

    def critical(self, event: str, **kwargs: Any) -> None:
        self._emit("critical", event, kwargs)

    def exception(self, event: str, **kwargs: Any) -> None:
        self._emit("error", event, {"exc_info": True, **kwargs})


def get_logger(name: str) -> LazyLogger:
    """A logger named ``name`` that costs nothing until it emits."""
    return LazyLogger(name)

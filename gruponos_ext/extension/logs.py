"""structlog to stderr, following the EDK's ``LOG_LEVEL`` / ``MELTANO_LOG_JSON``.

Results go to stdout; logs never do, so ``health --format json`` stays
parseable. Meltano sets neither variable itself: the default is ``warning``
so a healthy run prints only its result.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["configure_logging", "debug_enabled"]

_TRUE = {"1", "true", "yes", "on"}


def debug_enabled() -> bool:
    """True when ``LOG_LEVEL`` asks for debug output (tracebacks are shown then)."""
    return os.environ.get("LOG_LEVEL", "").strip().lower() == "debug"


def configure_logging() -> None:
    """Set the level; structlog itself is configured only when first needed.

    Most runs log nothing at the default ``warning`` level, so they never
    import structlog (see :mod:`gruponos_ext.core.logging`). Where structlog
    is loaded already (a host process running commands in-process), it is
    configured now, so this command's level and format apply to every event.
    """
    from gruponos_ext.core import logging as lazy

    name = os.environ.get("LOG_LEVEL", "warning").strip().upper() or "WARNING"
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        level = logging.WARNING
    lazy.set_threshold(level)
    if "structlog" in sys.modules:
        _configure_structlog(level)
    else:
        lazy.on_first_use(lambda: _configure_structlog(level))


def _configure_structlog(level: int) -> None:
    import structlog

    as_json = os.environ.get("MELTANO_LOG_JSON", "").strip().lower() in _TRUE
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Resolve sys.stderr at each write: it may be wrapped by the secret scrubber.
        logger_factory=structlog.PrintLoggerFactory(file=_StderrProxy()),  # type: ignore[arg-type]
        # Not cached: a logger bound under an earlier configuration keeps no stale level.
        cache_logger_on_first_use=False,
    )


class _StderrProxy:
    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

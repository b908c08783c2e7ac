"""The process's documented exit codes.

There is no last-pass filter over what this process prints: a secret must
not reach output in the first place. Text from outside (a server's reply, a
driver's message, a child's output) is redacted where it enters, with
:class:`gruponos_ext.core.redaction.Redactor`; everything else is written
from our own values, which never include a secret.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    """Documented exit codes (README, ``--help``)."""

    OK = 0
    """Everything passed (warnings allowed unless ``--strict``)."""
    FAILED = 1
    """A check failed, validation found errors, or the guarded run failed."""
    USAGE = 2
    """Bad usage or bad settings: fix the command line or the configuration."""

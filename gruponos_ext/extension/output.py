"""Process-level output hygiene: exit codes, one-line errors, secret scrubbing.

Meltano exports ``kind: password`` settings to the plugin in clear text, so
every byte this process writes to stdout/stderr passes through a scrubber
that replaces known secret values. Messages are written secret-free in the
first place; this is the belt to those braces.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import IO, Any

__all__ = [
    "ExitCode",
    "ScrubbingStream",
    "install_scrubber",
    "secret_values",
]

# Environment variables whose values are secrets, by the end of their name.
_SECRET_SUFFIXES = ("PASSWORD", "WEBHOOK_URL", "TOKEN", "SECRET", "_KEY")
_MIN_SECRET_LENGTH = 4  # replacing "a" everywhere would mangle output and hide nothing
MASK = "********"


class ExitCode(IntEnum):
    """Documented exit codes (README, ``--help``)."""

    OK = 0
    """Everything passed (warnings allowed unless ``--strict``)."""
    FAILED = 1
    """A check failed, validation found errors, or the guarded run failed."""
    USAGE = 2
    """Bad usage or bad settings: fix the command line or the configuration."""


def secret_values(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Secret values found in the environment, longest first."""
    env = os.environ if environ is None else environ
    values = {
        value
        for name, value in env.items()
        if name.upper().endswith(_SECRET_SUFFIXES) and len(value) >= _MIN_SECRET_LENGTH
    }
    return tuple(sorted(values, key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class ScrubbingStream:
    """A text stream wrapper that masks secret values before writing."""

    def __init__(self, stream: IO[str], secrets: tuple[str, ...]) -> None:
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        self._stream.write(scrub(text, self._secrets))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install_scrubber(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Wrap ``sys.stdout``/``sys.stderr`` so no known secret is ever printed."""
    secrets = secret_values(environ)
    if secrets:
        if not isinstance(sys.stdout, ScrubbingStream):
            sys.stdout = ScrubbingStream(sys.stdout, secrets)
        if not isinstance(sys.stderr, ScrubbingStream):
            sys.stderr = ScrubbingStream(sys.stderr, secrets)
    return secrets

"""What every command starts from: the settings, a booted container, the profile.

:func:`booted` is the one way a command gets services: the container wired
for the settings' profile, disposed when the ``with`` block ends, whatever
happened in it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gruponos_ext.core.errors import GruponosError

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.core.redaction import Redactor
    from gruponos_ext.infrastructure.di_container import (
        GruponosMeltanoContainer,
        ProfileChoice,
    )

__all__ = [
    "UsageError",
    "active_profile",
    "booted",
    "emit_json",
    "load_settings",
    "profile_line",
    "project_root",
    "redactor_for_environment",
]


class UsageError(GruponosError):
    """The command cannot run as asked (exit 2)."""

    code = "INVALID_USAGE"
    exit_code = 2


def load_settings() -> GruponosMeltanoSettings:
    """The settings Meltano exported to this process (``SettingsError``, exit 2, if invalid)."""
    from gruponos_ext.config import GruponosMeltanoSettings

    return GruponosMeltanoSettings.from_env()


@contextmanager
def booted(settings: GruponosMeltanoSettings | None = None) -> Iterator[GruponosMeltanoContainer]:
    """The container wired for the settings' profile; disposed when the block ends."""
    from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer

    container = GruponosMeltanoContainer(settings or load_settings())
    container.configure_for_environment()
    with container:
        yield container


def active_profile(
    container: GruponosMeltanoContainer | None = None,
    settings: GruponosMeltanoSettings | None = None,
) -> ProfileChoice:
    """The profile a booted ``container`` runs, or the one ``settings`` select; and why."""
    from gruponos_ext.infrastructure.di_container import ProfileChoice

    if container is not None and container.profile_choice is not None:
        return container.profile_choice
    return ProfileChoice.of(settings if settings is not None else load_settings())


def profile_line(choice: ProfileChoice) -> str:
    """``profile: development (from Meltano environment 'testing')``."""
    return f"profile: {choice.describe()}"


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def project_root(settings: GruponosMeltanoSettings | None) -> Path | None:
    """The Meltano project: the settings' root, else ``MELTANO_PROJECT_ROOT``."""
    if settings is not None and settings.project_root is not None:
        return Path(settings.project_root)
    env = os.environ.get("MELTANO_PROJECT_ROOT")
    return Path(env) if env else None


def redactor_for_environment() -> Redactor:
    """The redactor of the configured secrets; credential patterns only if none load."""
    from gruponos_ext.config import SettingsError
    from gruponos_ext.core.redaction import Redactor

    try:
        return load_settings().redactor()
    except SettingsError:
        return Redactor()

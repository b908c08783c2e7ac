"""``validate``: settings, container wiring and meltano.yml, without touching any system.

Opens no network connection and needs no secret (``$VAR`` references count
as set): a CI step. A bad setting is a finding like any other, and the exit
status is then 2 (bad settings), else 1 on errors (or warnings with
``--strict``), else 0. ``--ignore CODE`` and the setting ``validate_ignore``
silence rules by code; an unknown code is bad usage (exit 2) before anything
is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from gruponos_ext.extension.commands.session import (
    active_profile,
    booted,
    load_settings,
    profile_line,
    project_root,
)
from gruponos_ext.extension.output import ExitCode

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.infrastructure.di_container import ProfileChoice
    from gruponos_ext.project import ProjectFinding

__all__ = ["validate"]


def validate(*, strict: bool, output_format: str, ignore: Sequence[str] = ()) -> int:
    """Check everything, print the findings and the verdict; the exit status."""
    import json

    from gruponos_ext.config import SettingsError
    from gruponos_ext.project import render, validate_project
    from gruponos_ext.project.codes import check_codes

    silenced = set(check_codes(ignore))
    findings: list[ProjectFinding] = []
    settings: GruponosMeltanoSettings | None = None
    choice: ProfileChoice | None = None
    try:
        settings = load_settings()
    except SettingsError as error:
        findings += render.settings_findings(error.issues)
    if settings is not None:
        variable = "GRUPONOS_INFRA_VALIDATE_IGNORE"
        silenced |= set(check_codes(settings.validate_ignore, source=variable))
        with booted(settings) as container:
            choice = active_profile(container)
            findings += render.wiring_findings(container.validate())
    root = project_root(settings)
    if root is None:
        findings.append(render.project_root_unknown())
    else:
        # Every environment: a broken prod must fail CI in dev.
        findings += render.project_findings(validate_project(root))
    result = render.ValidationResult(findings, strict=strict, ignore=silenced)
    if output_format == "json":
        document = {**result.to_dict(), "profile": choice.to_dict() if choice else None}
        click.echo(json.dumps(document, indent=2))
    else:
        if choice is not None:
            click.echo(profile_line(choice))
        click.echo(result.render("text"))
    if settings is None:
        return SettingsError.exit_code
    return ExitCode.FAILED if result.failed else ExitCode.OK

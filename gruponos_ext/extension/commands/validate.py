"""``validate``: settings, container wiring and meltano.yml, without touching any system.

Opens no network connection and needs no secret (``$VAR`` references count
as set): a CI step. A bad setting is a finding like any other, and the exit
status is then 2 (bad settings), else 1 on errors (or warnings with
``--strict``), else 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gruponos_ext.extension.commands.session import (
    active_profile,
    booted,
    emit_json,
    load_settings,
    profile_line,
    project_root,
)
from gruponos_ext.extension.output import ExitCode

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.infrastructure.di_container import ProfileChoice

__all__ = ["validate"]

Finding = dict[str, str]


def validate(*, strict: bool, output_format: str) -> int:
    """Check everything, print the findings and the verdict; the exit status."""
    from gruponos_ext.config import SettingsError

    findings: list[Finding] = []
    settings: GruponosMeltanoSettings | None = None
    choice: ProfileChoice | None = None
    try:
        settings = load_settings()
    except SettingsError as error:
        findings += [
            {"severity": "error", "where": f"setting {i.env_var}", "message": i.reason}
            for i in error.issues
        ]
    if settings is not None:
        with booted(settings) as container:
            choice = active_profile(container)
            report = container.validate()
        findings += [{"severity": "error", "where": "wiring", "message": e} for e in report.errors]
        findings += [
            {"severity": "warning", "where": "wiring", "message": w} for w in report.warnings
        ]
    findings += _project_findings(settings)

    errors = [f for f in findings if f["severity"] == "error"]
    warnings = [f for f in findings if f["severity"] != "error"]
    # With --strict a warning fails: the verdict must say so, not "passed" with exit 1.
    failed = bool(errors or (strict and warnings))
    if output_format == "json":
        emit_json(
            {
                "ok": not failed,
                "strict": strict,
                "profile": choice.to_dict() if choice is not None else None,
                "errors": errors,
                "warnings": warnings,
            }
        )
    else:
        if choice is not None:
            click.echo(profile_line(choice))
        for f in findings:
            click.echo(f"{f['severity']}: {f['where']}: {f['message']}")
        verdict = "validation failed" if failed else "validation passed"
        if failed and not errors:
            verdict += " (--strict: warnings fail)"
        click.echo(f"{verdict}: {len(errors)} error(s), {len(warnings)} warning(s)")
    if settings is None:
        return SettingsError.exit_code
    return ExitCode.FAILED if failed else ExitCode.OK


def _project_findings(settings: GruponosMeltanoSettings | None) -> list[Finding]:
    root = project_root(settings)
    if root is None:
        return [
            {
                "severity": "warning",
                "where": "project",
                "message": "MELTANO_PROJECT_ROOT is not set, so meltano.yml was not checked; "
                "run through `meltano invoke gruponos-infra:validate`",
            }
        ]
    from gruponos_ext.extension.project import validate_project

    project = validate_project(root)  # every environment: a broken prod must fail CI in dev
    return [
        {
            "severity": f.severity,
            "where": f"{f.file}: {f.key_path}" if f.key_path else f.file,
            "message": f.message,
        }
        for f in project.findings
    ]

"""The output of the ``validate`` command: findings of every source, silencing, verdict.

``validate`` gathers findings from three places: the extension's settings
(as the runtime parses them), the service container's wiring, and the
project files. Each becomes a :class:`ValidateFinding` with a rule code;
codes given to ``--ignore`` (or the setting ``validate_ignore``) are left
out, and the verdict counts what is left (``--strict``: warnings fail too).

Text output is one line per finding, then the verdict::

    error: meltano.yml:41: jobs[2].tasks[0]: unknown plugin 'tap-x' [BLOCK_UNKNOWN_PLUGIN]
    validation failed: 1 error(s), 0 warning(s)

JSON output carries the same findings with separate fields (``severity``,
``code``, ``file``, ``line``, ``key_path``, ``message``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gruponos_ext.extension.project.codes import RULES, Severity

if TYPE_CHECKING:
    from gruponos_ext.config import SettingIssue
    from gruponos_ext.core.wiring import WiringReport
    from gruponos_ext.extension.project.findings import ProjectReport

__all__ = [
    "SETTINGS_CODE",
    "ValidateFinding",
    "ValidationResult",
    "project_findings",
    "project_root_unknown",
    "settings_findings",
    "wiring_findings",
]

SETTINGS_CODE = "INVALID_SETTINGS"
"""The code of an invalid setting in the environment (as ``SettingsError``): the
extension cannot run at all, so it is never silenced."""


@dataclass(frozen=True)
class ValidateFinding:
    """One finding of ``validate``, from the project files, the settings or the wiring.

    ``file`` is None for a finding outside the project files; ``subject``
    then says what it is about (``setting GRUPONOS_INFRA_ORACLE_PORT``,
    ``wiring``, ``project``).
    """

    severity: Severity
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    key_path: str = ""
    subject: str = ""

    @property
    def location(self) -> str:
        """``meltano.yml:12: jobs[0]``, or the subject of a finding outside the files."""
        if self.file is None:
            return self.subject
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.key_path}" if self.key_path else where

    def render(self) -> str:
        """``error: meltano.yml:12: jobs[0]: message [CODE]``."""
        return f"{self.severity}: {self.location}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: every part in its own field."""
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "key_path": self.key_path,
            "message": self.message,
        }


def settings_findings(issues: Iterable[SettingIssue]) -> list[ValidateFinding]:
    """One error per invalid setting of the environment, naming its variable."""
    return [
        ValidateFinding(
            "error",
            SETTINGS_CODE,
            issue.reason,
            key_path=issue.env_var,
            subject=f"setting {issue.env_var}",
        )
        for issue in issues
    ]


def wiring_findings(report: WiringReport) -> list[ValidateFinding]:
    """The service container's wiring problems (errors) and doubts (warnings)."""
    found = [ValidateFinding("error", "WIRING_ERROR", e, subject="wiring") for e in report.errors]
    found += [
        ValidateFinding("warning", "WIRING_WARNING", w, subject="wiring") for w in report.warnings
    ]
    return found


def project_root_unknown() -> ValidateFinding:
    """Outside Meltano there is no project to check: a warning, not a failure."""
    return ValidateFinding(
        "warning",
        "PROJECT_ROOT_UNKNOWN",
        "MELTANO_PROJECT_ROOT is not set, so meltano.yml was not checked; "
        "run through `meltano invoke gruponos-infra:validate`",
        subject="project",
    )


def project_findings(report: ProjectReport) -> list[ValidateFinding]:
    """The findings of the project files."""
    return [
        ValidateFinding(f.severity, f.code, f.message, f.file, f.line, f.key_path)
        for f in report.findings
    ]


@dataclass(frozen=True)
class ValidationResult:
    """Every finding of one ``validate`` run, minus the silenced rules, and the verdict."""

    all_findings: Sequence[ValidateFinding]
    strict: bool = False
    ignore: Collection[str] = ()

    @property
    def findings(self) -> list[ValidateFinding]:
        """The findings that count (a silenced rule's are left out)."""
        return [
            f for f in self.all_findings if f.code not in self.ignore or f.code == SETTINGS_CODE
        ]

    @property
    def ignored(self) -> int:
        """How many findings were silenced."""
        return len(self.all_findings) - len(self.findings)

    @property
    def errors(self) -> list[ValidateFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[ValidateFinding]:
        return [f for f in self.findings if f.severity != "error"]

    @property
    def failed(self) -> bool:
        """Errors fail; with ``--strict`` warnings fail too."""
        return bool(self.errors or (self.strict and self.warnings))

    def verdict(self) -> str:
        """``validation passed: 0 error(s), 1 warning(s)`` (and why a run failed)."""
        verdict = "validation failed" if self.failed else "validation passed"
        if self.failed and not self.errors:
            verdict += " (--strict: warnings fail)"
        counts = f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        if self.ignored:
            counts += f", {self.ignored} ignored ({', '.join(sorted(self.ignore))})"
        return f"{verdict}: {counts}"

    def render(self, output_format: str = "text") -> str:
        """The text lines (one per finding, then the verdict) or the JSON document."""
        if output_format == "json":
            return json.dumps(self.to_dict(), indent=2)
        return "\n".join([*(f.render() for f in self.findings), self.verdict()])

    def to_dict(self) -> dict[str, Any]:
        """The JSON document: verdict, the findings by severity, what was silenced."""
        return {
            "ok": not self.failed,
            "strict": self.strict,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "ignored": self.ignored,
        }


def rule_summary(code: str) -> str:
    """The one-line summary of a rule (README table, ``--help``)."""
    return RULES[code].summary

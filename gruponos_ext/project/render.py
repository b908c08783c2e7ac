"""The output of the ``validate`` command: findings of every source, silencing, verdict.

``validate`` gathers findings from three places: the extension's settings
(as the runtime parses them), the service container's wiring, and the
project files. Each is a :class:`ProjectFinding` with a rule code;
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

from gruponos_ext.project.codes import RULES
from gruponos_ext.project.findings import ProjectFinding

if TYPE_CHECKING:
    from gruponos_ext.config import SettingIssue
    from gruponos_ext.core.wiring import WiringReport
    from gruponos_ext.project.findings import ProjectReport

__all__ = [
    "SETTINGS_CODE",
    "ValidationResult",
    "project_findings",
    "project_root_unknown",
    "settings_findings",
    "wiring_findings",
]

SETTINGS_CODE = "INVALID_SETTINGS"
"""The code of an invalid setting in the environment (as ``SettingsError``): the
extension cannot run at all, so it is never silenced."""


def settings_findings(issues: Iterable[SettingIssue]) -> list[ProjectFinding]:
    """One error per invalid setting of the environment, naming its variable."""
    return [
        ProjectFinding(
            "error",
            "",
            issue.env_var,
            issue.reason,
            SETTINGS_CODE,
            subject=f"setting {issue.env_var}",
        )
        for issue in issues
    ]


def wiring_findings(report: WiringReport) -> list[ProjectFinding]:
    """The service container's wiring problems (errors) and doubts (warnings)."""
    found = [_outside("WIRING_ERROR", e, "wiring") for e in report.errors]
    found += [_outside("WIRING_WARNING", w, "wiring") for w in report.warnings]
    return found


def project_root_unknown() -> ProjectFinding:
    """Outside Meltano there is no project to check: a warning, not a failure."""
    return _outside(
        "PROJECT_ROOT_UNKNOWN",
        "MELTANO_PROJECT_ROOT is not set, so meltano.yml was not checked; "
        "run through `meltano invoke gruponos-infra:validate`",
        "project",
    )


def project_findings(report: ProjectReport) -> list[ProjectFinding]:
    """The findings of the project files."""
    return list(report.findings)


def _outside(code: str, message: str, subject: str) -> ProjectFinding:
    return ProjectFinding(RULES[code].severity, "", "", message, code, subject=subject)


@dataclass(frozen=True)
class ValidationResult:
    """Every finding of one ``validate`` run, minus the silenced rules, and the verdict."""

    all_findings: Sequence[ProjectFinding]
    strict: bool = False
    ignore: Collection[str] = ()

    @property
    def findings(self) -> list[ProjectFinding]:
        """The findings that count (a silenced rule's are left out)."""
        return [
            f for f in self.all_findings if f.code not in self.ignore or f.code == SETTINGS_CODE
        ]

    @property
    def ignored(self) -> int:
        """How many findings were silenced."""
        return len(self.all_findings) - len(self.findings)

    @property
    def errors(self) -> list[ProjectFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[ProjectFinding]:
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

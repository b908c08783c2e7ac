"""Findings and reports: what is wrong, where (file, key path, line), which rule.

A finding names the file (relative to the project root), the key path into
it (``jobs[2].tasks[0]``) and, where the YAML has one, the line. Messages
name settings, plugins and environment variables; a configured value appears
only where the runtime itself would show it (never a secret).

>>> finding = ProjectFinding("error", "meltano.yml", "jobs[0].tasks[1]",
...                          "unknown plugin 'tap-x'", "BLOCK_UNKNOWN_PLUGIN", 12)
>>> str(finding)
"meltano.yml: jobs[0].tasks[1]: unknown plugin 'tap-x'"
>>> finding.render()
"error: meltano.yml:12: jobs[0].tasks[1]: unknown plugin 'tap-x' [BLOCK_UNKNOWN_PLUGIN]"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gruponos_ext.project.codes import RULES, Severity
from gruponos_ext.project.places import Where, join_key_path

__all__ = [
    "Findings",
    "ProjectFinding",
    "ProjectReport",
    "Severity",
    "Where",
    "join_key_path",
]


@dataclass(frozen=True)
class ProjectFinding:
    """One problem: where it is, what is wrong, which rule.

    ``key_path`` points into ``file`` (``jobs[2].tasks[0]``), or gives the
    line and column of a YAML syntax error; it is empty for a finding about
    the file as a whole. ``line`` is 1-based, None when unknown. A finding of
    ``validate`` outside the project files (a setting in the environment, the
    service wiring) has no ``file``; ``subject`` says what it is about, e.g.
    ``setting GRUPONOS_INFRA_ORACLE_PORT``.
    """

    severity: Severity
    file: str
    key_path: str
    message: str
    code: str
    line: int | None = None
    subject: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: {self.key_path}" if self.key_path else self.file
        return f"{where}: {self.message}"

    @property
    def location(self) -> str:
        """``meltano.yml:12: jobs[0]`` (file, line when known, key path when any),
        or the subject of a finding outside the project files."""
        if not self.file:
            return self.subject
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.key_path}" if self.key_path else where

    def render(self) -> str:
        """The one-line text form: severity, location, message, rule code."""
        return f"{self.severity}: {self.location}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        """The finding as a JSON-ready mapping (separate fields, no rendering)."""
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file or None,
            "line": self.line,
            "key_path": self.key_path,
            "message": self.message,
        }


@dataclass(frozen=True)
class ProjectReport:
    """Every finding of one :func:`validate_project` call, in file order."""

    project_root: Path
    findings: tuple[ProjectFinding, ...] = ()
    files: tuple[str, ...] = field(default=())
    """The project files that were read (relative to the root)."""

    @property
    def errors(self) -> tuple[ProjectFinding, ...]:
        """Findings that would break Meltano, a run, a schedule or this extension."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[ProjectFinding, ...]:
        """Findings that work today but are likely mistakes."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    @property
    def codes(self) -> tuple[str, ...]:
        """The rule code of each finding, in order."""
        return tuple(f.code for f in self.findings)

    def lines(self) -> list[str]:
        """One ``error: meltano.yml:12: jobs[0]: ... [CODE]`` line per finding."""
        return [f.render() for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping."""
        return {
            "ok": self.ok,
            "files": list(self.files),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_dict() for f in self.findings],
        }


class Findings:
    """Collects findings while a project is read and checked.

    The severity comes from the rule code (:data:`RULES`); the same finding
    at the same place is kept once, so one mistake is one finding however
    many rules or environments meet it.
    """

    def __init__(self) -> None:
        self._items: list[ProjectFinding] = []
        self._seen: set[tuple[str, str, str, str]] = set()

    def add(self, code: str, where: Where, message: str) -> ProjectFinding:
        """Record a finding of rule ``code`` at ``where``."""
        finding = ProjectFinding(
            RULES[code].severity, where.file, where.key_path, message, code, where.line
        )
        key = (code, where.file, where.key_path, message)
        if key not in self._seen:
            self._seen.add(key)
            self._items.append(finding)
        return finding

    def extend(self, findings: Iterable[ProjectFinding]) -> None:
        """Add findings made elsewhere (already carrying their severity)."""
        for finding in findings:
            key = (finding.code, finding.file, finding.key_path, finding.message)
            if key not in self._seen:
                self._seen.add(key)
                self._items.append(finding)

    @property
    def items(self) -> tuple[ProjectFinding, ...]:
        """Every finding so far, in the order found."""
        return tuple(self._items)

    @property
    def errors(self) -> tuple[ProjectFinding, ...]:
        """The findings of severity ``error``, in the order found."""
        return tuple(f for f in self._items if f.severity == "error")

    def has_errors(self) -> bool:
        """Whether any finding so far is an error."""
        return any(f.severity == "error" for f in self._items)

    def __len__(self) -> int:
        return len(self._items)

"""What every rule needs: the model, where findings go, and which utility is this one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gruponos_ext.project.findings import Findings, Where
from gruponos_ext.project.model import Plugin, ProjectModel

__all__ = ["UTILITY_NAMESPACE", "RuleContext"]

UTILITY_NAMESPACE = "gruponos_infra"
"""The namespace of this extension's plugin definition."""


@dataclass
class RuleContext:
    """The model under check, the findings so far, and this extension's plugin name.

    ``own_name`` is this utility's name in the project (``MELTANO_UTILITY_NAME``
    when Meltano runs it, else ``gruponos-infra``); a utility with namespace
    ``gruponos_infra`` (or inheriting from one) counts as this extension too.
    ``environment`` limits the per-environment checks of its settings.
    """

    model: ProjectModel
    findings: Findings
    own_name: str
    environment: str | None = None
    memo: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    """Results a rule family computes once per check (by family, then key)."""
    _own: dict[int, bool] = field(default_factory=dict, repr=False)

    def add(self, code: str, where: Where, message: str) -> None:
        """Record a finding of rule ``code``."""
        self.findings.add(code, where, message)

    def is_own(self, plugin: Plugin) -> bool:
        """Whether ``plugin`` is this extension (its blocks and settings get our rules)."""
        if plugin.type != "utilities":
            return False
        key = id(plugin)
        if key not in self._own:
            namespace = self.model.inherited_value(plugin, "namespace")
            self._own[key] = plugin.name == self.own_name or namespace == UTILITY_NAMESPACE
        return self._own[key]

    def own_plugins(self) -> tuple[Plugin, ...]:
        """This extension's utility entries (usually one)."""
        return tuple(p for p in self.model.plugins_of_type("utilities") if self.is_own(p))

"""Invalid settings: one :class:`SettingsError` naming every bad setting by its variable.

Pydantic finds what is wrong; this module says it in the user's words.
:func:`issues_from` turns a ``ValidationError`` into :class:`SettingIssue`\\ s:
a reason a validator wrote itself (:func:`invalid`, :func:`rule_broken`) is
used as it is; any other error becomes "must be <what the setting takes>"
plus the value as given, which is never shown for a secret. Pydantic's own
wording, its URLs and its rendering of inputs never reach the user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from gruponos_ext.config.fields import FieldShape, env_var_for
from gruponos_ext.core.errors import GruponosError

__all__ = [
    "RULE_ERROR",
    "SettingIssue",
    "SettingsError",
    "invalid",
    "issues_from",
    "rule_broken",
    "shown",
]

_VALUE_ERROR = "setting_value"
RULE_ERROR = "setting_rule"
"""Error type of a rule between settings (the model's cross-field check)."""


def invalid(reason: str) -> PydanticCustomError:
    """The error a value validator raises when its own words say it best.

    ``reason`` completes "GRUPONOS_INFRA_X: ..." and must never hold a secret.
    """
    return PydanticCustomError(_VALUE_ERROR, "{reason}", {"reason": reason})


def rule_broken(reason: str) -> PydanticCustomError:
    """The error of a rule between settings (reported even next to bad values)."""
    return PydanticCustomError(RULE_ERROR, "{reason}", {"reason": reason})


@dataclass(frozen=True)
class SettingIssue:
    """One invalid setting: its field name, the variable to fix, and why."""

    setting: str
    env_var: str
    reason: str

    def __str__(self) -> str:
        return f"{self.env_var}: {self.reason}"


class SettingsError(GruponosError):
    """The settings are invalid; ``issues`` lists every problem, secrets never shown."""

    code = "INVALID_SETTINGS"
    exit_code = 2

    def __init__(self, issues: Sequence[SettingIssue]) -> None:
        self.issues: tuple[SettingIssue, ...] = tuple(issues)
        if len(self.issues) == 1:
            message = f"invalid setting {self.issues[0]}"
        else:
            lines = "\n".join(f"  {issue}" for issue in self.issues)
            message = f"{len(self.issues)} invalid settings:\n{lines}"
        super().__init__(
            message,
            details={
                "issues": [
                    {"setting": i.setting, "env_var": i.env_var, "reason": i.reason}
                    for i in self.issues
                ]
            },
        )

    @property
    def env_vars(self) -> tuple[str, ...]:
        """The variables named by the issues, in order."""
        return tuple(issue.env_var for issue in self.issues)


def shown(raw: object) -> str:
    """`` (got 'value')`` for a message, cut to a readable length."""
    text = raw if isinstance(raw, str) else repr(raw)
    if len(text) > 60:
        text = text[:57] + "..."
    return f" (got {text!r})" if isinstance(raw, str) else f" (got {text})"


_MISSING = object()


def issues_from(
    error: ValidationError,
    shapes: Mapping[str, FieldShape],
    *,
    raw: Mapping[str, object] | None = None,
    variables: Mapping[str, str] | None = None,
) -> list[SettingIssue]:
    """One issue per failing setting (its first error), then every broken rule.

    ``raw`` holds the values as given (shown in the message unless secret);
    ``variables`` the variable each value came from when it is not the
    setting's own (``MELTANO_PROJECT_ROOT`` for ``project_root``).
    """
    raw = raw or {}
    variables = variables or {}
    issues: list[SettingIssue] = []
    reported: set[str] = set()
    for line in error.errors(include_url=False, include_input=False):
        name = str(line["loc"][0]) if line["loc"] else "settings"
        is_rule = line["type"] == RULE_ERROR
        if name in reported and not is_rule:
            continue  # a list's second bad item adds nothing the first did not say
        reported.add(name)
        if line["type"] in (_VALUE_ERROR, RULE_ERROR):
            reason = str(line["ctx"]["reason"])
        elif name in shapes:
            shape = shapes[name]
            value = raw.get(name, _MISSING)
            got = "" if shape.secret or value is _MISSING else shown(value)
            reason = f"must be {shape.expectation()}{got}"
        else:
            reason = str(line["msg"]).lower()
        issues.append(SettingIssue(name, variables.get(name, env_var_for(name)), reason))
    return issues

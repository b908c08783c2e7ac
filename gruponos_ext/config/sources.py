"""Which raw value each setting gets, and where it came from.

In order: a value given as an argument, the setting's own variable
(``GRUPONOS_INFRA_<NAME>``), then the defaults Meltano's variables imply:

* ``project_root``: ``MELTANO_PROJECT_ROOT`` (never the current directory);
* ``state_dir``: ``<MELTANO_SYS_DIR_ROOT>/gruponos-infra``, else
  ``.meltano/gruponos-infra`` under the project root;
* ``environment``: from the Meltano environment's *name*, see
  :func:`environment_for_meltano`.

An empty or blank value means "not set". A variable holding exactly the
definition's default (Meltano exports those too) counts as ``default``.
Nothing here judges a value: that is the model's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from gruponos_ext.config.errors import SettingIssue
from gruponos_ext.config.fields import FieldShape, env_var_for

__all__ = ["ARGUMENT", "Collected", "collect", "environment_for_meltano"]

ARGUMENT = "argument"
"""The source of a value given by field name (keyword arguments, ``from_mapping``)."""

_STATE_SUBDIR = "gruponos-infra"

# Meltano environments are free names. Only these select production services;
# every other name (dev, test, testing, qa, a typo...) gets the development
# profile, so a Meltano environment can never switch off locks or alerts.
_MELTANO_ENVIRONMENTS = {
    "production": "production",
    "prod": "production",
    "staging": "staging",
    "stage": "staging",
}


def environment_for_meltano(name: str) -> str:
    """The settings ``environment`` a Meltano environment name stands for.

    >>> [environment_for_meltano(n) for n in ("prod", "Staging", "testing", "qa")]
    ['production', 'staging', 'development', 'development']
    """
    return _MELTANO_ENVIRONMENTS.get(name.strip().lower(), "development")


class Collected:
    """The raw value of every setting that is set, with its source.

    ``variables`` names the variable a value came from where it is not the
    setting's own; ``meltano_environment`` the Meltano environment name
    ``environment`` was derived from, if it was.
    """

    def __init__(self) -> None:
        self.raw: dict[str, object] = {}
        self.sources: dict[str, str] = {}
        self.variables: dict[str, str] = {}
        self.unknown: list[SettingIssue] = []
        self.meltano_environment: str | None = None

    def put(self, name: str, value: object, source: str) -> None:
        self.raw[name] = value
        self.sources[name] = source
        if source.startswith("env:") and source != f"env:{env_var_for(name)}":
            self.variables[name] = source.removeprefix("env:")


def _is_unset(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, SecretStr):
        raw = raw.get_secret_value()
    return isinstance(raw, str) and not raw.strip()


def _set(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value is not None and value.strip() else None


def collect(
    values: Mapping[str, Any], env: Mapping[str, str], shapes: Mapping[str, FieldShape]
) -> Collected:
    """The raw values of ``values`` (by field name) and ``env`` (variables), with sources."""
    found = Collected()
    for name in values:
        if name not in shapes:
            import difflib

            close = difflib.get_close_matches(name, shapes, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            found.unknown.append(SettingIssue(name, env_var_for(name), f"unknown setting{hint}"))

    for name, shape in shapes.items():
        given = values.get(name)
        if not _is_unset(given):
            found.put(name, given, ARGUMENT)
            continue
        value = _set(env, shape.env_var)
        if value is not None:
            is_default = value == shape.meltano_default
            found.put(name, value, "default" if is_default else f"env:{shape.env_var}")

    _meltano_defaults(found, env)
    return found


def _meltano_defaults(found: Collected, env: Mapping[str, str]) -> None:
    """Fill the settings whose defaults come from Meltano's own variables."""
    if "project_root" not in found.raw:
        root = _set(env, "MELTANO_PROJECT_ROOT")
        if root is not None:
            found.put("project_root", root, "env:MELTANO_PROJECT_ROOT")
    if "environment" not in found.raw:
        name = _set(env, "MELTANO_ENVIRONMENT")
        if name is not None:
            found.put("environment", environment_for_meltano(name), "env:MELTANO_ENVIRONMENT")
            found.meltano_environment = name.strip()
    if "state_dir" not in found.raw:
        sys_dir = _set(env, "MELTANO_SYS_DIR_ROOT")
        if sys_dir is not None:
            found.put("state_dir", f"{sys_dir.strip()}/{_STATE_SUBDIR}", "env:MELTANO_SYS_DIR_ROOT")
        elif "project_root" in found.raw:
            # Relative: the model resolves it against the project root.
            found.put("state_dir", f".meltano/{_STATE_SUBDIR}", "default")

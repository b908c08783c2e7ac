"""The settings as Meltano sees them: the plugin definition's ``settings:`` list.

Every setting is declared ``kind: string`` (secrets ``kind: password``,
``sensitive: true``): Meltano's typed kinds crash or silently coerce on a bad
value, so the extension parses values itself. :data:`SETTING_SPECS` is built
from the model; the definition in ``plugin_definitions/`` is checked against
:func:`meltano_setting_definitions`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gruponos_ext.config.fields import ENV_PREFIX, FieldShape
from gruponos_ext.config.model import SHAPES

__all__ = ["SETTING_SPECS", "SettingSpec", "meltano_setting_definitions", "unknown_env_vars"]


@dataclass(frozen=True)
class SettingSpec:
    """One setting as the Meltano plugin definition declares it.

    ``kind`` is the Meltano kind: ``password`` for secrets, else ``string``
    (typed Meltano kinds crash Meltano or silently coerce on a bad value, so
    the extension parses values itself); ``value_type`` is what the value
    means (integer, number, boolean, choice, path, list, string, secret).
    ``default`` is the value as Meltano would export it, None when there is
    no static default.
    """

    name: str
    env_var: str
    kind: str
    value_type: str
    label: str
    description: str
    default: str | None
    sensitive: bool
    choices: tuple[str, ...] = ()


def _spec(shape: FieldShape) -> SettingSpec:
    description = shape.description
    if shape.value_type not in ("string", "secret") or shape.fmt:
        description = f"{description} Value: {shape.expectation()}."
    return SettingSpec(
        name=shape.name,
        env_var=shape.env_var,
        kind="password" if shape.secret else "string",
        value_type=shape.value_type,
        label=shape.label,
        description=description,
        default=shape.meltano_default,
        sensitive=shape.secret,
        choices=shape.choices,
    )


SETTING_SPECS: tuple[SettingSpec, ...] = tuple(_spec(shape) for shape in SHAPES.values())
"""Every setting, in model order: the source the plugin definition is checked against."""


def meltano_setting_definitions() -> list[dict[str, Any]]:
    """The ``settings:`` list of the Meltano plugin definition, built from the model."""
    definitions: list[dict[str, Any]] = []
    for spec in SETTING_SPECS:
        entry: dict[str, Any] = {
            "name": spec.name,
            "label": spec.label,
            "kind": spec.kind,
            "description": spec.description,
        }
        if spec.default is not None:
            entry["value"] = spec.default
        if spec.sensitive:
            entry["sensitive"] = True
        definitions.append(entry)
    return definitions


def unknown_env_vars(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """``GRUPONOS_INFRA_*`` variables that name no setting (typos), each with the
    closest known variable or None. Values are never read."""
    import difflib

    env = os.environ if env is None else env
    known = {shape.env_var for shape in SHAPES.values()}
    # Compare without the shared prefix, or everything looks alike.
    names = [var.removeprefix(ENV_PREFIX) for var in sorted(known)]
    unknown: dict[str, str | None] = {}
    for name in sorted(env):
        if name.startswith(ENV_PREFIX) and name not in known:
            close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), names, n=1)
            unknown[name] = ENV_PREFIX + close[0] if close else None
    return unknown

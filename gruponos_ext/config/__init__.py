"""Settings of the ``gruponos-infra`` utility: :class:`GruponosMeltanoSettings`.

Meltano hands a utility its settings as environment variables; for setting
``oracle_port`` the variable is ``GRUPONOS_INFRA_ORACLE_PORT``. Every value
arrives as a string, in Meltano's forms; an empty string means "not set".

One module per question:

* :mod:`~gruponos_ext.config.fields`: how a setting is declared and named;
* :mod:`~gruponos_ext.config.values`: Meltano's value forms as pydantic types;
* :mod:`~gruponos_ext.config.sources`: which raw value each setting gets, from where;
* :mod:`~gruponos_ext.config.rules`: rules between settings;
* :mod:`~gruponos_ext.config.errors`: one :class:`SettingsError` naming every bad setting;
* :mod:`~gruponos_ext.config.model`: the settings model itself;
* :mod:`~gruponos_ext.config.meltano`: the plugin definition's view of the settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext._lazy import lazy_exports
from gruponos_ext.config.errors import SettingIssue, SettingsError
from gruponos_ext.config.fields import ENV_PREFIX, MASK, env_var_for
from gruponos_ext.config.model import GruponosMeltanoSettings

if TYPE_CHECKING:
    from gruponos_ext.config.meltano import (
        SETTING_SPECS,
        SettingSpec,
        meltano_setting_definitions,
        unknown_env_vars,
    )

__all__ = [
    "ENV_PREFIX",
    "MASK",
    "SETTING_SPECS",
    "GruponosMeltanoSettings",
    "SettingIssue",
    "SettingSpec",
    "SettingsError",
    "env_var_for",
    "meltano_setting_definitions",
    "unknown_env_vars",
]

# The Meltano view is for the plugin definition and its tests, not for a
# command's start: it loads on first use.
_MELTANO_VIEW = ("SETTING_SPECS", "SettingSpec", "meltano_setting_definitions", "unknown_env_vars")
__getattr__ = lazy_exports(__name__, dict.fromkeys(_MELTANO_VIEW, "gruponos_ext.config.meltano"))

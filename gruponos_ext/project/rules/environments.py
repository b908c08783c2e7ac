"""Rules for environments: names, what Meltano ignores in them, their plugin entries.

Meltano looks an environment's plugin entry up by (type, name) when that
plugin runs; an entry for a plugin the project does not define is never
looked up, so it is dead configuration: a warning, not an error. Keys under
an environment's ``config`` other than ``plugins`` are kept by Meltano's
model and never read: a warning too.
"""

from __future__ import annotations

from collections.abc import Mapping

from gruponos_ext.project.build import did_you_mean
from gruponos_ext.project.model import PLUGIN_TYPES, Environment, plugin_label, type_noun
from gruponos_ext.project.rules.context import RuleContext
from gruponos_ext.project.rules.plugins import EXTRA_KEYS, check_config_keys

__all__ = ["check"]

_ENTRY_KEYS = frozenset({"name", "config", "env", "annotations"}) | EXTRA_KEYS


def check(context: RuleContext) -> None:
    """Every environment rule, in file order."""
    model = context.model
    first: dict[str, Environment] = {}
    for environment in model.environments:
        earlier = first.setdefault(environment.name, environment)
        if earlier is not environment and "meltano.yml" in (
            earlier.where.file,
            environment.where.file,
        ):
            context.add(
                "ENVIRONMENT_DUPLICATE",
                environment.where,
                f"environment name '{environment.name}' is already used "
                f"({earlier.where.file}: {earlier.where.key_path}): Meltano uses the first",
            )
    default = model.settings.get("default_environment")
    if default is not None and model.environment(str(default)) is None:
        names = [e.name for e in model.environments]
        context.add(
            "DEFAULT_ENVIRONMENT_UNDEFINED",
            model.main.at("default_environment"),
            f"names environment '{default}', which is not defined"
            f"{did_you_mean(str(default), names)}",
        )
    for environment in model.environments:
        _config_keys(context, environment)
        _plugin_entries(context, environment)


def _config_keys(context: RuleContext, environment: Environment) -> None:
    config = environment.definition.get("config")
    if not isinstance(config, Mapping):
        return
    for key in config:
        if key in ("plugins", "annotations"):
            continue
        hint = (
            f": plugin entries belong under config.plugins.{key}"
            if key in PLUGIN_TYPES
            else ": Meltano reads only 'plugins' here"
        )
        context.add(
            "ENVIRONMENT_CONFIG_UNKNOWN_KEY",
            environment.where.at("config", key),
            f"environment '{environment.name}': Meltano ignores config.{key}{hint}",
        )


def _plugin_entries(context: RuleContext, environment: Environment) -> None:
    model = context.model
    for entry in environment.plugins:
        plugin = model.plugin(entry.type, entry.name)
        if plugin is None:
            others = [p for p in model.plugins_named(entry.name) if p.type != entry.type]
            if others:
                problem = f"configures {others[0].label} under {entry.type}"
            else:
                candidates = [p.name for p in model.plugins_of_type(entry.type)]
                problem = (
                    f"configures unknown {type_noun(entry.type)} '{entry.name}'"
                    f"{did_you_mean(entry.name, candidates)}"
                )
            context.add(
                "ENVIRONMENT_PLUGIN_UNDEFINED",
                entry.where,
                f"environment '{environment.name}' {problem}: Meltano ignores this entry",
            )
            continue
        for key in entry.definition:
            if key in _ENTRY_KEYS:
                continue
            hint = (
                ": it is a setting, so it belongs under config:"
                if model.setting(plugin, str(key)) is not None
                else ": an environment's plugin entry takes name, config and env"
            )
            context.add(
                "ENVIRONMENT_PLUGIN_UNKNOWN_KEY",
                entry.where.at(key),
                f"environment '{environment.name}': Meltano ignores '{key}' of "
                f"{plugin_label(entry.type, entry.name)}{hint}",
            )
        config = entry.definition.get("config")
        if config is not None and not isinstance(config, Mapping):
            context.add("PLUGIN_CONFIG_INVALID", entry.where.at("config"), "must be a mapping")
        elif isinstance(config, Mapping):
            check_config_keys(context, plugin, config, entry.where.at("config"))

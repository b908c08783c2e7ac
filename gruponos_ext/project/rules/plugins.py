"""Rules for plugin definitions: identity, inheritance, keys and config.

Plugin identity in Meltano is type + name: an orchestrator and a utility
both named ``airflow`` are two plugins, and only the same name twice within
one type is a duplicate. ``inherit_from`` looks for a parent of the same type
in the project, then in the lock files, then on MeltanoHub; a cycle makes
every command that touches those plugins fail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gruponos_ext.project.build import did_you_mean
from gruponos_ext.project.findings import Where
from gruponos_ext.project.model import Plugin, plugin_label, type_noun
from gruponos_ext.project.rules.context import RuleContext

__all__ = [
    "EXTRA_KEYS",
    "PLUGIN_KEYS",
    "check",
    "check_config_keys",
    "has_env_reference",
    "is_secret",
]

EXTRA_KEYS = frozenset(
    {
        "select",
        "metadata",
        "schema",
        "catalog",
        "state",
        "load_schema",
        "select_filter",
        "use_cached_catalog",
        "log_parser",
        "dialect",
        "vars",
        "package_name",
        "update",
        "config_path",
    }
)
"""Meltano's "extra" settings, written as plugin keys (``select:`` for ``_select``)."""

PLUGIN_KEYS = EXTRA_KEYS | frozenset(
    {
        # ProjectPlugin's own attributes
        "name",
        "inherit_from",
        "namespace",
        "variant",
        "pip_url",
        "python",
        "executable",
        "capabilities",
        "settings_group_validation",
        "settings",
        "commands",
        "requires",
        "requires_meltano",
        "config",
        "default_variant",
        "env",
        "annotations",
        "mappings",
        # presentation and MeltanoHub metadata Meltano keeps
        "label",
        "logo_url",
        "description",
        "docs",
        "repo",
        "ext_repo",
        "hidden",
        "keywords",
        "maintenance_status",
        "domain_url",
        "quality",
        "supported_python_versions",
        "settings_preamble",
        "usage",
        "prereq",
        "next_steps",
        "plugin_type",
        "target_schema",
    }
)
"""Keys a plugin entry may carry (meltano.schema.json, the model, MeltanoHub)."""

# Meltano's ENV_VAR_PATTERN: ${anything-word} or $UPPER_CASE; a backslash escapes it.
_ENV_REFERENCE = re.compile(r"(?<!\\)\$(?:\{\w+\}|[A-Z][A-Z0-9_]*)")


def has_env_reference(value: Any) -> bool:
    """Whether a value is, or holds, a ``$VAR`` / ``${VAR}`` reference Meltano expands."""
    return isinstance(value, str) and _ENV_REFERENCE.search(value) is not None


def check(context: RuleContext) -> None:
    """Every plugin rule, in file order."""
    model = context.model
    _duplicates(context)
    block_names = {block.name for _, block in model.iter_blocks()}
    reported_cycles: set[tuple[str, str]] = set()
    mappings_seen: dict[str, Plugin] = {}
    for plugin in model.plugins:
        _unknown_keys(context, plugin)
        _inheritance(context, plugin, reported_cycles)
        for mapping in plugin.mappings:
            first = mappings_seen.setdefault(mapping, plugin)
            if first is not plugin and mapping not in block_names:
                context.add(
                    "MAPPING_DUPLICATE",
                    plugin.where.at("mappings"),
                    f"mapping '{mapping}' is also defined by {first.label}: a block naming it "
                    "is refused as ambiguous",
                )
        if isinstance(plugin.definition.get("config"), Mapping):
            check_config_keys(context, plugin, plugin.config, plugin.where.at("config"))


def _duplicates(context: RuleContext) -> None:
    first: dict[tuple[str, str], Plugin] = {}
    for plugin in context.model.plugins:
        earlier = first.setdefault(plugin.key, plugin)
        if earlier is plugin:
            continue
        if earlier.where.file != "meltano.yml" and plugin.where.file != "meltano.yml":
            continue  # two included files: INCLUDE_DUPLICATE already says Meltano refuses
        context.add(
            "PLUGIN_DUPLICATE",
            plugin.where,
            f"{plugin.label} is already defined ({earlier.where.file}: "
            f"{earlier.where.key_path}): Meltano uses the first and ignores this one",
        )


def _unknown_keys(context: RuleContext, plugin: Plugin) -> None:
    for key in plugin.definition:
        if not isinstance(key, str) or key in PLUGIN_KEYS:
            continue
        if context.model.setting(plugin, key) is not None:
            hint = f": it is a setting of {plugin.label}, so it belongs under config:"
        else:
            hint = f"{did_you_mean(key, PLUGIN_KEYS)}: Meltano ignores it"
        context.add(
            "PLUGIN_UNKNOWN_KEY",
            plugin.where.at(key),
            f"'{key}' is not a key of a plugin entry{hint}",
        )


def _inheritance(context: RuleContext, plugin: Plugin, reported: set[tuple[str, str]]) -> None:
    model = context.model
    raw = plugin.definition.get("inherit_from")
    if raw is None:
        return
    where = plugin.where.at("inherit_from")
    if not isinstance(raw, str) or not raw:
        context.add("PLUGIN_PARENT_MISSING", where, "inherit_from must be a plugin name")
        return
    if raw == plugin.name:
        context.add(
            "PLUGIN_INHERITS_ITSELF",
            where,
            f"{plugin.label} inherits from itself: Meltano ignores the inherit_from",
        )
        return
    if model.in_inheritance_cycle(plugin):
        if plugin.key not in reported:
            cycle = list(model.lineage(plugin))
            reported.update(p.key for p in cycle)
            names = " -> ".join(f"'{p.name}'" for p in [*cycle, plugin])
            context.add(
                "PLUGIN_INHERITANCE_CYCLE",
                where,
                f"{plugin_label(plugin.type, plugin.name)} inherits in a cycle ({names}): "
                "every Meltano command that uses these plugins fails",
            )
        return
    if model.parent(plugin) is not None or plugin.definition.get("variant") is not None:
        return  # found in the project, or (variant set) taken from a lock file or the Hub
    others = [p for p in model.plugins_named(raw) if p.type != plugin.type]
    if others:
        context.add(
            "PLUGIN_PARENT_OTHER_TYPE",
            where,
            f"inherits from '{raw}', but the project's '{raw}' is {others[0].label}, not a "
            f"{type_noun(plugin.type)}: Meltano looks for a "
            f"{plugin_label(plugin.type, raw)} in the lock files and on MeltanoHub instead",
        )
    elif not _locked(context, plugin.type, raw):
        context.add(
            "PLUGIN_PARENT_MISSING",
            where,
            f"inherits from '{raw}', which is not in the project: Meltano will look it up "
            f"on MeltanoHub (no lock file plugins/{plugin.type}/{raw}--*.lock)",
        )


def _locked(context: RuleContext, plugin_type: str, name: str) -> bool:
    folder = context.model.root / "plugins" / plugin_type
    try:
        return (folder / f"{name}.lock").is_file() or any(folder.glob(f"{name}--*.lock"))
    except OSError:
        return False


def is_secret(context: RuleContext, plugin: Plugin, name: str) -> bool:
    """Whether setting ``name`` of ``plugin`` holds a secret (as declared, nearest
    definition first, or as this extension's own setting)."""
    spec = context.model.setting(plugin, name)
    if spec is not None and (spec.get("kind") == "password" or spec.get("sensitive") is True):
        return True
    if context.is_own(plugin):
        from gruponos_ext.config import SETTING_SPECS

        return any(s.name == name and s.sensitive for s in SETTING_SPECS)
    return False


def check_config_keys(
    context: RuleContext, plugin: Plugin, config: Mapping[str, Any], where: Where
) -> None:
    """Undeclared settings and literal secrets in one ``config:`` mapping."""
    model = context.model
    # Only a plugin that declares settings can have an undeclared one: without any
    # declaration Meltano passes every key on as a custom setting, as intended.
    complete = model.is_defined_offline(plugin) and model.declares_settings(plugin)
    for key, value in config.items():
        name = str(key)
        if name.startswith("_"):
            continue  # Meltano's extras (_select, _metadata, ...)
        if (
            complete
            and model.setting(plugin, name) is None
            and not (
                isinstance(value, Mapping)
                and any(d.startswith(f"{name}.") for d in model.setting_names(plugin))
            )
        ):
            context.add(
                "SETTING_UNDECLARED",
                where.at(key),
                f"setting '{name}' is not declared by {plugin.label}: Meltano passes it "
                f"as custom, possibly unsupported{did_you_mean(name, model.setting_names(plugin))}",
            )
        if _is_literal(value) and is_secret(context, plugin, name):
            context.add(
                "SECRET_LITERAL",
                where.at(key),
                f"secret setting '{name}' has a literal value in {where.file}: use an "
                "$ENV_VAR reference (or `meltano config set`, which writes .env)",
            )


def _is_literal(value: Any) -> bool:
    if value is None or (isinstance(value, (str, list, Mapping)) and not value):
        return False
    if isinstance(value, str) and not value.strip():
        return False
    return not has_env_reference(value)

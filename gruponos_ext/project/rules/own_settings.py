"""This extension's own settings in meltano.yml, checked as its runtime will read them.

For every environment (or the project alone when it has none), the values
Meltano would export to this extension are gathered: setting defaults,
the plugin's ``config`` along its ``inherit_from`` chain, the environment's
entry for it, and ``GRUPONOS_INFRA_*`` entries of ``env:`` mappings. Each
literal value is turned into the text Meltano exports and parsed by the
runtime's own parser (:meth:`GruponosMeltanoSettings.from_mapping`), so
``oracle_port: abc`` or ``environment: prodd`` fails here, naming the
environment, the setting and the file, instead of at run time with exit 2.

A ``$VAR`` reference is "set, value unknown": it satisfies "X is required
when Y is set", but its value is never judged. To keep the runtime's rules
without guessing values, the references are given several valid stand-in
values in turn, and only an issue that every stand-in produces is reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from gruponos_ext.project.codes import RULES, close_codes
from gruponos_ext.project.findings import Where
from gruponos_ext.project.model import Environment, Plugin
from gruponos_ext.project.rules.context import RuleContext
from gruponos_ext.project.rules.plugins import has_env_reference

__all__ = ["check", "exported_text"]

_ORACLE_GROUP = frozenset({"oracle_user", "oracle_password", "oracle_service_name", "oracle_sid"})
_WMS_GROUP = frozenset({"wms_user", "wms_password"})


class _System(NamedTuple):
    """What enabling an outside system in this extension's settings requires."""

    code: str  # the rule a finding about it carries
    enabler: str  # the setting that enables it
    name: str
    required: tuple[str, ...]
    exactly_one_of: tuple[str, ...]  # empty: no such choice
    covers: frozenset[str]  # the settings its findings are about


_ENABLED_SYSTEMS = (
    _System(
        "OWN_ORACLE_INCOMPLETE",
        "oracle_host",
        "Oracle",
        ("oracle_user", "oracle_password"),
        ("oracle_service_name", "oracle_sid"),
        _ORACLE_GROUP,
    ),
    _System(
        "OWN_WMS_INCOMPLETE",
        "wms_base_url",
        "the WMS API",
        ("wms_user", "wms_password"),
        (),
        _WMS_GROUP,
    ),
)
_TRIALS = 6


@dataclass(frozen=True)
class _Value:
    """One setting's effective value in one environment, and where it was written."""

    raw: Any
    where: Where

    @property
    def is_set(self) -> bool:
        """Set unless null or empty; a ``$VAR`` reference counts as set."""
        if self.raw is None:
            return False
        if isinstance(self.raw, str):
            return bool(self.raw.strip())
        if isinstance(self.raw, (list, Mapping)):
            return bool(self.raw)
        return True

    @property
    def is_reference(self) -> bool:
        return has_env_reference(self.raw) or (
            isinstance(self.raw, list) and any(has_env_reference(v) for v in self.raw)
        )


def check(context: RuleContext) -> None:
    """Check every literal value of this extension's settings, per environment.

    An issue met in several environments at one place (a bad value in the
    plugin's own config) is one finding naming every environment.
    """
    model = context.model
    selected = context.environment
    for plugin in context.own_plugins():
        found: dict[tuple[str, str, str, str], tuple[Where, list[str]]] = {}
        environments: Iterable[Environment | None] = model.environments or (None,)
        for environment in environments:
            if selected is not None and (environment is None or environment.name != selected):
                continue
            for place, setting, reason in _check_one(context, plugin, environment):
                key = (place.file, place.key_path, setting, reason)
                _, names = found.setdefault(key, (place, []))
                if environment is not None:
                    names.append(environment.name)
        for (_, _, setting, reason), (place, names) in found.items():
            _report(context, plugin, place, setting, reason, names)


def _check_one(
    context: RuleContext, plugin: Plugin, environment: Environment | None
) -> list[tuple[Where, str, str]]:
    """(place, setting, reason) of each runtime issue in one environment."""
    values = _effective_values(context, plugin, environment)
    entry = environment.plugin(plugin.type, plugin.name) if environment is not None else None
    if environment is None:
        where, label = plugin.where.at("config"), "the project"
    else:
        where = entry.where.at("config") if entry is not None else environment.where
        label = f"environment '{environment.name}'"
    handled = _legacy_rules(context, plugin, values, where, label)
    found = []
    for setting, reason in _runtime_issues(context, values, environment):
        if setting in handled:
            continue
        value = values.get(setting)
        found.append(
            (value.where if value is not None and value.is_set else where, setting, reason)
        )
    return found


def _report(
    context: RuleContext, plugin: Plugin, place: Where, setting: str, reason: str, names: list[str]
) -> None:
    from gruponos_ext.config import env_var_for

    if not names:
        scope = "the project"
    elif len(names) == 1:
        scope = f"environment '{names[0]}'"
    else:
        scope = "environments " + ", ".join(f"'{n}'" for n in names)
    variable = (
        "MELTANO_ENVIRONMENT" if reason.startswith("Meltano environment") else env_var_for(setting)
    )
    context.add(
        "OWN_SETTING_INVALID",
        place,
        f"{scope}: setting {setting} of {plugin.label} ({variable}): {reason}",
    )


def _legacy_rules(
    context: RuleContext,
    plugin: Plugin,
    values: Mapping[str, _Value],
    where: Where,
    label: str,
) -> set[str]:
    """Oracle and WMS completeness, worded for meltano.yml; returns the settings covered."""

    def is_set(name: str) -> bool:
        value = values.get(name)
        return value is not None and value.is_set

    covered: set[str] = set()
    for system in _ENABLED_SYSTEMS:
        if not is_set(system.enabler):
            continue
        enabled = f"{label} enables {system.name} ({system.enabler} is set) for {plugin.label}"
        problems = [
            f"{enabled} but {name} is not set" for name in system.required if not is_set(name)
        ]
        if system.exactly_one_of:
            chosen = [name for name in system.exactly_one_of if is_set(name)]
            if len(chosen) > 1:
                problems.append(
                    f"{label} sets both {' and '.join(chosen)} for {plugin.label}: set exactly one"
                )
            elif not chosen:
                problems.append(
                    f"{enabled} but sets neither {' nor '.join(system.exactly_one_of)}: "
                    "set exactly one"
                )
        for problem in problems:
            context.add(system.code, where, problem)
        if problems:
            covered |= system.covers
    return covered


# -- gathering the values -----------------------------------------------------------------


def _effective_values(
    context: RuleContext, plugin: Plugin, environment: Environment | None
) -> dict[str, _Value]:
    """Defaults, then the plugin's config along its chain, then the environment's; then
    ``GRUPONOS_INFRA_*`` entries of ``env:`` mappings, which override config."""
    from gruponos_ext.config import SETTING_SPECS

    model = context.model
    known = {spec.name for spec in SETTING_SPECS}
    values: dict[str, _Value] = {}
    lineage = list(reversed(model.lineage(plugin)))  # the root definition first
    for member in lineage:
        for name, spec in member.settings.items():
            if name in known and "value" in spec:
                values[name] = _Value(spec["value"], member.where.at("settings"))
    env_blocks: list[tuple[Mapping[str, Any], Where]] = [(model.env, model.main.at("env"))]
    if environment is not None:
        env_blocks.append((environment.env, environment.where.at("env")))
    entries = []
    for member in lineage:
        config = member.definition.get("config")
        if isinstance(config, Mapping):
            values.update(_from_config(config, member.where.at("config"), known))
        env_blocks.append((member.env, member.where.at("env")))
        entry = environment.plugin(member.type, member.name) if environment else None
        if entry is not None:
            entries.append(entry)
    for entry in entries:
        config = entry.definition.get("config")
        if isinstance(config, Mapping):
            values.update(_from_config(config, entry.where.at("config"), known))
        env_blocks.append((entry.env, entry.where.at("env")))
    prefixes = _env_prefixes(context, plugin)
    for block, where in env_blocks:
        for name in known:
            for prefix in prefixes:
                variable = f"{prefix}_{_env_suffix(name)}"
                if variable in block:
                    found = _Value(block[variable], where.at(variable))
                    if found.is_set:
                        values[name] = found
    return values


def _from_config(config: Mapping[str, Any], where: Where, known: set[str]) -> dict[str, _Value]:
    return {str(k): _Value(v, where.at(k)) for k, v in config.items() if str(k) in known}


def _env_prefixes(context: RuleContext, plugin: Plugin) -> set[str]:
    prefixes = {_env_suffix(plugin.name)}
    namespace = context.model.inherited_value(plugin, "namespace")
    if isinstance(namespace, str):
        prefixes.add(_env_suffix(namespace))
    return prefixes


def _env_suffix(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def exported_text(value: Any, kind: str | None = "string") -> str:
    """A YAML value as Meltano exports it to the plugin's environment.

    Meltano's ``SettingDefinition.stringify_value``: text as is, dates in ISO
    form, ``str()`` for kind ``string`` (so a YAML list arrives as
    ``['a', 'b']``), JSON for other kinds.

    >>> exported_text(True), exported_text(True, "password"), exported_text(["a@b.c"])
    ('True', 'true', "['a@b.c']")
    """
    if isinstance(value, (date, datetime)):
        value = value.isoformat()
    if isinstance(value, str):
        return value
    if not kind or kind in ("string", "decimal"):
        return str(value)
    return json.dumps(value)


# -- the runtime's verdict ---------------------------------------------------------------


def _runtime_issues(
    context: RuleContext, values: Mapping[str, _Value], environment: Environment | None
) -> list[tuple[str, str]]:
    """(setting, reason) of every issue the runtime parser would raise for sure."""
    from gruponos_ext.config import SETTING_SPECS

    kinds = {spec.name: spec.kind for spec in SETTING_SPECS}
    literals: dict[str, str] = {}
    references: list[str] = []
    for name, value in values.items():
        if not value.is_set:
            continue
        if value.is_reference:
            references.append(name)
        else:
            literals[name] = exported_text(value.raw, kinds.get(name))
    env = {"MELTANO_PROJECT_ROOT": str(context.model.root.resolve())}
    if environment is not None:
        env["MELTANO_ENVIRONMENT"] = environment.name
    cache = context.memo.setdefault("stand-ins", {})
    stand_ins = {
        name: cache.get(name) or cache.setdefault(name, _stand_ins(name)) for name in references
    }
    trials = max([1, *(len(options) for options in stand_ins.values())])
    surviving: list[tuple[str, str]] | None = None
    for trial in range(min(trials, _TRIALS)):
        mapping = dict(literals)
        for name, options in stand_ins.items():
            mapping[name] = options[trial % len(options)]
        issues = _parse(mapping, env)
        surviving = issues if surviving is None else [i for i in surviving if i in issues]
        if not surviving:
            break
    result = [i for i in surviving or [] if i[0] not in references]
    ignore = literals.get("validate_ignore")
    if ignore is not None and not any(setting == "validate_ignore" for setting, _ in result):
        result += _unknown_rule_codes(ignore)
    return result


def _parse(mapping: Mapping[str, str], env: Mapping[str, str]) -> list[tuple[str, str]]:
    from gruponos_ext.config import GruponosMeltanoSettings, SettingsError

    try:
        GruponosMeltanoSettings.from_mapping(mapping, env=env)
    except SettingsError as exc:
        return [(issue.setting, issue.reason) for issue in exc.issues]
    return []


def _stand_ins(name: str) -> tuple[str, ...]:
    """Values the runtime accepts for ``name`` on its own: stand-ins for a ``$VAR``."""
    from gruponos_ext.config import SETTING_SPECS

    spec = next((s for s in SETTING_SPECS if s.name == name), None)
    pool: list[str] = []
    if spec is not None:
        pool += [spec.default] if spec.default is not None else []
        pool += list(spec.choices)
    pool += [
        "1",
        "65535",
        "0",
        "true",
        "false",
        "https://stand-in.invalid/",
        "/stand-in",
        "stand-in@example.invalid",
        "postgresql://stand-in.invalid/db",
        "stand_in",
    ]
    valid = tuple(
        v
        for v in dict.fromkeys(pool)
        if not any(
            setting == name for setting, _ in _parse({name: v}, {"MELTANO_PROJECT_ROOT": "/"})
        )
    )
    return valid or ("stand-in",)


def _unknown_rule_codes(text: str) -> list[tuple[str, str]]:
    """Codes in ``validate_ignore`` that name no rule (read by the runtime's own parser)."""
    from gruponos_ext.config import GruponosMeltanoSettings, SettingsError

    try:
        codes = GruponosMeltanoSettings.from_mapping({"validate_ignore": text}).validate_ignore
    except SettingsError:  # its own issue is reported already
        return []
    found = []
    for code in codes:
        if code not in RULES:
            close = close_codes(code)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            found.append(("validate_ignore", f"unknown rule code '{code}'{hint}"))
    return found

"""A read-only description of a Meltano project, as Meltano 4.4.1 reads it.

:func:`gruponos_ext.project.load_project` builds a
:class:`ProjectModel` from ``meltano.yml`` and its included files, without
Meltano: plugins by (type, name), their ``inherit_from`` parents, jobs with
their tasks split into blocks exactly as ``meltano run`` splits them,
schedules, and environments. Each part knows where it is defined
(:class:`~gruponos_ext.project.places.Where`: file, key path,
line).

The look-ups follow Meltano's own rules: :meth:`ProjectModel.resolve_block`
finds what a block name means the way Meltano's block parser does (plugin
types in Meltano's order, then mapping names), and inherited commands and
settings are found along the ``inherit_from`` chain. Every look-up is
memoised, so a project of thousands of plugins in one long chain is read in
linear time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gruponos_ext.project.places import Where
from gruponos_ext.project.schedule import Schedule

__all__ = [
    "PLUGIN_TYPES",
    "Block",
    "BlockTarget",
    "Command",
    "Environment",
    "EnvironmentPlugin",
    "Job",
    "Plugin",
    "ProjectModel",
    "Schedule",
    "Task",
    "plugin_label",
    "type_noun",
]

PLUGIN_TYPES: tuple[str, ...] = (
    "extractors",
    "loaders",
    "transforms",
    "orchestrators",
    "transformers",
    "files",
    "utilities",
    "mappers",
    "mappings",
)
"""Meltano's plugin types, in the order its block parser looks a name up."""

_SINGULAR = {
    "extractors": "extractor",
    "loaders": "loader",
    "transforms": "transform",
    "orchestrators": "orchestrator",
    "transformers": "transformer",
    "files": "file bundle",
    "utilities": "utility",
    "mappers": "mapper",
    "mappings": "mapping",
}

EMPTY: Mapping[str, Any] = MappingProxyType({})


def type_noun(plugin_type: str) -> str:
    """``extractors`` -> ``extractor``; ``files`` -> ``file bundle``."""
    return _SINGULAR.get(plugin_type, plugin_type)


def plugin_label(plugin_type: str, name: str) -> str:
    """``extractor 'tap-x'``: how a plugin is named in messages.

    >>> plugin_label("files", "dbt")
    "file bundle 'dbt'"
    """
    return f"{type_noun(plugin_type)} '{name}'"


def _nothing() -> Mapping[str, Any]:
    return EMPTY


def readonly(value: Any) -> Mapping[str, Any]:
    """A read-only view of a mapping (an empty one for anything else)."""
    return MappingProxyType(value) if isinstance(value, dict) else EMPTY


@dataclass(frozen=True)
class Command:
    """A plugin command: ``dbt:run`` runs the ``run`` command of ``dbt``."""

    name: str
    args: str | None
    executable: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Plugin:
    """One plugin entry of ``plugins:`` (its own keys; see :class:`ProjectModel`
    for what it inherits)."""

    type: str
    name: str
    where: Where
    definition: Mapping[str, Any]
    """The entry as written (read-only view)."""
    inherit_from: str | None
    """The parent's name, None when absent or equal to the plugin's own name
    (Meltano ignores a plugin inheriting from itself)."""
    commands: Mapping[str, Command] = field(default_factory=_nothing)
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=_nothing)
    """Its own setting definitions by name, in file order."""
    config: Mapping[str, Any] = field(default_factory=_nothing)
    env: Mapping[str, Any] = field(default_factory=_nothing)
    mappings: tuple[str, ...] = ()
    """For a mapper: the names of its mappings (unnamed ones left out)."""

    @property
    def key(self) -> tuple[str, str]:
        """Plugin identity in Meltano: (type, name)."""
        return (self.type, self.name)

    @property
    def label(self) -> str:
        """``extractor 'tap-x'``."""
        return plugin_label(self.type, self.name)

    @property
    def namespace(self) -> str | None:
        """The namespace written on this entry (None when not written)."""
        value = self.definition.get("namespace")
        return value if isinstance(value, str) and value else None

    @property
    def is_custom_definition(self) -> bool:
        """A complete inline definition (``namespace`` and no parent): nothing
        comes from MeltanoHub or a lock file."""
        return self.inherit_from is None and self.namespace is not None


@dataclass(frozen=True)
class Block:
    """One block of a job, as ``meltano run`` reads it: ``name[:command]``."""

    text: str
    name: str
    """The plugin or mapping name; the whole text when it holds two or more ':'
    (Meltano then looks the whole text up, and finds nothing)."""
    command: str | None
    """The command after ':'; None when there is none or it is empty."""
    where: Where
    """The task the block comes from."""


@dataclass(frozen=True)
class Task:
    """One task string of a job and the blocks ``meltano run`` splits it into."""

    text: str
    where: Where
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Job:
    """A job: a name and its tasks (nested task lists flattened, as Meltano does)."""

    name: str
    where: Where
    tasks: tuple[Task, ...]
    tasks_as_string: bool = False
    """``tasks:`` was one string instead of a list; ``meltano run`` then
    iterates it character by character. The model holds it as one task."""
    definition: Mapping[str, Any] = field(default_factory=_nothing)
    """The entry as written (read-only view): ``definition["tasks"]`` keeps the
    nesting of the task lists."""

    @property
    def blocks(self) -> tuple[Block, ...]:
        """Every block, in the order ``meltano run JOB`` runs them."""
        return tuple(block for task in self.tasks for block in task.blocks)


@dataclass(frozen=True)
class EnvironmentPlugin:
    """An environment's configuration of one plugin (``config.plugins.<type>[i]``)."""

    type: str
    name: str
    where: Where
    definition: Mapping[str, Any]
    config: Mapping[str, Any] = field(default_factory=_nothing)
    env: Mapping[str, Any] = field(default_factory=_nothing)

    @property
    def key(self) -> tuple[str, str]:
        """(type, name) of the plugin it configures."""
        return (self.type, self.name)


@dataclass(frozen=True)
class Environment:
    """A Meltano environment: its variables and per-plugin configuration."""

    name: str
    where: Where
    definition: Mapping[str, Any]
    env: Mapping[str, Any] = field(default_factory=_nothing)
    state_id_suffix: str | None = None
    plugins: tuple[EnvironmentPlugin, ...] = ()

    def plugin(self, plugin_type: str, name: str) -> EnvironmentPlugin | None:
        """This environment's entry for a plugin (the first, as Meltano reads it)."""
        for entry in self.plugins:
            if entry.type == plugin_type and entry.name == name:
                return entry
        return None


@dataclass(frozen=True)
class BlockTarget:
    """What a block name resolves to: a plugin, or a mapping of a mapper."""

    plugin: Plugin
    """The plugin that runs (for a mapping: its mapper)."""
    mapping: str | None = None
    """The mapping name when the block names a mapping."""
    also_defined_by: tuple[Plugin, ...] = ()
    """Other mappers defining the same mapping name: Meltano refuses the block."""


@dataclass(frozen=True)
class ProjectModel:
    """A Meltano project as Meltano reads it; read-only.

    ``plugins``, ``jobs``, ``schedules`` and ``environments`` hold every
    well-formed entry in Meltano's order (``meltano.yml`` first, then the
    included files), duplicates included; the look-up methods return the
    first match, as Meltano does.
    """

    root: Path
    files: tuple[str, ...]
    plugins: tuple[Plugin, ...]
    jobs: tuple[Job, ...]
    schedules: tuple[Schedule, ...]
    environments: tuple[Environment, ...]
    default_environment: str | None = None
    env: Mapping[str, Any] = field(default_factory=_nothing)
    """Top-level ``env:`` (variables for every plugin)."""
    settings: Mapping[str, Any] = field(default_factory=_nothing)
    """Every other top-level key (project settings such as ``state_backend``)."""
    active_environment: Environment | None = None
    """The environment asked for, else ``default_environment`` when defined."""
    main: Where = field(default_factory=lambda: Where("meltano.yml"), compare=False)
    """``meltano.yml``'s top level: ``main.at("default_environment")`` points at a key."""
    _memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    # -- look-ups by name ------------------------------------------------------------
    def plugin(self, plugin_type: str, name: str) -> Plugin | None:
        """The plugin of this type and name (the first one, as Meltano)."""
        index: dict[tuple[str, str], Plugin] = self._index(
            "plugins", lambda: _first_by(self.plugins, lambda p: p.key)
        )
        return index.get((plugin_type, name))

    def plugins_named(self, name: str) -> tuple[Plugin, ...]:
        """Every plugin of any type with this name, in Meltano's type order."""
        by_name: dict[str, tuple[Plugin, ...]] = self._index("by_name", self._plugins_by_name)
        return by_name.get(name, ())

    def plugins_of_type(self, plugin_type: str) -> tuple[Plugin, ...]:
        """The plugins of one type, in file order."""
        return self._plugins_in_order(plugin_type)

    def job(self, name: str) -> Job | None:
        """The job of this name (the first one)."""
        index: dict[str, Job] = self._index("jobs", lambda: _first_by(self.jobs, lambda j: j.name))
        return index.get(name)

    def schedule(self, name: str) -> Schedule | None:
        """The schedule of this name (the first one)."""
        index: dict[str, Schedule] = self._index(
            "schedules", lambda: _first_by(self.schedules, lambda s: s.name)
        )
        return index.get(name)

    def environment(self, name: str) -> Environment | None:
        """The environment of this name (the first one)."""
        index: dict[str, Environment] = self._index(
            "environments", lambda: _first_by(self.environments, lambda e: e.name)
        )
        return index.get(name)

    def mapping_owners(self, mapping: str) -> tuple[Plugin, ...]:
        """The mappers that define a mapping of this name."""
        owners: dict[str, tuple[Plugin, ...]] = self._index("mappings", self._mappings)
        return owners.get(mapping, ())

    # -- Meltano's block look-up -------------------------------------------------------
    def resolve_block(self, name: str) -> BlockTarget | None:
        """What ``name`` means in a job task, as Meltano's block parser decides.

        Meltano walks the plugin types in :data:`PLUGIN_TYPES` order and takes
        the first plugin of that name; among the mappers it also matches a
        mapping name. So with an orchestrator and a utility both named
        ``airflow``, a block ``airflow:x`` is the orchestrator's command.
        """
        memo: dict[str, BlockTarget | None] = self._index("resolve", dict)
        if name not in memo:
            memo[name] = self._resolve_block(name)
        return memo[name]

    def _resolve_block(self, name: str) -> BlockTarget | None:
        for plugin_type in PLUGIN_TYPES:
            for plugin in self._plugins_in_order(plugin_type):
                if plugin.name == name:
                    return BlockTarget(plugin)
                if plugin.type == "mappers" and name in plugin.mappings:
                    owners = self.mapping_owners(name)
                    others = tuple(o for o in owners if o is not plugin)
                    # Two mappings of one mapper with the same name count twice too.
                    if not others and plugin.mappings.count(name) > 1:
                        others = (plugin,)
                    return BlockTarget(plugin, mapping=name, also_defined_by=others)
        return None

    def _plugins_in_order(self, plugin_type: str) -> tuple[Plugin, ...]:
        by_type: dict[str, tuple[Plugin, ...]] = self._index("by_type", self._plugins_by_type)
        return by_type.get(plugin_type, ())

    # -- inheritance -----------------------------------------------------------------------
    def parent(self, plugin: Plugin) -> Plugin | None:
        """The in-project plugin ``plugin`` inherits from (same type), if any.

        As in Meltano, an entry that sets ``variant`` takes its parent from a
        lock file or MeltanoHub, never from the project.
        """
        if plugin.inherit_from is None or plugin.definition.get("variant") is not None:
            return None
        return self.plugin(plugin.type, plugin.inherit_from)

    def in_inheritance_cycle(self, plugin: Plugin) -> bool:
        """Whether following ``inherit_from`` from ``plugin`` leads back to it."""
        cycles: set[tuple[str, str]] = self._index("cycles", self._cycle_members)
        return plugin.key in cycles

    def lineage(self, plugin: Plugin) -> tuple[Plugin, ...]:
        """The plugin and its in-project ancestors, the plugin first (stops at a cycle)."""
        chain = [plugin]
        seen = {id(plugin)}
        parent = self.parent(plugin)
        while parent is not None and id(parent) not in seen:
            chain.append(parent)
            seen.add(id(parent))
            parent = self.parent(parent)
        return tuple(chain)

    def root_definition(self, plugin: Plugin) -> Plugin:
        """The last in-project ancestor: where the definition comes from (the plugin
        itself when it has no parent in the project, or sits on an inheritance cycle)."""
        root: Plugin | None = self._inherited(
            plugin, "root", lambda p: p if self.parent(p) is None else None
        )
        return plugin if root is None else root

    def is_defined_offline(self, plugin: Plugin) -> bool:
        """Whether the whole definition is in the project (no MeltanoHub, no lock file).

        True when the chain of in-project parents ends in a complete custom
        definition (an entry with ``namespace`` and no ``inherit_from``).
        """
        if self.in_inheritance_cycle(plugin):
            return False
        return self.root_definition(plugin).is_custom_definition

    def inherited_value(self, plugin: Plugin, key: str) -> Any:
        """``key`` of the nearest entry along the chain that sets it (None if none)."""
        found = self._inherited(
            plugin, f"value:{key}", lambda p: p if key in p.definition else None
        )
        return None if found is None else found.definition.get(key)

    def command(self, plugin: Plugin, name: str) -> Command | None:
        """The command ``name`` of ``plugin`` or of its nearest ancestor defining it."""
        owner = self._inherited(plugin, f"cmd:{name}", lambda p: p if name in p.commands else None)
        return None if owner is None else owner.commands[name]

    def command_names(self, plugin: Plugin) -> tuple[str, ...]:
        """Every command of the plugin and its ancestors (for "did you mean")."""
        names: dict[str, None] = {}
        for member in self.lineage(plugin):
            names.update(dict.fromkeys(member.commands))
        return tuple(names)

    def commands_of(self, plugin: Plugin) -> dict[str, Command]:
        """Every command of the plugin, own or inherited; the nearest definition wins."""
        found = {name: self.command(plugin, name) for name in self.command_names(plugin)}
        return {name: command for name, command in found.items() if command is not None}

    def setting(self, plugin: Plugin, name: str) -> Mapping[str, Any] | None:
        """The definition of setting ``name`` for ``plugin`` (own or inherited)."""
        owner = self._inherited(plugin, f"set:{name}", lambda p: p if name in p.settings else None)
        return None if owner is None else owner.settings[name]

    def declares_settings(self, plugin: Plugin) -> bool:
        """Whether the plugin or an ancestor declares any setting."""
        return (
            self._inherited(plugin, "has-settings", lambda p: p if p.settings else None) is not None
        )

    def setting_names(self, plugin: Plugin) -> tuple[str, ...]:
        """Every setting the plugin and its ancestors declare."""
        names: dict[str, None] = {}
        for member in self.lineage(plugin):
            names.update(dict.fromkeys(member.settings))
        return tuple(names)

    def _inherited(self, plugin: Plugin, what: str, own: Any) -> Any:
        """The first non-None ``own(p)`` walking up from ``plugin``, memoised per
        (plugin, what): every plugin on a walked path is answered at once, so
        answering every plugin of a chain costs one walk, not one per plugin."""
        memo: dict[tuple[int, str], Any] = self._index("inherited", dict)
        path: list[Plugin] = []
        current: Plugin | None = plugin
        result: Any = None
        seen: set[int] = set()
        while current is not None:
            key = (id(current), what)
            if key in memo:
                result = memo[key]
                break
            if id(current) in seen:  # a cycle: nothing further up
                break
            seen.add(id(current))
            path.append(current)
            result = own(current)
            if result is not None:
                break
            current = self.parent(current)
        for member in path:
            memo[(id(member), what)] = result
        return result

    # -- indexes, built on first use ------------------------------------------------------
    def _index(self, name: str, build: Any) -> Any:
        if name not in self._memo:
            self._memo[name] = build()
        return self._memo[name]

    def _plugins_by_name(self) -> dict[str, tuple[Plugin, ...]]:
        found: dict[str, list[Plugin]] = {}
        for plugin_type in PLUGIN_TYPES:
            for plugin in self._plugins_in_order(plugin_type):
                found.setdefault(plugin.name, []).append(plugin)
        return {name: tuple(plugins) for name, plugins in found.items()}

    def _plugins_by_type(self) -> dict[str, tuple[Plugin, ...]]:
        found: dict[str, list[Plugin]] = {}
        for plugin in self.plugins:
            found.setdefault(plugin.type, []).append(plugin)
        return {name: tuple(plugins) for name, plugins in found.items()}

    def _mappings(self) -> dict[str, tuple[Plugin, ...]]:
        found: dict[str, list[Plugin]] = {}
        for plugin in self._plugins_in_order("mappers"):
            for mapping in dict.fromkeys(plugin.mappings):
                found.setdefault(mapping, []).append(plugin)
        return {name: tuple(plugins) for name, plugins in found.items()}

    def _cycle_members(self) -> set[tuple[str, str]]:
        """Plugins on an inheritance cycle, found in one pass (each walked once)."""
        state: dict[tuple[str, str], int] = {}  # 1: on the current walk, 2: done
        cycles: set[tuple[str, str]] = set()
        for start in self.plugins:
            walk: list[Plugin] = []
            current: Plugin | None = start
            while current is not None and state.get(current.key) is None:
                state[current.key] = 1
                walk.append(current)
                current = self.parent(current)
            if current is not None and state.get(current.key) == 1:
                keys = [p.key for p in walk]
                cycles.update(keys[keys.index(current.key) :])
            for member in walk:
                state[member.key] = 2
        return cycles

    def iter_blocks(self) -> Iterator[tuple[Job, Block]]:
        """Every (job, block) pair, jobs in file order."""
        for job in self.jobs:
            for block in job.blocks:
                yield job, block


def _first_by(items: Any, key: Any) -> dict[Any, Any]:
    index: dict[Any, Any] = {}
    for item in items:
        index.setdefault(key(item), item)
    return index

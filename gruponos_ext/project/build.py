"""From parsed project files to a :class:`ProjectModel`, refusing what Meltano refuses.

Meltano 4.4.1 merges the included files into ``meltano.yml`` (lists
concatenated, mappings merged) and builds its project model
(``MeltanoFile``: plugins, schedules, environments, jobs). Its constructors
raise on shapes they do not accept, which makes every ``meltano`` command
fail: an environment key other than ``name``/``config``/``env``/
``state_id_suffix``, a plugin whose ``settings`` is a mapping, a job without
``tasks``, an unknown plugin type, a name containing ``:``... Each such case
is a finding here (stage ``load`` in :mod:`.codes`), naming file and key path;
the entry is left out of the model so the rules never trip over it.

What Meltano accepts but silently drops (an unknown key on a schedule, a key
under an environment's ``config`` other than ``plugins``) is left to the rules,
which warn about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from gruponos_ext.project.findings import Findings, Where
from gruponos_ext.project.loading import ProjectFile
from gruponos_ext.project.model import (
    PLUGIN_TYPES,
    Block,
    Command,
    Environment,
    EnvironmentPlugin,
    Job,
    Plugin,
    ProjectModel,
    Schedule,
    Task,
    readonly,
)

__all__ = [
    "COMMAND_KEYS",
    "ENVIRONMENT_KEYS",
    "JOB_KEYS",
    "SETTING_KINDS",
    "TOP_LEVEL_KEYS",
    "build_model",
    "did_you_mean",
]

TOP_LEVEL_KEYS = frozenset(
    {
        "version",
        "annotations",
        "default_environment",
        "send_anonymous_usage_stats",
        "project_id",
        "requires_meltano",
        "database_uri",
        "python",
        "state_backend",
        "venv",
        "environments",
        "include_paths",
        "plugins",
        "schedules",
        "env",
        "jobs",
        "database_max_retries",
        "database_retry_timeout",
        "project_readonly",
        "cli",
        "elt",
        "experimental",
        "ff",
        "hub_api_root",
        "hub_url",
        "hub_url_auth",
        "snowplow",
        "auto_install",
    }
)
"""Top-level keys Meltano reads (its meltano.schema.json and project settings)."""

SETTING_KINDS = frozenset(
    {
        "string",
        "integer",
        "boolean",
        "decimal",
        "date_iso8601",
        "email",
        "password",
        "oauth",
        "options",
        "file",
        "array",
        "object",
        "hidden",
    }
)
"""Meltano's setting kinds (``SettingKind``); another ``kind:`` fails the load."""

COMMAND_KEYS = frozenset({"args", "description", "executable", "container_spec", "annotations"})
"""Keys of a command mapping (Meltano's ``Command``); another one fails the load."""
JOB_KEYS = frozenset({"name", "tasks", "annotations"})
"""Keys of a job (Meltano's ``TaskSets``); another one fails the load."""
ENVIRONMENT_KEYS = frozenset({"name", "config", "env", "state_id_suffix", "annotations"})
"""Keys of an environment (Meltano's ``Environment``); another one fails the load."""
_REQUIREMENT_KEYS = frozenset({"name", "variant", "annotations"})
# Meltano iterates these when it builds the plugin: a number there fails the load.
_ITERATED_PLUGIN_KEYS = ("capabilities", "settings_group_validation")
_SECTIONS_LISTS = ("jobs", "schedules", "environments")
_MAX_BLOCKS_PER_JOB = 10_000  # nested YAML aliases can multiply a task list without bound
_INCLUDED = "included"


def did_you_mean(name: str, candidates: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ``''``."""
    matches = difflib.get_close_matches(name, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def build_model(
    root: Path,
    files: Sequence[ProjectFile],
    findings: Findings,
    *,
    environment: str | None = None,
) -> ProjectModel:
    """The project model of ``files`` (``meltano.yml`` first); problems go to ``findings``."""
    builder = _Builder(findings)
    for index, project_file in enumerate(files):
        builder.read_file(project_file, is_main=index == 0)
    builder.report_included_duplicates()
    environments = tuple(builder.environments)
    default = builder.top.get("default_environment")
    default_name = default if isinstance(default, str) and default else None
    active = None
    wanted = environment or default_name
    if wanted is not None:
        active = next((e for e in environments if e.name == wanted), None)
    if environment and active is None:
        names = [e.name for e in environments]
        findings.add(
            "ENVIRONMENT_NOT_FOUND",
            files[0].where.at("environments") if files else Where("meltano.yml", "environments"),
            f"unknown environment '{environment}'{did_you_mean(environment, names)}",
        )
    settings = {
        k: v for k, v in builder.top.items() if k not in ("plugins", "env", *_SECTIONS_LISTS)
    }
    return ProjectModel(
        root=root,
        files=tuple(f.rel for f in files),
        plugins=tuple(builder.plugins),
        jobs=tuple(builder.jobs),
        schedules=tuple(builder.schedules),
        environments=environments,
        default_environment=default_name,
        env=readonly(builder.env),
        settings=readonly(settings),
        active_environment=active,
        main=files[0].where if files else Where("meltano.yml"),
    )


class _Builder:
    def __init__(self, findings: Findings) -> None:
        self.findings = findings
        self.plugins: list[Plugin] = []
        self.jobs: list[Job] = []
        self.schedules: list[Schedule] = []
        self.environments: list[Environment] = []
        self.top: dict[str, Any] = {}
        self.env: dict[str, Any] = {}
        # (section key, file) of entries of included files: Meltano refuses duplicates there.
        self.included_keys: dict[tuple[str, ...], list[Where]] = {}

    def add(self, code: str, where: Where, message: str) -> None:
        self.findings.add(code, where, message)

    # -- one file ---------------------------------------------------------------------
    def read_file(self, project_file: ProjectFile, *, is_main: bool) -> None:
        doc, here = project_file.doc, project_file.where
        for key in doc:
            if not isinstance(key, str) or key in TOP_LEVEL_KEYS:
                continue
            self.add(
                "TOP_LEVEL_UNKNOWN_KEY",
                here.at(key),
                f"unknown top-level key '{key}'{did_you_mean(key, TOP_LEVEL_KEYS)}",
            )
        if "version" in doc:
            self.add(
                "VERSION_DEPRECATED",
                here.at("version"),
                "'version' is deprecated in Meltano 4: use 'requires_meltano' instead",
            )
        for key, value in doc.items():
            if key not in ("plugins", "env", *_SECTIONS_LISTS):
                self.top[key] = value  # later files override, as Meltano's merge does
        self.read_env(doc, here)
        self.read_plugins(doc.get("plugins"), here.at("plugins"), is_main)
        for section, read in (
            ("jobs", self.read_job),
            ("schedules", self.read_schedule),
            ("environments", self.read_environment),
        ):
            for where, entry in self.section_entries(doc.get(section), here.at(section)):
                read(where, entry, is_main)

    def read_env(self, doc: Mapping[str, Any], here: Where) -> None:
        env = doc.get("env")
        if not env:
            return
        if isinstance(env, Mapping):
            self.env.update(env)
        else:
            self.add(
                "SECTION_INVALID", here.at("env"), "must be a mapping of variable names to values"
            )

    def section_entries(self, entries: Any, where: Where) -> Iterator[tuple[Where, Any]]:
        """The entries of a list section (Meltano reads a false-ish value as empty)."""
        if not entries:
            return
        if not isinstance(entries, list):
            self.add(
                "SECTION_INVALID", where, "must be a list: Meltano refuses to load the project"
            )
            return
        for index, entry in enumerate(entries):
            yield where.at(index), entry

    def named(self, where: Where, entry: Any, what: str, *, hashed: bool = False) -> str | None:
        """The entry's name, or None after reporting why it has none that works.

        Meltano's models require a name and check it for ':' (``":" in name``):
        no name, or one that test fails on (a number, null), makes it refuse to
        load; a list or mapping passes that test yet names nothing (and fails the
        load where the name is ``hashed``, as a plugin's is).
        """
        if not isinstance(entry, Mapping):
            self.add("ENTRY_INVALID", where, f"{what} must be a mapping with a 'name'")
            return None
        if "name" not in entry:
            self.add("ENTRY_INVALID", where, f"{what} has no 'name': Meltano refuses to load")
            return None
        name = entry["name"]
        if isinstance(name, str):
            return name
        if isinstance(name, (list, dict)) and not hashed:
            self.add("NAME_NOT_TEXT", where.at("name"), f"{what} has a name that is not text")
        else:
            self.add(
                "ENTRY_INVALID",
                where.at("name"),
                f"{what} has the name {name!r}, which is not text: Meltano refuses to load",
            )
        return None

    def remember_included(self, key: tuple[str, ...], where: Where, is_main: bool) -> None:
        if not is_main:
            self.included_keys.setdefault(key, []).append(where)

    def report_included_duplicates(self) -> None:
        for key, places in self.included_keys.items():
            for place in places[1:]:
                first = places[0]
                self.add(
                    "INCLUDE_DUPLICATE",
                    place,
                    f"{key[0][:-1]} '{key[-1]}' is also defined in {first.file} "
                    f"({first.key_path}): "
                    "Meltano refuses to load a project whose included files define the same "
                    "entry twice",
                )

    # -- plugins ----------------------------------------------------------------------
    def read_plugins(self, plugins: Any, where: Where, is_main: bool) -> None:
        if not plugins:
            return
        if not isinstance(plugins, Mapping):
            self.add("SECTION_INVALID", where, "must be a mapping of plugin types to lists")
            return
        for plugin_type, entries in plugins.items():
            here = where.at(plugin_type)
            if plugin_type not in PLUGIN_TYPES:
                # Meltano checks the type of each entry it iterates: an empty list passes.
                if not _empty_iterable(entries):
                    self.add(
                        "PLUGIN_TYPE_UNKNOWN",
                        here,
                        f"unknown plugin type '{plugin_type}'"
                        f"{did_you_mean(str(plugin_type), PLUGIN_TYPES)}: Meltano refuses to load",
                    )
                continue
            if not isinstance(entries, list) and not _empty_iterable(entries):
                self.add("SECTION_INVALID", here, "must be a list of plugins")
                continue
            for index, entry in enumerate(entries if isinstance(entries, list) else ()):
                self.read_plugin(str(plugin_type), here.at(index), entry, is_main)

    def read_plugin(self, plugin_type: str, where: Where, entry: Any, is_main: bool) -> None:
        name = self.named(where, entry, "a plugin", hashed=True)
        if name is None:
            return
        if ":" in name:
            self.add(
                "NAME_INVALID",
                where.at("name"),
                f"plugin name '{name}' contains ':', which Meltano refuses (it separates a "
                "plugin from its command)",
            )
            return
        # A broken part is reported, and the plugin still enters the model with what
        # could be read, so blocks naming it are not reported a second time.
        self.check_settings(where, entry.get("settings"))
        self.check_requires(where, entry.get("requires"))
        for key in _ITERATED_PLUGIN_KEYS:
            value = entry.get(key)
            if value and not isinstance(value, (list, str, Mapping)):
                self.add(
                    "PLUGIN_KEY_INVALID",
                    where.at(key),
                    f"{key} must be a list, not {value!r}: Meltano refuses to load the project",
                )
        commands = self.read_commands(where, entry.get("commands"))
        mappings = self.read_mappings(where, entry) if plugin_type == "mappers" else ()
        self.remember_included(("plugins", plugin_type, name), where, is_main)
        parent = entry.get("inherit_from")
        settings_list = entry.get("settings")
        settings = {
            s["name"]: readonly(s)
            for s in (settings_list if isinstance(settings_list, list) else ())
            if isinstance(s, Mapping) and isinstance(s.get("name"), str)
        }
        config = entry.get("config")
        if config is not None and not isinstance(config, Mapping):
            self.add("PLUGIN_CONFIG_INVALID", where.at("config"), "must be a mapping of settings")
        self.plugins.append(
            Plugin(
                type=plugin_type,
                name=name,
                where=where,
                definition=readonly(entry),
                inherit_from=parent
                if isinstance(parent, str) and parent and parent != name
                else None,
                commands=readonly(commands),
                settings=readonly(settings),
                config=readonly(config),
                env=readonly(entry.get("env")),
                mappings=mappings,
            )
        )

    def check_settings(self, where: Where, settings: Any) -> bool:
        if not settings:
            return True
        here = where.at("settings")
        if not isinstance(settings, list):
            shape = "a mapping" if isinstance(settings, Mapping) else type(settings).__name__
            self.add(
                "PLUGIN_SETTINGS_INVALID",
                here,
                f"settings must be a list of '- name: ...' entries, not {shape}: Meltano "
                "refuses to load the project",
            )
            return False
        ok = True
        for index, setting in enumerate(settings):
            item = here.at(index)
            if not isinstance(setting, Mapping) or "name" not in setting:
                self.add(
                    "PLUGIN_SETTINGS_INVALID",
                    item,
                    "a setting must be a mapping with a 'name': Meltano refuses to load the "
                    "project",
                )
                ok = False
                continue
            kind = setting.get("kind")
            if kind and kind not in SETTING_KINDS:
                self.add(
                    "PLUGIN_SETTINGS_INVALID",
                    item.at("kind"),
                    f"unknown setting kind '{kind}'{did_you_mean(str(kind), SETTING_KINDS)}: "
                    "Meltano refuses to load the project",
                )
                ok = False
        return ok

    def read_commands(self, where: Where, commands: Any) -> dict[str, Command]:
        """The readable commands; a broken one is reported and left out."""
        if commands is None:
            return {}
        here = where.at("commands")
        if not isinstance(commands, Mapping):
            self.add(
                "PLUGIN_COMMANDS_INVALID",
                here,
                "commands must be a mapping of command names: Meltano refuses to load the project",
            )
            return {}
        found: dict[str, Command] = {}
        for name, spec in commands.items():
            if isinstance(spec, str) or spec is None:
                found[str(name)] = Command(str(name), spec)
                continue
            unknown = sorted(str(k) for k in spec) if isinstance(spec, Mapping) else []
            unknown = [k for k in unknown if k not in COMMAND_KEYS]
            if not isinstance(spec, Mapping) or unknown:
                what = (
                    f"has unknown key(s) {', '.join(unknown)} (a command takes args, "
                    "executable, description, container_spec)"
                    if unknown
                    else "must be a string of args or a mapping with 'args'"
                )
                self.add(
                    "PLUGIN_COMMANDS_INVALID",
                    here.at(name),
                    f"command '{name}' {what}: Meltano refuses to load the project",
                )
                continue
            args, executable = spec.get("args"), spec.get("executable")
            description = spec.get("description")
            found[str(name)] = Command(
                str(name),
                args if isinstance(args, str) else None,
                executable if isinstance(executable, str) else None,
                description if isinstance(description, str) else None,
            )
        return found

    def check_requires(self, where: Where, requires: Any) -> bool:
        if requires is None:
            return True
        here = where.at("requires")
        problem = None
        if not isinstance(requires, Mapping):
            problem = "requires must be a mapping of plugin types to lists of plugins"
        else:
            for plugin_type, needed in requires.items():
                entries = needed if isinstance(needed, list) else None
                if entries is None or not all(
                    isinstance(e, Mapping) and "name" in e and set(map(str, e)) <= _REQUIREMENT_KEYS
                    for e in entries
                ):
                    problem = f"requires.{plugin_type} must be a list of '- name: ...' entries"
                    break
        if problem is not None:
            self.add(
                "PLUGIN_REQUIRES_INVALID", here, f"{problem}: Meltano refuses to load the project"
            )
            return False
        return True

    def read_mappings(self, where: Where, entry: Mapping[str, Any]) -> tuple[str, ...]:
        mappings = entry.get("mappings", [])
        if not isinstance(mappings, list) or not all(isinstance(m, Mapping) for m in mappings):
            self.add(
                "PLUGIN_MAPPINGS_INVALID",
                where.at("mappings"),
                "mappings must be a list of '- name: ...' entries: Meltano refuses to load the "
                "project",
            )
        return tuple(
            m["name"]
            for m in (mappings if isinstance(mappings, list) else ())
            if isinstance(m, Mapping) and isinstance(m.get("name"), str)
        )

    # -- jobs -------------------------------------------------------------------------
    def read_job(self, where: Where, entry: Any, is_main: bool) -> None:
        if not isinstance(entry, Mapping) or "name" not in entry:
            self.named(where, entry, "a job")
            return
        unknown = [str(k) for k in entry if k not in JOB_KEYS]
        for key in unknown:
            self.add(
                "JOB_UNKNOWN_KEY",
                where.at(key),
                f"a job takes only 'name' and 'tasks', not '{key}': Meltano refuses to load "
                "the project"
                + (
                    " (a schedule is its own entry under 'schedules')"
                    if key in ("interval", "schedule")
                    else ""
                ),
            )
        name = entry["name"]
        if not isinstance(name, str):
            self.add(
                "NAME_NOT_TEXT",
                where.at("name"),
                f"job name {name!r} is not text: no `meltano run` can name it; quote it",
            )
            return
        self.remember_included(("jobs", name), where, is_main)
        if "tasks" not in entry:
            self.add(
                "JOB_TASKS_MISSING",
                where,
                f"job '{name}' has no 'tasks': Meltano refuses to load the project",
            )
            self.jobs.append(Job(name, where, (), definition=readonly(entry)))
            return
        tasks, as_string = self.read_tasks(name, where.at("tasks"), entry["tasks"])
        self.jobs.append(
            Job(name, where, tasks, tasks_as_string=as_string, definition=readonly(entry))
        )

    def read_tasks(self, job: str, where: Where, tasks: Any) -> tuple[tuple[Task, ...], bool]:
        """The job's task strings, flattened as ``meltano run`` flattens them."""
        if isinstance(tasks, str):
            self.add(
                "JOB_TASKS_STRING",
                where,
                f"tasks of job '{job}' is one string: meltano run reads it character by "
                f"character ('Block {tasks[:1]} not found'); write it as a list: tasks: ['...']",
            )
            return (_task(tasks, where),), True
        if not isinstance(tasks, list):
            shape = "empty (null)" if tasks is None else f"a {type(tasks).__name__}"
            self.add(
                "JOB_TASKS_INVALID",
                where,
                f"tasks of job '{job}' is {shape}: meltano run fails; give a list of strings "
                "(or of lists of strings)",
            )
            return (), False
        found: list[Task] = []
        pending: list[tuple[Where, Any]] = [(where.at(i), t) for i, t in enumerate(tasks)]
        pending.reverse()
        blocks = 0
        while pending:
            here, task = pending.pop()
            if isinstance(task, str):
                found.append(_task(task, here))
                blocks += len(found[-1].blocks)
                if blocks > _MAX_BLOCKS_PER_JOB:
                    self.add(
                        "JOB_TASKS_INVALID",
                        where,
                        f"job '{job}' has over {_MAX_BLOCKS_PER_JOB} blocks: not checked further",
                    )
                    return (), False
            elif isinstance(task, list):
                # Meltano flattens nested task lists to any depth.
                pending.extend(reversed([(here.at(i), t) for i, t in enumerate(task)]))
            else:
                self.add(
                    "JOB_TASKS_INVALID",
                    here,
                    "a task must be a string or a list of strings: meltano run fails on "
                    f"{'an empty entry' if task is None else 'a ' + type(task).__name__}",
                )
                return (), False
        if not found:
            self.add(
                "JOB_TASKS_EMPTY",
                where,
                f"job '{job}' has no tasks: meltano run does nothing (and when Meltano rewrites "
                "meltano.yml it drops the empty 'tasks', after which it refuses to load the "
                "project)",
            )
        return tuple(found), False

    # -- schedules --------------------------------------------------------------------
    def read_schedule(self, where: Where, entry: Any, is_main: bool) -> None:
        if not isinstance(entry, Mapping) or "name" not in entry:
            self.named(where, entry, "a schedule")
            return
        name = entry["name"]
        job = entry.get("job")
        # A missing interval or extractor/loader/transform is the schedule rules' to
        # report, in schedule order (it makes Meltano refuse to load the project).
        if not isinstance(name, str):
            self.add("NAME_NOT_TEXT", where.at("name"), f"schedule name {name!r} is not text")
            return
        self.remember_included(("schedules", name), where, is_main)
        interval = entry.get("interval")
        self.schedules.append(
            Schedule(
                name=name,
                where=where,
                definition=readonly(entry),
                interval=None if interval is None else str(interval),
                job=job if isinstance(job, str) and job else (str(job) if job else None),
                extractor=_text(entry.get("extractor")),
                loader=_text(entry.get("loader")),
                transform=_text(entry.get("transform")),
                env=readonly(entry.get("env")),
            )
        )

    # -- environments -----------------------------------------------------------------
    def read_environment(self, where: Where, entry: Any, is_main: bool) -> None:
        name = self.named(where, entry, "an environment")
        if name is None:
            return
        if ":" in name:
            self.add(
                "NAME_INVALID",
                where.at("name"),
                f"environment name '{name}' contains ':', which Meltano refuses (it separates "
                "the parts of a state ID)",
            )
            return
        for key in entry:
            if key in ENVIRONMENT_KEYS:
                continue
            self.add(
                "ENVIRONMENT_UNKNOWN_KEY",
                where.at(key),
                f"environment '{name}' has key '{key}', which Meltano's environment model "
                f"does not accept{_environment_key_hint(str(key))}: Meltano refuses to load "
                "the project",
            )
        plugins = self.read_environment_config(name, where, entry.get("config"))
        self.remember_included(("environments", name), where, is_main)
        suffix = entry.get("state_id_suffix")
        self.environments.append(
            Environment(
                name=name,
                where=where,
                definition=readonly(entry),
                env=readonly(entry.get("env")),
                state_id_suffix=suffix if isinstance(suffix, str) else None,
                plugins=tuple(plugins),
            )
        )

    def read_environment_config(
        self, name: str, where: Where, config: Any
    ) -> list[EnvironmentPlugin]:
        """The readable plugin entries; broken ones are reported and left out."""
        if not config:
            return []
        here = where.at("config")
        if not isinstance(config, Mapping):
            self.add(
                "ENVIRONMENT_CONFIG_INVALID",
                here,
                f"config of environment '{name}' must be a mapping: Meltano refuses to load",
            )
            return []
        plugins = config.get("plugins")
        if not plugins:
            return []
        here = here.at("plugins")
        if not isinstance(plugins, Mapping):
            self.add(
                "ENVIRONMENT_CONFIG_INVALID",
                here,
                "must be a mapping of plugin types to lists: Meltano refuses to load",
            )
            return []
        found: list[EnvironmentPlugin] = []
        for plugin_type, entries in plugins.items():
            type_where = here.at(plugin_type)
            if plugin_type not in PLUGIN_TYPES:
                self.add(
                    "PLUGIN_TYPE_UNKNOWN",
                    type_where,
                    f"unknown plugin type '{plugin_type}'"
                    f"{did_you_mean(str(plugin_type), PLUGIN_TYPES)}: Meltano refuses to load",
                )
                continue
            if entries is None or (entries and not isinstance(entries, list)):
                self.add(
                    "ENVIRONMENT_CONFIG_INVALID",
                    type_where,
                    "must be a list of plugins: Meltano refuses to load",
                )
                continue
            for index, entry in enumerate(entries or ()):
                item = type_where.at(index)
                plugin_name = self.named(item, entry, "a plugin entry")
                if plugin_name is None:
                    continue
                if ":" in plugin_name:
                    self.add(
                        "NAME_INVALID",
                        item.at("name"),
                        f"plugin name '{plugin_name}' contains ':', which Meltano refuses",
                    )
                    continue
                found.append(
                    EnvironmentPlugin(
                        type=str(plugin_type),
                        name=plugin_name,
                        where=item,
                        definition=readonly(entry),
                        config=readonly(entry.get("config")),
                        env=readonly(entry.get("env")),
                    )
                )
        return found


def _empty_iterable(value: Any) -> bool:
    """Meltano iterates the value: an empty list, mapping or string yields nothing."""
    return isinstance(value, (list, Mapping, str)) and not value


def _task(text: str, where: Where) -> Task:
    """A task string split into blocks exactly as ``meltano run`` splits it."""
    blocks = []
    for part in text.split(" "):  # single spaces only: "a  b" holds an empty block
        pieces = part.split(":")
        name, command = (pieces[0], pieces[1] or None) if len(pieces) == 2 else (part, None)
        blocks.append(Block(part, name, command, where))
    return Task(text, where, tuple(blocks))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _environment_key_hint(key: str) -> str:
    if key == "plugins" or key in PLUGIN_TYPES:
        return f" ('{key}' belongs under config:" + (" plugins:" if key != "plugins" else "") + ")"
    if key in ("variables", "vars", "environment"):
        return " (environment variables go under env:)"
    return f" (it takes {', '.join(sorted(ENVIRONMENT_KEYS - {'annotations'}))})"

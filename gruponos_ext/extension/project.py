"""Static checks of a Meltano project's ``meltano.yml``: the project part of ``validate``.

:func:`validate_project` reads ``meltano.yml`` (and its ``include_paths``
files), never opens a connection and never needs a secret, and reports what
would break a ``meltano run`` or a schedule before it happens: blocks naming
plugins or commands that do not exist, schedules naming missing jobs,
environments that enable Oracle or the WMS API without the settings they need,
and gruponos-infra preflight/dispose blocks in the wrong place. Each problem is
a :class:`ProjectFinding` naming the file and the key path::

    meltano.yml: jobs[2].tasks[0]: unknown plugin 'tap-oracle-wm' (did you mean 'tap-oracle-wms'?)

Messages name settings, plugins and environment variables, never a
configured value, so a report is safe to print in CI. The rules follow
meltano 4's own behaviour (its block parser splits a task on single spaces,
expands job names only on the command line, and refuses duplicate YAML keys).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEFAULT_UTILITY_NAME",
    "MELTANO_FILE",
    "ProjectFinding",
    "ProjectReport",
    "Severity",
    "validate_project",
]

Severity = Literal["error", "warning"]

MELTANO_FILE = "meltano.yml"
DEFAULT_UTILITY_NAME = "gruponos-infra"
UTILITY_NAMESPACE = "gruponos_infra"

PLUGIN_TYPES = (
    "extractors",
    "loaders",
    "mappers",
    "utilities",
    "orchestrators",
    "transformers",
    "transforms",
    "files",
)
_SINGULAR = {
    "extractors": "extractor",
    "loaders": "loader",
    "mappers": "mapper",
    "utilities": "utility",
    "orchestrators": "orchestrator",
    "transformers": "transformer",
    "transforms": "transform",
    "files": "file bundle",
}
# Top-level keys of meltano 4's meltano.schema.json.
_TOP_LEVEL_KEYS = frozenset(
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
# Used when a project's inline definition of the utility omits its settings.
_OWN_SECRET_SETTINGS = frozenset(
    {
        "oracle_password",
        "wms_password",
        "alert_webhook_url",
        "alert_slack_webhook_url",
        "alert_smtp_password",
    }
)
_CRON_ALIASES = frozenset(
    {
        "@once",
        "@manual",
        "@none",
        "@hourly",
        "@daily",
        "@weekly",
        "@monthly",
        "@yearly",
        "@annually",
        "@midnight",
    }
)
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_NAMES = (
    (),
    (),
    (),
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    ("sun", "mon", "tue", "wed", "thu", "fri", "sat"),
)
_ENV_REFERENCE = re.compile(r"\$(?:\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class ProjectFinding:
    """One problem in the project files: where it is and what is wrong.

    ``file`` is relative to the project root (``meltano.yml``); ``key_path``
    points into that file (``jobs[2].tasks[0]``), or gives the line of a YAML
    syntax error; it is empty for a finding about the file as a whole.
    """

    severity: Severity
    file: str
    key_path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key_path}" if self.key_path else self.file
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """The finding as a JSON-ready mapping."""
        return {
            "severity": self.severity,
            "file": self.file,
            "key_path": self.key_path,
            "message": self.message,
        }


@dataclass(frozen=True)
class ProjectReport:
    """Every finding of one :func:`validate_project` call, in file order."""

    project_root: Path
    findings: tuple[ProjectFinding, ...] = ()
    files: tuple[str, ...] = field(default=())
    """The project files that were read (relative to the root)."""

    @property
    def errors(self) -> tuple[ProjectFinding, ...]:
        """Findings that would break a run, a schedule or Meltano itself."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[ProjectFinding, ...]:
        """Findings that work today but are likely mistakes."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def lines(self) -> list[str]:
        """One ``error: meltano.yml: jobs[0]...`` line per finding."""
        return [f"{f.severity}: {f}" for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping."""
        return {
            "ok": self.ok,
            "files": list(self.files),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_dict() for f in self.findings],
        }


def validate_project(project_root: Path, *, environment: str | None = None) -> ProjectReport:
    """Check the Meltano project at ``project_root`` without running anything.

    ``environment`` limits the per-environment checks (Oracle/WMS settings) to
    that environment; by default every environment is checked. The name of
    this utility in the project comes from ``MELTANO_UTILITY_NAME`` (set by
    Meltano when it runs the plugin), else ``gruponos-infra``; a utility with
    namespace ``gruponos_infra`` counts too.
    """
    own_name = os.environ.get("MELTANO_UTILITY_NAME") or DEFAULT_UTILITY_NAME
    checker = _Checker(Path(project_root), own_name)
    checker.run(environment or None)
    return ProjectReport(
        project_root=Path(project_root),
        findings=tuple(checker.findings),
        files=tuple(checker.files),
    )


# --------------------------------------------------------------------------- model


@dataclass
class _Plugin:
    name: str
    type: str
    file: str
    path: str
    data: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{_SINGULAR.get(self.type, self.type)} '{self.name}'"


@dataclass
class _Job:
    name: str
    file: str
    path: str
    data: Mapping[str, Any]


@dataclass
class _Environment:
    name: str
    file: str
    path: str
    data: Mapping[str, Any]


@dataclass
class _Block:
    text: str
    file: str
    path: str
    plugin: _Plugin | None = None
    is_mapping: bool = False
    command: str | None = None
    role: str | None = None  # "preflight" | "dispose" | "guard" for this utility's blocks
    lock: str | None = None
    guard_job: str | None = None

    @property
    def kind(self) -> str | None:
        if self.is_mapping:
            return "mappers"
        return self.plugin.type if self.plugin else None


# --------------------------------------------------------------------------- checker


class _Checker:
    def __init__(self, root: Path, own_name: str) -> None:
        self.root = root
        self.own_name = own_name
        self.findings: list[ProjectFinding] = []
        self.files: list[str] = []
        self.plugins: list[_Plugin] = []
        self.jobs: list[_Job] = []
        self.schedules: list[tuple[str, str, Mapping[str, Any]]] = []
        self.environments: list[_Environment] = []
        self.mappings: dict[str, _Plugin] = {}
        self.top: Mapping[str, Any] = {}

    # -- reporting

    def error(self, file: str, key_path: str, message: str) -> None:
        self.findings.append(ProjectFinding("error", file, key_path, message))

    def warning(self, file: str, key_path: str, message: str) -> None:
        self.findings.append(ProjectFinding("warning", file, key_path, message))

    # -- driver

    def run(self, environment: str | None) -> None:
        meltano_path = self.root / MELTANO_FILE
        if not meltano_path.is_file():
            self.error(
                MELTANO_FILE,
                "",
                f"no {MELTANO_FILE} in {self.root}: not a Meltano project "
                "(MELTANO_PROJECT_ROOT points elsewhere?)",
            )
            return
        top = self.load(meltano_path, MELTANO_FILE)
        if top is _INVALID:
            return
        if top is None:
            top = {}
        if not isinstance(top, Mapping):
            self.error(MELTANO_FILE, "", "the file must hold a mapping of keys at its top level")
            return
        self.top = top
        self.check_top_level(top)
        self.collect(top, MELTANO_FILE, is_main=True)
        self.collect_includes(top)
        self.index_mappings()
        self.check_duplicates()
        self.check_plugins()
        self.check_environments(environment)
        blocks_by_job = self.check_jobs()
        self.check_guards(blocks_by_job)
        self.check_schedules()

    def load(self, path: Path, rel: str) -> Any:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            self.error(rel, "", f"cannot read the file: {reason}")
            return _INVALID
        self.files.append(rel)
        import yaml

        try:
            return yaml.load(text, Loader=_unique_key_loader())  # a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            what = exc.problem or exc.context or "invalid YAML"
            if exc.problem and exc.context:
                what = f"{exc.problem} ({exc.context})"
            self.error(rel, where, f"invalid YAML: {what}")
        except yaml.YAMLError as exc:
            # Reader errors (bad characters) carry a position but no mark.
            position = getattr(exc, "position", None)
            detail = f" at character {position}" if isinstance(position, int) else ""
            self.error(rel, "", f"invalid YAML: unreadable content{detail}")
        return _INVALID

    # -- collection

    def check_top_level(self, top: Mapping[str, Any]) -> None:
        for key in top:
            if not isinstance(key, str) or key in _TOP_LEVEL_KEYS:
                continue
            self.warning(
                MELTANO_FILE,
                key,
                f"unknown top-level key '{key}'{_did_you_mean(key, _TOP_LEVEL_KEYS)}",
            )
        if "version" in top:
            self.warning(
                MELTANO_FILE,
                "version",
                "'version' is deprecated in Meltano 4: use 'requires_meltano' instead",
            )

    def collect(self, doc: Mapping[str, Any], file: str, *, is_main: bool = False) -> None:
        plugins = doc.get("plugins")
        if plugins is not None and not isinstance(plugins, Mapping):
            self.error(file, "plugins", "must be a mapping of plugin types to lists")
        elif isinstance(plugins, Mapping):
            for ptype, entries in plugins.items():
                if ptype not in PLUGIN_TYPES:
                    self.error(
                        file,
                        f"plugins.{ptype}",
                        f"unknown plugin type '{ptype}'{_did_you_mean(str(ptype), PLUGIN_TYPES)}",
                    )
                    continue
                for _, path, entry in self.named_entries(file, f"plugins.{ptype}", entries):
                    self.plugins.append(_Plugin(entry["name"], ptype, file, path, entry))
        for _, path, entry in self.named_entries(file, "jobs", doc.get("jobs")):
            self.jobs.append(_Job(entry["name"], file, path, entry))
        for _, path, entry in self.named_entries(file, "schedules", doc.get("schedules")):
            self.schedules.append((file, path, entry))
        for _, path, entry in self.named_entries(file, "environments", doc.get("environments")):
            self.environments.append(_Environment(entry["name"], file, path, entry))
        if not is_main and "include_paths" in doc:
            self.warning(file, "include_paths", "ignored: only meltano.yml may include files")

    def named_entries(
        self, file: str, path: str, entries: Any
    ) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
        if entries is None:
            return
        if not isinstance(entries, list):
            self.error(file, path, "must be a list")
            return
        for index, entry in enumerate(entries):
            entry_path = f"{path}[{index}]"
            if not isinstance(entry, Mapping):
                self.error(file, entry_path, "must be a mapping with a 'name'")
            elif not isinstance(entry.get("name"), str) or not entry["name"]:
                self.error(file, entry_path, "has no 'name'")
            else:
                yield index, entry_path, entry

    def collect_includes(self, top: Mapping[str, Any]) -> None:
        patterns = top.get("include_paths")
        if patterns is None:
            return
        if not isinstance(patterns, list):
            self.error(MELTANO_FILE, "include_paths", "must be a list of paths or glob patterns")
            return
        root = self.root.resolve()
        seen: set[Path] = set()
        for index, pattern in enumerate(patterns):
            key = f"include_paths[{index}]"
            if not isinstance(pattern, str) or not pattern:
                self.error(MELTANO_FILE, key, "must be a path or glob pattern")
                continue
            try:
                matches = sorted(self.root.glob(pattern))
            except (ValueError, NotImplementedError):
                self.error(MELTANO_FILE, key, f"'{pattern}' is not a usable glob pattern")
                continue
            if not matches:
                if _GLOB_CHARS.isdisjoint(pattern):
                    self.error(MELTANO_FILE, key, f"included file '{pattern}' does not exist")
                else:
                    self.warning(MELTANO_FILE, key, f"pattern '{pattern}' matches no file")
                continue
            for match in matches:
                if match.name == MELTANO_FILE and match.parent.resolve() == root:
                    continue
                resolved = match.resolve()
                if not resolved.is_relative_to(root):
                    self.error(MELTANO_FILE, key, f"'{pattern}' reaches outside the project")
                    continue
                if not match.is_file():
                    self.error(
                        MELTANO_FILE,
                        key,
                        f"'{match.relative_to(self.root).as_posix()}' is not a file",
                    )
                    continue
                if resolved in seen:
                    continue
                seen.add(resolved)
                rel = match.relative_to(self.root).as_posix()
                doc = self.load(match, rel)
                if doc is _INVALID or doc is None:
                    continue
                if not isinstance(doc, Mapping):
                    self.error(rel, "", "an included file must hold a mapping at its top level")
                    continue
                self.collect(doc, rel)

    def index_mappings(self) -> None:
        for plugin in self.plugins:
            if plugin.type != "mappers":
                continue
            mappings = plugin.data.get("mappings")
            if not isinstance(mappings, list):
                continue
            for mapping in mappings:
                if isinstance(mapping, Mapping) and isinstance(mapping.get("name"), str):
                    self.mappings.setdefault(mapping["name"], plugin)

    # -- duplicates

    def check_duplicates(self) -> None:
        seen: dict[str, _Plugin] = {}
        for plugin in self.plugins:
            first = seen.get(plugin.name)
            if first is None:
                seen[plugin.name] = plugin
                continue
            self.error(
                plugin.file,
                plugin.path,
                f"plugin name '{plugin.name}' is already used by {first.label} "
                f"({first.file}: {first.path}); plugin names must be unique",
            )
        for kind, entries in (
            ("job", [(j.name, j.file, j.path) for j in self.jobs]),
            ("schedule", [(e["name"], f, p) for f, p, e in self.schedules]),
            ("environment", [(e.name, e.file, e.path) for e in self.environments]),
        ):
            names: dict[str, tuple[str, str]] = {}
            for name, file, path in entries:
                if name in names:
                    other_file, other_path = names[name]
                    self.error(
                        file,
                        path,
                        f"{kind} name '{name}' is already used ({other_file}: {other_path})",
                    )
                else:
                    names[name] = (file, path)
        plugin_names = {p.name for p in self.plugins} | set(self.mappings)
        for job in self.jobs:
            if job.name in plugin_names:
                self.error(
                    job.file,
                    f"{job.path}.name",
                    f"job '{job.name}' has the name of a plugin: meltano run refuses "
                    "the ambiguous reference",
                )

    # -- plugin definitions

    def find(self, name: str, ptype: str | None = None) -> _Plugin | None:
        for plugin in self.plugins:
            if plugin.name == name and (ptype is None or plugin.type == ptype):
                return plugin
        return None

    def lineage(self, plugin: _Plugin) -> list[_Plugin]:
        """The plugin and its in-project ancestors, root ancestor first."""
        chain = [plugin]
        current = plugin
        while True:
            parent_name = current.data.get("inherit_from")
            if not isinstance(parent_name, str):
                break
            parent = self.find(parent_name, current.type)
            if parent is None or parent in chain:
                break
            chain.append(parent)
            current = parent
        return list(reversed(chain))

    def attribute(self, plugin: _Plugin, key: str) -> Any:
        value = None
        for member in self.lineage(plugin):
            if member.data.get(key) is not None:
                value = member.data[key]
        return value

    def is_custom(self, plugin: _Plugin) -> bool:
        """A complete inline definition (``namespace``): nothing comes from MeltanoHub."""
        return isinstance(self.attribute(plugin, "namespace"), str)

    def commands(self, plugin: _Plugin) -> dict[str, str | None]:
        """Command name -> its args string (None when not a string)."""
        result: dict[str, str | None] = {}
        for member in self.lineage(plugin):
            commands = member.data.get("commands")
            if not isinstance(commands, Mapping):
                continue
            for name, spec in commands.items():
                if isinstance(spec, str):
                    result[str(name)] = spec
                elif isinstance(spec, Mapping) and isinstance(spec.get("args"), str):
                    result[str(name)] = spec["args"]
                else:
                    result[str(name)] = None
        return result

    def settings(self, plugin: _Plugin) -> dict[str, Mapping[str, Any]]:
        result: dict[str, Mapping[str, Any]] = {}
        for member in self.lineage(plugin):
            settings = member.data.get("settings")
            if not isinstance(settings, list):
                continue
            for setting in settings:
                if isinstance(setting, Mapping) and isinstance(setting.get("name"), str):
                    result[setting["name"]] = setting
        return result

    def is_own(self, plugin: _Plugin) -> bool:
        if plugin.type != "utilities":
            return False
        return plugin.name == self.own_name or self.attribute(plugin, "namespace") == (
            UTILITY_NAMESPACE
        )

    def secret_settings(self, plugin: _Plugin) -> set[str]:
        secrets = {
            name
            for name, spec in self.settings(plugin).items()
            if spec.get("kind") == "password" or spec.get("sensitive") is True
        }
        if self.is_own(plugin):
            secrets |= _OWN_SECRET_SETTINGS
        return secrets

    def check_plugins(self) -> None:
        for plugin in self.plugins:
            parent_name = plugin.data.get("inherit_from")
            if parent_name is not None:
                if not isinstance(parent_name, str) or not parent_name:
                    self.error(plugin.file, f"{plugin.path}.inherit_from", "must be a plugin name")
                elif parent_name == plugin.name:
                    self.error(plugin.file, f"{plugin.path}.inherit_from", "inherits from itself")
                elif self.find(parent_name, plugin.type) is None:
                    other = self.find(parent_name)
                    if other is not None:
                        self.error(
                            plugin.file,
                            f"{plugin.path}.inherit_from",
                            f"inherits from {other.label}, which is not a "
                            f"{_SINGULAR.get(plugin.type, plugin.type)}",
                        )
                    else:
                        self.warning(
                            plugin.file,
                            f"{plugin.path}.inherit_from",
                            f"inherits from '{parent_name}', which is not in the project: "
                            "Meltano will look it up on MeltanoHub",
                        )
            commands = plugin.data.get("commands")
            if commands is not None and not isinstance(commands, Mapping):
                self.error(plugin.file, f"{plugin.path}.commands", "must be a mapping")
            config = plugin.data.get("config")
            if config is not None and not isinstance(config, Mapping):
                self.error(plugin.file, f"{plugin.path}.config", "must be a mapping")
            elif isinstance(config, Mapping):
                self.check_config_keys(plugin, config, plugin.file, f"{plugin.path}.config")

    def check_config_keys(
        self, plugin: _Plugin, config: Mapping[str, Any], file: str, path: str
    ) -> None:
        """Undeclared settings and literal secrets in one ``config:`` mapping."""
        declared = self.settings(plugin)
        secrets = self.secret_settings(plugin)
        custom = self.is_custom(plugin)
        for key, value in config.items():
            name = str(key)
            if name.startswith("_"):
                continue  # Meltano's extras (_select, _metadata, ...)
            if (
                custom
                and name not in declared
                and not (
                    isinstance(value, Mapping) and any(d.startswith(f"{name}.") for d in declared)
                )
            ):
                self.warning(
                    file,
                    f"{path}.{name}",
                    f"setting '{name}' is not declared by {plugin.label}: Meltano passes it "
                    f"as custom, possibly unsupported{_did_you_mean(name, declared)}",
                )
            if name in secrets and _is_literal(value):
                self.warning(
                    file,
                    f"{path}.{name}",
                    f"secret setting '{name}' has a literal value in {file}: use an "
                    "$ENV_VAR reference (or `meltano config set`, which writes .env)",
                )

    # -- environments

    def env_plugin_entries(self, env: _Environment) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
        """(plugin type, key path, entry) of an environment's plugin overrides."""
        config = env.data.get("config")
        if config is None:
            return
        if not isinstance(config, Mapping):
            self.error(env.file, f"{env.path}.config", "must be a mapping")
            return
        plugins = config.get("plugins")
        if plugins is None:
            return
        if not isinstance(plugins, Mapping):
            self.error(env.file, f"{env.path}.config.plugins", "must be a mapping")
            return
        for ptype, entries in plugins.items():
            base = f"{env.path}.config.plugins.{ptype}"
            if ptype not in PLUGIN_TYPES:
                self.error(
                    env.file,
                    base,
                    f"unknown plugin type '{ptype}'{_did_you_mean(str(ptype), PLUGIN_TYPES)}",
                )
                continue
            for _, path, entry in self.named_entries(env.file, base, entries):
                yield str(ptype), path, entry

    def check_environments(self, selected: str | None) -> None:
        names = [env.name for env in self.environments]
        default = self.top.get("default_environment")
        if default is not None and default not in names:
            self.error(
                MELTANO_FILE,
                "default_environment",
                f"names environment '{default}', which is not defined"
                f"{_did_you_mean(str(default), names)}",
            )
        if selected is not None and selected not in names:
            self.error(
                MELTANO_FILE,
                "environments",
                f"unknown environment '{selected}'{_did_you_mean(selected, names)}",
            )
        own_plugins = [p for p in self.plugins if self.is_own(p)]
        for env in self.environments:
            overrides: dict[str, tuple[str, Mapping[str, Any]]] = {}
            for ptype, path, entry in self.env_plugin_entries(env):
                plugin = self.find(entry["name"], ptype)
                if plugin is None:
                    other = self.find(entry["name"])
                    if other is not None:
                        problem = f"configures {other.label} under {ptype}"
                    else:
                        candidates = [p.name for p in self.plugins if p.type == ptype]
                        problem = (
                            f"configures unknown {_SINGULAR[ptype]} '{entry['name']}'"
                            f"{_did_you_mean(entry['name'], candidates)}"
                        )
                    self.error(
                        env.file,
                        path,
                        f"environment '{env.name}' {problem}: Meltano ignores this entry",
                    )
                    continue
                overrides[plugin.name] = (path, entry)
                config = entry.get("config")
                if config is not None and not isinstance(config, Mapping):
                    self.error(env.file, f"{path}.config", "must be a mapping")
                elif isinstance(config, Mapping):
                    self.check_config_keys(plugin, config, env.file, f"{path}.config")
            if selected is not None and env.name != selected:
                continue
            for plugin in own_plugins:
                self.check_own_settings(plugin, env, overrides)
        if not self.environments:
            for plugin in own_plugins:
                self.check_own_settings(plugin, None, {})

    def effective_config(
        self,
        plugin: _Plugin,
        overrides: Mapping[str, tuple[str, Mapping[str, Any]]],
        env: _Environment | None,
    ) -> dict[str, Any]:
        """Defaults, then plugin config, then the environment's, along the lineage."""
        values: dict[str, Any] = {
            name: spec["value"] for name, spec in self.settings(plugin).items() if "value" in spec
        }
        env_blocks: list[Any] = [self.top.get("env"), env.data.get("env") if env else None]
        for member in self.lineage(plugin):
            env_blocks.append(member.data.get("env"))
            config = member.data.get("config")
            if isinstance(config, Mapping):
                values.update({str(k): v for k, v in config.items()})
            override = overrides.get(member.name)
            if override is not None:
                env_blocks.append(override[1].get("env"))
                env_config = override[1].get("config")
                if isinstance(env_config, Mapping):
                    values.update({str(k): v for k, v in env_config.items()})
        # A GRUPONOS_INFRA_<SETTING> entry of an `env:` mapping also sets the setting.
        for block in env_blocks:
            found = self.settings_from_env_block(plugin, block)
            values.update({k: v for k, v in found.items() if _is_set(v)})
        return values

    def settings_from_env_block(self, plugin: _Plugin, block: Any) -> dict[str, Any]:
        """Settings given as ``GRUPONOS_INFRA_<SETTING>`` entries of an ``env:`` mapping."""
        if not isinstance(block, Mapping):
            return {}
        prefixes = {_env_prefix(plugin.name)}
        namespace = self.attribute(plugin, "namespace")
        if isinstance(namespace, str):
            prefixes.add(_env_prefix(namespace))
        found: dict[str, Any] = {}
        for name in self.settings(plugin).keys() | _OWN_SECRET_SETTINGS | _ORACLE_WMS_SETTINGS:
            suffix = _env_prefix(name)
            for prefix in prefixes:
                if f"{prefix}_{suffix}" in block:
                    found[name] = block[f"{prefix}_{suffix}"]
        return found

    def check_own_settings(
        self,
        plugin: _Plugin,
        env: _Environment | None,
        overrides: Mapping[str, tuple[str, Mapping[str, Any]]],
    ) -> None:
        values = self.effective_config(plugin, overrides, env)
        if env is None:
            file, path, where = plugin.file, f"{plugin.path}.config", "the project"
        else:
            override = overrides.get(plugin.name)
            file = env.file
            path = f"{override[0]}.config" if override else env.path
            where = f"environment '{env.name}'"

        def is_set(name: str) -> bool:
            return _is_set(values.get(name))

        if is_set("oracle_host"):
            for name in ("oracle_user", "oracle_password"):
                if not is_set(name):
                    self.error(
                        file,
                        path,
                        f"{where} enables Oracle (oracle_host is set) for {plugin.label} "
                        f"but {name} is not set",
                    )
            service, sid = is_set("oracle_service_name"), is_set("oracle_sid")
            if service and sid:
                self.error(
                    file,
                    path,
                    f"{where} sets both oracle_service_name and oracle_sid for {plugin.label}: "
                    "set exactly one",
                )
            elif not service and not sid:
                self.error(
                    file,
                    path,
                    f"{where} enables Oracle (oracle_host is set) for {plugin.label} "
                    "but sets neither oracle_service_name nor oracle_sid: set exactly one",
                )
        if is_set("wms_base_url"):
            for name in ("wms_user", "wms_password"):
                if not is_set(name):
                    self.error(
                        file,
                        path,
                        f"{where} enables the WMS API (wms_base_url is set) for {plugin.label} "
                        f"but {name} is not set",
                    )

    # -- jobs and blocks

    def check_jobs(self) -> dict[str, list[_Block]]:
        job_names = {job.name for job in self.jobs}
        result: dict[str, list[_Block]] = {}
        for job in self.jobs:
            blocks = self.job_blocks(job)
            if blocks is None:
                continue
            resolved = [self.resolve(block, job_names) for block in blocks]
            result.setdefault(job.name, blocks)
            if not all(resolved):
                continue
            if self.check_sequence(job, blocks):
                self.check_brackets(job, blocks)
        return result

    def job_blocks(self, job: _Job) -> list[_Block] | None:
        tasks = job.data.get("tasks")
        path = f"{job.path}.tasks"
        pieces: list[tuple[str, str]] = []  # (task string, key path)
        if isinstance(tasks, str):
            pieces.append((tasks, path))
        elif isinstance(tasks, list):
            for index, task in enumerate(tasks):
                if isinstance(task, str):
                    pieces.append((task, f"{path}[{index}]"))
                elif isinstance(task, list) and all(isinstance(t, str) for t in task):
                    pieces.extend((t, f"{path}[{index}][{i}]") for i, t in enumerate(task))
                else:
                    self.error(
                        job.file,
                        f"{path}[{index}]",
                        "a task must be a string or a list of strings",
                    )
                    return None
        else:
            self.error(
                job.file,
                path,
                f"job '{job.name}' needs 'tasks': a string or a list of strings",
            )
            return None
        if not pieces or all(not text.strip() for text, _ in pieces):
            self.error(job.file, path, f"job '{job.name}' has no tasks")
            return None
        # meltano splits each task on single spaces, so "a  b" holds an empty block.
        return [
            _Block(text=part, file=job.file, path=key)
            for text, key in pieces
            for part in text.split(" ")
        ]

    def resolve(self, block: _Block, job_names: set[str]) -> bool:
        text = block.text
        if not text:
            self.error(
                block.file,
                block.path,
                "empty block: a double, leading or trailing space (meltano splits tasks on "
                "single spaces)",
            )
            return False
        if text.count(":") > 1:
            self.error(block.file, block.path, f"block '{text}' has more than one ':'")
            return False
        name, _, command = text.partition(":")
        plugin = self.find(name)
        if plugin is None and name in self.mappings:
            block.plugin = self.mappings[name]
            block.is_mapping = True
        elif plugin is None:
            if name in job_names:
                self.error(
                    block.file,
                    block.path,
                    f"'{name}' is a job: a job cannot be a block of another job "
                    "(meltano run expands job names only on its command line)",
                )
            else:
                candidates = [p.name for p in self.plugins] + list(self.mappings)
                self.error(
                    block.file,
                    block.path,
                    f"unknown plugin '{name}'{_did_you_mean(name, candidates)}",
                )
            return False
        else:
            block.plugin = plugin
        if plugin is not None and plugin.type == "mappers":
            names = sorted(n for n, p in self.mappings.items() if p is plugin)
            hint = f" such as '{names[0]}'" if names else ""
            self.error(
                block.file,
                block.path,
                f"'{name}' is a mapper plugin: a block names one of its mappings{hint}",
            )
            return False
        if not command and ":" in text:
            self.error(block.file, block.path, f"block '{text}' has an empty command")
            return False
        if not command:
            assert block.plugin is not None
            if self.is_own(block.plugin):
                self.warning(
                    block.file,
                    block.path,
                    f"block '{text}' runs the extension without a command",
                )
            return True
        block.command = command
        target = block.plugin
        assert target is not None
        if block.kind in ("extractors", "loaders", "mappers"):
            self.warning(
                block.file,
                block.path,
                f"'{text}': meltano run ignores the command of {target.label} "
                "(it runs as part of an extract-load set)",
            )
            return True
        commands = self.commands(target)
        if command not in commands:
            if self.is_custom(target):
                self.error(
                    block.file,
                    block.path,
                    f"unknown command '{command}' of {target.label}"
                    f"{_did_you_mean(command, commands)}",
                )
                return False
            return True  # defined on MeltanoHub, not knowable offline
        if self.is_own(target):
            self.classify(block, commands[command])
        return True

    def classify(self, block: _Block, args: str | None) -> None:
        """Mark this utility's preflight/dispose/guard blocks and the job they name."""
        import shlex

        if args is None:
            return
        try:
            tokens = shlex.split(args)
        except ValueError:
            self.error(
                block.file, block.path, f"the args of command '{block.command}' do not parse"
            )
            return
        if not tokens or tokens[0] not in ("preflight", "dispose", "guard"):
            return
        block.role = tokens[0]
        rest = tokens[1:]
        if block.role == "guard":
            positional = [t for t in rest if not t.startswith("-")]
            block.guard_job = positional[0] if positional else None
            if block.guard_job is None:
                self.error(
                    block.file,
                    block.path,
                    f"command '{block.command}' runs guard without a job name: a block cannot "
                    "pass one, so define e.g. 'guard-<job>: guard <job>'",
                )
            return
        for index, token in enumerate(rest):
            if token == "--job" and index + 1 < len(rest):
                block.lock = rest[index + 1]
            elif token.startswith("--job="):
                block.lock = token.partition("=")[2]
        # A bare preflight (no --job) takes the lock of the job it runs in.

    def check_sequence(self, job: _Job, blocks: Sequence[_Block]) -> bool:
        """Extractor, mappings, loader adjacent, as meltano's block parser requires."""
        ok = True
        index = 0
        while index < len(blocks):
            block = blocks[index]
            if block.kind == "extractors":
                nxt = index + 1
                while nxt < len(blocks) and blocks[nxt].is_mapping:
                    nxt += 1
                if nxt < len(blocks) and blocks[nxt].kind == "loaders":
                    index = nxt + 1
                    continue
                ok = False
                if nxt < len(blocks):
                    self.error(
                        blocks[nxt].file,
                        blocks[nxt].path,
                        f"'{blocks[nxt].text}' comes between extractor '{block.text}' and a "
                        "loader: meltano run needs the extractor, its mappings and the "
                        "loader next to each other",
                    )
                else:
                    self.error(
                        block.file,
                        block.path,
                        f"extractor '{block.text}' has no loader after it",
                    )
                # Meltano stops at the first broken set: skip to after this set's loader.
                loaders = [i for i in range(nxt, len(blocks)) if blocks[i].kind == "loaders"]
                index = loaders[0] + 1 if loaders else max(nxt, index + 1)
                continue
            if block.kind == "loaders":
                ok = False
                self.error(
                    block.file,
                    block.path,
                    f"loader '{block.text}' has no extractor before it",
                )
            elif block.is_mapping:
                ok = False
                self.error(
                    block.file,
                    block.path,
                    f"mapping '{block.text}' is not between an extractor and a loader",
                )
            index += 1
        return ok

    def check_brackets(self, job: _Job, blocks: Sequence[_Block]) -> None:
        """Preflight before the first tap, dispose after the last target, as a pair."""
        preflights = [(i, b) for i, b in enumerate(blocks) if b.role == "preflight"]
        disposes = [(i, b) for i, b in enumerate(blocks) if b.role == "dispose"]
        taps = [i for i, b in enumerate(blocks) if b.kind == "extractors"]
        targets = [i for i, b in enumerate(blocks) if b.kind == "loaders"]
        if preflights and not disposes:
            block = preflights[0][1]
            self.error(
                block.file,
                block.path,
                f"job '{job.name}' has a preflight block but no dispose block: add one after "
                "the target, or the run lock is held until it goes stale",
            )
        if disposes and not preflights:
            block = disposes[0][1]
            self.warning(
                block.file,
                block.path,
                f"job '{job.name}' has a dispose block but no preflight block before the tap",
            )
        if taps:
            first_tap, last_target = blocks[taps[0]], blocks[targets[-1]]
            for index, block in preflights:
                if index > taps[0]:
                    self.error(
                        block.file,
                        block.path,
                        f"preflight block '{block.text}' runs after the tap '{first_tap.text}': "
                        "put it before the tap, so a failed preflight stops the run first",
                    )
            for index, block in disposes:
                if index < targets[-1]:
                    self.error(
                        block.file,
                        block.path,
                        f"dispose block '{block.text}' runs before the target "
                        f"'{last_target.text}': put it after the target",
                    )
        locks = {b.lock for _, b in preflights if b.lock}
        for _, block in disposes:
            if block.lock and locks and block.lock not in locks:
                taken = ", ".join(sorted(locks))
                self.error(
                    block.file,
                    block.path,
                    f"dispose block '{block.text}' releases the run lock of '{block.lock}' "
                    f"but the preflight took the lock of '{taken}'",
                )

    def check_guards(self, blocks_by_job: Mapping[str, Sequence[_Block]]) -> None:
        targets: dict[str, list[_Block]] = {
            job: [b for b in blocks if b.role == "guard" and b.guard_job]
            for job, blocks in blocks_by_job.items()
        }
        for job, guards in targets.items():
            for block in guards:
                assert block.guard_job is not None
                if block.guard_job not in blocks_by_job:
                    self.error(
                        block.file,
                        block.path,
                        f"'{block.text}' guards job '{block.guard_job}', which does not exist"
                        f"{_did_you_mean(block.guard_job, blocks_by_job)}",
                    )
                elif self.reaches(block.guard_job, job, targets):
                    self.error(
                        block.file,
                        block.path,
                        f"'{block.text}' in job '{job}' runs job '{block.guard_job}', which "
                        f"runs job '{job}' again: endless recursion",
                    )

    @staticmethod
    def reaches(start: str, goal: str, targets: Mapping[str, Sequence[_Block]]) -> bool:
        stack, seen = [start], set()
        while stack:
            job = stack.pop()
            if job == goal:
                return True
            if job in seen:
                continue
            seen.add(job)
            stack.extend(b.guard_job for b in targets.get(job, ()) if b.guard_job)
        return False

    # -- schedules

    def check_schedules(self) -> None:
        jobs = [job.name for job in self.jobs]
        for file, path, schedule in self.schedules:
            name = schedule["name"]
            job = schedule.get("job")
            extractor, loader = schedule.get("extractor"), schedule.get("loader")
            if job is not None and (extractor is not None or loader is not None):
                self.error(
                    file,
                    path,
                    f"schedule '{name}' names both a job and an extractor/loader: choose one",
                )
            elif job is not None:
                if not isinstance(job, str) or job not in jobs:
                    self.error(
                        file,
                        f"{path}.job",
                        f"schedule '{name}' runs job '{job}', which does not exist"
                        f"{_did_you_mean(str(job), jobs)}",
                    )
            elif extractor is not None or loader is not None:
                self.check_legacy_schedule(file, path, schedule)
            else:
                self.error(
                    file,
                    path,
                    f"schedule '{name}' names no job (nor an extractor and a loader)",
                )
            interval = schedule.get("interval")
            if interval is None:
                self.error(file, path, f"schedule '{name}' has no interval")
            elif not isinstance(interval, str) or not _valid_interval(interval):
                self.error(
                    file,
                    f"{path}.interval",
                    f"schedule '{name}': '{interval}' is neither a cron expression of five "
                    "fields nor one of @hourly, @daily, @weekly, @monthly, @yearly, @once",
                )

    def check_legacy_schedule(self, file: str, path: str, schedule: Mapping[str, Any]) -> None:
        """The ``meltano elt`` form: ``extractor``, ``loader`` and ``transform``."""
        name = schedule["name"]
        for key, ptype in (("extractor", "extractors"), ("loader", "loaders")):
            value = schedule.get(key)
            if value is None:
                self.error(file, path, f"schedule '{name}' names no {key}")
                continue
            if not isinstance(value, str) or self.find(value, ptype) is None:
                other = self.find(str(value))
                candidates = [p.name for p in self.plugins if p.type == ptype]
                problem = (
                    f"{other.label}, not a {key}"
                    if other is not None
                    else f"unknown {key} '{value}'{_did_you_mean(str(value), candidates)}"
                )
                self.error(file, f"{path}.{key}", f"schedule '{name}' names {problem}")
        transform = schedule.get("transform")
        if transform is not None and transform not in ("run", "skip", "only"):
            self.error(
                file,
                f"{path}.transform",
                f"schedule '{name}': transform must be run, skip or only",
            )


# --------------------------------------------------------------------------- helpers


class _Invalid:
    """Marks a file that could not be read or parsed (already reported)."""


_INVALID: Any = _Invalid()

_ORACLE_WMS_SETTINGS = frozenset(
    {
        "oracle_host",
        "oracle_user",
        "oracle_password",
        "oracle_service_name",
        "oracle_sid",
        "wms_base_url",
        "wms_user",
        "wms_password",
    }
)


def _unique_key_loader() -> Any:
    """A SafeLoader that refuses duplicate keys, as meltano's ruamel loader does."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class UniqueKeyLoader(base):  # type: ignore[misc]
            def construct_mapping(self, node: Any, deep: bool = False) -> Any:
                if isinstance(node, yaml.MappingNode):
                    seen: set[Any] = set()
                    for key_node, _ in node.value:
                        if key_node.tag == "tag:yaml.org,2002:merge":
                            continue
                        key = self.construct_object(key_node, deep=deep)
                        try:
                            duplicate = key in seen
                        except TypeError:
                            continue
                        if duplicate:
                            raise yaml.constructor.ConstructorError(
                                "while constructing a mapping",
                                node.start_mark,
                                f"found duplicate key '{key}', which Meltano refuses",
                                key_node.start_mark,
                            )
                        seen.add(key)
                return super().construct_mapping(node, deep=deep)

        _LOADER = UniqueKeyLoader
    return _LOADER


_LOADER: Any = None


def _did_you_mean(name: str, candidates: Any) -> str:
    import difflib

    matches = difflib.get_close_matches(name, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def _env_prefix(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _is_set(value: Any) -> bool:
    """A setting counts as set unless null or empty; ``$VAR`` references count."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, (list, Mapping)):
        return bool(value)
    return True


def _is_literal(value: Any) -> bool:
    """A non-empty value that is not (or does not contain) an ``$ENV_VAR`` reference."""
    if not _is_set(value):
        return False
    return not (isinstance(value, str) and _ENV_REFERENCE.search(value))


def _valid_interval(interval: str) -> bool:
    expression = interval.strip().lower()
    if expression.startswith("@"):
        return expression in _CRON_ALIASES
    fields = expression.split()
    if len(fields) != 5:
        return False
    return all(
        _valid_cron_field(value, index, _CRON_RANGES[index]) for index, value in enumerate(fields)
    )


def _valid_cron_field(text: str, index: int, bounds: tuple[int, int]) -> bool:
    low, high = bounds
    names = _CRON_NAMES[index]

    def number(token: str) -> int | None:
        if token.isdigit():
            value = int(token)
            return value if low <= value <= high else None
        if token in names:
            return names.index(token) + (1 if index == 3 else 0)
        return None

    for part in text.split(","):
        base, slash, step = part.partition("/")
        if slash and (not step.isdigit() or int(step) == 0):
            return False
        if base in ("*", "?"):
            continue
        start, dash, end = base.partition("-")
        first = number(start)
        if first is None:
            return False
        if dash:
            last = number(end)
            if last is None or last < first:
                return False
    return True

"""The catalogue of rule codes: one stable code per kind of finding.

Every finding ``validate`` reports carries one of these codes, so a team can
silence a rule by its code (``validate --ignore CODE``, setting
``validate_ignore``) and a CI tool can match on it. ``severity`` is fixed per
code; ``stage`` says what Meltano 4.4.1 itself does with the mistake:

* ``load``: Meltano refuses to load the project, so every ``meltano`` command
  fails;
* ``run``: the project loads, but the ``meltano run``, schedule or extension
  command that uses the broken part fails;
* ``lint``: Meltano accepts it (often by ignoring it silently), yet it is
  almost certainly not what was meant.

>>> RULES["SCHEDULE_INTERVAL_INVALID"].severity
'error'
>>> close_codes("BLOCK_UNKNWON_PLUGIN")[0]
'BLOCK_UNKNOWN_PLUGIN'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, cast, get_args

from gruponos_ext.core.errors import GruponosError

__all__ = [
    "RULES",
    "Rule",
    "Severity",
    "Stage",
    "UnknownRuleCodeError",
    "check_codes",
    "close_codes",
    "rule",
]

Severity = Literal["error", "warning"]
Stage = Literal["load", "run", "lint"]


@dataclass(frozen=True)
class Rule:
    """One rule: its code, how bad a finding is, and what Meltano does with it."""

    code: str
    severity: Severity
    stage: Stage
    summary: str


def _rules(table: str) -> dict[str, Rule]:
    """The rules of ``table``: one a line, ``CODE severity stage summary``.

    An indented line continues the summary above it; ``#`` starts a comment line.
    """
    rules: dict[str, Rule] = {}
    for line in re.sub(r"\n\s+(?=\S)", " ", table).splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, severity, stage, summary = line.split(maxsplit=3)
        # A typo in the table below fails the import, so every test run.
        if code in rules or severity not in get_args(Severity) or stage not in get_args(Stage):
            raise ValueError(f"rule table, line {line!r}: duplicate code or unknown value")
        rules[code] = Rule(code, cast("Severity", severity), cast("Stage", stage), summary)
    return rules


RULES: dict[str, Rule] = _rules("""
# -- files and YAML
PROJECT_NOT_FOUND              error   load no meltano.yml at the project root
FILE_TOO_LARGE                 error   load a project file is over the size limit; not parsed
FILE_UNREADABLE                error   load a project file cannot be read or is not UTF-8
YAML_INVALID                   error   load a project file is not valid YAML
YAML_DUPLICATE_KEY             error   load the same key twice in one YAML mapping
PROJECT_EMPTY                  error   load meltano.yml is empty
FILE_NOT_MAPPING               error   load a project file does not hold a mapping of keys
INCLUDE_INVALID                error   load include_paths is not a list of relative patterns
INCLUDE_NO_MATCH               warning lint an include_paths entry matches no file
INCLUDE_NOT_LIST               warning lint include_paths is a string or mapping, not a list
INCLUDE_NOT_FILE               error   load an include_paths pattern matches a directory
INCLUDE_OUTSIDE_PROJECT        error   load an included file lies outside the project
INCLUDE_NESTED                 warning lint include_paths in an included file (ignored)
INCLUDE_DUPLICATE              error   load the same entry in two included files
# -- the shape Meltano's project model accepts
TOP_LEVEL_UNKNOWN_KEY          warning lint a top-level key Meltano does not use
VERSION_DEPRECATED             warning lint top-level 'version' (deprecated in Meltano 4)
SECTION_INVALID                error   load plugins, jobs, schedules, environments or env of the
                                            wrong type
ENTRY_INVALID                  error   load an entry that is not a mapping with a 'name'
NAME_INVALID                   error   load a plugin or environment name containing ':'
PLUGIN_TYPE_UNKNOWN            error   load a plugin type Meltano does not know
PLUGIN_SETTINGS_INVALID        error   load settings is not a list of named settings of a known kind
PLUGIN_COMMANDS_INVALID        error   load commands is not a mapping of valid commands
PLUGIN_REQUIRES_INVALID        error   load requires is not a mapping of plugin types
PLUGIN_MAPPINGS_INVALID        error   load a mapper's mappings are not a list of mappings
PLUGIN_KEY_INVALID             error   load a plugin key whose value Meltano cannot read
PLUGIN_CONFIG_INVALID          error   run  a plugin's config is not a mapping
PLUGIN_UNKNOWN_KEY             warning lint a plugin key Meltano ignores (misplaced setting?)
ENVIRONMENT_UNKNOWN_KEY        error   load an environment key Meltano's model refuses
ENVIRONMENT_CONFIG_INVALID     error   load an environment's config is not a mapping of plugin lists
ENVIRONMENT_CONFIG_UNKNOWN_KEY warning lint a key under an environment's config that Meltano ignores
ENVIRONMENT_PLUGIN_UNKNOWN_KEY warning lint a key of an environment's plugin entry that Meltano
                                            ignores
JOB_UNKNOWN_KEY                error   load a job key other than name and tasks
JOB_TASKS_MISSING              error   load a job without 'tasks'
JOB_TASKS_INVALID              error   run  tasks is not a list of strings (or of lists of strings)
JOB_TASKS_STRING               error   run  tasks is one string: meltano run splits it into
                                            characters
JOB_TASKS_EMPTY                warning lint a job with no tasks (meltano run does nothing)
NAME_NOT_TEXT                  error   run  a name that is not text: nothing can refer to it
SCHEDULE_UNKNOWN_KEY           warning lint a schedule key Meltano ignores
SCHEDULE_INTERVAL_MISSING      error   load a schedule without 'interval'
SCHEDULE_ELT_INCOMPLETE        error   load a schedule with no job lacks extractor, loader or
                                            transform
# -- plugins
PLUGIN_DUPLICATE               error   lint the same plugin type and name twice
PLUGIN_PARENT_MISSING          warning lint inherit_from names no plugin of the project (MeltanoHub
                                            look-up)
PLUGIN_PARENT_OTHER_TYPE       warning lint inherit_from names a plugin of another type only
PLUGIN_INHERITS_ITSELF         warning lint inherit_from names the plugin itself (no effect)
PLUGIN_INHERITANCE_CYCLE       error   run  plugins inheriting from each other in a cycle
MAPPING_DUPLICATE              warning lint two mappings with one name
SETTING_UNDECLARED             warning lint a config key the plugin does not declare
SECRET_LITERAL                 warning lint a secret setting with a literal value in the file
# -- environments
ENVIRONMENT_DUPLICATE          error   lint the same environment name twice
ENVIRONMENT_PLUGIN_UNDEFINED   warning lint an environment configures a plugin the project does not
                                            define
DEFAULT_ENVIRONMENT_UNDEFINED  error   run  default_environment names no environment
ENVIRONMENT_NOT_FOUND          error   run  the environment asked for is not defined
# -- this extension's own settings
OWN_ORACLE_INCOMPLETE          error   run  Oracle enabled without user, password or exactly one
                                            service name/SID
OWN_WMS_INCOMPLETE             error   run  the WMS API enabled without its user and password
OWN_SETTING_INVALID            error   run  a literal value of this extension's settings fails its
                                            runtime parsing
# -- jobs and blocks
JOB_DUPLICATE                  error   lint the same job name twice
JOB_NAME_AMBIGUOUS             error   run  a job named like a plugin, and that name is used as a
                                            block
JOB_NAME_SHADOWS_PLUGIN        warning lint a job named like a plugin
BLOCK_EMPTY                    error   run  a task with a double, leading or trailing space
BLOCK_SHELL_COMMAND            error   run  a task that is a shell command, not blocks
BLOCK_UNKNOWN_PLUGIN           error   run  a block naming no plugin or mapping
BLOCK_IS_JOB                   error   run  a block naming a job
BLOCK_INVALID_NAME             error   run  a block with more than one ':'
BLOCK_EMPTY_COMMAND            warning lint a block 'plugin:' with an empty command
BLOCK_MAPPER_NOT_MAPPING       error   run  a block naming a mapper plugin instead of one of its
                                            mappings
BLOCK_AMBIGUOUS_MAPPING        error   run  a block naming a mapping that two mappers define
BLOCK_UNKNOWN_COMMAND          error   run  a block naming a command its plugin does not define
BLOCK_COMMAND_IGNORED          warning lint a command on an extractor, loader or mapping block
                                            (ignored)
BLOCK_NO_COMMAND               warning lint this extension as a block without a command
BLOCK_SEQUENCE                 error   run  extractor, mappings and loader not adjacent and in order
# -- this extension's run blocks
PREFLIGHT_WITHOUT_DISPOSE      error   lint a job with a preflight block and no dispose block
DISPOSE_WITHOUT_PREFLIGHT      warning lint a job with a dispose block and no preflight block
PREFLIGHT_AFTER_TAP            error   lint a preflight block after the job's first extractor
DISPOSE_BEFORE_TARGET          error   lint a dispose block before the job's last loader
RUN_LOCK_MISMATCH              error   lint dispose releases another job's run lock than preflight
                                            took
PREFLIGHT_DISPOSE_SPLIT        warning lint a bare preflight block whose dispose is in another task
GUARD_NO_JOB                   error   run  a guard command without a job name
GUARD_UNKNOWN_JOB              error   run  a guard block naming a job that does not exist
GUARD_RECURSION                error   run  a guard block that ends up running its own job
COMMAND_ARGS_INVALID           error   run  a command's args that do not parse as a shell line
# -- schedules
SCHEDULE_DUPLICATE             error   lint the same schedule name twice
SCHEDULE_UNKNOWN_JOB           error   run  a schedule naming a job that does not exist
SCHEDULE_JOB_AND_ELT           warning lint a schedule naming a job and an extractor/loader
                                            (ignored)
SCHEDULE_UNKNOWN_PLUGIN        error   run  a schedule's extractor or loader is not one
SCHEDULE_TRANSFORM_INVALID     error   run  a schedule's transform is not run, skip or only
SCHEDULE_INTERVAL_INVALID      error   run  an interval Meltano does not accept
SCHEDULE_INTERVAL_EMPTY        warning lint an empty interval: the schedule runs only by hand
# -- the rest of `validate`: the service container, and where the project is
WIRING_ERROR                   error   run  the service container cannot build a service
WIRING_WARNING                 warning lint a doubtful service registration
PROJECT_ROOT_UNKNOWN           warning lint MELTANO_PROJECT_ROOT unset: meltano.yml not checked
""")


def rule(code: str) -> Rule:
    """The rule of ``code`` (KeyError for a code not in the catalogue)."""
    return RULES[code]


def close_codes(code: str, candidates: Iterable[str] = RULES, limit: int = 3) -> list[str]:
    """Codes that look like ``code``, closest first (for "did you mean")."""
    import difflib

    wanted = code.strip().upper()
    return difflib.get_close_matches(wanted, list(candidates), n=limit, cutoff=0.6)


class UnknownRuleCodeError(GruponosError):
    """A rule code to ignore that names no rule (bad usage: exit 2)."""

    code = "UNKNOWN_RULE_CODE"
    exit_code = 2


def check_codes(codes: Iterable[str], *, source: str = "--ignore") -> tuple[str, ...]:
    """``codes`` normalised (upper case, stripped), or :class:`UnknownRuleCodeError`
    naming the first unknown one and the codes close to it."""
    normalised = tuple(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))
    for code in normalised:
        if code == "INVALID_SETTINGS":
            raise UnknownRuleCodeError(
                f"{source}: INVALID_SETTINGS cannot be ignored: the extension cannot run with "
                "invalid settings; fix the setting the message names",
                details={"code": code, "close": []},
            )
        if code not in RULES:
            close = close_codes(code)
            hint = f"; close: {', '.join(close)}" if close else ""
            raise UnknownRuleCodeError(
                f"{source}: unknown rule code '{code}'{hint} (README, 'What validate checks', "
                "lists every code)",
                details={"code": code, "close": close},
            )
    return normalised

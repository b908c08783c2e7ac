"""Meltano 4.4.1 as the oracle: its own functions and models, asked in a child process.

Parity tests put many inputs through ``validate`` and through the Meltano
code that decides the same question, and compare. Meltano runs in a child
process (``python -m tests.support.meltano_oracle QUESTION``, the cases as
JSON on stdin, the answers as JSON on stdout), so its logging set-up,
caches and globals never leak into the test process; one child answers a
whole batch.

Questions (each answer in the order of the cases):

* ``intervals``: does ``meltano schedule add`` accept the interval
  (``interval in CRON_INTERVALS or is_valid_cron(interval)``, as its
  ``CronParam`` and ``ScheduleService.add_schedule`` decide)?
* ``cron_interval``: ``Schedule.cron_interval`` of each interval.
* ``aliases``: ``CRON_INTERVALS`` itself.
* ``flat_args``: ``TaskSets(tasks=...).flat_args``: the blocks ``meltano run`` gets.
* ``load``: does ``Project(root).meltano`` load the project (None) or fail (why)?
* ``blocks``: for (root, job): does Meltano's block parser accept ``meltano
  run JOB`` (``BlockParser([JOB])`` + ``find_blocks`` + ``validate_block_sets``)?
* ``find``: for (root, name): what ``find_plugin(name)`` returns: [type,
  name, mapping name], ``"ambiguous"`` or None.
* ``plugin``: for (root, type, name): the plugin's settings and commands
  after ``ensure_parent`` (inheritance), or the error.
* ``stringify``: ``SettingDefinition(kind=...).stringify_value(value)``.
* ``expands``: does Meltano's ``expand_env_vars`` put a variable's value in the text?
* ``scalars``: how ruamel.yaml (Meltano's reader) reads ``key: <text>``.
* ``model``: the keys Meltano's models and meltano.schema.json accept.

MeltanoHub is unreachable here. For ``blocks`` on a project whose plugins
come from the Hub (``offline_parents``), a plugin whose definition would be
fetched gets no parent: the block parser reads only types and names, which
are in meltano.yml. Generated projects use inline definitions and need none.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.support.meltano import REPO_ROOT, offline_meltano_env

__all__ = ["ask_meltano", "seed_system_database"]

_TEMPLATE_DB = "meltano.db"


def ask_meltano(question: str, cases: Sequence[Any], *, timeout: float = 600.0) -> list[Any]:
    """Meltano's answer to ``question`` for each case (one child process for all)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.meltano_oracle", question],
        input=json.dumps(list(cases)),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env=offline_meltano_env(),
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"the Meltano oracle failed ({question}):\n{done.stderr[-3000:]}")
    answers: list[Any] = json.loads(done.stdout.splitlines()[-1])
    return answers


def seed_system_database(root: Path, template_dir: Path) -> None:
    """Give ``root`` a migrated Meltano system database, made once by the real CLI.

    The block parser opens the system database; ``meltano`` migrates it on
    its first command. The first call runs ``meltano job list`` in
    ``template_dir`` (a minimal project) and later calls copy that file.
    """
    template = template_dir / ".meltano" / _TEMPLATE_DB
    if not template.is_file():
        template_dir.mkdir(parents=True, exist_ok=True)
        (template_dir / "meltano.yml").write_text(
            "project_id: oracle-template\nsend_anonymous_usage_stats: false\n", encoding="utf-8"
        )
        from tests.support.meltano import MELTANO_BIN

        done = subprocess.run(
            [str(MELTANO_BIN), "job", "list"],
            cwd=template_dir,
            env=offline_meltano_env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if not template.is_file():
            raise AssertionError(f"meltano did not create its database:\n{done.stderr[-2000:]}")
    (root / ".meltano").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, root / ".meltano" / _TEMPLATE_DB)


# --------------------------------------------------------------------------- the child


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        yield


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _project(root: str) -> Any:
    from meltano.core.project import Project

    return Project(Path(root))


def _intervals(cases: list[Any]) -> list[Any]:
    from meltano.core.schedule import CRON_INTERVALS, is_valid_cron

    answers = []
    for value in cases:
        try:
            answers.append(bool(value in CRON_INTERVALS or is_valid_cron(value)))
        except Exception:  # Meltano fails on it: not accepted
            answers.append(False)
    return answers


def _cron_interval(cases: list[Any]) -> list[Any]:
    from meltano.core.schedule import JobSchedule

    return [JobSchedule(name="s", job="j", interval=value).cron_interval for value in cases]


def _aliases(_: list[Any]) -> list[Any]:
    from meltano.core.schedule import CRON_INTERVALS

    return [dict(CRON_INTERVALS)]


def _flat_args(cases: list[Any]) -> list[Any]:
    from meltano.core.task_sets import TaskSets

    answers: list[Any] = []
    for tasks in cases:
        try:
            answers.append(TaskSets(name="job", tasks=tasks).flat_args)
        except Exception as exc:
            answers.append({"error": _error(exc)})
    return answers


def _load(cases: list[Any]) -> list[Any]:
    answers = []
    for root in cases:
        try:
            with _quiet():
                _ = _project(root).meltano
            answers.append(None)
        except BaseException as exc:  # a RecursionError counts as a refusal too
            answers.append(_error(exc))
    return answers


def _offline_parents() -> None:
    from meltano.core.plugin.error import PluginNotFoundError
    from meltano.core.project_plugins_service import ProjectPluginsService

    def ensure_parent(self: Any, plugin: Any) -> Any:
        if plugin.parent is None and plugin.inherit_from and not plugin.is_variant_set:
            with contextlib.suppress(PluginNotFoundError):
                plugin.parent = self.find_plugin(plugin.inherit_from, plugin_type=plugin.type)
        return plugin

    ProjectPluginsService.ensure_parent = ensure_parent  # type: ignore[method-assign]


def _blocks(cases: list[Any]) -> list[Any]:
    import structlog
    from meltano.core.block.block_parser import BlockParser, validate_block_sets

    log = structlog.get_logger()
    answers: list[Any] = []
    for root, job_name in cases:
        os.chdir(root)  # a relative database_uri is relative to the project
        try:
            with _quiet():
                project = _project(root)
                # What `meltano run JOB` does: the parser expands the job name itself.
                parser = BlockParser(log, project, [job_name])
                blocks = list(parser.find_blocks(0))
                ok = validate_block_sets(log, blocks)
            answers.append(None if ok else "validate_block_sets: False")
        except BaseException as exc:
            answers.append(_error(exc))
    return answers


def _find(cases: list[Any]) -> list[Any]:
    from meltano.core.plugin.error import PluginNotFoundError
    from meltano.core.project_plugins_service import AmbiguousMappingName

    answers: list[Any] = []
    for root, name in cases:
        project = _project(root)
        try:
            with _quiet():
                plugin = project.plugins.find_plugin(name)
            mapping = plugin.extra_config.get("_mapping_name")
            answers.append([str(plugin.type), plugin.name, mapping])
        except AmbiguousMappingName:
            answers.append("ambiguous")
        except PluginNotFoundError:
            answers.append(None)
    return answers


def _plugin(cases: list[Any]) -> list[Any]:
    from meltano.core.plugin import PluginType

    answers: list[Any] = []
    for root, plugin_type, name in cases:
        project = _project(root)
        try:
            with _quiet():
                plugin = project.plugins.find_plugin(name, plugin_type=PluginType(plugin_type))
                answers.append(
                    {
                        "settings": sorted(s.name for s in plugin.all_settings),
                        "commands": sorted(plugin.all_commands),
                    }
                )
        except BaseException as exc:
            answers.append({"error": _error(exc)})
    return answers


def _stringify(cases: list[Any]) -> list[Any]:
    from meltano.core.setting_definition import SettingDefinition

    return [SettingDefinition(name="x", kind=kind).stringify_value(value) for value, kind in cases]


def _expands(cases: list[Any]) -> list[Any]:
    from meltano.core.utils import expand_env_vars

    class AnyVariable(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "«set»"

    return ["«set»" in expand_env_vars({"k": text}, AnyVariable())["k"] for text in cases]


def _scalars(cases: list[Any]) -> list[Any]:
    from ruamel.yaml import YAML

    reader = YAML()
    answers = []
    for text in cases:
        value = reader.load(f"k: {text}\n")["k"]
        answers.append(_plain(value))
    return answers


def _plain(value: Any) -> Any:
    """A ruamel value as [kind, JSON-able value]."""
    import datetime
    import math

    if value is None:
        return ["null", None]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", int(value)]
    if isinstance(value, float):
        return ["float", "nan" if math.isnan(value) else float(value)]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return ["date", value.isoformat()]
    return ["str", str(value)]


def _model(_: list[Any]) -> list[Any]:
    import meltano.core
    from meltano.core.environment import Environment, EnvironmentPluginConfig
    from meltano.core.plugin.command import Command
    from meltano.core.plugin.project_plugin import ProjectPlugin
    from meltano.core.setting_definition import SettingKind
    from meltano.core.task_sets import TaskSets

    def params(function: Any) -> list[str]:
        return [
            p.name
            for p in inspect.signature(function).parameters.values()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self"
        ]

    schema_file = Path(meltano.core.__file__).parents[1] / "schemas" / "meltano.schema.json"
    schema = json.loads(schema_file.read_text("utf-8"))
    defs = schema["$defs"]
    plugin_keys: set[str] = set()
    for definition in defs["plugins"].values():
        plugin_keys |= set(definition.get("properties", {}))
        for key in ("allOf", "anyOf", "oneOf"):
            for part in definition.get(key, []):
                plugin_keys |= set(part.get("properties", {}))
    return [
        {
            "setting_kinds": sorted(k.value for k in SettingKind),
            "top_level": sorted(schema["properties"]),
            "schedule": sorted(defs["schedules"]["properties"]),
            "environment": params(Environment.__init__),
            "environment_plugin": params(EnvironmentPluginConfig.__init__),
            "job": params(TaskSets.__init__),
            "command": params(Command.__init__),
            "project_plugin": params(ProjectPlugin.__init__),
            "schema_plugin": sorted(plugin_keys),
        }
    ]


_QUESTIONS = {
    "intervals": _intervals,
    "cron_interval": _cron_interval,
    "aliases": _aliases,
    "flat_args": _flat_args,
    "load": _load,
    "blocks": _blocks,
    "find": _find,
    "plugin": _plugin,
    "stringify": _stringify,
    "expands": _expands,
    "scalars": _scalars,
    "model": _model,
}


def _main(argv: list[str]) -> int:
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    question = argv[0]
    if question.startswith("blocks"):
        if question == "blocks-offline-parents":
            _offline_parents()
        question = "blocks"
    cases = json.loads(sys.stdin.read())
    answers = _QUESTIONS[question](cases)
    print(json.dumps(answers, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))

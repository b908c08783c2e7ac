"""validate agrees with Meltano 4.4.1: many inputs through both, the verdicts compared.

Meltano decides each question with its own code (asked through
:mod:`tests.support.meltano_oracle`): cron validity, the blocks a task splits
into, which plugin a block name means, the project model it refuses to load,
the jobs its block parser refuses, inherited settings and commands, how a
setting value is exported, and how YAML scalars are read. The inputs are
generated (hundreds of cases), not picked.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gruponos_ext.project import read_project, validate_project
from gruponos_ext.project.build import (
    COMMAND_KEYS,
    ENVIRONMENT_KEYS,
    JOB_KEYS,
    SETTING_KINDS,
    TOP_LEVEL_KEYS,
)
from gruponos_ext.project.codes import RULES
from gruponos_ext.project.cron import (
    CRON_ALIASES,
    MANUAL_ALIASES,
    cron_expression,
    interval_problem,
)
from gruponos_ext.project.rules.own_settings import exported_text
from gruponos_ext.project.rules.plugins import PLUGIN_KEYS, has_env_reference
from gruponos_ext.project.rules.schedules import SCHEDULE_KEYS
from gruponos_ext.project.yamlio import parse_yaml
from tests.support.meltano_oracle import ask_meltano, seed_system_database

pytestmark = pytest.mark.e2e


def mismatches(cases: list[Any], ours: list[Any], theirs: list[Any]) -> list[Any]:
    assert len(ours) == len(theirs) == len(cases)
    return [(case, o, t) for case, o, t in zip(cases, ours, theirs, strict=True) if o != t]


# --------------------------------------------------------------------------- intervals


def interval_cases() -> list[Any]:
    values = [
        "*", "?", "l", "L", "0", "5", "23", "24", "31", "32", "59", "60", "61", "6", "7", "8",
        "12", "13", "1-5", "5-1", "0-7", "5-7", "1-70", "fri-mon", "mon-fri", "jan-mar",
        "JAN", "sun", "Sat", "jan", "*/5", "*/0", "/5", "1-5/2", "5/15", "?/2", "l/2",
        "1,61", "61,62", "1,2,3", "x", "-5", "5-", "00", "²",
    ]  # fmt: skip
    rng = random.Random(8)
    cases: list[Any] = [" ".join(rng.choice(values) for _ in range(5)) for _ in range(400)]
    cases += [f"{v} * * * *" for v in values] + [f"0 0 {v} * *" for v in values]
    cases += [f"0 0 * {v} *" for v in values] + [f"0 0 * * {v}" for v in values]
    aliases = [*MANUAL_ALIASES, *CRON_ALIASES]
    cases += aliases + [a.upper() for a in aliases] + [f" {a} " for a in aliases]
    cases += ["@fortnightly", "@", "", "   ", "0 17 L * *", "0 0 * ? *", "0 0 * * * *"]
    cases += ["0 0 * * * 2024", "0 0 * *", "0\t0\t*\t*\t*", "0  0 * * *", "30 2 * * *"]
    return cases


def test_interval_verdicts_agree_with_meltano_schedule_add() -> None:
    cases = interval_cases()

    ours = [interval_problem(case) is None for case in cases]
    theirs = ask_meltano("intervals", cases)

    assert mismatches(cases, ours, theirs) == []
    assert 100 < sum(ours) < len(cases) - 100  # both verdicts are well represented


def test_every_refused_interval_is_explained() -> None:
    explained = [interval_problem(case) for case in interval_cases()]

    for problem in filter(None, explained):
        assert "neither a cron expression of five fields" not in problem
    assert interval_problem("0 17 L * *") is None
    assert "month field" in (interval_problem("0 0 * ? *") or "")
    assert "6 fields" in (interval_problem("0 0 * * * *") or "")


def test_interval_aliases_are_meltanos() -> None:
    (intervals,) = ask_meltano("aliases", [None])

    assert intervals == {**dict.fromkeys(MANUAL_ALIASES), **CRON_ALIASES}


def test_cron_expression_is_meltanos_cron_interval() -> None:
    cases = [*MANUAL_ALIASES, *CRON_ALIASES, "30 2 * * *", "0 17 L * *"]

    assert [cron_expression(c) for c in cases] == ask_meltano("cron_interval", cases)


# --------------------------------------------------------------------------- YAML


def test_yaml_scalars_are_read_as_meltano_reads_them() -> None:
    words = [
        "yes", "no", "on", "off", "y", "n", "Yes", "NO", "true", "True", "TRUE", "tRue",
        "false", "null", "~", "Null", "NULL", "0777", "0o17", "0x1F", "0b101", "1_000",
        "1:30", "190:20:30", "12:30:00", "1.5", "1e3", "1.0e+3", "-2E-2", ".inf", "-.inf",
        ".nan", "+12", "-0", "+.5", ".5", "0.", "1e", "08", "09", "00", "0", "2020-01-01",
        "abc", "'quoted'", "1_0.5", "0x_1F", "- 1",
    ]  # fmt: skip
    cases = [w for w in words if not w.startswith("- ")]

    ours = [_kind(parse_yaml(f"k: {text}\n")["k"]) for text in cases]
    theirs = ask_meltano("scalars", cases)

    assert mismatches(cases, ours, theirs) == []


def _kind(value: Any) -> list[Any]:
    import datetime
    import math

    if value is None:
        return ["null", None]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", value]
    if isinstance(value, float):
        return ["float", "nan" if math.isnan(value) else value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return ["date", value.isoformat()]
    return ["str", str(value)]


# --------------------------------------------------------------------------- models


def test_the_keys_each_entry_takes_are_meltanos() -> None:
    (model,) = ask_meltano("model", [None])

    assert set(model["setting_kinds"]) == SETTING_KINDS
    assert set(model["top_level"]) <= TOP_LEVEL_KEYS
    assert set(model["schedule"]) == SCHEDULE_KEYS
    assert {*model["environment"], "annotations"} == ENVIRONMENT_KEYS
    assert {*model["job"], "annotations"} == JOB_KEYS
    assert {*model["command"], "annotations"} == COMMAND_KEYS
    plugin_params = set(model["project_plugin"]) - {"plugin_type"}
    assert plugin_params <= PLUGIN_KEYS
    assert set(model["schema_plugin"]) <= PLUGIN_KEYS


def test_setting_values_are_exported_as_meltano_exports_them() -> None:
    import datetime

    values: list[Any] = [True, False, 5, 1.5, ["a@b.c", "d@e.f"], {"a": 1}, None, "text", 0]
    values.append(datetime.date(2024, 1, 2))
    kinds = [None, "string", "password", "integer", "boolean", "array", "object", "decimal"]
    cases = [
        [v, k] for v, k in itertools.product(values, kinds) if not isinstance(v, datetime.date)
    ]

    ours = [exported_text(v, k) for v, k in cases]
    theirs = ask_meltano("stringify", cases)

    assert mismatches(cases, ours, theirs) == []
    assert exported_text(datetime.date(2024, 1, 2)) == "2024-01-02"


def test_env_var_references_are_the_ones_meltano_expands() -> None:
    cases = [
        "$HOST", "${HOST}", "x$HOST", "https://$HOST/api", "$", "$$", "$1", "${}", "$ HOST",
        "${A_1}", "$A_1", "$x", "plain", "", "100%", "$V0$V1", "{HOST}", "\\$HOST", "${HOST",
        "$HOST}", "pre${V2}post", "${lower}", "$_X", "${1}", "$Host", "$HOST_1x", "a\\$B",
    ]  # fmt: skip

    ours = [has_env_reference(c) for c in cases]
    theirs = ask_meltano("expands", cases)

    assert mismatches(cases, ours, theirs) == []


# --------------------------------------------------------------------------- tasks


def task_cases() -> list[Any]:
    words = ["tap-a", "target-b", "dbt:run", "a:b:c", "x:", ":y", "", " ", "gi:preflight"]
    rng = random.Random(3)
    cases: list[Any] = []
    for _ in range(120):
        task = " ".join(rng.choice(words) for _ in range(rng.randint(1, 5)))
        shape = rng.randrange(3)
        if shape == 0:
            cases.append([task])
        elif shape == 1:
            cases.append([task, [task, task]])
        else:
            cases.append([[task], [[task]]])
    return cases


def test_tasks_split_into_the_blocks_meltano_runs(tmp_path: Path) -> None:
    cases = task_cases()
    jobs = [{"name": f"job{i}", "tasks": tasks} for i, tasks in enumerate(cases)]
    write(tmp_path, {"jobs": jobs})
    model, _ = read_project(tmp_path)
    assert model is not None

    ours = [[block.text for block in model.jobs[i].blocks] for i in range(len(cases))]
    theirs = ask_meltano("flat_args", cases)

    assert mismatches(cases, ours, theirs) == []


def test_tasks_given_as_one_string_are_read_character_by_character(tmp_path: Path) -> None:
    doc = base_project()
    doc["jobs"] = [{"name": "j", "tasks": "tap-a target-b"}]
    doc["schedules"] = []
    write(tmp_path, doc)

    (theirs,) = ask_meltano("flat_args", ["tap-a target-b"])
    report = validate_project(tmp_path)

    assert theirs[:5] == list("tap-a")  # Meltano: "Block t not found"
    assert report.codes == ("JOB_TASKS_STRING",)


# --------------------------------------------------------------------------- loading


def write(root: Path, doc: Any, files: dict[str, Any] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "meltano.yml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    for name, content in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is DIRECTORY:
            path.mkdir(exist_ok=True)
        else:
            path.write_text(
                content if isinstance(content, str) else yaml.safe_dump(content), "utf-8"
            )
    return root


DIRECTORY = object()
VALUES: list[Any] = [None, [], {}, "x", 5, ["a"], {"a": 1}, [{"name": "n"}], "a:b"]


def base_project() -> dict[str, Any]:
    return {
        "project_id": "parity",
        "default_environment": "dev",
        "plugins": {
            "extractors": [{"name": "tap-a", "namespace": "tap_a"}],
            "loaders": [{"name": "target-b", "namespace": "target_b"}],
            "mappers": [{"name": "mapper", "namespace": "mapper", "mappings": [{"name": "m1"}]}],
        },
        "jobs": [{"name": "j", "tasks": ["tap-a target-b"]}],
        "schedules": [{"name": "s", "job": "j", "interval": "@daily"}],
        "environments": [
            {
                "name": "dev",
                "config": {"plugins": {"extractors": [{"name": "tap-a", "config": {}}]}},
            }
        ],
    }


def mutations() -> Iterator[tuple[str, Callable[[dict[str, Any]], Any]]]:
    """(label, edit) pairs: each edit changes one part of the base project."""

    def setter(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
        def edit(doc: dict[str, Any]) -> None:
            target = doc
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value

        return edit

    def remover(*path: Any) -> Callable[[dict[str, Any]], None]:
        def edit(doc: dict[str, Any]) -> None:
            target = doc
            for key in path[:-1]:
                target = target[key]
            del target[path[-1]]

        return edit

    top = ["plugins", "jobs", "schedules", "environments", "env", "foo", "include_paths"]
    for key, value in itertools.product(top, VALUES):
        yield f"top {key}={value!r}", setter(key, value=value)
    plugin_types = ["extractors", "utilities", "mappings", "widgets", "transforms"]
    entries: list[Any] = [None, [], {}, ["x"], [{"name": "u", "namespace": "u"}]]
    entries += [[{"namespace": "u"}], [{"name": 5, "namespace": "u"}], [{"name": "a:b"}]]
    for plugin_type, value in itertools.product(plugin_types, entries):
        yield f"plugins.{plugin_type}={value!r}", setter("plugins", plugin_type, value=value)
    plugin_values = [
        *VALUES,
        [{"name": "s", "kind": "integer"}],
        [{"name": "s", "kind": "bogus"}],
        [{"kind": "string"}],
        {"c": "run x"},
        {"c": {"args": "x", "executable": "e"}},
        {"c": {"args": "x", "foo": 1}},
        {"c": 5},
        {"c": None},
        {"extractors": [{"name": "tap-a"}]},
        {"extractors": [{"name": "tap-a", "foo": 1}]},
        {"extractors": "x"},
    ]
    plugin_keys = [
        "settings",
        "commands",
        "requires",
        "config",
        "env",
        "inherit_from",
        "select",
        "foo",
        "capabilities",
        "namespace",
        "name",
        "settings_group_validation",
        "variant",
        "pip_url",
        "executable",
        "python",
        "label",
        "requires_meltano",
        "metadata",
        "mappings",
    ]
    for key, value in itertools.product(plugin_keys, plugin_values):
        yield (
            f"extractor {key}={value!r}",
            setter("plugins", "extractors", 0, key, value=value),
        )
    yield "extractor without name", remover("plugins", "extractors", 0, "name")
    for value in [None, [], "x", ["x"], [{"config": {}}], [{"name": "m2"}, {"name": "m2"}]]:
        yield f"mappings={value!r}", setter("plugins", "mappers", 0, "mappings", value=value)
    for key, value in itertools.product(["name", "tasks", "annotations", "foo"], VALUES):
        yield f"job {key}={value!r}", setter("jobs", 0, key, value=value)
    for key in ["name", "tasks"]:
        yield f"job without {key}", remover("jobs", 0, key)
    schedule_keys = ["name", "interval", "job", "extractor", "transform", "env", "foo"]
    for key, value in itertools.product(schedule_keys, VALUES):
        yield f"schedule {key}={value!r}", setter("schedules", 0, key, value=value)
    for key in ["name", "interval", "job"]:
        yield f"schedule without {key}", remover("schedules", 0, key)
    yield (
        "elt schedule",
        setter(
            "schedules",
            0,
            value={"name": "e", "extractor": "tap-a", "loader": "target-b", "interval": "@daily"},
        ),
    )
    environment_keys = ["name", "config", "env", "state_id_suffix", "plugins", "orchestrators"]
    environment_keys += ["variables", "annotations"]
    for key, value in itertools.product(environment_keys, VALUES):
        yield f"environment {key}={value!r}", setter("environments", 0, key, value=value)
    yield "environment without name", remover("environments", 0, "name")
    for key, value in itertools.product(["plugins", "extractors", "foo"], VALUES):
        yield (
            f"environment config.{key}={value!r}",
            setter("environments", 0, "config", key, value=value),
        )
    for key, value in itertools.product(["name", "config", "env", "select", "foo"], VALUES):
        yield (
            f"environment plugin {key}={value!r}",
            setter("environments", 0, "config", "plugins", "extractors", 0, key, value=value),
        )
    for plugin_type, value in itertools.product(["extractors", "widgets", "mappings"], VALUES):
        yield (
            f"environment plugins.{plugin_type}={value!r}",
            setter("environments", 0, "config", "plugins", plugin_type, value=value),
        )


INCLUDE_CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("include missing", ["./missing.yml"], {}),
    ("include glob none", ["./none/*.yml"], {}),
    ("include empty", ["./inc.yml"], {"inc.yml": ""}),
    ("include comment only", ["./inc.yml"], {"inc.yml": "# nothing\n"}),
    ("include list", ["./inc.yml"], {"inc.yml": ["a"]}),
    ("include directory", ["./sub*"], {"sub": DIRECTORY}),
    ("include absolute", ["/etc/hosts"], {}),
    ("include number", [5], {}),
    ("include string", "./inc.yml", {"inc.yml": {"jobs": []}}),
    ("include string of letters", "inc", {"inc.yml": {"jobs": []}}),
    ("include mapping", {"./inc.yml": 1}, {"inc.yml": {"jobs": []}}),
    ("include ok", ["./inc/*.yml"], {"inc/a.yml": {"jobs": [{"name": "k", "tasks": ["x"]}]}}),
    (
        "include duplicate job",
        ["./inc/*.yml"],
        {
            "inc/a.yml": {"jobs": [{"name": "k", "tasks": []}]},
            "inc/b.yml": {"jobs": [{"name": "k", "tasks": []}]},
        },
    ),
    (
        "include duplicate of main",
        ["./inc.yml"],
        {"inc.yml": {"plugins": {"extractors": [{"name": "tap-a", "namespace": "x"}]}}},
    ),
    ("include yaml error", ["./inc.yml"], {"inc.yml": "a: [\n"}),
    ("include duplicate key", ["./inc.yml"], {"inc.yml": "a: 1\na: 2\n"}),
    ("include unknown key", ["./inc.yml"], {"inc.yml": {"foo": 1}}),
    ("include nested", ["./inc.yml"], {"inc.yml": {"include_paths": ["x"]}}),
]


def test_load_verdicts_agree_with_meltanos_project_model(tmp_path: Path) -> None:
    cases: list[tuple[str, Path]] = []
    for index, (label, edit) in enumerate(mutations()):
        doc = base_project()
        edit(doc)
        cases.append((label, write(tmp_path / f"m{index}", doc)))
    for index, (label, patterns, files) in enumerate(INCLUDE_CASES):
        doc = base_project()
        doc["include_paths"] = patterns
        cases.append((label, write(tmp_path / f"i{index}", doc, files)))
    for index, text in enumerate(["", "# only a comment\n", "- a\n", "text\n", "a: 1\na: 2\n"]):
        root = tmp_path / f"t{index}"
        root.mkdir()
        (root / "meltano.yml").write_text(text, encoding="utf-8")
        cases.append((f"file {text!r}", root))

    theirs = ask_meltano("load", [str(root) for _, root in cases])
    ours = []
    for _, root in cases:
        report = validate_project(root)
        refused = [f.code for f in report.errors if RULES[f.code].stage == "load"]
        ours.append(refused)

    disagreements = [
        (label, refused, error)
        for (label, _), refused, error in zip(cases, ours, theirs, strict=True)
        if bool(refused) != (error is not None)
    ]
    assert disagreements == []
    assert len(cases) > 400
    assert 100 < sum(e is not None for e in theirs) < len(cases) - 100


# --------------------------------------------------------------------------- plugins


def test_block_names_resolve_as_meltanos_find_plugin(tmp_path: Path) -> None:
    rng = random.Random(5)
    names = ["airflow", "dbt", "x", "tap-a", "m1", "m2", "shared"]
    types = ["extractors", "loaders", "orchestrators", "transformers", "files", "utilities"]
    cases: list[tuple[str, str]] = []
    roots = []
    for index in range(40):
        plugins: dict[str, list[dict[str, Any]]] = {}
        for plugin_type in types:
            chosen = rng.sample(names, rng.randint(0, 3))
            plugins[plugin_type] = [{"name": n, "namespace": n.replace("-", "_")} for n in chosen]
        mappers = []
        for mapper in ("mapper-1", "mapper-2", rng.choice(names)):
            mappings = [{"name": n} for n in rng.sample(names, rng.randint(0, 2))]
            mappers.append({"name": mapper, "namespace": "mapper", "mappings": mappings})
        plugins["mappers"] = mappers
        root = write(tmp_path / f"p{index}", {"project_id": "p", "plugins": plugins})
        roots.append(root)
        cases += [(str(root), name) for name in [*names, "mapper-1", "nothing"]]

    theirs = ask_meltano("find", cases)
    ours: list[Any] = []
    models = {str(root): read_project(root)[0] for root in roots}
    for root, name in cases:
        model = models[root]
        assert model is not None
        target = model.resolve_block(name)
        if target is None:
            ours.append(None)
        elif target.also_defined_by:
            ours.append("ambiguous")
        else:
            ours.append([target.plugin.type, target.plugin.name, target.mapping])

    assert mismatches(cases, ours, theirs) == []
    assert sum(isinstance(t, list) and t[0] != "mappers" for t in theirs) > 100
    assert "ambiguous" in theirs and None in theirs


def test_inherited_settings_and_commands_are_meltanos(tmp_path: Path) -> None:
    rng = random.Random(11)
    cases: list[tuple[str, str, str]] = []
    roots = []
    for index in range(12):
        utilities = [
            {
                "name": "root",
                "namespace": "root_ns",
                "settings": [{"name": "s_root"}],
                "commands": {"c_root": "run"},
            }
        ]
        for number in range(1, 15):
            parent = rng.choice([u["name"] for u in utilities] + ["ghost"] * (index % 3 == 0))
            entry: dict[str, Any] = {"name": f"u{number}", "inherit_from": parent}
            if rng.random() < 0.5:
                entry["settings"] = [{"name": f"s{number}"}, {"name": "s_root"}]
            if rng.random() < 0.5:
                entry["commands"] = {f"c{number}": "x", "c_root": "override"}
            utilities.append(entry)
        if index % 4 == 1:  # a cycle
            utilities += [
                {"name": "cy1", "inherit_from": "cy2"},
                {"name": "cy2", "inherit_from": "cy1"},
            ]
        root = write(
            tmp_path / f"p{index}", {"project_id": "p", "plugins": {"utilities": utilities}}
        )
        roots.append(root)
        cases += [(str(root), "utilities", u["name"]) for u in utilities if u["name"] != "ghost"]

    theirs = ask_meltano("plugin", cases)
    models = {str(root): read_project(root)[0] for root in roots}
    compared = 0
    for (root, plugin_type, name), answer in zip(cases, theirs, strict=True):
        model = models[root]
        assert model is not None
        plugin = model.plugin(plugin_type, name)
        assert plugin is not None
        if "error" in answer:
            # Meltano fails on a cycle, or a parent it would fetch from MeltanoHub.
            assert model.in_inheritance_cycle(plugin) or not model.is_defined_offline(plugin), (
                name,
                answer,
            )
            continue
        assert model.is_defined_offline(plugin)
        assert sorted(model.setting_names(plugin)) == answer["settings"], name
        assert sorted(model.command_names(plugin)) == answer["commands"], name
        compared += 1
    assert compared > 100


# --------------------------------------------------------------------------- jobs


JOB_CODES = {
    "BLOCK_EMPTY",
    "BLOCK_SHELL_COMMAND",
    "BLOCK_UNKNOWN_PLUGIN",
    "BLOCK_IS_JOB",
    "BLOCK_INVALID_NAME",
    "BLOCK_MAPPER_NOT_MAPPING",
    "BLOCK_AMBIGUOUS_MAPPING",
    "BLOCK_SEQUENCE",
}
"""Errors the block parser itself decides (an unknown command fails later, at run time)."""


def test_jobs_the_block_parser_refuses_are_the_jobs_validate_refuses(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pool = [
        "tap-a", "tap-c", "target-b", "target-d", "m1", "m2", "dup", "util", "util:cmd",
        "orch:go", "tap-a:x", "ghost", "j0", "a:b:c", "mapper",
    ]  # fmt: skip
    rng = random.Random(21)
    jobs = []
    for index in range(220):
        blocks = [rng.choice(pool) for _ in range(rng.randint(1, 6))]
        if index % 4 == 0:  # well-formed sets are the rarer case: make sure there are many
            blocks = ["tap-a", *rng.sample(["m1", "m2"], rng.randint(0, 2)), "target-b"]
            blocks.insert(rng.choice([0, len(blocks)]), rng.choice(["util:cmd", "orch:go"]))
        separator = "  " if index % 37 == 5 else " "
        jobs.append({"name": f"j{index}", "tasks": [separator.join(blocks)]})
    jobs.append({"name": "util", "tasks": ["tap-a target-b"]})  # a job named like a plugin
    doc = {
        "project_id": "parity",
        "plugins": {
            "extractors": [
                {"name": "tap-a", "namespace": "tap_a"},
                {"name": "tap-c", "namespace": "tap_c"},
            ],
            "loaders": [
                {"name": "target-b", "namespace": "target_b"},
                {"name": "target-d", "namespace": "target_d"},
            ],
            "mappers": [
                {"name": "mapper", "namespace": "m", "mappings": [{"name": "m1"}, {"name": "dup"}]},
                {
                    "name": "mapper-2",
                    "namespace": "m",
                    "mappings": [{"name": "m2"}, {"name": "dup"}],
                },
            ],
            "utilities": [{"name": "util", "namespace": "util", "commands": {"cmd": "x"}}],
            "orchestrators": [{"name": "orch", "namespace": "orch", "commands": {"go": "x"}}],
        },
        "jobs": jobs,
    }
    root = write(tmp_path / "project", doc)
    seed_system_database(root, tmp_path_factory.getbasetemp() / "oracle-template")

    theirs = ask_meltano("blocks", [(str(root), job["name"]) for job in jobs])
    report = validate_project(root)
    # A job named like a plugin is reported once, at its name; the jobs using that
    # name as a block are the ones Meltano refuses.
    ambiguous = {
        jobs[int(f.key_path[5:].split("]")[0])]["name"]
        for f in report.errors
        if f.code == "JOB_NAME_AMBIGUOUS"
    }
    ours = []
    for index, job in enumerate(jobs):
        prefix = f"jobs[{index}]"
        refused = [
            f.code
            for f in report.errors
            if f.code in JOB_CODES and (f.key_path.startswith(prefix + ".") or f.key_path == prefix)
        ]
        uses_ambiguous = any(b in ambiguous for t in job["tasks"] for b in t.split(" "))
        ours.append(bool(refused) or uses_ambiguous)

    disagreements = [
        f"{job['name']}: {job['tasks']}: validate {'refuses' if refused else 'accepts'}, "
        f"Meltano: {error or 'accepts'}"
        for job, refused, error in zip(jobs, ours, theirs, strict=True)
        if refused != (error is not None)
    ]
    assert disagreements == []
    assert 40 < sum(e is None for e in theirs) < len(jobs) - 40

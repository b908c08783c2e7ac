"""The project model (``load_project``): what it holds, when it refuses, what it never imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gruponos_ext.project import (
    MAX_FILE_BYTES,
    ProjectLoadError,
    load_project,
    validate_project,
)
from tests.support.meltano import REPO_ROOT


def test_the_bundled_project_as_a_model() -> None:
    model = load_project(REPO_ROOT)

    assert model.files == ("meltano.yml",)
    assert [job.name for job in model.jobs] == ["sample-jsonl", "wms-full", "wms-incremental"]
    sample = model.job("sample-jsonl")
    assert sample is not None
    assert [block.text for block in sample.blocks] == [
        "gruponos-infra:preflight",
        "tap-jsonl",
        "target-jsonl",
        "gruponos-infra:dispose",
    ]
    first = sample.blocks[0]
    assert (first.name, first.command) == ("gruponos-infra", "preflight")
    assert (first.where.file, first.where.key_path) == ("meltano.yml", "jobs[0].tasks[0]")
    text = (REPO_ROOT / "meltano.yml").read_text(encoding="utf-8")
    task = text.index(f"- {first.text} ", text.index("\njobs:"))  # not its mentions in comments
    assert first.where.line == 1 + text[:task].count("\n")

    hourly = model.schedule("wms-incremental-hourly")
    assert hourly is not None
    assert (hourly.kind, hourly.job, hourly.interval, hourly.cron) == (
        "job",
        "wms-incremental",
        "@hourly",
        "0 * * * *",
    )
    assert [e.name for e in model.environments] == ["dev", "staging", "prod"]
    assert model.active_environment is model.environment("dev")
    utility = model.plugin("utilities", "gruponos-infra")
    assert utility is not None and utility.is_custom_definition
    command = model.command(utility, "guard-sample")
    assert command is not None and command.args == "guard sample-jsonl"
    full = model.plugin("extractors", "tap-oracle-wms-full")
    assert full is not None and full.inherit_from == "tap-oracle-wms"
    assert model.parent(full) is model.plugin("extractors", "tap-oracle-wms")
    assert model.is_defined_offline(full)
    assert model.setting(full, "page_size") is not None  # declared by its parent


def test_the_model_is_read_only() -> None:
    model = load_project(REPO_ROOT)
    plugin = model.plugins[0]

    with pytest.raises(AttributeError):
        model.jobs = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        plugin.definition["name"] = "renamed"  # type: ignore[index]


def test_a_block_name_means_what_meltano_finds_first(tmp_path: Path) -> None:
    (tmp_path / "meltano.yml").write_text(
        """
plugins:
  utilities:
  - {name: airflow, namespace: u, commands: {util: x}}
  orchestrators:
  - {name: airflow, namespace: o}
  mappers:
  - {name: mapper, namespace: m, mappings: [{name: hide}, {name: both}]}
  - {name: mapper2, namespace: m, mappings: [{name: both}]}
""",
        encoding="utf-8",
    )
    model = load_project(tmp_path)

    airflow = model.resolve_block("airflow")
    hide = model.resolve_block("hide")
    both = model.resolve_block("both")
    assert airflow is not None and airflow.plugin.type == "orchestrators"
    assert hide is not None and (hide.plugin.name, hide.mapping) == ("mapper", "hide")
    assert both is not None and [p.name for p in both.also_defined_by] == ["mapper2"]
    assert model.resolve_block("nothing") is None
    assert [p.type for p in model.plugins_named("airflow")] == ["orchestrators", "utilities"]


def test_a_project_meltano_refuses_is_refused_with_every_reason(tmp_path: Path) -> None:
    (tmp_path / "meltano.yml").write_text(
        "environments:\n- name: prod\n  variables: {A: 1}\n"
        "plugins:\n  extractors:\n  - name: tap-x\n    settings: {a: {kind: string}}\n",
        encoding="utf-8",
    )

    with pytest.raises(ProjectLoadError) as caught:
        load_project(tmp_path)

    error = caught.value
    assert (error.code, error.exit_code) == ("PROJECT_INVALID", 1)
    assert [f.code for f in error.findings] == [
        "PLUGIN_SETTINGS_INVALID",
        "ENVIRONMENT_UNKNOWN_KEY",
    ]
    assert str(error).startswith(
        f"cannot load the Meltano project at {tmp_path}: meltano.yml:7: "
        "plugins.extractors[0].settings: settings must be a list"
    )
    assert str(error).endswith("(and 1 more)")
    assert json.dumps(error.details)


def test_mistakes_meltano_loads_do_not_stop_the_model(tmp_path: Path) -> None:
    (tmp_path / "meltano.yml").write_text(
        "jobs:\n- name: j\n  tasks: [tap-x target-y]\n"
        "schedules:\n- {name: s, job: j, interval: '0 0 * ? *'}\n",
        encoding="utf-8",
    )

    model = load_project(tmp_path)

    assert model.schedules[0].interval == "0 0 * ? *"
    assert validate_project(tmp_path).codes == (
        "BLOCK_UNKNOWN_PLUGIN",
        "BLOCK_UNKNOWN_PLUGIN",
        "SCHEDULE_INTERVAL_INVALID",
    )


@pytest.mark.parametrize(
    ("content", "code"),
    [(None, "PROJECT_NOT_FOUND"), ("", "PROJECT_EMPTY"), ("jobs: [\n", "YAML_INVALID")],
)
def test_an_unusable_meltano_yml_is_refused(tmp_path: Path, content: str | None, code: str) -> None:
    if content is not None:
        (tmp_path / "meltano.yml").write_text(content, encoding="utf-8")

    with pytest.raises(ProjectLoadError) as caught:
        load_project(tmp_path)

    assert [f.code for f in caught.value.findings] == [code]


def test_an_unknown_environment_is_refused_with_the_near_name() -> None:
    with pytest.raises(
        ProjectLoadError, match=r"unknown environment 'prd' \(did you mean 'prod'\?\)"
    ):
        load_project(REPO_ROOT, environment="prd")
    assert load_project(REPO_ROOT, environment="prod").active_environment is not None


def test_a_huge_meltano_yml_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "meltano.yml"
    with path.open("wb") as stream:
        stream.truncate(50 * 1024 * 1024)  # sparse: 50 MB of size, nothing to parse

    report = validate_project(tmp_path)

    assert report.codes == ("FILE_TOO_LARGE",)
    assert report.findings[0].message.startswith("the file is 50.0 MiB, over the 10 MiB limit")
    assert MAX_FILE_BYTES == 10 * 1024 * 1024


def test_lines_point_at_the_key_even_through_anchors_and_merges(tmp_path: Path) -> None:
    (tmp_path / "meltano.yml").write_text(
        "x-defaults: &defaults\n  namespace: shared\n"
        "plugins:\n  extractors:\n  - name: tap-a\n    <<: *defaults\n"
        "jobs:\n- name: j\n  tasks:\n  - tap-a\n  - [tap-b]\n",
        encoding="utf-8",
    )

    report = validate_project(tmp_path)

    assert [(f.code, f.line, f.key_path) for f in report.findings] == [
        ("TOP_LEVEL_UNKNOWN_KEY", 1, "x-defaults"),
        ("BLOCK_UNKNOWN_PLUGIN", 11, "jobs[0].tasks[1][0]"),
    ], report.lines()


def test_loading_the_model_never_imports_meltano() -> None:
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from gruponos_ext.project import load_project, validate_project\n"
        f"load_project(Path({str(REPO_ROOT)!r}))\n"
        f"validate_project(Path({str(REPO_ROOT)!r}))\n"
        "print(sorted(m for m in sys.modules if m == 'meltano' or m.startswith('meltano.')))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )

    assert done.stdout.strip() == "[]"

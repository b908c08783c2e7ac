"""The ``validate`` command, in-process: rule codes on every line, silencing, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import CliResult, run_in_process

# validate names the service profile first (see the edge of issue 9).
PROFILE = "profile: development (default: no Meltano environment)"

WARNING_PROJECT = """\
project_id: command-tests
plugins:
  extractors:
  - name: tap-a
    namespace: tap_a
    settings:
    - name: start_date
    start_date: '2024-01-01'
"""


def run_validate(root: Path | None, *args: str, **env: str) -> CliResult:
    """``gruponos_extension validate ARGS`` with only the given settings in the environment."""
    overlay: dict[str, str | None] = {"MELTANO_PROJECT_ROOT": str(root) if root else None}
    overlay.update(env)
    return run_in_process(["validate", *args], overlay)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "meltano.yml").write_text(WARNING_PROJECT, encoding="utf-8")
    return tmp_path


def test_each_finding_is_one_line_with_line_and_rule_code(project: Path) -> None:
    result = run_validate(project)

    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines() == [
        PROFILE,
        "warning: meltano.yml:8: plugins.extractors[0].start_date: 'start_date' is not a key "
        "of a plugin entry: it is a setting of extractor 'tap-a', so it belongs under config: "
        "[PLUGIN_UNKNOWN_KEY]",
        "validation passed: 0 error(s), 1 warning(s)",
    ]


def test_json_findings_carry_each_part_in_its_own_field(project: Path) -> None:
    result = run_validate(project, "--format", "json")

    document: dict[str, Any] = json.loads(result.stdout)
    assert document["ok"] is True and document["ignored"] == 0
    (warning,) = document["warnings"]
    assert warning == {
        "severity": "warning",
        "code": "PLUGIN_UNKNOWN_KEY",
        "file": "meltano.yml",
        "line": 8,
        "key_path": "plugins.extractors[0].start_date",
        "message": "'start_date' is not a key of a plugin entry: it is a setting of extractor "
        "'tap-a', so it belongs under config:",
    }


def test_strict_fails_on_a_warning_and_ignore_silences_its_rule(project: Path) -> None:
    strict = run_validate(project, "--strict")
    silenced = run_validate(project, "--strict", "--ignore", "PLUGIN_UNKNOWN_KEY")
    lower_case = run_validate(project, "--strict", "--ignore", "plugin_unknown_key")

    assert strict.returncode == 1
    assert strict.stdout.splitlines()[-1] == (
        "validation failed (--strict: warnings fail): 0 error(s), 1 warning(s)"
    )
    for result in (silenced, lower_case):
        assert result.returncode == 0, result.stdout
        assert result.stdout.splitlines() == [
            PROFILE,
            "validation passed: 0 error(s), 0 warning(s), 1 ignored (PLUGIN_UNKNOWN_KEY)",
        ]


def test_the_validate_ignore_setting_silences_rules_too(project: Path) -> None:
    result = run_validate(
        project, "--strict", GRUPONOS_INFRA_VALIDATE_IGNORE="SECRET_LITERAL,PLUGIN_UNKNOWN_KEY"
    )

    assert result.returncode == 0, result.stdout
    assert result.stdout.endswith("1 ignored (PLUGIN_UNKNOWN_KEY, SECRET_LITERAL)\n")


def test_an_unknown_code_to_ignore_exits_2_naming_it_and_the_close_codes(project: Path) -> None:
    result = run_validate(project, "--ignore", "PLUGIN_UNKNWON_KEY")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: --ignore: unknown rule code 'PLUGIN_UNKNWON_KEY'; close: PLUGIN_UNKNOWN_KEY, "
        "ENVIRONMENT_PLUGIN_UNKNOWN_KEY, PLUGIN_TYPE_UNKNOWN (README, 'What validate checks', "
        "lists every code)"
    ]


def test_an_unknown_code_in_the_setting_exits_2_naming_the_variable(project: Path) -> None:
    result = run_validate(project, GRUPONOS_INFRA_VALIDATE_IGNORE="NOT_A_RULE")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: GRUPONOS_INFRA_VALIDATE_IGNORE: unknown rule code 'NOT_A_RULE'"
    )


def test_invalid_settings_cannot_be_silenced(project: Path) -> None:
    ignored = run_validate(project, "--ignore", "INVALID_SETTINGS")
    bad_port = run_validate(project, "--ignore", "WIRING_ERROR", GRUPONOS_INFRA_ORACLE_PORT="x")

    assert ignored.returncode == 2
    assert "INVALID_SETTINGS cannot be ignored" in ignored.stderr
    assert bad_port.returncode == 2
    assert (
        "error: setting GRUPONOS_INFRA_ORACLE_PORT: must be an integer from 1 to 65535 "
        "(got 'x') [INVALID_SETTINGS]" in bad_port.stdout
    )


def test_errors_fail_and_are_counted_whatever_is_silenced(tmp_path: Path) -> None:
    (tmp_path / "meltano.yml").write_text(
        WARNING_PROJECT + "jobs:\n- name: j\n  tasks: [tap-a target-x]\n", encoding="utf-8"
    )

    result = run_validate(tmp_path, "--ignore", "PLUGIN_UNKNOWN_KEY", "--format", "json")

    assert result.returncode == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["ignored"] == 1
    assert [e["code"] for e in document["errors"]] == ["BLOCK_UNKNOWN_PLUGIN"]
    assert document["warnings"] == []


def test_outside_meltano_the_project_is_not_checked_but_said_so() -> None:
    result = run_validate(None)

    assert result.returncode == 0
    assert result.stdout.splitlines()[:2] == [
        PROFILE,
        "warning: project: MELTANO_PROJECT_ROOT is not set, so meltano.yml was not checked; "
        "run through `meltano invoke gruponos-infra:validate` [PROJECT_ROOT_UNKNOWN]",
    ]


def test_every_rule_code_is_documented_in_the_readme_with_its_severity() -> None:
    from gruponos_ext.project.codes import RULES
    from tests.support.meltano import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What validate checks", 1)[1].split("\n## ", 1)[0]
    documented = {
        cells[1].strip("` "): cells[2].strip()
        for line in section.splitlines()
        if line.startswith("| `") and len(cells := line.split("|")) > 3
    }

    assert documented == {code: rule.severity for code, rule in RULES.items()}

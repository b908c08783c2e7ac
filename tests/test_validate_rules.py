"""Rules of validate not covered by the older tests: one behaviour each."""

from __future__ import annotations

from pathlib import Path

import pytest

from gruponos_ext.project import ProjectReport, validate_project

UTILITY = """
plugins:
  extractors:
  - {name: tap-a, namespace: tap_a}
  loaders:
  - {name: target-b, namespace: target_b}
  utilities:
  - name: gruponos-infra
    namespace: gruponos_infra
    commands:
      preflight: preflight
      dispose: dispose
      preflight-x: preflight --job x
      dispose-other: dispose --job other
"""


@pytest.fixture(autouse=True)
def _no_meltano_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MELTANO_UTILITY_NAME", raising=False)


def check(tmp_path: Path, text: str) -> ProjectReport:
    (tmp_path / "meltano.yml").write_text(text, encoding="utf-8")
    return validate_project(tmp_path)


def summary(report: ProjectReport) -> list[tuple[str, str, str]]:
    return [(f.severity, f.code, f.key_path) for f in report.findings]


# --------------------------------------------------------------------------- run blocks


def test_bare_preflight_and_dispose_in_one_task_take_the_job_from_meltano_run(
    tmp_path: Path,
) -> None:
    report = check(
        tmp_path,
        UTILITY
        + "jobs:\n- name: x\n  tasks:\n"
        + "  - gruponos-infra:preflight tap-a target-b gruponos-infra:dispose\n",
    )

    assert summary(report) == []


def test_bare_preflight_whose_dispose_is_in_another_task_is_a_warning(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        UTILITY
        + "jobs:\n- name: x\n  tasks:\n  - gruponos-infra:preflight tap-a target-b\n"
        + "  - gruponos-infra:dispose\n",
    )

    assert summary(report) == [("warning", "PREFLIGHT_DISPOSE_SPLIT", "jobs[0].tasks[0]")]
    assert report.ok


def test_bare_preflight_without_any_dispose_holds_the_lock(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        UTILITY + "jobs:\n- name: x\n  tasks:\n  - gruponos-infra:preflight tap-a target-b\n",
    )

    assert summary(report) == [("error", "PREFLIGHT_WITHOUT_DISPOSE", "jobs[0].tasks[0]")]


def test_bare_preflight_and_a_dispose_of_another_job_do_not_match(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        UTILITY
        + "jobs:\n- name: x\n  tasks:\n"
        + "  - gruponos-infra:preflight tap-a target-b gruponos-infra:dispose-other\n",
    )

    assert summary(report) == [("error", "RUN_LOCK_MISMATCH", "jobs[0].tasks[0]")]
    assert "releases the run lock of 'other' but the preflight took the lock of 'x'" in (
        report.findings[0].message
    )


# --------------------------------------------------------------------------- identity


def test_same_name_in_two_types_is_legal_and_twice_in_one_type_is_not(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        """
plugins:
  orchestrators:
  - {name: airflow, namespace: a}
  utilities:
  - {name: airflow, namespace: b}
  - {name: airflow, namespace: c}
  transformers:
  - {name: dbt, namespace: dbt}
  files:
  - {name: dbt, namespace: dbt}
""",
    )

    assert summary(report) == [("error", "PLUGIN_DUPLICATE", "plugins.utilities[1]")]
    assert report.findings[0].message == (
        "utility 'airflow' is already defined (meltano.yml: plugins.utilities[0]): Meltano uses "
        "the first and ignores this one"
    )


def test_a_command_only_the_shadowed_plugin_has_is_explained(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        """
plugins:
  orchestrators:
  - {name: ops, namespace: a}
  utilities:
  - {name: ops, namespace: b, commands: {report: x}}
jobs:
- {name: j, tasks: ['ops:report']}
""",
    )

    assert summary(report) == [("error", "BLOCK_UNKNOWN_COMMAND", "jobs[0].tasks[0]")]
    assert "utility 'ops' defines it, but a block 'ops' is orchestrator 'ops'" in (
        report.findings[0].message
    )


def test_a_job_named_like_an_unused_plugin_name_is_only_a_warning(tmp_path: Path) -> None:
    report = check(tmp_path, UTILITY + "jobs:\n- name: tap-a\n  tasks: [tap-a target-b]\n")
    unused = check(tmp_path, UTILITY + "jobs:\n- name: target-b\n  tasks: [tap-a target-c]\n")

    assert summary(report) == [("error", "JOB_NAME_AMBIGUOUS", "jobs[0].name")]
    assert ("warning", "JOB_NAME_SHADOWS_PLUGIN", "jobs[0].name") in summary(unused)


# --------------------------------------------------------------------------- tasks


def test_a_shell_command_in_a_task_is_one_finding_that_says_so(tmp_path: Path) -> None:
    report = check(tmp_path, UTILITY + "jobs:\n- name: j\n  tasks:\n  - meltano run x --full\n")

    assert summary(report) == [("error", "BLOCK_SHELL_COMMAND", "jobs[0].tasks[0]")]
    assert "is a shell command, not blocks" in report.findings[0].message


def test_a_command_written_with_a_space_suggests_the_colon(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        UTILITY + "  transformers:\n  - {name: dbt, namespace: dbt, commands: {run: run}}\n"
        "jobs:\n- name: j\n  tasks: [dbt run]\n",
    )

    assert [f.message for f in report.findings] == [
        "unknown plugin 'run' (did you mean 'dbt:run'?)"
    ]


def test_an_empty_job_does_nothing_and_is_a_warning(tmp_path: Path) -> None:
    report = check(tmp_path, UTILITY + "jobs:\n- name: j\n  tasks: []\n- name: k\n  tasks:\n")

    assert summary(report) == [
        ("warning", "JOB_TASKS_EMPTY", "jobs[0].tasks"),
        ("error", "JOB_TASKS_INVALID", "jobs[1].tasks"),
    ]


# --------------------------------------------------------------------------- environments


def test_environments_report_what_meltano_ignores_and_what_it_refuses(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        UTILITY
        + """
environments:
- name: dev
  config:
    extractors: []
    plugins:
      extractors:
      - {name: tap-a, start_date: '2024'}
      - {name: tap-gone}
- name: 'prod:eu'
- name: test
  plugins: {}
""",
    )

    assert summary(report) == [
        ("error", "NAME_INVALID", "environments[1].name"),
        ("error", "ENVIRONMENT_UNKNOWN_KEY", "environments[2].plugins"),
        ("warning", "ENVIRONMENT_CONFIG_UNKNOWN_KEY", "environments[0].config.extractors"),
        (
            "warning",
            "ENVIRONMENT_PLUGIN_UNKNOWN_KEY",
            "environments[0].config.plugins.extractors[0].start_date",
        ),
        ("warning", "ENVIRONMENT_PLUGIN_UNDEFINED", "environments[0].config.plugins.extractors[1]"),
    ]


# --------------------------------------------------------------------------- own settings


def test_one_bad_value_in_the_plugins_own_config_is_one_finding_for_all_environments(
    tmp_path: Path,
) -> None:
    report = check(
        tmp_path,
        """
environments: [{name: dev}, {name: staging}, {name: prod}]
plugins:
  utilities:
  - name: gruponos-infra
    namespace: gruponos_infra
    config:
      lock_ttl: soon
""",
    )

    assert summary(report) == [
        ("error", "OWN_SETTING_INVALID", "plugins.utilities[0].config.lock_ttl")
    ]
    assert report.findings[0].message == (
        "environments 'dev', 'staging', 'prod': setting lock_ttl of utility 'gruponos-infra' "
        "(GRUPONOS_INFRA_LOCK_TTL): must be a number of seconds > 0 (got 'soon')"
    )


def test_any_meltano_environment_name_is_accepted_as_the_runtime_accepts_it(
    tmp_path: Path,
) -> None:
    from gruponos_ext.config import GruponosMeltanoSettings

    report = check(
        tmp_path,
        """
environments: [{name: userdev}, {name: cicd, env: {GRUPONOS_INFRA_ENVIRONMENT: test}}]
plugins:
  utilities:
  - {name: gruponos-infra, namespace: gruponos_infra}
""",
    )

    # The runtime maps a Meltano environment it does not know to the development
    # profile (issue 9: a name never switches profiles by itself), so validate agrees.
    assert summary(report) == []
    runtime = GruponosMeltanoSettings.from_env({"MELTANO_ENVIRONMENT": "userdev"})
    assert runtime.environment == "development"


def test_references_satisfy_requirements_but_their_values_are_never_judged(
    tmp_path: Path,
) -> None:
    report = check(
        tmp_path,
        """
plugins:
  utilities:
  - name: gruponos-infra
    namespace: gruponos_infra
    config:
      alert_smtp_host: $SMTP_HOST
      alert_email_from: ${FROM}
      alert_email_to: $TO
      oracle_pool_min: 9
      oracle_pool_max: $POOL_MAX
      oracle_wallet_location: $WALLET
      validate_ignore: [SECRET_LITERAL, NOT_A_CODE]
""",
    )

    assert summary(report) == [
        ("error", "OWN_SETTING_INVALID", "plugins.utilities[0].config.validate_ignore")
    ]
    assert "unknown rule code 'NOT_A_CODE'" in report.findings[0].message


# --------------------------------------------------------------------------- files


def test_include_paths_as_a_string_is_read_as_meltano_reads_it(tmp_path: Path) -> None:
    (tmp_path / "jobs.yml").write_text("jobs: []\n", encoding="utf-8")

    # Meltano globs each character: nothing matches 'j', 'o', 'b' or 's' ...
    harmless = check(tmp_path, "include_paths: jobs\n")
    # ... but '.' is a pattern pathlib refuses, so Meltano fails to load.
    fatal = check(tmp_path, "include_paths: jobs.yml\n")

    assert summary(harmless) == [("warning", "INCLUDE_NOT_LIST", "include_paths")]
    assert harmless.files == ("meltano.yml",)
    assert summary(fatal) == [
        ("warning", "INCLUDE_NOT_LIST", "include_paths"),
        ("error", "INCLUDE_INVALID", "include_paths[4]"),
    ]


def test_an_empty_included_file_fails_meltano(tmp_path: Path) -> None:
    (tmp_path / "more.yml").write_text("# nothing yet\n", encoding="utf-8")

    report = check(tmp_path, "include_paths: [./more.yml]\n")

    assert summary(report) == [("error", "FILE_NOT_MAPPING", "")]
    assert report.findings[0].file == "more.yml"

"""The meltano.yml validator (``validate``'s project part) and the bundled project."""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from gruponos_ext.project import ProjectFinding, ProjectReport, validate_project
from tests.support.meltano import REPO_ROOT, MeltanoProject, copy_bundled_project


@pytest.fixture(autouse=True)
def _no_meltano_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MELTANO_UTILITY_NAME", raising=False)


def bundled_copy(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """A copy of the bundled meltano.yml with each ``old`` text (exactly once) replaced."""
    root = copy_bundled_project(tmp_path / "project", utility_from_checkout=False, with_data=False)
    path = root / "meltano.yml"
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} must occur once in the bundled meltano.yml"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return root


def rendered(report: ProjectReport) -> list[str]:
    return [str(finding) for finding in report.findings]


def write_project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "meltano.yml").write_text(text, encoding="utf-8")
    return tmp_path


SAMPLE_TASK = "gruponos-infra:preflight tap-jsonl target-jsonl gruponos-infra:dispose"
PROD_PASSWORD = (
    "          oracle_password: $GRUPONOS_ORACLE_PASSWORD\n          oracle_protocol: tcps\n"
)


# --------------------------------------------------------------------------- bundled


def test_bundled_project_validates_clean() -> None:
    report = validate_project(REPO_ROOT)

    assert rendered(report) == []
    assert report.ok
    assert report.files == ("meltano.yml",)


def test_bundled_project_has_the_sample_and_production_wiring() -> None:
    doc = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text(encoding="utf-8"))

    jobs = {job["name"]: job["tasks"] for job in doc["jobs"]}
    assert jobs["sample-jsonl"] == [SAMPLE_TASK]
    assert "tap-oracle-wms" in jobs["wms-incremental"][0]
    assert "target-oracle" in jobs["wms-full"][0]
    assert {s["job"] for s in doc["schedules"]} == {"wms-full", "wms-incremental"}
    assert [env["name"] for env in doc["environments"]] == ["dev", "staging", "prod"]
    assert doc["default_environment"] == "dev"
    assert doc["send_anonymous_usage_stats"] is False
    assert "version" not in doc
    utility = doc["plugins"]["utilities"][0]
    assert utility["pip_url"] == "-e ${MELTANO_PROJECT_ROOT}"
    # Every plugin is a complete custom definition: nothing needs MeltanoHub.
    for plugins in doc["plugins"].values():
        for plugin in plugins:
            assert "namespace" in plugin or "inherit_from" in plugin, plugin["name"]


def test_bundled_prod_secrets_are_env_var_references_only() -> None:
    doc = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text(encoding="utf-8"))
    secret_names = {"password", "oracle_password", "wms_password", "alert_smtp_password"}
    secret_names |= {"alert_webhook_url", "alert_slack_webhook_url"}

    checked = 0
    for env in doc["environments"]:
        for plugins in env.get("config", {}).get("plugins", {}).values():
            for plugin in plugins:
                for key, value in plugin.get("config", {}).items():
                    if key in secret_names:
                        assert isinstance(value, str) and value.startswith("$"), (env, key)
                        checked += 1
    assert checked >= 10


def test_bundled_utility_matches_the_plugin_definition_file() -> None:
    definition = yaml.safe_load(
        (REPO_ROOT / "plugin_definitions" / "gruponos-infra--gruponos.yml").read_text("utf-8")
    )
    doc = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text(encoding="utf-8"))
    utility = next(p for p in doc["plugins"]["utilities"] if p["name"] == "gruponos-infra")

    assert utility["settings"] == definition["settings"]
    for key in ("namespace", "variant", "executable", "label"):
        assert utility[key] == definition[key]
    for name, command in definition["commands"].items():
        assert utility["commands"][name]["args"] == command["args"], name


# --------------------------------------------------------------------------- one defect each


def test_misspelt_plugin_in_a_job_names_it_and_the_near_name(tmp_path: Path) -> None:
    root = bundled_copy(
        tmp_path,
        (" tap-oracle-wms target-oracle ", " tap-oracle-wm target-oracle "),
    )

    report = validate_project(root)

    assert rendered(report) == [
        "meltano.yml: jobs[2].tasks[0]: unknown plugin 'tap-oracle-wm' "
        "(did you mean 'tap-oracle-wms'?)"
    ]
    assert not report.ok
    assert report.errors == report.findings


def test_unknown_plugin_command_is_an_error(tmp_path: Path) -> None:
    root = bundled_copy(
        tmp_path, ("target-jsonl gruponos-infra:dispose", "target-jsonl gruponos-infra:dispos")
    )

    assert rendered(validate_project(root)) == [
        "meltano.yml: jobs[0].tasks[0]: unknown command 'dispos' of utility "
        "'gruponos-infra' (did you mean 'dispose'?)"
    ]


def test_schedule_naming_a_missing_job_is_an_error(tmp_path: Path) -> None:
    root = bundled_copy(tmp_path, ("  job: wms-incremental\n", "  job: wms-incremntal\n"))

    assert rendered(validate_project(root)) == [
        "meltano.yml: schedules[0].job: schedule 'wms-incremental-hourly' runs job "
        "'wms-incremntal', which does not exist (did you mean 'wms-incremental'?)"
    ]


def test_prod_environment_without_oracle_password_is_an_error(tmp_path: Path) -> None:
    root = bundled_copy(tmp_path, (PROD_PASSWORD, "          oracle_protocol: tcps\n"))

    report = validate_project(root)

    assert rendered(report) == [
        "meltano.yml: environments[2].config.plugins.utilities[0].config: environment 'prod' "
        "enables Oracle (oracle_host is set) for utility 'gruponos-infra' but oracle_password "
        "is not set"
    ]
    assert report.findings[0].severity == "error"


def test_preflight_after_the_tap_is_an_error(tmp_path: Path) -> None:
    root = bundled_copy(
        tmp_path,
        (
            SAMPLE_TASK,
            "tap-jsonl target-jsonl gruponos-infra:preflight gruponos-infra:dispose",
        ),
    )

    assert rendered(validate_project(root)) == [
        "meltano.yml: jobs[0].tasks[0]: preflight block 'gruponos-infra:preflight' runs "
        "after the tap 'tap-jsonl': put it before the tap, so a failed preflight stops the run "
        "first"
    ]


def test_dispose_before_the_target_is_an_error(tmp_path: Path) -> None:
    root = bundled_copy(
        tmp_path,
        (
            "  tasks:\n  - " + SAMPLE_TASK,
            "  tasks:\n  - gruponos-infra:preflight\n  - gruponos-infra:dispose\n"
            "  - tap-jsonl target-jsonl",
        ),
    )

    assert rendered(validate_project(root)) == [
        "meltano.yml: jobs[0].tasks[0]: the bare preflight block 'gruponos-infra:preflight' of "
        "job 'sample-jsonl' has its dispose in another task: keep both in the task they bracket",
        "meltano.yml: jobs[0].tasks[1]: dispose block 'gruponos-infra:dispose' runs "
        "before the target 'target-jsonl': put it after the target",
    ]


def test_missing_dispose_block_is_an_error(tmp_path: Path) -> None:
    root = bundled_copy(
        tmp_path,
        (SAMPLE_TASK, "gruponos-infra:preflight tap-jsonl target-jsonl"),
    )

    report = validate_project(root)

    assert rendered(report) == [
        "meltano.yml: jobs[0].tasks[0]: job 'sample-jsonl' has a preflight block but no "
        "dispose block: add one after the target, or the run lock is held until it goes stale"
    ]
    assert report.findings[0].severity == "error"


def test_dispose_without_preflight_is_a_warning(tmp_path: Path) -> None:
    root = bundled_copy(tmp_path, (SAMPLE_TASK, "tap-jsonl target-jsonl gruponos-infra:dispose"))

    report = validate_project(root)

    assert [(f.severity, f.key_path) for f in report.findings] == [("warning", "jobs[0].tasks[0]")]
    assert "dispose block but no preflight block" in report.findings[0].message
    assert report.ok


def test_yaml_syntax_error_is_one_finding_with_its_line(tmp_path: Path) -> None:
    root = bundled_copy(tmp_path, ('  interval: "@hourly"\n', "  interval: @hourly\n"))
    lines = (root / "meltano.yml").read_text(encoding="utf-8").splitlines()
    line = lines.index("  interval: @hourly") + 1

    report = validate_project(root)

    assert len(report.findings) == 1
    finding = report.findings[0]
    assert (finding.severity, finding.file) == ("error", "meltano.yml")
    assert finding.key_path == f"line {line}, column 13"
    assert "cannot start any token" in finding.message
    assert "Traceback" not in str(finding)


def test_missing_meltano_yml_is_one_finding(tmp_path: Path) -> None:
    report = validate_project(tmp_path)

    assert len(report.findings) == 1
    finding = report.findings[0]
    assert (finding.severity, finding.file, finding.key_path) == ("error", "meltano.yml", "")
    assert "no meltano.yml" in finding.message
    assert report.files == ()


# --------------------------------------------------------------------------- settings


def test_env_var_references_count_as_set_in_both_forms(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        """
environments:
- name: prod
  config:
    plugins:
      utilities:
      - name: gruponos-infra
        config:
          oracle_host: ${ORA_HOST}
          oracle_sid: $ORA_SID
          oracle_user: ${ORA_USER}
          oracle_password: $ORA_PASSWORD
          wms_base_url: $WMS_URL
          wms_user: $WMS_USER
plugins:
  utilities:
  - name: gruponos-infra
    env:
      GRUPONOS_INFRA_WMS_PASSWORD: $WMS_SECRET
""",
    )

    assert rendered(validate_project(root)) == []


def test_empty_values_and_plugin_level_host_are_checked_per_environment(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        """
environments:
- name: dev
- name: prod
  config:
    plugins:
      utilities:
      - name: gruponos-infra
        config:
          oracle_user: ''
plugins:
  utilities:
  - name: gruponos-infra
    config:
      oracle_host: db.internal
      oracle_user: etl
      oracle_password: $ORA_PASSWORD
      oracle_service_name: WMSPDB
      oracle_sid: WMS
""",
    )

    assert rendered(validate_project(root)) == [
        "meltano.yml: environments[0]: environment 'dev' sets both oracle_service_name and "
        "oracle_sid for utility 'gruponos-infra': set exactly one",
        "meltano.yml: environments[1].config.plugins.utilities[0].config: environment 'prod' "
        "enables Oracle (oracle_host is set) for utility 'gruponos-infra' but oracle_user is "
        "not set",
        "meltano.yml: environments[1].config.plugins.utilities[0].config: environment 'prod' "
        "sets both oracle_service_name and oracle_sid for utility 'gruponos-infra': set "
        "exactly one",
    ]


def test_oracle_without_a_service_name_or_sid_is_an_error(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        """
plugins:
  utilities:
  - name: gruponos-infra
    config:
      oracle_host: db.internal
      oracle_user: etl
      oracle_password: $ORA_PASSWORD
""",
    )

    assert rendered(validate_project(root)) == [
        "meltano.yml: plugins.utilities[0].config: the project enables Oracle (oracle_host is "
        "set) for utility 'gruponos-infra' but sets neither oracle_service_name nor oracle_sid: "
        "set exactly one",
    ]


def test_wms_without_credentials_is_an_error(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        """
plugins:
  utilities:
  - name: gruponos-infra
    pip_url: gruponos-infra
    config:
      wms_base_url: https://wms.example
""",
    )

    assert rendered(validate_project(root)) == [
        f"meltano.yml: plugins.utilities[0].config: the project enables the WMS API "
        f"(wms_base_url is set) for utility 'gruponos-infra' but {name} is not set"
        for name in ("wms_user", "wms_password")
    ]


def test_environment_argument_limits_the_per_environment_checks(tmp_path: Path) -> None:
    root = bundled_copy(tmp_path, (PROD_PASSWORD, "          oracle_protocol: tcps\n"))

    assert rendered(validate_project(root, environment="dev")) == []
    assert len(validate_project(root, environment="prod").findings) == 1
    assert rendered(validate_project(root, environment="prd")) == [
        "meltano.yml: environments: unknown environment 'prd' (did you mean 'prod'?)"
    ]


def test_literal_secret_is_a_warning_that_never_shows_the_secret(tmp_path: Path) -> None:
    planted = "Planted-Secret-4711"
    root = bundled_copy(
        tmp_path,
        (PROD_PASSWORD, f"          oracle_password: {planted}\n          oracle_protocol: tcps\n"),
    )

    report = validate_project(root)

    assert [(f.severity, f.key_path) for f in report.findings] == [
        ("warning", "environments[2].config.plugins.utilities[0].config.oracle_password")
    ]
    assert planted not in json.dumps(report.to_dict()) + "\n".join(report.lines())


def test_secret_on_a_broken_yaml_line_stays_out_of_the_finding(tmp_path: Path) -> None:
    planted = "Planted-Secret-4712"
    root = bundled_copy(
        tmp_path,
        (
            PROD_PASSWORD,
            f'          oracle_password: "{planted}\n          oracle_protocol: tcps\n',
        ),
    )

    report = validate_project(root)

    assert len(report.findings) == 1
    assert report.findings[0].key_path.startswith("line ")
    assert planted not in str(report.findings[0])


def test_setting_names_the_plugin_does_not_declare_are_warnings(tmp_path: Path) -> None:
    # The original GrupoNOS trap: meltano.yml settings its own tap/target ignored.
    root = bundled_copy(
        tmp_path,
        ("      page_size: 500\n", "      page_size: 500\n      company_code: GNOS\n"),
        ("      batch_size: 1000\n", "      batch_size: 1000\n      host: db.internal\n"),
    )

    report = validate_project(root)

    assert rendered(report) == [
        "meltano.yml: plugins.extractors[1].config.company_code: setting 'company_code' is not "
        "declared by extractor 'tap-oracle-wms': Meltano passes it as custom, possibly "
        "unsupported",
        "meltano.yml: plugins.loaders[1].config.host: setting 'host' is not declared by loader "
        "'target-oracle': Meltano passes it as custom, possibly unsupported",
    ]
    assert report.ok


# --------------------------------------------------------------------------- blocks and jobs


MINIMAL_PLUGINS = """
plugins:
  extractors:
  - name: tap-a
    namespace: tap_a
  loaders:
  - name: target-b
    namespace: target_b
  mappers:
  - name: meltano-map-transformer
    namespace: meltano_map_transformer
    mappings:
    - name: hide-emails
  utilities:
  - name: gruponos-infra
    namespace: gruponos_infra
    commands:
      preflight-x: preflight --job x
      dispose-x: dispose --job x
      dispose-y: dispose --job y
      preflight-nojob: preflight
      guard-x: guard x
      guard-loop: guard loop
"""


def jobs_project(tmp_path: Path, jobs: str, extra: str = "") -> Path:
    return write_project(tmp_path, MINIMAL_PLUGINS + "jobs:\n" + jobs + extra)


def test_mapping_between_tap_and_target_is_accepted(tmp_path: Path) -> None:
    root = jobs_project(
        tmp_path,
        "- name: x\n  tasks: [gruponos-infra:preflight-x tap-a hide-emails target-b "
        "gruponos-infra:dispose-x]\n",
    )

    assert rendered(validate_project(root)) == []


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        (
            "tap-a  target-b",
            "meltano.yml: jobs[0].tasks[0]: empty block: a double, leading or trailing space "
            "(meltano splits tasks on single spaces)",
        ),
        (
            "tap-a gruponos-infra:preflight-x target-b",
            "meltano.yml: jobs[0].tasks[0]: 'gruponos-infra:preflight-x' comes between extractor "
            "'tap-a' and a loader: meltano run needs the extractor, its mappings and the loader "
            "next to each other",
        ),
        ("tap-a", "meltano.yml: jobs[0].tasks[0]: extractor 'tap-a' has no loader after it"),
        ("target-b", "meltano.yml: jobs[0].tasks[0]: loader 'target-b' has no extractor before it"),
        (
            "tap-a meltano-map-transformer target-b",
            "meltano.yml: jobs[0].tasks[0]: 'meltano-map-transformer' is a mapper plugin: a block "
            "names one of its mappings such as 'hide-emails'",
        ),
        (
            "other tap-a target-b",
            "meltano.yml: jobs[0].tasks[0]: 'other' is a job: a job cannot be a block of another "
            "job (meltano run expands job names only on its command line)",
        ),
        (
            "gruponos-infra:preflight-x tap-a target-b gruponos-infra:dispose-y",
            "meltano.yml: jobs[0].tasks[0]: dispose block 'gruponos-infra:dispose-y' releases the "
            "run lock of 'y' but the preflight took the lock of 'x'",
        ),
        (
            "gruponos-infra:guard-x",
            "meltano.yml: jobs[0].tasks[0]: 'gruponos-infra:guard-x' in job 'x' runs job 'x', "
            "which runs job 'x' again: endless recursion",
        ),
        (
            "gruponos-infra:guard-loop",
            "meltano.yml: jobs[0].tasks[0]: 'gruponos-infra:guard-loop' guards job 'loop', which "
            "does not exist",
        ),
    ],
)
def test_broken_block_sequences_are_named(tmp_path: Path, tasks: str, expected: str) -> None:
    root = jobs_project(
        tmp_path,
        f"- name: x\n  tasks: ['{tasks}']\n- name: other\n  tasks: [tap-a target-b]\n",
    )

    assert rendered(validate_project(root)) == [expected]


def test_nested_task_lists_report_the_inner_index(tmp_path: Path) -> None:
    root = jobs_project(
        tmp_path,
        "- name: x\n  tasks:\n  - [gruponos-infra:preflight-x, tap-a target-b]\n"
        "  - [gruponos-infra:dispose-x, tap-x]\n",
    )

    assert rendered(validate_project(root)) == [
        "meltano.yml: jobs[0].tasks[1][1]: unknown plugin 'tap-x' (did you mean 'tap-a'?)"
    ]


def test_job_named_like_a_plugin_and_duplicates_are_errors(tmp_path: Path) -> None:
    root = jobs_project(
        tmp_path,
        "- name: tap-a\n  tasks: [tap-a target-b]\n- name: y\n  tasks: [tap-a target-b]\n"
        "- name: y\n  tasks: [tap-a target-b]\n",
    )

    assert rendered(validate_project(root)) == [
        "meltano.yml: jobs[2]: job name 'y' is already used (meltano.yml: jobs[1])",
        "meltano.yml: jobs[0].name: job 'tap-a' has the name of a plugin: meltano run refuses "
        "the ambiguous reference",
    ]


def test_own_utility_name_comes_from_meltano_utility_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = bundled_copy(
        tmp_path,
        (
            "  - name: gruponos-infra\n    namespace: gruponos_infra\n",
            "  - name: ops\n    namespace: ops_ext\n",
        ),
    )
    text = (root / "meltano.yml").read_text(encoding="utf-8")
    text = text.replace("gruponos-infra:", "ops:").replace(
        "      - name: gruponos-infra\n", "      - name: ops\n"
    )
    text = text.replace("target-jsonl ops:dispose", "target-jsonl")
    (root / "meltano.yml").write_text(text, encoding="utf-8")

    assert rendered(validate_project(root)) == []  # 'ops' is someone else's utility
    monkeypatch.setenv("MELTANO_UTILITY_NAME", "ops")
    assert [f.key_path for f in validate_project(root).findings] == ["jobs[0].tasks[0]"]


# --------------------------------------------------------------------------- schedules, files


def test_schedules_legacy_form_and_bad_intervals(tmp_path: Path) -> None:
    root = jobs_project(
        tmp_path,
        "- name: x\n  tasks: [tap-a target-b]\n",
        """schedules:
- name: legacy-ok
  extractor: tap-a
  loader: target-b
  transform: skip
  interval: '0 */2 * * mon-fri'
- name: legacy-wrong
  extractor: tap-a
  loader: tap-a
  transform: run
  interval: '@daily'
- name: bad-cron
  job: x
  interval: '61 * * * *'
- name: nothing
  interval: '@hourly'
""",
    )

    assert rendered(validate_project(root)) == [
        "meltano.yml: schedules[1].loader: schedule 'legacy-wrong' names extractor 'tap-a', "
        "not a loader",
        "meltano.yml: schedules[2].interval: schedule 'bad-cron': interval '61 * * * *': the "
        "minute field '61' is not valid: 61 is outside 0-59",
        "meltano.yml: schedules[3]: schedule 'nothing' names no job (nor an extractor and a "
        "loader)",
    ]


def test_included_files_are_validated_with_their_own_name(tmp_path: Path) -> None:
    root = jobs_project(
        tmp_path,
        "- name: x\n  tasks: [tap-a target-b]\n",
        "include_paths:\n- ./jobs/*.yml\n- ./missing.yml\n",
    )
    (root / "jobs").mkdir()
    (root / "jobs" / "more.yml").write_text(
        "jobs:\n- name: more\n  tasks: [tap-a target-c]\n", encoding="utf-8"
    )

    report = validate_project(root)

    assert rendered(report) == [
        "meltano.yml: include_paths[1]: included file './missing.yml' does not exist",
        "jobs/more.yml: jobs[0].tasks[0]: unknown plugin 'target-c' (did you mean 'target-b'?)",
    ]
    assert report.files == ("meltano.yml", "jobs/more.yml")


def test_yaml_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    root = jobs_project(
        tmp_path, "- name: x\n  tasks: [tap-a target-b]\n", "include_paths:\n- ./extra.yml\n"
    )
    (root / "extra.yml").write_text("schedules:\n- name: s\n  interval: @daily\n", "utf-8")

    assert [(f.file, f.key_path) for f in validate_project(root).findings] == [
        ("extra.yml", "line 3, column 13")
    ]


def test_top_level_typos_and_the_deprecated_version_key_are_warnings(tmp_path: Path) -> None:
    root = jobs_project(
        tmp_path, "- name: x\n  tasks: [tap-a target-b]\n", "version: 1\nschedule: []\n"
    )

    report = validate_project(root)

    assert rendered(report) == [
        "meltano.yml: schedule: unknown top-level key 'schedule' (did you mean 'schedules'?)",
        "meltano.yml: version: 'version' is deprecated in Meltano 4: use 'requires_meltano' "
        "instead",
    ]
    assert report.ok


def test_duplicate_yaml_keys_are_refused_like_meltano_does(tmp_path: Path) -> None:
    root = jobs_project(tmp_path, "- name: x\n  tasks: [tap-a target-b]\n", "jobs: []\n")

    report = validate_project(root)

    assert len(report.findings) == 1
    assert report.findings[0].key_path.startswith("line ")
    assert "found duplicate key 'jobs'" in report.findings[0].message


def test_environment_configuring_an_unknown_plugin_is_an_error(tmp_path: Path) -> None:
    root = bundled_copy(
        tmp_path,
        (
            "- name: staging\n  config:\n    plugins:\n",
            "- name: staging\n  config:\n    plugins:\n"
            "      mappers:\n      - name: tap-oracle-wms\n"
            "      files:\n      - name: tap-oracle-wm\n",
        ),
    )

    assert rendered(validate_project(root)) == [
        "meltano.yml: environments[1].config.plugins.mappers[0]: environment 'staging' "
        "configures extractor 'tap-oracle-wms' under mappers: Meltano ignores this entry",
        "meltano.yml: environments[1].config.plugins.files[0]: environment 'staging' "
        "configures unknown file bundle 'tap-oracle-wm': Meltano ignores this entry",
    ]


def test_findings_are_frozen_and_render_as_file_key_message() -> None:
    finding = ProjectFinding(
        "error", "meltano.yml", "jobs[2].tasks[0]", "unknown plugin 'x'", "BLOCK_UNKNOWN_PLUGIN", 7
    )

    assert str(finding) == "meltano.yml: jobs[2].tasks[0]: unknown plugin 'x'"
    assert finding.render() == (
        "error: meltano.yml:7: jobs[2].tasks[0]: unknown plugin 'x' [BLOCK_UNKNOWN_PLUGIN]"
    )
    assert finding.to_dict() == {
        "severity": "error",
        "code": "BLOCK_UNKNOWN_PLUGIN",
        "file": "meltano.yml",
        "line": 7,
        "key_path": "jobs[2].tasks[0]",
        "message": "unknown plugin 'x'",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.message = "changed"  # type: ignore[misc]


def test_validation_opens_no_network_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise AssertionError("validate_project opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)

    for environment in (None, "dev", "staging", "prod"):
        assert validate_project(REPO_ROOT, environment=environment).ok
    assert attempts == []


# --------------------------------------------------------------------------- real meltano


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_sample_pipeline_runs_offline_with_real_meltano(meltano_project: Any) -> None:
    project: MeltanoProject = meltano_project()

    project.install("tap-jsonl", "target-jsonl")
    # From a subdirectory: paths in the project resolve from MELTANO_PROJECT_ROOT, not the cwd.
    result = project.run("run", "tap-jsonl", "target-jsonl", cwd=project.root / "data")

    assert result.returncode == 0, result.stderr
    assert not (project.root / "data" / "output").exists()
    records = [json.loads(line) for line in project.sample_output.read_text("utf-8").splitlines()]
    source = [
        json.loads(line)
        for line in (REPO_ROOT / "data" / "allocations.jsonl").read_text("utf-8").splitlines()
    ]
    assert len(source) >= 10
    assert [r["id"] for r in records] == [s["id"] for s in source]
    assert [r["qty"] for r in records] == [s["qty"] for s in source]
    assert {r["_sdc_stream"] for r in records} == {"allocations"}

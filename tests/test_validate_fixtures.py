"""One small project per case of issue 8: validate's verdict and Meltano's agree.

Each project under ``tests/data/projects/`` (its comment says which case it
is) is checked by ``validate`` and by a real ``meltano`` command in a copy of
it: where Meltano refuses (to load the project, to run the job, to accept the
schedule), validate reports an error; where Meltano accepts, validate reports
no error (a warning at most, for what Meltano silently ignores).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gruponos_ext.config import GruponosMeltanoSettings, SettingsError
from gruponos_ext.project import validate_project
from tests.support.meltano import MELTANO_BIN, REPO_ROOT, offline_meltano_env

pytestmark = pytest.mark.e2e

PROJECTS = REPO_ROOT / "tests" / "data" / "projects"


@dataclass(frozen=True)
class Case:
    project: str
    codes: tuple[str, ...]
    """Every finding's rule code, in order."""
    command: tuple[str, ...]
    """The ``meltano`` command whose exit status is Meltano's verdict."""
    meltano_accepts: bool
    output_has: str = ""
    output_lacks: str = ""
    extra: tuple[tuple[str, ...], ...] = field(default=())
    """More commands, each with the same expected verdict."""


CASES = [
    # -- false errors before: Meltano accepts these
    Case("plugin_identity_orchestrator_and_utility", (), ("run", "nightly"), True),
    Case("plugin_identity_transformer_and_files", (), ("run", "--dry-run", "transform"), True),
    Case(
        "environment_configures_undefined_plugin",
        ("ENVIRONMENT_PLUGIN_UNDEFINED",),
        ("run", "--dry-run", "load"),
        True,
    ),
    Case(
        "cron_meltano_accepts",
        (),
        ("schedule", "add", "probe-l", "--job", "job", "--interval", "0 17 L * *"),
        True,
        extra=tuple(
            ("schedule", "add", f"probe-{n}", "--job", "job", "--interval", interval)
            for n, interval in enumerate(["@annually", "@midnight", "@manual", "@once"])
        ),
    ),
    # -- missed errors before: Meltano refuses these
    Case(
        "bare_block_name_resolves_by_type",
        ("BLOCK_UNKNOWN_COMMAND",),
        ("run", "report"),
        False,
    ),
    Case(
        "cron_meltano_refuses",
        ("SCHEDULE_INTERVAL_INVALID",),
        ("schedule", "add", "probe", "--job", "job", "--interval", "0 0 * ? *"),
        False,
    ),
    Case(
        "settings_as_mapping",
        ("VERSION_DEPRECATED", "PLUGIN_SETTINGS_INVALID", "PLUGIN_SETTINGS_INVALID"),
        ("job", "list"),
        False,
        output_has="SettingDefinition",
    ),
    Case("environment_key_orchestrators", ("ENVIRONMENT_UNKNOWN_KEY",), ("job", "list"), False),
    Case("environment_key_variables", ("ENVIRONMENT_UNKNOWN_KEY",), ("job", "list"), False),
    Case("misindented_environment_plugins", ("ENVIRONMENT_UNKNOWN_KEY",), ("job", "list"), False),
    Case("empty_meltano_yml", ("PROJECT_EMPTY",), ("job", "list"), False),
    Case("elt_schedule_without_transform", ("SCHEDULE_ELT_INCOMPLETE",), ("job", "list"), False),
    Case(
        "tasks_as_one_string",
        ("JOB_TASKS_STRING",),
        ("run", "--dry-run", "load"),
        False,
        output_has="Block t not found",
    ),
    Case(
        "inheritance_cycle",
        ("PLUGIN_INHERITANCE_CYCLE",),
        ("config", "print", "ops-a"),
        False,
    ),
    # -- what Meltano drops without a word: warnings, and Meltano indeed drops it
    Case(
        "misindented_plugin_setting",
        ("PLUGIN_UNKNOWN_KEY",),
        ("config", "print", "tap-a", "--format", "json"),
        True,
        output_lacks="2024-01-01",
    ),
    Case(
        "misindented_environment_config",
        ("ENVIRONMENT_CONFIG_UNKNOWN_KEY", "ENVIRONMENT_PLUGIN_UNKNOWN_KEY"),
        ("--environment", "dev", "config", "print", "tap-a", "--format", "json"),
        True,
        output_lacks="-01-01",
    ),
    # -- one finding per mistake
    Case("repeated_double_spaces", ("BLOCK_EMPTY",) * 6, ("run", "--dry-run", "load"), False),
    Case("shell_command_task", ("BLOCK_SHELL_COMMAND",), ("run", "--dry-run", "help"), False),
    # -- true findings kept
    Case("undefined_plugin_in_job", ("BLOCK_UNKNOWN_PLUGIN",), ("run", "--dry-run", "load"), False),
    Case("schedule_missing_job", ("SCHEDULE_UNKNOWN_JOB",), ("schedule", "run", "hourly"), False),
    Case(
        "default_environment_undefined",
        ("DEFAULT_ENVIRONMENT_UNDEFINED",),
        ("run", "job"),
        False,
        output_has="Environment 'prd' was not found",
    ),
    Case(
        "six_field_cron",
        ("SCHEDULE_INTERVAL_INVALID",),
        ("schedule", "add", "probe", "--job", "job", "--interval", "0 0 0 * * *"),
        False,
    ),
]


def meltano(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MELTANO_BIN), *args],
        cwd=root,
        env={**offline_meltano_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.project)
def test_validate_and_meltano_agree_on_the_project(case: Case, tmp_path: Path) -> None:
    root = shutil.copytree(PROJECTS / case.project, tmp_path / case.project)

    report = validate_project(root)
    outcomes = [meltano(root, *command) for command in (case.command, *case.extra)]

    assert report.codes == case.codes, "\n".join(report.lines())
    for outcome in outcomes:
        output = outcome.stdout + outcome.stderr
        assert (outcome.returncode == 0) is case.meltano_accepts, output[-2000:]
        assert case.output_has in output
        assert not case.output_lacks or case.output_lacks not in outcome.stdout
    # The agreement itself: validate fails exactly the projects Meltano refuses.
    assert report.ok is case.meltano_accepts


def test_every_fixture_project_is_checked() -> None:
    projects = {path.name for path in PROJECTS.iterdir() if path.is_dir()}

    assert projects == {case.project for case in CASES} | {"own_settings_typed"}


def test_own_settings_are_refused_exactly_where_the_runtime_refuses_them(tmp_path: Path) -> None:
    root = shutil.copytree(PROJECTS / "own_settings_typed", tmp_path / "project")
    references = {"ORACLE_HOST": "db.internal", "ORACLE_PASSWORD": "x", "ORACLE_SERVICE": "WMS"}
    references["POOL_MAX"] = "16"

    report = validate_project(root)
    ours: dict[str, set[str]] = {}
    for finding in report.findings:
        assert finding.code == "OWN_SETTING_INVALID", finding.render()
        environment = finding.message.split("'")[1]
        setting = finding.message.split("setting ")[1].split(" ")[0]
        ours.setdefault(environment, set()).add(setting)
    theirs: dict[str, set[str]] = {}
    for environment in ("dev", "staging", "prod", "test"):
        printed = meltano(
            root,
            "--environment",
            environment,
            "config",
            "--unsafe",
            "print",
            "gruponos-infra",
            "--format",
            "env",
            env=references,
        )
        assert printed.returncode == 0, printed.stderr[-2000:]
        exported = dict(
            shlex.split(line)[0].split("=", 1)
            for line in printed.stdout.splitlines()
            if "=" in line
        )
        exported |= {"MELTANO_ENVIRONMENT": environment, "MELTANO_PROJECT_ROOT": str(root)}
        try:
            GruponosMeltanoSettings.from_env(exported)
        except SettingsError as exc:
            theirs[environment] = {issue.setting for issue in exc.issues}

    assert ours == theirs
    assert ours == {
        "dev": {"oracle_port", "wms_verify_tls"},
        "staging": {"health_check_timeout", "alert_email_to"},
        "prod": {"environment"},
    }
    assert Counter(f.severity for f in report.findings) == {"error": 5}

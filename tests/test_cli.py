"""The ``gruponos_extension`` CLI in-process: parsing, exit codes and rendering (no Meltano).

Each test runs the click command group with click's ``CliRunner`` against a
copy of the bundled project, from a directory that is not the project root,
with MELTANO_PROJECT_ROOT / MELTANO_SYS_DIR_ROOT set as Meltano would and
nothing of the caller's GRUPONOS_* / MELTANO_* environment (see
``in_process_cli``). What only a real process shows is in
``test_cli_process.py``.
"""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from gruponos_ext.extension.cli import cli
from tests.support.cli import TRACEBACK, InProcessCli, health_json, only_line, oracle_env
from tests.support.net import HttpTestServer, SilentListener

PLANTED = "S3cr3t-Planted-Pw-9431"
CHECK_KEY = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
BAD_PORT = {"GRUPONOS_INFRA_ORACLE_PORT": "abc"}
# The check names of a local, default project (nothing external configured).
LOCAL_CHECKS = {
    "settings:valid",
    "disk:free_space",
    "meltano_db:integrity",
    "state_dir:writable",
    "state_store:ping",
    "circuit_breakers:state",
    "oracle:connection",
    "wms_api:reachability",
}


# --------------------------------------------------------------------------- describe


def test_describe_lists_exactly_the_cli_commands(in_process_cli: InProcessCli) -> None:
    result = in_process_cli.run("describe", "--format", "text")

    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  - (\S+)$", result.stdout, flags=re.MULTILINE)
    assert sorted(listed) == sorted(cli.commands)
    document = json.loads(in_process_cli.run("describe", "--format", "json").stdout)
    assert sorted(document["commands"][0]["commands"]) == sorted(cli.commands)


# --------------------------------------------------------------------------- help


def test_help_of_every_command_documents_the_exit_codes(in_process_cli: InProcessCli) -> None:
    for command in [None, *sorted(cli.commands)]:
        args = ["--help"] if command is None else [command, "--help"]
        result = in_process_cli.run(*args)

        assert result.returncode == 0, (command, result.stderr)
        text = " ".join(result.stdout.split())
        assert "Exit codes:" in text, command
        assert "0 passed (warnings allowed unless --strict)" in text, command
        assert "1 a check failed, validation found errors" in text, command
        assert "2 bad usage or bad settings" in text, command


# --------------------------------------------------------------------------- validate


def test_validate_passes_on_the_bundled_project(in_process_cli: InProcessCli) -> None:
    text = in_process_cli.run("validate")
    as_json = in_process_cli.run("validate", "--format", "json")

    assert text.returncode == 0, text.stdout + text.stderr
    assert text.stdout.splitlines() == [
        "profile: development (default: no Meltano environment)",
        "validation passed: 0 error(s), 0 warning(s)",
    ]
    assert not (in_process_cli.root / ".meltano").exists()  # a CI step: it writes nothing
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout) == {
        "ok": True,
        "strict": False,
        "profile": {
            "name": "development",
            "environment": "development",
            "source": "default",
            "meltano_environment": None,
        },
        "errors": [],
        "warnings": [],
    }


def test_validate_strict_fails_on_a_warning_and_says_so(in_process_cli: InProcessCli) -> None:
    # Outside Meltano (no MELTANO_PROJECT_ROOT) meltano.yml cannot be checked: a warning.
    unset = ("MELTANO_PROJECT_ROOT", "MELTANO_SYS_DIR_ROOT")

    relaxed = in_process_cli.run("validate", unset=unset)
    strict = in_process_cli.run("validate", "--strict", unset=unset)
    strict_json = in_process_cli.run("validate", "--strict", "--format", "json", unset=unset)

    assert relaxed.returncode == 0
    profile, warning, _ = relaxed.stdout.splitlines()
    assert profile == "profile: development (default: no Meltano environment)"
    assert warning.startswith("warning: project: MELTANO_PROJECT_ROOT is not set")
    assert relaxed.stdout.splitlines()[-1] == "validation passed: 0 error(s), 1 warning(s)"
    assert strict.returncode == 1
    assert strict.stdout.splitlines()[-1] == (
        "validation failed (--strict: warnings fail): 0 error(s), 1 warning(s)"
    )
    assert strict_json.returncode == 1
    assert json.loads(strict_json.stdout)["ok"] is False


def test_commands_needing_the_state_dir_exit_2_outside_meltano(
    in_process_cli: InProcessCli,
) -> None:
    unset = ("MELTANO_PROJECT_ROOT", "MELTANO_SYS_DIR_ROOT")

    for command in ("initialize", "history"):
        result = in_process_cli.run(command, unset=unset)

        assert result.returncode == 2, command
        assert result.stdout == ""
        line = only_line(result.stderr)
        assert line.startswith("error: no state directory") and "GRUPONOS_INFRA_STATE_DIR" in line


def test_validate_names_file_and_key_path_of_a_misspelt_plugin(
    in_process_cli: InProcessCli,
) -> None:
    meltano_yml = in_process_cli.root / "meltano.yml"
    text = meltano_yml.read_text(encoding="utf-8")
    task = "gruponos-infra:preflight tap-oracle-wms target-oracle"
    assert text.count(task) == 1
    meltano_yml.write_text(text.replace(task, task.replace("-wms ", "-wsm ")), encoding="utf-8")

    result = in_process_cli.run("validate")
    as_json = in_process_cli.run("validate", "--format", "json")

    assert result.returncode == 1
    assert "error: meltano.yml: jobs[2].tasks[0]: unknown plugin 'tap-oracle-wsm'" in result.stdout
    assert "validation failed: 1 error(s)" in result.stdout
    assert TRACEBACK not in result.stderr
    assert as_json.returncode == 1
    (error,) = json.loads(as_json.stdout)["errors"]
    assert error["where"] == "meltano.yml: jobs[2].tasks[0]"


def test_validate_names_the_line_of_a_yaml_syntax_error(in_process_cli: InProcessCli) -> None:
    meltano_yml = in_process_cli.root / "meltano.yml"
    meltano_yml.write_text(
        meltano_yml.read_text(encoding="utf-8") + "jobs: [unclosed\n", encoding="utf-8"
    )

    result = in_process_cli.run("validate")

    assert result.returncode == 1
    assert re.search(r"^error: meltano\.yml: .*line \d+", result.stdout, flags=re.MULTILINE)
    assert TRACEBACK not in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["health", "validate", "config", "services", "dispose"])
def test_bad_setting_exits_2_naming_its_variable(
    in_process_cli: InProcessCli, command: str
) -> None:
    result = in_process_cli.run(command, env=BAD_PORT)

    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "GRUPONOS_INFRA_ORACLE_PORT: must be an integer from 1 to 65535" in output
    assert TRACEBACK not in output
    if command != "validate":  # validate reports it as a finding on stdout
        assert result.stdout == ""
        assert "GRUPONOS_INFRA_ORACLE_PORT" in only_line(result.stderr)


def test_every_invalid_setting_is_named_at_once_and_a_bad_secret_is_not_echoed(
    in_process_cli: InProcessCli,
) -> None:
    result = in_process_cli.run(
        "validate",
        env={
            **BAD_PORT,
            "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": f"ftp://hooks.example/{PLANTED}",
            "GRUPONOS_INFRA_HEALTH_DISK_WARN_MB": "lots",
        },
    )

    assert result.returncode == 2
    for name in (
        "GRUPONOS_INFRA_ORACLE_PORT",
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL",
        "GRUPONOS_INFRA_HEALTH_DISK_WARN_MB",
    ):
        assert f"error: setting {name}: " in result.stdout
    assert PLANTED not in result.stdout + result.stderr


# --------------------------------------------------------------------------- health


def test_health_passes_on_local_defaults_and_json_is_ietf_health(
    in_process_cli: InProcessCli,
) -> None:
    text = in_process_cli.run("health")
    as_json = in_process_cli.run("health", "--format", "json")

    assert text.returncode == 0, text.stdout + text.stderr
    assert text.stdout.rstrip().splitlines()[-1].startswith("PASS: 8 checks")
    assert as_json.returncode == 0, as_json.stderr
    document = health_json(as_json.stdout)
    assert document["status"] == "pass"
    assert set(document["checks"]) == LOCAL_CHECKS
    for key, entries in document["checks"].items():
        assert CHECK_KEY.match(key), key
        assert isinstance(entries, list) and entries, key
        for entry in entries:
            assert entry["status"] in {"pass", "warn", "fail"}, key
            assert entry["time"].endswith("Z"), key
    disk = document["checks"]["disk:free_space"][0]
    assert disk["observedUnit"] == "MiB" and disk["observedValue"] > 0
    oracle = document["checks"]["oracle:connection"][0]
    assert oracle["skipped"] is True and "not configured" in oracle["output"]


def test_unknown_check_exits_2_with_one_line_naming_it_and_the_choices(
    in_process_cli: InProcessCli,
) -> None:
    result = in_process_cli.run("health", "--check", "nope")

    assert result.returncode == 2
    assert result.stdout == ""
    line = only_line(result.stderr)
    assert "'nope'" in line
    for name in LOCAL_CHECKS:
        assert name in line
    assert TRACEBACK not in result.stderr


def test_check_and_tag_select_checks(in_process_cli: InProcessCli) -> None:
    by_component = in_process_cli.run("health", "--check", "disk", "--format", "json")
    by_name = in_process_cli.run(
        "health", "--check", "settings:valid", "--check", "state_dir", "--format", "json"
    )
    critical = in_process_cli.run("health", "--tag", "critical", "--format", "json")
    unknown_tag = in_process_cli.run("health", "--tag", "nope")

    assert set(health_json(by_component.stdout)["checks"]) == {"disk:free_space"}
    assert set(health_json(by_name.stdout)["checks"]) == {"settings:valid", "state_dir:writable"}
    selected = health_json(critical.stdout)["checks"]
    assert selected and set(selected) < LOCAL_CHECKS
    assert all(entries[0]["critical"] is True for entries in selected.values())
    assert unknown_tag.returncode == 2
    assert "'nope'" in only_line(unknown_tag.stderr) and "critical" in unknown_tag.stderr


def test_warning_passes_unless_strict(in_process_cli: InProcessCli) -> None:
    # More free space demanded than any disk has: the disk check warns.
    huge = {"GRUPONOS_INFRA_HEALTH_DISK_WARN_MB": str(10**12)}

    relaxed = in_process_cli.run("health", "--format", "json", env=huge)
    strict = in_process_cli.run("health", "--strict", env=huge)

    assert relaxed.returncode == 0, relaxed.stderr
    document = health_json(relaxed.stdout)
    assert document["status"] == "warn"
    assert document["checks"]["disk:free_space"][0]["status"] == "warn"
    assert strict.returncode == 1
    assert re.search(r"^WARN\s+disk:free_space", strict.stdout, flags=re.MULTILINE)


def test_oracle_closed_port_fails_with_cannot_reach(
    in_process_cli: InProcessCli, closed_port: int
) -> None:
    result = in_process_cli.run("health", env=oracle_env(PLANTED, closed_port))

    assert result.returncode == 1
    line = next(ln for ln in result.stdout.splitlines() if "oracle:connection" in ln)
    assert line.startswith("FAIL")
    assert f"cannot reach Oracle at 127.0.0.1:{closed_port}" in line
    assert PLANTED not in result.stdout + result.stderr


def test_timeout_option_bounds_checks_that_carry_their_own_timeout(
    in_process_cli: InProcessCli, silent_listener: SilentListener
) -> None:
    # Oracle's check bounds itself by the connect timeout (30 s here);
    # an explicit --timeout is the upper bound for every check.
    env = oracle_env(PLANTED, silent_listener.port, GRUPONOS_INFRA_ORACLE_CONNECT_TIMEOUT="30")

    started = time.monotonic()
    result = in_process_cli.run("health", "--check", "oracle", "--timeout", "1", env=env)
    elapsed = time.monotonic() - started

    assert result.returncode == 1
    assert re.search(r"^FAIL\s+oracle:connection .*timed out after 1", result.stdout, re.M)
    assert elapsed < 15, f"took {elapsed:.1f} s; the connect timeout is 30 s"


def test_wms_rejecting_credentials_fails_naming_it(
    in_process_cli: InProcessCli, http_server: Any
) -> None:
    server: HttpTestServer = http_server({"/health": 200}, basic_auth=("wms", "another-password"))
    env = {
        "GRUPONOS_INFRA_WMS_BASE_URL": server.url,
        "GRUPONOS_INFRA_WMS_USER": "wms",
        "GRUPONOS_INFRA_WMS_PASSWORD": PLANTED,
        "GRUPONOS_INFRA_WMS_HEALTH_PATH": "/health",
    }

    result = in_process_cli.run("health", "--check", "wms_api", env=env)

    assert result.returncode == 1
    assert re.search(
        r"^FAIL\s+wms_api:reachability .*rejected the credentials", result.stdout, re.M
    )
    assert [r.authorized for r in server.requests] == [False]
    assert PLANTED not in result.stdout + result.stderr


def test_json_and_prometheus_files_are_written_and_parse(in_process_cli: InProcessCli) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    out = in_process_cli.root / "metrics"
    json_file, prom_file = out / "health.json", out / "health.prom"

    result = in_process_cli.run(
        "health", "--json-file", str(json_file), "--prom-file", str(prom_file)
    )

    assert result.returncode == 0, result.stderr
    document = json.loads(json_file.read_text(encoding="utf-8"))
    assert document["status"] == "pass" and set(document["checks"]) == LOCAL_CHECKS
    families = list(text_string_to_metric_families(prom_file.read_text(encoding="utf-8")))
    samples = [s for family in families for s in family.samples]
    checks_seen = {s.labels.get("check") for s in samples} - {None}
    assert checks_seen == LOCAL_CHECKS
    assert sorted(p.name for p in out.iterdir()) == ["health.json", "health.prom"]  # no temp left


def test_health_is_recorded_in_history(in_process_cli: InProcessCli) -> None:
    assert in_process_cli.run("health").returncode == 0

    history = in_process_cli.run("history", "--format", "json")

    assert history.returncode == 0, history.stderr
    (record,) = json.loads(history.stdout)["health"]
    assert record["status"] == "pass"


# --------------------------------------------------------------------------- introspection


def test_config_masks_secrets_and_shows_sources(in_process_cli: InProcessCli) -> None:
    env = oracle_env(
        PLANTED, 1522, GRUPONOS_INFRA_ALERT_WEBHOOK_URL=f"https://hooks.example/{PLANTED}"
    )
    # Meltano exports the definition's defaults as variables too: those count as defaults.
    env["GRUPONOS_INFRA_ORACLE_CALL_TIMEOUT"] = "60"

    text = in_process_cli.run("config", env=env)
    as_json = in_process_cli.run("config", "--format", "json", env=env)

    assert text.returncode == 0 and as_json.returncode == 0, text.stderr
    assert PLANTED not in text.stdout + text.stderr + as_json.stdout + as_json.stderr
    rows = {line.split()[0]: line for line in text.stdout.splitlines()}
    assert "********" in rows["oracle_password"]
    assert rows["oracle_password"].endswith("(env:GRUPONOS_INFRA_ORACLE_PASSWORD)")
    assert rows["oracle_host"].endswith("(env:GRUPONOS_INFRA_ORACLE_HOST)")
    assert rows["oracle_call_timeout"].endswith("(default)")
    assert rows["project_root"].endswith("(env:MELTANO_PROJECT_ROOT)")
    config = json.loads(as_json.stdout)
    assert config["alert_webhook_url"] == {
        "value": "********",
        "source": "env:GRUPONOS_INFRA_ALERT_WEBHOOK_URL",
    }
    assert config["wms_password"] == {"value": None, "source": "default"}
    assert config["oracle_port"] == {"value": 1522, "source": "env:GRUPONOS_INFRA_ORACLE_PORT"}
    assert config["oracle_call_timeout"] == {"value": 60.0, "source": "default"}


def test_services_and_graph_show_what_the_container_wires(
    in_process_cli: InProcessCli, closed_port: int
) -> None:
    env = oracle_env(PLANTED, closed_port)

    services = in_process_cli.run("services", "--format", "json", env=env)
    mermaid = in_process_cli.run("graph", "--format", "mermaid", env=env)
    dot = in_process_cli.run("graph", "--format", "dot", env=env)
    local = in_process_cli.run("services")

    assert services.returncode == mermaid.returncode == dot.returncode == 0
    wired = {s["name"]: s for s in json.loads(services.stdout)}
    assert {"settings", "state_store", "alert_manager", "orchestrator"} <= set(wired)
    assert {"connection_pool", "oracle_manager"} <= set(wired)  # Oracle is configured
    assert wired["connection_pool"]["cleanup"] is True
    assert wired["connection_pool"]["health_check"] is True
    assert mermaid.stdout.startswith(("graph ", "flowchart "))
    assert dot.stdout.startswith("digraph") and dot.stdout.rstrip().endswith("}")
    for name in wired:
        assert name in mermaid.stdout and f'"{name}"' in dot.stdout
    assert '"orchestrator" -> "oracle_manager"' in dot.stdout
    assert local.returncode == 0
    assert "connection_pool" not in local.stdout  # not configured, not wired


# --------------------------------------------------------------------------- errors and logs


@pytest.mark.parametrize("level", [None, "info", "warning", "error", "debug"])
def test_expected_errors_show_a_traceback_only_at_debug(
    in_process_cli: InProcessCli, level: str | None
) -> None:
    env = {**BAD_PORT, **({"LOG_LEVEL": level} if level else {})}

    result = in_process_cli.run("health", env=env)

    assert result.returncode == 2
    assert "error: invalid setting GRUPONOS_INFRA_ORACLE_PORT" in result.stderr
    assert (TRACEBACK in result.stderr) is (level == "debug")


# --------------------------------------------------------------------------- run lifecycle


def test_dispose_twice_is_fine_and_the_second_has_nothing_to_do(
    in_process_cli: InProcessCli,
) -> None:
    nothing_yet = in_process_cli.run("dispose")
    preflight = in_process_cli.run("preflight", "--job", "nightly", "--skip-health")
    first = in_process_cli.run("dispose", "--job", "nightly")
    second = in_process_cli.run("dispose", "--job", "nightly")

    assert nothing_yet.returncode == 0
    assert only_line(nothing_yet.stdout) == "nothing to dispose for run manual:default"
    assert preflight.returncode == 0, preflight.stderr
    assert first.returncode == 0, first.stderr
    assert "disposed: released run lock(s) of job(s) nightly" in first.stdout
    assert second.returncode == 0, second.stderr
    assert only_line(second.stdout) == "nothing to dispose for run manual:nightly"


def test_dispose_with_oracle_configured_reports_no_pool_it_never_opened(
    in_process_cli: InProcessCli, closed_port: int
) -> None:
    # Each dispose is a new process: its Oracle manager never opened a pool,
    # so "closed connection_pool" would be a false report.
    env = oracle_env(PLANTED, closed_port)

    first = in_process_cli.run("dispose", env=env)
    second = in_process_cli.run("dispose", env=env)

    for result in (first, second):
        assert result.returncode == 0, result.stderr
        assert only_line(result.stdout) == "nothing to dispose for run manual:default"


def test_initialize_creates_the_state_dir_and_shows_each_jobs_change(
    in_process_cli: InProcessCli,
) -> None:
    state_dir = in_process_cli.state_dir
    assert not state_dir.exists()
    meltano_yml = in_process_cli.root / "meltano.yml"
    bare = "gruponos-infra:preflight tap-oracle-wms target-oracle gruponos-infra:dispose"
    assert meltano_yml.read_text(encoding="utf-8").count(bare) == 1
    text = meltano_yml.read_text(encoding="utf-8").replace(bare, "tap-oracle-wms target-oracle")
    meltano_yml.write_text(text, encoding="utf-8")

    result = in_process_cli.run("initialize")

    assert result.returncode == 0, result.stderr
    first, _, plan = result.stdout.partition("\n")
    assert first == f"state directory ready: {state_dir}"
    assert (state_dir / "state.db").is_file()
    with sqlite3.connect(state_dir / "state.db") as db:
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
    assert "job wms-incremental (meltano.yml):\n" in plan
    assert "  - tasks: ['tap-oracle-wms target-oracle']\n" in plan
    assert f"  + tasks: ['{bare}']\n" in plan
    assert "job sample-jsonl (meltano.yml):\n    tasks: unchanged (already has" in plan
    assert "initialize --write" in plan
    assert meltano_yml.read_text(encoding="utf-8") == text  # nothing written without --write


def test_initialize_force_recreates_the_state_database(in_process_cli: InProcessCli) -> None:
    assert in_process_cli.run("preflight", "--job", "nightly", "--skip-health").returncode == 0
    assert json.loads(in_process_cli.run("history", "--format", "json").stdout)["locks"]

    again = in_process_cli.run("initialize")
    kept = json.loads(in_process_cli.run("history", "--format", "json").stdout)
    forced = in_process_cli.run("initialize", "--force")
    fresh = json.loads(in_process_cli.run("history", "--format", "json").stdout)

    assert again.returncode == 0 and forced.returncode == 0
    assert len(kept["runs"]) == 1 and kept["locks"]
    assert fresh == {"runs": [], "locks": [], "health": []}


def test_invoke_runs_a_command_by_name(in_process_cli: InProcessCli) -> None:
    invoked = in_process_cli.run("invoke", "health", "--check", "disk", "--format", "json")
    unknown = in_process_cli.run("invoke", "nope")

    assert invoked.returncode == 0, invoked.stderr
    assert set(health_json(invoked.stdout)["checks"]) == {"disk:free_space"}
    assert unknown.returncode == 2
    assert "unknown command 'nope'" in unknown.stderr


# --------------------------------------------------------------------------- meltano.yml


def parse(argv: list[str]) -> None:
    """Parse ``argv`` with the real CLI exactly as a process would (raises on a bad option)."""
    ctx = cli.make_context("gruponos_extension", list(argv))
    sub = cli.get_command(ctx, argv[0])
    assert sub is not None, f"no CLI command {argv[0]!r}"
    sub.make_context(argv[0], argv[1:], parent=ctx)


def test_every_command_of_the_bundled_meltano_yml_parses_and_names_real_jobs() -> None:
    from tests.support.meltano import REPO_ROOT

    doc = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text(encoding="utf-8"))
    (utility,) = [p for p in doc["plugins"]["utilities"] if p["name"] == "gruponos-infra"]
    jobs = {job["name"] for job in doc["jobs"]}
    # What `meltano invoke gruponos-infra:<command> EXTRA` appends where one is needed.
    extra = {"guard": ["sample-jsonl"]}

    named_jobs: set[str] = set()
    for name, entry in utility["commands"].items():
        argv = [*shlex.split(entry["args"]), *extra.get(name, [])]
        parse(argv)
        if "--job" in argv:
            named_jobs.add(argv[argv.index("--job") + 1])
        elif argv[0] == "guard":
            named_jobs.add(argv[1])
    assert named_jobs == jobs, "every job has its own preflight/dispose/guard commands"


def test_cli_resolves_the_project_from_meltano_project_root_not_the_cwd(
    in_process_cli: InProcessCli, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "meltano.yml").write_text("jobs: [broken\n", encoding="utf-8")

    validate = in_process_cli.run("validate", cwd=elsewhere)
    health = in_process_cli.run("health", cwd=elsewhere)

    assert validate.returncode == 0, validate.stdout
    assert health.returncode == 0, health.stdout
    assert in_process_cli.state_dir.is_dir()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["meltano.yml"]


# --------------------------------------------------------------------------- hostile values


@pytest.mark.parametrize("value", ["inf", "1e308", "nan", "-inf", "0", "3601", "1_0", "\u0661"])
def test_health_timeout_must_be_finite_seconds_within_bounds(
    in_process_cli: InProcessCli, value: str
) -> None:
    result = in_process_cli.run("health", "--timeout", value)

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    line = only_line(result.stderr)
    assert line.startswith("error: Invalid value for '--timeout': ")
    assert line.endswith("; see 'gruponos_extension health --help'")
    assert TRACEBACK not in result.stderr
    assert not in_process_cli.state_dir.exists()  # refused before anything ran


@pytest.mark.parametrize(
    "args",
    [
        ["history", "--limit", "99999999999999999999"],
        ["history", "--limit", "0"],
        ["history", "--limit", "\u0661\u0665"],
        ["guard", "job", "--timeout", "1e308"],
        ["guard", "job", "--retries", "99999999999999999999"],
    ],
)
def test_out_of_range_numbers_are_one_line_naming_the_option(
    in_process_cli: InProcessCli, args: list[str]
) -> None:
    result = in_process_cli.run(*args)

    assert result.returncode == 2, result.stdout + result.stderr
    line = only_line(result.stderr)
    assert line.startswith(f"error: Invalid value for '{args[-2]}': ")
    assert TRACEBACK not in result.stderr


LONG_JOB = "j" * 300


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["preflight", "--job", ""], "'--job'"),
        (["guard", ""], "'JOB'"),
        (["preflight", "--job", LONG_JOB], "'--job'"),
        (["guard", LONG_JOB], "'JOB'"),
        (["dispose", "--job", LONG_JOB], "'--job'"),
        (["history", "--job", LONG_JOB], "'--job'"),
        (["preflight", "--job", "bad\nname"], "'--job'"),
        (["invoke", "guard", ""], "'JOB'"),
    ],
)
def test_a_job_name_that_can_never_be_one_is_refused_naming_the_option(
    in_process_cli: InProcessCli, args: list[str], named: str
) -> None:
    result = in_process_cli.run(*args)

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    line = only_line(result.stderr)
    assert line.startswith(f"error: Invalid value for {named}: the job name ")
    assert TRACEBACK not in result.stderr and "File name too long" not in result.stderr
    assert not in_process_cli.state_dir.exists()  # no lock, no workspace, no file


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GRUPONOS_INFRA_ORACLE_PORT", "\u0661\u0665\u0662\u0661"),  # Arabic-Indic 1521
        ("GRUPONOS_INFRA_ORACLE_PORT", "1_521"),
        ("GRUPONOS_INFRA_ALERT_SMTP_PORT", "5_87"),
        ("GRUPONOS_INFRA_HEALTH_DEADLINE", "1e400"),
        ("GRUPONOS_INFRA_ALERT_EMAIL_TO", "[" * 100_000),
    ],
)
def test_hostile_setting_values_are_one_line_naming_the_variable(
    in_process_cli: InProcessCli, variable: str, value: str
) -> None:
    result = in_process_cli.run("health", env={variable: value})

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    line = only_line(result.stderr)
    assert line.startswith(f"error: invalid setting {variable}: must be ")
    assert len(line) < 300 and TRACEBACK not in result.stderr


def test_usage_errors_are_one_line_with_where_to_find_help(in_process_cli: InProcessCli) -> None:
    unknown_option = in_process_cli.run("health", "--bogus")
    unknown_command = in_process_cli.run("bogus")
    bad_choice = in_process_cli.run("health", "--format", "xml")

    for result in (unknown_option, unknown_command, bad_choice):
        assert result.returncode == 2
        assert result.stdout == ""
        assert only_line(result.stderr).startswith("error: ")
    assert only_line(unknown_option.stderr) == (
        "error: No such option '--bogus'; see 'gruponos_extension health --help'"
    )
    assert "'bogus'" in unknown_command.stderr


# --------------------------------------------------------------------------- profile


def test_health_config_and_validate_show_the_profile_and_why(
    in_process_cli: InProcessCli,
) -> None:
    env = {"MELTANO_ENVIRONMENT": "staging"}
    expected = "profile: production (staging, from Meltano environment 'staging')"
    profile = {
        "name": "production",
        "environment": "staging",
        "source": "env:MELTANO_ENVIRONMENT",
        "meltano_environment": "staging",
    }

    texts = {c: in_process_cli.run(c, env=env) for c in ("health", "config", "validate")}
    documents = {
        c: json.loads(in_process_cli.run(c, "--format", "json", env=env).stdout)
        for c in ("health", "config", "validate")
    }

    for command, result in texts.items():
        assert result.returncode == 0, (command, result.stdout + result.stderr)
        assert result.stdout.splitlines()[0] == expected, command
        assert documents[command]["profile"] == profile, command


@pytest.mark.parametrize("meltano_environment", ["test", "testing"])
def test_a_meltano_environment_named_test_keeps_locks_alerts_and_oracle(
    in_process_cli: InProcessCli, closed_port: int, meltano_environment: str
) -> None:
    env = {"MELTANO_ENVIRONMENT": meltano_environment, **oracle_env(PLANTED, closed_port)}

    health = in_process_cli.run("health", "--check", "oracle", env=env)
    preflight = in_process_cli.run("preflight", "--job", "nightly", "--skip-health", env=env)
    history = in_process_cli.run("history", "--format", "json", env=env)

    assert health.stdout.splitlines()[0] == (
        f"profile: development (from Meltano environment {meltano_environment!r})"
    )
    assert re.search(r"^FAIL\s+oracle:connection .*cannot reach Oracle", health.stdout, re.M)
    assert preflight.returncode == 0, preflight.stderr
    # The lock is in the project's state database, where the next run sees it.
    (lock,) = json.loads(history.stdout)["locks"]
    assert lock["job"] == "nightly"
    assert (in_process_cli.state_dir / "state.db").is_file()


def test_only_the_explicit_setting_selects_the_test_profile(in_process_cli: InProcessCli) -> None:
    result = in_process_cli.run(
        "config", env={"GRUPONOS_INFRA_ENVIRONMENT": "test", "MELTANO_ENVIRONMENT": "prod"}
    )

    assert result.stdout.splitlines()[0] == "profile: test (from GRUPONOS_INFRA_ENVIRONMENT)"


# --------------------------------------------------------------------------- report files


def test_a_report_file_that_is_a_fifo_is_refused_before_the_checks_run(
    in_process_cli: InProcessCli, tmp_path: Path
) -> None:
    import os
    import stat

    fifo = tmp_path / "health.json"
    os.mkfifo(fifo)

    result = in_process_cli.run("health", "--json-file", str(fifo))

    assert result.returncode == 2
    assert result.stdout == ""
    assert only_line(result.stderr) == (
        f"error: --json-file {fifo} is a FIFO (named pipe); a report replaces only a regular "
        "file: give the path of a file (it need not exist yet)"
    )
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    history = json.loads(in_process_cli.run("history", "--format", "json").stdout)
    assert history["health"] == []  # no check ran


def test_metrics_dir_reports_are_refused_over_a_device_naming_the_setting(
    in_process_cli: InProcessCli, tmp_path: Path
) -> None:
    import os
    import stat

    metrics = tmp_path / "metrics"
    metrics.mkdir()
    node = metrics / "gruponos_health.prom"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null
    except PermissionError:
        pytest.skip("creating a device node needs root")

    result = in_process_cli.run("health", env={"GRUPONOS_INFRA_METRICS_DIR": str(metrics)})

    assert result.returncode == 2
    line = only_line(result.stderr)
    assert line.startswith(
        f"error: metrics_dir (GRUPONOS_INFRA_METRICS_DIR) {node} is a character device"
    )
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_health_reports_follow_a_symlink_into_its_directory(
    in_process_cli: InProcessCli, tmp_path: Path
) -> None:
    real = tmp_path / "store" / "health.json"
    real.parent.mkdir()
    real.write_text("{}")
    link = tmp_path / "health.json"
    link.symlink_to(real)

    result = in_process_cli.run("health", "--json-file", str(link))

    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert json.loads(real.read_text())["status"] == "pass"

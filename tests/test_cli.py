"""The ``gruponos_extension`` CLI run as a real process (no Meltano).

Each test runs the console script of the test environment against a copy of
the bundled project, from a directory that is not the project root, with
MELTANO_PROJECT_ROOT / MELTANO_SYS_DIR_ROOT set as Meltano would and nothing
of the caller's GRUPONOS_* / MELTANO_* environment (see ``extension_cli``).
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
from tests.support.cli import ExtensionCli
from tests.support.net import HttpTestServer, SilentListener

PLANTED = "S3cr3t-Planted-Pw-9431"
CHECK_KEY = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
TRACEBACK = "Traceback (most recent call last)"
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


def oracle_env(port: int, **extra: str) -> dict[str, str]:
    return {
        "GRUPONOS_INFRA_ORACLE_HOST": "127.0.0.1",
        "GRUPONOS_INFRA_ORACLE_PORT": str(port),
        "GRUPONOS_INFRA_ORACLE_SERVICE_NAME": "GRUPONOS_TEST",
        "GRUPONOS_INFRA_ORACLE_USER": "wms_reader",
        "GRUPONOS_INFRA_ORACLE_PASSWORD": PLANTED,
        **extra,
    }


def health_json(stdout: str) -> dict[str, Any]:
    document = json.loads(stdout)
    assert isinstance(document, dict)
    return document


def only_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


# --------------------------------------------------------------------------- describe


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_describe_equals_the_edk_describe_formatted(extension_cli: ExtensionCli, fmt: str) -> None:
    from meltano.edk.extension import DescribeFormat

    from gruponos_ext.extension.extension import GruponosInfraExtension

    result = extension_cli.run("describe", "--format", fmt)

    assert result.returncode == 0, result.stderr
    expected = GruponosInfraExtension().describe_formatted(DescribeFormat(fmt))
    assert result.stdout.rstrip("\n") == expected.rstrip("\n")
    assert result.stderr == ""


def test_describe_lists_exactly_the_cli_commands(extension_cli: ExtensionCli) -> None:
    result = extension_cli.run("describe", "--format", "text")

    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  - (\S+)$", result.stdout, flags=re.MULTILINE)
    assert sorted(listed) == sorted(cli.commands)
    document = json.loads(extension_cli.run("describe", "--format", "json").stdout)
    assert sorted(document["commands"][0]["commands"]) == sorted(cli.commands)


_PROBE = """
import json, sys
events = []
def audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
        events.append(event)
sys.addaudithook(audit)
sys.argv = ["gruponos_extension", *sys.argv[1:]]
from gruponos_ext.extension.cli import main
code = None
try:
    main()
except SystemExit as exc:
    code = exc.code
heavy = ("oracledb", "pydantic", "structlog", "yaml", "sqlite3", "smtplib", "urllib.request",
         "http.client", "meltano", "rich")
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules],
                  "network": events}), file=sys.__stderr__)
"""


def probe(
    extension_cli: ExtensionCli, *args: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run the CLI's ``main`` in a fresh interpreter; what it imported and connected to."""
    result = extension_cli.python(_PROBE, *args, env=env)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert isinstance(report, dict)
    return report


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_describe_imports_nothing_heavy(extension_cli: ExtensionCli, fmt: str) -> None:
    report = probe(extension_cli, "describe", "--format", fmt)

    assert report["code"] == 0
    assert report["loaded"] == []


def test_validate_never_imports_oracledb_nor_connects_even_fully_configured(
    extension_cli: ExtensionCli,
    silent_listener: SilentListener,
    http_server: Any,
) -> None:
    wms: HttpTestServer = http_server(default=200)
    hooks: HttpTestServer = http_server(default=200)
    everything = oracle_env(
        silent_listener.port,
        GRUPONOS_INFRA_WMS_BASE_URL=wms.url,
        GRUPONOS_INFRA_WMS_USER="wms",
        GRUPONOS_INFRA_WMS_PASSWORD=PLANTED,
        GRUPONOS_INFRA_ALERT_WEBHOOK_URL=f"{hooks.url}/hook/{PLANTED}",
        GRUPONOS_INFRA_ALERT_SMTP_HOST="127.0.0.1",
        GRUPONOS_INFRA_ALERT_SMTP_PORT=str(silent_listener.port),
        GRUPONOS_INFRA_ALERT_EMAIL_FROM="etl@gruponos.example",
        GRUPONOS_INFRA_ALERT_EMAIL_TO="ops@gruponos.example",
    )

    report = probe(extension_cli, "validate", env=everything)

    assert report["code"] == 0
    assert "oracledb" not in report["loaded"]
    assert report["network"] == []
    assert silent_listener.accepted == 0
    assert wms.requests == [] and hooks.requests == []
    # nor does health, as long as the Oracle check is not selected
    health = probe(extension_cli, "health", "--check", "settings", env=everything)
    assert health["code"] == 0
    assert "oracledb" not in health["loaded"]


# --------------------------------------------------------------------------- help


def test_help_of_every_command_documents_the_exit_codes(extension_cli: ExtensionCli) -> None:
    for command in [None, *sorted(cli.commands)]:
        args = ["--help"] if command is None else [command, "--help"]
        result = extension_cli.run(*args)

        assert result.returncode == 0, (command, result.stderr)
        text = " ".join(result.stdout.split())
        assert "Exit codes:" in text, command
        assert "0 passed (warnings allowed unless --strict)" in text, command
        assert "1 a check failed, validation found errors" in text, command
        assert "2 bad usage or bad settings" in text, command


# --------------------------------------------------------------------------- validate


def test_validate_passes_on_the_bundled_project(extension_cli: ExtensionCli) -> None:
    text = extension_cli.run("validate")
    as_json = extension_cli.run("validate", "--format", "json")

    assert text.returncode == 0, text.stdout + text.stderr
    assert only_line(text.stdout) == "validation passed: 0 error(s), 0 warning(s)"
    assert not (extension_cli.root / ".meltano").exists()  # a CI step: it writes nothing
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout) == {
        "ok": True,
        "strict": False,
        "errors": [],
        "warnings": [],
    }


def test_validate_strict_fails_on_a_warning_and_says_so(extension_cli: ExtensionCli) -> None:
    # Outside Meltano (no MELTANO_PROJECT_ROOT) meltano.yml cannot be checked: a warning.
    unset = ("MELTANO_PROJECT_ROOT", "MELTANO_SYS_DIR_ROOT")

    relaxed = extension_cli.run("validate", unset=unset)
    strict = extension_cli.run("validate", "--strict", unset=unset)
    strict_json = extension_cli.run("validate", "--strict", "--format", "json", unset=unset)

    assert relaxed.returncode == 0
    assert relaxed.stdout.startswith("warning: project: MELTANO_PROJECT_ROOT is not set")
    assert relaxed.stdout.splitlines()[-1] == "validation passed: 0 error(s), 1 warning(s)"
    assert strict.returncode == 1
    assert strict.stdout.splitlines()[-1] == (
        "validation failed (--strict: warnings fail): 0 error(s), 1 warning(s)"
    )
    assert strict_json.returncode == 1
    assert json.loads(strict_json.stdout)["ok"] is False


def test_commands_needing_the_state_dir_exit_2_outside_meltano(
    extension_cli: ExtensionCli,
) -> None:
    unset = ("MELTANO_PROJECT_ROOT", "MELTANO_SYS_DIR_ROOT")

    for command in ("initialize", "history"):
        result = extension_cli.run(command, unset=unset)

        assert result.returncode == 2, command
        assert result.stdout == ""
        line = only_line(result.stderr)
        assert line.startswith("error: no state directory") and "GRUPONOS_INFRA_STATE_DIR" in line


def test_validate_names_file_and_key_path_of_a_misspelt_plugin(
    extension_cli: ExtensionCli,
) -> None:
    meltano_yml = extension_cli.root / "meltano.yml"
    text = meltano_yml.read_text(encoding="utf-8")
    task = "gruponos-infra:preflight tap-oracle-wms target-oracle"
    assert text.count(task) == 1
    meltano_yml.write_text(text.replace(task, task.replace("-wms ", "-wsm ")), encoding="utf-8")

    result = extension_cli.run("validate")
    as_json = extension_cli.run("validate", "--format", "json")

    assert result.returncode == 1
    assert "error: meltano.yml: jobs[2].tasks[0]: unknown plugin 'tap-oracle-wsm'" in result.stdout
    assert "validation failed: 1 error(s)" in result.stdout
    assert TRACEBACK not in result.stderr
    assert as_json.returncode == 1
    (error,) = json.loads(as_json.stdout)["errors"]
    assert error["where"] == "meltano.yml: jobs[2].tasks[0]"


def test_validate_names_the_line_of_a_yaml_syntax_error(extension_cli: ExtensionCli) -> None:
    meltano_yml = extension_cli.root / "meltano.yml"
    meltano_yml.write_text(
        meltano_yml.read_text(encoding="utf-8") + "jobs: [unclosed\n", encoding="utf-8"
    )

    result = extension_cli.run("validate")

    assert result.returncode == 1
    assert re.search(r"^error: meltano\.yml: .*line \d+", result.stdout, flags=re.MULTILINE)
    assert TRACEBACK not in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["health", "validate", "config", "services", "dispose"])
def test_bad_setting_exits_2_naming_its_variable(extension_cli: ExtensionCli, command: str) -> None:
    result = extension_cli.run(command, env=BAD_PORT)

    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "GRUPONOS_INFRA_ORACLE_PORT: must be an integer from 1 to 65535" in output
    assert TRACEBACK not in output
    if command != "validate":  # validate reports it as a finding on stdout
        assert result.stdout == ""
        assert "GRUPONOS_INFRA_ORACLE_PORT" in only_line(result.stderr)


def test_every_invalid_setting_is_named_at_once_and_a_bad_secret_is_not_echoed(
    extension_cli: ExtensionCli,
) -> None:
    result = extension_cli.run(
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
    extension_cli: ExtensionCli,
) -> None:
    text = extension_cli.run("health")
    as_json = extension_cli.run("health", "--format", "json")

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
    extension_cli: ExtensionCli,
) -> None:
    result = extension_cli.run("health", "--check", "nope")

    assert result.returncode == 2
    assert result.stdout == ""
    line = only_line(result.stderr)
    assert "'nope'" in line
    for name in LOCAL_CHECKS:
        assert name in line
    assert TRACEBACK not in result.stderr


def test_check_and_tag_select_checks(extension_cli: ExtensionCli) -> None:
    by_component = extension_cli.run("health", "--check", "disk", "--format", "json")
    by_name = extension_cli.run(
        "health", "--check", "settings:valid", "--check", "state_dir", "--format", "json"
    )
    critical = extension_cli.run("health", "--tag", "critical", "--format", "json")
    unknown_tag = extension_cli.run("health", "--tag", "nope")

    assert set(health_json(by_component.stdout)["checks"]) == {"disk:free_space"}
    assert set(health_json(by_name.stdout)["checks"]) == {"settings:valid", "state_dir:writable"}
    selected = health_json(critical.stdout)["checks"]
    assert selected and set(selected) < LOCAL_CHECKS
    assert all(entries[0]["critical"] is True for entries in selected.values())
    assert unknown_tag.returncode == 2
    assert "'nope'" in only_line(unknown_tag.stderr) and "critical" in unknown_tag.stderr


def test_warning_passes_unless_strict(extension_cli: ExtensionCli) -> None:
    # More free space demanded than any disk has: the disk check warns.
    huge = {"GRUPONOS_INFRA_HEALTH_DISK_WARN_MB": str(10**12)}

    relaxed = extension_cli.run("health", "--format", "json", env=huge)
    strict = extension_cli.run("health", "--strict", env=huge)

    assert relaxed.returncode == 0, relaxed.stderr
    document = health_json(relaxed.stdout)
    assert document["status"] == "warn"
    assert document["checks"]["disk:free_space"][0]["status"] == "warn"
    assert strict.returncode == 1
    assert re.search(r"^WARN\s+disk:free_space", strict.stdout, flags=re.MULTILINE)


def test_oracle_closed_port_fails_with_cannot_reach(
    extension_cli: ExtensionCli, closed_port: int
) -> None:
    result = extension_cli.run("health", env=oracle_env(closed_port))

    assert result.returncode == 1
    line = next(ln for ln in result.stdout.splitlines() if "oracle:connection" in ln)
    assert line.startswith("FAIL")
    assert f"cannot reach Oracle at 127.0.0.1:{closed_port}" in line
    assert PLANTED not in result.stdout + result.stderr


def test_timeout_option_bounds_checks_that_carry_their_own_timeout(
    extension_cli: ExtensionCli, silent_listener: SilentListener
) -> None:
    # Oracle's check bounds itself by the connect timeout (30 s here);
    # an explicit --timeout is the upper bound for every check.
    env = oracle_env(silent_listener.port, GRUPONOS_INFRA_ORACLE_CONNECT_TIMEOUT="30")

    started = time.monotonic()
    result = extension_cli.run("health", "--check", "oracle", "--timeout", "1", env=env)
    elapsed = time.monotonic() - started

    assert result.returncode == 1
    assert re.search(r"^FAIL\s+oracle:connection .*timed out after 1", result.stdout, re.M)
    assert elapsed < 15, f"took {elapsed:.1f} s; the connect timeout is 30 s"


def test_wms_rejecting_credentials_fails_naming_it(
    extension_cli: ExtensionCli, http_server: Any
) -> None:
    server: HttpTestServer = http_server({"/health": 200}, basic_auth=("wms", "another-password"))
    env = {
        "GRUPONOS_INFRA_WMS_BASE_URL": server.url,
        "GRUPONOS_INFRA_WMS_USER": "wms",
        "GRUPONOS_INFRA_WMS_PASSWORD": PLANTED,
        "GRUPONOS_INFRA_WMS_HEALTH_PATH": "/health",
    }

    result = extension_cli.run("health", "--check", "wms_api", env=env)

    assert result.returncode == 1
    assert re.search(
        r"^FAIL\s+wms_api:reachability .*rejected the credentials", result.stdout, re.M
    )
    assert [r.authorized for r in server.requests] == [False]
    assert PLANTED not in result.stdout + result.stderr


def test_json_and_prometheus_files_are_written_and_parse(extension_cli: ExtensionCli) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    out = extension_cli.root / "metrics"
    json_file, prom_file = out / "health.json", out / "health.prom"

    result = extension_cli.run(
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


def test_health_is_recorded_in_history(extension_cli: ExtensionCli) -> None:
    assert extension_cli.run("health").returncode == 0

    history = extension_cli.run("history", "--format", "json")

    assert history.returncode == 0, history.stderr
    (record,) = json.loads(history.stdout)["health"]
    assert record["status"] == "pass"


# --------------------------------------------------------------------------- introspection


def test_config_masks_secrets_and_shows_sources(extension_cli: ExtensionCli) -> None:
    env = oracle_env(1522, GRUPONOS_INFRA_ALERT_WEBHOOK_URL=f"https://hooks.example/{PLANTED}")
    # Meltano exports the definition's defaults as variables too: those count as defaults.
    env["GRUPONOS_INFRA_ORACLE_CALL_TIMEOUT"] = "60"

    text = extension_cli.run("config", env=env)
    as_json = extension_cli.run("config", "--format", "json", env=env)

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
    extension_cli: ExtensionCli, closed_port: int
) -> None:
    env = oracle_env(closed_port)

    services = extension_cli.run("services", "--format", "json", env=env)
    mermaid = extension_cli.run("graph", "--format", "mermaid", env=env)
    dot = extension_cli.run("graph", "--format", "dot", env=env)
    local = extension_cli.run("services")

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


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_unexpected_error_shows_a_traceback_only_at_debug(extension_cli: ExtensionCli) -> None:
    # A result that cannot be written (disk full) is no error the code expects.
    with open("/dev/full", "w") as full:
        default = extension_cli.run("health", stdout=full.fileno())
        debug = extension_cli.run("health", stdout=full.fileno(), env={"LOG_LEVEL": "debug"})
        describe = extension_cli.run("describe", stdout=full.fileno())

    assert default.returncode == 1
    assert only_line(default.stderr) == (
        "error: unexpected OSError: [Errno 28] No space left on device "
        "(set LOG_LEVEL=debug for the traceback)"
    )
    assert debug.returncode == 1
    assert TRACEBACK in debug.stderr and "OSError" in debug.stderr
    # Not Python's exit code 120 and "Exception ignored" from the flush at exit.
    assert describe.returncode == 1
    assert only_line(describe.stderr) == "error: cannot write the output: No space left on device"


@pytest.mark.parametrize("level", [None, "info", "warning", "error", "debug"])
def test_expected_errors_show_a_traceback_only_at_debug(
    extension_cli: ExtensionCli, level: str | None
) -> None:
    env = {**BAD_PORT, **({"LOG_LEVEL": level} if level else {})}

    result = extension_cli.run("health", env=env)

    assert result.returncode == 2
    assert "error: invalid setting GRUPONOS_INFRA_ORACLE_PORT" in result.stderr
    assert (TRACEBACK in result.stderr) is (level == "debug")


def test_logs_go_to_stderr_as_json_with_meltano_log_json(extension_cli: ExtensionCli) -> None:
    result = extension_cli.run(
        "health",
        "--format",
        "json",
        env={"LOG_LEVEL": "info", "MELTANO_LOG_JSON": "true"},
    )

    assert result.returncode == 0, result.stderr
    assert health_json(result.stdout)["status"] == "pass"  # stdout: the result only
    events = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert "health_run_finished" in {e["event"] for e in events}
    assert all(e["level"] in {"info", "warning", "error"} for e in events)


def test_default_log_level_keeps_a_healthy_run_quiet(extension_cli: ExtensionCli) -> None:
    result = extension_cli.run("health")

    assert result.returncode == 0
    assert result.stderr == ""


def test_planted_secrets_never_reach_any_output_or_the_state_db(
    extension_cli: ExtensionCli, closed_port: int, http_server: Any
) -> None:
    wms: HttpTestServer = http_server({"/": 200}, basic_auth=("wms", "another-password"))
    env = oracle_env(
        closed_port,
        GRUPONOS_INFRA_WMS_BASE_URL=wms.url,
        GRUPONOS_INFRA_WMS_USER="wms",
        GRUPONOS_INFRA_WMS_PASSWORD=PLANTED,
        GRUPONOS_INFRA_ALERT_WEBHOOK_URL=f"http://127.0.0.1:{closed_port}/hooks/{PLANTED}",
    )
    runs = [
        extension_cli.run(*args, env={**env, **extra})
        for args, extra in [
            (("health",), {}),
            (("health", "--format", "json"), {"LOG_LEVEL": "debug"}),
            (("validate",), {"LOG_LEVEL": "debug", "MELTANO_LOG_JSON": "true"}),
            (("config", "--format", "json"), {}),
            (("services",), {}),
            (("preflight", "--job", "leak"), {"LOG_LEVEL": "debug"}),
            (("dispose", "--job", "leak"), {"LOG_LEVEL": "debug"}),
            (("history", "--format", "json"), {}),
        ]
    ]

    assert [r.returncode for r in runs] == [1, 1, 0, 0, 0, 1, 0, 0]
    assert "credentials" in runs[0].stdout and "cannot reach Oracle" in runs[0].stdout
    for result in runs:
        assert PLANTED not in result.stdout + result.stderr, result.args
    files = [p for p in extension_cli.root.rglob("*") if p.is_file()]
    assert any(p.name == "state.db" for p in files)
    for path in files:
        assert PLANTED.encode() not in path.read_bytes(), path


# --------------------------------------------------------------------------- run lifecycle


def test_dispose_twice_is_fine_and_the_second_has_nothing_to_do(
    extension_cli: ExtensionCli,
) -> None:
    nothing_yet = extension_cli.run("dispose")
    preflight = extension_cli.run("preflight", "--job", "nightly", "--skip-health")
    first = extension_cli.run("dispose", "--job", "nightly")
    second = extension_cli.run("dispose", "--job", "nightly")

    assert nothing_yet.returncode == 0
    assert only_line(nothing_yet.stdout) == "nothing to dispose for run manual:default"
    assert preflight.returncode == 0, preflight.stderr
    assert first.returncode == 0, first.stderr
    assert "disposed: released run lock(s) of job(s) nightly" in first.stdout
    assert second.returncode == 0, second.stderr
    assert only_line(second.stdout) == "nothing to dispose for run manual:nightly"


def test_dispose_with_oracle_configured_reports_no_pool_it_never_opened(
    extension_cli: ExtensionCli, closed_port: int
) -> None:
    # Each dispose is a new process: its Oracle manager never opened a pool,
    # so "closed connection_pool" would be a false report.
    env = oracle_env(closed_port)

    first = extension_cli.run("dispose", env=env)
    second = extension_cli.run("dispose", env=env)

    for result in (first, second):
        assert result.returncode == 0, result.stderr
        assert only_line(result.stdout) == "nothing to dispose for run manual:default"


def test_initialize_creates_the_state_dir_and_shows_each_jobs_change(
    extension_cli: ExtensionCli,
) -> None:
    state_dir = extension_cli.state_dir
    assert not state_dir.exists()
    meltano_yml = extension_cli.root / "meltano.yml"
    bare = "gruponos-infra:preflight tap-oracle-wms target-oracle gruponos-infra:dispose"
    assert meltano_yml.read_text(encoding="utf-8").count(bare) == 1
    text = meltano_yml.read_text(encoding="utf-8").replace(bare, "tap-oracle-wms target-oracle")
    meltano_yml.write_text(text, encoding="utf-8")

    result = extension_cli.run("initialize")

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


def test_initialize_force_recreates_the_state_database(extension_cli: ExtensionCli) -> None:
    assert extension_cli.run("preflight", "--job", "nightly", "--skip-health").returncode == 0
    assert json.loads(extension_cli.run("history", "--format", "json").stdout)["locks"]

    again = extension_cli.run("initialize")
    kept = json.loads(extension_cli.run("history", "--format", "json").stdout)
    forced = extension_cli.run("initialize", "--force")
    fresh = json.loads(extension_cli.run("history", "--format", "json").stdout)

    assert again.returncode == 0 and forced.returncode == 0
    assert len(kept["runs"]) == 1 and kept["locks"]
    assert fresh == {"runs": [], "locks": [], "health": []}


def test_invoke_runs_a_command_by_name(extension_cli: ExtensionCli) -> None:
    invoked = extension_cli.run("invoke", "health", "--check", "disk", "--format", "json")
    unknown = extension_cli.run("invoke", "nope")

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
    extension_cli: ExtensionCli, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "meltano.yml").write_text("jobs: [broken\n", encoding="utf-8")

    validate = extension_cli.run("validate", cwd=elsewhere)
    health = extension_cli.run("health", cwd=elsewhere)

    assert validate.returncode == 0, validate.stdout
    assert health.returncode == 0, health.stdout
    assert extension_cli.state_dir.is_dir()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["meltano.yml"]

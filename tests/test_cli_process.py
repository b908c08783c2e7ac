"""The ``gruponos_extension`` console script as a real process: what only a process shows.

Import cost (``describe`` loads nothing but click, ``validate`` never
``oracledb``), the entry point itself, output to a full disk, the logging
of a fresh process, and planted secrets in everything a process prints and
writes. Everything else about the CLI is tested in-process in
``test_cli.py``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import (
    CLI_BIN,
    NOT_SCHEDULED,
    TRACEBACK,
    ExtensionCli,
    health_json,
    only_line,
    oracle_env,
)
from tests.support.net import HttpTestServer, SilentListener
from tests.support.runs import FakeMeltano, prom_samples

PLANTED = "S3cr3t-Planted-Pw-9431"
BAD_PORT = {"GRUPONOS_INFRA_ORACLE_PORT": "abc"}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_describe_equals_the_edk_describe_formatted(extension_cli: ExtensionCli, fmt: str) -> None:
    from meltano.edk.extension import DescribeFormat

    from gruponos_ext.extension.extension import GruponosInfraExtension

    result = extension_cli.run("describe", "--format", fmt)

    assert result.returncode == 0, result.stderr
    expected = GruponosInfraExtension().describe_formatted(DescribeFormat(fmt))
    assert result.stdout.rstrip("\n") == expected.rstrip("\n")
    assert result.stderr == ""


_PROBE = """
import atexit, json, sys
events = []
def audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
        events.append(event)
sys.addaudithook(audit)
sys.argv = ["gruponos_extension", *sys.argv[1:]]
from gruponos_ext.extension.cli import main
heavy = ("oracledb", "pydantic", "structlog", "yaml", "sqlite3", "smtplib", "urllib.request",
         "http.client", "meltano", "rich")
@atexit.register  # main() ends the process; its atexit handlers still run
def report():
    print(json.dumps({"loaded": [m for m in heavy if m in sys.modules],
                      "ours": sorted(m for m in sys.modules if m.startswith("gruponos_ext")),
                      "network": events}), file=sys.__stderr__)
main()
"""

# What the CLI module itself is: click, its parameter types and its runtime.
CLI_ONLY = {
    "gruponos_ext",
    "gruponos_ext._lazy",
    "gruponos_ext.extension",
    "gruponos_ext.extension.cli",
    "gruponos_ext.extension.params",
    "gruponos_ext.extension.runtime",
}


def probe(
    extension_cli: ExtensionCli, *args: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run the CLI's ``main`` in a fresh interpreter; what it imported and connected to."""
    result = extension_cli.python(_PROBE, *args, env=env)
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert isinstance(report, dict)
    return {**report, "code": result.returncode}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_describe_imports_nothing_heavy(extension_cli: ExtensionCli, fmt: str) -> None:
    report = probe(extension_cli, "describe", "--format", fmt)

    assert report["code"] == 0
    assert report["loaded"] == []
    assert set(report["ours"]) == CLI_ONLY | {"gruponos_ext.extension.describe"}


@pytest.mark.parametrize("args", [["--help"], ["health", "--help"], ["guard", "--help"]])
def test_help_loads_no_command_behaviour(extension_cli: ExtensionCli, args: list[str]) -> None:
    report = probe(extension_cli, *args)

    assert report["code"] == 0
    assert report["loaded"] == []
    assert set(report["ours"]) == CLI_ONLY  # no handler, no settings, no container


def test_validate_never_imports_oracledb_nor_connects_even_fully_configured(
    extension_cli: ExtensionCli,
    silent_listener: SilentListener,
    http_server: Any,
) -> None:
    wms: HttpTestServer = http_server(default=200)
    hooks: HttpTestServer = http_server(default=200)
    everything = oracle_env(
        PLANTED,
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


def test_logs_go_to_stderr_as_json_with_meltano_log_json(extension_cli: ExtensionCli) -> None:
    result = extension_cli.run(
        "health",
        "--format",
        "json",
        env={"LOG_LEVEL": "info", "MELTANO_LOG_JSON": "true", **NOT_SCHEDULED},
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
        PLANTED,
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


def test_no_job_name_makes_guard_write_outside_metrics_dir(
    extension_env: dict[str, str], fake_meltano: FakeMeltano, tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics"
    env = {**extension_env, **fake_meltano.env(), "GRUPONOS_INFRA_METRICS_DIR": str(metrics)}
    job = "x/../../y"

    result = subprocess.run(
        [str(CLI_BIN), "guard", job],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    stem = "gruponos_job_x_.._.._y-5fc13685"
    assert sorted(p.name for p in metrics.iterdir()) == [f"{stem}.json", f"{stem}.prom"]
    escaped = [*tmp_path.parent.rglob("y.json"), *tmp_path.parent.rglob("y.prom")]
    assert escaped == []  # where 'gruponos_job_x/../../y' would have led
    samples = prom_samples(metrics / f"{stem}.prom")
    assert samples["gruponos_job_last_run_exit_code"] == {(("job", job),): 0}  # the real name
    assert json.loads((metrics / f"{stem}.json").read_text())["job"] == job

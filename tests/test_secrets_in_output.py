"""Secrets never reach output, files or logs -- and output is never mangled to hide them.

The CLI runs as a real process against real servers on 127.0.0.1 that echo
what they are sent (the ``Authorization`` header, the URL, the body), as a
careless proxy does. There is no last-pass masker over stdout/stderr: what
these tests see is what the code wrote. So they show both halves of the
promise:

* a password that is a common word (``true``, ``pass``, ``oracle``...) leaves
  the JSON report valid and every status and key intact;
* a password, and every form a leak of it takes (percent-encoded,
  JSON-escaped, base64, ``base64(user:password)``), is absent from stdout,
  stderr at the default log level, and every file the run wrote, the state
  database included.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gruponos_ext.extension.cli import cli
from tests.support.cli import ExtensionCli
from tests.support.net import HttpTestServer, Route
from tests.support.secrets import (
    assert_no_base64_of,
    assert_no_leak,
    files_under,
    leak_forms,
    url_leak_forms,
)

MakeServer = Callable[..., HttpTestServer]

ORACLE_USER = "wms_reader"
WMS_USER = "wms_etl"
SMTP_USER = "alerts"
# Characters that change under percent-encoding, JSON-escaping and base64.
PLANTED = 'Pl4nted/Pw+"x"\\ü:9431'
WEBHOOK_TOKEN = "T0KEN-Webhook-8c1e2f"
SLACK_TOKEN = "xoxb-Slack-Token-55d0"
STATUSES = {"pass", "warn", "fail", "skip"}
# The checks of the bundled project with Oracle and the WMS API configured.
CHECKS = {
    "settings:valid",
    "disk:free_space",
    "meltano_db:integrity",
    "state_dir:writable",
    "circuit_breakers:state",
    "oracle:connection",
    "wms_api:reachability",
}


def planted_env(
    oracle_port: int, wms: HttpTestServer, hooks: HttpTestServer, *, password: str = PLANTED
) -> dict[str, str]:
    """Oracle at a closed port, the WMS API and both webhooks on echoing servers."""
    return {
        "GRUPONOS_INFRA_ORACLE_HOST": "127.0.0.1",
        "GRUPONOS_INFRA_ORACLE_PORT": str(oracle_port),
        "GRUPONOS_INFRA_ORACLE_SERVICE_NAME": "GRUPONOS_TEST",
        "GRUPONOS_INFRA_ORACLE_USER": ORACLE_USER,
        "GRUPONOS_INFRA_ORACLE_PASSWORD": password,
        "GRUPONOS_INFRA_WMS_BASE_URL": wms.url,
        "GRUPONOS_INFRA_WMS_USER": WMS_USER,
        "GRUPONOS_INFRA_WMS_PASSWORD": password,
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": webhook_url(hooks),
        "GRUPONOS_INFRA_ALERT_SLACK_WEBHOOK_URL": slack_url(hooks),
    }


def webhook_url(hooks: HttpTestServer) -> str:
    return f"{hooks.url}/hooks/{WEBHOOK_TOKEN}?token={WEBHOOK_TOKEN}"


def slack_url(hooks: HttpTestServer) -> str:
    return f"{hooks.url}/services/T000/B000/{SLACK_TOKEN}"


def all_leak_forms(hooks: HttpTestServer, password: str = PLANTED) -> set[str]:
    forms = leak_forms(password, user=ORACLE_USER) | leak_forms(password, user=WMS_USER)
    forms |= url_leak_forms(webhook_url(hooks), WEBHOOK_TOKEN)
    return forms | url_leak_forms(slack_url(hooks), SLACK_TOKEN)


def health_rows(state_dir: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{state_dir / 'state.db'}?mode=ro", uri=True) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        health = next(t for t in tables if "health" in t)
        return list(db.execute(f"SELECT * FROM {health}"))


@pytest.fixture
def echo_wms(http_server: MakeServer) -> HttpTestServer:
    """A WMS API behind a proxy that answers 502 and echoes the request."""
    return http_server(default=Route(502, echo=True))


@pytest.fixture
def echo_hooks(http_server: MakeServer) -> HttpTestServer:
    """Webhook receivers that answer 500 and echo the URL, query and body."""
    return http_server(default=Route(500, echo=True))


# --------------------------------------------------------------------------- common words


@pytest.mark.parametrize("password", ["true", "pass", "oracle", "warn", "fail", "1521"])
def test_a_password_that_is_a_common_word_leaves_the_json_report_intact(
    extension_cli: ExtensionCli,
    closed_port: int,
    echo_wms: HttpTestServer,
    echo_hooks: HttpTestServer,
    password: str,
) -> None:
    env = planted_env(closed_port, echo_wms, echo_hooks, password=password)

    result = extension_cli.run("health", "--format", "json", env=env)

    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)  # valid JSON: `"critical": true` survived
    assert document["status"] == "fail"
    assert set(document["checks"]) >= CHECKS  # `oracle:connection` is still called so
    entries = {name: entries[0] for name, entries in document["checks"].items()}
    assert {e["status"] for e in entries.values()} <= STATUSES
    assert entries["oracle:connection"]["status"] == "fail"
    assert entries["wms_api:reachability"]["status"] == "fail"
    assert entries["settings:valid"]["status"] == "pass"
    # The proxy did echo the credentials; the report quotes it, cleaned.
    assert echo_wms.requests and echo_wms.requests[0].headers["Authorization"].startswith("Basic ")
    wms_output = entries["wms_api:reachability"]["output"]
    assert "the server said: you sent Authorization: ***" in wms_output
    assert "HTTP 502 Echo *** from http://127.0.0.1:" in wms_output
    basic_token = leak_forms(password, user=WMS_USER) - leak_forms(password)
    assert_no_leak(result.stdout + result.stderr, basic_token, where="health --format json")


@pytest.mark.parametrize("password", ["oracle", "PASS", "FAIL"])
def test_a_password_that_is_a_common_word_leaves_the_text_report_intact(
    extension_cli: ExtensionCli,
    closed_port: int,
    echo_wms: HttpTestServer,
    echo_hooks: HttpTestServer,
    password: str,
) -> None:
    env = planted_env(closed_port, echo_wms, echo_hooks, password=password)

    result = extension_cli.run("health", env=env)

    assert result.returncode == 1, result.stderr
    lines = {
        match.group(2): match.group(1)
        for match in re.finditer(r"^(PASS|WARN|FAIL|SKIP)\s+(\S+)\s", result.stdout, re.MULTILINE)
    }
    assert set(lines) >= CHECKS
    assert lines["settings:valid"] == "PASS"
    assert lines["oracle:connection"] == "FAIL"
    assert re.search(rf"^FAIL: {len(lines)} checks", result.stdout, re.MULTILINE)


# --------------------------------------------------------------------------- echoing servers


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_a_proxy_echoing_the_authorization_header_leaks_into_no_report_log_or_state_db(
    extension_cli: ExtensionCli,
    closed_port: int,
    echo_wms: HttpTestServer,
    echo_hooks: HttpTestServer,
    output_format: str,
) -> None:
    env = planted_env(closed_port, echo_wms, echo_hooks)

    result = extension_cli.run("health", "--format", output_format, env=env)

    assert result.returncode == 1, result.stderr
    assert "wms_request_failed" in result.stderr  # the default-level warning log
    assert "Echo ***" in result.stdout and "Echo ***" in result.stderr
    rows = health_rows(extension_cli.state_dir)
    assert rows, "health must have recorded its report in the state database"
    assert "Echo ***" in repr(rows)
    forms = all_leak_forms(echo_hooks)
    assert_no_leak(result.stdout, forms, where="the report")
    assert_no_leak(result.stderr, forms, where="stderr")
    for path in files_under(extension_cli.state_dir):
        assert_no_leak(path.read_bytes(), forms, where=path)
        assert_no_base64_of(path.read_bytes(), PLANTED, where=path)
    assert_no_base64_of(result.stdout + result.stderr, PLANTED, where="the output")


def test_a_webhook_echoing_its_url_and_body_leaks_no_token_into_the_preflight_log(
    extension_cli: ExtensionCli,
    closed_port: int,
    echo_wms: HttpTestServer,
    echo_hooks: HttpTestServer,
) -> None:
    env = planted_env(closed_port, echo_wms, echo_hooks)

    result = extension_cli.run("preflight", "--job", "nightly", env=env)

    assert result.returncode == 1
    assert {r.path for r in echo_hooks.requests} == {
        f"/hooks/{WEBHOOK_TOKEN}",
        f"/services/T000/B000/{SLACK_TOKEN}",
    }  # the alert went out, to both, and both answered with an echo
    assert "alert_not_delivered" in result.stderr
    assert "you sent Authorization" in result.stderr
    assert_no_leak(result.stdout + result.stderr, all_leak_forms(echo_hooks), where="preflight")
    for path in files_under(extension_cli.root, skip=["venv"]):
        assert_no_leak(path.read_bytes(), all_leak_forms(echo_hooks), where=path)


# --------------------------------------------------------------------------- every command


def every_command_invocation(extension_cli: ExtensionCli) -> list[tuple[str, ...]]:
    """One or more invocations of each CLI command, covering each output format."""
    invocations: list[tuple[str, ...]] = [
        ("describe", "--format", "text"),
        ("describe", "--format", "json"),
        ("initialize",),
        ("validate",),
        ("validate", "--format", "json"),
        ("health",),
        ("health", "--format", "json", "--json-file", str(extension_cli.root / "h.json")),
        ("preflight", "--job", "leak"),
        ("guard", "leak", "--json-file", str(extension_cli.root / "g.json")),
        ("dispose", "--job", "leak"),
        ("history",),
        ("history", "--format", "json"),
        ("report", "--html", str(extension_cli.root / "status.html")),
        ("services",),
        ("services", "--format", "json"),
        ("graph",),
        ("graph", "--format", "dot"),
        ("config",),
        ("config", "--format", "json"),
        ("invoke", "health", "--tag", "critical"),
    ]
    assert {args[0] for args in invocations} == set(cli.commands), "a command is not covered"
    return invocations


@pytest.mark.parametrize("log_level", ["warning", "debug"])
def test_no_output_of_any_command_holds_any_form_of_a_planted_secret(
    extension_cli: ExtensionCli,
    closed_port: int,
    echo_wms: HttpTestServer,
    echo_hooks: HttpTestServer,
    log_level: str,
) -> None:
    env = {**planted_env(closed_port, echo_wms, echo_hooks), "LOG_LEVEL": log_level}
    env["GRUPONOS_INFRA_ALERT_SMTP_HOST"] = "127.0.0.1"
    env["GRUPONOS_INFRA_ALERT_SMTP_PORT"] = str(closed_port)
    env["GRUPONOS_INFRA_ALERT_SMTP_USER"] = SMTP_USER
    env["GRUPONOS_INFRA_ALERT_SMTP_PASSWORD"] = PLANTED
    env["GRUPONOS_INFRA_ALERT_EMAIL_FROM"] = "etl@gruponos.example"
    env["GRUPONOS_INFRA_ALERT_EMAIL_TO"] = "ops@gruponos.example"
    forms = all_leak_forms(echo_hooks) | leak_forms(PLANTED, user=SMTP_USER)

    results = {
        args: extension_cli.run(*args, env=env) for args in every_command_invocation(extension_cli)
    }

    assert echo_wms.requests and echo_hooks.requests  # the echoing servers were reached
    for args, result in results.items():
        assert "Traceback" not in result.stderr or log_level == "debug", (args, result.stderr)
        assert_no_leak(result.stdout + result.stderr, forms, where=" ".join(args))
        assert_no_base64_of(result.stdout + result.stderr, PLANTED, where=" ".join(args))
    for path in files_under(extension_cli.root, skip=["venv"]):
        assert_no_leak(path.read_bytes(), forms, where=path)

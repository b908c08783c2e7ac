"""The ``gruponos-infra`` utility driven by the real ``meltano`` of the test environment.

One copy of the bundled project is installed once for the module
(gruponos-infra from this checkout, tap-jsonl, target-jsonl from PyPI) and
shared: each ``meltano`` call costs 1-3 s here. Tests that need a broken
meltano.yml edit it and restore it afterwards. Every ``meltano`` call is
recorded, and the last test greps all of them (and every file of the
project) for the planted secret.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import with_bytecode_cache
from tests.support.meltano import (
    REPO_ROOT,
    MeltanoProject,
    copy_bundled_project,
    offline_meltano_env,
)
from tests.support.net import HttpTestServer, SilentListener

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

PLANTED = "S3cr3t-Planted-Pw-9431"
TRACEBACK = "Traceback (most recent call last)"
UTILITY_VENV = Path(".meltano/utilities/gruponos-infra/venv")


@dataclass
class Session:
    """The shared project and a transcript of every ``meltano`` call made on it."""

    project: MeltanoProject
    transcripts: list[tuple[tuple[str, ...], str]] = field(default_factory=list)

    def meltano(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 180.0
    ) -> Any:
        result = self.project.run(*args, env=env, timeout=timeout)
        self.transcripts.append((args, result.stdout + result.stderr))
        return result

    def invoke(self, command: str, env: Mapping[str, str] | None = None) -> Any:
        return self.meltano("invoke", f"gruponos-infra:{command}", env=env)

    @contextlib.contextmanager
    def edited(self, old: str, new: str) -> Iterator[None]:
        """meltano.yml with ``old`` (exactly once) replaced, restored afterwards."""
        original = self.project.meltano_yml.read_text(encoding="utf-8")
        self.project.edit(old, new)
        try:
            yield
        finally:
            self.project.meltano_yml.write_text(original, encoding="utf-8")


@pytest.fixture(scope="module")
def session(
    tmp_path_factory: pytest.TempPathFactory, bytecode_cache_env: dict[str, str]
) -> Session:
    root = copy_bundled_project(tmp_path_factory.mktemp("e2e") / "project")
    env = with_bytecode_cache(offline_meltano_env(), bytecode_cache_env)
    for name in ("LOG_LEVEL", "LOG_LEVELS", "VIRTUAL_ENV"):
        env.pop(name, None)
    project = MeltanoProject(root=root, env=env)
    project.install("gruponos-infra", "tap-jsonl", "target-jsonl")
    return Session(project)


def secrets_env(oracle_port: int, **extra: str) -> dict[str, str]:
    """Oracle at 127.0.0.1:``oracle_port``; the planted secret as every secret setting."""
    return {
        "GRUPONOS_INFRA_ORACLE_HOST": "127.0.0.1",
        "GRUPONOS_INFRA_ORACLE_PORT": str(oracle_port),
        "GRUPONOS_INFRA_ORACLE_SERVICE_NAME": "GRUPONOS_TEST",
        "GRUPONOS_INFRA_ORACLE_USER": "wms_reader",
        "GRUPONOS_INFRA_ORACLE_PASSWORD": PLANTED,
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{oracle_port}/hooks/{PLANTED}",
        **extra,
    }


def sample_records() -> list[dict[str, Any]]:
    text = (REPO_ROOT / "data" / "allocations.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def output_records(project: MeltanoProject) -> list[dict[str, Any]]:
    if not project.sample_output.exists():
        return []
    text = project.sample_output.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --------------------------------------------------------------------------- happy path


def test_meltano_install_puts_the_utility_from_this_checkout_in_its_own_venv(
    session: Session,
) -> None:
    venv = session.project.root / UTILITY_VENV
    assert (venv / "bin" / "gruponos_extension").is_file()

    origin = session.meltano(
        "invoke",
        "--no-install",
        "gruponos-infra",
        "describe",
        "--format",
        "json",
    )

    assert origin.returncode == 0, origin.stderr
    from meltano.edk.extension import DescribeFormat

    from gruponos_ext.extension.extension import GruponosInfraExtension

    expected = GruponosInfraExtension().describe_formatted(DescribeFormat.json)
    assert json.loads(origin.stdout) == json.loads(expected)
    # an editable install of this checkout, not a copy
    links = [p.read_text(encoding="utf-8") for p in venv.glob("lib/python*/site-packages/*.pth")]
    assert any(str(REPO_ROOT) in text for text in links), links


def test_invoke_describe_lists_the_commands(session: Session) -> None:
    result = session.invoke("describe")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("gruponos_extension: ")
    for command in ("validate", "health", "preflight", "dispose", "guard", "config"):
        assert f"  - {command}\n" in result.stdout


def test_invoke_validate_passes_and_meltano_test_runs_it(session: Session) -> None:
    validate = session.invoke("validate")
    tested = session.meltano("test", "gruponos-infra")

    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert validate.stdout.splitlines() == [
        # the bundled dev environment sets the plugin's `environment: development`
        "profile: development (from GRUPONOS_INFRA_ENVIRONMENT)",
        "validation passed: 0 error(s), 0 warning(s)",
    ]
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_invoke_health_passes_on_local_defaults_and_json_parses(session: Session) -> None:
    text = session.invoke("health")
    as_json = session.invoke("health-json")

    assert text.returncode == 0, text.stdout + text.stderr
    assert re.search(r"^PASS: 8 checks", text.stdout, flags=re.MULTILINE)
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["status"] == "pass"
    # Meltano exported MELTANO_DATABASE_URI, so the system database was really checked.
    meltano_db = document["checks"]["meltano_db:integrity"][0]
    assert meltano_db["status"] == "pass" and not meltano_db.get("skipped")
    state = document["checks"]["state_dir:writable"][0]
    assert state["status"] == "pass"
    assert (session.project.root / ".meltano" / "gruponos-infra").is_dir()


def test_meltano_run_of_the_sample_job_succeeds_between_preflight_and_dispose(
    session: Session,
) -> None:
    project = session.project
    before = len(output_records(project))

    run = session.meltano("run", "sample-jsonl")
    history = session.meltano("invoke", "gruponos-infra", "history", "--format", "json")

    assert run.returncode == 0, run.stdout + run.stderr
    log = run.stdout + run.stderr
    assert "preflight passed for job 'sample-jsonl'" in log
    assert "disposed: released run lock(s) of job(s) sample-jsonl" in log
    written = output_records(project)[before:]
    source = sample_records()
    assert len(source) >= 10
    assert [r["id"] for r in written] == [s["id"] for s in source]
    assert [r["qty"] for r in written] == [s["qty"] for s in source]
    assert history.returncode == 0, history.stderr
    recorded = json.loads(history.stdout)
    assert [(r["job"], r["status"]) for r in recorded["runs"]][:1] == [("sample-jsonl", "success")]
    assert recorded["locks"] == []
    workspaces = project.root / ".meltano" / "gruponos-infra" / "runs"
    assert not workspaces.exists() or list(workspaces.iterdir()) == []


# --------------------------------------------------------------------------- failures


def test_misspelt_plugin_in_a_job_fails_validate_naming_file_and_key_path(
    session: Session,
) -> None:
    task = "gruponos-infra:preflight tap-oracle-wms target-oracle"
    with session.edited(task, task.replace("tap-oracle-wms ", "tap-oracle-wsm ")):
        result = session.invoke("validate")

    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "error: meltano.yml: jobs[2].tasks[0]: unknown plugin 'tap-oracle-wsm' "
        "(did you mean 'tap-oracle-wms'?)"
    ) in result.stdout
    assert "validation failed: 1 error(s)" in result.stdout


def test_bad_oracle_port_exits_2_naming_the_variable(session: Session) -> None:
    # Declared `kind: string`, so Meltano passes 'abc' through instead of crashing.
    bad = {"GRUPONOS_INFRA_ORACLE_PORT": "abc"}

    health = session.invoke("health", env=bad)
    validate = session.invoke("validate", env=bad)

    message = "GRUPONOS_INFRA_ORACLE_PORT: must be an integer from 1 to 65535 (got 'abc')"
    assert health.returncode == 2, health.stdout + health.stderr
    assert message in health.stderr
    assert health.stdout == ""
    assert validate.returncode == 2
    assert message in validate.stdout
    for result in (health, validate):
        assert TRACEBACK not in result.stdout + result.stderr
        assert "ValueError" not in result.stderr  # Meltano itself did not choke on it


def test_oracle_at_a_closed_port_fails_health_with_cannot_reach(
    session: Session, closed_port: int
) -> None:
    result = session.invoke("health", env=secrets_env(closed_port))

    assert result.returncode == 1, result.stdout + result.stderr
    line = next(ln for ln in result.stdout.splitlines() if "oracle:connection" in ln)
    assert re.match(r"^FAIL\s+oracle:connection\s", line), line
    assert f"cannot reach Oracle at 127.0.0.1:{closed_port}: connection refused" in line
    assert re.search(r"^FAIL: 8 checks", result.stdout, flags=re.MULTILINE)


def test_oracle_listener_that_never_answers_fails_within_the_connect_timeout(
    session: Session, silent_listener: SilentListener
) -> None:
    env = secrets_env(silent_listener.port, GRUPONOS_INFRA_ORACLE_CONNECT_TIMEOUT="2")

    started = time.monotonic()
    result = session.invoke("health", env=env)
    elapsed = time.monotonic() - started

    assert result.returncode == 1, result.stdout + result.stderr
    assert silent_listener.accepted >= 1  # it did get as far as the listener
    line = next(ln for ln in result.stdout.splitlines() if "oracle:connection" in ln)
    assert line.startswith("FAIL")
    assert "timed out after 2" in line, line
    # 2 s connect timeout + Meltano's own start-up (~2 s): far below the 10 s default.
    assert elapsed < 15, f"meltano invoke took {elapsed:.1f} s"


def test_wms_rejecting_the_credentials_fails_health_naming_it(
    session: Session, http_server: Any, closed_port: int
) -> None:
    wms: HttpTestServer = http_server({"/": 200}, basic_auth=("wms", "the-real-password"))
    env = {
        "GRUPONOS_INFRA_WMS_BASE_URL": wms.url,
        "GRUPONOS_INFRA_WMS_USER": "wms",
        "GRUPONOS_INFRA_WMS_PASSWORD": PLANTED,
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{closed_port}/hooks/{PLANTED}",
    }

    result = session.invoke("health", env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    line = next(ln for ln in result.stdout.splitlines() if "wms_api:reachability" in ln)
    assert line.startswith("FAIL") and "rejected the credentials" in line, line
    assert [r.authorized for r in wms.requests] == [False]


def test_failed_preflight_stops_the_sample_run_and_alerts_the_webhook(
    session: Session, closed_port: int, http_server: Any
) -> None:
    hooks: HttpTestServer = http_server(default=200)
    env = secrets_env(closed_port, GRUPONOS_INFRA_ALERT_WEBHOOK_URL=f"{hooks.url}/hooks/{PLANTED}")
    before = len(output_records(session.project))

    run = session.meltano("run", "sample-jsonl", env=env)

    assert run.returncode == 1, run.stdout + run.stderr
    log = run.stdout + run.stderr
    assert "cannot reach Oracle" in log
    assert len(output_records(session.project)) == before  # the tap never started
    assert [r.path for r in hooks.requests] == [f"/hooks/{PLANTED}"]  # delivered, once
    assert hooks.requests[0].method == "POST"


def test_planted_secret_never_appears_in_any_output_log_or_file(
    session: Session, closed_port: int, http_server: Any
) -> None:
    wms: HttpTestServer = http_server({"/": 200}, basic_auth=("wms", "the-real-password"))
    env = secrets_env(
        closed_port,
        GRUPONOS_INFRA_WMS_BASE_URL=wms.url,
        GRUPONOS_INFRA_WMS_USER="wms",
        GRUPONOS_INFRA_WMS_PASSWORD=PLANTED,
    )
    config = session.invoke("config", env=env)
    health = session.invoke("health-json", env={**env, "LOG_LEVEL": "debug"})

    assert config.returncode == 0, config.stderr
    assert re.search(r"^oracle_password\s+\*{8}\s", config.stdout, flags=re.MULTILINE)
    assert health.returncode == 1
    checks = json.loads(health.stdout)["checks"]
    assert checks["oracle:connection"][0]["status"] == "fail"
    assert checks["wms_api:reachability"][0]["status"] == "fail"

    assert len(session.transcripts) >= 2
    for args, output in session.transcripts:
        assert PLANTED not in output, args
    root = session.project.root
    files = [
        path
        for path in root.rglob("*")
        if path.is_file() and "venv" not in path.relative_to(root).parts
    ]
    state_db = root / ".meltano" / "gruponos-infra" / "state.db"
    assert state_db in files
    with sqlite3.connect(f"file:{state_db}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
    for path in files:
        assert PLANTED.encode() not in path.read_bytes(), path

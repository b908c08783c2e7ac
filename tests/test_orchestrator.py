"""GruponosMeltanoOrchestrator: preflight, guard and dispose with real processes.

``guard`` runs a fake ``meltano`` (tests.support.runs.FakeMeltano): a real
executable that records its calls, prints, sleeps, handles signals and exits
as each test plans -- so the child handling (retries, timeouts, signals,
process groups) is exercised for real without Meltano's start-up cost. The
orchestrator is built by the container, as the CLI builds it; alerts go to a
real webhook receiver, state to a real SQLite file. Subprocess tests run the
``gruponos_extension`` console script itself.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gruponos_ext.config import GruponosMeltanoSettings
from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer
from gruponos_ext.services.orchestrator import (
    GUARD_CONTEXT_ENV,
    GruponosMeltanoOrchestrator,
    GuardOutcome,
)
from gruponos_ext.state import LockOwner, RunStatus
from gruponos_ext.state.locks import pid_alive
from gruponos_ext.state.store import SqliteStateStore
from tests.support.alerts import WebhookReceiver
from tests.support.cli import CLI_BIN
from tests.support.runs import (
    FakeMeltano,
    Processes,
    clean_env,
    group_members,
    prom_samples,
    wait_until,
)

JOB = "sample-jsonl"
WEBHOOK_TOKEN = "Wh00k-T0ken-planted-7c1e"
PLANTED = "Pl4nted-s3cret-in-env-b9d2"
HOST = socket.gethostname()


# -- in-process wiring ----------------------------------------------------------------
@dataclass
class Wired:
    """An orchestrator from the container, its store, and the env a guard's child gets."""

    orchestrator: GruponosMeltanoOrchestrator
    store: SqliteStateStore
    settings: GruponosMeltanoSettings
    child_env: dict[str, str]
    fake: FakeMeltano

    def guard(self, **kwargs: Any) -> GuardOutcome:
        kwargs.setdefault("env", self.child_env)
        kwargs.setdefault("retry_delay", 0.0)
        return self.orchestrator.guard(JOB, meltano_bin=str(self.fake.bin), **kwargs)

    def runs(self) -> list[Any]:
        return self.store.recent_runs(JOB)

    def workspaces(self) -> list[Path]:
        root = Path(str(self.settings.state_dir)) / "runs"
        return list(root.iterdir()) if root.exists() else []


@pytest.fixture
def wire(
    tmp_path: Path, webhook_receiver: WebhookReceiver, fake_meltano: FakeMeltano
) -> Iterator[Callable[..., Wired]]:
    """Factory ``wire(**settings)``: a container-built orchestrator for ``tmp_path/state``.

    Settings are given by field name (``lock_ttl="2"``); alerts go to the
    webhook receiver (a token in its URL), de-duplication is off.
    """
    containers: list[GruponosMeltanoContainer] = []

    def make(**settings: str) -> Wired:
        env = {
            "GRUPONOS_INFRA_STATE_DIR": str(tmp_path / "state"),
            "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": webhook_receiver.url(f"/hooks/{WEBHOOK_TOKEN}"),
            "GRUPONOS_INFRA_ALERT_DEDUP_WINDOW": "0",
        }
        env.update({f"GRUPONOS_INFRA_{k.upper()}": v for k, v in settings.items()})
        container = GruponosMeltanoContainer(GruponosMeltanoSettings.from_env(env))
        container.configure_for_environment()
        containers.append(container)
        orchestrator = container.resolve("orchestrator")
        assert isinstance(orchestrator, GruponosMeltanoOrchestrator)
        store = container.resolve("state_store")
        # The guard's child inherits the guard's environment: settings included.
        child_env = {**clean_env(), **env, **fake_meltano.env()}
        return Wired(orchestrator, store, container.settings, child_env, fake_meltano)

    yield make
    for container in containers:
        container.dispose()


def alerts(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.requests]


# -- guard: success, retries, failures ------------------------------------------------
def test_guarded_success_records_the_run_releases_the_lock_and_removes_the_workspace(
    wire: Callable[..., Wired], webhook_receiver: WebhookReceiver
) -> None:
    w = wire()
    w.fake.plan({"exit": 0, "lines": ["extracted 12 records", "loaded 12 records"]})
    tee = io.StringIO()

    outcome = w.guard(output=tee)

    assert (outcome.exit_code, outcome.status, outcome.attempts) == (0, "success", 1)
    (call,) = w.fake.calls()
    assert call["argv"] == ["run", JOB]
    assert call["guard_context"] == outcome.context_id  # inner blocks can join this run
    assert "loaded 12 records" in tee.getvalue()
    (run,) = w.runs()
    assert (run.status, run.exit_code, run.context_id) == (
        RunStatus.SUCCESS,
        0,
        outcome.context_id,
    )
    assert run.pid == os.getpid()
    assert w.store.all_locks() == []
    assert w.workspaces() == []
    assert webhook_receiver.requests == []  # success sends no alert


def test_failed_run_is_retried_and_a_later_success_wins(
    wire: Callable[..., Wired], webhook_receiver: WebhookReceiver
) -> None:
    w = wire()
    w.fake.plan({"exit": 3}, {"exit": 3}, {"exit": 0})

    outcome = w.guard(retries=2)

    assert (outcome.exit_code, outcome.status, outcome.attempts) == (0, "success", 3)
    assert len(w.fake.calls()) == 3
    (run,) = w.runs()  # one run record for all attempts
    assert (run.status, run.exit_code) == (RunStatus.SUCCESS, 0)
    assert webhook_receiver.requests == []


def test_exhausted_retries_exit_with_the_childs_code_and_alert_once(
    wire: Callable[..., Wired], webhook_receiver: WebhookReceiver
) -> None:
    w = wire()
    w.fake.plan({"exit": 3, "lines": ["tap-x: cannot parse record 7", "block failed"]})

    outcome = w.guard(retries=1)

    assert (outcome.exit_code, outcome.status, outcome.attempts) == (3, "failed", 2)
    assert len(w.fake.calls()) == 2
    (run,) = w.runs()
    assert (run.status, run.exit_code) == (RunStatus.FAILED, 3)
    assert "block failed" in run.message
    assert w.store.all_locks() == []
    assert w.workspaces() == []
    (alert,) = alerts(webhook_receiver)
    assert alert["job"] == JOB
    assert JOB in alert["title"]
    assert alert["details"]["exit_code"] == "3"
    assert alert["details"]["attempts"] == "2"
    assert "exited with code 3 after 2 attempt(s)" in alert["message"]
    assert "tap-x: cannot parse record 7" in alert["message"]


def test_child_that_cannot_start_is_a_failed_run_with_exit_127(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire()
    outcome = w.orchestrator.guard(
        JOB, meltano_bin=str(tmp_path / "no-such-meltano"), env=w.child_env
    )
    assert (outcome.exit_code, outcome.status) == (127, "failed")
    assert "cannot start" in outcome.output_tail[-1]
    assert w.store.all_locks() == []


# -- guard: timeout and stopping -------------------------------------------------------
def test_timeout_stops_the_run_with_sigterm_and_disposes(
    wire: Callable[..., Wired], webhook_receiver: WebhookReceiver
) -> None:
    w = wire()
    w.fake.plan({"sleep": 60, "grandchild": True})
    started = time.monotonic()

    outcome = w.guard(timeout=1.0)

    assert time.monotonic() - started < 15
    assert outcome.timed_out
    assert (outcome.exit_code, outcome.status) == (124, "failed")  # as GNU timeout
    assert "0 signal 15" in w.fake.events()
    (call,) = w.fake.calls()
    assert group_members(call["pgid"]) == []
    grandchild = w.fake.grandchild_pid()
    assert grandchild is not None and not pid_alive(grandchild)
    (run,) = w.runs()
    assert (run.status, run.exit_code) == (RunStatus.FAILED, 124)
    assert w.store.all_locks() == []
    assert w.workspaces() == []
    (alert,) = alerts(webhook_receiver)
    assert "timed out after 1 s" in alert["message"]


def test_timed_out_child_that_exits_zero_on_sigterm_still_fails_with_124(
    wire: Callable[..., Wired],
) -> None:
    w = wire()
    w.fake.plan({"sleep": 60, "on_term": "exit:0"})

    outcome = w.guard(timeout=0.5)

    assert "0 signal 15" in w.fake.events()
    assert (outcome.exit_code, outcome.status, outcome.timed_out) == (124, "failed", True)
    (run,) = w.runs()
    assert run.status is RunStatus.FAILED


def test_every_attempt_gets_the_full_timeout_and_is_stopped_by_sigterm(
    wire: Callable[..., Wired],
) -> None:
    w = wire()
    w.fake.plan({"sleep": 60, "on_term": "exit:5"})
    started = time.monotonic()

    outcome = w.guard(timeout=0.5, retries=1)

    # Both attempts were asked to stop (SIGTERM), none was killed after the grace period.
    assert [e for e in w.fake.events() if "signal" in e] == ["0 signal 15", "1 signal 15"]
    # A timed-out run exits 124 whatever the child did on SIGTERM (here: exit 5).
    assert (outcome.exit_code, outcome.attempts, outcome.timed_out) == (124, 2, True)
    assert time.monotonic() - started < 15


def test_child_ignoring_sigterm_is_killed_after_the_grace_period(
    wire: Callable[..., Wired],
) -> None:
    w = wire()
    w.fake.plan({"sleep": 60, "on_term": "ignore"})
    started = time.monotonic()

    outcome = w.guard(timeout=0.5, stop_grace=1.0)

    assert outcome.exit_code == 128 + signal.SIGKILL
    assert "0 signal 15" in w.fake.events()
    assert time.monotonic() - started < 15
    assert group_members(w.fake.calls()[0]["pgid"]) == []
    assert w.store.all_locks() == []


def test_processes_the_child_leaves_behind_are_stopped_before_the_lock_is_released(
    wire: Callable[..., Wired],
) -> None:
    w = wire()
    w.fake.plan({"exit": 0, "grandchild": True})

    outcome = w.guard()

    assert outcome.exit_code == 0
    grandchild = w.fake.grandchild_pid()
    assert grandchild is not None and not pid_alive(grandchild)
    assert group_members(w.fake.calls()[0]["pgid"]) == []


def test_guard_renews_its_lease_so_a_run_longer_than_the_lock_ttl_keeps_its_lock(
    wire: Callable[..., Wired],
) -> None:
    w = wire(lock_ttl="1.5")
    w.fake.plan({"sleep": 4})
    contender: list[bool] = []

    def contend() -> None:
        owner = LockOwner.current("someone-else")  # this (live) process, another run
        contender.append(bool(w.store.acquire_lock(JOB, owner, 1.5)))

    timer = threading.Timer(3.0, contend)  # twice the TTL after the guard took the lock
    timer.start()
    try:
        outcome = w.guard()
    finally:
        timer.join(10)

    assert outcome.exit_code == 0
    assert contender == [False]  # the running guard still held the lock
    (run,) = w.runs()
    assert run.status is RunStatus.SUCCESS


def test_secrets_in_the_childs_output_never_reach_alerts_records_or_the_tee(
    wire: Callable[..., Wired], webhook_receiver: WebhookReceiver
) -> None:
    w = wire()
    w.child_env["SAMPLE_SOURCE_TOKEN"] = PLANTED
    w.fake.plan(
        {
            "exit": 2,
            "lines": [
                "connecting with {SAMPLE_SOURCE_TOKEN} to the source",
                "would alert to {GRUPONOS_INFRA_ALERT_WEBHOOK_URL}",
                "retrying with password=hunter2-db",
            ],
        }
    )
    tee = io.StringIO()

    outcome = w.guard(output=tee)

    assert outcome.exit_code == 2
    (alert,) = alerts(webhook_receiver)
    (run,) = w.runs()
    renderings = {
        "alert body": webhook_receiver.requests[0].body.decode(),
        "run record": run.message,
        "tee": tee.getvalue(),
        "tail": "\n".join(outcome.output_tail),
    }
    for where, text in renderings.items():
        assert PLANTED not in text, where
        assert WEBHOOK_TOKEN not in text, where
    assert "connecting with *** to the source" in alert["message"]
    assert "hunter2-db" not in alert["message"]
    assert "hunter2-db" not in run.message


def test_grandchild_that_left_the_session_with_setsid_is_stopped_before_the_lock_is_released(
    wire: Callable[..., Wired],
) -> None:
    w = wire()
    w.fake.plan({"exit": 0, "grandchild": "setsid"})

    outcome = w.guard()

    assert outcome.exit_code == 0
    grandchild = w.fake.grandchild_pid()
    assert grandchild is not None
    assert os.getpgid(0) != w.fake.calls()[0]["pgid"]
    assert not pid_alive(grandchild)  # out of the run's group and session, stopped anyway
    assert w.store.all_locks() == []


def test_a_lost_lock_stops_the_run_with_exit_125_and_alerts_who_took_it(
    wire: Callable[..., Wired], webhook_receiver: WebhookReceiver
) -> None:
    w = wire(lock_ttl="1.5")  # renewed every 0.5 s
    w.fake.plan({"sleep": 60, "grandchild": True})

    def take_over() -> None:
        (lock,) = w.store.all_locks()
        w.store.break_lock(JOB)  # an operator breaks it, another run takes it
        assert w.store.acquire_lock(JOB, LockOwner.current("the-thief"), None)
        assert lock.owner.context_id.startswith("guard:")

    wait_then = threading.Timer(2.0, take_over)
    wait_then.start()
    started = time.monotonic()
    try:
        outcome = w.guard()
    finally:
        wait_then.join(10)

    assert time.monotonic() - started < 20
    assert (outcome.exit_code, outcome.status, outcome.lock_lost) == (125, "failed", True)
    assert outcome.lost_reason is not None and "the-thief" in outcome.lost_reason
    assert "0 signal 15" in w.fake.events()  # the run was told to stop
    grandchild = w.fake.grandchild_pid()
    assert grandchild is not None and not pid_alive(grandchild)
    lock = w.store.current_lock(JOB)
    assert lock is not None and lock.owner.context_id == "the-thief"  # not released by us
    (run,) = w.runs()
    assert (run.status, run.exit_code) == (RunStatus.FAILED, 125)
    (alert,) = alerts(webhook_receiver)
    assert "run lock lost" in alert["title"]
    assert "lost its run lock" in alert["message"] and "the-thief" in alert["message"]


# -- preflight refusals ----------------------------------------------------------------
def test_guard_refuses_to_start_while_another_live_run_holds_the_lock(
    wire: Callable[..., Wired], webhook_receiver: WebhookReceiver
) -> None:
    w = wire()
    w.store.acquire_lock(JOB, LockOwner.current("the-other-run"), None)

    outcome = w.guard()

    assert (outcome.exit_code, outcome.status, outcome.attempts) == (1, "refused", 0)
    assert w.fake.calls() == []  # the child never started
    assert outcome.preflight_error is not None
    assert f"on host {HOST} (pid {os.getpid()}) since " in outcome.preflight_error
    lock = w.store.current_lock(JOB)
    assert lock is not None and lock.owner.context_id == "the-other-run"
    assert w.runs() == []
    (alert,) = alerts(webhook_receiver)
    assert alert["severity"] == "warning"
    assert "already running" in alert["title"]


def test_guard_refuses_when_a_critical_check_fails_and_alerts_without_the_password(
    wire: Callable[..., Wired], webhook_receiver: WebhookReceiver, closed_port: int
) -> None:
    w = wire(
        oracle_host="127.0.0.1",
        oracle_port=str(closed_port),
        oracle_service_name="WMSPROD",
        oracle_user="etl",
        oracle_password=PLANTED,
        oracle_connect_timeout="3",
    )

    outcome = w.guard()

    assert (outcome.exit_code, outcome.status) == (1, "refused")
    assert w.fake.calls() == []
    assert outcome.preflight_error is not None
    assert "oracle:connection" in outcome.preflight_error
    assert w.store.all_locks() == []  # health runs before the lock is taken
    assert w.runs() == []
    (health,) = w.store.recent_health(job=JOB)  # history shows why
    assert "oracle:connection" in [c.name for c in health.checks if c.status == "fail"]
    (request,) = webhook_receiver.requests
    alert = request.json()
    assert alert["job"] == JOB and "Preflight failed" in alert["title"]
    assert "critical health check(s) failed" in alert["message"]
    assert PLANTED not in request.body.decode()


def test_preflight_that_fails_after_taking_the_lock_releases_it(
    wire: Callable[..., Wired], tmp_path: Path
) -> None:
    w = wire()
    # The run's workspace cannot be created: a file sits where its parent must go.
    state_dir = Path(str(w.settings.state_dir))
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "runs").write_text("not a directory")

    result = w.orchestrator.preflight(JOB, "ctx-1", owner_pid=os.getpid(), run_health=False)

    assert result.failure
    assert "workspace" in (result.error or "")
    assert w.store.all_locks() == []


def test_sigterm_during_preflight_cancels_the_run_before_the_child_starts(
    tmp_path: Path, fake_meltano: FakeMeltano, extension_env: dict[str, str]
) -> None:
    # A critical check that takes a while; the guard is signalled while it runs.
    driver = tmp_path / "driver.py"
    driver.write_text(
        textwrap.dedent(
            """
            import json, os, signal, sys, time
            from gruponos_ext.config import GruponosMeltanoSettings
            from gruponos_ext.health.model import CheckOutcome, HealthCheck
            from gruponos_ext.health.runner import HealthCheckRunner
            from gruponos_ext.services.orchestrator import GruponosMeltanoOrchestrator
            from gruponos_ext.state.store import SqliteStateStore

            def slow_check():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.5)
                return CheckOutcome.passed("slow but fine")

            settings = GruponosMeltanoSettings.from_env(os.environ)
            orchestrator = GruponosMeltanoOrchestrator(
                state_store=SqliteStateStore.in_dir(settings.state_dir),
                settings=settings,
                health=lambda: HealthCheckRunner(
                    [HealthCheck("slow:check", slow_check, tags=frozenset({"critical"}))]
                ),
            )
            outcome = orchestrator.guard(sys.argv[1], meltano_bin=sys.argv[2])
            print(json.dumps(outcome.to_dict()))
            sys.exit(outcome.exit_code)
            """
        )
    )
    env = {**extension_env, **fake_meltano.env()}
    proc = subprocess.run(
        [sys.executable, str(driver), JOB, str(fake_meltano.bin)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr
    outcome = json.loads(proc.stdout.splitlines()[-1])  # after structlog's default output
    assert (outcome["status"], outcome["signal"]) == ("cancelled", signal.SIGTERM)
    assert fake_meltano.calls() == []
    store = SqliteStateStore.in_dir(env["GRUPONOS_INFRA_STATE_DIR"])
    (run,) = store.recent_runs(JOB)
    assert (run.status, run.exit_code) == (RunStatus.CANCELLED, 143)
    assert store.all_locks() == []


# -- the CLI: signals, exit codes, history, metrics ----------------------------------------
def cli(*args: str, env: dict[str, str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI_BIN), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    "signum",
    [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
    ids=["SIGTERM", "SIGINT", "SIGHUP"],
)
def test_signal_to_the_guard_cli_stops_the_childs_group_and_disposes(
    signum: int,
    tmp_path: Path,
    fake_meltano: FakeMeltano,
    extension_env: dict[str, str],
    processes: Processes,
) -> None:
    fake_meltano.plan({"sleep": 60, "grandchild": True, "lines": ["extracting..."]})
    env = {**extension_env, **fake_meltano.env()}
    prom = tmp_path / "metrics" / "job.prom"
    guard = processes.start([str(CLI_BIN), "guard", JOB, "--prom-file", str(prom)], env=env)
    wait_until(lambda: fake_meltano.started(0), 30, "the guarded child to start")
    (call,) = fake_meltano.calls()
    processes.adopt_group(call["pgid"])
    assert group_members(call["pgid"])

    guard.send_signal(signum)
    out, err = guard.communicate(timeout=30)

    assert guard.returncode == 128 + signum, err
    assert f"0 signal {signum}" in fake_meltano.events()
    assert group_members(call["pgid"]) == []
    grandchild = fake_meltano.grandchild_pid()
    assert grandchild is not None and not pid_alive(grandchild)
    assert "extracting..." in out  # the child's output was teed
    assert "cancelled" in err
    store = SqliteStateStore.in_dir(env["GRUPONOS_INFRA_STATE_DIR"])
    (run,) = store.recent_runs(JOB)
    assert (run.status, run.exit_code) == (RunStatus.CANCELLED, 128 + signum)
    assert store.all_locks() == []
    samples = prom_samples(prom)
    assert samples["gruponos_job_last_run_status"][(("job", JOB), ("status", "cancelled"))] == 1
    assert samples["gruponos_job_last_run_exit_code"][(("job", JOB),)] == 128 + signum


def test_guard_cli_exit_code_alert_history_and_prometheus_file(
    tmp_path: Path,
    fake_meltano: FakeMeltano,
    extension_env: dict[str, str],
    webhook_receiver: WebhookReceiver,
) -> None:
    env = {
        **extension_env,
        **fake_meltano.env(),
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": webhook_receiver.url(f"/hooks/{WEBHOOK_TOKEN}"),
        "SAMPLE_SOURCE_TOKEN": PLANTED,
    }
    prom = tmp_path / "metrics" / f"{JOB}.prom"
    report = tmp_path / "metrics" / f"{JOB}.json"

    fake_meltano.plan({"exit": 0, "lines": ["loaded 12 records"]}, {"exit": 3, "sleep": 0.2})
    ok = cli("guard", JOB, "--prom-file", str(prom), env=env)
    assert ok.returncode == 0, ok.stderr
    first = prom_samples(prom)
    success_at = first["gruponos_job_last_success_timestamp_seconds"][(("job", JOB),)]
    assert abs(success_at - time.time()) < 60
    assert webhook_receiver.requests == []

    fake_meltano.plan(
        {"exit": 0},
        {"exit": 3, "sleep": 0.2, "lines": ["source {SAMPLE_SOURCE_TOKEN} refused", "boom"]},
    )
    failed = cli("guard", JOB, "--prom-file", str(prom), "--json-file", str(report), env=env)

    assert failed.returncode == 3, failed.stderr  # the child's exit code
    (request,) = webhook_receiver.wait_for(1)
    alert = request.json()
    assert (alert["job"], alert["details"]["exit_code"]) == (JOB, "3")
    assert "boom" in alert["message"]
    assert PLANTED not in request.body.decode()
    assert PLANTED not in failed.stdout + failed.stderr
    samples = prom_samples(prom)
    labels = (("job", JOB),)
    assert samples["gruponos_job_last_run_exit_code"][labels] == 3
    assert samples["gruponos_job_last_run_status"][(("job", JOB), ("status", "failed"))] == 1
    assert samples["gruponos_job_last_success_timestamp_seconds"][labels] == success_at
    assert 0.2 <= samples["gruponos_job_last_run_duration_seconds"][labels] < 30
    assert [p.name for p in prom.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert json.loads(report.read_text())["exit_code"] == 3

    history = cli("history", "--format", "json", env=env)
    assert history.returncode == 0, history.stderr
    runs = json.loads(history.stdout)["runs"]
    assert [(r["job"], r["status"], r["exit_code"]) for r in runs] == [
        (JOB, "failed", 3),
        (JOB, "success", 0),
    ]
    assert all(r["context_id"].startswith("guard:") for r in runs)
    text = cli("history", "--job", JOB, env=env)
    assert text.returncode == 0, text.stderr
    assert "runs (2):" in text.stdout
    assert text.stdout.count(f"{JOB} ") >= 2
    assert "failed" in text.stdout and "exit 3" in text.stdout
    assert "success" in text.stdout and "exit 0" in text.stdout


def test_guard_cli_takes_retries_from_settings_and_a_timeout_from_the_command_line(
    tmp_path: Path, fake_meltano: FakeMeltano, extension_env: dict[str, str]
) -> None:
    report = tmp_path / "guard.json"
    env = {
        **extension_env,
        **fake_meltano.env(),
        "GRUPONOS_INFRA_RUN_RETRIES": "2",
        "GRUPONOS_INFRA_RUN_RETRY_DELAY": "0",
    }
    fake_meltano.plan({"exit": 4}, {"exit": 4}, {"exit": 0})

    retried = cli("guard", JOB, "--json-file", str(report), env=env)

    assert retried.returncode == 0, retried.stderr
    assert json.loads(report.read_text())["attempts"] == 3
    assert "3 attempt(s)" in retried.stderr

    (tmp_path / "fake" / "calls.jsonl").unlink()
    fake_meltano.plan({"sleep": 60})
    started = time.monotonic()
    stopped = cli("guard", JOB, "--timeout", "1", "--retries", "0", env=env)

    assert time.monotonic() - started < 20
    assert stopped.returncode == 124, stopped.stderr
    assert "0 signal 15" in fake_meltano.events()
    store = SqliteStateStore.in_dir(env["GRUPONOS_INFRA_STATE_DIR"])
    latest = store.recent_runs(JOB)[0]
    assert (latest.status, latest.exit_code) == (RunStatus.FAILED, 124)
    assert store.all_locks() == []


def test_kill_9_of_the_guard_takes_the_whole_run_with_it(
    fake_meltano: FakeMeltano, extension_env: dict[str, str], processes: Processes
) -> None:
    fake_meltano.plan({"sleep": 120, "grandchild": "setsid", "on_term": "ignore"})
    env = {**extension_env, **fake_meltano.env(), "GRUPONOS_INFRA_LOCK_TTL": "3"}
    guard = processes.start([str(CLI_BIN), "guard", JOB], env=env)
    wait_until(lambda: fake_meltano.started(0), 30, "the guarded child to start")
    (call,) = fake_meltano.calls()
    processes.adopt_group(call["pgid"])
    grandchild = fake_meltano.grandchild_pid()
    assert grandchild is not None and pid_alive(call["pid"])

    guard.kill()  # SIGKILL: no handler, no dispose
    guard.wait(10)

    # The run (which ignores SIGTERM) and its setsid grandchild die with the guard.
    wait_until(lambda: not pid_alive(call["pid"]), 40, "the orphaned `meltano run` to die")
    wait_until(lambda: not pid_alive(grandchild), 40, "the setsid grandchild to die")
    wait_until(lambda: group_members(call["pgid"]) == [], 30, "the run supervisor to exit")
    # So the next guard reclaims the dead guard's lock without a second copy running.
    fake_meltano.plan({"exit": 0})
    nxt = cli("guard", JOB, env=env)
    assert nxt.returncode == 0, nxt.stderr
    assert "stale_lock_reclaimed" in nxt.stderr
    assert [c["attempt"] for c in fake_meltano.calls()] == [0, 1]


def test_guard_closes_the_childs_output_pipe(
    fake_meltano: FakeMeltano, extension_env: dict[str, str]
) -> None:
    fake_meltano.plan({"exit": 0, "lines": ["loaded"]})
    env = {**extension_env, **fake_meltano.env(), "PYTHONWARNINGS": "always::ResourceWarning"}

    result = cli("guard", JOB, env=env)

    assert result.returncode == 0, result.stderr
    assert "ResourceWarning" not in result.stderr


def test_guard_cli_refused_by_a_held_lock_exits_1_and_keeps_the_last_runs_metrics(
    tmp_path: Path, fake_meltano: FakeMeltano, extension_env: dict[str, str]
) -> None:
    env = {**extension_env, **fake_meltano.env()}
    store = SqliteStateStore.in_dir(env["GRUPONOS_INFRA_STATE_DIR"])
    store.acquire_lock(JOB, LockOwner.current("scheduled-run"), None)
    prom = tmp_path / "job.prom"

    refused = cli("guard", JOB, "--prom-file", str(prom), env=env)

    assert refused.returncode == 1
    assert "not started" in refused.stderr
    assert f"(pid {os.getpid()}) since " in refused.stderr
    assert "unexpected" not in refused.stderr
    assert fake_meltano.calls() == []
    assert not prom.exists()  # a refused run is no run: no job metrics are rewritten


def test_blocks_of_a_guarded_job_join_the_guards_run(
    fake_meltano: FakeMeltano, extension_env: dict[str, str]
) -> None:
    # The fake runs the job's preflight/dispose blocks as `meltano run` does.
    fake_meltano.plan({"blocks": True, "exit": 0})
    env = {**extension_env, **fake_meltano.env()}

    result = cli("guard", JOB, env=env)

    assert result.returncode == 0, result.stderr
    events = fake_meltano.events()
    assert "0 preflight exit 0" in events and "0 dispose exit 0" in events
    assert "already held by this run" in result.stdout  # the inner preflight joined
    assert "left to the guarding process" in result.stdout  # the inner dispose deferred
    store = SqliteStateStore.in_dir(env["GRUPONOS_INFRA_STATE_DIR"])
    (run,) = store.recent_runs(JOB)  # one run, closed by the guard
    assert run.context_id.startswith("guard:")
    assert (run.status, run.exit_code) == (RunStatus.SUCCESS, 0)
    assert store.all_locks() == []


def test_kill_9_of_a_run_holding_the_lock_is_reclaimed_by_the_next_preflight(
    fake_meltano: FakeMeltano,
    extension_env: dict[str, str],
    processes: Processes,
    webhook_receiver: WebhookReceiver,
) -> None:
    env = {
        **extension_env,
        **fake_meltano.env(),
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": webhook_receiver.url(f"/hooks/{WEBHOOK_TOKEN}"),
    }
    store = SqliteStateStore.in_dir(env["GRUPONOS_INFRA_STATE_DIR"])
    # `meltano run` of a job whose preflight block took the lock, now busy in its tap.
    fake_meltano.plan({"blocks": True, "sleep": 120})
    run = processes.start([str(fake_meltano.bin), "run", JOB], env=env)
    wait_until(lambda: fake_meltano.started(0), 30, "the run's preflight block")
    lock = store.current_lock(JOB)
    assert lock is not None and lock.owner.pid == run.pid  # the block's parent owns it

    os.killpg(run.pid, signal.SIGKILL)
    run.wait(10)
    assert webhook_receiver.requests == []
    nxt = cli("preflight", "--job", JOB, env={**env, "MELTANO_PARENT_CONTEXT_UUID": "next-run"})

    assert nxt.returncode == 0, nxt.stderr
    assert "reclaiming a stale lock (process_gone)" in nxt.stdout
    assert f"(pid {run.pid})" in nxt.stdout
    assert "stale_lock_reclaimed" in nxt.stderr  # the warning
    (request,) = webhook_receiver.wait_for(1)
    alert = request.json()
    assert (alert["severity"], alert["job"]) == ("warning", JOB)
    assert "Stale run lock" in alert["title"] and f"(pid {run.pid})" in alert["message"]
    lock = store.current_lock(JOB)
    assert lock is not None and lock.owner.context_id == "next-run"
    killed = [r for r in store.recent_runs(JOB) if r.context_id != "next-run"]
    assert [r.status for r in killed] == [RunStatus.ABANDONED]


def test_racing_preflights_from_two_processes_have_exactly_one_winner_every_round(
    extension_env: dict[str, str], processes: Processes
) -> None:
    store = SqliteStateStore.in_dir(extension_env["GRUPONOS_INFRA_STATE_DIR"])
    winners: list[int] = []
    for round_no in range(20):
        contexts = [f"race-{round_no}-a", f"race-{round_no}-b"]
        # Children of this (live) process: each preflight's owner stays alive.
        racers = [
            processes.start(
                [str(CLI_BIN), "preflight", "--job", "race"],
                env={**extension_env, "MELTANO_PARENT_CONTEXT_UUID": context},
            )
            for context in contexts
        ]
        results = [(p.communicate(timeout=60), p.returncode) for p in racers]
        codes = sorted(code for _, code in results)
        assert codes == [0, 1], (round_no, results)
        winner = next(i for i, (_, code) in enumerate(results) if code == 0)
        (_, loser_err), _ = results[1 - winner]
        assert "already running" in loser_err
        assert f"run {contexts[winner]} on host {HOST} (pid {os.getpid()}) since " in loser_err
        lock = store.current_lock("race")
        assert lock is not None and lock.owner.context_id == contexts[winner]
        winners.append(winner)
        dispose = cli(
            "dispose",
            "--job",
            "race",
            env={**extension_env, "MELTANO_PARENT_CONTEXT_UUID": contexts[winner]},
        )
        assert dispose.returncode == 0, dispose.stderr
        assert store.current_lock("race") is None
    runs = store.recent_runs("race", limit=100)
    assert len(runs) == 20 and all(r.status is RunStatus.SUCCESS for r in runs)


def test_dispose_twice_exits_zero_both_times(extension_env: dict[str, str]) -> None:
    env = {**extension_env, "MELTANO_PARENT_CONTEXT_UUID": "ctx-twice"}
    assert cli("preflight", "--job", JOB, env=env).returncode == 0

    first = cli("dispose", "--job", JOB, env=env)
    second = cli("dispose", "--job", JOB, env=env)

    assert first.returncode == 0, first.stderr
    assert "released run lock(s) of job(s) sample-jsonl" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "nothing to dispose for run ctx-twice" in second.stdout
    store = SqliteStateStore.in_dir(env["GRUPONOS_INFRA_STATE_DIR"])
    assert store.all_locks() == []
    (run,) = store.recent_runs(JOB)
    assert run.status is RunStatus.SUCCESS


def test_dispose_under_a_guard_leaves_the_run_to_the_guard(
    extension_env: dict[str, str],
) -> None:
    env = {**extension_env, GUARD_CONTEXT_ENV: "guard:outer"}
    store = SqliteStateStore.in_dir(env["GRUPONOS_INFRA_STATE_DIR"])
    store.acquire_lock(JOB, LockOwner.current("guard:outer"), None)

    result = cli("dispose", "--job", JOB, env=env)

    assert result.returncode == 0, result.stderr
    assert "left to the guarding process" in result.stdout
    lock = store.current_lock(JOB)
    assert lock is not None and lock.owner.context_id == "guard:outer"


def test_health_prom_file_parses_with_a_status_and_duration_per_check(
    tmp_path: Path, extension_env: dict[str, str]
) -> None:
    prom = tmp_path / "metrics" / "health.prom"

    result = cli("health", "--prom-file", str(prom), env=extension_env)

    assert result.returncode == 0, result.stderr
    samples = prom_samples(prom)
    statuses = samples["gruponos_health_check_status"]
    checks = {dict(labels)["check"] for labels in statuses}
    assert {"settings:valid", "state_dir:writable"} <= checks
    for check in checks:  # one-hot: exactly one status per check
        assert sum(v for k, v in statuses.items() if dict(k)["check"] == check) == 1
    assert statuses[(("check", "state_dir:writable"), ("status", "pass"))] == 1
    durations = samples["gruponos_health_check_duration_seconds"]
    assert {dict(k)["check"] for k in durations} == checks
    assert samples["gruponos_health_status"][(("status", "pass"),)] == 1
    assert [p.name for p in prom.parent.iterdir()] == ["health.prom"]  # no temp file left


def _failing_preflight_env(
    extension_env: dict[str, str], webhook_receiver: WebhookReceiver, closed_port: int, window: str
) -> dict[str, str]:
    return {
        **extension_env,
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": webhook_receiver.url(f"/hooks/{WEBHOOK_TOKEN}"),
        "GRUPONOS_INFRA_ALERT_DEDUP_WINDOW": window,
        "GRUPONOS_INFRA_ORACLE_HOST": "127.0.0.1",
        "GRUPONOS_INFRA_ORACLE_PORT": str(closed_port),
        "GRUPONOS_INFRA_ORACLE_SERVICE_NAME": "WMSPROD",
        "GRUPONOS_INFRA_ORACLE_USER": "etl",
        "GRUPONOS_INFRA_ORACLE_PASSWORD": PLANTED,
    }


def test_the_same_failure_is_alerted_once_per_dedup_window_across_runs(
    extension_env: dict[str, str], webhook_receiver: WebhookReceiver, closed_port: int
) -> None:
    env = _failing_preflight_env(extension_env, webhook_receiver, closed_port, "3600")
    for attempt in range(3):  # three scheduled runs, each its own process
        result = cli(
            "preflight", "--job", JOB, env={**env, "MELTANO_PARENT_CONTEXT_UUID": f"run-{attempt}"}
        )
        assert result.returncode == 1, result.stderr
    assert len(webhook_receiver.requests) == 1
    store = SqliteStateStore.in_dir(env["GRUPONOS_INFRA_STATE_DIR"])
    decisions = store.alert_history()
    assert [d.sent for d in decisions] == [False, False, True]  # newest first


def test_without_a_dedup_window_every_failure_is_alerted(
    extension_env: dict[str, str], webhook_receiver: WebhookReceiver, closed_port: int
) -> None:
    env = _failing_preflight_env(extension_env, webhook_receiver, closed_port, "0")
    for attempt in range(2):
        result = cli(
            "preflight", "--job", JOB, env={**env, "MELTANO_PARENT_CONTEXT_UUID": f"run-{attempt}"}
        )
        assert result.returncode == 1
    assert len(webhook_receiver.wait_for(2)) == 2


def test_preflight_with_invalid_settings_alerts_names_the_variable_and_exits_2(
    extension_env: dict[str, str], webhook_receiver: WebhookReceiver
) -> None:
    env = {
        **extension_env,
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": webhook_receiver.url(f"/hooks/{WEBHOOK_TOKEN}"),
        "GRUPONOS_INFRA_ORACLE_PORT": "abc",
        "GRUPONOS_INFRA_WMS_PASSWORD": PLANTED,
    }
    result = cli("preflight", "--job", JOB, env=env)

    assert result.returncode == 2
    assert "GRUPONOS_INFRA_ORACLE_PORT" in result.stderr
    assert "Traceback" not in result.stderr
    (request,) = webhook_receiver.wait_for(1)
    alert = request.json()
    assert alert["job"] == JOB and "Preflight failed" in alert["title"]
    assert "GRUPONOS_INFRA_ORACLE_PORT" in alert["message"]
    body = request.body.decode()
    assert PLANTED not in body and WEBHOOK_TOKEN not in body


def test_preflight_with_invalid_alert_settings_says_no_alert_was_sent(
    extension_env: dict[str, str],
) -> None:
    env = {**extension_env, "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": "ftp://nowhere/hook"}
    result = cli("preflight", "--job", JOB, env=env)

    assert result.returncode == 2
    assert "GRUPONOS_INFRA_ALERT_WEBHOOK_URL" in result.stderr
    assert "no alert sent: the alert settings are invalid too" in result.stderr

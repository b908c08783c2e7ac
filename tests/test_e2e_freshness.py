"""``schedules:freshness`` end to end: a real meltano.yml, runs recorded through the CLI.

The project is a copy of the bundled one whose schedules are replaced by the
scenario's. Runs happen through ``gruponos_extension guard`` (with the fake
``meltano`` of tests.support.runs standing in for the pipeline); a run "ten
minutes ago" is recorded through the real state store with that start time,
instead of sleeping ten minutes.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import yaml

from gruponos_ext.state.model import RunStatus
from gruponos_ext.state.store import SqliteStateStore
from tests.support.alerts import WebhookReceiver
from tests.support.cli import CLI_BIN, ExtensionCli
from tests.support.runs import FakeMeltano, Processes, prom_samples, wait_until

pytestmark = pytest.mark.e2e

SCHEDULES = [
    {"name": "every-minute", "interval": "* * * * *", "job": "minutely"},
    {"name": "every-minute-late", "interval": "* * * * *", "job": "minutely-late"},
    {"name": "hourly-never-run", "interval": "@hourly", "job": "never-run"},
    {"name": "long-every-minute", "interval": "*/1 * * * *", "job": "long-run"},
    {"name": "by-hand", "interval": "@manual", "job": "by-hand"},
]


@pytest.fixture
def project(extension_cli: ExtensionCli, fake_meltano: FakeMeltano) -> ExtensionCli:
    meltano_yml = extension_cli.root / "meltano.yml"
    document = yaml.safe_load(meltano_yml.read_text())
    document["jobs"] = [{"name": s["job"], "tasks": ["tap-jsonl target-jsonl"]} for s in SCHEDULES]
    document["schedules"] = SCHEDULES
    meltano_yml.write_text(yaml.safe_dump(document, sort_keys=False))
    extension_cli.env.update(fake_meltano.env())
    return extension_cli


def freshness(cli: ExtensionCli, *args: str, **env: str) -> tuple[int, dict[str, Any]]:
    done = cli.run("health", "--check", "schedules:freshness", "--format", "json", *args, env=env)
    assert done.returncode in (0, 1), done.stderr
    document = json.loads(done.stdout)
    (entry,) = document["checks"]["schedules:freshness"]
    return done.returncode, entry


def by_schedule(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["schedule"]: s for s in entry["details"]["schedules"]}


def record_success(cli: ExtensionCli, job: str, started: datetime) -> None:
    store = SqliteStateStore.in_dir(cli.state_dir)
    run = store.start_run(job, f"past-{job}", host="elsewhere", pid=1, started_at=started)
    store.finish_run(run.id, RunStatus.SUCCESS, 0, finished_at=started + timedelta(seconds=30))


def test_on_time_missed_never_run_and_manual_schedules(
    project: ExtensionCli, webhook_receiver: WebhookReceiver
) -> None:
    guarded = project.run("guard", "minutely")
    assert guarded.returncode == 0, guarded.stderr
    record_success(project, "minutely-late", datetime.now(timezone.utc) - timedelta(minutes=10))
    prom = project.root / "health.prom"
    hook = {"GRUPONOS_INFRA_ALERT_WEBHOOK_URL": webhook_receiver.url("/hooks/x")}

    code, entry = freshness(project, "--prom-file", str(prom), **hook)

    schedules = by_schedule(entry)
    assert "by-hand" not in schedules  # @manual is never due
    assert schedules["every-minute"]["state"] == "on_time"
    assert schedules["every-minute"]["status"] == "pass"
    late = schedules["every-minute-late"]
    assert (late["state"], late["status"], late["job"]) == ("overdue", "warn", "minutely-late")
    assert late["missed_runs"] >= 4  # every minute since 10 min ago, less the 5 min grace
    assert (
        "job 'minutely-late' (schedule 'every-minute-late', * * * * *) missed its run due"
        in (late["message"])
    )
    never = schedules["hourly-never-run"]
    assert (never["state"], never["status"]) == ("never_succeeded", "warn")
    assert "no successful run recorded" in never["message"]
    assert (entry["status"], code) == ("warn", 0)  # warnings only: nothing critical is late
    assert "(times UTC)" in entry["output"]

    # the overdue job is alerted once, through the configured channel, with its name
    (request,) = webhook_receiver.wait_for(1)
    alert = request.json()
    assert (alert["title"], alert["job"], alert["severity"]) == (
        "Meltano job minutely-late is overdue",
        "minutely-late",
        "warning",
    )
    assert alert["details"]["schedule"] == "every-minute-late"
    samples = prom_samples(prom)
    overdue = samples["gruponos_schedule_overdue_seconds"]
    assert overdue[(("job", "minutely"), ("schedule", "every-minute"))] == 0
    assert overdue[(("job", "minutely-late"), ("schedule", "every-minute-late"))] > 240
    assert (
        samples["gruponos_schedule_interval_seconds"][
            (("job", "never-run"), ("schedule", "hourly-never-run"))
        ]
        == 3600
    )

    # health again: the same overdue job is not alerted twice within the dedup window
    freshness(project, **hook)
    time.sleep(0.5)
    assert len(webhook_receiver.requests) == 1


def test_a_job_running_now_passes_as_running(
    project: ExtensionCli, fake_meltano: FakeMeltano, processes: Processes
) -> None:
    record_success(project, "long-run", datetime.now(timezone.utc) - timedelta(hours=2))
    fake_meltano.plan({"exit": 0, "sleep": 60})
    processes.start(
        [str(CLI_BIN), "guard", "long-run"], env=project.environment(), cwd=project.root.parent
    )
    wait_until(fake_meltano.started, timeout=30, what="the guarded run to start")

    _, entry = freshness(project)

    running = by_schedule(entry)["long-every-minute"]
    assert (running["state"], running["status"]) == ("running", "pass")
    assert (
        "job 'long-run' (schedule 'long-every-minute', */1 * * * *) is running since"
        in (running["message"])
    )

"""monitoring/prometheus-rules.yml, tested for real with promtool.

* ``promtool check rules``: the file is valid;
* ``promtool test rules`` on monitoring/prometheus-rules.test.yml: each rule
  fires when it should, with its labels and text;
* the same rules over the metrics this extension really writes (a real
  freshness check on a real store, a real failing check, a guard's job file):
  exactly the expected alerts fire.

``make test`` installs promtool (Debian's ``prometheus`` package) when it is
missing; where it still is, these tests fail under CI (``CI`` set) and are
skipped with the reason elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from gruponos_ext.health.freshness import schedule_freshness_check
from gruponos_ext.health.model import CheckOutcome, HealthCheck
from gruponos_ext.health.runner import HealthCheckRunner
from gruponos_ext.metrics import render_prometheus
from gruponos_ext.state.model import LockOwner, RunStatus
from gruponos_ext.state.protocol import StateStore
from tests.support.schedules import schedule

MONITORING = Path(__file__).resolve().parent.parent / "monitoring"
RULES = MONITORING / "prometheus-rules.yml"
RULE_TESTS = MONITORING / "prometheus-rules.test.yml"
INSTANCE = "etl1:9100"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    reason = "promtool is not installed (`make test` installs Debian's prometheus package)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the rule tests")
    pytest.skip(reason)


def run_promtool(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_rules_file_is_valid(promtool: str) -> None:
    done = run_promtool(promtool, "check", "rules", str(RULES), cwd=MONITORING)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 6 rules found" in done.stdout


def test_the_rules_pass_their_unit_tests(promtool: str) -> None:
    done = run_promtool(promtool, "test", "rules", RULE_TESTS.name, cwd=MONITORING)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_a_broken_expectation_makes_promtool_fail(promtool: str, tmp_path: Path) -> None:
    # The unit tests can fail: an alert expected at the wrong time is caught.
    broken = RULE_TESTS.read_text().replace("eval_time: 70m", "eval_time: 50m", 1)
    shutil.copy(RULES, tmp_path / RULES.name)
    (tmp_path / RULE_TESTS.name).write_text(broken)
    done = run_promtool(promtool, "test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert done.returncode != 0
    assert "GruponosHealthNotReporting" in done.stdout + done.stderr


def real_metrics(store: StateStore) -> str:
    """The health file and a guard's job file, as the extension writes them."""
    now = datetime.now(timezone.utc)
    hour_ago = now - timedelta(hours=3)
    for job in ("wms-incremental", "wms-full"):
        run = store.start_run(job, f"ctx-{job}", host="h", pid=1, started_at=hour_ago)
        store.finish_run(run.id, RunStatus.SUCCESS, 0, finished_at=hour_ago + timedelta(minutes=1))
    gone = subprocess.Popen(["true"])
    gone.wait()
    store.acquire_lock("sample", LockOwner.current("ctx-dead", pid=gone.pid), None)
    freshness = schedule_freshness_check(
        lambda: [
            schedule("wms-hourly", "wms-incremental", "*/10 * * * *"),
            schedule("wms-frequent", "wms-full", "*/10 * * * *"),
            schedule("by-hand", "sample", "@manual"),
        ],
        lambda: store,
        critical_jobs={"wms-full"},
    )
    failing = HealthCheck("oracle:connection", lambda: CheckOutcome.failed("refused"))
    noncritical = HealthCheck(
        "circuit_breakers:state", lambda: CheckOutcome.failed("open"), critical=False
    )
    report = HealthCheckRunner([freshness, failing, noncritical]).run()
    guard_file = render_prometheus(
        None, job="wms-full", run_status=RunStatus.FAILED, exit_code=2, duration_s=5.0
    )
    return render_prometheus(report) + guard_file


def as_input_series(text: str) -> list[dict[str, str]]:
    series = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = {"instance": INSTANCE, **sample.labels}
            rendered = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            # The timestamp gauges are Unix times; promtool's clock starts at 0.
            series.append(
                {"series": f"{sample.name}{{{rendered}}}", "values": f"{sample.value}x10"}
            )
    return series


def test_the_metrics_the_extension_writes_fire_exactly_the_expected_alerts(
    promtool: str, any_store: StateStore, tmp_path: Path
) -> None:
    expected = [
        (
            "GruponosCriticalCheckFailing",
            {"check": "oracle:connection", "status": "fail"},
            "critical",
        ),
        ("GruponosCriticalJobOverdue", {"job": "wms-full", "schedule": "wms-frequent"}, "critical"),
        ("GruponosJobFailed", {"job": "wms-full", "status": "failed"}, "error"),
        ("GruponosJobOverdue", {"job": "wms-incremental", "schedule": "wms-hourly"}, "warning"),
        ("GruponosStaleLock", {"job": "sample"}, "warning"),
    ]
    samples = []
    for alertname, labels, severity in expected:
        every = {
            "alertname": alertname,
            "alertstate": "firing",
            "instance": INSTANCE,
            "severity": severity,
            **labels,
        }
        rendered = ", ".join(f'{k}="{v}"' for k, v in sorted(every.items()))
        samples.append({"labels": f"ALERTS{{{rendered}}}", "value": 1})
    document = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": as_input_series(real_metrics(any_store)),
                "promql_expr_test": [
                    {
                        "expr": 'ALERTS{alertstate="firing"}',
                        "eval_time": "6m",
                        "exp_samples": samples,
                    }
                ],
            }
        ],
    }
    (tmp_path / "real.test.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    done = run_promtool(promtool, "test", "rules", "real.test.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr

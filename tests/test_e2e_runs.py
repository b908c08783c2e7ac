"""Runs of the bundled sample job through a real ``meltano``: preflight/dispose, guard,
signals, killed runs, failed checks, history and metrics (issue 5, "Must show").

One installed copy of the bundled project serves the module (``meltano
install gruponos-infra tap-jsonl target-jsonl`` once). Every test gives the
extension a state directory and the target an output directory of its own
(``GRUPONOS_INFRA_STATE_DIR``, ``TARGET_JSONL_DESTINATION_PATH``), so tests
do not see each other's runs. A tap that hangs is tap-jsonl reading a named
pipe nobody writes to: it blocks in its first read, as a tap waiting on a
slow source does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gruponos_ext.state import RunStatus
from gruponos_ext.state.locks import pid_alive
from gruponos_ext.state.store import SqliteStateStore
from tests.support.alerts import WebhookReceiver
from tests.support.cli import with_bytecode_cache
from tests.support.meltano import (
    MELTANO_BIN,
    MeltanoProject,
    copy_bundled_project,
    offline_meltano_env,
)
from tests.support.runs import Processes, group_members, prom_samples, wait_until

pytestmark = pytest.mark.e2e

JOB = "sample-jsonl"
WEBHOOK_TOKEN = "Wh00k-T0ken-e2e-5a1f"
PLANTED = "Pl4nted-e2e-s3cret-3e8b"
HOST = socket.gethostname()
SAMPLE_RECORDS = 12
BARE = "gruponos-infra:preflight tap-jsonl target-jsonl gruponos-infra:dispose"
EXTRA_JOBS = f"""\
- name: job-a
  tasks:
  - {BARE}
- name: job-b
  tasks:
  - {BARE}
# A job written before the extension was adopted.
- name: plain
  tasks:
  - tap-jsonl target-jsonl   # the sample pair
"""


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory, bytecode_cache_env: dict[str, str]
) -> MeltanoProject:
    root = copy_bundled_project(tmp_path_factory.mktemp("e2e-runs") / "project")
    text = (root / "meltano.yml").read_text(encoding="utf-8")
    assert text.count("\njobs:\n") == 1
    (root / "meltano.yml").write_text(text.replace("\njobs:\n", "\njobs:\n" + EXTRA_JOBS))
    env = with_bytecode_cache(offline_meltano_env(), bytecode_cache_env)
    installed = MeltanoProject(root=root, env=env)
    installed.install("gruponos-infra", "tap-jsonl", "target-jsonl")
    return installed


@pytest.fixture
def run_env(tmp_path: Path) -> dict[str, str]:
    """Per-test state and output directories for the module's project."""
    return {
        "GRUPONOS_INFRA_STATE_DIR": str(tmp_path / "state"),
        "TARGET_JSONL_DESTINATION_PATH": str(tmp_path / "out"),
    }


@pytest.fixture
def hanging_source(tmp_path: Path) -> Iterator[Path]:
    """A named pipe as tap-jsonl's source: the tap blocks reading it."""
    fifo = tmp_path / "source" / "allocations.jsonl"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    yield fifo


def store_of(env: dict[str, str]) -> SqliteStateStore:
    return SqliteStateStore.in_dir(env["GRUPONOS_INFRA_STATE_DIR"])


def workspaces(env: dict[str, str]) -> list[Path]:
    runs = Path(env["GRUPONOS_INFRA_STATE_DIR"]) / "runs"
    return list(runs.iterdir()) if runs.exists() else []


def output_file(env: dict[str, str]) -> Path:
    return Path(env["TARGET_JSONL_DESTINATION_PATH"]) / "allocations.jsonl"


def find_processes(fragment: str) -> list[tuple[int, int]]:
    """``(pid, pgid)`` of every live process whose command line contains ``fragment``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fragment in cmdline and stat and stat[0] not in ("Z", "X"):
            found.append((int(entry.name), int(stat[2])))
    return found


def start_hung_run(
    project: MeltanoProject,
    env: dict[str, str],
    hanging_source: Path,
    processes: Processes,
    *run_args: str,
) -> subprocess.Popen[str]:
    """``meltano run RUN_ARGS`` blocked in its tap (preflight done: blocks run in order)."""
    stuck = processes.start(
        [str(MELTANO_BIN), "run", *run_args],
        env={**env, "TAP_JSONL_PATH": str(hanging_source)},
        cwd=project.root,
        capture=False,
    )
    wait_until(
        lambda: any(pgid == stuck.pid for _, pgid in find_processes("tap-jsonl")),
        90,
        f"`meltano run {' '.join(run_args)}` to reach its tap",
    )
    return stuck


def webhook_env(receiver: WebhookReceiver) -> dict[str, str]:
    return {
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": receiver.url(f"/hooks/{WEBHOOK_TOKEN}"),
        "GRUPONOS_INFRA_ALERT_DEDUP_WINDOW": "0",
    }


# -- the preflight/dispose pair ----------------------------------------------------------
def test_preflight_dispose_pair_through_meltano_run_records_success_and_cleans_up(
    project: MeltanoProject, run_env: dict[str, str]
) -> None:
    result = project.run("run", "--full-refresh", JOB, env=run_env)

    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert f"preflight passed for job '{JOB}'" in log
    assert "disposed: released run lock(s) of job(s) sample-jsonl" in log
    assert len(output_file(run_env).read_text().splitlines()) == SAMPLE_RECORDS
    store = store_of(run_env)
    (run,) = store.recent_runs(JOB)
    assert (run.status, run.exit_code) == (RunStatus.SUCCESS, 0)
    assert not run.context_id.startswith(("manual:", "guard:"))  # MELTANO_PARENT_CONTEXT_UUID
    assert run.pid != os.getpid() and not pid_alive(run.pid)  # it was the `meltano run`
    assert store.all_locks() == []
    assert workspaces(run_env) == []

    history = project.run("invoke", "gruponos-infra:history", "--format", "json", env=run_env)
    assert history.returncode == 0, history.stderr[-3000:]
    shown = json.loads(history.stdout)
    assert [(r["context_id"], r["status"], r["exit_code"]) for r in shown["runs"]] == [
        (run.context_id, "success", 0)
    ]
    assert shown["locks"] == []
    text = project.run("invoke", "gruponos-infra:history", env=run_env)
    assert text.returncode == 0, text.stderr[-3000:]
    assert "runs (1):" in text.stdout and "success" in text.stdout
    assert f"{HOST}:{run.pid}" in text.stdout

    # The run is already disposed: disposing it again (twice) is fine.
    for _ in range(2):
        again = project.run(
            "invoke", "gruponos-infra:dispose", "--context", run.context_id, env=run_env
        )
        assert again.returncode == 0, again.stderr[-3000:]
        assert f"nothing to dispose for run {run.context_id}" in again.stdout
    assert store.recent_runs(JOB)[0].status is RunStatus.SUCCESS


# -- guard ----------------------------------------------------------------------------------
def test_failing_tap_under_guard_disposes_alerts_and_exits_with_the_runs_code(
    project: MeltanoProject,
    run_env: dict[str, str],
    tmp_path: Path,
    webhook_receiver: WebhookReceiver,
) -> None:
    # tap-jsonl fails honestly on a source that is a directory; its error echoes
    # the source locator, which here carries a credential (as URLs with tokens do).
    source = tmp_path / f"drop-{PLANTED}"
    source.mkdir()
    prom = tmp_path / "metrics" / f"{JOB}.prom"
    env = {
        **run_env,
        **webhook_env(webhook_receiver),
        "TAP_JSONL_PATH": str(source),
        "SAMPLE_SOURCE_TOKEN": PLANTED,
    }

    result = project.run("invoke", "gruponos-infra:guard-sample", "--prom-file", str(prom), env=env)

    # `meltano run` exits 1 when a block fails; guard exits with that code.
    assert result.returncode == 1, result.stderr[-3000:]
    assert "guard: job 'sample-jsonl' failed (exit code 1" in result.stderr
    assert "IsADirectoryError" in result.stdout  # the child's output, teed
    assert PLANTED not in result.stdout + result.stderr
    store = store_of(env)
    (run,) = store.recent_runs(JOB)
    assert run.context_id.startswith("guard:")
    assert (run.status, run.exit_code) == (RunStatus.FAILED, 1)
    assert PLANTED not in run.message
    assert store.all_locks() == []
    assert workspaces(env) == []
    assert not output_file(env).exists()

    (request,) = webhook_receiver.wait_for(1)
    assert request.path == f"/hooks/{WEBHOOK_TOKEN}"
    body = request.body.decode()
    assert PLANTED not in body and WEBHOOK_TOKEN not in body
    alert = request.json()
    assert alert["job"] == JOB and JOB in alert["title"]
    assert alert["details"]["exit_code"] == "1"
    assert "exited with code 1" in alert["message"]
    assert "Is a directory" in alert["message"]  # the tail of the output
    assert "drop-***" in alert["message"]

    samples = prom_samples(prom)
    labels = (("job", JOB),)
    assert samples["gruponos_job_last_run_exit_code"][labels] == 1
    assert samples["gruponos_job_last_run_status"][(("job", JOB), ("status", "failed"))] == 1
    assert 0 < samples["gruponos_job_last_run_duration_seconds"][labels] < 300
    assert "gruponos_job_last_success_timestamp_seconds" not in samples  # never succeeded
    assert sorted(p.name for p in prom.parent.iterdir()) == [prom.name]


def test_sigterm_to_guard_mid_run_stops_real_meltano_and_disposes(
    project: MeltanoProject,
    run_env: dict[str, str],
    hanging_source: Path,
    processes: Processes,
) -> None:
    env = {
        **project.env,
        **run_env,
        "MELTANO_PROJECT_ROOT": str(project.root),
        "TAP_JSONL_PATH": str(hanging_source),
    }
    extension = project.root / ".meltano/utilities/gruponos-infra/venv/bin/gruponos_extension"
    guard = processes.start([str(extension), "guard", JOB], env=env, cwd=project.root)

    def blocked_tap() -> list[tuple[int, int]]:
        return [p for p in find_processes("tap-jsonl") if p[1] != p[0]]

    wait_until(blocked_tap, 90, "the guarded `meltano run` to reach the tap")
    ((tap_pid, child_pgid),) = blocked_tap()
    processes.adopt_group(child_pgid)
    assert (child_pgid, child_pgid) in find_processes("meltano run sample-jsonl")
    lock = store_of(env).current_lock(JOB)
    assert lock is not None and lock.owner.pid == guard.pid  # the guard holds the lock

    guard.send_signal(signal.SIGTERM)
    out, err = guard.communicate(timeout=60)

    # meltano run exits on the forwarded SIGTERM; guard passes its code on.
    assert guard.returncode == 128 + signal.SIGTERM, err[-3000:]
    assert group_members(child_pgid) == []  # meltano run and the tap are gone
    assert not pid_alive(tap_pid)
    store = store_of(env)
    (run,) = store.recent_runs(JOB)
    assert (run.status, run.exit_code) == (RunStatus.CANCELLED, guard.returncode)
    assert store.all_locks() == []
    assert workspaces(env) == []
    assert "cancelled" in err
    assert f"preflight passed for job '{JOB}'" in out  # the inner block's output, teed


# -- stale locks ------------------------------------------------------------------------------
def test_kill_9_of_a_meltano_run_holding_the_lock_is_reclaimed_by_the_next_run(
    project: MeltanoProject,
    run_env: dict[str, str],
    hanging_source: Path,
    processes: Processes,
    webhook_receiver: WebhookReceiver,
) -> None:
    env = {**project.env, **run_env, **webhook_env(webhook_receiver)}
    stuck = start_hung_run(project, env, hanging_source, processes, JOB)
    store = store_of(env)
    lock = store.current_lock(JOB)
    assert lock is not None
    assert lock.owner.pid == stuck.pid  # the preflight block's owner is `meltano run`
    held_by = lock.owner.context_id

    os.killpg(stuck.pid, signal.SIGKILL)  # the run and its tap, as the OOM killer would
    stuck.wait(30)
    assert webhook_receiver.requests == []

    # Meltano itself refuses for 5 minutes to start a pipeline whose last run died
    # without a trace ("Another ... pipeline is already running"); --force overrides
    # that check, not ours: preflight still decides about the run lock.
    result = project.run("run", "--force", "--full-refresh", JOB, env=env)

    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "reclaiming a stale lock (process_gone)" in log
    assert f"run {held_by} on host {HOST} (pid {stuck.pid})" in log
    assert "stale_lock_reclaimed" in log  # the warning
    (request,) = webhook_receiver.wait_for(1)
    alert = request.json()
    assert (alert["severity"], alert["job"]) == ("warning", JOB)
    assert "Stale run lock" in alert["title"]
    assert f"(pid {stuck.pid})" in alert["message"]
    runs = {r.context_id: r for r in store.recent_runs(JOB)}
    assert runs.pop(held_by).status is RunStatus.ABANDONED
    ((_, latest),) = runs.items()
    assert (latest.status, latest.exit_code) == (RunStatus.SUCCESS, 0)
    assert store.all_locks() == []
    assert len(output_file(env).read_text().splitlines()) == SAMPLE_RECORDS


# -- refusals -----------------------------------------------------------------------------------
def test_failed_critical_check_stops_meltano_run_before_the_tap(
    project: MeltanoProject,
    run_env: dict[str, str],
    closed_port: int,
    webhook_receiver: WebhookReceiver,
) -> None:
    env = {
        **run_env,
        **webhook_env(webhook_receiver),
        "GRUPONOS_INFRA_ORACLE_HOST": "127.0.0.1",
        "GRUPONOS_INFRA_ORACLE_PORT": str(closed_port),
        "GRUPONOS_INFRA_ORACLE_SERVICE_NAME": "WMSPROD",
        "GRUPONOS_INFRA_ORACLE_USER": "etl",
        "GRUPONOS_INFRA_ORACLE_PASSWORD": PLANTED,
    }

    result = project.run("run", "--full-refresh", JOB, env=env)

    assert result.returncode == 1
    log = result.stdout + result.stderr
    assert "critical health check(s) failed: oracle:connection" in log
    assert "Running job with name" not in log  # the tap/target block never started
    assert not output_file(env).exists()
    assert PLANTED not in log
    store = store_of(env)
    assert store.recent_runs(JOB) == []
    assert store.all_locks() == []
    (request,) = webhook_receiver.wait_for(1)
    alert = request.json()
    assert alert["job"] == JOB and "Preflight failed" in alert["title"]
    assert "oracle:connection" in alert["message"]
    assert PLANTED not in request.body.decode()


# -- metrics ------------------------------------------------------------------------------------
def test_health_prom_file_from_meltano_invoke_parses(
    project: MeltanoProject, run_env: dict[str, str], tmp_path: Path
) -> None:
    prom = tmp_path / "metrics" / "health.prom"

    result = project.run("invoke", "gruponos-infra:health", "--prom-file", str(prom), env=run_env)

    assert result.returncode == 0, result.stderr[-3000:]
    samples = prom_samples(prom)
    statuses = samples["gruponos_health_check_status"]
    # Under Meltano the system database is known, so its check really runs.
    assert statuses[(("check", "meltano_db:integrity"), ("status", "pass"))] == 1
    checks = {dict(labels)["check"] for labels in statuses}
    assert {dict(k)["check"] for k in samples["gruponos_health_check_duration_seconds"]} == checks
    assert samples["gruponos_health_status"][(("status", "pass"),)] == 1
    assert abs(samples["gruponos_health_timestamp_seconds"][()] - time.time()) < 300
    assert sorted(p.name for p in prom.parent.iterdir()) == ["health.prom"]


# -- bare blocks: the job comes from the `meltano run` -------------------------------------------
def test_bare_blocks_of_two_jobs_running_at_once_do_not_collide_and_a_second_copy_is_refused(
    project: MeltanoProject,
    run_env: dict[str, str],
    hanging_source: Path,
    processes: Processes,
) -> None:
    env = {**project.env, **run_env}
    # --force: past Meltano's own 5-minute stale-run check left by an earlier kill -9.
    stuck = start_hung_run(project, env, hanging_source, processes, "--force", "job-a")
    store = store_of(env)
    lock = store.current_lock("job-a")
    assert lock is not None and lock.owner.pid == stuck.pid  # named after the job, owned by run

    # Another job with bare blocks, at the same time (options are not mistaken for jobs).
    other = project.run("run", "--force", "--state-id-suffix", "b", "job-b", env=run_env)
    # The same job again, while it runs: refused by its preflight before the tap.
    again = project.run("run", "--force", "job-a", env=run_env)

    assert other.returncode == 0, other.stderr[-3000:]
    assert "preflight passed for job 'job-b'" in other.stdout + other.stderr
    (run_b,) = store.recent_runs("job-b")
    assert (run_b.status, run_b.exit_code) == (RunStatus.SUCCESS, 0)
    assert again.returncode == 1
    assert "job 'job-a' is already running" in again.stdout + again.stderr
    assert [r.status for r in store.recent_runs("job-a")] == [RunStatus.RUNNING]
    assert [lock.job for lock in store.all_locks()] == ["job-a"]
    os.killpg(stuck.pid, signal.SIGKILL)
    stuck.wait(30)


def test_meltano_run_of_two_jobs_attributes_each_bare_block_to_its_own_job(
    project: MeltanoProject, run_env: dict[str, str]
) -> None:
    result = project.run("run", "--force", "job-a", "job-b", env=run_env)

    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert log.index("preflight passed for job 'job-a'") < log.index(
        "disposed: released run lock(s) of job(s) job-a"
    )
    assert log.index("disposed: released run lock(s) of job(s) job-a") < log.index(
        "preflight passed for job 'job-b'"
    )
    assert "disposed: released run lock(s) of job(s) job-b" in log
    store = store_of(run_env)
    (run_a,) = store.recent_runs("job-a")
    (run_b,) = store.recent_runs("job-b")
    assert run_a.context_id == run_b.context_id  # one `meltano run`, one context
    assert (run_a.status, run_b.status) == (RunStatus.SUCCESS, RunStatus.SUCCESS)
    assert run_a.finished_at is not None and run_a.finished_at <= run_b.started_at
    assert store.all_locks() == []
    assert workspaces(run_env) == []
    blocks = Path(run_env["GRUPONOS_INFRA_STATE_DIR"]) / "blocks"
    assert not blocks.exists() or list(blocks.iterdir()) == []  # the block log is gone


def test_an_inline_run_gets_a_lock_named_after_its_blocks(
    project: MeltanoProject, run_env: dict[str, str]
) -> None:
    result = project.run("run", "--force", *BARE.split(), env=run_env)

    assert result.returncode == 0, result.stderr[-3000:]
    store = store_of(run_env)
    (run,) = store.recent_runs("inline:tap-jsonl+target-jsonl")
    assert (run.status, run.exit_code) == (RunStatus.SUCCESS, 0)
    assert store.all_locks() == []


def test_a_bare_preflight_outside_meltano_run_fails_with_one_line_naming_the_explicit_form(
    project: MeltanoProject, run_env: dict[str, str]
) -> None:
    result = project.run("invoke", "gruponos-infra:preflight", env=run_env)

    assert result.returncode == 2
    assert "cannot tell which job this preflight block belongs to" in result.stderr
    assert "preflight --job JOB" in result.stderr
    assert "Traceback" not in result.stderr
    assert store_of(run_env).all_locks() == []


def test_guard_from_meltano_invoke_runs_the_meltano_that_invoked_it_when_not_on_path(
    project: MeltanoProject, run_env: dict[str, str]
) -> None:
    env = {
        **run_env,
        "PATH": "/usr/local/bin:/usr/bin:/bin",  # no meltano on PATH
        "MELTANO_RUN_FORCE": "true",  # past Meltano's own 5-minute stale-run check
    }
    assert shutil.which("meltano", path=env["PATH"]) is None

    result = project.run("invoke", "gruponos-infra:guard-sample", env=env)

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "guard: job 'sample-jsonl' success (exit code 0" in result.stderr
    assert "ResourceWarning" not in result.stderr
    (run,) = store_of(run_env).recent_runs(JOB)
    assert (run.status, run.exit_code) == (RunStatus.SUCCESS, 0)


def test_initialize_write_on_a_commented_project_keeps_comments_and_the_job_then_runs(
    project: MeltanoProject, run_env: dict[str, str]
) -> None:
    before = project.meltano_yml.read_text(encoding="utf-8")

    written = project.run("invoke", "gruponos-infra:initialize", "--write", env=run_env)

    assert written.returncode == 0, written.stdout + written.stderr[-3000:]
    assert (
        "+ tasks: ['gruponos-infra:preflight tap-jsonl target-jsonl gruponos-infra:dispose']"
        in (written.stdout)
    )
    assert "validation passed" in written.stdout
    after = project.meltano_yml.read_text(encoding="utf-8")
    assert f"  - {BARE}   # the sample pair\n" in after
    assert [line for line in before.splitlines() if line.lstrip().startswith("#")] == [
        line for line in after.splitlines() if line.lstrip().startswith("#")
    ]
    ran = project.run("run", "--force", "plain", env=run_env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    (run,) = store_of(run_env).recent_runs("plain")
    assert run.status is RunStatus.SUCCESS

    second = project.run("invoke", "gruponos-infra:initialize", "--write", env=run_env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "nothing written" in second.stdout
    assert project.meltano_yml.read_text(encoding="utf-8") == after

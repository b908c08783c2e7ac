"""Report files: the Prometheus textfile parses with the reference parser and is
never seen half-written; JSON files are written the same way."""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.health.model import CheckResult, HealthReport, Status
from gruponos_ext.metrics import (
    MetricsWriteError,
    escape_label_value,
    render_prometheus,
    write_json_atomic,
    write_prometheus_textfile,
)
from gruponos_ext.state import RunStatus

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def make_report(
    checks: dict[str, tuple[Status, float]], *, duration_s: float = 1.25
) -> HealthReport:
    results = tuple(
        CheckResult(name, status, f"{name} is {status.value}", seconds, WHEN)
        for name, (status, seconds) in checks.items()
    )
    return HealthReport.aggregate(results, duration_s, WHEN)


def samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Family name -> {sorted label pairs: value}, via the reference parser."""
    parsed: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            parsed.setdefault(sample.name, {})[key] = sample.value
    return parsed


def test_health_report_metrics_parse_with_the_reference_parser() -> None:
    report = make_report(
        {
            "oracle:connection": (Status.PASS, 0.012),
            "wms:http": (Status.FAIL, 2.5),
            "smtp:connection": (Status.SKIP, 0.0),
        }
    )

    got = samples(render_prometheus(report))

    check_status = got["gruponos_health_check_status"]
    assert check_status[(("check", "oracle:connection"), ("status", "pass"))] == 1
    assert check_status[(("check", "wms:http"), ("status", "fail"))] == 1
    assert check_status[(("check", "smtp:connection"), ("status", "skip"))] == 1
    # One-hot: exactly one status is 1 per check, all four are present.
    assert len(check_status) == 3 * 4 and sum(check_status.values()) == 3
    assert got["gruponos_health_check_duration_seconds"] == {
        (("check", "oracle:connection"),): 0.012,
        (("check", "wms:http"),): 2.5,
        (("check", "smtp:connection"),): 0.0,
    }
    assert got["gruponos_health_status"] == {
        (("status", "pass"),): 0,
        (("status", "warn"),): 0,
        (("status", "fail"),): 1,
    }
    assert got["gruponos_health_duration_seconds"] == {(): 1.25}
    assert got["gruponos_health_timestamp_seconds"] == {(): WHEN.timestamp()}
    assert not any(name.startswith("gruponos_job_") for name in got)


def test_every_family_has_help_and_type_lines() -> None:
    text = render_prometheus(
        make_report({"a:b": (Status.WARN, 0.1)}),
        job="nightly",
        run_status=RunStatus.SUCCESS,
        exit_code=0,
        last_success_time=WHEN,
        duration_s=3.0,
    )
    names = {f.name for f in text_string_to_metric_families(text)}
    assert len(names) == 10
    for name in names:
        assert f"# HELP {name} " in text
        assert f"# TYPE {name} gauge\n" in text


def test_job_metrics_carry_the_job_label() -> None:
    text = render_prometheus(
        make_report({"oracle:connection": (Status.PASS, 0.5)}),
        job="wms-to-oracle",
        run_status="failed",
        exit_code=2,
        last_success_time=WHEN.timestamp() - 3600,
        duration_s=321.5,
    )
    got = samples(text)
    job = ("job", "wms-to-oracle")

    assert got["gruponos_job_last_run_exit_code"] == {(job,): 2}
    assert got["gruponos_job_last_run_duration_seconds"] == {(job,): 321.5}
    assert got["gruponos_job_last_success_timestamp_seconds"] == {(job,): WHEN.timestamp() - 3600}
    run_status = got["gruponos_job_last_run_status"]
    assert run_status[(job, ("status", "failed"))] == 1
    assert sum(run_status.values()) == 1 and len(run_status) == len(RunStatus)
    # Health series are per job too, so several jobs' files do not collide.
    assert (
        got["gruponos_health_check_status"][
            (("check", "oracle:connection"), job, ("status", "pass"))
        ]
        == 1
    )


def test_job_metrics_without_a_report_and_only_what_was_given() -> None:
    got = samples(render_prometheus(None, job="nightly", exit_code=1))
    assert got == {"gruponos_job_last_run_exit_code": {(("job", "nightly"),): 1}}
    assert render_prometheus(None) == ""


def test_job_metrics_need_a_job_name() -> None:
    with pytest.raises(ValueError, match="job"):
        render_prometheus(None, exit_code=1)
    with pytest.raises(ValueError, match="status"):
        render_prometheus(None, job="j", run_status="exploded")


def test_label_values_are_escaped() -> None:
    nasty = 'disk:"/var/data"\\new\nline'
    text = render_prometheus(make_report({nasty: (Status.WARN, 0.1)}), job='job "x"')

    got = samples(text)
    assert got["gruponos_health_check_duration_seconds"] == {
        (("check", nasty), ("job", 'job "x"')): 0.1
    }
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert "\nline" not in text.replace("\\nline", "")


def test_special_float_values_use_the_text_format_spelling() -> None:
    report = make_report({"a:inf": (Status.FAIL, math.inf)}, duration_s=math.nan)
    text = render_prometheus(report)
    assert "} +Inf\n" in text and "gruponos_health_duration_seconds NaN\n" in text
    got = samples(text)
    assert got["gruponos_health_check_duration_seconds"][(("check", "a:inf"),)] == math.inf
    assert math.isnan(got["gruponos_health_duration_seconds"][()])


# -- files --------------------------------------------------------------------------


@pytest.fixture
def strict_umask() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def test_textfile_is_world_readable_and_leaves_no_temporary_files(
    tmp_path: Path, strict_umask: None
) -> None:
    path = tmp_path / "textfile" / "gruponos_nightly.prom"
    report = make_report({"oracle:connection": (Status.PASS, 0.1)})

    for _ in range(3):
        assert write_prometheus_textfile(path, report, job="nightly", exit_code=0) == path

    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(path.parent) == ["gruponos_nightly.prom"]
    assert samples(path.read_text())["gruponos_job_last_run_exit_code"] == {
        (("job", "nightly"),): 0
    }


def test_unwritable_target_raises_a_coded_error_naming_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    path = blocker / "metrics" / "gruponos.prom"

    with pytest.raises(MetricsWriteError) as info:
        write_prometheus_textfile(path, None, job="j", exit_code=0)
    assert isinstance(info.value, GruponosError)
    assert info.value.code == "METRICS_WRITE_FAILED"
    assert str(path) in str(info.value)


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_json_atomic(path, {"run": 1})

    with pytest.raises(ValueError):
        write_json_atomic(path, {"bad": math.nan})

    assert json.loads(path.read_text()) == {"run": 1}
    assert os.listdir(tmp_path) == ["report.json"]


class Colour(Enum):
    RED = "red"


def test_json_report_round_trips_common_python_values(tmp_path: Path, strict_umask: None) -> None:
    path = tmp_path / "out" / "health.json"
    data: dict[str, Any] = {
        "time": WHEN,
        "status": Status.WARN,
        "colour": Colour.RED,
        "path": Path("/x/y"),
        "tags": frozenset({"b", "a"}),
        "run": RunStatus.SUCCESS,
        "unicode": "São Paulo",
    }

    write_json_atomic(path, data)

    assert json.loads(path.read_text(encoding="utf-8")) == {
        "time": WHEN.isoformat(),
        "status": "warn",
        "colour": "red",
        "path": "/x/y",
        "tags": ["a", "b"],
        "run": "success",
        "unicode": "São Paulo",
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


READER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from prometheus_client.parser import text_string_to_metric_families
    path, stop = Path(sys.argv[1]), Path(sys.argv[2])
    expected = set(json.loads(sys.argv[3]))
    reads, bad = 0, []
    announced = False
    while not stop.exists():
        text = path.read_text()
        reads += 1
        try:
            families = {f.name: f for f in text_string_to_metric_families(text)}
            durations = families["gruponos_health_check_duration_seconds"]
            checks = {s.labels["check"] for s in durations.samples}
            if set(families) != expected or len(checks) not in (1, 200):
                bad.append(f"families={sorted(families)} checks={len(checks)}")
        except Exception as exc:
            bad.append(f"{type(exc).__name__}: {exc} (read {len(text)} chars)")
        if not announced:
            print("READY", flush=True)
            announced = True
    print(json.dumps({"reads": reads, "bad": bad[:5], "bad_count": len(bad)}), flush=True)
    """
)


def test_reader_process_never_sees_a_half_written_textfile(tmp_path: Path) -> None:
    path = tmp_path / "gruponos.prom"
    stop = tmp_path / "stop"
    small = make_report({"oracle:connection": (Status.PASS, 0.1)})
    big = make_report(
        {f"component{i}:probe-with-a-long-name": (Status.WARN, i / 7) for i in range(200)}
    )
    write_prometheus_textfile(path, small, job="nightly", exit_code=0, duration_s=1.0)
    expected = {f.name for f in text_string_to_metric_families(path.read_text())}

    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(path), str(stop), json.dumps(sorted(expected))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "READY"
        for i in range(400):
            report = big if i % 2 == 0 else small
            write_prometheus_textfile(path, report, job="nightly", exit_code=i % 3, duration_s=i)
        stop.touch()
        outcome = json.loads(reader.stdout.readline())
    finally:
        stop.touch()
        reader.wait(timeout=30)
        if reader.stdout is not None:
            reader.stdout.close()

    assert outcome["bad_count"] == 0, outcome["bad"]
    assert outcome["reads"] > 10  # the reader really ran alongside the writer


# --------------------------------------------------------------------------- what a report replaces


def test_a_symlink_is_followed_and_its_file_replaced_in_its_own_directory(tmp_path: Path) -> None:
    collector, store = tmp_path / "collector", tmp_path / "store"
    collector.mkdir()
    store.mkdir()
    real = store / "job.prom"
    real.write_text("old\n")
    link = collector / "job.prom"
    link.symlink_to(real)

    written = write_prometheus_textfile(link, None, job="j", exit_code=0)

    assert written == real
    assert link.is_symlink() and os.readlink(link) == str(real)  # still a link
    assert "gruponos_job_last_run_exit_code" in real.read_text()
    assert sorted(os.listdir(collector)) == ["job.prom"]  # no temporary left anywhere
    assert sorted(os.listdir(store)) == ["job.prom"]


def test_a_dangling_symlink_gets_the_file_it_names(tmp_path: Path) -> None:
    link = tmp_path / "health.json"
    link.symlink_to(tmp_path / "data" / "health.json")

    write_json_atomic(link, {"status": "pass"})

    assert link.is_symlink()
    assert json.loads((tmp_path / "data" / "health.json").read_text()) == {"status": "pass"}


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    return fifo


def test_a_fifo_is_refused_with_exit_2_and_left_alone(tmp_path: Path) -> None:
    from gruponos_ext.metrics import ReportFileRefusedError

    fifo = _fifo(tmp_path)

    with pytest.raises(ReportFileRefusedError) as info:
        write_json_atomic(fifo, {"status": "pass"}, source="--json-file")

    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert info.value.exit_code == 2 and info.value.code == "REPORT_FILE_REFUSED"
    assert str(info.value).startswith(f"--json-file {fifo} is a FIFO (named pipe); ")
    assert os.listdir(tmp_path) == ["report.json"]


def test_a_device_node_is_refused_and_never_replaced(tmp_path: Path) -> None:
    from gruponos_ext.metrics import ReportFileRefusedError

    node = tmp_path / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
    except PermissionError:
        pytest.skip("creating a device node needs root")
    link = tmp_path / "via-link.prom"
    link.symlink_to(node)

    for target in (node, link):
        with pytest.raises(ReportFileRefusedError, match="is a character device"):
            write_prometheus_textfile(target, None, job="j", exit_code=0, source="--prom-file")

    assert stat.S_ISCHR(os.lstat(node).st_mode)
    assert link.is_symlink()


@pytest.mark.parametrize("kind", ["directory", "link loop"])
def test_a_directory_or_a_link_loop_is_refused(tmp_path: Path, kind: str) -> None:
    from gruponos_ext.metrics import ReportFileRefusedError

    target = tmp_path / "report.json"
    if kind == "directory":
        target.mkdir()
    else:
        (tmp_path / "other").symlink_to(target)
        target.symlink_to(tmp_path / "other")

    with pytest.raises(ReportFileRefusedError) as info:
        write_json_atomic(target, {"a": 1})

    assert info.value.exit_code == 2
    assert ("a directory" if kind == "directory" else "a symbolic link loop") in str(info.value)


# -- schedules, locks, check criticality ----------------------------------------------


def freshness_report(any_store: Any) -> HealthReport:
    """A real schedules:freshness result: one overdue critical job, one on time, one never run."""
    from datetime import timedelta

    from gruponos_ext.health.freshness import schedule_freshness_check
    from gruponos_ext.health.runner import HealthCheckRunner
    from gruponos_ext.state.model import LockOwner
    from tests.support.schedules import schedule

    now = datetime(2024, 5, 1, 11, 20, tzinfo=timezone.utc)
    for job, started in (("late", "08:00:03"), ("fresh", "11:00:02")):
        begin = datetime.fromisoformat(f"2024-05-01T{started}+00:00")
        run = any_store.start_run(job, f"c-{job}", host="h", pid=1, started_at=begin)
        any_store.finish_run(run.id, "success", 0, finished_at=begin + timedelta(minutes=2))
    any_store.acquire_lock("fresh", LockOwner.current("c-now"), None)
    check = schedule_freshness_check(
        lambda: [
            schedule("late-hourly", "late", "@hourly"),
            schedule("fresh-hourly", "fresh", "@hourly"),
            schedule("new-daily", "new", "@daily"),
            schedule("by-hand", "manual", "@manual"),
        ],
        lambda: any_store,
        critical_jobs={"late"},
        clock=lambda: now,
    )
    return HealthCheckRunner([check]).run()


def test_schedule_metrics_per_scheduled_job_parse_with_the_reference_parser(
    any_store: Any,
) -> None:
    got = samples(render_prometheus(freshness_report(any_store)))
    late = (("job", "late"), ("schedule", "late-hourly"))
    fresh = (("job", "fresh"), ("schedule", "fresh-hourly"))
    new = (("job", "new"), ("schedule", "new-daily"))
    assert got["gruponos_schedule_overdue_seconds"] == {
        late: 2 * 3600 + 20 * 60,  # since 09:00, the first due time missed
        fresh: 0,
        new: 0,  # never succeeded: a warning, not overdue
    }
    assert got["gruponos_schedule_interval_seconds"] == {late: 3600, fresh: 3600, new: 86400}
    assert got["gruponos_schedule_last_success_timestamp_seconds"] == {
        late: datetime(2024, 5, 1, 8, 0, 3, tzinfo=timezone.utc).timestamp(),
        fresh: datetime(2024, 5, 1, 11, 0, 2, tzinfo=timezone.utc).timestamp(),
    }
    assert got["gruponos_schedule_critical"] == {late: 1, fresh: 0, new: 0}
    assert got["gruponos_lock_stale"] == {(("job", "fresh"),): 0}
    (age,) = got["gruponos_lock_age_seconds"].values()
    assert age >= 0
    assert got["gruponos_health_check_critical"] == {(("check", "schedules:freshness"),): 1}
    assert not any("manual" in str(labels) for family in got.values() for labels in family)


def test_schedule_metrics_stay_out_of_a_jobs_file(any_store: Any) -> None:
    text = render_prometheus(freshness_report(any_store), job="late", exit_code=0)
    assert "gruponos_schedule_" not in text
    assert "gruponos_lock_" not in text

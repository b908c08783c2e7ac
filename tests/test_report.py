"""The status page: filled from a real store, rendered by a real headless browser.

The page is built from records of a real state store (SQLite and PostgreSQL
alike, through ``any_store``), written to a file and loaded by chromium; the
assertions are on the DOM the browser built, and a screenshot per width is
kept in ``test-artifacts/``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gruponos_ext.health.model import CheckResult, HealthReport, Status
from gruponos_ext.report.collect import RUNS_PER_JOB, collect_page
from gruponos_ext.report.page import SchedulePanel
from gruponos_ext.report.render import EMPTY_HISTORY, render_html
from gruponos_ext.state.model import LockOwner
from gruponos_ext.state.protocol import StateStore
from tests.support.browser import Browser, Element, parse_dom
from tests.support.cli import InProcessCli

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _record_runs(
    store: StateStore, job: str, statuses: list[str], *, host: str = "worker-1"
) -> None:
    for index, status in enumerate(statuses):
        started = NOW - timedelta(hours=len(statuses) - index)
        run = store.start_run(
            job, f"{job}-ctx-{index}", host=host, pid=100 + index, started_at=started
        )
        store.finish_run(
            run.id,
            status,
            0 if status == "success" else 1,
            finished_at=started + timedelta(minutes=2 + index),
        )


def _record_health(store: StateStore, statuses: list[str]) -> None:
    for index, status in enumerate(statuses):
        time = NOW - timedelta(minutes=10 * (len(statuses) - index))
        results = (
            CheckResult("oracle:connection", Status(status), f"answer {index}", 0.01, time),
            CheckResult("disk:free_space", Status.PASS, "79 GiB free", 0.001, time),
        )
        store.record_health(HealthReport.aggregate(results, 0.02, time))


def _page(store: StateStore, tmp_path: Path, **options: object) -> Path:
    page = collect_page(
        store,
        project="gruponos",
        jobs=["wms-incremental", "wms-full", "sample-jsonl"],
        now=NOW,
        version="0.1.0",
        store_label="test store",
        meltano_environment="prod",
        **options,  # type: ignore[arg-type]
    )
    path = tmp_path / "status.html"
    path.write_text(render_html(page), encoding="utf-8")
    return path


def _in_job(elements: list[Element], job: str) -> list[Element]:
    return [e for e in elements if e.job == job]


def test_the_timeline_has_one_mark_per_run_and_the_table_one_row_per_run(
    any_store: StateStore, tmp_path: Path, browser: Browser
) -> None:
    _record_runs(any_store, "wms-incremental", ["success", "failed", "success", "success"])
    _record_runs(any_store, "wms-full", ["success"] * 3)
    dom = parse_dom(browser.dump_dom(_page(any_store, tmp_path)))

    for job, runs in (("wms-incremental", 4), ("wms-full", 3), ("sample-jsonl", 0)):
        elements = _in_job(dom, job)
        marks = [e for e in elements if e.tag == "rect" and "run" in e.classes]
        rows = [e for e in elements if e.tag == "tr" and "run-row" in e.classes]
        bars = [e for e in elements if e.tag == "rect" and "bar" in e.classes]
        assert len(marks) == len(rows) == len(bars) == runs, job
    failed = [
        e
        for e in _in_job(dom, "wms-incremental")
        if e.tag == "rect" and "status-failed" in e.classes
    ]
    assert len(failed) == 2  # its timeline mark and its duration bar
    tooltip = failed[0].all_text
    assert "failed" in tooltip and "exit code 1" in tooltip and "host worker-1" in tooltip


def test_the_overdue_job_is_flagged_and_the_lock_holder_shown(
    any_store: StateStore, tmp_path: Path, browser: Browser
) -> None:
    _record_runs(any_store, "wms-incremental", ["success"])
    owner = LockOwner("ctx-live", "etl-worker-7", 4242, NOW - timedelta(minutes=3))
    assert any_store.acquire_lock("wms-full", owner, 3600)
    overdue = SchedulePanel(
        "wms-incremental-hourly",
        "@hourly",
        "fail",
        "missed the run due 2026-12-01 07:00 UTC",
        next_due=NOW + timedelta(minutes=20),
        overdue_s=5400,
        last_success=NOW - timedelta(hours=2),
    )
    path = _page(any_store, tmp_path, schedules={"wms-incremental": [overdue]})
    dom = parse_dom(browser.dump_dom(path))

    (article,) = [
        e for e in dom if e.tag == "article" and e.attrs.get("data-job") == "wms-incremental"
    ]
    assert "overdue" in article.classes and "OVERDUE by 1 h 30 min" in article.all_text
    others = [e for e in dom if e.tag == "article" and "overdue" in e.classes]
    assert others == [article]
    (lock,) = [e for e in _in_job(dom, "wms-full") if e.tag == "p" and "lock" in e.classes]
    assert lock.attrs["data-host"] == "etl-worker-7" and lock.attrs["data-pid"] == "4242"
    assert "lease ends in" in lock.all_text
    free = [e for e in _in_job(dom, "wms-incremental") if e.tag == "p" and "lock" in e.classes]
    assert "no run lock held" in free[0].all_text
    for width, height, name in (
        (1100, 1400, "report-desktop.png"),
        (390, 1600, "report-phone.png"),
    ):
        shot = browser.screenshot(path, name, width=width, height=height)
        assert shot.stat().st_size > 10_000


def test_each_check_shows_its_latest_result_and_its_recent_history(
    any_store: StateStore, tmp_path: Path, browser: Browser
) -> None:
    _record_health(any_store, ["pass", "fail", "pass", "fail", "warn"])
    dom = parse_dom(browser.dump_dom(_page(any_store, tmp_path)))

    (row,) = [e for e in dom if e.tag == "tr" and e.attrs.get("data-check") == "oracle:connection"]
    assert "status-warn" in row.classes and "answer 4" in row.all_text
    assert "4 change(s) in the last 5" in row.all_text
    cells = [e for e in dom if e.tag == "rect" and "cell" in e.classes]
    assert len(cells) == 10  # two checks, five results each
    strip = [e.attrs["class"].split()[1] for e in cells[:5]]
    assert strip == ["status-pass", "status-fail", "status-pass", "status-fail", "status-warn"]


def test_an_empty_store_gives_a_useful_page_not_an_error(
    any_store: StateStore, tmp_path: Path, browser: Browser
) -> None:
    dom = parse_dom(browser.dump_dom(_page(any_store, tmp_path)))
    (notice,) = [e for e in dom if e.attrs.get("id") == "empty-history"]
    assert notice.all_text == EMPTY_HISTORY
    assert [e.attrs["data-job"] for e in dom if e.tag == "article"] == [
        "wms-incremental",
        "wms-full",
        "sample-jsonl",
    ]


def test_every_chart_has_a_text_label_and_every_run_a_tooltip_in_words(
    any_store: StateStore, tmp_path: Path, browser: Browser
) -> None:
    _record_runs(any_store, "wms-full", ["success", "failed"])
    _record_health(any_store, ["pass", "pass"])
    dom = parse_dom(browser.dump_dom(_page(any_store, tmp_path)))
    charts = [e for e in dom if e.tag == "svg"]
    assert charts and all(
        e.attrs.get("role") == "img" and e.attrs.get("aria-label") for e in charts
    )
    marks = [e for e in dom if e.tag == "rect"]
    assert all("UTC" in e.all_text for e in marks)


def test_jobs_with_history_but_not_in_meltano_yml_are_shown_and_marked(
    any_store: StateStore, tmp_path: Path, browser: Browser
) -> None:
    _record_runs(any_store, "retired-job", ["success"])
    dom = parse_dom(browser.dump_dom(_page(any_store, tmp_path)))
    (article,) = [e for e in dom if e.tag == "article" and e.attrs.get("data-job") == "retired-job"]
    assert "not in meltano.yml any more" in article.all_text


def test_a_long_history_is_cut_to_the_latest_runs_of_each_job(
    any_store: StateStore, tmp_path: Path
) -> None:
    _record_runs(any_store, "wms-full", ["success"] * (RUNS_PER_JOB + 15))
    page = collect_page(
        any_store, project="p", jobs=["wms-full"], now=NOW, version="v", store_label="s"
    )
    (job,) = page.jobs
    assert len(job.runs) == RUNS_PER_JOB
    assert job.runs[-1].started_at == max(r.started_at for r in job.runs)


# --------------------------------------------------------------------------- the command


def test_report_writes_the_page_of_the_projects_jobs_and_says_where(
    in_process_cli: InProcessCli, tmp_path: Path, browser: Browser
) -> None:
    assert in_process_cli.run("preflight", "--job", "sample-jsonl", "--skip-health").returncode == 0
    assert in_process_cli.run("dispose", "--job", "sample-jsonl").returncode == 0
    assert in_process_cli.run("health").returncode in (0, 1)
    target = tmp_path / "out" / "status.html"

    result = in_process_cli.run("report", "--html", str(target))

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"status page written: {target}\n"
    dom = parse_dom(browser.dump_dom(target))
    jobs = [e.attrs["data-job"] for e in dom if e.tag == "article"]
    assert set(jobs) == {"sample-jsonl", "wms-full", "wms-incremental"}
    marks = [e for e in _in_job(dom, "sample-jsonl") if e.tag == "rect" and "run" in e.classes]
    assert len(marks) == 1 and "status-success" in marks[0].classes
    assert [e for e in dom if e.tag == "tr" and "check" in e.classes]
    header = next(e for e in dom if e.tag == "header").all_text
    assert "SQLite" in header and "UTC" in header


def test_report_without_html_writes_to_the_state_directory(in_process_cli: InProcessCli) -> None:
    result = in_process_cli.run("report")
    expected = in_process_cli.state_dir / "gruponos_status.html"
    assert result.returncode == 0, result.stderr
    assert expected.is_file() and result.stdout == f"status page written: {expected}\n"


def test_report_refuses_a_fifo_before_doing_any_work(
    in_process_cli: InProcessCli, tmp_path: Path
) -> None:
    fifo = tmp_path / "page.fifo"
    os.mkfifo(fifo)
    result = in_process_cli.run("report", "--html", str(fifo))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "--html" in result.stderr


def test_report_pages_never_hold_a_secret(
    in_process_cli: InProcessCli, tmp_path: Path, pg_state_uri: str, pg_schema: str
) -> None:
    from tests.support.secrets import assert_no_base64_of, assert_no_leak, leak_forms

    planted = "Pl4nted-Rep0rt-Secret"
    # The throw-away server trusts every login, so the password is accepted and ignored.
    scheme, _, rest = pg_state_uri.partition("://")
    user, _, where = rest.partition("@")
    user_uri = f"{scheme}://{user.split(':')[0]}:{planted}@{where}"
    env = {
        "GRUPONOS_INFRA_STATE_URI": user_uri,
        "GRUPONOS_INFRA_STATE_SCHEMA": pg_schema,
        "GRUPONOS_INFRA_WMS_BASE_URL": "http://127.0.0.1:9/wms",
        "GRUPONOS_INFRA_WMS_USER": "svc",
        "GRUPONOS_INFRA_WMS_PASSWORD": planted,
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": f"https://hooks.example.com/{planted}",
    }
    assert in_process_cli.run("health", "--timeout", "1", env=env).returncode in (0, 1)
    preflight = in_process_cli.run("preflight", "--job", "sample-jsonl", "--skip-health", env=env)
    assert preflight.returncode == 0, preflight.stderr
    target = tmp_path / "status.html"
    result = in_process_cli.run("report", "--html", str(target), env=env)
    assert result.returncode == 0, result.stderr
    page = target.read_text(encoding="utf-8")
    assert "PostgreSQL" in page
    output = page + result.stdout + result.stderr
    forms = leak_forms(planted, user="svc")
    assert_no_leak(output, forms, where="the status page and the command's output")
    assert_no_base64_of(output, planted, where="the status page")


def test_report_flags_a_job_whose_schedule_was_missed(
    in_process_cli: InProcessCli, tmp_path: Path, browser: Browser
) -> None:
    from gruponos_ext.state.sqlite import SqliteStateStore

    meltano_yml = in_process_cli.root / "meltano.yml"
    every_minute = "- name: sample-every-minute\n  interval: '* * * * *'\n  job: sample-jsonl\n"
    text = meltano_yml.read_text(encoding="utf-8")
    meltano_yml.write_text(text.replace("\nschedules:\n", "\nschedules:\n" + every_minute))
    assert in_process_cli.run("initialize").returncode == 0
    store = SqliteStateStore(in_process_cli.state_dir / "state.db")
    started = NOW - timedelta(hours=3)
    run = store.start_run("sample-jsonl", "ctx-old", host="worker-1", pid=1, started_at=started)
    store.finish_run(run.id, "success", 0, finished_at=started + timedelta(minutes=1))
    store.close()
    target = tmp_path / "status.html"

    result = in_process_cli.run("report", "--html", str(target))

    assert result.returncode == 0, result.stderr
    dom = parse_dom(browser.dump_dom(target))
    (article,) = [
        e for e in dom if e.tag == "article" and e.attrs.get("data-job") == "sample-jsonl"
    ]
    assert "overdue" in article.classes and "OVERDUE by" in article.all_text
    (schedule,) = [
        e
        for e in _in_job(dom, "sample-jsonl")
        if e.attrs.get("data-schedule") == "sample-every-minute"
    ]
    assert "next due" in schedule.all_text and "* * * * *" in schedule.all_text
    never_run = [e for e in _in_job(dom, "wms-incremental") if e.attrs.get("data-schedule")]
    assert never_run and "status-warn" in never_run[0].classes  # never succeeded: a warning

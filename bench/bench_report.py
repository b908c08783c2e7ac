"""The status page's bound: a store holding 10,000 runs and 10,000 health results.

Fills a fresh SQLite state store through the store's own API (20 jobs x 500
runs; 10,000 health runs of 8 checks each), then times what ``report --html``
does after booting -- collect the page from the store, render it -- and
measures the page. Targets: under 1 s, under 2 MB.

    .venv/bin/python bench/bench_report.py [--runs 10000] [--health 10000] [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from gruponos_ext.health.model import CheckResult, HealthReport, Status
from gruponos_ext.report.collect import collect_page
from gruponos_ext.report.render import render_html
from gruponos_ext.state.sqlite import SqliteStateStore

JOBS = 20
CHECKS = 8
TIME_LIMIT_S = 1.0
SIZE_LIMIT_BYTES = 2 * 1024 * 1024


def fill(store: SqliteStateStore, runs: int, health: int, now: datetime) -> None:
    per_job = runs // JOBS
    for job_index in range(JOBS):
        job = f"job-{job_index:02d}"
        for index in range(per_job):
            started = now - timedelta(hours=per_job - index)
            run = store.start_run(job, f"{job}-{index}", host="worker", pid=1, started_at=started)
            status = "failed" if index % 17 == 0 else "success"
            store.finish_run(
                run.id,
                status,
                0 if status == "success" else 1,
                finished_at=started + timedelta(seconds=60 + index % 90),
            )
    statuses = (Status.PASS, Status.PASS, Status.WARN, Status.FAIL)
    for index in range(health):
        moment = now - timedelta(minutes=health - index)
        results = tuple(
            CheckResult(f"check:{c}", statuses[(index + c) % 4], f"result {index}", 0.01, moment)
            for c in range(CHECKS)
        )
        store.record_health(HealthReport.aggregate(results, 0.05, moment))


def measure(runs: int, health: int, repeat: int) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as directory:
        store = SqliteStateStore(Path(directory) / "state.db")
        started = time.perf_counter()
        fill(store, runs, health, now)
        fill_s = time.perf_counter() - started
        jobs = [f"job-{i:02d}" for i in range(JOBS)]
        timings, size = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            page = collect_page(
                store, project="bench", jobs=jobs, now=now, version="bench", store_label="SQLite"
            )
            html = render_html(page)
            timings.append(time.perf_counter() - started)
            size = len(html.encode("utf-8"))
        store.close()
    median = statistics.median(timings)
    return {
        "runs": runs,
        "health_results": health,
        "fill_s": fill_s,
        "median_s": median,
        "max_s": max(timings),
        "page_bytes": size,
        "targets": [
            {
                "name": f"collect + render, {runs:,} runs and {health:,} health results",
                "value": median,
                "limit": TIME_LIMIT_S,
                "unit": "s",
                "ok": median < TIME_LIMIT_S,
                "detail": f"max {max(timings):.3f} s over {repeat} runs",
            },
            {
                "name": "page size",
                "value": size / 1024 / 1024,
                "limit": SIZE_LIMIT_BYTES / 1024 / 1024,
                "unit": " MiB",
                "ok": size < SIZE_LIMIT_BYTES,
                "detail": f"{size:,} bytes",
            },
        ],
    }


def render(data: dict[str, Any]) -> str:
    return "\n".join(
        [
            "Status page (report --html) on a full store",
            f"  store: {data['runs']:,} runs, {data['health_results']:,} health results "
            f"(filled in {data['fill_s']:.1f} s)",
            f"  collect + render: median {data['median_s']:.3f} s, max {data['max_s']:.3f} s",
            f"  page: {data['page_bytes']:,} bytes",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--health", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from gruponos_ext.extension.logs import configure_logging

    configure_logging()  # LOG_LEVEL (default warning), to stderr: stdout is the result
    data = measure(args.runs, args.health, args.repeat)
    print(json.dumps(data, indent=2) if args.json else render(data))
    return 0 if all(t["ok"] for t in data["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())

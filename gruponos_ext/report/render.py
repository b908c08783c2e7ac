"""The status page as one self-contained HTML file.

Inline CSS and SVG only: no script, no font, no image fetched from anywhere,
so it opens offline, from a mail attachment or a CI artefact, and prints.
Every value is escaped; the page is built from the :mod:`~gruponos_ext.report.page`
records alone, which hold no secret (the collector never reads one).
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from gruponos_ext.core.names import path_component
from gruponos_ext.report.charts import duration_chart, format_duration, run_timeline, status_strip
from gruponos_ext.report.page import CheckPanel, JobPanel, LockView, RunMark, StatusPage

__all__ = ["EMPTY_HISTORY", "render_html"]

EMPTY_HISTORY = (
    "No runs recorded yet; run `guard <job>` or a job with preflight/dispose blocks, "
    "then generate this page again."
)

_CSS = """
:root{--pass:#1a7f37;--warn:#9a6700;--fail:#cf222e;--run:#0969da;--idle:#6e7781;
--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--card:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1100px;margin:0 auto;padding:12px 16px}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;border-bottom:1px solid var(--line);
padding-bottom:.2em;margin-top:1.4em}h3{font-size:1.1em;margin:0 0 .4em}
.meta{display:flex;flex-wrap:wrap;gap:4px 20px;margin:0;color:var(--muted)}
.meta div{display:flex;gap:6px}.meta dt{font-weight:600}.meta dd{margin:0}
.summary{display:flex;flex-wrap:wrap;gap:10px;padding:0;list-style:none}
.summary li{background:var(--card);border:1px solid var(--line);border-radius:6px;
padding:6px 12px}.summary b{font-size:1.3em;margin-right:4px}
.job{border:1px solid var(--line);border-radius:8px;padding:12px;margin:12px 0;
background:var(--bg)}.job.failed{border-left:6px solid var(--warn)}
.job.overdue{border-left:6px solid var(--fail)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:.85em;color:#fff;
background:var(--idle);vertical-align:middle}
.badge.status-pass,.badge.status-success{background:var(--pass)}
.badge.status-warn,.badge.status-cancelled{background:var(--warn)}
.badge.status-fail,.badge.status-failed,.badge.status-abandoned{background:var(--fail)}
.badge.status-running{background:var(--run)}
.chart{display:block;border:1px solid var(--line);background:var(--card);margin:4px 0}
.chart .axis{stroke:var(--line);stroke-width:1}
svg .status-success,svg .status-pass{fill:var(--pass)}
svg .status-failed,svg .status-fail,svg .status-abandoned{fill:var(--fail)}
svg .status-cancelled,svg .status-warn{fill:var(--warn)}
svg .status-running{fill:var(--run)}svg .status-skip{fill:var(--idle)}
figure{margin:8px 0}figcaption{color:var(--muted);font-size:.85em}
.overdue-note{color:var(--fail);font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
.scroll{overflow-x:auto}td.num{text-align:right;white-space:nowrap}
.notice{background:var(--card);border:1px dashed var(--line);padding:12px;border-radius:6px}
details summary{cursor:pointer;color:var(--muted)}
@media (max-width:640px){body{font-size:14px}.hide-narrow{display:none}
.job{padding:8px}header,main,footer{padding:8px}}
@media print{.job{break-inside:avoid}details{display:none}a{color:inherit}}
"""


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "-"


def _badge(status: str, text: str | None = None) -> str:
    return f'<span class="badge status-{escape(status)}">{escape(text or status)}</span>'


def _lock(lock: LockView | None) -> str:
    if lock is None:
        return '<p class="lock">Not running: no run lock held.</p>'
    lease = (
        "no lease"
        if lock.lease_left_s is None
        else f"lease ends in {format_duration(lock.lease_left_s)}"
        if lock.lease_left_s >= 0
        else f"lease expired {format_duration(-lock.lease_left_s)} ago"
    )
    stale = (
        f' <span class="badge status-fail">stale: {escape(lock.stale_reason)}</span>'
        if lock.stale_reason
        else ""
    )
    return (
        f'<p class="lock" data-host="{escape(lock.host)}" data-pid="{lock.pid}">'
        f"Run lock held by <b>{escape(lock.host)}</b> pid <b>{lock.pid}</b> since "
        f"{escape(_when(lock.since))}, {escape(lease)}.{stale}</p>"
    )


def _schedules(job: JobPanel) -> str:
    if not job.schedules:
        return '<p class="schedule">No schedule in meltano.yml.</p>'
    items = []
    for schedule in job.schedules:
        due = f"next due {_when(schedule.next_due)}" if schedule.next_due else "no next due time"
        state = (
            f' <span class="overdue-note">OVERDUE by {escape(format_duration(schedule.overdue_s))}'
            "</span>"
            if schedule.overdue_s > 0 and schedule.state in ("warn", "fail")
            else ""
        )
        items.append(
            f'<li class="schedule status-{escape(schedule.state)}" '
            f'data-schedule="{escape(schedule.name)}">{_badge(schedule.state)} '
            f"<b>{escape(schedule.name)}</b> (<code>{escape(schedule.interval)}</code>): "
            f"{escape(due)}; last success {escape(_when(schedule.last_success))}.{state}"
            f"<br><small>{escape(schedule.message)}</small></li>"
        )
    return f'<ul class="schedules">{"".join(items)}</ul>'


def _runs_table(runs: tuple[RunMark, ...]) -> str:
    rows = "".join(
        f'<tr class="run-row" data-run-id="{run.run_id}"><td>#{run.run_id}</td>'
        f"<td>{_badge(run.status)}</td><td>{escape(_when(run.started_at))}</td>"
        f'<td class="hide-narrow">{escape(_when(run.finished_at))}</td>'
        f'<td class="num">{escape(format_duration(run.duration_s))}</td>'
        f'<td class="num">{"-" if run.exit_code is None else run.exit_code}</td>'
        f'<td class="hide-narrow">{escape(run.host)}</td></tr>'
        for run in reversed(runs)
    )
    return (
        "<details><summary>These runs as a table</summary><div class=scroll><table>"
        "<thead><tr><th>Run</th><th>Status</th><th>Started</th>"
        '<th class="hide-narrow">Ended</th><th>Took</th><th>Exit</th>'
        f'<th class="hide-narrow">Host</th></tr></thead><tbody>{rows}</tbody></table></div>'
        "</details>"
    )


def _job(job: JobPanel, now: datetime) -> str:
    last = job.runs[-1] if job.runs else None
    classes = ["job"]
    if job.overdue:
        classes.append("overdue")
    if last is not None and last.status in ("failed", "abandoned"):
        classes.append("failed")
    heading = escape(job.name) + (
        " " + _badge(last.status, f"last run {last.status}") if last else ""
    )
    if not job.defined:
        heading += " <small>(not in meltano.yml any more)</small>"
    parts = [
        f'<article class="{" ".join(classes)}" id="job-{escape(path_component(job.name))}" '
        f'data-job="{escape(job.name)}"><h3>{heading}</h3>',
        _schedules(job),
        _lock(job.lock),
    ]
    if job.runs:
        shown = (
            f"the last {len(job.runs)} of {job.total_runs} runs"
            if job.total_runs > len(job.runs)
            else f"{len(job.runs)} run(s)"
        )
        failed = sum(run.status in ("failed", "abandoned") for run in job.runs)
        parts += [
            f'<figure class="timeline">{run_timeline(job.name, job.runs, now)}'
            f"<figcaption>Timeline of {shown}, {failed} failed; from "
            f"{escape(_when(job.runs[0].started_at))} to now.</figcaption></figure>",
            f'<figure class="durations">{duration_chart(job.name, job.runs)}'
            "<figcaption>Duration of each finished run, oldest left.</figcaption></figure>",
            _runs_table(job.runs),
        ]
    else:
        parts.append('<p class="notice">No run of this job recorded yet.</p>')
    parts.append("</article>")
    return "".join(parts)


def _check_row(check: CheckPanel) -> str:
    latest = check.latest
    flips = check.flips
    flapping = f"{flips} change(s) in the last {len(check.history)}" if check.history else ""
    critical = " <small>(critical)</small>" if check.critical else ""
    return (
        f'<tr class="check status-{escape(latest.status)}" data-check="{escape(check.name)}">'
        f"<td>{escape(check.name)}{critical}</td><td>{_badge(latest.status)}</td>"
        f'<td class="num">{latest.duration_s * 1000:.0f} ms</td>'
        f"<td>{escape(latest.message)}</td>"
        f"<td>{status_strip(check.name, check.history)}<br><small>{escape(flapping)}</small>"
        "</td></tr>"
    )


def _health(page: StatusPage) -> str:
    if not page.checks:
        return (
            '<section id="health"><h2>Health</h2><p class="notice">No health result recorded '
            "yet; run <code>meltano invoke gruponos-infra:health</code>.</p></section>"
        )
    rows = "".join(_check_row(check) for check in page.checks)
    status = _badge(page.health_status) if page.health_status else ""
    return (
        f'<section id="health"><h2>Health {status}</h2>'
        f"<p>Latest health run: {escape(_when(page.health_time))}. Each strip shows the "
        "check's recent results, oldest left.</p><div class=scroll><table class=checks>"
        "<thead><tr><th>Check</th><th>Status</th><th>Latency</th><th>Output</th>"
        f"<th>Recent results</th></tr></thead><tbody>{rows}</tbody></table></div></section>"
    )


def _summary(page: StatusPage) -> str:
    jobs = len(page.jobs)
    failed = sum(
        1 for job in page.jobs if job.runs and job.runs[-1].status in ("failed", "abandoned")
    )
    overdue = sum(job.overdue for job in page.jobs)
    locked = sum(job.lock is not None for job in page.jobs)
    failing = sum(check.latest.status == "fail" for check in page.checks)
    items = [
        (jobs, "job(s)"),
        (failed, "failed on their last run"),
        (overdue, "overdue"),
        (locked, "running (lock held)"),
        (failing, "failing health check(s)"),
    ]
    return (
        '<ul class="summary">'
        + "".join(f"<li><b>{count}</b>{escape(text)}</li>" for count, text in items)
        + "</ul>"
    )


def render_html(page: StatusPage) -> str:
    """The page as one HTML document (a ``str``; write it with the atomic writer)."""
    meta = [
        ("Meltano environment", page.meltano_environment or "(none)"),
        ("State store", page.store),
        ("Generated", _when(page.generated_at)),
        ("gruponos-infra", page.version),
    ]
    header = (
        f"<header><h1>Pipelines of {escape(page.project)}</h1><dl class=meta>"
        + "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in meta)
        + "</dl></header>"
    )
    jobs = "".join(_job(job, page.generated_at) for job in page.jobs)
    empty = (
        f'<p class="notice" id="empty-history">{escape(EMPTY_HISTORY)}</p>' if page.empty else ""
    )
    notes = "".join(f'<p class="notice note">{escape(note)}</p>' for note in page.notes)
    if not page.jobs:
        jobs = '<p class="notice">No job is defined in meltano.yml and none has history.</p>'
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(page.project)}: pipeline status</title><style>{_CSS}</style></head>"
        f"<body>{header}<main>{notes}{_summary(page)}{empty}"
        f'<section id="jobs"><h2>Jobs</h2>{jobs}</section>{_health(page)}</main>'
        "<footer><small>All times UTC. Generated by gruponos-infra <code>report --html</code>; "
        "colours repeat what the text says.</small></footer></body></html>\n"
    )

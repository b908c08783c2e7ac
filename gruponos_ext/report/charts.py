"""Inline SVG charts for the status page: run timeline, run durations, check strips.

Every mark carries its status as a class (the colour comes from the page's
CSS) and a ``<title>`` with the numbers in words, which browsers show as a
tooltip and screen readers read; each chart also has a table alternative on
the page. Coordinates are in a fixed ``viewBox`` scaled to the page width.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from gruponos_ext.report.page import CheckCell, RunMark

__all__ = ["duration_chart", "format_duration", "run_timeline", "status_strip"]

_WIDTH = 600.0
_TIMELINE_HEIGHT = 36.0
_BARS_HEIGHT = 80.0
_MIN_MARK = 4.0  # a 2-minute run in a 3-day window is still visible and hoverable


def format_duration(seconds: float | None) -> str:
    """``None`` -> ``running``; ``75.2`` -> ``1 min 15 s``; ``4000`` -> ``1 h 6 min``.

    >>> format_duration(None), format_duration(4.25), format_duration(75.2), format_duration(4000)
    ('running', '4.2 s', '1 min 15 s', '1 h 6 min')
    """
    if seconds is None:
        return "running"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "-"


def _run_title(run: RunMark) -> str:
    code = "-" if run.exit_code is None else str(run.exit_code)
    return (
        f"run #{run.run_id} {run.status}: started {_when(run.started_at)}, "
        f"ended {_when(run.finished_at)}, took {format_duration(run.duration_s)}, "
        f"exit code {code}, host {run.host}"
    )


def _svg(height: float, label: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {_WIDTH:g} {height:g}" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(label)}" width="100%" height="{height:g}">'
        + "".join(body)
        + "</svg>"
    )


def run_timeline(job: str, runs: Sequence[RunMark], now: datetime) -> str:
    """The runs on a time axis from the first shown start to ``now``, one mark per run."""
    if not runs:
        return ""
    start = min(run.started_at for run in runs)
    span = max((now - start).total_seconds(), 1.0)
    scale = (_WIDTH - _MIN_MARK) / span
    body = [
        f'<line class="axis" x1="0" y1="{_TIMELINE_HEIGHT - 2:g}" x2="{_WIDTH:g}" '
        f'y2="{_TIMELINE_HEIGHT - 2:g}"/>'
    ]
    for run in runs:
        x = (run.started_at - start).total_seconds() * scale
        end = run.finished_at or now
        width = max(_MIN_MARK, (end - run.started_at).total_seconds() * scale)
        body.append(
            f'<rect class="run status-{escape(run.status)}" data-run-id="{run.run_id}" '
            f'x="{x:.2f}" y="4" width="{min(width, _WIDTH - x):.2f}" '
            f'height="{_TIMELINE_HEIGHT - 10:g}">'
            f"<title>{escape(_run_title(run))}</title></rect>"
        )
    label = f"timeline of the last {len(runs)} runs of job {job}"
    return _svg(_TIMELINE_HEIGHT, label, body)


def duration_chart(job: str, runs: Sequence[RunMark]) -> str:
    """One bar per finished run, oldest left: a job getting slower shows as rising bars."""
    finished = [run for run in runs if run.duration_s is not None]
    if not finished:
        return ""
    longest = max(run.duration_s or 0.0 for run in finished) or 1.0
    step = _WIDTH / len(finished)
    bar = max(1.0, step * 0.8)
    body = []
    for index, run in enumerate(finished):
        height = max(1.0, (run.duration_s or 0.0) / longest * (_BARS_HEIGHT - 4))
        body.append(
            f'<rect class="bar status-{escape(run.status)}" data-run-id="{run.run_id}" '
            f'x="{index * step:.2f}" y="{_BARS_HEIGHT - height:.2f}" width="{bar:.2f}" '
            f'height="{height:.2f}"><title>{escape(_run_title(run))}</title></rect>'
        )
    label = (
        f"durations of the last {len(finished)} finished runs of job {job}, "
        f"longest {format_duration(longest)}"
    )
    return _svg(_BARS_HEIGHT, label, body)


def status_strip(check: str, cells: Sequence[CheckCell]) -> str:
    """One square per recorded result, oldest left: a flapping check shows as a mixed strip."""
    if not cells:
        return ""
    size = 14
    body = [
        f'<rect class="cell status-{escape(cell.status)}" x="{index * (size + 2)}" y="0" '
        f'width="{size}" height="{size}"><title>{escape(_when(cell.time))}: {escape(cell.status)}'
        f" in {cell.duration_s * 1000:.0f} ms</title></rect>"
        for index, cell in enumerate(cells)
    ]
    width = len(cells) * (size + 2)
    return (
        f'<svg class="strip" viewBox="0 0 {width} {size}" width="{width}" height="{size}" '
        f'role="img" aria-label="{escape(f"last {len(cells)} results of {check}")}">'
        + "".join(body)
        + "</svg>"
    )

"""Report files for monitoring: JSON, and Prometheus textfile-collector files.

Both are written atomically: the content goes to a temporary file in the
target's directory, is flushed and fsynced, made world-readable (0644, so
node_exporter running as another user can read it) and renamed over the
target with :func:`os.replace`. A reader sees the old file or the new one,
never a partial one. The temporary name ends in ``.tmp``, so the textfile
collector (which reads ``*.prom`` only) never picks it up.

What a report may replace (:func:`report_target`): a regular file, or
nothing yet. A symbolic link is followed on purpose: the file it points to
is replaced, atomically, in *its* directory, and the link stays a link (so a
link into a collector directory keeps working). Anything else (a directory,
a FIFO, a device such as ``/dev/null``, a socket, a link loop) is refused
with :class:`ReportFileRefusedError` (exit 2) before anything is written.

Prometheus metrics (all gauges; ``job`` label only when a job is given, so the
files of several jobs can sit in one collector directory without clashing):

==============================================  =====================================
``gruponos_health_status{status}``              1 for the overall status, 0 for the
                                                others (pass, warn, fail)
``gruponos_health_check_status{check,status}``  1 for the check's status, 0 for the
                                                others (pass, warn, fail, skip)
``gruponos_health_check_duration_seconds``      per ``check``
``gruponos_health_duration_seconds``            the whole health run
``gruponos_health_timestamp_seconds``           when the checks ran (Unix time)
``gruponos_job_last_run_status{job,status}``    1 for the run's status, 0 for the others
``gruponos_job_last_run_exit_code{job}``        the run's exit code
``gruponos_job_last_run_duration_seconds``      per ``job``
``gruponos_job_last_success_timestamp_seconds`` per ``job`` (Unix time)
``gruponos_health_check_critical{check}``       1 when a failure of the check fails
                                                the whole health status
==============================================  =====================================

From ``schedules:freshness`` (health files only, i.e. without a ``job``), per
schedule (labels ``schedule``, ``job``):

=====================================================  ==============================
``gruponos_schedule_overdue_seconds``                  seconds since the first missed
                                                       due time; 0 when not overdue
``gruponos_schedule_interval_seconds``                 the schedule's interval
``gruponos_schedule_last_success_timestamp_seconds``   start of the job's last success
``gruponos_schedule_critical``                         1 when the job is critical
``gruponos_lock_age_seconds{job}``                     age of each held run lock
``gruponos_lock_stale{job}``                           1 when the store deems the lock
                                                       stale (its run is gone/expired)
=====================================================  ==============================

Statuses are "one-hot" (one series per possible status, the current one 1):
an alert rule reads ``gruponos_health_check_status{status="fail"} == 1``
without knowing any numeric encoding, and every series exists from the first
write, so ``absent()`` and ``changes()`` behave.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
from collections.abc import Callable, Iterable
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.files import replace_atomically

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gruponos_ext.health.model import HealthReport
    from gruponos_ext.state.model import RunStatus

__all__ = [
    "JobMetrics",
    "MetricsWriteError",
    "ReportFileRefusedError",
    "atomic_write_text",
    "escape_label_value",
    "render_prometheus",
    "report_target",
    "write_json_atomic",
    "write_prometheus_textfile",
]

FILE_MODE = 0o644

_CHECK_STATUSES = ("pass", "warn", "fail", "skip")
_OVERALL_STATUSES = ("pass", "warn", "fail")
_RUN_STATUSES = ("running", "success", "failed", "cancelled", "abandoned")


class MetricsWriteError(GruponosError):
    """A report file could not be written; ``details['path']`` names it."""

    code = "METRICS_WRITE_FAILED"


class ReportFileRefusedError(MetricsWriteError):
    """A report file's path names something a report must not replace (a FIFO, a device...)."""

    code = "REPORT_FILE_REFUSED"
    exit_code = 2


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link loop"),
)


def _named(path: Path, source: str | None) -> str:
    return f"{source} {path}" if source else str(path)


def report_target(path: Path | str, *, source: str | None = None) -> Path:
    """The file a report written to ``path`` replaces, or :class:`ReportFileRefusedError`.

    ``path`` itself when it is a regular file or nothing yet; the file a
    symbolic link points to (resolved through every link); a refusal for
    anything else. ``source`` (``--json-file``, ``metrics_dir``) names where
    the path came from in the message.
    """
    target = Path(path)
    try:
        info = os.lstat(target)
        if stat.S_ISLNK(info.st_mode):
            target = Path(os.path.realpath(target))
            info = os.lstat(target)
    except FileNotFoundError:
        return target  # nothing there yet (or a link to a file still to be created)
    except OSError as exc:
        raise _write_failed(target, exc, source) from exc
    if stat.S_ISREG(info.st_mode):
        return target
    kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
    shown = _named(Path(path), source)
    if target != Path(path):
        shown += f" (-> {target})"
    raise ReportFileRefusedError(
        f"{shown} is {kind}; a report replaces only a regular file: "
        "give the path of a file (it need not exist yet)",
        details={"path": str(path)},
    )


def _write_failed(target: Path, exc: OSError, source: str | None) -> MetricsWriteError:
    where = source or "--json-file/--prom-file or the metrics_dir setting"
    return MetricsWriteError(
        f"cannot write {target}: {exc.strerror or exc}; check that the directory "
        f"exists and is writable ({where})",
        details={"path": str(target)},
    )


def atomic_write_text(
    path: Path | str, text: str, *, mode: int = FILE_MODE, source: str | None = None
) -> Path:
    """Replace the file at ``path`` with ``text`` atomically (temp file + fsync + rename).

    Only a regular file (or nothing) is replaced, through any symbolic link
    (see :func:`report_target`); the file written is returned. Creates
    missing parent directories. Raises :class:`MetricsWriteError` naming the
    file when it cannot be written; no temporary file is left.
    """
    target = report_target(path, source=source)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(target, text, mode=mode)  # the collector may run as another user
    except OSError as exc:
        raise _write_failed(target, exc, source) from exc
    return target


def _json_default(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_json_atomic(
    path: Path | str, data: Any, *, mode: int = FILE_MODE, source: str | None = None
) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically (see :func:`atomic_write_text`).

    Beyond JSON types it accepts datetimes (ISO-8601), enums (their value),
    paths, sets, dataclasses and objects with ``to_dict()``. NaN and
    infinities are refused (``ValueError``): they are not JSON.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False, default=_json_default)
    return atomic_write_text(path, text + "\n", mode=mode, source=source)


def escape_label_value(value: str) -> str:
    r"""Escape a label value for the text format: ``\`` ``"`` and newline."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _timestamp(value: datetime | float) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class _Exposition:
    """Collects samples per family, then renders families in insertion order."""

    def __init__(self) -> None:
        self._families: dict[str, tuple[str, list[str]]] = {}

    def add(self, name: str, help_text: str, labels: dict[str, str], value: float) -> None:
        _, samples = self._families.setdefault(name, (help_text, []))
        rendered = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels.items())
        samples.append(
            f"{name}{{{rendered}}} {_number(value)}" if rendered else f"{name} {_number(value)}"
        )

    def one_hot(
        self,
        name: str,
        help_text: str,
        labels: dict[str, str],
        current: str,
        statuses: Iterable[str],
    ) -> None:
        for status in statuses:
            self.add(name, help_text, {**labels, "status": status}, 1 if status == current else 0)

    def render(self) -> str:
        lines: list[str] = []
        for name, (help_text, samples) in self._families.items():
            lines.append(f"# HELP {name} {_escape_help(help_text)}")
            lines.append(f"# TYPE {name} gauge")
            lines.extend(samples)
        return "\n".join(lines) + "\n" if lines else ""


def _numeric(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _zero_if_unknown(value: object) -> float:
    return _numeric(value) or 0.0


def _flag(value: object) -> float:
    return 1.0 if value else 0.0


# The gauges of one schedule or one lock in the ``schedules:freshness`` result's
# details: (detail key, how its value reads (None: no sample), metric, help).
_SCHEDULE_GAUGES: tuple[tuple[str, Callable[[object], float | None], str, str], ...] = (
    (
        "overdue_s",
        _zero_if_unknown,
        "gruponos_schedule_overdue_seconds",
        "Seconds since the first due time the job missed; 0 when it is not overdue.",
    ),
    (
        "critical",
        _flag,
        "gruponos_schedule_critical",
        "1 when the schedule's job is critical (an overdue run fails the health check).",
    ),
    (
        "interval_s",
        _numeric,
        "gruponos_schedule_interval_seconds",
        "The schedule's interval in seconds.",
    ),
    (
        "last_success_ts",
        _numeric,
        "gruponos_schedule_last_success_timestamp_seconds",
        "When the job's last successful run started, in seconds since the epoch.",
    ),
)
_LOCK_GAUGES: tuple[tuple[str, Callable[[object], float | None], str, str], ...] = (
    (
        "age_s",
        _zero_if_unknown,
        "gruponos_lock_age_seconds",
        "Seconds since the job's run lock was taken.",
    ),
    (
        "stale",
        _flag,
        "gruponos_lock_stale",
        "1 when the store deems the lock stale (its run is gone or its lease expired).",
    ),
)


def _schedule_metrics(out: _Exposition, report: HealthReport) -> None:
    """Per-schedule and per-lock gauges from the ``schedules:freshness`` result's details."""
    for result in report.results:
        schedules = result.details.get("schedules")
        locks = result.details.get("locks")
        if not isinstance(schedules, list) or not isinstance(locks, list):
            continue
        for entry in (e for e in schedules if isinstance(e, dict)):
            labels = {"schedule": str(entry.get("schedule")), "job": str(entry.get("job"))}
            _detail_gauges(out, _SCHEDULE_GAUGES, labels, entry)
        for lock in (e for e in locks if isinstance(e, dict)):
            _detail_gauges(out, _LOCK_GAUGES, {"job": str(lock.get("job"))}, lock)


def _detail_gauges(
    out: _Exposition,
    gauges: tuple[tuple[str, Callable[[object], float | None], str, str], ...],
    labels: dict[str, str],
    entry: dict[str, Any],
) -> None:
    for key, read, name, help_text in gauges:
        value = read(entry.get(key))
        if value is not None:
            out.add(name, help_text, labels, value)


class JobMetrics(TypedDict, total=False):
    """The job keyword arguments of :func:`render_prometheus`, for its callers to pass on."""

    job: str | None
    run_status: RunStatus | str | None
    exit_code: int | None
    last_success_time: datetime | float | None
    duration_s: float | None


def render_prometheus(
    report: HealthReport | None,
    *,
    job: str | None = None,
    run_status: RunStatus | str | None = None,
    exit_code: int | None = None,
    last_success_time: datetime | float | None = None,
    duration_s: float | None = None,
) -> str:
    """The Prometheus text exposition of ``report`` and/or a job's last run.

    The job metrics (``run_status``, ``exit_code``, ``duration_s``,
    ``last_success_time``) need ``job``; each is written only when given.
    """
    job_values = (run_status, exit_code, last_success_time, duration_s)
    if job is None and any(v is not None for v in job_values):
        raise ValueError("job metrics (run_status, exit_code, ...) need a job name")
    base: dict[str, str] = {} if job is None else {"job": job}
    out = _Exposition()
    if report is not None:
        out.one_hot(
            "gruponos_health_status",
            "Overall health status: 1 for the current status, 0 for the others.",
            base,
            report.status.value,
            _OVERALL_STATUSES,
        )
        out.add(
            "gruponos_health_duration_seconds",
            "Wall time of the whole health run in seconds.",
            base,
            report.duration_s,
        )
        out.add(
            "gruponos_health_timestamp_seconds",
            "When the health checks ran, in seconds since the epoch.",
            base,
            _timestamp(report.time),
        )
        for result in report.results:
            out.one_hot(
                "gruponos_health_check_status",
                "Status of one health check: 1 for the current status, 0 for the others.",
                {**base, "check": result.name},
                result.status.value,
                _CHECK_STATUSES,
            )
        for result in report.results:
            out.add(
                "gruponos_health_check_duration_seconds",
                "Duration of one health check in seconds.",
                {**base, "check": result.name},
                result.duration_s,
            )
        for result in report.results:
            out.add(
                "gruponos_health_check_critical",
                "1 when a failure of this check fails the overall health status.",
                {**base, "check": result.name},
                1 if result.critical else 0,
            )
        if job is None:
            _schedule_metrics(out, report)
    if job is not None:
        labels = {"job": job}
        if run_status is not None:
            status = run_status.value if isinstance(run_status, Enum) else str(run_status)
            if status not in _RUN_STATUSES:
                raise ValueError(f"unknown run status {status!r}")
            out.one_hot(
                "gruponos_job_last_run_status",
                "Status of the job's last run: 1 for the current status, 0 for the others.",
                labels,
                status,
                _RUN_STATUSES,
            )
        if exit_code is not None:
            out.add(
                "gruponos_job_last_run_exit_code",
                "Exit code of the job's last run.",
                labels,
                exit_code,
            )
        if duration_s is not None:
            out.add(
                "gruponos_job_last_run_duration_seconds",
                "Duration of the job's last run in seconds.",
                labels,
                duration_s,
            )
        if last_success_time is not None:
            out.add(
                "gruponos_job_last_success_timestamp_seconds",
                "When the job last finished successfully, in seconds since the epoch.",
                labels,
                _timestamp(last_success_time),
            )
    return out.render()


def write_prometheus_textfile(
    path: Path | str,
    report: HealthReport | None,
    *,
    mode: int = FILE_MODE,
    source: str | None = None,
    **job: Unpack[JobMetrics],
) -> Path:
    """Write :func:`render_prometheus` output to ``path`` atomically (mode 0644).

    ``job`` are the keyword arguments of :func:`render_prometheus` (a job's
    last run). ``path`` should end in ``.prom`` and sit in node_exporter's
    ``--collector.textfile.directory``; use one file per job.
    """
    return atomic_write_text(path, render_prometheus(report, **job), mode=mode, source=source)

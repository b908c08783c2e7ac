"""Render a :class:`HealthReport` for people (text) and machines (IETF health JSON).

The JSON follows draft-inadarei-api-health-check (``application/health+json``):
a top-level ``status`` of ``pass``/``warn``/``fail`` and ``checks`` keyed by the
check name (``component:measurement``), each a list of one object.

The draft has no "skipped" status. A skipped check (not configured) is
rendered as ``"status": "pass"`` -- it never worsens the total, as in the
runner -- with the extension member ``"skipped": true`` and ``"output":
"skipped: <reason>"``, so it stays recognisable to tools that know the
extension and to people reading the output. Other extension members:
``duration_ms`` (per check and total), ``critical`` (per check) and
``details`` (when a check provides any). A non-critical ``fail`` keeps its
own ``"status": "fail"``; the total reflects it as ``warn``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from gruponos_ext.health.model import CheckResult, HealthReport, Status

__all__ = ["IETF_MEDIA_TYPE", "render_json", "render_text", "to_ietf_json"]

IETF_MEDIA_TYPE = "application/health+json"

_COLORS = {
    Status.PASS: "\x1b[32m",
    Status.WARN: "\x1b[33m",
    Status.FAIL: "\x1b[31m",
    Status.SKIP: "\x1b[2m",
}
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"


def _iso(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a ``Z``, as in the draft's examples."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _observed(result: CheckResult) -> str:
    if result.observed_value is None:
        return ""
    value = result.observed_value
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{shown} {result.observed_unit}" if result.observed_unit else shown


def _label(status: Status, color: bool) -> str:
    text = status.value.upper().ljust(4)
    return f"{_COLORS[status]}{text}{_RESET}" if color else text


def render_text(report: HealthReport, *, color: bool = False) -> str:
    """One line per check, then a summary line; ANSI colours when ``color``.

    No trailing newline (``print``/``click.echo`` add one).

    ``PASS  oracle:connection        12 ms  connected to ORCL (19.3)  [3.2 ms]``
    """
    width = max((len(r.name) for r in report.results), default=0)
    lines = []
    for result in report.results:
        parts = [
            _label(result.status, color),
            result.name.ljust(width),
            f"{_ms(result.duration_s):>8.0f} ms",
        ]
        # One line per check, whatever a multi-line exception message holds.
        message = " ".join(result.message.split())
        if result.status is Status.FAIL and not result.critical:
            message = f"{message} (non-critical)" if message else "(non-critical)"
        if message:
            parts.append(message)
        observed = _observed(result)
        if observed:
            parts.append(f"[{observed}]")
        lines.append("  ".join(parts).rstrip())
    counts = {s: sum(r.status is s for r in report.results) for s in Status}
    total = len(report.results)
    overall = report.status.value.upper()
    if color:
        overall = f"{_BOLD}{_COLORS[report.status]}{overall}{_RESET}"
    summary = (
        f"{overall}: {total} check{'s' if total != 1 else ''} "
        f"({counts[Status.PASS]} pass, {counts[Status.WARN]} warn, "
        f"{counts[Status.FAIL]} fail, {counts[Status.SKIP]} skip) "
        f"in {report.duration_s:.2f} s"
    )
    if lines:
        lines.append("")
    lines.append(summary)
    return "\n".join(lines)


def _check_entry(result: CheckResult) -> dict[str, Any]:
    skipped = result.status is Status.SKIP
    entry: dict[str, Any] = {}
    component_id = result.details.get("component_id")
    if component_id is not None:
        entry["componentId"] = str(component_id)
    entry["componentType"] = result.component_type or "component"
    entry["status"] = Status.PASS.value if skipped else result.status.value
    if result.observed_value is not None:
        entry["observedValue"] = result.observed_value
        if result.observed_unit:
            entry["observedUnit"] = result.observed_unit
    entry["time"] = _iso(result.time)
    if skipped:
        entry["skipped"] = True
        entry["output"] = f"skipped: {result.message}" if result.message else "skipped"
    elif result.status is not Status.PASS and result.message:
        entry["output"] = result.message
    entry["duration_ms"] = _ms(result.duration_s)
    entry["critical"] = result.critical
    details = {k: v for k, v in result.details.items() if k != "component_id"}
    if details:
        entry["details"] = details
    return entry


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gruponos-infra")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def to_ietf_json(
    report: HealthReport,
    *,
    service_id: str = "gruponos-infra",
    version: str | None = None,
    description: str = "gruponos-infra health of the Meltano pipeline infrastructure",
) -> dict[str, Any]:
    """The report as an IETF health-check document (a JSON-serialisable dict).

    ``version`` defaults to the installed package version. A top-level
    ``output`` names the checks that failed or warned, when any did.
    """
    document: dict[str, Any] = {
        "status": report.status.value,
        "version": version if version is not None else _package_version(),
        "serviceId": service_id,
        "description": description,
    }
    bad = [r.name for r in report.results if r.status in (Status.FAIL, Status.WARN)]
    if report.status is not Status.PASS and bad:
        document["output"] = f"{report.status.value}: {', '.join(bad)}"
    document["time"] = _iso(report.time)
    document["duration_ms"] = _ms(report.duration_s)
    document["checks"] = {r.name: [_check_entry(r)] for r in report.results}
    return document


def render_json(report: HealthReport, *, indent: int | None = 2, **kwargs: Any) -> str:
    """:func:`to_ietf_json` serialised; ``kwargs`` are passed to it."""
    return json.dumps(to_ietf_json(report, **kwargs), indent=indent, default=str)

"""Run health checks in parallel, each bounded by a timeout, all by a deadline.

Every selected check runs in its own daemon thread. The runner waits for each
one at most its timeout (and never past the global deadline); a check that
does not return in time is reported ``fail`` and abandoned -- its thread keeps
running in the background but delays neither the report nor the process exit.
An exception becomes a ``fail`` whose message is passed through
:func:`sanitise`, so a password in a driver's error text never reaches a
report.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.logging import get_logger
from gruponos_ext.health.model import CheckOutcome, CheckResult, HealthCheck, HealthReport, Status

__all__ = [
    "DuplicateCheckError",
    "HealthCheckRunner",
    "UnknownCheckError",
    "describe_exception",
    "sanitise",
]

_log = get_logger(__name__)

REDACTED = "***"
_MAX_MESSAGE = 1000

# Each pattern keeps the harmless part (scheme, user, key name, quotes) so the
# message stays useful, and replaces only the secret with ***.
_KEY_VALUE = re.compile(
    r"(?P<key>\b[\w\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|credential|authorization)"
    r"[\w\-]*[\"']?\s*[:=]\s*)"
    r"(?P<value>(?:(?:Bearer|Basic|Token)\s+)?(?:\"[^\"]*\"|'[^']*'|[^\s&;,\"')}\]]+))",
    re.IGNORECASE,
)


def _redact_value(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[0] in "\"'" and value[-1] == value[0] and len(value) > 1 else ""
    return f"{match.group('key')}{quote}{REDACTED}{quote}"


_SANITISERS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # scheme://user:password@host
    (
        re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^\s/@:]*):[^\s/@]*@", re.IGNORECASE),
        rf"\1:{REDACTED}@",
    ),
    # user:password@host without a scheme
    (re.compile(r"((?<![\w/:.\-])[\w.\-]+):[^\s/@:]+@(?=[\w\[])"), rf"\1:{REDACTED}@"),
    # Oracle style user/password@host
    (re.compile(r"((?<![\w/:.\-])[\w.$#\-]+)/[^\s/@]+@(?=[\w\[])"), rf"\1/{REDACTED}@"),
    # password=..., "api_key": "...", token: ..., Authorization: Bearer ...
    (_KEY_VALUE, _redact_value),
    # bare authorization header values
    (re.compile(r"\b(Bearer|Basic)\s+[\w.~+/=\-]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    # query parameters that carry signatures or keys
    (re.compile(r"([?&](?:sig|signature|key|code)=)[^&\s]+", re.IGNORECASE), rf"\1{REDACTED}"),
    # webhook URLs whose path is the credential
    (
        re.compile(
            r"(hooks\.slack\.com/(?:services|workflows|triggers)/|/api/webhooks/)[^\s\"'<>]+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
)


def sanitise(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with anything that looks like a credential replaced by ``***``.

    Removes URL passwords (``scheme://user:***@host``), ``user:pass@host`` and
    Oracle ``user/pass@host`` forms, ``password=``/``token:``/``api_key=``-like
    pairs, bearer/basic auth values, signature query parameters and webhook
    tokens (Slack, ``/api/webhooks/``); plus every exact occurrence of the
    known ``secrets`` (longest first).

    >>> sanitise("cannot connect to postgresql://etl:hunter2@db:5432/meltano")
    'cannot connect to postgresql://etl:***@db:5432/meltano'
    """
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _SANITISERS:
        text = pattern.sub(replacement, text)
    return text


def describe_exception(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """``"ExceptionType: sanitised message"`` (just the type when the message is empty)."""
    message = sanitise(str(exc), secrets)
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class UnknownCheckError(GruponosError):
    """A requested check name or tag matches no registered check."""

    code = "UNKNOWN_CHECK"
    exit_code = 2

    def __init__(
        self,
        unknown_names: Sequence[str],
        unknown_tags: Sequence[str],
        available_names: Sequence[str],
        available_tags: Sequence[str],
    ) -> None:
        parts = []
        if unknown_names:
            parts.append(
                f"unknown check(s) {', '.join(map(repr, unknown_names))}; "
                f"available: {', '.join(available_names) or '(none)'}"
            )
        if unknown_tags:
            parts.append(
                f"unknown tag(s) {', '.join(map(repr, unknown_tags))}; "
                f"available: {', '.join(available_tags) or '(none)'}"
            )
        super().__init__(
            "; ".join(parts),
            details={
                "unknown_names": list(unknown_names),
                "unknown_tags": list(unknown_tags),
                "available_names": list(available_names),
                "available_tags": list(available_tags),
            },
        )
        self.unknown_names = tuple(unknown_names)
        self.unknown_tags = tuple(unknown_tags)
        self.available_names = tuple(available_names)


class DuplicateCheckError(GruponosError):
    """Two checks were given the same name (names are the report's keys)."""

    code = "DUPLICATE_CHECK"

    def __init__(self, name: str) -> None:
        super().__init__(f"a health check named {name!r} is already registered")
        self.name = name


def _seconds(value: float) -> str:
    """``2`` -> ``'2.0'``, ``0.25`` -> ``'0.25'``: short but never ``'2'``."""
    text = f"{value:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


@dataclass(eq=False)
class _Job:
    check: HealthCheck
    timeout: float
    started: float = 0.0
    expires: float = 0.0
    done: bool = False
    outcome: CheckOutcome | None = None
    duration_s: float = 0.0
    finished_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


class HealthCheckRunner:
    """Runs :class:`HealthCheck`\\ s in parallel and aggregates a :class:`HealthReport`.

    ``default_timeout`` bounds checks without their own ``timeout``;
    ``deadline`` bounds the whole run; ``max_workers`` caps how many checks
    run at once (``None``: all at once -- checks mostly wait on I/O).
    ``secrets`` are exact values scrubbed from every message, on top of the
    patterns of :func:`sanitise`.
    """

    def __init__(
        self,
        checks: Iterable[HealthCheck] = (),
        *,
        default_timeout: float = 5.0,
        deadline: float = 30.0,
        max_workers: int | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        if default_timeout <= 0:
            raise ValueError("default_timeout must be > 0")
        if deadline <= 0:
            raise ValueError("deadline must be > 0")
        if max_workers is not None and max_workers < 1:
            raise ValueError("max_workers must be >= 1 or None")
        self.default_timeout = float(default_timeout)
        self.deadline = float(deadline)
        self.max_workers = max_workers
        self._secrets = tuple(s for s in secrets if s)
        self._checks: dict[str, HealthCheck] = {}
        self._lock = threading.Lock()
        for check in checks:
            self.add(check)

    def __repr__(self) -> str:
        return f"HealthCheckRunner({len(self._checks)} checks, deadline={self.deadline})"

    # -- registry ----------------------------------------------------------
    def add(self, check: HealthCheck) -> None:
        """Register ``check``; a second check with the same name is refused."""
        with self._lock:
            if check.name in self._checks:
                raise DuplicateCheckError(check.name)
            self._checks[check.name] = check

    def names(self) -> tuple[str, ...]:
        """Names of the registered checks, in registration order."""
        with self._lock:
            return tuple(self._checks)

    def tags(self) -> tuple[str, ...]:
        """Every tag carried by a registered check, sorted."""
        with self._lock:
            return tuple(sorted({t for c in self._checks.values() for t in c.tags}))

    @property
    def checks(self) -> tuple[HealthCheck, ...]:
        """The registered checks, in registration order."""
        with self._lock:
            return tuple(self._checks.values())

    def select(
        self, names: Iterable[str] | None = None, tags: Iterable[str] | None = None
    ) -> tuple[HealthCheck, ...]:
        """The checks a :meth:`run` with these arguments would run.

        A name selects the check of that exact name, or every check of that
        component (``oracle`` selects ``oracle:connection``); a tag selects
        every check carrying it. Names and tags add up (union). No names and
        no tags select everything. Raises :class:`UnknownCheckError` when a
        name or tag selects nothing.
        """
        # A lone string is one name, not a sequence of one-letter names.
        wanted_names = list(dict.fromkeys([names] if isinstance(names, str) else names or ()))
        wanted_tags = list(dict.fromkeys([tags] if isinstance(tags, str) else tags or ()))
        checks = self.checks
        if not wanted_names and not wanted_tags:
            return checks
        unknown_names = [
            n for n in wanted_names if not any(n in (c.name, c.component) for c in checks)
        ]
        unknown_tags = [t for t in wanted_tags if not any(t in c.tags for c in checks)]
        if unknown_names or unknown_tags:
            raise UnknownCheckError(
                unknown_names,
                unknown_tags,
                [c.name for c in checks],
                sorted({t for c in checks for t in c.tags}),
            )
        name_set, tag_set = set(wanted_names), set(wanted_tags)
        return tuple(
            c
            for c in checks
            if c.name in name_set or c.component in name_set or not tag_set.isdisjoint(c.tags)
        )

    # -- running -----------------------------------------------------------
    def run(
        self, names: Iterable[str] | None = None, tags: Iterable[str] | None = None
    ) -> HealthReport:
        """Run the selected checks (see :meth:`select`) and return the report.

        Returns within ``deadline`` seconds (plus scheduling noise) whatever
        the checks do. Results keep registration order.
        """
        selected = self.select(names, tags)
        started_wall = datetime.now(timezone.utc)
        started = time.monotonic()
        results = self._run_jobs(selected, started)
        duration = time.monotonic() - started
        report = HealthReport.aggregate(tuple(results), duration, started_wall)
        _log.info(
            "health_run_finished",
            status=report.status.value,
            checks=len(results),
            failed=sum(r.status is Status.FAIL for r in results),
            duration_ms=round(duration * 1000, 1),
        )
        return report

    def _timeout_of(self, check: HealthCheck) -> float:
        if check.timeout is not None and check.timeout > 0:
            return check.timeout
        return self.default_timeout

    def _run_jobs(self, selected: Sequence[HealthCheck], started: float) -> list[CheckResult]:
        jobs = [_Job(check, self._timeout_of(check)) for check in selected]
        results: dict[int, CheckResult] = {}
        pending = deque(range(len(jobs)))
        running: list[int] = []
        hard_deadline = started + self.deadline
        capacity = self.max_workers or len(jobs) or 1
        cond = threading.Condition()

        with cond:
            while True:
                now = time.monotonic()
                while pending and len(running) < capacity and now < hard_deadline:
                    index = pending.popleft()
                    self._start(jobs[index], cond, now)
                    running.append(index)
                for index in list(running):
                    job = jobs[index]
                    if job.done:
                        results[index] = self._finished(job)
                    elif now >= job.expires:
                        results[index] = self._abandoned(
                            job, now, f"timed out after {_seconds(job.timeout)} s"
                        )
                    else:
                        continue
                    running.remove(index)
                if not pending and not running:
                    break
                if now >= hard_deadline:
                    reason = f"deadline of {_seconds(self.deadline)} s reached"
                    for index in running:
                        results[index] = self._abandoned(jobs[index], now, reason)
                    for index in pending:
                        jobs[index].started = now
                        results[index] = self._abandoned(
                            jobs[index], now, f"{reason} before the check started"
                        )
                    break
                if len(running) < capacity and pending:
                    continue
                wake = min([jobs[i].expires for i in running] + [hard_deadline])
                cond.wait(max(0.0, wake - now))
        return [results[i] for i in range(len(jobs))]

    def _start(self, job: _Job, cond: threading.Condition, now: float) -> None:
        job.started = now
        job.expires = now + job.timeout
        thread = threading.Thread(
            target=self._work,
            args=(job, cond),
            name=f"health-check:{job.check.name}",
            # A hung check must never keep the process alive.
            daemon=True,
        )
        thread.start()

    def _work(self, job: _Job, cond: threading.Condition) -> None:
        outcome: CheckOutcome
        try:
            returned: object = job.check.run()
            if isinstance(returned, CheckOutcome):
                outcome = returned
            else:
                outcome = CheckOutcome.failed(
                    f"check returned {type(returned).__name__}, expected CheckOutcome"
                )
        except BaseException as exc:
            # Even SystemExit or KeyboardInterrupt in a worker thread is the
            # check's failure, not the runner's.
            outcome = CheckOutcome.failed(describe_exception(exc, self._secrets))
        finished = time.monotonic()
        with cond:
            job.outcome = outcome
            job.duration_s = finished - job.started
            job.finished_at = datetime.now(timezone.utc)
            job.done = True
            cond.notify_all()

    def _finished(self, job: _Job) -> CheckResult:
        outcome = job.outcome
        assert outcome is not None
        message = sanitise(outcome.message, self._secrets)
        if len(message) > _MAX_MESSAGE:
            message = message[:_MAX_MESSAGE] + "..."
        observed = outcome.observed_value
        if isinstance(observed, str):
            observed = sanitise(observed, self._secrets)
        result = CheckResult(
            name=job.check.name,
            status=outcome.status,
            message=message,
            duration_s=job.duration_s,
            time=job.finished_at,
            critical=job.check.critical,
            tags=job.check.tags,
            observed_value=observed,
            observed_unit=outcome.observed_unit,
            component_type=outcome.component_type,
            details={
                key: sanitise(value, self._secrets) if isinstance(value, str) else value
                for key, value in outcome.details.items()
            },
        )
        _log.debug(
            "health_check_finished",
            check=result.name,
            status=result.status.value,
            duration_ms=round(result.duration_s * 1000, 1),
        )
        return result

    def _abandoned(self, job: _Job, now: float, reason: str) -> CheckResult:
        _log.warning(
            "health_check_abandoned",
            check=job.check.name,
            reason=reason,
            timeout_s=job.timeout,
        )
        return CheckResult(
            name=job.check.name,
            status=Status.FAIL,
            message=reason,
            duration_s=max(0.0, now - job.started),
            time=datetime.now(timezone.utc),
            critical=job.check.critical,
            tags=job.check.tags,
        )

"""Run health checks in parallel, each bounded by a timeout, all by a deadline.

Every selected check runs in a daemon thread of its own, started with
:func:`gruponos_ext.core.deadline.start`; the runner waits on one shared
condition and never past a check's timeout or the run's
:class:`~gruponos_ext.core.deadline.Deadline`. A check that does not return
in time is reported ``fail`` and abandoned: it delays neither the report nor
the process exit.

**What the bound holds against.** Threads share one interpreter lock (the
GIL): a check that computes takes it from the runner's own thread, and each
step of that thread that releases it (starting a thread, a log line, an
import) then waits behind every computing check. Measured before this
design: 4 busy checks (timeout 2 s, deadline 5 s) returned after 8-10 s, 16
after 44 s, and 5,000 checks polling with short sleeps never returned. So:

* at most ``max_workers`` checks (default 64) run at once, and the first
  batch starts behind a gate, so no thread is started while those checks
  compute;
* the waiting thread does nothing but wait: outcomes are validated and
  redacted by each check's own thread, and logs are written after the run;
* an abandoned check is *stopped* (:mod:`gruponos_ext.health.stopping`):
  Python code, busy or polling, ends at its next instruction.

The one thing no thread can bound is a single C call that holds the GIL
(``sum(range(10**10))``, a pathological regular expression): the process
runs nothing else until it returns, so ``run()`` returns late (right after
it, with the check reported ``fail``). ``isolate=True`` runs the checks in a
child process instead (:mod:`gruponos_ext.health.isolation`), which bounds
that case too.

Exceptions and bad return values become ``fail`` results whose text is
redacted with the configuration's
:class:`~gruponos_ext.core.redaction.Redactor` (:mod:`.outcomes`).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from gruponos_ext.core.deadline import Deadline, Pending, format_seconds, start
from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.redaction import Redactor
from gruponos_ext.health.model import CheckOutcome, CheckResult, HealthCheck, HealthReport, Status
from gruponos_ext.health.outcomes import clean_outcome, outcome_of_exception
from gruponos_ext.health.stopping import CheckAbandoned, stop_thread

__all__ = [
    "DEFAULT_MAX_WORKERS",
    "DuplicateCheckError",
    "HealthCheckRunner",
    "UnknownCheckError",
]

_log = get_logger(__name__)

DEFAULT_MAX_WORKERS = 64
"""Checks that run at once by default: far more than a project has, few enough to bound."""


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


@dataclass(eq=False)
class _Job:
    """One selected check on its way to a result."""

    index: int
    check: HealthCheck
    timeout: float
    started: float = 0.0
    expires: float = 0.0
    pending: Pending[CheckOutcome] | None = None
    in_check: bool = False
    """True while the check's own code runs: only then is its thread stopped."""
    abandoned: bool = False
    """Set when the runner gives up on it: a check not begun yet then never begins."""
    stop_sent: bool = False
    """Its thread was asked to raise :class:`CheckAbandoned`."""
    announce: StartSink | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Makes "is the check's code running?" and "stop it" one step."""


class HealthCheckRunner:
    """Runs :class:`HealthCheck`\\ s in parallel and aggregates a :class:`HealthReport`.

    ``default_timeout`` bounds checks without their own ``timeout``;
    ``deadline`` bounds the whole run; ``max_workers`` caps how many checks
    run at once (``None``: no cap, which gives up the bound against thousands
    of computing checks). ``redactor`` cleans every message (default: one
    that knows no secret but still removes credential-looking text).
    ``isolate`` runs the checks in a child process (see the module docstring).
    """

    def __init__(
        self,
        checks: Iterable[HealthCheck] = (),
        *,
        default_timeout: float = 5.0,
        deadline: float = 30.0,
        max_workers: int | None = DEFAULT_MAX_WORKERS,
        redactor: Redactor | None = None,
        isolate: bool = False,
    ) -> None:
        if not default_timeout > 0:
            raise ValueError("default_timeout must be > 0")
        if not deadline > 0:
            raise ValueError("deadline must be > 0")
        if max_workers is not None and max_workers < 1:
            raise ValueError("max_workers must be >= 1 or None")
        self.default_timeout = float(default_timeout)
        self.deadline = float(deadline)
        self.max_workers = max_workers
        self.isolate = isolate
        self._redactor = redactor if redactor is not None else Redactor()
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
        the checks do, except for a C call holding the GIL when not
        ``isolate``\\ d (see the module docstring). Results keep registration order.
        """
        selected = self.select(names, tags)
        started_wall = datetime.now(timezone.utc)
        started = time.monotonic()
        deadline = Deadline(started + self.deadline)
        if self.isolate:
            from gruponos_ext.health.isolation import run_isolated

            results = run_isolated(self._run_jobs, selected, deadline, self._unanswered)
        else:
            results = self._run_jobs(selected, deadline)
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

    def _run_jobs(
        self,
        selected: Sequence[HealthCheck],
        deadline: Deadline,
        on_result: ResultSink | None = None,
        on_start: StartSink | None = None,
    ) -> list[CheckResult]:
        """Every selected check's result, in order.

        ``on_result`` hears each result as it is known (in this thread);
        ``on_start`` hears each check's index from its own thread just before
        the check's code runs.
        """
        jobs = [
            _Job(i, check, self._timeout_of(check), announce=on_start)
            for i, check in enumerate(selected)
        ]
        results: list[CheckResult | None] = [None] * len(jobs)
        abandoned: list[tuple[_Job, str]] = []
        waiting = deque(jobs)
        capacity = self.max_workers or len(jobs) or 1
        cond = threading.Condition()

        def settle(job: _Job, result: CheckResult) -> None:
            results[job.index] = result
            if on_result is not None:
                on_result(job.index, result)

        with cond:
            running = self._start_first_batch(waiting, capacity, cond, settle)
            while True:
                now = time.monotonic()
                still: list[_Job] = []
                for job in running:
                    pending = job.pending
                    assert pending is not None
                    ends = job.started + job.timeout
                    # An answer counts when it came in time: a check that held the GIL
                    # past its timeout may be seen done and overdue at the same moment.
                    if pending.done and (pending.finished_at or now) <= ends:
                        settle(job, self._finished(job, pending))
                    elif now >= ends:
                        reason = f"timed out after {format_seconds(job.timeout)} s"
                        settle(job, self._abandon(job, now, reason, abandoned))
                    else:
                        still.append(job)
                running = still
                if not running and not waiting:
                    break
                if now >= deadline.at:
                    reason = f"deadline of {format_seconds(self.deadline)} s reached"
                    for job in running:
                        settle(job, self._abandon(job, now, reason, abandoned))
                    for job in waiting:
                        job.started = now
                        settle(job, self._abandoned_result(job.check, 0.0, _NOT_STARTED % reason))
                    break
                while waiting and len(running) < capacity and not deadline.expired:
                    job = waiting.popleft()
                    if self._launch(job, cond, None, settle):
                        running.append(job)
                wake = min([j.expires for j in running] + [deadline.at])
                cond.wait(max(0.0, wake - time.monotonic()))
        # Logged only now: a log line releases the GIL, which computing checks would hold.
        self._log_abandoned(abandoned, sum(r is None for r in results), len(jobs))
        return [r if r is not None else self._lost(selected[i]) for i, r in enumerate(results)]

    def _start_first_batch(
        self,
        waiting: deque[_Job],
        capacity: int,
        cond: threading.Condition,
        settle: _Settle,
    ) -> list[_Job]:
        """Start up to ``capacity`` checks behind one gate, then open it.

        A thread start waits until the new thread runs; behind computing
        checks that costs a GIL hand-off per running check. Behind the gate
        nothing computes yet, so the whole batch starts at once.
        """
        gate = threading.Event()
        batch: list[_Job] = []
        while waiting and len(batch) < capacity:
            job = waiting.popleft()
            if self._launch(job, cond, gate, settle):
                batch.append(job)
        opened = time.monotonic()
        for job in batch:
            job.started = opened
            job.expires = opened + job.timeout
        gate.set()
        return batch

    def _launch(
        self,
        job: _Job,
        cond: threading.Condition,
        gate: threading.Event | None,
        settle: _Settle,
    ) -> bool:
        """Start ``job``'s thread; a thread that cannot be started is the check's failure."""
        now = time.monotonic()
        job.started, job.expires = now, now + job.timeout
        try:
            job.pending = start(
                functools.partial(self._work, job, gate),
                name=f"health-check:{job.check.name}",
                notify=cond,
            )
        except RuntimeError as exc:  # "can't start new thread": out of threads or memory
            settle(job, self._abandoned_result(job.check, 0.0, f"check not started: {exc}"))
            return False
        return True

    def _work(self, job: _Job, gate: threading.Event | None) -> CheckOutcome:
        """The check's thread: run it, then validate and redact what it gave."""
        try:
            if gate is not None:
                gate.wait()
            if job.announce is not None:
                job.announce(job.index)
            with job.lock:
                if job.abandoned:  # given up on before it began: never begin
                    return CheckOutcome.failed("abandoned before it began")
                job.in_check = True
            returned: object = job.check.run()
        except BaseException as exc:
            # Even SystemExit or KeyboardInterrupt in a worker thread is the
            # check's failure, not the runner's.
            outcome = outcome_of_exception(exc, self._redactor)
        else:
            outcome = clean_outcome(returned, self._redactor)
        finally:
            with job.lock:
                job.in_check = False
            if job.stop_sent:
                # The stop, if not raised yet in the check's code, is raised here
                # where it is expected, not later in code that is not the check's.
                with contextlib.suppress(CheckAbandoned):
                    _give_pending_exceptions_a_chance()
        return outcome

    def _finished(self, job: _Job, pending: Pending[CheckOutcome]) -> CheckResult:
        try:
            outcome = pending.result()
        except BaseException as exc:  # stopped just as it finished, or broke in cleaning
            outcome = outcome_of_exception(exc, self._redactor)
        finished = pending.finished_at if pending.finished_at is not None else time.monotonic()
        return CheckResult(
            name=job.check.name,
            status=outcome.status,
            message=outcome.message,
            duration_s=max(0.0, finished - job.started),
            time=datetime.now(timezone.utc),
            critical=job.check.critical,
            tags=job.check.tags,
            observed_value=outcome.observed_value,
            observed_unit=outcome.observed_unit,
            component_type=outcome.component_type,
            details=outcome.details,
        )

    def _abandon(
        self, job: _Job, now: float, reason: str, abandoned: list[tuple[_Job, str]]
    ) -> CheckResult:
        """Stop waiting for ``job``, and stop its thread if the check's code still runs."""
        with job.lock:
            job.abandoned = True
            if job.in_check and job.pending is not None:
                job.stop_sent = stop_thread(job.pending.thread)
        abandoned.append((job, reason))
        return self._abandoned_result(job.check, max(0.0, now - job.started), reason)

    @staticmethod
    def _abandoned_result(check: HealthCheck, duration_s: float, reason: str) -> CheckResult:
        return CheckResult(
            name=check.name,
            status=Status.FAIL,
            message=reason,
            duration_s=duration_s,
            time=datetime.now(timezone.utc),
            critical=check.critical,
            tags=check.tags,
        )

    def _unanswered(self, check: HealthCheck, elapsed: float, started: bool | None) -> CheckResult:
        """The result of a check whose isolated process gave no answer.

        ``started``: True if the check began (it held the process), False if
        it never ran, None if the process ended normally without its result.
        """
        held = "the checks' process was held by a call that cannot be interrupted and was stopped"
        deadline = f"deadline of {format_seconds(self.deadline)} s reached"
        if started is None:
            reason = "the checks' process ended without this check's result"
        elif started:
            reason = f"{deadline} while the check ran; {held}"
        else:
            reason = f"{deadline} before the check ran; {held}"
        return self._abandoned_result(check, elapsed if started else 0.0, reason)

    def _lost(self, check: HealthCheck) -> CheckResult:
        # Unreachable by construction (every job is settled); a report never has a hole.
        return self._abandoned_result(check, 0.0, "no result was recorded for the check")

    @staticmethod
    def _log_abandoned(abandoned: list[tuple[_Job, str]], lost: int, total: int) -> None:
        for job, reason in abandoned:
            _log.warning(
                "health_check_abandoned",
                check=job.check.name,
                reason=reason,
                timeout_s=job.timeout,
            )
        if lost:
            _log.error("health_results_missing", missing=lost, checks=total)


def _give_pending_exceptions_a_chance() -> None:
    """Nothing: entering a Python function is where a pending stop is raised."""


_NOT_STARTED = "%s before the check started"

_Settle = Callable[[_Job, CheckResult], None]
ResultSink = Callable[[int, CheckResult], None]
StartSink = Callable[[int], None]

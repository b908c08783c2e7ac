"""Benchmark the health-check runner (issue 3, "Speed").

Targets:
- 50 checks that each take 200 ms finish in under 0.5 s in all;
- 50 fast checks plus one that never returns (timeout 1 s): the report is out
  within 1.3 s;
- computing checks (issue 9): 4 or 16 busy loops, and 5,000 checks polling
  with 10 ms sleeps (timeout 2 s, deadline 5 s), return by the deadline
  (before: 8-10 s, 44 s, never);
- the isolated runner (a forked child, what the CLI uses) against the
  in-process one on 50 fast checks: the cost of the fork, no target.

Each scenario runs ``--repeat`` times; the median is judged against the
target (the worst run is shown too). Exit status 1 when a target is missed.

    .venv/bin/python bench/bench_health.py [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import structlog

from gruponos_ext.health.model import CheckOutcome, HealthCheck, HealthReport, Status
from gruponos_ext.health.runner import HealthCheckRunner


@dataclass
class Scenario:
    name: str
    build: Callable[[], HealthCheckRunner]
    target_s: float | None
    expect: Callable[[HealthReport], bool]


@dataclass
class Measured:
    scenario: str
    runs: int
    median_s: float
    min_s: float
    max_s: float
    target_s: float | None
    ok: bool


def _sleeper(seconds: float) -> Callable[[], CheckOutcome]:
    def run() -> CheckOutcome:
        time.sleep(seconds)
        return CheckOutcome.passed()

    return run


def _fast() -> CheckOutcome:
    return CheckOutcome.passed("fast", observed_value=1, observed_unit="ms")


def _never_returns() -> CheckOutcome:
    threading.Event().wait()
    return CheckOutcome.failed("unreachable")


def _sleepers() -> HealthCheckRunner:
    return HealthCheckRunner([HealthCheck(f"sleep:{i}", _sleeper(0.2)) for i in range(50)])


def _fast_plus_hung() -> HealthCheckRunner:
    checks = [HealthCheck(f"fast:{i}", _fast) for i in range(50)]
    checks.append(HealthCheck("hung:forever", _never_returns, timeout=1.0))
    return HealthCheckRunner(checks)


def _busy() -> CheckOutcome:
    while True:
        pass


def _polling() -> CheckOutcome:
    while True:
        time.sleep(0.01)


def _computing(count: int, run: Callable[[], CheckOutcome]) -> Callable[[], HealthCheckRunner]:
    def build() -> HealthCheckRunner:
        checks = [HealthCheck(f"cpu:{i}", run, timeout=2.0) for i in range(count)]
        return HealthCheckRunner(checks, deadline=5.0)

    return build


def _fast_50(isolate: bool) -> Callable[[], HealthCheckRunner]:
    def build() -> HealthCheckRunner:
        checks = [HealthCheck(f"fast:{i}", _fast) for i in range(50)]
        return HealthCheckRunner(checks, isolate=isolate)

    return build


def _all_failed(report: HealthReport) -> bool:
    return report.status is Status.FAIL and not report.by_status(Status.PASS)


def _noop_200() -> HealthCheckRunner:
    return HealthCheckRunner([HealthCheck(f"noop:{i}", _fast) for i in range(200)])


def _all_pass_sleepers(report: HealthReport) -> bool:
    return report.status is Status.PASS and len(report.results) == 50


def _only_hung_failed(report: HealthReport) -> bool:
    failed = report.by_status(Status.FAIL)
    return (
        len(report.results) == 51
        and len(failed) == 1
        and failed[0].message == "timed out after 1.0 s"
    )


def _all_pass(report: HealthReport) -> bool:
    return report.status is Status.PASS


SCENARIOS = (
    # Isolation first: it forks only while the process has one thread, and the
    # hung check below leaves one behind for good.
    Scenario("50 fast checks, in-process", _fast_50(False), None, _all_pass),
    Scenario("50 fast checks, isolated (fork)", _fast_50(True), None, _all_pass),
    Scenario("4 busy checks (t 2 s, deadline 5 s)", _computing(4, _busy), 2.5, _all_failed),
    Scenario("16 busy checks (t 2 s, deadline 5 s)", _computing(16, _busy), 2.5, _all_failed),
    Scenario("5,000 polling checks (t 2, dl 5 s)", _computing(5000, _polling), 5.5, _all_failed),
    Scenario("50 checks x 200 ms", _sleepers, 0.5, _all_pass_sleepers),
    Scenario("50 fast + 1 hung (timeout 1 s)", _fast_plus_hung, 1.3, _only_hung_failed),
    Scenario("200 no-op checks (overhead, no target)", _noop_200, None, _all_pass),
)


def measure(scenario: Scenario, repeat: int) -> Measured:
    times = []
    correct = True
    for _ in range(repeat):
        runner = scenario.build()
        started = time.perf_counter()
        report = runner.run()
        times.append(time.perf_counter() - started)
        correct = correct and scenario.expect(report)
    median = statistics.median(times)
    ok = correct and (scenario.target_s is None or median < scenario.target_s)
    return Measured(scenario.name, repeat, median, min(times), max(times), scenario.target_s, ok)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (default 3)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    # Abandoned checks log a warning; keep stdout for the results.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))

    results = [measure(s, max(1, args.repeat)) for s in SCENARIOS]
    if args.json:
        print(json.dumps({"results": [asdict(r) for r in results]}, indent=2))
    else:
        print(f"{'scenario':<40} {'median':>9} {'min':>9} {'max':>9} {'target':>8}  ok")
        for r in results:
            target = f"{r.target_s:.2f} s" if r.target_s is not None else "-"
            print(
                f"{r.scenario:<40} {r.median_s:>7.3f} s {r.min_s:>7.3f} s {r.max_s:>7.3f} s "
                f"{target:>8}  {'yes' if r.ok else 'NO'}"
            )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

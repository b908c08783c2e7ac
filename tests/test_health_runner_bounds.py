"""The runner's time bound against checks that compute, poll, hang by the thousand or hold the GIL.

What is bounded, and how (see ``gruponos_ext/health/runner.py``):

* pure-Python computing checks (busy loops): bounded in-process, and their
  threads are stopped once abandoned;
* thousands of checks that poll or hang: bounded in-process (at most
  ``max_workers`` run at once);
* a single C call holding the GIL: NOT bounded in-process (``run()`` returns
  right after the call), bounded with ``isolate=True`` (a child process).

Margins are generous: the machine is shared and loaded. The figures before
the fix were 4 busy checks -> 8-10 s, 16 -> 44 s, 5,000 polling -> never.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gruponos_ext.health.model import CheckOutcome, HealthCheck, Status
from gruponos_ext.health.runner import HealthCheckRunner
from tests.support.runs import wait_until


def busy() -> CheckOutcome:
    while True:
        pass


def polling() -> CheckOutcome:
    while True:
        time.sleep(0.01)


def holding_the_gil(seconds: int) -> Callable[[], CheckOutcome]:
    """A check stuck in one C call that keeps the GIL: libc ``sleep`` called through PyDLL.

    ``ctypes.PyDLL`` calls a C function without releasing the GIL, exactly
    as a long C computation does, but for a known time.
    """
    libc_sleep = ctypes.PyDLL(None).sleep

    def run() -> CheckOutcome:
        libc_sleep(seconds)
        return CheckOutcome.passed("woke up")

    return run


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Hanging checks wait on this event; it is set after the test, so no thread is left."""
    event = threading.Event()
    yield event
    event.set()


def timed_run(runner: HealthCheckRunner) -> tuple[float, list[tuple[str, Status, str]]]:
    started = time.monotonic()
    report = runner.run()
    elapsed = time.monotonic() - started
    return elapsed, [(r.name, r.status, r.message) for r in report.results]


def check_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("health-check:")]


@pytest.mark.parametrize("count", [4, 16])
def test_busy_python_checks_keep_the_timeout_and_deadline(count: int) -> None:
    checks = [HealthCheck(f"busy:{i}", busy, timeout=1.0) for i in range(count)]
    checks.append(HealthCheck("quick:ok", lambda: CheckOutcome.passed("ok")))
    elapsed, results = timed_run(HealthCheckRunner(checks, deadline=3.0))
    # Before: 4 checks -> 8-10 s, 16 -> 44 s (timeout 2, deadline 5).
    assert elapsed < 3.0
    assert results[:-1] == [
        (f"busy:{i}", Status.FAIL, "timed out after 1.0 s") for i in range(count)
    ]
    assert results[-1] == ("quick:ok", Status.PASS, "ok")


def test_abandoned_busy_checks_are_stopped_not_left_computing() -> None:
    checks = [HealthCheck(f"spin:{i}", busy, timeout=0.3) for i in range(4)]
    HealthCheckRunner(checks).run()
    wait_until(
        lambda: not any(t.name.startswith("health-check:spin:") for t in check_threads()),
        timeout=10,
        what="the abandoned busy threads to stop",
    )


def test_five_thousand_polling_checks_keep_the_deadline() -> None:
    checks = [HealthCheck(f"poll:{i}", polling, timeout=1.0) for i in range(5000)]
    elapsed, results = timed_run(HealthCheckRunner(checks, deadline=2.5))
    # Before: every thread started at once; starts slowed down to seconds each, never returned.
    assert elapsed < 6.0
    assert {status for _, status, _ in results} == {Status.FAIL}
    messages = {message for _, _, message in results}
    assert "timed out after 1.0 s" in messages
    assert "deadline of 2.5 s reached before the check started" in messages
    wait_until(
        lambda: not any(t.name.startswith("health-check:poll:") for t in check_threads()),
        timeout=15,
        what="the polling threads to stop",
    )


def test_five_thousand_hanging_checks_keep_the_deadline(release: threading.Event) -> None:
    def hang() -> CheckOutcome:
        release.wait()
        return CheckOutcome.passed("released")

    checks = [HealthCheck(f"hang:{i}", hang, timeout=1.0) for i in range(5000)]
    elapsed, results = timed_run(HealthCheckRunner(checks, deadline=2.5))
    assert elapsed < 6.0
    assert len(results) == 5000
    assert all(status is Status.FAIL for _, status, _ in results)


def test_max_workers_bounds_how_many_threads_one_run_starts(release: threading.Event) -> None:
    def hang() -> CheckOutcome:
        release.wait()
        return CheckOutcome.passed("released")

    before = threading.active_count()
    checks = [HealthCheck(f"hang:{i}", hang, timeout=0.5) for i in range(200)]
    HealthCheckRunner(checks, deadline=1.2, max_workers=10).run()
    # 10 at a time, a new 10 every 0.5 s: 30 threads at most, never 200
    assert threading.active_count() - before <= 30


def test_a_c_call_holding_the_gil_delays_an_in_process_run_until_it_returns() -> None:
    # The documented limit of the in-process runner: nothing runs while the call holds the GIL.
    runner = HealthCheckRunner(
        [HealthCheck("gil:held", holding_the_gil(2), timeout=0.3)], deadline=0.6
    )
    elapsed, results = timed_run(runner)
    assert elapsed >= 1.9
    assert results == [("gil:held", Status.FAIL, "timed out after 0.3 s")]


ISOLATED_SCRIPT = textwrap.dedent(
    """
    import ctypes, json, sys, threading, time
    from gruponos_ext.health.model import CheckOutcome, HealthCheck
    from gruponos_ext.health.runner import HealthCheckRunner

    def held():
        ctypes.PyDLL(None).sleep(60)          # a C call that keeps the GIL for a minute
        return CheckOutcome.passed("woke up")

    def computing():
        sum(range(10**11))                    # a real computation in C: minutes
        return CheckOutcome.passed("summed")

    def ok():
        return CheckOutcome.passed("ok", details={"n": 1})

    which = sys.argv[1]
    checks = [HealthCheck("first:ok", ok)]
    if which != "none":
        stuck = held if which == "held" else computing
        checks.append(HealthCheck("stuck:check", stuck, timeout=0.5))
    started = time.monotonic()
    report = HealthCheckRunner(checks, deadline=1.5, isolate=True).run()
    print(json.dumps({
        "elapsed": time.monotonic() - started,
        "threads": threading.active_count(),
        "results": [[r.name, r.status.value, r.message, dict(r.details)] for r in report.results],
    }))
    """
)


def run_isolated_script(tmp_path: Path, which: str) -> dict[str, object]:
    script = tmp_path / "isolated.py"
    script.write_text(ISOLATED_SCRIPT)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(script), which],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert time.monotonic() - started < 30  # the stuck child is gone, not waited for
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("which", ["held", "computing"])
def test_isolated_run_bounds_a_check_that_holds_the_gil(tmp_path: Path, which: str) -> None:
    outcome = run_isolated_script(tmp_path, which)
    assert isinstance(outcome["elapsed"], float)
    assert outcome["elapsed"] < 1.5 + 0.5 + 2.0  # deadline + grace + a loaded machine
    results = outcome["results"]
    assert isinstance(results, list)
    names = [r[0] for r in results]
    assert names == ["first:ok", "stuck:check"]
    stuck = results[1]
    assert stuck[1] == "fail"
    # the child answered in time for the quick check, or was stopped before it could
    assert results[0][1] in ("pass", "fail")
    assert stuck[2] == (
        "deadline of 1.5 s reached while the check ran; the checks' process was held by "
        "a call that cannot be interrupted and was stopped"
    )


def test_isolated_run_of_healthy_checks_gives_the_same_report(tmp_path: Path) -> None:
    outcome = run_isolated_script(tmp_path, "none")
    assert outcome["results"] == [["first:ok", "pass", "ok", {"n": 1}]]
    assert outcome["threads"] == 1  # the checks ran in the child


def test_isolate_falls_back_to_in_process_when_other_threads_run(
    release: threading.Event,
) -> None:
    helper = threading.Thread(target=release.wait, daemon=True)
    helper.start()
    seen: list[int] = []

    def where() -> CheckOutcome:
        seen.append(threading.get_ident())
        return CheckOutcome.passed("ran")

    report = HealthCheckRunner([HealthCheck("where:x", where)], isolate=True).run()
    assert report.results[0].status is Status.PASS
    assert seen  # it ran in this process: a fork beside other threads is not safe


PROFILED_SCRIPT = textwrap.dedent(
    """
    import cProfile, sys, time
    from gruponos_ext.health.model import CheckOutcome, HealthCheck
    from gruponos_ext.health.runner import HealthCheckRunner

    def spin():
        while True:
            pass

    checks = [HealthCheck(f"quick:{i}", lambda: CheckOutcome.passed("ok")) for i in range(3)]
    checks.append(HealthCheck("spin:x", spin, timeout=0.3))
    profiler = cProfile.Profile()
    profiler.enable()
    started = time.monotonic()
    report = HealthCheckRunner(checks, deadline=3.0).run()
    profiler.disable()
    print(round(time.monotonic() - started, 2), [r.status.value for r in report.results])
    """
)


def test_a_run_under_a_profiler_completes(tmp_path: Path) -> None:
    # Taking a stop back (SetAsyncExc with NULL) once left the interpreter's
    # "async exception pending" flag set: under cProfile the runner livelocked.
    script = tmp_path / "profiled.py"
    script.write_text(PROFILED_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    elapsed, statuses = done.stdout.strip().splitlines()[-1].split(" ", 1)
    assert float(elapsed) < 3.0
    assert statuses == "['pass', 'pass', 'pass', 'fail']"
    assert "Exception in thread" not in done.stderr

"""The health-check runner: parallelism, timeouts, deadline, sanitising, aggregation, selection."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.redaction import Redactor, redact
from gruponos_ext.health.model import CheckOutcome, HealthCheck, Status
from gruponos_ext.health.report import render_json, render_text
from gruponos_ext.health.runner import (
    DuplicateCheckError,
    HealthCheckRunner,
    UnknownCheckError,
)

SECRET = "s3cr3t-Pa55"


def check(
    name: str,
    outcome: CheckOutcome | Callable[[], CheckOutcome] | None = None,
    *,
    tags: frozenset[str] = frozenset(),
    critical: bool = True,
    timeout: float | None = None,
) -> HealthCheck:
    if outcome is None:
        outcome = CheckOutcome.passed("fine")
    run = outcome if callable(outcome) else (lambda o=outcome: o)
    return HealthCheck(name, run, tags=tags, critical=critical, timeout=timeout)


def sleeping(seconds: float) -> Callable[[], CheckOutcome]:
    def run() -> CheckOutcome:
        time.sleep(seconds)
        return CheckOutcome.passed(f"slept {seconds}")

    return run


def hanging() -> CheckOutcome:
    threading.Event().wait()
    raise AssertionError("unreachable")


# -- parallelism and timing ----------------------------------------------------


def test_checks_run_in_parallel_threads() -> None:
    # Each check waits until all ten are running at once: only a parallel runner passes.
    barrier = threading.Barrier(10, timeout=5)

    def meet() -> CheckOutcome:
        barrier.wait()
        return CheckOutcome.passed()

    report = HealthCheckRunner([check(f"c:{i}", meet) for i in range(10)]).run()
    assert [r.status for r in report.results] == [Status.PASS] * 10


def test_ten_checks_of_300_ms_finish_well_under_the_sequential_three_seconds() -> None:
    runner = HealthCheckRunner([check(f"slow:{i}", sleeping(0.3)) for i in range(10)])
    started = time.monotonic()
    report = runner.run()
    elapsed = time.monotonic() - started
    assert report.status is Status.PASS
    assert elapsed < 1.5
    assert all(r.duration_s >= 0.29 for r in report.results)
    assert report.duration_s == pytest.approx(elapsed, abs=0.25)


def test_max_workers_caps_concurrency() -> None:
    lock = threading.Lock()
    active = peak = 0

    def counted() -> CheckOutcome:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return CheckOutcome.passed()

    report = HealthCheckRunner([check(f"c:{i}", counted) for i in range(6)], max_workers=2).run()
    assert report.status is Status.PASS
    assert peak == 2


def test_results_keep_registration_order_whatever_the_finishing_order() -> None:
    checks = [check(f"c:{i}", sleeping(0.05 * (4 - i))) for i in range(4)]
    report = HealthCheckRunner(checks).run()
    assert [r.name for r in report.results] == ["c:0", "c:1", "c:2", "c:3"]


# -- timeouts and deadline -------------------------------------------------------


def test_hanging_check_fails_with_its_timeout_and_the_report_is_prompt() -> None:
    runner = HealthCheckRunner(
        [check("fast:one"), check("stuck:forever", hanging, timeout=0.5), check("fast:two")]
    )
    started = time.monotonic()
    report = runner.run()
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    stuck = report.results[1]
    assert stuck.status is Status.FAIL
    assert stuck.message == "timed out after 0.5 s"
    assert stuck.duration_s == pytest.approx(0.5, abs=0.3)
    assert [r.status for r in report.by_status(Status.PASS)] == [Status.PASS, Status.PASS]
    assert report.status is Status.FAIL


def test_default_timeout_applies_to_checks_without_their_own() -> None:
    runner = HealthCheckRunner([check("stuck:x", hanging)], default_timeout=2.0)
    started = time.monotonic()
    result = runner.run().results[0]
    assert time.monotonic() - started < 4.0
    assert result.message == "timed out after 2.0 s"


def test_global_deadline_fails_unfinished_and_unstarted_checks() -> None:
    runner = HealthCheckRunner(
        [check("stuck:a", hanging, timeout=10), check("stuck:b", hanging, timeout=10)],
        deadline=0.4,
        max_workers=1,
    )
    started = time.monotonic()
    report = runner.run()
    assert time.monotonic() - started < 2.0
    first, second = report.results
    assert first.status is Status.FAIL and first.message == "deadline of 0.4 s reached"
    assert second.status is Status.FAIL
    assert second.message == "deadline of 0.4 s reached before the check started"
    assert second.duration_s == 0.0


def test_a_hung_check_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    script = tmp_path / "hang.py"
    script.write_text(
        textwrap.dedent(
            """
            import threading
            from gruponos_ext.health.model import HealthCheck
            from gruponos_ext.health.runner import HealthCheckRunner

            def hang():
                threading.Event().wait()

            report = HealthCheckRunner([HealthCheck("stuck:x", hang, timeout=0.3)]).run()
            print(report.status.value, report.results[0].message)
            """
        )
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=20, check=True
    )
    # structlog's default configuration logs to stdout: the verdict is the last line
    assert done.stdout.strip().splitlines()[-1] == "fail timed out after 0.3 s"
    assert time.monotonic() - started < 15


# -- exceptions and sanitising ----------------------------------------------------


def test_exception_becomes_a_fail_with_type_and_sanitised_message() -> None:
    def broken() -> CheckOutcome:
        raise ConnectionError(
            f"cannot connect to postgresql://etl:{SECRET}@db.example:5432/meltano"
        )

    with capture_logs() as logs:
        report = HealthCheckRunner([check("db:connection", broken)]).run()
    result = report.results[0]
    assert result.status is Status.FAIL
    assert result.message == (
        "ConnectionError: cannot connect to postgresql://etl:***@db.example:5432/meltano"
    )
    for rendering in (render_text(report), render_json(report), repr(report), str(logs)):
        assert SECRET not in rendering


def test_known_secrets_are_scrubbed_from_messages_and_string_observed_values() -> None:
    leaky = CheckOutcome.warned(
        f"server said {SECRET}\nsecond line",
        observed_value=f"v-{SECRET}",
        details={"endpoint": f"https://u:{SECRET}@wms.example", "n": 3},
    )
    report = HealthCheckRunner([check("api:x", leaky)], redactor=Redactor.of([SECRET])).run()
    result = report.results[0]
    assert result.message == "server said ***\nsecond line"
    assert result.observed_value == "v-***"
    assert result.details == {"endpoint": "https://u:***@wms.example", "n": 3}
    assert "server said *** second line" in render_text(report)


def test_check_returning_something_else_fails_clearly() -> None:
    report = HealthCheckRunner([check("odd:x", lambda: "ok")]).run()  # type: ignore[arg-type,return-value]
    assert report.results[0].status is Status.FAIL
    assert report.results[0].message == "check returned str, expected CheckOutcome"


def test_system_exit_inside_a_check_is_that_checks_failure() -> None:
    def exits() -> CheckOutcome:
        raise SystemExit(3)

    report = HealthCheckRunner([check("exits:x", exits), check("ok:x")]).run()
    assert [r.status for r in report.results] == [Status.FAIL, Status.PASS]
    assert report.results[0].message == "SystemExit: 3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u:s3cr3t@h/db", "postgresql://u:***@h/db"),
        ("https://user:p%40ss@wms.example/api", "https://user:***@wms.example/api"),
        ("login etl:s3cr3t@db.example failed", "login etl:***@db.example failed"),
        ("connect scott/tiger@orcl:1521/XE", "connect scott/***@orcl:1521/XE"),
        ("password=s3cr3t host=x", "password=*** host=x"),
        ("PWD='s3 cr3t';", "PWD='***';"),
        ("Bearer abc.def plain", "Bearer *** plain"),
        ('{"api_key": "s3cr3t", "user": "a"}', '{"api_key": "***", "user": "a"}'),
        ("oracle_password: s3cr3t", "oracle_password: ***"),
        ("Authorization: Bearer eyJ0.abc-def", "Authorization: ***"),
        ("GET /x?a=1&sig=s3cr3t&b=2", "GET /x?a=1&sig=***&b=2"),
        (
            "POST https://hooks.slack.com/services/T0/B0/s3cr3t failed",
            "POST https://hooks.slack.com/services/*** failed",
        ),
        ("nothing to hide at db.example:5432", "nothing to hide at db.example:5432"),
        ("mail to ops@example.com", "mail to ops@example.com"),
    ],
)
def test_redaction_removes_credentials_and_keeps_the_rest(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redaction_removes_known_secret_values_longest_first() -> None:
    assert redact("tokens abc and abcdef", secrets=["abc", "abcdef", ""]) == "tokens *** and ***"


# -- aggregation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], Status.PASS),
        ([("pass", True), ("pass", True)], Status.PASS),
        ([("pass", True), ("warn", True)], Status.WARN),
        ([("pass", True), ("fail", True)], Status.FAIL),
        ([("pass", True), ("fail", False)], Status.WARN),
        ([("fail", False), ("warn", True), ("fail", True)], Status.FAIL),
        ([("skip", True), ("skip", True)], Status.PASS),
        ([("skip", True), ("warn", False)], Status.WARN),
    ],
)
def test_worst_status_wins_skip_never_worsens_and_noncritical_fail_is_warn(
    outcomes: list[tuple[str, bool]], expected: Status
) -> None:
    checks = [
        check(f"c:{i}", CheckOutcome(Status(status), "m"), critical=critical)
        for i, (status, critical) in enumerate(outcomes)
    ]
    report = HealthCheckRunner(checks).run()
    assert report.status is expected
    # each result keeps its own status; only the total is softened
    assert [r.status.value for r in report.results] == [s for s, _ in outcomes]


def test_observed_value_unit_and_component_type_are_carried_over() -> None:
    outcome = CheckOutcome.passed(
        "fast", observed_value=12.5, observed_unit="ms", component_type="datastore"
    )
    result = HealthCheckRunner(
        [check("oracle:responseTime", outcome, tags=frozenset({"db"}))]
    ).run()
    r = result.results[0]
    assert (r.observed_value, r.observed_unit, r.component_type, r.tags) == (
        12.5,
        "ms",
        "datastore",
        frozenset({"db"}),
    )


# -- selection -----------------------------------------------------------------------


def make_runner() -> HealthCheckRunner:
    return HealthCheckRunner(
        [
            check("oracle:connection", tags=frozenset({"external", "db"})),
            check("oracle:pool", tags=frozenset({"db"})),
            check("wms:api", tags=frozenset({"external"})),
            check("disk:free_space", tags=frozenset({"local"})),
        ]
    )


def ran(runner: HealthCheckRunner, **kw: list[str]) -> list[str]:
    return [r.name for r in runner.run(**kw).results]


def test_selection_by_exact_name_component_tag_and_their_union() -> None:
    runner = make_runner()
    assert ran(runner, names=["wms:api"]) == ["wms:api"]
    assert ran(runner, names=["oracle"]) == ["oracle:connection", "oracle:pool"]
    assert ran(runner, tags=["external"]) == ["oracle:connection", "wms:api"]
    assert ran(runner, names=["disk"], tags=["external"]) == [
        "oracle:connection",
        "wms:api",
        "disk:free_space",
    ]
    assert len(ran(runner)) == 4
    assert [r.name for r in runner.run(names="wms").results] == ["wms:api"]


def test_unknown_name_or_tag_is_an_error_listing_what_exists() -> None:
    runner = make_runner()
    with pytest.raises(UnknownCheckError) as info:
        runner.run(names=["oracle:connection", "orcl"])
    err = info.value
    assert isinstance(err, GruponosError)
    assert err.code == "UNKNOWN_CHECK"
    assert err.unknown_names == ("orcl",)
    assert "'orcl'" in str(err)
    for name in runner.names():
        assert name in str(err)
    with pytest.raises(UnknownCheckError, match=r"unknown tag\(s\) 'nope'; available: db, ext"):
        runner.run(tags=["nope"])


def test_add_names_and_duplicate_refusal() -> None:
    runner = HealthCheckRunner([check("a:x")])
    runner.add(check("b:y", tags=frozenset({"t"})))
    assert runner.names() == ("a:x", "b:y")
    assert runner.tags() == ("t",)
    with pytest.raises(DuplicateCheckError) as info:
        runner.add(check("a:x"))
    assert info.value.code == "DUPLICATE_CHECK"


def test_empty_runner_reports_pass_with_no_results() -> None:
    report = HealthCheckRunner().run()
    assert (report.status, report.results) == (Status.PASS, ())


@pytest.mark.parametrize("kwargs", [{"default_timeout": 0}, {"deadline": -1}, {"max_workers": 0}])
def test_invalid_runner_configuration_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        HealthCheckRunner(**kwargs)  # type: ignore[arg-type]


# -- bad return values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        (
            CheckOutcome("pass", "looks fine"),  # type: ignore[arg-type]
            "check returned status 'pass' (str), expected a Status such as Status.PASS",
        ),
        (
            CheckOutcome("ok", "x"),  # type: ignore[arg-type]
            "check returned status 'ok' (str), expected a Status such as Status.PASS",
        ),
        (
            CheckOutcome(Status.PASS, None),
            "check returned a message of type NoneType, expected str",
        ),  # type: ignore[arg-type]
        (
            CheckOutcome(Status.PASS, "x", details=None),  # type: ignore[arg-type]
            "check returned details of type NoneType, expected a mapping",
        ),
        (
            CheckOutcome(Status.PASS, "x", observed_value=float("nan")),
            "check returned the observed value nan, expected a finite number",
        ),
        (
            CheckOutcome(Status.PASS, "x", observed_value=object()),  # type: ignore[arg-type]
            "check returned an observed value of type object, expected a number, text or bool",
        ),
        (
            CheckOutcome(Status.PASS, "x", observed_unit=5),  # type: ignore[arg-type]
            "check returned observed_unit of type int, expected str",
        ),
        (None, "check returned NoneType, expected CheckOutcome"),
        ("pass", "check returned str, expected CheckOutcome"),
    ],
)
def test_a_bad_return_value_is_that_checks_fail_and_the_run_goes_on(
    returned: object, message: str
) -> None:
    report = HealthCheckRunner(
        [check("bad:x", lambda: returned), check("good:y")]  # type: ignore[arg-type,return-value]
    ).run()
    bad, good = report.results
    assert (bad.status, bad.message) == (Status.FAIL, message)
    assert good.status is Status.PASS
    assert report.status is Status.FAIL
    render_text(report)
    render_json(report)


def test_checks_that_cannot_get_a_thread_fail_and_the_run_still_reports() -> None:
    # A real refusal: no thread can get a stack this size ("can't start new thread").
    previous = threading.stack_size(2**45)
    try:
        report = HealthCheckRunner([check("nothread:x"), check("nothread:y")]).run()
    finally:
        threading.stack_size(previous)
    assert [(r.status, r.message) for r in report.results] == [
        (Status.FAIL, "check not started: can't start new thread"),
    ] * 2

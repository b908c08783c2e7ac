"""The deadline helper: a bounded call returns, raises, or is abandoned on time."""

from __future__ import annotations

import threading
import time

import pytest

from gruponos_ext.core.deadline import (
    Deadline,
    DeadlineExceeded,
    call_within,
    format_seconds,
    start,
)


def test_a_call_that_returns_in_time_gives_its_value() -> None:
    assert call_within(lambda: "ok", 5.0, what="quick call") == "ok"


def test_a_call_that_raises_raises_its_own_exception() -> None:
    def boom() -> None:
        raise KeyError("inner")

    with pytest.raises(KeyError, match="inner"):
        call_within(boom, 5.0, what="failing call")


def test_a_call_that_never_returns_is_abandoned_after_its_timeout() -> None:
    never = threading.Event()
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as caught:
        call_within(never.wait, 0.3, what="connect to db:1521")
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 2.0
    assert caught.value.message == "connect to db:1521 timed out after 0.3 s"
    assert caught.value.code == "DEADLINE_EXCEEDED"
    never.set()


def test_the_abandoned_thread_is_a_daemon_so_it_never_blocks_exit() -> None:
    never = threading.Event()
    pending = start(never.wait, name="hung")
    assert pending.thread.daemon
    assert not pending.wait(0.05)
    with pytest.raises(RuntimeError, match="still running"):
        pending.result()
    never.set()
    assert pending.wait(2.0)
    assert pending.result() is True


def test_pending_calls_notify_one_shared_condition_when_they_end() -> None:
    condition = threading.Condition()
    gates = [threading.Event() for _ in range(3)]
    with condition:
        pendings = [start(g.wait, name=f"p{i}", notify=condition) for i, g in enumerate(gates)]
        for gate in gates:
            gate.set()
        assert condition.wait_for(lambda: all(p.done for p in pendings), timeout=5.0)
    assert all(p.duration >= 0 for p in pendings)


def test_system_exit_in_a_call_is_the_calls_failure_not_the_callers() -> None:
    def exits() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        call_within(exits, 5.0, what="exiting call")


def test_deadline_budgets_nested_waits() -> None:
    deadline = Deadline.after(0.2)
    assert 0 < deadline.cap(10) <= 0.2
    assert deadline.cap(0.01) == 0.01
    assert not deadline.expired
    time.sleep(0.25)
    assert deadline.expired and deadline.remaining() == 0.0


@pytest.mark.parametrize(("value", "text"), [(2, "2.0"), (0.25, "0.25"), (10.5, "10.5")])
def test_format_seconds_is_short_but_never_an_integer(value: float, text: str) -> None:
    assert format_seconds(value) == text

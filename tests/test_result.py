from __future__ import annotations

import pytest

from gruponos_ext import core
from gruponos_ext.core.result import FlextResult, Result, UnwrapFailedError


def test_ok_carries_value_and_reads_as_success() -> None:
    result = Result.ok(42)
    assert result.success and result.is_success and bool(result)
    assert not result.failure and not result.is_failure
    assert result.value == 42 and result.data == 42 and result.unwrap() == 42
    assert result.error is None and result.error_code is None


def test_fail_carries_error_code_and_data_and_reads_as_failure() -> None:
    result: Result[int] = Result.fail("boom", error_code="X_FAILED", error_data={"k": 1})
    assert result.failure and result.is_failure and not result
    assert result.error == "boom" and result.error_code == "X_FAILED"
    assert result.error_data == {"k": 1}
    assert result.unwrap_or(7) == 7


def test_value_of_a_failure_raises_a_clear_error_chained_to_its_cause() -> None:
    cause = ValueError("root cause")
    result: Result[int] = Result.fail("it failed", "CODE", exception=cause)
    with pytest.raises(UnwrapFailedError, match=r"failed Result \[CODE\]: it failed") as info:
        _ = result.value
    assert info.value.__cause__ is cause
    with pytest.raises(UnwrapFailedError):
        result.unwrap()
    with pytest.raises(UnwrapFailedError):
        _ = result.data


def test_fail_needs_a_message() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        Result.fail("")


def test_result_is_immutable() -> None:
    result = Result.ok(1)
    with pytest.raises(AttributeError, match="immutable"):
        result._value = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Result()


def test_map_transforms_success_and_passes_failure_through() -> None:
    assert Result.ok(2).map(lambda v: v * 3).value == 6
    failed: Result[int] = Result.fail("no", "C")
    assert failed.map(lambda v: v * 3) is failed


def test_map_turns_an_exception_into_a_failure() -> None:
    def boom(_: int) -> int:
        raise KeyError("missing")

    result = Result.ok(1).map(boom)
    assert result.failure and result.error_code == "KeyError"


def test_flat_map_chains_results() -> None:
    def half(v: int) -> Result[int]:
        return Result.ok(v // 2) if v % 2 == 0 else Result.fail("odd", "ODD")

    assert Result.ok(8).flat_map(half).flat_map(half).value == 2
    assert Result.ok(6).flat_map(half).flat_map(half).error_code == "ODD"


def test_repr_is_readable() -> None:
    assert repr(Result.ok([1])) == "Result.ok([1])"
    assert repr(Result.fail("bad", "E")) == "Result.fail('bad', error_code='E')"


def test_equality_compares_outcomes() -> None:
    assert Result.ok(1) == Result.ok(1)
    assert Result.ok(1) != Result.ok(2)
    assert Result.fail("a", "C") == Result.fail("a", "C")
    assert Result.fail("a", "C") != Result.ok(1)


def test_flext_result_is_the_same_type_and_exported_from_core() -> None:
    assert FlextResult is Result is core.FlextResult
    assert FlextResult.ok("x").success


def test_from_exception_takes_the_error_code_of_our_errors() -> None:
    error = core.ServiceNotFoundError("svc", [])
    result: Result[object] = Result.from_exception(error)
    assert result.error_code == "SERVICE_NOT_FOUND"
    assert result.exception is error

"""An immutable success-or-failure value, FlextResult-style.

Infrastructure operations (resolving a service, pinging a database, sending an
alert) report expected failures as a :class:`Result` instead of raising, so a
caller can decide what a failure means for it. ``FlextResult`` is an alias for
users coming from the FLEXT ecosystem, where the seed API was written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, NoReturn, TypeVar, final

T = TypeVar("T")
U = TypeVar("U")

__all__ = ["FlextResult", "Result", "UnwrapFailedError"]


class UnwrapFailedError(RuntimeError):
    """Raised when the value of a failed :class:`Result` is asked for.

    ``error_code`` and ``error`` are those of the failed result; ``__cause__``
    is the exception the failure was built from, if any.
    """

    def __init__(self, error: str, error_code: str | None) -> None:
        code = f" [{error_code}]" if error_code else ""
        super().__init__(f"called value on a failed Result{code}: {error}")
        self.error = error
        self.error_code = error_code


@final
class Result(Generic[T]):
    """The outcome of an operation: a value, or an error message with a code.

    Build one with :meth:`ok` or :meth:`fail`; never mutate it. A result is
    truthy when it succeeded, so ``if result:`` reads naturally.

    >>> Result.ok(2).map(lambda v: v * 21).value
    42
    >>> Result.fail("no such service", error_code="SERVICE_NOT_FOUND").unwrap_or(0)
    0
    """

    __slots__ = ("_error", "_error_code", "_error_data", "_exception", "_success", "_value")

    _value: T | None
    _error: str | None
    _error_code: str | None
    _error_data: Mapping[str, Any]
    _exception: BaseException | None
    _success: bool

    def __init__(self) -> None:  # pragma: no cover - guarded, use ok()/fail()
        raise TypeError("build a Result with Result.ok(value) or Result.fail(error)")

    @classmethod
    def ok(cls, value: T) -> Result[T]:
        """A successful result carrying ``value``."""
        result: Result[T] = object.__new__(cls)
        object.__setattr__(result, "_success", True)
        object.__setattr__(result, "_value", value)
        object.__setattr__(result, "_error", None)
        object.__setattr__(result, "_error_code", None)
        object.__setattr__(result, "_error_data", {})
        object.__setattr__(result, "_exception", None)
        return result

    @classmethod
    def fail(
        cls,
        error: str,
        error_code: str | None = None,
        error_data: Mapping[str, Any] | None = None,
        *,
        exception: BaseException | None = None,
    ) -> Result[T]:
        """A failed result with a human-readable ``error`` and a stable ``error_code``.

        ``exception`` keeps the exception the failure came from, so
        :meth:`unwrap` can chain it; it never shows in the repr.
        """
        if not error:
            raise ValueError("a failed Result needs a non-empty error message")
        result: Result[T] = object.__new__(cls)
        object.__setattr__(result, "_success", False)
        object.__setattr__(result, "_value", None)
        object.__setattr__(result, "_error", error)
        object.__setattr__(result, "_error_code", error_code)
        object.__setattr__(result, "_error_data", dict(error_data or {}))
        object.__setattr__(result, "_exception", exception)
        return result

    @classmethod
    def from_exception(cls, exc: BaseException, error_code: str | None = None) -> Result[T]:
        """A failed result from an exception, taking its ``code`` attribute if it has one."""
        code = error_code or getattr(exc, "code", None) or type(exc).__name__
        return cls.fail(str(exc) or type(exc).__name__, code, exception=exc)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Result is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Result is immutable")

    # -- state -------------------------------------------------------------
    @property
    def success(self) -> bool:
        """True when the operation succeeded."""
        return self._success

    is_success = success

    @property
    def failure(self) -> bool:
        """True when the operation failed."""
        return not self._success

    is_failure = failure

    def __bool__(self) -> bool:
        return self._success

    # -- payload -----------------------------------------------------------
    @property
    def value(self) -> T:
        """The value of a success; raises :class:`UnwrapFailedError` on a failure."""
        if not self._success:
            self._raise_unwrap()
        return self._value  # type: ignore[return-value]

    data = value

    @property
    def error(self) -> str | None:
        """The error message of a failure, ``None`` on a success."""
        return self._error

    @property
    def error_code(self) -> str | None:
        """The stable code of a failure, ``None`` on a success."""
        return self._error_code

    @property
    def error_data(self) -> Mapping[str, Any]:
        """Structured details of a failure (empty on a success)."""
        return self._error_data

    @property
    def exception(self) -> BaseException | None:
        """The exception a failure was built from, if any."""
        return self._exception

    def unwrap(self) -> T:
        """The value; raises :class:`UnwrapFailedError` (chained to the cause) on a failure."""
        return self.value

    def unwrap_or(self, default: U) -> T | U:
        """The value of a success, else ``default``."""
        return self._value if self._success else default  # type: ignore[return-value]

    def _raise_unwrap(self) -> NoReturn:
        raise UnwrapFailedError(self._error or "", self._error_code) from self._exception

    # -- composition -------------------------------------------------------
    def map(self, fn: Callable[[T], U]) -> Result[U]:
        """Apply ``fn`` to the value of a success; a failure passes through.

        An exception raised by ``fn`` becomes a failure rather than escaping.
        """
        if not self._success:
            return self  # type: ignore[return-value]
        try:
            return Result.ok(fn(self._value))  # type: ignore[arg-type]
        except Exception as exc:
            return Result.from_exception(exc)

    def flat_map(self, fn: Callable[[T], Result[U]]) -> Result[U]:
        """Chain an operation that itself returns a Result; a failure passes through."""
        if not self._success:
            return self  # type: ignore[return-value]
        return fn(self._value)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        if self._success != other._success:
            return False
        if self._success:
            return bool(self._value == other._value)
        return (self._error, self._error_code) == (other._error, other._error_code)

    def __hash__(self) -> int:
        return hash((self._success, self._error, self._error_code))

    def __repr__(self) -> str:
        if self._success:
            return f"Result.ok({self._value!r})"
        code = f", error_code={self._error_code!r}" if self._error_code else ""
        return f"Result.fail({self._error!r}{code})"


FlextResult = Result

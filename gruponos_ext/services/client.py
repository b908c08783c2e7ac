"""What a client of an outside system is made of: its configuration, a breaker, a redactor.

:class:`ServiceClient` is the base of
:class:`~gruponos_ext.services.oracle.manager.OracleConnectionManager` and
:class:`~gruponos_ext.services.wms.client.WmsApiClient`: built from a
checked configuration (directly, or from the settings with
:meth:`~ServiceClient.from_settings`), its calls optionally go through a
:class:`~gruponos_ext.services.breaker.CircuitBreaker`, and what the system
says is cleaned by a :class:`~gruponos_ext.core.redaction.Redactor` before
any message quotes it. Nothing is opened when a client is built.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from gruponos_ext.core.redaction import Redactor
from gruponos_ext.core.result import Result

if TYPE_CHECKING:
    from typing_extensions import Self

    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.services.breaker import CircuitBreaker, CircuitOpenError

__all__ = ["ClientConfig", "ServiceClient"]


class ClientConfig(Protocol):
    """The credentials of a client's configuration (``OracleConfig``, ``WmsConfig``)."""

    @property
    def user(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...


ConfigT = TypeVar("ConfigT", bound=ClientConfig)
T = TypeVar("T")


class ServiceClient(ABC, Generic[ConfigT]):
    """A client of one outside system, configured by a ``ConfigT``.

    ``redactor`` is what the configuration knows of its secrets (the container
    passes :meth:`GruponosMeltanoSettings.redactor`, which knows every
    secret); the client adds its own user/password pair, so an echoed login
    (an ``Authorization`` header, a driver's error text) is caught too.
    """

    def __init__(
        self,
        config: ConfigT,
        *,
        breaker: CircuitBreaker | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self._config = config
        self._breaker = breaker
        base = redactor if redactor is not None else Redactor()
        self._redact = base.including(credentials=[(config.user, config.password)])
        # Guards what the client creates on first use (a pool, an HTTP opener).
        self._lazy_lock = threading.Lock()

    @classmethod
    @abstractmethod
    def config_from_settings(cls, settings: GruponosMeltanoSettings) -> ConfigT:
        """The configuration the settings describe (raises when they describe none)."""

    @classmethod
    def from_settings(
        cls,
        settings: GruponosMeltanoSettings,
        *,
        breaker: CircuitBreaker | None = None,
        redactor: Redactor | None = None,
    ) -> Self:
        """A client of what the settings name (see :meth:`config_from_settings`)."""
        return cls(cls.config_from_settings(settings), breaker=breaker, redactor=redactor)

    @property
    def config(self) -> ConfigT:
        return self._config

    @property
    def breaker(self) -> CircuitBreaker | None:
        return self._breaker

    def _guarded(self, call: Callable[[], T]) -> T:
        """``call()``, through the breaker when there is one (it may raise ``CircuitOpenError``)."""
        return call() if self._breaker is None else self._breaker.call(call)

    @staticmethod
    def _refused(exc: CircuitOpenError, attempt: str) -> Result[Any]:
        """The failed Result of an ``attempt`` the breaker refused: ``not <attempt>: <why>``."""
        return Result.fail(f"not {attempt}: {exc.message}", exc.code, exc.details, exception=exc)

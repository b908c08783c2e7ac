"""Recipes: how each service is made, apart from the instances made from them.

A :class:`Registration` is a frozen record (name, lifetime, factory, cleanup,
health check, description), checked once when it is made: the name must be
a non-empty string and the factory must take no argument or the container.
A :class:`Registry` keeps the current recipe of every name, in registration
order. It knows nothing of instances, threads or disposal: that is the
:class:`~gruponos_ext.core.container.Container`, which compiles each recipe
into a creator when it is registered.

>>> registry = Registry()
>>> registry.add(Registration.of("clock", Lifetime.TRANSIENT, lambda: 42))
>>> registry.add(Registration.of("db", Lifetime.SINGLETON, lambda container: object()))
>>> [(r.name, r.lifetime.value, r.takes_container) for r in registry]
[('clock', 'transient', False), ('db', 'singleton', True)]
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from gruponos_ext.core.errors import RegistrationError

__all__ = ["Cleanup", "Factory", "Lifetime", "Registration", "Registry"]

Factory = Callable[..., Any]
Cleanup = Callable[[Any], object]


class Lifetime(str, Enum):
    """How long a resolved service lives."""

    SINGLETON = "singleton"
    TRANSIENT = "transient"
    INSTANCE = "instance"


@dataclass(frozen=True, slots=True)
class Registration:
    """One service recipe, immutable once made.

    ``takes_container`` is decided here, from the factory's signature, so
    resolution never inspects it again. Build one with :meth:`of`, which
    checks the name and the factory.
    """

    name: str
    lifetime: Lifetime
    factory: Factory | None
    takes_container: bool = False
    cleanup: Cleanup | None = None
    health_check: object | None = None
    description: str = ""

    @classmethod
    def of(
        cls,
        name: str,
        lifetime: Lifetime,
        factory: Factory | None = None,
        cleanup: Cleanup | None = None,
        health_check: object | None = None,
        description: str = "",
    ) -> Registration:
        """A checked recipe.

        The name is a non-empty string; a singleton or a transient has a
        factory taking nothing or the container, an instance has none (the
        container keeps its value); a transient has no cleanup.
        """
        name = _checked_name(name)
        if lifetime is Lifetime.INSTANCE:
            takes = False
            if factory is not None:
                raise RegistrationError(
                    f"instance {name!r} takes its value, not a factory",
                    details={"service": name},
                )
        else:
            takes = _takes_container(name, factory)
        if cleanup is not None and lifetime is Lifetime.TRANSIENT:
            raise RegistrationError(
                f"transient {name!r} cannot have a cleanup: nothing keeps its instances",
                details={"service": name},
            )
        return cls(name, lifetime, factory, takes, cleanup, health_check, description)


def _checked_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise RegistrationError(
            "a service name must be a non-empty string", details={"service": repr(name)}
        )
    return str(name)  # a Key is stored as the plain name it equals


def _takes_container(name: str, factory: Factory | None) -> bool:
    """Whether ``factory`` wants the container; refuse any other signature."""
    if not callable(factory):
        raise RegistrationError(
            f"factory for {name!r} is a {type(factory).__qualname__}, not a callable; "
            "to register an existing object use register_instance()",
            details={"service": name},
        )
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # some builtins have no signature: call them bare
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in signature.parameters.values() if p.default is p.empty]
    keyword_only = [p.name for p in required if p.kind is inspect.Parameter.KEYWORD_ONLY]
    required_positional = [p.name for p in required if p.kind in positional]
    if keyword_only or len(required_positional) > 1:
        params = ", ".join(required_positional + keyword_only)
        raise RegistrationError(
            f"factory for {name!r} requires arguments ({params}); a factory takes no "
            "argument or takes the container as its only argument",
            details={"service": name, "parameters": required_positional + keyword_only},
        )
    return len(required_positional) == 1


class Registry:
    """The current recipe of every service name, in registration order.

    Adding a name again replaces its recipe in place (its position stays).
    """

    __slots__ = ("_recipes",)

    def __init__(self, registrations: Iterable[Registration] = ()) -> None:
        self._recipes: dict[str, Registration] = {r.name: r for r in registrations}

    def add(self, registration: Registration) -> Registration | None:
        """Make ``registration`` current; return the recipe it replaced, if any."""
        previous = self._recipes.get(registration.name)
        self._recipes[registration.name] = registration
        return previous

    def remove(self, name: str) -> None:
        """Forget ``name`` (used to undo a temporary registration)."""
        self._recipes.pop(name, None)

    def get(self, name: str) -> Registration | None:
        """The current recipe for ``name``, or None."""
        return self._recipes.get(name)

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._recipes)

    def copy(self) -> Registry:
        """An independent registry with the same recipes (records are shared: immutable)."""
        return Registry(tuple(self._recipes.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._recipes

    def __len__(self) -> int:
        return len(self._recipes)

    def __iter__(self) -> Iterator[Registration]:
        return iter(tuple(self._recipes.values()))

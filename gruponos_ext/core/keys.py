"""Typed service keys: a service name that also tells mypy what it resolves to.

A :class:`Key` *is* the name (a ``str``), so a service registered as
``"settings"`` is the same service as ``Key[Settings]("settings")``: the
seed's string names keep working, and a factory that resolves by key gets a
typed value without a ``# type: ignore``. The type is for the type checker
only; :meth:`~gruponos_ext.core.container.Container.resolve_typed` checks at
run time.

>>> from gruponos_ext.core.container import Container
>>> PORT: Key[int] = Key("port")
>>> container = Container()
>>> container.register_instance("port", 1521)
>>> container.resolve(PORT) + 1          # mypy sees an int
1522
>>> container.resolve("port") == container.resolve(PORT)
True
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["Key"]

T = TypeVar("T")


class Key(str, Generic[T]):
    """The name of a service whose instances are ``T`` (a ``str``, equal to the name)."""

    __slots__ = ()

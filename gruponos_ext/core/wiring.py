"""The wiring report: what a probe of the graph found, as data.

Factories resolve their dependencies at call time, so the graph is only
known by running them: :meth:`Container.validate` does that in a throw-away
probing child and hands this module what it saw (each service's lifetime,
every edge, the error each failed resolution raised). :func:`report_wiring`
turns that into a :class:`WiringReport`: missing dependencies with their path
and near names, cycles (each once, whatever service they were entered from),
failing factories, and a warning for each singleton that captures a
transient. This module depends on the registry and the errors only, never on
the container.

>>> from gruponos_ext.core.errors import ServiceNotFoundError
>>> report = report_wiring(
...     {"job": Lifetime.TRANSIENT},
...     {"job": {"db": None}},
...     [("job", ServiceNotFoundError("db", ["dbs"], ["job"]))],
... )
>>> report.ok, report.errors
(False, ("'job' needs 'db', which is not registered (did you mean 'dbs'?); path: job -> db",))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gruponos_ext.core.errors import (
    CircularDependencyError,
    ContainerError,
    ServiceCreationError,
    ServiceNotFoundError,
    format_path,
)
from gruponos_ext.core.registry import Lifetime

__all__ = ["FactoryFailure", "MissingDependency", "WiringReport", "report_wiring"]


@dataclass(frozen=True, slots=True)
class MissingDependency:
    """``service`` resolves ``dependency``, which nobody registered."""

    service: str
    dependency: str
    path: tuple[str, ...]
    suggestions: tuple[str, ...] = ()

    def __str__(self) -> str:
        hint = (
            f" (did you mean {', '.join(map(repr, self.suggestions))}?)" if self.suggestions else ""
        )
        return (
            f"{self.service!r} needs {self.dependency!r}, which is not registered{hint}; "
            f"path: {format_path((*self.path, self.dependency))}"
        )


@dataclass(frozen=True, slots=True)
class FactoryFailure:
    """The factory of ``service`` raised (or recursed too deep) while resolving ``path``."""

    service: str
    path: tuple[str, ...]
    error: str

    def __str__(self) -> str:
        return f"factory of {self.service!r} failed ({format_path(self.path)}): {self.error}"


@dataclass(frozen=True, slots=True)
class WiringReport:
    """The result of :meth:`Container.validate`: the graph and what is wrong with it."""

    lifetimes: Mapping[str, Lifetime]
    edges: Mapping[str, tuple[str, ...]]
    missing: tuple[MissingDependency, ...]
    cycles: tuple[tuple[str, ...], ...]
    failures: tuple[FactoryFailure, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when nothing is missing, cyclic or failing (warnings allowed)."""
        return not (self.missing or self.cycles or self.failures)

    @property
    def errors(self) -> tuple[str, ...]:
        """Every problem as one readable line each."""
        return (
            *(str(m) for m in self.missing),
            *(f"circular dependency: {format_path(c)}" for c in self.cycles),
            *(str(f) for f in self.failures),
        )

    def render_text(self) -> str:
        """The report for people: counts, one line per error and warning, a verdict."""
        lines = [
            f"{len(self.lifetimes)} services, {sum(map(len, self.edges.values()))} dependencies"
        ]
        lines += [f"error: {e}" for e in self.errors]
        lines += [f"warning: {w}" for w in self.warnings]
        lines.append("wiring OK" if self.ok else f"wiring has {len(self.errors)} error(s)")
        return "\n".join(lines)


def canonical_cycle(cycle: tuple[str, ...]) -> tuple[str, ...]:
    """The same cycle found from another entry point compares equal.

    >>> canonical_cycle(("b", "c", "a", "b"))
    ('a', 'b', 'c', 'a')
    """
    ring = cycle[:-1]
    if not ring:
        return cycle
    start = ring.index(min(ring))
    rotated = ring[start:] + ring[:start]
    return (*rotated, rotated[0])


def report_wiring(
    lifetimes: Mapping[str, Lifetime],
    edges: Mapping[str, Mapping[str, None]],
    failures: Iterable[tuple[str, ContainerError]],
    *,
    disposal_error: str | None = None,
) -> WiringReport:
    """The report for a probed graph.

    ``lifetimes`` has every registered service, ``edges`` what each one
    resolved (in order), ``failures`` the error that resolving each failed
    root raised, and ``disposal_error`` what disposing the probe reported.
    """
    missing: dict[tuple[str, str], MissingDependency] = {}
    cycles: dict[tuple[str, ...], None] = {}
    failed: dict[str, FactoryFailure] = {}
    for root, exc in failures:
        if isinstance(exc, ServiceNotFoundError):
            requirer = exc.path[-1] if exc.path else root
            missing.setdefault(
                (requirer, exc.service),
                MissingDependency(requirer, exc.service, exc.path, exc.suggestions),
            )
        elif isinstance(exc, CircularDependencyError):
            cycles.setdefault(canonical_cycle(exc.cycle), None)
        elif isinstance(exc, ServiceCreationError):
            failed.setdefault(exc.service, FactoryFailure(exc.service, exc.path, exc.reason))
        else:  # too deep (a runaway factory); disposed/type errors cannot occur in a probe
            path = tuple(exc.details.get("path") or (root,))
            failed.setdefault(path[-1], FactoryFailure(path[-1], path, exc.message))
    warnings = [
        f"singleton {name!r} holds transient {dep!r}: it is built once and never refreshed; "
        f"make {name!r} transient or {dep!r} a singleton"
        for name, deps in edges.items()
        if lifetimes.get(name) is Lifetime.SINGLETON
        for dep in deps
        if lifetimes.get(dep) is Lifetime.TRANSIENT
    ]
    if disposal_error:
        warnings.append(f"cleanup while validating: {disposal_error}")
    return WiringReport(
        lifetimes=dict(lifetimes),
        edges={name: tuple(deps) for name, deps in edges.items()},
        missing=tuple(missing.values()),
        cycles=tuple(cycles),
        failures=tuple(failed.values()),
        warnings=tuple(warnings),
    )

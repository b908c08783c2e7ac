"""Whole-graph validation and dependency-graph export for a :class:`Container`.

Factories resolve their dependencies at call time, so the graph is only known
by running them. :func:`validate_wiring` does that in a throw-away child
container (same recipes, nothing created, disposed afterwards): the real
container is never touched. Service constructors in this project open
nothing, which is what makes probing them safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gruponos_ext.core.container import Container, Lifetime
from gruponos_ext.core.errors import (
    CircularDependencyError,
    ContainerError,
    ServiceCreationError,
    ServiceNotFoundError,
    format_path,
)

__all__ = [
    "FactoryFailure",
    "MissingDependency",
    "WiringReport",
    "to_dot",
    "to_mermaid",
    "validate_wiring",
]


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
    """The factory of ``service`` raised while resolving ``path``."""

    service: str
    path: tuple[str, ...]
    error: str

    def __str__(self) -> str:
        return f"factory of {self.service!r} failed ({format_path(self.path)}): {self.error}"


@dataclass(frozen=True, slots=True)
class WiringReport:
    """The result of :func:`validate_wiring`: the graph and what is wrong with it."""

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
        lines = [
            f"{len(self.lifetimes)} services, {sum(map(len, self.edges.values()))} dependencies"
        ]
        lines += [f"error: {e}" for e in self.errors]
        lines += [f"warning: {w}" for w in self.warnings]
        lines.append("wiring OK" if self.ok else f"wiring has {len(self.errors)} error(s)")
        return "\n".join(lines)


def _canonical_cycle(cycle: tuple[str, ...]) -> tuple[str, ...]:
    """The same cycle found from another entry point compares equal."""
    ring = cycle[:-1]
    start = ring.index(min(ring))
    rotated = ring[start:] + ring[:start]
    return (*rotated, rotated[0])


def validate_wiring(container: Container) -> WiringReport:
    """Resolve every recipe in a child container and report the graph and its faults.

    Finds missing dependencies (with the path and near names), cycles (the
    whole path, each reported once), factories that fail, and warns about a
    singleton that captures a transient (it would never be refreshed).
    """
    child = container._child()
    lifetimes = {r.name: r.lifetime for r in child.registrations()}
    edges: dict[str, dict[str, None]] = {name: {} for name in lifetimes}
    resolve = Container.resolve.__get__(child)

    def recording_resolve(name: str) -> Any:
        path = child._path()
        if path:
            edges.setdefault(path[-1], {})[name] = None
        return resolve(name)

    # Factories call container.resolve(); on this throw-away child only, that records the edge.
    child.resolve = recording_resolve  # type: ignore[method-assign]

    missing: dict[tuple[str, str], MissingDependency] = {}
    cycles: dict[tuple[str, ...], None] = {}
    failures: dict[str, FactoryFailure] = {}
    for name in lifetimes:
        try:
            resolve(name)
        except ServiceNotFoundError as exc:
            requirer = exc.path[-1] if exc.path else name
            missing.setdefault(
                (requirer, exc.service),
                MissingDependency(requirer, exc.service, exc.path, exc.suggestions),
            )
        except CircularDependencyError as exc:
            cycles.setdefault(_canonical_cycle(exc.cycle), None)
        except ServiceCreationError as exc:
            cause = exc.__cause__
            reason = f"{type(cause).__name__}: {cause}" if cause is not None else exc.message
            failures.setdefault(exc.service, FactoryFailure(exc.service, exc.path, reason))
        except ContainerError as exc:  # pragma: no cover - disposed/type errors cannot occur here
            failures.setdefault(name, FactoryFailure(name, (name,), exc.message))

    warnings = [
        f"singleton {name!r} holds transient {dep!r}: it is built once and never refreshed; "
        f"make {name!r} transient or {dep!r} a singleton"
        for name, deps in edges.items()
        if lifetimes.get(name) is Lifetime.SINGLETON
        for dep in deps
        if lifetimes.get(dep) is Lifetime.TRANSIENT
    ]
    disposal = child.dispose()
    if disposal.failure:
        warnings.append(f"cleanup while validating: {disposal.error}")
    return WiringReport(
        lifetimes=lifetimes,
        edges={name: tuple(deps) for name, deps in edges.items()},
        missing=tuple(missing.values()),
        cycles=tuple(cycles),
        failures=tuple(failures.values()),
        warnings=tuple(warnings),
    )


def _node_ids(report: WiringReport) -> dict[str, str]:
    names = dict.fromkeys(report.lifetimes)
    for deps in report.edges.values():
        names.update(dict.fromkeys(deps))
    return {name: f"s{i}" for i, name in enumerate(names)}


def to_mermaid(report: WiringReport) -> str:
    """The dependency graph as a Mermaid flowchart (arrows point to dependencies)."""
    ids = _node_ids(report)
    lines = ["graph TD"]
    for name, node in ids.items():
        lifetime = report.lifetimes.get(name)
        label = f"{name}<br/>{lifetime.value}" if lifetime else f"{name}<br/>MISSING"
        label = label.replace('"', "#quot;")
        lines.append(f'    {node}["{label}"]' if lifetime else f'    {node}{{{{"{label}"}}}}')
    for name, deps in report.edges.items():
        lines += [f"    {ids[name]} --> {ids[dep]}" for dep in deps]
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(report: WiringReport) -> str:
    """The dependency graph in Graphviz DOT (arrows point to dependencies)."""
    shapes = {Lifetime.SINGLETON: "box", Lifetime.TRANSIENT: "ellipse", Lifetime.INSTANCE: "note"}
    lines = ["digraph services {", "    rankdir=LR;"]
    for name in _node_ids(report):
        lifetime = report.lifetimes.get(name)
        if lifetime is None:
            attrs = f"shape=octagon, style=dashed, label={_dot_quote(name + ' (missing)')}"
        else:
            label = _dot_quote(f"{name} ({lifetime.value})")
            attrs = f"shape={shapes[lifetime]}, label={label}"
        lines.append(f"    {_dot_quote(name)} [{attrs}];")
    for name, deps in report.edges.items():
        lines += [f"    {_dot_quote(name)} -> {_dot_quote(dep)};" for dep in deps]
    lines.append("}")
    return "\n".join(lines) + "\n"

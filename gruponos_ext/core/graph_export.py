"""Drawing a :class:`~gruponos_ext.core.wiring.WiringReport`: Mermaid and Graphviz DOT.

Arrows point from a service to what it needs; a dependency nobody registered
is drawn as its own, marked node. Depends on the report only.

>>> from gruponos_ext.core.registry import Lifetime
>>> from gruponos_ext.core.wiring import report_wiring
>>> report = report_wiring({"db": Lifetime.SINGLETON, "job": Lifetime.TRANSIENT},
...                        {"db": {}, "job": {"db": None}}, [])
>>> print(to_mermaid(report), end="")
graph TD
    s0["db<br/>singleton"]
    s1["job<br/>transient"]
    s1 --> s0
"""

from __future__ import annotations

from typing import Literal

from gruponos_ext.core.registry import Lifetime
from gruponos_ext.core.wiring import WiringReport

__all__ = ["GraphFormat", "render_graph", "to_dot", "to_mermaid"]

GraphFormat = Literal["mermaid", "dot"]


def render_graph(report: WiringReport, format: str) -> str:
    """``report`` drawn as ``"mermaid"`` or ``"dot"`` text; ValueError for another format."""
    if format == "mermaid":
        return to_mermaid(report)
    if format == "dot":
        return to_dot(report)
    raise ValueError(f"unknown graph format {format!r}; use 'mermaid' or 'dot'")


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

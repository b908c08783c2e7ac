"""``services``, ``graph`` and ``config``: what the extension wires and reads."""

from __future__ import annotations

import click

from gruponos_ext.extension.commands.session import (
    active_profile,
    booted,
    emit_json,
    load_settings,
    profile_line,
)
from gruponos_ext.extension.output import ExitCode

__all__ = ["config", "graph", "services"]


def services(*, output_format: str) -> int:
    """The services of the active profile: name, lifetime, cleanup, check, description."""
    with booted() as container:
        infos = container.services()
    if output_format == "json":
        emit_json(
            [
                {
                    "name": i.name,
                    "lifetime": i.lifetime.value,
                    "state": i.state,
                    "cleanup": i.has_cleanup,
                    "health_check": i.has_health_check,
                    "description": i.description,
                }
                for i in infos
            ]
        )
        return ExitCode.OK
    width = max((len(i.name) for i in infos), default=4)
    for i in infos:
        extras = ", ".join(
            x for x, on in (("cleanup", i.has_cleanup), ("check", i.has_health_check)) if on
        )
        click.echo(f"{i.name:<{width}}  {i.lifetime.value:<9}  {extras:<14}  {i.description}")
    return ExitCode.OK


def graph(*, output_format: str) -> int:
    """The service dependency graph as Mermaid or Graphviz DOT."""
    with booted() as container:
        click.echo(container.graph(output_format), nl=False)
    return ExitCode.OK


def config(*, output_format: str) -> int:
    """Every setting's effective value (secrets masked) and source, and the profile."""
    settings = load_settings()
    choice = active_profile(settings=settings)
    values = settings.masked_dump()
    sources = settings.describe_sources()
    if output_format == "json":
        document = {k: {"value": v, "source": sources[k]} for k, v in values.items()}
        emit_json({**document, "profile": choice.to_dict()})
        return ExitCode.OK
    click.echo(profile_line(choice))
    width = max(len(k) for k in values)
    for key, value in values.items():
        shown = "" if value is None else value
        click.echo(f"{key:<{width}}  {shown!s:<40}  ({sources[key]})")
    return ExitCode.OK

"""What ``gruponos_extension describe`` prints, without importing the EDK.

``meltano.edk.extension`` costs ~150 ms to import (devtools); describe must
stay well under that, so the catalogue lives here as plain data and renders
the same JSON/YAML as the EDK's ``describe_formatted`` (a test pins that).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["COMMANDS", "EXTENSION_DESCRIPTION", "EXTENSION_NAME", "describe_dict", "render"]

EXTENSION_NAME = "gruponos_extension"
EXTENSION_DESCRIPTION = (
    "GrupoNOS infrastructure for Meltano: validate wiring, run health checks, "
    "guard and dispose tap/target runs"
)
COMMANDS: tuple[str, ...] = (
    "describe",
    "initialize",
    "invoke",
    "validate",
    "health",
    "preflight",
    "dispose",
    "guard",
    "history",
    "report",
    "services",
    "graph",
    "config",
)


def describe_dict() -> dict[str, Any]:
    """The EDK ``Describe`` structure as a plain dict."""
    return {
        "commands": [
            {
                "name": EXTENSION_NAME,
                "description": EXTENSION_DESCRIPTION,
                "commands": list(COMMANDS),
                "pass_through_cli": False,
            }
        ]
    }


def render(output_format: str) -> str:
    """``text``, ``json`` or ``yaml``, as the EDK formats them (text is our own)."""
    data = describe_dict()
    if output_format == "json":
        return json.dumps(data, indent=2)
    if output_format == "yaml":
        import yaml

        return str(yaml.dump(data, sort_keys=False, indent=2))
    command = data["commands"][0]
    lines = [f"{command['name']}: {command['description']}", "commands:"]
    lines += [f"  - {name}" for name in command["commands"]]
    return "\n".join(lines)

"""The Meltano EDK extension class, for tools that drive extensions through the EDK.

The ``gruponos_extension`` CLI does not import this module (the EDK costs
~150 ms to import); it renders the same ``describe`` output from
:mod:`gruponos_ext.extension.describe`, and a test pins the two together.
"""

from __future__ import annotations

from meltano.edk import models
from meltano.edk.extension import ExtensionBase

from gruponos_ext.extension.describe import COMMANDS, EXTENSION_DESCRIPTION, EXTENSION_NAME

__all__ = ["GruponosInfraExtension"]


class GruponosInfraExtension(ExtensionBase):
    """``invoke(name, *args)`` runs the CLI command ``name`` in this process."""

    def describe(self) -> models.Describe:
        return models.Describe(
            commands=[
                models.ExtensionCommand(
                    name=EXTENSION_NAME,
                    description=EXTENSION_DESCRIPTION,
                    commands=list(COMMANDS),
                )
            ]
        )

    def initialize(self, force: bool = False) -> None:
        self.invoke("initialize", *(["--force"] if force else []))

    def invoke(self, command_name: str | None, *command_args: object) -> None:
        """Run a CLI command; raises ``SystemExit`` with its exit code, like the CLI."""
        from gruponos_ext.extension.cli import cli

        args = [command_name or "--help", *(str(a) for a in command_args)]
        cli.main(args, prog_name=EXTENSION_NAME, standalone_mode=True)

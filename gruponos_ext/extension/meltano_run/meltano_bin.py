"""The Meltano that ``guard`` runs: the configured one, else the one that invoked us.

In the README's own setup Meltano lives in the project's ``.venv`` and is
not on ``PATH``; ``meltano invoke gruponos-infra:guard-sample`` must still
run ``meltano run`` with that same Meltano. Order: ``meltano_bin`` when set
explicitly (``GRUPONOS_INFRA_MELTANO_BIN``), the Meltano process above us,
``meltano`` on ``PATH``. When none exists, the run fails with exit 127 and a
line naming ``GRUPONOS_INFRA_MELTANO_BIN``.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from gruponos_ext.extension.meltano_run.processes import find_meltano, meltano_program

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings

__all__ = ["meltano_command"]


def meltano_command(settings: GruponosMeltanoSettings) -> tuple[str, ...]:
    """The argv prefix that starts Meltano for a guarded run."""
    if settings.describe_sources().get("meltano_bin", "default") != "default":
        return (settings.meltano_bin,)
    invoking = find_meltano(run_only=False)
    if invoking is not None:
        return meltano_program(invoking)
    found = shutil.which(settings.meltano_bin)
    return (found,) if found else (settings.meltano_bin,)

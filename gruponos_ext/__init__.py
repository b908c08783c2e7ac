"""gruponos-infra: the infrastructure layer for GrupoNOS Meltano pipelines.

The public names load on first use, so the CLI's ``describe`` stays fast::

    from gruponos_ext import GruponosMeltanoContainer, FlextResult
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gruponos_ext._lazy import lazy_exports

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings, SettingsError
    from gruponos_ext.core.container import Container
    from gruponos_ext.core.errors import GruponosError
    from gruponos_ext.core.result import FlextResult, Result
    from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer

_HOMES = {
    "Container": "gruponos_ext.core.container",
    "FlextResult": "gruponos_ext.core.result",
    "GruponosError": "gruponos_ext.core.errors",
    "GruponosMeltanoContainer": "gruponos_ext.infrastructure.di_container",
    "GruponosMeltanoSettings": "gruponos_ext.config",
    "Result": "gruponos_ext.core.result",
    "SettingsError": "gruponos_ext.config",
}

__all__ = [
    "Container",
    "FlextResult",
    "GruponosError",
    "GruponosMeltanoContainer",
    "GruponosMeltanoSettings",
    "Result",
    "SettingsError",
]


__getattr__ = lazy_exports(__name__, _HOMES)

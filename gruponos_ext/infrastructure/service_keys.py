"""Typed keys for the services :class:`GruponosMeltanoContainer` wires.

Each key *is* the service's name (the seed's strings keep working:
``container.resolve("settings")`` and ``container.resolve(SETTINGS)`` are the
same service); resolving by key tells mypy what comes back:

>>> SETTINGS == "settings"
True
>>> sorted(ALL)[:3]
['alert_manager', 'breakers', 'connection_pool']

The types are imported for the type checker only: this module loads nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gruponos_ext.core.keys import Key

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.health.runner import HealthCheckRunner
    from gruponos_ext.services.alerts import AlertManager
    from gruponos_ext.services.breaker import BreakerRegistry
    from gruponos_ext.services.oracle import OracleConnectionManager
    from gruponos_ext.services.orchestrator import GruponosMeltanoOrchestrator
    from gruponos_ext.services.validator import DataValidator
    from gruponos_ext.services.wms import WmsApiClient
    from gruponos_ext.state.protocol import StateStore

__all__ = [
    "ALERT_MANAGER",
    "ALL",
    "BREAKERS",
    "CONNECTION_POOL",
    "DATA_VALIDATOR",
    "HEALTH_RUNNER_FACTORY",
    "ORACLE_MANAGER",
    "ORCHESTRATOR",
    "SETTINGS",
    "STATE_STORE",
    "WMS_CLIENT",
]

SETTINGS: Key[GruponosMeltanoSettings] = Key("settings")
BREAKERS: Key[BreakerRegistry] = Key("breakers")
CONNECTION_POOL: Key[OracleConnectionManager] = Key("connection_pool")
ORACLE_MANAGER: Key[OracleConnectionManager] = Key("oracle_manager")
WMS_CLIENT: Key[WmsApiClient] = Key("wms_client")
DATA_VALIDATOR: Key[DataValidator] = Key("data_validator")
STATE_STORE: Key[StateStore] = Key("state_store")
ALERT_MANAGER: Key[AlertManager] = Key("alert_manager")
HEALTH_RUNNER_FACTORY: Key[Callable[..., HealthCheckRunner]] = Key("health_runner_factory")
ORCHESTRATOR: Key[GruponosMeltanoOrchestrator] = Key("orchestrator")

ALL: frozenset[str] = frozenset(
    (
        SETTINGS,
        BREAKERS,
        CONNECTION_POOL,
        ORACLE_MANAGER,
        WMS_CLIENT,
        DATA_VALIDATOR,
        STATE_STORE,
        ALERT_MANAGER,
        HEALTH_RUNNER_FACTORY,
        ORCHESTRATOR,
    )
)
"""Every name the profiles may register (which ones depends on the settings)."""

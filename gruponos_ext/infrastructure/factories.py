"""Factories for the GrupoNOS services, each taking the container.

Every factory builds an object that opens nothing until used, so the
container can validate the whole graph (and ``validate`` can run in CI)
without touching a database, an API or a mail server. Every service that
shows outside text gets ``settings.redactor()``, which knows every secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gruponos_ext.infrastructure.service_keys import (
    ALERT_MANAGER,
    BREAKERS,
    CONNECTION_POOL,
    DATA_VALIDATOR,
    HEALTH_RUNNER_FACTORY,
    ORACLE_MANAGER,
    SETTINGS,
    STATE_STORE,
)

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.core.container import Container
    from gruponos_ext.services.alerts import AlertManager
    from gruponos_ext.services.breaker import BreakerRegistry
    from gruponos_ext.services.oracle import OracleConnectionManager
    from gruponos_ext.services.orchestrator import GruponosMeltanoOrchestrator
    from gruponos_ext.services.validator import DataValidator
    from gruponos_ext.services.wms import WmsApiClient
    from gruponos_ext.state.protocol import StateStore
    from gruponos_ext.state.sqlite import SqliteStateStore

__all__ = [
    "STATE_DB_NAME",
    "create_alert_manager",
    "create_breakers",
    "create_connection_pool",
    "create_data_validator",
    "create_etl_orchestrator",
    "create_oracle_connection_manager",
    "create_recording_alert_manager",
    "create_state_store",
    "create_strict_data_validator",
    "create_temporary_state_store",
    "create_wms_client",
]

STATE_DB_NAME = "state.db"


def _settings(container: Container) -> GruponosMeltanoSettings:
    return container.resolve(SETTINGS)


def create_breakers(container: Container) -> BreakerRegistry:
    """One registry per container, so health checks see every breaker's state."""
    from gruponos_ext.services.breaker import BreakerRegistry

    settings = _settings(container)
    return BreakerRegistry(
        failure_threshold=settings.breaker_failure_threshold,
        reset_timeout=settings.breaker_reset_timeout,
        half_open_max_calls=settings.breaker_half_open_max_calls,
        redactor=settings.redactor(),
    )


def create_connection_pool(container: Container) -> OracleConnectionManager:
    """The Oracle manager owns the (lazily created) pool; its cleanup closes it."""
    from gruponos_ext.services.oracle import OracleConnectionManager

    breakers = container.resolve(BREAKERS)
    settings = _settings(container)
    return OracleConnectionManager.from_settings(
        settings, breaker=breakers.get_or_create("oracle"), redactor=settings.redactor()
    )


def create_oracle_connection_manager(container: Container) -> OracleConnectionManager:
    """The seed's ``oracle_manager``: the same object that owns ``connection_pool``."""
    return container.resolve(CONNECTION_POOL)


def create_wms_client(container: Container) -> WmsApiClient:
    from gruponos_ext.services.wms import WmsApiClient

    breakers = container.resolve(BREAKERS)
    settings = _settings(container)
    return WmsApiClient.from_settings(
        settings, breaker=breakers.get_or_create("wms"), redactor=settings.redactor()
    )


def create_data_validator() -> DataValidator:
    """Lenient: unknown fields are warnings (development and test)."""
    from gruponos_ext.services.validator import DataValidator

    return DataValidator.for_wms_records(strict=False)


def create_strict_data_validator() -> DataValidator:
    """Strict: warnings count as errors (production)."""
    from gruponos_ext.services.validator import DataValidator

    return DataValidator.for_wms_records(strict=True)


def create_state_store(container: Container) -> StateStore:
    """PostgreSQL when ``state_uri`` is set (psycopg is imported only then), else SQLite."""
    settings = _settings(container)
    if settings.state_uri is not None:
        try:
            from gruponos_ext.state.postgres import PostgresStateStore
        except ImportError as exc:
            from gruponos_ext.state.model import StateDriverMissingError

            raise StateDriverMissingError() from exc
        return PostgresStateStore(
            settings.state_uri.get_secret_value(),
            schema=settings.state_schema,
            timeout_s=settings.state_timeout,
            retention_days=settings.history_retention_days,
            redactor=settings.redactor(),
        )
    from gruponos_ext.state.sqlite import SqliteStateStore

    if settings.state_dir is None:
        raise ValueError(
            "no state directory: set MELTANO_PROJECT_ROOT (Meltano does) or "
            "GRUPONOS_INFRA_STATE_DIR"
        )
    return SqliteStateStore(
        Path(settings.state_dir) / STATE_DB_NAME,
        busy_timeout_s=settings.state_timeout,
        retention_days=settings.history_retention_days,
    )


def create_temporary_state_store() -> SqliteStateStore:
    """A store in a fresh temporary directory; its cleanup removes the directory."""
    import tempfile  # here, not at import: only the test profile needs it (~1 ms)

    from gruponos_ext.state.sqlite import SqliteStateStore

    directory = Path(tempfile.mkdtemp(prefix="gruponos-infra-test-"))
    return SqliteStateStore(directory / STATE_DB_NAME)


def remove_temporary_state_store(store: Any) -> None:
    import shutil

    store.close()
    shutil.rmtree(Path(store.path).parent, ignore_errors=True)


def _alert_breakers(container: Container) -> dict[str, Any]:
    breakers = container.resolve(BREAKERS)
    return {
        name: breakers.get_or_create(f"alerts.{name}") for name in ("webhook", "slack", "email")
    }


def create_alert_manager(container: Container) -> AlertManager:
    """Channels from the alert settings; deduplicated through the state store if any."""
    from gruponos_ext.services.alerts import AlertManager

    deduplicator = container.try_resolve(STATE_STORE).unwrap_or(None)
    settings = _settings(container)
    return AlertManager.from_settings(
        settings,
        breakers=_alert_breakers(container),
        deduplicator=deduplicator,
        redactor=settings.redactor(),
    )


def create_recording_alert_manager() -> AlertManager:
    """Test-safe alerts: kept in memory by a recording channel, sent nowhere."""
    from gruponos_ext.services.alerts import AlertManager, RecordingChannel

    return AlertManager([RecordingChannel()], min_severity="info")


def create_etl_orchestrator(container: Container) -> GruponosMeltanoOrchestrator:
    """The seed's orchestrator: preflight, guarded runs and dispose for Meltano jobs."""
    from gruponos_ext.services.orchestrator import GruponosMeltanoOrchestrator

    return GruponosMeltanoOrchestrator(
        oracle_manager=container.try_resolve(ORACLE_MANAGER).unwrap_or(None),
        validator=container.resolve(DATA_VALIDATOR),
        alert_manager=container.resolve(ALERT_MANAGER),
        state_store=container.try_resolve(STATE_STORE).unwrap_or(None),
        settings=_settings(container),
        health=container.resolve(HEALTH_RUNNER_FACTORY),
    )

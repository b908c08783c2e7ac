"""Every usage example of the seed README, as written (package name changed).

The seed (``shared/seed/infrastructure-module-README.md``) is the API this
project honours; these tests run its snippets against the real container.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from gruponos_ext import FlextResult, GruponosMeltanoContainer
from gruponos_ext.config import GruponosMeltanoSettings
from gruponos_ext.services.alerts import AlertManager, RecordingChannel
from gruponos_ext.services.breaker import CircuitBreaker, CircuitOpenError
from gruponos_ext.services.oracle import OracleConnectionManager
from gruponos_ext.services.orchestrator import GruponosMeltanoOrchestrator
from gruponos_ext.services.validator import DataValidator


def _settings(tmp_path: Path, **values: Any) -> GruponosMeltanoSettings:
    return GruponosMeltanoSettings.from_mapping(
        {"project_root": str(tmp_path), "environment": "development", **values}, env={}
    )


def create_oracle_connection_manager() -> OracleConnectionManager:
    return OracleConnectionManager.from_settings(
        GruponosMeltanoSettings.from_mapping(
            {
                "oracle_host": "127.0.0.1",
                "oracle_service_name": "WMSPDB",
                "oracle_user": "gruponos",
                "oracle_password": "not-used",
            },
            env={},
        )
    )


def create_data_validator() -> DataValidator:
    return DataValidator.for_wms_records()


def test_usage_example_register_and_resolve() -> None:
    from gruponos_ext.infrastructure import GruponosMeltanoContainer as FromInfrastructure

    assert FromInfrastructure is GruponosMeltanoContainer
    # Create container with ETL services
    container = GruponosMeltanoContainer()

    # Register services
    container.register_singleton("oracle_manager", create_oracle_connection_manager)
    container.register_transient("data_validator", create_data_validator)

    # Resolve services
    oracle_manager = container.resolve("oracle_manager")
    validator = container.resolve("data_validator")

    assert isinstance(oracle_manager, OracleConnectionManager)
    assert not oracle_manager.pool_open  # building it opened nothing
    assert container.resolve("oracle_manager") is oracle_manager
    assert isinstance(validator, DataValidator)
    assert container.resolve("data_validator") is not validator


def test_service_lifecycle_cleanup_runs_on_dispose() -> None:
    closed: list[str] = []

    class Pool:
        def close_all(self) -> None:
            closed.append("pool")

    def create_connection_pool() -> Pool:
        return Pool()

    container = GruponosMeltanoContainer()
    # Service registration with lifecycle
    container.register_singleton(
        "connection_pool", factory=create_connection_pool, cleanup=lambda pool: pool.close_all()
    )
    container.resolve("connection_pool")

    # Automatic cleanup on container disposal
    container.dispose()  # Calls cleanup for all registered services
    assert closed == ["pool"]


def test_service_dependencies_orchestrator_factory_takes_the_container(tmp_path: Path) -> None:
    recorder = RecordingChannel()

    # Services with dependencies
    def create_etl_orchestrator(container: GruponosMeltanoContainer) -> GruponosMeltanoOrchestrator:
        return GruponosMeltanoOrchestrator(
            oracle_manager=container.resolve("oracle_manager"),
            validator=container.resolve("data_validator"),
            alert_manager=container.resolve("alert_manager"),
        )

    container = GruponosMeltanoContainer(_settings(tmp_path))
    container.register_singleton("oracle_manager", create_oracle_connection_manager)
    container.register_transient("data_validator", create_data_validator)
    container.register_singleton("alert_manager", lambda: AlertManager([recorder]))
    container.register_transient("orchestrator", create_etl_orchestrator)

    orchestrator = container.resolve("orchestrator")
    assert orchestrator.oracle_manager is container.resolve("oracle_manager")
    assert isinstance(orchestrator.validator, DataValidator)
    assert container.resolve("orchestrator") is not orchestrator


def test_mock_services_swap_the_real_ones(tmp_path: Path) -> None:
    class FakeOracleManager:
        pass

    fake_oracle = FakeOracleManager()
    recorder = RecordingChannel()

    def mock_oracle_manager() -> FakeOracleManager:
        return fake_oracle

    def mock_alert_manager() -> AlertManager:
        return AlertManager([recorder])

    # Test container with mocked services
    test_container = GruponosMeltanoContainer(_settings(tmp_path))
    test_container.register_development_services()
    test_container.register_singleton("oracle_manager", mock_oracle_manager)
    test_container.register_singleton("alert_manager", mock_alert_manager)

    # Test orchestrator with mocked dependencies
    orchestrator = test_container.resolve("orchestrator")
    assert orchestrator.oracle_manager is fake_oracle
    orchestrator.alert("test alert", "from the seed example", job="sample")
    assert [a.title for a in recorder.alerts] == ["test alert"]
    test_container.dispose()


def test_integration_testing_configure_for_testing_gives_safe_services() -> None:
    # Real but test-safe services for integration testing
    integration_container = GruponosMeltanoContainer(
        GruponosMeltanoSettings.from_mapping({"environment": "test"}, env={})
    )
    integration_container.configure_for_testing()  # Real but test-safe services
    alerts = integration_container.resolve("alert_manager")
    assert [type(c) for c in alerts.channels] == [RecordingChannel]
    store = integration_container.resolve("state_store")
    store_dir = Path(store.path).parent
    store.ping()
    assert store_dir.exists()
    assert integration_container.validate().ok
    assert integration_container.dispose().success
    assert not store_dir.exists()  # the temporary state is removed on dispose


@pytest.mark.parametrize(
    ("environment", "profile", "strict"),
    [
        ("production", "production", True),
        ("staging", "production", True),
        ("development", "development", False),
        ("test", "test", False),
    ],
)
def test_environment_aware_services(
    tmp_path: Path, environment: str, profile: str, strict: bool
) -> None:
    settings = _settings(tmp_path, environment=environment)

    def configure_container_for_environment(container: GruponosMeltanoContainer) -> None:
        if settings.environment == "production":
            container.register_production_services()
        elif settings.environment == "development":
            container.register_development_services()
        elif settings.environment == "staging":
            container.configure_for_environment()
        else:
            container.register_test_services()

    container = GruponosMeltanoContainer(settings)
    configure_container_for_environment(container)
    assert container.profile == profile
    validator = container.resolve("data_validator")
    assert validator.strict is strict
    assert container.validate().ok
    container.dispose()


def test_get_service_with_fallback() -> None:
    # Robust service resolution with fallbacks
    def get_service_with_fallback(container: Any, service_name: str, fallback_factory: Any) -> Any:
        result = container.try_resolve(service_name)
        if result.success:
            return result

        # Create fallback service
        fallback_service = fallback_factory()
        container.register_singleton(service_name, lambda: fallback_service)
        return FlextResult.ok(fallback_service)

    container = GruponosMeltanoContainer()
    first = get_service_with_fallback(container, "cache", dict)
    assert first.success and first.value == {}
    second = get_service_with_fallback(container, "cache", list)
    assert second.value is first.value  # resolved, not replaced


def test_service_with_circuit_breaker() -> None:
    calls: list[int] = []

    class ActualService:
        async def execute_operation(self, value: int) -> int:
            calls.append(value)
            if value < 0:
                raise ConnectionError("WMS unreachable")
            return value * 2

    # Service with circuit breaker
    class ServiceWithCircuitBreaker:
        def __init__(self, actual_service: Any, circuit_breaker: Any) -> None:
            self.service = actual_service
            self.circuit_breaker = circuit_breaker

        async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
            return await self.circuit_breaker.execute(
                lambda: self.service.execute_operation(*args, **kwargs)
            )

    wrapped = ServiceWithCircuitBreaker(
        ActualService(), CircuitBreaker("wms", failure_threshold=2, reset_timeout=60)
    )
    assert asyncio.run(wrapped.execute_operation(21)) == 42
    for _ in range(2):
        with pytest.raises(ConnectionError):
            asyncio.run(wrapped.execute_operation(-1))
    with pytest.raises(CircuitOpenError):
        asyncio.run(wrapped.execute_operation(5))
    assert calls == [21, -1, -1]  # the open breaker did not call the service

"""GruponosMeltanoContainer: environment profiles wire the real services from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gruponos_ext import GruponosMeltanoContainer
from gruponos_ext.config import GruponosMeltanoSettings
from gruponos_ext.health.model import Status
from gruponos_ext.services.alerts import Alert, AlertManager, RecordingChannel, Severity
from gruponos_ext.services.breaker import BreakerRegistry
from gruponos_ext.services.oracle import OracleConnectionManager
from gruponos_ext.services.wms import WmsApiClient
from gruponos_ext.state.store import SqliteStateStore

SECRET = "Pl4nted-Container-S3cret"


def settings(tmp_path: Path, **values: Any) -> GruponosMeltanoSettings:
    return GruponosMeltanoSettings.from_mapping(
        {"project_root": str(tmp_path), "environment": "development", **values}, env={}
    )


def oracle_at(port: int) -> dict[str, Any]:
    return {
        "oracle_host": "127.0.0.1",
        "oracle_port": port,
        "oracle_service_name": "WMSPDB",
        "oracle_user": "etl",
        "oracle_password": SECRET,
        "oracle_connect_timeout": 2,
    }


def test_unconfigured_systems_are_not_wired_and_their_checks_skip(tmp_path: Path) -> None:
    container = GruponosMeltanoContainer(settings(tmp_path))
    assert container.configure_for_environment() == "development"
    assert "oracle_manager" not in container and "wms_client" not in container
    report = container.health_runner().run()
    by_name = {r.name: r for r in report.results}
    assert by_name["oracle:connection"].status is Status.SKIP
    assert "GRUPONOS_INFRA_ORACLE_HOST" in by_name["oracle:connection"].message
    assert by_name["wms_api:reachability"].status is Status.SKIP
    assert "GRUPONOS_INFRA_WMS_BASE_URL" in by_name["wms_api:reachability"].message
    assert report.status is Status.PASS
    container.dispose()


def test_configured_oracle_is_one_pool_owner_behind_a_breaker_with_its_check(
    tmp_path: Path, closed_port: Any
) -> None:
    container = GruponosMeltanoContainer(settings(tmp_path, **oracle_at(closed_port)))
    container.configure_for_environment()
    manager = container.resolve("oracle_manager")
    assert isinstance(manager, OracleConnectionManager)
    assert container.resolve("connection_pool") is manager
    assert manager.breaker is container.resolve("breakers").get("oracle")
    report = container.health_runner().run(names=["oracle"])
    (result,) = report.results
    assert result.status is Status.FAIL and "critical" in result.tags
    assert "cannot reach" in result.message.lower()
    assert SECRET not in repr(report)
    assert container.dispose().success
    assert manager.closed


def test_configured_wms_client_sits_behind_its_breaker(tmp_path: Path) -> None:
    container = GruponosMeltanoContainer(
        settings(
            tmp_path,
            wms_base_url="https://wms.example.invalid/api",
            wms_user="u",
            wms_password=SECRET,
        )
    )
    container.configure_for_environment()
    client = container.resolve("wms_client")
    assert isinstance(client, WmsApiClient)
    assert client.breaker is container.resolve("breakers").get("wms")
    assert SECRET not in repr(client)


def test_alert_channels_have_breakers_and_dedup_through_the_state_store(tmp_path: Path) -> None:
    container = GruponosMeltanoContainer(
        settings(tmp_path, alert_webhook_url=f"http://127.0.0.1:9/hook/{SECRET}")
    )
    container.configure_for_environment()
    alerts = container.resolve("alert_manager")
    assert isinstance(alerts, AlertManager)
    assert [c.name for c in alerts.channels] == ["webhook"]
    breakers: BreakerRegistry = container.resolve("breakers")
    assert breakers.get("alerts.webhook") is not None
    assert SECRET not in repr(alerts)
    store: SqliteStateStore = container.resolve("state_store")
    assert store.path == tmp_path / ".meltano" / "gruponos-infra" / "state.db"
    assert store.should_send("k", 3600.0) and not store.should_send("k", 3600.0)
    container.dispose()


@pytest.mark.parametrize("environment", ["production", "staging", "development", "test"])
def test_every_profile_validates_without_opening_anything(
    tmp_path: Path, environment: str, silent_listener: Any
) -> None:
    # Oracle points at a listener that never answers: resolving every service
    # must not connect, or validate() would hang here.
    container = GruponosMeltanoContainer(
        settings(tmp_path, environment=environment, **oracle_at(silent_listener.port))
    )
    container.configure_for_environment()
    report = container.validate()
    assert report.ok, report.errors
    assert silent_listener.accepted == 0
    container.dispose()


def test_test_profile_never_wires_production_endpoints(tmp_path: Path, closed_port: Any) -> None:
    container = GruponosMeltanoContainer(
        settings(
            tmp_path,
            environment="test",
            wms_base_url="https://wms.production.example/api",
            wms_user="u",
            wms_password="p",
            **oracle_at(closed_port),
        )
    )
    container.configure_for_testing()
    assert container.profile == "test"
    assert "oracle_manager" not in container  # only GRUPONOS_TEST_ORACLE_* would wire it
    assert "wms_client" not in container  # not a loopback URL
    recorder = container.resolve("alert_manager").channels[0]
    assert isinstance(recorder, RecordingChannel)
    container.resolve("alert_manager").send(Alert("t", "m", Severity.ERROR))
    assert len(recorder.alerts) == 1
    container.dispose()


def test_test_profile_wires_a_loopback_wms(tmp_path: Path) -> None:
    container = GruponosMeltanoContainer(
        settings(
            tmp_path,
            environment="test",
            wms_base_url="http://127.0.0.1:8080/api",
            wms_user="u",
            wms_password="p",
        )
    )
    container.configure_for_testing()
    assert isinstance(container.resolve("wms_client"), WmsApiClient)


def test_orchestrator_is_built_from_the_container(tmp_path: Path) -> None:
    container = GruponosMeltanoContainer(settings(tmp_path))
    container.configure_for_environment()
    orchestrator = container.resolve("orchestrator")
    assert orchestrator.alert_manager is container.resolve("alert_manager")
    assert orchestrator.state_store is container.resolve("state_store")
    assert orchestrator.oracle_manager is None  # Oracle not configured
    assert container.resolve("orchestrator") is not orchestrator  # transient


def test_services_and_graph_name_the_profile_services(tmp_path: Path) -> None:
    container = GruponosMeltanoContainer(settings(tmp_path, **oracle_at(1521)))
    container.configure_for_environment()
    names = {info.name for info in container.services()}
    assert {"settings", "breakers", "connection_pool", "oracle_manager", "state_store"} <= names
    dot = container.graph("dot")
    assert '"oracle_manager" -> "connection_pool";' in dot
    assert '"connection_pool" -> "breakers";' in dot
    assert '"orchestrator" -> "alert_manager";' in dot


@pytest.mark.parametrize("meltano_environment", ["test", "testing", "TEST"])
def test_a_meltano_environment_named_test_gets_real_services_not_the_test_profile(
    tmp_path: Path, closed_port: Any, meltano_environment: str
) -> None:
    # Real staging setups are often called "test": that name must not turn off
    # locks and alerts or hide a configured Oracle.
    env = {
        "MELTANO_PROJECT_ROOT": str(tmp_path),
        "MELTANO_ENVIRONMENT": meltano_environment,
        "GRUPONOS_INFRA_ORACLE_HOST": "127.0.0.1",
        "GRUPONOS_INFRA_ORACLE_PORT": str(closed_port),
        "GRUPONOS_INFRA_ORACLE_SERVICE_NAME": "WMSPDB",
        "GRUPONOS_INFRA_ORACLE_USER": "etl",
        "GRUPONOS_INFRA_ORACLE_PASSWORD": SECRET,
        "GRUPONOS_INFRA_ORACLE_CONNECT_TIMEOUT": "2",
    }
    container = GruponosMeltanoContainer(GruponosMeltanoSettings.from_env(env))

    assert container.configure_for_environment() == "development"

    assert container.profile_choice is not None
    assert container.profile_choice.describe() == (
        f"development (from Meltano environment {meltano_environment!r})"
    )
    assert isinstance(container.resolve("oracle_manager"), OracleConnectionManager)
    channels = container.resolve("alert_manager").channels
    assert not any(isinstance(channel, RecordingChannel) for channel in channels)
    store = container.resolve("state_store")
    assert Path(store.path).parent == tmp_path / ".meltano" / "gruponos-infra"  # shared by runs
    oracle = {r.name: r for r in container.health_runner().run(names=["oracle"]).results}
    assert oracle["oracle:connection"].status is Status.FAIL  # checked, not "not configured"
    container.dispose()


def test_only_the_explicit_setting_or_configure_for_testing_selects_the_test_profile(
    tmp_path: Path,
) -> None:
    explicit = GruponosMeltanoContainer(
        GruponosMeltanoSettings.from_env(
            {"MELTANO_PROJECT_ROOT": str(tmp_path), "GRUPONOS_INFRA_ENVIRONMENT": "test"}
        )
    )
    assert explicit.configure_for_environment() == "test"
    assert explicit.profile_choice is not None
    assert explicit.profile_choice.describe() == "test (from GRUPONOS_INFRA_ENVIRONMENT)"
    explicit.dispose()

    in_code = GruponosMeltanoContainer(settings(tmp_path))
    in_code.configure_for_testing()
    assert in_code.profile == "test"
    assert in_code.profile_choice is not None
    assert in_code.profile_choice.describe() == (
        "test (development, chosen by configure_for_testing())"
    )
    in_code.dispose()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {},
            "development (default: no Meltano environment)",
        ),
        (
            {"MELTANO_ENVIRONMENT": "stage"},
            "production (staging, from Meltano environment 'stage')",
        ),
        ({"MELTANO_ENVIRONMENT": "prod"}, "production (from Meltano environment 'prod')"),
        ({"MELTANO_ENVIRONMENT": "qa"}, "development (from Meltano environment 'qa')"),
    ],
)
def test_profile_choice_says_which_profile_and_why(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    settings = GruponosMeltanoSettings.from_env({"MELTANO_PROJECT_ROOT": str(tmp_path), **env})
    container = GruponosMeltanoContainer(settings)
    container.configure_for_environment()
    assert container.profile_choice is not None
    assert container.profile_choice.describe() == expected
    assert container.profile_choice.to_dict()["name"] == container.profile
    container.dispose()

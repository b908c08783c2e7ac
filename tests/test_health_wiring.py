"""How the container wires health: the runner's redactor and isolation, the freshness check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gruponos_ext.config import GruponosMeltanoSettings
from gruponos_ext.health.model import CheckOutcome, HealthCheck, Status
from gruponos_ext.infrastructure.di_container import GruponosMeltanoContainer

SECRET = "Wms-S3cret-Pa55"


def container_for(root: Path, **values: Any) -> GruponosMeltanoContainer:
    settings = GruponosMeltanoSettings.from_mapping(
        {"project_root": str(root), "environment": "development", **values}, env={}
    )
    container = GruponosMeltanoContainer(settings)
    container.configure_for_environment()
    return container


def test_the_runner_redacts_with_the_settings_redactor_and_isolates(tmp_path: Path) -> None:
    container = container_for(
        tmp_path,
        wms_base_url="http://127.0.0.1:9/",
        wms_user="etl",
        wms_password=SECRET,
    )
    runner = container.health_runner()
    assert runner.isolate is True
    leaky = HealthCheck("leak:x", lambda: CheckOutcome.failed(f"server echoed {SECRET}"))
    runner.add(leaky)
    report = runner.run(names=["leak:x"])
    assert report.results[0].message == "server echoed ***"
    assert container.health_runner(isolate=False).isolate is False
    container.dispose()


def test_freshness_is_registered_tagged_schedules_and_kept_out_of_preflight(
    tmp_path: Path,
) -> None:
    (tmp_path / "meltano.yml").write_text(
        "schedules:\n- {name: hourly, interval: '@hourly', job: j}\n"
        "- {name: skipped, interval: '@daily', job: k}\n"
    )
    container = container_for(tmp_path, schedule_exclude=["skipped"], schedule_grace=60)
    checks = {c.name: c for c in container.health_checks()}
    freshness = checks["schedules:freshness"]
    assert "schedules" in freshness.tags
    assert "critical" not in freshness.tags  # preflight runs --tag critical
    report = container.health_runner(isolate=False).run(tags=["schedules"])
    (result,) = report.results
    assert result.status is Status.WARN
    assert [s["schedule"] for s in result.details["schedules"]] == ["hourly"]
    assert result.details["schedules"][0]["grace_s"] == 60
    assert "no successful run recorded" in result.message
    container.dispose()

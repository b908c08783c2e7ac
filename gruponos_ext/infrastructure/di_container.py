"""``GruponosMeltanoContainer``: the core container plus the GrupoNOS service sets.

The generic container lives in :mod:`gruponos_ext.core.container`; this
subclass adds what the seed README promises: environment profiles
(production / development / test) that wire the real services from
:class:`~gruponos_ext.config.GruponosMeltanoSettings`, ``configure_for_testing``
for real but test-safe services, and the health checks the services carry.

The profile follows the settings' ``environment``: production and staging get
production services, development development services. The test-safe
profile is only ever chosen on purpose: by ``configure_for_testing()`` or the
explicit setting ``environment: test``, never by a Meltano environment's name
(see :mod:`gruponos_ext.config.sources`). :class:`ProfileChoice` says which
profile is active and why, for ``health``, ``config`` and ``validate``.

Service names (stable, used by ``services``, ``graph`` and user code):
``settings``, ``breakers``, ``connection_pool``/``oracle_manager`` (only when
Oracle is configured), ``wms_client`` (only when the WMS API is configured),
``data_validator``, ``state_store`` (PostgreSQL when ``state_uri`` is set, else
SQLite when a state directory is known), ``alert_manager``,
``health_runner_factory``, ``orchestrator``; each has a typed key in
:mod:`gruponos_ext.infrastructure.service_keys`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from gruponos_ext.core.container import Container
from gruponos_ext.infrastructure import factories as f

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings
    from gruponos_ext.core.registry import Factory
    from gruponos_ext.health.model import HealthCheck
    from gruponos_ext.health.runner import HealthCheckRunner
    from gruponos_ext.state.protocol import StateStore

__all__ = ["GruponosMeltanoContainer", "Profile", "ProfileChoice"]

Profile = Literal["production", "development", "test"]

# Which profile each settings environment gets: staging runs production services.
_PROFILE_BY_ENVIRONMENT: dict[str, Profile] = {
    "production": "production",
    "staging": "production",
    "development": "development",
    "test": "test",
}


class ProfileChoice(NamedTuple):
    """The active service profile (``name``) and why it is the one (immutable).

    ``source`` is where the settings' ``environment`` came from (as in
    ``describe_sources()``), or the method that chose the profile in code.

    >>> ProfileChoice("development", "development", "env:MELTANO_ENVIRONMENT", "testing").describe()
    "development (from Meltano environment 'testing')"
    >>> ProfileChoice("production", "staging", "env:GRUPONOS_INFRA_ENVIRONMENT").describe()
    'production (staging, from GRUPONOS_INFRA_ENVIRONMENT)'
    """

    name: Profile
    environment: str
    source: str
    meltano_environment: str | None = None

    @classmethod
    def of(cls, settings: GruponosMeltanoSettings) -> ProfileChoice:
        """The profile ``settings`` call for."""
        return cls(
            _PROFILE_BY_ENVIRONMENT[settings.environment],
            settings.environment,
            settings.describe_sources()["environment"],
            settings.meltano_environment,
        )

    def describe(self) -> str:
        """One phrase: the profile, then where it comes from."""
        if self.source == "env:MELTANO_ENVIRONMENT":
            why = f"from Meltano environment {self.meltano_environment!r}"
        elif self.source.startswith("env:"):
            why = f"from {self.source.removeprefix('env:')}"
        elif self.source == "default":
            why = "default: no Meltano environment"
        elif self.source == "argument":
            why = "from the settings given"
        else:
            why = f"chosen by {self.source}"
        if self.environment != self.name:
            why = f"{self.environment}, {why}"
        return f"{self.name} ({why})"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON reports: the fields by name."""
        return dict(self._asdict())


HealthRunnerFactory = Callable[..., "HealthCheckRunner"]


class GruponosMeltanoContainer(Container):
    """The DI container for GrupoNOS Meltano pipelines.

    ``settings`` defaults to ``GruponosMeltanoSettings()`` (read from the
    environment Meltano exports) the first time it is needed.

    >>> container = GruponosMeltanoContainer()
    >>> container.configure_for_environment()  # doctest: +SKIP
    'development'
    """

    def __init__(self, settings: GruponosMeltanoSettings | None = None) -> None:
        super().__init__()
        self._settings = settings
        self.profile: Profile | None = None
        self.profile_choice: ProfileChoice | None = None
        """Which profile is registered and why (None before one is)."""

    @property
    def settings(self) -> GruponosMeltanoSettings:
        """The settings the profiles wire from (loaded from the environment if not given)."""
        if self._settings is None:
            from gruponos_ext.config import GruponosMeltanoSettings

            self._settings = GruponosMeltanoSettings()
        return self._settings

    # -- profiles --------------------------------------------------------------
    def configure_for_environment(self) -> Profile:
        """Register the service set that the settings' ``environment`` calls for.

        A Meltano environment's name alone never selects the test profile:
        the settings map every name but prod/production/staging/stage to
        development.
        """
        choice = ProfileChoice.of(self.settings)
        {
            "production": self.register_production_services,
            "development": self.register_development_services,
            "test": self.register_test_services,
        }[choice.name]()
        self.profile_choice = choice
        return choice.name

    def _register_common(self, profile: Profile) -> GruponosMeltanoSettings:
        settings = self.settings
        self.profile = profile
        chosen_by = f"register_{profile}_services()"
        self.profile_choice = ProfileChoice(profile, settings.environment, chosen_by)
        self.register_instance("settings", settings, description="GRUPONOS_INFRA_* settings")
        self.register_singleton("breakers", f.create_breakers, description="circuit breakers")
        self.register_instance(
            "health_runner_factory",
            self.health_runner,
            description="builds a health-check runner over the registered checks",
        )
        self.register_transient(
            "orchestrator", f.create_etl_orchestrator, description="preflight, guard and dispose"
        )
        return settings

    def _register_external_services(self, settings: GruponosMeltanoSettings) -> None:
        if settings.oracle_configured:  # the client modules load only when configured
            from gruponos_ext.services.oracle import oracle_service_check

            self.register_singleton(
                "connection_pool",
                f.create_connection_pool,
                cleanup=lambda manager: manager.close_all(),
                health_check=oracle_service_check(
                    _probe_timeout(settings.oracle_connect_timeout, settings)
                ),
                description="Oracle pool owner (python-oracledb, thin mode)",
            )
            self.register_singleton(
                "oracle_manager",
                f.create_oracle_connection_manager,
                description="Oracle connection manager (same object as connection_pool)",
            )
        self._register_wms(settings)

    def _register_wms(self, settings: GruponosMeltanoSettings) -> None:
        if settings.wms_configured:
            from gruponos_ext.services.wms import wms_service_check

            self.register_singleton(
                "wms_client",
                f.create_wms_client,
                health_check=wms_service_check(_probe_timeout(settings.wms_timeout, settings)),
                description="Oracle WMS REST API client",
            )

    def _register_state_store(self, settings: GruponosMeltanoSettings) -> None:
        from gruponos_ext.state.check import state_store_check

        shared = settings.state_uri is not None
        if shared or settings.state_dir is not None:
            self.register_singleton(
                "state_store",
                f.create_state_store,
                cleanup=lambda store: store.close(),
                # + 3 s: loading the driver, and libpq rounding the connect timeout up.
                health_check=state_store_check(
                    _probe_timeout(settings.state_timeout, settings) + 3.0, shared=shared
                ),
                description="runs, locks, health and alert history "
                + ("(PostgreSQL, shared by every host)" if shared else "(SQLite)"),
            )

    def register_production_services(self) -> None:
        """Real services from the settings; strict data validation."""
        self._register_real_services(
            "production", f.create_strict_data_validator, "strict record rules"
        )

    def register_development_services(self) -> None:
        """Real services from the settings; lenient data validation."""
        self._register_real_services("development", f.create_data_validator, "lenient record rules")

    def _register_real_services(
        self, profile: Profile, data_validator: Factory, validator_description: str
    ) -> None:
        """What the production and development sets share: real systems, stored state."""
        settings = self._register_common(profile)
        self._register_external_services(settings)
        self._register_state_store(settings)
        self.register_transient("data_validator", data_validator, description=validator_description)
        self.register_singleton(
            "alert_manager", f.create_alert_manager, description="alert channels from settings"
        )

    def register_test_services(self) -> None:
        """Real but test-safe services: no production endpoints, alerts to a recorder.

        Oracle is wired only from ``GRUPONOS_TEST_ORACLE_*`` (never from the
        production settings); the WMS client only for a loopback URL; state
        lives in a temporary directory removed on dispose.
        """
        settings = self._register_common("test")
        self._register_test_oracle()
        if settings.wms_configured and _is_loopback(str(settings.wms_base_url)):
            self._register_wms(settings)
        self.register_singleton(
            "state_store",
            f.create_temporary_state_store,
            cleanup=f.remove_temporary_state_store,
            description="runs, locks, health and alert history (temporary SQLite)",
        )
        self.register_transient(
            "data_validator", f.create_data_validator, description="lenient record rules"
        )
        self.register_singleton(
            "alert_manager",
            f.create_recording_alert_manager,
            description="alerts recorded in memory, sent nowhere",
        )

    def _register_test_oracle(self) -> None:
        dsn = os.environ.get("GRUPONOS_TEST_ORACLE_DSN")
        user = os.environ.get("GRUPONOS_TEST_ORACLE_USER")
        password = os.environ.get("GRUPONOS_TEST_ORACLE_PASSWORD")
        if not (dsn and user and password):
            return
        from gruponos_ext.services.oracle import (
            OracleConfig,
            OracleConnectionManager,
            oracle_service_check,
        )

        self.register_singleton(
            "connection_pool",
            lambda: OracleConnectionManager(OracleConfig.from_dsn(dsn, user, password)),
            cleanup=lambda manager: manager.close_all(),
            health_check=oracle_service_check(
                _probe_timeout(self.settings.oracle_connect_timeout, self.settings)
            ),
            description="Oracle test database (GRUPONOS_TEST_ORACLE_DSN)",
        )
        self.register_singleton("oracle_manager", f.create_oracle_connection_manager)

    def configure_for_testing(self) -> None:
        """The seed's integration-testing set: :meth:`register_test_services`."""
        self.register_test_services()
        self.profile_choice = ProfileChoice(
            "test", self.settings.environment, "configure_for_testing()"
        )

    # -- health ----------------------------------------------------------------
    def health_checks(self) -> list[HealthCheck]:
        """Built-in checks plus every check a registration carries.

        Critical checks are also tagged ``critical`` so ``--tag critical``
        (and preflight) select them.
        """
        from gruponos_ext.health import checks as builtin
        from gruponos_ext.health.registry import checks_from_container

        settings = self.settings
        root = settings.project_root
        found: list[HealthCheck] = [
            builtin.settings_check(_reload_settings),
            builtin.disk_space_check(
                root or settings.state_dir,
                warn_mb=settings.health_disk_warn_mb,
                fail_mb=settings.health_disk_fail_mb,
            ),
            builtin.meltano_db_check(os.environ.get("MELTANO_DATABASE_URI"), base_dir=root),
            builtin.state_dir_check(settings.state_dir),
            builtin.breakers_check(self.resolve("breakers") if "breakers" in self else None),
        ]
        found += checks_from_container(self)
        names = {check.name for check in found}
        found += _unconfigured_checks(settings, names)
        tagged = [
            dataclasses.replace(c, tags=c.tags | {"critical"}) if c.critical else c for c in found
        ]
        # Not tagged critical: preflight runs the critical checks, and a job
        # must never be refused because it (or another job) is overdue.
        return [*tagged, self._schedule_freshness_check()]

    def _schedule_freshness_check(self) -> HealthCheck:
        """``schedules:freshness`` over the project's meltano.yml and the state store."""
        from gruponos_ext.health.freshness import schedule_freshness_check
        from gruponos_ext.project.schedule_cache import SCHEDULE_CACHE_FILE, cached_schedules

        settings = self.settings
        root, state_dir = settings.project_root, settings.state_dir
        cache_file = state_dir / SCHEDULE_CACHE_FILE if state_dir is not None else None
        return schedule_freshness_check(
            functools.partial(cached_schedules, root, cache_file) if root is not None else None,
            self._state_store_getter(),
            grace=settings.schedule_grace,
            exclude=settings.schedule_exclude,
            critical_jobs=settings.critical_jobs,
        )

    def _state_store_getter(self) -> Callable[[], StateStore] | None:
        """The state store for a check, resolved now when it can be.

        Resolved here, before the checks run (maybe in a child process), the
        store's module is loaded once: the report is recorded in the same
        store afterwards. A store that cannot be created is the check's
        failure, when it runs.
        """
        if "state_store" not in self:
            return None
        resolved = self.try_resolve("state_store")
        if resolved.success:
            store = resolved.value
            return lambda: store
        return lambda: self.resolve("state_store")

    def health_runner(
        self,
        *,
        default_timeout: float | None = None,
        deadline: float | None = None,
        max_check_timeout: float | None = None,
        isolate: bool = True,
    ) -> HealthCheckRunner:
        """A runner over :meth:`health_checks`, bounded by the health settings.

        ``max_check_timeout`` (the CLI's ``--timeout``) caps every check,
        including those that carry a longer timeout of their own. ``isolate``:
        run the checks in a child process when this process has one thread
        (the CLI), so even a check stuck in a GIL-holding call is bounded.
        """
        from gruponos_ext.health.runner import HealthCheckRunner

        settings = self.settings
        checks = self.health_checks()
        if max_check_timeout is not None:
            checks = [
                dataclasses.replace(c, timeout=min(c.timeout, max_check_timeout))
                if c.timeout is not None and c.timeout > 0
                else c
                for c in checks
            ]
        return HealthCheckRunner(
            checks,
            default_timeout=default_timeout or settings.health_check_timeout,
            deadline=deadline or settings.health_deadline,
            redactor=settings.redactor(),
            isolate=isolate,
        )


def _probe_timeout(own: float, settings: GruponosMeltanoSettings) -> float:
    """A health probe gets the system's own timeout, but never more than a health check may take.

    The connect/request timeouts are for the pipeline's real work; a health
    check answers "is it there?" within ``health_check_timeout``.
    """
    return min(own, settings.health_check_timeout)


def _reload_settings() -> object:
    """Settings as the environment has them now (the settings check re-reads them)."""
    from gruponos_ext.config import GruponosMeltanoSettings

    return GruponosMeltanoSettings.from_env()


def _unconfigured_checks(settings: GruponosMeltanoSettings, present: set[str]) -> list[HealthCheck]:
    """``skip`` checks for the external systems that are not configured, with the reason."""
    from gruponos_ext.health.model import CheckOutcome, HealthCheck

    candidates = (
        (
            "oracle:connection",
            "Oracle is not configured (set GRUPONOS_INFRA_ORACLE_HOST)",
            "oracle",
        ),
        (
            "wms_api:reachability",
            "the WMS API is not configured (set GRUPONOS_INFRA_WMS_BASE_URL)",
            "wms",
        ),
    )
    return [
        HealthCheck(
            name,
            functools.partial(CheckOutcome.skipped, reason),
            tags=frozenset({component, "external"}),
        )
        for name, reason, component in candidates
        if name not in present
    ]


def _is_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.")

"""``GruponosMeltanoSettings``: one flat, immutable field per Meltano setting.

Pydantic parses and checks every value (each field's type with a marker from
:mod:`~gruponos_ext.config.values` for Meltano's value forms), resolves relative paths against the
project root, and checks the rules between settings
(:mod:`~gruponos_ext.config.rules`). Whatever is wrong ends in one
:class:`~gruponos_ext.config.errors.SettingsError` naming every bad setting
by its variable at once, bad values and broken rules together.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from gruponos_ext.config.errors import (
    RULE_ERROR,
    SettingIssue,
    SettingsError,
    issues_from,
    rule_broken,
)
from gruponos_ext.config.fields import MASK, FieldShape, setting, shape_of
from gruponos_ext.config.rules import broken_rules
from gruponos_ext.config.sources import Collected, collect
from gruponos_ext.config.values import (
    ABSOLUTE_PATH,
    BOOLEAN,
    CHOICE,
    EMAIL,
    EMAIL_LIST,
    HTTP_URL,
    INTEGER,
    NAME_LIST,
    NUMBER,
    PATH,
    SECRET_HTTP_URL,
    SECRET_POSTGRES_URI,
    SECRET_TEXT,
    SQL_IDENTIFIER,
    TEXT,
    URL_PATH,
    lowercase_choice,
    relative_path_error,
)

if TYPE_CHECKING:
    from gruponos_ext.core.redaction import Redactor

__all__ = ["Environment", "GruponosMeltanoSettings", "Severity", "settings_error_from"]

Environment = Literal["production", "staging", "development", "test"]
Severity = Literal["info", "warning", "error", "critical"]

_ENVIRONMENT_ALIASES = {
    "prod": "production",
    "stage": "staging",
    "dev": "development",
    "testing": "test",
}
_FAILED = "failed"  # validation context: settings whose own value was bad

_S = TypeVar("_S", bound="GruponosMeltanoSettings")


class GruponosMeltanoSettings(BaseModel):
    """The extension's settings, one flat field per Meltano setting (immutable).

    ``GruponosMeltanoSettings()`` reads ``os.environ``; :meth:`from_env` reads a
    given mapping of environment variables; keyword arguments (or
    :meth:`from_mapping`) give values by field name and ignore the process
    environment. Any invalid value raises one :class:`SettingsError` naming
    every bad setting by its environment variable.

    Paths are never resolved against the working directory (Meltano runs a
    plugin in the caller's cwd): relative ``state_dir``, ``metrics_dir`` and
    ``oracle_wallet_location`` are resolved against ``project_root``.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_default=False,
        hide_input_in_errors=True,
        allow_inf_nan=False,
        defer_build=True,  # built below, by _build_without_plugins
    )

    # -- general
    environment: Annotated[Environment, lowercase_choice(_ENVIRONMENT_ALIASES)] = setting(
        "development",
        "Environment",
        "Service profile the extension wires: production; staging (production services); "
        "development; or test (test-safe services: temporary state, alerts kept in memory, "
        "no production endpoints), which only this setting selects. Unset, it follows the "
        "Meltano environment (MELTANO_ENVIRONMENT): prod or production gives production, "
        "staging or stage gives staging, and any other name (dev, test, testing, qa, ...) "
        "or none gives development.",
        expect="one of production, staging, development, test (or prod, stage, dev, testing)",
        dynamic_default=True,
    )
    project_root: Annotated[Path | None, ABSOLUTE_PATH] = setting(
        None,
        "Project root",
        "Meltano project directory that relative paths are resolved against. Defaults to "
        "MELTANO_PROJECT_ROOT (never the current directory); rarely set by hand.",
        fmt="absolute_path",
        dynamic_default=True,
    )
    state_dir: Annotated[Path | None, PATH] = setting(
        None,
        "State directory",
        "Where the extension keeps run locks, run history and its own state. Defaults to "
        "<MELTANO_SYS_DIR_ROOT>/gruponos-infra, i.e. .meltano/gruponos-infra in the project.",
        dynamic_default=True,
    )
    meltano_bin: Annotated[str, TEXT] = setting(
        "meltano",
        "Meltano executable",
        "Command the extension runs to call Meltano: a name on PATH or a path.",
    )
    validate_ignore: Annotated[list[str], NAME_LIST] = setting(
        [],
        "Ignored validation rules",
        "Codes of validate rules to silence (e.g. to adopt --strict on an old project).",
        fmt="rule_code",
    )

    # -- state store
    state_uri: Annotated[SecretStr | None, SECRET_POSTGRES_URI] = setting(
        None,
        "State database URI",
        "Shared database for run locks, run history and alert de-duplication, for runs on "
        "several machines: postgresql://user:password@host:port/db (or Meltano's "
        "postgresql+psycopg:// form; $MELTANO_DATABASE_URI reuses Meltano's own). Unset: the "
        "embedded SQLite database in the state directory. Secret: it may carry a password.",
        fmt="postgres_uri",
    )
    state_schema: Annotated[str, SQL_IDENTIFIER] = setting(
        "gruponos_infra",
        "State database schema",
        "PostgreSQL schema holding every table of the extension (created if missing).",
        fmt="sql_identifier",
    )
    state_timeout: Annotated[float, NUMBER] = setting(
        10.0,
        "State database timeout",
        "Longest wait for the state database: connecting, a lock, one statement.",
        unit="seconds",
        gt=0,
    )

    # -- Oracle
    oracle_host: Annotated[str | None, TEXT] = setting(
        None,
        "Oracle host",
        "Host name or address of the Oracle listener. Setting it enables the Oracle "
        "connection pool and its health check.",
    )
    oracle_port: Annotated[int, INTEGER] = setting(
        1521, "Oracle port", "TCP port of the Oracle listener.", ge=1, le=65535
    )
    oracle_service_name: Annotated[str | None, TEXT] = setting(
        None,
        "Oracle service name",
        "Database service name to connect to. Set this or the SID, not both.",
    )
    oracle_sid: Annotated[str | None, TEXT] = setting(
        None,
        "Oracle SID",
        "Database system identifier to connect to. Set this or the service name, not both.",
    )
    oracle_user: Annotated[str | None, TEXT] = setting(
        None, "Oracle user", "Database user; required when the Oracle host is set."
    )
    oracle_password: Annotated[SecretStr | None, SECRET_TEXT] = setting(
        None, "Oracle password", "Password of the database user; required with the host."
    )
    oracle_protocol: Annotated[Literal["tcp", "tcps"], CHOICE] = setting(
        "tcp", "Oracle protocol", "Network protocol: tcp, or tcps for TLS."
    )
    oracle_wallet_location: Annotated[Path | None, PATH] = setting(
        None,
        "Oracle wallet location",
        "Directory of the Oracle wallet used with protocol tcps only.",
    )
    oracle_pool_min: Annotated[int, INTEGER] = setting(
        1,
        "Oracle pool minimum",
        "Connections the pool keeps open; at most the pool maximum.",
        ge=1,
    )
    oracle_pool_max: Annotated[int, INTEGER] = setting(
        4, "Oracle pool maximum", "Most connections the pool opens.", ge=1
    )
    oracle_pool_increment: Annotated[int, INTEGER] = setting(
        1, "Oracle pool increment", "Connections the pool opens at a time when it grows.", ge=1
    )
    oracle_connect_timeout: Annotated[float, NUMBER] = setting(
        10.0,
        "Oracle connect timeout",
        "How long to wait for a connection to the listener.",
        unit="seconds",
        gt=0,
    )
    oracle_call_timeout: Annotated[float, NUMBER] = setting(
        60.0,
        "Oracle call timeout",
        "How long one database round trip may take.",
        unit="seconds",
        gt=0,
    )

    # -- WMS API
    wms_base_url: Annotated[str | None, HTTP_URL] = setting(
        None,
        "WMS API base URL",
        "Base URL of the Oracle WMS API. Setting it enables the WMS health check.",
        fmt="url",
    )
    wms_user: Annotated[str | None, TEXT] = setting(None, "WMS API user", "User for the WMS API.")
    wms_password: Annotated[SecretStr | None, SECRET_TEXT] = setting(
        None, "WMS API password", "Password of the WMS API user."
    )
    wms_health_path: Annotated[str, URL_PATH] = setting(
        "/",
        "WMS health path",
        "Path, under the base URL, that the WMS health check requests.",
        fmt="url_path",
    )
    wms_timeout: Annotated[float, NUMBER] = setting(
        10.0, "WMS API timeout", "How long a WMS API request may take.", unit="seconds", gt=0
    )
    wms_verify_tls: Annotated[bool, BOOLEAN] = setting(
        True, "Verify WMS TLS certificates", "Whether to verify the WMS API's TLS certificate."
    )

    # -- alerts
    alert_webhook_url: Annotated[SecretStr | None, SECRET_HTTP_URL] = setting(
        None,
        "Alert webhook URL",
        "Generic webhook that receives alerts as JSON. Secret: such URLs carry tokens.",
        fmt="url",
    )
    alert_slack_webhook_url: Annotated[SecretStr | None, SECRET_HTTP_URL] = setting(
        None,
        "Slack webhook URL",
        "Slack incoming-webhook URL for alerts. Secret: it carries a token.",
        fmt="url",
    )
    alert_smtp_host: Annotated[str | None, TEXT] = setting(
        None,
        "SMTP host",
        "Mail server for e-mail alerts; setting it enables e-mail alerts and requires the "
        "sender and at least one recipient.",
    )
    alert_smtp_port: Annotated[int, INTEGER] = setting(
        587, "SMTP port", "TCP port of the mail server.", ge=1, le=65535
    )
    alert_smtp_user: Annotated[str | None, TEXT] = setting(
        None, "SMTP user", "User to log in to the mail server with; unset for no login."
    )
    alert_smtp_password: Annotated[SecretStr | None, SECRET_TEXT] = setting(
        None, "SMTP password", "Password of the SMTP user."
    )
    alert_smtp_starttls: Annotated[bool, BOOLEAN] = setting(
        True, "SMTP STARTTLS", "Whether to upgrade the SMTP connection with STARTTLS."
    )
    alert_email_from: Annotated[str | None, EMAIL] = setting(
        None, "Alert sender", "Sender address of alert e-mails.", fmt="email"
    )
    alert_email_to: Annotated[list[str], EMAIL_LIST] = setting(
        [],
        "Alert recipients",
        "Recipient addresses of alert e-mails.",
        fmt="email",
    )
    alert_min_severity: Annotated[Severity, CHOICE] = setting(
        "warning",
        "Minimum alert severity",
        "Alerts below this severity are not sent.",
    )
    alert_dedup_window: Annotated[float, NUMBER] = setting(
        3600.0,
        "Alert de-duplication window",
        "An identical alert is sent again only after this long; 0 sends every alert.",
        unit="seconds",
        ge=0,
    )

    # -- health checks
    health_check_timeout: Annotated[float, NUMBER] = setting(
        5.0,
        "Health check timeout",
        "Time each health check may take before it is reported failed.",
        unit="seconds",
        gt=0,
    )
    health_deadline: Annotated[float, NUMBER] = setting(
        30.0,
        "Health deadline",
        "Time the whole health run may take.",
        unit="seconds",
        gt=0,
    )
    health_disk_warn_mb: Annotated[int, INTEGER] = setting(
        1024,
        "Disk warning threshold",
        "Free space at the project root, in MB, below which the disk check warns.",
        ge=0,
    )
    health_disk_fail_mb: Annotated[int, INTEGER] = setting(
        200,
        "Disk failure threshold",
        "Free space at the project root, in MB, below which the disk check fails; "
        "at most the warning threshold.",
        ge=0,
    )

    # -- circuit breakers
    breaker_failure_threshold: Annotated[int, INTEGER] = setting(
        5,
        "Breaker failure threshold",
        "Consecutive failures that open a circuit breaker.",
        ge=1,
    )
    breaker_reset_timeout: Annotated[float, NUMBER] = setting(
        30.0,
        "Breaker reset timeout",
        "How long a breaker stays open before it lets trial calls through.",
        unit="seconds",
        gt=0,
    )
    breaker_half_open_max_calls: Annotated[int, INTEGER] = setting(
        1,
        "Breaker half-open calls",
        "Trial calls a half-open breaker lets through at a time.",
        ge=1,
    )

    # -- runs
    lock_ttl: Annotated[float, NUMBER] = setting(
        21600.0,
        "Run lock TTL",
        "Age after which a run lock left by a crashed run is considered stale.",
        unit="seconds",
        gt=0,
    )
    history_retention_days: Annotated[int, INTEGER] = setting(
        30, "History retention", "Days of run history to keep.", ge=1
    )
    metrics_dir: Annotated[Path | None, PATH] = setting(
        None,
        "Metrics directory",
        "Directory to write Prometheus textfile metrics to; unset writes none.",
    )
    run_timeout: Annotated[float, NUMBER] = setting(
        0.0,
        "Run timeout",
        "Time a guarded run may take; 0 means no limit.",
        unit="seconds",
        ge=0,
    )
    run_retries: Annotated[int, INTEGER] = setting(
        0, "Run retries", "How often a failed guarded run is retried.", ge=0
    )
    run_retry_delay: Annotated[float, NUMBER] = setting(
        30.0, "Run retry delay", "Pause before a failed run is retried.", unit="seconds", ge=0
    )

    # -- schedules
    schedule_grace: Annotated[float | None, NUMBER] = setting(
        None,
        "Schedule grace",
        "How long after a schedule's due time a run may start before the schedule counts as "
        "missed. Defaults to a quarter of the schedule's interval, at least 5 minutes.",
        unit="seconds",
        dynamic_default=True,
        ge=0,
    )
    schedule_exclude: Annotated[list[str], NAME_LIST] = setting(
        [],
        "Schedules not checked",
        "Names of schedules the freshness check ignores.",
        fmt="name",
    )
    critical_jobs: Annotated[list[str], NAME_LIST] = setting(
        [],
        "Critical jobs",
        "Jobs whose missed schedule makes schedules:freshness fail (and health exit 1); other "
        "overdue jobs only warn.",
        fmt="name",
    )

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _meltano_environment: str | None = PrivateAttr(default=None)

    # -- construction -------------------------------------------------------------

    def __init__(self, **values: Any) -> None:
        """Read ``os.environ`` when called without arguments, else only ``values``."""
        self._validate_into(collect(values, {} if values else os.environ, SHAPES))

    @classmethod
    def from_env(cls: type[_S], env: Mapping[str, str] | None = None) -> _S:
        """Settings from environment variables (``os.environ`` when ``env`` is None)."""
        settings = cls.__new__(cls)
        settings._validate_into(collect({}, os.environ if env is None else env, SHAPES))
        return settings

    @classmethod
    def from_mapping(
        cls: type[_S], values: Mapping[str, Any], *, env: Mapping[str, str] | None = None
    ) -> _S:
        """Settings from values keyed by field name (strings or plain Python values).

        ``None`` and ``""`` mean unset. ``env`` (default: none at all) supplies
        the settings not in ``values`` and the ``MELTANO_*`` defaults.
        """
        settings = cls.__new__(cls)
        settings._validate_into(collect(values, {} if env is None else env, SHAPES))
        return settings

    def _validate_into(self, found: Collected) -> None:
        """Validate ``found`` into this instance, or raise every issue at once."""
        issues = list(found.unknown)
        try:
            type(self).__pydantic_validator__.validate_python(found.raw, self_instance=self)
        except ValidationError as error:
            issues += _issues_of(type(self), error, found)
        if issues:
            order = {name: index for index, name in enumerate(SHAPES)}
            issues.sort(key=lambda issue: order.get(issue.setting, -1))
            raise SettingsError(issues)
        self._sources = found.sources
        self._meltano_environment = found.meltano_environment

    @field_validator("state_dir", "metrics_dir", "oracle_wallet_location")
    @classmethod
    def _resolve_against_project_root(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None or value.is_absolute():
            return value
        failed = (info.context or {}).get(_FAILED, ())
        if "project_root" not in info.data or "project_root" in failed:
            return value  # the project root is bad itself: that is the issue to fix
        root = info.data["project_root"]
        if root is None:
            raise relative_path_error(value)
        return Path(root) / value

    @model_validator(mode="after")
    def _check_rules(self, info: ValidationInfo) -> GruponosMeltanoSettings:
        broken = broken_rules(self.__dict__, (info.context or {}).get(_FAILED, ()))
        if broken:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(type=rule_broken(reason), loc=(name,), input=None)
                    for name, reason in broken
                ],
            )
        return self

    def __eq__(self, other: object) -> bool:
        # Equal values are equal settings, wherever they came from.
        if not isinstance(other, GruponosMeltanoSettings):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # list field: not hashable anyway

    # -- views ----------------------------------------------------------------------

    @property
    def oracle_configured(self) -> bool:
        """An Oracle host is set: the pool and its health check are wanted."""
        return bool(self.oracle_host)

    @property
    def wms_configured(self) -> bool:
        """A WMS API base URL is set."""
        return bool(self.wms_base_url)

    @property
    def smtp_configured(self) -> bool:
        """An SMTP host is set: alerts are also sent by e-mail."""
        return bool(self.alert_smtp_host)

    @property
    def is_production(self) -> bool:
        """The production environment is selected."""
        return self.environment == "production"

    @property
    def meltano_environment(self) -> str | None:
        """The Meltano environment name ``environment`` followed, when it did."""
        return self._meltano_environment

    def describe_sources(self) -> dict[str, str]:
        """Where each value came from: ``env:<VAR>``, ``argument`` or ``default``.

        A variable holding exactly the default (as Meltano exports the
        definition's defaults) counts as ``default``.
        """
        return {name: self._sources.get(name, "default") for name in type(self).model_fields}

    def secret_values(self) -> tuple[str, ...]:
        """The values of every secret setting that is set, for scrubbing output.

        Never print these; they exist so reports and alerts can be checked
        for (and cleaned of) them.
        """
        values = (getattr(self, name) for name in type(self).model_fields)
        return tuple(
            v.get_secret_value()
            for v in values
            if isinstance(v, SecretStr) and v.get_secret_value()
        )

    def redactor(self) -> Redactor:
        """The :class:`~gruponos_ext.core.redaction.Redactor` for text from outside.

        It knows every secret setting that is set, and the user/password
        pairs, so an echoed ``Authorization: Basic`` header is caught too.
        """
        from gruponos_ext.core.redaction import Redactor

        def password(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value is not None else None

        return Redactor.of(
            self.secret_values(),
            credentials=[
                (self.oracle_user, password(self.oracle_password)),
                (self.wms_user, password(self.wms_password)),
                (self.alert_smtp_user, password(self.alert_smtp_password)),
            ],
        )

    def masked_dump(self) -> dict[str, Any]:
        """Every field as plain JSON-able data; a set secret is ``MASK``, an unset one None."""
        dumped: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                dumped[name] = MASK
            elif isinstance(value, Path):
                dumped[name] = str(value)
            elif isinstance(value, list):
                dumped[name] = list(value)
            else:
                dumped[name] = value
        return dumped


def _build_without_plugins(model: type[BaseModel]) -> None:
    """Build ``model``'s validator with third-party pydantic plugins switched off.

    A pydantic plugin (entry-point group ``pydantic``) is handed every input
    the models it observes validate: for these settings that is the raw
    values, secrets included, so none is given them
    (``PYDANTIC_DISABLE_PLUGINS``, pydantic's documented switch). Other
    models keep their plugins: pydantic's cache of them is not touched, and
    the variable is restored at once.

    Speed trick, measured by bench/bench_startup.py: pydantic imports its
    plugin loader, and with it ``importlib.metadata`` (email, zipfile, csv,
    socket: ~10 ms of every ``health`` run), even when the switch is off.
    While this one validator is built, a loader that finds no plugins stands
    in for it; a later model imports the real one. Should pydantic stop
    importing the loader this way, the switch alone still keeps plugins out.
    """
    previous = os.environ.get(_DISABLE_PLUGINS)
    os.environ[_DISABLE_PLUGINS] = "__all__"
    stand_in = None
    if _PLUGIN_LOADER not in sys.modules:
        stand_in = types.ModuleType(_PLUGIN_LOADER, "no pydantic plugins (gruponos_ext)")
        stand_in.get_plugins = _no_plugins  # type: ignore[attr-defined]
        sys.modules[_PLUGIN_LOADER] = stand_in
    try:
        model.model_rebuild(force=True)
    finally:
        if stand_in is not None and sys.modules.get(_PLUGIN_LOADER) is stand_in:
            del sys.modules[_PLUGIN_LOADER]
        if previous is None:
            del os.environ[_DISABLE_PLUGINS]
        else:
            os.environ[_DISABLE_PLUGINS] = previous


_PLUGIN_LOADER = "pydantic.plugin._loader"


def _no_plugins(*_args: object, **_kwargs: object) -> tuple[()]:
    """What the stand-in loader answers, whatever it is asked: no plugins."""
    return ()


_DISABLE_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"
_build_without_plugins(GruponosMeltanoSettings)

SHAPES: dict[str, FieldShape] = {
    name: shape_of(name, info) for name, info in GruponosMeltanoSettings.model_fields.items()
}
"""What each setting's values look like, in model order."""


def _issues_of(
    cls: type[GruponosMeltanoSettings], error: ValidationError, found: Collected
) -> list[SettingIssue]:
    """The issues of ``error``; with bad values, also the rules the good values break.

    Pydantic checks the rules (a model validator) only once every value is
    valid, so they are checked again on the good values alone, the failed
    ones named in the context so their rules are skipped.
    """
    issues = issues_from(error, SHAPES, raw=found.raw, variables=found.variables)
    if all(line["type"] == RULE_ERROR for line in error.errors(include_input=False)):
        return issues
    failed = frozenset(issue.setting for issue in issues)
    good = {name: value for name, value in found.raw.items() if name not in failed}
    try:
        cls.__pydantic_validator__.validate_python(
            good, self_instance=cls.__new__(cls), context={_FAILED: failed}
        )
    except ValidationError as rules:
        issues += issues_from(rules, SHAPES, raw=good, variables=found.variables)
    return issues


def settings_error_from(error: ValidationError) -> SettingsError:
    """A :class:`SettingsError` for a pydantic error about these settings' fields.

    Input values are never shown: the error does not say which were secret.
    """
    return SettingsError(issues_from(error, SHAPES))

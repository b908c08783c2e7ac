"""Settings of the ``gruponos-infra`` utility: :class:`GruponosMeltanoSettings`.

Meltano hands a utility its settings as environment variables; for setting
``oracle_port`` the variable is ``GRUPONOS_INFRA_ORACLE_PORT``. Every value
arrives as a string: booleans as ``true``/``false`` (``True``/``False`` when
meltano.yml holds a YAML boolean), lists comma-separated or as a JSON array
(a Python-style list when meltano.yml holds a YAML list), and an empty string
means "not set".

Parsing is done here rather than by pydantic's validators so that one
:class:`SettingsError` can name *every* bad setting by its environment variable,
in plain words, without ever echoing a secret. Pydantic still validates the
parsed values (same constraints), so the model is sound however it is built.

:data:`SETTING_SPECS` describes each setting for Meltano; the plugin
definition in ``plugin_definitions/`` is checked against it.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Literal,
    TypeVar,
    Union,
    get_args,
    get_origin,
)

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError

from gruponos_ext.core.errors import GruponosError

if TYPE_CHECKING:
    from gruponos_ext.core.redaction import Redactor

__all__ = [
    "ENV_PREFIX",
    "MASK",
    "SETTING_SPECS",
    "GruponosMeltanoSettings",
    "SettingIssue",
    "SettingSpec",
    "SettingsError",
    "env_var_for",
    "meltano_setting_definitions",
    "unknown_env_vars",
]

ENV_PREFIX = "GRUPONOS_INFRA_"
"""Prefix of the variables Meltano exports for this plugin's settings."""

MASK = "********"
"""How a secret that is set is shown by :meth:`GruponosMeltanoSettings.masked_dump`."""

Environment = Literal["production", "staging", "development", "test"]
Severity = Literal["info", "warning", "error", "critical"]

_ENVIRONMENT_ALIASES: dict[str, Environment] = {
    "production": "production",
    "prod": "production",
    "staging": "staging",
    "stage": "staging",
    "development": "development",
    "dev": "development",
    "test": "test",
    "testing": "test",
}
_ENVIRONMENT_CHOICES = "production, staging, development, test (or prod, stage, dev, testing)"

_TRUE = frozenset({"true", "1", "yes", "on", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "off", "n", "f"})

# Deliberately loose: catches "ops.example.com" or "a@b@c", not RFC 5322.
_EMAIL_RE = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+$")
# PostgreSQL folds unquoted names to lower case and cuts them at 63 bytes.
_SQL_IDENTIFIER_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_S = TypeVar("_S", bound="GruponosMeltanoSettings")


def env_var_for(setting: str) -> str:
    """The environment variable Meltano exports for ``setting``."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", setting).upper()


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class SettingIssue:
    """One invalid setting: its field name, the variable to fix, and why."""

    setting: str
    env_var: str
    reason: str

    def __str__(self) -> str:
        return f"{self.env_var}: {self.reason}"


class SettingsError(GruponosError):
    """The settings are invalid; ``issues`` lists every problem, secrets never shown."""

    code = "INVALID_SETTINGS"
    exit_code = 2

    def __init__(self, issues: Sequence[SettingIssue]) -> None:
        self.issues: tuple[SettingIssue, ...] = tuple(issues)
        if len(self.issues) == 1:
            message = f"invalid setting {self.issues[0]}"
        else:
            lines = "\n".join(f"  {issue}" for issue in self.issues)
            message = f"{len(self.issues)} invalid settings:\n{lines}"
        super().__init__(
            message,
            details={
                "issues": [
                    {"setting": i.setting, "env_var": i.env_var, "reason": i.reason}
                    for i in self.issues
                ]
            },
        )

    @property
    def env_vars(self) -> tuple[str, ...]:
        """The variables named by the issues, in order."""
        return tuple(issue.env_var for issue in self.issues)


# --------------------------------------------------------------------------- the model


def _setting(
    default: Any,
    label: str,
    description: str,
    *,
    unit: str | None = None,
    fmt: str | None = None,
    dynamic_default: bool = False,
    **constraints: Any,
) -> Any:
    """A pydantic Field carrying what the Meltano definition needs to say."""
    extra: dict[str, Any] = {}
    if unit:
        extra["unit"] = unit
    if fmt:
        extra["format"] = fmt
    if dynamic_default:
        extra["dynamic_default"] = True
    if isinstance(default, list):
        return Field(
            default_factory=list,
            title=label,
            description=description,
            json_schema_extra=extra,
            **constraints,
        )
    return Field(
        default, title=label, description=description, json_schema_extra=extra, **constraints
    )


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

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)

    # -- general
    environment: Environment = _setting(
        "development",
        "Environment",
        "Service profile the extension wires: production, staging, development or test; "
        "Meltano's names prod, stage, dev and testing are accepted. Defaults to the "
        "Meltano environment (MELTANO_ENVIRONMENT), else development.",
        dynamic_default=True,
    )
    project_root: Path | None = _setting(
        None,
        "Project root",
        "Meltano project directory that relative paths are resolved against. Defaults to "
        "MELTANO_PROJECT_ROOT (never the current directory); rarely set by hand.",
        fmt="absolute_path",
        dynamic_default=True,
    )
    state_dir: Path | None = _setting(
        None,
        "State directory",
        "Where the extension keeps run locks, run history and its own state. Defaults to "
        "<MELTANO_SYS_DIR_ROOT>/gruponos-infra, i.e. .meltano/gruponos-infra in the project.",
        dynamic_default=True,
    )
    meltano_bin: str = _setting(
        "meltano",
        "Meltano executable",
        "Command the extension runs to call Meltano: a name on PATH or a path.",
    )
    validate_ignore: list[str] = _setting(
        [],
        "Ignored validation rules",
        "Codes of validate rules to silence (e.g. to adopt --strict on an old project).",
        fmt="rule_code",
    )

    # -- state store
    state_uri: SecretStr | None = _setting(
        None,
        "State database URI",
        "Shared database for run locks, run history and alert de-duplication, for runs on "
        "several machines: postgresql://user:password@host:port/db (or Meltano's "
        "postgresql+psycopg:// form; $MELTANO_DATABASE_URI reuses Meltano's own). Unset: the "
        "embedded SQLite database in the state directory. Secret: it may carry a password.",
        fmt="postgres_uri",
    )
    state_schema: str = _setting(
        "gruponos_infra",
        "State database schema",
        "PostgreSQL schema holding every table of the extension (created if missing).",
        fmt="sql_identifier",
    )
    state_timeout: Annotated[float, Field(gt=0)] = _setting(
        10.0,
        "State database timeout",
        "Longest wait for the state database: connecting, a lock, one statement.",
        unit="seconds",
    )

    # -- Oracle
    oracle_host: str | None = _setting(
        None,
        "Oracle host",
        "Host name or address of the Oracle listener. Setting it enables the Oracle "
        "connection pool and its health check.",
    )
    oracle_port: Annotated[int, Field(ge=1, le=65535)] = _setting(
        1521, "Oracle port", "TCP port of the Oracle listener."
    )
    oracle_service_name: str | None = _setting(
        None,
        "Oracle service name",
        "Database service name to connect to. Set this or the SID, not both.",
    )
    oracle_sid: str | None = _setting(
        None,
        "Oracle SID",
        "Database system identifier to connect to. Set this or the service name, not both.",
    )
    oracle_user: str | None = _setting(
        None, "Oracle user", "Database user; required when the Oracle host is set."
    )
    oracle_password: SecretStr | None = _setting(
        None, "Oracle password", "Password of the database user; required with the host."
    )
    oracle_protocol: Literal["tcp", "tcps"] = _setting(
        "tcp", "Oracle protocol", "Network protocol: tcp, or tcps for TLS."
    )
    oracle_wallet_location: Path | None = _setting(
        None,
        "Oracle wallet location",
        "Directory of the Oracle wallet used with protocol tcps only.",
    )
    oracle_pool_min: Annotated[int, Field(ge=1)] = _setting(
        1, "Oracle pool minimum", "Connections the pool keeps open; at most the pool maximum."
    )
    oracle_pool_max: Annotated[int, Field(ge=1)] = _setting(
        4, "Oracle pool maximum", "Most connections the pool opens."
    )
    oracle_pool_increment: Annotated[int, Field(ge=1)] = _setting(
        1, "Oracle pool increment", "Connections the pool opens at a time when it grows."
    )
    oracle_connect_timeout: Annotated[float, Field(gt=0)] = _setting(
        10.0,
        "Oracle connect timeout",
        "How long to wait for a connection to the listener.",
        unit="seconds",
    )
    oracle_call_timeout: Annotated[float, Field(gt=0)] = _setting(
        60.0,
        "Oracle call timeout",
        "How long one database round trip may take.",
        unit="seconds",
    )

    # -- WMS API
    wms_base_url: str | None = _setting(
        None,
        "WMS API base URL",
        "Base URL of the Oracle WMS API. Setting it enables the WMS health check.",
        fmt="url",
    )
    wms_user: str | None = _setting(None, "WMS API user", "User for the WMS API.")
    wms_password: SecretStr | None = _setting(
        None, "WMS API password", "Password of the WMS API user."
    )
    wms_health_path: str = _setting(
        "/",
        "WMS health path",
        "Path, under the base URL, that the WMS health check requests.",
        fmt="url_path",
    )
    wms_timeout: Annotated[float, Field(gt=0)] = _setting(
        10.0, "WMS API timeout", "How long a WMS API request may take.", unit="seconds"
    )
    wms_verify_tls: bool = _setting(
        True, "Verify WMS TLS certificates", "Whether to verify the WMS API's TLS certificate."
    )

    # -- alerts
    alert_webhook_url: SecretStr | None = _setting(
        None,
        "Alert webhook URL",
        "Generic webhook that receives alerts as JSON. Secret: such URLs carry tokens.",
        fmt="url",
    )
    alert_slack_webhook_url: SecretStr | None = _setting(
        None,
        "Slack webhook URL",
        "Slack incoming-webhook URL for alerts. Secret: it carries a token.",
        fmt="url",
    )
    alert_smtp_host: str | None = _setting(
        None,
        "SMTP host",
        "Mail server for e-mail alerts; setting it enables e-mail alerts and requires the "
        "sender and at least one recipient.",
    )
    alert_smtp_port: Annotated[int, Field(ge=1, le=65535)] = _setting(
        587, "SMTP port", "TCP port of the mail server."
    )
    alert_smtp_user: str | None = _setting(
        None, "SMTP user", "User to log in to the mail server with; unset for no login."
    )
    alert_smtp_password: SecretStr | None = _setting(
        None, "SMTP password", "Password of the SMTP user."
    )
    alert_smtp_starttls: bool = _setting(
        True, "SMTP STARTTLS", "Whether to upgrade the SMTP connection with STARTTLS."
    )
    alert_email_from: str | None = _setting(
        None, "Alert sender", "Sender address of alert e-mails.", fmt="email"
    )
    alert_email_to: list[str] = _setting(
        [],
        "Alert recipients",
        "Recipient addresses of alert e-mails.",
        fmt="email",
    )
    alert_min_severity: Severity = _setting(
        "warning",
        "Minimum alert severity",
        "Alerts below this severity are not sent.",
    )
    alert_dedup_window: Annotated[float, Field(ge=0)] = _setting(
        3600.0,
        "Alert de-duplication window",
        "An identical alert is sent again only after this long; 0 sends every alert.",
        unit="seconds",
    )

    # -- health checks
    health_check_timeout: Annotated[float, Field(gt=0)] = _setting(
        5.0,
        "Health check timeout",
        "Time each health check may take before it is reported failed.",
        unit="seconds",
    )
    health_deadline: Annotated[float, Field(gt=0)] = _setting(
        30.0,
        "Health deadline",
        "Time the whole health run may take.",
        unit="seconds",
    )
    health_disk_warn_mb: Annotated[int, Field(ge=0)] = _setting(
        1024,
        "Disk warning threshold",
        "Free space at the project root, in MB, below which the disk check warns.",
    )
    health_disk_fail_mb: Annotated[int, Field(ge=0)] = _setting(
        200,
        "Disk failure threshold",
        "Free space at the project root, in MB, below which the disk check fails; "
        "at most the warning threshold.",
    )

    # -- circuit breakers
    breaker_failure_threshold: Annotated[int, Field(ge=1)] = _setting(
        5,
        "Breaker failure threshold",
        "Consecutive failures that open a circuit breaker.",
    )
    breaker_reset_timeout: Annotated[float, Field(gt=0)] = _setting(
        30.0,
        "Breaker reset timeout",
        "How long a breaker stays open before it lets trial calls through.",
        unit="seconds",
    )
    breaker_half_open_max_calls: Annotated[int, Field(ge=1)] = _setting(
        1,
        "Breaker half-open calls",
        "Trial calls a half-open breaker lets through at a time.",
    )

    # -- runs
    lock_ttl: Annotated[float, Field(gt=0)] = _setting(
        21600.0,
        "Run lock TTL",
        "Age after which a run lock left by a crashed run is considered stale.",
        unit="seconds",
    )
    history_retention_days: Annotated[int, Field(ge=1)] = _setting(
        30, "History retention", "Days of run history to keep."
    )
    metrics_dir: Path | None = _setting(
        None,
        "Metrics directory",
        "Directory to write Prometheus textfile metrics to; unset writes none.",
    )
    run_timeout: Annotated[float, Field(ge=0)] = _setting(
        0.0, "Run timeout", "Time a guarded run may take; 0 means no limit.", unit="seconds"
    )
    run_retries: Annotated[int, Field(ge=0)] = _setting(
        0, "Run retries", "How often a failed guarded run is retried."
    )
    run_retry_delay: Annotated[float, Field(ge=0)] = _setting(
        30.0, "Run retry delay", "Pause before a failed run is retried.", unit="seconds"
    )

    # -- schedules
    schedule_grace: float | None = _setting(
        None,
        "Schedule grace",
        "How long after a schedule's due time a run may start before the schedule counts as "
        "missed. Defaults to a quarter of the schedule's interval, at least 5 minutes.",
        unit="seconds",
        dynamic_default=True,
        ge=0,
    )
    schedule_exclude: list[str] = _setting(
        [],
        "Schedules not checked",
        "Names of schedules the freshness check ignores.",
        fmt="name",
    )

    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    _ARGUMENT: ClassVar[str] = "argument"

    def __init__(self, **values: Any) -> None:
        """Read ``os.environ`` when called without arguments, else only ``values``."""
        if values:
            resolved, sources = _resolve(values, {}, self._ARGUMENT)
        else:
            resolved, sources = _resolve({}, os.environ, self._ARGUMENT)
        self._init_resolved(resolved, sources)

    def _init_resolved(self, resolved: dict[str, Any], sources: dict[str, str]) -> None:
        try:
            super().__init__(**resolved)
        except ValidationError as exc:  # pragma: no cover - _resolve checks the same rules
            raise _issues_from_validation_error(exc) from None
        self._sources = sources

    @classmethod
    def _build(cls: type[_S], values: Mapping[str, Any], env: Mapping[str, str], source: str) -> _S:
        resolved, sources = _resolve(values, env, source)
        settings = cls.__new__(cls)
        settings._init_resolved(resolved, sources)
        return settings

    @classmethod
    def from_env(cls: type[_S], env: Mapping[str, str] | None = None) -> _S:
        """Settings from environment variables (``os.environ`` when ``env`` is None)."""
        return cls._build({}, os.environ if env is None else env, cls._ARGUMENT)

    @classmethod
    def from_mapping(
        cls: type[_S], values: Mapping[str, Any], *, env: Mapping[str, str] | None = None
    ) -> _S:
        """Settings from values keyed by field name (strings or plain Python values).

        ``None`` and ``""`` mean unset. ``env`` (default: none at all) supplies
        the settings not in ``values`` and the ``MELTANO_*`` defaults.
        """
        return cls._build(values, {} if env is None else env, cls._ARGUMENT)

    def __eq__(self, other: object) -> bool:
        # Equal values are equal settings, wherever they came from.
        if not isinstance(other, GruponosMeltanoSettings):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # list field: not hashable anyway

    # -- views

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
        """The production profile is selected."""
        return self.environment == "production"

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


# --------------------------------------------------------------------------- field metadata


@dataclass(frozen=True)
class _Field:
    """What parsing needs to know about one field, read from the model once."""

    name: str
    env_var: str
    value_type: str  # string, integer, number, boolean, choice, path, list, secret
    optional: bool
    choices: tuple[str, ...]
    fmt: str | None
    unit: str | None
    ge: float | None
    gt: float | None
    le: float | None
    default: Any
    dynamic_default: bool
    label: str
    description: str

    @property
    def secret(self) -> bool:
        return self.value_type == "secret"


def _field_table() -> dict[str, _Field]:
    table: dict[str, _Field] = {}
    for name, info in GruponosMeltanoSettings.model_fields.items():
        annotation: Any = info.annotation
        optional = False
        if get_origin(annotation) in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            optional = len(args) != len(get_args(annotation))
            annotation = args[0]
        choices: tuple[str, ...] = ()
        if get_origin(annotation) is Literal:
            value_type, choices = "choice", tuple(str(a) for a in get_args(annotation))
        elif get_origin(annotation) is list:
            value_type = "list"
        else:
            value_type = {
                bool: "boolean",
                int: "integer",
                float: "number",
                str: "string",
                Path: "path",
                SecretStr: "secret",
            }[annotation]
        bounds: dict[str, float] = {}
        for meta in info.metadata:
            for key in ("ge", "gt", "le"):
                if getattr(meta, key, None) is not None:
                    bounds[key] = getattr(meta, key)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        table[name] = _Field(
            name=name,
            env_var=env_var_for(name),
            value_type=value_type,
            optional=optional,
            choices=choices,
            fmt=str(extra["format"]) if "format" in extra else None,
            unit=str(extra["unit"]) if "unit" in extra else None,
            ge=bounds.get("ge"),
            gt=bounds.get("gt"),
            le=bounds.get("le"),
            default=[] if info.default_factory is not None else info.default,
            dynamic_default=bool(extra.get("dynamic_default")),
            label=info.title or name,
            description=info.description or "",
        )
    return table


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _expectation(field: _Field) -> str:
    """What a valid value looks like, as in "must be <expectation>"."""
    if field.value_type in ("integer", "number"):
        noun = "an integer" if field.value_type == "integer" else "a number"
        if field.unit:
            noun += f" of {field.unit}"
        if field.ge is not None and field.le is not None:
            return f"{noun} from {_number(field.ge)} to {_number(field.le)}"
        if field.ge is not None:
            return f"{noun} >= {_number(field.ge)}"
        if field.gt is not None:
            return f"{noun} > {_number(field.gt)}"
        return noun
    if field.value_type == "boolean":
        return "true or false"
    if field.name == "environment":
        return f"one of {_ENVIRONMENT_CHOICES}"
    if field.value_type == "choice":
        return "one of " + ", ".join(field.choices)
    if field.value_type == "list":
        items = {"email": "e-mail addresses", "rule_code": "rule codes", "name": "names"}
        return f"{items.get(field.fmt or '', 'values')}, comma-separated or as a JSON array"
    if field.fmt == "postgres_uri":
        return "a postgresql:// or postgresql+psycopg:// URI with a host or socket"
    if field.fmt == "sql_identifier":
        return "a lower-case SQL name: letters, digits and _, not starting with a digit"
    if field.fmt == "url":
        return "an http(s) URL with a host"
    if field.fmt == "email":
        return "an e-mail address"
    if field.fmt == "url_path":
        return "a URL path starting with '/'"
    if field.fmt == "absolute_path":
        return "an absolute path"
    if field.value_type == "path":
        return "a path; a relative one is resolved against the project root"
    return "text"


# --------------------------------------------------------------------------- parsing


class _Invalid(Exception):
    """A value was rejected; ``reason`` never contains a secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _shown(raw: object) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    if len(text) > 60:
        text = text[:57] + "..."
    return f" (got {text!r})" if isinstance(raw, str) else f" (got {text})"


def _must(field: _Field, raw: object) -> _Invalid:
    got = "" if field.secret else _shown(raw)
    return _Invalid(f"must be {_expectation(field)}{got}")


def _parse_integer(field: _Field, raw: object) -> int:
    if isinstance(raw, bool):
        raise _must(field, raw)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str):
        try:
            value = int(raw.strip())
        except ValueError:
            raise _must(field, raw) from None
    else:
        raise _must(field, raw)
    _check_bounds(field, value, raw)
    return value


def _parse_number(field: _Field, raw: object) -> float:
    import math

    if isinstance(raw, bool):
        raise _must(field, raw)
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise _must(field, raw) from None
    else:
        raise _must(field, raw)
    if not math.isfinite(value):
        raise _must(field, raw)
    _check_bounds(field, value, raw)
    return value


def _check_bounds(field: _Field, value: float, raw: object) -> None:
    if (
        (field.ge is not None and value < field.ge)
        or (field.gt is not None and value <= field.gt)
        or (field.le is not None and value > field.le)
    ):
        raise _must(field, raw)


def _parse_boolean(field: _Field, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _must(field, raw)


def _parse_choice(field: _Field, raw: object) -> str:
    if isinstance(raw, str):
        text = raw.strip().lower()
        if field.name == "environment":
            if text in _ENVIRONMENT_ALIASES:
                return _ENVIRONMENT_ALIASES[text]
        elif text in field.choices:
            return text
    raise _must(field, raw)


def _parse_string(field: _Field, raw: object) -> str:
    if not isinstance(raw, str):
        raise _must(field, raw)
    text = raw.strip()
    if field.fmt == "url":
        _check_url(field, text, raw)
    bad_email = field.fmt == "email" and not _EMAIL_RE.match(text)
    bad_path = field.fmt == "url_path" and (not text.startswith("/") or "://" in text)
    bad_name = field.fmt == "sql_identifier" and not _SQL_IDENTIFIER_RE.match(text)
    if bad_email or bad_path or bad_name:
        raise _must(field, raw)
    return text


def _check_url(field: _Field, text: str, raw: object) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        raise _must(field, raw) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        raise _must(field, raw)
    if not field.secret and (parts.username is not None or parts.password is not None):
        # Echoing it would leak the credentials it carries.
        prefix = field.env_var.removesuffix("_BASE_URL")
        raise _Invalid(
            f"must not carry credentials; set {prefix}_USER and {prefix}_PASSWORD instead"
        )


def _parse_secret(field: _Field, raw: object) -> SecretStr:
    if isinstance(raw, SecretStr):
        text = raw.get_secret_value()
    elif isinstance(raw, str):
        text = raw
    else:
        raise _Invalid("must be text")
    if field.fmt == "url":
        _check_url(field, text.strip(), raw)
        text = text.strip()
    elif field.fmt == "postgres_uri":
        text = text.strip()
        scheme = text.partition("://")[0].lower() if "://" in text else ""
        if scheme not in ("postgresql", "postgresql+psycopg", "postgres"):
            # Never echo it: the URI may carry a password.
            raise _Invalid(f"must be {_expectation(field)} (the value is not shown: a secret)")
    return SecretStr(text)


def _parse_list(field: _Field, raw: object) -> list[str]:
    items: object
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            items = _parse_list_literal(text)
            if items is None:
                raise _must(field, raw)
        else:
            items = text.split(",")
    else:
        items = raw
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise _must(field, raw)
    values = [i.strip() for i in items if i.strip()]
    if field.fmt == "email":
        bad = [v for v in values if not _EMAIL_RE.match(v)]
        if bad:
            listed = ", ".join(repr(b) for b in bad[:5])
            raise _Invalid(f"must hold e-mail addresses only; not addresses: {listed}")
    return values


def _parse_list_literal(text: str) -> object:
    """A JSON array, or the Python-style list Meltano exports for a YAML list."""
    import json

    try:
        return json.loads(text)
    except ValueError:
        pass
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _parse_path(field: _Field, raw: object, project_root: Path | None) -> Path:
    if not isinstance(raw, (str, os.PathLike)):
        raise _must(field, raw)
    path = Path(os.fspath(raw).strip()).expanduser()
    if path.is_absolute():
        return path
    if field.fmt == "absolute_path":
        raise _must(field, raw)
    if project_root is None:
        raise _Invalid(
            f"is a relative path{_shown(raw)} and no project root (MELTANO_PROJECT_ROOT) "
            "is known to resolve it against; give an absolute path"
        )
    return project_root / path


_PARSERS: dict[str, Callable[[_Field, object], object]] = {
    "integer": _parse_integer,
    "number": _parse_number,
    "boolean": _parse_boolean,
    "choice": _parse_choice,
    "string": _parse_string,
    "secret": _parse_secret,
    "list": _parse_list,
}


def _is_unset(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, SecretStr):
        raw = raw.get_secret_value()
    return isinstance(raw, str) and not raw.strip()


def _resolve(
    values: Mapping[str, Any], env: Mapping[str, str], argument_source: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse every setting; raise one SettingsError with every issue found."""
    fields = _FIELDS
    issues: list[SettingIssue] = []
    parsed: dict[str, Any] = {}
    sources: dict[str, str] = {}

    for name in values:
        if name not in fields:
            import difflib

            close = difflib.get_close_matches(name, fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            issues.append(SettingIssue(name, env_var_for(name), f"unknown setting{hint}"))

    def lookup(name: str) -> tuple[object, str] | None:
        """The first set value of ``name``: argument, then its variable."""
        raw = values.get(name)
        if not _is_unset(raw):
            return raw, argument_source
        var = fields[name].env_var
        env_raw = env.get(var)
        if env_raw is not None and env_raw.strip():
            # Meltano exports the definition's `value:` defaults too; those are defaults.
            is_default = env_raw == _meltano_default(fields[name])
            return env_raw, "default" if is_default else f"env:{var}"
        return None

    def from_meltano(var: str) -> tuple[str, str] | None:
        env_raw = env.get(var)
        return (env_raw, f"env:{var}") if env_raw is not None and env_raw.strip() else None

    def fail(name: str, source: str, reason: str) -> None:
        var = source.removeprefix("env:") if source.startswith("env:") else fields[name].env_var
        issues.append(SettingIssue(name, var, reason))

    # project_root first: the other paths are resolved against it.
    project_root: Path | None = None
    found = lookup("project_root") or from_meltano("MELTANO_PROJECT_ROOT")
    if found is not None:
        raw, source = found
        try:
            project_root = _parse_path(fields["project_root"], raw, None)
            parsed["project_root"], sources["project_root"] = project_root, source
        except _Invalid as exc:
            fail("project_root", source, exc.reason)

    for name, field in fields.items():
        if name == "project_root":
            continue
        found = lookup(name)
        if found is None:
            derived = _derived_default(name, env, project_root)
            if derived is None:
                continue
            found = derived
        raw, source = found
        try:
            if field.value_type == "path":
                value: object = _parse_path(field, raw, project_root)
                if name == "state_dir" and source == "env:MELTANO_SYS_DIR_ROOT":
                    value = Path(str(value)) / "gruponos-infra"
            else:
                value = _PARSERS[field.value_type](field, raw)
        except _Invalid as exc:
            reason = exc.reason
            if source == "env:MELTANO_ENVIRONMENT":
                reason = (
                    f"Meltano environment {raw!r} is not one of {_ENVIRONMENT_CHOICES}; "
                    f"set {field.env_var} to choose the profile"
                )
            fail(name, source, reason)
            continue
        parsed[name], sources[name] = value, source

    failed = {issue.setting for issue in issues}
    issues.extend(_cross_field_issues(parsed, failed))
    if issues:
        order = {name: index for index, name in enumerate(fields)}
        issues.sort(key=lambda issue: order.get(issue.setting, -1))
        raise SettingsError(issues)
    return parsed, sources


def _derived_default(
    name: str, env: Mapping[str, str], project_root: Path | None
) -> tuple[object, str] | None:
    """Defaults that come from Meltano's own variables."""
    if name == "environment":
        raw = env.get("MELTANO_ENVIRONMENT")
        return (raw, "env:MELTANO_ENVIRONMENT") if raw is not None and raw.strip() else None
    if name == "state_dir":
        raw = env.get("MELTANO_SYS_DIR_ROOT")
        if raw is not None and raw.strip():
            return raw, "env:MELTANO_SYS_DIR_ROOT"
        if project_root is not None:
            return project_root / ".meltano" / "gruponos-infra", "default"
    return None


def _cross_field_issues(parsed: Mapping[str, Any], failed: set[str]) -> list[SettingIssue]:
    """Rules between settings; a rule whose inputs failed on their own is skipped."""
    issues: list[SettingIssue] = []
    var = env_var_for

    def ok(*names: str) -> bool:
        return not failed.intersection(names)

    def add(name: str, reason: str) -> None:
        issues.append(SettingIssue(name, var(name), reason))

    def get(name: str) -> Any:
        return parsed.get(name, _FIELDS[name].default)

    if ok("oracle_pool_min", "oracle_pool_max"):
        low, high = get("oracle_pool_min"), get("oracle_pool_max")
        if low > high:
            add("oracle_pool_min", f"must not exceed {var('oracle_pool_max')} ({low} > {high})")

    if get("oracle_host"):
        host_var = var("oracle_host")
        service, sid = get("oracle_service_name"), get("oracle_sid")
        if service and sid:
            add(
                "oracle_sid",
                f"set either {var('oracle_service_name')} or {var('oracle_sid')}, not both",
            )
        elif not service and not sid:
            add(
                "oracle_service_name",
                f"is required when {host_var} is set (or set {var('oracle_sid')} instead)",
            )
        for name in ("oracle_user", "oracle_password"):
            if get(name) is None and ok(name):
                add(name, f"is required when {host_var} is set")

    if (
        get("oracle_wallet_location") is not None
        and ok("oracle_protocol")
        and get("oracle_protocol") != "tcps"
    ):
        add(
            "oracle_wallet_location",
            f"is only used with {var('oracle_protocol')}=tcps "
            f"(the protocol is {get('oracle_protocol')!r})",
        )

    for user, password in (
        ("wms_user", "wms_password"),
        ("alert_smtp_user", "alert_smtp_password"),
    ):
        if get(user) and get(password) is None and ok(password):
            add(password, f"is required when {var(user)} is set")
        if get(password) is not None and not get(user) and ok(user):
            add(user, f"is required when {var(password)} is set")

    if get("alert_smtp_host"):
        host_var = var("alert_smtp_host")
        if not get("alert_email_from") and ok("alert_email_from"):
            add("alert_email_from", f"is required when {host_var} is set")
        if not get("alert_email_to") and ok("alert_email_to"):
            add("alert_email_to", f"needs at least one address when {host_var} is set")

    if ok("health_disk_warn_mb", "health_disk_fail_mb"):
        fail_mb, warn_mb = get("health_disk_fail_mb"), get("health_disk_warn_mb")
        if fail_mb > warn_mb:
            add(
                "health_disk_fail_mb",
                f"must not exceed {var('health_disk_warn_mb')} ({fail_mb} > {warn_mb})",
            )
    return issues


def _issues_from_validation_error(exc: ValidationError) -> SettingsError:
    issues = []
    for error in exc.errors(include_input=False, include_url=False):
        name = str(error["loc"][0]) if error["loc"] else "settings"
        issues.append(SettingIssue(name, env_var_for(name), str(error["msg"]).lower()))
    return SettingsError(issues)


_FIELDS: dict[str, _Field] = _field_table()


# --------------------------------------------------------------------------- Meltano view


@dataclass(frozen=True)
class SettingSpec:
    """One setting as the Meltano plugin definition declares it.

    ``kind`` is the Meltano kind: ``password`` for secrets, else ``string``
    (typed Meltano kinds crash Meltano or silently coerce on a bad value, so
    the extension parses values itself); ``value_type`` is what the value
    means (integer, number, boolean, choice, path, list, string, secret).
    ``default`` is the value as Meltano would export it, None when there is
    no static default.
    """

    name: str
    env_var: str
    kind: str
    value_type: str
    label: str
    description: str
    default: str | None
    sensitive: bool
    choices: tuple[str, ...] = ()


def _meltano_default(field: _Field) -> str | None:
    default = field.default
    if field.dynamic_default or default is None or default == []:
        return None
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, (int, float)):
        return _number(default)
    return str(default)


def _spec(field: _Field) -> SettingSpec:
    description = field.description
    if field.value_type not in ("string", "secret") or field.fmt:
        description = f"{description} Value: {_expectation(field)}."
    return SettingSpec(
        name=field.name,
        env_var=field.env_var,
        kind="password" if field.secret else "string",
        value_type=field.value_type,
        label=field.label,
        description=description,
        default=_meltano_default(field),
        sensitive=field.secret,
        choices=field.choices,
    )


SETTING_SPECS: tuple[SettingSpec, ...] = tuple(_spec(f) for f in _FIELDS.values())
"""Every setting, in model order: the source the plugin definition is checked against."""


def meltano_setting_definitions() -> list[dict[str, Any]]:
    """The ``settings:`` list of the Meltano plugin definition, built from the model."""
    definitions: list[dict[str, Any]] = []
    for spec in SETTING_SPECS:
        entry: dict[str, Any] = {
            "name": spec.name,
            "label": spec.label,
            "kind": spec.kind,
            "description": spec.description,
        }
        if spec.default is not None:
            entry["value"] = spec.default
        if spec.sensitive:
            entry["sensitive"] = True
        definitions.append(entry)
    return definitions


def unknown_env_vars(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """``GRUPONOS_INFRA_*`` variables that name no setting (typos), each with the
    closest known variable or None. Values are never read."""
    import difflib

    env = os.environ if env is None else env
    known = {f.env_var for f in _FIELDS.values()}
    # Compare without the shared prefix, or everything looks alike.
    names = [var.removeprefix(ENV_PREFIX) for var in sorted(known)]
    unknown: dict[str, str | None] = {}
    for name in sorted(env):
        if name.startswith(ENV_PREFIX) and name not in known:
            close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), names, n=1)
            unknown[name] = ENV_PREFIX + close[0] if close else None
    return unknown

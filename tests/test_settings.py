"""GruponosMeltanoSettings: parsing of Meltano's string values, every rule,
the all-errors message, and secrets that never show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from gruponos_ext.config import (
    MASK,
    SETTING_SPECS,
    GruponosMeltanoSettings,
    SettingIssue,
    SettingsError,
    env_var_for,
    unknown_env_vars,
)
from gruponos_ext.core.errors import GruponosError

FIELDS = list(GruponosMeltanoSettings.model_fields)
SECRET_FIELDS = [
    "oracle_password",
    "wms_password",
    "alert_webhook_url",
    "alert_slack_webhook_url",
    "alert_smtp_password",
    "state_uri",
]

ORACLE_OK = {
    "GRUPONOS_INFRA_ORACLE_HOST": "db.example.com",
    "GRUPONOS_INFRA_ORACLE_SERVICE_NAME": "WMSPDB",
    "GRUPONOS_INFRA_ORACLE_USER": "wms",
    "GRUPONOS_INFRA_ORACLE_PASSWORD": "pw",
}


def load(**env: str) -> GruponosMeltanoSettings:
    return GruponosMeltanoSettings.from_env(env)


def issues_of(env: dict[str, str]) -> dict[str, str]:
    """env var -> reason of every issue the environment raises."""
    with pytest.raises(SettingsError) as caught:
        GruponosMeltanoSettings.from_env(env)
    return {issue.env_var: issue.reason for issue in caught.value.issues}


def only_issue(env: dict[str, str]) -> SettingIssue:
    with pytest.raises(SettingsError) as caught:
        GruponosMeltanoSettings.from_env(env)
    assert len(caught.value.issues) == 1, str(caught.value)
    return caught.value.issues[0]


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """os.environ without any variable the settings read."""
    import os

    for name in list(os.environ):
        if name.startswith(("GRUPONOS_INFRA_", "MELTANO_")):
            monkeypatch.delenv(name)
    return monkeypatch


# --------------------------------------------------------------------------- sources


def test_empty_environment_gives_the_documented_defaults() -> None:
    s = load()
    assert s.environment == "development"
    assert s.project_root is None
    assert s.state_dir is None
    assert s.meltano_bin == "meltano"
    assert (s.oracle_port, s.oracle_protocol, s.oracle_pool_min, s.oracle_pool_max) == (
        1521,
        "tcp",
        1,
        4,
    )
    assert (s.oracle_connect_timeout, s.oracle_call_timeout) == (10.0, 60.0)
    assert (s.wms_health_path, s.wms_timeout, s.wms_verify_tls) == ("/", 10.0, True)
    assert (s.alert_smtp_port, s.alert_smtp_starttls, s.alert_email_to) == (587, True, [])
    assert (s.alert_min_severity, s.alert_dedup_window) == ("warning", 3600.0)
    assert (s.health_disk_warn_mb, s.health_disk_fail_mb) == (1024, 200)
    assert (s.breaker_failure_threshold, s.breaker_reset_timeout) == (5, 30.0)
    assert (s.lock_ttl, s.history_retention_days, s.run_timeout, s.run_retries) == (
        21600.0,
        30,
        0.0,
        0,
    )
    assert not (s.oracle_configured or s.wms_configured or s.smtp_configured or s.is_production)
    assert set(s.describe_sources().values()) == {"default"}


def test_no_arguments_reads_os_environ(clean_environ: pytest.MonkeyPatch) -> None:
    clean_environ.setenv("GRUPONOS_INFRA_ORACLE_PORT", "1600")
    clean_environ.setenv("MELTANO_ENVIRONMENT", "prod")
    s = GruponosMeltanoSettings()
    assert s.oracle_port == 1600
    assert s.environment == "production"
    assert GruponosMeltanoSettings.from_env() == s


def test_keyword_arguments_ignore_os_environ(clean_environ: pytest.MonkeyPatch) -> None:
    clean_environ.setenv("GRUPONOS_INFRA_ORACLE_PORT", "1600")
    clean_environ.setenv("MELTANO_ENVIRONMENT", "prod")
    s = GruponosMeltanoSettings(wms_timeout=3)
    assert (s.oracle_port, s.environment, s.wms_timeout) == (1521, "development", 3.0)
    assert s.describe_sources()["wms_timeout"] == "argument"


def test_env_var_name_is_prefix_plus_upper_field_name() -> None:
    assert env_var_for("oracle_port") == "GRUPONOS_INFRA_ORACLE_PORT"
    assert [spec.env_var for spec in SETTING_SPECS] == [
        "GRUPONOS_INFRA_" + name.upper() for name in FIELDS
    ]
    s = load(GRUPONOS_INFRA_HEALTH_DEADLINE="12.5", GRUPONOS_INFRA_MELTANO_BIN="/opt/m")
    assert (s.health_deadline, s.meltano_bin) == (12.5, "/opt/m")


def test_empty_or_blank_string_means_unset() -> None:
    s = load(
        GRUPONOS_INFRA_ORACLE_PORT="",
        GRUPONOS_INFRA_WMS_VERIFY_TLS="  ",
        GRUPONOS_INFRA_ORACLE_HOST="",
        GRUPONOS_INFRA_ORACLE_PASSWORD="",
        MELTANO_ENVIRONMENT="",
    )
    assert (s.oracle_port, s.wms_verify_tls, s.oracle_host, s.oracle_password) == (
        1521,
        True,
        None,
        None,
    )
    assert s.environment == "development"
    m = GruponosMeltanoSettings.from_mapping({"oracle_port": "", "oracle_host": None})
    assert (m.oracle_port, m.oracle_host) == (1521, None)


def test_describe_sources_names_the_variable_meltano_variable_default_or_argument() -> None:
    s = load(
        GRUPONOS_INFRA_ORACLE_HOST="db",
        GRUPONOS_INFRA_ORACLE_SID="WMS",
        GRUPONOS_INFRA_ORACLE_USER="u",
        GRUPONOS_INFRA_ORACLE_PASSWORD="p",
        GRUPONOS_INFRA_ORACLE_PORT="1521",  # what Meltano exports for the definition default
        MELTANO_ENVIRONMENT="staging",
        MELTANO_PROJECT_ROOT="/srv/project",
    )
    sources = s.describe_sources()
    assert sources["oracle_host"] == "env:GRUPONOS_INFRA_ORACLE_HOST"
    assert sources["environment"] == "env:MELTANO_ENVIRONMENT"
    assert sources["project_root"] == "env:MELTANO_PROJECT_ROOT"
    assert sources["oracle_port"] == "default"
    assert sources["wms_timeout"] == "default"
    assert set(sources) == set(FIELDS)
    assert load(GRUPONOS_INFRA_ORACLE_PORT="1522").describe_sources()["oracle_port"] == (
        "env:GRUPONOS_INFRA_ORACLE_PORT"
    )
    from_args = GruponosMeltanoSettings.from_mapping({"oracle_port": 1600})
    assert from_args.describe_sources()["oracle_port"] == "argument"


def test_from_mapping_takes_plain_python_values() -> None:
    s = GruponosMeltanoSettings.from_mapping(
        {
            "oracle_port": 1600,
            "wms_verify_tls": False,
            "wms_timeout": 2,
            "alert_email_to": ["a@example.com", "b@example.com"],
            "state_dir": Path("/var/state"),
            "wms_user": "u",
            "wms_password": SecretStr("pw"),
        }
    )
    assert (s.oracle_port, s.wms_verify_tls, s.wms_timeout) == (1600, False, 2.0)
    assert s.alert_email_to == ["a@example.com", "b@example.com"]
    assert s.state_dir == Path("/var/state")
    assert s.wms_password is not None and s.wms_password.get_secret_value() == "pw"


def test_from_mapping_uses_env_only_when_given() -> None:
    env = {"MELTANO_PROJECT_ROOT": "/srv/p", "GRUPONOS_INFRA_ORACLE_PORT": "1700"}
    s = GruponosMeltanoSettings.from_mapping({"wms_timeout": 1}, env=env)
    assert (s.project_root, s.oracle_port, s.wms_timeout) == (Path("/srv/p"), 1700, 1.0)
    assert GruponosMeltanoSettings.from_mapping({"oracle_port": 1800}, env=env).oracle_port == 1800


def test_from_mapping_rejects_unknown_setting_with_suggestion() -> None:
    with pytest.raises(SettingsError) as caught:
        GruponosMeltanoSettings.from_mapping({"oracle_hots": "db"})
    (issue,) = caught.value.issues
    assert issue.env_var == "GRUPONOS_INFRA_ORACLE_HOTS"
    assert "unknown setting" in issue.reason and "oracle_host" in issue.reason


def test_from_mapping_rejects_a_boolean_for_an_integer() -> None:
    with pytest.raises(SettingsError, match="GRUPONOS_INFRA_ORACLE_PORT: must be an integer"):
        GruponosMeltanoSettings.from_mapping({"oracle_port": True})


def test_settings_are_frozen_and_equal_by_value_whatever_the_source() -> None:
    s = load(GRUPONOS_INFRA_ORACLE_PORT="1600")
    with pytest.raises(ValidationError):
        s.oracle_port = 1  # type: ignore[misc,unused-ignore]
    assert s == GruponosMeltanoSettings.from_mapping({"oracle_port": 1600})
    assert s != load()


def test_model_validate_goes_through_the_same_parser() -> None:
    with pytest.raises(SettingsError, match="GRUPONOS_INFRA_ORACLE_PORT"):
        GruponosMeltanoSettings.model_validate({"oracle_port": 0})
    assert GruponosMeltanoSettings.model_validate({"oracle_port": "15"}).oracle_port == 15


def test_pydantic_errors_are_translated_without_input_values() -> None:
    from pydantic import BaseModel

    from gruponos_ext.config.model import settings_error_from as _issues_from_validation_error

    class Probe(BaseModel):
        oracle_port: int

    with pytest.raises(ValidationError) as caught:
        Probe(oracle_port="Pl4nted")  # type: ignore[arg-type]
    error = _issues_from_validation_error(caught.value)
    (issue,) = error.issues
    assert issue.env_var == "GRUPONOS_INFRA_ORACLE_PORT"
    assert "Pl4nted" not in str(error)


def test_unknown_env_vars_lists_typos_with_the_closest_variable() -> None:
    env = {
        "GRUPONOS_INFRA_ORACLE_HOTS": "db",
        "GRUPONOS_INFRA_ORACLE_HOST": "db",
        "GRUPONOS_INFRA_ZZZ": "1",
        "OTHER": "x",
    }
    assert unknown_env_vars(env) == {
        "GRUPONOS_INFRA_ORACLE_HOTS": "GRUPONOS_INFRA_ORACLE_HOST",
        "GRUPONOS_INFRA_ZZZ": None,
    }


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("production", "production"),
        ("prod", "production"),
        ("PROD", "production"),
        ("Production", "production"),
        ("staging", "staging"),
        ("stage", "staging"),
        ("development", "development"),
        ("dev", "development"),
        ("Dev", "development"),
        ("test", "test"),
        ("testing", "test"),
    ],
)
def test_environment_accepts_meltano_style_aliases(given: str, expected: str) -> None:
    assert load(GRUPONOS_INFRA_ENVIRONMENT=given).environment == expected


@pytest.mark.parametrize(
    ("meltano_environment", "expected"),
    [
        ("production", "production"),
        ("prod", "production"),
        ("PROD", "production"),
        ("Production", "production"),
        ("staging", "staging"),
        ("stage", "staging"),
        ("development", "development"),
        ("dev", "development"),
        ("Dev", "development"),
        # a Meltano environment's name never selects the test-safe profile
        ("test", "development"),
        ("testing", "development"),
        ("TEST", "development"),
        ("qa", "development"),
        ("uat-2", "development"),
        ("  prod  ", "production"),
    ],
)
def test_meltano_environment_names_map_to_production_staging_or_development(
    meltano_environment: str, expected: str
) -> None:
    s = load(MELTANO_ENVIRONMENT=meltano_environment)
    assert s.environment == expected
    assert s.describe_sources()["environment"] == "env:MELTANO_ENVIRONMENT"
    assert s.meltano_environment == meltano_environment.strip()


def test_environment_setting_wins_over_meltano_environment() -> None:
    s = load(GRUPONOS_INFRA_ENVIRONMENT="test", MELTANO_ENVIRONMENT="prod")
    assert s.environment == "test"
    assert s.describe_sources()["environment"] == "env:GRUPONOS_INFRA_ENVIRONMENT"
    # an unknown Meltano environment is fine once the profile is chosen explicitly
    assert load(GRUPONOS_INFRA_ENVIRONMENT="dev", MELTANO_ENVIRONMENT="qa").environment == (
        "development"
    )


def test_an_unknown_meltano_environment_is_no_error_and_gets_development() -> None:
    s = load(MELTANO_ENVIRONMENT="qa")
    assert (s.environment, s.meltano_environment) == ("development", "qa")
    assert not s.is_production


def test_only_the_explicit_setting_selects_the_test_environment() -> None:
    explicit = load(GRUPONOS_INFRA_ENVIRONMENT="test", MELTANO_ENVIRONMENT="testing")
    assert explicit.environment == "test"
    assert explicit.meltano_environment is None  # the setting chose, not Meltano
    assert GruponosMeltanoSettings(environment="test").environment == "test"
    assert load(MELTANO_ENVIRONMENT="testing").environment == "development"
    assert load().meltano_environment is None


def test_unknown_environment_setting_names_its_variable() -> None:
    issue = only_issue({"GRUPONOS_INFRA_ENVIRONMENT": "qa"})
    assert str(issue) == (
        "GRUPONOS_INFRA_ENVIRONMENT: must be one of production, staging, development, test "
        "(or prod, stage, dev, testing) (got 'qa')"
    )
    assert load(GRUPONOS_INFRA_ENVIRONMENT="prod").is_production


# --------------------------------------------------------------------------- paths


def test_project_root_comes_from_meltano_and_never_from_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "meltano.yml").write_text("project_id: x\n")
    outside = load()
    assert outside.project_root is None and outside.state_dir is None
    root = tmp_path / "proj"
    s = load(MELTANO_PROJECT_ROOT=str(root))
    assert s.project_root == root
    assert s.state_dir == root / ".meltano" / "gruponos-infra"


def test_project_root_setting_overrides_meltano_project_root() -> None:
    s = load(GRUPONOS_INFRA_PROJECT_ROOT="/srv/b", MELTANO_PROJECT_ROOT="/srv/a")
    assert s.project_root == Path("/srv/b")


def test_relative_project_root_is_rejected() -> None:
    issue = only_issue({"MELTANO_PROJECT_ROOT": "proj"})
    assert issue.env_var == "MELTANO_PROJECT_ROOT"
    assert "absolute path" in issue.reason


def test_state_dir_defaults_under_meltano_sys_dir_root() -> None:
    s = load(MELTANO_PROJECT_ROOT="/srv/p", MELTANO_SYS_DIR_ROOT="/var/meltano")
    assert s.state_dir == Path("/var/meltano/gruponos-infra")
    assert s.describe_sources()["state_dir"] == "env:MELTANO_SYS_DIR_ROOT"
    relative = load(MELTANO_PROJECT_ROOT="/srv/p", MELTANO_SYS_DIR_ROOT="sys")
    assert relative.state_dir == Path("/srv/p/sys/gruponos-infra")


def test_relative_paths_resolve_against_the_project_root() -> None:
    s = load(
        MELTANO_PROJECT_ROOT="/srv/p",
        GRUPONOS_INFRA_STATE_DIR="state",
        GRUPONOS_INFRA_METRICS_DIR="out/metrics",
        GRUPONOS_INFRA_ORACLE_PROTOCOL="tcps",
        GRUPONOS_INFRA_ORACLE_WALLET_LOCATION="wallet",
    )
    assert s.state_dir == Path("/srv/p/state")
    assert s.metrics_dir == Path("/srv/p/out/metrics")
    assert s.oracle_wallet_location == Path("/srv/p/wallet")
    absolute = load(MELTANO_PROJECT_ROOT="/srv/p", GRUPONOS_INFRA_STATE_DIR="/var/s")
    assert absolute.state_dir == Path("/var/s")


def test_relative_path_without_project_root_is_an_error() -> None:
    issue = only_issue({"GRUPONOS_INFRA_METRICS_DIR": "metrics"})
    assert issue.env_var == "GRUPONOS_INFRA_METRICS_DIR"
    assert "relative path" in issue.reason and "MELTANO_PROJECT_ROOT" in issue.reason


# --------------------------------------------------------------------------- values


def test_bad_port_message_names_variable_range_and_value() -> None:
    issue = only_issue({"GRUPONOS_INFRA_ORACLE_PORT": "abc"})
    assert (
        str(issue) == "GRUPONOS_INFRA_ORACLE_PORT: must be an integer from 1 to 65535 (got 'abc')"
    )
    assert issue.setting == "oracle_port"


@pytest.mark.parametrize("value", ["abc", "0", "65536", "-1", "1.5", "15 21"])
@pytest.mark.parametrize("field", ["oracle_port", "alert_smtp_port"])
def test_ports_must_be_integers_from_1_to_65535(field: str, value: str) -> None:
    issue = only_issue({env_var_for(field): value})
    assert issue.env_var == env_var_for(field)
    assert "from 1 to 65535" in issue.reason


@pytest.mark.parametrize("value", ["1", "65535", " 2000 "])
def test_ports_accept_the_whole_range(value: str) -> None:
    assert load(GRUPONOS_INFRA_ORACLE_PORT=value).oracle_port == int(value)


@pytest.mark.parametrize(
    "field",
    [
        "oracle_pool_min",
        "oracle_pool_max",
        "oracle_pool_increment",
        "breaker_failure_threshold",
        "breaker_half_open_max_calls",
        "history_retention_days",
    ],
)
def test_sizes_and_thresholds_must_be_at_least_one(field: str) -> None:
    issue = only_issue({env_var_for(field): "0"})
    assert issue.reason == "must be an integer >= 1 (got '0')"
    assert getattr(load(**{env_var_for(field): "1"}), field) == 1


@pytest.mark.parametrize("field", ["run_retries", "health_disk_warn_mb", "health_disk_fail_mb"])
def test_counts_and_disk_thresholds_must_not_be_negative(field: str) -> None:
    assert "must be an integer >= 0" in only_issue({env_var_for(field): "-1"}).reason
    zero = {"GRUPONOS_INFRA_HEALTH_DISK_FAIL_MB": "0", env_var_for(field): "0"}
    assert getattr(load(**zero), field) == 0


@pytest.mark.parametrize(
    "field",
    [
        "oracle_connect_timeout",
        "oracle_call_timeout",
        "wms_timeout",
        "health_check_timeout",
        "health_deadline",
        "breaker_reset_timeout",
        "lock_ttl",
    ],
)
@pytest.mark.parametrize("value", ["0", "-2", "abc", "nan", "inf"])
def test_timeouts_must_be_positive_numbers(field: str, value: str) -> None:
    issue = only_issue({env_var_for(field): value})
    assert issue.reason == f"must be a number of seconds > 0 (got {value!r})"


@pytest.mark.parametrize("field", ["run_timeout", "run_retry_delay", "alert_dedup_window"])
def test_zero_is_allowed_where_it_means_none(field: str) -> None:
    assert getattr(load(**{env_var_for(field): "0"}), field) == 0.0
    assert "seconds >= 0" in only_issue({env_var_for(field): "-0.5"}).reason


INTEGER_SETTINGS = [spec.name for spec in SETTING_SPECS if spec.value_type == "integer"]
NUMBER_SETTINGS = [spec.name for spec in SETTING_SPECS if spec.value_type == "number"]


@pytest.mark.parametrize(
    "value", ["\u0661\u0665\u0662\u0661", "1_521", "\uff11\uff15", "0x5f1", "15e1"]
)
@pytest.mark.parametrize("field", INTEGER_SETTINGS)
def test_integer_settings_take_ascii_decimal_digits_only(field: str, value: str) -> None:
    # int() takes Arabic-Indic and full-width digits and underscores; a setting does not.
    issue = only_issue({env_var_for(field): value})
    assert issue.env_var == env_var_for(field)
    assert issue.reason.startswith("must be an integer") and repr(value) in issue.reason


@pytest.mark.parametrize(
    "value", ["\u0661.\u0665", "1_0", "\u0663", "1_000.5", "1e400", "-inf", "NaN", "0x10", "1,5"]
)
@pytest.mark.parametrize("field", NUMBER_SETTINGS)
def test_number_settings_take_finite_ascii_decimals_only(field: str, value: str) -> None:
    issue = only_issue({env_var_for(field): value})
    assert issue.env_var == env_var_for(field)
    assert issue.reason.startswith("must be a number")


def test_ascii_decimal_forms_are_accepted() -> None:
    s = load(
        GRUPONOS_INFRA_ORACLE_PORT="+1521",
        GRUPONOS_INFRA_WMS_TIMEOUT="1e1",
        GRUPONOS_INFRA_LOCK_TTL=".5",
        GRUPONOS_INFRA_RUN_TIMEOUT="3.",
    )
    assert (s.oracle_port, s.wms_timeout, s.lock_ttl, s.run_timeout) == (1521, 10.0, 0.5, 3.0)


def test_numbers_accept_decimals_and_integers() -> None:
    s = load(GRUPONOS_INFRA_WMS_TIMEOUT="2.5", GRUPONOS_INFRA_LOCK_TTL="60")
    assert (s.wms_timeout, s.lock_ttl) == (2.5, 60.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("True", True),  # what Meltano exports for a YAML boolean in a string setting
        ("1", True),
        ("yes", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("no", False),
        ("OFF", False),
    ],
)
def test_booleans_accept_meltano_spellings(value: str, expected: bool) -> None:
    assert load(GRUPONOS_INFRA_WMS_VERIFY_TLS=value).wms_verify_tls is expected


def test_a_misspelt_boolean_is_an_error_not_false() -> None:
    issue = only_issue({"GRUPONOS_INFRA_WMS_VERIFY_TLS": "ture"})
    assert str(issue) == "GRUPONOS_INFRA_WMS_VERIFY_TLS: must be true or false (got 'ture')"


@pytest.mark.parametrize(
    "value",
    [
        "a@example.com,b@example.com",
        " a@example.com , b@example.com ,",
        '["a@example.com", "b@example.com"]',
        "['a@example.com', 'b@example.com']",  # Meltano's export of a YAML list
    ],
)
def test_recipient_list_accepts_comma_separated_and_array_strings(value: str) -> None:
    s = load(GRUPONOS_INFRA_ALERT_EMAIL_TO=value)
    assert s.alert_email_to == ["a@example.com", "b@example.com"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("[a@example.com", "must be e-mail addresses, comma-separated or as a JSON array"),
        ('["a@example.com", 1]', "must be e-mail addresses, comma-separated or as a JSON array"),
        ("[1, 2]", "must be e-mail addresses, comma-separated or as a JSON array"),
        ('{"a": 1}', "must hold e-mail addresses only; not addresses: '{\"a\": 1}'"),
    ],
)
def test_recipient_list_rejects_malformed_arrays(value: str, reason: str) -> None:
    issue = only_issue({"GRUPONOS_INFRA_ALERT_EMAIL_TO": value})
    assert issue.reason.startswith(reason)


def test_a_deeply_nested_recipient_list_is_one_issue_not_a_recursion_error() -> None:
    hostile = "[" * 100_000
    issue = only_issue({"GRUPONOS_INFRA_ALERT_EMAIL_TO": hostile})
    assert issue.env_var == "GRUPONOS_INFRA_ALERT_EMAIL_TO"
    assert issue.reason.startswith(
        "must be e-mail addresses, comma-separated or as a JSON array (got '[[["
    )
    assert len(issue.reason) < 200


def test_recipient_list_names_the_entries_that_are_not_addresses() -> None:
    issue = only_issue({"GRUPONOS_INFRA_ALERT_EMAIL_TO": "ops@example.com, ops.example.com"})
    assert issue.reason == "must hold e-mail addresses only; not addresses: 'ops.example.com'"


@pytest.mark.parametrize("value", ["alerts", "a@b@c", "a b@example.com"])
def test_sender_must_look_like_an_address(value: str) -> None:
    issue = only_issue({"GRUPONOS_INFRA_ALERT_EMAIL_FROM": value})
    assert issue.reason == f"must be an e-mail address (got {value!r})"


def test_choices_are_case_insensitive_and_checked() -> None:
    s = load(GRUPONOS_INFRA_ORACLE_PROTOCOL="TCPS", GRUPONOS_INFRA_ALERT_MIN_SEVERITY="Error")
    assert (s.oracle_protocol, s.alert_min_severity) == ("tcps", "error")
    issues = issues_of(
        {"GRUPONOS_INFRA_ORACLE_PROTOCOL": "udp", "GRUPONOS_INFRA_ALERT_MIN_SEVERITY": "loud"}
    )
    assert issues == {
        "GRUPONOS_INFRA_ORACLE_PROTOCOL": "must be one of tcp, tcps (got 'udp')",
        "GRUPONOS_INFRA_ALERT_MIN_SEVERITY": (
            "must be one of info, warning, error, critical (got 'loud')"
        ),
    }


@pytest.mark.parametrize(
    "value", ["ftp://wms.example.com", "https://", "wms.example.com", "http:///path", "https://h:x"]
)
def test_wms_base_url_must_be_http_with_a_host(value: str) -> None:
    issue = only_issue({"GRUPONOS_INFRA_WMS_BASE_URL": value})
    assert issue.reason == f"must be an http(s) URL with a host (got {value!r})"


def test_wms_base_url_with_credentials_is_rejected_without_echoing_them() -> None:
    issue = only_issue({"GRUPONOS_INFRA_WMS_BASE_URL": "https://bob:hunter2@wms.example.com"})
    assert "hunter2" not in str(issue)
    assert "GRUPONOS_INFRA_WMS_USER" in issue.reason


@pytest.mark.parametrize("field", ["alert_webhook_url", "alert_slack_webhook_url"])
def test_webhook_urls_are_validated_but_never_echoed(field: str) -> None:
    planted = "ftp://hooks.example.com/T0KEN-planted-xyz"
    issue = only_issue({env_var_for(field): planted})
    assert issue.reason == "must be an http(s) URL with a host"
    s = load(**{env_var_for(field): "https://hooks.example.com/services/T0KEN"})
    secret = getattr(s, field)
    assert isinstance(secret, SecretStr)
    assert secret.get_secret_value() == "https://hooks.example.com/services/T0KEN"


def test_wms_health_path_must_be_a_path() -> None:
    assert load(GRUPONOS_INFRA_WMS_HEALTH_PATH="/api/ping").wms_health_path == "/api/ping"
    for bad in ("api/ping", "https://x/ping"):
        assert "starting with '/'" in only_issue({"GRUPONOS_INFRA_WMS_HEALTH_PATH": bad}).reason


# --------------------------------------------------------------------------- cross-field rules


def test_pool_min_must_not_exceed_pool_max() -> None:
    issue = only_issue(
        {"GRUPONOS_INFRA_ORACLE_POOL_MIN": "5", "GRUPONOS_INFRA_ORACLE_POOL_MAX": "4"}
    )
    assert str(issue) == (
        "GRUPONOS_INFRA_ORACLE_POOL_MIN: must not exceed GRUPONOS_INFRA_ORACLE_POOL_MAX (5 > 4)"
    )
    assert load(GRUPONOS_INFRA_ORACLE_POOL_MIN="4").oracle_pool_min == 4


def test_complete_oracle_settings_are_accepted() -> None:
    s = load(**ORACLE_OK)
    assert s.oracle_configured
    alt = {**ORACLE_OK, "GRUPONOS_INFRA_ORACLE_SERVICE_NAME": "", "GRUPONOS_INFRA_ORACLE_SID": "X"}
    assert load(**alt).oracle_sid == "X"


def test_oracle_host_needs_a_service_name_or_sid() -> None:
    issue = only_issue({**ORACLE_OK, "GRUPONOS_INFRA_ORACLE_SERVICE_NAME": ""})
    assert issue.env_var == "GRUPONOS_INFRA_ORACLE_SERVICE_NAME"
    assert "GRUPONOS_INFRA_ORACLE_SID" in issue.reason


def test_oracle_service_name_and_sid_are_exclusive() -> None:
    issue = only_issue({**ORACLE_OK, "GRUPONOS_INFRA_ORACLE_SID": "WMS"})
    assert issue.reason == (
        "set either GRUPONOS_INFRA_ORACLE_SERVICE_NAME or GRUPONOS_INFRA_ORACLE_SID, not both"
    )


def test_oracle_host_needs_user_and_password() -> None:
    issues = issues_of({"GRUPONOS_INFRA_ORACLE_HOST": "db", "GRUPONOS_INFRA_ORACLE_SID": "W"})
    assert issues == {
        "GRUPONOS_INFRA_ORACLE_USER": "is required when GRUPONOS_INFRA_ORACLE_HOST is set",
        "GRUPONOS_INFRA_ORACLE_PASSWORD": "is required when GRUPONOS_INFRA_ORACLE_HOST is set",
    }


def test_oracle_settings_without_host_are_not_required_to_be_complete() -> None:
    s = load(GRUPONOS_INFRA_ORACLE_USER="wms")
    assert not s.oracle_configured


def test_wallet_location_only_with_tcps() -> None:
    issue = only_issue({"GRUPONOS_INFRA_ORACLE_WALLET_LOCATION": "/etc/wallet"})
    assert issue.reason == (
        "is only used with GRUPONOS_INFRA_ORACLE_PROTOCOL=tcps (the protocol is 'tcp')"
    )
    s = load(GRUPONOS_INFRA_ORACLE_WALLET_LOCATION="/w", GRUPONOS_INFRA_ORACLE_PROTOCOL="tcps")
    assert s.oracle_wallet_location == Path("/w")


def test_user_and_password_go_together() -> None:
    assert only_issue({"GRUPONOS_INFRA_WMS_USER": "u"}).env_var == "GRUPONOS_INFRA_WMS_PASSWORD"
    assert only_issue({"GRUPONOS_INFRA_WMS_PASSWORD": "p"}).env_var == "GRUPONOS_INFRA_WMS_USER"
    smtp = {
        "GRUPONOS_INFRA_ALERT_SMTP_HOST": "mail",
        "GRUPONOS_INFRA_ALERT_EMAIL_FROM": "a@example.com",
        "GRUPONOS_INFRA_ALERT_EMAIL_TO": "b@example.com",
    }
    issue = only_issue({**smtp, "GRUPONOS_INFRA_ALERT_SMTP_USER": "u"})
    assert issue.env_var == "GRUPONOS_INFRA_ALERT_SMTP_PASSWORD"
    assert load(**smtp).smtp_configured  # SMTP without login is fine


def test_smtp_host_needs_sender_and_a_recipient() -> None:
    issues = issues_of({"GRUPONOS_INFRA_ALERT_SMTP_HOST": "mail.example.com"})
    assert issues == {
        "GRUPONOS_INFRA_ALERT_EMAIL_FROM": (
            "is required when GRUPONOS_INFRA_ALERT_SMTP_HOST is set"
        ),
        "GRUPONOS_INFRA_ALERT_EMAIL_TO": (
            "needs at least one address when GRUPONOS_INFRA_ALERT_SMTP_HOST is set"
        ),
    }


def test_disk_fail_threshold_must_not_exceed_warn_threshold() -> None:
    issue = only_issue({"GRUPONOS_INFRA_HEALTH_DISK_FAIL_MB": "2048"})
    assert str(issue) == (
        "GRUPONOS_INFRA_HEALTH_DISK_FAIL_MB: must not exceed "
        "GRUPONOS_INFRA_HEALTH_DISK_WARN_MB (2048 > 1024)"
    )
    assert load(GRUPONOS_INFRA_HEALTH_DISK_FAIL_MB="1024").health_disk_fail_mb == 1024


def test_cross_field_rule_is_skipped_when_its_input_is_already_invalid() -> None:
    issues = issues_of(
        {"GRUPONOS_INFRA_ORACLE_POOL_MIN": "x", "GRUPONOS_INFRA_ORACLE_POOL_MAX": "0"}
    )
    assert set(issues) == {"GRUPONOS_INFRA_ORACLE_POOL_MIN", "GRUPONOS_INFRA_ORACLE_POOL_MAX"}
    assert "must not exceed" not in " ".join(issues.values())


# --------------------------------------------------------------------------- the error


BAD_ENV = {
    "GRUPONOS_INFRA_ORACLE_PORT": "abc",
    "GRUPONOS_INFRA_ORACLE_HOST": "db.example.com",  # no service/SID, no user/password
    "GRUPONOS_INFRA_WMS_TIMEOUT": "-1",
    "GRUPONOS_INFRA_WMS_VERIFY_TLS": "maybe",
    "GRUPONOS_INFRA_ALERT_SLACK_WEBHOOK_URL": "slack-T0KEN-planted",
    "GRUPONOS_INFRA_HEALTH_DISK_FAIL_MB": "5000",
    "MELTANO_ENVIRONMENT": "qa",  # a free name: no issue
}


def test_one_error_lists_every_invalid_setting_by_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        GruponosMeltanoSettings.from_env(BAD_ENV)
    error = caught.value
    expected = [
        "GRUPONOS_INFRA_ORACLE_PORT",
        "GRUPONOS_INFRA_ORACLE_SERVICE_NAME",
        "GRUPONOS_INFRA_ORACLE_USER",
        "GRUPONOS_INFRA_ORACLE_PASSWORD",
        "GRUPONOS_INFRA_WMS_TIMEOUT",
        "GRUPONOS_INFRA_WMS_VERIFY_TLS",
        "GRUPONOS_INFRA_ALERT_SLACK_WEBHOOK_URL",
        "GRUPONOS_INFRA_HEALTH_DISK_FAIL_MB",
    ]
    assert list(error.env_vars) == expected  # in field order
    message = str(error)
    lines = message.splitlines()
    assert lines[0] == f"{len(expected)} invalid settings:"
    assert lines[1:] == [f"  {issue.env_var}: {issue.reason}" for issue in error.issues]
    assert "  GRUPONOS_INFRA_ORACLE_PORT: must be an integer from 1 to 65535 (got 'abc')" in lines
    assert isinstance(error, GruponosError) and not isinstance(error, ValidationError)
    assert error.code == SettingsError.code == "INVALID_SETTINGS"
    assert all(isinstance(issue, SettingIssue) for issue in error.issues)
    assert error.details["issues"][0] == {
        "setting": "oracle_port",
        "env_var": "GRUPONOS_INFRA_ORACLE_PORT",
        "reason": "must be an integer from 1 to 65535 (got 'abc')",
    }
    for noise in (
        "pydantic",
        "validation error",
        "errors.pydantic.dev",
        "Traceback",
        "input_value",
    ):
        assert noise not in message


def test_a_single_issue_reads_as_one_line() -> None:
    with pytest.raises(SettingsError) as caught:
        load(GRUPONOS_INFRA_ORACLE_PORT="abc")
    assert str(caught.value) == (
        "invalid setting GRUPONOS_INFRA_ORACLE_PORT: must be an integer from 1 to 65535 (got 'abc')"
    )
    assert "\n" not in str(caught.value)


def test_setting_issue_is_a_frozen_dataclass() -> None:
    issue = SettingIssue("oracle_port", "GRUPONOS_INFRA_ORACLE_PORT", "bad")
    with pytest.raises(AttributeError):
        issue.reason = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- secrets

PLANTED = "Pl4nted-S3cret-Value"


def _all_secrets_env() -> dict[str, str]:
    return {
        **ORACLE_OK,
        "GRUPONOS_INFRA_ORACLE_PASSWORD": PLANTED,
        "GRUPONOS_INFRA_WMS_BASE_URL": "https://wms.example.com",
        "GRUPONOS_INFRA_WMS_USER": "wms",
        "GRUPONOS_INFRA_WMS_PASSWORD": PLANTED,
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": f"https://hooks.example.com/{PLANTED}",
        "GRUPONOS_INFRA_ALERT_SLACK_WEBHOOK_URL": f"https://hooks.slack.com/{PLANTED}",
        "GRUPONOS_INFRA_ALERT_SMTP_HOST": "mail.example.com",
        "GRUPONOS_INFRA_ALERT_SMTP_USER": "alerts",
        "GRUPONOS_INFRA_ALERT_SMTP_PASSWORD": PLANTED,
        "GRUPONOS_INFRA_ALERT_EMAIL_FROM": "alerts@example.com",
        "GRUPONOS_INFRA_ALERT_EMAIL_TO": "ops@example.com",
        "GRUPONOS_INFRA_STATE_URI": f"postgresql://etl:{PLANTED}@db.example.com:5432/meltano",
    }


def test_secrets_are_secretstr_and_never_rendered() -> None:
    s = GruponosMeltanoSettings.from_env(_all_secrets_env())
    for name in SECRET_FIELDS:
        value = getattr(s, name)
        assert isinstance(value, SecretStr) and PLANTED in value.get_secret_value()
    renderings: list[Any] = [
        repr(s),
        str(s),
        s.model_dump(),
        s.model_dump(mode="json"),
        s.model_dump_json(),
        s.masked_dump(),
        s.describe_sources(),
        f"{s}",
        f"{s!r}",
    ]
    for rendering in renderings:
        assert PLANTED not in str(rendering)
        assert PLANTED not in repr(rendering)
    assert s.oracle_configured and s.wms_configured and s.smtp_configured


def test_masked_dump_has_every_field_and_masks_only_set_secrets() -> None:
    s = GruponosMeltanoSettings.from_env({**_all_secrets_env(), "MELTANO_PROJECT_ROOT": "/srv/p"})
    dumped = s.masked_dump()
    assert list(dumped) == FIELDS
    for name in SECRET_FIELDS:
        assert dumped[name] == MASK
    assert dumped["oracle_host"] == "db.example.com"
    assert dumped["state_dir"] == "/srv/p/.meltano/gruponos-infra"
    json.dumps(dumped)  # plain data
    unset = load().masked_dump()
    assert all(unset[name] is None for name in SECRET_FIELDS)


def test_errors_never_contain_secret_values() -> None:
    env = {
        **_all_secrets_env(),
        # secrets that are invalid themselves
        "GRUPONOS_INFRA_ALERT_WEBHOOK_URL": f"ftp://{PLANTED}",
        "GRUPONOS_INFRA_ALERT_SLACK_WEBHOOK_URL": PLANTED,
        "GRUPONOS_INFRA_STATE_URI": f"mysql://etl:{PLANTED}@db/meltano",
        # and other errors around the valid secrets
        "GRUPONOS_INFRA_ORACLE_SID": "ALSO",
        "GRUPONOS_INFRA_WMS_USER": "",
        "GRUPONOS_INFRA_ALERT_SMTP_USER": "",
        "GRUPONOS_INFRA_ORACLE_PORT": "x",
    }
    with pytest.raises(SettingsError) as caught:
        GruponosMeltanoSettings.from_env(env)
    error = caught.value
    assert len(error.issues) == 7, str(error)
    for rendering in (str(error), repr(error), error.details, error.issues, error.args):
        assert PLANTED not in str(rendering)


def test_secrets_given_as_arguments_are_not_rendered_either() -> None:
    s = GruponosMeltanoSettings(wms_user="u", wms_password=PLANTED)
    assert PLANTED not in repr(s) + str(s.model_dump()) + str(s.masked_dump())
    with pytest.raises(SettingsError) as caught:
        GruponosMeltanoSettings(alert_webhook_url=f"nope-{PLANTED}")
    assert PLANTED not in str(caught.value)


def test_every_secret_field_is_flagged_sensitive_in_the_specs() -> None:
    sensitive = {spec.name for spec in SETTING_SPECS if spec.sensitive}
    assert sensitive == set(SECRET_FIELDS)
    assert {spec.kind for spec in SETTING_SPECS if spec.sensitive} == {"password"}


def test_secret_values_lists_only_set_secrets_for_scrubbing() -> None:
    settings = GruponosMeltanoSettings.from_mapping(
        {"wms_base_url": "https://wms.example/api", "wms_user": "u", "wms_password": "pw-1"},
        env={},
    )
    assert settings.secret_values() == ("pw-1",)
    assert GruponosMeltanoSettings.from_mapping({}, env={}).secret_values() == ()

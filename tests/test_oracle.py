"""The Oracle connection manager against real sockets, real driver errors and, when
``GRUPONOS_TEST_ORACLE_*`` is set, a real Oracle server."""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import oracledb
import pytest
from structlog.testing import capture_logs

from gruponos_ext.core.redaction import Redactor
from gruponos_ext.health.model import Status
from gruponos_ext.services.breaker import BreakerState, CircuitBreaker
from gruponos_ext.services.oracle import (
    OracleConfig,
    OracleConfigError,
    OracleConnectionManager,
    OracleNotConfiguredError,
    OracleServiceError,
    OracleTimeoutError,
    OracleUnreachableError,
    build_dsn,
    classify_oracle_error,
    health_check,
    oracle_service_check,
)
from tests.support.net import (
    GarbageListener,
    HttpTestServer,
    SilentListener,
    TnsRefuseListener,
    server_tls_context,
)
from tests.support.secrets import assert_no_leak, leak_forms

HOST = "127.0.0.1"
USER = "gnos_etl"
PLANTED = "PLANTED-ora-s3cr3t-41b7"  # must never show up anywhere
errors = importlib.import_module("oracledb.errors")  # the driver's own error factory


def config_for(
    port: int,
    *,
    host: str = HOST,
    service_name: str | None = "WMSPDB",
    sid: str | None = None,
    password: str = PLANTED,
    protocol: str = "tcp",
    connect_timeout: float = 5.0,
    **extra: Any,
) -> OracleConfig:
    return OracleConfig(
        host=host,
        port=port,
        service_name=service_name,
        sid=sid,
        user=USER,
        password=password,
        protocol=protocol,
        connect_timeout=connect_timeout,
        **extra,
    )


def non_daemon_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.daemon}


def db_error(message: str, code: int = 0) -> Exception:
    """A real python-oracledb exception, built the way the driver builds them."""
    error = errors._Error(message, code=code)
    exc: Exception = error.exc_type(error)
    return exc


# -- configuration and DSN -------------------------------------------------------
DSN_CASES = [
    ("tcp", "WMSPDB", None, None),
    ("tcp", None, "ORCL", None),
    ("tcps", "WMSPDB", None, "/opt/oracle/wallet"),
    ("tcps", None, "ORCL", "/opt/oracle/wallet"),
    ("tcps", "WMSPDB", None, None),
]


@pytest.mark.parametrize(("protocol", "service", "sid", "wallet"), DSN_CASES)
def test_dsn_parses_back_to_the_configured_target_in_the_driver(
    protocol: str, service: str | None, sid: str | None, wallet: str | None
) -> None:
    config = config_for(
        2484,
        host="db.gruponos.example",
        service_name=service,
        sid=sid,
        protocol=protocol,
        wallet_location=wallet,
        connect_timeout=2.5,
    )
    params = oracledb.ConnectParams()
    params.parse_connect_string(build_dsn(config))

    assert (params.host, params.port, params.protocol) == ("db.gruponos.example", 2484, protocol)
    assert (params.service_name, params.sid) == (service, sid)
    assert params.wallet_location == wallet
    assert params.tcp_connect_timeout == 2.5
    assert params.retry_count == 0


def test_dsn_for_a_service_over_tcp_is_a_plain_descriptor() -> None:
    config = config_for(1521, host="db1", connect_timeout=10)
    assert build_dsn(config) == (
        "(DESCRIPTION=(CONNECT_TIMEOUT=10)(TRANSPORT_CONNECT_TIMEOUT=10)(RETRY_COUNT=0)"
        "(ADDRESS=(PROTOCOL=TCP)(HOST=db1)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=WMSPDB)))"
    )


def test_dsn_for_tcps_requires_the_server_dn_to_match() -> None:
    dsn = build_dsn(config_for(2484, protocol="tcps", wallet_location="/w"))
    assert "(PROTOCOL=TCPS)" in dsn
    assert "(SECURITY=(SSL_SERVER_DN_MATCH=ON)(MY_WALLET_DIRECTORY=/w))" in dsn


def test_dsn_carries_no_credentials() -> None:
    assert PLANTED not in build_dsn(config_for(1521))
    assert USER not in build_dsn(config_for(1521))


def test_describe_target_names_host_port_and_service_or_sid() -> None:
    assert config_for(1521, host="db1").describe_target() == "db1:1521/WMSPDB"
    assert config_for(1521, service_name=None, sid="ORCL").describe_target() == (
        "127.0.0.1:1521 (SID ORCL)"
    )
    assert config_for(1521, host="::1").describe_target() == "[::1]:1521/WMSPDB"
    assert OracleConnectionManager(config_for(1)).describe_target() == "127.0.0.1:1/WMSPDB"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"service_name": None}, "exactly one of service_name and sid"),
        ({"sid": "ORCL"}, "exactly one of service_name and sid"),
        ({"port": 0}, "port 0 is not in 1..65535"),
        ({"protocol": "http"}, "protocol 'http'"),
        ({"pool_min": 5, "pool_max": 2}, "pool_min <= pool_max"),
        ({"service_name": "X)(HOST=evil"}, "service_name contains"),
        ({"host": ""}, "host is empty"),
        ({"connect_timeout": 0}, "must be > 0 seconds"),
    ],
)
def test_config_rejects_unusable_values(changes: dict[str, Any], fragment: str) -> None:
    values: dict[str, Any] = {
        "host": "db1",
        "port": 1521,
        "service_name": "WMSPDB",
        "sid": None,
        "user": USER,
        "password": PLANTED,
        **changes,
    }
    with pytest.raises(OracleConfigError) as info:
        OracleConfig(**values)
    assert info.value.code == "ORACLE_CONFIG_INVALID"
    assert fragment in str(info.value)
    assert PLANTED not in str(info.value)


def test_config_and_manager_renderings_mask_the_password() -> None:
    config = config_for(1521)
    manager = OracleConnectionManager(config)
    for text in (repr(config), str(config), repr(manager), str(manager), manager.dsn):
        assert PLANTED not in text
    assert "password='***'" in repr(config)
    assert "WMSPDB" in repr(manager)


def test_config_from_settings_reads_every_oracle_setting() -> None:
    from gruponos_ext.config import GruponosMeltanoSettings

    settings = GruponosMeltanoSettings.from_mapping(
        {
            "oracle_host": "db.gruponos.example",
            "oracle_port": 2484,
            "oracle_sid": "ORCL",
            "oracle_user": USER,
            "oracle_password": PLANTED,
            "oracle_protocol": "tcps",
            "oracle_wallet_location": "/opt/oracle/wallet",
            "oracle_pool_min": 2,
            "oracle_pool_max": 8,
            "oracle_pool_increment": 2,
            "oracle_connect_timeout": 3.5,
            "oracle_call_timeout": 90,
        }
    )
    config = OracleConfig.from_settings(settings)
    assert config == OracleConfig(
        host="db.gruponos.example",
        port=2484,
        service_name=None,
        sid="ORCL",
        user=USER,
        password=PLANTED,
        protocol="tcps",
        wallet_location=str(Path("/opt/oracle/wallet")),
        pool_min=2,
        pool_max=8,
        pool_increment=2,
        connect_timeout=3.5,
        call_timeout=90.0,
    )
    manager = OracleConnectionManager.from_settings(settings)
    assert manager.describe_target() == "db.gruponos.example:2484 (SID ORCL)"


def test_config_from_settings_without_a_host_is_not_configured() -> None:
    from gruponos_ext.config import GruponosMeltanoSettings

    with pytest.raises(OracleNotConfiguredError) as info:
        OracleConfig.from_settings(GruponosMeltanoSettings.from_mapping({}))
    assert info.value.code == "ORACLE_NOT_CONFIGURED"


def test_construction_opens_nothing_and_does_not_import_the_driver(
    silent_listener: SilentListener,
) -> None:
    before = threading.active_count()
    manager = OracleConnectionManager(config_for(silent_listener.port))
    assert not manager.pool_open
    assert threading.active_count() == before
    time.sleep(0.1)
    assert silent_listener.accepted == 0

    code = textwrap.dedent(
        """
        import sys
        from gruponos_ext.services.oracle import OracleConfig, OracleConnectionManager
        m = OracleConnectionManager(OracleConfig("db1", 1521, "S", None, "u", "p"))
        m.describe_target(); m.dsn; repr(m); m.close()
        print("oracledb" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split()[-1] == "False"


# -- ping against real failures --------------------------------------------------
def test_closed_port_fails_fast_with_cannot_reach(closed_port: int) -> None:
    manager = OracleConnectionManager(config_for(closed_port))
    started = time.monotonic()
    result = manager.ping()

    assert result.error_code == "ORACLE_UNREACHABLE"
    assert result.error == (
        f"cannot reach Oracle at {HOST}:{closed_port}: "
        "connection refused (is the listener running on that port?)"
    )
    assert result.error_data["target"] == f"{HOST}:{closed_port}/WMSPDB"
    assert "DPY-6005" in result.error_data["driver_codes"]
    assert time.monotonic() - started < 3.0


def test_never_answering_listener_fails_within_the_connect_timeout(
    silent_listener: SilentListener,
) -> None:
    manager = OracleConnectionManager(config_for(silent_listener.port, connect_timeout=1.0))
    started = time.monotonic()
    result = manager.ping()
    elapsed = time.monotonic() - started

    assert result.error_code == "ORACLE_TIMEOUT"
    assert (
        result.error == f"timed out after 1.0 s connecting to {HOST}:{silent_listener.port}/WMSPDB"
    )
    assert 0.9 <= elapsed < 2.5
    assert silent_listener.accepted == 1


def test_ping_timeout_argument_overrides_the_connect_timeout(
    silent_listener: SilentListener,
) -> None:
    manager = OracleConnectionManager(config_for(silent_listener.port, connect_timeout=30))
    started = time.monotonic()
    result = manager.ping(timeout=0.5)
    assert result.error_code == "ORACLE_TIMEOUT"
    assert "timed out after 0.5 s" in (result.error or "")
    assert time.monotonic() - started < 2.0


def test_garbage_then_close_listener_is_a_clean_unreachable_failure(
    garbage_listener: GarbageListener,
) -> None:
    result = OracleConnectionManager(config_for(garbage_listener.port)).ping()

    assert result.error_code == "ORACLE_UNREACHABLE"
    assert result.error == (
        f"cannot reach Oracle at {HOST}:{garbage_listener.port}: "
        "the server closed the connection (is this an Oracle listener?)"
    )


def test_listener_refusing_an_unknown_service_is_unknown_service(
    tns_refuse_listener: Callable[[int], TnsRefuseListener],
) -> None:
    listener = tns_refuse_listener(12514)
    result = OracleConnectionManager(config_for(listener.port)).ping()

    assert result.error_code == "ORACLE_UNKNOWN_SERVICE"
    assert result.error == f"the listener at {HOST}:{listener.port} does not know service WMSPDB"
    assert "DPY-6001" in result.error_data["driver_codes"]


def test_listener_refusing_an_unknown_sid_is_unknown_service(
    tns_refuse_listener: Callable[[int], TnsRefuseListener],
) -> None:
    listener = tns_refuse_listener(12505)
    config = config_for(listener.port, service_name=None, sid="ORCL")
    result = OracleConnectionManager(config).ping()

    assert result.error_code == "ORACLE_UNKNOWN_SERVICE"
    assert result.error == f"the listener at {HOST}:{listener.port} does not know SID ORCL"
    assert "DPY-6003" in result.error_data["driver_codes"]


def test_listener_refusing_for_another_reason_is_listener_refused(
    tns_refuse_listener: Callable[[int], TnsRefuseListener],
) -> None:
    listener = tns_refuse_listener(12520)  # no appropriate handler found
    result = OracleConnectionManager(config_for(listener.port)).ping()

    assert result.error_code == "ORACLE_LISTENER_REFUSED"
    assert result.error == (
        f"the listener at {HOST}:{listener.port} refused the connection (ORA-12520)"
    )


def test_unresolvable_host_is_unreachable() -> None:
    config = config_for(1521, host="no-such-host.invalid")
    result = OracleConnectionManager(config).ping()
    assert result.error_code == "ORACLE_UNREACHABLE"
    assert "host name 'no-such-host.invalid' cannot be resolved" in (result.error or "")


def test_missing_password_is_an_auth_failure_before_any_connect(
    silent_listener: SilentListener,
) -> None:
    result = OracleConnectionManager(config_for(silent_listener.port, password="")).ping()
    assert result.error_code == "ORACLE_AUTH_FAILED"
    assert result.error == (
        f"no password given for user {USER} at {HOST}:{silent_listener.port}/WMSPDB "
        "(set GRUPONOS_INFRA_ORACLE_PASSWORD)"
    )
    assert silent_listener.accepted == 0


def test_tcps_to_a_server_that_does_not_speak_tls_is_a_tls_error(
    garbage_listener: GarbageListener,
) -> None:
    config = config_for(garbage_listener.port, protocol="tcps")
    result = OracleConnectionManager(config).ping()
    assert result.error_code == "ORACLE_TLS_ERROR"
    assert result.error is not None
    assert result.error.startswith(f"TLS handshake with {HOST}:{garbage_listener.port} failed")


def test_tcps_to_an_untrusted_certificate_is_a_tls_error(
    http_server: Callable[..., HttpTestServer], self_signed_cert: tuple[Path, Path]
) -> None:
    server = http_server(tls=server_tls_context(*self_signed_cert))
    result = OracleConnectionManager(config_for(server.port, protocol="tcps")).ping()
    assert result.error_code == "ORACLE_TLS_ERROR"
    assert "certificate verify failed" in (result.error or "")


# -- classification of driver errors ---------------------------------------------
@pytest.mark.parametrize(
    ("make_error", "code", "message"),
    [
        (
            lambda: db_error("ORA-01017: invalid credential or not authorized; logon denied", 1017),
            "ORACLE_AUTH_FAILED",
            f"credentials rejected for user {USER} at db1:1521/WMSPDB",
        ),
        (
            lambda: oracledb.DatabaseError("ORA-28000: The account is locked."),
            "ORACLE_AUTH_FAILED",
            f"credentials rejected for user {USER} at db1:1521/WMSPDB (the account is locked)",
        ),
        (
            lambda: db_error("ORA-28001: the password has expired", 28001),
            "ORACLE_AUTH_FAILED",
            f"credentials rejected for user {USER} at db1:1521/WMSPDB (the password has expired)",
        ),
        (
            lambda: errors._create_exception(errors.ERR_NO_CREDENTIALS),
            "ORACLE_AUTH_FAILED",
            f"no password given for user {USER} at db1:1521/WMSPDB "
            "(set GRUPONOS_INFRA_ORACLE_PASSWORD)",
        ),
        (
            lambda: db_error(
                "ORA-12514: Cannot connect to database. Service WMSPDB is not registered", 12514
            ),
            "ORACLE_UNKNOWN_SERVICE",
            "the listener at db1:1521 does not know service WMSPDB",
        ),
        (
            lambda: errors._create_exception(errors.ERR_CALL_TIMEOUT_EXCEEDED, timeout=60000),
            "ORACLE_TIMEOUT",
            "timed out waiting for a call on db1:1521/WMSPDB",
        ),
        (
            lambda: errors._create_exception(errors.ERR_POOL_NO_CONNECTION_AVAILABLE),
            "ORACLE_TIMEOUT",
            "timed out waiting for a free pool connection on db1:1521/WMSPDB",
        ),
        (
            lambda: db_error("ORA-12170: TNS:Connect timeout occurred", 12170),
            "ORACLE_TIMEOUT",
            "timed out connecting to db1:1521/WMSPDB",
        ),
        (
            lambda: db_error("ORA-12541: TNS:no listener", 12541),
            "ORACLE_UNREACHABLE",
            "cannot reach Oracle at db1:1521: no listener on that port",
        ),
        (
            lambda: errors._create_exception(
                errors.ERR_CONNECTION_FAILED,
                cause=socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
            ),
            "ORACLE_UNREACHABLE",
            "cannot reach Oracle at db1:1521: host name 'db1' cannot be resolved",
        ),
        (
            lambda: db_error('ORA-00942: table or view "X"."Y" does not exist', 942),
            "ORACLE_ERROR",
            'Oracle error at db1:1521/WMSPDB: ORA-00942: table or view "X"."Y" does not exist',
        ),
    ],
)
def test_driver_errors_map_to_stable_codes_and_plain_messages(
    make_error: Callable[[], BaseException], code: str, message: str
) -> None:
    mapped = classify_oracle_error(make_error(), config_for(1521, host="db1"))
    assert (mapped.code, mapped.message) == (code, message)
    assert isinstance(mapped, OracleServiceError)


def test_classification_scrubs_a_password_the_driver_echoed() -> None:
    exc = db_error(f"ORA-20001: login as {USER}/{PLANTED}@db1 failed; pwd={PLANTED}", 20001)
    mapped = classify_oracle_error(exc, config_for(1521, host="db1"))
    assert mapped.code == "ORACLE_ERROR"
    assert PLANTED not in mapped.message
    assert PLANTED not in repr(mapped.details)
    assert "ORA-20001" in mapped.message


def test_classification_removes_every_derived_form_of_a_secret_the_driver_echoed() -> None:
    config = config_for(1521, host="db1")
    forms = leak_forms(PLANTED, user=USER)
    exc = db_error("ORA-20001: the server quoted " + " | ".join(sorted(forms)), 20001)
    other = "An0ther-Configured-Secret"  # e.g. the WMS password, known to settings.redactor()
    unknown = db_error(f"ORA-20002: echo {other} and {quote(other, safe='')}", 20002)

    mapped = classify_oracle_error(exc, config)
    with_settings = classify_oracle_error(unknown, config, redactor=Redactor.of([other]))

    assert mapped.message.startswith("Oracle error at db1:1521/WMSPDB: ORA-20001")
    assert_no_leak(mapped.message + repr(mapped.details), forms, where="the message")
    assert "ORA-20002: echo *** and ***" in with_settings.message


# -- pool lifecycle --------------------------------------------------------------
def test_connection_on_a_closed_port_raises_and_creates_no_pool(closed_port: int) -> None:
    manager = OracleConnectionManager(config_for(closed_port))
    threads = non_daemon_threads()
    with pytest.raises(OracleUnreachableError) as info, manager.connection():
        pytest.fail("no connection should be handed out")
    assert info.value.code == "ORACLE_UNREACHABLE"
    assert not manager.pool_open
    assert non_daemon_threads() == threads


def test_connection_to_a_never_answering_listener_is_bounded_and_leaves_no_thread(
    silent_listener: SilentListener,
) -> None:
    manager = OracleConnectionManager(config_for(silent_listener.port, connect_timeout=1.0))
    threads = non_daemon_threads()
    started = time.monotonic()
    with pytest.raises(OracleTimeoutError), manager.connection():
        pytest.fail("no connection should be handed out")
    assert time.monotonic() - started < 2.5
    # python-oracledb's pool thread is not a daemon: it must not exist here.
    assert not manager.pool_open
    assert non_daemon_threads() == threads


def test_close_is_idempotent_and_a_closed_manager_hands_out_nothing(closed_port: int) -> None:
    manager = OracleConnectionManager(config_for(closed_port))
    manager.close()
    manager.close()
    manager.close_all()
    assert manager.closed
    with pytest.raises(OracleServiceError) as info, manager.connection():
        pytest.fail("closed")
    assert info.value.code == "ORACLE_MANAGER_CLOSED"


def test_an_abandoned_connect_does_not_delay_interpreter_exit(
    silent_listener: SilentListener,
) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from gruponos_ext.services.oracle import (
            OracleConfig, OracleConnectionManager, OracleServiceError,
        )
        config = OracleConfig("{HOST}", {silent_listener.port}, "WMSPDB", None, "u", "p",
                              connect_timeout=1.0)
        manager = OracleConnectionManager(config)
        print("PING", manager.ping().error_code, flush=True)
        try:
            with manager.connection():
                pass
        except OracleServiceError as exc:
            print("CONNECTION", exc.code, flush=True)
        manager.close()
        print("REPORTED", flush=True)
        """
    )
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines, reported_at = [], None
    try:
        for line in process.stdout:
            lines.append(line.strip())
            if line.startswith("REPORTED"):
                reported_at = time.monotonic()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    exited_at = time.monotonic()

    assert "PING ORACLE_TIMEOUT" in lines, lines
    assert "CONNECTION ORACLE_TIMEOUT" in lines, lines
    assert reported_at is not None, lines
    assert exited_at - reported_at < 2.0
    assert process.returncode == 0
    assert exited_at - started < 15


# -- breaker ---------------------------------------------------------------------
def test_breaker_opens_on_failures_and_then_nothing_connects(
    tns_refuse_listener: Callable[[int], TnsRefuseListener],
) -> None:
    listener = tns_refuse_listener(12514)
    breaker = CircuitBreaker("oracle", failure_threshold=2, reset_timeout=60)
    manager = OracleConnectionManager(config_for(listener.port), breaker=breaker)

    assert manager.ping().error_code == "ORACLE_UNKNOWN_SERVICE"
    assert manager.ping().error_code == "ORACLE_UNKNOWN_SERVICE"
    assert breaker.state is BreakerState.OPEN

    refused = manager.ping()
    assert refused.error_code == "CIRCUIT_OPEN"
    assert f"not connecting to Oracle at {HOST}:{listener.port}/WMSPDB" in (refused.error or "")
    with pytest.raises(Exception) as info, manager.connection():
        pytest.fail("breaker is open")
    assert getattr(info.value, "code", None) == "CIRCUIT_OPEN"
    assert listener.accepted == 2


# -- health check ----------------------------------------------------------------
def test_health_check_skips_when_oracle_is_not_configured() -> None:
    outcome = health_check(None)
    assert outcome.status is Status.SKIP
    assert "GRUPONOS_INFRA_ORACLE_HOST" in outcome.message


def test_health_check_fails_with_the_ping_message(closed_port: int) -> None:
    outcome = health_check(OracleConnectionManager(config_for(closed_port)))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(f"cannot reach Oracle at {HOST}:{closed_port}")
    assert outcome.details["error_code"] == "ORACLE_UNREACHABLE"


def test_service_check_is_named_and_bounded_by_its_timeout(
    silent_listener: SilentListener,
) -> None:
    check = oracle_service_check(timeout=0.5)
    assert check.name == "oracle:connection"
    assert check.critical
    assert check.timeout is not None and check.timeout > 0.5
    manager = OracleConnectionManager(config_for(silent_listener.port, connect_timeout=30))
    started = time.monotonic()
    outcome = check.probe(manager)
    assert outcome.status is Status.FAIL
    assert "timed out after 0.5 s connecting to" in outcome.message
    assert time.monotonic() - started < check.timeout


# -- secrets ---------------------------------------------------------------------
def test_planted_password_appears_in_no_result_outcome_or_log(
    closed_port: int,
    silent_listener: SilentListener,
    garbage_listener: GarbageListener,
    tns_refuse_listener: Callable[[int], TnsRefuseListener],
) -> None:
    refusing = tns_refuse_listener(12514)
    renderings: list[Any] = []
    with capture_logs() as logs:
        for port, protocol in [
            (closed_port, "tcp"),
            (silent_listener.port, "tcp"),
            (garbage_listener.port, "tcp"),
            (garbage_listener.port, "tcps"),
            (refusing.port, "tcp"),
        ]:
            manager = OracleConnectionManager(
                config_for(port, protocol=protocol, connect_timeout=0.5)
            )
            result = manager.ping()
            renderings += [result, result.error, result.error_data, manager, manager.config]
            renderings += [result.exception, getattr(result.exception, "__dict__", None)]
            renderings.append(health_check(manager))
            try:
                with manager.connection():
                    pass
            except OracleServiceError as exc:
                renderings += [exc, exc.details, exc.__cause__]
            manager.close()
    text = "\n".join(map(repr, renderings)) + "\n" + repr(logs)
    assert PLANTED not in text
    assert any(event["event"] == "oracle_ping_failed" for event in logs)


# -- a real Oracle ---------------------------------------------------------------
REAL = {
    name: os.environ.get(f"GRUPONOS_TEST_ORACLE_{name}") for name in ("DSN", "USER", "PASSWORD")
}


def real_config(password: str | None = None) -> OracleConfig:
    return OracleConfig.from_dsn(
        REAL["DSN"] or "",
        REAL["USER"] or "",
        (REAL["PASSWORD"] or "") if password is None else password,
        pool_min=1,
        pool_max=2,
        connect_timeout=15,
    )


@pytest.mark.oracle
@pytest.mark.skipif(
    not all(REAL.values()),
    reason="no real Oracle: set GRUPONOS_TEST_ORACLE_DSN, _USER and _PASSWORD to run this",
)
def test_real_oracle_ping_pool_and_wrong_password() -> None:
    with OracleConnectionManager(real_config()) as manager:
        result = manager.ping()
        assert result.success, result
        assert result.value.server_version
        assert result.value.latency_ms > 0

        with manager.connection() as connection:
            assert connection.call_timeout == 60_000
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM DUAL")
                assert cursor.fetchone() == (1,)
        assert manager.pool_open

        outcome = health_check(manager)
        assert outcome.status is Status.PASS
        assert outcome.observed_unit == "ms"
    assert manager.closed
    assert "pool=closed" in repr(manager)

    wrong = OracleConnectionManager(real_config(password="definitely-not-it")).ping()
    assert wrong.error_code == "ORACLE_AUTH_FAILED"
    assert wrong.error is not None and "credentials rejected for user" in wrong.error

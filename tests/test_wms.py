"""The WMS API client against real HTTP servers, sockets and TLS on 127.0.0.1."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from gruponos_ext.core.redaction import Redactor
from gruponos_ext.health.model import Status
from gruponos_ext.services.breaker import BreakerState, CircuitBreaker
from gruponos_ext.services.wms import (
    WmsApiClient,
    WmsConfig,
    WmsConfigError,
    WmsNotConfiguredError,
    health_check,
    wms_service_check,
)
from tests.support.net import (
    GarbageListener,
    HttpTestServer,
    Listener,
    Route,
    SilentListener,
    server_tls_context,
)
from tests.support.secrets import assert_no_leak, leak_forms

USER = "wms_etl"
PLANTED = "PLANTED-wms-p4ss-7f3a9"  # must never show up anywhere
HOST = "127.0.0.1"

MakeServer = Callable[..., HttpTestServer]


def client_for(
    base_url: str,
    *,
    password: str = PLANTED,
    health_path: str = "/health",
    timeout: float = 5.0,
    verify_tls: bool = True,
    breaker: CircuitBreaker | None = None,
) -> WmsApiClient:
    config = WmsConfig(base_url, USER, password, health_path, timeout, verify_tls)
    return WmsApiClient(config, breaker=breaker)


@pytest.fixture
def wms(http_server: MakeServer) -> HttpTestServer:
    """A WMS imitation requiring our Basic credentials."""
    return http_server(
        {
            "/health": 200,
            "/moved": Route(302, headers={"Location": "http://127.0.0.1:9/elsewhere"}),
            "/broken": 500,
            "/overloaded": 503,
            "/teapot": 418,
            "/api/orders": Route(200, {"items": [{"id": 1}, {"id": 2}], "next": None}),
            "/api/not-json": Route(200, "<html>login page</html>"),
        },
        basic_auth=(USER, PLANTED),
    )


class TrickleListener(Listener):
    """Answers a valid HTTP status line, one byte every 0.2 s: each read succeeds."""

    def handle(self, conn: socket.socket) -> None:
        conn.recv(65536)
        for byte in b"HTTP/1.0 200 OK\r\nX-Slow: " + b"a" * 200:
            if self._stop.wait(0.2):
                return
            conn.sendall(bytes([byte]))


# -- configuration -------------------------------------------------------------
def test_config_repr_and_str_mask_the_password() -> None:
    config = WmsConfig("https://wms.example.com/api", USER, PLANTED)
    for text in (repr(config), str(config), repr(WmsApiClient(config))):
        assert PLANTED not in text
    assert "password='***'" in repr(config)
    assert "https://wms.example.com/api" in repr(config)


@pytest.mark.parametrize(
    ("base_url", "fragment"),
    [
        ("ftp://wms.example.com", "http:// or https://"),
        ("wms.example.com/api", "http:// or https://"),
        ("https://wms.example.com:99999", "not a valid URL"),
        ("https://wms.example.com/api?x=1", "query or fragment"),
    ],
)
def test_config_rejects_unusable_base_urls(base_url: str, fragment: str) -> None:
    with pytest.raises(WmsConfigError) as info:
        WmsConfig(base_url, USER, PLANTED)
    assert info.value.code == "WMS_CONFIG_INVALID"
    assert fragment in str(info.value)


def test_config_rejects_credentials_in_the_url_without_echoing_them() -> None:
    with pytest.raises(WmsConfigError) as info:
        WmsConfig(f"https://{USER}:{PLANTED}@wms.example.com", None, None)
    assert "must not carry credentials" in str(info.value)
    assert PLANTED not in str(info.value)
    assert PLANTED not in repr(info.value.details)


def test_config_from_settings_reads_the_secret_and_skips_when_unset() -> None:
    from gruponos_ext.config import GruponosMeltanoSettings

    settings = GruponosMeltanoSettings.from_mapping(
        {
            "wms_base_url": "https://wms.example.com/wms/lgfapi/v10",
            "wms_user": USER,
            "wms_password": PLANTED,
            "wms_health_path": "/entity/facility",
            "wms_timeout": 7.5,
            "wms_verify_tls": False,
        }
    )
    config = WmsConfig.from_settings(settings)
    assert config.password == PLANTED
    assert config.health_url == "https://wms.example.com/wms/lgfapi/v10/entity/facility"
    assert (config.timeout, config.verify_tls) == (7.5, False)
    assert PLANTED not in repr(config)

    with pytest.raises(WmsNotConfiguredError) as info:
        WmsConfig.from_settings(GruponosMeltanoSettings.from_mapping({}))
    assert info.value.code == "WMS_NOT_CONFIGURED"
    assert "GRUPONOS_INFRA_WMS_BASE_URL" in str(info.value)


def test_importing_and_building_the_client_loads_no_http_stack() -> None:
    code = textwrap.dedent(
        """
        import sys
        from gruponos_ext.services.wms import WmsApiClient, WmsConfig
        WmsApiClient(WmsConfig("https://wms.example.com", "u", "p"))
        print(sorted(m for m in ("urllib.request", "http.client") if m in sys.modules))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


# -- probe outcomes against a real server --------------------------------------
def test_probe_200_is_reachable_with_status_and_latency(wms: HttpTestServer) -> None:
    result = client_for(wms.url).probe()

    assert result.success, result
    assert result.value.status == 200
    assert result.value.latency_ms > 0
    assert result.value.url == f"{wms.url}/health"
    # The server really checked the Basic credentials and accepted them.
    assert [(r.path, r.authorized) for r in wms.requests] == [("/health", True)]
    header = wms.requests[0].headers["Authorization"]
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == f"{USER}:{PLANTED}"


def test_wrong_password_is_auth_rejected_by_the_server(wms: HttpTestServer) -> None:
    result = client_for(wms.url, password="not-the-password").probe()

    assert result.error_code == "WMS_AUTH_REJECTED"
    assert "rejected the credentials (user wms_etl): HTTP 401" in (result.error or "")
    assert [r.authorized for r in wms.requests] == [False]


def test_403_is_auth_rejected(http_server: MakeServer) -> None:
    server = http_server({"/health": 403})
    result = client_for(server.url).probe()
    assert result.error_code == "WMS_AUTH_REJECTED"
    assert "HTTP 403" in (result.error or "")


def test_404_is_not_found_and_points_at_the_health_path_setting(wms: HttpTestServer) -> None:
    result = client_for(wms.url, health_path="/no/such/path").probe()

    assert result.error_code == "WMS_NOT_FOUND"
    assert f"HTTP 404 from {wms.url}/no/such/path" in (result.error or "")
    assert "GRUPONOS_INFRA_WMS_HEALTH_PATH" in (result.error or "")
    assert result.error_data["status"] == 404


@pytest.mark.parametrize(("path", "status"), [("/broken", 500), ("/overloaded", 503)])
def test_5xx_is_server_error(wms: HttpTestServer, path: str, status: int) -> None:
    result = client_for(wms.url, health_path=path).probe()

    assert result.error_code == "WMS_SERVER_ERROR"
    assert f"HTTP {status}" in (result.error or "")


def test_other_4xx_is_http_error(wms: HttpTestServer) -> None:
    result = client_for(wms.url, health_path="/teapot").probe()
    assert result.error_code == "WMS_HTTP_ERROR"
    assert "HTTP 418" in (result.error or "")


def test_redirect_counts_as_reachable_and_is_not_followed(
    wms: HttpTestServer, http_server: MakeServer
) -> None:
    elsewhere = http_server({"/elsewhere": 200})
    wms.set_route("/moved", Route(302, headers={"Location": f"{elsewhere.url}/elsewhere"}))

    result = client_for(wms.url, health_path="/moved").probe()

    assert result.success, result
    assert result.value.status == 302
    # Credentials never travel to the redirect target.
    assert elsewhere.requests == []


def test_never_answering_server_times_out_within_the_timeout(
    silent_listener: SilentListener,
) -> None:
    client = client_for(f"http://{HOST}:{silent_listener.port}", timeout=1.0)

    started = time.monotonic()
    result = client.probe()
    elapsed = time.monotonic() - started

    assert result.error_code == "WMS_TIMEOUT"
    assert f"timed out after 1.0 s waiting for the WMS API at http://{HOST}" in (result.error or "")
    assert 0.9 <= elapsed < 2.5
    assert silent_listener.accepted >= 1  # it really connected, then waited


def test_trickling_server_is_still_bounded_by_the_total_timeout() -> None:
    # Every read gets a byte well within urllib's per-read timeout; only a
    # bound on the whole exchange stops this.
    listener = TrickleListener()
    try:
        client = client_for(f"http://{HOST}:{listener.port}", timeout=1.0)
        started = time.monotonic()
        result = client.probe()
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert result.error_code == "WMS_TIMEOUT"
    assert elapsed < 2.5


def test_closed_port_is_unreachable_and_fast(closed_port: int) -> None:
    started = time.monotonic()
    result = client_for(f"http://{HOST}:{closed_port}", timeout=5.0).probe()

    assert result.error_code == "WMS_UNREACHABLE"
    assert result.error == f"cannot reach the WMS API at {HOST}:{closed_port}: connection refused"
    assert time.monotonic() - started < 2.0


def test_unresolvable_host_is_unreachable() -> None:
    result = client_for("http://no-such-host.invalid", timeout=5.0).probe()
    assert result.error_code == "WMS_UNREACHABLE"
    assert "'no-such-host.invalid' cannot be resolved" in (result.error or "")


def test_garbage_answer_is_bad_response(garbage_listener: GarbageListener) -> None:
    result = client_for(f"http://{HOST}:{garbage_listener.port}").probe()
    assert result.error_code == "WMS_BAD_RESPONSE"
    assert "did not answer with valid HTTP" in (result.error or "")


def test_https_to_a_plain_http_server_is_a_tls_error(wms: HttpTestServer) -> None:
    result = client_for(wms.url.replace("http://", "https://")).probe()
    assert result.error_code == "WMS_TLS_ERROR"
    assert f"TLS failure talking to the WMS API at {HOST}:{wms.port}" in (result.error or "")


def test_untrusted_certificate_is_a_tls_error_unless_verification_is_off(
    http_server: MakeServer, self_signed_cert: tuple[Path, Path]
) -> None:
    server = http_server({"/health": 200}, tls=server_tls_context(*self_signed_cert))
    assert server.url.startswith("https://")

    verified = client_for(server.url).probe()
    assert verified.error_code == "WMS_TLS_ERROR"
    assert "certificate not trusted" in (verified.error or "")

    unverified = client_for(server.url, verify_tls=False).probe()
    assert unverified.success, unverified
    assert unverified.value.status == 200


# -- get_json ------------------------------------------------------------------
def test_get_json_decodes_the_body_and_sends_params(wms: HttpTestServer) -> None:
    result = client_for(wms.url).get_json("/api/orders", {"limit": 5, "status": ["A", "B"]})

    assert result.success, result
    assert result.value == {"items": [{"id": 1}, {"id": 2}], "next": None}
    request = wms.requests[-1]
    assert (request.path, request.query) == ("/api/orders", "limit=5&status=A&status=B")
    assert request.headers["Accept"] == "application/json"
    assert request.authorized is True


def test_get_json_with_a_body_that_is_not_json_is_bad_response(wms: HttpTestServer) -> None:
    result = client_for(wms.url).get_json("/api/not-json")
    assert result.error_code == "WMS_BAD_RESPONSE"
    assert "not JSON" in (result.error or "")


def test_get_json_on_a_redirect_is_http_error(wms: HttpTestServer) -> None:
    result = client_for(wms.url).get_json("/moved")
    assert result.error_code == "WMS_HTTP_ERROR"
    assert "HTTP 302" in (result.error or "")


def test_get_json_maps_statuses_like_the_probe(wms: HttpTestServer) -> None:
    client = client_for(wms.url)
    assert client.get_json("/missing").error_code == "WMS_NOT_FOUND"
    assert client.get_json("/broken").error_code == "WMS_SERVER_ERROR"
    assert client_for(wms.url, password="wrong").get_json("/api/orders").error_code == (
        "WMS_AUTH_REJECTED"
    )


# -- breaker -------------------------------------------------------------------
def test_server_errors_open_the_breaker_and_then_no_request_is_sent(
    wms: HttpTestServer,
) -> None:
    breaker = CircuitBreaker("wms_api", failure_threshold=2, reset_timeout=60)
    client = client_for(wms.url, health_path="/broken", breaker=breaker)

    assert client.probe().error_code == "WMS_SERVER_ERROR"
    assert client.probe().error_code == "WMS_SERVER_ERROR"
    assert breaker.state is BreakerState.OPEN

    refused = client.probe()
    assert refused.error_code == "CIRCUIT_OPEN"
    assert "not calling the WMS API" in (refused.error or "")
    assert len(wms.requests) == 2


def test_client_errors_do_not_count_against_the_breaker(wms: HttpTestServer) -> None:
    breaker = CircuitBreaker("wms_api", failure_threshold=1, reset_timeout=60)
    client = client_for(wms.url, health_path="/nothing-here", breaker=breaker)
    for _ in range(3):
        assert client.probe().error_code == "WMS_NOT_FOUND"
    assert breaker.state is BreakerState.CLOSED


# -- health check --------------------------------------------------------------
def test_health_check_passes_with_latency_in_ms(wms: HttpTestServer) -> None:
    outcome = health_check(client_for(wms.url))
    assert outcome.status is Status.PASS
    assert outcome.observed_unit == "ms"
    assert isinstance(outcome.observed_value, float)
    assert outcome.observed_value > 0
    assert "answered HTTP 200" in outcome.message


def test_health_check_fails_with_the_probe_message(closed_port: int) -> None:
    outcome = health_check(client_for(f"http://{HOST}:{closed_port}"))
    assert outcome.status is Status.FAIL
    assert "connection refused" in outcome.message
    assert outcome.details["error_code"] == "WMS_UNREACHABLE"


def test_health_check_skips_when_not_configured() -> None:
    outcome = health_check(None)
    assert outcome.status is Status.SKIP
    assert "GRUPONOS_INFRA_WMS_BASE_URL" in outcome.message


def test_service_check_probes_the_client_within_its_timeout(
    silent_listener: SilentListener,
) -> None:
    check = wms_service_check(timeout=0.5)
    assert check.name == "wms_api:reachability"
    assert check.timeout is not None and check.timeout > 0.5
    started = time.monotonic()
    outcome = check.probe(client_for(f"http://{HOST}:{silent_listener.port}", timeout=30))
    assert outcome.status is Status.FAIL
    assert "timed out after 0.5 s" in outcome.message
    assert time.monotonic() - started < check.timeout


# -- secrets -------------------------------------------------------------------
def test_planted_password_appears_in_no_result_outcome_or_log(
    wms: HttpTestServer,
    closed_port: int,
    silent_listener: SilentListener,
    garbage_listener: GarbageListener,
) -> None:
    renderings: list[Any] = []
    with capture_logs() as logs:
        for base, path in [
            (wms.url, "/health"),
            (wms.url, "/broken"),
            (wms.url, "/missing"),
            (wms.url.replace("http://", "https://"), "/health"),
            (f"http://{HOST}:{closed_port}", "/health"),
            (f"http://{HOST}:{silent_listener.port}", "/health"),
            (f"http://{HOST}:{garbage_listener.port}", "/health"),
        ]:
            client = client_for(base, health_path=path, timeout=0.5)
            result = client.probe()
            renderings += [result, result.error, result.error_data, client, client.config]
            if result.exception is not None:
                renderings += [result.exception, result.exception.__dict__]
            renderings.append(health_check(client, 0.5))
            renderings.append(client.get_json(path))
    assert logs, "the client should have logged its requests"
    text = "\n".join(map(repr, renderings)) + "\n" + repr(logs)
    assert PLANTED not in text
    encoded = base64.b64encode(f"{USER}:{PLANTED}".encode()).decode()
    assert encoded not in text
    assert any(e["event"] == "wms_request_failed" for e in logs)


@pytest.mark.parametrize("status", [401, 403, 404, 418, 500, 302])
def test_a_server_echoing_the_authorization_header_leaks_no_form_of_the_password(
    http_server: MakeServer, status: int
) -> None:
    echo = http_server(default=Route(status, echo=True))
    client = client_for(echo.url, health_path="/health")

    with capture_logs() as logs:
        probe = client.probe()
        data = client.get_json("/api/orders", {"since": "2024-05-01"})

    sent = echo.requests[0].headers["Authorization"]
    assert base64.b64decode(sent.removeprefix("Basic ")).decode() == f"{USER}:{PLANTED}"
    failures = [r for r in (probe, data) if r.failure]
    assert failures, "every answer of the echoing server is an error for get_json"
    for result in failures:
        assert result.exception is not None
        rendered = " ".join(
            map(repr, (result, result.error, result.error_data, result.exception.details))
        )
        assert_no_leak(rendered, leak_forms(PLANTED, user=USER), where=result.error_code)
    assert_no_leak(repr(logs), leak_forms(PLANTED, user=USER), where="the log")
    if status >= 400:
        # The server's words are quoted (so the report says why), cleaned of the token.
        assert status == 404 or f"HTTP {status} Echo ***" in (probe.error or "")
        assert "the server said: you sent Authorization: ***" in (probe.error or "")


def test_the_redactor_given_to_the_client_cleans_other_secrets_the_server_echoes(
    http_server: MakeServer,
) -> None:
    echo = http_server(default=Route(500, echo=True))
    other = "0ther-Secret-Of-The-Config"
    config = WmsConfig(echo.url, USER, PLANTED, "/health", 5.0)
    client = WmsApiClient(config, redactor=Redactor.of([other]))

    result = client.get_json("/api/orders", {"note": other})

    assert result.error_code == "WMS_SERVER_ERROR"
    said = (result.error or "").partition("the server said: ")[2]
    assert said.startswith("you sent Authorization: *** to /api/orders?note=***")
    assert_no_leak(said, leak_forms(other) | leak_forms(PLANTED, user=USER), where="the message")

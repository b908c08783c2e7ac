"""Alerts against real local servers: webhook and Slack payloads over HTTP, mail over SMTP.

Failing channels are real too: a receiver answering 500, a closed port, a
receiver that never answers, an SMTP listener that never greets.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from gruponos_ext.config import GruponosMeltanoSettings
from gruponos_ext.core.redaction import Redactor, mask_url
from gruponos_ext.core.result import Result
from gruponos_ext.services.alerts import (
    Alert,
    AlertChannelError,
    AlertDelivery,
    AlertManager,
    EmailChannel,
    LogChannel,
    RecordingChannel,
    Severity,
    SlackChannel,
    WebhookChannel,
    derive_dedup_key,
    describe_failure,
)
from gruponos_ext.services.breaker import BreakerState, CircuitBreaker
from tests.support.alerts import EchoingSmtpListener, SmtpServer, WebhookReceiver
from tests.support.net import HttpTestServer, Route, SilentListener, server_tls_context
from tests.support.secrets import assert_no_base64_of, assert_no_leak, leak_forms, url_leak_forms

TOKEN = "T0KEN-s3cr3t-4f9a"
SMTP_PASSWORD = "pw-Zq8-never-shown"


def make_alert(**overrides: Any) -> Alert:
    values: dict[str, Any] = {
        "title": "tap-oracle-wms failed",
        "message": "exit code 2 after 31 s",
        "severity": Severity.ERROR,
        "job": "wms-full",
        "details": {"exit_code": "2", "host": "etl-01"},
    }
    values.update(overrides)
    return Alert(**values)


def assert_no_secret(
    *renderings: object, secrets: tuple[str, ...] = (TOKEN, SMTP_PASSWORD)
) -> None:
    for rendering in renderings:
        text = rendering if isinstance(rendering, str) else repr(rendering)
        for secret in secrets:
            assert secret not in text, f"secret leaked in {text!r}"


# -- severity -------------------------------------------------------------------
def test_severity_orders_info_warning_error_critical() -> None:
    assert Severity.INFO < Severity.WARNING < Severity.ERROR < Severity.CRITICAL
    assert Severity.CRITICAL >= Severity.ERROR >= Severity.ERROR
    assert sorted([Severity.CRITICAL, Severity.INFO, Severity.ERROR]) == [
        Severity.INFO,
        Severity.ERROR,
        Severity.CRITICAL,
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("info", Severity.INFO),
        ("WARNING", Severity.WARNING),
        (" warn ", Severity.WARNING),
        ("Error", Severity.ERROR),
        ("critical", Severity.CRITICAL),
        (Severity.ERROR, Severity.ERROR),
    ],
)
def test_severity_parses_names_case_insensitively(text: Any, expected: Severity) -> None:
    assert Severity.parse(text) is expected


def test_unknown_severity_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="expected one of info, warning, error, critical"):
        Severity.parse("loud")


# -- the alert --------------------------------------------------------------------
def test_default_dedup_key_depends_on_title_job_and_severity_not_message() -> None:
    base = make_alert()
    assert make_alert(message="another text").dedup_key == base.dedup_key
    assert make_alert(title="other").dedup_key != base.dedup_key
    assert make_alert(job="wms-incr").dedup_key != base.dedup_key
    assert make_alert(severity=Severity.CRITICAL).dedup_key != base.dedup_key
    assert base.dedup_key == derive_dedup_key(base.title, base.job, base.severity)
    assert make_alert(dedup_key="custom").dedup_key == "custom"


def test_alert_refuses_naive_time_and_stores_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_alert(time=datetime(2024, 5, 1, 10, 0))
    lisbon_summer = timezone(timedelta(hours=1))
    alert = make_alert(time=datetime(2024, 5, 1, 11, 0, tzinfo=lisbon_summer))
    assert alert.time == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert alert.iso_time == "2024-05-01T10:00:00Z"


def test_alert_copies_details_and_is_frozen() -> None:
    details = {"exit_code": "2"}
    alert = make_alert(details=details)
    details["exit_code"] = "0"
    assert alert.details == {"exit_code": "2"}
    with pytest.raises(AttributeError):
        alert.title = "changed"  # type: ignore[misc]


def test_alert_accepts_severity_as_text_and_refuses_blank_title() -> None:
    assert make_alert(severity="critical").severity is Severity.CRITICAL
    with pytest.raises(ValueError, match="title"):
        make_alert(title="  ")


# -- URL masking ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (f"https://hooks.slack.com/services/T000/B000/{TOKEN}", "https://hooks.slack.com/…"),
        (f"http://127.0.0.1:8080/hook?token={TOKEN}#x", "http://127.0.0.1:8080/…"),
        (f"https://user:{TOKEN}@example.com/p", "https://example.com/…"),
        ("http://[::1]:9000/a", "http://[::1]:9000/…"),
        (f"not a url {TOKEN}", "<invalid url>"),
        ("http://host:99999999/", "<invalid url>"),
    ],
)
def test_mask_url_keeps_scheme_host_and_port_only(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_a_foreign_failure_is_worded_plainly_and_redacted_by_the_manager() -> None:
    class LeakyChannel(RecordingChannel):
        def send(self, alert: Alert) -> None:
            raise RuntimeError(f"POST http://h/hook/{TOKEN} failed; password {SMTP_PASSWORD}")

    manager = AlertManager([LeakyChannel("leaky")], redactor=Redactor.of([SMTP_PASSWORD]))
    result = manager.send(make_alert())

    reason = result.error_data["delivery"].failed["leaky"]
    assert reason == "RuntimeError: POST http://h/… failed; password ***"
    assert describe_failure(ConnectionRefusedError(111, "refused")) == "connection refused"


# -- generic webhook ----------------------------------------------------------------
def test_webhook_posts_every_alert_field_as_json(webhook_receiver: WebhookReceiver) -> None:
    alert = make_alert()
    channel = WebhookChannel(webhook_receiver.url(f"/hooks/{TOKEN}"), timeout=5)

    channel.send(alert)

    request = webhook_receiver.wait_for(1)[0]
    assert request.method == "POST"
    assert request.path == f"/hooks/{TOKEN}"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.json() == {
        "version": 1,
        "title": "tap-oracle-wms failed",
        "message": "exit code 2 after 31 s",
        "severity": "error",
        "source": "gruponos-infra",
        "job": "wms-full",
        "details": {"exit_code": "2", "host": "etl-01"},
        "dedup_key": alert.dedup_key,
        "time": alert.iso_time,
    }


def test_webhook_error_status_raises_sanitised_error(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.status = 500
    webhook_receiver.response_body = f"boom at /hooks/{TOKEN}".encode()
    channel = WebhookChannel(webhook_receiver.url(f"/hooks/{TOKEN}?sig={TOKEN}"), timeout=5)

    with pytest.raises(AlertChannelError) as caught:
        channel.send(make_alert())

    message = str(caught.value)
    assert "HTTP 500" in message
    assert f"http://127.0.0.1:{webhook_receiver.port}/…" in message
    assert caught.value.__cause__ is None
    assert_no_secret(message, repr(caught.value), caught.value.details)


def test_webhook_redirect_is_reported_not_followed(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.status = 302
    webhook_receiver.response_headers = {"Location": webhook_receiver.url("/elsewhere")}
    channel = WebhookChannel(webhook_receiver.url("/hook"), timeout=5)

    with pytest.raises(AlertChannelError, match="HTTP 302"):
        channel.send(make_alert())

    assert [r.path for r in webhook_receiver.requests] == ["/hook"]


def test_webhook_closed_port_fails_fast_with_connection_refused(closed_port: int) -> None:
    channel = WebhookChannel(f"http://127.0.0.1:{closed_port}/hooks/{TOKEN}", timeout=5)
    started = time.monotonic()

    with pytest.raises(AlertChannelError, match="connection refused") as caught:
        channel.send(make_alert())

    assert time.monotonic() - started < 3
    assert_no_secret(str(caught.value))


def test_webhook_that_never_answers_times_out_within_its_timeout(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.hang = True
    channel = WebhookChannel(webhook_receiver.url(f"/hooks/{TOKEN}"), timeout=0.5)
    started = time.monotonic()

    with pytest.raises(AlertChannelError, match=r"timed out after 0\.5 s"):
        channel.send(make_alert())

    assert 0.4 < time.monotonic() - started < 4
    assert len(webhook_receiver.requests) == 1


def test_webhook_url_must_be_http_and_is_masked_in_the_refusal() -> None:
    with pytest.raises(ValueError, match="http") as caught:
        WebhookChannel(f"ftp://files.example.com/{TOKEN}")
    assert_no_secret(str(caught.value))
    with pytest.raises(ValueError, match="timeout"):
        WebhookChannel("https://example.com/x", timeout=0)


def test_webhook_repr_and_str_show_only_scheme_and_host() -> None:
    channel = WebhookChannel(f"https://hooks.example.com/services/{TOKEN}?k={TOKEN}")
    assert repr(channel) == (
        "WebhookChannel(name='webhook', url='https://hooks.example.com/…', timeout=10)"
    )
    assert_no_secret(repr(channel), str(channel), channel.masked_url)


# -- Slack ------------------------------------------------------------------------
def test_slack_receives_payload_showing_severity_job_and_details(
    webhook_receiver: WebhookReceiver,
) -> None:
    alert = make_alert(severity=Severity.CRITICAL, message="ORA-12514 <listener> & co")
    SlackChannel(webhook_receiver.url(f"/services/T0/B0/{TOKEN}"), timeout=5).send(alert)

    payload = webhook_receiver.wait_for(1)[0].json()
    assert payload["text"] == ":rotating_light: [CRITICAL] tap-oracle-wms failed (job wms-full)"
    attachment = payload["attachments"][0]
    assert attachment["color"] == "#7A0019"
    blocks = attachment["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "CRITICAL: tap-oracle-wms failed"},
    }
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert "*Severity*\n:rotating_light: CRITICAL" in fields
    assert "*Job*\nwms-full" in fields
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    # Slack's control characters are escaped so text cannot turn into links/mentions.
    assert "ORA-12514 &lt;listener&gt; &amp; co" in texts
    assert "• *exit_code*: 2\n• *host*: etl-01" in texts
    assert alert.dedup_key in blocks[-1]["elements"][0]["text"]


@pytest.mark.parametrize("severity", list(Severity))
def test_slack_gives_each_severity_its_own_emoji_and_colour(severity: Severity) -> None:
    channel = SlackChannel("https://hooks.slack.com/services/T/B/x")
    payload = channel.payload(make_alert(severity=severity))
    others = [channel.payload(make_alert(severity=s)) for s in Severity if s is not severity]
    assert f"[{severity.label}]" in payload["text"]
    colour = payload["attachments"][0]["color"]
    assert all(o["attachments"][0]["color"] != colour for o in others)
    assert all(o["text"].split()[0] != payload["text"].split()[0] for o in others)


def test_slack_cuts_long_texts_to_block_limits() -> None:
    payload = SlackChannel("https://hooks.slack.com/services/T/B/x").payload(
        make_alert(title="t" * 400, message="m" * 5000)
    )
    blocks = payload["attachments"][0]["blocks"]
    assert len(blocks[0]["text"]["text"]) == 150
    assert max(len(b["text"]["text"]) for b in blocks if "text" in b) <= 3000


def test_slack_error_answer_is_reported_with_slacks_reason(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.status = 400
    webhook_receiver.response_body = b"invalid_payload"
    channel = SlackChannel(webhook_receiver.url(f"/services/{TOKEN}"), timeout=5)
    with pytest.raises(AlertChannelError, match="HTTP 400 Bad Request: invalid_payload"):
        channel.send(make_alert())


# -- e-mail ---------------------------------------------------------------------------
def email_channel(server: SmtpServer | int, **overrides: Any) -> EmailChannel:
    port = server if isinstance(server, int) else server.port
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "sender": "etl@gruponos.example",
        "recipients": ["ops@gruponos.example", "dba@gruponos.example"],
        "timeout": 5,
    }
    values.update(overrides)
    return EmailChannel(**values)


def test_email_reaches_smtp_server_with_subject_headers_recipients_and_body(
    smtp_server: SmtpServer,
) -> None:
    alert = make_alert(severity=Severity.CRITICAL)
    email_channel(smtp_server).send(alert)

    mail = smtp_server.wait_for(1)[0]
    assert mail.mail_from == "etl@gruponos.example"
    assert mail.rcpt_tos == ("ops@gruponos.example", "dba@gruponos.example")
    msg = mail.message
    assert msg["Subject"] == "[CRITICAL] tap-oracle-wms failed"
    assert msg["From"] == "etl@gruponos.example"
    assert msg["To"] == "ops@gruponos.example, dba@gruponos.example"
    assert msg["X-Gruponos-Severity"] == "critical"
    assert msg["X-Gruponos-Job"] == "wms-full"
    assert msg["X-Gruponos-Dedup-Key"] == alert.dedup_key
    assert msg["Message-ID"].endswith("@gruponos.example>")
    assert msg["Date"]
    body = mail.body
    assert body.startswith("exit code 2 after 31 s")
    assert "Severity: CRITICAL" in body
    assert "Job: wms-full" in body
    assert "  exit_code: 2" in body
    assert not mail.tls
    assert mail.authenticated_as is None


def test_email_and_webhook_carry_non_ascii_text_intact(
    smtp_server: SmtpServer, webhook_receiver: WebhookReceiver
) -> None:
    alert = make_alert(title="Falha na alocação", message="Pedido nº 7 — sem saída")
    email_channel(smtp_server).send(alert)
    WebhookChannel(webhook_receiver.url("/h"), timeout=5).send(alert)

    mail = smtp_server.wait_for(1)[0]
    assert mail.message["Subject"] == "[ERROR] Falha na alocação"
    assert mail.body.startswith("Pedido nº 7 — sem saída")
    payload = webhook_receiver.wait_for(1)[0].json()
    assert (payload["title"], payload["message"]) == (alert.title, alert.message)


def test_email_subject_stays_on_one_line() -> None:
    channel = email_channel(25)
    msg = channel.build_message(make_alert(title="line one\r\nBcc: victim@example.com"))
    assert msg["Subject"] == "[ERROR] line one Bcc: victim@example.com"
    assert msg["Bcc"] is None


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_logs_in_over_plain_connection_when_server_allows() -> None:
    with SmtpServer(auth=("alerts", SMTP_PASSWORD), auth_require_tls=False) as server:
        with capture_logs() as logs:
            email_channel(server, user="alerts", password=SMTP_PASSWORD).send(make_alert())
        mail = server.wait_for(1)[0]
    assert mail.authenticated_as == "alerts"
    assert server.logins == [("alerts", True)]
    # Sending a password in clear is allowed but never silent.
    assert any(e["event"] == "alert_smtp_auth_without_tls" for e in logs)
    assert_no_secret(logs)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_wrong_password_is_reported_without_the_password() -> None:
    with SmtpServer(auth=("alerts", "the-right-one"), auth_require_tls=False) as server:
        channel = email_channel(server, user="alerts", password=SMTP_PASSWORD)
        with pytest.raises(AlertChannelError) as caught:
            channel.send(make_alert())
        assert server.mails == []
    assert str(caught.value) == (
        f"SMTP 127.0.0.1:{server.port}: SMTP authentication rejected (535)"
    )
    assert_no_secret(str(caught.value), repr(caught.value), repr(channel))


def test_email_starttls_then_login_with_trusted_certificate(
    self_signed_cert: tuple[Path, Path],
) -> None:
    certfile, keyfile = self_signed_cert
    with SmtpServer(
        auth=("alerts", SMTP_PASSWORD),
        tls_context=server_tls_context(certfile, keyfile),
        require_starttls=True,
    ) as server:
        channel = email_channel(
            server,
            user="alerts",
            password=SMTP_PASSWORD,
            starttls=True,
            ssl_context=ssl.create_default_context(cafile=str(certfile)),
        )
        channel.send(make_alert())
        mail = server.wait_for(1)[0]
    assert mail.tls
    assert mail.authenticated_as == "alerts"


def test_email_starttls_refuses_an_untrusted_certificate(
    self_signed_cert: tuple[Path, Path],
) -> None:
    tls = server_tls_context(*self_signed_cert)
    with SmtpServer(tls_context=tls, require_starttls=True) as server:
        # Default context: the system CAs, which never signed the test certificate.
        channel = email_channel(server, user="alerts", password=SMTP_PASSWORD, starttls=True)
        with pytest.raises(
            AlertChannelError, match="TLS certificate verification failed"
        ) as caught:
            channel.send(make_alert())
        assert server.mails == []
    assert_no_secret(str(caught.value))


def test_email_starttls_wanted_but_not_offered_refuses_clear_text(
    smtp_server: SmtpServer,
) -> None:
    channel = email_channel(smtp_server, user="alerts", password=SMTP_PASSWORD, starttls=True)
    with pytest.raises(AlertChannelError, match="does not offer STARTTLS; refusing"):
        channel.send(make_alert())
    assert smtp_server.mails == []


def test_email_closed_port_fails_with_connection_refused(closed_port: int) -> None:
    with pytest.raises(AlertChannelError, match="connection refused"):
        email_channel(closed_port).send(make_alert())


def test_email_server_that_never_greets_times_out(silent_listener: SilentListener) -> None:
    started = time.monotonic()
    with pytest.raises(AlertChannelError, match=r"timed out after 0\.5 s"):
        email_channel(silent_listener.port, timeout=0.5).send(make_alert())
    assert time.monotonic() - started < 4


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"user": "alerts"}, "user and password go together"),
        ({"password": SMTP_PASSWORD}, "user and password go together"),
        ({"sender": None}, "sender address is required"),
        ({"recipients": []}, "recipient"),
        ({"recipients": ["not-an-address"]}, "not-an-address"),
        ({"port": 0}, "port"),
    ],
)
def test_email_channel_refuses_incomplete_configuration(
    overrides: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint) as caught:
        email_channel(587, **overrides)
    assert_no_secret(str(caught.value))


def test_email_repr_never_shows_the_password() -> None:
    channel = email_channel(587, user="alerts", password=SMTP_PASSWORD)
    assert "alerts" in repr(channel)
    assert_no_secret(repr(channel), str(channel), vars(channel).keys())


# -- log and recording channels ----------------------------------------------------
def test_log_channel_emits_an_alert_event_at_the_alert_severity() -> None:
    with capture_logs() as logs:
        LogChannel().send(make_alert(severity=Severity.CRITICAL))
    [event] = [e for e in logs if e["event"] == "alert"]
    assert event["log_level"] == "critical"
    assert event["title"] == "tap-oracle-wms failed"
    assert event["job"] == "wms-full"


def test_recording_channel_keeps_alerts_in_order_until_cleared() -> None:
    recorder = RecordingChannel()
    first, second = make_alert(title="one"), make_alert(title="two")
    recorder.send(first)
    recorder.send(second)
    assert recorder.alerts == (first, second)
    recorder.clear()
    assert recorder.alerts == ()


# -- the manager --------------------------------------------------------------------
class BlockingChannel:
    """A channel that ignores its own timeout: it blocks until released."""

    def __init__(self, name: str = "stuck", timeout: float = 0.2) -> None:
        self.name = name
        self.timeout = timeout
        self.release = threading.Event()

    def send(self, alert: Alert) -> None:
        self.release.wait(30)


@dataclass
class WindowDeduplicator:
    """The AlertDeduplicator protocol in memory, with an injectable clock."""

    now: float = 0.0
    sent: dict[str, float] = field(default_factory=dict)
    calls: list[tuple[str, float]] = field(default_factory=list)

    def should_send(self, key: str, window_s: float) -> bool:
        self.calls.append((key, window_s))
        last = self.sent.get(key)
        if last is not None and self.now - last < window_s:
            return False
        self.sent[key] = self.now
        return True


@dataclass
class ForgettingWindowDeduplicator(WindowDeduplicator):
    forgotten: list[str] = field(default_factory=list)

    def forget(self, key: str) -> None:
        self.forgotten.append(key)
        self.sent.pop(key, None)


class BrokenDeduplicator:
    def should_send(self, key: str, window_s: float) -> bool:
        raise OSError("database is locked")


def test_alert_below_min_severity_is_suppressed_without_touching_channels() -> None:
    recorder = RecordingChannel()
    dedup = WindowDeduplicator()
    manager = AlertManager([recorder], min_severity="error", deduplicator=dedup)

    result = manager.send(make_alert(severity=Severity.WARNING))

    assert result.success
    assert result.value.suppressed == "severity"
    assert result.value.outcomes == ()
    assert recorder.alerts == ()
    assert dedup.calls == []  # a filtered alert must not use up its dedup window
    assert manager.send(make_alert(severity=Severity.ERROR)).value.delivered == ("recorder",)


def test_every_channel_receives_the_alert(
    webhook_receiver: WebhookReceiver, smtp_server: SmtpServer
) -> None:
    recorder = RecordingChannel()
    manager = AlertManager(
        [
            WebhookChannel(webhook_receiver.url("/generic"), timeout=5),
            SlackChannel(webhook_receiver.url("/slack"), timeout=5),
            email_channel(smtp_server),
            recorder,
        ]
    )
    alert = make_alert()

    result = manager.send(alert)

    assert result.success
    delivery = result.value
    assert delivery.delivered == ("webhook", "slack", "email", "recorder")
    assert delivery.by_channel == dict.fromkeys(delivery.delivered, "delivered")
    assert delivery.failed == {}
    assert sorted(r.path for r in webhook_receiver.wait_for(2)) == ["/generic", "/slack"]
    assert smtp_server.wait_for(1)[0].message["Subject"] == "[ERROR] tap-oracle-wms failed"
    assert recorder.alerts == (alert,)


def test_failing_channels_never_stop_the_others_and_are_reported(
    webhook_receiver: WebhookReceiver, closed_port: int
) -> None:
    hanging = WebhookReceiver()
    hanging.hang = True
    webhook_receiver.status = 500
    recorder = RecordingChannel()
    manager = AlertManager(
        [
            WebhookChannel(webhook_receiver.url(f"/500/{TOKEN}"), timeout=5, name="answers-500"),
            WebhookChannel(f"http://127.0.0.1:{closed_port}/{TOKEN}", timeout=5, name="closed"),
            WebhookChannel(hanging.url(f"/{TOKEN}"), timeout=1, name="hangs"),
            recorder,
        ]
    )
    started = time.monotonic()
    try:
        with capture_logs() as logs:
            result = manager.send(make_alert())
    finally:
        hanging.close()
    elapsed = time.monotonic() - started

    assert result.success  # partial delivery is a success...
    delivery = result.value
    assert delivery.delivered == ("recorder",)
    assert len(recorder.alerts) == 1
    # ...that lists every failure with its reason.
    assert set(delivery.failed) == {"answers-500", "closed", "hangs"}
    assert "HTTP 500" in delivery.failed["answers-500"]
    assert "connection refused" in delivery.failed["closed"]
    assert "timed out after 1 s" in delivery.failed["hangs"]
    assert delivery.by_channel["closed"].startswith("failed: POST to http://127.0.0.1:")
    # Channels run side by side: the total is the slowest, not the sum.
    assert elapsed < 4
    [sent] = [e for e in logs if e["event"] == "alert_sent"]
    assert sent["log_level"] == "warning"
    assert_no_secret(result, delivery, delivery.summary(), delivery.to_dict(), logs)


def test_channel_ignoring_its_timeout_is_abandoned_and_reported() -> None:
    stuck = BlockingChannel(timeout=0.2)
    recorder = RecordingChannel()
    manager = AlertManager([stuck, recorder])
    started = time.monotonic()
    try:
        result = manager.send(make_alert())
    finally:
        stuck.release.set()

    assert time.monotonic() - started < 5
    assert result.success
    assert result.value.failed == {"stuck": "no answer within 1.2 s"}
    assert result.value.delivered == ("recorder",)


def test_channels_are_sent_to_at_the_same_time() -> None:
    # Each channel only delivers once all three are inside send() together:
    # sequential sending would break the barrier and fail every channel.
    barrier = threading.Barrier(3, timeout=5)

    class MeetingChannel:
        timeout = 6.0

        def __init__(self, name: str) -> None:
            self.name = name

        def send(self, alert: Alert) -> None:
            barrier.wait()

    manager = AlertManager([MeetingChannel("a"), MeetingChannel("b"), MeetingChannel("c")])
    assert manager.send(make_alert()).value.delivered == ("a", "b", "c")


def test_nothing_delivered_is_a_failure_with_code_and_per_channel_reasons(
    closed_port: int,
) -> None:
    manager = AlertManager(
        [WebhookChannel(f"http://127.0.0.1:{closed_port}/hooks/{TOKEN}", timeout=5)]
    )

    result = manager.send(make_alert())

    assert result.failure
    assert result.error_code == "ALERT_DELIVERY_FAILED"
    assert result.error is not None
    assert "'tap-oracle-wms failed' reached no channel" in result.error
    assert "connection refused" in result.error
    assert result.error_data["channels"]["webhook"].startswith("failed: ")
    delivery = result.error_data["delivery"]
    assert isinstance(delivery, AlertDelivery)
    assert delivery.delivered == ()
    assert_no_secret(result, result.error, result.error_data)


def test_channel_raising_a_foreign_exception_is_sanitised() -> None:
    class Exploding:
        name = "exploding"
        timeout = 1.0

        def send(self, alert: Alert) -> None:
            raise RuntimeError(f"cannot POST https://hooks.example.com/x/{TOKEN}")

    result = AlertManager([Exploding(), RecordingChannel()]).send(make_alert())

    assert result.value.failed == {
        "exploding": "RuntimeError: cannot POST https://hooks.example.com/…"
    }


# -- de-duplication ----------------------------------------------------------------
def test_repeated_alert_within_the_window_is_suppressed_as_duplicate() -> None:
    recorder = RecordingChannel()
    dedup = WindowDeduplicator()
    manager = AlertManager([recorder], deduplicator=dedup, dedup_window=600)

    first = manager.send(make_alert(message="run 1"))
    dedup.now += 599
    second = manager.send(make_alert(message="run 2"))
    other = manager.send(make_alert(job="wms-incr"))
    dedup.now += 2
    after_window = manager.send(make_alert(message="run 3"))

    assert first.value.suppressed is None
    assert second.success and second.value.suppressed == "duplicate"
    assert other.value.suppressed is None
    assert after_window.value.suppressed is None
    assert [a.message for a in recorder.alerts] == ["run 1", "exit code 2 after 31 s", "run 3"]
    assert dedup.calls[0] == (make_alert().dedup_key, 600.0)


def test_dedup_window_zero_sends_every_alert() -> None:
    recorder = RecordingChannel()
    dedup = WindowDeduplicator()
    manager = AlertManager([recorder], deduplicator=dedup, dedup_window=0)
    manager.send(make_alert())
    manager.send(make_alert())
    assert len(recorder.alerts) == 2
    assert dedup.calls == []


def test_unusable_deduplicator_lets_the_alert_through() -> None:
    recorder = RecordingChannel()
    manager = AlertManager([recorder], deduplicator=BrokenDeduplicator())
    with capture_logs() as logs:
        result = manager.send(make_alert())
    assert result.value.delivered == ("recorder",)
    assert any(e["event"] == "alert_dedup_unavailable" for e in logs)


def test_undelivered_alert_is_forgotten_so_the_next_run_retries(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.status = 503
    dedup = ForgettingWindowDeduplicator()
    manager = AlertManager(
        [WebhookChannel(webhook_receiver.url("/h"), timeout=5)], deduplicator=dedup
    )

    assert manager.send(make_alert()).failure
    assert dedup.forgotten == [make_alert().dedup_key]

    webhook_receiver.status = 200
    retried = manager.send(make_alert())
    assert retried.success and retried.value.suppressed is None
    assert len(webhook_receiver.wait_for(2)) == 2


# -- circuit breakers --------------------------------------------------------------
def test_open_breaker_skips_its_channel_and_others_still_deliver(closed_port: int) -> None:
    breaker = CircuitBreaker("alerts.webhook", failure_threshold=1, reset_timeout=60)
    recorder = RecordingChannel()
    manager = AlertManager(
        [WebhookChannel(f"http://127.0.0.1:{closed_port}/{TOKEN}", timeout=5), recorder],
        breakers={"webhook": breaker},
    )

    first = manager.send(make_alert(title="first"))
    assert first.value.failed["webhook"].endswith("connection refused")
    assert breaker.state is BreakerState.OPEN

    second = manager.send(make_alert(title="second"))
    assert second.success
    assert second.value.skipped == {"webhook": "circuit open"}
    assert second.value.by_channel == {"webhook": "skipped: circuit open", "recorder": "delivered"}
    assert [a.title for a in recorder.alerts] == ["first", "second"]


def test_every_channel_skipped_by_open_breakers_is_a_failure(
    webhook_receiver: WebhookReceiver,
) -> None:
    breaker = CircuitBreaker("alerts.webhook", failure_threshold=1, reset_timeout=60)
    with pytest.raises(ZeroDivisionError):
        breaker.call(lambda: 1 / 0)
    manager = AlertManager(
        [WebhookChannel(webhook_receiver.url("/h"), timeout=5)], breakers={"webhook": breaker}
    )

    result = manager.send(make_alert())

    assert result.failure
    assert result.error_code == "ALERT_DELIVERY_FAILED"
    assert result.error_data["channels"] == {"webhook": "skipped: circuit open"}
    assert webhook_receiver.requests == []


def test_breaker_closes_again_after_a_successful_trial(webhook_receiver: WebhookReceiver) -> None:
    clock = [0.0]
    breaker = CircuitBreaker(
        "alerts.webhook", failure_threshold=1, reset_timeout=10, clock=lambda: clock[0]
    )
    webhook_receiver.status = 500
    manager = AlertManager(
        [WebhookChannel(webhook_receiver.url("/h"), timeout=5)], breakers={"webhook": breaker}
    )
    assert manager.send(make_alert()).failure
    assert breaker.state is BreakerState.OPEN

    webhook_receiver.status = 200
    clock[0] = 11.0
    assert manager.send(make_alert()).value.delivered == ("webhook",)
    assert breaker.state is BreakerState.CLOSED


def test_manager_refuses_duplicate_channel_names_and_breakers_for_unknown_channels() -> None:
    with pytest.raises(ValueError, match="unique"):
        AlertManager([RecordingChannel("a"), RecordingChannel("a")])
    with pytest.raises(ValueError, match="unknown alert channels \\['slakc'\\]"):
        AlertManager([RecordingChannel()], breakers={"slakc": CircuitBreaker("x")})


def test_manager_without_channels_falls_back_to_the_log() -> None:
    manager = AlertManager([])
    with capture_logs() as logs:
        result = manager.send(make_alert())
    assert result.value.delivered == ("log",)
    assert any(e["event"] == "alert" and e["title"] == "tap-oracle-wms failed" for e in logs)


# -- from settings ------------------------------------------------------------------
def test_from_settings_without_alert_settings_logs_alerts() -> None:
    settings = GruponosMeltanoSettings.from_mapping({})
    manager = AlertManager.from_settings(settings)
    assert [type(c) for c in manager.channels] == [LogChannel]
    assert manager.min_severity is Severity.WARNING
    assert manager.dedup_window == 3600.0


def test_from_settings_builds_every_configured_channel_and_delivers(
    webhook_receiver: WebhookReceiver, smtp_server: SmtpServer
) -> None:
    settings = GruponosMeltanoSettings.from_mapping(
        {
            "alert_webhook_url": webhook_receiver.url(f"/generic/{TOKEN}"),
            "alert_slack_webhook_url": webhook_receiver.url(f"/slack/{TOKEN}"),
            "alert_smtp_host": "127.0.0.1",
            "alert_smtp_port": smtp_server.port,
            "alert_smtp_starttls": False,
            "alert_email_from": "etl@gruponos.example",
            "alert_email_to": ["ops@gruponos.example"],
            "alert_min_severity": "error",
            "alert_dedup_window": 60,
        }
    )
    breakers = {
        "webhook": CircuitBreaker("alerts.webhook"),
        "slack": CircuitBreaker("alerts.slack"),
        "email": CircuitBreaker("alerts.email"),
    }
    manager = AlertManager.from_settings(settings, breakers=breakers, timeout=5)

    assert [c.name for c in manager.channels] == ["webhook", "slack", "email"]
    assert manager.min_severity is Severity.ERROR
    assert manager.dedup_window == 60.0
    assert manager.send(make_alert(severity=Severity.WARNING)).value.suppressed == "severity"
    result = manager.send(make_alert())
    assert result.value.delivered == ("webhook", "slack", "email")
    payloads = {r.path.split("/")[1]: r.json() for r in webhook_receiver.wait_for(2)}
    assert payloads["generic"]["severity"] == "error"
    assert "[ERROR]" in payloads["slack"]["text"]
    assert smtp_server.wait_for(1)[0].rcpt_tos == ("ops@gruponos.example",)
    assert_no_secret(manager, manager.channels)


@dataclass
class PlainAlertSettings:
    """Any object with the ``alert_*`` attributes will do (the AlertSettings protocol)."""

    alert_webhook_url: SecretStr | None = None
    alert_slack_webhook_url: SecretStr | None = None
    alert_smtp_host: str | None = None
    alert_smtp_port: int = 587
    alert_smtp_user: str | None = None
    alert_smtp_password: SecretStr | None = None
    alert_smtp_starttls: bool = True
    alert_email_from: str | None = None
    alert_email_to: list[str] = field(default_factory=list)
    alert_min_severity: str = "warning"
    alert_dedup_window: float = 3600.0


def test_from_settings_ignores_breakers_of_unconfigured_channels_and_keeps_secrets() -> None:
    settings = PlainAlertSettings(
        alert_slack_webhook_url=SecretStr(f"https://hooks.slack.com/services/T/B/{TOKEN}"),
        alert_smtp_host="smtp.gruponos.example",
        alert_smtp_user="alerts",
        alert_smtp_password=SecretStr(SMTP_PASSWORD),
        alert_email_from="etl@gruponos.example",
        alert_email_to=["ops@gruponos.example"],
    )
    manager = AlertManager.from_settings(
        settings, breakers={"webhook": CircuitBreaker("w"), "slack": CircuitBreaker("s")}
    )
    assert [c.name for c in manager.channels] == ["slack", "email"]
    assert_no_secret(repr(manager), str(manager.channels))


def test_from_settings_needs_sender_and_recipients_with_an_smtp_host() -> None:
    with pytest.raises(ValueError, match="GRUPONOS_INFRA_ALERT_EMAIL_TO"):
        AlertManager.from_settings(PlainAlertSettings(alert_smtp_host="smtp.example.com"))


# -- secrets, end to end ----------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_planted_token_and_password_appear_in_no_result_repr_or_log(
    webhook_receiver: WebhookReceiver, closed_port: int
) -> None:
    webhook_receiver.status = 500
    webhook_receiver.response_body = f"bad token {TOKEN}".encode()
    with SmtpServer(auth=("alerts", "other"), auth_require_tls=False) as smtp:
        manager = AlertManager(
            [
                WebhookChannel(webhook_receiver.url(f"/hooks/{TOKEN}?token={TOKEN}"), timeout=5),
                SlackChannel(f"http://127.0.0.1:{closed_port}/services/{TOKEN}", timeout=5),
                email_channel(smtp, user="alerts", password=SMTP_PASSWORD),
            ],
            breakers={"webhook": CircuitBreaker("alerts.webhook", failure_threshold=1)},
        )
        with capture_logs() as logs:
            failed = manager.send(make_alert())
            skipped = manager.send(make_alert(title="again"))

    assert failed.failure and skipped.failure
    renderings: list[object] = [manager, *manager.channels, str(manager)]
    for result in (failed, skipped):
        renderings += [
            result,
            str(result),
            result.error,
            result.error_data,
            result.error_data["delivery"].to_dict(),
            result.error_data["delivery"].summary(),
        ]
    renderings.append(json.dumps(logs, default=repr))
    assert_no_secret(*renderings)
    # The failures were real and reached the log, masked.
    not_delivered = [e for e in logs if e["event"] == "alert_not_delivered"]
    assert len(not_delivered) == 2
    assert "HTTP 500" in not_delivered[0]["channels"]["webhook"]


def test_send_never_raises_even_when_the_alert_processing_breaks() -> None:
    class WeirdSeverityAlert:
        """Not an Alert at all: the manager must still answer with a Result."""

        severity = None
        dedup_key = "k"

    result = AlertManager([RecordingChannel()]).send(WeirdSeverityAlert())  # type: ignore[arg-type]
    assert isinstance(result, Result)
    assert result.failure
    assert result.error_code == "ALERT_DELIVERY_FAILED"


# -- servers that echo what they were sent -------------------------------------------
@pytest.mark.parametrize("kind", ["webhook", "slack"])
def test_a_webhook_echoing_the_url_query_and_body_leaks_no_token(
    http_server: Any, kind: str
) -> None:
    server: HttpTestServer = http_server(default=Route(500, echo=True))
    url = f"{server.url}/hooks/T000/{TOKEN}?token={TOKEN}x&sig=abc"
    channel = (WebhookChannel if kind == "webhook" else SlackChannel)(url, timeout=5)
    manager = AlertManager([channel])

    with capture_logs() as logs:
        result = manager.send(make_alert())

    assert server.requests[0].path == f"/hooks/T000/{TOKEN}"  # the token really was sent
    reason = result.error_data["delivery"].failed[kind]
    assert reason.startswith(f"POST to {server.url}/… answered HTTP 500 Echo -: you sent")
    rendered = repr(result) + repr(result.error_data) + json.dumps(logs, default=repr)
    forms = url_leak_forms(url, TOKEN, f"{TOKEN}x")
    assert_no_leak(rendered, forms, where="the delivery report or the log")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_an_smtp_server_echoing_the_login_leaks_no_form_of_the_password(
    echoing_smtp: EchoingSmtpListener,
) -> None:
    channel = email_channel(echoing_smtp.port, user="alerts", password=SMTP_PASSWORD)
    manager = AlertManager([channel])

    with capture_logs() as logs:
        result = manager.send(make_alert())

    assert [line.split(" ", 2)[:2] for line in echoing_smtp.auth_lines] == [["AUTH", "PLAIN"]]
    reason = result.error_data["delivery"].failed["email"]
    assert reason.startswith("SMTP 127.0.0.1:") and "SMTP error 554" in reason
    rendered = repr(result) + repr(result.error_data) + json.dumps(logs, default=repr)
    assert_no_leak(rendered, leak_forms(SMTP_PASSWORD, user="alerts"), where="the report")
    assert_no_base64_of(rendered, SMTP_PASSWORD, where="the report")


def test_from_settings_gives_every_channel_the_configuration_redactor(http_server: Any) -> None:
    server: HttpTestServer = http_server(default=Route(500, echo=True))
    oracle_password = "0racle-Pw-Known-To-Settings"
    settings = GruponosMeltanoSettings.from_mapping(
        {
            "alert_webhook_url": f"{server.url}/hooks/{TOKEN}",
            "oracle_host": "db.example",
            "oracle_service_name": "WMS",
            "oracle_user": "etl",
            "oracle_password": oracle_password,
        }
    )
    manager = AlertManager.from_settings(settings, timeout=5, redactor=settings.redactor())

    # The alert quotes the password (a careless caller); the server echoes the body.
    result = manager.send(make_alert(title=f"login {oracle_password} failed"))

    reason = result.error_data["delivery"].failed["webhook"]
    assert "you sent" in reason
    assert_no_leak(reason, leak_forms(oracle_password, user="etl"), where="the reason")

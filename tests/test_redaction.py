"""The one redaction module: secrets and their derived forms never survive outside text."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from gruponos_ext.core.redaction import REDACTED, Redactor, derived_forms, mask_url, redact

SECRET = "pl@nted:S3cret/with+chars"
USER = "svc-etl"


@pytest.fixture
def redactor() -> Redactor:
    return Redactor.of([SECRET], credentials=[(USER, SECRET)])


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        quote(SECRET, safe=""),
        quote(SECRET),
        quote_plus(SECRET),
        json.dumps(SECRET)[1:-1],
        _basic(USER, SECRET),
        _basic(USER, SECRET).rstrip("="),
        base64.urlsafe_b64encode(f"{USER}:{SECRET}".encode()).decode(),
        base64.b64encode(SECRET.encode()).decode(),
    ],
    ids=[
        "plain",
        "url-quoted",
        "url-quoted-path",
        "url-plus",
        "json",
        "basic",
        "basic-nopad",
        "basic-urlsafe",
        "base64",
    ],
)
def test_every_derived_form_of_a_secret_is_redacted(redactor: Redactor, form: str) -> None:
    text = f"server said: <{form}> end"
    cleaned = redactor(text)
    assert form not in cleaned
    assert SECRET not in cleaned
    assert cleaned.startswith("server said: <") and cleaned.endswith("> end")


@pytest.mark.parametrize("prefix", ["", "x", "xy", "Authorization: Basic "])
def test_base64_of_text_containing_the_secret_is_redacted_at_any_alignment(
    redactor: Redactor, prefix: str
) -> None:
    # A proxy echoing a whole header block, base64-encoded, at any offset.
    encoded = base64.b64encode(f"{prefix}{USER}:{SECRET} trailing".encode()).decode()
    cleaned = redactor(f"echo {encoded}")
    assert REDACTED in cleaned and encoded not in cleaned
    # What is left of the base64 no longer decodes to anything holding the secret.
    for piece in cleaned.removeprefix("echo ").split(REDACTED):
        for start in range(4):
            chunk = piece[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            decoded = base64.b64decode(chunk + "==", validate=False) if chunk else b""
            assert SECRET.encode() not in decoded


def test_webhook_url_token_segments_are_redacted_wherever_they_appear() -> None:
    url = "https://hooks.example.com/services/T000/B111/AbCdEfGhIjKlMnOp"
    redactor = Redactor.of([url])
    cleaned = redactor("POST failed for token AbCdEfGhIjKlMnOp (quoted: AbCdEfGhIjKlMnOp)")
    assert "AbCdEfGhIjKlMnOp" not in cleaned
    assert cleaned.count(REDACTED) == 2


def test_credential_looking_text_is_redacted_without_known_secrets() -> None:
    text = (
        "connect postgresql://etl:hunter2@db:5432/m failed; password=abc123 "
        'token: "tok-1" Authorization: Bearer abc.def user/pw@orahost'
    )
    cleaned = redact(text)
    for leaked in ("hunter2", "abc123", "tok-1", "abc.def", "pw@orahost"):
        assert leaked not in cleaned
    assert "postgresql://etl:***@db:5432/m" in cleaned


def test_text_without_secrets_is_left_exactly_as_it_was(redactor: Redactor) -> None:
    text = '{"status": "pass", "critical": true, "output": "oracle reachable in 3 ms"}'
    assert redactor(text) == text


def test_short_common_secrets_only_touch_outside_text_never_structure() -> None:
    # A password "true" is removed from a server reply; the report is built from
    # our own values and never passes through the redactor as a whole.
    redactor = Redactor.of(["true"])
    assert redactor("server: password true refused") == "server: password *** refused"


def test_structure_redacts_every_string_value_and_key(redactor: Redactor) -> None:
    data = {"echo": {"headers": [f"Basic {_basic(USER, SECRET)}"], SECRET: 1}, "n": 3}
    cleaned = redactor.structure(data)
    dumped = json.dumps(cleaned)
    assert SECRET not in dumped and _basic(USER, SECRET) not in dumped
    assert cleaned["n"] == 3


def test_limit_cuts_after_redaction_so_no_fragment_of_a_secret_remains(
    redactor: Redactor,
) -> None:
    text = "x" * 10 + SECRET + "y" * 50
    cleaned = redactor(text, limit=12)
    assert cleaned == "x" * 10 + "**..."


def test_exception_rendering_names_the_type_and_redacts_the_message(redactor: Redactor) -> None:
    assert redactor.exception(ValueError(f"bad {SECRET}")) == f"ValueError: bad {REDACTED}"
    assert redactor.exception(TimeoutError()) == "TimeoutError"


def test_including_adds_secrets_and_keeps_the_old_ones(redactor: Redactor) -> None:
    more = redactor.including(["another-secret-value"])
    assert more("a another-secret-value b") == f"a {REDACTED} b"
    assert SECRET not in more(SECRET)
    assert redactor.including([]) is redactor


def test_derived_forms_skip_short_encodings_but_keep_the_plain_secret() -> None:
    forms = derived_forms("ab")
    assert forms == {"ab"}
    assert derived_forms("") == set()


def test_mask_url_keeps_only_scheme_host_and_port() -> None:
    assert mask_url("https://u:p@hooks.slack.com:443/services/T/B/X?x=1") == (
        "https://hooks.slack.com:443/…"
    )
    assert mask_url("not a url") == "<invalid url>"
    assert mask_url("http://[::1]:8080/x") == "http://[::1]:8080/…"


def test_plain_words_in_a_secret_url_are_not_taken_for_tokens() -> None:
    url = "https://hooks.slack.com/services/T0AB12CD3/B0XY98ZW7/AbCdEfGhIjKlMnOpQrStUvWx"
    redactor = Redactor.of([url])
    cleaned = redactor("the services are down; token B0XY98ZW7 and AbCdEfGhIjKlMnOpQrStUvWx")
    assert cleaned.startswith("the services are down; token ")
    assert "B0XY98ZW7" not in cleaned and "AbCdEfGhIjKlMnOpQrStUvWx" not in cleaned


def test_mask_urls_in_keeps_only_the_destination_of_every_url() -> None:
    from gruponos_ext.core.redaction import mask_urls_in

    text = "POST https://a.example.com/T/B/X?k=1 then http://b.example.com:8080/p failed"
    assert (
        mask_urls_in(text) == "POST https://a.example.com/… then http://b.example.com:8080/… failed"
    )

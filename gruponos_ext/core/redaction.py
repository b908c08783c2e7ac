"""Secret redaction: the one place where text from outside is cleaned.

*Outside text* is text this package did not write: a server's reply, a
driver's exception message, a child process's output. It is redacted where
it enters (the client that read it, the runner that caught it), never as a
last pass over everything printed: a password ``true`` must not turn the
report's ``"critical": true`` into ``"critical": ***``.

A :class:`Redactor` knows the secret values (and user/password pairs) of
one configuration and removes, from outside text:

* every known secret and its *derived forms*: URL-encoded, JSON-escaped,
  base64 (at any byte alignment, so ``base64(user:password)`` echoed by a
  proxy in an ``Authorization`` header is caught too), and the token
  segments of a secret webhook URL;
* text that looks like a credential whatever its value: URL passwords
  (``scheme://user:***@host``), ``user:pass@host`` and Oracle
  ``user/pass@host``, ``password=``/``token:``/``api_key=`` pairs,
  ``Bearer``/``Basic`` values, signature query parameters, webhook tokens.

>>> redact = Redactor.of(["hunter2"], credentials=[("etl", "hunter2")])
>>> redact("login etl/hunter2 refused; echo: Authorization: Basic ZXRsOmh1bnRlcjI=")
'login etl/*** refused; echo: Authorization: ***'
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

__all__ = [
    "REDACTED",
    "Redactor",
    "derived_forms",
    "mask_url",
    "mask_urls_in",
    "redact",
]

REDACTED = "***"
"""What replaces a secret in outside text."""

_MAX_MESSAGE = 1000
# A derived form shorter than this matches too much unrelated text to be worth it.
_MIN_DERIVED = 6
# URL path segments / query values at least this long may be tokens...
_MIN_TOKEN_SEGMENT = 8
# ...unless they are plain lower-case words ("services", "webhooks"): masking
# those would mask every server message that mentions them.
_WORD = re.compile(r"[a-z]+(?:[-_][a-z]+)*")
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>]+")


def _base64_cores(data: bytes) -> set[str]:
    """The base64 characters that depend only on ``data``, at each of the 3 alignments.

    ``data`` embedded anywhere in a longer byte string encodes, in the middle
    of that string's base64, to one of these three runs of characters.
    """
    cores: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data + b"\0\0").decode("ascii")
        first = -(-8 * offset // 6)  # first character made only of data bits
        last = 8 * (offset + len(data)) // 6  # one past the last such character
        core = encoded[first:last]
        if len(core) >= _MIN_DERIVED:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))  # urlsafe alphabet
    return cores


def _url_tokens(secret: str) -> set[str]:
    """A secret URL's path segments and query values that look like tokens."""
    if "://" not in secret:
        return set()
    try:
        parts = urlsplit(secret.strip())
    except ValueError:
        return set()
    pieces = [segment for segment in parts.path.split("/") if segment]
    pieces += [pair.partition("=")[2] for pair in parts.query.split("&")]
    return {
        piece for piece in pieces if len(piece) >= _MIN_TOKEN_SEGMENT and not _WORD.fullmatch(piece)
    }


def derived_forms(secret: str) -> set[str]:
    """``secret`` and the forms it takes once encoded: what else must never be shown."""
    if not secret:
        return set()
    forms = {secret}
    for piece in {secret, *_url_tokens(secret)}:
        forms |= {piece, quote(piece, safe=""), quote(piece), quote_plus(piece)}
        forms.add(json.dumps(piece)[1:-1])
        forms.add(json.dumps(piece, ensure_ascii=False)[1:-1])
        forms |= _base64_cores(piece.encode("utf-8"))
    return {form for form in forms if form == secret or len(form) >= _MIN_DERIVED}


def _basic_auth_forms(user: str, password: str) -> set[str]:
    """The ``Authorization: Basic`` token of ``user:password``, as sent and as echoed."""
    pair = f"{user}:{password}".encode()
    exact = {base64.b64encode(pair).decode("ascii"), base64.urlsafe_b64encode(pair).decode()}
    return exact | {form.rstrip("=") for form in exact} | _base64_cores(pair)


def _redact_value(match: re.Match[str]) -> str:
    value = match.group("value")
    quote_char = value[0] if value[0] in "\"'" and value[-1] == value[0] and len(value) > 1 else ""
    return f"{match.group('key')}{quote_char}{REDACTED}{quote_char}"


_Replacement = str | Callable[[re.Match[str]], str]
# Each pattern keeps the harmless part (scheme, user, key name, quotes) so the
# message stays useful, and replaces only what carries the secret.
_PATTERNS: tuple[tuple[re.Pattern[str], _Replacement], ...] = (
    # scheme://user:password@host
    (
        re.compile(r"(\b[a-z][a-z0-9+.\-]*://[^\s/@:]*):[^\s/@]*@", re.IGNORECASE),
        rf"\1:{REDACTED}@",
    ),
    # user:password@host without a scheme
    (re.compile(r"((?<![\w/:.\-])[\w.\-]+):[^\s/@:]+@(?=[\w\[])"), rf"\1:{REDACTED}@"),
    # Oracle style user/password@host
    (re.compile(r"((?<![\w/:.\-])[\w.$#\-]+)/[^\s/@]+@(?=[\w\[])"), rf"\1/{REDACTED}@"),
    # password=..., "api_key": "...", token: ..., Authorization: Bearer ...
    (
        re.compile(
            r"(?P<key>\b[\w\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|credential"
            r"|authorization)[\w\-]*[\"']?\s*[:=]\s*)"
            r"(?P<value>(?:(?:Bearer|Basic|Token)\s+)?(?:\"[^\"]*\"|'[^']*'|[^\s&;,\"')}\]]+))",
            re.IGNORECASE,
        ),
        _redact_value,
    ),
    # bare authorization header values
    (re.compile(r"\b(Bearer|Basic)\s+[\w.~+/=\-]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    # query parameters that carry signatures or keys
    (re.compile(r"([?&](?:sig|signature|key|code)=)[^&\s]+", re.IGNORECASE), rf"\1{REDACTED}"),
    # webhook URLs whose path is the credential
    (
        re.compile(
            r"(hooks\.slack\.com/(?:services|workflows|triggers)/|/api/webhooks/)[^\s\"'<>]+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
)


@dataclass(frozen=True, slots=True)
class Redactor:
    """Removes known secrets, their derived forms and credential-looking text.

    Build it with :meth:`of`; it is immutable and cheap to call. An empty
    redactor still removes credential-looking text.
    """

    needles: tuple[str, ...] = ()
    """Every string to remove, longest first (so a secret containing another goes whole)."""

    @classmethod
    def of(
        cls,
        secrets: Iterable[str] = (),
        *,
        credentials: Iterable[tuple[str | None, str | None]] = (),
    ) -> Redactor:
        """A redactor for ``secrets`` and the ``(user, password)`` pairs in ``credentials``."""
        needles: set[str] = set()
        for secret in secrets:
            needles |= derived_forms(secret)
        for user, password in credentials:
            if password:
                needles |= derived_forms(password)
                needles |= _basic_auth_forms(user or "", password)
        return cls(tuple(sorted(needles, key=lambda n: (-len(n), n))))

    def including(
        self,
        secrets: Iterable[str] = (),
        *,
        credentials: Iterable[tuple[str | None, str | None]] = (),
    ) -> Redactor:
        """This redactor plus more secrets."""
        more = Redactor.of(secrets, credentials=credentials)
        if not more.needles:
            return self
        merged = set(self.needles) | set(more.needles)
        return Redactor(tuple(sorted(merged, key=lambda n: (-len(n), n))))

    def __call__(self, text: str, *, limit: int | None = None) -> str:
        """``text`` with every secret and credential-looking part replaced by ``***``.

        ``limit`` cuts the result (after redaction, so a secret is never cut
        into a piece that no longer matches) and marks the cut with ``...``.
        """
        for needle in self.needles:
            if needle in text:
                text = text.replace(needle, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        if limit is not None and len(text) > limit:
            text = text[:limit] + "..."
        return text

    def exception(self, exc: BaseException, *, limit: int = _MAX_MESSAGE) -> str:
        """``"ExceptionType: redacted message"`` (just the type when the message is empty)."""
        message = self(str(exc), limit=limit)
        return f"{type(exc).__name__}: {message}" if message else type(exc).__name__

    def structure(self, value: Any) -> Any:
        """``value`` (JSON-like data from outside) with every string redacted; keys too."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {self.structure(k): self.structure(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.structure(item) for item in value]
        return value


_NO_SECRETS = Redactor()


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` cleaned by a :class:`Redactor` of ``secrets`` (build one to reuse it).

    >>> redact("cannot connect to postgresql://etl:hunter2@db:5432/meltano")
    'cannot connect to postgresql://etl:***@db:5432/meltano'
    """
    redactor = Redactor.of(secrets) if secrets else _NO_SECRETS
    return redactor(text)


def mask_url(url: str) -> str:
    """``https://hooks.slack.com/services/T0/B0/XyZ?x=1`` -> ``https://hooks.slack.com/…``.

    Keeps scheme, host and port; drops user info, path, query and fragment,
    which is where webhook tokens live. Unparseable input gives ``<invalid url>``.

    >>> mask_url("https://user:pw@hooks.example.com:8443/T0/B0/XyZ?token=1")
    'https://hooks.example.com:8443/…'
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<invalid url>"
    if not parts.scheme or not host:
        return "<invalid url>"
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}/…"


def mask_urls_in(text: str) -> str:
    """``text`` with every URL in it reduced to its scheme, host and port.

    For text naming a destination that no :class:`Redactor` knows (a foreign
    exception quoting some webhook URL): only the destination is kept. Apply
    it after the redactor, which knows the configured secrets.

    >>> mask_urls_in("cannot POST https://hooks.example.com/T0/B0/XyZ (HTTP 500)")
    'cannot POST https://hooks.example.com/… (HTTP 500)'
    """
    return _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), text)

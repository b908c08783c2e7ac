"""Planted secrets and the forms a leak of them takes, for tests that grep output.

Computed here with the standard library, independently of
:mod:`gruponos_ext.core.redaction`: a test must not ask the code under test
what a leak looks like.

>>> sorted(leak_forms("p@ss w/rd!", user="etl"))[:3]
['ZXRsOnBAc3Mgdy9yZCE', 'ZXRsOnBAc3Mgdy9yZCE=', 'cEBzcyB3L3JkIQ']
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

__all__ = [
    "assert_no_base64_of",
    "assert_no_leak",
    "files_under",
    "leak_forms",
    "url_leak_forms",
]

_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_\-]{4,}={0,2}")


def _base64_forms(data: bytes) -> set[str]:
    standard = base64.b64encode(data).decode("ascii")
    urlsafe = base64.urlsafe_b64encode(data).decode("ascii")
    return {standard, urlsafe, standard.rstrip("="), urlsafe.rstrip("=")}


def leak_forms(secret: str, *, user: str | None = None) -> set[str]:
    """``secret`` as printed, percent-encoded, JSON-escaped and base64-encoded.

    With ``user``, also ``base64(user:secret)``: the ``Authorization: Basic``
    token a proxy may echo.
    """
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    forms |= _base64_forms(secret.encode())
    if user is not None:
        forms |= _base64_forms(f"{user}:{secret}".encode())
    return forms


def url_leak_forms(url: str, *tokens: str) -> set[str]:
    """The forms of a secret URL and of the ``tokens`` in its path or query."""
    assert all(token in url for token in tokens), "each token must be a part of the URL"
    forms = leak_forms(url)
    for token in tokens:
        forms |= leak_forms(token)
    return forms


def assert_no_leak(
    output: str | bytes, forms: Iterable[str], *, where: object, min_length: int = 1
) -> None:
    """AssertionError naming ``where`` and the form when ``output`` contains a leak form.

    Forms shorter than ``min_length`` are not looked for (a password ``true``
    is, rightly, a word of every JSON report).
    """
    data = output.encode() if isinstance(output, str) else output
    for form in sorted(forms, key=len, reverse=True):
        if len(form) >= min_length:
            assert form.encode() not in data, f"{form!r} leaked into {where}"


def assert_no_base64_of(output: str | bytes, secret: str, *, where: object) -> None:
    """AssertionError when any run of base64 in ``output`` decodes to bytes holding ``secret``.

    Tries every start offset and both alphabets, so base64 of a longer text
    that contains the secret (``AUTH PLAIN`` of ``\\0user\\0password``) is found
    whatever its alignment.
    """
    data = output.encode() if isinstance(output, str) else output
    needle = secret.encode()
    for match in _BASE64_RUN.finditer(data):
        run = match.group(0).rstrip(b"=").replace(b"-", b"+").replace(b"_", b"/")
        for start in range(4):
            chunk = run[start:]
            if len(chunk) % 4 == 1:  # one dangling character carries no whole byte
                chunk = chunk[:-1]
            decoded = base64.b64decode(chunk + b"=" * (-len(chunk) % 4))
            assert needle not in decoded, f"base64 of {secret!r} leaked into {where}"


def files_under(root: Path, *, skip: Iterable[str] = ()) -> list[Path]:
    """Every regular file under ``root`` except those in a directory named in ``skip``."""
    excluded = set(skip)
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and not excluded & set(path.relative_to(root).parts)
    ]

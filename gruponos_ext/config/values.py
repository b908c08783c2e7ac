"""Meltano's value forms, as the pydantic validators the settings model uses.

Every value reaches the plugin as a string. Booleans are ``true``/``false``
(``True``/``False`` when meltano.yml holds a YAML boolean); lists are
comma-separated or a JSON array (``['a', 'b']``, Python-style, when
meltano.yml holds a YAML list); numbers are plain ASCII decimals (never
``1_521`` nor Arabic-Indic digits, which ``int()`` would take).

Each marker below is one ``BeforeValidator``, used as ``Annotated[int,
INTEGER]`` or ``Annotated[str | None, HTTP_URL]`` so the field's annotation
stays the plain Python type. It accepts exactly those forms (and the plain
Python values ``from_mapping`` may be given); pydantic checks the rest
(type, bounds, choices, finiteness).

A validator that rejects a value either raises a plain ``ValueError`` (the
message then says what the setting takes, from its field) or
:func:`~gruponos_ext.config.errors.invalid` with its own reason; no reason
ever holds a secret.

>>> ascii_integer(" 1521 ")
1521
>>> ascii_integer("1_521")
Traceback (most recent call last):
...
ValueError: not an ASCII decimal integer
>>> meltano_list("['a@example.com', 'b@example.com']")
['a@example.com', 'b@example.com']
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from pydantic import BeforeValidator, SecretStr, ValidationInfo

from gruponos_ext.config.errors import invalid, shown
from gruponos_ext.config.fields import env_var_for

__all__ = [
    "ABSOLUTE_PATH",
    "BOOLEAN",
    "CHOICE",
    "EMAIL",
    "EMAIL_LIST",
    "HTTP_URL",
    "INTEGER",
    "NAME_LIST",
    "NUMBER",
    "PATH",
    "SECRET_HTTP_URL",
    "SECRET_POSTGRES_URI",
    "SECRET_TEXT",
    "SQL_IDENTIFIER",
    "TEXT",
    "URL_PATH",
    "ascii_integer",
    "ascii_number",
    "lowercase_choice",
    "meltano_list",
    "relative_path_error",
]

# Only ASCII digits: int()/float() would also take '1_521' and Arabic-Indic '١٥٢١'.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TRUE = frozenset({"true", "1", "yes", "on", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "off", "n", "f"})
# Deliberately loose: catches "ops.example.com" or "a@b@c", not RFC 5322.
_EMAIL = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+$")
# PostgreSQL folds unquoted names to lower case and cuts them at 63 bytes.
_SQL_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")


# --------------------------------------------------------------------------- scalars


def _ascii_decimal(value: object, form: re.Pattern[str], kind: type, noun: str) -> object:
    if isinstance(value, bool):
        raise ValueError(f"a boolean is not an ASCII decimal {noun}")
    if isinstance(value, str):
        text = value.strip()
        if not form.fullmatch(text):
            raise ValueError(f"not an ASCII decimal {noun}")
        return kind(text)
    return value


def ascii_integer(value: object) -> object:
    """An integer from ASCII decimal text; other values go on to pydantic, booleans never."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return _ascii_decimal(value, _INTEGER, int, "integer")


def ascii_number(value: object) -> object:
    """A number from ASCII decimal text (``2.5``, ``1e3``); pydantic refuses inf and nan."""
    return _ascii_decimal(value, _NUMBER, float, "number")


def _boolean(value: object) -> object:
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("not a boolean")
    if not isinstance(value, bool):
        raise ValueError("not a boolean")
    return value


def lowercase_choice(aliases: dict[str, str] | None = None) -> BeforeValidator:
    """Choices are case-insensitive; ``aliases`` maps other spellings to a choice."""

    def normalise(value: object) -> object:
        if not isinstance(value, str):
            return value
        text = value.strip().lower()
        return (aliases or {}).get(text, text)

    return BeforeValidator(normalise)


def _text(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


INTEGER = BeforeValidator(ascii_integer)
NUMBER = BeforeValidator(ascii_number)
BOOLEAN = BeforeValidator(_boolean)
TEXT = BeforeValidator(_text)
CHOICE = lowercase_choice()


# --------------------------------------------------------------------------- formats


def _checked_text(check: Callable[[str], bool], what: str) -> BeforeValidator:
    """Stripped text that passes ``check``; other types go on to pydantic."""

    def validate(value: object) -> object:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not check(text):
            raise ValueError(f"not {what}")
        return text

    return BeforeValidator(validate)


def _is_email(text: str) -> bool:
    return bool(_EMAIL.match(text))


def _is_url_path(text: str) -> bool:
    return text.startswith("/") and "://" not in text


def _is_sql_identifier(text: str) -> bool:
    return bool(_SQL_IDENTIFIER.match(text))


def _check_http_url(text: str, field: str | None, *, secret: bool) -> None:
    """Raise unless ``text`` is an http(s) URL with a host (and, unless secret, no credentials)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        raise ValueError("not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        raise ValueError("not an http(s) URL with a host")
    if not secret and (parts.username is not None or parts.password is not None):
        # Echoing it would leak the credentials it carries.
        prefix = env_var_for(field or "").removesuffix("_BASE_URL")
        raise invalid(
            f"must not carry credentials; set {prefix}_USER and {prefix}_PASSWORD instead"
        )


def _http_url(value: object, info: ValidationInfo) -> object:
    if not isinstance(value, str):
        return value
    text = value.strip()
    _check_http_url(text, info.field_name, secret=False)
    return text


def _secret_text(value: object) -> SecretStr:
    if isinstance(value, SecretStr):
        return value
    if not isinstance(value, str):
        raise invalid("must be text")
    return SecretStr(value)


def _secret_http_url(value: object, info: ValidationInfo) -> SecretStr:
    text = _secret_text(value).get_secret_value().strip()
    _check_http_url(text, info.field_name, secret=True)
    return SecretStr(text)


def _secret_postgres_uri(value: object) -> SecretStr:
    text = _secret_text(value).get_secret_value().strip()
    scheme = text.partition("://")[0].lower() if "://" in text else ""
    if scheme not in _POSTGRES_SCHEMES:
        raise ValueError("not a PostgreSQL URI")  # the message shows no secret value
    return SecretStr(text)


EMAIL = _checked_text(_is_email, "an e-mail address")
URL_PATH = _checked_text(_is_url_path, "a URL path")
SQL_IDENTIFIER = _checked_text(_is_sql_identifier, "a lower-case SQL name")
HTTP_URL = BeforeValidator(_http_url)
SECRET_TEXT = BeforeValidator(_secret_text)
SECRET_HTTP_URL = BeforeValidator(_secret_http_url)
SECRET_POSTGRES_URI = BeforeValidator(_secret_postgres_uri)


# --------------------------------------------------------------------------- lists


def meltano_list(value: object) -> object:
    """A list from a comma-separated string, a JSON array or Meltano's ``['a', 'b']``.

    Blank items are dropped and items stripped; anything that is not a flat
    list of strings goes on to pydantic, which refuses it.
    """
    items: object = value
    if isinstance(value, str):
        text = value.strip()
        items = _list_literal(text) if text.startswith("[") else text.split(",")
    if isinstance(items, (list, tuple)) and all(isinstance(i, str) for i in items):
        return [i.strip() for i in items if i.strip()]
    if items is None:
        raise ValueError("not a list")
    return items


def _list_literal(text: str) -> object:
    """A JSON array, or the Python-style list Meltano exports for a YAML list; else None."""
    import json

    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # 100,000 '[' exhaust json's recursion
        pass
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _email_list(value: object) -> object:
    values = meltano_list(value)
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        bad = [v for v in values if not _EMAIL.match(v)]
        if bad:
            listed = ", ".join(repr(b) for b in bad[:5])
            raise invalid(f"must hold e-mail addresses only; not addresses: {listed}")
    return values


NAME_LIST = BeforeValidator(meltano_list)
EMAIL_LIST = BeforeValidator(_email_list)


# --------------------------------------------------------------------------- paths


def _path(value: object) -> object:
    if isinstance(value, (str, os.PathLike)):
        return Path(os.fspath(value).strip()).expanduser()
    return value


def _absolute_path(value: object) -> object:
    path = _path(value)
    if isinstance(path, Path) and not path.is_absolute():
        raise ValueError("not an absolute path")
    return path


PATH = BeforeValidator(_path)
"""A path; the model resolves a relative one against the project root."""
ABSOLUTE_PATH = BeforeValidator(_absolute_path)


def relative_path_error(value: Path) -> Exception:
    """A relative path with no project root to resolve it against."""
    return invalid(
        f"is a relative path{shown(str(value))} and no project root (MELTANO_PROJECT_ROOT) "
        "is known to resolve it against; give an absolute path"
    )

"""What can go wrong with Oracle, and which driver error means which.

Every failure is an :class:`OracleServiceError` subclass with a stable
``code``. :func:`classify_oracle_error` maps a python-oracledb (or socket)
exception -- its whole cause chain, by the ``ORA-``/``DPY-``/``TNS-`` codes
it carries -- to one of them, with a message that names ``host:port/service``
and the user. Where the driver's own text is quoted, it went through the
:class:`~gruponos_ext.core.redaction.Redactor` first: a driver message is
outside text and may echo what was sent.
"""

from __future__ import annotations

import errno
import re
import socket
from typing import TYPE_CHECKING, Any

from gruponos_ext.core.errors import GruponosError
from gruponos_ext.core.redaction import Redactor

if TYPE_CHECKING:
    from gruponos_ext.services.oracle.config import OracleConfig

__all__ = [
    "OracleAuthError",
    "OracleConfigError",
    "OracleListenerRefusedError",
    "OracleManagerClosedError",
    "OracleNotConfiguredError",
    "OracleServiceError",
    "OracleTimeoutError",
    "OracleTlsError",
    "OracleUnknownServiceError",
    "OracleUnreachableError",
    "classify_oracle_error",
]

# How much of a driver message is quoted in ours.
_QUOTED_LIMIT = 300


class OracleServiceError(GruponosError):
    """An Oracle operation failed; ``code`` says how (this base: ``ORACLE_ERROR``)."""

    code = "ORACLE_ERROR"


class OracleAuthError(OracleServiceError):
    """The server rejected the credentials (ORA-01017, locked or expired account...)."""

    code = "ORACLE_AUTH_FAILED"


class OracleUnknownServiceError(OracleServiceError):
    """The listener does not know the service name or SID (ORA-12514, ORA-12505)."""

    code = "ORACLE_UNKNOWN_SERVICE"


class OracleUnreachableError(OracleServiceError):
    """No Oracle listener could be talked to: refused, unresolvable, closed on us."""

    code = "ORACLE_UNREACHABLE"


class OracleTimeoutError(OracleServiceError):
    """Connecting or a round trip took longer than allowed."""

    code = "ORACLE_TIMEOUT"


class OracleTlsError(OracleServiceError):
    """The TCPS (TLS) handshake failed: certificate, wallet or DN mismatch."""

    code = "ORACLE_TLS_ERROR"


class OracleListenerRefusedError(OracleServiceError):
    """The listener answered but refused the connection (no handler, blocked...)."""

    code = "ORACLE_LISTENER_REFUSED"


class OracleManagerClosedError(OracleServiceError):
    """The manager was closed (container disposed); it hands out no more connections."""

    code = "ORACLE_MANAGER_CLOSED"


class OracleConfigError(GruponosError, ValueError):
    """The Oracle configuration is unusable."""

    code = "ORACLE_CONFIG_INVALID"


class OracleNotConfiguredError(OracleConfigError):
    """No Oracle host is configured."""

    code = "ORACLE_NOT_CONFIGURED"


# -- driver codes -----------------------------------------------------------------
_CODE_RE = re.compile(r"\b(ORA|DPY|DPI|TNS)-(\d{4,5})\b")
_NO_PASSWORD_CODES = {"ORA-01005", "DPY-4001"}
_AUTH_CODES = {
    "ORA-01017": "",
    "ORA-28000": " (the account is locked)",
    "ORA-28001": " (the password has expired)",
    "ORA-01045": " (the user lacks the CREATE SESSION privilege)",
}
_UNKNOWN_SERVICE_CODES = {"DPY-6001", "DPY-6003", "ORA-12514", "ORA-12505"}
_TIMEOUT_CODES = {
    "DPY-4024": "a call",
    "DPY-4005": "a free pool connection",
    "ORA-12170": "the connection",
    "ORA-12535": "the connection",
    "ORA-03136": "the connection",
    "DPI-1067": "a call",
}
_TLS_CODES = {"DPY-6002", "DPY-6006", "ORA-29024", "ORA-28759", "ORA-28860"}
# The listener answered, but will not hand the connection to a server process.
_LISTENER_REFUSED_CODES = {
    "ORA-12516",
    "ORA-12518",
    "ORA-12519",
    "ORA-12520",
    "ORA-12526",
    "ORA-12527",
    "ORA-12528",
    "ORA-12529",
}
_UNREACHABLE_CODES = {
    "ORA-12541": "no listener on that port",
    "ORA-12545": "the host does not exist or cannot be resolved",
    "ORA-12543": "the destination host is unreachable",
    "DPY-4011": "the server closed the connection (is this an Oracle listener?)",
    "ORA-03113": "the server closed the connection",
    "ORA-03135": "the connection was lost",
}


def _normalise_code(prefix: str, number: str) -> str:
    width = 5 if prefix in ("ORA", "TNS") else 4
    return f"{'ORA' if prefix == 'TNS' else prefix}-{int(number):0{width}d}"


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _driver_codes(exc: BaseException) -> list[str]:
    """Oracle/driver codes an exception carries (structured ones first, then from its text)."""
    codes: list[str] = []
    error = exc.args[0] if exc.args else None
    full_code = getattr(error, "full_code", None)
    if isinstance(full_code, str):
        match = _CODE_RE.fullmatch(full_code)
        if match:
            codes.append(_normalise_code(*match.groups()))
    number = getattr(error, "code", 0)
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        codes.append(f"ORA-{number:05d}")
    codes.extend(_normalise_code(*m.groups()) for m in _CODE_RE.finditer(str(exc)))
    return list(dict.fromkeys(codes))


def _first_line(exc: BaseException, redact: Redactor) -> str:
    """The line of a driver message that says what happened, redacted."""
    lines = [
        line.strip()
        for line in str(exc).splitlines()
        if line.strip() and not line.startswith("Help:")
    ]
    # DPY-6005 says only "cannot connect"; the line after it has the reason.
    if len(lines) > 1 and lines[0].startswith("DPY-6005"):
        lines = lines[1:]
    text = lines[0] if lines else type(exc).__name__
    text = re.sub(r"\s*\(CONNECTION_ID=[^)]*\)", "", text)
    return redact(text, limit=_QUOTED_LIMIT)


def config_redactor(config: OracleConfig, redactor: Redactor | None = None) -> Redactor:
    """``redactor`` (or an empty one) that also knows ``config``'s user/password pair."""
    base = redactor if redactor is not None else Redactor()
    return base.including(credentials=[(config.user, config.password)])


def classify_oracle_error(
    exc: BaseException,
    config: OracleConfig,
    *,
    timeout: float | None = None,
    doing: str = "connecting to",
    redactor: Redactor | None = None,
) -> OracleServiceError:
    """The :class:`OracleServiceError` a driver (or socket) exception means.

    Looks at the whole cause chain (python-oracledb wraps the reason of a
    failed connect, e.g. ``DPY-6001`` or ``ConnectionRefusedError``, inside
    ``DPY-6005``). The message names the target and user; driver text it
    quotes is cleaned by ``redactor`` (by default one that knows the
    configured password and its derived forms).
    """
    import ssl

    if isinstance(exc, OracleServiceError):
        return exc
    redact = redactor if redactor is not None else config_redactor(config)
    target = config.describe_target()
    chain = _exception_chain(exc)
    codes = list(dict.fromkeys(code for link in chain for code in _driver_codes(link)))
    details: dict[str, Any] = {
        "target": target,
        "user": config.user,
        "driver_codes": codes,
        "cause": type(chain[-1]).__name__,
    }

    def has(*wanted: str) -> str | None:
        return next((code for code in codes if code in wanted), None)

    if (code := has(*_TIMEOUT_CODES)) is not None or any(
        isinstance(link, TimeoutError) for link in chain
    ):
        waited = f" after {timeout:.1f} s" if timeout is not None else ""
        what = _TIMEOUT_CODES.get(code or "", "")
        if what in ("a call", "a free pool connection"):
            message = f"timed out{waited} waiting for {what} on {target}"
        else:
            message = f"timed out{waited} {doing} {target}"
        return OracleTimeoutError(message, details=details)
    if has(*_NO_PASSWORD_CODES) is not None:
        return OracleAuthError(
            f"no password given for user {config.user} at {target} "
            f"(set GRUPONOS_INFRA_ORACLE_PASSWORD)",
            details=details,
        )
    if (code := has(*_AUTH_CODES)) is not None:
        return OracleAuthError(
            f"credentials rejected for user {config.user} at {target}{_AUTH_CODES[code]}",
            details=details,
        )
    if has(*_UNKNOWN_SERVICE_CODES) is not None:
        what = f"service {config.service_name}" if config.service_name else f"SID {config.sid}"
        return OracleUnknownServiceError(
            f"the listener at {config.address} does not know {what}", details=details
        )
    if has(*_TLS_CODES) is not None or any(isinstance(link, ssl.SSLError) for link in chain):
        return OracleTlsError(
            f"TLS handshake with {config.address} failed: {_first_line(chain[-1], redact)}",
            details=details,
        )
    if has("DPY-6000", *_LISTENER_REFUSED_CODES) is not None:
        refused = next((c for c in codes if c.startswith("ORA-")), "DPY-6000")
        return OracleListenerRefusedError(
            f"the listener at {config.address} refused the connection ({refused})",
            details=details,
        )
    reason = _unreachable_reason(chain, codes, config)
    if reason is not None:
        return OracleUnreachableError(
            f"cannot reach Oracle at {config.address}: {reason}", details=details
        )
    return OracleServiceError(
        f"Oracle error at {target}: {_first_line(exc, redact)}", details=details
    )


def _unreachable_reason(
    chain: list[BaseException], codes: list[str], config: OracleConfig
) -> str | None:
    for link in chain:
        if isinstance(link, socket.gaierror):
            return f"host name {config.host!r} cannot be resolved"
        if isinstance(link, ConnectionRefusedError):
            return "connection refused (is the listener running on that port?)"
        if isinstance(link, ConnectionResetError):
            return "the server reset the connection (is this an Oracle listener?)"
        if isinstance(link, OSError) and link.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "no route to the host"
    for code in codes:
        if code in _UNREACHABLE_CODES:
            return _UNREACHABLE_CODES[code]
    if "DPY-6005" in codes:
        return "cannot connect to the database"
    for link in chain:
        if isinstance(link, OSError):
            return (link.strerror or type(link).__name__).lower()
    return None

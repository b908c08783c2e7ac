"""What can go wrong talking to the WMS API: one error class per kind, each with a stable code."""

from __future__ import annotations

from gruponos_ext.core.errors import GruponosError

__all__ = [
    "WmsAuthRejectedError",
    "WmsBadResponseError",
    "WmsConfigError",
    "WmsError",
    "WmsHttpError",
    "WmsNotConfiguredError",
    "WmsNotFoundError",
    "WmsServerError",
    "WmsTimeoutError",
    "WmsTlsError",
    "WmsUnreachableError",
]


class WmsError(GruponosError):
    """A WMS API request failed; ``code`` says how (this base: ``WMS_ERROR``)."""

    code = "WMS_ERROR"


class WmsAuthRejectedError(WmsError):
    """HTTP 401/403: the credentials were rejected."""

    code = "WMS_AUTH_REJECTED"


class WmsNotFoundError(WmsError):
    """HTTP 404: wrong base URL or path."""

    code = "WMS_NOT_FOUND"


class WmsServerError(WmsError):
    """HTTP 5xx: the API is up but failing."""

    code = "WMS_SERVER_ERROR"


class WmsHttpError(WmsError):
    """Any other unexpected HTTP status (another 4xx, or a 3xx where data was wanted)."""

    code = "WMS_HTTP_ERROR"


class WmsTlsError(WmsError):
    """The TLS handshake failed (certificate not trusted, wrong host, not TLS at all)."""

    code = "WMS_TLS_ERROR"


class WmsTimeoutError(WmsError):
    """No complete answer within the timeout."""

    code = "WMS_TIMEOUT"


class WmsUnreachableError(WmsError):
    """No connection: refused, host unknown, network unreachable."""

    code = "WMS_UNREACHABLE"


class WmsBadResponseError(WmsError):
    """The server answered something that is not valid HTTP, or not the JSON asked for."""

    code = "WMS_BAD_RESPONSE"


class WmsConfigError(GruponosError, ValueError):
    """The WMS configuration is unusable."""

    code = "WMS_CONFIG_INVALID"


class WmsNotConfiguredError(WmsConfigError):
    """No WMS base URL is configured."""

    code = "WMS_NOT_CONFIGURED"

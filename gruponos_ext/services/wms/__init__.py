"""The Oracle WMS REST API: configuration, errors, the client and its health check.

- :mod:`~gruponos_ext.services.wms.errors` -- one error class per failure kind.
- :mod:`~gruponos_ext.services.wms.config` -- :class:`WmsConfig` (never shows the password).
- :mod:`~gruponos_ext.services.wms.client` -- :class:`WmsApiClient`: bounded,
  authenticated GETs whose reports are redacted where the server's text enters.
- :mod:`~gruponos_ext.services.wms.check` -- the ``wms_api:reachability`` check.
"""

from __future__ import annotations

from gruponos_ext.services.wms.check import CHECK_NAME, health_check, wms_service_check
from gruponos_ext.services.wms.client import WmsApiClient, WmsProbe
from gruponos_ext.services.wms.config import WmsConfig
from gruponos_ext.services.wms.errors import (
    WmsAuthRejectedError,
    WmsBadResponseError,
    WmsConfigError,
    WmsError,
    WmsHttpError,
    WmsNotConfiguredError,
    WmsNotFoundError,
    WmsServerError,
    WmsTimeoutError,
    WmsTlsError,
    WmsUnreachableError,
)

__all__ = [
    "CHECK_NAME",
    "WmsApiClient",
    "WmsAuthRejectedError",
    "WmsBadResponseError",
    "WmsConfig",
    "WmsConfigError",
    "WmsError",
    "WmsHttpError",
    "WmsNotConfiguredError",
    "WmsNotFoundError",
    "WmsProbe",
    "WmsServerError",
    "WmsTimeoutError",
    "WmsTlsError",
    "WmsUnreachableError",
    "health_check",
    "wms_service_check",
]

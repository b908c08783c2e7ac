"""Where the WMS API lives and how to authenticate: :class:`WmsConfig`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gruponos_ext.services.wms.errors import WmsConfigError, WmsNotConfiguredError

if TYPE_CHECKING:
    from gruponos_ext.config import GruponosMeltanoSettings

__all__ = ["NOT_CONFIGURED", "WmsConfig"]

NOT_CONFIGURED = "the WMS API is not configured (GRUPONOS_INFRA_WMS_BASE_URL is not set)"
"""Why there is no WMS API to use (a skipped check, :class:`WmsNotConfiguredError`)."""


@dataclass(frozen=True, repr=False)
class WmsConfig:
    """Where the WMS API lives and how to authenticate (HTTP Basic when ``user`` is set).

    The password never shows in ``repr``/``str``.
    """

    base_url: str
    user: str | None
    password: str | None
    health_path: str = "/"
    timeout: float = 10.0
    verify_tls: bool = True

    def __post_init__(self) -> None:
        from urllib.parse import urlsplit

        problems = []
        try:
            parts = urlsplit(self.base_url)
            _ = parts.port  # raises ValueError for a bad port
        except ValueError:
            problems.append("base_url is not a valid URL")
        else:
            if parts.scheme not in ("http", "https") or not parts.hostname:
                problems.append("base_url must be an http:// or https:// URL with a host")
            if "@" in parts.netloc:
                # Never echo the URL here: it carries the credentials.
                problems.append(
                    "base_url must not carry credentials; "
                    "set GRUPONOS_INFRA_WMS_USER and GRUPONOS_INFRA_WMS_PASSWORD"
                )
            if parts.query or parts.fragment:
                problems.append("base_url must not have a query or fragment")
        if "://" in self.health_path:
            problems.append("health_path must be a path, not a URL")
        if not self.timeout > 0:
            problems.append("timeout must be > 0 seconds")
        if self.password and not self.user:
            problems.append("a password is set but no user")
        if problems:
            raise WmsConfigError(
                "invalid WMS API configuration: " + "; ".join(problems),
                details={"problems": problems},
            )

    def __repr__(self) -> str:
        password = "'***'" if self.password else "None"
        return (
            f"WmsConfig(base_url={self.base_url!r}, user={self.user!r}, password={password}, "
            f"health_path={self.health_path!r}, timeout={self.timeout}, "
            f"verify_tls={self.verify_tls})"
        )

    __str__ = __repr__

    @classmethod
    def from_settings(cls, settings: GruponosMeltanoSettings) -> WmsConfig:
        """The configuration the settings describe; :class:`WmsNotConfiguredError` without a URL."""
        if not settings.wms_base_url:
            raise WmsNotConfiguredError(NOT_CONFIGURED)
        secret = settings.wms_password
        return cls(
            base_url=str(settings.wms_base_url),
            user=settings.wms_user or None,
            password=secret.get_secret_value() if secret is not None else None,
            health_path=settings.wms_health_path or "/",
            timeout=float(settings.wms_timeout),
            verify_tls=bool(settings.wms_verify_tls),
        )

    def url_for(self, path: str) -> str:
        """``base_url`` joined with ``path`` (exactly one ``/`` between them)."""
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    @property
    def health_url(self) -> str:
        return self.url_for(self.health_path)

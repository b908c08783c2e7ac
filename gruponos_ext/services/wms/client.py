"""The Oracle WMS REST API client: an authenticated reachability probe and JSON GETs.

Standard library only (``urllib.request``), imported when a request is made.
Each request is bounded in total by the configured timeout through
:func:`~gruponos_ext.core.deadline.call_within`: ``urllib``'s own timeout
bounds each socket operation, not the whole exchange, so a server that
trickles bytes (or accepts and never answers) could otherwise hold a probe
far longer.

Redirects are not followed (a 3xx is reported as such), so Basic credentials
are only ever sent to the configured host. What the server says -- its
status line, a ``Location`` header, the first line of an error body -- is
outside text: a proxy may echo the ``Authorization`` header back. It is
redacted as it is read, with the client's
:class:`~gruponos_ext.core.redaction.Redactor`, before any message, result
or log can show it.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gruponos_ext.core.deadline import DeadlineExceeded, call_within
from gruponos_ext.core.logging import get_logger
from gruponos_ext.core.result import Result
from gruponos_ext.services.breaker import CircuitOpenError
from gruponos_ext.services.client import ServiceClient
from gruponos_ext.services.wms.config import WmsConfig
from gruponos_ext.services.wms.errors import (
    WmsAuthRejectedError,
    WmsBadResponseError,
    WmsError,
    WmsHttpError,
    WmsNotFoundError,
    WmsServerError,
    WmsTimeoutError,
    WmsTlsError,
    WmsUnreachableError,
)

if TYPE_CHECKING:
    import urllib.request

    from gruponos_ext.config import GruponosMeltanoSettings

__all__ = ["WmsApiClient", "WmsProbe"]

_log = get_logger(__name__)

_USER_AGENT = "gruponos-infra (+https://github.com/gruponos)"
_PROBE_BODY_LIMIT = 64 * 1024
_JSON_BODY_LIMIT = 64 * 1024 * 1024
# How much of what the server says (status reason, error body) a message quotes.
_QUOTED_LIMIT = 160


@dataclass(frozen=True, slots=True)
class WmsProbe:
    """A successful probe: the HTTP status and the time to the response headers (ms)."""

    status: int
    latency_ms: float
    url: str


@dataclass(frozen=True, slots=True)
class _Answer:
    """One HTTP answer; ``reason``, ``location`` and ``said`` are already redacted."""

    status: int
    reason: str
    body: bytes
    latency_ms: float
    location: str | None
    said: str = ""
    """The first line of the body, for error messages (empty for a 2xx)."""


class _ServerFailure(Exception):
    """A 5xx inside the breaker, so it counts as a failure; unwrapped afterwards."""

    def __init__(self, answer: _Answer) -> None:
        super().__init__(f"HTTP {answer.status}")
        self.answer = answer


# -- the client ------------------------------------------------------------------
class WmsApiClient(ServiceClient[WmsConfig]):
    """HTTP access to the Oracle WMS REST API.

    ``WmsApiClient(config, breaker=..., redactor=...)`` or
    :meth:`from_settings`; opens nothing when built. :meth:`probe` answers
    "is the API there, and does it accept us?"; :meth:`get_json` fetches
    data. With a ``breaker``, transport failures and 5xx answers count
    against it; 4xx answers do not (the API is up, the request is wrong).
    ``redactor`` cleans what the server says before any message shows it.
    """

    # Built on the first request, under the client's lazy lock.
    _opener: urllib.request.OpenerDirector | None = None

    @classmethod
    def config_from_settings(cls, settings: GruponosMeltanoSettings) -> WmsConfig:
        """See :meth:`WmsConfig.from_settings`."""
        return WmsConfig.from_settings(settings)

    def __repr__(self) -> str:
        return f"WmsApiClient(base_url={self._config.base_url!r}, user={self._config.user!r})"

    def close(self) -> None:
        """Nothing to release (every request uses its own connection); for symmetric wiring."""

    # -- public operations ---------------------------------------------------
    def probe(self, timeout: float | None = None) -> Result[WmsProbe]:
        """Authenticated GET of the health path, bounded by ``timeout`` (default: configured).

        A 2xx or 3xx is success. Failures: ``WMS_AUTH_REJECTED`` (401/403),
        ``WMS_NOT_FOUND`` (404), ``WMS_SERVER_ERROR`` (5xx), ``WMS_HTTP_ERROR``
        (another 4xx), ``WMS_TLS_ERROR``, ``WMS_TIMEOUT``, ``WMS_UNREACHABLE``,
        ``WMS_BAD_RESPONSE`` (not HTTP), ``CIRCUIT_OPEN``.
        """
        url = self._config.health_url

        def reachable(answer: _Answer) -> WmsProbe:
            probe = WmsProbe(status=answer.status, latency_ms=answer.latency_ms, url=url)
            _log.info(
                "wms_probe_ok", url=url, status=probe.status, latency_ms=round(probe.latency_ms, 2)
            )
            return probe

        result = self._request(url, timeout, accept="*/*", limit=_PROBE_BODY_LIMIT, probing=True)
        return result.map(reachable)

    def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> Result[Any]:
        """GET ``base_url + path`` (with ``params`` as the query) and decode the JSON body.

        Only a 2xx with a JSON body succeeds; a 3xx is ``WMS_HTTP_ERROR``
        (redirects are not followed), invalid JSON is ``WMS_BAD_RESPONSE``;
        the other codes are those of :meth:`probe`.
        """
        from urllib.parse import urlencode

        if "://" in path:
            raise ValueError("get_json takes a path under base_url, not a URL")
        url = self._config.url_for(path)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        result = self._request(
            url, timeout, accept="application/json", limit=_JSON_BODY_LIMIT, probing=False
        )
        if result.failure:
            return result
        answer = result.value
        if not 200 <= answer.status < 300:
            error: WmsError = WmsHttpError(
                f"the WMS API answered HTTP {answer.status} {answer.reason} for {url} "
                f"(redirects are not followed)",
                details={"url": url, "status": answer.status, "location": answer.location},
            )
            return self._failed(error, url)
        try:
            data = json.loads(answer.body) if answer.body.strip() else None
        except ValueError as exc:
            error = WmsBadResponseError(
                f"the WMS API answered HTTP {answer.status} for {url} but the body is not "
                f"JSON ({type(exc).__name__} at byte {getattr(exc, 'pos', '?')})",
                details={"url": url, "status": answer.status},
            )
            return self._failed(error, url)
        _log.debug("wms_get_json_ok", url=url, status=answer.status, bytes=len(answer.body))
        return Result.ok(data)

    # -- request machinery -----------------------------------------------------
    def _request(
        self, url: str, timeout: float | None, *, accept: str, limit: int, probing: bool
    ) -> Result[_Answer]:
        limit_s = self._config.timeout if timeout is None else float(timeout)
        if limit_s <= 0:
            raise ValueError("timeout must be > 0 seconds")
        started = time.perf_counter()
        try:
            answer = self._guarded(lambda: self._fetch_or_raise(url, limit_s, accept, limit))
        except _ServerFailure as failure:
            answer = failure.answer
        except CircuitOpenError as exc:
            _log.info("wms_request_skipped", url=url, reason=exc.code)
            return self._refused(exc, f"calling the WMS API at {url}")
        except WmsError as exc:
            return self._failed(exc, url, started)
        error = self._status_error(answer, url, probing)
        if error is not None:
            return self._failed(error, url, started)
        return Result.ok(answer)

    def _failed(self, error: WmsError, url: str, started: float | None = None) -> Result[Any]:
        fields: dict[str, Any] = {"url": url, "error_code": error.code, "error": error.message}
        if started is not None:
            fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        _log.warning("wms_request_failed", **fields)
        return Result.fail(error.message, error.code, error.details, exception=error)

    def _status_error(self, answer: _Answer, url: str, probing: bool) -> WmsError | None:
        status = answer.status
        details = {"url": url, "status": status, "latency_ms": round(answer.latency_ms, 2)}
        said = f"; the server said: {answer.said}" if answer.said else ""
        if status in (401, 403):
            who = f"user {self._config.user}" if self._config.user else "anonymous access"
            return WmsAuthRejectedError(
                f"the WMS API rejected the credentials ({who}): HTTP {status} "
                f"{answer.reason} from {url}{said}",
                details=details,
            )
        if status == 404:
            hint = " (check GRUPONOS_INFRA_WMS_HEALTH_PATH)" if probing else ""
            return WmsNotFoundError(
                f"the WMS API has no such path: HTTP 404 from {url}{hint}{said}", details=details
            )
        if status >= 500:
            return WmsServerError(
                f"the WMS API failed: HTTP {status} {answer.reason} from {url}{said}",
                details=details,
            )
        if status >= 400:
            return WmsHttpError(
                f"the WMS API answered HTTP {status} {answer.reason} for {url}{said}",
                details=details,
            )
        return None

    def _fetch_or_raise(self, url: str, timeout: float, accept: str, limit: int) -> _Answer:
        answer = self._fetch(url, timeout, accept, limit)
        if answer.status >= 500:
            raise _ServerFailure(answer)
        return answer

    def _fetch(self, url: str, timeout: float, accept: str, limit: int) -> _Answer:
        """One GET, bounded in total by ``timeout`` whatever the server does."""
        opener = self._get_opener()  # imports urllib before the clock starts
        try:
            return call_within(
                lambda: self._fetch_blocking(opener, url, timeout, accept, limit),
                timeout,
                what=f"GET {url}",
            )
        except DeadlineExceeded:
            raise WmsTimeoutError(
                f"timed out after {timeout:.1f} s waiting for the WMS API at {url}",
                details={"url": url, "timeout_s": timeout},
            ) from None
        except WmsError:
            raise
        except BaseException as exc:  # whatever ended the exchange, it is the server's failure
            raise self._transport_error(exc, url, timeout) from None

    def _fetch_blocking(
        self,
        opener: urllib.request.OpenerDirector,
        url: str,
        timeout: float,
        accept: str,
        limit: int,
    ) -> _Answer:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            url, method="GET", headers={"Accept": accept, "User-Agent": _USER_AGENT}
        )
        if self._config.user:
            token = f"{self._config.user}:{self._config.password or ''}".encode()
            # Unredirected: the header is never replayed to another host.
            request.add_unredirected_header(
                "Authorization", "Basic " + base64.b64encode(token).decode("ascii")
            )
        started = time.perf_counter()
        try:
            response = opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as answer:
            latency_ms = (time.perf_counter() - started) * 1000
            try:
                body = answer.read(limit) if answer.fp is not None else b""
            except Exception:
                body = b""
            finally:
                answer.close()
            return self._answer(
                answer.code,
                answer.reason,
                body,
                latency_ms,
                answer.headers.get("Location") if answer.headers else None,
            )
        with response:
            latency_ms = (time.perf_counter() - started) * 1000
            body = response.read(limit + 1)
            if len(body) > limit:
                raise WmsBadResponseError(
                    f"the WMS API answer from {url} is larger than {limit} bytes",
                    details={"url": url, "limit_bytes": limit},
                )
            return self._answer(
                response.status, response.reason, body, latency_ms, response.headers.get("Location")
            )

    def _answer(
        self, status: int, reason: object, body: bytes, latency_ms: float, location: str | None
    ) -> _Answer:
        """The answer as reported: what the server said, redacted where it enters."""
        redact = self._redact
        return _Answer(
            status=status,
            reason=redact(" ".join(str(reason or "").split()), limit=_QUOTED_LIMIT),
            body=body,
            latency_ms=latency_ms,
            location=redact(location, limit=_QUOTED_LIMIT) if location else None,
            said=redact(_first_line(body), limit=_QUOTED_LIMIT) if status >= 400 else "",
        )

    def _get_opener(self) -> urllib.request.OpenerDirector:
        with self._lazy_lock:
            if self._opener is None:
                self._opener = _build_opener(self._config.verify_tls)
            return self._opener

    def _transport_error(self, exc: BaseException, url: str, timeout: float) -> WmsError:
        import http.client
        import socket
        import ssl
        import urllib.error

        if isinstance(exc, WmsError):
            return exc
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        address = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        details: dict[str, Any] = {"url": url, "cause": type(exc).__name__}
        reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, ssl.SSLCertVerificationError):
            why = self._redact(
                reason.verify_message or reason.reason or "certificate verification failed"
            )
            return WmsTlsError(
                f"TLS failure talking to the WMS API at {address}: certificate not trusted "
                f"({why}; set GRUPONOS_INFRA_WMS_VERIFY_TLS=false only for a test server)",
                details=details,
            )
        if isinstance(reason, ssl.SSLError):
            why = self._redact(reason.reason or type(reason).__name__)
            return WmsTlsError(
                f"TLS failure talking to the WMS API at {address}: {why}", details=details
            )
        if isinstance(reason, TimeoutError):
            return WmsTimeoutError(
                f"timed out after {timeout:.1f} s waiting for the WMS API at {url}",
                details={**details, "timeout_s": timeout},
            )
        if isinstance(reason, ConnectionRefusedError):
            return WmsUnreachableError(
                f"cannot reach the WMS API at {address}: connection refused", details=details
            )
        if isinstance(reason, socket.gaierror):
            return WmsUnreachableError(
                f"cannot reach the WMS API at {address}: host name {parts.hostname!r} "
                f"cannot be resolved",
                details=details,
            )
        if isinstance(reason, (http.client.HTTPException, ConnectionResetError)):
            return WmsBadResponseError(
                f"the server at {address} did not answer with valid HTTP "
                f"({type(reason).__name__}); is {self._config.base_url} the WMS API?",
                details=details,
            )
        if isinstance(reason, OSError):
            text = self._redact(
                reason.strerror or (os.strerror(reason.errno) if reason.errno else "")
            )
            return WmsUnreachableError(
                f"cannot reach the WMS API at {address}: {text or type(reason).__name__}",
                details=details,
            )
        return WmsError(
            f"request to the WMS API at {url} failed: {type(reason).__name__}", details=details
        )


def _first_line(body: bytes) -> str:
    """The first non-blank line of a body, whitespace collapsed (error pages say why there)."""
    text = body[:4096].decode("utf-8", "replace")
    return next((" ".join(line.split()) for line in text.splitlines() if line.strip()), "")


def _build_opener(verify_tls: bool) -> urllib.request.OpenerDirector:
    import ssl
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    context = ssl.create_default_context()
    if not verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return urllib.request.build_opener(
        _NoRedirect(),
        urllib.request.HTTPSHandler(context=context),
        # No proxy discovery: the probe must say whether *this* URL answers.
        urllib.request.ProxyHandler({}),
    )

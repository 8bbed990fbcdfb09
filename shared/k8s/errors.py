"""podrunner's Kubernetes exceptions, and the one place the client's errors are translated.

The official client raises `ApiException` for every non-2xx answer and urllib3 errors for transport
failures; callers should never inspect either. `translating()` wraps each API call and re-raises
one of these classes, chaining the original, so the decision "retry, reject or carry on" is made
once, here, from the status code, the Status `reason` and (for 403) the message:

    KubeError
    ├── NotFound                 404
    ├── AlreadyExists            409 AlreadyExists
    ├── Gone                     410 Expired: the watch must re-list
    ├── Rejected                 permanent: the request itself is wrong
    │   ├── BadRequest           400
    │   ├── Unauthorized         401
    │   ├── Forbidden            403 from RBAC or admission (not quota)
    │   └── Invalid              422 (field validation)
    └── Retryable                transient: try again after `retry_after` (or a backoff)
        ├── Conflict             409 Conflict (optimistic concurrency)
        ├── QuotaExceeded        403 exceeded quota
        ├── Throttled            429 (both the JSON Status and the plain-text shape)
        ├── ServerError          500, 503, 504 and any other 5xx
        └── Unavailable          timeouts and connection errors: no answer at all
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import urllib3.exceptions
from kubernetes.client.exceptions import ApiException

#: Longest server message kept on an exception (Status messages can embed whole objects).
_MAX_MESSAGE = 1000


class KubeError(Exception):
    """An API call failed; `status` is the HTTP code (0 without an answer)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        reason: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.retry_after = retry_after

    def __str__(self) -> str:
        label = f"{self.status} {self.reason}".strip() if self.status else self.reason
        return f"{label}: {self.message}" if label else self.message


class NotFound(KubeError):
    pass


class AlreadyExists(KubeError):
    pass


class Gone(KubeError):
    pass


class Rejected(KubeError):
    pass


class BadRequest(Rejected):
    pass


class Unauthorized(Rejected):
    pass


class Forbidden(Rejected):
    pass


class Invalid(Rejected):
    pass


class Retryable(KubeError):
    pass


class Conflict(Retryable):
    pass


class QuotaExceeded(Retryable):
    pass


class Throttled(Retryable):
    pass


class ServerError(Retryable):
    pass


class Unavailable(Retryable):
    pass


def from_response(
    status: int, body: bytes | str | None, headers: Mapping[str, str] | None = None
) -> KubeError:
    """The podrunner exception for an HTTP error answer (status, body, headers)."""
    status_obj = _status_object(body)
    message = str(status_obj.get("message") or _plain_text(body) or f"HTTP {status}")
    reason = str(status_obj.get("reason") or "")
    details = status_obj.get("details") or {}
    retry_after = _retry_after(headers or {}, details if isinstance(details, dict) else {})
    cls = _classify(status, reason, message)
    return cls(message[:_MAX_MESSAGE], status=status, reason=reason, retry_after=retry_after)


def from_api_exception(error: ApiException) -> KubeError:
    headers = {str(k).lower(): str(v) for k, v in (error.headers or {}).items()}
    return from_response(int(error.status or 0), error.body, headers)


def from_transport_error(error: Exception) -> Unavailable:
    # urllib3's NewConnectionError (refused, no route) subclasses its TimeoutError
    timed_out = isinstance(error, urllib3.exceptions.TimeoutError) and not isinstance(
        error, urllib3.exceptions.NewConnectionError
    )
    kind = "timed out" if timed_out else "unreachable"
    return Unavailable(f"Kubernetes API {kind}: {error}", reason="Unavailable")


@contextlib.contextmanager
def translating() -> Iterator[None]:
    """Run an API call, re-raising its failure as a `KubeError` (with the original chained)."""
    try:
        yield
    except ApiException as error:
        raise from_api_exception(error) from error
    except (urllib3.exceptions.HTTPError, OSError) as error:  # OSError: sockets, timeouts
        raise from_transport_error(error) from error


def _classify(status: int, reason: str, message: str) -> type[KubeError]:
    if status == 409:
        return AlreadyExists if reason == "AlreadyExists" else Conflict
    if status == 403:
        return QuotaExceeded if "exceeded quota" in message else Forbidden
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, Rejected)


_BY_STATUS: dict[int, type[KubeError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    410: Gone,
    422: Invalid,
    429: Throttled,
}


def _status_object(body: bytes | str | None) -> dict[str, Any]:
    if not body:
        return {}
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _plain_text(body: bytes | str | None) -> str:
    if not body:
        return ""
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    return text.strip()


def _retry_after(headers: Mapping[str, str], details: Mapping[str, Any]) -> float | None:
    for value in (headers.get("retry-after"), details.get("retryAfterSeconds")):
        with contextlib.suppress(TypeError, ValueError):
            if value is not None:
                return max(0.0, float(value))
    return None

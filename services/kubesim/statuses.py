"""Status objects: every error kubesim answers, in the exact shape of the real API server.

Clients match on `code` and `reason` first and on message text second, so each builder here
reproduces one entry of the API server's error catalogue: the message wording, the
`details` quirks (`kind` is the resource, `"pods"`, for NotFound/AlreadyExists/Conflict/Forbidden,
but the Kind, `"Pod"`, for Invalid) and the `Retry-After` header that goes with `retryAfterSeconds`.
Handlers raise `ApiError`; the HTTP layer turns it into a response, and a watch turns it into an
ERROR event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

UNKNOWN_PATH = "the server could not find the requested resource"
TOO_MANY_REQUESTS_TEXT = "Too many requests, please try again later.\n"


@dataclass(frozen=True)
class Cause:
    """One field error of a 422: `reason` is FieldValueInvalid, FieldValueRequired, ..."""

    reason: str
    message: str
    field: str


@dataclass
class ApiError(Exception):
    """An error answer: HTTP `code`, Status `reason`, `message`, `details`, extra headers."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    plain_text: bool = False
    #: The Status's own list metadata (a 410 for an old continue token carries a new token).
    list_meta: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"

    def status(self) -> dict[str, Any]:
        """The Status object (`metadata` always present, `reason` dropped when empty)."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.list_meta),
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body

    def response_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        retry = (self.details or {}).get("retryAfterSeconds")
        if retry and "Retry-After" not in headers:
            headers["Retry-After"] = str(retry)
        return headers


def _named(name: str | None, kind: str) -> dict[str, Any]:
    return {"name": name, "kind": kind} if name else {"kind": kind}


def not_found(name: str, *, resource: str = "pods") -> ApiError:
    return ApiError(404, "NotFound", f'{resource} "{name}" not found', _named(name, resource))


def unknown_path() -> ApiError:
    return ApiError(404, "NotFound", UNKNOWN_PATH, {})


def already_exists(name: str, *, terminating: bool = False) -> ApiError:
    prefix = "object is being deleted: " if terminating else ""
    message = f'{prefix}pods "{name}" already exists'
    return ApiError(409, "AlreadyExists", message, _named(name, "pods"))


def conflict(name: str) -> ApiError:
    message = (
        f'Operation cannot be fulfilled on pods "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    return ApiError(409, "Conflict", message, _named(name, "pods"))


def precondition_failed(name: str, *, what: str, wanted: str, actual: str) -> ApiError:
    """A DELETE precondition (uid or resourceVersion) that does not hold."""
    field, tail = (
        ("UID", "The object might have been deleted and then recreated")
        if what == "uid"
        else ("ResourceVersion", "The object might have been modified")
    )
    message = (
        f'Operation cannot be fulfilled on Pod "{name}": the {field} in the precondition '
        f"({wanted}) does not match the {field} in record ({actual}). {tail}"
    )
    return ApiError(409, "Conflict", message, _named(name, "Pod"))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def invalid(kind: str, name: str, causes: Sequence[Cause]) -> ApiError:
    """422 with the server's message: one error inline, several as a de-duplicated list."""
    texts = list(dict.fromkeys(f"{cause.field}: {cause.message}" for cause in causes))
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = {
        "name": name,
        "kind": kind,
        "causes": [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes],
    }
    if not name:
        details.pop("name")
    return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {summary}', details)


def invalid_options(kind: str, causes: Sequence[Cause]) -> ApiError:
    """422 for ListOptions / DeleteOptions (`<Kind>.meta.k8s.io "" is invalid: ...`)."""
    error = invalid(f"{kind}.meta.k8s.io", "", causes)
    error.details = {"kind": f"{kind}.meta.k8s.io", "causes": (error.details or {})["causes"]}
    return error


def forbidden_rbac(*, user: str, verb: str, namespace: str, name: str | None) -> ApiError:
    subject = f'pods "{name}"' if name else "pods"
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "pods" '
        f'in API group "" {scope}'
    )
    return ApiError(403, "Forbidden", message, _named(name, "pods"))


def quota_exceeded(name: str, *, quota: str, requested: int, used: int, limit: int) -> ApiError:
    message = (
        f'pods "{name}" is forbidden: exceeded quota: {quota}, requested: pods={requested}, '
        f"used: pods={used}, limited: pods={limit}"
    )
    return ApiError(403, "Forbidden", message, _named(name, "pods"))


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_many_requests_text(retry_after: int) -> ApiError:
    """The API-priority-and-fairness rejection: plain text, not a Status."""
    headers = {"Retry-After": str(max(1, retry_after)), "X-Content-Type-Options": "nosniff"}
    return ApiError(429, "TooManyRequests", TOO_MANY_REQUESTS_TEXT, None, headers, plain_text=True)


def too_many_requests(message: str, retry_after: int) -> ApiError:
    return ApiError(429, "TooManyRequests", message, {"retryAfterSeconds": max(1, retry_after)})


def internal_error(detail: str) -> ApiError:
    return ApiError(
        500,
        "InternalError",
        f"Internal error occurred: {detail}",
        {"causes": [{"message": detail}]},
    )


def rv_on_create() -> ApiError:
    return ApiError(500, "", "resourceVersion should not be set on objects to be created")


def service_unavailable(
    message: str = "the server is currently unable to handle the request",
) -> ApiError:
    return ApiError(503, "ServiceUnavailable", message)


def timeout(
    message: str = "request did not complete within requested timeout - context deadline exceeded",
) -> ApiError:
    return ApiError(504, "Timeout", f"Timeout: {message}")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def unsupported_media_type() -> ApiError:
    message = (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml, application/strategic-merge-patch+json"
    )
    return ApiError(415, "UnsupportedMediaType", message)


def method_not_allowed(method: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({method})",
    )

"""Who may use the API: one shared secret, `PODRUNNER_API_TOKEN`, and a closed door without it.

With a token, every `/api/v1` route needs `Authorization: Bearer <token>`; the check is a FastAPI
dependency built from the token, so the router declares the `bearer` security scheme in OpenAPI
(Swagger UI then offers to authorize) and nothing holds the token but the closure. Tokens are
compared as bytes with `hmac.compare_digest`, in constant time, and header bytes are taken as sent
(Starlette decodes headers as latin-1, so encoding back to latin-1 recovers them exactly).

Without a token the API is closed to writes by default (`PODRUNNER_API_AUTH=token`): anyone who
can reach the port could otherwise run any command in the cluster. Only `PODRUNNER_API_AUTH=none`,
set on purpose, opens it, and the service then says so in its log at start. Health endpoints never
use any of this: kubelet probes carry no token.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from services.reconciler.api.schemas import ApiError, ErrorDetail, Responses, error_answer
from shared.settings import ApiAuth

#: The header telling a client which scheme to use (RFC 6750).
CHALLENGE = {"WWW-Authenticate": "Bearer"}

#: The only media type a write takes.
JSON = "application/json"

#: The scheme as OpenAPI declares it; it only reads the header (`None` when absent or not Bearer).
_SCHEME = HTTPBearer(
    scheme_name="bearer",
    description="The reconciler's `PODRUNNER_API_TOKEN`.",
    auto_error=False,
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_SCHEME)]


@dataclass(frozen=True)
class Guards:
    """The dependencies (and their documented answers) of every route and of write routes."""

    every_route: list[params.Depends] = field(default_factory=list)
    every_route_answers: Responses = field(default_factory=dict)
    writes: list[params.Depends] = field(default_factory=list)
    write_answers: Responses = field(default_factory=dict)


def guards(*, api_auth: ApiAuth, api_token: SecretStr | None) -> Guards:
    """What the API's routes require, from `PODRUNNER_API_AUTH` and `PODRUNNER_API_TOKEN`.

    Raises:
        ValueError: `api_token` is set but empty.
    """
    writes = [Depends(require_json)]
    write_answers: Responses = {415: error_answer("The body is not `application/json`")}
    if api_token is not None:
        refused: Responses = {401: error_answer("No valid bearer token")}
        return Guards([Depends(bearer(api_token))], refused, writes, write_answers)
    if api_auth is ApiAuth.TOKEN:
        writes.insert(0, Depends(refuse_writes))
        write_answers[401] = error_answer("Writes need a token, and none is configured")
    return Guards(writes=writes, write_answers=write_answers)


def bearer(token: SecretStr) -> Callable[[HTTPAuthorizationCredentials | None], None]:
    """A dependency that refuses any request not carrying `Authorization: Bearer <token>`.

    Raises:
        ValueError: `token` is empty (it would let nothing in, or, worse, anything).
    """
    expected = token.get_secret_value().encode()
    if not expected:
        raise ValueError("the API token must not be empty")

    def require_token(credentials: Credentials) -> None:
        given = credentials.credentials.encode("latin-1") if credentials else b""
        if not hmac.compare_digest(given, expected):
            raise ApiError(401, _refusal(credentials), headers=CHALLENGE)

    return require_token


def refuse_writes() -> None:
    """The answer to every write while the API is closed (no token, auth not turned off)."""
    message = (
        "the API takes no writes: PODRUNNER_API_TOKEN is not set on the reconciler "
        "(set it, or PODRUNNER_API_AUTH=none to open the API to anyone)"
    )
    raise ApiError(401, ErrorDetail(code="api_closed", message=message), headers=CHALLENGE)


def require_json(request: Request) -> None:
    """Refuse a write whose body is not declared `application/json` (a form post, say).

    Browsers send `text/plain` and form bodies across sites without asking first; requiring the
    JSON media type makes them ask (a CORS preflight), which this API never grants.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON:
        shown = media_type or "none"
        message = f"Content-Type must be {JSON} (got {shown[:60]})"
        detail = ErrorDetail(
            code="unsupported_media_type", message=message, field="Content-Type", reason=message
        )
        raise ApiError(415, detail)


def _refusal(credentials: HTTPAuthorizationCredentials | None) -> ErrorDetail:
    if credentials is None:
        return ErrorDetail(code="unauthorized", message="a bearer token is required")
    return ErrorDetail(code="unauthorized", message="the bearer token is not valid")

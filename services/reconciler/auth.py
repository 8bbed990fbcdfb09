"""The API's bearer token: one shared secret, `PODRUNNER_API_TOKEN`, for every `/api/v1` route.

The check is a FastAPI dependency built from the token, so the router that uses it declares the
`bearer` security scheme in OpenAPI (Swagger UI then offers to authorize) and nothing holds the
token but the closure. Tokens are compared as bytes with `hmac.compare_digest`, in constant time,
and header bytes are taken as sent (Starlette decodes headers as latin-1, so encoding back to
latin-1 recovers them exactly). Health endpoints never use this: kubelet probes carry no token.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from services.reconciler.schemas import ApiError, ErrorDetail

#: The header telling a client which scheme to use (RFC 6750).
CHALLENGE = {"WWW-Authenticate": "Bearer"}


#: The scheme as OpenAPI declares it; it only reads the header (`None` when absent or not Bearer).
_SCHEME = HTTPBearer(
    scheme_name="bearer",
    description="The reconciler's `PODRUNNER_API_TOKEN`.",
    auto_error=False,
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_SCHEME)]


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


def _refusal(credentials: HTTPAuthorizationCredentials | None) -> ErrorDetail:
    if credentials is None:
        return ErrorDetail(code="unauthorized", message="a bearer token is required")
    return ErrorDetail(code="unauthorized", message="the bearer token is not valid")

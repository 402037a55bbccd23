"""The write token: what guards every request that changes the store.

Writing is off unless ``KG_API_WRITE_TOKEN`` is set (`ApiSettings.write_token`);
then a write must carry it as ``Authorization: Bearer <token>`` (RFC 6750).
No token configured -> 403 (writing is disabled on this server); a missing or
wrong token -> 401 with ``WWW-Authenticate: Bearer``. Both in the service's
error shape, ``{"error": ..., "detail": ...}`` (`api.errors.ApiError`).
"""

from __future__ import annotations

import hmac

from fastapi import Request

from api.errors import ApiError
from api.settings import ApiSettings

#: The 403 answer to a write on a server that takes none.
READ_ONLY = (
    "this endpoint is read-only: writes (SPARQL Update, Graph Store Protocol PUT/POST/DELETE, article "
    "ingestion) are disabled; to enable them, start the service with a write token "
    "(KG_API_WRITE_TOKEN=<secret>) and send it as 'Authorization: Bearer <secret>'"
)


def writes_enabled(api_settings: ApiSettings) -> bool:
    """Whether this service takes writes: only with a write token configured."""
    token = api_settings.write_token
    return token is not None and bool(token.get_secret_value())


def require_write_token(request: Request) -> None:
    """A FastAPI dependency: pass when the request carries the configured write token, else 403/401."""
    api_settings: ApiSettings = request.app.state.api_settings
    if not writes_enabled(api_settings):
        raise ApiError(403, "read_only", READ_ONLY)
    expected = api_settings.write_token
    assert expected is not None  # writes_enabled checked it
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode("utf-8"), expected.get_secret_value().encode("utf-8")
    ):
        raise ApiError(
            401,
            "unauthorized",
            "this write needs the server's write token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer realm="newskg"'},
        )

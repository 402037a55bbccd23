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


def require_write_token(request: Request) -> None:
    """A FastAPI dependency: pass when the request carries the configured write token, else 403/401."""
    api_settings: ApiSettings = request.app.state.api_settings
    expected = api_settings.write_token
    if expected is None or not expected.get_secret_value():
        raise ApiError(
            403,
            "read_only",
            "this server is read-only: writes are enabled only when a write token is configured "
            "(KG_API_WRITE_TOKEN)",
        )
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

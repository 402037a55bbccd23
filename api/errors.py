"""One exception handler: library and protocol errors become JSON with a status code.

Every error answer is ``{"error": <short code>, "detail": <what happened and
what to do>}``. The status codes (docs/decisions/0003-sparql-service.md):

================  ======  =================================================
error             status  why
================  ======  =================================================
ApiError          its own a protocol problem (414, 413, 415, 406, 405, 404, 403, 401, 400)
QueryTimeout      503     the server stopped the work; try a narrower query
ResultTooLarge    400     more rows or triples than KG_MAX_RESULTS; page with LIMIT/OFFSET
QueryRefused      400     SERVICE, LOAD, a write to the default graph (or an update when read-only)
QueryError        400     malformed query; the detail quotes the parser
StoreError        500     the store failed; nothing the client can fix
KGError           500     any other library error
================  ======  =================================================
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kg.errors import KGError, QueryError, QueryRefused, QueryTimeout, ResultTooLarge, StoreError


class ApiError(KGError):
    """A request the SPARQL protocol answers with `status` (bad parameters, media types, sizes),
    with extra response `headers` where the status needs them (``Allow`` for 405)."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers
        super().__init__(detail)


#: Most specific first: the first class an error is an instance of decides.
_STATUS: tuple[tuple[type[KGError], int, str], ...] = (
    (QueryTimeout, 503, "query_timeout"),
    (ResultTooLarge, 400, "too_many_results"),
    (QueryRefused, 400, "query_refused"),
    (QueryError, 400, "malformed_query"),
    (StoreError, 500, "store_error"),
    (KGError, 500, "internal_error"),
)


def status_of(exc: KGError) -> tuple[int, str]:
    """The HTTP status and short error code for a library or protocol error."""
    if isinstance(exc, ApiError):
        return exc.status, exc.error
    for cls, status, code in _STATUS:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal_error"  # pragma: no cover - KGError is last in the table


async def handle_kg_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a `KGError` as ``{"error", "detail"}`` with its status code."""
    if not isinstance(exc, KGError):  # pragma: no cover - registered for KGError only
        raise exc
    status, code = status_of(exc)
    headers = exc.headers if isinstance(exc, ApiError) else None
    return JSONResponse({"error": code, "detail": str(exc)}, status_code=status, headers=headers)


def install_error_handler(app: FastAPI) -> None:
    """Register the one handler for the whole library exception tree."""
    app.add_exception_handler(KGError, handle_kg_error)

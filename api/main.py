"""The FastAPI app: `create_app` wires the store, the settings, CORS, the error handler and the routes.

Run it with ``uvicorn --factory api.main:create_app`` (or
``uvicorn.run("api.main:create_app", factory=True)``). Importing this module
opens nothing; the store is opened by the lifespan when the server starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.auth import writes_enabled
from api.errors import install_error_handler
from api.routes import entities, ingest, router, sparql, web
from api.settings import ApiSettings, get_api_settings
from kg.errors import StoreError
from kg.settings import Settings, get_settings
from kg.store import Store, open_store


def create_app(
    *,
    store: Store | None = None,
    settings: Settings | None = None,
    api_settings: ApiSettings | None = None,
) -> FastAPI:
    """The SPARQL service over `store`, or over the persistent store at ``settings.store``.

    A store given here belongs to the caller, who closes it. Without one,
    the lifespan opens ``settings.store`` read-only and closes it at
    shutdown: the service never writes, a read-only open lets the query
    workers (killable at the timeout) open the same folder, and several
    server processes can share it (docs/decisions/0003-sparql-service.md).
    With a write token (``KG_API_WRITE_TOKEN``) it opens the store writable
    instead, as its only writer (docs/decisions/0012-endpoint-protocol.md).
    """
    settings = settings if settings is not None else get_settings()
    api_settings = api_settings if api_settings is not None else get_api_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if store is not None:
            yield
            return
        # Read-only unless writes are enabled (a write token); then this process is the store's one
        # writer and its query workers reopen after each write (docs/decisions/0012-endpoint-protocol.md).
        writable = writes_enabled(api_settings)
        if writable and not settings.store.is_dir():
            raise StoreError(f"no store at {settings.store}: build one with `kg build` first")
        opened = open_store(settings.store, read_only=not writable, query_workers=api_settings.query_workers)
        app.state.store = opened
        try:
            yield
        finally:
            app.state.store = None
            opened.close()

    app = FastAPI(
        title="newskg SPARQL endpoint",
        summary="SPARQL 1.1 over the news knowledge graph (writes only with a token)",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.api_settings = api_settings
    app.state.store = store
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(api_settings.cors_origins),
        allow_methods=["GET", "HEAD", "POST", "PUT", "DELETE"],
        allow_headers=["*"],
    )
    install_error_handler(app)
    app.include_router(router)
    app.include_router(entities.router)
    app.include_router(ingest.router)
    app.include_router(web.router)
    web.mount_static(app)
    app.router.routes.insert(0, sparql.direct_route())
    return app

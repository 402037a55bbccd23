"""The service's routes: `sparql` (the SPARQL 1.1 Protocol endpoint, the index and health),
`graph_store` (the Graph Store HTTP Protocol) and `export`.

`router` holds them; `create_app` includes it.
"""

from fastapi import APIRouter

from api.routes import export, graph_store, sparql

router = APIRouter()
router.include_router(sparql.router)
router.include_router(graph_store.router)
router.include_router(export.router)

__all__ = ["router"]

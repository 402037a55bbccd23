"""The service's routes: `sparql` (the SPARQL 1.1 Protocol endpoint, the index and health)."""

from api.routes.sparql import router

__all__ = ["router"]

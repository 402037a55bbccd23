"""The web pages: a SPARQL editor (YASGUI) at ``/ui/`` and the entity explorer at ``/ui/entity/{key}``.

The pages and their scripts are built from ``web/`` (``npm run build``) into
``api/static/``, which ships in the package: no CDN, no npm at install time,
so the pages work offline. The HTML is served by these routes (with the
app's root path filled in, so the pages work behind a path prefix); the
scripts and styles by the ``/static`` mount (`mount_static`). The pages call
``/sparql`` and the JSON views of `api.routes.entities`. Decision:
docs/decisions/0013-web-ui-and-rest.md.
"""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from kg.errors import ConfigError

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=4)
def _page(name: str) -> str:
    path = STATIC_DIR / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(
            f"the web page {path} is missing ({e}); build it with `npm ci && npm run build` in web/ "
            "or reinstall the package"
        ) from e


def _render(request: Request, name: str) -> HTMLResponse:
    root = html.escape(str(request.scope.get("root_path", "")).rstrip("/"), quote=True)
    return HTMLResponse(_page(name).replace("{{root}}", root))


@router.get("/ui")
def ui_root(request: Request) -> RedirectResponse:
    return RedirectResponse(str(request.url_for("ui_sparql")))


@router.get("/ui/", name="ui_sparql")
def ui_sparql(request: Request) -> HTMLResponse:
    """The SPARQL editor."""
    return _render(request, "sparql.html")


@router.get("/ui/entity", name="ui_entity_search")
@router.get("/ui/entity/{key:path}", name="ui_entity")
def ui_entity(request: Request) -> HTMLResponse:
    """The entity page; the script reads the key from the path (or ``?iri=``) and asks /api/entities."""
    return _render(request, "entity.html")


def mount_static(app: FastAPI) -> None:
    """Serve the built scripts, styles and licences at ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

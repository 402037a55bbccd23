"""The SPARQL 1.1 Graph Store HTTP Protocol at ``/graph-store`` (indirect graph identification).

https://www.w3.org/TR/sparql11-http-rdf-update/: a graph is named by a
query parameter, ``?graph=<IRI>`` for a named graph or ``?default`` for the
default graph (direct identification by URL path is not offered).

- ``GET`` / ``HEAD``: a named graph (404 when the store has no such graph),
  the default graph (the union of the named graphs), or, with neither
  parameter, the whole dataset: the named graphs as TriG (default), N-Quads
  or JSON-LD, which is what `kg export` writes. Graphs come as Turtle
  (default), N-Triples, RDF/XML, JSON-LD, or TriG / N-Quads when asked for
  by name; content negotiation as at ``/sparql``.
- ``PUT`` (replace), ``POST`` (RDF merge; also ``multipart/form-data`` with
  one RDF document per part) and ``DELETE`` on ``?graph=``: only with the
  write token (403 without one configured, 401 without it in the request).
  201 when the graph is new, 204 otherwise; DELETE of a missing graph: 404.
  ``POST`` with neither parameter creates a graph with a fresh IRI under
  ``KG_BASE_IRI`` and answers 201 with it in ``Location``.
- The default graph is the union of the named graphs (docs/decisions/0002),
  so it cannot be written: PUT, POST and DELETE on ``?default`` get 405.

Each write is one transaction that also brings the union up to date
(docs/decisions/0012-endpoint-protocol.md).
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import uuid
from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import require_write_token
from api.deps import SettingsDep, StoreDep
from api.errors import ApiError
from api.routes.sparql import GRAPH_OFFERS, check_charset, choose_format, media_type, negotiate, read_body
from kg.store import MEDIA_TYPES, Store

router = APIRouter()

#: Formats of the whole dataset (named graphs), the default first.
DATASET_OFFERS: tuple[tuple[str, str], ...] = (
    ("application/trig", "trig"),
    ("application/n-quads", "nquads"),
    ("application/ld+json", "jsonld"),
)
DATASET_KEYWORDS = {
    "trig": "trig",
    "nquads": "nquads",
    "n-quads": "nquads",
    "nq": "nquads",
    "jsonld": "jsonld",
    "json-ld": "jsonld",
}
_DEFAULT_READ_ONLY = (
    "the default graph is the union of the named graphs, kept by the store "
    "(docs/decisions/0012-endpoint-protocol.md); it cannot be written: write a named graph (?graph=<IRI>)"
)


def _target(request: Request) -> tuple[str, str | None]:
    """("graph", IRI), ("default", None) or ("dataset", None) from the query parameters."""
    params = request.query_params
    graphs = params.getlist("graph")
    has_default = "default" in params
    if len(graphs) > 1:
        raise ApiError(400, "bad_request", f"graph= was given {len(graphs)} times; name one graph")
    if graphs and has_default:
        raise ApiError(400, "bad_request", "give either ?graph=<IRI> or ?default, not both")
    if graphs:
        iri = graphs[0]
        try:
            ox.NamedNode(iri)
        except ValueError as e:
            raise ApiError(
                400, "bad_request", f"graph={iri!r} is not an IRI ({e}); give an absolute IRI"
            ) from e
        return "graph", iri
    return ("default", None) if has_default else ("dataset", None)


def _read_only_default() -> ApiError:
    return ApiError(405, "method_not_allowed", _DEFAULT_READ_ONLY, headers={"Allow": "GET, HEAD"})


# --------------------------------------------------------------------------- reading


def _dump(store: Store, target: str, iri: str | None, fmt: str) -> bytes:
    out = io.BytesIO()
    if target == "dataset":
        store.export(fmt, out)
    else:
        store.dump_graph(iri, fmt, out)
    return out.getvalue()


# GET and HEAD are two operations, each with its own id in the OpenAPI schema.
@router.get("/graph-store", name="graph_store", operation_id="graph_store_get")
@router.head("/graph-store", name="graph_store_head", operation_id="graph_store_head")
async def get_graph(
    request: Request, store: StoreDep, accept: Annotated[str | None, Header()] = None
) -> Response:
    """A named graph (``?graph=``), the default graph (``?default``), or the whole dataset."""
    target, iri = _target(request)
    format_param = request.query_params.get("format")
    if target == "dataset":
        wanted = (format_param or "").strip().lower()
        fmt = DATASET_KEYWORDS.get(wanted) or dict(DATASET_OFFERS).get(wanted) if wanted else None
        if fmt is None and not wanted:
            fmt = negotiate(accept, DATASET_OFFERS)
        if fmt is None:
            raise ApiError(
                406,
                "not_acceptable",
                "the whole dataset (all named graphs) is sent as application/trig, application/n-quads or "
                "application/ld+json; for one graph in another format ask ?graph=<IRI>, or ?default for "
                "the union",
            )
    else:
        fmt = choose_format(None, format_param=format_param, accept=accept, what="a graph")
        if iri is not None and not await run_in_threadpool(store.graph_exists, iri):
            raise ApiError(404, "not_found", f"the store has no graph {iri}")
    body = await run_in_threadpool(_dump, store, target, iri, fmt)
    return Response(body, media_type=MEDIA_TYPES[fmt], headers={"Vary": "Accept"})


# --------------------------------------------------------------------------- writing


def _parse(data: bytes, content_type: str, base_iri: str | None) -> list[ox.Triple]:
    """The triples of an RDF document; 415 for a type pyoxigraph does not read, 400 when it does not parse."""
    body_type = media_type(content_type)
    rdf_format = ox.RdfFormat.from_media_type(body_type) if body_type else None
    if rdf_format is None:
        offered = ", ".join(dict.fromkeys(m for m, _ in GRAPH_OFFERS))
        raise ApiError(
            415,
            "unsupported_media_type",
            f"a body of type {body_type or '(none)'!r} is not RDF this server reads; send one of {offered}",
        )
    check_charset(content_type, "RDF bodies")
    triples = []
    try:
        for quad in ox.parse(data, rdf_format, base_iri=base_iri):
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                raise ApiError(
                    400,
                    "bad_request",
                    f"the body puts triples in the graph {quad.graph_name}; send one graph's triples "
                    "(its default graph), and name the target with ?graph=",
                )
            triples.append(quad.triple)
    except SyntaxError as e:
        raise ApiError(400, "bad_rdf", f"the body is not valid {body_type}: {e}") from e
    return triples


def _parse_body(data: bytes, content_type: str, base_iri: str | None) -> list[ox.Triple]:
    """The triples of the body: one RDF document, or one per part of a ``multipart/form-data`` body."""
    if media_type(content_type) != "multipart/form-data":
        return _parse(data, content_type, base_iri)
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + data)
    if not message.is_multipart():
        raise ApiError(400, "bad_request", "the multipart/form-data body has no parts (check the boundary)")
    triples: list[ox.Triple] = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        triples += _parse(data, part.get("Content-Type", ""), base_iri)
    return triples


async def _body_triples(request: Request, iri: str | None, limit: int) -> list[ox.Triple]:
    data = await read_body(request, limit, "RDF body")
    return await run_in_threadpool(_parse_body, data, request.headers.get("content-type", ""), iri)


@router.put("/graph-store", status_code=204)
async def put_graph(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """Replace a named graph with the body (creating it): 201 when new, 204 when replaced."""
    require_write_token(request)
    target, iri = _target(request)
    if target == "default":
        raise _read_only_default()
    if iri is None:
        raise ApiError(400, "bad_request", "PUT needs the graph to replace: ?graph=<IRI>")
    triples = await _body_triples(request, iri, settings.max_input_bytes)
    created = await run_in_threadpool(store.put_graph, iri, triples)
    return Response(status_code=201 if created else 204)


@router.post("/graph-store", status_code=204)
async def post_graph(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """Add the body to a named graph (RDF merge), or create a new graph when none is named."""
    require_write_token(request)
    target, iri = _target(request)
    if target == "default":
        raise _read_only_default()
    new_graph = iri is None
    if iri is None:
        iri = f"{settings.base_iri}graph/posted/{uuid.uuid4()}"
    triples = await _body_triples(request, iri, settings.max_input_bytes)
    created = await run_in_threadpool(store.post_graph, iri, triples)
    if new_graph:
        return Response(status_code=201, headers={"Location": iri})
    return Response(status_code=201 if created else 204)


@router.delete("/graph-store", status_code=204)
async def delete_graph(request: Request, store: StoreDep) -> Response:
    """Delete a named graph: 204, or 404 when the store has no such graph."""
    require_write_token(request)
    target, iri = _target(request)
    if target == "default":
        raise _read_only_default()
    if iri is None:
        raise ApiError(400, "bad_request", "DELETE needs the graph to delete: ?graph=<IRI>")
    if not await run_in_threadpool(store.delete_graph, iri):
        raise ApiError(404, "not_found", f"the store has no graph {iri}")
    return Response(status_code=204)


__all__ = ["router"]

"""The SPARQL 1.1 Protocol at ``/sparql`` (query, update, service description), plus ``/`` and ``/health``.

Implements https://www.w3.org/TR/sparql11-protocol/:

- query operation: GET (``?query=``), POST form-encoded (``query=``), or
  POST with the query as an ``application/sparql-query`` body;
  ``default-graph-uri`` and ``named-graph-uri`` (repeatable) set the dataset.
- update operation, only when the service has a write token
  (``KG_API_WRITE_TOKEN``) and the request carries it: POST form-encoded
  (``update=``) or POST ``application/sparql-update``; ``using-graph-uri``
  and ``using-named-graph-uri`` set the dataset. The default graph is the
  union of the named graphs, so updates write named graphs
  (docs/decisions/0012-endpoint-protocol.md). Without a token: 403.
- service description: GET without ``query`` answers an ``sd:Service``
  (https://www.w3.org/TR/sparql11-service-description/) in Turtle, N-Triples,
  RDF/XML or JSON-LD.

Results are chosen by content negotiation on ``Accept`` (q-values,
wildcards), overridden by a ``format=`` parameter (keywords such as ``json``
or ``turtle``, or a media type). No ``Accept`` header at all (pandas'
``read_csv(url)``, Python's urllib) gets CSV for SELECT; ``*/*`` gets SPARQL
JSON. ``output=`` and ``results=``, which SPARQLWrapper sends beside
``format=``, are ignored. ``LOAD`` and ``SERVICE`` are refused (400): the
server fetches no URL. Status codes, limits and the timeout:
docs/decisions/0003-sparql-service.md and 0012-endpoint-protocol.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

import pyoxigraph as ox
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URLPath
from starlette.routing import Route

from api.auth import READ_ONLY, require_write_token, writes_enabled
from api.deps import get_app_settings, get_store
from api.errors import ApiError
from kg.settings import Settings
from kg.store import MEDIA_TYPES, QueryKind, Store, serialize_triples, sparql_form
from kg.vocab import PREFIXES

router = APIRouter()

#: Where the endpoint is, under the app's root path.
ENDPOINT_PATH = "/sparql"

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"

#: Media types offered per result kind, in the server's order of preference (the default first),
#: with the aliases clients send (SPARQLWrapper asks for application/turtle, for instance).
SOLUTION_OFFERS: tuple[tuple[str, str], ...] = (
    ("application/sparql-results+json", "json"),
    ("application/json", "json"),
    ("application/sparql-results+xml", "xml"),
    ("application/xml", "xml"),
    ("text/xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
)
#: Graph formats: TriG and N-Quads (the graph as a dataset's default graph) last, so that ``*/*``
#: and ``application/*`` never pick them; they come when asked for by name.
GRAPH_OFFERS: tuple[tuple[str, str], ...] = (
    ("text/turtle", "turtle"),
    ("application/turtle", "turtle"),
    ("application/x-turtle", "turtle"),
    ("application/n-triples", "ntriples"),
    ("application/ld+json", "jsonld"),
    ("application/json", "jsonld"),
    ("application/rdf+xml", "rdfxml"),
    ("application/xml", "rdfxml"),
    ("text/xml", "rdfxml"),
    ("application/trig", "trig"),
    ("application/n-quads", "nquads"),
)
#: What a request without an Accept header gets: CSV for SELECT (what generic HTTP tools such as
#: ``pandas.read_csv(url)`` read), SPARQL JSON for ASK (CSV has no booleans), Turtle for graphs.
NO_ACCEPT: dict[QueryKind, str] = {
    "select": "csv",
    "ask": "json",
    "construct": "turtle",
    "describe": "turtle",
}

#: ``format=`` keywords: (format for SELECT/ASK, format for CONSTRUCT/DESCRIBE), None where none fits.
FORMAT_KEYWORDS: dict[str, tuple[str | None, str | None]] = {
    "json": ("json", "jsonld"),
    "xml": ("xml", "rdfxml"),
    "csv": ("csv", None),
    "tsv": ("tsv", None),
    "turtle": (None, "turtle"),
    "ttl": (None, "turtle"),
    "n3": (None, "turtle"),  # Turtle is a subset of N3; SPARQLWrapper's N3 asks for it
    "ntriples": (None, "ntriples"),
    "nt": (None, "ntriples"),
    "n-triples": (None, "ntriples"),
    "jsonld": (None, "jsonld"),
    "json-ld": (None, "jsonld"),
    "rdfxml": (None, "rdfxml"),
    "rdf+xml": (None, "rdfxml"),
    "rdf": (None, "rdfxml"),
    "trig": (None, "trig"),
    "nquads": (None, "nquads"),
    "n-quads": (None, "nquads"),
    "nq": (None, "nquads"),
}

EXAMPLE_QUERY = """\
SELECT ?who ?whom (COUNT(?statement) AS ?statements) WHERE {
  ?statement a kg:Statement ; kg:subject ?who ; kg:relation kg:supports ; kg:object ?whom .
}
GROUP BY ?who ?whom ORDER BY DESC(?statements) LIMIT 10"""


# --------------------------------------------------------------------------- content negotiation


def media_type(content_type: str) -> str:
    """The media type of a Content-Type or Accept value, lower-cased, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def parse_accept(header: str) -> list[tuple[str, str, float]]:
    """The media ranges of an Accept header as (type, subtype, q); ranges with a malformed q are dropped.

    RFC 9110 §12.5.1. Media type parameters other than q are ignored.
    """
    ranges = []
    for part in header.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if "/" not in media:
            continue
        kind, _, subtype = media.lower().partition("/")
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = -1.0
        if q >= 0:
            ranges.append((kind, subtype, q))
    return ranges


def _quality(offered: str, ranges: Sequence[tuple[str, str, float]], *, exact_only: bool) -> float:
    """The q the most specific matching range gives the media type `offered` (0 when none matches)."""
    kind, _, subtype = offered.partition("/")
    best_specificity, q = -1, 0.0
    for range_kind, range_subtype, range_q in ranges:
        if (range_kind, range_subtype) == (kind, subtype):
            specificity = 2
        elif exact_only:
            continue
        elif range_kind == kind and range_subtype == "*":
            specificity = 1
        elif (range_kind, range_subtype) == ("*", "*"):
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, q = specificity, range_q
    return q


def negotiate(accept: str | None, offers: Sequence[tuple[str, str]]) -> str | None:
    """The format of the offer the client prefers; the first offer when Accept is missing or empty.

    Highest q wins; among equal q the server's order decides. None when the
    client accepts none of the offers. An alias (a media type other than
    the format's own, such as application/json) counts only when named
    exactly, so ``*/*`` or ``text/*`` never bring back a format the client
    refused by its own name.
    """
    if accept is None or not accept.strip():
        return offers[0][1]
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for offered, fmt in offers:
        q = _quality(offered, ranges, exact_only=MEDIA_TYPES.get(fmt) != offered)
        if q > best_q:
            best, best_q = fmt, q
    return best


def _format_from_params(values: Sequence[str], graph: bool, what: str, offered: str) -> str | None:
    """The format ``format=`` asks for, None when it is not given.

    SPARQLWrapper sends it more than once (``format=tsv&format=text/tab-separated-values``) and
    as lists (``format=json-ld&format=application/ld+json,application/x-json+ld``): every value
    it names that this endpoint knows must mean the same format.
    """
    offers = GRAPH_OFFERS if graph else SOLUTION_OFFERS
    known = {m for m, _ in SOLUTION_OFFERS + GRAPH_OFFERS}
    pieces = [p.strip().lower() for value in values for p in value.split(",") if p.strip()]
    if not pieces:
        return None
    chosen: set[str] = set()
    misfits: list[str] = []
    for wanted in pieces:
        if wanted in FORMAT_KEYWORDS:
            fmt = FORMAT_KEYWORDS[wanted][1 if graph else 0]
        elif media_type(wanted) in known:
            fmt = dict(offers).get(media_type(wanted))
        else:
            continue  # unknown: fine as long as another value is known
        if fmt is None:
            misfits.append(wanted)
        else:
            chosen.add(fmt)
    given = "&".join(f"format={v}" for v in values)
    if len(chosen) > 1:
        raise ApiError(
            400, "unknown_format", f"{given} names different formats ({', '.join(sorted(chosen))})"
        )
    if chosen:
        return chosen.pop()
    if misfits:
        raise ApiError(406, "not_acceptable", f"{given} does not fit {what}; it can be sent as {offered}")
    raise ApiError(
        400,
        "unknown_format",
        f"{given} is not a format this endpoint knows; use one of {', '.join(FORMAT_KEYWORDS)} or a media "
        f"type ({offered})",
    )


def choose_format(
    kind: QueryKind | None,
    *,
    format_param: str | Sequence[str] | None,
    accept: str | None,
    what: str | None = None,
) -> str:
    """The format for a result of `kind` (None: a graph that is not a query result, such as the
    service description): ``format=`` if given, else content negotiation; `NO_ACCEPT` without Accept."""
    graph = kind in ("construct", "describe", None)
    offers = GRAPH_OFFERS if graph else SOLUTION_OFFERS
    what = what or f"a {(kind or 'graph').upper()} result"
    offered = ", ".join(dict.fromkeys(MEDIA_TYPES[fmt] for _, fmt in offers))
    values = [format_param] if isinstance(format_param, str) else list(format_param or ())
    fmt = _format_from_params(values, graph, what, offered)
    if fmt is not None:
        return fmt
    if accept is None or not accept.strip():
        return NO_ACCEPT[kind] if kind is not None else "turtle"
    fmt = negotiate(accept, offers)
    if fmt is None:
        raise ApiError(
            406,
            "not_acceptable",
            f"the Accept header ({accept}) allows none of the types {what} can be sent as: {offered}; "
            "or add format=",
        )
    return fmt


# --------------------------------------------------------------------------- reading the request


@dataclass
class ProtocolRequest:
    """The protocol parameters of one request, from the URL and (for form POSTs) the body."""

    params: list[tuple[str, str]] = field(default_factory=list)
    body_query: str | None = None
    body_update: str | None = None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.params if key == name]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        if len(values) > 1:
            raise ApiError(400, "bad_request", f"{name}= was given {len(values)} times; give it once")
        return values[0] if values else None

    @property
    def query(self) -> str | None:
        return self.body_query if self.body_query is not None else self.one("query")

    @property
    def update(self) -> str | None:
        return self.body_update if self.body_update is not None else self.one("update")


async def read_body(request: Request, limit: int, what: str = "request body") -> bytes:
    """The request body, refused with 413 as soon as it is over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"the {what} has {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "too_large", f"the {what} is over the limit of {limit} bytes")
    return bytes(body)


def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ApiError(400, "bad_request", f"the {what} is not UTF-8 ({e}); send it UTF-8 encoded") from e


def check_charset(content_type: str, what: str = "SPARQL requests") -> None:
    """A body's declared charset must be UTF-8 (SPARQL 1.1 Protocol §2.1.3, and RDF sent to the Graph
    Store); 415 for any other."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise ApiError(
                415,
                "unsupported_media_type",
                f"the body is declared as charset={value.strip()}; {what} are UTF-8: send "
                "charset=utf-8 (or no charset)",
            )


async def read_protocol_request(request: Request, settings: Settings) -> ProtocolRequest:
    """Collect the parameters of a GET or POST request (query or update); refuse oversized ones."""
    parsed = ProtocolRequest(params=list(request.query_params.multi_items()))
    max_query_length = settings.max_query_length
    if request.method == "POST":
        content_type_header = request.headers.get("content-type", "")
        content_type = media_type(content_type_header)
        # A query can take 4 UTF-8 bytes per character, or 9 when percent-encoded in a form.
        # Updates can carry data (INSERT DATA), so their bodies are bounded by KG_MAX_INPUT_BYTES.
        if content_type == FORM:
            limit = max(9 * max_query_length + 65_536, 3 * settings.max_input_bytes)
            body = await read_body(request, limit, "form body")
            parsed.params += parse_qsl(_decode(body, "form body"), keep_blank_values=True)
        elif content_type == SPARQL_QUERY:
            check_charset(content_type_header)
            body = await read_body(request, 4 * max_query_length, "query")
            parsed.body_query = _decode(body, "query")
        elif content_type == SPARQL_UPDATE:
            check_charset(content_type_header)
            body = await read_body(request, settings.max_input_bytes, "update")
            parsed.body_update = _decode(body, "update")
        else:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"a POST body of type {content_type or '(none)'!r} is not a SPARQL request; send {FORM} "
                f"with query=... or update=..., or the query as {SPARQL_QUERY}, or the update as "
                f"{SPARQL_UPDATE}",
            )
    query = parsed.query
    if query is not None and len(query) > max_query_length:
        status, how = (414, "in the URL") if request.method == "GET" else (413, "in the body")
        raise ApiError(
            status,
            "query_too_long",
            f"the query {how} has {len(query)} characters; the limit is {max_query_length} "
            "(KG_MAX_QUERY_LENGTH)",
        )
    return parsed


def endpoint_iri(request: Request) -> str:
    """The endpoint's own URL: the base IRI of queries and updates, and the service's IRI.

    What ``request.url_for("sparql")`` gives, without its search through the app's routes.
    """
    return str(URLPath(ENDPOINT_PATH, protocol="http").make_absolute_url(request.base_url))


# --------------------------------------------------------------------------- the service description

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
_RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "RDF_XML",
    "JSON-LD",
    "TriG",
    "N-Quads",
)
_INPUT_FORMATS = ("Turtle", "N-Triples", "RDF_XML", "JSON-LD")


def service_description(
    endpoint: str, *, writes: bool, graph_store: str, settings: Settings
) -> list[ox.Triple]:
    """The ``sd:Service`` this endpoint is (W3C SPARQL 1.1 Service Description)."""
    service = ox.NamedNode(endpoint)
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(SD + name)

    dataset, default_graph = ox.BlankNode(), ox.BlankNode()
    triples = [
        ox.Triple(service, rdf_type, sd("Service")),
        ox.Triple(service, sd("endpoint"), service),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(
            service, sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")
        ),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, rdf_type, sd("Graph")),
        ox.Triple(
            service,
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#seeAlso"),
            ox.NamedNode(graph_store),
        ),
        ox.Triple(
            service,
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment"),
            ox.Literal(
                "News knowledge graph (newskg). The default graph is the union of the article graphs, each "
                "triple once; GRAPH ?g reaches one article. Prefixes declared for every query: "
                f"{', '.join(sorted(PREFIXES))}. Limits: {settings.query_timeout_s:g} s per query, "
                f"{settings.max_results} results, {settings.max_query_length} characters per query. "
                "SERVICE and LOAD are refused. "
                + ("Updates need the write token (Authorization: Bearer)." if writes else "Read-only."),
                language="en",
            ),
        ),
    ]
    triples += [ox.Triple(service, sd("resultFormat"), ox.NamedNode(FORMATS + f)) for f in _RESULT_FORMATS]
    if writes:
        triples.append(ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Update")))
        triples.append(ox.Triple(service, sd("feature"), sd("EmptyGraphs")))
        triples += [ox.Triple(service, sd("inputFormat"), ox.NamedNode(FORMATS + f)) for f in _INPUT_FORMATS]
    return triples


# --------------------------------------------------------------------------- routes


async def _update(request: Request, store: Store, parsed: ProtocolRequest, update: str) -> Response:
    """The update operation (POST only, with the write token)."""
    require_write_token(request)
    if request.method != "POST":
        raise ApiError(
            400,
            "bad_request",
            f"an update must be POSTed (as update=... in a {FORM} body or as {SPARQL_UPDATE})",
        )
    if parsed.all("query"):
        raise ApiError(400, "bad_request", "the request has both query= and update=; send one operation")
    await run_in_threadpool(
        store.update,
        update,
        base_iri=endpoint_iri(request),
        using_graphs=parsed.all("using-graph-uri"),
        using_named_graphs=parsed.all("using-named-graph-uri"),
    )
    return Response(status_code=204)


#: Answers larger than this are converted to another format in a thread, not on the event loop.
_INLINE_CONVERSION_BYTES = 65_536


# GET and POST are two operations, each with its own id in the OpenAPI schema.
@router.get(ENDPOINT_PATH, name="sparql", operation_id="sparql_get")
@router.post(ENDPOINT_PATH, name="sparql_post", operation_id="sparql_post")
async def sparql(request: Request) -> Response:
    """Answer a SPARQL query or update (SPARQL 1.1 Protocol); describe the service when there is neither."""
    # The store and settings are read here rather than declared as dependencies: FastAPI's
    # dependency resolution is a measurable part of a small query's time.
    store = await get_store(request)
    settings = await get_app_settings(request)
    parsed = await read_protocol_request(request, settings)
    update = parsed.update
    if update is not None:
        return await _update(request, store, parsed, update)
    query = parsed.query
    if query is None and request.method == "GET":
        fmt = choose_format(
            None,
            format_param=parsed.all("format"),
            accept=request.headers.get("accept"),
            what="a service description",
        )
        triples = service_description(
            endpoint_iri(request),
            writes=writes_enabled(request.app.state.api_settings),
            graph_store=str(request.url_for("graph_store")),
            settings=settings,
        )
        body = serialize_triples(triples, fmt, prefixes={"sd": SD, "formats": FORMATS, **PREFIXES})
        return Response(body, media_type=MEDIA_TYPES[fmt], headers={"Vary": "Accept"})
    if query is None or not query.strip():
        raise ApiError(
            400,
            "missing_query",
            "no query: send ?query=... (GET), query=... (POST form) or the query as an "
            f"{SPARQL_QUERY} body; see / for an example",
        )
    if sparql_form(query) == "update":
        if not writes_enabled(request.app.state.api_settings):
            raise ApiError(403, "read_only", READ_ONLY)
        raise ApiError(
            400, "bad_request", f"query= holds an update; send it as update=... or as an {SPARQL_UPDATE} body"
        )
    default_graph = parsed.all("default-graph-uri")
    named_graphs = parsed.all("named-graph-uri")
    # A dataset given in the protocol replaces the query's; the part not given is empty (§2.1.4).
    protocol_dataset = bool(default_graph or named_graphs)
    # Awaited on the event loop: the query runs in a worker process (or, without workers, a thread).
    result = await store.aquery(
        query,
        timeout_s=settings.query_timeout_s,
        default_graph=default_graph if protocol_dataset else None,
        named_graphs=named_graphs if protocol_dataset else None,
        base_iri=endpoint_iri(request),
        max_results=settings.max_results,
    )
    fmt = choose_format(result.kind, format_param=parsed.all("format"), accept=request.headers.get("accept"))
    if fmt == result.native_format or len(result.payload) <= _INLINE_CONVERSION_BYTES:
        body = result.serialize(fmt)
    else:
        body = await run_in_threadpool(result.serialize, fmt)
    return Response(content=body, media_type=MEDIA_TYPES[fmt], headers={"Vary": "Accept"})


def direct_route() -> Route:
    """`sparql` as a plain Starlette route, which `create_app` puts first among the app's routes.

    It answers every GET and POST to the endpoint; the FastAPI routes above stay for the OpenAPI
    documentation and ``url_for``. It skips FastAPI's per-request work (the search through the
    routes, dependency solving for a handler that has none): about 0.06 ms of the 0.5 ms of CPU
    the server spends on a small query (docs/decisions/0003-sparql-service.md).
    """
    return Route(
        ENDPOINT_PATH, sparql, methods=["GET", "POST"], name="sparql_direct", include_in_schema=False
    )


@router.get("/", name="index")
async def index(request: Request) -> dict[str, Any]:
    """Where the endpoint, the Graph Store and the web UI are, with an example query."""
    endpoint = endpoint_iri(request)
    writes = writes_enabled(request.app.state.api_settings)
    return {
        "name": "newskg SPARQL endpoint",
        "sparql": endpoint,
        "graph_store": str(request.url_for("graph_store")),
        "ui": str(request.url_for("ui_sparql")),
        "protocol": "https://www.w3.org/TR/sparql11-protocol/ (query; update "
        + ("with the write token)" if writes else "disabled: read-only)"),
        "service_description": f"GET {endpoint} without a query",
        "prefixes": "kg, schema, wd, rdf, rdfs, owl, xsd, skos, prov and dct are declared for every query",
        "graphs": "the default graph is the union of all articles; GRAPH ?g reaches one article's graph",
        "example_query": EXAMPLE_QUERY,
        "example": f"{endpoint}?query={quote(EXAMPLE_QUERY, safe='')}",
        "formats": {
            "SELECT, ASK": sorted({MEDIA_TYPES[f] for _, f in SOLUTION_OFFERS}),
            "CONSTRUCT, DESCRIBE": sorted({MEDIA_TYPES[f] for _, f in GRAPH_OFFERS}),
        },
    }


@router.get("/health", name="health")
async def health() -> dict[str, str]:
    """Liveness: the process answers. Cheap on purpose (no store scan)."""
    return {"status": "ok"}


__all__ = [
    "GRAPH_OFFERS",
    "READ_ONLY",
    "check_charset",
    "choose_format",
    "direct_route",
    "endpoint_iri",
    "media_type",
    "negotiate",
    "parse_accept",
    "read_body",
    "router",
    "writes_enabled",
]

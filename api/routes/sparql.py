"""The SPARQL 1.1 Protocol query operation at ``/sparql``, plus ``/`` and ``/health``.

Implements https://www.w3.org/TR/sparql11-protocol/#query-operation: a query
by GET (``?query=``), by POST form-encoded (``query=``), or by POST with the
query as an ``application/sparql-query`` body; ``default-graph-uri`` and
``named-graph-uri`` (repeatable) set the dataset. The update operation is
not offered: this endpoint is read-only (403). Results are chosen by content
negotiation on ``Accept`` (q-values, wildcards), overridden by a ``format=``
parameter (keywords such as ``json`` or ``turtle``, or a media type).
``output=`` and ``results=``, which SPARQLWrapper sends beside ``format=``,
are ignored. Status codes and the timeout are in
docs/decisions/0003-sparql-service.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.deps import SettingsDep, StoreDep
from api.errors import ApiError
from kg.store import MEDIA_TYPES, QueryKind, QueryResult, Store, sparql_form

router = APIRouter()

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
)

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
}

EXAMPLE_QUERY = """\
SELECT ?who ?whom (COUNT(?statement) AS ?statements) WHERE {
  ?statement a kg:Statement ; kg:subject ?who ; kg:relation kg:supports ; kg:object ?whom .
}
GROUP BY ?who ?whom ORDER BY DESC(?statements) LIMIT 10"""

READ_ONLY = (
    "this endpoint is read-only: it answers SPARQL queries only; SPARQL updates are refused "
    "(the graph is written by `kg build`)"
)


# --------------------------------------------------------------------------- content negotiation


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


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


def _quality(media_type: str, ranges: Sequence[tuple[str, str, float]], *, exact_only: bool) -> float:
    """The q the most specific matching range gives `media_type` (0 when none matches)."""
    kind, _, subtype = media_type.partition("/")
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
    for media_type, fmt in offers:
        q = _quality(media_type, ranges, exact_only=MEDIA_TYPES.get(fmt) != media_type)
        if q > best_q:
            best, best_q = fmt, q
    return best


def choose_format(kind: QueryKind, *, format_param: str | None, accept: str | None) -> str:
    """The result format for a result of `kind`: ``format=`` if given, else content negotiation."""
    graph = kind in ("construct", "describe")
    offers = GRAPH_OFFERS if graph else SOLUTION_OFFERS
    offered = ", ".join(dict.fromkeys(MEDIA_TYPES[fmt] for _, fmt in offers))
    if format_param is not None and format_param.strip():
        wanted = format_param.strip().lower()
        if wanted in FORMAT_KEYWORDS:
            fmt = FORMAT_KEYWORDS[wanted][1 if graph else 0]
        else:
            fmt = dict(offers).get(_media_type(wanted))
            if fmt is None and _media_type(wanted) not in {m for m, _ in SOLUTION_OFFERS + GRAPH_OFFERS}:
                raise ApiError(
                    400,
                    "unknown_format",
                    f"format={format_param!r} is not a format this endpoint knows; use one of "
                    f"{', '.join(FORMAT_KEYWORDS)} or a media type ({offered})",
                )
        if fmt is None:
            raise ApiError(
                406,
                "not_acceptable",
                f"format={format_param!r} does not fit a {kind.upper()} result; it can be sent as {offered}",
            )
        return fmt
    fmt = negotiate(accept, offers)
    if fmt is None:
        raise ApiError(
            406,
            "not_acceptable",
            f"the Accept header ({accept}) allows none of the types a {kind.upper()} result can be sent "
            f"as: {offered}; or add format=",
        )
    return fmt


# --------------------------------------------------------------------------- reading the request


@dataclass
class ProtocolRequest:
    """The protocol parameters of one request, from the URL and (for form POSTs) the body."""

    params: list[tuple[str, str]] = field(default_factory=list)
    body_query: str | None = None

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


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "query_too_long", f"the request body has {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "query_too_long", f"the request body is over the limit of {limit} bytes")
    return bytes(body)


def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ApiError(400, "bad_request", f"the {what} is not UTF-8 ({e}); send it UTF-8 encoded") from e


async def read_protocol_request(request: Request, max_query_length: int) -> ProtocolRequest:
    """Collect the parameters of a GET or POST query request; refuse updates and oversized queries."""
    parsed = ProtocolRequest(params=list(request.query_params.multi_items()))
    if request.method == "POST":
        content_type = _media_type(request.headers.get("content-type", ""))
        # A query can take 4 UTF-8 bytes per character, or 9 when percent-encoded in a form.
        if content_type == FORM:
            body = await _read_body(request, 9 * max_query_length + 65_536)
            parsed.params += parse_qsl(_decode(body, "form body"), keep_blank_values=True)
        elif content_type == SPARQL_QUERY:
            body = await _read_body(request, 4 * max_query_length)
            parsed.body_query = _decode(body, "query")
        elif content_type == SPARQL_UPDATE:
            raise ApiError(403, "read_only", READ_ONLY)
        else:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"a POST body of type {content_type or '(none)'!r} is not a SPARQL query request; "
                f"send {FORM} with query=..., or {SPARQL_QUERY} with the query as the body",
            )
    if parsed.all("update"):
        raise ApiError(403, "read_only", READ_ONLY)
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


# --------------------------------------------------------------------------- routes


def _run(
    store: Store,
    query: str,
    *,
    timeout_s: float,
    default_graph: list[str] | None,
    named_graphs: list[str] | None,
    format_param: str | None,
    accept: str | None,
) -> tuple[bytes, str]:
    result: QueryResult = store.query(
        query, timeout_s=timeout_s, default_graph=default_graph, named_graphs=named_graphs
    )
    fmt = choose_format(result.kind, format_param=format_param, accept=accept)
    return result.serialize(fmt), MEDIA_TYPES[fmt]


@router.api_route("/sparql", methods=["GET", "POST"], name="sparql")
async def sparql(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """Answer a SPARQL query (SPARQL 1.1 Protocol, query operation)."""
    parsed = await read_protocol_request(request, settings.max_query_length)
    query = parsed.query
    if query is None or not query.strip():
        raise ApiError(
            400,
            "missing_query",
            "no query: send ?query=... (GET), query=... (POST form) or the query as an "
            f"{SPARQL_QUERY} body; see / for an example",
        )
    if sparql_form(query) == "update":
        raise ApiError(403, "read_only", READ_ONLY)
    default_graph = parsed.all("default-graph-uri")
    named_graphs = parsed.all("named-graph-uri")
    # A dataset given in the protocol replaces the query's; the part not given is empty (§2.1.4).
    protocol_dataset = bool(default_graph or named_graphs)
    body, media_type = await run_in_threadpool(
        _run,
        store,
        query,
        timeout_s=settings.query_timeout_s,
        default_graph=default_graph if protocol_dataset else None,
        named_graphs=named_graphs if protocol_dataset else None,
        format_param=parsed.one("format"),
        accept=request.headers.get("accept"),
    )
    return Response(content=body, media_type=media_type, headers={"Vary": "Accept"})


@router.get("/", name="index")
async def index(request: Request) -> dict[str, Any]:
    """Where the endpoint is, with an example query."""
    endpoint = str(request.url_for("sparql"))
    return {
        "name": "newskg SPARQL endpoint",
        "sparql": endpoint,
        "protocol": "https://www.w3.org/TR/sparql11-protocol/ (query operation only; read-only)",
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


__all__ = ["choose_format", "negotiate", "parse_accept", "router"]

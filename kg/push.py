"""Send the graph in a `kg.store.Store` to an external triple store, one request per article graph.

Two protocols, both from the W3C:

- ``gsp``, the SPARQL 1.1 Graph Store HTTP Protocol
  (https://www.w3.org/TR/sparql11-http-rdf-update/#http-put): ``PUT
  <endpoint>?graph=<article graph IRI>`` with the graph as the body. "If the
  request body is empty [or not], the graph is replaced": re-pushing replaces
  the article graph, it never duplicates it. One request per graph, so one
  graph is replaced atomically where the store makes a request atomic.
- ``update``, SPARQL 1.1 Update (https://www.w3.org/TR/sparql11-update/) sent
  by POST as ``application/sparql-update``: ``DROP SILENT GRAPH <g> ;
  INSERT DATA { GRAPH <g> { ... } }``, then further ``INSERT DATA`` requests
  for graphs larger than `chunk_triples`. For a chunked graph a failure
  between two requests leaves part of it; pushing again repairs that (the
  first request drops the graph). Triples with blank nodes all go into the
  first request, because a blank node label means one node only within one
  request.

The store's default graph is the materialised union of the article graphs
(docs/decisions/0002-store-default-graph.md), so by default it is NOT pushed:
it would be a second copy of every triple. A store that offers a union view
(Virtuoso's default graph, ``oxigraph serve --union-default-graph``) answers
queries without ``GRAPH`` from the article graphs; for one that does not,
``include_default_graph=True`` pushes the union into its default graph too,
after the article graphs. Graphs the external store holds but this store no
longer has are left alone. See docs/decisions/0014-push.md.

Failures are values: each graph is ``pushed``, ``failed`` (with the
store's status and message) or ``skipped`` (not tried, because an earlier
failure says every request would fail the same way: no connection, 401, 403,
404, 405). `PushError` carries the endpoint, the status and the store's
response body.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Literal, get_args

import httpx
import pyoxigraph as ox

from kg.errors import ConfigError, PushError
from kg.store import MEDIA_TYPES, Store

PushProtocol = Literal["gsp", "update"]
PUSH_PROTOCOLS: tuple[PushProtocol, ...] = get_args(PushProtocol)
#: Body of a Graph Store PUT: N-Triples (every store reads it; it is also valid Turtle) or Turtle.
BodyFormat = Literal["ntriples", "turtle"]
BODY_FORMATS: tuple[BodyFormat, ...] = get_args(BodyFormat)
AuthScheme = Literal["basic", "digest"]
AUTH_SCHEMES: tuple[AuthScheme, ...] = get_args(AuthScheme)
GraphStatus = Literal["pushed", "failed", "skipped"]

#: Name of the default graph in reports.
DEFAULT_GRAPH = "default graph"

_SPARQL_UPDATE = "application/sparql-update"
_BODY_SHOWN = 500
# Answers after which every further request to this endpoint would fail the same way.
_FATAL_STATUSES = frozenset({401, 403, 404, 405})


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class GraphResult:
    """What happened to one graph: its IRI (or `DEFAULT_GRAPH`), status, triples sent, requests made."""

    graph: str
    status: GraphStatus
    triples: int
    requests: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class PushReport:
    """The outcome of one push, graph by graph."""

    endpoint: str
    protocol: PushProtocol
    graphs: tuple[GraphResult, ...]
    seconds: float

    def count(self, status: GraphStatus) -> int:
        return sum(1 for g in self.graphs if g.status == status)

    @property
    def ok(self) -> bool:
        """True when every graph was pushed."""
        return all(g.status == "pushed" for g in self.graphs)

    @property
    def triples(self) -> int:
        """Triples in the graphs that were pushed."""
        return sum(g.triples for g in self.graphs if g.status == "pushed")

    def summary(self) -> str:
        return (
            f"{self.endpoint} ({self.protocol}): {self.count('pushed')} graphs pushed "
            f"({self.triples} triples), {self.count('failed')} failed, {self.count('skipped')} skipped "
            f"in {self.seconds:.1f} s"
        )


# --------------------------------------------------------------------------- authentication


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` on every request (RFC 6750)."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


def make_auth(
    *,
    user: str | None = None,
    password: str | None = None,
    scheme: str = "basic",
    token: str | None = None,
) -> httpx.Auth | None:
    """The httpx authentication for a user and password (basic or digest), or a bearer token, or None.

    Digest (RFC 7616) costs one extra round trip per request: the store's
    401 challenge, then the request again with the answer; httpx does that.
    Virtuoso wants digest for writes (``/sparql-graph-crud-auth``).
    """
    if token is not None and (user is not None or password is not None):
        raise ConfigError("give either a token (bearer) or a user and password, not both")
    if token is not None:
        if not token:
            raise ConfigError("the bearer token is empty; give the token the store issued")
        return BearerAuth(token)
    if user is None and password is None:
        return None
    if user is None or password is None:
        raise ConfigError("give both a user and a password (or a token instead)")
    if scheme == "basic":
        return httpx.BasicAuth(user, password)
    if scheme == "digest":
        return httpx.DigestAuth(user, password)
    raise ConfigError(f"unknown authentication scheme {scheme!r}; use one of {', '.join(AUTH_SCHEMES)}")


# --------------------------------------------------------------------------- pure parts: requests


def gsp_url(endpoint: str, graph: str | None) -> httpx.URL:
    """The Graph Store Protocol URL of a graph: ``?graph=<iri>``, or ``?default`` for None.

    Keeps any query parameters the endpoint URL already has.
    """
    url = httpx.URL(endpoint)
    params = {"graph": graph} if graph is not None else {"default": ""}
    return url.copy_merge_params(params)


def update_requests(graph: str | None, triples: list[ox.Triple], *, chunk_triples: int) -> list[str]:
    """SPARQL Update requests that make `triples` the content of `graph` (None: the default graph).

    The first request drops the graph and inserts the first chunk, with all
    triples that hold a blank node (their labels are scoped to one request);
    each next request inserts `chunk_triples` more. An empty graph is one
    DROP.
    """
    if chunk_triples < 1:
        raise ConfigError(f"chunk_triples must be at least 1, got {chunk_triples}")
    with_bnodes = [t for t in triples if _has_bnode(t)]
    rest = [t for t in triples if not _has_bnode(t)]
    first_size = max(chunk_triples, len(with_bnodes))
    ordered = with_bnodes + rest
    chunks = [ordered[:first_size]] + [
        ordered[i : i + chunk_triples] for i in range(first_size, len(ordered), chunk_triples)
    ]
    target = "DEFAULT" if graph is None else f"GRAPH <{graph}>"
    requests = []
    for index, chunk in enumerate(chunks):
        parts = [f"DROP SILENT {target}"] if index == 0 else []
        if chunk:
            body = "\n".join(f"{t} ." for t in chunk)
            parts.append(
                f"INSERT DATA {{\n{body}\n}}"
                if graph is None
                else f"INSERT DATA {{ GRAPH <{graph}> {{\n{body}\n}} }}"
            )
        requests.append(" ;\n".join(parts))
    return requests


def _has_bnode(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def _graph_query(graph: str | None) -> str:
    if graph is None:
        return "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"


# --------------------------------------------------------------------------- I/O: sending


def _hint(status: int, protocol: PushProtocol) -> str:
    if status == 401:
        return (
            "the store wants credentials: give --user and --password (with --auth digest for Virtuoso's "
            "/sparql-graph-crud-auth) or --token"
        )
    if status == 403:
        return "the store refused these credentials for writing: use an account allowed to write"
    if status == 404:
        where = "the Graph Store endpoint (Oxigraph: /store; Virtuoso: /sparql-graph-crud-auth)"
        if protocol == "update":
            where = "the SPARQL Update endpoint (Oxigraph: /update; Virtuoso: /sparql-auth)"
        return f"no such endpoint: give the URL of {where}"
    if status == 405:
        return (
            "this URL does not accept the method: is it the query endpoint? give the store's write endpoint"
        )
    if status == 413:
        return "the request is too large for the store: use --protocol update with a smaller --chunk"
    if status == 415:
        return "the store does not read this body type: try --format turtle, or --protocol update"
    if 300 <= status < 400:
        return "the endpoint redirects: give the URL it redirects to"
    if status >= 500:
        return "the store failed while writing: its message is above; see its log, then push again"
    return "the store refused the data: its message is above"


def _body_excerpt(response: httpx.Response) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        text = repr(response.content[:_BODY_SHOWN])
    text = " ".join(text.split())
    return text if len(text) <= _BODY_SHOWN else text[:_BODY_SHOWN] + " ..."


def _send(
    client: httpx.Client,
    method: str,
    url: httpx.URL,
    *,
    content: bytes,
    media_type: str,
    what: str,
    protocol: PushProtocol,
) -> None:
    """Send one request; raise `PushError` unless the store answers 2xx."""
    endpoint = str(url.copy_with(query=None))
    try:
        response = client.request(method, url, content=content, headers={"Content-Type": media_type})
    except (httpx.ConnectError, httpx.ConnectTimeout) as e:
        raise PushError(
            f"cannot connect to {endpoint} to {what}: {e}; is the store running, are host and port right?",
            endpoint=endpoint,
        ) from e
    except httpx.TransportError as e:
        raise PushError(
            f"{method} to {endpoint} to {what} got no answer: {type(e).__name__}: {e}; "
            "a large graph may need a longer --timeout",
            endpoint=endpoint,
        ) from e
    if response.is_success:
        return
    body = _body_excerpt(response)
    raise PushError(
        f"{endpoint} answered {response.status_code} {response.reason_phrase} to {method} ({what}): "
        f"{body or '(empty body)'}; {_hint(response.status_code, protocol)}",
        endpoint=endpoint,
        status=response.status_code,
        body=body,
    )


def _push_graph(
    client: httpx.Client,
    store: Store,
    endpoint: str,
    graph: str | None,
    *,
    protocol: PushProtocol,
    body_format: BodyFormat,
    chunk_triples: int,
) -> GraphResult:
    name = graph if graph is not None else DEFAULT_GRAPH
    result = store.query(_graph_query(graph))
    if protocol == "gsp":
        payload = result.payload if body_format == "ntriples" else result.serialize("turtle")
        triples = result.payload.count(b"\n")
        _send(
            client,
            "PUT",
            gsp_url(endpoint, graph),
            content=payload,
            media_type=MEDIA_TYPES[body_format],
            what=f"replace {name}",
            protocol=protocol,
        )
        return GraphResult(name, "pushed", triples, requests=1)
    parsed = result.triples()
    requests = update_requests(graph, parsed, chunk_triples=chunk_triples)
    for index, update in enumerate(requests, start=1):
        _send(
            client,
            "POST",
            httpx.URL(endpoint),
            content=update.encode(),
            media_type=_SPARQL_UPDATE,
            what=f"write {name} (request {index} of {len(requests)})",
            protocol=protocol,
        )
    return GraphResult(name, "pushed", len(parsed), requests=len(requests))


def push(
    store: Store,
    endpoint: str,
    *,
    protocol: PushProtocol = "gsp",
    auth: httpx.Auth | None = None,
    body_format: BodyFormat = "ntriples",
    chunk_triples: int = 5000,
    include_default_graph: bool = False,
    graphs: Iterable[str] | None = None,
    timeout_s: float = 60.0,
    client: httpx.Client | None = None,
    progress: Callable[[GraphResult], None] | None = None,
) -> PushReport:
    """Send each article graph of `store` (or `graphs`) to `endpoint`; a report, graph by graph.

    `endpoint` is the store's Graph Store endpoint for ``gsp`` (Oxigraph:
    ``http://host:7878/store``) or its SPARQL Update endpoint for ``update``
    (Oxigraph: ``/update``). One request per graph (more for ``update`` over
    `chunk_triples`), over one keep-alive connection. Never raises for what
    the store answers: failures are in the report, and after a failure that
    every request would repeat (no connection, 401, 403, 404, 405) the
    remaining graphs are ``skipped`` with that reason. `client` (optional)
    is used as given, with its own auth and timeout, and left open.
    """
    if protocol not in PUSH_PROTOCOLS:
        raise ConfigError(f"unknown push protocol {protocol!r}; use one of {', '.join(PUSH_PROTOCOLS)}")
    if body_format not in BODY_FORMATS:
        raise ConfigError(f"unknown body format {body_format!r}; use one of {', '.join(BODY_FORMATS)}")
    try:
        base = httpx.URL(endpoint)
    except httpx.InvalidURL as e:
        raise ConfigError(
            f"the endpoint {endpoint!r} is not a URL ({e}); give e.g. http://localhost:7878/store"
        ) from e
    if base.scheme not in ("http", "https"):
        raise ConfigError(
            f"the endpoint {endpoint!r} is not an http(s) URL; give e.g. http://localhost:7878/store"
        )
    if chunk_triples < 1:
        raise ConfigError(f"chunk_triples must be at least 1, got {chunk_triples}")
    targets: list[str | None] = list(graphs) if graphs is not None else list(store.article_graphs())
    if include_default_graph:
        targets.append(None)
    own = client is None
    http = client if client is not None else httpx.Client(auth=auth, timeout=timeout_s)
    results: list[GraphResult] = []
    stop: str | None = None
    start = time.perf_counter()
    try:
        for graph in targets:
            name = graph if graph is not None else DEFAULT_GRAPH
            if stop is not None:
                result = GraphResult(name, "skipped", 0, message=f"not tried: {stop}")
            else:
                try:
                    result = _push_graph(
                        http,
                        store,
                        endpoint,
                        graph,
                        protocol=protocol,
                        body_format=body_format,
                        chunk_triples=chunk_triples,
                    )
                except PushError as e:
                    result = GraphResult(name, "failed", 0, message=str(e))
                    if e.status is None and isinstance(
                        e.__cause__, httpx.ConnectError | httpx.ConnectTimeout
                    ):
                        stop = f"no connection to {e.endpoint}"
                    elif e.status in _FATAL_STATUSES:
                        stop = f"{e.endpoint} answered {e.status} to the graph before"
            results.append(result)
            if progress is not None:
                progress(result)
    finally:
        if own:
            http.close()
    return PushReport(endpoint, protocol, tuple(results), time.perf_counter() - start)


__all__ = [
    "AUTH_SCHEMES",
    "BODY_FORMATS",
    "DEFAULT_GRAPH",
    "PUSH_PROTOCOLS",
    "BearerAuth",
    "BodyFormat",
    "GraphResult",
    "PushProtocol",
    "PushReport",
    "gsp_url",
    "make_auth",
    "push",
    "update_requests",
]

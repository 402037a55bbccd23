"""The W3C SPARQL 1.1 conformance tests for the wire, replayed against a live server.

The manifests (../shared/conformance/README.md) are read with rdflib: each
test's ``ut:graphData`` is loaded into the store, its ``ht:Request``s are
sent as described (method, path, headers, body in its character encoding;
no header the test does not give, so no Accept unless it says so), and each
answer is checked against its ``ht:Response``: status (a class such as
``hts:StatusCode2xx`` or an exact code), ``mf:expectedFormat`` (boolean,
tabular, RDF: the answer must parse as such), ``mf:expectedBoolean`` (by
value), the media type and the expected graph (by isomorphism) where given.

- ``protocol/``: all 34 tests against a server with writes enabled (a write
  token, sent with every request), and the query tests and the requests that
  must fail (``bad_*``) against a read-only server.
- ``graph-store-protocol/``: the indirect-identification tests (this server
  names graphs with ``?graph=``; direct identification by path is not
  offered), each on an empty store. ``put_get_default`` is not applicable:
  the default graph is the union of the named graphs and cannot be written
  (405; docs/decisions/0012-endpoint-protocol.md).
- ``service-description/``: its three checks, on the service description.

Set ``KG_CONFORMANCE_DIR`` to the folder holding ``sparql11/``; by default
``../shared/conformance`` next to the repository. Without it the tests skip.
"""

from __future__ import annotations

import csv
import http.client
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
from live_server import PROXY_VARIABLES, live_server  # tests/live_server.py
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.term import Node

from api.main import create_app
from api.settings import ApiSettings
from kg.settings import REPO_ROOT, Settings
from kg.store import open_store

CONFORMANCE = Path(os.environ.get("KG_CONFORMANCE_DIR", REPO_ROOT.parent / "shared" / "conformance"))
SPARQL11 = CONFORMANCE / "sparql11"
MISSING = f"the W3C conformance manifests are not at {SPARQL11} (set KG_CONFORMANCE_DIR; CI has them)"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SPARQL11 / "protocol" / "manifest.ttl").is_file(), reason=MISSING),
]

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
TOKEN = "conformance-token"
#: hts: terms the manifests use for exact codes.
STATUS_NAMES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}
RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
#: The path prefixes of the manifests and this server's routes.
PATHS = {"/sparql/": "/sparql", "/gsp": "/graph-store"}


# --------------------------------------------------------------------------- reading a manifest


@dataclass
class Expected:
    statuses: list[str]
    boolean: bool | None = None
    fmt: str | None = None
    content_type: str | None = None
    body: str | None = None
    location_variable: str | None = None


@dataclass
class Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes | None
    expected: Expected


@dataclass
class ConformanceTest:
    name: str
    iri: str
    data: list[tuple[str, Path]] = field(default_factory=list)  # (graph IRI, N-Triples file)
    requests: list[Request] = field(default_factory=list)


def _items(graph: Graph, head: Node | None) -> list[Node]:
    return list(Collection(graph, head)) if head is not None else []


def _one(graph: Graph, subject: Node, predicate: URIRef) -> Node | None:
    return next(iter(graph.objects(subject, predicate)), None)


def _text(graph: Graph, subject: Node | None, predicate: URIRef) -> str | None:
    value = _one(graph, subject, predicate) if subject is not None else None
    return str(value) if value is not None else None


def _headers(graph: Graph, node: Node) -> list[tuple[str, str]]:
    return [
        (str(_one(graph, h, HT.fieldName)), str(_one(graph, h, HT.fieldValue)))
        for h in _items(graph, _one(graph, node, HT.headers))
    ]


def _body(graph: Graph, node: Node) -> tuple[str, str] | None:
    body = _one(graph, node, HT.body)
    if body is None:
        return None
    return str(_one(graph, body, CNT.chars)), _text(graph, body, CNT.characterEncoding) or "UTF-8"


def read_manifest(path: Path) -> list[ConformanceTest]:
    """The tests of a manifest, in its order (following mf:include)."""
    graph = Graph().parse(path, format="turtle")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for included in _items(graph, _one(graph, manifest, MF.include)):
        tests += read_manifest(Path(urlsplit(str(included)).path))
    for entry in _items(graph, _one(graph, manifest, MF.entries)):
        test = ConformanceTest(name=str(_one(graph, entry, MF.name)), iri=str(entry))
        for data in graph.objects(entry, UT.graphData):
            source = Path(urlsplit(str(_one(graph, data, UT.graph))).path)
            test.data.append((str(_one(graph, data, RDFS.label)), source))
        action = _one(graph, entry, MF.action)
        for node in _items(graph, _one(graph, action, HT.requests)) if action is not None else []:
            response = _one(graph, node, HT.resp)
            assert response is not None
            body = _body(graph, node)
            expected_body = _body(graph, response)
            expected = Expected(
                statuses=[str(s).removeprefix(str(HTS)) for s in graph.objects(response, MF.expectedStatus)],
                boolean=bool(b.toPython())
                if isinstance(b := _one(graph, response, MF.expectedBoolean), Literal)
                else None,
                fmt=_text(graph, response, MF.expectedFormat),
                content_type=dict((k.lower(), v) for k, v in _headers(graph, response)).get("content-type"),
                body=expected_body[0] if expected_body else None,
                location_variable=_text(graph, response, MF.expectedLocation),
            )
            test.requests.append(
                Request(
                    method=str(_one(graph, node, HT.methodName)),
                    path=str(_one(graph, node, HT.absolutePath)),
                    headers=_headers(graph, node),
                    body=body[0].encode(body[1]) if body else None,
                    expected=expected,
                )
            )
        tests.append(test)
    return tests


def ident(test: ConformanceTest) -> str:
    return test.iri.rpartition("#")[2]


# --------------------------------------------------------------------------- replaying a request


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def send(base: str, request: Request, variables: dict[str, str], token: str | None) -> Answer:
    """Send `request` as written (http.client adds only Host, Accept-Encoding and Content-Length)."""
    path = request.path
    for prefix, route in PATHS.items():
        if path.startswith(prefix):
            path = route + path[len(prefix) :]
            break
    body = request.body
    for name, value in variables.items():
        path = path.replace(name, value)
        body = body.replace(name.encode(), value.encode()) if body is not None else None
    netloc = urlsplit(base).netloc
    connection = http.client.HTTPConnection(netloc, timeout=60)
    try:
        connection.putrequest(request.method, path, skip_accept_encoding=True)
        for name, value in request.headers:
            connection.putheader(name, value)
        if token is not None:
            connection.putheader("Authorization", f"Bearer {token}")
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read() if request.method != "HEAD" else b"",
        )
    finally:
        connection.close()


def status_matches(status: int, expected: list[str]) -> bool:
    for name in expected:
        if name.startswith("StatusCode") and name.endswith("xx") and status // 100 == int(name[10]):
            return True
        if STATUS_NAMES.get(name) == status:
            return True
    return False


def _media_type(answer: Answer) -> str:
    return answer.headers.get("content-type", "").split(";")[0].strip().lower()


def _graph(data: bytes, media_type: str) -> Graph:
    rdf_format = ox.RdfFormat.from_media_type(media_type)
    assert rdf_format is not None, f"{media_type!r} is not an RDF media type"
    triples = [q.triple for q in ox.parse(data, rdf_format)]
    return Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"", format="nt")


def check(answer: Answer, expected: Expected) -> None:
    """Assert that `answer` is what the manifest expects."""
    assert status_matches(answer.status, expected.statuses), (
        f"status {answer.status}, expected {expected.statuses}: {answer.body[:300]!r}"
    )
    media_type = _media_type(answer)
    if expected.fmt in ("boolean", "tabular"):
        assert media_type in RESULT_TYPES, f"{media_type} is not a SPARQL results format"
        if media_type == "text/csv":  # lossy, so pyoxigraph does not read it: a header and rows
            assert expected.fmt == "tabular", "CSV has no boolean results"
            rows = list(csv.reader(io.StringIO(answer.body.decode("utf-8"))))
            assert rows and all(len(row) == len(rows[0]) for row in rows), f"not CSV results: {rows!r}"
            return
        parsed = ox.parse_query_results(answer.body, RESULT_TYPES[media_type])
        kind = ox.QueryBoolean if expected.fmt == "boolean" else ox.QuerySolutions
        assert isinstance(parsed, kind), f"expected a {expected.fmt} result, got {type(parsed).__name__}"
        if expected.boolean is not None:
            assert bool(parsed) is expected.boolean
    elif expected.fmt == "RDF":
        _graph(answer.body, media_type)
    if expected.content_type is not None:
        assert media_type == expected.content_type.split(";")[0].strip().lower()
    if expected.body is not None:
        want = expected.content_type.split(";")[0] if expected.content_type else "text/turtle"
        assert isomorphic(_graph(answer.body, media_type), _graph(expected.body.encode(), want))


def run_test(base: str, test: ConformanceTest, token: str | None) -> None:
    variables: dict[str, str] = {}
    for i, request in enumerate(test.requests):
        answer = send(base, request, variables, token)
        try:
            check(answer, request.expected)
        except AssertionError as e:
            raise AssertionError(
                f"{test.name}, request {i + 1} ({request.method} {request.path}): {e}"
            ) from e
        if request.expected.location_variable:
            variables[request.expected.location_variable] = answer.headers["location"]


# --------------------------------------------------------------------------- the servers


def _settings(folder: Path) -> Settings:
    return Settings(store=folder, query_timeout_s=30)


def _load(folder: Path, data: list[tuple[str, Path]]) -> None:
    with open_store(folder) as store:
        for graph_iri, source in dict(data).items():
            store.put_graph(
                graph_iri, [q.triple for q in ox.parse(path=source, format=ox.RdfFormat.N_TRIPLES)]
            )


@pytest.fixture(scope="module")
def clean_environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in PROXY_VARIABLES:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def writable_server(tmp_path_factory: pytest.TempPathFactory, clean_environment: None) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("conformance-rw") / "store"
    _load(folder, [])
    config = _settings(folder)
    app = create_app(settings=config, api_settings=ApiSettings(write_token=TOKEN, query_workers=1))
    with live_server(app, config) as base:
        yield base


@pytest.fixture(scope="module")
def read_only_server(tmp_path_factory: pytest.TempPathFactory, clean_environment: None) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("conformance-ro") / "store"
    _load(folder, [d for test in PROTOCOL for d in test.data])  # the same three graphs for every test
    config = _settings(folder)
    with live_server(create_app(settings=config, api_settings=ApiSettings(query_workers=1)), config) as base:
        yield base


def reset(base: str, data: list[tuple[str, Path]]) -> None:
    """Empty the store and load a test's graphs, over the protocols themselves (with the token)."""
    clear = Request(
        "POST", "/sparql/", [("Content-Type", "application/sparql-update")], b"DROP ALL", Expected([])
    )
    assert send(base, clear, {}, TOKEN).status == 204
    for graph_iri, source in data:
        put = Request(
            "PUT",
            f"/gsp?graph={graph_iri}",
            [("Content-Type", "application/n-triples")],
            source.read_bytes(),
            Expected([]),
        )
        assert send(base, put, {}, TOKEN).status in (201, 204)


# --------------------------------------------------------------------------- the tests


def _manifest(relative: str) -> list[ConformanceTest]:
    path = SPARQL11 / relative
    return read_manifest(path) if path.is_file() else []


PROTOCOL = _manifest("protocol/manifest.ttl")
GRAPH_STORE = _manifest("graph-store-protocol/manifest-indirect.ttl")
NOT_APPLICABLE = {
    "put_get_default": "the default graph is the union of the named graphs and cannot be written (405)",
}


@pytest.mark.parametrize("test", PROTOCOL, ids=ident)
def test_protocol_with_writes_enabled(writable_server: str, test: ConformanceTest) -> None:
    reset(writable_server, test.data)
    run_test(writable_server, test, TOKEN)


@pytest.mark.parametrize("test", [t for t in PROTOCOL if not ident(t).startswith("update_")], ids=ident)
def test_protocol_read_only(read_only_server: str, test: ConformanceTest) -> None:
    run_test(read_only_server, test, None)


@pytest.mark.parametrize("test", [t for t in PROTOCOL if ident(t).startswith("update_")], ids=ident)
def test_protocol_updates_are_refused_when_read_only(read_only_server: str, test: ConformanceTest) -> None:
    answer = send(read_only_server, test.requests[0], {}, None)
    assert answer.status == 403


@pytest.mark.parametrize("test", GRAPH_STORE, ids=ident)
def test_graph_store_protocol(writable_server: str, test: ConformanceTest) -> None:
    if ident(test) in NOT_APPLICABLE:
        pytest.skip(NOT_APPLICABLE[ident(test)])
    reset(writable_server, [])
    run_test(writable_server, test, TOKEN)


def _service_description(base: str, accept: str) -> tuple[Answer, Graph]:
    answer = send(base, Request("GET", "/sparql/", [("Accept", accept)], None, Expected([])), {}, None)
    assert answer.status == 200
    return answer, _graph(answer.body, _media_type(answer))


@pytest.mark.parametrize("accept", ["text/turtle", "application/rdf+xml", "application/ld+json"])
def test_service_description_returns_rdf(read_only_server: str, accept: str) -> None:
    answer, graph = _service_description(read_only_server, accept)
    assert _media_type(answer) == accept
    assert len(graph) > 10


def test_service_description_has_an_endpoint_triple(read_only_server: str) -> None:
    _, graph = _service_description(read_only_server, "text/turtle")
    endpoint = URIRef(f"{read_only_server}/sparql")
    assert (endpoint, SD.endpoint, endpoint) in graph


def test_service_description_conforms_to_the_schema(writable_server: str) -> None:
    """Ranges and classes of the sd: vocabulary (https://www.w3.org/TR/sparql11-service-description/)."""
    _, graph = _service_description(writable_server, "text/turtle")
    [service] = graph.subjects(RDF.type, SD.Service)
    assert {o for o in graph.objects(service, SD.supportedLanguage)} == {SD.SPARQL11Query, SD.SPARQL11Update}
    assert all(isinstance(o, URIRef) for o in graph.objects(service, SD.endpoint))
    features = set(graph.objects(service, SD.feature))
    assert features <= {
        SD.DereferencesURIs,
        SD.UnionDefaultGraph,
        SD.RequiresDataset,
        SD.EmptyGraphs,
        SD.BasicFederatedQuery,
    }
    assert SD.BasicFederatedQuery not in features  # SERVICE is refused
    formats = set(graph.objects(service, SD.resultFormat))
    assert formats and all(str(f).startswith("http://www.w3.org/ns/formats/") for f in formats)
    [dataset] = graph.objects(service, SD.defaultDataset)
    assert (dataset, RDF.type, SD.Dataset) in graph
    [default_graph] = graph.objects(dataset, SD.defaultGraph)
    assert isinstance(default_graph, BNode) and (default_graph, RDF.type, SD.Graph) in graph

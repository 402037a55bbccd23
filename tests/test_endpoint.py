"""The SPARQL endpoint as its clients meet it: protocol details, real clients on a live server,
the service description, limits, writes with a token, and the Graph Store Protocol.

(tests/test_api.py has the basics of the query operation; tests/test_conformance.py the W3C tests.)
"""

from __future__ import annotations

import io
import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from live_server import PROXY_VARIABLES, live_server  # tests/live_server.py
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from api.main import create_app
from api.settings import ApiSettings
from kg.settings import Settings
from kg.store import OxigraphStore, open_store

EX = "http://example.org/"
G1, G2 = EX + "graph/1", EX + "graph/2"
SD = "http://www.w3.org/ns/sparql-service-description#"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# ex:shared is stated by both graphs: the default graph (their union) has it once.
GRAPH_1 = f"""
<{EX}merkel> <{EX}label> "Angela Merkel"@de , "Angela Merkel"@en ; <{EX}meets> <{EX}rutte> .
<{EX}rutte> <{EX}label> "Mark Rutte"@nl .
<{EX}shared> <{EX}p> "both" .
"""
GRAPH_2 = f"""
<{EX}rutte> <{EX}meets> <{EX}scholz> .
<{EX}shared> <{EX}p> "both" .
"""
SELECT = f"SELECT ?who ?whom WHERE {{ ?who <{EX}meets> ?whom }} ORDER BY ?who"
CONSTRUCT = f"CONSTRUCT {{ ?a <{EX}meets> ?b }} WHERE {{ ?a <{EX}meets> ?b }}"
MEETS = Graph().parse(
    data=f"<{EX}merkel> <{EX}meets> <{EX}rutte> .\n<{EX}rutte> <{EX}meets> <{EX}scholz> .\n", format="nt"
)


def fill(store: OxigraphStore) -> OxigraphStore:
    store.replace_article(G1, Graph().parse(data=GRAPH_1, format="turtle"))
    store.replace_article(G2, Graph().parse(data=GRAPH_2, format="turtle"))
    return store


def settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def memory_client() -> Iterator[TestClient]:
    with open_store(None) as store:
        app = create_app(store=fill(store), settings=settings(), api_settings=ApiSettings())
        with TestClient(app) as client:
            yield client


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("endpoint") / "store"
    with open_store(path) as store:
        fill(store)
    return path


@pytest.fixture(scope="module")
def live(folder: Path) -> Iterator[str]:
    """A live server over the persistent store, read-only, queries in killable workers."""
    config = settings(store=folder, query_timeout_s=30, max_query_length=100_000)
    app = create_app(settings=config, api_settings=ApiSettings(query_workers=2))
    with live_server(app, config) as base:
        yield base


# --------------------------------------------------------------------------- real clients, live server


@pytest.mark.slow
def test_sparqlwrapper(live: str, no_proxy: None) -> None:
    from SPARQLWrapper import CSV, JSON, RDFXML, TURTLE, XML, SPARQLWrapper

    endpoint = SPARQLWrapper(f"{live}/sparql")  # sends format=, output= and results= beside Accept
    endpoint.setQuery(SELECT)
    endpoint.setReturnFormat(JSON)
    rows = endpoint.query().convert()["results"]["bindings"]  # type: ignore[index, call-overload]
    assert [(r["who"]["value"], r["whom"]["value"]) for r in rows] == [
        (EX + "merkel", EX + "rutte"),
        (EX + "rutte", EX + "scholz"),
    ]
    endpoint.setReturnFormat(XML)
    xml = endpoint.query().convert()
    assert [n.firstChild.data for n in xml.getElementsByTagName("uri")][:2] == [EX + "merkel", EX + "rutte"]  # type: ignore[union-attr]
    endpoint.setReturnFormat(CSV)
    assert endpoint.query().convert().decode().splitlines()[1] == f"{EX}merkel,{EX}rutte"  # type: ignore[union-attr]
    endpoint.setQuery(CONSTRUCT)
    for fmt, parse_as in ((TURTLE, "turtle"), (RDFXML, "xml")):
        endpoint.setReturnFormat(fmt)
        # The raw answer: SPARQLWrapper's convert() of RDF/XML makes a deprecated rdflib ConjunctiveGraph.
        raw = endpoint.query().response.read()
        assert isomorphic(Graph().parse(data=raw, format=parse_as), MEETS)


@pytest.mark.slow
def test_rdflib_sparqlstore(live: str, no_proxy: None) -> None:
    """rdflib's SPARQLStore asks for 'application/rdf+xml, application/sparql-results+xml'."""
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    remote = Graph(store=SPARQLStore(query_endpoint=f"{live}/sparql"))
    rows = [(str(r[0]), str(r[1])) for r in remote.query(SELECT)]  # type: ignore[index]
    assert rows == [(EX + "merkel", EX + "rutte"), (EX + "rutte", EX + "scholz")]
    assert remote.query(f"ASK {{ <{EX}merkel> <{EX}meets> <{EX}rutte> }}").askAnswer is True
    constructed = remote.query(CONSTRUCT).graph
    assert constructed is not None and isomorphic(constructed, MEETS)
    # Its triples() asks a SELECT; the shared triple comes back once (the default graph is the union).
    assert len(list(remote.triples((URIRef(EX + "shared"), None, None)))) == 1
    request = urllib.request.Request(
        f"{live}/sparql?query={quote(SELECT)}",
        headers={"Accept": "application/rdf+xml, application/sparql-results+xml"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"].startswith("application/sparql-results+xml")


@pytest.mark.slow
def test_pandas_read_csv_without_accept_gets_csv_rows(live: str, no_proxy: None) -> None:
    """pandas.read_csv(url) sends no Accept header: a SELECT answers CSV, one row per solution."""
    import pandas as pd

    frame = pd.read_csv(f"{live}/sparql?query={quote(SELECT)}")
    assert list(frame.columns) == ["who", "whom"]
    assert frame.values.tolist() == [[EX + "merkel", EX + "rutte"], [EX + "rutte", EX + "scholz"]]
    with urllib.request.urlopen(f"{live}/sparql?query={quote(SELECT)}") as response:  # no Accept either
        assert response.headers["Content-Type"].startswith("text/csv")
    ask = f"ASK {{ <{EX}rutte> ?p ?o }}"
    with urllib.request.urlopen(f"{live}/sparql?query={quote(ask)}") as response:  # no CSV for booleans
        assert json.load(response) == {"head": {}, "boolean": True}


@pytest.mark.slow
def test_yasgui_accept_and_cors(live: str, no_proxy: None) -> None:
    import httpx

    origin = {"Origin": "https://yasgui.example"}
    with httpx.Client(base_url=live, trust_env=False) as client:
        preflight = client.options(
            "/sparql",
            headers=origin
            | {
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,accept",
            },
        )
        assert preflight.status_code == 200
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert preflight.headers["access-control-allow-origin"] == "*"
        yasgui = "application/sparql-results+json,*/*;q=0.9"
        response = client.post("/sparql", data={"query": SELECT}, headers=origin | {"Accept": yasgui})
        assert response.headers["content-type"] == "application/sparql-results+json"
        assert response.headers["access-control-allow-origin"] == "*"
        assert len(response.json()["results"]["bindings"]) == 2
        graph = client.post(
            "/sparql", data={"query": CONSTRUCT}, headers=origin | {"Accept": "text/turtle,*/*;q=0.9"}
        )
        assert graph.headers["content-type"].startswith("text/turtle")
        assert isomorphic(Graph().parse(data=graph.text, format="turtle"), MEETS)


@pytest.mark.slow
def test_190_kb_get_query_gets_414_not_a_reset(live: str, no_proxy: None) -> None:
    query = "ASK { ?s ?p ?o }" + "#" + "x" * 190_000
    target = f"/sparql?query={quote(query)}"
    host, port = live.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 414"), status_line
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["error"] == "query_too_long"
    assert "the limit is 100000" in body["detail"]


@pytest.mark.slow
def test_get_query_over_64_kib_is_answered(live: str, no_proxy: None) -> None:
    """httptools parses URLs of at most 64 KiB; a longer GET query within KG_MAX_QUERY_LENGTH is
    still answered (`api.server.BoundedHttpToolsProtocol` splits its query string off)."""
    values = " ".join(f"<{EX}n{i}>" for i in range(3000))
    query = f"SELECT (COUNT(?x) AS ?n) WHERE {{ VALUES ?x {{ {values} }} }}"
    assert len(quote(query)) > 65_536 and len(query) < 100_000
    response = urllib.request.urlopen(f"{live}/sparql?query={quote(query)}&format=csv", timeout=30)
    assert response.read().decode().splitlines() == ["n", "3000"]


def test_request_head_over_the_bound_gets_414() -> None:
    """A request line past uvicorn's bound is answered 414 in JSON and the connection closed, before
    the rest is read (uvicorn itself bounds only h11, not httptools)."""
    import asyncio

    import uvicorn
    from uvicorn.server import ServerState

    from api.server import BoundedHttpToolsProtocol

    class Transport(asyncio.Transport):
        def __init__(self) -> None:
            super().__init__()
            self.written, self.closed = b"", False

        def get_extra_info(self, name: str, default: Any = None) -> Any:
            return ("127.0.0.1", 8000) if name in ("sockname", "peername") else default

        def write(self, data: bytes | bytearray | memoryview) -> None:
            self.written += bytes(data)

        def close(self) -> None:
            self.closed = True

        def is_closing(self) -> bool:
            return self.closed

    with open_store(None) as store:
        config = uvicorn.Config(create_app(store=store, settings=settings()), http=BoundedHttpToolsProtocol)
        config.h11_max_incomplete_event_size = 10_000
        config.load()
        loop = asyncio.new_event_loop()
        try:
            protocol = BoundedHttpToolsProtocol(config, ServerState(), {}, _loop=loop)
            transport = Transport()
            protocol.connection_made(transport)
            protocol.data_received(b"GET /sparql?query=" + b"x" * 6000)
            assert not transport.closed and transport.written == b""  # within the bound: still reading
            protocol.data_received(b"x" * 6000)
            assert transport.closed
            head, _, body = transport.written.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 414 ")
            assert json.loads(body)["error"] == "too_large"
            assert "POST" in json.loads(body)["detail"]
        finally:
            loop.close()


@pytest.mark.slow
def test_timeout_stops_the_query_and_frees_the_worker(tmp_path: Path, no_proxy: None) -> None:
    import httpx

    folder = tmp_path / "big"
    with open_store(folder) as store:
        graph = Graph()
        for i in range(1500):
            graph.add((URIRef(f"urn:x:s{i}"), URIRef("urn:x:p"), Literal(i)))
        store.replace_article(G1, graph)
    config = settings(store=folder, query_timeout_s=2)
    app = create_app(settings=config, api_settings=ApiSettings(query_workers=1))
    with live_server(app, config) as base, httpx.Client(base_url=base, trust_env=False, timeout=60) as client:
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
        [worker] = app.state.store.worker_pids
        started = time.monotonic()
        slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"
        response = client.get("/sparql", params={"query": slow})
        assert response.status_code == 503
        assert "limit of 2 s" in response.json()["detail"]
        assert time.monotonic() - started < 6
        assert worker not in app.state.store.worker_pids  # killed, not left computing
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


# --------------------------------------------------------------------------- protocol details


def test_union_default_graph_states_a_triple_once(memory_client: TestClient) -> None:
    query = f"SELECT ?o WHERE {{ <{EX}shared> <{EX}p> ?o }}"
    assert memory_client.get("/sparql", params={"query": query, "format": "csv"}).text.splitlines() == [
        "o",
        "both",
    ]
    named = f"SELECT ?g WHERE {{ GRAPH ?g {{ <{EX}shared> <{EX}p> ?o }} }} ORDER BY ?g"
    assert memory_client.get("/sparql", params={"query": named, "format": "csv"}).text.splitlines() == [
        "g",
        G1,
        G2,
    ]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/trig", "application/trig"),
        ("application/n-quads", "application/n-quads"),
        ("application/rdf+xml;q=0.9, text/turtle;q=0.5", "application/rdf+xml"),
        ("application/*", "application/n-triples"),
        ("*/*", "text/turtle"),
        ("application/n-quads;q=0.2, application/trig;q=0.3", "application/trig"),
    ],
)
def test_graph_negotiation(memory_client: TestClient, accept: str, media_type: str) -> None:
    response = memory_client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    quads = list(ox.parse(response.content, ox.RdfFormat.from_media_type(media_type)))
    assert all(isinstance(q.graph_name, ox.DefaultGraph) for q in quads)
    graph = Graph().parse(
        data=ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES), format="nt"
    )
    assert isomorphic(graph, MEETS)


def test_format_keywords_for_datasets(memory_client: TestClient) -> None:
    trig = memory_client.get("/sparql", params={"query": CONSTRUCT, "format": "trig"})
    assert trig.headers["content-type"] == "application/trig"
    assert memory_client.get("/sparql", params={"query": SELECT, "format": "trig"}).status_code == 406


def test_malformed_query_quotes_message_and_position(memory_client: TestClient) -> None:
    response = memory_client.get("/sparql", params={"query": "SELECT ?x WHERE {\n  ?x ?p \n}"})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "error at 3:" in detail
    assert "(line 3: '}')" in detail


def test_relative_iris_resolve_against_the_endpoint(memory_client: TestClient) -> None:
    response = memory_client.get(
        "/sparql", params={"query": "CONSTRUCT { <s> <p> 1 } WHERE {}", "format": "ntriples"}
    )
    assert response.text.startswith("<http://testserver/s> <http://testserver/p> ")


def test_service_description(memory_client: TestClient) -> None:
    endpoint = "http://testserver/sparql"
    for accept, parse_as in (
        ("text/turtle", "turtle"),
        ("application/rdf+xml", "xml"),
        ("application/n-triples", "nt"),
        (None, "turtle"),
    ):
        response = memory_client.get("/sparql", headers={"Accept": accept} if accept else {})
        assert response.status_code == 200
        graph = Graph().parse(data=response.content, format=parse_as)
        service = URIRef(endpoint)
        assert (service, URIRef(SD + "endpoint"), service) in graph
        assert (service, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in graph
        assert (service, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Update")) not in graph
        assert (service, URIRef(SD + "feature"), URIRef(SD + "UnionDefaultGraph")) in graph
    jsonld = memory_client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"] == "application/ld+json"
    quads = list(ox.parse(jsonld.content, ox.RdfFormat.JSON_LD))
    assert (
        ox.Quad(
            ox.NamedNode(endpoint), ox.NamedNode(SD + "endpoint"), ox.NamedNode(endpoint), ox.DefaultGraph()
        )
        in quads
    )


def test_max_results_in_process() -> None:
    with open_store(None) as store:
        app = create_app(store=fill(store), settings=settings(max_results=2))
        with TestClient(app) as client:
            _check_max_results(client)


def test_max_results_in_a_worker(folder: Path) -> None:
    config = settings(store=folder, max_results=2, query_timeout_s=30)
    with TestClient(create_app(settings=config, api_settings=ApiSettings(query_workers=1))) as client:
        _check_max_results(client)


def _check_max_results(client: TestClient) -> None:
    two = client.get("/sparql", params={"query": SELECT, "format": "csv"})
    assert two.status_code == 200 and len(two.text.splitlines()) == 3
    everything = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert everything.status_code == 400
    assert everything.json()["error"] == "too_many_results"
    assert "more than 2 rows" in everything.json()["detail"]
    assert "LIMIT" in everything.json()["detail"]
    graph = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
    assert graph.json()["error"] == "too_many_results"
    assert "more than 2 triples" in graph.json()["detail"]
    assert client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 2"}).status_code == 200


# --------------------------------------------------------------------------- writes


def test_writes_are_refused_without_a_configured_token(memory_client: TestClient) -> None:
    update = f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}b> <{EX}c> }} }}"
    responses = [
        memory_client.post("/sparql", data={"update": update}, headers=AUTH),
        memory_client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"}),
        memory_client.put(
            "/graph-store", params={"graph": G1}, content=b"", headers={"Content-Type": "text/turtle"}
        ),
        memory_client.delete("/graph-store", params={"graph": G1}, headers=AUTH),
    ]
    for response in responses:
        assert response.status_code == 403
        assert "KG_API_WRITE_TOKEN" in response.json()["detail"]
    assert memory_client.get("/graph-store", params={"graph": G1}).status_code == 200


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    """The service over a writable persistent store (a write token is configured), queries in workers."""
    folder = tmp_path / "store"
    with open_store(folder) as store:
        fill(store)
    config = settings(store=folder, query_timeout_s=30)
    app = create_app(settings=config, api_settings=ApiSettings(write_token=TOKEN, query_workers=1))
    with TestClient(app) as client:
        yield client, app


def ask(client: TestClient, query: str) -> bool:
    response = client.get(
        "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["boolean"])


def count(client: TestClient, pattern: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"
    return int(client.get("/sparql", params={"query": query, "format": "csv"}).text.splitlines()[1])


def test_update_needs_the_token(writable: tuple[TestClient, Any]) -> None:
    client, _ = writable
    update = f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}b> <{EX}c> }} }}"
    missing = client.post("/sparql", data={"update": update})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["error"] == "unauthorized"
    wrong = client.post("/sparql", data={"update": update}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert not ask(client, f"ASK {{ <{EX}a> <{EX}b> <{EX}c> }}")


def test_updates_keep_the_union_and_the_workers_up_to_date(writable: tuple[TestClient, Any]) -> None:
    client, app = writable
    assert ask(client, f"ASK {{ <{EX}shared> ?p ?o }}")  # starts the worker on the store as it is
    [worker] = app.state.store.worker_pids
    insert = f'INSERT DATA {{ GRAPH <{G2}> {{ <{EX}scholz> <{EX}label> "Olaf Scholz" }} }}'
    assert client.post("/sparql", data={"update": insert}, headers=AUTH).status_code == 204
    assert ask(client, f'ASK {{ <{EX}scholz> <{EX}label> "Olaf Scholz" }}')  # in the default graph at once
    assert app.state.store.worker_pids == [worker]  # the same worker, reopened on the new generation
    # Delete the shared triple from one graph: it stays in the union; from both: it leaves it.
    delete_1 = f'DELETE DATA {{ GRAPH <{G1}> {{ <{EX}shared> <{EX}p> "both" }} }}'
    response = client.post(
        "/sparql", content=delete_1, headers=AUTH | {"Content-Type": "application/sparql-update"}
    )
    assert response.status_code == 204
    assert count(client, f"<{EX}shared> <{EX}p> ?o") == 1
    delete_2 = f"DELETE WHERE {{ GRAPH <{G2}> {{ <{EX}shared> ?p ?o }} }}"
    assert client.post("/sparql", data={"update": delete_2}, headers=AUTH).status_code == 204
    assert count(client, f"<{EX}shared> ?p ?o") == 0
    # A template over GRAPH ?g touches graphs the data decides; the union follows all the same.
    tag = f"INSERT {{ GRAPH ?g {{ ?s <{EX}seenIn> ?g }} }} WHERE {{ GRAPH ?g {{ ?s <{EX}meets> ?o }} }}"
    assert client.post("/sparql", data={"update": tag}, headers=AUTH).status_code == 204
    assert count(client, f"?s <{EX}seenIn> ?g") == 2
    assert count(client, "?s ?p ?o") == count(
        client, "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    )


def test_update_refusals(writable: tuple[TestClient, Any]) -> None:
    client, _ = writable
    cases = {
        f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> }}": "default graph",
        "CLEAR DEFAULT": "default graph",
        f"ADD <{G1}> TO DEFAULT": "default graph",
        f"LOAD <http://127.0.0.1:9/data.ttl> INTO GRAPH <{G1}>": "fetch a URL",
        f"INSERT {{ GRAPH <{G1}> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{EX}q> {{ ?s ?p ?o }} }}": "network",
    }
    for update, reason in cases.items():
        response = client.post("/sparql", data={"update": update}, headers=AUTH)
        assert response.status_code == 400, update
        assert reason in response.json()["detail"], update
    malformed = client.post("/sparql", data={"update": "CLEAR XYZ"}, headers=AUTH)
    assert malformed.status_code == 400
    assert "error at 1:" in malformed.json()["detail"]
    assert client.get("/sparql", params={"update": "CLEAR ALL"}, headers=AUTH).status_code == 400
    assert count(client, "?s ?p ?o") == 6


def test_graph_store_protocol(writable: tuple[TestClient, Any]) -> None:
    client, _ = writable
    new = EX + "graph/new"
    turtle = f'<{EX}a> <{EX}b> [ <{EX}c> "blank" ] .'
    put = client.put(
        "/graph-store", params={"graph": new}, content=turtle, headers=AUTH | {"Content-Type": "text/turtle"}
    )
    assert put.status_code == 201
    got = client.get("/graph-store", params={"graph": new}, headers={"Accept": "text/turtle"})
    assert got.headers["content-type"].startswith("text/turtle")
    assert isomorphic(
        Graph().parse(data=got.text, format="turtle"), Graph().parse(data=turtle, format="turtle")
    )
    assert client.head("/graph-store", params={"graph": new}).status_code == 200
    assert client.head("/graph-store", params={"graph": EX + "missing"}).status_code == 404
    again = client.put(
        "/graph-store", params={"graph": new}, content=turtle, headers=AUTH | {"Content-Type": "text/turtle"}
    )
    assert again.status_code == 204
    assert count(client, f'?x <{EX}c> "blank"') == 1  # replaced, not duplicated, in the union too
    nt = f"<{EX}a> <{EX}d> <{EX}e> .\n"
    post = client.post(
        "/graph-store",
        params={"graph": new},
        content=nt,
        headers=AUTH | {"Content-Type": "application/n-triples"},
    )
    assert post.status_code == 204
    assert count(client, f"GRAPH <{new}> {{ ?s ?p ?o }}") == 3
    union = client.get("/graph-store", params={"default": ""}, headers={"Accept": "application/n-triples"})
    assert f"<{EX}a> <{EX}d> <{EX}e> ." in union.text
    dataset = client.get("/graph-store")
    assert dataset.headers["content-type"] == "application/trig"
    graphs = {q.graph_name for q in ox.parse(dataset.content, ox.RdfFormat.TRIG)}
    assert graphs == {ox.NamedNode(G1), ox.NamedNode(G2), ox.NamedNode(new)}
    assert client.get("/graph-store", headers={"Accept": "text/turtle"}).status_code == 406
    for method in ("put", "post", "delete"):
        refused = client.request(
            method.upper(),
            "/graph-store?default",
            content=nt,
            headers=AUTH | {"Content-Type": "application/n-triples"},
        )
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, HEAD"
    bad = client.put(
        "/graph-store",
        params={"graph": new},
        content="<a> <b>",
        headers=AUTH | {"Content-Type": "text/turtle"},
    )
    assert bad.status_code == 400
    assert (
        client.put(
            "/graph-store", params={"graph": new}, content=nt, headers=AUTH | {"Content-Type": "image/png"}
        ).status_code
        == 415
    )
    created = client.post(
        "/graph-store", content=nt, headers=AUTH | {"Content-Type": "application/n-triples"}
    )
    assert created.status_code == 201
    assert client.get("/graph-store", params={"graph": created.headers["location"]}).status_code == 200
    assert client.delete("/graph-store", params={"graph": new}, headers=AUTH).status_code == 204
    assert client.get("/graph-store", params={"graph": new}).status_code == 404
    assert client.delete("/graph-store", params={"graph": new}, headers=AUTH).status_code == 404
    assert count(client, f"<{EX}a> ?p ?o") == 1  # only the POSTed graph's triple is left
    assert (
        client.put(
            "/graph-store", params={"graph": new}, content=nt, headers={"Content-Type": "text/turtle"}
        ).status_code
        == 401
    )


@pytest.mark.slow
def test_rdflib_sparqlupdatestore_writes_with_the_token(tmp_path: Path, no_proxy: None) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLUpdateStore

    folder = tmp_path / "store"
    with open_store(folder) as store:
        fill(store)
    config = settings(store=folder, query_timeout_s=30)
    app = create_app(settings=config, api_settings=ApiSettings(write_token=TOKEN, query_workers=1))
    with live_server(app, config) as base:
        remote = SPARQLUpdateStore(
            query_endpoint=f"{base}/sparql", update_endpoint=f"{base}/sparql", headers=AUTH
        )
        remote.update(f'INSERT DATA {{ GRAPH <{G1}> {{ <{EX}x> <{EX}y> "z" }} }}')
        answer = remote.query(f"SELECT ?o WHERE {{ <{EX}x> <{EX}y> ?o }}")
        assert [str(row[0]) for row in answer] == ["z"]  # type: ignore[index]
        out = io.BytesIO()
        app.state.store.dump_graph(G1, "ntriples", out)
        assert f'<{EX}x> <{EX}y> "z" .' in out.getvalue().decode()

"""The SPARQL service: protocol, content negotiation, errors, and a real server queried by SPARQLWrapper."""

from __future__ import annotations

import csv
import io
import json
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
from api.routes.sparql import negotiate, parse_accept
from api.settings import ApiSettings
from kg.settings import Settings
from kg.store import OxigraphStore, open_store

B = "https://w3id.org/newskg/id/"
ARTICLE = """\
@prefix kg: <https://w3id.org/newskg/ontology#> .
@prefix schema: <https://schema.org/> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .

<https://w3id.org/newskg/id/article/a1> a schema:NewsArticle ;
  kg:fileName "001_a1.txt" ;
  schema:headline "Deutschland unterstützt die Ukraine" ;
  schema:datePublished "2024-12-04"^^xsd:date ;
  schema:inLanguage "de" ;
  schema:text "Deutschland unterstützt die Ukraine." ;
  kg:textLength 36 ;
  kg:contentHash "h1" ;
  kg:extractorVersion "newskg-rules-0.1.0" ;
  schema:mentions wd:Q183 , wd:Q212 .
wd:Q183 a kg:Country ; rdfs:label "Deutschland"@de , "Germany"@en ; kg:wikidataId "Q183" .
wd:Q212 a kg:Country ; rdfs:label "Ukraine"@de ; kg:wikidataId "Q212" .
<https://w3id.org/newskg/id/statement/a1/0001> a kg:Statement ;
  kg:subject wd:Q183 ; kg:relation kg:supports ; kg:object wd:Q212 ;
  kg:modality kg:Asserted ; kg:confidence "0.8"^^xsd:decimal ;
  kg:evidenceText "Deutschland unterstützt die Ukraine." ; kg:beginIndex 0 ; kg:endIndex 36 ;
  kg:article <https://w3id.org/newskg/id/article/a1> ;
  prov:wasDerivedFrom <https://w3id.org/newskg/id/article/a1> ;
  kg:extractorVersion "newskg-rules-0.1.0" .
wd:Q183 kg:supports wd:Q212 .
"""
GRAPH = B + "graph/a1"
OTHER = B + "graph/a2"
SELECT = "SELECT ?label WHERE { wd:Q183 rdfs:label ?label } ORDER BY ?label"
ASK = "ASK { wd:Q183 kg:supports wd:Q212 }"
CONSTRUCT = "CONSTRUCT { ?s kg:supports ?o } WHERE { ?s kg:supports ?o }"
SUPPORTS = Graph().parse(
    data="<http://www.wikidata.org/entity/Q183> <https://w3id.org/newskg/ontology#supports> "
    "<http://www.wikidata.org/entity/Q212> .",
    format="nt",
)


def load(store: OxigraphStore) -> OxigraphStore:
    store.replace_article(GRAPH, Graph().parse(data=ARTICLE, format="turtle"))
    other = Graph()
    other.add((URIRef(B + "article/a2"), URIRef("https://schema.org/headline"), Literal("Zweiter")))
    store.replace_article(OTHER, other)
    return store


@pytest.fixture
def store() -> Iterator[OxigraphStore]:
    with open_store(None) as opened:
        yield load(opened)


def settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


@pytest.fixture
def client(store: OxigraphStore) -> Iterator[TestClient]:
    app = create_app(store=store, settings=settings(max_query_length=2000), api_settings=ApiSettings())
    with TestClient(app) as test_client:
        yield test_client


def labels(response_json: dict[str, Any]) -> list[str]:
    return [b["label"]["value"] for b in response_json["results"]["bindings"]]


# --------------------------------------------------------------------------- the three ways to ask


def test_get_select_defaults_to_json(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": SELECT})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/sparql-results+json"
    assert labels(response.json()) == ["Deutschland", "Germany"]


def test_post_form(client: TestClient) -> None:
    response = client.post("/sparql", data={"query": SELECT})
    assert response.status_code == 200
    assert labels(response.json()) == ["Deutschland", "Germany"]


def test_post_sparql_query_body(client: TestClient) -> None:
    response = client.post(
        "/sparql",
        content=SELECT.encode(),
        headers={"Content-Type": "application/sparql-query; charset=utf-8"},
    )
    assert response.status_code == 200
    assert labels(response.json()) == ["Deutschland", "Germany"]


# --------------------------------------------------------------------------- formats and negotiation


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.5, text/tab-separated-values;q=0.9", "text/tab-separated-values"),
        ("text/*;q=0.9, application/sparql-results+json;q=0.1", "text/csv"),
        ("application/json", "application/sparql-results+json"),
        ("text/html, application/xhtml+xml, */*;q=0.8", "application/sparql-results+json"),
        ("application/sparql-results+json;q=0, */*;q=0.1", "application/sparql-results+xml"),
    ],
)
def test_select_negotiation(client: TestClient, accept: str | None, media_type: str) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/sparql", params={"query": SELECT}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in response.headers["vary"]


def test_select_bodies(client: TestClient) -> None:
    xml = client.get("/sparql", params={"query": SELECT, "format": "xml"}).text
    assert '<literal xml:lang="en">Germany</literal>' in xml
    rows = list(
        csv.reader(io.StringIO(client.get("/sparql", params={"query": SELECT, "format": "csv"}).text))
    )
    assert rows == [["label"], ["Deutschland"], ["Germany"]]
    tsv = client.get("/sparql", params={"query": SELECT, "format": "tsv"}).text.splitlines()
    assert tsv == ["?label", '"Deutschland"@de', '"Germany"@en']


def test_ask_formats(client: TestClient) -> None:
    assert client.get("/sparql", params={"query": ASK}).json() == {"head": {}, "boolean": True}
    xml = client.get("/sparql", params={"query": ASK}, headers={"Accept": "application/sparql-results+xml"})
    assert "<boolean>true</boolean>" in xml.text


@pytest.mark.parametrize(
    ("accept", "fmt", "media_type", "parse_as"),
    [
        (None, None, "text/turtle", "turtle"),
        ("application/n-triples", None, "application/n-triples", "nt"),
        ("application/ld+json", None, "application/ld+json", "json-ld"),
        ("application/rdf+xml", None, "application/rdf+xml", "xml"),
        ("application/turtle,text/turtle", None, "text/turtle", "turtle"),
        (None, "ntriples", "application/n-triples", "nt"),
        (None, "xml", "application/rdf+xml", "xml"),
        (None, "json", "application/ld+json", "json-ld"),
        ("text/turtle", "application/n-triples", "application/n-triples", "nt"),
    ],
)
def test_construct_formats(
    client: TestClient, accept: str | None, fmt: str | None, media_type: str, parse_as: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    params = {"query": CONSTRUCT} | ({"format": fmt} if fmt else {})
    response = client.get("/sparql", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    if parse_as == "json-ld":  # rdflib's JSON-LD parser warns (ConjunctiveGraph); read it with pyoxigraph
        nt = ox.serialize(
            (q.triple for q in ox.parse(response.content, ox.RdfFormat.JSON_LD)),
            format=ox.RdfFormat.N_TRIPLES,
        )
        graph = Graph().parse(data=nt, format="nt")
    else:
        graph = Graph().parse(data=response.content, format=parse_as)
    assert isomorphic(graph, SUPPORTS)


def test_describe(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "DESCRIBE wd:Q212"})
    assert response.headers["content-type"].startswith("text/turtle")
    assert len(Graph().parse(data=response.text, format="turtle")) == 3


def test_format_override_and_sparqlwrapper_extras(client: TestClient) -> None:
    params = {"query": SELECT, "format": "csv", "output": "csv", "results": "csv"}
    response = client.get("/sparql", params=params, headers={"Accept": "application/sparql-results+json"})
    assert response.headers["content-type"].startswith("text/csv")
    by_type = client.get("/sparql", params={"query": SELECT, "format": "text/tab-separated-values"})
    assert by_type.headers["content-type"].startswith("text/tab-separated-values")


def test_not_acceptable(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": SELECT}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.json()["error"] == "not_acceptable"
    assert "text/csv" in response.json()["detail"]
    wrong = client.get("/sparql", params={"query": CONSTRUCT, "format": "csv"})
    assert wrong.status_code == 406
    unknown = client.get("/sparql", params={"query": SELECT, "format": "yaml"})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "unknown_format"


def test_accept_parsing() -> None:
    assert parse_accept("text/csv;q=0.5, */*;q=x, application/json") == [
        ("text", "csv", 0.5),
        ("application", "json", 1.0),
    ]
    offers = (("text/csv", "csv"), ("text/tab-separated-values", "tsv"), ("text/plain", "csv"))
    assert negotiate("", offers) == "csv"
    assert negotiate("text/tab-separated-values", offers) == "tsv"
    assert negotiate("text/*;q=0.5, text/tab-separated-values;q=0.4", offers) == "csv"
    assert negotiate("text/plain", offers) == "csv"  # an alias named exactly
    assert negotiate("text/csv;q=0, text/*;q=0.5", offers) == "tsv"  # not brought back by the alias
    assert negotiate("image/png", offers) is None


# --------------------------------------------------------------------------- the dataset


def test_dataset_parameters(client: TestClient) -> None:
    query = "SELECT ?h WHERE { ?a schema:headline ?h }"
    both = client.get("/sparql", params={"query": query, "format": "csv"}).text.splitlines()
    assert sorted(both[1:]) == ["Deutschland unterstützt die Ukraine", "Zweiter"]
    only = client.get("/sparql", params={"query": query, "format": "csv", "default-graph-uri": OTHER})
    assert only.text.splitlines() == ["h", "Zweiter"]
    named = client.get(
        "/sparql",
        params=[
            ("query", "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"),
            ("named-graph-uri", GRAPH),
            ("named-graph-uri", OTHER),
            ("format", "csv"),
        ],
    )
    assert named.text.splitlines() == ["g", GRAPH, OTHER]
    # Only named graphs given: the default graph is empty (SPARQL 1.1 Protocol §2.1.4).
    empty = client.get("/sparql", params={"query": query, "named-graph-uri": GRAPH, "format": "csv"})
    assert empty.text.splitlines() == ["h"]
    form = client.post("/sparql", data={"query": query, "default-graph-uri": OTHER, "format": "csv"})
    assert form.text.splitlines() == ["h", "Zweiter"]
    bad = client.get("/sparql", params={"query": query, "default-graph-uri": "not an iri"})
    assert bad.status_code == 400


# --------------------------------------------------------------------------- errors


def test_updates_are_refused(client: TestClient, store: OxigraphStore) -> None:
    update = "DELETE WHERE { ?s ?p ?o }"
    for response in (
        client.post("/sparql", data={"update": update}),
        client.get("/sparql", params={"update": update}),
        client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"}),
        client.post("/sparql", data={"query": update}),
        client.get("/sparql", params={"query": "PREFIX ex: <urn:x:> INSERT DATA { ex:a ex:b ex:c }"}),
    ):
        assert response.status_code == 403
        assert response.json()["error"] == "read_only"
        assert "this endpoint is read-only" in response.json()["detail"]
    assert store.stats().articles == 2


def test_service_is_refused(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "query_refused"
    assert "network" in response.json()["detail"]


def test_malformed_query_quotes_the_parser(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_query"
    assert "error at 1:" in response.json()["detail"]


def test_missing_query_and_bad_requests(client: TestClient) -> None:
    # GET without a query describes the service (tests/test_endpoint.py); a POST without one is an error.
    assert client.post("/sparql", data={"format": "json"}).status_code == 400
    assert client.post("/sparql", data={"format": "json"}).json()["error"] == "missing_query"
    twice = client.get("/sparql", params=[("query", ASK), ("query", ASK)])
    assert twice.status_code == 400
    unsupported = client.post("/sparql", content=b"{}", headers={"Content-Type": "application/json"})
    assert unsupported.status_code == 415
    latin1 = client.post(
        "/sparql",
        content="ASK { ?s ?p 'ä' }".encode("latin-1"),
        headers={"Content-Type": "application/sparql-query"},
    )
    assert latin1.status_code == 400


def test_too_long(client: TestClient) -> None:
    long_query = "ASK {}" + " " * 2000
    get = client.get("/sparql?query=" + quote(long_query))
    assert get.status_code == 414
    assert "limit is 2000" in get.json()["detail"]
    assert client.post("/sparql", data={"query": long_query}).status_code == 413
    body = client.post("/sparql", content=long_query, headers={"Content-Type": "application/sparql-query"})
    assert body.status_code == 413
    huge = client.post("/sparql", content=" " * 100_000, headers={"Content-Type": "application/sparql-query"})
    assert huge.status_code == 413


def test_timeout_is_503_naming_the_limit() -> None:
    with open_store(None) as store:
        graph = Graph()
        for i in range(2000):
            graph.add((URIRef(f"urn:x:s{i}"), URIRef("urn:x:p"), Literal(i)))
        store.replace_article(GRAPH, graph)
        # Without a result limit: the 4 million rows would otherwise stop it as too many results first.
        app = create_app(store=store, settings=settings(query_timeout_s=0.2, max_results=10**9))
        with TestClient(app) as client:
            response = client.get("/sparql", params={"query": "SELECT * { ?a ?b ?c . ?d ?e ?f }"})
    assert response.status_code == 503
    assert response.json()["error"] == "query_timeout"
    assert "limit of 0.2 s" in response.json()["detail"]


def test_cors(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": ASK}, headers={"Origin": "https://yasgui.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/sparql",
        headers={
            "Origin": "https://yasgui.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_index_and_health(client: TestClient) -> None:
    index = client.get("/").json()
    assert index["sparql"] == "http://testserver/sparql"
    example = client.get(index["example"])
    assert example.status_code == 200
    assert example.json()["head"]["vars"] == ["who", "whom", "statements"]
    assert index["ui"] == "http://testserver/ui/"
    assert client.get(index["ui"]).status_code == 200
    assert client.get("/health").json() == {"status": "ok"}


def test_sparql_get_and_post_are_two_operations(client: TestClient) -> None:
    """Each method of /sparql has its own operation id (no "Duplicate Operation ID" warning: the
    test suite turns warnings into errors)."""
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/sparql"]["get"]["operationId"] == "sparql_get"
    assert paths["/sparql"]["post"]["operationId"] == "sparql_post"
    assert client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


# --------------------------------------------------------------------------- the persistent store


def test_app_opens_the_persistent_store_read_only(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    with open_store(folder) as store:
        load(store)
    app = create_app(
        settings=settings(store=folder, query_timeout_s=30), api_settings=ApiSettings(query_workers=1)
    )
    with TestClient(app) as client:
        response = client.get("/sparql", params={"query": ASK})
        assert response.json()["boolean"] is True
        assert app.state.store.read_only is True
        assert len(app.state.store.worker_pids) == 1  # the query ran in a killable worker
        stopped = app.state.store
    assert stopped.worker_pids == []


def test_app_says_when_there_is_no_store(tmp_path: Path) -> None:
    app = create_app(settings=settings(store=tmp_path / "missing"))
    with pytest.raises(Exception, match="no store at"), TestClient(app):
        pass


# --------------------------------------------------------------------------- a real server


@pytest.mark.slow
def test_live_server_with_sparqlwrapper(store: OxigraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with live_server(create_app(store=store), settings()) as base:  # as `kg serve` runs uvicorn
        endpoint = SPARQLWrapper(f"{base}/sparql")

        endpoint.setQuery(SELECT)
        endpoint.setReturnFormat(JSON)
        selected = endpoint.query().convert()
        assert isinstance(selected, dict) and labels(selected) == ["Deutschland", "Germany"]

        endpoint.setQuery(ASK)
        asked = endpoint.query().convert()
        assert isinstance(asked, dict) and asked["boolean"] is True

        endpoint.setQuery(CONSTRUCT)
        endpoint.setReturnFormat(TURTLE)
        turtle = endpoint.query().convert()
        assert isinstance(turtle, bytes)
        assert isomorphic(Graph().parse(data=turtle, format="turtle"), SUPPORTS)


def test_error_bodies_are_json(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT"})
    assert set(json.loads(response.text)) == {"error", "detail"}

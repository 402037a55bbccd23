"""kg.store: the article graphs, the union default graph, queries, timeouts and atomic writes."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

import kg.store
from kg.errors import QueryError, QueryRefused, QueryTimeout, StoreError
from kg.store import OxigraphStore, check_query, keywords, open_store, sparql_form

B = "https://w3id.org/newskg/id/"
PREFIXES = """\
@prefix kg: <https://w3id.org/newskg/ontology#> .
@prefix schema: <https://schema.org/> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix b: <https://w3id.org/newskg/id/> .
"""

# Two articles that both mention Russia (the entity node is repeated in each graph, per MODEL.md).
ARTICLE_A = (
    PREFIXES
    + """
b:article\\/aaaa a schema:NewsArticle ;
  kg:fileName "001_aaaa.txt" ;
  schema:headline "Moskau warnt" ;
  schema:datePublished "2024-12-04"^^xsd:date ;
  schema:inLanguage "de" ;
  schema:text "Moskau warnt die \\"NATO\\".\\nZweite Zeile \\\\ mit Backslash und 😀." ;
  kg:textLength 56 ;
  kg:contentHash "hash-a" ;
  kg:extractorVersion "newskg-rules-0.1.0" ;
  schema:mentions wd:Q159 , wd:Q7184 .
wd:Q159 a kg:Country ; rdfs:label "Russland"@de , "Russia"@en ; owl:sameAs wd:Q159 ; kg:wikidataId "Q159" .
wd:Q7184 a kg:Organization ; rdfs:label "NATO"@de ; kg:wikidataId "Q7184" .
b:statement\\/aaaa\\/0001 a kg:Statement ;
  kg:subject wd:Q159 ; kg:relation kg:warnsAbout ; kg:object wd:Q7184 ;
  kg:modality kg:Asserted ; kg:confidence "0.8"^^xsd:decimal ;
  kg:evidenceText "Moskau warnt die NATO." ; kg:beginIndex 0 ; kg:endIndex 22 ;
  kg:article b:article\\/aaaa ; prov:wasDerivedFrom b:article\\/aaaa ;
  kg:extractorVersion "newskg-rules-0.1.0" .
wd:Q159 kg:warnsAbout wd:Q7184 .
"""
)
ARTICLE_B = (
    PREFIXES
    + """
b:article\\/bbbb a schema:NewsArticle ;
  kg:fileName "002_bbbb.txt" ;
  schema:text "Russland unterstützt X." ;
  kg:textLength 23 ;
  kg:contentHash "hash-b" ;
  kg:extractorVersion "newskg-rules-0.1.0" ;
  schema:mentions wd:Q159 .
wd:Q159 a kg:Country ; rdfs:label "Russland"@de , "Russia"@en ; owl:sameAs wd:Q159 ; kg:wikidataId "Q159" .
"""
)
GRAPH_A = B + "graph/aaaa"
GRAPH_B = B + "graph/bbbb"
ARTICLE_A_IRI = B + "article/aaaa"


def parse(turtle: str) -> Graph:
    return Graph().parse(data=turtle, format="turtle")


def named_graph(store: OxigraphStore, graph_iri: str) -> Graph:
    result = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")
    return Graph().parse(data=result.serialize("ntriples"), format="nt")


def default_graph(store: OxigraphStore) -> Graph:
    out = io.BytesIO()
    store.export("ntriples", out)
    return Graph().parse(data=out.getvalue(), format="nt")


def via_pyoxigraph(data: bytes, rdf_format: ox.RdfFormat) -> Graph:
    """Parse with pyoxigraph (rdflib's JSON-LD parser warns), compare with rdflib."""
    ntriples = ox.serialize((q.triple for q in ox.parse(data, rdf_format)), format=ox.RdfFormat.N_TRIPLES)
    return Graph().parse(data=ntriples, format="nt")


def graphs_of(data: bytes, rdf_format: ox.RdfFormat) -> dict[str, Graph]:
    """The graphs of a TriG or N-Quads document by name ("" for the default graph)."""
    by_name: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(data, rdf_format):
        name = "" if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
        by_name.setdefault(name, []).append(quad.triple)
    return {
        name: Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
        for name, triples in by_name.items()
    }


def union(*graphs: Graph) -> Graph:
    merged = Graph()
    for graph in graphs:
        for triple in graph:
            merged.add(triple)
    return merged


def dataset_nquads(store: OxigraphStore) -> str:
    """Everything in the store, named and default graphs, as sorted N-Quads lines."""
    return "\n".join(sorted(str(q) for q in store._store.quads_for_pattern(None, None, None, None)))


@pytest.fixture
def store() -> Iterator[OxigraphStore]:
    with open_store(None) as opened:
        opened.replace_article(GRAPH_A, parse(ARTICLE_A))
        opened.replace_article(GRAPH_B, parse(ARTICLE_B))
        yield opened


# --------------------------------------------------------------------------- writing


def test_named_graphs_hold_exactly_the_article_graphs(store: OxigraphStore) -> None:
    assert store.article_graphs() == [GRAPH_A, GRAPH_B]
    assert isomorphic(named_graph(store, GRAPH_A), parse(ARTICLE_A))
    assert isomorphic(named_graph(store, GRAPH_B), parse(ARTICLE_B))


def test_default_graph_is_the_set_union(store: OxigraphStore) -> None:
    assert isomorphic(default_graph(store), union(parse(ARTICLE_A), parse(ARTICLE_B)))
    # Stated by both articles, returned once (pyoxigraph's union-as-default would return it twice).
    rows = store.select("SELECT ?label WHERE { wd:Q159 rdfs:label ?label FILTER (lang(?label) = 'en') }")
    assert rows == [{"label": "Russia"}]


def test_replace_drops_what_only_the_old_version_stated(store: OxigraphStore) -> None:
    changed = parse(ARTICLE_A)
    changed.remove((None, URIRef("https://schema.org/mentions"), None))
    changed.remove((URIRef("http://www.wikidata.org/entity/Q159"), None, None))
    store.replace_article(GRAPH_A, changed)

    assert isomorphic(named_graph(store, GRAPH_A), changed)
    assert isomorphic(default_graph(store), union(changed, parse(ARTICLE_B)))
    # Russia's label is still stated by article B, so it stays in the union.
    assert store.query("ASK { wd:Q159 rdfs:label 'Russia'@en }").boolean() is True
    assert store.query("ASK { ?s schema:mentions wd:Q7184 }").boolean() is False


def test_remove_article(store: OxigraphStore) -> None:
    assert store.remove_article(GRAPH_A) is True
    assert store.remove_article(GRAPH_A) is False
    assert store.article_graphs() == [GRAPH_B]
    assert isomorphic(default_graph(store), parse(ARTICLE_B))


def test_article_state(store: OxigraphStore) -> None:
    assert store.article_state(ARTICLE_A_IRI) == ("hash-a", "newskg-rules-0.1.0")
    assert store.article_state(B + "article/unknown") is None


def test_stats(store: OxigraphStore) -> None:
    stats = store.stats()
    a, b = parse(ARTICLE_A), parse(ARTICLE_B)
    assert stats == kg.store.StoreStats(
        articles=2, named_graph_quads=len(a) + len(b), default_graph_triples=len(union(a, b))
    )


def test_blank_nodes_survive_and_stay_apart_per_article() -> None:
    turtle = PREFIXES + "b:article\\/x schema:author [ rdfs:label 'Anon' ] .\n"
    first, second = parse(turtle), parse(turtle.replace("article\\/x", "article\\/y"))
    # The same rdflib label in two graphs must still be two nodes in the store.
    shared = BNode("b0")
    for graph in (first, second):
        graph.add((shared, URIRef("https://schema.org/name"), Literal("same label")))
    with open_store(None) as store:
        store.replace_article(B + "graph/x", first)
        store.replace_article(B + "graph/y", second)
        assert isomorphic(named_graph(store, B + "graph/x"), first)
        assert isomorphic(named_graph(store, B + "graph/y"), second)
        rows = store.select("SELECT (COUNT(DISTINCT ?n) AS ?n) WHERE { ?n schema:name 'same label' }")
        assert rows == [{"n": "2"}]
        # Replacing an article removes its blank-node triples from the union too.
        store.remove_article(B + "graph/x")
        assert isomorphic(default_graph(store), second)


def test_failure_mid_write_leaves_nothing_partial(
    store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replacement fails after its DELETE, DROP and INSERT ran: the transaction must roll back."""
    before = dataset_nquads(store)
    real = kg.store._replace_update

    def failing(graph: str, triples: str) -> str:
        # A last operation that fails while executing (the graph exists), not while parsing.
        return real(graph, triples) + f" ;\nCREATE GRAPH <{GRAPH_B}>"

    monkeypatch.setattr(kg.store, "_replace_update", failing)
    with pytest.raises(StoreError, match="store is unchanged"):
        store.replace_article(GRAPH_A, parse(ARTICLE_B.replace("bbbb", "cccc")))
    assert dataset_nquads(store) == before


def test_unstorable_term_is_refused_before_writing(store: OxigraphStore) -> None:
    before = dataset_nquads(store)
    graph = parse(ARTICLE_B)
    graph.add((URIRef("urn:x:s"), URIRef("urn:x:p"), URIRef("urn:x:not an iri")))
    with pytest.raises(StoreError, match="cannot store the triple"):
        store.replace_article(GRAPH_B, graph)
    assert dataset_nquads(store) == before


def test_persistent_store_reopens_read_only(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    with open_store(folder) as store:
        store.replace_article(GRAPH_A, parse(ARTICLE_A))
    with open_store(folder, read_only=True) as store:
        assert store.article_state(ARTICLE_A_IRI) == ("hash-a", "newskg-rules-0.1.0")
        with pytest.raises(StoreError, match="read-only"):
            store.remove_article(GRAPH_A)
    with pytest.raises(StoreError, match="no store at"):
        open_store(tmp_path / "missing", read_only=True)


# --------------------------------------------------------------------------- queries


def test_query_kinds_and_formats(store: OxigraphStore) -> None:
    select = store.query("SELECT ?label WHERE { wd:Q7184 rdfs:label ?label }")
    assert select.kind == "select"
    assert json.loads(select.serialize("json"))["results"]["bindings"][0]["label"]["xml:lang"] == "de"
    assert b'<literal xml:lang="de">NATO</literal>' in select.serialize("xml")
    assert list(csv.reader(io.StringIO(select.serialize("csv").decode()))) == [["label"], ["NATO"]]
    assert select.serialize("tsv").decode().splitlines() == ["?label", '"NATO"@de']

    ask = store.query("ASK { wd:Q159 kg:warnsAbout wd:Q7184 }")
    assert ask.kind == "ask" and ask.boolean() is True
    assert json.loads(ask.serialize("json"))["boolean"] is True
    assert b"<boolean>true</boolean>" in ask.serialize("xml")

    construct = store.query("CONSTRUCT { ?s kg:warnsAbout ?o } WHERE { ?s kg:warnsAbout ?o }")
    assert construct.kind == "construct"
    expected = parse(PREFIXES + "wd:Q159 kg:warnsAbout wd:Q7184 .")
    assert isomorphic(Graph().parse(data=construct.serialize("turtle"), format="turtle"), expected)
    assert b"@prefix kg:" in construct.serialize("turtle")
    assert isomorphic(Graph().parse(data=construct.serialize("ntriples"), format="nt"), expected)
    assert isomorphic(via_pyoxigraph(construct.serialize("jsonld"), ox.RdfFormat.JSON_LD), expected)
    assert isomorphic(Graph().parse(data=construct.serialize("rdfxml"), format="xml"), expected)

    describe = store.query("DESCRIBE wd:Q7184")
    assert describe.kind == "describe"
    assert len(describe.triples()) == 3

    with pytest.raises(QueryError, match="does not apply to a CONSTRUCT"):
        construct.serialize("csv")


def test_select_rows_and_dataframe(store: OxigraphStore) -> None:
    sparql = (
        "SELECT ?article ?headline WHERE { ?article a schema:NewsArticle "
        "OPTIONAL { ?article schema:headline ?headline } } ORDER BY ?article"
    )
    assert store.select(sparql) == [
        {"article": ARTICLE_A_IRI, "headline": "Moskau warnt"},
        {"article": B + "article/bbbb", "headline": None},
    ]
    frame = store.select_df(sparql)
    assert list(frame.columns) == ["article", "headline"]
    assert frame["article"].tolist() == [ARTICLE_A_IRI, B + "article/bbbb"]
    with pytest.raises(QueryError, match="needs a SELECT"):
        store.select("ASK {}")


def test_typed_literals_come_back_in_canonical_form(store: OxigraphStore) -> None:
    """Pinned pyoxigraph behaviour: numbers and dates are stored by value, so a non-canonical
    lexical form ("0.80", "1.0", "007") comes back canonical ("0.8", "1", "7")."""
    graph = parse(
        PREFIXES
        + 'b:x kg:confidence "0.80"^^xsd:decimal , "1.0"^^xsd:decimal ; kg:textLength "007"^^xsd:integer .'
    )
    store.replace_article(B + "graph/x", graph)
    rows = store.select(f"SELECT ?v WHERE {{ GRAPH ?g {{ <{B}x> ?p ?v }} }} ORDER BY ?v")
    assert rows == [{"v": "0.8"}, {"v": "1"}, {"v": "7"}]


def test_literal_text_round_trips(store: OxigraphStore) -> None:
    expected = str(parse(ARTICLE_A).value(URIRef(ARTICLE_A_IRI), URIRef("https://schema.org/text")))
    rows = store.select(f"SELECT ?t WHERE {{ <{ARTICLE_A_IRI}> schema:text ?t }}")
    assert rows == [{"t": expected}]
    assert '"NATO"' in expected and "\\" in expected and "\n" in expected


def test_dataset_options(store: OxigraphStore) -> None:
    sparql = "SELECT ?a WHERE { ?a a schema:NewsArticle }"
    assert store.select(sparql, default_graph=[GRAPH_B]) == [{"a": B + "article/bbbb"}]
    named = store.select("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", named_graphs=[GRAPH_A])
    assert named == [{"g": GRAPH_A}]
    with pytest.raises(QueryError, match="not an IRI"):
        store.select(sparql, default_graph=["not an iri"])


def test_updates_are_refused(store: OxigraphStore) -> None:
    for update in (
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "PREFIX ex: <urn:x:> DELETE WHERE { ?s ?p ?o }",
        "LOAD <http://example.org/data.ttl>",
        "DROP ALL",
        "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    ):
        with pytest.raises(QueryRefused, match="read-only"):
            store.query(update)
    assert len(store.article_graphs()) == 2


@pytest.mark.parametrize(
    "sparql",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "select * where { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o .SERVICE<http://127.0.0.1:9/sparql>{ ?s ?p ?o } }",
        "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    ],
)
def test_service_is_refused(store: OxigraphStore, sparql: str) -> None:
    with pytest.raises(QueryRefused, match="SERVICE is refused"):
        store.query(sparql)


def test_service_in_strings_iris_and_names_is_not_the_keyword() -> None:
    sparql = (
        "PREFIX service: <http://example.org/SERVICE#> # SERVICE in a comment\n"
        'SELECT ?service WHERE { ?s service:SERVICE \'SERVICE\' ; <http://x/SERVICE> """a\nSERVICE""" ;'
        ' ?p "x"@en-SERVICE . FILTER (?a <?b) }'
    )
    assert "SERVICE" not in keywords(sparql)
    assert check_query(sparql) == "select"


def test_sparql_form() -> None:
    assert sparql_form("BASE <http://x/> PREFIX a: <http://y/> DESCRIBE <z>") == "describe"
    assert sparql_form("# comment\nconstruct where { ?s ?p ?o }") == "construct"
    assert sparql_form("CLEAR DEFAULT") == "update"
    assert sparql_form("hello") is None


def test_syntax_error_quotes_the_parser(store: OxigraphStore) -> None:
    with pytest.raises(QueryError, match=r"not valid SPARQL: error at 1:\d+") as caught:
        store.query("SELECT * WHERE { ?s ?p }")
    assert type(caught.value) is QueryError


def test_prefixes_are_declared_but_can_be_overridden(store: OxigraphStore) -> None:
    assert store.query("ASK { ?s a schema:NewsArticle }").boolean() is True
    http_schema = "PREFIX schema: <http://schema.org/> ASK { ?s a schema:NewsArticle }"
    assert store.query(http_schema).boolean() is False


def test_export(store: OxigraphStore) -> None:
    for fmt, rdf_format in (("trig", ox.RdfFormat.TRIG), ("nquads", ox.RdfFormat.N_QUADS)):
        out = io.BytesIO()
        store.export(fmt, out)
        graphs = graphs_of(out.getvalue(), rdf_format)
        assert set(graphs) == {GRAPH_A, GRAPH_B}, fmt  # named graphs only, no union copy
        assert isomorphic(graphs[GRAPH_A], parse(ARTICLE_A))
    out = io.BytesIO()
    store.export("turtle", out)
    assert isomorphic(
        Graph().parse(data=out.getvalue(), format="turtle"), union(parse(ARTICLE_A), parse(ARTICLE_B))
    )
    with pytest.raises(StoreError, match="unknown export format"):
        store.export("csv", io.BytesIO())


def test_closed_store_says_so() -> None:
    store = open_store(None)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.article_graphs()


# --------------------------------------------------------------------------- timeouts


def cross_join_store(path: Path | None, n: int) -> OxigraphStore:
    store = open_store(path)
    graph = Graph()
    for i in range(n):
        graph.add((URIRef(f"urn:x:s{i}"), URIRef("urn:x:p"), Literal(i)))
    store.replace_article(B + "graph/big", graph)
    return store


def test_timeout_while_results_are_pulled() -> None:
    """In-process: millions of cross-join rows stream out; the deadline stops them between chunks."""
    with cross_join_store(None, 2000) as store:
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match=r"limit of 0.2 s"):
            store.query("SELECT * WHERE { ?a ?p ?b . ?c ?q ?d }", timeout_s=0.2)
        assert time.monotonic() - started < 2


def test_timeout_kills_the_worker_of_a_read_only_store(tmp_path: Path) -> None:
    """A query that computes without producing output (a COUNT over a 3-way cross join of 1500
    triples, hours of work) is stopped by killing its worker process."""
    cross_join_store(tmp_path / "store", 1500).close()
    with open_store(tmp_path / "store", read_only=True, query_workers=1) as store:
        assert store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", timeout_s=30) == [{"n": "1500"}]
        [pid] = store.worker_pids
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match=r"limit of 0.5 s"):
            store.query("SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }", timeout_s=0.5)
        assert time.monotonic() - started < 3
        assert store.worker_pids == []
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        # The next query gets a fresh worker; errors from the worker keep their type.
        assert store.query("ASK { ?s ?p ?o }", timeout_s=30).boolean() is True
        with pytest.raises(QueryError, match="not valid SPARQL"):
            store.query("SELECT * WHERE {", timeout_s=30)


@pytest.mark.slow
def test_killed_writer_leaves_whole_articles(tmp_path: Path) -> None:
    """SIGKILL a process that keeps replacing one article with two versions: after reopening, the
    article graph is exactly one version and the default graph is exactly the union."""
    folder = tmp_path / "store"
    writer = textwrap.dedent(
        f"""
        import sys
        from rdflib import Graph, Literal, URIRef
        from kg.store import open_store
        versions = []
        for v in range(2):
            g = Graph()
            for i in range(3000):
                g.add((URIRef(f"urn:x:s{{i}}"), URIRef(f"urn:x:v{{v}}"), Literal("x" * 50 + str(i))))
            versions.append(g)
        with open_store({str(folder)!r}) as store:
            store.replace_article("urn:g:other", versions[0])
            n = 0
            while True:
                store.replace_article("urn:g:a", versions[n % 2])
                n += 1
                if n == 1:
                    print("ready", flush=True)
        """
    )
    with subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == b"ready"
            time.sleep(0.7)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()

    with open_store(folder, read_only=True) as store:
        predicates = store.select("SELECT DISTINCT ?p WHERE { GRAPH <urn:g:a> { ?s ?p ?o } }")
        assert len(predicates) == 1
        counts = store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:g:a> { ?s ?p ?o } }")
        assert counts == [{"n": "3000"}]
        union_rows = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        expected = 3000 if predicates[0]["p"] == "urn:x:v0" else 6000
        assert union_rows == [{"n": str(expected)}]


def test_query_result_media_types() -> None:
    result = kg.store.QueryResult(kind="select", payload=b'{"head":{"vars":[]},"results":{"bindings":[]}}')
    assert result.media_type(result.formats[0]) == "application/sparql-results+json"
    assert result.rows() == []
    assert ox.QueryResultsFormat.JSON.media_type == result.media_type("json")


# ------------------------------------------------------------- result limit, async queries, close

# Literals that look like JSON structure: the row count must not see their braces, commas or quotes.
TRICKY = ["plain", ',{"', "[{", '\\"},{"x":', "\\", '"', "},{}", "", "a\\\\", '{"head":[{'] * 3


def tricky_store(n: int) -> OxigraphStore:
    store = open_store(None)
    graph = Graph()
    for i in range(n):
        graph.add((URIRef(f"urn:x:s{i}"), URIRef("urn:x:p"), Literal(TRICKY[i % len(TRICKY)])))
    store.replace_article(B + "graph/tricky", graph)
    return store


@pytest.mark.parametrize("query", ["SELECT ?s ?o", "SELECT ?o", "SELECT ?unbound", "SELECT *"])
@pytest.mark.parametrize("rows", [7, 8])
def test_max_results_counts_select_rows_exactly(query: str, rows: int) -> None:
    """A SELECT is written as SPARQL JSON and its rows counted as written: exactly `max_results` rows
    pass, one more is refused, whatever the literals hold (empty rows included)."""
    with tricky_store(rows) as store:
        sparql = f"{query} WHERE {{ ?s <urn:x:p> ?o }}"
        if rows == 7:
            result = store.query(sparql, max_results=7)
            assert len(json.loads(result.payload)["results"]["bindings"]) == 7
        else:
            with pytest.raises(kg.store.ResultTooLarge, match="more than 7 rows"):
                store.query(sparql, max_results=7)
        assert store.query(sparql, max_results=1000).payload == store.query(sparql).payload


def test_json_row_counter_across_chunk_boundaries() -> None:
    """The exact counter (used past the cheap bound) gets pyoxigraph's output in chunks: any cut, in a
    string, after a backslash or between ',' and '{', leaves the count exact."""
    with tricky_store(len(TRICKY)) as store:
        store.replace_article(B + "graph/other", Graph())
        for sparql in (
            "SELECT ?s ?o WHERE { ?s ?p ?o }",
            "SELECT ?x WHERE { ?s ?p ?o }",
            "SELECT ?t WHERE { ?s ?p ?o BIND(<<( ?s ?p ?o )>> AS ?t) }",
        ):
            payload = store.query(sparql).payload
            expected = len(json.loads(payload)["results"]["bindings"])
            for size in (1, 2, 3, 5, 8, 13):
                counter = kg.store._JsonRowCounter()
                for start in range(0, len(payload), size):
                    counter.feed(payload[start : start + size])
                assert counter.rows == expected, (sparql, size)


def test_aquery_waits_for_the_worker_on_the_event_loop(tmp_path: Path) -> None:
    """`aquery` answers as `query` does; at the limit it kills the worker (the query really stops) and
    the next query gets a fresh one; a cancelled query's worker is killed too."""
    import asyncio

    cross_join_store(tmp_path / "store", 1500).close()

    async def scenario(store: OxigraphStore) -> None:
        result = await store.aquery("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", timeout_s=30)
        assert result.rows() == [{"n": "1500"}]
        # An answer many reads long (the pipe delivers at most some 200 KiB at a time) comes whole.
        everything = "SELECT ?s ?p ?o ?t WHERE { ?s ?p ?o BIND(<<( ?s ?p ?o )>> AS ?t) }"
        big = await store.aquery(everything, timeout_s=30)
        assert len(big.payload) > 4 * kg.store._READ_SIZE
        assert big.payload == store.query(everything).payload
        [pid] = store.worker_pids
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match=r"limit of 0.5 s"):
            await store.aquery(
                "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }", timeout_s=0.5
            )
        assert time.monotonic() - started < 3
        assert store.worker_pids == []
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        with pytest.raises(QueryError, match="not valid SPARQL"):
            await store.aquery("SELECT * WHERE {", timeout_s=30)
        with pytest.raises(kg.store.ResultTooLarge):
            await store.aquery("SELECT * WHERE { ?s ?p ?o }", timeout_s=30, max_results=10)
        [pid] = store.worker_pids  # errors leave the worker in service
        task = asyncio.ensure_future(
            store.aquery("SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }", timeout_s=30)
        )
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert store.worker_pids == []
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        assert (await store.aquery("ASK { ?s ?p ?o }", timeout_s=30)).boolean() is True

    with open_store(tmp_path / "store", read_only=True, query_workers=1) as store:
        asyncio.run(scenario(store))
    with open_store(None) as memory:  # no workers: the query runs in a thread
        assert asyncio.run(memory.aquery("ASK { ?s ?p ?o }", timeout_s=5)).boolean() is False


def test_closing_a_written_store_flushes_its_log(tmp_path: Path) -> None:
    """A store written and closed leaves its writes in sorted tables, not in the write-ahead log that
    every read-only open (the service, each query worker) would replay."""
    folder = tmp_path / "store"
    store = cross_join_store(folder, 5000)
    wal = {f.name: f.stat().st_size for f in folder.glob("*.log")}
    assert max(wal.values()) > 100_000  # the writes are in the log while the store is open
    store.close()
    newest = max(folder.glob("*.log"), key=lambda f: int(f.stem))
    assert newest.stat().st_size < 1000  # the log the next open replays holds nothing
    with open_store(folder, read_only=True, query_workers=0) as reopened:
        assert reopened.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == [{"n": "5000"}]

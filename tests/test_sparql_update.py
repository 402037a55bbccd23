"""Reading SPARQL updates before they run (kg.sparql_update) and running them on the store (kg.store)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.errors import QueryError, QueryRefused
from kg.sparql_update import plan_update, tokens
from kg.store import OxigraphStore, open_store

BASE = "http://service.example/sparql"


def test_tokens_track_braces_and_skip_strings_and_comments() -> None:
    found = tokens('INSERT DATA { GRAPH <g> { <s> <p> "}{ GRAPH" } } # } WHERE {')
    assert [(t.kind, t.text, t.depth) for t in found] == [
        ("word", "INSERT", 0),
        ("word", "DATA", 0),
        ("punct", "{", 0),
        ("word", "GRAPH", 1),
        ("iri", "<g>", 1),
        ("punct", "{", 1),
        ("iri", "<s>", 2),
        ("iri", "<p>", 2),
        ("other", '"}{ GRAPH"', 2),
        ("punct", "}", 1),
        ("punct", "}", 0),
    ]


@pytest.mark.parametrize(
    ("update", "touched"),
    [
        ("INSERT DATA { GRAPH <http://g/1> { <http://s> <http://p> 1 } }", {"http://g/1"}),
        ("PREFIX ex: <http://ex/>\nDELETE DATA { GRAPH ex:g { ex:s ex:p 1 } }", {"http://ex/g"}),
        ("INSERT DATA { GRAPH <rel> { <s> <p> 1 } }", {"http://service.example/rel"}),
        ("WITH kg:x DELETE { ?s ?p 1 } WHERE { ?s ?p 1 }", {"https://w3id.org/newskg/ontology#x"}),
        ("MOVE <http://a> TO <http://b>", {"http://a", "http://b"}),
        ("COPY DEFAULT TO <http://b> ; CREATE GRAPH <http://c>", {"http://b"}),
        ("INSERT { GRAPH ?g { ?s a ?t } } WHERE { GRAPH ?g { ?s a ?t } }", None),
        ("CLEAR ALL", None),
        ("DROP NAMED", None),
    ],
)
def test_the_graphs_an_update_writes(update: str, touched: set[str] | None) -> None:
    plan = plan_update(update, base_iri=BASE)
    assert plan.touched == (frozenset(touched) if touched is not None else None)


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        ("INSERT DATA { <http://s> <http://p> 1 }", "INSERT DATA writes the default graph"),
        ("DELETE WHERE { ?s ?p ?o }", "DELETE WHERE writes the default graph"),
        ("INSERT { ?s ?p 1 } WHERE { GRAPH ?g { ?s ?p ?o } }", "INSERT { ... } writes the default graph"),
        ("CLEAR DEFAULT", "CLEAR DEFAULT"),
        ("MOVE DEFAULT TO <http://b>", "MOVE DEFAULT TO"),
        ("LOAD <http://127.0.0.1/x.ttl>", "server-side request forgery"),
        ("LO\\u0041D <http://127.0.0.1/x.ttl>", "server-side request forgery"),  # escaped: still refused
        ("INSERT { GRAPH <http://g> { ?s ?p ?o } } WHERE { SERVICE <http://x/> { ?s ?p ?o } }", "SERVICE"),
    ],
)
def test_refused_updates(update: str, reason: str) -> None:
    with pytest.raises(QueryRefused, match=reason):
        plan_update(update)


def test_using_parameters_go_before_each_where() -> None:
    plan = plan_update(
        "INSERT DATA { GRAPH <http://a> { <http://s> <http://p> 1 } } ;\n"
        "INSERT { GRAPH <http://b> { ?s ?p ?o } } WHERE { ?s ?p ?o { SELECT * WHERE { ?x ?y ?z } } } ;",
        using_graphs=["http://a"],
        using_named_graphs=["http://n"],
    )
    assert plan.text.count("USING <http://a> USING NAMED <http://n>\nWHERE { ?s ?p ?o {") == 1
    assert plan.text.count("USING") == 2  # the INSERT DATA and the subquery get none
    assert not plan.text.rstrip().endswith(";")  # so that operations can be appended
    assert plan.operations == 2
    with pytest.raises(QueryRefused, match="USING or WITH"):
        plan_update("WITH <http://w> DELETE { ?s ?p 1 } WHERE { ?s ?p 1 }", using_graphs=["http://a"])
    with pytest.raises(QueryRefused, match="not an IRI"):
        plan_update("INSERT { GRAPH <http://b> { ?s ?p ?o } } WHERE { ?s ?p ?o }", using_graphs=["> <x"])


def test_a_request_this_reader_cannot_follow_is_an_error() -> None:
    with pytest.raises(QueryError, match="expected a graph IRI"):
        plan_update("CLEAR XYZ")


def union_is_exact(store: OxigraphStore) -> bool:
    quads = list(store._store.quads_for_pattern(None, None, None, None))
    named = {q.triple for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)}
    default = {q.triple for q in quads if isinstance(q.graph_name, ox.DefaultGraph)}
    return named == default


def test_updates_keep_the_default_graph_the_union() -> None:
    with open_store(None) as store:
        store.update(
            "INSERT DATA { GRAPH <http://g/1> { <http://a> <http://p> 1 . _:b <http://p> 2 } "
            "GRAPH <http://g/2> { <http://a> <http://p> 1 } }"
        )
        assert union_is_exact(store)
        store.update("DELETE DATA { GRAPH <http://g/1> { <http://a> <http://p> 1 } }")
        assert union_is_exact(store)
        assert store.query("ASK { <http://a> <http://p> 1 }").boolean() is True  # g/2 still says it
        store.update("DELETE WHERE { GRAPH <http://g/1> { ?s <http://p> 2 } }")  # a blank node subject
        assert union_is_exact(store) and store.query("ASK { ?s <http://p> 2 }").boolean() is False
        store.update("INSERT { GRAPH ?g { ?s <http://q> ?g } } WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert union_is_exact(store)
        store.update("COPY <http://g/2> TO <http://g/3> ; DROP GRAPH <http://g/2>")
        assert union_is_exact(store) and store.article_graphs() == ["http://g/1", "http://g/3"]
        store.update("CLEAR NAMED")
        assert union_is_exact(store) and store.stats().default_graph_triples == 0
        with pytest.raises(QueryError, match=r"not valid SPARQL: error at 1:\d+"):
            store.update("INSERT DATA { GRAPH <http://g> { <http://a> <http://p> } }")


def test_graph_store_writes_keep_the_union() -> None:
    triple = ox.Triple(ox.BlankNode(), ox.NamedNode("http://p"), ox.Literal("x"))
    with open_store(None) as store:
        assert store.put_graph("http://g", [triple]) is True
        assert store.put_graph("http://g", [triple]) is False
        assert store.stats().default_graph_triples == 1  # replaced, not added
        added = ox.Triple(ox.NamedNode("http://s"), triple.predicate, triple.object)
        assert store.post_graph("http://g", [added]) is False  # merged into a graph that exists
        assert union_is_exact(store) and store.stats().named_graph_quads == 2
        assert store.put_graph("http://empty", []) is True and store.graph_exists("http://empty")
        assert store.delete_graph("http://g") is True and store.delete_graph("http://g") is False
        assert union_is_exact(store) and store.stats().default_graph_triples == 0

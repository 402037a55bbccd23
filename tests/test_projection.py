"""kg.projection and the exports (GraphML, GEXF, Cytoscape.js JSON, CSV, JSON-LD, RDF/XML), CLI and API.

The graph files are opened with networkx and checked against SPARQL counts
on the same store, on a hand-made store of three articles (mapped with
kg.mapping, so the RDF is exactly what `kg build` writes) and on the sample
build (slow).
"""

from __future__ import annotations

import csv
import io
import json
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from api.main import create_app
from kg.cli import app as cli_app
from kg.errors import ExportError
from kg.mapping import graph_iri, to_graph
from kg.model import RELATIONS, SYMMETRIC_RELATIONS, Article, Entity, Extraction, Mention, Statement
from kg.projection import (
    EDGE_COLUMNS,
    NODE_COLUMNS,
    Edge,
    Node,
    Projection,
    ProjectionFilter,
    make_filter,
    project,
    to_csv,
    to_csv_zip,
    to_cytoscape,
    to_gexf,
    to_graphml,
    write_graph,
)
from kg.settings import REPO_ROOT
from kg.store import OxigraphStore, Store, open_store
from kg.vocab import KG_IRI

B = "https://w3id.org/newskg/id/"
E = B + "entity/"
SAMPLES = REPO_ROOT / "data" / "samples"

# --------------------------------------------------------------------------- a hand-made store

DE = Entity("Q183", "Country", "Deutschland", label_de="Deutschland", label_en="Germany", qid="Q183")
UA = Entity("Q212", "Country", "Ukraine", label_de="Ukraine", qid="Q212")  # no English label
RU = Entity("Q159", "Country", "Russland", label_de="Russland", label_en="Russia", qid="Q159")
SCHOLZ = Entity(
    "Q61053", "Person", "Olaf Scholz", label_de="Olaf Scholz", label_en="Olaf Scholz", qid="Q61053"
)
NATO = Entity("Q7184", "Organization", "NATO", label_de="NATO", label_en="NATO", qid="Q7184")
MUSTER = Entity(
    "person/max-muster", "Person", "Max Muster"
)  # unknown to the KB: label in the article's language
BERLIN = Entity("location/berlin", "Location", "Berlin")  # mentioned, in no relation


def _extraction(
    name: str, date: str | None, entities: tuple[Entity, ...], claims: list[tuple[str, ...]]
) -> Extraction:
    """An article with one sentence per claim: (subject, relation, object, speaker, modality, confidence)."""
    sentences = [f"Satz {i}: {s} {r} {o}." for i, (s, r, o, *_rest) in enumerate(claims)]
    text = " ".join(sentences)
    article = Article(text=text, name=name, url=f"https://example.org/{name}", date=date, language="de")
    statements, start = [], 0
    for sentence, (subject, relation, object_, speaker, modality, confidence) in zip(
        sentences, claims, strict=True
    ):
        end = start + len(sentence)
        statements.append(
            Statement(
                subject=subject,
                relation=relation,  # type: ignore[arg-type]
                object=object_,
                speaker=speaker or None,
                modality=modality,  # type: ignore[arg-type]
                confidence=float(confidence),
                evidence_start=start,
                evidence_end=end,
                evidence=sentence,
            )
        )
        start = end + 1
    mentions = tuple(Mention(e.key, 0, 4, "Satz") for e in entities)
    return Extraction(article, entities, mentions, tuple(statements), extractor="newskg-rules-0.1.0")


ARTICLES = (
    _extraction(
        "a.txt",
        "2024-06-15",
        (DE, UA, RU, SCHOLZ, MUSTER, BERLIN),
        [
            ("Q183", "supports", "Q212", "", "asserted", "0.9"),  # s1 stated
            ("Q183", "supports", "Q212", "Q61053", "asserted", "0.6"),  # s2 claimed by Scholz
            ("Q159", "attacks", "Q212", "", "asserted", "0.8"),  # s3
            ("Q61053", "meets", "person/max-muster", "", "planned", "0.7"),  # s4
        ],
    ),
    _extraction(
        "b.txt",
        "2024-12",
        (DE, UA, RU, SCHOLZ, MUSTER, NATO),
        [
            ("Q183", "supports", "Q212", "Q7184", "hedged", "0.5"),  # s5 claimed by NATO
            ("person/max-muster", "meets", "Q61053", "", "asserted", "0.9"),  # s6: the other direction
            ("Q159", "supplies", "Q212", "Q159", "negated", "0.7"),  # s7: only ever denied
            ("Q159", "attacks", "Q212", "Q159", "negated", "0.6"),  # s8: denies s3
        ],
    ),
    _extraction(
        "c.txt",
        None,
        (DE, SCHOLZ, NATO, RU),
        [
            ("Q61053", "holdsRole", "Q183", "", "asserted", "0.95"),  # s9
            ("Q7184", "warnsAbout", "Q159", "Q7184", "asserted", "0.4"),  # s10
        ],
    ),
)


def fill(store: Store) -> None:
    for extraction in ARTICLES:
        store.replace_article(
            str(graph_iri(extraction.article.key, base_iri=B)), to_graph(extraction, base_iri=B)
        )


@pytest.fixture(scope="module")
def small() -> Iterator[OxigraphStore]:
    store = open_store(None)
    fill(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def sample() -> Iterator[OxigraphStore]:
    from kg.build import Builder

    store = open_store(None)
    report = Builder(store).build_paths([SAMPLES])
    assert report.ok, report.summary()
    yield store
    store.close()


def _key(edge: Edge) -> tuple[str, str, str]:
    return (edge.source.removeprefix(E), edge.relation, edge.target.removeprefix(E))


# --------------------------------------------------------------------------- SPARQL counts

_RELATION_VALUES = " ".join(f"kg:{r}" for r in RELATIONS)
_SYMMETRIC = ", ".join(f"kg:{r}" for r in sorted(SYMMETRIC_RELATIONS))


def sparql_counts(store: Store) -> dict[str, int]:
    """Edges, nodes, statements and negations of the unfiltered projection, counted by SPARQL alone.

    Edges are the distinct direct triples, a symmetric relation's two
    directions counted once; nodes their distinct endpoints; statements the
    non-negated statements; negations the negated statements whose relation
    some direct triple affirms.
    """
    edges = store.select(
        f"""SELECT (COUNT(DISTINCT ?key) AS ?n) WHERE {{
          ?s ?r ?o . VALUES ?r {{ {_RELATION_VALUES} }}
          BIND (IF(?r IN ({_SYMMETRIC}) && STR(?o) < STR(?s),
                   CONCAT(STR(?o), " ", STR(?r), " ", STR(?s)),
                   CONCAT(STR(?s), " ", STR(?r), " ", STR(?o))) AS ?key)
        }}"""
    )
    nodes = store.select(
        f"""SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{
          VALUES ?r {{ {_RELATION_VALUES} }} {{ ?e ?r ?o }} UNION {{ ?s ?r ?e }}
        }}"""
    )
    statements = store.select(
        "SELECT (COUNT(?st) AS ?n) WHERE { ?st a kg:Statement ; kg:modality ?m FILTER (?m != kg:Negated) }"
    )
    negations = store.select(
        f"""SELECT (COUNT(?st) AS ?n) WHERE {{
          ?st kg:modality kg:Negated ; kg:subject ?s ; kg:relation ?r ; kg:object ?o .
          FILTER EXISTS {{ {{ ?s ?r ?o }} UNION {{ ?o ?r ?s FILTER (?r IN ({_SYMMETRIC})) }} }}
        }}"""
    )
    return {
        name: int(rows[0]["n"] or 0)
        for name, rows in (
            ("edges", edges),
            ("nodes", nodes),
            ("statements", statements),
            ("negations", negations),
        )
    }


def _expected_node(node: Node) -> dict[str, Any]:
    values = {"label": node.label, "iri": node.id, "label_de": node.label_de, "label_en": node.label_en}
    values |= {"type": node.type, "wikidata": node.wikidata}
    return {k: v for k, v in values.items() if v is not None}


def _expected_edge(edge: Edge) -> dict[str, Any]:
    values: dict[str, Any] = {
        "relation": edge.relation,
        "statements": edge.statements,
        "articles": edge.articles,
        "first_date": edge.first_date,
        "last_date": edge.last_date,
        "speakers": "; ".join(edge.speakers) if edge.speakers else None,
        "stated": edge.stated,
        "negations": edge.negations,
        "max_confidence": edge.max_confidence,
        "symmetric": edge.symmetric,
    }
    return {k: v for k, v in values.items() if v is not None}


def check_graph_files(projection: Projection, counts: dict[str, int], tmp_path: Path) -> None:
    """GraphML and GEXF written to disk, read back with networkx, agree with the projection and SPARQL."""
    assert len(projection.nodes) == counts["nodes"]
    assert len(projection.edges) == counts["edges"]

    graphml = tmp_path / "graph.graphml"
    graphml.write_bytes(to_graphml(projection))
    g = nx.read_graphml(graphml)
    assert g.is_directed()
    assert (g.number_of_nodes(), g.number_of_edges()) == (counts["nodes"], counts["edges"])
    by_iri = {data["iri"]: data for _, data in g.nodes(data=True)}
    assert {iri: data for iri, data in by_iri.items()} == {n.id: _expected_node(n) for n in projection.nodes}
    edges = {}
    # networkx keys parallel edges by the GraphML edge id, and puts it in "id" when there are none.
    multi = (
        g.edges(keys=True, data=True)
        if g.is_multigraph()
        else ((u, v, None, d) for u, v, d in g.edges(data=True))
    )
    for u, v, key, data in multi:
        data = dict(data)
        edge_id = data.pop("id", None) or key
        edges[edge_id] = (g.nodes[u]["iri"], g.nodes[v]["iri"], data)
    for edge in projection.edges:
        source, target, data = edges[edge.id]
        assert (source, target) == (edge.source, edge.target)
        assert data == {"label": edge.relation, "weight": float(edge.statements), **_expected_edge(edge)}
    assert sum(d["statements"] for _, _, d in g.edges(data=True)) == counts["statements"]
    assert sum(d["negations"] for _, _, d in g.edges(data=True)) == counts["negations"]

    gexf = tmp_path / "graph.gexf"
    gexf.write_bytes(to_gexf(projection))
    h = nx.read_gexf(gexf, version="1.3")
    assert h.is_directed()
    assert (h.number_of_nodes(), h.number_of_edges()) == (counts["nodes"], counts["edges"])
    assert {n: d for n, d in h.nodes(data=True)} == {n.id: _expected_node(n) for n in projection.nodes}
    gexf_edges = {d["id"]: (u, v, d) for u, v, d in h.edges(data=True)}
    for edge in projection.edges:
        source, target, data = gexf_edges[edge.id]
        assert (source, target) == (edge.source, edge.target)
        expected = {"id": edge.id, "label": edge.relation, "weight": float(edge.statements)}
        assert data == expected | _expected_edge(edge)
    assert sum(d["statements"] for _, _, d in h.edges(data=True)) == counts["statements"]


# --------------------------------------------------------------------------- the hand-made store


def test_edges_aggregate_statements_as_counted_by_hand(small: OxigraphStore) -> None:
    projection = project(small)
    edges = {_key(e): e for e in projection.edges}
    assert set(edges) == {
        ("Q183", "supports", "Q212"),
        ("Q159", "attacks", "Q212"),
        ("Q61053", "meets", "person/max-muster"),  # both directions, one edge: smaller IRI first
        ("Q61053", "holdsRole", "Q183"),
        ("Q7184", "warnsAbout", "Q159"),
    }  # no Q159 supplies Q212: only ever denied
    supports = edges["Q183", "supports", "Q212"]
    assert (supports.statements, supports.articles, supports.stated) == (3, 2, 1)
    assert (supports.first_date, supports.last_date) == ("2024-06-15", "2024-12")
    assert supports.speakers == ("NATO", "Olaf Scholz")
    assert (supports.negations, supports.max_confidence, supports.symmetric) == (0, 0.9, False)
    attacks = edges["Q159", "attacks", "Q212"]
    assert (attacks.statements, attacks.negations, attacks.speakers, attacks.stated) == (1, 1, (), 1)
    meets = edges["Q61053", "meets", "person/max-muster"]
    assert (meets.statements, meets.articles, meets.symmetric) == (2, 2, True)
    role = edges["Q61053", "holdsRole", "Q183"]
    assert (role.first_date, role.last_date) == (None, None)  # c.txt has no date

    nodes = {n.id.removeprefix(E): n for n in projection.nodes}
    assert set(nodes) == {"Q183", "Q212", "Q159", "Q61053", "Q7184", "person/max-muster"}  # Berlin: no edge
    assert nodes["Q183"] == Node(E + "Q183", "Germany", "Deutschland", "Germany", "Country", "Q183")
    assert nodes["Q212"].label == "Ukraine"  # no English label: the German one
    assert nodes["person/max-muster"] == Node(
        E + "person/max-muster", "Max Muster", "Max Muster", None, "Person", None
    )
    german = {n.id.removeprefix(E): n.label for n in project(small, language="de").nodes}
    assert german["Q183"] == "Deutschland"


def test_graph_files_match_sparql_counts(small: OxigraphStore, tmp_path: Path) -> None:
    counts = sparql_counts(small)
    assert counts == {"edges": 5, "nodes": 6, "statements": 8, "negations": 1}
    check_graph_files(project(small), counts, tmp_path)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"relations": ["supports"]}, {("Q183", "supports", "Q212"): 3}),
        ({"relations": ["kg:attacks", "supplies"]}, {("Q159", "attacks", "Q212"): 1}),
        ({"types": ["Country"]}, {("Q183", "supports", "Q212"): 3, ("Q159", "attacks", "Q212"): 1}),
        ({"types": ["person"]}, {("Q61053", "meets", "person/max-muster"): 2}),
        (
            {"since": "2024-07"},
            {("Q183", "supports", "Q212"): 1, ("Q61053", "meets", "person/max-muster"): 1},
        ),
        # b.txt is dated 2024-12: its month overlaps a range that starts on the 10th.
        (
            {"since": "2024-12-10"},
            {("Q183", "supports", "Q212"): 1, ("Q61053", "meets", "person/max-muster"): 1},
        ),
        (
            {"until": "2024-06"},
            {
                ("Q183", "supports", "Q212"): 2,
                ("Q159", "attacks", "Q212"): 1,
                ("Q61053", "meets", "person/max-muster"): 1,
            },
        ),
        ({"since": "2025"}, {}),
        (
            {"min_confidence": 0.85},
            {
                ("Q183", "supports", "Q212"): 1,
                ("Q61053", "meets", "person/max-muster"): 1,
                ("Q61053", "holdsRole", "Q183"): 1,
            },
        ),
        ({"voice": "claimed"}, {("Q183", "supports", "Q212"): 2, ("Q7184", "warnsAbout", "Q159"): 1}),
        (
            {"voice": "stated"},
            {
                ("Q183", "supports", "Q212"): 1,
                ("Q159", "attacks", "Q212"): 1,
                ("Q61053", "meets", "person/max-muster"): 2,
                ("Q61053", "holdsRole", "Q183"): 1,
            },
        ),
        ({"types": ["Country"], "voice": "claimed"}, {("Q183", "supports", "Q212"): 2}),
    ],
)
def test_filters_keep_the_statements_they_say(
    small: OxigraphStore, options: dict[str, Any], expected: dict[tuple[str, str, str], int]
) -> None:
    projection = project(small, make_filter(**options))
    assert {_key(e): e.statements for e in projection.edges} == expected
    assert {n.id for n in projection.nodes} == {e.source for e in projection.edges} | {
        e.target for e in projection.edges
    }
    assert projection.filter == make_filter(**options)


def test_negations_are_counted_under_the_same_filters(small: OxigraphStore) -> None:
    attacks = ("Q159", "attacks", "Q212")
    stated = {_key(e): e for e in project(small, make_filter(voice="stated")).edges}
    assert stated[attacks].negations == 0  # the denial (s8) is claimed by Russia
    unfiltered = {_key(e): e for e in project(small).edges}
    assert unfiltered[attacks].negations == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"relations": ["support"]}, "unknown relation 'support'; expected one of supports"),
        ({"types": ["human"]}, "unknown entity type 'human'; expected one of Person"),
        ({"since": "2024-13"}, "since '2024-13' is not a date; expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"until": "gestern"}, "until 'gestern' is not a date"),
        ({"since": "2024-12-04T10:00"}, "is not a date"),
        ({"since": "2025", "until": "2024-06"}, "since 2025 is after until 2024-06; swap them"),
        ({"min_confidence": 1.5}, "min-confidence 1.5 is outside [0, 1]"),
        ({"min_confidence": float("nan")}, "is outside [0, 1]"),
        ({"voice": "rumoured"}, "unknown voice 'rumoured'; expected 'claimed'"),
    ],
)
def test_bad_filter_values_say_what_is_expected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ExportError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make_filter(**options)


def test_filter_values_are_normalised() -> None:
    flt = make_filter(
        relations=["kg:supports", KG_IRI + "meets", "supports"], types=["PERSON"], since=" 2024-06 "
    )
    assert flt == ProjectionFilter(relations=("supports", "meets"), types=("Person",), since="2024-06")


def test_cytoscape_json_and_csv_agree_with_the_projection(small: OxigraphStore) -> None:
    projection = project(small)
    document = json.loads(write_graph(projection, "cytoscape"))
    assert document == json.loads(json.dumps(to_cytoscape(projection)))
    elements = document["elements"]
    cy_nodes = {n["data"]["id"]: n["data"] for n in elements["nodes"]}
    cy_edges = {e["data"]["id"]: e["data"] for e in elements["edges"]}
    assert set(cy_nodes) == {n.id for n in projection.nodes}
    assert set(cy_edges) == {e.id for e in projection.edges}
    supports = next(e for e in projection.edges if e.relation == "supports")
    assert cy_edges[supports.id]["speakers"] == ["NATO", "Olaf Scholz"]
    assert cy_edges[supports.id]["source"] == E + "Q183"
    assert cy_nodes[E + "person/max-muster"]["wikidata"] is None

    nodes_csv, edges_csv = to_csv(projection)
    csv_nodes = list(csv.DictReader(io.StringIO(nodes_csv.decode("utf-8"))))
    csv_edges = list(csv.DictReader(io.StringIO(edges_csv.decode("utf-8"))))
    assert tuple(csv_nodes[0]) == NODE_COLUMNS and tuple(csv_edges[0]) == EDGE_COLUMNS
    for row in csv_nodes:
        data = cy_nodes[row["id"]]
        assert row == {k: "" if data[k] is None else str(data[k]) for k in NODE_COLUMNS}
    for row in csv_edges:
        data = cy_edges[row["id"]]
        assert row["source"] == data["source"] and row["target"] == data["target"]
        assert int(row["statements"]) == data["statements"] == int(row["weight"])
        assert row["speakers"] == "; ".join(data["speakers"])
        assert row["symmetric"] == ("true" if data["symmetric"] else "false")
        assert (row["first_date"] or None) == data["first_date"]
    with zipfile.ZipFile(io.BytesIO(to_csv_zip(projection))) as archive:
        assert archive.namelist() == ["nodes.csv", "edges.csv"]
        assert archive.read("nodes.csv") == nodes_csv and archive.read("edges.csv") == edges_csv
    assert to_csv_zip(projection) == to_csv_zip(projection)  # fixed timestamps: reproducible


def test_characters_xml_cannot_hold_are_dropped(tmp_path: Path) -> None:
    node = Node(E + "person/x", "Ka\x0brl & <Söhne>", None, None, "Person", None)
    other = Node(E + "Q1", "Q1", None, None, "Country", "Q1")
    edge = Edge("e1", node.id, other.id, "visits", 1, 1, None, None, ("Herr\x00 X",), 0, 0, 0.5, False)
    projection = Projection(nodes=(other, node), edges=(edge,))
    (tmp_path / "g.graphml").write_bytes(to_graphml(projection))
    (tmp_path / "g.gexf").write_bytes(to_gexf(projection))
    g = nx.read_graphml(tmp_path / "g.graphml")
    assert {d["label"] for _, d in g.nodes(data=True)} == {"Karl & <Söhne>", "Q1"}
    h = nx.read_gexf(tmp_path / "g.gexf", version="1.3")
    assert h.nodes[node.id]["label"] == "Karl & <Söhne>"
    assert next(iter(h.edges(data=True)))[2]["speakers"] == "Herr X"


def test_unknown_graph_format_is_refused(small: OxigraphStore) -> None:
    with pytest.raises(ExportError, match="unknown graph format 'dot'; expected one of graphml"):
        write_graph(project(small), "dot")


# --------------------------------------------------------------------------- RDF exports


def _dataset(data: bytes, fmt: str) -> dict[str, rdflib.Graph]:
    """The named graphs of a TriG, N-Quads or JSON-LD document, read by rdflib (not by pyoxigraph)."""
    # rdflib 7's dataset parsers call its own deprecated ConjunctiveGraph API and warn about it;
    # nothing this project can change.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"rdflib\.")
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=fmt)
        return {str(g.identifier): g for g in dataset.graphs() if len(g)}


def test_jsonld_holds_the_article_graphs_and_rdfxml_the_union(small: OxigraphStore) -> None:
    def export(fmt: str) -> bytes:
        buffer = io.BytesIO()
        small.export(fmt, buffer)
        return buffer.getvalue()

    trig, jsonld = _dataset(export("trig"), "trig"), _dataset(export("jsonld"), "json-ld")
    assert sorted(jsonld) == sorted(trig) and len(trig) == len(ARTICLES)
    assert all(isomorphic(jsonld[name], trig[name]) for name in trig)

    union = rdflib.Graph().parse(data=export("turtle"), format="turtle")
    rdfxml = rdflib.Graph().parse(data=export("rdfxml"), format="xml")
    assert len(rdfxml) == len(union) == small.stats().default_graph_triples
    assert isomorphic(rdfxml, union)


# --------------------------------------------------------------------------- CLI and API


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store")
    with open_store(path) as store:
        fill(store)
    return path


def test_cli_writes_csv_files_and_graph_formats(store_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli_app, ["export", "-s", str(store_dir), "-f", "csv", "-o", str(tmp_path / "csv")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["edges.csv", "nodes.csv"]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "csv" / "edges.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 5

    args = ["export", "-s", str(store_dir), "-f", "gexf", "-o", str(tmp_path / "g.gexf")]
    result = runner.invoke(cli_app, [*args, "--relation", "supports", "--relation", "meets", "--claimed"])
    assert result.exit_code == 0, result.output
    assert nx.read_gexf(tmp_path / "g.gexf", version="1.3").number_of_edges() == 1

    result = runner.invoke(
        cli_app, ["export", "-s", str(store_dir), "-f", "rdfxml", "-o", str(tmp_path / "g.rdf")]
    )
    assert result.exit_code == 0, result.output
    assert len(rdflib.Graph().parse(tmp_path / "g.rdf", format="xml")) > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-f", "csv"], "--format csv writes two files"),
        (["-f", "graphml", "--since", "2024-13"], "since '2024-13' is not a date"),
        (["-f", "graphml", "--type", "human"], "unknown entity type 'human'"),
        (["-f", "graphml", "--min-confidence", "2"], "outside [0, 1]"),
        (["-f", "turtle", "--relation", "supports"], "the filters apply to graphml, gexf"),
        (["-f", "dot"], "unknown export format 'dot'"),
    ],
)
def test_cli_refuses_bad_values_with_exit_2(store_dir: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli_app, ["export", "-s", str(store_dir), *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


@pytest.fixture(scope="module")
def client(small: OxigraphStore) -> Iterator[TestClient]:
    with TestClient(create_app(store=small)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("fmt", "media_type", "filename"),
    [
        ("graphml", "application/xml", "newskg.graphml"),
        ("gexf", "application/xml", "newskg.gexf"),
        ("cytoscape", "application/json", "newskg.cyjs"),
        ("csv", "application/zip", "newskg-csv.zip"),
        ("turtle", "text/turtle", "newskg.ttl"),
        ("trig", "application/trig", "newskg.trig"),
        ("nquads", "application/n-quads", "newskg.nq"),
        ("ntriples", "application/n-triples", "newskg.nt"),
        ("jsonld", "application/ld+json", "newskg.jsonld"),
        ("rdfxml", "application/rdf+xml", "newskg.rdf"),
    ],
)
def test_api_serves_each_format(
    client: TestClient, small: OxigraphStore, tmp_path: Path, fmt: str, media_type: str, filename: str
) -> None:
    response = client.get("/export", params={"format": fmt})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    counts = sparql_counts(small)
    path = tmp_path / filename
    path.write_bytes(response.content)
    if fmt == "graphml":
        graph = nx.read_graphml(path)
        assert (graph.number_of_nodes(), graph.number_of_edges()) == (counts["nodes"], counts["edges"])
    elif fmt == "gexf":
        graph = nx.read_gexf(path, version="1.3")
        assert (graph.number_of_nodes(), graph.number_of_edges()) == (counts["nodes"], counts["edges"])
    elif fmt == "cytoscape":
        elements = response.json()["elements"]
        assert (len(elements["nodes"]), len(elements["edges"])) == (counts["nodes"], counts["edges"])
    elif fmt == "csv":
        with zipfile.ZipFile(path) as archive:
            nodes = list(csv.DictReader(io.StringIO(archive.read("nodes.csv").decode("utf-8"))))
            edges = list(csv.DictReader(io.StringIO(archive.read("edges.csv").decode("utf-8"))))
        assert (len(nodes), len(edges)) == (counts["nodes"], counts["edges"])
    elif fmt in ("trig", "nquads", "jsonld"):
        rdf_format = {"trig": "trig", "nquads": "nquads", "jsonld": "json-ld"}[fmt]
        assert len(_dataset(response.content, rdf_format)) == len(ARTICLES)
    else:
        rdf_format = {"turtle": "turtle", "ntriples": "nt", "rdfxml": "xml"}[fmt]
        graph = rdflib.Graph().parse(data=response.content, format=rdf_format)
        assert len(graph) == small.stats().default_graph_triples


def test_api_filters_and_csv_parts(client: TestClient) -> None:
    params: dict[str, Any] = {"format": "csv", "part": "edges", "relation": ["supports", "warnsAbout"]}
    response = client.get(
        "/export", params=params | {"voice": "claimed", "type": ["Country", "Organization"]}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {(r["relation"], r["statements"], r["speakers"]) for r in rows} == {
        ("supports", "2", "NATO; Olaf Scholz"),
        ("warnsAbout", "1", "NATO"),
    }
    nodes = client.get(
        "/export", params={"format": "csv", "part": "nodes", "since": "2024-12", "language": "de"}
    )
    assert {r["label"] for r in csv.DictReader(io.StringIO(nodes.text))} == {
        "Deutschland",
        "Ukraine",
        "Olaf Scholz",
        "Max Muster",
    }
    high = client.get("/export", params={"format": "cytoscape", "min_confidence": 0.85})
    assert len(high.json()["elements"]["edges"]) == 3


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"format": "gexf", "since": "2024-13"}, 400, "since '2024-13' is not a date"),
        ({"format": "gexf", "since": "2025", "until": "2024"}, 400, "swap them"),
        ({"format": "turtle", "relation": "supports"}, 400, "the filters apply to graphml"),
        ({"format": "gexf", "part": "nodes"}, 400, "part=nodes applies to format=csv only"),
        ({"format": "gexf", "relation": "support"}, 422, "Input should be 'supports'"),
        ({"format": "gexf", "min_confidence": 2}, 422, "less than or equal to 1"),
        ({"format": "dot"}, 422, "Input should be 'graphml'"),
    ],
)
def test_api_refuses_bad_parameters(
    client: TestClient, params: dict[str, Any], status: int, detail: str
) -> None:
    response = client.get("/export", params=params)
    assert response.status_code == status
    assert detail in response.text
    if status == 400:
        assert response.json()["error"] == "bad_request"


def test_export_is_documented_in_openapi(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/export"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {
        "format",
        "relation",
        "type",
        "since",
        "until",
        "min_confidence",
        "voice",
        "language",
        "part",
    }
    assert all(p.get("description") for p in parameters.values())
    assert "application/xml" in operation["responses"]["200"]["content"]


# --------------------------------------------------------------------------- the sample build (slow)


@pytest.mark.slow
def test_sample_projection_matches_sparql_counts(sample: OxigraphStore, tmp_path: Path) -> None:
    counts = sparql_counts(sample)
    projection = project(sample)
    check_graph_files(projection, counts, tmp_path)
    cytoscape = to_cytoscape(projection)["elements"]
    assert (len(cytoscape["nodes"]), len(cytoscape["edges"])) == (counts["nodes"], counts["edges"])


@pytest.mark.slow
def test_sample_filters_reduce_counts_as_sparql_says(sample: OxigraphStore) -> None:
    everything = project(sample)

    def count(sparql: str) -> int:
        return int(sample.select(sparql)[0]["n"] or 0)

    supports = project(sample, make_filter(relations=["supports"]))
    assert len(supports.edges) == count("SELECT (COUNT(*) AS ?n) WHERE { ?s kg:supports ?o }")

    claimed = project(sample, make_filter(voice="claimed"))
    stated = project(sample, make_filter(voice="stated"))
    distinct_triples = """SELECT (COUNT(DISTINCT ?key) AS ?n) WHERE {{
      ?st kg:subject ?s ; kg:relation ?r ; kg:object ?o ; kg:modality ?m FILTER (?m != kg:Negated)
      {voice}
      BIND (IF(?r IN ({symmetric}) && STR(?o) < STR(?s), CONCAT(STR(?o), STR(?r), STR(?s)),
               CONCAT(STR(?s), STR(?r), STR(?o))) AS ?key)
    }}"""
    assert len(claimed.edges) == count(
        distinct_triples.format(voice="FILTER EXISTS { ?st kg:claimedBy ?who }", symmetric=_SYMMETRIC)
    )
    assert len(stated.edges) == count(
        distinct_triples.format(voice="FILTER NOT EXISTS { ?st kg:claimedBy ?who }", symmetric=_SYMMETRIC)
    )
    assert sum(e.statements for e in claimed.edges) + sum(e.statements for e in stated.edges) == sum(
        e.statements for e in everything.edges
    )

    actors = project(sample, make_filter(types=["Person", "Country"]))
    assert {n.type for n in actors.nodes} <= {"Person", "Country"}
    assert len(actors.edges) == count(
        f"""SELECT (COUNT(DISTINCT ?key) AS ?n) WHERE {{
          ?s ?r ?o . VALUES ?r {{ {_RELATION_VALUES} }}
          ?s a ?a . ?o a ?b . FILTER (?a IN (kg:Person, kg:Country) && ?b IN (kg:Person, kg:Country))
          BIND (IF(?r IN ({_SYMMETRIC}) && STR(?o) < STR(?s), CONCAT(STR(?o), STR(?r), STR(?s)),
                   CONCAT(STR(?s), STR(?r), STR(?o))) AS ?key)
        }}"""
    )

    for flt in (
        make_filter(min_confidence=0.7),
        make_filter(since="2024-12"),
        make_filter(until="2024-11"),
        make_filter(relations=["supports"], voice="claimed"),
    ):
        subset = project(sample, flt)
        assert 0 < len(subset.edges) < len(everything.edges), flt
        assert {e.id for e in subset.edges} <= {e.id for e in everything.edges}
        assert sum(e.statements for e in subset.edges) < sum(e.statements for e in everything.edges)

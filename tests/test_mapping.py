"""kg.mapping: a hand-made Extraction becomes exactly the graph of ontology/README.md."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic, to_isomorphic
from rdflib.namespace import RDFS, XSD

from kg.errors import InputError
from kg.mapping import (
    article_iri,
    date_literal,
    entity_iri,
    entity_key,
    graph_iri,
    slugify,
    statement_iri,
    to_graph,
)
from kg.model import Article, Entity, Extraction, Mention, Statement
from kg.vocab import KG, SCHEMA

BASE = "https://w3id.org/newskg/id/"
TEXT = "Die Nato wirft Russland Unterstützung für Nordkorea vor. Moskau liefert keine Waffen."
ARTICLE = Article(
    text=TEXT,
    name="001_test.txt",
    url="https://example.org/nk",
    title="Nato wirft Russland Unterstützung vor",
    date="2024-12-04",
    source="stern",
    language="de",
)
RUSSIA = Entity("Q159", "Country", "Russland", "Russland", "Russia", "Q159", "sovereign state")
NATO = Entity("Q7184", "Organization", "NATO", "NATO", "NATO", "Q7184")
NORTH_KOREA = Entity("Q423", "Country", "Nordkorea", "Nordkorea", "North Korea", "Q423")
SUPPORTS = Statement("Q159", "supports", "Q423", "Q7184", "asserted", 0.8, 0, 56, TEXT[0:56], "Unterstützung")
NEGATED = Statement("Q159", "supplies", "Q423", None, "negated", 0.7, 57, 85, TEXT[57:85])
EXTRACTION = Extraction(
    article=ARTICLE,
    entities=(RUSSIA, NATO, NORTH_KOREA),
    mentions=(
        Mention("Q7184", 4, 8, "Nato"),
        Mention("Q159", 15, 23, "Russland"),
        Mention("Q423", 42, 51, "Nordkorea"),
        Mention("Q159", 57, 63, "Moskau"),
    ),
    statements=(SUPPORTS, NEGATED),
    extractor="newskg-rules-0.1.0",
)

EXPECTED = """
@prefix kg: <https://w3id.org/newskg/ontology#> .
@prefix schema: <https://schema.org/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix wd: <http://www.wikidata.org/entity/> .

<https://w3id.org/newskg/id/article/bc03aa3c3efe61f6>
    a schema:NewsArticle ;
    kg:fileName "001_test.txt" ;
    schema:url "https://example.org/nk"^^xsd:anyURI ;
    schema:headline "Nato wirft Russland Unterstützung vor" ;
    schema:datePublished "2024-12-04"^^xsd:date ;
    schema:inLanguage "de" ;
    kg:source "stern" ;
    schema:text "Die Nato wirft Russland Unterstützung für Nordkorea vor. Moskau liefert keine Waffen." ;
    kg:textLength 85 ;
    kg:contentHash "05888526b04f662c6d69b1fbe9b7af5595d4ce8cdaa983cef917c4f0889d722a" ;
    kg:extractorVersion "newskg-rules-0.1.0" ;
    schema:mentions <https://w3id.org/newskg/id/entity/Q159> , <https://w3id.org/newskg/id/entity/Q7184> ,
        <https://w3id.org/newskg/id/entity/Q423> .

<https://w3id.org/newskg/id/entity/Q159>
    a kg:Country ;
    rdfs:label "Russland"@de , "Russia"@en ;
    owl:sameAs wd:Q159 ; kg:wikidataId "Q159" ;
    schema:description "sovereign state"@en ;
    kg:surfaceForm "Russland" , "Moskau" .

<https://w3id.org/newskg/id/entity/Q7184>
    a kg:Organization ;
    rdfs:label "NATO"@de , "NATO"@en ;
    owl:sameAs wd:Q7184 ; kg:wikidataId "Q7184" ;
    kg:surfaceForm "Nato" .

<https://w3id.org/newskg/id/entity/Q423>
    a kg:Country ;
    rdfs:label "Nordkorea"@de , "North Korea"@en ;
    owl:sameAs wd:Q423 ; kg:wikidataId "Q423" ;
    kg:surfaceForm "Nordkorea" .

<https://w3id.org/newskg/id/activity/bc03aa3c3efe61f6>
    a kg:ExtractionActivity , prov:Activity ;
    prov:used <https://w3id.org/newskg/id/article/bc03aa3c3efe61f6> ;
    kg:extractorVersion "newskg-rules-0.1.0" .

<https://w3id.org/newskg/id/statement/bc03aa3c3efe61f6/3a4c471466aeaf4e>
    a kg:Statement ;
    kg:subject <https://w3id.org/newskg/id/entity/Q159> ;
    kg:relation kg:supports ;
    kg:object <https://w3id.org/newskg/id/entity/Q423> ;
    kg:claimedBy <https://w3id.org/newskg/id/entity/Q7184> ;
    kg:modality kg:Asserted ;
    kg:confidence "0.8"^^xsd:decimal ;
    kg:evidenceText "Die Nato wirft Russland Unterstützung für Nordkorea vor." ;
    kg:beginIndex 0 ; kg:endIndex 56 ;
    kg:article <https://w3id.org/newskg/id/article/bc03aa3c3efe61f6> ;
    prov:wasDerivedFrom <https://w3id.org/newskg/id/article/bc03aa3c3efe61f6> ;
    kg:articleDate "2024-12-04"^^xsd:date ;
    kg:extractorVersion "newskg-rules-0.1.0" ;
    prov:wasGeneratedBy <https://w3id.org/newskg/id/activity/bc03aa3c3efe61f6> ;
    kg:trigger "Unterstützung" .

<https://w3id.org/newskg/id/statement/bc03aa3c3efe61f6/ba9a93d18927f157>
    a kg:Statement ;
    kg:subject <https://w3id.org/newskg/id/entity/Q159> ;
    kg:relation kg:supplies ;
    kg:object <https://w3id.org/newskg/id/entity/Q423> ;
    kg:modality kg:Negated ;
    kg:confidence "0.7"^^xsd:decimal ;
    kg:evidenceText "Moskau liefert keine Waffen." ;
    kg:beginIndex 57 ; kg:endIndex 85 ;
    kg:article <https://w3id.org/newskg/id/article/bc03aa3c3efe61f6> ;
    prov:wasDerivedFrom <https://w3id.org/newskg/id/article/bc03aa3c3efe61f6> ;
    kg:articleDate "2024-12-04"^^xsd:date ;
    kg:extractorVersion "newskg-rules-0.1.0" ;
    prov:wasGeneratedBy <https://w3id.org/newskg/id/activity/bc03aa3c3efe61f6> .

<https://w3id.org/newskg/id/entity/Q159> kg:supports <https://w3id.org/newskg/id/entity/Q423> .
"""


def parse(turtle: str) -> Graph:
    return Graph().parse(data=turtle, format="turtle")


def test_extraction_maps_to_the_expected_graph() -> None:
    graph = to_graph(EXTRACTION, base_iri=BASE)
    expected = parse(EXPECTED)
    if not isomorphic(graph, expected):
        got, want = to_isomorphic(graph), to_isomorphic(expected)
        missing = sorted(t for t in want if t not in got)
        extra = sorted(t for t in got if t not in want)
        pytest.fail(f"missing: {missing}\nextra: {extra}")
    assert graph.identifier == URIRef(f"{BASE}graph/{ARTICLE.key}")


def test_negated_statement_has_no_direct_triple() -> None:
    graph = to_graph(EXTRACTION, base_iri=BASE)
    russia, north_korea = entity_iri("Q159", base_iri=BASE), entity_iri("Q423", base_iri=BASE)
    assert (russia, KG.supplies, north_korea) not in graph
    assert (None, KG.relation, KG.supplies) in graph  # the statement node is still there
    assert (russia, KG.supports, north_korea) in graph


@pytest.mark.parametrize("modality", ["asserted", "hedged", "planned"])
def test_every_other_modality_has_a_direct_triple(modality: str) -> None:
    statement = replace(NEGATED, modality=modality)  # type: ignore[arg-type]
    graph = to_graph(replace(EXTRACTION, statements=(statement,)), base_iri=BASE)
    assert (entity_iri("Q159", base_iri=BASE), KG.supplies, entity_iri("Q423", base_iri=BASE)) in graph


def test_mapping_is_deterministic_and_has_no_blank_nodes() -> None:
    first, second = to_graph(EXTRACTION, base_iri=BASE), to_graph(EXTRACTION, base_iri=BASE)
    assert set(first) == set(second)
    assert not any(isinstance(node, BNode) for triple in first for node in triple)


def test_iris_follow_the_scheme() -> None:
    assert article_iri("abc", base_iri=BASE) == URIRef(BASE + "article/abc")
    assert graph_iri("abc", base_iri="https://example.org/kg") == URIRef("https://example.org/kg/graph/abc")
    assert entity_iri("person/matthew-miller", base_iri=BASE) == URIRef(BASE + "entity/person/matthew-miller")
    # pinned: a changed hash would orphan every stored statement
    assert statement_iri(ARTICLE.key, SUPPORTS, base_iri=BASE) == URIRef(
        BASE + "statement/bc03aa3c3efe61f6/3a4c471466aeaf4e"
    )


def test_statement_iri_ignores_confidence_and_trigger_but_not_the_speaker() -> None:
    iri = statement_iri("k", SUPPORTS, base_iri=BASE)
    assert statement_iri("k", replace(SUPPORTS, confidence=0.1, trigger=None), base_iri=BASE) == iri
    assert statement_iri("k", replace(SUPPORTS, speaker=None), base_iri=BASE) != iri
    assert statement_iri("k", replace(SUPPORTS, evidence_end=55), base_iri=BASE) != iri


def test_duplicate_statements_become_one_node_with_the_highest_confidence() -> None:
    twice = replace(EXTRACTION, statements=(SUPPORTS, replace(SUPPORTS, confidence=0.95), SUPPORTS))
    graph = to_graph(twice, base_iri=BASE)
    assert list(graph.objects(None, KG.confidence)) == [Literal("0.95", datatype=XSD.decimal)]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Jürgen Müller-Lüdenscheidt", "juergen-mueller-luedenscheidt"),
        ("Matthew Miller", "matthew-miller"),
        ("Straße der Ölförderländer", "strasse-der-oelfoerderlaender"),
        ("ÄÖÜ", "aeoeue"),
        ("Jean-Yves Le Drian", "jean-yves-le-drian"),
        ("  Emmanuel  Macron!  ", "emmanuel-macron"),
        ("Se\u0301bastien", "sebastien"),  # decomposed accent
        ("Mu\u0308ller", "mueller"),  # decomposed umlaut: NFC first
        ("Путин", ""),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_entity_key_is_stable_and_typed() -> None:
    assert entity_key("Person", "Matthew Miller") == "person/matthew-miller"
    assert entity_key("Organization", "Bundeswehr") == "organization/bundeswehr"
    assert entity_key("Person", "Путин") == entity_key("Person", "Путин")
    assert entity_key("Person", "Путин").startswith("person/h-")
    assert entity_key("Person", "Путин") != entity_key("Person", "Лавров")


def test_unknown_entity_gets_its_name_in_the_article_language() -> None:
    miller = Entity(entity_key("Person", "Matthew Miller"), "Person", "Matthew Miller")
    graph = to_graph(replace(EXTRACTION, entities=(miller,)), base_iri=BASE)
    node = URIRef(BASE + "entity/person/matthew-miller")
    assert set(graph.objects(node, RDFS.label)) == {Literal("Matthew Miller", lang="de")}
    assert (node, KG.wikidataId, None) not in graph


@pytest.mark.parametrize(
    ("value", "lexical", "datatype"),
    [
        ("2024", "2024", XSD.gYear),
        ("2024-06", "2024-06", XSD.gYearMonth),
        ("2024-12-04", "2024-12-04", XSD.date),
        ("2024-12-04T18:49", "2024-12-04T18:49:00", XSD.dateTime),
        ("2024-12-04T18:49:30Z", "2024-12-04T18:49:30Z", XSD.dateTime),
        ("2024-12-04T18:49+01:00", "2024-12-04T18:49:00+01:00", XSD.dateTime),
    ],
)
def test_dates_are_typed_by_precision(value: str, lexical: str, datatype: URIRef) -> None:
    assert date_literal(value) == Literal(lexical, datatype=datatype)
    graph = to_graph(replace(EXTRACTION, article=replace(ARTICLE, date=value)), base_iri=BASE)
    assert set(graph.objects(None, SCHEMA.datePublished)) == {Literal(lexical, datatype=datatype)}
    assert set(graph.objects(None, KG.articleDate)) == {Literal(lexical, datatype=datatype)}


@pytest.mark.parametrize("value", ["04.12.2024", "2024-13", "2024-02-30", "2024-12-04T25:00", "yesterday"])
def test_bad_date_is_an_input_error_naming_the_article(value: str) -> None:
    with pytest.raises(InputError, match=r"001_test\.txt"):
        to_graph(replace(EXTRACTION, article=replace(ARTICLE, date=value)), base_iri=BASE)


def test_article_without_optional_metadata() -> None:
    bare = replace(ARTICLE, url=None, title=None, date=None, source=None, language=None)
    graph = to_graph(replace(EXTRACTION, article=bare, statements=(SUPPORTS,)), base_iri=BASE)
    node = article_iri(bare.key, base_iri=BASE)
    for prop in (SCHEMA.url, SCHEMA.headline, SCHEMA.datePublished, SCHEMA.inLanguage, KG.source):
        assert (node, prop, None) not in graph
    assert (None, KG.articleDate, None) not in graph


def test_holds_role_carries_the_office_as_role_label() -> None:
    rutte = Entity("Q57792", "Person", "Mark Rutte", None, "Mark Rutte", "Q57792")
    role = Statement(
        "Q57792", "holdsRole", "Q7184", None, "asserted", 0.9, 0, 56, TEXT[0:56], "Generalsekretär"
    )
    graph = to_graph(replace(EXTRACTION, entities=(rutte, NATO), statements=(role,)), base_iri=BASE)
    assert set(graph.objects(None, KG.roleLabel)) == {Literal("Generalsekretär")}
    assert (None, KG.roleLabel, None) not in to_graph(EXTRACTION, base_iri=BASE)


@pytest.mark.parametrize(
    ("confidence", "lexical"), [(0.8, "0.8"), (1.0, "1.0"), (0.0, "0.0"), (0.12345, "0.1235")]
)
def test_confidence_is_a_canonical_decimal(confidence: float, lexical: str) -> None:
    graph = to_graph(
        replace(EXTRACTION, statements=(replace(SUPPORTS, confidence=confidence),)), base_iri=BASE
    )
    assert list(graph.objects(None, KG.confidence)) == [Literal(lexical, datatype=XSD.decimal)]

"""kg/vocab.py and ontology/kg.ttl declare the same terms, each labelled and explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from kg.model import RELATIONS
from kg.vocab import KG, KG_IRI, MODALITY_IRIS, RELATION_IRIS

ONTOLOGY = Path(__file__).resolve().parent.parent / "ontology"


@pytest.fixture(scope="module")
def ontology() -> Graph:
    graph = Graph()
    graph.parse(ONTOLOGY / "kg.ttl", format="turtle")
    return graph


def vocab_terms() -> set[URIRef]:
    return {KG[name] for name in KG.__annotations__ if not name.startswith("_")}


def test_every_vocab_term_is_declared_with_labels_and_comment(ontology: Graph) -> None:
    problems = []
    for term in sorted(vocab_terms()):
        if (term, RDF.type, None) not in ontology:
            problems.append(f"{term}: no rdf:type in kg.ttl")
        for lang in ("de", "en"):
            labels = [
                o for o in ontology.objects(term, RDFS.label) if isinstance(o, Literal) and o.language == lang
            ]
            if len(labels) != 1:
                problems.append(f"{term}: expected one rdfs:label @{lang}, found {len(labels)}")
        comments = [
            o for o in ontology.objects(term, RDFS.comment) if isinstance(o, Literal) and o.language == "en"
        ]
        if not comments:
            problems.append(f"{term}: no rdfs:comment @en")
    assert not problems, "\n".join(problems)


def test_every_term_of_the_ontology_is_in_the_vocab(ontology: Graph) -> None:
    declared = {
        s
        for s in ontology.subjects()
        if isinstance(s, URIRef) and str(s).startswith(KG_IRI) and str(s) != KG_IRI
    }
    assert declared - vocab_terms() == set(), "terms in kg.ttl missing from kg/vocab.py"
    assert vocab_terms() - declared == set(), "terms in kg/vocab.py missing from kg.ttl"


def test_no_term_outside_the_declared_ones_is_used(ontology: Graph) -> None:
    used = {
        node
        for triple in ontology
        for node in triple
        if isinstance(node, URIRef) and str(node).startswith(KG_IRI)
    }
    assert used <= vocab_terms(), f"undeclared kg: terms used in kg.ttl: {sorted(used - vocab_terms())}"


def test_relations_and_modalities_match_the_model(ontology: Graph) -> None:
    assert set(RELATION_IRIS) == set(RELATIONS)
    for iri in RELATION_IRIS.values():
        assert (iri, RDFS.domain, None) in ontology, f"{iri} has no rdfs:domain"
        assert (iri, RDFS.range, None) in ontology, f"{iri} has no rdfs:range"
    for iri in MODALITY_IRIS.values():
        assert (iri, RDF.type, KG.Modality) in ontology


def test_misspelled_term_fails_at_once() -> None:
    with pytest.raises(AttributeError):
        _ = KG.suports

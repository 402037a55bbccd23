"""The ontology's terms as Python names: the only place IRIs are spelled.

`KG` mirrors `ontology/kg.ttl` term by term; `tests/test_vocab.py` fails when
the two drift apart. Being a `DefinedNamespace`, a misspelled term
(``KG.suports``) raises at once instead of minting a wrong IRI.

Resource IRIs (articles, entities, statements) are minted in `kg.mapping`
from `Settings.base_iri`; see ontology/README.md for the scheme.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

from kg.model import ENTITY_TYPES, RELATIONS, EntityType, Modality, Relation

KG_IRI = "https://w3id.org/newskg/ontology#"


class KG(DefinedNamespace):
    """The newskg ontology (ontology/kg.ttl)."""

    _NS = Namespace(KG_IRI)
    _fail = True

    # Classes
    Entity: URIRef
    Actor: URIRef
    Person: URIRef
    Organization: URIRef
    Country: URIRef
    Place: URIRef
    Location: URIRef
    Other: URIRef
    Statement: URIRef
    Modality: URIRef
    ExtractionActivity: URIRef

    # Modalities (instances of kg:Modality)
    Asserted: URIRef
    Hedged: URIRef
    Negated: URIRef
    Planned: URIRef

    # Relations between entities (the 16 of shared/eval/README.md)
    supports: URIRef
    supplies: URIRef
    warnsAbout: URIRef
    accuses: URIRef
    threatens: URIRef
    criticizes: URIRef
    condemns: URIRef
    meets: URIRef
    visits: URIRef
    sanctions: URIRef
    deploysTroopsTo: URIRef
    attacks: URIRef
    partnerOf: URIRef
    negotiatesWith: URIRef
    holdsRole: URIRef
    memberOf: URIRef

    # Statement properties
    subject: URIRef
    relation: URIRef
    object: URIRef
    claimedBy: URIRef
    modality: URIRef
    confidence: URIRef
    evidenceText: URIRef
    beginIndex: URIRef
    endIndex: URIRef
    article: URIRef
    articleDate: URIRef
    extractorVersion: URIRef
    trigger: URIRef
    roleLabel: URIRef

    # Entity properties
    wikidataId: URIRef
    surfaceForm: URIRef

    # Article properties
    fileName: URIRef
    source: URIRef
    contentHash: URIRef
    textLength: URIRef


WD = Namespace("http://www.wikidata.org/entity/")
SCHEMA = Namespace("https://schema.org/")

MODALITY_IRIS: dict[Modality, URIRef] = {
    "asserted": KG.Asserted,
    "hedged": KG.Hedged,
    "negated": KG.Negated,
    "planned": KG.Planned,
}

RELATION_IRIS: dict[str, URIRef] = {name: KG[name] for name in RELATIONS}
#: The other way round: a relation IRI (as a string, what query results give) to its name.
RELATION_BY_IRI: dict[str, Relation] = {str(KG[name]): name for name in RELATIONS}
#: An entity class IRI (as a string) to its entity type.
ENTITY_TYPE_BY_IRI: dict[str, EntityType] = {str(KG[name]): name for name in ENTITY_TYPES}

#: Prefixes that `kg query` and the endpoint declare for every query, so an
#: analyst can write ``?who kg:supports ?whom`` without a PREFIX line.
PREFIXES: dict[str, str] = {
    "kg": KG_IRI,
    "schema": str(SCHEMA),
    "wd": str(WD),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "dct": "http://purl.org/dc/terms/",
}

"""Extraction -> RDF: one article's named graph, exactly as ontology/README.md says.

Pure: no I/O, no clock, no randomness. The same `Extraction` and base IRI
always give the same triples, and no blank nodes, so a graph can be compared
with `rdflib.compare.isomorphic` and re-ingesting an unchanged article is a
no-op. Every resource IRI of the knowledge graph is minted here and nowhere
else (see docs/decisions/0005-rdf-model.md).

The model, in short: an article node (`schema:NewsArticle`) with its text,
one node per entity it mentions, one `kg:Statement` per extracted relation
(who, what, whom, who says so, how hedged, which sentence) and, for every
statement that is not negated, the direct triple ``<subject> kg:supports
<object>`` so that simple questions stay simple.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, XSD

from kg.errors import InputError
from kg.model import Article, Entity, EntityType, Extraction, Statement, sha256_hex
from kg.vocab import KG, MODALITY_IRIS, PREFIXES, RELATION_IRIS, SCHEMA, WD

__all__ = [
    "activity_iri",
    "article_iri",
    "date_literal",
    "entity_iri",
    "entity_key",
    "graph_iri",
    "slugify",
    "statement_iri",
    "to_graph",
]

# --------------------------------------------------------------------------
# IRI minting (ontology/README.md, "IRIs")
# --------------------------------------------------------------------------


def _base(base_iri: str) -> str:
    """The base with a trailing separator, so ``B + "article/"`` is always a path segment."""
    return base_iri if base_iri.endswith(("/", "#")) else base_iri + "/"


def article_iri(article_key: str, *, base_iri: str) -> URIRef:
    """``B/article/<key>``: the article node (`Article.key`, 16 hex digits)."""
    return URIRef(f"{_base(base_iri)}article/{quote(article_key, safe='')}")


def graph_iri(article_key: str, *, base_iri: str) -> URIRef:
    """``B/graph/<key>``: the named graph that holds everything one article says."""
    return URIRef(f"{_base(base_iri)}graph/{quote(article_key, safe='')}")


def activity_iri(article_key: str, *, base_iri: str) -> URIRef:
    """``B/activity/<key>``: the extraction run that generated the article's statements."""
    return URIRef(f"{_base(base_iri)}activity/{quote(article_key, safe='')}")


def entity_iri(entity_key: str, *, base_iri: str) -> URIRef:
    """``B/entity/<key>``: ``.../entity/Q159`` or ``.../entity/person/matthew-miller``.

    Keys are Wikidata ids or `entity_key` slugs, which need no escaping; any
    other character is percent-encoded so the IRI stays valid.
    """
    return URIRef(f"{_base(base_iri)}entity/{quote(entity_key, safe='/')}")


def statement_iri(article_key: str, statement: Statement, *, base_iri: str) -> URIRef:
    """``B/statement/<article key>/<16 hex>``, a hash of what makes the statement itself.

    The hash covers subject, relation, object, speaker, modality and the
    evidence offsets (entity keys, not IRIs, so it does not depend on the
    base): the same claim in another sentence, or by another speaker, is
    another statement; a changed confidence or trigger is the same one.
    """
    basis = "\x1f".join(
        (
            statement.subject,
            statement.relation,
            statement.object,
            statement.speaker or "",
            statement.modality,
            str(statement.evidence_start),
            str(statement.evidence_end),
        )
    )
    return URIRef(f"{_base(base_iri)}statement/{quote(article_key, safe='')}/{sha256_hex(basis)[:16]}")


# --------------------------------------------------------------------------
# Keys for entities the knowledge base does not know
# --------------------------------------------------------------------------

_GERMAN_FOLDS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """Lowercase ASCII, '-' between words: "Jürgen Müller-Lüdenscheidt" -> "juergen-mueller-luedenscheidt".

    German umlauts and ß follow the German transliteration rule (ä -> ae,
    ö -> oe, ü -> ue, ß -> ss); other accents are dropped (é -> e). Letters
    with no ASCII form (Cyrillic, CJK) vanish, so the result may be empty:
    `entity_key` handles that.
    """
    text = unicodedata.normalize("NFC", name).lower().translate(_GERMAN_FOLDS)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_ALNUM.sub("-", ascii_text).strip("-")


def entity_key(type: EntityType, name: str) -> str:
    """The key of an entity without a Wikidata id: ``"person/matthew-miller"``.

    The same name and type in two articles give the same key, hence one node.
    A name with no ASCII letters or digits gets ``h-`` and 12 hex digits of
    its SHA-256 instead of a slug, so it still has a stable, distinct key.
    """
    slug = slugify(name) or "h-" + sha256_hex(unicodedata.normalize("NFC", name.strip()))[:12]
    return f"{type.lower()}/{slug}"


# --------------------------------------------------------------------------
# Literals
# --------------------------------------------------------------------------

_YEAR = re.compile(r"\d{4}")
_YEAR_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")


def date_literal(value: str) -> Literal:
    """An ISO 8601 date prefix as a literal typed by its precision.

    ``2024`` -> xsd:gYear, ``2024-06`` -> xsd:gYearMonth, ``2024-12-04`` ->
    xsd:date, ``2024-12-04T18:49`` -> xsd:dateTime (seconds added:
    ``2024-12-04T18:49:00``; a zone is kept when given). Raises ValueError on
    anything else, or on a day that does not exist.
    """
    text = value.strip()
    if _YEAR.fullmatch(text):
        return Literal(text, datatype=XSD.gYear)
    if _YEAR_MONTH.fullmatch(text):
        return Literal(text, datatype=XSD.gYearMonth)
    if _DATE.fullmatch(text):
        date.fromisoformat(text)  # raises on 2024-02-30
        return Literal(text, datatype=XSD.date)
    match = _DATE_TIME.fullmatch(text)
    if match:
        minutes, seconds, _, zone = match.groups()
        lexical = minutes + (seconds or ":00") + (zone or "")
        datetime.fromisoformat(lexical)  # raises on 25:00 or a bad day
        return Literal(lexical, datatype=XSD.dateTime)
    raise ValueError(
        f"date {value!r} is not an ISO 8601 prefix: "
        "expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss]"
    )


def _decimal_literal(value: float) -> Literal:
    """A confidence as xsd:decimal in canonical form with at most 4 places ("0.8", "1.0")."""
    if not math.isfinite(value):
        raise ValueError(f"confidence {value!r} is not a finite number: expected a number in [0, 1]")
    text = f"{value:.4f}".rstrip("0")
    if text.endswith("."):
        text += "0"
    if text == "-0.0":
        text = "0.0"
    return Literal(text, datatype=XSD.decimal)


def _language_tag(language: str | None) -> str | None:
    """BCP 47 spelling of the article's language ("de_DE" -> "de-DE"), or None."""
    if not language or not language.strip():
        return None
    return language.strip().replace("_", "-")


# --------------------------------------------------------------------------
# The graph
# --------------------------------------------------------------------------


def to_graph(extraction: Extraction, *, base_iri: str) -> Graph:
    """The content of the article's named graph (identifier: `graph_iri`).

    Everything ontology/README.md lists for one article, nothing else. Raises
    `InputError` when the article's date is not an ISO 8601 prefix and
    ValueError for a non-finite confidence; anything else that is wrong
    (an unknown entity key, offsets outside the text) is left for the SHACL
    shapes to report.
    """
    article = extraction.article
    graph = Graph(identifier=graph_iri(article.key, base_iri=base_iri))
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)

    article_node = article_iri(article.key, base_iri=base_iri)
    published = _article_date(article)
    _add_article(graph, article, article_node, published, extraction.extractor)

    language = _language_tag(article.language)
    for entity in extraction.entities:
        node = entity_iri(entity.key, base_iri=base_iri)
        graph.add((article_node, SCHEMA.mentions, node))
        surface_forms = {m.text for m in extraction.mentions if m.entity == entity.key}
        _add_entity(graph, entity, node, language=language, surface_forms=surface_forms)

    activity = activity_iri(article.key, base_iri=base_iri)
    graph.add((activity, RDF.type, KG.ExtractionActivity))
    graph.add((activity, RDF.type, PROV.Activity))
    graph.add((activity, PROV.used, article_node))
    graph.add((activity, KG.extractorVersion, Literal(extraction.extractor)))

    for statement in _distinct(extraction.statements, article.key):
        _add_statement(
            graph,
            statement,
            article_key=article.key,
            article_node=article_node,
            activity=activity,
            published=published,
            extractor=extraction.extractor,
            base_iri=base_iri,
        )
    return graph


def _distinct(statements: Iterable[Statement], article_key: str) -> list[Statement]:
    """One statement per statement IRI: the most confident, the first of equals.

    Two statements with the same subject, relation, object, speaker,
    modality and offsets are one node; merging them would give it two
    confidences or triggers.
    """
    best: dict[str, Statement] = {}
    for statement in statements:
        key = statement_iri(article_key, statement, base_iri="/")
        kept = best.get(key)
        if kept is None or statement.confidence > kept.confidence:
            best[key] = statement
    return list(best.values())


def _article_date(article: Article) -> Literal | None:
    if article.date is None or not article.date.strip():
        return None
    try:
        return date_literal(article.date)
    except ValueError as e:
        raise InputError(article.name, str(e)) from e


def _add_article(
    graph: Graph, article: Article, node: URIRef, published: Literal | None, extractor: str
) -> None:
    graph.add((node, RDF.type, SCHEMA.NewsArticle))
    graph.add((node, KG.fileName, Literal(article.name)))
    if article.url:
        graph.add((node, SCHEMA.url, Literal(article.url, datatype=XSD.anyURI)))
    if article.title:
        graph.add((node, SCHEMA.headline, Literal(article.title)))
    if published is not None:
        graph.add((node, SCHEMA.datePublished, published))
    language = _language_tag(article.language)
    if language:
        graph.add((node, SCHEMA.inLanguage, Literal(language)))
    if article.source:
        graph.add((node, KG.source, Literal(article.source)))
    graph.add((node, SCHEMA.text, Literal(article.text)))
    graph.add((node, KG.textLength, Literal(len(article.text))))
    graph.add((node, KG.contentHash, Literal(article.content_hash)))
    graph.add((node, KG.extractorVersion, Literal(extractor)))


def _add_entity(
    graph: Graph,
    entity: Entity,
    node: URIRef,
    *,
    language: str | None,
    surface_forms: Iterable[str],
) -> None:
    graph.add((node, RDF.type, KG[entity.type]))
    if entity.label_de:
        graph.add((node, RDFS.label, Literal(entity.label_de, lang="de")))
    if entity.label_en:
        graph.add((node, RDFS.label, Literal(entity.label_en, lang="en")))
    if not entity.label_de and not entity.label_en:
        # An unknown entity: the name as the article wrote it, in the article's language.
        graph.add((node, RDFS.label, Literal(entity.label, lang=language)))
    if entity.qid:
        graph.add((node, OWL.sameAs, WD[entity.qid]))
        graph.add((node, KG.wikidataId, Literal(entity.qid)))
    if entity.description:
        graph.add((node, SCHEMA.description, Literal(entity.description, lang="en")))
    for form in surface_forms:
        graph.add((node, KG.surfaceForm, Literal(form)))


def _add_statement(
    graph: Graph,
    statement: Statement,
    *,
    article_key: str,
    article_node: URIRef,
    activity: URIRef,
    published: Literal | None,
    extractor: str,
    base_iri: str,
) -> None:
    node = statement_iri(article_key, statement, base_iri=base_iri)
    subject = entity_iri(statement.subject, base_iri=base_iri)
    relation = RELATION_IRIS[statement.relation]
    object_ = entity_iri(statement.object, base_iri=base_iri)

    graph.add((node, RDF.type, KG.Statement))
    graph.add((node, KG.subject, subject))
    graph.add((node, KG.relation, relation))
    graph.add((node, KG.object, object_))
    if statement.speaker is not None:
        graph.add((node, KG.claimedBy, entity_iri(statement.speaker, base_iri=base_iri)))
    graph.add((node, KG.modality, MODALITY_IRIS[statement.modality]))
    graph.add((node, KG.confidence, _decimal_literal(statement.confidence)))
    graph.add((node, KG.evidenceText, Literal(statement.evidence)))
    graph.add((node, KG.beginIndex, Literal(statement.evidence_start)))
    graph.add((node, KG.endIndex, Literal(statement.evidence_end)))
    graph.add((node, KG.article, article_node))
    graph.add((node, PROV.wasDerivedFrom, article_node))
    if published is not None:
        graph.add((node, KG.articleDate, published))
    graph.add((node, KG.extractorVersion, Literal(extractor)))
    graph.add((node, PROV.wasGeneratedBy, activity))
    if statement.trigger:
        graph.add((node, KG.trigger, Literal(statement.trigger)))
        if statement.relation == "holdsRole":
            # The pipeline's trigger for holdsRole is the office as written ("Generalsekretär").
            graph.add((node, KG.roleLabel, Literal(statement.trigger)))

    if statement.modality != "negated":
        graph.add((subject, relation, object_))

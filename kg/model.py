"""The values that flow through the builder: articles in, extractions out.

These dataclasses are the contract between the stages: `kg.io` makes
`Article`s, the NLP pipeline (`kg.pipeline`) turns one into an `Extraction`,
`kg.mapping` turns an `Extraction` into the article's RDF graph. They are
plain, frozen values with no I/O, so every stage can be tested on hand-made
instances.

Offsets are Python string indexes (Unicode code points) into `Article.text`,
half-open: ``article.text[start:end] == text``. RDF consumers get the same
numbers (see ontology/README.md, "Evidence and offsets").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal, get_args

EntityType = Literal["Person", "Organization", "Country", "Location", "Other"]
ENTITY_TYPES: tuple[EntityType, ...] = get_args(EntityType)

Modality = Literal["asserted", "hedged", "negated", "planned"]
MODALITIES: tuple[Modality, ...] = get_args(Modality)

Relation = Literal[
    "supports",
    "supplies",
    "warnsAbout",
    "accuses",
    "threatens",
    "criticizes",
    "condemns",
    "meets",
    "visits",
    "sanctions",
    "deploysTroopsTo",
    "attacks",
    "partnerOf",
    "negotiatesWith",
    "holdsRole",
    "memberOf",
]
RELATIONS: tuple[Relation, ...] = get_args(Relation)
SYMMETRIC_RELATIONS: frozenset[Relation] = frozenset({"meets", "partnerOf", "negotiatesWith"})
ACTOR_TYPES: frozenset[EntityType] = frozenset({"Person", "Organization", "Country"})
#: Entity types a relation's subject (domain) and object (range) may have, as in ontology/kg.ttl and
#: the SHACL shapes: every subject is an actor, except that only people hold roles; most objects
#: may be any entity.
RELATION_DOMAINS: dict[Relation, frozenset[EntityType]] = {
    r: frozenset({"Person"}) if r == "holdsRole" else ACTOR_TYPES for r in RELATIONS
}
RELATION_RANGES: dict[Relation, frozenset[EntityType]] = {
    r: (
        ACTOR_TYPES
        if r in ("meets", "partnerOf", "negotiatesWith", "holdsRole")
        else frozenset({"Organization"})
        if r == "memberOf"
        else frozenset(ENTITY_TYPES)
    )
    for r in RELATIONS
}


def key_type(key: str) -> EntityType | None:
    """The type a minted entity key names (``person/...`` -> Person); None for a Wikidata id."""
    prefix = key.split("/", 1)[0] if "/" in key else ""
    return next((t for t in ENTITY_TYPES if t.lower() == prefix), None)


def sha256_hex(text: str) -> str:
    """The SHA-256 of the UTF-8 bytes of `text`, as 64 hex digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Article:
    """One news article as read from a file or a JSON line.

    `name` is where it came from, as the user would say it: the file name
    (``001_da6aaa6c03f80247.txt``) or ``feed.jsonl:17`` for a JSON line. The
    evaluation matches gold files by it.

    `date` is an ISO 8601 prefix as precise as the source is: ``2024``,
    ``2024-06``, ``2024-12-04`` or ``2024-12-04T18:49``.
    """

    text: str
    name: str
    url: str | None = None
    title: str | None = None
    date: str | None = None
    source: str | None = None
    language: str | None = None

    @property
    def content_hash(self) -> str:
        """SHA-256 of the text: decides whether a stored article is unchanged."""
        return sha256_hex(self.text)

    @property
    def key(self) -> str:
        """Stable identity: from the URL where there is one, else from the content.

        16 hex digits (64 bits) of SHA-256: collisions are negligible below
        billions of articles. See docs/decisions/0001-identities.md.
        """
        basis = f"url:{self.url}" if self.url else f"text:{self.content_hash}"
        return sha256_hex(basis)[:16]


@dataclass(frozen=True, slots=True)
class Entity:
    """A thing an article mentions, resolved to one identity.

    `key` is what the entity IRI is minted from: the Wikidata id (``Q159``)
    when the knowledge base knows it, else ``<type>/<slug of the name>``
    (``person/matthew-miller``), so the same unknown name in two articles
    is one node.
    """

    key: str
    type: EntityType
    label: str
    label_de: str | None = None
    label_en: str | None = None
    qid: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    """One place in the text that names an entity: ``text == article.text[start:end]``."""

    entity: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Statement:
    """One relation the article states or reports, with where and who says so.

    `speaker` is the entity key of whoever the article attributes the claim
    to, or None for the article's own voice. `evidence` is the sentence,
    ``article.text[evidence_start:evidence_end]``.
    """

    subject: str
    relation: Relation
    object: str
    speaker: str | None
    modality: Modality
    confidence: float
    evidence_start: int
    evidence_end: int
    evidence: str
    trigger: str | None = None


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything the pipeline found in one article."""

    article: Article
    entities: tuple[Entity, ...]
    mentions: tuple[Mention, ...]
    statements: tuple[Statement, ...]
    extractor: str
    sentences: tuple[tuple[int, int], ...] = field(default=())

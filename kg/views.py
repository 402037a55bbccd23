"""Read views for applications: entity search, an entity with its relations, statements, articles.

The SPARQL behind the JSON endpoints of the service (``/api/...``, see
`api.routes.entities`) and the entity page lives here, so the library owns
its queries and a notebook gets the same answers as the web page::

    from kg.store import open_store
    from kg.views import entity, search_entities

    with open_store(Path("kg-store")) as store:
        hits = search_entities(store, "rutte")
        rutte = entity(store, hits[0].iri)

Every function runs a handful of small SELECT queries over the store's
default graph (the union of the article graphs, ontology/README.md) and
returns frozen dataclasses; FastAPI documents them as they are. Entities are
the nodes typed with one of the five entity classes; their relations are
read from the `kg:Statement` nodes, not the direct triples, so negated
statements are counted too (and flagged), and every count is a count of
statements, as in the exports. User text and IRIs enter the queries only as
escaped literals and validated IRIs (pyoxigraph's N-Triples forms), never
spliced in raw. Decision: docs/decisions/0013-web-ui-and-rest.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import unquote

import pyoxigraph as ox
from pydantic import Field

from kg.errors import QueryError
from kg.model import ENTITY_TYPES, MODALITIES, EntityType, Modality, Relation
from kg.store import Store
from kg.vocab import ENTITY_TYPE_BY_IRI, KG, KG_IRI, MODALITY_IRIS, RELATION_BY_IRI, RELATION_IRIS

__all__ = [
    "ArticleRef",
    "ArticleSummary",
    "Claim",
    "EntityDetail",
    "EntityHit",
    "EntityRef",
    "Language",
    "Link",
    "RelationGroup",
    "StatementView",
    "articles",
    "entity",
    "entity_iri_of",
    "entity_key_of",
    "search_entities",
    "statements",
]

Language = Literal["de", "en"]
MatchKind = Literal["exact", "prefix", "word"]
Direction = Literal["outgoing", "incoming"]

#: The longest search text accepted; a name is never longer.
MAX_SEARCH_LENGTH = 200

_TYPE_VALUES = " ".join(f"kg:{t}" for t in ENTITY_TYPES)
_MODALITY_NAMES: dict[str, Modality] = {str(iri): name for name, iri in MODALITY_IRIS.items()}
_MATCH_KINDS: tuple[MatchKind, ...] = ("exact", "prefix", "word")
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_DESCRIPTION = "https://schema.org/description"


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class EntityRef:
    """An entity as a counterpart, speaker or statement end: enough to draw and link it."""

    iri: Annotated[str, Field(description="The entity's IRI.")]
    key: Annotated[
        str | None,
        Field(description="Its key (`Q57792`, `person/kurt-campbell`): /api/entities/{key}; null off-base."),
    ]
    label: Annotated[str, Field(description="Its label in the requested language, else another one.")]
    type: Annotated[EntityType | None, Field(description="One of the five entity classes.")]
    qid: Annotated[str | None, Field(description="Wikidata id, when known.")]


@dataclass(frozen=True, slots=True)
class EntityHit:
    """One search result."""

    iri: Annotated[str, Field(description="The entity's IRI.")]
    key: Annotated[str | None, Field(description="Its key, for /api/entities/{key}.")]
    label: Annotated[str, Field(description="Its label in the requested language, else another one.")]
    type: Annotated[EntityType | None, Field(description="One of the five entity classes.")]
    qid: Annotated[str | None, Field(description="Wikidata id, when known.")]
    matched: Annotated[str, Field(description="The label or alias that matched the search text.")]
    match: Annotated[
        MatchKind,
        Field(description="exact (the whole name), prefix (its start) or word (the start of a later word)."),
    ]
    articles: Annotated[int, Field(description="Articles that mention the entity.")]


@dataclass(frozen=True, slots=True)
class Link:
    """The statements that link the entity with one counterpart by one relation, in one direction."""

    entity: Annotated[EntityRef, Field(description="The counterpart.")]
    statements: Annotated[int, Field(description="Statements, negated ones included.")]
    articles: Annotated[int, Field(description="Articles those statements come from.")]
    negated: Annotated[int, Field(description="How many of the statements are negated (kg:Negated).")]
    first_date: Annotated[str | None, Field(description="Earliest article date (ISO 8601 prefix).")]
    last_date: Annotated[str | None, Field(description="Latest article date (ISO 8601 prefix).")]


@dataclass(frozen=True, slots=True)
class RelationGroup:
    """All links of one relation in one direction, most statements first."""

    relation: Annotated[Relation, Field(description="The relation's name (`supports`).")]
    relation_iri: Annotated[str, Field(description="The relation's IRI in the newskg ontology.")]
    direction: Annotated[
        Direction, Field(description="outgoing: the entity is the subject; incoming: the object.")
    ]
    statements: Annotated[int, Field(description="Statements in this group.")]
    links: Annotated[tuple[Link, ...], Field(description="One per counterpart.")]


@dataclass(frozen=True, slots=True)
class Claim:
    """Statements the entity is reported to have made (`kg:claimedBy`), per subject, relation, object."""

    subject: EntityRef
    relation: Relation
    relation_iri: str
    object: EntityRef
    statements: Annotated[int, Field(description="Statements, negated ones included.")]
    articles: Annotated[int, Field(description="Articles those statements come from.")]
    negated: Annotated[int, Field(description="How many of them are negated.")]
    first_date: str | None
    last_date: str | None


@dataclass(frozen=True, slots=True)
class EntityDetail:
    """An entity with its labels and its relations: as subject, as object, and as speaker."""

    iri: str
    key: Annotated[str | None, Field(description="Its key, for /api/entities/{key}; null off-base.")]
    label: Annotated[str, Field(description="Its label in the requested language, else another one.")]
    labels: Annotated[dict[str, str], Field(description="Labels by language tag (`de`, `en`).")]
    type: Annotated[EntityType | None, Field(description="One of the five entity classes.")]
    qid: Annotated[str | None, Field(description="Wikidata id, when known.")]
    wikidata_url: Annotated[str | None, Field(description="https://www.wikidata.org/wiki/{qid}.")]
    description: Annotated[str | None, Field(description="The knowledge base's description.")]
    aliases: Annotated[
        tuple[str, ...], Field(description="Every way the articles wrote it (kg:surfaceForm), sorted.")
    ]
    articles: Annotated[int, Field(description="Articles that mention it.")]
    statements: Annotated[int, Field(description="Statements with it as subject or object.")]
    outgoing: Annotated[tuple[RelationGroup, ...], Field(description="Statements with it as subject.")]
    incoming: Annotated[tuple[RelationGroup, ...], Field(description="Statements with it as object.")]
    claims: Annotated[tuple[Claim, ...], Field(description="Statements attributed to it as speaker.")]


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """The article a statement comes from."""

    iri: str
    title: Annotated[str | None, Field(description="schema:headline, when known.")]
    file_name: Annotated[str, Field(description="Where it was read from (kg:fileName).")]
    url: Annotated[str | None, Field(description="schema:url, when known.")]
    date: Annotated[str | None, Field(description="schema:datePublished (ISO 8601 prefix), when known.")]
    language: str | None


@dataclass(frozen=True, slots=True)
class StatementView:
    """One statement with who says so, how firmly, in which sentence of which article."""

    iri: str
    subject: EntityRef
    relation: Relation
    relation_iri: str
    object: EntityRef
    speaker: Annotated[EntityRef | None, Field(description="kg:claimedBy; null is the article's own voice.")]
    modality: Annotated[Modality, Field(description="asserted, hedged, negated or planned.")]
    confidence: Annotated[float, Field(description="The extractor's confidence in [0, 1].")]
    evidence: Annotated[str, Field(description="The sentence the statement was read from.")]
    begin: Annotated[int, Field(description="Its start in the article text (code points).")]
    end: Annotated[int, Field(description="Its end, exclusive.")]
    trigger: Annotated[str | None, Field(description="The words that triggered the relation.")]
    article: ArticleRef


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    """One article with how much was extracted from it."""

    iri: str
    title: str | None
    file_name: str
    url: str | None
    date: str | None
    language: str | None
    source: Annotated[str | None, Field(description="kg:source, when known.")]
    statements: Annotated[int, Field(description="kg:Statement nodes read from it.")]
    entities: Annotated[int, Field(description="Entities it mentions.")]


# --------------------------------------------------------------------------- SPARQL text


def _literal(text: str) -> str:
    """`text` as a SPARQL string literal, escaped (N-Triples form is valid SPARQL)."""
    return str(ox.Literal(text))


def _iri(iri: str, what: str = "entity") -> str:
    """`iri` as a SPARQL IRI reference, after checking it is one."""
    try:
        return str(ox.NamedNode(iri))
    except ValueError as e:
        raise QueryError(f"the {what} {iri!r} is not an IRI ({e}); give an absolute IRI") from e


def _values(variable: str, iris: Iterable[str]) -> str:
    return f"VALUES ?{variable} {{ {' '.join(_iri(i) for i in iris)} }}"


def _int(value: str | None) -> int:
    return int(value) if value else 0


def _base(base_iri: str) -> str:
    return base_iri if base_iri.endswith(("/", "#")) else base_iri + "/"


def entity_key_of(iri: str, *, base_iri: str) -> str | None:
    """The key an entity IRI was minted from (`kg.mapping.entity_iri` read backwards), or None."""
    prefix = _base(base_iri) + "entity/"
    return unquote(iri[len(prefix) :]) if iri.startswith(prefix) and len(iri) > len(prefix) else None


def entity_iri_of(key_or_iri: str, *, base_iri: str) -> str:
    """An entity key (``Q57792``, ``person/kurt-campbell``) or an IRI, as the entity's IRI."""
    if "://" in key_or_iri or key_or_iri.startswith("urn:"):
        return key_or_iri
    from kg.mapping import entity_iri

    return str(entity_iri(key_or_iri, base_iri=base_iri))


# --------------------------------------------------------------------------- entity references


class _Entities:
    """Labels, types and Wikidata ids of a set of entities, read with one query."""

    def __init__(
        self, store: Store, iris: Iterable[str], *, lang: Language, base_iri: str, timeout_s: float | None
    ) -> None:
        self.lang = lang
        self.base_iri = base_iri
        self.labels: dict[str, dict[str, str]] = defaultdict(dict)
        self.types: dict[str, EntityType] = {}
        self.qids: dict[str, str] = {}
        wanted = sorted(set(iris))
        if not wanted:
            return
        rows = store.select(
            f"""SELECT ?e ?label ?lang ?type ?qid WHERE {{
              {_values("e", wanted)}
              {{ ?e rdfs:label ?label BIND (LANG(?label) AS ?lang) }}
              UNION {{ ?e a ?type VALUES ?type {{ {_TYPE_VALUES} }} }}
              UNION {{ ?e kg:wikidataId ?qid }}
            }}""",
            timeout_s=timeout_s,
        )
        for row in rows:
            e = row["e"] or ""
            if row["label"] is not None:
                self.labels[e].setdefault(row["lang"] or "", row["label"])
            if row["type"] is not None:
                self.types[e] = _type_name(row["type"])
            if row["qid"] is not None:
                self.qids[e] = row["qid"]

    def label(self, iri: str) -> str:
        return (
            _pick_label(self.labels.get(iri, {}), self.lang)
            or entity_key_of(iri, base_iri=self.base_iri)
            or iri
        )

    def ref(self, iri: str) -> EntityRef:
        return EntityRef(
            iri=iri,
            key=entity_key_of(iri, base_iri=self.base_iri),
            label=self.label(iri),
            type=self.types.get(iri),
            qid=self.qids.get(iri),
        )


def _type_name(iri: str) -> EntityType:
    name = iri[len(KG_IRI) :] if iri.startswith(KG_IRI) else ""
    if name not in ENTITY_TYPES:
        raise QueryError(f"{iri!r} is not one of the entity classes {', '.join(ENTITY_TYPES)}")
    return name


def _pick_label(labels: dict[str, str], lang: Language) -> str | None:
    """The label in `lang` (or a regional `lang-XX`), else in the other language, else any, by tag."""
    other: Language = "en" if lang == "de" else "de"
    tags = sorted(labels, key=lambda t: (t.split("-")[0] != lang, t.split("-")[0] != other, t != lang, t))
    return labels[tags[0]] if tags else None


def _relation(iri: str | None) -> Relation:
    if iri is None or iri not in RELATION_BY_IRI:
        raise QueryError(f"{iri!r} is not a relation of the newskg ontology")
    return RELATION_BY_IRI[iri]


def _modality(iri: str | None) -> Modality:
    if iri is None or iri not in _MODALITY_NAMES:
        raise QueryError(f"{iri!r} is not a modality; expected one of {', '.join(MODALITIES)}")
    return _MODALITY_NAMES[iri]


# --------------------------------------------------------------------------- search


def _match_kind(name: str, text: str) -> MatchKind | None:
    """How `name` matches the lower-cased search `text`, as the SPARQL filter decides."""
    lowered = name.lower()
    if lowered == text:
        return "exact"
    if lowered.startswith(text):
        return "prefix"
    if f" {text}" in lowered or f"-{text}" in lowered:
        return "word"
    return None


def search_entities(
    store: Store,
    text: str,
    *,
    limit: int = 10,
    lang: Language = "de",
    base_iri: str,
    timeout_s: float | None = None,
) -> list[EntityHit]:
    """Entities whose German or English label, or an alias, starts with `text`, case-insensitively.

    Aliases are the names the articles used (`kg:surfaceForm`: "Moskau" for
    Russia, "Rutte" for Mark Rutte). Ranked: exact name, then prefix of the
    name, then prefix of a later word of it ("rutte" in "Mark Rutte");
    within a rank, entities mentioned by more articles first, then by label.
    Two queries; the first scans the labels and aliases (no text index),
    which is fine up to some hundred thousand entities.
    """
    needle = " ".join(text.split()).lower()
    if not needle:
        return []
    if len(needle) > MAX_SEARCH_LENGTH:
        raise QueryError(
            f"the search text has {len(needle)} characters; the limit is {MAX_SEARCH_LENGTH}: search a name"
        )
    if limit < 1:
        raise QueryError(f"limit must be at least 1, got {limit}")
    q = _literal(needle)
    rows = store.select(
        f"""SELECT ?e (MIN(?rank0) AS ?rank) (COUNT(DISTINCT ?article) AS ?articles) WHERE {{
          {{ SELECT ?e (MIN(?r) AS ?rank0) WHERE {{
              VALUES ?type {{ {_TYPE_VALUES} }}
              ?e a ?type .
              {{ ?e rdfs:label ?name }} UNION {{ ?e kg:surfaceForm ?name }}
              BIND (LCASE(STR(?name)) AS ?lower)
              FILTER (STRSTARTS(?lower, {q}) || CONTAINS(?lower, CONCAT(" ", {q}))
                      || CONTAINS(?lower, CONCAT("-", {q})))
              BIND (IF(?lower = {q}, 0, IF(STRSTARTS(?lower, {q}), 1, 2)) AS ?r)
            }} GROUP BY ?e }}
          OPTIONAL {{ ?article schema:mentions ?e }}
        }}
        GROUP BY ?e ORDER BY ?rank DESC(?articles) ?e LIMIT {int(limit)}""",
        timeout_s=timeout_s,
    )
    if not rows:
        return []
    iris = [row["e"] or "" for row in rows]
    refs = _Entities(store, iris, lang=lang, base_iri=base_iri, timeout_s=timeout_s)
    names: dict[str, list[str]] = defaultdict(list)
    for row in store.select(
        f"""SELECT ?e ?name WHERE {{ {_values("e", iris)}
              {{ ?e rdfs:label ?name }} UNION {{ ?e kg:surfaceForm ?name }} }}""",
        timeout_s=timeout_s,
    ):
        names[row["e"] or ""].append(row["name"] or "")
    hits = []
    for row in rows:
        iri = row["e"] or ""
        ref = refs.ref(iri)
        # The best-matching name, preferring the entity's own label among equals.
        candidates = sorted(
            ((kind, name) for name in names[iri] if (kind := _match_kind(name, needle)) is not None),
            key=lambda c: (_MATCH_KINDS.index(c[0]), c[1] != ref.label, len(c[1]), c[1]),
        )
        kind, matched = candidates[0] if candidates else (_MATCH_KINDS[_int(row["rank"])], ref.label)
        hits.append(
            EntityHit(
                iri=iri,
                key=ref.key,
                label=ref.label,
                type=ref.type,
                qid=ref.qid,
                matched=matched,
                match=kind,
                articles=_int(row["articles"]),
            )
        )
    # SPARQL ranked with LCASE, Python re-derives the kind with str.lower: keep the order by kind stable.
    return sorted(hits, key=lambda h: _MATCH_KINDS.index(h.match))


# --------------------------------------------------------------------------- one entity

_AGGREGATES = """(COUNT(DISTINCT ?st) AS ?statements) (COUNT(DISTINCT ?article) AS ?articles)
  (SUM(IF(?modality = kg:Negated, 1, 0)) AS ?negated)
  (MIN(COALESCE(STR(?date), "~")) AS ?first) (MAX(COALESCE(STR(?date), "")) AS ?last)"""
# pyoxigraph's MIN/MAX are unbound as soon as one value is unbound (an undated article): the
# sentinels above sort after ("~") and before ("") every ISO date, and `_date` maps them back to None.
_STATEMENT_TAIL = """?st kg:relation ?relation ; kg:article ?article ; kg:modality ?modality .
  OPTIONAL { ?st kg:articleDate ?date }"""


def _date(value: str | None) -> str | None:
    return value if value and value != "~" else None


def entity(
    store: Store,
    iri: str,
    *,
    lang: Language = "de",
    base_iri: str,
    timeout_s: float | None = None,
) -> EntityDetail | None:
    """The entity at `iri` with its relations grouped by relation and direction, or None if unknown.

    Four queries: its own triples, its statements as subject or object
    (grouped per relation, direction and counterpart), the statements it is
    the speaker of (grouped per subject, relation, object), and the labels
    of everything it links to.
    """
    node = _iri(iri)
    own = store.select(
        f"""SELECT ?p ?o (LANG(?o) AS ?lang) WHERE {{ {node} ?p ?o .
              VALUES ?p {{ rdf:type rdfs:label kg:wikidataId schema:description kg:surfaceForm }} }}""",
        timeout_s=timeout_s,
    )
    types = {row["o"] for row in own if row["p"] == _RDF_TYPE}
    if not types & ENTITY_TYPE_BY_IRI.keys():
        return None
    mentions = store.select(
        f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ ?a schema:mentions {node} }}", timeout_s=timeout_s
    )
    relations = store.select(
        f"""SELECT ?direction ?relation ?other {_AGGREGATES} WHERE {{
          {{ ?st kg:subject {node} ; kg:object ?other . BIND ("outgoing" AS ?direction) }}
          UNION {{ ?st kg:object {node} ; kg:subject ?other . BIND ("incoming" AS ?direction) }}
          {_STATEMENT_TAIL}
        }} GROUP BY ?direction ?relation ?other""",
        timeout_s=timeout_s,
    )
    claimed = store.select(
        f"""SELECT ?subject ?relation ?object {_AGGREGATES} WHERE {{
          ?st kg:claimedBy {node} ; kg:subject ?subject ; kg:object ?object .
          {_STATEMENT_TAIL}
        }} GROUP BY ?subject ?relation ?object""",
        timeout_s=timeout_s,
    )
    others = [row["other"] or "" for row in relations]
    others += [row[v] or "" for row in claimed for v in ("subject", "object")]
    refs = _Entities(store, [iri, *others], lang=lang, base_iri=base_iri, timeout_s=timeout_s)

    groups: dict[tuple[str, str], list[Link]] = defaultdict(list)
    for row in relations:
        groups[(row["direction"] or "", row["relation"] or "")].append(
            Link(
                entity=refs.ref(row["other"] or ""),
                statements=_int(row["statements"]),
                articles=_int(row["articles"]),
                negated=_int(row["negated"]),
                first_date=_date(row["first"]),
                last_date=_date(row["last"]),
            )
        )

    def grouped(direction: Direction) -> tuple[RelationGroup, ...]:
        found = [
            RelationGroup(
                relation=_relation(relation),
                relation_iri=relation,
                direction=direction,
                statements=sum(link.statements for link in links),
                links=tuple(sorted(links, key=lambda x: (-x.statements, x.entity.label))),
            )
            for (d, relation), links in groups.items()
            if d == direction
        ]
        return tuple(sorted(found, key=lambda g: (-g.statements, g.relation)))

    claims = sorted(
        (
            Claim(
                subject=refs.ref(row["subject"] or ""),
                relation=_relation(row["relation"]),
                relation_iri=row["relation"] or "",
                object=refs.ref(row["object"] or ""),
                statements=_int(row["statements"]),
                articles=_int(row["articles"]),
                negated=_int(row["negated"]),
                first_date=_date(row["first"]),
                last_date=_date(row["last"]),
            )
            for row in claimed
        ),
        key=lambda c: (-c.statements, c.subject.label, c.relation, c.object.label),
    )
    me = refs.ref(iri)
    outgoing, incoming = grouped("outgoing"), grouped("incoming")
    descriptions = [row for row in own if row["p"] == _DESCRIPTION]
    description = _pick_label({row["lang"] or "": row["o"] or "" for row in descriptions}, lang)
    return EntityDetail(
        iri=iri,
        key=me.key,
        label=me.label,
        labels=dict(sorted(refs.labels.get(iri, {}).items())),
        type=me.type,
        qid=me.qid,
        wikidata_url=f"https://www.wikidata.org/wiki/{me.qid}" if me.qid else None,
        description=description,
        aliases=tuple(sorted({row["o"] or "" for row in own if row["p"] == str(KG.surfaceForm)})),
        articles=_int(mentions[0]["n"]) if mentions else 0,
        statements=_count_statements(store, node, timeout_s=timeout_s),
        outgoing=outgoing,
        incoming=incoming,
        claims=tuple(claims),
    )


def _count_statements(store: Store, node: str, *, timeout_s: float | None) -> int:
    rows = store.select(
        f"""SELECT (COUNT(DISTINCT ?st) AS ?n) WHERE {{
              {{ ?st kg:subject {node} }} UNION {{ ?st kg:object {node} }} }}""",
        timeout_s=timeout_s,
    )
    return _int(rows[0]["n"]) if rows else 0


# --------------------------------------------------------------------------- statements


def statements(
    store: Store,
    *,
    subject: str | None = None,
    relation: Relation | None = None,
    object: str | None = None,
    speaker: str | None = None,
    limit: int = 100,
    lang: Language = "de",
    base_iri: str,
    timeout_s: float | None = None,
) -> list[StatementView]:
    """The statements with the given subject, relation, object and speaker (IRIs), newest article first.

    At least one of them must be given. Each statement comes with its
    speaker, modality, confidence, evidence sentence and article (title, URL,
    date). Three queries: the statements, their articles, the entities' labels.
    """
    if subject is None and relation is None and object is None and speaker is None:
        raise QueryError("give at least one of subject, relation, object or speaker")
    if limit < 1:
        raise QueryError(f"limit must be at least 1, got {limit}")
    bound = []
    if subject is not None:
        bound.append(f"BIND ({_iri(subject)} AS ?subject)")
    if relation is not None:
        if relation not in RELATION_IRIS:
            raise QueryError(f"{relation!r} is not a relation; expected one of {', '.join(RELATION_IRIS)}")
        bound.append(f"BIND ({_iri(str(RELATION_IRIS[relation]), 'relation')} AS ?relation)")
    if object is not None:
        bound.append(f"BIND ({_iri(object)} AS ?object)")
    speaker_pattern = (
        f"?st kg:claimedBy {_iri(speaker)} . BIND ({_iri(speaker)} AS ?speaker)"
        if speaker is not None
        else "OPTIONAL { ?st kg:claimedBy ?speaker }"
    )
    # The bound terms come first, so the pattern below starts from them (an index lookup each).
    rows = store.select(
        f"""SELECT ?st ?subject ?relation ?object ?speaker ?modality ?confidence ?evidence ?begin ?end
                   ?trigger ?article ?date WHERE {{
          {" ".join(bound)}
          ?st kg:subject ?subject ; kg:relation ?relation ; kg:object ?object ; a kg:Statement ;
              kg:modality ?modality ; kg:confidence ?confidence ; kg:evidenceText ?evidence ;
              kg:beginIndex ?begin ; kg:endIndex ?end ; kg:article ?article .
          {speaker_pattern}
          OPTIONAL {{ ?st kg:articleDate ?date }}
          OPTIONAL {{ ?st kg:trigger ?trigger }}
        }} ORDER BY DESC(STR(?date)) ?article ?begin ?st LIMIT {int(limit)}""",
        timeout_s=timeout_s,
    )
    if not rows:
        return []
    entity_iris = {row[v] or "" for row in rows for v in ("subject", "object", "speaker") if row[v]}
    refs = _Entities(store, entity_iris, lang=lang, base_iri=base_iri, timeout_s=timeout_s)
    article_refs = _article_refs(store, {row["article"] or "" for row in rows}, timeout_s=timeout_s)
    return [
        StatementView(
            iri=row["st"] or "",
            subject=refs.ref(row["subject"] or ""),
            relation=_relation(row["relation"]),
            relation_iri=row["relation"] or "",
            object=refs.ref(row["object"] or ""),
            speaker=refs.ref(row["speaker"]) if row["speaker"] else None,
            modality=_modality(row["modality"]),
            confidence=float(row["confidence"] or 0),
            evidence=row["evidence"] or "",
            begin=_int(row["begin"]),
            end=_int(row["end"]),
            trigger=row["trigger"],
            article=article_refs[row["article"] or ""],
        )
        for row in rows
    ]


def _article_refs(
    store: Store, iris: Sequence[str] | set[str], *, timeout_s: float | None
) -> dict[str, ArticleRef]:
    rows = store.select(
        f"""SELECT ?a (SAMPLE(?file) AS ?f) (SAMPLE(?title) AS ?t) (SAMPLE(?url) AS ?u)
                   (SAMPLE(?date) AS ?d) (SAMPLE(?language) AS ?l) WHERE {{
          {_values("a", sorted(iris))}
          OPTIONAL {{ ?a kg:fileName ?file }}
          OPTIONAL {{ ?a schema:headline ?title }}
          OPTIONAL {{ ?a schema:url ?url }}
          OPTIONAL {{ ?a schema:datePublished ?date }}
          OPTIONAL {{ ?a schema:inLanguage ?language }}
        }} GROUP BY ?a""",
        timeout_s=timeout_s,
    )
    return {
        row["a"] or "": ArticleRef(
            iri=row["a"] or "",
            title=row["t"],
            file_name=row["f"] or "",
            url=row["u"],
            date=row["d"],
            language=row["l"],
        )
        for row in rows
    }


# --------------------------------------------------------------------------- articles


def articles(
    store: Store, *, limit: int = 100, offset: int = 0, timeout_s: float | None = None
) -> list[ArticleSummary]:
    """Articles with their statement and entity counts, newest first (undated last), then by file name.

    One query; the counts are two grouped subqueries, so statements and
    entities are not multiplied with each other.
    """
    if limit < 1 or offset < 0:
        raise QueryError(f"limit must be >= 1 and offset >= 0, got limit={limit}, offset={offset}")
    rows = store.select(
        f"""SELECT ?a ?file ?title ?url ?date ?language ?source ?statements ?entities WHERE {{
          {{ SELECT ?a (COUNT(DISTINCT ?st) AS ?statements) WHERE {{
              ?a a schema:NewsArticle . OPTIONAL {{ ?st kg:article ?a }} }} GROUP BY ?a }}
          {{ SELECT ?a (COUNT(DISTINCT ?e) AS ?entities) WHERE {{
              ?a a schema:NewsArticle . OPTIONAL {{ ?a schema:mentions ?e }} }} GROUP BY ?a }}
          OPTIONAL {{ ?a kg:fileName ?file }}
          OPTIONAL {{ ?a schema:headline ?title }}
          OPTIONAL {{ ?a schema:url ?url }}
          OPTIONAL {{ ?a schema:datePublished ?date }}
          OPTIONAL {{ ?a schema:inLanguage ?language }}
          OPTIONAL {{ ?a kg:source ?source }}
        }} ORDER BY DESC(STR(?date)) ?file ?a LIMIT {int(limit)} OFFSET {int(offset)}""",
        timeout_s=timeout_s,
    )
    return [
        ArticleSummary(
            iri=row["a"] or "",
            title=row["title"],
            file_name=row["file"] or "",
            url=row["url"],
            date=row["date"],
            language=row["language"],
            source=row["source"],
            statements=_int(row["statements"]),
            entities=_int(row["entities"]),
        )
        for row in rows
    ]

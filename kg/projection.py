"""Entities and relations as a property graph, for Gephi, Cytoscape and spreadsheets.

The RDF graph holds each relation twice (ontology/README.md): a direct triple
and one `kg:Statement` per sentence that says it. Graph tools want neither:
they want one node per entity and one edge per relation between two
entities, with the evidence summed up on the edge. That is this projection
(docs/decisions/0011-graph-projection.md):

- **a node per entity** that takes part in a kept edge: its IRI, label
  (preferred language, then the other, then any), German and English
  labels, type (``Person``, ``Organization``, ``Country``, ``Location``,
  ``Other``) and Wikidata id;
- **an edge per (subject, relation, object)**, aggregating the statements
  behind it that pass the filters: number of statements, of articles,
  first and last article date, the speakers' labels, how many are in the
  article's own voice, the highest confidence, and how many *negated*
  statements deny the same relation under the same filters. An edge exists
  only if at least one non-negated statement passes the filters, exactly as
  a direct triple exists only if some article affirms it; a relation that is
  only ever denied gives no edge. Symmetric relations (`kg:meets`,
  `kg:partnerOf`, `kg:negotiatesWith`) are one edge per pair whichever
  direction the text gave, from the smaller IRI to the larger.

Filters (`ProjectionFilter`) apply to statements before they are counted:
relation, both endpoints' types, article date range, minimum confidence, and
*voice*: ``claimed`` keeps statements the article attributes to a speaker
(`kg:claimedBy`), ``stated`` those in the article's own voice (no
`kg:claimedBy`).

`project` reads the store with two SPARQL queries (the statements, with the
filters pushed into the query, and the entities' types, labels and Wikidata
ids); `aggregate` and the writers (`to_graphml`, `to_gexf`, `to_cytoscape`,
`to_csv`) are pure. Cost: one pass over the statements that pass the filters
and over the typed entities.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args
from xml.etree import ElementTree as ET

from kg.errors import ExportError
from kg.mapping import date_literal
from kg.model import ENTITY_TYPES, RELATIONS, SYMMETRIC_RELATIONS, EntityType, Relation, sha256_hex
from kg.vocab import ENTITY_TYPE_BY_IRI, KG, KG_IRI, RELATION_BY_IRI, RELATION_IRIS

if TYPE_CHECKING:
    from kg.store import Store

__all__ = [
    "GRAPH_FORMATS",
    "SPEAKER_SEPARATOR",
    "VOICES",
    "Edge",
    "EntityInfo",
    "Node",
    "Projection",
    "ProjectionFilter",
    "StatementRow",
    "aggregate",
    "make_filter",
    "project",
    "to_csv",
    "to_csv_zip",
    "to_cytoscape",
    "to_gexf",
    "to_graphml",
    "write_graph",
]

Voice = Literal["any", "claimed", "stated"]
VOICES: tuple[Voice, ...] = get_args(Voice)
Language = Literal["en", "de"]

#: The projection's single-file formats (CSV is two files: `to_csv`, `to_csv_zip`).
GraphFormat = Literal["graphml", "gexf", "cytoscape"]
GRAPH_FORMATS: tuple[GraphFormat, ...] = get_args(GraphFormat)

#: Joins the speakers' labels in formats without lists (GraphML, GEXF, CSV).
SPEAKER_SEPARATOR = "; "

_NEGATED = str(KG.Negated)
_DATE_PREFIX = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True, slots=True)
class ProjectionFilter:
    """Which statements count. Empty tuples and None mean "no restriction".

    Build one with `make_filter`, which checks and normalises the values.
    ``since``/``until`` are ISO date prefixes (``2024``, ``2024-06``,
    ``2024-06-15``), both inclusive, compared at the coarser of the two
    precisions: a statement dated ``2024-06`` is kept by ``since=2024-06-15``
    (its month overlaps the range). A statement without a date is dropped
    as soon as either bound is given.
    """

    relations: tuple[Relation, ...] = ()
    types: tuple[EntityType, ...] = ()
    since: str | None = None
    until: str | None = None
    min_confidence: float | None = None
    voice: Voice = "any"

    def describe(self) -> dict[str, Any]:
        """The filter as plain JSON values (what the exports record as metadata)."""
        return {
            "relations": list(self.relations),
            "types": list(self.types),
            "since": self.since,
            "until": self.until,
            "min_confidence": self.min_confidence,
            "voice": self.voice,
        }


def make_filter(
    *,
    relations: Iterable[str] = (),
    types: Iterable[str] = (),
    since: str | None = None,
    until: str | None = None,
    min_confidence: float | None = None,
    voice: str = "any",
) -> ProjectionFilter:
    """A checked `ProjectionFilter`; raises `ExportError` saying what was wrong and what is accepted.

    Relations are names (``supports``) or ``kg:supports`` or the full IRI;
    types are the five class names, in any case (``person``).
    """
    first, last = _date_bound(since, "since"), _date_bound(until, "until")
    if first is not None and last is not None:
        width = min(len(first), len(last))
        if first[:width] > last[:width]:
            raise ExportError(f"since {first} is after until {last}; swap them")
    return ProjectionFilter(
        relations=tuple(dict.fromkeys(_relation(r) for r in relations)),
        types=tuple(dict.fromkeys(_entity_type(t) for t in types)),
        since=first,
        until=last,
        min_confidence=_confidence(min_confidence),
        voice=_voice(voice),
    )


def _relation(value: str) -> Relation:
    text = value.strip()
    name = text.removeprefix("kg:").removeprefix(KG_IRI)
    for relation in RELATIONS:
        if relation == name:
            return relation
    raise ExportError(f"unknown relation {value!r}; expected one of {', '.join(RELATIONS)}")


def _entity_type(value: str) -> EntityType:
    name = value.strip().removeprefix("kg:").removeprefix(KG_IRI).lower()
    for entity_type in ENTITY_TYPES:
        if entity_type.lower() == name:
            return entity_type
    raise ExportError(f"unknown entity type {value!r}; expected one of {', '.join(ENTITY_TYPES)}")


def _date_bound(value: str | None, name: str) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        lexical = str(date_literal(text))
    except ValueError:
        lexical = ""
    if not _DATE_PREFIX.fullmatch(lexical):
        raise ExportError(
            f"{name} {value!r} is not a date; expected YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2024-06-15)"
        )
    return lexical


def _confidence(value: float | None) -> float | None:
    if value is None:
        return None
    if not (0.0 <= value <= 1.0):  # also refuses NaN
        raise ExportError(f"min-confidence {value!r} is outside [0, 1]; give a number such as 0.7")
    return float(value)


def _voice(value: str) -> Voice:
    for voice in VOICES:
        if voice == value.strip().lower():
            return voice
    raise ExportError(
        f"unknown voice {value!r}; expected 'claimed' (attributed to a speaker), "
        "'stated' (the article's own voice) or 'any'"
    )


# --------------------------------------------------------------------------- the projection


@dataclass(frozen=True, slots=True)
class Node:
    """One entity. `id` is its IRI; `label` is in the preferred language when it has one."""

    id: str
    label: str
    label_de: str | None
    label_en: str | None
    type: str
    wikidata: str | None


@dataclass(frozen=True, slots=True)
class Edge:
    """One (subject, relation, object) with the statements behind it summed up.

    `id` is stable across exports and filters (``e`` + 16 hex digits of a
    hash of source, relation and target). Dates are the articles' ISO
    dates as stored (mixed precision: ``2024-06``, ``2024-12-04``,
    ``2024-12-04T18:49:00``), None when no counted statement has one.
    """

    id: str
    source: str
    target: str
    relation: str
    statements: int
    articles: int
    first_date: str | None
    last_date: str | None
    speakers: tuple[str, ...]
    stated: int
    negations: int
    max_confidence: float | None
    symmetric: bool


@dataclass(frozen=True, slots=True)
class Projection:
    """Nodes sorted by IRI, edges by (source, relation, target), and the filter that made them."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    filter: ProjectionFilter = field(default_factory=ProjectionFilter)


@dataclass(frozen=True, slots=True)
class StatementRow:
    """One `kg:Statement` as read from the store (IRIs as strings, dates as their lexical form)."""

    statement: str
    subject: str
    relation: str
    object: str
    negated: bool
    confidence: float | None
    date: str | None
    article: str
    speaker: str | None


@dataclass(frozen=True, slots=True)
class EntityInfo:
    """What the store says about one entity: its type, labels by language tag, Wikidata id."""

    iri: str
    type: str
    labels: Mapping[str, str]
    wikidata: str | None


def _relation_name(iri: str) -> str:
    return RELATION_BY_IRI.get(iri) or (iri.removeprefix(KG_IRI) if iri.startswith(KG_IRI) else iri)


def _edge_id(source: str, relation: str, target: str) -> str:
    return "e" + sha256_hex("\x1f".join((source, relation, target)))[:16]


def _label(iri: str, info: EntityInfo | None, language: Language) -> str:
    if info is not None:
        other: Language = "de" if language == "en" else "en"
        for tag in (language, other):
            if tag in info.labels:
                return info.labels[tag]
        if info.labels:
            return info.labels[min(info.labels)]
    return re.split(r"[/#]", iri.rstrip("/#"))[-1] or iri


def aggregate(
    rows: Iterable[StatementRow],
    entities: Mapping[str, EntityInfo],
    *,
    filter: ProjectionFilter | None = None,
    language: Language = "en",
) -> Projection:
    """Nodes and edges from statement rows that already passed the filters (pure).

    Negated rows are counted as the edge's `negations` and never make an
    edge on their own; symmetric relations are keyed by the sorted pair.
    `filter` is only recorded on the result.
    """
    affirmed: dict[tuple[str, str, str], list[StatementRow]] = defaultdict(list)
    negations: dict[tuple[str, str, str], int] = defaultdict(int)
    symmetric_iris = {str(RELATION_IRIS[name]) for name in SYMMETRIC_RELATIONS}
    for row in rows:
        source, target = row.subject, row.object
        if row.relation in symmetric_iris and target < source:
            source, target = target, source
        key = (source, row.relation, target)
        if row.negated:
            negations[key] += 1
        else:
            affirmed[key].append(row)

    edges = []
    for (source, relation_iri, target), statements in sorted(affirmed.items()):
        relation = _relation_name(relation_iri)
        dates = sorted(r.date for r in statements if r.date)
        confidences = [r.confidence for r in statements if r.confidence is not None]
        speakers = sorted(
            {_label(r.speaker, entities.get(r.speaker), language) for r in statements if r.speaker}
        )
        edges.append(
            Edge(
                id=_edge_id(source, relation_iri, target),
                source=source,
                target=target,
                relation=relation,
                statements=len(statements),
                articles=len({r.article for r in statements}),
                first_date=dates[0] if dates else None,
                last_date=dates[-1] if dates else None,
                speakers=tuple(speakers),
                stated=sum(1 for r in statements if r.speaker is None),
                negations=negations.get((source, relation_iri, target), 0),
                max_confidence=max(confidences) if confidences else None,
                symmetric=relation_iri in symmetric_iris,
            )
        )

    node_iris = sorted({e.source for e in edges} | {e.target for e in edges})
    nodes = []
    for iri in node_iris:
        info = entities.get(iri)
        nodes.append(
            Node(
                id=iri,
                label=_label(iri, info, language),
                label_de=info.labels.get("de") if info else None,
                label_en=info.labels.get("en") if info else None,
                type=info.type if info else "",
                wikidata=info.wikidata if info else None,
            )
        )
    return Projection(nodes=tuple(nodes), edges=tuple(edges), filter=filter or ProjectionFilter())


# --------------------------------------------------------------------------- reading the store


def _iri(value: str) -> str:
    return f"<{value}>"


def statements_query(flt: ProjectionFilter) -> str:
    """The SPARQL that selects the statements passing `flt`, one row each, from the union graph.

    All values come from a checked `ProjectionFilter` (relation and type
    IRIs from the vocabulary, dates matching an ISO pattern, a float), so
    nothing a caller types reaches the query text unchecked.
    """
    lines = [
        "SELECT ?statement ?subject ?relation ?object ?modality ?confidence ?date ?article ?speaker WHERE {",
        "  ?statement a kg:Statement ; kg:subject ?subject ; kg:relation ?relation ;",
        "    kg:object ?object ; kg:modality ?modality ; kg:article ?article .",
        "  OPTIONAL { ?statement kg:confidence ?confidence }",
        "  OPTIONAL { ?statement kg:articleDate ?date }",
        "  OPTIONAL { ?statement kg:claimedBy ?speaker }",
    ]
    if flt.relations:
        values = " ".join(_iri(str(RELATION_IRIS[r])) for r in flt.relations)
        lines.append(f"  VALUES ?relation {{ {values} }}")
    if flt.types:
        allowed = ", ".join(_iri(str(KG[t])) for t in flt.types)
        lines.append(f"  FILTER EXISTS {{ ?subject a ?subjectType FILTER (?subjectType IN ({allowed})) }}")
        lines.append(f"  FILTER EXISTS {{ ?object a ?objectType FILTER (?objectType IN ({allowed})) }}")
    if flt.min_confidence is not None:
        lines.append(f"  FILTER (BOUND(?confidence) && ?confidence >= {flt.min_confidence!r})")
    if flt.voice == "claimed":
        lines.append("  FILTER (BOUND(?speaker))")
    elif flt.voice == "stated":
        lines.append("  FILTER (!BOUND(?speaker))")
    # Date bounds compare ISO prefixes at the coarser of the two precisions (see ProjectionFilter).
    if flt.since is not None:
        lines.append(f"  BIND (SUBSTR(STR(?date), 1, {len(flt.since)}) AS ?sinceKey)")
        lines.append(f'  FILTER (BOUND(?date) && ?sinceKey >= SUBSTR("{flt.since}", 1, STRLEN(?sinceKey)))')
    if flt.until is not None:
        lines.append(f"  BIND (SUBSTR(STR(?date), 1, {len(flt.until)}) AS ?untilKey)")
        lines.append(f'  FILTER (BOUND(?date) && ?untilKey <= SUBSTR("{flt.until}", 1, STRLEN(?untilKey)))')
    lines.append("}")
    return "\n".join(lines)


def entities_query() -> str:
    """The SPARQL that lists every typed entity with its labels (and their language) and Wikidata id."""
    types = ", ".join(_iri(iri) for iri in ENTITY_TYPE_BY_IRI)
    return (
        "SELECT ?entity ?type ?label ?lang ?qid WHERE {\n"
        f"  ?entity a ?type . FILTER (?type IN ({types}))\n"
        "  OPTIONAL { ?entity rdfs:label ?label BIND (LANG(?label) AS ?lang) }\n"
        "  OPTIONAL { ?entity kg:wikidataId ?qid }\n"
        "}"
    )


def _entities(rows: Iterable[Mapping[str, str | None]]) -> dict[str, EntityInfo]:
    types: dict[str, set[str]] = defaultdict(set)
    labels: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    qids: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        iri = row["entity"]
        if iri is None:
            continue
        if row["type"] in ENTITY_TYPE_BY_IRI:
            types[iri].add(ENTITY_TYPE_BY_IRI[row["type"]])
        if row["label"] is not None:
            labels[iri][row["lang"] or ""].add(row["label"])
        if row["qid"]:
            qids[iri].add(row["qid"])
    # The model gives each entity one type, one label per language and one id; should the union
    # ever merge two, the smallest wins so that exports stay deterministic.
    return {
        iri: EntityInfo(
            iri=iri,
            type=min(types[iri]),
            labels={lang: min(values) for lang, values in labels[iri].items()},
            wikidata=min(qids[iri]) if qids[iri] else None,
        )
        for iri in types
    }


def project(
    store: Store,
    flt: ProjectionFilter | None = None,
    *,
    language: Language = "en",
    timeout_s: float | None = None,
) -> Projection:
    """The projection of the store's union graph under `flt` (see the module docstring).

    Two SELECT queries, each under `timeout_s` when given.
    """
    flt = flt or ProjectionFilter()
    statement_rows = store.select(statements_query(flt), timeout_s=timeout_s)
    entities = _entities(store.select(entities_query(), timeout_s=timeout_s))
    rows = []
    for row in statement_rows:
        confidence = row["confidence"]
        rows.append(
            StatementRow(
                statement=row["statement"] or "",
                subject=row["subject"] or "",
                relation=row["relation"] or "",
                object=row["object"] or "",
                negated=row["modality"] == _NEGATED,
                confidence=float(confidence) if confidence is not None else None,
                date=row["date"],
                article=row["article"] or "",
                speaker=row["speaker"],
            )
        )
    return aggregate(rows, entities, filter=flt, language=language)


# --------------------------------------------------------------------------- writers

#: Node and edge attributes with their types, in output order: (name, GraphML type, GEXF type).
NODE_ATTRIBUTES: tuple[tuple[str, str, str], ...] = (
    ("iri", "string", "string"),
    ("label_de", "string", "string"),
    ("label_en", "string", "string"),
    ("type", "string", "string"),
    ("wikidata", "string", "string"),
)
EDGE_ATTRIBUTES: tuple[tuple[str, str, str], ...] = (
    ("relation", "string", "string"),
    ("statements", "int", "integer"),
    ("articles", "int", "integer"),
    ("first_date", "string", "string"),
    ("last_date", "string", "string"),
    ("speakers", "string", "string"),
    ("stated", "int", "integer"),
    ("negations", "int", "integer"),
    ("max_confidence", "double", "double"),
    ("symmetric", "boolean", "boolean"),
)

# XML 1.0 allows tab, newline, carriage return and code points from U+0020 up, minus surrogates and
# U+FFFE/U+FFFF; anything else (a stray control character in an article) would make the file unreadable.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(value: str) -> str:
    return _NOT_XML.sub("", value)


def _node_values(node: Node) -> dict[str, Any]:
    return {
        "iri": node.id,
        "label_de": node.label_de,
        "label_en": node.label_en,
        "type": node.type,
        "wikidata": node.wikidata,
    }


def _edge_values(edge: Edge) -> dict[str, Any]:
    return {
        "relation": edge.relation,
        "statements": edge.statements,
        "articles": edge.articles,
        "first_date": edge.first_date,
        "last_date": edge.last_date,
        "speakers": SPEAKER_SEPARATOR.join(edge.speakers) if edge.speakers else None,
        "stated": edge.stated,
        "negations": edge.negations,
        "max_confidence": edge.max_confidence,
        "symmetric": edge.symmetric,
    }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _xml(str(value))


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def _description(projection: Projection) -> str:
    return "newskg projection of entities and relations; filter: " + json.dumps(
        projection.filter.describe(), ensure_ascii=False, sort_keys=True
    )


GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def to_graphml(projection: Projection) -> bytes:
    """GraphML (http://graphml.graphdrawing.org/), UTF-8, every attribute declared with its type.

    Node ids are ``n`` + 16 hex digits of the IRI's hash, because GraphML ids
    are XML NMTOKENs and IRIs are not; the IRI is the ``iri`` attribute. The
    keys named ``label`` (nodes and edges) and ``weight`` (the number of
    statements) are the ones Gephi's and yEd's importers read as label and
    weight. Parallel edges (two relations between the same entities) are
    kept; Gephi's GraphML importer may merge them, its GEXF importer keeps
    them apart by ``kind``.
    """
    ET.register_namespace("", GRAPHML_NS)
    ET.register_namespace("xsi", _XSI)
    root = ET.Element(
        f"{{{GRAPHML_NS}}}graphml",
        {
            f"{{{_XSI}}}schemaLocation": f"{GRAPHML_NS} http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd",
        },
    )
    ET.SubElement(root, f"{{{GRAPHML_NS}}}desc").text = _xml(_description(projection))
    keys = [("label", "node", "label", "string")]
    keys += [(name, "node", name, gml) for name, gml, _ in NODE_ATTRIBUTES]
    keys += [("edge_label", "edge", "label", "string"), ("weight", "edge", "weight", "double")]
    keys += [(name, "edge", name, gml) for name, gml, _ in EDGE_ATTRIBUTES]
    for key_id, domain, name, kind in keys:
        ET.SubElement(
            root,
            f"{{{GRAPHML_NS}}}key",
            {"id": key_id, "for": domain, "attr.name": name, "attr.type": kind},
        )
    graph = ET.SubElement(root, f"{{{GRAPHML_NS}}}graph", {"id": "newskg", "edgedefault": "directed"})

    def data(parent: ET.Element, key: str, value: Any) -> None:
        if value is not None:
            ET.SubElement(parent, f"{{{GRAPHML_NS}}}data", {"key": key}).text = _text(value)

    node_ids = {node.id: _graphml_node_id(node.id) for node in projection.nodes}
    for node in projection.nodes:
        element = ET.SubElement(graph, f"{{{GRAPHML_NS}}}node", {"id": node_ids[node.id]})
        data(element, "label", node.label)
        for name, value in _node_values(node).items():
            data(element, name, value)
    for edge in projection.edges:
        element = ET.SubElement(
            graph,
            f"{{{GRAPHML_NS}}}edge",
            {"id": edge.id, "source": node_ids[edge.source], "target": node_ids[edge.target]},
        )
        data(element, "edge_label", edge.relation)
        data(element, "weight", float(edge.statements))
        for name, value in _edge_values(edge).items():
            data(element, name, value)
    return _xml_bytes(root)


def _graphml_node_id(iri: str) -> str:
    return "n" + sha256_hex(iri)[:16]


GEXF_NS = "http://gexf.net/1.3"


def to_gexf(projection: Projection) -> bytes:
    """GEXF 1.3 (https://gexf.net/), UTF-8, node and edge attributes declared with their types.

    Node ids are the IRIs (GEXF ids are strings). Each edge has the relation
    as ``label`` and as ``kind`` (GEXF 1.3's marker for parallel edges, so
    Gephi keeps two relations between the same entities apart) and the
    number of statements as ``weight``.
    """
    ET.register_namespace("", GEXF_NS)
    ET.register_namespace("xsi", _XSI)
    root = ET.Element(
        f"{{{GEXF_NS}}}gexf",
        {"version": "1.3", f"{{{_XSI}}}schemaLocation": f"{GEXF_NS} {GEXF_NS}/gexf.xsd"},
    )
    meta = ET.SubElement(root, f"{{{GEXF_NS}}}meta")
    ET.SubElement(meta, f"{{{GEXF_NS}}}creator").text = "newskg"
    ET.SubElement(meta, f"{{{GEXF_NS}}}description").text = _xml(_description(projection))
    graph = ET.SubElement(root, f"{{{GEXF_NS}}}graph", {"defaultedgetype": "directed", "mode": "static"})
    for domain, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        declared = ET.SubElement(graph, f"{{{GEXF_NS}}}attributes", {"class": domain})
        for name, _, gexf_type in attributes:
            ET.SubElement(declared, f"{{{GEXF_NS}}}attribute", {"id": name, "title": name, "type": gexf_type})

    def attvalues(parent: ET.Element, values: dict[str, Any]) -> None:
        holder = ET.SubElement(parent, f"{{{GEXF_NS}}}attvalues")
        for name, value in values.items():
            if value is not None:
                ET.SubElement(holder, f"{{{GEXF_NS}}}attvalue", {"for": name, "value": _text(value)})

    nodes = ET.SubElement(graph, f"{{{GEXF_NS}}}nodes", {"count": str(len(projection.nodes))})
    for node in projection.nodes:
        element = ET.SubElement(nodes, f"{{{GEXF_NS}}}node", {"id": _xml(node.id), "label": _xml(node.label)})
        attvalues(element, _node_values(node))
    edges = ET.SubElement(graph, f"{{{GEXF_NS}}}edges", {"count": str(len(projection.edges))})
    for edge in projection.edges:
        element = ET.SubElement(
            edges,
            f"{{{GEXF_NS}}}edge",
            {
                "id": edge.id,
                "source": _xml(edge.source),
                "target": _xml(edge.target),
                "label": edge.relation,
                "kind": edge.relation,
                "weight": f"{float(edge.statements)!r}",
            },
        )
        attvalues(element, _edge_values(edge))
    return _xml_bytes(root)


def to_cytoscape(projection: Projection) -> dict[str, Any]:
    """Cytoscape.js elements JSON (https://js.cytoscape.org/#notation/elements-json), as a dict.

    ``{"elements": {"nodes": [{"data": {...}}], "edges": [{"data": {...}}]}}``,
    loadable with ``cytoscape({elements: ...})`` or ``cy.json(...)`` and by
    Cytoscape desktop (File > Import > Network from File, .cyjs). Node ids
    are the IRIs; speakers are a list; a missing value is null.
    """
    nodes = [
        {"data": {"id": node.id, "label": node.label, **_node_values(node)}} for node in projection.nodes
    ]
    edges = [
        {
            "data": {
                "id": edge.id,
                "source": edge.source,
                "target": edge.target,
                "label": edge.relation,
                **_edge_values(edge),
                "speakers": list(edge.speakers),
            }
        }
        for edge in projection.edges
    ]
    return {
        "format_version": "1.0",
        "generated_by": "newskg",
        "target_cytoscapejs_version": "~3",
        "data": {"name": "newskg", "filter": projection.filter.describe()},
        "elements": {"nodes": nodes, "edges": edges},
    }


NODE_COLUMNS: tuple[str, ...] = ("id", "label", *(name for name, _, _ in NODE_ATTRIBUTES if name != "iri"))
EDGE_COLUMNS: tuple[str, ...] = (
    "id",
    "source",
    "target",
    "label",
    "weight",
    *(name for name, _, _ in EDGE_ATTRIBUTES),
)


def to_csv(projection: Projection) -> tuple[bytes, bytes]:
    """Node and edge lists as CSV (RFC 4180, UTF-8, header row), in that order.

    Columns are `NODE_COLUMNS` and `EDGE_COLUMNS`: ``id``, ``label``,
    ``source``, ``target`` and ``weight`` are the names Gephi's spreadsheet
    import recognises. Node ids are IRIs; speakers are joined with "; ";
    a missing value is an empty cell.
    """

    def table(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
        buffer = io.StringIO(newline="")
        writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else _csv_value(v)) for k, v in row.items()})
        return buffer.getvalue().encode("utf-8")

    node_rows = (
        {"id": n.id, "label": n.label, **{k: v for k, v in _node_values(n).items() if k != "iri"}}
        for n in projection.nodes
    )
    edge_rows = (
        {
            "id": e.id,
            "source": e.source,
            "target": e.target,
            "label": e.relation,
            "weight": e.statements,
            **_edge_values(e),
        }
        for e in projection.edges
    )
    return table(NODE_COLUMNS, node_rows), table(EDGE_COLUMNS, edge_rows)


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv_zip(projection: Projection) -> bytes:
    """A zip archive holding ``nodes.csv`` and ``edges.csv`` (`to_csv`), fixed timestamps."""
    nodes, edges = to_csv(projection)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in (("nodes.csv", nodes), ("edges.csv", edges)):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def write_graph(projection: Projection, fmt: str) -> bytes:
    """The projection in one of `GRAPH_FORMATS` (``graphml``, ``gexf``, ``cytoscape``) as bytes."""
    if fmt == "graphml":
        return to_graphml(projection)
    if fmt == "gexf":
        return to_gexf(projection)
    if fmt == "cytoscape":
        return json.dumps(to_cytoscape(projection), ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
    raise ExportError(
        f"unknown graph format {fmt!r}; expected one of {', '.join(GRAPH_FORMATS)} (CSV: use to_csv)"
    )

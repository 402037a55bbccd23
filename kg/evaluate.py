"""Score the stored graph against the gold annotations of the seed articles.

Three parts, each usable alone:

- `predictions_from_store` reads the graph (three SPARQL queries in all) and
  returns the predictions list in the format ``shared/eval/score.py`` reads.
- `load_gold` reads the gold folder; `score` / `score_document` are a pure
  port of ``score.py`` returning typed values (`EvalReport`).
- `format_report` and `report_json` turn a report into what the user sees.

`evaluate` ties them together. The scorer is a faithful port rather than an
import of ``score.py``, and negated statements are not predictions while
hedged ones are: see docs/decisions/0006-evaluation.md.
"""

from __future__ import annotations

import json
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from rdflib import URIRef
from rdflib.namespace import RDF, RDFS

from kg.errors import InputError, StoreError
from kg.model import SYMMETRIC_RELATIONS
from kg.vocab import KG, RELATION_BY_IRI, SCHEMA

#: Runs a SPARQL SELECT and returns one mapping per solution: variable name
#: (without ``?``) to the value as a plain string (an IRI as its string, a
#: literal as its lexical form), None where unbound. ``kg.store`` provides one.
Select = Callable[[str], Sequence[Mapping[str, str | None]]]

SYMMETRIC: frozenset[str] = frozenset(SYMMETRIC_RELATIONS)


# --------------------------------------------------------------------------
# Predictions: the JSON shape score.py reads (shared/eval/README.md)


class PredictedEntity(TypedDict):
    """An entity as score.py reads it: ``{"label", "wikidata", "aliases"}``."""

    label: str
    wikidata: str | None
    aliases: list[str]


class PredictedRelation(TypedDict):
    """A relation as score.py reads it; `p` is the relation's local name (``supports``)."""

    s: PredictedEntity
    p: str
    o: PredictedEntity
    claimedBy: PredictedEntity | None


class PredictedDoc(TypedDict):
    """Everything predicted for one article; `doc` is its kg:fileName."""

    doc: str
    entities: list[PredictedEntity]
    relations: list[PredictedRelation]


def _iri(term: URIRef) -> str:
    """A term as SPARQL text (``<...>``): query text is built from kg.vocab, never typed out."""
    return term.n3()


_ARTICLES_QUERY = f"""
SELECT ?g ?article ?file ?entity WHERE {{
  GRAPH ?g {{
    ?article {_iri(RDF.type)} {_iri(SCHEMA.NewsArticle)} .
    OPTIONAL {{ ?article {_iri(KG.fileName)} ?file }}
    OPTIONAL {{ ?article {_iri(SCHEMA.mentions)} ?entity }}
  }}
}}"""

# A UNION, not OPTIONALs: each row binds one of label, qid, form, so the rows
# grow with the sum of an entity's labels and forms, not with their product.
_ENTITIES_QUERY = f"""
SELECT ?g ?entity ?label ?lang ?qid ?form WHERE {{
  GRAPH ?g {{
    {{ ?entity {_iri(RDFS.label)} ?label . BIND(LANG(?label) AS ?lang) }}
    UNION {{ ?entity {_iri(KG.wikidataId)} ?qid }}
    UNION {{ ?entity {_iri(KG.surfaceForm)} ?form }}
  }}
}}"""

_STATEMENTS_QUERY = f"""
SELECT ?g ?statement ?s ?p ?o ?speaker ?begin WHERE {{
  GRAPH ?g {{
    ?statement {_iri(RDF.type)} {_iri(KG.Statement)} ;
      {_iri(KG.subject)} ?s ; {_iri(KG.relation)} ?p ; {_iri(KG.object)} ?o .
    OPTIONAL {{ ?statement {_iri(KG.claimedBy)} ?speaker }}
    OPTIONAL {{ ?statement {_iri(KG.beginIndex)} ?begin }}
    FILTER NOT EXISTS {{ ?statement {_iri(KG.modality)} {_iri(KG.Negated)} }}
  }}
}}"""


def _need(row: Mapping[str, str | None], name: str, query: str) -> str:
    value = row.get(name)
    if value is None:
        raise StoreError(
            f"the store returned a row without ?{name} ({dict(row)!r}) for a query that always binds it; "
            f"expected `select` to return every bound variable as a string keyed by its name without '?'. "
            f"Query:{query}"
        )
    return value


@dataclass
class _EntityFacts:
    labels: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # lang -> values
    qids: set[str] = field(default_factory=set)
    forms: set[str] = field(default_factory=set)


def _lang_rank(lang: str) -> int:
    primary = lang.lower().split("-", 1)[0]
    return {"de": 0, "en": 1}.get(primary, 2)


def _entity_object(iri: str, facts: _EntityFacts | None) -> PredictedEntity:
    """The predicted entity for `iri` from what its article graph says about it."""
    if facts is None:  # not described in the graph (off contract): still scoreable, by nothing
        return {"label": iri, "wikidata": None, "aliases": []}
    labels = [
        value
        for lang in sorted(facts.labels, key=lambda lang: (_lang_rank(lang), lang))
        for value in sorted(facts.labels[lang])
    ]
    forms = sorted(facts.forms)
    names = list(dict.fromkeys([*labels, *forms]))
    return {
        "label": names[0] if names else iri,
        "wikidata": min(facts.qids) if facts.qids else None,
        "aliases": names,
    }


def predictions_from_store(select: Select) -> list[PredictedDoc]:
    """The predictions list score.py reads, one object per stored article.

    Reads each article's named graph (``GRAPH ?g``, so labels and surface
    forms come from that article only, ontology/MODEL.md):

    - ``doc``: the article's kg:fileName (its IRI where it has none);
    - ``entities``: every entity it schema:mentions, with ``label`` the @de
      rdfs:label, else @en, else any; ``wikidata`` its kg:wikidataId or None;
      ``aliases`` all its rdfs:label and kg:surfaceForm values in that graph;
    - ``relations``: one per kg:Statement in the graph whose kg:modality is
      not kg:Negated (hedged and planned ones count), in text order, with
      subject, object and kg:claimedBy as entity objects like the above.

    Three queries in all, whatever the size of the store. Documents are sorted
    by ``doc`` (then graph IRI); a relation IRI outside the vocabulary is kept as its IRI (the
    scorer then counts it as a false positive).
    """
    articles: dict[tuple[str, str], tuple[set[str], set[str]]] = {}  # (g, article) -> (files, entities)
    for row in select(_ARTICLES_QUERY):
        graph, article = _need(row, "g", _ARTICLES_QUERY), _need(row, "article", _ARTICLES_QUERY)
        files, entities = articles.setdefault((graph, article), (set(), set()))
        if row.get("file") is not None:
            files.add(str(row["file"]))
        if row.get("entity") is not None:
            entities.add(str(row["entity"]))

    facts: dict[tuple[str, str], _EntityFacts] = defaultdict(_EntityFacts)
    for row in select(_ENTITIES_QUERY):
        key = (_need(row, "g", _ENTITIES_QUERY), _need(row, "entity", _ENTITIES_QUERY))
        label, qid, form = row.get("label"), row.get("qid"), row.get("form")
        if label is not None:
            facts[key].labels[row.get("lang") or ""].add(label)
        if qid is not None:
            facts[key].qids.add(qid)
        if form is not None:
            facts[key].forms.add(form)

    statements: dict[tuple[str, str], list[tuple[str, str, str, str | None, int | None]]] = defaultdict(list)
    for row in select(_STATEMENTS_QUERY):
        graph, statement = _need(row, "g", _STATEMENTS_QUERY), _need(row, "statement", _STATEMENTS_QUERY)
        begin = row.get("begin")
        statements[(graph, statement)].append(
            (
                _need(row, "s", _STATEMENTS_QUERY),
                _need(row, "p", _STATEMENTS_QUERY),
                _need(row, "o", _STATEMENTS_QUERY),
                row.get("speaker"),
                int(begin) if begin is not None and begin.lstrip("-").isdigit() else None,
            )
        )

    by_graph: dict[str, list[tuple[int, str, PredictedRelation]]] = defaultdict(list)
    for (graph, statement), rows in statements.items():
        # One relation per statement, whatever the store's cross products: the smallest of each.
        subject = min(r[0] for r in rows)
        relation = min(r[1] for r in rows)
        obj = min(r[2] for r in rows)
        speakers = sorted(r[3] for r in rows if r[3] is not None)
        begins = [r[4] for r in rows if r[4] is not None]
        by_graph[graph].append(
            (
                min(begins) if begins else -1,
                statement,
                {
                    "s": _entity_object(subject, facts.get((graph, subject))),
                    "p": RELATION_BY_IRI.get(relation, relation),
                    "o": _entity_object(obj, facts.get((graph, obj))),
                    "claimedBy": (
                        _entity_object(speakers[0], facts.get((graph, speakers[0]))) if speakers else None
                    ),
                },
            )
        )

    predictions: list[tuple[str, str, PredictedDoc]] = []
    for (graph, article), (files, entities) in articles.items():
        doc = min(files) if files else article
        entity_objects = [_entity_object(e, facts.get((graph, e))) for e in sorted(entities)]
        prediction: PredictedDoc = {
            "doc": doc,
            "entities": sorted(entity_objects, key=lambda e: (e["label"], e["wikidata"] or "")),
            "relations": [rel for _, _, rel in sorted(by_graph.get(graph, []), key=lambda t: t[:2])],
        }
        predictions.append((doc, graph, prediction))
    # By name, then graph: two stored articles with one name come out in a fixed order.
    return [prediction for _, _, prediction in sorted(predictions, key=lambda t: t[:2])]


# --------------------------------------------------------------------------
# Gold


@dataclass(frozen=True, slots=True)
class GoldEntity:
    id: str
    label: str
    type: str | None
    wikidata: str | None
    mentions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GoldRelation:
    """One gold relation; `s`, `o` and `claimed_by` list the ids any of which is right."""

    s: tuple[str, ...]
    p: str
    o: tuple[str, ...]
    claimed_by: tuple[str, ...]
    optional: bool
    evidence: str | None
    #: score.py's identity of a triple: ``(str(s), p, str(o))`` of the JSON values.
    key: tuple[str, str, str]

    def as_json(self) -> dict[str, Any]:
        """The relation as in the gold file (a one-element list comes back as its element)."""

        def one_or_many(ids: tuple[str, ...]) -> str | list[str] | None:
            if not ids:
                return None
            return ids[0] if len(ids) == 1 else list(ids)

        return {
            "s": one_or_many(self.s),
            "p": self.p,
            "o": one_or_many(self.o),
            "claimedBy": one_or_many(self.claimed_by),
            "optional": self.optional,
            "evidence": self.evidence,
        }


def norm(text: str | None) -> str:
    """score.py's name comparison: NFC, casefold, runs of white space as one space."""
    return " ".join(unicodedata.normalize("NFC", text or "").casefold().split())


@dataclass(frozen=True, slots=True)
class GoldDocument:
    """The gold annotation of one article (shared/eval/README.md, "Gold file")."""

    doc: str
    entities: Mapping[str, GoldEntity]
    relations: tuple[GoldRelation, ...]
    by_qid: Mapping[str, str]
    by_name: Mapping[str, str]

    @classmethod
    def from_entities(
        cls, doc: str, entities: Sequence[GoldEntity], relations: Sequence[GoldRelation]
    ) -> GoldDocument:
        by_name: dict[str, str] = {}
        for e in entities:
            for name in (e.label, *e.mentions):
                by_name.setdefault(norm(name), e.id)  # first entity to claim a name keeps it
        return cls(
            doc=doc,
            entities={e.id: e for e in entities},
            relations=tuple(relations),
            by_qid={e.wikidata: e.id for e in entities if e.wikidata},
            by_name=by_name,
        )

    def map_entity(self, entity: PredictedEntity | None) -> str | None:
        """The gold id a predicted entity stands for: by Wikidata id, else by label or alias."""
        if not entity:
            return None
        qid = entity.get("wikidata")
        if qid:
            qid = qid.rsplit("/", 1)[-1]
            if qid in self.by_qid:
                return self.by_qid[qid]
        for name in (entity.get("label"), *entity.get("aliases", [])):
            gid = self.by_name.get(norm(name))
            if gid:
                return gid
        return None

    def matches(self, relation: GoldRelation, s: str, p: str, o: str) -> bool:
        if relation.p != p:
            return False
        if s in relation.s and o in relation.o:
            return True
        return p in SYMMETRIC and o in relation.s and s in relation.o


def _ids(value: object, what: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InputError(str(path), f"{what} is {value!r}; expected an entity id or a list of ids")


def _str_or_none(value: object, what: str, path: Path) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InputError(str(path), f"{what} is {value!r}; expected a string or null")


def parse_gold(data: object, path: Path) -> GoldDocument:
    """Check and convert one gold file's JSON value; `path` names it in errors."""
    if not isinstance(data, dict) or not isinstance(data.get("doc"), str):
        raise InputError(str(path), 'expected a JSON object with "doc" (the article file name) at the top')
    raw_entities, raw_relations = data.get("entities", []), data.get("relations", [])
    if not isinstance(raw_entities, list) or not isinstance(raw_relations, list):
        raise InputError(str(path), '"entities" and "relations" must be lists')
    entities: list[GoldEntity] = []
    for n, e in enumerate(raw_entities):
        if not isinstance(e, dict) or not isinstance(e.get("id"), str) or not isinstance(e.get("label"), str):
            raise InputError(
                str(path), f'entities[{n}] is {e!r}; expected an object with string "id" and "label"'
            )
        mentions = e.get("mentions") or []
        if not isinstance(mentions, list) or not all(isinstance(m, str) for m in mentions):
            raise InputError(str(path), f"entities[{n}].mentions is {mentions!r}; expected a list of strings")
        entities.append(
            GoldEntity(
                id=e["id"],
                label=e["label"],
                type=_str_or_none(e.get("type"), f"entities[{n}].type", path),
                wikidata=_str_or_none(e.get("wikidata"), f"entities[{n}].wikidata", path),
                mentions=tuple(mentions),
            )
        )
    relations: list[GoldRelation] = []
    for n, r in enumerate(raw_relations):
        if not isinstance(r, dict) or not isinstance(r.get("p"), str) or "s" not in r or "o" not in r:
            raise InputError(str(path), f'relations[{n}] is {r!r}; expected an object with "s", "p" and "o"')
        relations.append(
            GoldRelation(
                s=_ids(r["s"], f"relations[{n}].s", path),
                p=r["p"],
                o=_ids(r["o"], f"relations[{n}].o", path),
                claimed_by=_ids(r.get("claimedBy"), f"relations[{n}].claimedBy", path),
                optional=bool(r.get("optional", False)),
                evidence=_str_or_none(r.get("evidence"), f"relations[{n}].evidence", path),
                key=(str(r["s"]), r["p"], str(r["o"])),
            )
        )
    return GoldDocument.from_entities(data["doc"], entities, relations)


def load_gold(dir: Path) -> list[GoldDocument]:
    """Every ``*.json`` gold file in `dir`, in file-name order (as score.py reads them).

    Raises InputError naming the folder or file when the folder is missing or
    empty, a file is not valid JSON or not in the gold format, or two files
    annotate the same article.
    """
    if not dir.is_dir():
        raise InputError(
            str(dir), "no such folder; expected the gold folder (shared/eval/gold), one JSON file per article"
        )
    files = sorted(dir.glob("*.json"))
    if not files:
        raise InputError(
            str(dir), "holds no *.json gold files; expected one per article (shared/eval/README.md)"
        )
    golds: dict[str, tuple[Path, GoldDocument]] = {}
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(str(path), f"not valid UTF-8 JSON ({e}); fix or remove the file") from e
        gold = parse_gold(data, path)
        if gold.doc in golds:
            raise InputError(
                str(path),
                f"annotates {gold.doc!r} again (already in {golds[gold.doc][0].name}); keep one of them",
            )
        golds[gold.doc] = (path, gold)
    return [gold for _, gold in golds.values()]


# --------------------------------------------------------------------------
# Scoring: a port of shared/eval/score.py


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1; 0.0 where undefined."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


@dataclass(frozen=True, slots=True)
class DocumentScore:
    """How one gold article fared. `in_store` is False when nothing was predicted for it."""

    doc: str
    tp: int
    fp: int
    fn: int
    attributed: int
    attribution_correct: int
    entity_gold: int
    entity_found: int
    entity_predicted: int
    entity_unmapped: int
    missed: tuple[GoldRelation, ...]
    false_positives: tuple[PredictedRelation, ...]
    in_store: bool = True
    #: Gold entity id -> label, to name the ends of missed relations.
    gold_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return prf(self.tp, self.fp, self.fn)[0]

    @property
    def recall(self) -> float:
        return prf(self.tp, self.fp, self.fn)[1]

    @property
    def f1(self) -> float:
        return prf(self.tp, self.fp, self.fn)[2]


@dataclass(frozen=True, slots=True)
class Summary:
    """Totals over the gold articles; the ratios are unrounded (score.py prints them to 3 places)."""

    precision: float
    recall: float
    f1: float
    attribution_accuracy: float
    entity_recall: float
    tp: int
    fp: int
    fn: int
    attributed: int
    attribution_correct: int
    entity_gold: int
    entity_found: int


@dataclass(frozen=True, slots=True)
class EvalReport:
    """The scores of every gold article, their totals, and what could not be scored."""

    documents: tuple[DocumentScore, ...]
    summary: Summary
    #: Predicted articles with no gold file: not scored, listed so they are not forgotten.
    without_gold: tuple[str, ...] = ()
    #: Names predicted more than once (two stored articles with one file name); the last was scored.
    duplicates: tuple[str, ...] = ()

    @property
    def not_in_store(self) -> tuple[str, ...]:
        return tuple(d.doc for d in self.documents if not d.in_store)


@dataclass
class _Triple:
    relation: PredictedRelation
    mapped: bool
    speakers: set[str | None]


def score_document(gold: GoldDocument, pred: PredictedDoc | None) -> DocumentScore:
    """Score one article's predictions (None: nothing predicted) exactly as score.py does.

    Predicted relations are grouped by (subject, relation, object), one triple
    may be claimed by several speakers. A triple matching a required gold
    relation is a true positive once per distinct gold triple; one matching
    nothing is a false positive; one matching only optional relations counts
    neither way. Attribution is checked for every required gold relation a
    triple finds that names a speaker.
    """
    triples: dict[tuple[str, str, str], _Triple] = {}
    for r in pred["relations"] if pred else []:
        s, o = gold.map_entity(r.get("s")), gold.map_entity(r.get("o"))
        # Unmapped ends are keyed by score.py's str() of the JSON value, kept for equal grouping.
        key = (s or norm(str(r.get("s"))), r["p"], o or norm(str(r.get("o"))))
        entry = triples.setdefault(key, _Triple(r, bool(s and o), set()))
        if r.get("claimedBy"):
            entry.speakers.add(gold.map_entity(r["claimedBy"]))
    found: set[int] = set()
    false_positives: list[PredictedRelation] = []
    attributed = attribution_correct = 0
    for (s, p, o), entry in triples.items():
        hits = [i for i, g in enumerate(gold.relations) if entry.mapped and gold.matches(g, s, p, o)]
        if not hits:
            false_positives.append(entry.relation)
            continue
        for i in hits:
            g = gold.relations[i]
            if g.optional or i in found:
                continue
            found.add(i)
            if g.claimed_by:
                attributed += 1
                if entry.speakers & set(g.claimed_by):
                    attribution_correct += 1
    # Several gold relations can be one triple (another speaker): counted once.
    required: dict[tuple[str, str, str], list[int]] = {}
    for i, g in enumerate(gold.relations):
        if not g.optional:
            required.setdefault(g.key, []).append(i)
    missed = [gold.relations[idxs[0]] for idxs in required.values() if not any(i in found for i in idxs)]
    gold_entities = {e.id for e in gold.entities.values() if e.mentions}
    predicted_entities = [gold.map_entity(e) for e in pred["entities"]] if pred else []
    return DocumentScore(
        doc=gold.doc,
        tp=len(required) - len(missed),
        fp=len(false_positives),
        fn=len(missed),
        attributed=attributed,
        attribution_correct=attribution_correct,
        entity_gold=len(gold_entities),
        entity_found=len(gold_entities & set(predicted_entities)),
        entity_predicted=len(predicted_entities),
        entity_unmapped=sum(1 for x in predicted_entities if x is None),
        missed=tuple(missed),
        false_positives=tuple(false_positives),
        in_store=pred is not None,
        gold_labels={e.id: e.label for e in gold.entities.values()},
    )


def summarize(documents: Sequence[DocumentScore]) -> Summary:
    """Totals and ratios over the documents, as score.py's summary."""
    tp, fp, fn = (sum(d.tp for d in documents), sum(d.fp for d in documents), sum(d.fn for d in documents))
    attributed = sum(d.attributed for d in documents)
    attribution_correct = sum(d.attribution_correct for d in documents)
    entity_gold = sum(d.entity_gold for d in documents)
    entity_found = sum(d.entity_found for d in documents)
    p, r, f = prf(tp, fp, fn)
    return Summary(
        precision=p,
        recall=r,
        f1=f,
        attribution_accuracy=attribution_correct / attributed if attributed else 0.0,
        entity_recall=entity_found / entity_gold if entity_gold else 0.0,
        tp=tp,
        fp=fp,
        fn=fn,
        attributed=attributed,
        attribution_correct=attribution_correct,
        entity_gold=entity_gold,
        entity_found=entity_found,
    )


def score(golds: Sequence[GoldDocument], predictions: Sequence[PredictedDoc]) -> EvalReport:
    """Score predictions against every gold article, in the order of `golds`.

    A gold article with no prediction counts as all missed; predicted articles
    without gold are ignored but listed. Where one name is predicted twice the
    last one is scored (as score.py does) and the name is listed in `duplicates`.
    """
    by_doc: dict[str, PredictedDoc] = {}
    duplicates: list[str] = []
    for pred in predictions:
        if pred["doc"] in by_doc and pred["doc"] not in duplicates:
            duplicates.append(pred["doc"])
        by_doc[pred["doc"]] = pred
    documents = tuple(score_document(g, by_doc.get(g.doc)) for g in golds)
    gold_docs = {g.doc for g in golds}
    return EvalReport(
        documents=documents,
        summary=summarize(documents),
        without_gold=tuple(doc for doc in by_doc if doc not in gold_docs),
        duplicates=tuple(duplicates),
    )


def evaluate(select: Select, gold_dir: Path) -> EvalReport:
    """Score the stored graph (through `select`) against the gold files in `gold_dir`."""
    golds = load_gold(gold_dir)
    return score(golds, predictions_from_store(select))


# --------------------------------------------------------------------------
# Output


def _entity_label(entity: PredictedEntity | None) -> str:
    return (entity.get("label") or "?") if entity else "?"


def format_report(report: EvalReport) -> str:
    """The report as text, laid out like score.py's output, with readable entity labels."""
    lines: list[str] = []
    for d in report.documents:
        where = "" if d.in_store else "  [not in store]"
        lines.append(
            f"{d.doc}: P={d.precision:.2f} R={d.recall:.2f} F1={d.f1:.2f} "
            f"(tp={d.tp} fp={d.fp} fn={d.fn}) entities {d.entity_found}/{d.entity_gold}{where}"
        )
        for m in d.missed:
            speaker = f" (claimed by {_join(m.claimed_by, d.gold_labels)})" if m.claimed_by else ""
            lines.append(f"   missed: {_join(m.s, d.gold_labels)} {m.p} {_join(m.o, d.gold_labels)}{speaker}")
        for x in d.false_positives:
            speaker = f" (claimed by {_entity_label(x['claimedBy'])})" if x.get("claimedBy") else ""
            subject, obj = _entity_label(x.get("s")), _entity_label(x.get("o"))
            lines.append(f"   false positive: {subject} {x['p']} {obj}{speaker}")
    if report.not_in_store:
        lines.append(
            f"not in store ({len(report.not_in_store)}, counted as all missed): "
            + ", ".join(report.not_in_store)
        )
    if report.without_gold:
        lines.append(
            f"{len(report.without_gold)} article(s) in the store have no gold file and were not scored"
        )
    if report.duplicates:
        lines.append(
            "predicted more than once (several stored articles share the name; the last was scored): "
            + ", ".join(report.duplicates)
        )
    s = report.summary
    lines.append(
        f"relations P={s.precision:.3f} R={s.recall:.3f} F1={s.f1:.3f}  "
        f"attribution={s.attribution_accuracy:.3f}  entity recall={s.entity_recall:.3f}"
    )
    return "\n".join(lines)


def _join(ids: Iterable[str], labels: Mapping[str, str]) -> str:
    """Gold ids as labels, alternatives joined by " | "."""
    return " | ".join(labels.get(i, i) for i in ids)


def report_json(report: EvalReport) -> dict[str, Any]:
    """The report as score.py's ``--json`` object, plus ``not_in_store``, ``without_gold``, ``duplicates``."""
    s = report.summary
    return {
        "summary": {
            "precision": round(s.precision, 3),
            "recall": round(s.recall, 3),
            "f1": round(s.f1, 3),
            "attribution_accuracy": round(s.attribution_accuracy, 3),
            "entity_recall": round(s.entity_recall, 3),
            "tp": s.tp,
            "fp": s.fp,
            "fn": s.fn,
            "attributed": s.attributed,
            "attribution_correct": s.attribution_correct,
            "entity_gold": s.entity_gold,
            "entity_found": s.entity_found,
        },
        "documents": [
            {
                "doc": d.doc,
                "tp": d.tp,
                "fp": d.fp,
                "fn": d.fn,
                "attributed": d.attributed,
                "attribution_correct": d.attribution_correct,
                "entity_gold": d.entity_gold,
                "entity_found": d.entity_found,
                "entity_predicted": d.entity_predicted,
                "entity_unmapped": d.entity_unmapped,
                "false_positives": list(d.false_positives),
                "missed": [m.as_json() for m in d.missed],
                "in_store": d.in_store,
            }
            for d in report.documents
        ],
        "not_in_store": list(report.not_in_store),
        "without_gold": list(report.without_gold),
        "duplicates": list(report.duplicates),
    }

"""Tests for kg.evaluate: the score.py port, its equivalence with score.py, and reading the store."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.errors import InputError, StoreError
from kg.evaluate import (
    EvalReport,
    PredictedDoc,
    PredictedEntity,
    PredictedRelation,
    evaluate,
    format_report,
    load_gold,
    parse_gold,
    predictions_from_store,
    report_json,
    score,
    score_document,
)
from kg.model import RELATIONS
from kg.settings import Settings
from kg.vocab import PREFIXES

SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"

# --------------------------------------------------------------------------
# Hand-made gold and predictions


def ent(label: str, wikidata: str | None = None, *aliases: str) -> PredictedEntity:
    return {"label": label, "wikidata": wikidata, "aliases": list(aliases)}


def rel(
    s: PredictedEntity, p: str, o: PredictedEntity, by: PredictedEntity | None = None
) -> PredictedRelation:
    return {"s": s, "p": p, "o": o, "claimedBy": by}


def pdoc(
    entities: list[PredictedEntity], relations: list[PredictedRelation], doc: str = "a.txt"
) -> PredictedDoc:
    return {"doc": doc, "entities": entities, "relations": relations}


GOLD_A: dict[str, Any] = {
    "doc": "a.txt",
    "entities": [
        {"id": "russia", "label": "Russia", "wikidata": "Q159", "mentions": ["Russland", "Moskau"]},
        {"id": "nk", "label": "North Korea", "wikidata": "Q423", "mentions": ["Nordkorea", "Pjöngjang"]},
        {"id": "nato", "label": "NATO", "wikidata": "Q7184", "mentions": ["Nato"]},
        {"id": "rutte", "label": "Mark Rutte", "wikidata": "Q57792", "mentions": ["Rutte"]},
        {"id": "china", "label": "China", "wikidata": "Q148", "mentions": []},
    ],
    "relations": [
        {"s": "russia", "p": "supports", "o": "nk", "claimedBy": ["nato", "rutte"], "optional": False},
        {"s": "russia", "p": "meets", "o": "nk", "claimedBy": None, "optional": False},
        {"s": "nato", "p": "criticizes", "o": "russia", "claimedBy": None, "optional": True},
    ],
}
GOLD = parse_gold(GOLD_A, Path("a.json"))

RUSSIA = ent("Russland", "Q159")
NK = ent("Nordkorea", "Q423")
NATO = ent("NATO", "Q7184")
RUTTE = ent("Mark Rutte", "Q57792")
PUTIN = ent("Wladimir Putin", None, "Putin")


def test_perfect_prediction_scores_all_true_positives() -> None:
    row = score_document(
        GOLD, pdoc([RUSSIA, NK, NATO, RUTTE], [rel(RUSSIA, "supports", NK, NATO), rel(RUSSIA, "meets", NK)])
    )
    assert (row.tp, row.fp, row.fn) == (2, 0, 0)
    assert (row.attributed, row.attribution_correct) == (1, 1)
    assert (row.entity_found, row.entity_gold) == (4, 4)  # china has no mentions: not counted
    assert (row.precision, row.recall, row.f1) == (1.0, 1.0, 1.0)


def test_symmetric_relation_matches_either_way_round_and_others_do_not() -> None:
    row = score_document(GOLD, pdoc([], [rel(NK, "meets", RUSSIA), rel(NK, "supports", RUSSIA)]))
    assert (row.tp, row.fp, row.fn) == (1, 1, 1)
    assert [m.p for m in row.missed] == ["supports"]
    assert [x["p"] for x in row.false_positives] == ["supports"]


def test_optional_relation_counts_neither_for_nor_against() -> None:
    found = score_document(GOLD, pdoc([], [rel(NATO, "criticizes", RUSSIA)]))
    assert (found.tp, found.fp, found.fn) == (0, 0, 2)
    assert {m.p for m in found.missed} == {"supports", "meets"}  # the optional one is never "missed"


def test_entities_map_by_alias_or_mention_with_case_white_space_and_nfc_folded() -> None:
    decomposed = unicodedata.normalize("NFD", "pjöngjang")
    moskau = ent("Kreml", None, "  MOSKAU ")
    nordkorea = ent(decomposed)
    row = score_document(GOLD, pdoc([moskau, nordkorea, PUTIN], [rel(moskau, "meets", nordkorea)]))
    assert (row.tp, row.fp) == (1, 0)
    assert (row.entity_found, row.entity_predicted, row.entity_unmapped) == (2, 3, 1)


def test_entities_map_by_wikidata_id_or_iri_before_names() -> None:
    by_iri = ent("Moskau-Regierung", "http://www.wikidata.org/entity/Q159")
    wrong_qid_right_name = ent("Nordkorea", "Q999999")
    row = score_document(GOLD, pdoc([by_iri], [rel(by_iri, "meets", wrong_qid_right_name)]))
    assert (row.tp, row.fp, row.entity_found) == (1, 0, 1)


def test_attribution_right_wrong_and_missing() -> None:
    def attribution(by: PredictedEntity | None) -> tuple[int, int]:
        row = score_document(GOLD, pdoc([], [rel(RUSSIA, "supports", NK, by)]))
        assert row.tp == 1
        return row.attributed, row.attribution_correct

    assert attribution(ent("Rutte")) == (1, 1)  # any listed speaker is right
    assert attribution(PUTIN) == (1, 0)
    assert attribution(None) == (1, 0)
    # The article's own voice: no speaker to check.
    assert score_document(GOLD, pdoc([], [rel(RUSSIA, "meets", NK, PUTIN)])).attributed == 0


def test_one_triple_claimed_by_several_speakers_is_one_prediction() -> None:
    row = score_document(
        GOLD, pdoc([], [rel(RUSSIA, "supports", NK, PUTIN), rel(ent("Russia"), "supports", NK, NATO)])
    )
    assert (row.tp, row.fp, row.attributed, row.attribution_correct) == (1, 0, 1, 1)


def test_unmapped_ends_are_false_positives_grouped_by_their_value() -> None:
    unknown = ent("Atlantis")
    row = score_document(
        GOLD,
        pdoc([], [rel(unknown, "supports", NK), rel(unknown, "supports", NK), rel(NK, "supports", unknown)]),
    )
    assert (row.tp, row.fp) == (0, 2)


def test_same_gold_triple_with_two_speakers_counts_once() -> None:
    gold = parse_gold(
        {
            **GOLD_A,
            "relations": [
                {"s": "russia", "p": "supports", "o": "nk", "claimedBy": "nato"},
                {"s": "russia", "p": "supports", "o": "nk", "claimedBy": "rutte"},
            ],
        },
        Path("a.json"),
    )
    assert (score_document(gold, None).fn, score_document(gold, None).tp) == (1, 0)
    row = score_document(gold, pdoc([], [rel(RUSSIA, "supports", NK, NATO)]))
    assert (row.tp, row.fn, row.attributed, row.attribution_correct) == (1, 0, 2, 1)


def test_document_missing_from_predictions_is_all_missed_and_reported() -> None:
    extra = pdoc([RUSSIA], [rel(RUSSIA, "meets", NK)], doc="unknown.txt")
    report = score([GOLD], [extra])
    (row,) = report.documents
    assert (row.tp, row.fp, row.fn, row.entity_found, row.in_store) == (0, 0, 2, 0, False)
    assert report.not_in_store == ("a.txt",)
    assert report.without_gold == ("unknown.txt",)
    text = format_report(report)
    assert "a.txt: P=0.00 R=0.00 F1=0.00 (tp=0 fp=0 fn=2) entities 0/4  [not in store]" in text
    assert "not in store (1, counted as all missed): a.txt" in text
    assert "1 article(s) in the store have no gold file and were not scored" in text


def test_summary_and_report_text() -> None:
    gold_b = parse_gold({"doc": "b.txt", "entities": [], "relations": []}, Path("b.json"))
    report = score(
        [GOLD, gold_b],
        [
            pdoc([RUSSIA, PUTIN], [rel(RUSSIA, "supports", NK, PUTIN), rel(PUTIN, "attacks", NATO, RUTTE)]),
            pdoc([], [], doc="b.txt"),
            pdoc([], [], doc="b.txt"),
        ],
    )
    s = report.summary
    assert (s.tp, s.fp, s.fn, s.attributed, s.attribution_correct) == (1, 1, 1, 1, 0)
    assert (s.precision, s.recall, s.f1, s.attribution_accuracy, s.entity_recall) == (
        0.5,
        0.5,
        0.5,
        0.0,
        0.25,
    )
    assert report.duplicates == ("b.txt",)
    assert format_report(report).splitlines() == [
        "a.txt: P=0.50 R=0.50 F1=0.50 (tp=1 fp=1 fn=1) entities 1/4",
        "   missed: Russia meets North Korea",
        "   false positive: Wladimir Putin attacks NATO (claimed by Mark Rutte)",
        "b.txt: P=0.00 R=0.00 F1=0.00 (tp=0 fp=0 fn=0) entities 0/0",
        "predicted more than once (several stored articles share the name; the last was scored): b.txt",
        "relations P=0.500 R=0.500 F1=0.500  attribution=0.000  entity recall=0.250",
    ]
    data = report_json(report)
    assert data["summary"]["f1"] == 0.5
    assert data["documents"][0]["missed"] == [
        {"s": "russia", "p": "meets", "o": "nk", "claimedBy": None, "optional": False, "evidence": None}
    ]
    assert json.loads(json.dumps(data)) == data


def test_missed_relation_names_alternatives_and_speakers_by_label() -> None:
    gold = parse_gold(
        {
            **GOLD_A,
            "relations": [{"s": ["nk", "china"], "p": "supports", "o": "russia", "claimedBy": ["nato"]}],
        },
        Path("a.json"),
    )
    text = format_report(score([gold], []))
    assert "   missed: North Korea | China supports Russia (claimed by NATO)" in text


# --------------------------------------------------------------------------
# load_gold


def test_load_gold_reads_files_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "2.json").write_text(json.dumps({**GOLD_A, "doc": "z.txt"}), encoding="utf-8")
    (tmp_path / "1.json").write_text(json.dumps(GOLD_A), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not gold", encoding="utf-8")
    assert [g.doc for g in load_gold(tmp_path)] == ["a.txt", "z.txt"]


def test_load_gold_errors_name_the_folder_or_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such folder"):
        load_gold(tmp_path / "absent")
    with pytest.raises(InputError, match=r"holds no \*\.json gold files"):
        load_gold(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.json: not valid UTF-8 JSON"):
        load_gold(tmp_path)
    bad.write_text(json.dumps({"doc": "a.txt", "entities": [{"id": "x"}]}), encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.json: entities\[0\] is .*expected an object with string"):
        load_gold(tmp_path)
    bad.write_text(json.dumps(GOLD_A), encoding="utf-8")
    (tmp_path / "copy.json").write_text(json.dumps(GOLD_A), encoding="utf-8")
    with pytest.raises(InputError, match=r"copy\.json: annotates 'a\.txt' again \(already in bad\.json\)"):
        load_gold(tmp_path)


# --------------------------------------------------------------------------
# Equivalence with shared/eval/score.py on the real gold


def _prediction_sets() -> list[list[PredictedDoc]]:
    golds = [json.loads(f.read_text(encoding="utf-8")) for f in sorted((SHARED_EVAL / "gold").glob("*.json"))]

    def as_list(v: Any) -> list[str]:
        return [] if v is None else v if isinstance(v, list) else [v]

    def perfect() -> list[PredictedDoc]:
        docs: list[PredictedDoc] = []
        for g in golds:
            es = {e["id"]: ent(e["label"], e.get("wikidata"), *e.get("mentions", [])) for e in g["entities"]}
            relations = [
                rel(
                    es[as_list(r["s"])[0]],
                    r["p"],
                    es[as_list(r["o"])[0]],
                    es[as_list(r["claimedBy"])[0]] if r.get("claimedBy") else None,
                )
                for r in g["relations"]
            ]
            docs.append(pdoc(list(es.values()), relations, doc=g["doc"]))
        return docs

    def noisy(seed: int) -> list[PredictedDoc]:
        rnd = random.Random(seed)
        docs: list[PredictedDoc] = []
        for g in golds:
            if rnd.random() < 0.15:
                continue  # not predicted at all
            ids = [e["id"] for e in g["entities"]]
            by_id = {e["id"]: e for e in g["entities"]}

            def render(gid: str, by_id: dict[str, Any] = by_id) -> PredictedEntity:
                e = by_id[gid]
                how = rnd.randrange(6)
                if how == 0:
                    return ent(e["label"])
                if how == 1 and e.get("wikidata"):
                    return ent("irgendwas", "http://www.wikidata.org/entity/" + e["wikidata"])
                if how == 2 and e.get("mentions"):
                    # Upper case, decomposed, white space doubled: norm() must fold it all back.
                    mention = unicodedata.normalize("NFD", rnd.choice(e["mentions"]).upper())
                    return ent("x", "Q0", "  " + mention.replace(" ", " \t ") + " ")
                if how == 3:
                    return ent("Unbekannt " + str(rnd.randrange(3)))
                return ent(e["label"], e.get("wikidata"), *e.get("mentions", []))

            entities = [render(i) for i in ids if rnd.random() < 0.7]
            relations: list[PredictedRelation] = []
            for r in g["relations"]:
                if rnd.random() < 0.35:
                    continue
                s, o = rnd.choice(as_list(r["s"])), rnd.choice(as_list(r["o"]))
                if rnd.random() < 0.2:
                    s, o = o, s
                p = rnd.choice(RELATIONS) if rnd.random() < 0.1 else r["p"]
                speakers = [*as_list(r.get("claimedBy")), rnd.choice(ids), None]
                for _ in range(rnd.choice([1, 1, 2])):
                    who = rnd.choice(speakers)
                    relations.append(rel(render(s), p, render(o), render(who) if who else None))
            for _ in range(rnd.randrange(4)):
                relations.append(rel(render(rnd.choice(ids)), rnd.choice(RELATIONS), render(rnd.choice(ids))))
            docs.append(pdoc(entities, relations, doc=g["doc"]))
        docs.append(pdoc([ent("Russland")], [], doc="zzz_not_in_gold.txt"))
        return docs

    return [[], perfect(), *(noisy(seed) for seed in range(5))]


@pytest.mark.skipif(
    not (SHARED_EVAL / "score.py").is_file(),
    reason=f"the reference scorer is not at {SHARED_EVAL / 'score.py'} (no shared/ next to the repo)",
)
def test_scores_equal_reference_score_py(tmp_path: Path) -> None:
    golds = load_gold(SHARED_EVAL / "gold")
    for n, predictions in enumerate(_prediction_sets()):
        path = tmp_path / f"predictions{n}.json"
        path.write_text(json.dumps(predictions, ensure_ascii=False), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, str(SHARED_EVAL / "score.py"), str(SHARED_EVAL / "gold"), str(path), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        expected = json.loads(result.stdout)
        ours = report_json(score(golds, predictions))
        assert ours["summary"] == expected["summary"], f"prediction set {n}"
        assert len(ours["documents"]) == len(expected["documents"])
        for mine, theirs in zip(ours["documents"], expected["documents"], strict=True):
            counts = [k for k in theirs if k not in ("false_positives", "missed")]
            assert {k: mine[k] for k in counts} == {k: theirs[k] for k in counts}, f"set {n} {theirs['doc']}"
            assert mine["false_positives"] == theirs["false_positives"], f"set {n} {theirs['doc']}"
            assert [(m["s"], m["p"], m["o"], m["claimedBy"]) for m in mine["missed"]] == [
                (m["s"], m["p"], m["o"], m.get("claimedBy")) for m in theirs["missed"]
            ], f"set {n} {theirs['doc']}"


# --------------------------------------------------------------------------
# predictions_from_store on a hand-made graph (ontology/MODEL.md)

TRIG = """
g:aaa {
  art:aaa a schema:NewsArticle ; kg:fileName "a.txt" ; schema:text "…" ;
    schema:mentions e:Q159 , e:Q7184 , e:person\\/matthew-miller .
  e:Q159 a kg:Country ; rdfs:label "Russland"@de , "Russia"@en ; owl:sameAs wd:Q159 ; kg:wikidataId "Q159" ;
    kg:surfaceForm "Russland" , "Moskau" .
  e:Q7184 a kg:Organization ; rdfs:label "NATO"@en ; kg:wikidataId "Q7184" ; kg:surfaceForm "Nato" .
  e:person\\/matthew-miller a kg:Person ; rdfs:label "Matthew Miller"@de ; kg:surfaceForm "Miller" .
  s:a1 a kg:Statement ; kg:subject e:Q7184 ; kg:relation kg:criticizes ; kg:object e:Q159 ;
    kg:modality kg:Asserted ; kg:beginIndex 50 ; kg:endIndex 90 .
  s:a2 a kg:Statement ; kg:subject e:Q159 ; kg:relation kg:attacks ; kg:object e:Q7184 ;
    kg:modality kg:Negated ; kg:beginIndex 10 ; kg:endIndex 40 .
  s:a3 a kg:Statement ; kg:subject e:Q159 ; kg:relation kg:threatens ; kg:object e:Q7184 ;
    kg:claimedBy e:person\\/matthew-miller ; kg:modality kg:Hedged ; kg:beginIndex 5 ; kg:endIndex 40 .
  e:Q7184 kg:criticizes e:Q159 .
  e:Q159 kg:threatens e:Q7184 .
}
g:bbb {
  art:bbb a schema:NewsArticle ; kg:fileName "b.txt" ; schema:mentions e:Q159 , e:Q423 , e:Q7184 .
  e:Q159 a kg:Country ; rdfs:label "Russland"@de , "Russia"@en ; kg:wikidataId "Q159" ;
    kg:surfaceForm "Russlands" , "Kreml" .
  e:Q423 a kg:Country ; rdfs:label "North Korea"@en , "Corée du Nord"@fr ; kg:wikidataId "Q423" ;
    kg:surfaceForm "Nordkorea" .
  e:Q7184 a kg:Organization ; rdfs:label "Nordatlantikpakt"@de , "NATO"@en ; kg:wikidataId "Q7184" ;
    kg:surfaceForm "Nato" .
  s:b1 a kg:Statement ; kg:subject e:Q159 ; kg:relation kg:supports ; kg:object e:Q423 ;
    kg:claimedBy e:Q7184 ; kg:modality kg:Asserted ; kg:beginIndex 0 ; kg:endIndex 60 .
  e:Q159 kg:supports e:Q423 .
}
# The default graph (the store's union) is not read: this would add a mention and a label.
art:aaa schema:mentions e:Q423 .
e:Q159 rdfs:label "Russie"@fr .
"""

R_A: PredictedEntity = {"label": "Russland", "wikidata": "Q159", "aliases": ["Russland", "Russia", "Moskau"]}
NATO_A: PredictedEntity = {"label": "NATO", "wikidata": "Q7184", "aliases": ["NATO", "Nato"]}
MILLER: PredictedEntity = {
    "label": "Matthew Miller",
    "wikidata": None,
    "aliases": ["Matthew Miller", "Miller"],
}
R_B: PredictedEntity = {
    "label": "Russland",
    "wikidata": "Q159",
    "aliases": ["Russland", "Russia", "Kreml", "Russlands"],
}
NK_B: PredictedEntity = {
    "label": "North Korea",
    "wikidata": "Q423",
    "aliases": ["North Korea", "Corée du Nord", "Nordkorea"],
}
NATO_B: PredictedEntity = {
    "label": "Nordatlantikpakt",
    "wikidata": "Q7184",
    "aliases": ["Nordatlantikpakt", "NATO", "Nato"],
}
EXPECTED: list[PredictedDoc] = [
    {
        "doc": "a.txt",
        "entities": [MILLER, NATO_A, R_A],
        "relations": [  # in text order; the negated kg:attacks is not a prediction
            {"s": R_A, "p": "threatens", "o": NATO_A, "claimedBy": MILLER},
            {"s": NATO_A, "p": "criticizes", "o": R_A, "claimedBy": None},
        ],
    },
    {
        "doc": "b.txt",
        "entities": [NATO_B, NK_B, R_B],
        "relations": [{"s": R_B, "p": "supports", "o": NK_B, "claimedBy": NATO_B}],
    },
]

Select = Callable[[str], list[dict[str, str | None]]]


def _oxigraph_select(trig: str) -> tuple[Select, list[str]]:
    """An in-memory store holding `trig`, and a `select` over it that records its queries."""
    base = Settings().base_iri
    prefixes = {**PREFIXES, "e": base + "entity/", "s": base + "statement/"}
    prefixes |= {"g": base + "graph/", "art": base + "article/"}
    header = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in prefixes.items())
    store = ox.Store()
    store.load(header + trig, format=ox.RdfFormat.TRIG)
    queries: list[str] = []

    def select(query: str) -> list[dict[str, str | None]]:
        queries.append(query)
        solutions = store.query(query)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        return [{n: None if sol[n] is None else sol[n].value for n in names} for sol in solutions]

    return select, queries


def test_predictions_from_store_reads_each_article_graph_on_its_own() -> None:
    select, queries = _oxigraph_select(TRIG)
    assert predictions_from_store(select) == EXPECTED
    assert len(queries) == 3


def test_predictions_from_store_on_an_empty_store() -> None:
    select, _ = _oxigraph_select("")
    assert predictions_from_store(select) == []


def test_predictions_from_store_says_what_a_bad_row_lacks() -> None:
    def select(query: str) -> list[dict[str, str | None]]:
        return [{"g": None, "article": "http://example.org/a"}]

    with pytest.raises(StoreError, match=r"without \?g"):
        predictions_from_store(select)


def test_evaluate_scores_the_store_against_a_gold_folder(tmp_path: Path) -> None:
    gold = {
        "doc": "b.txt",
        "entities": [
            {"id": "russia", "label": "Russia", "wikidata": "Q159", "mentions": ["Russland"]},
            {"id": "nk", "label": "North Korea", "wikidata": "Q423", "mentions": ["Nordkorea"]},
            {"id": "nato", "label": "NATO", "wikidata": None, "mentions": ["Nato"]},
        ],
        "relations": [{"s": "russia", "p": "supports", "o": "nk", "claimedBy": "nato"}],
    }
    (tmp_path / "b.json").write_text(json.dumps(gold), encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps({**gold, "doc": "c.txt"}), encoding="utf-8")
    select, _ = _oxigraph_select(TRIG)
    report: EvalReport = evaluate(select, tmp_path)
    b, c = report.documents
    assert (b.tp, b.fp, b.fn, b.attribution_correct, b.entity_found) == (1, 0, 0, 1, 3)
    assert (c.tp, c.fn, c.in_store) == (0, 1, False)
    assert report.not_in_store == ("c.txt",)
    assert report.without_gold == ("a.txt",)
    summary: Mapping[str, Any] = report_json(report)["summary"]
    assert (summary["precision"], summary["recall"], summary["entity_recall"]) == (1.0, 0.5, 0.5)

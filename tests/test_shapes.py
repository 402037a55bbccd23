"""shapes/kg-shapes.ttl: each constraint group accepts a conforming graph and names what breaks it.

Every test starts from BASE, a minimal conforming article graph in inline
Turtle, removes the triples named in `drop` and adds inline Turtle, then
checks the focus node and path of the violation.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from kg.errors import InputError
from kg.model import ENTITY_TYPES, Article, Entity, Extraction, Mention, Statement
from kg.validate import ValidationReport, load_ontology, load_shapes, validate, validate_file
from kg.vocab import KG, RELATION_IRIS, SCHEMA

REPO = Path(__file__).resolve().parent.parent
EX = "https://example.org/"
TEXT = "Russland unterstützt Nordkorea."
HASH = hashlib.sha256(TEXT.encode("utf-8")).hexdigest()

PREFIXES = f"""
@prefix ex: <{EX}> .
@prefix kg: <https://w3id.org/newskg/ontology#> .
@prefix schema: <https://schema.org/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix wd: <http://www.wikidata.org/entity/> .
"""

BASE = (
    PREFIXES
    + f"""
ex:a a schema:NewsArticle ;
    kg:fileName "a.txt" ;
    schema:text "{TEXT}" ;
    kg:textLength 31 ;
    kg:contentHash "{HASH}" ;
    kg:extractorVersion "v1" ;
    schema:datePublished "2024-12-04"^^xsd:date ;
    schema:mentions ex:ru , ex:nk .
ex:ru a kg:Country ; rdfs:label "Russland"@de ; kg:wikidataId "Q159" ; owl:sameAs wd:Q159 .
ex:nk a kg:Country ; rdfs:label "Nordkorea"@de .
ex:act a kg:ExtractionActivity , prov:Activity ; prov:used ex:a ; kg:extractorVersion "v1" .
ex:s a kg:Statement ;
    kg:subject ex:ru ; kg:relation kg:supports ; kg:object ex:nk ;
    kg:modality kg:Asserted ; kg:confidence 0.8 ;
    kg:evidenceText "{TEXT}" ; kg:beginIndex 0 ; kg:endIndex 31 ;
    kg:article ex:a ; prov:wasDerivedFrom ex:a ; kg:articleDate "2024-12-04"^^xsd:date ;
    kg:extractorVersion "v1" ; prov:wasGeneratedBy ex:act .
ex:ru kg:supports ex:nk .
"""
)


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes(REPO / "shapes")


def ex(name: str) -> URIRef:
    return URIRef(EX + name)


def variant(*, drop: tuple[tuple[URIRef, URIRef], ...] = (), add: str = "") -> Graph:
    graph = Graph().parse(data=BASE, format="turtle")
    for subject, predicate in drop:
        graph.remove((subject, predicate, None))
    if add:
        graph.parse(data=PREFIXES + add, format="turtle")
    return graph


def check(graph: Graph, shapes: Graph) -> ValidationReport:
    return validate(graph, shapes=shapes, ontology=None)


def assert_violation(report: ValidationReport, focus: URIRef, path: URIRef | None) -> None:
    assert not report.conforms
    found = {(v.focus, v.path) for v in report.results}
    assert (focus, path) in found, f"expected a violation at {focus} {path}; got:\n{report.text}"


def test_base_example_conforms(shapes: Graph) -> None:
    report = check(variant(), shapes)
    assert report.conforms, report.text
    assert report.results == ()
    assert report.text == ""


# --- statements ------------------------------------------------------------

STATEMENT_CASES = [
    ("missing subject", ((ex("s"), KG.subject),), "", KG.subject),
    ("literal subject", ((ex("s"), KG.subject),), 'ex:s kg:subject "Russland" .', KG.subject),
    ("unknown relation", ((ex("s"), KG.relation),), "ex:s kg:relation kg:likes .", KG.relation),
    ("two objects", (), "ex:s kg:object ex:ru .", KG.object),
    ("missing object", ((ex("s"), KG.object),), "", KG.object),
    ("unknown modality", ((ex("s"), KG.modality),), "ex:s kg:modality kg:Certain .", KG.modality),
    ("confidence above 1", ((ex("s"), KG.confidence),), "ex:s kg:confidence 1.5 .", KG.confidence),
    ("confidence as string", ((ex("s"), KG.confidence),), 'ex:s kg:confidence "0.8" .', KG.confidence),
    ("missing confidence", ((ex("s"), KG.confidence),), "", KG.confidence),
    ("negative begin", ((ex("s"), KG.beginIndex),), "ex:s kg:beginIndex -1 .", KG.beginIndex),
    ("begin not before end", ((ex("s"), KG.beginIndex),), "ex:s kg:beginIndex 31 .", KG.beginIndex),
    ("end as decimal", ((ex("s"), KG.endIndex),), "ex:s kg:endIndex 31.0 .", KG.endIndex),
    ("missing evidence", ((ex("s"), KG.evidenceText),), "", KG.evidenceText),
    ("two speakers", (), "ex:s kg:claimedBy ex:ru , ex:nk .", KG.claimedBy),
    ("speaker literal", (), 'ex:s kg:claimedBy "Nato" .', KG.claimedBy),
    ("missing article", ((ex("s"), KG.article),), "", KG.article),
    ("article not an article", ((ex("s"), KG.article),), "ex:s kg:article ex:ru .", KG.article),
    ("derivation differs", ((ex("s"), URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")),), "", None),
    ("missing activity", ((ex("s"), URIRef("http://www.w3.org/ns/prov#wasGeneratedBy")),), "", None),
    ("missing extractor version", ((ex("s"), KG.extractorVersion),), "", KG.extractorVersion),
    (
        "article date as string",
        ((ex("s"), KG.articleDate),),
        'ex:s kg:articleDate "4.12.2024" .',
        KG.articleDate,
    ),
    ("two triggers", (), 'ex:s kg:trigger "a" , "b" .', KG.trigger),
]


@pytest.mark.parametrize(("why", "drop", "add", "path"), STATEMENT_CASES, ids=[c[0] for c in STATEMENT_CASES])
def test_statement_properties(
    shapes: Graph, why: str, drop: tuple[tuple[URIRef, URIRef], ...], add: str, path: URIRef | None
) -> None:
    report = check(variant(drop=drop, add=add), shapes)
    if path is None:  # prov: properties; checked by focus only
        assert not report.conforms
        assert ex("s") in {v.focus for v in report.results}, report.text
    else:
        assert_violation(report, ex("s"), path)


def test_statement_without_type_is_reported(shapes: Graph) -> None:
    report = check(variant(drop=((ex("s"), RDF.type),)), shapes)
    assert_violation(report, ex("s"), None)


def test_evidence_must_equal_the_text_at_the_offsets(shapes: Graph) -> None:
    report = check(
        variant(
            drop=((ex("s"), KG.evidenceText),), add='ex:s kg:evidenceText "Russland unterstützt Nordkorea!" .'
        ),
        shapes,
    )
    assert_violation(report, ex("s"), KG.evidenceText)
    assert any("Russland unterstützt Nordkorea." in v.message for v in report.results), report.text


def test_evidence_offsets_count_code_points(shapes: Graph) -> None:
    # "ü" is one code point (two UTF-8 bytes): offsets 9..20 are "unterstützt"
    ok = variant(
        drop=((ex("s"), KG.evidenceText), (ex("s"), KG.beginIndex), (ex("s"), KG.endIndex)),
        add='ex:s kg:evidenceText "unterstützt" ; kg:beginIndex 9 ; kg:endIndex 20 .',
    )
    assert check(ok, shapes).conforms


def test_end_beyond_the_text_is_reported(shapes: Graph) -> None:
    report = check(variant(drop=((ex("s"), KG.endIndex),), add="ex:s kg:endIndex 40 ."), shapes)
    assert_violation(report, ex("s"), KG.endIndex)


# --- entities --------------------------------------------------------------

ENTITY_CASES = [
    ("two types", (), "ex:ru a kg:Person .", ex("ru"), None),
    ("abstract type only", ((ex("nk"), RDF.type),), "ex:nk a kg:Actor .", ex("nk"), None),
    ("untyped object", ((ex("nk"), RDF.type),), "", ex("nk"), None),
    ("no label", ((ex("nk"), RDFS.label),), "", ex("nk"), RDFS.label),
    ("bad wikidata id", ((ex("ru"), KG.wikidataId),), 'ex:ru kg:wikidataId "159" .', ex("ru"), KG.wikidataId),
    (
        "sameAs outside wikidata",
        ((ex("ru"), URIRef("http://www.w3.org/2002/07/owl#sameAs")),),
        "ex:ru owl:sameAs <http://dbpedia.org/resource/Russia> .",
        ex("ru"),
        URIRef("http://www.w3.org/2002/07/owl#sameAs"),
    ),
    (
        "wikidata id without sameAs",
        ((ex("ru"), URIRef("http://www.w3.org/2002/07/owl#sameAs")),),
        "",
        ex("ru"),
        KG.wikidataId,
    ),
    ("typed entity without label", (), "ex:x a kg:Location .", ex("x"), RDFS.label),
]


@pytest.mark.parametrize(
    ("why", "drop", "add", "focus", "path"), ENTITY_CASES, ids=[c[0] for c in ENTITY_CASES]
)
def test_entities(
    shapes: Graph,
    why: str,
    drop: tuple[tuple[URIRef, URIRef], ...],
    add: str,
    focus: URIRef,
    path: URIRef | None,
) -> None:
    assert_violation(check(variant(drop=drop, add=add), shapes), focus, path)


# --- articles and activities -------------------------------------------------

ARTICLE_CASES = [
    ("missing file name", ((ex("a"), KG.fileName),), "", KG.fileName),
    ("missing text", ((ex("a"), SCHEMA.text),), "", SCHEMA.text),
    ("wrong length", ((ex("a"), KG.textLength),), "ex:a kg:textLength 32 .", KG.textLength),
    ("hash not hex", ((ex("a"), KG.contentHash),), 'ex:a kg:contentHash "xyz" .', KG.contentHash),
    (
        "hash of other text",
        ((ex("a"), KG.contentHash),),
        f'ex:a kg:contentHash "{"0" * 64}" .',
        KG.contentHash,
    ),
    ("missing extractor", ((ex("a"), KG.extractorVersion),), "", KG.extractorVersion),
    (
        "date as string",
        ((ex("a"), SCHEMA.datePublished),),
        'ex:a schema:datePublished "2024" .',
        SCHEMA.datePublished,
    ),
    ("two dates", (), 'ex:a schema:datePublished "2024"^^xsd:gYear .', SCHEMA.datePublished),
    ("url as string", (), 'ex:a schema:url "https://example.org" .', SCHEMA.url),
]


@pytest.mark.parametrize(("why", "drop", "add", "path"), ARTICLE_CASES, ids=[c[0] for c in ARTICLE_CASES])
def test_articles(
    shapes: Graph, why: str, drop: tuple[tuple[URIRef, URIRef], ...], add: str, path: URIRef
) -> None:
    assert_violation(check(variant(drop=drop, add=add), shapes), ex("a"), path)


@pytest.mark.parametrize(
    "date", ['"2024"^^xsd:gYear', '"2024-06"^^xsd:gYearMonth', '"2024-12-04T18:49:00"^^xsd:dateTime']
)
def test_every_date_precision_conforms(shapes: Graph, date: str) -> None:
    graph = variant(drop=((ex("a"), SCHEMA.datePublished),), add=f"ex:a schema:datePublished {date} .")
    assert check(graph, shapes).conforms


def test_activity_needs_the_article_it_used(shapes: Graph) -> None:
    report = check(variant(drop=((ex("act"), URIRef("http://www.w3.org/ns/prov#used")),)), shapes)
    assert not report.conforms
    assert ex("act") in {v.focus for v in report.results}, report.text


# --- domains and ranges ------------------------------------------------------


def test_direct_triple_domain(shapes: Graph) -> None:
    report = check(
        variant(add='ex:kursk a kg:Location ; rdfs:label "Kursk"@de . ex:kursk kg:supports ex:nk .'), shapes
    )
    assert_violation(report, ex("kursk"), None)


def test_direct_triple_range(shapes: Graph) -> None:
    report = check(variant(add="ex:ru kg:memberOf ex:nk ."), shapes)
    assert_violation(report, ex("ru"), KG.memberOf)


def test_statement_subject_respects_the_domain_even_when_negated(shapes: Graph) -> None:
    # negated: no direct triple, so only the statement shape can see it
    graph = variant(
        drop=((ex("s"), KG.relation), (ex("s"), KG.modality), (ex("ru"), KG.supports)),
        add="ex:s kg:relation kg:holdsRole ; kg:modality kg:Negated .",
    )
    report = check(graph, shapes)
    assert_violation(report, ex("s"), KG.subject)
    assert any("kg:Person" in v.message for v in report.results), report.text


def test_statement_object_respects_the_range(shapes: Graph) -> None:
    graph = variant(
        drop=((ex("s"), KG.relation), (ex("s"), KG.modality), (ex("ru"), KG.supports)),
        add="ex:s kg:relation kg:memberOf ; kg:modality kg:Negated .",
    )
    assert_violation(check(graph, shapes), ex("s"), KG.object)


def _closure(ontology: Graph, cls: URIRef) -> set[str]:
    """The concrete entity types that are (transitively) subclasses of `cls`."""
    return {t for t in ENTITY_TYPES if (KG[t], RDFS.subClassOf * "*", cls) in ontology}  # type: ignore[operator]


def test_domain_and_range_shapes_agree_with_the_ontology(shapes: Graph) -> None:
    """Every relation x every concrete class, as subject and as object, in one graph:
    the violations found are exactly those the ontology's rdfs:domain/rdfs:range predict."""
    ontology = load_ontology(REPO / "ontology")
    lines, expected = [], set()
    for name, relation in RELATION_IRIS.items():
        domain = _closure(ontology, ontology.value(relation, RDFS.domain))  # type: ignore[arg-type]
        range_ = _closure(ontology, ontology.value(relation, RDFS.range))  # type: ignore[arg-type]
        good_subject, good_object = sorted(domain)[0], sorted(range_)[0]
        for cls in ENTITY_TYPES:
            s, o = f"ex:dom-{name}-{cls}", f"ex:ok-obj-{name}"
            lines.append(
                f'{s} a kg:{cls} ; rdfs:label "x" . {o} a kg:{good_object} ; rdfs:label "x" . '
                f"{s} kg:{name} {o} ."
            )
            if cls not in domain:
                expected.add((ex(f"dom-{name}-{cls}"), None))
            s, o = f"ex:ok-subj-{name}", f"ex:rng-{name}-{cls}"
            lines.append(
                f'{s} a kg:{good_subject} ; rdfs:label "x" . {o} a kg:{cls} ; rdfs:label "x" . '
                f"{s} kg:{name} {o} ."
            )
            if cls not in range_:
                expected.add((ex(f"ok-subj-{name}"), KG[name]))
    graph = Graph().parse(data=PREFIXES + "\n".join(lines), format="turtle")
    report = validate(graph, shapes=shapes, ontology=None)
    assert {(v.focus, v.path) for v in report.results} == expected, report.text


def test_statement_domain_range_agree_with_the_ontology(shapes: Graph) -> None:
    ontology = load_ontology(REPO / "ontology")
    lines, expected = [], set()
    entities = " ".join(f'ex:{t} a kg:{t} ; rdfs:label "{t}" .' for t in ENTITY_TYPES)
    for name, relation in RELATION_IRIS.items():
        domain = _closure(ontology, ontology.value(relation, RDFS.domain))  # type: ignore[arg-type]
        range_ = _closure(ontology, ontology.value(relation, RDFS.range))  # type: ignore[arg-type]
        for cls in ENTITY_TYPES:
            for role, good, path in (
                ("subj", sorted(range_)[0], KG.subject),
                ("obj", sorted(domain)[0], KG.object),
            ):
                node = f"st-{name}-{role}-{cls}"
                subject, object_ = (cls, good) if role == "subj" else (good, cls)
                lines.append(
                    f"ex:{node} a kg:Statement ; kg:subject ex:{subject} ; kg:relation kg:{name} ; "
                    f"kg:object ex:{object_} ; kg:modality kg:Negated ; kg:confidence 0.5 ; "
                    f'kg:evidenceText "{TEXT}" ; kg:beginIndex 0 ; kg:endIndex 31 ; kg:article ex:a ; '
                    'prov:wasDerivedFrom ex:a ; kg:extractorVersion "v1" ; prov:wasGeneratedBy ex:act .'
                )
                if cls not in (domain if role == "subj" else range_):
                    expected.add((ex(node), path))
    graph = variant(add=entities + "\n" + "\n".join(lines))
    report = validate(graph, shapes=shapes, ontology=None)
    assert {(v.focus, v.path) for v in report.results} == expected, report.text


# --- the mapping's output, the ontology, files ----------------------------------


def _mapped_extraction() -> Extraction:
    text = (
        "Die Nato 🛡 wirft Russland Unterstützung für Nordkorea vor. NATO-Generalsekretär Mark Rutte warnte."
    )
    first_end = text.index(".") + 1
    second = (first_end + 1, len(text))
    return Extraction(
        article=Article(
            text=text, name="002.txt", url="https://example.org/x", date="2024-12-04", language="de"
        ),
        entities=(
            Entity("Q159", "Country", "Russland", "Russland", "Russia", "Q159"),
            Entity("Q7184", "Organization", "NATO", "NATO", "NATO", "Q7184"),
            Entity("Q423", "Country", "Nordkorea", "Nordkorea", "North Korea", "Q423"),
            Entity("Q57792", "Person", "Mark Rutte", None, "Mark Rutte", "Q57792"),
            Entity("other/atomprogramm", "Other", "Atomprogramm"),
        ),
        mentions=(Mention("Q159", 17, 25, "Russland"),),
        statements=(
            Statement("Q159", "supports", "Q423", "Q7184", "asserted", 0.8, 0, first_end, text[:first_end]),
            Statement(
                "Q159",
                "supports",
                "other/atomprogramm",
                "Q7184",
                "hedged",
                0.6,
                0,
                first_end,
                text[:first_end],
            ),
            Statement(
                "Q57792",
                "holdsRole",
                "Q7184",
                None,
                "asserted",
                0.9,
                *second,
                text[second[0] : second[1]],
                "Generalsekretär",
            ),
            Statement("Q7184", "attacks", "Q159", None, "negated", 0.4, *second, text[second[0] : second[1]]),
        ),
        extractor="newskg-rules-0.1.0",
    )


def test_a_mapped_extraction_conforms(shapes: Graph) -> None:
    from kg.mapping import to_graph

    graph = to_graph(_mapped_extraction(), base_iri="https://w3id.org/newskg/id/")
    report = validate(graph, shapes=shapes, ontology=None)
    assert report.conforms, report.text
    with_ontology = validate(graph, shapes=shapes, ontology=load_ontology(REPO / "ontology"))
    assert with_ontology.conforms, with_ontology.text


def test_validate_file_names_the_graph_of_each_violation(shapes: Graph, tmp_path: Path) -> None:
    good = Graph(identifier=URIRef(EX + "graph/good")).parse(data=BASE, format="turtle")
    bad = variant(drop=((ex("a"), KG.fileName),))
    lines = [
        f"<{EX}graph/good> {{ {good.serialize(format='nt')} }}",
        f"<{EX}graph/bad> {{ {bad.serialize(format='nt')} }}",
    ]
    path = tmp_path / "two.trig"
    path.write_text("\n".join(lines), encoding="utf-8")
    report = validate_file(path, shapes=shapes)
    assert not report.conforms
    assert {v.graph for v in report.results} == {URIRef(EX + "graph/bad")}
    assert report.text.splitlines()[0].startswith(
        f"graph <{EX}graph/bad> focus <{EX}a> path <{KG.fileName}>: "
    )


def test_validate_file_reads_turtle(shapes: Graph, tmp_path: Path) -> None:
    path = tmp_path / "a.ttl"
    path.write_text(BASE, encoding="utf-8")
    report = validate_file(path, shapes=shapes)
    assert report.conforms, report.text


def test_validate_file_refuses_unknown_or_broken_files(shapes: Graph, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="extension"):
        validate_file(tmp_path / "a.csv", shapes=shapes)
    broken = tmp_path / "b.ttl"
    broken.write_text("this is not turtle", encoding="utf-8")
    with pytest.raises(InputError, match=r"b\.ttl"):
        validate_file(broken, shapes=shapes)


def test_shapes_and_ontology_are_loaded_once() -> None:
    assert load_shapes(REPO / "shapes") is load_shapes(REPO / "shapes")
    assert load_ontology(REPO / "ontology") is load_ontology(REPO / "ontology")


def test_every_shape_has_a_message(shapes: Graph) -> None:
    sh = "http://www.w3.org/ns/shacl#"
    constraining = {
        URIRef(sh + p)
        for p in (
            "minCount",
            "maxCount",
            "datatype",
            "class",
            "in",
            "or",
            "xone",
            "select",
            "pattern",
            "nodeKind",
            "lessThan",
            "equals",
        )
    }
    missing = []
    for node in set(shapes.subjects()):
        if (
            any((node, p, None) in shapes for p in constraining)
            and (node, URIRef(sh + "message"), None) not in shapes
        ):
            if (node, URIRef(sh + "class"), None) in shapes and str(node).split("#")[-1].startswith("Is"):
                continue  # kgsh:IsPerson & co: building blocks of sh:or, reported by the shape that uses them
            if (node, URIRef(sh + "datatype"), None) in shapes and str(node).split("#")[-1].startswith("Is"):
                continue
            missing.append(str(node))
    assert not missing, missing
    assert all(isinstance(m, Literal) for m in shapes.objects(None, URIRef(sh + "message")))


def test_issue2_sparql_violation_reports_only_its_own_message() -> None:
    """A node shape's sh:message used to be reported with every constraint inside it."""
    from kg.settings import REPO_ROOT
    from kg.validate import load_shapes, validate

    data = Graph().parse(
        data="""
        @prefix kg: <https://w3id.org/newskg/ontology#> .
        @prefix schema: <https://schema.org/> .
        @prefix prov: <http://www.w3.org/ns/prov#> .
        <urn:st> a kg:Statement ; kg:article <urn:a> ; kg:beginIndex 0 ; kg:endIndex 500 ;
            kg:evidenceText "Hallo Welt." .
        <urn:a> a schema:NewsArticle ; schema:text "Hallo Welt." ; kg:textLength 11 .
        """,
        format="turtle",
    )
    report = validate(data, shapes=load_shapes(REPO_ROOT / "shapes"))
    beyond = [v for v in report.results if "lies beyond the article text" in v.message]
    assert beyond
    assert all("not typed kg:Statement" not in v.message for v in beyond)

"""End to end: sample articles -> validated graphs in the store (slow: runs the full pipeline)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from spacy.language import Language
from spacy.tokens import Doc

from kg.build import Builder, KnowledgeGraph
from kg.errors import KGError
from kg.evaluate import evaluate
from kg.io import read_articles
from kg.settings import REPO_ROOT
from kg.store import OxigraphStore, open_store
from kg.vocab import KG

SAMPLES = REPO_ROOT / "data" / "samples"
GOLD = REPO_ROOT.parent / "shared" / "eval" / "gold"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built() -> Iterator[tuple[OxigraphStore, Builder]]:
    store = open_store(None)
    builder = Builder(store)
    report = builder.build_paths([SAMPLES])
    assert report.ok, report.summary()
    assert report.count("built") == 5
    yield store, builder
    store.close()


def test_every_evidence_is_the_article_text_at_its_offsets(built: tuple[OxigraphStore, Builder]) -> None:
    store, _ = built
    rows = store.select(f"""
        SELECT ?text ?evidence ?begin ?end WHERE {{ GRAPH ?g {{
            ?st <{KG.article}> ?a ; <{KG.evidenceText}> ?evidence ;
                <{KG.beginIndex}> ?begin ; <{KG.endIndex}> ?end .
            ?a <https://schema.org/text> ?text }} }}""")
    assert len(rows) >= 50
    for row in rows:
        assert row["text"] is not None and row["begin"] is not None and row["end"] is not None
        assert row["text"][int(row["begin"]) : int(row["end"])] == row["evidence"]


def test_stored_text_is_what_the_reader_gave(built: tuple[OxigraphStore, Builder]) -> None:
    store, _ = built
    texts = {
        r["name"]: r["text"]
        for r in store.select(
            f"SELECT ?name ?text WHERE {{ GRAPH ?g {{ ?a <{KG.fileName}> ?name ; "
            f"<https://schema.org/text> ?text }} }}"
        )
    }
    for item in read_articles([SAMPLES], max_bytes=10_000_000):
        assert not isinstance(item, Exception)
        assert texts[item.article.name] == item.article.text


def test_building_twice_changes_nothing(built: tuple[OxigraphStore, Builder]) -> None:
    store, builder = built
    before = store.stats()
    dump_before = _nquads(store)
    report = builder.build_paths([SAMPLES])
    assert report.count("skipped") == 5 and report.count("built") == 0
    assert store.stats() == before
    assert _nquads(store) == dump_before


def test_rebuild_with_force_replaces_without_duplicates(built: tuple[OxigraphStore, Builder]) -> None:
    store, builder = built
    before = store.stats()
    report = builder.build_paths([SAMPLES], force=True)
    assert report.count("built") == 5
    assert store.stats() == before


def test_default_graph_returns_a_triple_once(built: tuple[OxigraphStore, Builder]) -> None:
    store, _ = built
    rows = store.select(
        f"SELECT ?o WHERE {{ <https://w3id.org/newskg/id/entity/Q57792> <{KG.holdsRole}> ?o }}"
    )
    assert [r["o"] for r in rows] == ["https://w3id.org/newskg/id/entity/Q7184"]


def test_eval_meets_the_acceptance_floor(built: tuple[OxigraphStore, Builder]) -> None:
    if not GOLD.is_dir():
        pytest.skip(f"gold annotations not found at {GOLD}")
    store, _ = built
    summary = evaluate(store.select, GOLD).summary
    assert summary.precision >= 0.70, summary
    assert summary.recall >= 0.50, summary
    assert summary.entity_recall >= 0.90, summary


def test_bad_inputs_fail_alone_and_write_nothing(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Frankreich unterstützt die Ukraine mit Waffen.", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 50)
    (tmp_path / "latin1.txt").write_bytes("Österreich unterstützt die Ukraine.".encode("cp1252"))
    (tmp_path / "feed.jsonl").write_text(
        '{"text": "Polen kritisiert Russland scharf."}\n{not json\n', encoding="utf-8"
    )
    (tmp_path / "nosentence.txt").write_text("12 34 56\n---\n", encoding="utf-8")
    store = open_store(None)
    report = Builder(store).build_paths([tmp_path, tmp_path / "missing.txt"])
    by_status = {r.name: r.status for r in report.results}
    assert by_status["good.txt"] == "built"
    assert by_status["latin1.txt"] == "built"
    assert by_status["feed.jsonl:1"] == "built"
    failed = [r for r in report.results if r.status == "failed"]
    assert len(failed) == 5, [(r.name, r.message) for r in report.results]
    assert all(r.message for r in failed)
    assert store.stats().articles == 3
    assert not report.ok


def test_notebook_facade_adds_text_and_returns_a_dataframe() -> None:
    with KnowledgeGraph.open() as graph:
        result = graph.add_text("Die Nato wirft Russland vor, Nordkorea zu unterstützen.", title="Test")
        assert result.status == "built"
        frame = graph.query_df("SELECT ?who ?whom WHERE { ?who kg:supports ?whom }")
        assert list(frame.columns) == ["who", "whom"]
        assert frame.to_dict("records") == [
            {
                "who": "https://w3id.org/newskg/id/entity/Q159",
                "whom": "https://w3id.org/newskg/id/entity/Q423",
            }
        ]


def _nquads(store: OxigraphStore) -> set[bytes]:
    import io

    buffer = io.BytesIO()
    store.export("nquads", buffer)
    return set(buffer.getvalue().splitlines())


# -- batches (kg build runs the pipeline over KG_BATCH_SIZE articles at once) ---------------------------

RULES = REPO_ROOT / "kg" / "pipeline" / "rules.cfg"


def _rules_builder(batch_size: int, nlp: Language | None = None) -> tuple[OxigraphStore, Builder]:
    from kg.pipeline import load_pipeline
    from kg.settings import Settings

    settings = Settings(pipeline_config=RULES, batch_size=batch_size)
    store = open_store(None)
    return store, Builder(store, nlp=nlp or load_pipeline(RULES), settings=settings)


def test_a_batched_build_writes_what_one_by_one_writes() -> None:
    one_store, one = _rules_builder(1)
    many_store, many = _rules_builder(32)
    reports = [builder.build_paths([SAMPLES]) for builder in (one, many)]
    assert [r.status for r in reports[0].results] == [r.status for r in reports[1].results] == ["built"] * 5
    assert [r.name for r in reports[0].results] == [r.name for r in reports[1].results]
    assert _nquads(one_store) == _nquads(many_store)


@Language.component("test_fails_on_boom")
def _fails_on_boom(doc: Doc) -> Doc:
    if "BOOM" in doc.text:
        raise KGError("the test component refuses BOOM")
    return doc


def test_an_error_in_a_batch_fails_only_its_article_and_keeps_input_order(tmp_path: Path) -> None:
    from kg.pipeline import load_pipeline

    nlp = load_pipeline(RULES)
    nlp.add_pipe("test_fails_on_boom", first=True)
    nlp.max_length = 200
    (tmp_path / "feed.jsonl").write_text(
        '{"text": "Polen kritisiert Russland scharf."}\n'
        '{"text": "BOOM: Frankreich unterstützt die Ukraine."}\n'
        "{not json\n"
        '{"text": "Frankreich unterstützt die Ukraine mit Waffen."}\n'
        + json.dumps({"text": "Deutschland liefert Panzer an die Ukraine. " * 6})
        + "\n",
        encoding="utf-8",
    )
    store, builder = _rules_builder(32, nlp)
    report = builder.build_paths([tmp_path])
    got = [(Path(r.name).name, r.status) for r in report.results]  # a bad line is named by its full path
    assert got == [
        ("feed.jsonl:1", "built"),
        ("feed.jsonl:2", "failed"),
        ("feed.jsonl:3", "failed"),
        ("feed.jsonl:4", "built"),
        ("feed.jsonl:5", "failed"),
    ]
    assert "refuses BOOM" in (report.results[1].message or "")
    assert "nlp.max_length" in (report.results[4].message or "")
    assert store.stats().articles == 2

"""End to end: sample articles -> validated graphs in the store (slow: runs the full pipeline)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.build import Builder, KnowledgeGraph
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

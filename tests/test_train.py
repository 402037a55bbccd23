"""kg train's parts on small hand-made inputs: corpus readers, label maps, cluster features, lemmas.

One slow test trains a tiny model end to end from a fake corpora folder and
loads it through the pipeline config; the full training is `kg train`.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.tokens import Doc
from spacy.vocab import Vocab

from kg.pipeline.features import cluster_features, prob_features
from kg.pipeline.lemmatizer import Lemmatizer
from kg.train import MODEL_VERSION
from kg.train.corpora import (
    Sentence,
    map_tags,
    ner_docbin,
    read_europeana,
    read_germeval,
    read_ler,
)

GERMEVAL = """\
#\thttp://example.org/a\t[2010-01-01]
1\tAngela\tB-PER\tO
2\tMerkel\tI-PER\tO
3\tbesuchte\tO\tO
4\tdie\tO\tO
5\tdeutsche\tB-LOCderiv\tO
6\tFirma\tO\tO
7\tSiemens\tB-ORG\tO
8\tin\tO\tO
9\tMünchen\tB-LOC\tO
10\t.\tO\tO

#\thttp://example.org/b\t[2010-01-02]
1\tDer\tO\tO
2\tTatort\tB-OTH\tO
3\tläuft\tO\tO
"""


def test_germeval_keeps_per_loc_org_and_drops_oth_deriv_part(tmp_path: Path) -> None:
    path = tmp_path / "g.tsv"
    path.write_text(GERMEVAL, encoding="utf-8")
    got = read_germeval(path)
    assert got[0].words[:2] == ("Angela", "Merkel")
    assert got[0].tags == ("B-PER", "I-PER", "O", "O", "O", "O", "B-ORG", "O", "B-LOC", "O")
    assert got[1].tags == ("O", "O", "O")


def test_map_tags_repairs_orphan_inside_tags_and_maps_fine_labels() -> None:
    legal = {"RR": "PER", "GRT": "ORG"}
    assert map_tags(["I-RR", "I-RR", "O", "B-GS", "I-GS", "B-GRT"], legal) == (
        "B-PER",
        "I-PER",
        "O",
        "O",
        "O",
        "B-ORG",
    )
    # a label change inside a run starts a new entity; stray casing (B-PEr) is mapped
    assert map_tags(["B-RR", "I-GRT", "B-PEr"], {"RR": "PER", "GRT": "ORG", "PER": "PER"}) == (
        "B-PER",
        "B-ORG",
        "B-PER",
    )


def test_europeana_is_cut_into_sentences_and_comments_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "e.bio"
    path.write_text(
        "# file:\tx\nHerr O\nBismarck B-PER\nsprach O\nin O\nBerlin B-LOC\n. O\n"
        "Die O\nZeitung O\nmeldet O\nes O\n",
        encoding="utf-8",
    )
    got = read_europeana(path)
    assert [s.words for s in got] == [
        ("Herr", "Bismarck", "sprach", "in", "Berlin", "."),
        ("Die", "Zeitung", "meldet", "es"),
    ]
    assert got[0].tags == ("O", "B-PER", "O", "O", "B-LOC", "O")


def test_ler_keeps_only_sentences_naming_a_person_place_or_organisation(tmp_path: Path) -> None:
    path = tmp_path / "l.conll.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("Nach O\n§ B-GS\n5 I-GS\nBGB I-GS\n\nDer O\nBGH B-GRT\nentschied O\n\n")
    got = read_ler(path)
    assert got == [Sentence(("Der", "BGH", "entschied"), ("O", "B-ORG", "O"))]


def test_ner_docbin_sets_entities_and_sentence_starts() -> None:
    vocab = Vocab()
    sentences = [
        Sentence(("Olaf", "Scholz", "spricht"), ("B-PER", "I-PER", "O")),
        Sentence(("In", "Kiel", "."), ("O", "B-LOC", "O")),
    ]
    docs = list(ner_docbin(sentences, vocab, per_doc=2).get_docs(vocab))
    assert len(docs) == 1
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Olaf Scholz", "PER"), ("Kiel", "LOC")]
    assert [s.text for s in docs[0].sents] == ["Olaf Scholz spricht", "In Kiel ."]


def test_cluster_features_prefer_the_word_as_written_then_lower_case() -> None:
    keys = numpy.array([10, 20, 30], dtype="uint64")
    values = numpy.array([5, 6, 7], dtype="uint64")
    ids = numpy.array([[20, 30], [99, 30], [99, 98]], dtype="uint64")  # (ORTH, LOWER)
    got = cluster_features(ids, keys, values)
    assert got[:, 0].tolist() == [7, 8, 0]  # cluster + 1; 0 means unknown
    assert got[2].tolist() == [0, 0, 0]
    assert got[0, 1] != got[0, 0] and got[0, 2] != got[0, 1]  # coarser views live in their own ranges


def test_prob_features_bucket_the_word_as_written_and_lower_cased_apart() -> None:
    keys = numpy.array([10, 20], dtype="uint64")
    values = numpy.array([3, 17], dtype="uint64")
    ids = numpy.array([[20, 10], [99, 10], [99, 98]], dtype="uint64")  # (ORTH, LOWER)
    got = prob_features(ids, keys, values)
    assert got[0, 0] == 3_000_017 and got[0, 1] == 3_000_103  # both known, each in its own range
    assert got[1, 0] == 0 and got[1, 1] == 3_000_103  # known only lower-cased (a common noun)
    assert got[2].tolist() == [0, 0]


def test_cluster_table_is_saved_with_the_weights(tmp_path: Path) -> None:
    nlp = spacy.blank("de")
    tok2vec = nlp.add_pipe(
        "tok2vec",
        config={
            "model": {
                "@architectures": "spacy.Tok2Vec.v2",
                "embed": {
                    "@architectures": "kg.ClusterHashEmbed.v1",
                    "width": 8,
                    "attrs": ["NORM", "SHAPE"],
                    "rows": [50, 50],
                    "cluster_rows": 50,
                    "cluster_words": 0,
                },
                "encode": {
                    "@architectures": "spacy.MaxoutWindowEncoder.v2",
                    "width": 8,
                    "depth": 1,
                    "window_size": 1,
                    "maxout_pieces": 2,
                },
            }
        },
    )
    nlp.initialize()
    layer = next(n for n in tok2vec.model.walk() if n.name == "extract_cluster_features")
    orth = nlp.vocab.strings.add("Kiel")
    layer.attrs["cluster_keys"] = numpy.array([orth], dtype="uint64")
    layer.attrs["cluster_values"] = numpy.array([41], dtype="uint64")
    nlp.to_disk(tmp_path / "m")
    loaded = spacy.load(tmp_path / "m")
    again = next(n for n in loaded.get_pipe("tok2vec").model.walk() if n.name == "extract_cluster_features")
    assert again.attrs["cluster_keys"].tolist() == [orth]
    features, _ = again(list(loaded.pipe(["nach Kiel"])), is_train=False)
    assert features[0][:, -3].tolist() == [0, 42]


def test_lemmatizer_uses_the_dictionary_and_keeps_punctuation_and_numbers() -> None:
    nlp = spacy.blank("de")
    doc = Doc(nlp.vocab, words=["Die", "Staaten", "lieferten", "2", "Panzer", "."])
    for token, pos in zip(doc, ["DET", "NOUN", "VERB", "NUM", "NOUN", "PUNCT"], strict=True):
        token.pos_ = pos
    Lemmatizer("de")(doc)
    assert [t.lemma_ for t in doc] == ["der", "Staat", "liefern", "2", "Panzer", "."]


# -- end to end, tiny --------------------------------------------------------------------------------

_UD = """\
# text = Olaf Scholz besucht Kiel.
1\tOlaf\tOlaf\tPROPN\tNE\t_\t3\tnsubj\t_\t_
2\tScholz\tScholz\tPROPN\tNE\t_\t1\tflat\t_\t_
3\tbesucht\tbesuchen\tVERB\tVVFIN\tMood=Ind\t0\troot\t_\t_
4\tKiel\tKiel\tPROPN\tNE\t_\t3\tobj\t_\tSpaceAfter=No
5\t.\t.\tPUNCT\t$.\t_\t3\tpunct\t_\t_

"""
_GE = "1\tOlaf\tB-PER\tO\n2\tScholz\tI-PER\tO\n3\tbesucht\tO\tO\n4\tKiel\tB-LOC\tO\n5\t.\tO\tO\n\n"


def fake_corpora(root: Path) -> Path:
    """A corpora folder with the layout `kg train` reads, each file a repeated toy sentence."""
    files = {
        "germeval2014/NER-de-dev.tsv": _GE * 510,
        "germeval2014/NER-de-test.tsv": _GE * 3110,
        "europarl_ner/test.tsv": "Olaf\tO\tNE\tI-NC\tB-PER\nKiel\tK\tNE\tI-NC\tB-LOC\n\n" * 3,
        "ud_german_gsd/de_gsd-ud-dev.conllu": _UD * 3,
        "ud_german_gsd/de_gsd-ud-test.conllu": _UD * 510,
        "ud_german_pud/de_pud-ud-test.conllu": _UD * 810,
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return root


@pytest.mark.slow
def test_kg_train_packages_a_model_the_pipeline_config_loads(tmp_path: Path) -> None:
    from kg.model import Article
    from kg.pipeline import extract, load_pipeline
    from kg.settings import REPO_ROOT
    from kg.train import train

    tiny = {
        "training.max_steps": 4,
        "training.eval_frequency": 2,
        "components.tok2vec.model.embed.cluster_words": 0,
        "components.tok2vec.model.encode.width": 16,
    }
    tiny_ner = {
        "training.max_steps": 4,
        "training.eval_frequency": 2,
        "components.ner.model.tok2vec.embed.cluster_words": 0,
        "components.ner.model.tok2vec.embed.width": 16,
        "components.ner.model.tok2vec.encode.width": 16,
    }
    report = train(
        fake_corpora(tmp_path / "corpora"),
        tmp_path / "model",
        tmp_path / "work",
        ner_corpora=(),
        overrides={"syntax": tiny, "ner": tiny_ner},
        jobs=1,
        echo=lambda _: None,
    )
    assert set(report.scores) == {"germeval-heldout", "europarl", "ud-heldout"}
    assert report.counts["germeval2014 held-out"] == 10  # sentences 3,100 onwards of 3,110
    meta = spacy.util.load_meta(tmp_path / "model" / "meta.json")
    assert meta["name"] == "newskg"
    assert {s["name"] for s in meta["sources"]} >= {"germeval2014", "ud_german_gsd"}
    assert "smartdata" in {s["name"] for s in meta["excluded_sources"]}
    nlp = load_pipeline(REPO_ROOT / "kg" / "pipeline" / "pipeline.cfg", model=tmp_path / "model")
    assert nlp.pipe_names[:5] == ["kg_sentences", "tok2vec", "morphologizer", "parser", "ner"]
    assert not any(node.ops.use_blis for node in nlp.get_pipe("ner").model.walk())  # numpy's BLAS
    extraction = extract(nlp, Article(text="Olaf Scholz besucht Kiel. Er spricht dort.", name="t.txt"))
    assert extraction.extractor.endswith(f"+de_newskg-{MODEL_VERSION}")

"""``kg train``: build the project's German model from the public corpora, reproducibly.

One command converts the corpora (kg/train/corpora.py), trains two parts
with fixed seeds, evaluates each on its held-out part, and packages one
spaCy pipeline with the results and the corpora's licences in its meta:

- ``syntax.cfg``: tok2vec + morphologizer (UPOS, morphology) + parser
  (dependencies, sentence boundaries), on UD German GSD and PUD;
- ``ner.cfg``: ner with its own tok2vec, on GermEval 2014 and the other
  CC-licensed entity corpora mapped onto PER/LOC/ORG.

Both use hash embeddings plus Brown clusters (kg/pipeline/features.py).
Lemmas come from the ``kg_lemmatizer`` component (simplemma), not from
training. The packaged model is a folder that ``spacy.load`` and the
pipeline config's ``source`` read; the default location is
``models/de_newskg`` (Settings.model).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.vocab import Vocab

from kg.errors import ConfigError
from kg.pipeline import features  # noqa: F401  (registers kg.ClusterHashEmbed.v1)
from kg.pipeline.lemmatizer import agreement as lemma_agreement
from kg.train.corpora import (
    CORPORA,
    DEFAULT_NER_CORPORA,
    GERMEVAL_COPIES,
    Splits,
    load_splits,
    ner_docbin,
    ud_docbin,
)

__all__ = ["TrainReport", "evaluate_model", "train"]

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
MODEL_NAME = "newskg"  # spaCy convention: the package is {lang}_{name}, de_newskg
MODEL_VERSION = "0.3.0"


@dataclass
class TrainReport:
    output: Path
    seconds: dict[str, float] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def prepare(splits: Splits, workdir: Path) -> dict[str, Path]:
    """Write the splits as DocBin files under `workdir`; return their paths by name."""
    workdir.mkdir(parents=True, exist_ok=True)
    vocab = Vocab()
    bins: dict[str, DocBin] = {
        "ner-train": ner_docbin(splits.ner_train, vocab, per_doc=4),
        "ner-dev": ner_docbin(splits.ner_dev, vocab),
        "ner-heldout": ner_docbin(splits.ner_heldout, vocab),
        "ud-train": ud_docbin(splits.ud_train, vocab),
        "ud-dev": ud_docbin(splits.ud_dev, vocab),
        "ud-heldout": ud_docbin(splits.ud_heldout, vocab),
    }
    for name, sentences in splits.ner_extra_eval.items():
        bins[f"{name}-eval"] = ner_docbin(sentences, vocab)
    paths = {}
    for name, docbin in bins.items():
        paths[name] = workdir / f"{name}.spacy"
        docbin.to_disk(paths[name])
    return paths


def _examples(nlp: Language, path: Path) -> list[Example]:
    docs = DocBin().from_disk(path).get_docs(nlp.vocab)
    return [Example(nlp.make_doc(doc.text), doc) for doc in docs]


def _train_part(config: Path, output: Path, train: Path, dev: Path, overrides: dict[str, Any]) -> Path:
    from spacy.cli.train import train as spacy_train

    if output.exists():
        shutil.rmtree(output)
    spacy_train(
        config,
        output,
        use_gpu=-1,
        overrides={"paths.train": str(train), "paths.dev": str(dev), **overrides},
    )
    return output / "model-best"


def _train_job(
    part: str, config: Path, output: Path, train: Path, dev: Path, overrides: dict[str, Any]
) -> tuple[str, Path, float]:
    t = time.perf_counter()
    best = _train_part(config, output, train, dev, overrides)
    return part, best, round(time.perf_counter() - t, 1)


def _train_parts(
    parts: tuple[str, ...],
    paths: dict[str, Path],
    workdir: Path,
    overrides: dict[str, dict[str, Any]],
    jobs: int,
    echo: Callable[[str], None],
    report: TrainReport,
) -> dict[str, Path]:
    """Train each part, `jobs` at a time in separate processes (one core each)."""
    args = []
    for part in parts:
        if part not in ("syntax", "ner"):
            raise ConfigError(f"unknown part {part!r}; expected 'syntax' or 'ner'")
        prefix = "ud" if part == "syntax" else "ner"
        args.append(
            (
                part,
                HERE / f"{part}.cfg",
                workdir / part,
                paths[f"{prefix}-train"],
                paths[f"{prefix}-dev"],
                overrides.get(part, {}),
            )
        )
    models: dict[str, Path] = {}
    if jobs <= 1:
        results = [_train_job(*a) for a in args]
    else:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            results = list(pool.map(_train_job, *zip(*args, strict=True)))
    for part, best, seconds in results:
        models[part] = best
        report.seconds[part] = seconds
        echo(f"trained {part} in {seconds:.0f} s")
    return models


def _pick(scores: dict[str, Any], keys: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in keys:
        value = scores.get(key)
        if isinstance(value, float | int):
            out[key] = round(100 * float(value), 2)
    for label, per in (scores.get("ents_per_type") or {}).items():
        out[f"ents_f_{label}"] = round(100 * float(per["f"]), 2)
    return out


NER_KEYS = ("ents_p", "ents_r", "ents_f")
SYNTAX_KEYS = ("pos_acc", "morph_acc", "dep_uas", "dep_las", "sents_f", "lemma_acc")


def evaluate_model(nlp: Language, path: Path, keys: tuple[str, ...]) -> dict[str, float]:
    """Scores of `nlp` on the gold docs in `path` (percentages, 2 decimals)."""
    examples = _examples(nlp, path)
    return _pick(nlp.evaluate(examples), keys)


def _meta(report: TrainReport, overrides: dict[str, Any], ner_corpora: tuple[str, ...]) -> dict[str, Any]:
    trained = {"germeval2014", "ud_german_gsd", "ud_german_pud", *ner_corpora}
    used = [c for c in CORPORA if c.name in trained or c.use == "eval"]
    return {
        "lang": "de",
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "description": (
            "German news pipeline of newskg, trained by `kg train` from public corpora: "
            "tok2vec + morphologizer + parser (UD German GSD, PUD), ner (GermEval 2014 and other CC-licensed "
            "corpora, PER/LOC/ORG), Brown-cluster features from spacy-lookups-data."
        ),
        "license": "CC BY-SA 4.0 (the most restrictive licence of its training data: UD German GSD)",
        "author": "newskg contributors",
        "sources": [
            {"name": c.name, "license": c.licence, "author": c.attribution, "use": c.use, "note": c.reason}
            for c in used
        ]
        + [
            {
                "name": "spacy-lookups-data de_lexeme_cluster",
                "license": "MIT",
                "author": "Explosion (spacy-lookups-data), Brown clusters over German text",
                "use": "features",
                "note": "",
            }
        ],
        "excluded_sources": [
            {"name": c.name, "license": c.licence, "reason": c.reason or "not in this model's corpus choice"}
            for c in CORPORA
            if c not in used
        ],
        "performance_heldout": report.scores,
        "training": {"seconds": report.seconds, "counts": report.counts, "overrides": overrides},
    }


def assemble(syntax: Path, ner: Path) -> Language:
    """One pipeline: tok2vec, morphologizer, parser from `syntax`, ner from `ner`, plus kg_lemmatizer."""
    syntax_nlp = spacy.load(syntax)
    ner_nlp = spacy.load(ner)
    nlp = spacy.blank("de")
    for name in ("tok2vec", "morphologizer", "parser"):
        nlp.add_pipe(name, source=syntax_nlp)
    nlp.add_pipe("ner", source=ner_nlp)
    nlp.add_pipe("kg_lemmatizer")
    return nlp


def train(
    corpora: Path,
    output: Path,
    workdir: Path,
    *,
    parts: tuple[str, ...] = ("syntax", "ner"),
    ner_corpora: tuple[str, ...] = DEFAULT_NER_CORPORA,
    germeval_copies: int = GERMEVAL_COPIES,
    overrides: dict[str, dict[str, Any]] | None = None,
    jobs: int = 2,
    echo: Callable[[str], None] = print,
) -> TrainReport:
    """Convert, train, evaluate on the held-out parts, and package the model into `output`."""
    overrides = overrides or {}
    report = TrainReport(output)
    t0 = time.perf_counter()
    splits = load_splits(corpora, ner_corpora, germeval_copies)
    report.counts = splits.counts
    paths = prepare(splits, workdir / "corpus")
    report.seconds["convert"] = round(time.perf_counter() - t0, 1)
    echo(f"converted: {json.dumps(splits.counts)}")
    models = _train_parts(parts, paths, workdir, overrides, jobs, echo, report)
    if set(parts) != {"syntax", "ner"}:
        for part, path in models.items():
            nlp = spacy.load(path)
            if part == "syntax":
                report.scores["ud-heldout"] = evaluate_model(nlp, paths["ud-heldout"], SYNTAX_KEYS)
            else:
                report.scores["germeval-heldout"] = evaluate_model(nlp, paths["ner-heldout"], NER_KEYS)
                report.scores["europarl"] = evaluate_model(nlp, paths["europarl_ner-eval"], NER_KEYS)
        echo(json.dumps(report.scores, indent=1))
        return report
    nlp = assemble(models["syntax"], models["ner"])
    report.scores["germeval-heldout"] = evaluate_model(nlp, paths["ner-heldout"], NER_KEYS)
    report.scores["europarl"] = evaluate_model(nlp, paths["europarl_ner-eval"], NER_KEYS)
    report.scores["ud-heldout"] = evaluate_model(nlp, paths["ud-heldout"], SYNTAX_KEYS)
    report.scores["ud-heldout"]["lemma_acc"] = round(
        100 * lemma_agreement(nlp, DocBin().from_disk(paths["ud-heldout"]).get_docs(nlp.vocab)), 2
    )
    report.seconds["total"] = round(time.perf_counter() - t0, 1)
    nlp.meta.update(_meta(report, overrides, ner_corpora))
    if output.exists():
        if not (output / "meta.json").is_file():
            raise ConfigError(f"{output} exists and is not a spaCy model folder; refusing to overwrite it")
        shutil.rmtree(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    echo(json.dumps(report.scores, indent=1))
    return report

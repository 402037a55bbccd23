"""Read the public German corpora and cut them into fixed train / dev / held-out parts.

Every reader returns plain sentences (words plus labels); `to_docbin` turns
them into spaCy training data. The splits are fixed by position in the
files, never random, so that the held-out parts are the same on every run
and no training or model selection ever sees them:

- NER: GermEval 2014 test sentences 3,100 onwards (2,000 sentences) are held
  out; the last 500 sentences of GermEval dev select the model; the rest of
  GermEval and the other CC-licensed corpora train it.
- Syntax: UD German GSD test sentences 500 onwards (477) and PUD sentences
  800 onwards (200) are held out; GSD test 400–499 and PUD 700–799 select
  the model; GSD dev, GSD test 0–399 and PUD 0–699 train it.

Labels are mapped onto PER, LOC and ORG; everything else becomes O.
Corpora whose licence does not allow redistributing a model trained on
them are never read for training (SmartData: "research use only" notes;
Europarl NER: no licence stated, used only as extra evaluation data).
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from spacy.tokens import Doc, DocBin
from spacy.training.converters import conllu_to_docs  # type: ignore[attr-defined]
from spacy.vocab import Vocab

from kg.errors import InputError

LABELS = ("PER", "LOC", "ORG")


@dataclass(frozen=True)
class Sentence:
    words: tuple[str, ...]
    tags: tuple[str, ...]  # IOB with PER/LOC/ORG, or "O"


@dataclass(frozen=True)
class Corpus:
    """One corpus as the training command uses it."""

    name: str
    files: tuple[str, ...]  # relative to the corpora folder
    licence: str
    attribution: str
    use: str  # "train", "eval" (reported, never trained on) or "excluded"
    reason: str = ""


CORPORA: tuple[Corpus, ...] = (
    Corpus(
        "germeval2014",
        ("germeval2014/NER-de-dev.tsv", "germeval2014/NER-de-test.tsv"),
        "CC BY 4.0",
        "Benikova, Biemann, Reznicek: NoSta-D Named Entity Annotation for German: Guidelines and "
        "Dataset. LREC 2014 (GermEval 2014 NER shared task).",
        "train",
    ),
    Corpus(
        "europeana_newspapers_de",
        (
            "europeana_newspapers_de/enp_DE.lft.bio",
            "europeana_newspapers_de/enp_DE.onb.bio",
            "europeana_newspapers_de/enp_DE.sbb.bio",
        ),
        "CC0 1.0",
        "Neudecker: An Open Corpus for Named Entity Recognition in Historic Newspapers. LREC 2016 "
        "(Europeana Newspapers).",
        "train",
    ),
    Corpus(
        "ler_legal_ner",
        ("ler_legal_ner/ler_dev.conll.gz", "ler_legal_ner/ler_test.conll.gz"),
        "CC BY 4.0 (the dataset README; a second notice in the repository says CC BY-NC-SA 4.0)",
        "Leitner, Rehm, Moreno-Schneider: A Dataset of German Legal Documents for Named Entity "
        "Recognition. LREC 2020.",
        "train",
    ),
    Corpus(
        "mobie",
        ("mobie/ner_conll03_formatted.zip",),
        "CC BY 4.0",
        "Hennig, Truong, Gabryszak: MobIE: A German Dataset for Named Entity Recognition, Entity "
        "Linking and Relation Extraction in the Mobility Domain. KONVENS 2021.",
        "train",
    ),
    Corpus(
        "ud_german_gsd",
        ("ud_german_gsd/de_gsd-ud-dev.conllu", "ud_german_gsd/de_gsd-ud-test.conllu"),
        "CC BY-SA 4.0",
        "Universal Dependencies German GSD (McDonald et al. 2013; Petrov, Seeker, Nivre, Zeman, "
        "Boyd, Blaschke et al.).",
        "train",
    ),
    Corpus(
        "ud_german_pud",
        ("ud_german_pud/de_pud-ud-test.conllu",),
        "CC BY-SA 3.0",
        "Universal Dependencies German PUD (CoNLL 2017 shared task parallel treebank, Google).",
        "train",
    ),
    Corpus(
        "europarl_ner",
        ("europarl_ner/test.tsv",),
        "not stated",
        "Faruqui, Padó: Training and Evaluating a German Named Entity Recognizer with Semantic "
        "Generalization. KONVENS 2010.",
        "eval",
        "no licence stated: reported as out-of-domain evaluation only, never trained on",
    ),
    Corpus(
        "smartdata",
        (),
        "CC BY 4.0 with per-annotation 'research use only' notes",
        "Schiersch et al.: A German Corpus for Fine-Grained Named Entity Recognition and Relation "
        "Extraction of Traffic and Industry Events. LREC 2018.",
        "excluded",
        "annotations marked 'research use only': a redistributed model must not be trained on it",
    ),
)

# -- label maps ------------------------------------------------------------------------------------

_GERMEVAL = {"PER": "PER", "LOC": "LOC", "ORG": "ORG"}  # OTH, *deriv, *part -> O
_EUROPEANA = {"PER": "PER", "LOC": "LOC", "ORG": "ORG"}
_LER = {
    "PER": "PER",
    "RR": "PER",
    "AN": "PER",
    "LD": "LOC",
    "ST": "LOC",
    "STR": "LOC",
    "LDS": "LOC",
    "ORG": "ORG",
    "UN": "ORG",
    "INN": "ORG",
    "GRT": "ORG",
}
_MOBIE = {
    "person": "PER",
    "location": "LOC",
    "location-city": "LOC",
    "location-street": "LOC",
    "organization": "ORG",
    "organization-company": "ORG",
}
_EUROPARL = {"PER": "PER", "LOC": "LOC", "ORG": "ORG"}


def map_tags(raw: Iterable[str], label_map: dict[str, str]) -> tuple[str, ...]:
    """IOB/BIO tags with the corpus's labels mapped; unmapped labels become O, I- without B- starts one."""
    out: list[str] = []
    previous = "O"
    for tag in raw:
        tag = tag.strip()
        if tag in ("", "O") or "-" not in tag:
            out.append("O")
            previous = "O"
            continue
        prefix, label = tag.split("-", 1)
        mapped = label_map.get(label) or label_map.get(label.upper())
        if mapped is None or prefix.upper() not in ("B", "I"):
            out.append("O")
            previous = "O"
            continue
        if prefix.upper() == "I" and previous in (f"B-{mapped}", f"I-{mapped}"):
            out.append(f"I-{mapped}")
        else:
            out.append(f"B-{mapped}")
        previous = out[-1]
    return tuple(out)


# -- readers ---------------------------------------------------------------------------------------


def _blocks(lines: Iterable[str]) -> Iterator[list[str]]:
    block: list[str] = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if block:
                yield block
            block = []
        else:
            block.append(line)
    if block:
        yield block


def read_germeval(path: Path) -> list[Sentence]:
    """GermEval 2014: ``# source`` line, then ``n<TAB>word<TAB>outer<TAB>inner`` lines."""
    out = []
    for block in _blocks(path.read_text(encoding="utf-8").splitlines()):
        rows = [line.split("\t") for line in block if not line.startswith("#")]
        if not rows:
            continue
        if any(len(r) < 3 for r in rows):
            raise InputError(str(path), f"a GermEval line has fewer than 3 tab-separated columns: {rows[:3]}")
        out.append(Sentence(tuple(r[1] for r in rows), map_tags((r[2] for r in rows), _GERMEVAL)))
    return out


def read_columns(
    lines: Iterable[str], word_col: int, tag_col: int, label_map: dict[str, str], sep: str | None = None
) -> list[Sentence]:
    """CoNLL-style columns, blank lines between sentences, ``-DOCSTART-`` lines skipped."""
    out = []
    for block in _blocks(lines):
        rows = [line.split(sep) for line in block if not line.startswith("-DOCSTART-")]
        rows = [r for r in rows if len(r) > max(word_col, tag_col)]
        if rows:
            out.append(
                Sentence(tuple(r[word_col] for r in rows), map_tags((r[tag_col] for r in rows), label_map))
            )
    return out


_SENTENCE_END = {".", "!", "?"}


def read_europeana(path: Path) -> list[Sentence]:
    """Europeana Newspapers: ``word TAG`` lines with no sentence breaks; cut after . ! ? (max 60 words)."""
    words: list[str] = []
    tags: list[str] = []
    out: list[Sentence] = []

    def flush() -> None:
        if words:
            out.append(Sentence(tuple(words), map_tags(tags, _EUROPEANA)))
        words.clear()
        tags.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("# "):
            continue
        parts = line.rsplit(" ", 1)
        if len(parts) != 2 or not parts[0]:
            continue
        word, tag = parts
        words.append(word)
        tags.append(tag)
        if (word in _SENTENCE_END and tag == "O" and len(words) > 3) or len(words) >= 60:
            flush()
    flush()
    return out


def read_ler(path: Path) -> list[Sentence]:
    """German court decisions: only the sentences that name a person, place or organisation.

    Most of LER's sentences name only laws and decisions (mapped to O); kept
    whole, legal prose would be more than half of the NER training words.
    """
    with gzip.open(path, "rt", encoding="utf-8") as f:
        sentences = read_columns(f, 0, 1, _LER, sep=" ")
    return [s for s in sentences if any(t != "O" for t in s.tags)]


def read_mobie(path: Path) -> list[Sentence]:
    out = []
    with zipfile.ZipFile(path) as z:
        for name in ("train.conll2003", "dev.conll2003", "test.conll2003"):
            with z.open(name) as raw:
                out.extend(read_columns(io.TextIOWrapper(raw, encoding="utf-8"), 0, 3, _MOBIE, sep="\t"))
    return out


def read_europarl(path: Path) -> list[Sentence]:
    return read_columns(path.read_text(encoding="utf-8").splitlines(), 0, 4, _EUROPARL, sep="\t")


# -- UD --------------------------------------------------------------------------------------------

_SENT_SPLIT = re.compile(r"\n\s*\n")


def conllu_sentences(path: Path) -> list[str]:
    """The sentence blocks of a CoNLL-U file, in order."""
    return [b.strip() for b in _SENT_SPLIT.split(path.read_text(encoding="utf-8")) if b.strip()]


def conllu_docs(blocks: list[str], vocab: Vocab, n_sents: int = 10) -> list[Doc]:
    """spaCy docs (POS, morphology, lemmas, dependencies, sentence starts) from CoNLL-U blocks."""
    if not blocks:
        return []
    text = "\n\n".join(blocks) + "\n\n"
    docs = conllu_to_docs(text, n_sents=n_sents, merge_subtokens=True, no_print=True)  # type: ignore[no-untyped-call]
    return list(docs)


# -- splits ----------------------------------------------------------------------------------------


@dataclass
class Splits:
    ner_train: list[Sentence]
    ner_dev: list[Sentence]
    ner_heldout: list[Sentence]
    ner_extra_eval: dict[str, list[Sentence]]
    ud_train: list[str]
    ud_dev: list[str]
    ud_heldout: list[str]
    counts: dict[str, int]


NER_SOURCES: dict[str, Callable[[Path], list[Sentence]]] = {
    "europeana_newspapers_de": read_europeana,
    "ler_legal_ner": read_ler,
    "mobie": read_mobie,
}


def _require(root: Path, relative: str) -> Path:
    path = root / relative
    if not path.is_file():
        raise InputError(
            str(path),
            f"corpus file not found; expected the public corpora folder (default ../shared/corpora) "
            f"with {relative}; pass --corpora DIR",
        )
    return path


#: The entity corpora the shipped model trains on beside GermEval, and GermEval's weight (copies).
#: MobIE (traffic reports and tweets) is left out: with it and GermEval once, held-out NER F1 was
#: 69.0; without it and GermEval twice, 72.7 (two changes in one step; see docs/decisions/0009).
DEFAULT_NER_CORPORA = ("europeana_newspapers_de", "ler_legal_ner")
GERMEVAL_COPIES = 2


def load_splits(
    root: Path, ner_corpora: Iterable[str] = DEFAULT_NER_CORPORA, germeval_copies: int = GERMEVAL_COPIES
) -> Splits:
    """Read the corpora under `root` and cut the fixed splits (see the module docstring).

    `germeval_copies` repeats GermEval's training sentences, weighting the
    news-like corpus over the others.
    """
    dev = read_germeval(_require(root, "germeval2014/NER-de-dev.tsv"))
    test = read_germeval(_require(root, "germeval2014/NER-de-test.tsv"))
    ner_train = (dev[:-500] + test[:3100]) * germeval_copies
    ner_dev = dev[-500:]
    ner_heldout = test[3100:]
    counts = {"germeval2014 train": len(ner_train)}
    by_name = {c.name: c for c in CORPORA}
    for name in ner_corpora:
        corpus = by_name[name]
        if corpus.use != "train":
            raise InputError(name, f"the corpus is marked '{corpus.use}' ({corpus.reason}); it cannot train")
        sentences = [s for f in corpus.files for s in NER_SOURCES[name](_require(root, f))]
        ner_train += sentences
        counts[f"{name} train"] = len(sentences)
    extra = {"europarl_ner": read_europarl(_require(root, "europarl_ner/test.tsv"))}

    gsd_dev = conllu_sentences(_require(root, "ud_german_gsd/de_gsd-ud-dev.conllu"))
    gsd_test = conllu_sentences(_require(root, "ud_german_gsd/de_gsd-ud-test.conllu"))
    pud = conllu_sentences(_require(root, "ud_german_pud/de_pud-ud-test.conllu"))
    ud_train = gsd_dev + gsd_test[:400] + pud[:700]
    ud_dev = gsd_test[400:500] + pud[700:800]
    ud_heldout = gsd_test[500:] + pud[800:]
    counts.update(
        {
            "germeval2014 dev": len(ner_dev),
            "germeval2014 held-out": len(ner_heldout),
            "europarl_ner eval": len(extra["europarl_ner"]),
            "ud train": len(ud_train),
            "ud dev": len(ud_dev),
            "ud held-out": len(ud_heldout),
        }
    )
    return Splits(ner_train, ner_dev, ner_heldout, extra, ud_train, ud_dev, ud_heldout, counts)


def ner_docbin(sentences: Iterable[Sentence], vocab: Vocab, per_doc: int = 1) -> DocBin:
    """A DocBin of NER training docs, `per_doc` sentences each (sentence starts set)."""
    out = DocBin(store_user_data=False)
    batch: list[Sentence] = []

    def flush() -> None:
        if not batch:
            return
        words = [w for s in batch for w in s.words]
        tags = [t for s in batch for t in s.tags]
        starts: list[bool | int | None] = [i == 0 for s in batch for i in range(len(s.words))]
        out.add(Doc(vocab, words=words, ents=tags, sent_starts=starts))
        batch.clear()

    for sentence in sentences:
        batch.append(sentence)
        if len(batch) >= per_doc:
            flush()
    flush()
    return out


def ud_docbin(blocks: list[str], vocab: Vocab, n_sents: int = 10) -> DocBin:
    out = DocBin(store_user_data=False)
    for doc in conllu_docs(blocks, vocab, n_sents=n_sents):
        out.add(doc)
    return out

"""flair as a second NER backend (component ``kg_flair_ner``, optional extra ``flair``).

The component runs a flair ``SequenceTagger`` over the spaCy tokens of each
sentence and writes its entities to ``doc.spans[spans_key]`` (default
``"flair_ner"``), where the linker reads them. Labels are normalised to
PER / LOC / ORG / MISC (`normalise_label`); a label it does not know is kept
as it is. As in spaCy's ``spancat``, the score of each span is
``doc.spans[spans_key].attrs["scores"][i]`` (a list of floats parallel to the
spans, so it survives ``DocBin`` and ``Doc.to_bytes``).

The tagger sees the spaCy tokens as they are (no re-tokenisation), so every
span maps back to exact token and character offsets. Sentences are
``doc.sents`` when boundaries are set (``kg_sentences`` before this stage),
else `kg.pipeline.sentences.split_sentences`; consecutive sentences of one doc
are each other's context (flair's FLERT models read it), never sentences of
another doc.

``model`` is a path to a saved ``SequenceTagger`` (``.pt``) or a hub name
such as ``flair/ner-german-large``, which flair fetches itself where the
network exists (or finds in its cache); this project downloads nothing.
Loading a ``.pt`` file unpickles it: load only models you trust. flair and
torch are imported when the component is built, never at import of this
module. Install: ``pip install torch==2.13.0`` (CPU build) first, then
``pip install ".[flair]"``. See docs/decisions/0010-flair-backend.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

from kg.errors import ConfigError
from kg.pipeline.linker import normalise_label
from kg.pipeline.sentences import split_sentences

__all__ = ["FlairNER", "load_tagger", "normalise_label"]

INSTALL = 'pip install torch==2.13.0 (the CPU build; first, or pip pulls CUDA), then pip install ".[flair]"'

_LABEL_NAME = "kg_flair_ner"  # the layer flair writes its predictions to on our Sentence objects
_PATH_PREFIXES = ("/", ".", "~", "\\")
_MODEL_SUFFIXES = (".pt", ".pth", ".bin")


def _looks_like_path(model: str) -> bool:
    """A file path rather than a hub name (``flair/ner-german-large``, ``de-ner-large``)."""
    return model.startswith(_PATH_PREFIXES) or model.endswith(_MODEL_SUFFIXES) or model.count("/") > 1


def load_tagger(model: str) -> Any:
    """Load a flair ``SequenceTagger`` that predicts spans, or raise `ConfigError` saying what to do.

    Costs the flair import (several seconds) and the model's size in memory.
    """
    try:
        from flair.models import SequenceTagger
    except ImportError as e:
        raise ConfigError(
            f"the pipeline has a kg_flair_ner component but flair cannot be imported ({e}); "
            f"install the optional extra: {INSTALL}"
        ) from e
    path = Path(model).expanduser()
    if _looks_like_path(model) and not path.is_file():
        raise ConfigError(
            f"kg_flair_ner: no flair model file at {model!r} (resolved to {path.resolve()}); expected a "
            "SequenceTagger saved with model.save(...), or a hub name such as 'flair/ner-german-large'. "
            "Fix `model` in the pipeline config (relative paths are read from the working directory)."
        )
    source = str(path) if path.is_file() else model
    try:
        tagger = SequenceTagger.load(source)
    except Exception as e:  # flair raises ValueError, OSError, pickle and torch errors alike
        where = (
            "the file is not a flair SequenceTagger saved with model.save(...)"
            if path.is_file()
            else "a hub name needs the network or a copy in flair's cache; this project downloads "
            "nothing itself. Fetch it once where the network exists, or save it to a file and give its path"
        )
        raise ConfigError(
            f"kg_flair_ner: flair could not load model {model!r} ({type(e).__name__}: {e}); {where}."
        ) from e
    if not getattr(tagger, "predict_spans", False):
        raise ConfigError(
            f"kg_flair_ner: model {model!r} tags tokens ({tagger.label_type!r}), not entity spans; "
            "expected a flair NER model (BIO or BIOES tags)."
        )
    return tagger


@Language.factory("kg_flair_ner", default_config={"spans_key": "flair_ner", "batch_size": 32})
def make_flair_ner(nlp: Language, name: str, model: str, spans_key: str, batch_size: int) -> FlairNER:
    if batch_size < 1:
        raise ConfigError(f"kg_flair_ner: batch_size must be at least 1, got {batch_size}")
    return FlairNER(load_tagger(model), spans_key=spans_key, batch_size=batch_size)


class FlairNER:
    """Write a flair tagger's entities to ``doc.spans[spans_key]``, their scores to ``attrs["scores"]``."""

    def __init__(self, tagger: Any, *, spans_key: str = "flair_ner", batch_size: int = 32) -> None:
        self.tagger = tagger
        self.spans_key = spans_key
        self.batch_size = batch_size

    def __call__(self, doc: Doc) -> Doc:
        self._tag([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Tag `batch_size` docs at a time; flair batches their sentences by ``self.batch_size``."""
        docs_in = iter(stream)
        while docs := list(itertools.islice(docs_in, max(batch_size, 1))):
            self._tag(docs)
            yield from docs

    def _tag(self, docs: list[Doc]) -> None:
        from flair.data import Sentence

        work: list[tuple[Doc, Any, list[int]]] = []  # (doc, flair sentence, flair token -> doc token index)
        for doc in docs:
            sentences = []
            for first, last in _sentence_bounds(doc):
                index = [i for i in range(first, last) if not doc[i].is_space]
                if not index:
                    continue
                sentence = Sentence([doc[i].text for i in index], language_code=doc.lang_)
                sentences.append(sentence)
                work.append((doc, sentence, index))
            # context stays inside the doc: predict() links only sentences that have none yet
            Sentence.set_context_for_sentences(sentences)
        if work:
            self.tagger.predict(
                [sentence for _, sentence, _ in work],
                mini_batch_size=self.batch_size,
                label_name=_LABEL_NAME,
            )
        found: dict[int, tuple[list[Span], list[float]]] = {id(doc): ([], []) for doc in docs}
        for doc, sentence, index in work:
            spans, scores = found[id(doc)]
            for entity in sentence.get_spans(_LABEL_NAME):
                label = entity.get_label(_LABEL_NAME)
                start = index[entity.tokens[0].idx - 1]  # flair token idx counts from 1
                end = index[entity.tokens[-1].idx - 1] + 1
                spans.append(Span(doc, start, end, label=normalise_label(label.value)))
                scores.append(float(label.score))
        for doc in docs:
            spans, scores = found[id(doc)]
            doc.spans[self.spans_key] = SpanGroup(
                doc, name=self.spans_key, spans=spans, attrs={"scores": scores}
            )


def _sentence_bounds(doc: Doc) -> list[tuple[int, int]]:
    """Token (start, end) of each sentence: ``doc.sents`` if set, else `split_sentences`, else the doc."""
    if len(doc) == 0:
        return []
    if doc.has_annotation("SENT_START"):
        return [(sent.start, sent.end) for sent in doc.sents]
    bounds: list[tuple[int, int]] = []
    covered = 0
    for start_char, end_char in split_sentences(doc.text):
        span = doc.char_span(start_char, end_char, alignment_mode="expand")
        if span is None or span.end <= covered:
            continue
        bounds.append((max(span.start, covered), span.end))
        covered = span.end
    return bounds or [(0, len(doc))]

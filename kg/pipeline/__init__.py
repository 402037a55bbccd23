"""The NLP pipeline: spaCy components registered here, assembled from one config.

``pipeline.cfg`` beside this file says which stages run; `load_pipeline`
builds the spaCy `Language` from it, and `extract` turns one `Article` into an
`Extraction` (the contract with `kg.mapping`). Loading reads the KB once; it
never downloads anything.
"""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language
from thinc.api import Config

from kg.errors import ConfigError
from kg.kb import KnowledgeBase
from kg.model import Article, Entity, Extraction, Mention
from kg.pipeline import relations, sentences  # noqa: F401  (registers the factories)
from kg.pipeline.linker import LinkerComponent
from kg.settings import EXTRACTOR_VERSION

__all__ = ["extract", "load_pipeline"]


def load_pipeline(config_path: Path) -> Language:
    """Build the pipeline from a spaCy config file.

    A component ``source``d from a spaCy package that is not installed
    raises `ConfigError` naming the install command.
    """
    try:
        config = Config().from_disk(config_path)
    except FileNotFoundError as e:
        raise ConfigError(
            f"pipeline config {config_path} not found; expected a spaCy .cfg file "
            f"(the default is kg/pipeline/pipeline.cfg, or set KG_PIPELINE_CONFIG)"
        ) from e
    try:
        return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    except OSError as e:
        raise ConfigError(
            f"pipeline config {config_path} names a model that is not installed ({e}). "
            f"Install it first, e.g. `pip install de_core_news_lg` or `python -m spacy download "
            f"de_core_news_lg` where the network allows; nothing is downloaded at run time."
        ) from e


def _kb(nlp: Language) -> KnowledgeBase:
    component = nlp.get_pipe("kg_linker")
    if not isinstance(component, LinkerComponent):
        raise ConfigError(
            f"pipeline component 'kg_linker' is a {type(component).__name__}; expected the "
            "project's LinkerComponent (check the pipeline config)"
        )
    return component.kb


def _entity(kb: KnowledgeBase, key: str) -> Entity | None:
    """The KB's entity `key` as an `Entity` value, or None if the KB does not know it."""
    known = kb.entities.get(key)
    if known is None:
        return None
    return Entity(
        key=known.key,
        type=known.type,
        label=known.label,
        label_de=known.label_de or None,
        label_en=known.label_en or None,
        qid=known.qid,
        description=known.description,
    )


def extract(nlp: Language, article: Article) -> Extraction:
    """Run the pipeline over one article and collect its entities, mentions and statements."""
    doc = nlp(article.text)
    kb = _kb(nlp)
    linked = doc._.kg_mentions or []
    entities: dict[str, Entity] = {}
    for m in linked:
        if m.entity not in entities:
            entities[m.entity] = _entity(kb, m.entity) or Entity(key=m.entity, type=m.type, label=m.label)
    statements = tuple(doc._.kg_statements or [])
    for s in statements:  # owners substituted by the extractor (programme -> country) need a node too
        for key in (s.subject, s.object, s.speaker):
            if key is not None and key not in entities and (known := _entity(kb, key)) is not None:
                entities[key] = known
    return Extraction(
        article=article,
        entities=tuple(entities.values()),
        mentions=tuple(Mention(m.entity, m.start, m.end, m.text) for m in linked),
        statements=statements,
        extractor=EXTRACTOR_VERSION,
        sentences=tuple((s.start_char, s.end_char) for s in doc.sents),
    )

"""The NLP pipeline: spaCy components registered here, assembled from one config.

``pipeline.cfg`` beside this file says which stages run; `load_pipeline`
builds the spaCy `Language` from it, and `extract` turns one `Article` into an
`Extraction` (the contract with `kg.mapping`). Loading reads the KB once; it
never downloads anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Config, Model, NumpyOps

from kg.errors import ConfigError
from kg.kb import KnowledgeBase
from kg.model import Article, Entity, Extraction, Mention
from kg.pipeline import features, flair_ner, lemmatizer, relations, sentences  # noqa: F401  (registers the factories)
from kg.pipeline.linker import LinkerComponent
from kg.settings import EXTRACTOR_VERSION

__all__ = ["extract", "extract_many", "extraction_of", "extractor_version", "load_pipeline", "use_blis"]


def load_pipeline(config_path: Path, model: str | Path | None = None) -> Language:
    """Build the pipeline from a spaCy config file.

    Components ``source``d from ``${paths.model}`` come from `model`, else
    from the config's ``paths.model``, else from the project's own model
    (``Settings.model``, models/de_newskg). A model that is not there raises
    `ConfigError` naming the install command; nothing is downloaded.
    """
    try:
        config = Config().from_disk(config_path, interpolate=False)
    except FileNotFoundError as e:
        raise ConfigError(
            f"pipeline config {config_path} not found; expected a spaCy .cfg file "
            f"(the default is kg/pipeline/pipeline.cfg, or set KG_PIPELINE_CONFIG)"
        ) from e
    if model is None and "paths" in config:
        model = config["paths"].get("model")  # a model the config names itself (de_core_news_lg)
        if model is None:
            from kg.settings import get_settings

            model = get_settings().model
    if model is not None:
        config["paths"]["model"] = str(model)
    try:
        nlp = spacy.util.load_model_from_config(config.interpolate(), auto_fill=True, validate=True)
    except OSError as e:
        raise ConfigError(
            f"pipeline config {config_path} names a model that is not installed ({e}). "
            f"For the project's own model run `kg train` (it writes models/de_newskg); for a published "
            f"one install it first, e.g. `pip install de_core_news_lg` or `python -m spacy download "
            f"de_core_news_lg` where the network allows; nothing is downloaded at run time."
        ) from e
    nlp.meta["kg_model"] = _model_id(str(model)) if model is not None else None
    use_blis(nlp, False)
    return nlp


@registry.callbacks("kg.use_numpy_blas.v1")  # type: ignore[untyped-decorator]
def use_numpy_blas() -> Callable[[Language], Language]:
    """``[initialize.after_init]`` callback of the training configs: train with `use_blis` off."""

    def after_init(nlp: Language) -> Language:
        use_blis(nlp, False)
        return nlp

    return after_init


def use_blis(nlp: Language, blis: bool) -> None:
    """Make the CPU models multiply matrices with thinc's bundled BLIS, or with numpy's BLAS.

    `load_pipeline` picks numpy's: same results (the annotations of the sample
    articles are identical), but the matrix products, most of the statistical
    stages' time, ran 3.5x faster with numpy's OpenBLAS on the development
    machine (docs/decisions/0015-model-size-and-speed.md). Models on other ops
    (a GPU, Apple's) are left as they are.
    """
    ops = NumpyOps(use_blis=blis)
    for _, component in nlp.components:
        model = getattr(component, "model", None)
        if not isinstance(model, Model):
            continue
        for node in model.walk():
            if type(node.ops) is NumpyOps:
                node.ops = ops


def _model_id(model: str) -> str:
    """``de_newskg-0.3.0``: the name and version in a model's meta (the argument itself if it has none)."""
    try:
        path = Path(model) if Path(model).exists() else spacy.util.get_package_path(model)
        meta = spacy.util.load_meta(path / "meta.json")
    except (OSError, ValueError, ModuleNotFoundError):
        return model
    return f"{meta.get('lang', '')}_{meta.get('name', '')}-{meta.get('version', '')}".lstrip("_")


def extractor_version(nlp: Language) -> str:
    """What produced the statements: the project's version plus the statistical model, if any.

    Stored on every statement and article; a different value makes
    `kg build` extract an article again.
    """
    model = nlp.meta.get("kg_model")
    return f"{EXTRACTOR_VERSION}+{model}" if model else EXTRACTOR_VERSION


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
    return extraction_of(nlp, article, nlp(article.text))


def extract_many(nlp: Language, articles: Sequence[Article], *, batch_size: int = 32) -> list[Extraction]:
    """`extract` for several articles at once: ``nlp.pipe`` over their texts, `batch_size` at a time
    (a batch keeps the statistical stages' matrices fuller: about a quarter faster than one by one)."""
    docs = nlp.pipe((a.text for a in articles), batch_size=batch_size)
    return [extraction_of(nlp, article, doc) for article, doc in zip(articles, docs, strict=True)]


def extraction_of(nlp: Language, article: Article, doc: Doc) -> Extraction:
    """The entities, mentions and statements the pipeline `nlp` found in `doc`, the text of `article`."""
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
        extractor=extractor_version(nlp),
        sentences=tuple((s.start_char, s.end_char) for s in doc.sents),
    )

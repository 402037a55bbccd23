"""Orchestration: articles in, validated graphs into the store, a report out.

One article is one unit of work and one transaction: read -> extract ->
map -> validate -> write. A failure at any step becomes an `ArticleResult`
with status ``failed`` (or ``invalid`` for a SHACL violation) and the build
goes on; nothing of a failed article is written. An article already stored
with the same text and extractor version is skipped, so building twice
changes nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rdflib import Graph

from kg.errors import InputError, KGError
from kg.io import Loaded, read_articles
from kg.mapping import article_iri, graph_iri, to_graph
from kg.metadata import normalize_text
from kg.model import Article, Extraction
from kg.settings import Settings, get_settings
from kg.store import OxigraphStore, Store, open_store
from kg.validate import load_shapes, validate

if TYPE_CHECKING:
    import pandas as pd
    from spacy.language import Language

    from kg.store import QueryResult

Status = Literal["built", "skipped", "failed", "invalid"]
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True, slots=True)
class ArticleResult:
    """What happened to one article."""

    name: str
    status: Status
    statements: int = 0
    entities: int = 0
    triples: int = 0
    message: str | None = None
    warnings: tuple[str, ...] = ()
    iri: str | None = None


@dataclass
class BuildReport:
    """All articles of one build, in input order, and how long it took."""

    results: list[ArticleResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failures(self) -> int:
        return self.count("failed") + self.count("invalid")

    @property
    def ok(self) -> bool:
        return self.failures == 0

    def summary(self) -> str:
        statements = sum(r.statements for r in self.results if r.status == "built")
        return (
            f"{len(self.results)} articles: {self.count('built')} built, {self.count('skipped')} unchanged, "
            f"{self.count('failed')} failed, {self.count('invalid')} invalid; "
            f"{statements} statements written in {self.seconds:.1f} s"
        )


def has_sentence(text: str) -> bool:
    """At least one line with three words of letters: the least an article must have."""
    return any(len(_WORD.findall(line)) >= 3 for line in text.splitlines())


class Builder:
    """Holds the pipeline, shapes and store for a run; `build_articles` does the work."""

    def __init__(
        self, store: Store, *, nlp: Language | None = None, settings: Settings | None = None
    ) -> None:
        self.store = store
        self.settings = settings or get_settings()
        self._nlp = nlp
        self._shapes: Graph | None = None

    @property
    def nlp(self) -> Language:
        if self._nlp is None:
            from kg.pipeline import load_pipeline

            self._nlp = load_pipeline(self.settings.pipeline_config)
        return self._nlp

    @property
    def shapes(self) -> Graph:
        """The SHACL shapes, loaded once. They need no ontology or inference (decision 0005)."""
        if self._shapes is None:
            self._shapes = load_shapes(self.settings.shapes_dir)
        return self._shapes

    def build_article(
        self, article: Article, *, warnings: tuple[str, ...] = (), force: bool = False
    ) -> ArticleResult:
        """Extract, validate and store one article; never raises for a bad article."""
        done = self._before_extraction(article, warnings, force)
        if done is not None:
            return done
        from kg.pipeline import extract

        try:
            extraction = extract(self.nlp, article)
        except KGError as e:
            return self._failed(article, warnings, str(e))
        return self._store(extraction, warnings)

    def _iri(self, article: Article) -> str:
        return str(article_iri(article.key, base_iri=self.settings.base_iri))

    def _failed(self, article: Article, warnings: tuple[str, ...], message: str) -> ArticleResult:
        return ArticleResult(
            article.name, "failed", message=message, warnings=warnings, iri=self._iri(article)
        )

    def _before_extraction(
        self, article: Article, warnings: tuple[str, ...], force: bool
    ) -> ArticleResult | None:
        """The result of an article that needs no extraction (not an article, or stored unchanged)."""
        if not has_sentence(article.text):
            return self._failed(
                article, warnings, "no recognisable sentence (no line with three words); is this an article?"
            )
        if len(article.text) > self.nlp.max_length:
            return self._failed(
                article,
                warnings,
                f"the text has {len(article.text):,} characters; the pipeline takes at most "
                f"{self.nlp.max_length:,} at once (spaCy's nlp.max_length): split the article into parts",
            )
        from kg.pipeline import extractor_version

        iri = self._iri(article)
        if not force and self.store.article_state(iri) == (article.content_hash, extractor_version(self.nlp)):
            return ArticleResult(article.name, "skipped", warnings=warnings, iri=iri)
        return None

    def _store(self, extraction: Extraction, warnings: tuple[str, ...]) -> ArticleResult:
        """Map, validate and write one extracted article."""
        article = extraction.article
        base = self.settings.base_iri
        try:
            graph = to_graph(extraction, base_iri=base)
        except KGError as e:
            return self._failed(article, warnings, str(e))
        report = validate(graph, shapes=self.shapes)
        if not report.conforms:
            return ArticleResult(
                article.name, "invalid", message=report.text, warnings=warnings, iri=self._iri(article)
            )
        self.store.replace_article(str(graph_iri(article.key, base_iri=base)), graph)
        return ArticleResult(
            article.name,
            "built",
            statements=len(extraction.statements),
            entities=len(extraction.entities),
            triples=len(graph),
            warnings=warnings,
            iri=self._iri(article),
        )

    def _build_batch(self, batch: Sequence[Loaded], force: bool) -> list[ArticleResult]:
        """Build `batch` in order, with one ``nlp.pipe`` over the articles that need extraction.

        An error in the batch's extraction is put down to its articles one by one (each extracted
        alone), so only the article that causes it fails.
        """
        from kg.pipeline import extract_many

        results: list[ArticleResult | None] = [
            self._before_extraction(item.article, item.warnings, force) for item in batch
        ]
        todo = [i for i, result in enumerate(results) if result is None]
        try:
            extractions = extract_many(self.nlp, [batch[i].article for i in todo], batch_size=len(todo) or 1)
        except KGError:
            for i in todo:
                results[i] = self.build_article(batch[i].article, warnings=batch[i].warnings, force=True)
        else:
            for i, extraction in zip(todo, extractions, strict=True):
                results[i] = self._store(extraction, batch[i].warnings)
        return [result for result in results if result is not None]

    def build_paths(
        self,
        paths: Sequence[Path],
        *,
        force: bool = False,
        progress: Callable[[ArticleResult], None] | None = None,
    ) -> BuildReport:
        """Build every article under `paths`; see the module docstring for the guarantees."""
        return self.build_loaded(
            read_articles(paths, max_bytes=self.settings.max_input_bytes), force=force, progress=progress
        )

    def build_loaded(
        self,
        items: Iterable[Loaded | InputError],
        *,
        force: bool = False,
        progress: Callable[[ArticleResult], None] | None = None,
    ) -> BuildReport:
        report = BuildReport()
        started = time.perf_counter()
        batch: list[Loaded] = []

        def add(results: Iterable[ArticleResult]) -> None:
            for result in results:
                report.results.append(result)
                if progress is not None:
                    progress(result)

        for item in items:
            if isinstance(item, InputError):
                add(self._build_batch(batch, force))  # results stay in input order
                batch = []
                name = f"{item.source}:{item.line}" if item.line is not None else item.source
                add([ArticleResult(name, "failed", message=item.reason)])
                continue
            batch.append(item)
            if len(batch) >= self.settings.batch_size:
                add(self._build_batch(batch, force))
                batch = []
        add(self._build_batch(batch, force))
        report.seconds = time.perf_counter() - started
        return report


class KnowledgeGraph:
    """The library from a notebook: open a store, add texts, query into pandas.

    >>> graph = KnowledgeGraph.open()            # in memory; KnowledgeGraph.open("kg-store") persists
    >>> graph.add_text("Die Nato wirft Russland vor, Nordkorea zu unterstützen.", title="Test")
    >>> graph.query_df("SELECT ?who ?whom WHERE { ?who kg:supports ?whom }")
    """

    def __init__(self, store: OxigraphStore, *, settings: Settings | None = None) -> None:
        self.store = store
        self.builder = Builder(store, settings=settings)

    @classmethod
    def open(cls, path: str | Path | None = None, *, settings: Settings | None = None) -> KnowledgeGraph:
        return cls(open_store(Path(path) if path is not None else None), settings=settings)

    def add_text(
        self,
        text: str,
        *,
        name: str | None = None,
        url: str | None = None,
        title: str | None = None,
        date: str | None = None,
        source: str | None = None,
        language: str | None = None,
    ) -> ArticleResult:
        text = normalize_text(text)
        article = Article(
            text=text,
            name=name or title or url or "text",
            url=url,
            title=title,
            date=date,
            source=source,
            language=language,
        )
        return self.builder.build_article(article)

    def add_files(self, *paths: str | Path) -> BuildReport:
        return self.builder.build_paths([Path(p) for p in paths])

    def query(self, sparql: str) -> QueryResult:
        return self.store.query(sparql, timeout_s=self.builder.settings.query_timeout_s)

    def query_df(self, sparql: str) -> pd.DataFrame:
        return self.store.select_df(sparql)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

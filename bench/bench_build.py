"""Build speed: the sample articles through the whole pipeline, stage by stage.

    .venv/bin/python bench/bench_build.py [--repeat N]

Prints, for N passes over data/samples/ (fresh in-memory store each pass):
words per second of extraction (the NLP pipeline), of mapping + SHACL
validation, of the store write, and of the whole build; then the store's size.
Figures, not assertions: compare runs on one machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

from kg.build import Builder
from kg.io import Loaded, read_articles
from kg.mapping import graph_iri, to_graph
from kg.pipeline import extract
from kg.settings import REPO_ROOT
from kg.store import open_store
from kg.validate import validate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    articles = [
        x.article
        for x in read_articles([REPO_ROOT / "data" / "samples"], max_bytes=10**8)
        if isinstance(x, Loaded)
    ]
    words = sum(len(a.text.split()) for a in articles)
    timings: dict[str, list[float]] = {"extract": [], "map+validate": [], "store": [], "total": []}
    builder = Builder(open_store(None))
    shapes = builder.shapes
    builder.nlp  # noqa: B018  (load once, outside the timings)
    for _ in range(args.repeat):
        store = open_store(None)
        t0 = time.perf_counter()
        extractions = [extract(builder.nlp, a) for a in articles]
        t1 = time.perf_counter()
        graphs = [to_graph(x, base_iri=builder.settings.base_iri) for x in extractions]
        for graph in graphs:
            validate(graph, shapes=shapes)
        t2 = time.perf_counter()
        for article, graph in zip(articles, graphs, strict=True):
            store.replace_article(str(graph_iri(article.key, base_iri=builder.settings.base_iri)), graph)
        t3 = time.perf_counter()
        for name, seconds in (
            ("extract", t1 - t0),
            ("map+validate", t2 - t1),
            ("store", t3 - t2),
            ("total", t3 - t0),
        ):
            timings[name].append(seconds)
        stats = store.stats()
        store.close()
    print(f"{len(articles)} articles, {words} words, {args.repeat} passes (median)")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"  {name:<13} {median * 1000:8.1f} ms  {words / median:10.0f} words/s")
    print(
        f"  store: {stats.default_graph_triples} triples in the union graph, "
        f"{stats.named_graph_quads} quads in {stats.articles} article graphs"
    )


if __name__ == "__main__":
    main()

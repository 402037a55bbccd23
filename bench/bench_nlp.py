"""NLP speed of the shipped model: words per second with nlp.pipe, one core and all cores.

    .venv/bin/python bench/bench_nlp.py [--words 100000] [--config kg/pipeline/pipeline.cfg]

The sample articles are repeated until they hold at least --words words
(whitespace-separated), and passed to ``nlp.pipe`` in batches of
``KG_BATCH_SIZE`` articles (32), as ``kg build`` does. Prints words/s for: the statistical stages alone
(tok2vec, morphologizer, parser, ner), and the full pipeline (plus sentence
splitting, lemmas, linking and relation rules), each on one process and on
one process per core (each loads the pipeline once; loading is timed
apart). One core means one process with BLAS threads limited to 1.
Figures, not assertions: compare runs on one machine, against a baseline
config given with --baseline (e.g. kg/pipeline/rules.cfg), and with --blis
against the same config multiplying matrices with thinc's BLIS instead of
numpy's BLAS (what load_pipeline picks; kg.pipeline.use_blis).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

from kg.io import Loaded, read_articles  # noqa: E402
from kg.pipeline import load_pipeline, use_blis  # noqa: E402
from kg.settings import REPO_ROOT, get_settings  # noqa: E402

STATISTICAL = ("tok2vec", "morphologizer", "parser", "ner", "tagger")


def texts(min_words: int) -> list[str]:
    articles = [
        x.article.text
        for x in read_articles([REPO_ROOT / "data" / "samples"], max_bytes=10**8)
        if isinstance(x, Loaded)
    ]
    out: list[str] = []
    words = 0
    while words < min_words:
        for text in articles:
            out.append(text)
            words += len(text.split())
    return out


def _run(config: str, batch: list[str], only_statistical: bool, blis: bool) -> tuple[float, float, int]:
    """(load seconds, processing seconds, words) for one process."""
    t0 = time.perf_counter()
    nlp = load_pipeline(Path(config))  # numpy's BLAS
    if blis:
        use_blis(nlp, True)
    loaded = time.perf_counter() - t0
    if only_statistical:
        keep = [name for name in nlp.pipe_names if name in STATISTICAL or name == "kg_sentences"]
        disabled = nlp.select_pipes(enable=keep)
    t1 = time.perf_counter()
    for _ in nlp.pipe(batch, batch_size=get_settings().batch_size):  # as kg build batches articles
        pass
    seconds = time.perf_counter() - t1
    if only_statistical:
        disabled.restore()
    return loaded, seconds, sum(len(t.split()) for t in batch)


def measure(
    config: str, data: list[str], processes: int, only_statistical: bool, blis: bool = False
) -> tuple[float, float]:
    """(words per second, load seconds) over `data` split across `processes`."""
    if processes == 1:
        loaded, seconds, words = _run(config, data, only_statistical, blis)
        return words / seconds, loaded
    shards = [data[i::processes] for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        n = processes
        results = list(pool.map(_run, [config] * n, shards, [only_statistical] * n, [blis] * n))
    # each worker times its own processing after loading; the slowest worker sets the rate
    words = sum(r[2] for r in results)
    return words / max(r[1] for r in results), max(r[0] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--config", default=str(REPO_ROOT / "kg" / "pipeline" / "pipeline.cfg"))
    parser.add_argument("--baseline", default=None, help="a second config measured in the same run")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--blis",
        action="store_true",
        help="also measure --config with thinc's BLIS matrix products (kg.pipeline.use_blis)",
    )
    args = parser.parse_args()
    data = texts(args.words)
    words = sum(len(t.split()) for t in data)
    print(f"{len(data)} texts, {words:,} words; {args.processes} cores for the all-cores rows")
    print(f"{'config':<28} {'matmul':<6} {'stages':<12} {'processes':>9} {'words/s':>10} {'load s':>7}")
    runs = [(args.config, False)] + ([(args.config, True)] if args.blis else [])
    runs += [(args.baseline, False)] if args.baseline else []
    for config, blis in runs:
        name = Path(config).name
        has_model = any(n in STATISTICAL for n in load_pipeline(Path(config)).pipe_names)
        for only_statistical in [True, False] if has_model else [False]:
            for processes in sorted({1, args.processes}):
                rate, loaded = measure(config, data, processes, only_statistical, blis)
                stages = "statistical" if only_statistical else "full"
                matmul = "blis" if blis else "numpy"
                print(f"{name:<28} {matmul:<6} {stages:<12} {processes:>9} {rate:>10,.0f} {loaded:>7.1f}")


if __name__ == "__main__":
    main()

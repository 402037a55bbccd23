"""Query speed on a store of about 1M triples: over HTTP, in process, straight on pyoxigraph, and on rdflib.

    .venv/bin/python bench/bench_query.py [--triples 1000000] [--repeat 50] [--rdflib-repeat 5]
                                          [--store DIR] [--samples DIR] [--port 8765] [--no-rdflib]

The store: the sample articles built by the pipeline, then copied with fresh
IRIs until the store holds about `--triples` quads (named graphs plus the
union default graph, what ``len(store)`` counts). In copy ``c`` every IRI under
``https://w3id.org/newskg/id/`` gets the segment ``c<c>/`` after that base
(articles, graphs, statements and entities alike, so each copy is its own
world of entities), and labels and surface forms get `` #<c>``, so a label
lookup finds one entity and a text filter finds one per copy. Copy 0 is the
samples as built. Each copy's article graphs are written with
`OxigraphStore.replace_article`, the builder's own path, so the default graph
is the materialised union the service sees (docs/decisions/0002). Wikidata
IRIs (owl:sameAs targets) stay shared. The store is kept in `--store` (a
temporary folder by default) and reused when it already holds `--triples`.

Then for 8 queries, p50 and p99 latency of:

- HTTP: the project's service (``kg serve``) started as a subprocess on
  127.0.0.1, asked by GET with ``Accept: application/sparql-results+json``
  over one keep-alive connection; the timing includes reading and parsing
  the body. Two clients: httpx, and the standard library's ``http.client``
  (what urllib and SPARQLWrapper use), which costs the client less, so its
  column shows more nearly what the server adds. The service runs each query
  in a worker process (the killable timeout, docs/decisions/0003), as
  configured by default.
- kg.store: `OxigraphStore.query` in this process (no timeout, so no worker),
  giving SPARQL JSON bytes.
- pyoxigraph: ``Store.query`` plus writing the results as SPARQL JSON, the
  least any endpoint has to do (HTTP-ox, the overhead of HTTP, is measured
  against this).
- ox rows: ``Store.query`` with the rows pulled into a list, the work the
  rdflib columns do.
- rdflib: an in-memory ``rdflib.Graph`` holding the union default graph (the
  triples the queries see), rows pulled into a list. Two ways: ``text``,
  ``Graph.query`` given the query text, which rdflib parses each time as
  pyoxigraph does (the same work as ox rows); and ``prepared``, parsed once
  with ``prepareQuery`` (rdflib's best case: pyoxigraph has no prepared
  queries, so its column still pays the parse). Both ratios are printed.

The engines take turns on each query, in blocks of 10 runs
(`measure_interleaved`), so a slower spell of the machine falls on all of
them alike. Row counts are compared; a mismatch is printed. Figures, not
assertions: compare runs on one machine.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
import rdflib
from rdflib.plugins.sparql import prepareQuery

from kg.build import Builder
from kg.settings import REPO_ROOT
from kg.store import OxigraphStore, open_store
from kg.vocab import PREFIXES

BASE = "https://w3id.org/newskg/id/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SURFACE_FORM = "https://w3id.org/newskg/ontology#surfaceForm"
RUTTE = f"<{BASE}entity/Q57792>"
RUSSIA = f"<{BASE}entity/Q159>"
RELATIONS = (
    "kg:supports, kg:threatens, kg:partnerOf, kg:accuses, kg:supplies, kg:sanctions, kg:visits, "
    "kg:attacks, kg:deploysTroopsTo, kg:meets, kg:holdsRole"
)

#: (name, query): the eight kinds of question the service gets, on copy 0's entities.
QUERIES: tuple[tuple[str, str], ...] = (
    (
        "entity by label",
        'SELECT ?e ?type ?qid WHERE { ?e rdfs:label "Mark Rutte"@de ; a ?type . '
        "OPTIONAL { ?e kg:wikidataId ?qid } }",
    ),
    (
        "1-hop neighbours",
        f"SELECT ?rel ?other ?label WHERE {{ {{ {RUSSIA} ?rel ?other }} UNION {{ ?other ?rel {RUSSIA} }} "
        f'?other rdfs:label ?label FILTER(lang(?label) = "de" && ?rel IN ({RELATIONS})) }}',
    ),
    (
        "2-hop path",
        f"SELECT DISTINCT ?mid ?far WHERE {{ {{ {RUTTE} ?r1 ?mid }} UNION {{ ?mid ?r1 {RUTTE} }} "
        f"{{ ?mid ?r2 ?far }} UNION {{ ?far ?r2 ?mid }} "
        f"FILTER(?r1 IN ({RELATIONS}) && ?r2 IN ({RELATIONS}) && ?far != {RUTTE}) }}",
    ),
    (
        "count by relation",
        "SELECT ?rel (COUNT(*) AS ?n) WHERE { ?st a kg:Statement ; kg:relation ?rel } "
        "GROUP BY ?rel ORDER BY DESC(?n)",
    ),
    (
        "statements+provenance",
        f"SELECT ?st ?rel ?object ?speaker ?modality ?evidence ?article ?date WHERE {{ "
        f"{{ ?st kg:subject {RUTTE} }} UNION {{ ?st kg:object {RUTTE} }} "
        "?st kg:relation ?rel ; kg:object ?object ; kg:modality ?modality ; kg:evidenceText ?evidence ; "
        "kg:article ?article . OPTIONAL { ?st kg:claimedBy ?speaker } "
        "OPTIONAL { ?st kg:articleDate ?date } }",
    ),
    (
        "text filter on labels",
        'SELECT ?e ?label WHERE { ?e rdfs:label ?label FILTER(CONTAINS(LCASE(STR(?label)), "rutte")) }',
    ),
    (
        "OPTIONAL-heavy",
        "SELECT ?e ?label ?qid ?description ?role ?same ?surface WHERE { ?e a kg:Person ; rdfs:label ?label "
        'FILTER(lang(?label) = "de") OPTIONAL { ?e kg:wikidataId ?qid } '
        "OPTIONAL { ?e schema:description ?description } OPTIONAL { ?e kg:holdsRole ?role } "
        "OPTIONAL { ?e owl:sameAs ?same } OPTIONAL { ?e kg:surfaceForm ?surface } } LIMIT 100",
    ),
    (
        "property path",
        f"SELECT DISTINCT ?x WHERE {{ {RUTTE} (kg:accuses|kg:meets|^kg:meets|kg:holdsRole|kg:supports|"
        "kg:partnerOf|^kg:partnerOf|kg:supplies|kg:threatens)+ ?x }",
    ),
)
#: A small query, for the HTTP overhead: at most this many rows, answered by pyoxigraph within
#: SMALL_MS at p50 (an aggregate over every statement returns few rows but is not small).
SMALL_ROWS = 100
SMALL_MS = 10.0


# --------------------------------------------------------------------------- building the store


def copy_graph(triples: list[ox.Triple], copy: int) -> list[ox.Triple]:
    """The triples of copy `copy`: IRIs under BASE moved under ``BASE + "c<copy>/"``, labels suffixed."""
    if copy == 0:
        return triples
    prefix = f"{BASE}c{copy}/"

    def term(t: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        if isinstance(t, ox.NamedNode) and t.value.startswith(BASE):
            return ox.NamedNode(prefix + t.value[len(BASE) :])
        return t

    out = []
    for t in triples:
        obj = t.object
        if isinstance(obj, ox.Literal) and t.predicate.value in (RDFS_LABEL, SURFACE_FORM):
            obj = (
                ox.Literal(f"{obj.value} #{copy}", language=obj.language)
                if obj.language
                else ox.Literal(f"{obj.value} #{copy}", datatype=obj.datatype)
            )
        out.append(ox.Triple(term(t.subject), t.predicate, term(obj)))  # type: ignore[arg-type]
    return out


def to_rdflib(triples: list[ox.Triple]) -> rdflib.Graph:
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return rdflib.Graph().parse(data=data, format="nt")


def article_graphs(store: OxigraphStore) -> dict[str, list[ox.Triple]]:
    """Each article graph of `store` as a list of triples."""
    return {
        g: [
            q.triple
            for q in ox.parse(
                store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}").payload,
                ox.RdfFormat.N_TRIPLES,
            )
        ]
        for g in store.article_graphs()
    }


def build_store(folder: Path, target: int, samples: Path | None) -> int:
    """Write copies of the sample articles into the store at `folder` until it holds about `target` quads.

    The samples come from the store folder `samples` (``kg build data/samples/``), or are built here.
    """
    if samples is not None:
        with open_store(samples, read_only=True, query_workers=0) as built:
            graphs = article_graphs(built)
    else:
        with open_store(None) as built:
            report = Builder(built).build_paths([REPO_ROOT / "data" / "samples"])
            if not report.ok:
                raise SystemExit(
                    f"building the samples failed: {report.summary()}: {report.results[0].message}; "
                    "or give --samples with a store built by `kg build data/samples/`"
                )
            graphs = article_graphs(built)
    started = time.perf_counter()
    with open_store(folder) as store:
        copies = 1
        copy = 0
        while copy < copies:
            for graph, triples in graphs.items():
                name = graph if copy == 0 else f"{BASE}c{copy}/{graph[len(BASE) :]}"
                store.replace_article(name, to_rdflib(copy_graph(triples, copy)))
            if copy == 0:
                first = store.stats()
                # Copies share no triple (every subject is under BASE), so each adds as many quads.
                copies = max(1, round(target / (first.named_graph_quads + first.default_graph_triples)))
            copy += 1
            if copy % 25 == 0:
                print(f"  {copy} of {copies} copies, {time.perf_counter() - started:.0f} s", file=sys.stderr)
        stats = store.stats()
    # Closing the store flushed and compacted it (OxigraphStore.close), so read-only opens are quick.
    print(
        f"built {copies} copies of {len(graphs)} articles in {time.perf_counter() - started:.0f} s: "
        f"{stats.articles} article graphs, {stats.named_graph_quads} quads in them, "
        f"{stats.default_graph_triples} triples in the union",
        file=sys.stderr,
    )
    return copies


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    rows: int
    seconds: list[float]

    def p(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def measure_interleaved(
    runs: dict[str, tuple[Callable[[], int], int]], *, block: int = 10, warmup: int = 1
) -> dict[str, Timing]:
    """Time several ways of running one query, taking turns: `runs` maps a name to (run, repeat).

    The runs are cut into rounds; in each round every way runs its share (`block` runs for the
    way with the most repeats, back to back, as a client that sends one query after another),
    in an order that rotates. So a change in the machine's speed during the measurement (other
    load on a shared host) falls on every column alike, and each way still runs warm.
    """
    rounds = max(1, max(repeat for _, repeat in runs.values()) // block)
    timings = {name: Timing(0, []) for name in runs}
    for name, (run, _) in runs.items():
        for _ in range(warmup):
            timings[name].rows = run()
    names = list(runs)
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            run, repeat = runs[name]
            for _ in range((i + 1) * repeat // rounds - i * repeat // rounds):
                start = time.perf_counter()
                timings[name].rows = run()
                timings[name].seconds.append(time.perf_counter() - start)
    return timings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def service(folder: Path, port: int) -> Iterator[str]:
    """`kg serve` on the store, as a subprocess; yields the endpoint URL once it answers."""
    kg = shutil.which("kg", path=str(Path(sys.executable).parent)) or "kg"
    process = subprocess.Popen(
        [kg, "serve", "--store", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "KG_STORE": str(folder)},
    )
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"kg serve exited with {process.returncode}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("kg serve did not answer within 60 s") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def count_json_rows(body: bytes) -> int:
    # The bindings are counted by parsing, as a client would.
    import json

    return len(json.loads(body)["results"]["bindings"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triples", type=int, default=1_000_000, help="quads in the store, about")
    parser.add_argument(
        "--repeat", type=int, default=50, help="timed runs per query (HTTP, kg.store, pyoxigraph)"
    )
    parser.add_argument("--rdflib-repeat", type=int, default=5, help="timed runs per query on rdflib")
    parser.add_argument("--store", type=Path, default=None, help="store folder to build or reuse")
    parser.add_argument(
        "--samples",
        type=Path,
        default=None,
        help="a store built by `kg build data/samples/` (default: build)",
    )
    parser.add_argument("--port", type=int, default=0, help="port for kg serve (default: a free one)")
    parser.add_argument(
        "--no-rdflib", action="store_true", help="skip rdflib (loading 1M triples takes a while)"
    )
    args = parser.parse_args()

    temporary = None
    folder = args.store
    if folder is None:
        temporary = tempfile.TemporaryDirectory(prefix="kg-bench-")
        folder = Path(temporary.name) / "store"
    try:
        existing = 0
        if folder.exists():
            existing = len(ox.Store.read_only(str(folder)))
        if existing < args.triples:
            if folder.exists():
                shutil.rmtree(folder)
            build_store(folder, args.triples, args.samples)
        run_bench(folder, args)
    finally:
        if temporary is not None:
            temporary.cleanup()


def run_bench(folder: Path, args: argparse.Namespace) -> None:
    store = open_store(folder, read_only=True, query_workers=0)
    raw = ox.Store.read_only(str(folder))
    quads = len(raw)
    union = rdflib.Graph()
    if not args.no_rdflib:
        started = time.perf_counter()
        data = raw.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
        union.parse(data=data, format="nt")
        print(
            f"rdflib: {len(union)} triples loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr
        )
    results: list[tuple[str, dict[str, Timing]]] = []
    port = args.port or free_port()
    with service(folder, port) as url, httpx.Client(timeout=60) as client:
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def stdlib_get(path: str) -> bytes:
            try:
                plain.request("GET", path, headers={"Accept": "application/sparql-results+json"})
                response = plain.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError):
                # idle past uvicorn's keep-alive (5 s, while the other engines ran): connect again
                plain.close()
                plain.request("GET", path, headers={"Accept": "application/sparql-results+json"})
                response = plain.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path[:80]} answered {response.status}: {body[:200]!r}")
            return body

        # The floor: a round trip to /health, no query (uvicorn, FastAPI and the client on both ends).
        floors = measure_interleaved(
            {
                "httpx": (
                    lambda: int(client.get(url.replace("/sparql", "/health")).is_success),
                    args.repeat * 2,
                ),
                "http.client": (lambda: int(len(stdlib_get("/health")) > 0), args.repeat * 2),
            }
        )
        for name, sparql in QUERIES:

            def over_http(sparql: str = sparql) -> int:
                response = client.get(
                    url, params={"query": sparql}, headers={"Accept": "application/sparql-results+json"}
                )
                response.raise_for_status()
                return count_json_rows(response.content)

            def over_stdlib(path: str = "/sparql?" + urlencode({"query": sparql})) -> int:
                return count_json_rows(stdlib_get(path))

            def in_process(sparql: str = sparql, store: OxigraphStore = store) -> int:
                return count_json_rows(store.query(sparql).payload)

            def straight(sparql: str = sparql) -> int:
                results = raw.query(sparql, prefixes=PREFIXES)
                assert isinstance(results, ox.QuerySolutions)
                return count_json_rows(results.serialize(format=ox.QueryResultsFormat.JSON) or b"")

            def ox_rows(sparql: str = sparql) -> int:
                return len(list(raw.query(sparql, prefixes=PREFIXES)))  # type: ignore[arg-type]

            runs: dict[str, tuple[Callable[[], int], int]] = {
                "http": (over_http, args.repeat),
                "stdlib": (over_stdlib, args.repeat),
                "kg.store": (in_process, args.repeat),
                "pyoxigraph": (straight, args.repeat),
                "ox rows": (ox_rows, args.repeat),
            }
            if not args.no_rdflib:
                prepared = prepareQuery(sparql, initNs=PREFIXES)

                def rdflib_prepared(query: Any = prepared) -> int:
                    return len(list(union.query(query)))

                def rdflib_text(sparql: str = sparql) -> int:
                    return len(list(union.query(sparql, initNs=PREFIXES)))

                runs["rdflib prepared"] = (rdflib_prepared, args.rdflib_repeat)
                runs["rdflib text"] = (rdflib_text, args.rdflib_repeat)
            timings = measure_interleaved(runs)
            counts = {engine: t.rows for engine, t in timings.items()}
            if len(set(counts.values())) > 1:
                print(f"warning: {name}: row counts differ: {counts}", file=sys.stderr)
            results.append((name, timings))
            print(f"  {name}: done", file=sys.stderr)
        plain.close()
    store.close()
    print_table(results, floors, quads=quads, union_triples=len(union), args=args)


def print_table(
    results: list[tuple[str, dict[str, Timing]]],
    floors: dict[str, Timing],
    *,
    quads: int,
    union_triples: int,
    args: argparse.Namespace,
) -> None:
    print(
        f"\nstore: {quads} quads (article graphs + union default graph); repeat {args.repeat}"
        + ("" if args.no_rdflib else f", rdflib {union_triples} triples, repeat {args.rdflib_repeat}")
    )
    for client, floor in floors.items():
        print(f"HTTP floor, GET /health with {client}: p50 {floor.p(0.5):.2f} ms, p99 {floor.p(0.99):.2f} ms")
    print(
        "latency in ms, p50 / p99. HTTP: httpx; stdlib: http.client; pyoxigraph: query + SPARQL JSON; "
        "ox rows: query, rows into a list (rdflib's work).\nHTTP-ox, std-ox: HTTP p50 minus pyoxigraph p50; "
        "text/ox, prep/ox: rdflib p50 (query text; prepared) / ox rows p50"
    )
    engines = ("http", "stdlib", "kg.store", "pyoxigraph", "ox rows")
    header = (
        f"{'query':<23}{'rows':>5}"
        + "".join(f"  {e:>15}" for e in ("HTTP", "stdlib", "kg.store", "pyoxigraph", "ox rows"))
        + f"  {'rdflib':>17}  {'rdflib':>7}  {'HTTP-ox':>7}  {'std-ox':>7}  {'text/ox':>8}  {'prep/ox':>8}\n"
        + f"{'':<23}{'':>5}"
        + "".join(f"  {'':>15}" for _ in engines)
        + f"  {'prepared':>17}  {'text':>7}  {'p50':>7}  {'p50':>7}  {'p50':>8}  {'p50':>8}"
    )
    print(header)
    print("-" * len(header.splitlines()[0]))
    overheads: dict[str, list[float]] = {"http": [], "stdlib": []}
    speedups: dict[str, list[float]] = {"rdflib text": [], "rdflib prepared": []}
    for name, t in results:
        ox_p50 = t["pyoxigraph"].p(0.5)
        extra = {client: t[client].p(0.5) - ox_p50 for client in overheads}
        if t["pyoxigraph"].rows <= SMALL_ROWS and ox_p50 <= SMALL_MS:
            for client, value in extra.items():
                overheads[client].append(value)
        rdflib_cell, text_cell, ratio_cells = f"{'-':>17}", f"{'-':>7}", f"  {'-':>8}  {'-':>8}"
        if "rdflib prepared" in t:
            ratio_cells = ""
            for way, ratios in speedups.items():
                ratios.append(t[way].p(0.5) / t["ox rows"].p(0.5))
                ratio_cells += f"  {ratios[-1]:7.1f}x"
            rdflib_cell = f"{t['rdflib prepared'].p(0.5):8.1f} /{t['rdflib prepared'].p(0.99):7.1f}"
            text_cell = f"{t['rdflib text'].p(0.5):7.1f}"
        print(
            f"{name:<23}{t['pyoxigraph'].rows:>5}  "
            + "  ".join(f"{t[e].p(0.5):6.2f} /{t[e].p(0.99):7.2f}" for e in engines)
            + f"  {rdflib_cell}  {text_cell}  {extra['http']:7.2f}  {extra['stdlib']:7.2f}{ratio_cells}"
        )
    for client, label in (("http", "httpx"), ("stdlib", "http.client")):
        if overheads[client]:
            print(
                f"\nHTTP overhead at p50 with {label}, queries with <= {SMALL_ROWS} rows and <= "
                f"{SMALL_MS:g} ms: median "
                f"{statistics.median(overheads[client]):.2f} ms, max {max(overheads[client]):.2f} ms "
                "(target <= 1.5 ms)"
            )
    for way, label in (("rdflib text", "given the query text"), ("rdflib prepared", "prepared")):
        if speedups[way]:
            print(
                f"pyoxigraph vs rdflib {label} at p50, rows into a list on both: "
                f"min {min(speedups[way]):.1f}x, median {statistics.median(speedups[way]):.1f}x "
                "(target >= 10x)"
            )


if __name__ == "__main__":
    main()

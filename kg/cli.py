"""The ``kg`` command: thin wrappers over the library; the only module that prints.

Exit codes: 0 success; 1 the work ran but found a problem (failed articles,
a non-conforming file); 2 bad usage or a setting/store error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kg.errors import KGError
from kg.settings import get_settings

app = typer.Typer(
    help="Build, query, check and serve a knowledge graph of news articles.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
out = Console()

StoreOpt = Annotated[Path, typer.Option("--store", "-s", help="Folder of the persistent store.")]
#: RDF (kg.store.EXPORT_FORMATS) and the entity-relation projection (kg.projection) in one list.
EXPORT_FORMATS = (
    "turtle",
    "trig",
    "nquads",
    "ntriples",
    "jsonld",
    "rdfxml",
    "graphml",
    "gexf",
    "cytoscape",
    "csv",
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


@app.command()
def build(
    paths: Annotated[list[Path], typer.Argument(help="Article files or folders (.txt .md .html .jsonl).")],
    store: StoreOpt = Path("kg-store"),
    force: Annotated[bool, typer.Option(help="Re-extract articles stored unchanged.")] = False,
    config: Annotated[Path | None, typer.Option(help="Pipeline config (.cfg).")] = None,
) -> None:
    """Extract entities and relations from articles, validate them, and write them to the store."""
    from kg.build import Builder
    from kg.store import open_store

    settings = get_settings()
    if config is not None:
        settings = settings.model_copy(update={"pipeline_config": config})
    try:
        with open_store(store) as kg_store:
            builder = Builder(kg_store, settings=settings)
            builder.nlp  # noqa: B018  (load the pipeline before the progress bar starts)
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task("building", total=None)

                def progress(result: object) -> None:
                    bar.advance(task)
                    from kg.build import ArticleResult

                    assert isinstance(result, ArticleResult)
                    for warning in result.warnings:
                        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
                    if result.status in ("failed", "invalid"):
                        err.print(
                            f"[red]{result.status}:[/red] {result.name}: {result.message}", highlight=False
                        )

                report = builder.build_paths(paths, force=force, progress=progress)
            stats = kg_store.stats()
    except KGError as e:
        raise _fail(str(e)) from e
    err.print(report.summary(), highlight=False)
    err.print(
        f"store {store}: {stats.articles} articles, {stats.default_graph_triples} triples "
        f"({stats.named_graph_quads} quads in article graphs)",
        highlight=False,
    )
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def query(
    sparql: Annotated[
        str,
        typer.Argument(
            help="A SPARQL query; '-' reads it from standard input; "
            "prefixes kg:, schema:, wd:, rdfs:, owl:, prov: are predeclared."
        ),
    ],
    store: StoreOpt = Path("kg-store"),
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="table, csv, tsv, json, xml; turtle, ntriples, jsonld for CONSTRUCT/DESCRIBE.",
        ),
    ] = "table",
) -> None:
    """Run a SPARQL query over the store's default graph (the union of all articles, each triple once)."""
    from kg.store import open_store

    text = sys.stdin.read() if sparql == "-" else sparql
    try:
        with open_store(store, read_only=True) as kg_store:
            result = kg_store.query(text, timeout_s=get_settings().query_timeout_s)
            if fmt != "table":
                sys.stdout.buffer.write(result.serialize(fmt))
                return
            if result.kind == "ask":
                out.print("yes" if result.boolean() else "no")
            elif result.kind == "select":
                variables = result.variables()
                table = Table(*variables)
                rows = result.rows()
                for row in rows:
                    table.add_row(*[row.get(v) or "" for v in variables])
                out.print(table)
                err.print(f"{len(rows)} rows")
            else:
                sys.stdout.buffer.write(result.serialize("turtle"))
    except KGError as e:
        raise _fail(str(e)) from e


@app.command("eval")
def evaluate(
    gold: Annotated[Path, typer.Option(help="Folder of gold JSON files (format of shared/eval).")],
    store: StoreOpt = Path("kg-store"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Score the stored graph against gold annotations: relation P/R/F1, attribution, entity recall."""
    from kg.evaluate import evaluate as run_eval
    from kg.evaluate import format_report, report_json
    from kg.store import open_store

    try:
        with open_store(store, read_only=True) as kg_store:
            report = run_eval(kg_store.select, gold)
    except KGError as e:
        raise _fail(str(e)) from e
    if as_json:
        out.print_json(json.dumps(report_json(report), ensure_ascii=False))
    else:
        print(format_report(report))


@app.command()
def export(
    store: StoreOpt = Path("kg-store"),
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="RDF: trig, nquads or jsonld (one graph per article); turtle, ntriples or rdfxml (the "
            "union graph; RDF/XML has no named graphs). Entities and relations for graph tools: graphml, "
            "gexf (Gephi), cytoscape (Cytoscape.js JSON), csv (nodes.csv and edges.csv: needs --output).",
        ),
    ] = "trig",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write; default stdout. For csv a folder that gets nodes.csv and edges.csv "
            "(created if missing), or a .zip file holding both.",
        ),
    ] = None,
    relation: Annotated[
        list[str] | None,
        typer.Option("--relation", "-r", help="Keep only this relation (supports, meets, ...); repeatable."),
    ] = None,
    entity_type: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            "-t",
            help="Keep only edges between entities of these types (Person, Organization, "
            "Country, Location, Other); repeatable.",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Keep statements from articles dated on or after YYYY[-MM[-DD]].")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Keep statements from articles dated on or before YYYY[-MM[-DD]].")
    ] = None,
    min_confidence: Annotated[
        float | None, typer.Option(help="Keep statements with at least this confidence (0 to 1).")
    ] = None,
    claimed: Annotated[
        bool | None,
        typer.Option(
            "--claimed/--stated",
            help="--claimed: only statements attributed to a speaker; --stated: only those in the "
            "article's own voice. Default both.",
        ),
    ] = None,
    language: Annotated[str, typer.Option(help="Preferred label language: en or de.")] = "en",
) -> None:
    """Write the store as RDF, or its entities and relations as a graph for Gephi, Cytoscape or a spreadsheet.

    Filters apply to the graph formats only; negated statements never make an edge (decision 0011).
    """
    from kg.projection import GRAPH_FORMATS, make_filter, project, to_csv, to_csv_zip, write_graph
    from kg.store import EXPORT_FORMATS as RDF_FORMATS
    from kg.store import open_store

    if fmt not in EXPORT_FORMATS:
        raise _fail(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    filtered = any((relation, entity_type, since, until, min_confidence is not None, claimed is not None))
    if fmt in RDF_FORMATS and filtered:
        raise _fail(
            f"the filters apply to graphml, gexf, cytoscape and csv; --format {fmt} exports the whole "
            "graph as RDF (filter it with a CONSTRUCT query instead: kg query ... --format turtle)"
        )
    if fmt == "csv" and output is None:
        raise _fail("--format csv writes two files: give --output DIR (nodes.csv, edges.csv) or FILE.zip")
    if language not in ("en", "de"):
        raise _fail(f"unknown --language {language!r}; expected en or de")
    try:
        with open_store(store, read_only=True) as kg_store:
            if fmt in RDF_FORMATS:
                if output is None:
                    kg_store.export(fmt, sys.stdout.buffer)
                else:
                    with output.open("wb") as handle:
                        kg_store.export(fmt, handle)
                return
            flt = make_filter(
                relations=relation or (),
                types=entity_type or (),
                since=since,
                until=until,
                min_confidence=min_confidence,
                voice="any" if claimed is None else ("claimed" if claimed else "stated"),
            )
            projection = project(kg_store, flt, language="de" if language == "de" else "en")
    except KGError as e:
        raise _fail(str(e)) from e
    try:
        if fmt in GRAPH_FORMATS:
            data = write_graph(projection, fmt)
            if output is None:
                sys.stdout.buffer.write(data)
            else:
                output.write_bytes(data)
        elif output is not None and output.suffix.lower() == ".zip":
            output.write_bytes(to_csv_zip(projection))
        elif output is not None:
            nodes, edges = to_csv(projection)
            output.mkdir(parents=True, exist_ok=True)
            (output / "nodes.csv").write_bytes(nodes)
            (output / "edges.csv").write_bytes(edges)
    except OSError as e:
        raise _fail(f"cannot write {output}: {e}") from e
    err.print(f"{len(projection.nodes)} nodes, {len(projection.edges)} edges", highlight=False)


@app.command("push")
def push_cmd(
    endpoint: Annotated[
        str,
        typer.Option(
            help="Write endpoint of the external store: its Graph Store URL for gsp (Oxigraph: "
            "http://host:7878/store), its SPARQL Update URL for update (Oxigraph: /update)."
        ),
    ],
    store: StoreOpt = Path("kg-store"),
    protocol: Annotated[
        str, typer.Option(help="gsp: one PUT per article graph; update: DROP + INSERT DATA per graph.")
    ] = "gsp",
    user: Annotated[str | None, typer.Option(help="User name for basic or digest authentication.")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="KG_PUSH_PASSWORD", help="Password (or set KG_PUSH_PASSWORD).")
    ] = None,
    auth: Annotated[str, typer.Option(help="basic or digest (Virtuoso wants digest).")] = "basic",
    token: Annotated[
        str | None, typer.Option(envvar="KG_PUSH_TOKEN", help="Bearer token (or set KG_PUSH_TOKEN).")
    ] = None,
    body_format: Annotated[
        str, typer.Option("--format", help="Body of a gsp PUT: ntriples or turtle.")
    ] = "ntriples",
    with_default_graph: Annotated[
        bool,
        typer.Option(
            "--with-default-graph",
            help="Also replace the external default graph with the union, for stores without a union view.",
        ),
    ] = False,
    chunk: Annotated[int, typer.Option(help="Triples per SPARQL Update request (update only).")] = 5000,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 60.0,
) -> None:
    """Send the article graphs to an external triple store; re-pushing replaces, never duplicates."""
    from kg.push import make_auth
    from kg.push import push as run_push
    from kg.store import open_store

    def show(result: object) -> None:
        from kg.push import GraphResult

        assert isinstance(result, GraphResult)
        if result.status == "pushed":
            out.print(f"pushed   {result.graph}  {result.triples} triples", highlight=False, soft_wrap=True)
        else:
            err.print(
                f"[red]{result.status:<8}[/red] {result.graph}: {result.message}",
                highlight=False,
                soft_wrap=True,
            )

    try:
        credentials = make_auth(user=user, password=password, scheme=auth, token=token)
        with open_store(store, read_only=True, query_workers=0) as kg_store:
            report = run_push(
                kg_store,
                endpoint,
                protocol=protocol,  # type: ignore[arg-type]  # checked by push
                auth=credentials,
                body_format=body_format,  # type: ignore[arg-type]  # checked by push
                chunk_triples=chunk,
                include_default_graph=with_default_graph,
                timeout_s=timeout,
                progress=show,
            )
    except KGError as e:
        raise _fail(str(e)) from e
    err.print(report.summary(), highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command("validate")
def validate_cmd(
    file: Annotated[Path, typer.Argument(help="An RDF file: .ttl .trig .nq .nt .jsonld .rdf")],
) -> None:
    """Check an RDF file against the project's SHACL shapes; exit 1 if it does not conform."""
    from kg.validate import load_ontology, load_shapes, validate_file

    settings = get_settings()
    try:
        report = validate_file(
            file, shapes=load_shapes(settings.shapes_dir), ontology=load_ontology(settings.ontology_dir)
        )
    except KGError as e:
        raise _fail(str(e)) from e
    if report.conforms:
        out.print(f"{file}: conforms", highlight=False)
        return
    print(report.text)
    err.print(f"{file}: does not conform ({len(report.results)} violations)", highlight=False)
    raise typer.Exit(1)


@app.command()
def serve(
    store: StoreOpt = Path("kg-store"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (uvicorn's access log; off: it costs time per request).")
    ] = False,
) -> None:
    """Serve the store over the SPARQL 1.1 Protocol (FastAPI; see /docs); read-only unless
    KG_API_WRITE_TOKEN is set (docs/decisions/0012-endpoint-protocol.md)."""
    import os

    import uvicorn

    if not store.exists():
        raise _fail(f"no store at {store}; build one first: kg build data/samples/ --store {store}")
    os.environ["KG_STORE"] = str(store)
    get_settings.cache_clear()
    err.print(f"SPARQL endpoint: http://{host}:{port}/sparql  (API docs: http://{host}:{port}/docs)")
    # The service lives in the `api` package, which depends on `kg`; importing it by name here keeps
    # `kg` free of an import of `api` (docs/decisions/0003-sparql-service.md).
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        **get_settings().uvicorn_options,
    )


@app.command("train")
def train_cmd(
    corpora: Annotated[
        Path, typer.Option(help="The public corpora folder (GermEval 2014, UD German GSD/PUD, ...).")
    ] = Path("../shared/corpora"),
    output: Annotated[
        Path | None,
        typer.Option(help="Where the packaged model goes (default: Settings.model, models/de_newskg)."),
    ] = None,
    workdir: Annotated[Path, typer.Option(help="Converted corpora and checkpoints.")] = Path("training"),
    part: Annotated[
        list[str] | None,
        typer.Option(help="Train only this part (syntax, ner), evaluate it, and package nothing."),
    ] = None,
    jobs: Annotated[int, typer.Option(help="Parts trained at the same time, one core each.")] = 2,
) -> None:
    """Train the project's German model from the public corpora (fixed seeds), evaluate it on the
    held-out parts, and package it (needs the training extra: pip install -e '.[train]')."""
    from kg.train import train

    target = output if output is not None else Path(get_settings().model)
    parts = tuple(part) if part else ("syntax", "ner")
    try:
        report = train(corpora, target, workdir, parts=parts, jobs=jobs, echo=err.print)
    except KGError as e:
        raise _fail(str(e)) from e
    table = Table("held-out set", "metric", "score")
    for name, scores in report.scores.items():
        for metric, value in scores.items():
            table.add_row(name, metric, f"{value:.2f}")
    out.print(table)
    err.print(
        f"{'packaged ' + str(target) if set(parts) == {'syntax', 'ner'} else 'not packaged'}; "
        f"seconds: {json.dumps(report.seconds)}"
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()

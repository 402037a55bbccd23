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
EXPORT_FORMATS = ("trig", "nquads", "turtle", "ntriples")


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
            "--format", "-f", help="trig or nquads (article graphs); turtle or ntriples (the union graph)."
        ),
    ] = "trig",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")
    ] = None,
) -> None:
    """Write the store as RDF."""
    from kg.store import open_store

    if fmt not in EXPORT_FORMATS:
        raise _fail(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    try:
        with open_store(store, read_only=True) as kg_store:
            if output is None:
                kg_store.export(fmt, sys.stdout.buffer)
            else:
                with output.open("wb") as handle:
                    kg_store.export(fmt, handle)
    except KGError as e:
        raise _fail(str(e)) from e


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
) -> None:
    """Serve the store over the SPARQL 1.1 Protocol (FastAPI; see /docs)."""
    import os

    import uvicorn

    if not store.exists():
        raise _fail(f"no store at {store}; build one first: kg build data/samples/ --store {store}")
    os.environ["KG_STORE"] = str(store)
    get_settings.cache_clear()
    err.print(f"SPARQL endpoint: http://{host}:{port}/sparql  (API docs: http://{host}:{port}/docs)")
    # The service lives in the `api` package, which depends on `kg`; importing it by name here keeps
    # `kg` free of an import of `api` (docs/decisions/0003-sparql-service.md).
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, log_level="info")


def main() -> None:
    app()


if __name__ == "__main__":
    main()

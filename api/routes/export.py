"""``GET /export``: the graph as RDF, or its entities and relations for Gephi, Cytoscape and spreadsheets.

The same exports as ``kg export`` (kg.store for RDF, kg.projection for the
graph formats), with the same filters as query parameters. Each answer is a
download: a ``Content-Disposition: attachment`` with a file name whose
extension tells the desktop tools what it is (``newskg.graphml``,
``newskg.gexf``, ``newskg.cyjs``, ...). GraphML and GEXF have no registered
media type, so they are served as ``application/xml``. CSV is two tables:
by default a zip holding ``nodes.csv`` and ``edges.csv``; ``part=nodes`` or
``part=edges`` gives one of them as ``text/csv``, which is what
``pandas.read_csv(url)`` wants. Decision: docs/decisions/0011-graph-projection.md.
"""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.deps import SettingsDep, StoreDep
from api.errors import ApiError
from kg.errors import ExportError
from kg.model import EntityType, Relation
from kg.projection import make_filter, project, to_csv, to_csv_zip, write_graph
from kg.store import EXPORT_FORMATS, MEDIA_TYPES

router = APIRouter(tags=["export"])

ExportFormat = Literal[
    "graphml", "gexf", "cytoscape", "csv", "turtle", "trig", "nquads", "ntriples", "jsonld", "rdfxml"
]

#: File extension of each RDF export (kg.store.EXPORT_FORMATS; media types from kg.store.MEDIA_TYPES).
_RDF_EXTENSIONS: dict[str, str] = {
    "turtle": "ttl",
    "trig": "trig",
    "nquads": "nq",
    "ntriples": "nt",
    "jsonld": "jsonld",
    "rdfxml": "rdf",
}
#: format -> (media type, file name) of the download.
DOWNLOADS: dict[str, tuple[str, str]] = {
    "graphml": ("application/xml", "newskg.graphml"),
    "gexf": ("application/xml", "newskg.gexf"),
    "cytoscape": ("application/json", "newskg.cyjs"),
    "csv": ("application/zip", "newskg-csv.zip"),
    **{fmt: (MEDIA_TYPES[fmt], f"newskg.{_RDF_EXTENSIONS[fmt]}") for fmt in EXPORT_FORMATS},
}
_RDF_FORMATS = frozenset(EXPORT_FORMATS)


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/export",
    name="export",
    summary="Download the graph (RDF) or its entity-relation projection (GraphML, GEXF, Cytoscape, CSV)",
    response_class=Response,
    responses={
        200: {
            "description": "The export as a download (see `format` for the media types).",
            "content": {
                "application/xml": {},
                "application/json": {},
                "application/zip": {},
                "text/csv": {},
                "text/turtle": {},
                "application/trig": {},
                "application/n-quads": {},
                "application/n-triples": {},
                "application/ld+json": {},
                "application/rdf+xml": {},
            },
        },
        400: {"description": "A filter value is wrong, or filters were given with an RDF format."},
    },
)
def export(
    store: StoreDep,
    settings: SettingsDep,
    format: Annotated[
        ExportFormat,
        Query(
            description="graphml, gexf (Gephi; application/xml), cytoscape (Cytoscape.js elements JSON), "
            "csv (a zip of nodes.csv and edges.csv, or one of them with `part`); RDF: trig, nquads, "
            "jsonld (one named graph per article), turtle, ntriples, rdfxml (the union graph: RDF/XML "
            "has no named graphs)."
        ),
    ] = "graphml",
    relation: Annotated[
        list[Relation] | None,
        Query(description="Keep only these relations (repeat the parameter for several)."),
    ] = None,
    type: Annotated[
        list[EntityType] | None,
        Query(description="Keep only edges whose two entities both have one of these types (repeatable)."),
    ] = None,
    since: Annotated[
        str | None,
        Query(
            description="Keep statements from articles dated on or after this ISO date prefix "
            "(YYYY, YYYY-MM or YYYY-MM-DD), compared at the coarser precision.",
            examples=["2024-06"],
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(description="Keep statements from articles dated on or before this ISO date prefix."),
    ] = None,
    min_confidence: Annotated[
        float | None,
        Query(ge=0.0, le=1.0, description="Keep statements whose extractor confidence is at least this."),
    ] = None,
    voice: Annotated[
        Literal["any", "claimed", "stated"],
        Query(
            description="claimed: statements the article attributes to a speaker (kg:claimedBy); "
            "stated: those in the article's own voice; any: both."
        ),
    ] = "any",
    language: Annotated[
        Literal["en", "de"], Query(description="Preferred language of node labels and speakers.")
    ] = "en",
    part: Annotated[
        Literal["nodes", "edges"] | None,
        Query(description="With format=csv: only this table, as text/csv, instead of the zip of both."),
    ] = None,
) -> Response:
    """The graph as RDF, or the projection of entities and relations under the filters.

    In the projection a node is an entity (IRI, label, German and English
    labels, type, Wikidata id) and an edge is one (subject, relation,
    object) with its statements counted: statements, articles, first and
    last date, speakers, statements in the article's voice, negations,
    highest confidence. Negated statements never make an edge; they are
    counted on the edge they deny.
    """
    filtered = relation or type or since or until or min_confidence is not None or voice != "any"
    if format in _RDF_FORMATS:
        if filtered:
            raise ApiError(
                400,
                "bad_request",
                f"the filters apply to graphml, gexf, cytoscape and csv; format={format} is the whole graph "
                "as RDF (filter it with a CONSTRUCT query at /sparql instead)",
            )
        buffer = io.BytesIO()
        store.export(format, buffer)
        return _download(buffer.getvalue(), *DOWNLOADS[format])
    if part is not None and format != "csv":
        raise ApiError(400, "bad_request", f"part={part} applies to format=csv only, not format={format}")
    try:
        flt = make_filter(
            relations=relation or (),
            types=type or (),
            since=since,
            until=until,
            min_confidence=min_confidence,
            voice=voice,
        )
    except ExportError as e:
        raise ApiError(400, "bad_request", str(e)) from e
    projection = project(store, flt, language=language, timeout_s=settings.query_timeout_s)
    if format != "csv":
        return _download(write_graph(projection, format), *DOWNLOADS[format])
    if part is None:
        return _download(to_csv_zip(projection), *DOWNLOADS["csv"])
    nodes, edges = to_csv(projection)
    return _download(nodes if part == "nodes" else edges, "text/csv; charset=utf-8", f"newskg-{part}.csv")

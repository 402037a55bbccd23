"""SHACL validation of article graphs: a report value, never an exception for bad data.

`validate` runs pySHACL (https://www.w3.org/TR/shacl/) with the shapes of
`shapes/` over one graph and returns a `ValidationReport`; a graph that does
not conform is a result, not an error. Callers that want to stop on it raise
`kg.errors.ValidationFailed` themselves.

No inference: the shapes list the concrete entity classes with ``sh:or``, so
they need neither RDFS reasoning nor the ontology mixed into the data (see
shapes/kg-shapes.ttl and docs/decisions/0005-rdf-model.md). Passing the
ontology is still allowed; pySHACL then mixes it into a copy of the data
graph, which costs time and changes nothing for these shapes.

Cost: the data graph is copied into an in-memory pyoxigraph store before
pySHACL runs, because pySHACL evaluates a SPARQL-based constraint once per
focus node and rdflib re-parses the query text every time (about 0.1 s per
parse): a 270-triple article graph took 5-7 s on rdflib and takes about
0.25 s on Oxigraph, whose parser and engine are native. Shapes and ontology
are parsed once per process (`load_shapes`, `load_ontology` cache by folder
and file modification times).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax import SAXException

import pyoxigraph as ox
import pyshacl
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from kg.errors import InputError

__all__ = [
    "RDF_FORMATS",
    "ValidationReport",
    "Violation",
    "load_ontology",
    "load_shapes",
    "validate",
    "validate_file",
]

#: File extension -> rdflib parser name, for `validate_file`.
RDF_FORMATS: dict[str, str] = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".trig": "trig",
    ".nq": "nquads",
    ".nquads": "nquads",
    ".nt": "nt",
    ".ntriples": "nt",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".rdf": "xml",
    ".owl": "xml",
    ".xml": "xml",
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One SHACL validation result (https://www.w3.org/TR/shacl/#results-validation-result).

    `graph` names the named graph it was found in when a dataset was
    validated, else None.
    """

    focus: Node
    path: Node | None
    value: Node | None
    message: str
    severity: str
    shape: Node | None
    graph: Node | None = None

    @property
    def text(self) -> str:
        """One line: ``[graph <g> ]focus <iri> path <p>: message``."""
        where = f"graph {_render(self.graph)} " if self.graph is not None else ""
        return f"{where}focus {_render(self.focus)} path {_render(self.path)}: {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Whether the data conforms, and every result, in a stable order."""

    conforms: bool
    results: tuple[Violation, ...]

    @property
    def text(self) -> str:
        """One line per violation; empty when the data conforms."""
        return "\n".join(v.text for v in self.results)


def _render(node: Node | None) -> str:
    if node is None:
        return "-"
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, BNode):
        return "[complex path or blank node]"
    if isinstance(node, Literal):
        return node.n3()
    return str(node)


# --------------------------------------------------------------------------
# Loading (cached per process)
# --------------------------------------------------------------------------


def _fingerprint(folder: Path) -> tuple[tuple[str, int], ...]:
    files = sorted(folder.resolve().glob("*.ttl"))
    return tuple((str(f), f.stat().st_mtime_ns) for f in files)


@functools.lru_cache(maxsize=8)
def _load_turtle(fingerprint: tuple[tuple[str, int], ...]) -> Graph:
    graph = Graph()
    for name, _ in fingerprint:
        graph.parse(name, format="turtle")
    return graph


def _load_folder(folder: Path, what: str) -> Graph:
    fingerprint = _fingerprint(folder)
    if not fingerprint:
        raise InputError(str(folder), f"no {what} found: expected *.ttl files in this folder")
    return _load_turtle(fingerprint)


def load_shapes(shapes_dir: Path) -> Graph:
    """All ``*.ttl`` in `shapes_dir` as one shapes graph; cached, so do not modify it."""
    return _load_folder(shapes_dir, "SHACL shapes")


def load_ontology(ontology_dir: Path) -> Graph:
    """All ``*.ttl`` in `ontology_dir` (kg.ttl, plover.ttl) as one graph; cached, do not modify."""
    return _load_folder(ontology_dir, "ontology")


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def validate(data: Graph, *, shapes: Graph, ontology: Graph | None = None) -> ValidationReport:
    """Validate `data` against `shapes`; a `Dataset` is validated graph by graph.

    Each non-empty graph of a dataset (its default graph included) is
    validated on its own, as an article graph is meant to be, and each
    violation names its graph. `data` is not modified.
    """
    if isinstance(data, Dataset):
        results: list[Violation] = []
        conforms = True
        for name, graph in _graphs(data):
            report = _validate_graph(graph, shapes=shapes, ontology=ontology, name=name)
            conforms = conforms and report.conforms
            results.extend(report.results)
        return ValidationReport(conforms=conforms, results=tuple(results))
    return _validate_graph(data, shapes=shapes, ontology=ontology, name=None)


def validate_file(path: Path, *, shapes: Graph, ontology: Graph | None = None) -> ValidationReport:
    """Read any RDF file (format by extension, see `RDF_FORMATS`) and validate it.

    Raises `InputError` when the file cannot be read or parsed: that is a
    broken input, not a validation result.
    """
    rdf_format = RDF_FORMATS.get(path.suffix.lower())
    if rdf_format is None:
        known = ", ".join(sorted(RDF_FORMATS))
        raise InputError(str(path), f"unknown RDF file extension {path.suffix!r}: expected one of {known}")
    try:
        content = path.read_bytes()  # read here: rdflib leaves the file open when parsing fails
    except OSError as e:
        raise InputError(str(path), f"cannot read: {e}") from e
    dataset = Dataset()
    try:
        with warnings.catch_warnings():
            # rdflib 7.6's own parsers use its deprecated ConjunctiveGraph/default_context
            # internally (warnings attributed to rdflib modules); not ours to fix
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"rdflib\.")
            dataset.parse(data=content, format=rdf_format, publicID=path.resolve().as_uri())
    except (SyntaxError, ValueError, SAXException) as e:
        # rdflib's Turtle/TriG BadSyntax is a SyntaxError, JSON-LD raises ValueError, RDF/XML SAXException
        raise InputError(str(path), f"cannot parse as {rdf_format}: {e}") from e
    return validate(dataset, shapes=shapes, ontology=ontology)


def _graphs(dataset: Dataset) -> Iterator[tuple[Node | None, Graph]]:
    """(name, graph) for each non-empty graph, default graph first (name None), then by name."""
    named: list[tuple[Node | None, Graph]] = []
    for graph in dataset.graphs():
        if len(graph) == 0:
            continue
        if graph.identifier == DATASET_DEFAULT_GRAPH_ID:
            yield None, _plain(graph)
        else:
            named.append((graph.identifier, _plain(graph)))
    yield from sorted(named, key=lambda item: str(item[0]))


def _plain(graph: Graph) -> Graph:
    """A standalone copy of one graph of a dataset, so pySHACL sees exactly its triples."""
    copy = Graph(identifier=graph.identifier)
    for triple in graph:
        copy.add(triple)
    return copy


def _validate_graph(
    data: Graph, *, shapes: Graph, ontology: Graph | None, name: Node | None
) -> ValidationReport:
    store = _to_oxigraph(data)
    if ontology is not None:
        # What pySHACL's ont_graph does ("mix the ontology into a copy of the data graph"),
        # done here because its mixing code cannot copy RDF lists into an Oxigraph store.
        store.extend(_ox_quads(ontology))
    try:
        conforms, results_graph, _ = _run_pyshacl(store, shapes)
    except TypeError:
        # pySHACL 0.40's Oxigraph backend fails when a literal becomes a focus node (e.g. a
        # literal kg:subject): validate the same triples on the rdflib backend, slower but complete.
        fallback = Graph()
        for triple in data:
            fallback.add(triple)
        if ontology is not None:
            for triple in ontology:
                fallback.add(triple)
        conforms, results_graph, _ = _run_pyshacl(fallback, shapes)
    if not isinstance(results_graph, Graph):  # pySHACL's documented return is (bool, Graph, str)
        raise TypeError(f"pyshacl.validate returned {type(results_graph).__name__}, expected a Graph")
    results = tuple(sorted(_violations(results_graph, name), key=_sort_key))
    return ValidationReport(conforms=bool(conforms), results=results)


def _run_pyshacl(data: ox.Store | Graph, shapes: Graph) -> tuple[object, object, object]:
    result: tuple[object, object, object] = pyshacl.validate(
        data,  # type: ignore[arg-type]  # an Oxigraph Store is supported at run time, not in pyshacl's hints
        shacl_graph=shapes,
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=False,
        advanced=False,
    )
    return result


def _to_oxigraph(graph: Graph) -> ox.Store:
    """The triples of `graph` in the default graph of a new in-memory Oxigraph store (blank node ids kept)."""
    store = ox.Store()
    store.extend(_ox_quads(graph))
    return store


def _ox_quads(graph: Graph) -> Iterator[ox.Quad]:
    for s, p, o in graph:
        yield ox.Quad(_ox_term(s), _ox_term(p), _ox_term(o), ox.DefaultGraph())  # type: ignore[arg-type]


def _ox_term(node: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is not None:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    raise TypeError(f"cannot validate a graph holding {node!r}: expected IRIs, blank nodes and literals")


def _violations(results: Graph, name: Node | None) -> Iterator[Violation]:
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        if focus is None:
            continue
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        severity = results.value(result, SH.resultSeverity)
        yield Violation(
            focus=focus,
            path=results.value(result, SH.resultPath),
            value=results.value(result, SH.value),
            message=" / ".join(messages) or "(no message)",
            severity=_local_name(severity) if severity is not None else "Violation",
            shape=results.value(result, SH.sourceShape),
            graph=name,
        )


def _local_name(node: Node) -> str:
    text = str(node)
    return text.rsplit("#", 1)[-1]


def _sort_key(violation: Violation) -> tuple[str, str, str, str]:
    return (str(violation.focus), str(violation.path or ""), violation.message, str(violation.value or ""))

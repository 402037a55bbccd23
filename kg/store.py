"""The triple store behind one small interface.

`Store` is the interface the builder, the evaluation and the SPARQL service
use; `OxigraphStore` implements it over pyoxigraph (RocksDB on disk, or in
memory). The layout follows ontology/MODEL.md, "The store's graphs": one
named graph per article, and a default graph that is the materialised set
union of all article graphs, kept up to date in the same transaction as the
article graph (docs/decisions/0002-store-default-graph.md).

`query` runs queries only: updates are refused there, and so is ``SERVICE``,
which would make the store fetch from the network. A query result is
materialised once and can then be written in any format that fits its kind
(docs/decisions/0003-sparql-service.md for the timeout and its limits; a
maximum number of results is counted while the answer is written).

The store is written by `replace_article` and `remove_article` (the
builder), and, for the service with writes enabled, by `update` (SPARQL
Update on named graphs; LOAD, SERVICE and writes to the default graph are
refused, see `kg.sparql_update`) and `put_graph` / `post_graph` /
`delete_graph` (Graph Store Protocol). Each write is one transaction that
also brings the union up to date; query workers of a writable store read a
snapshot taken after each write (docs/decisions/0012-endpoint-protocol.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import multiprocessing
import os
import pickle
import queue
import re
import shutil
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Protocol, get_args

import pyoxigraph as ox

from kg.errors import QueryError, QueryRefused, QueryTimeout, ResultTooLarge, StoreError
from kg.sparql_update import plan_update
from kg.vocab import KG_IRI, PREFIXES

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess

    import pandas as pd
    import rdflib

QueryKind = Literal["select", "ask", "construct", "describe"]

#: Formats for SELECT and ASK results (SPARQL 1.1 Query Results JSON, XML, CSV, TSV), default first.
SolutionFormat = Literal["json", "xml", "csv", "tsv"]
SOLUTION_FORMATS: tuple[SolutionFormat, ...] = get_args(SolutionFormat)
#: Formats for CONSTRUCT and DESCRIBE results, default first (TriG and N-Quads hold them as a default graph).
GraphFormat = Literal["turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads"]
GRAPH_FORMATS: tuple[GraphFormat, ...] = get_args(GraphFormat)
ResultFormat = SolutionFormat | GraphFormat

#: The media type each result format is served as.
MEDIA_TYPES: dict[str, str] = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "trig": "application/trig",
    "nquads": "application/n-quads",
}

_SOLUTION_OX: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
_GRAPH_OX: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
}

#: `export` formats: the named graphs (the source of truth: trig, nquads, jsonld) or the default
#: (union) graph (turtle, ntriples, rdfxml; RDF/XML cannot hold named graphs).
ExportFormat = Literal["trig", "nquads", "jsonld", "turtle", "ntriples", "rdfxml"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)

_CONTENT_HASH = ox.NamedNode(KG_IRI + "contentHash")
_EXTRACTOR_VERSION = ox.NamedNode(KG_IRI + "extractorVersion")

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The complete answer to one query, ready to be written in any format of its kind.

    It holds the answer as pyoxigraph wrote it: SPARQL Results JSON for
    SELECT and ASK, N-Triples for CONSTRUCT and DESCRIBE. Other formats are
    made from that by pyoxigraph's own parsers and writers, which costs a
    second pass; the payload is what crosses the process boundary when a
    query runs in a worker (see `OxigraphStore.query`).
    """

    kind: QueryKind
    payload: bytes

    @property
    def native_format(self) -> ResultFormat:
        """The format of `payload`, which `serialize` returns as it is: ``json`` or ``ntriples``."""
        return "json" if self.kind in ("select", "ask") else "ntriples"

    @property
    def formats(self) -> tuple[ResultFormat, ...]:
        """The formats this result can be written in, the default first."""
        return SOLUTION_FORMATS if self.kind in ("select", "ask") else GRAPH_FORMATS

    def serialize(self, fmt: str) -> bytes:
        """The result in `fmt` (one of `formats`), as bytes (UTF-8 for the text formats)."""
        if fmt not in self.formats:
            raise QueryError(
                f"format {fmt!r} does not apply to a {self.kind.upper()} result; "
                f"use one of {', '.join(self.formats)}"
            )
        if self.kind in ("select", "ask"):
            if fmt == "json":
                return self.payload
            parsed = ox.parse_query_results(self.payload, ox.QueryResultsFormat.JSON)
            return _bytes(parsed.serialize(format=_SOLUTION_OX[fmt]))
        if fmt == "ntriples":
            return self.payload
        return _bytes(ox.serialize(self._triples(), format=_GRAPH_OX[fmt], prefixes=PREFIXES))

    def media_type(self, fmt: str) -> str:
        """The media type `fmt` is served as."""
        return MEDIA_TYPES[fmt]

    def boolean(self) -> bool:
        """The answer of an ASK query."""
        if self.kind != "ask":
            raise QueryError(f"a {self.kind.upper()} result has no boolean; it comes from an ASK query")
        parsed = ox.parse_query_results(self.payload, ox.QueryResultsFormat.JSON)
        return bool(parsed)

    def variables(self) -> list[str]:
        """The projected variables of a SELECT result, in order."""
        return list(json.loads(self.payload)["head"].get("vars", [])) if self.kind == "select" else []

    def rows(self) -> list[dict[str, str | None]]:
        """SELECT rows as plain strings: IRIs as the IRI, literals as their lexical form.

        Blank nodes come as their label and quoted triples in N-Triples
        syntax; unbound variables are None. Every row has every variable.
        """
        if self.kind != "select":
            raise QueryError(f"a {self.kind.upper()} result has no rows; rows come from a SELECT query")
        parsed = ox.parse_query_results(self.payload, ox.QueryResultsFormat.JSON)
        if not isinstance(parsed, ox.QuerySolutions):  # pragma: no cover - payload kind is checked above
            raise QueryError("a SELECT payload did not parse as solutions")
        names = [v.value for v in parsed.variables]
        return [{name: _plain(solution[name]) for name in names} for solution in parsed]

    def triples(self) -> list[ox.Triple]:
        """The triples of a CONSTRUCT or DESCRIBE result."""
        if self.kind not in ("construct", "describe"):
            raise QueryError(f"a {self.kind.upper()} result has no triples")
        return list(self._triples())

    def _triples(self) -> Iterator[ox.Triple]:
        for quad in ox.parse(self.payload, ox.RdfFormat.N_TRIPLES):
            yield quad.triple


def serialize_triples(
    triples: Iterable[ox.Triple], fmt: str, *, prefixes: dict[str, str] | None = None
) -> bytes:
    """Triples in one of `GRAPH_FORMATS` (TriG and N-Quads: as the default graph), with `prefixes`
    (default: `kg.vocab.PREFIXES`) where the format has them."""
    if fmt not in _GRAPH_OX:
        raise StoreError(f"unknown graph format {fmt!r}; use one of {', '.join(GRAPH_FORMATS)}")
    return _bytes(ox.serialize(triples, format=_GRAPH_OX[fmt], prefixes=prefixes or PREFIXES))


def _plain(term: Term | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def _bytes(data: bytes | None) -> bytes:
    if data is None:  # pragma: no cover - pyoxigraph returns bytes when no output is given
        raise StoreError("pyoxigraph returned no bytes for an in-memory serialisation")
    return data


@dataclass(frozen=True, slots=True)
class StoreStats:
    """How much the store holds: articles (named graphs), their quads, and the union graph's triples."""

    articles: int
    named_graph_quads: int
    default_graph_triples: int


# --------------------------------------------------------------------------- the interface


class Store(Protocol):
    """What the builder, the evaluation and the service need from a triple store."""

    def article_state(self, article_iri: str) -> tuple[str, str] | None: ...

    def replace_article(self, graph_iri: str, graph: rdflib.Graph) -> None: ...

    def remove_article(self, graph_iri: str) -> bool: ...

    def query(
        self,
        sparql: str,
        *,
        timeout_s: float | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        base_iri: str | None = None,
        max_results: int | None = None,
    ) -> QueryResult: ...

    async def aquery(
        self,
        sparql: str,
        *,
        timeout_s: float | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        base_iri: str | None = None,
        max_results: int | None = None,
    ) -> QueryResult: ...

    def select(
        self,
        sparql: str,
        *,
        timeout_s: float | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> list[dict[str, str | None]]: ...

    def select_df(self, sparql: str) -> pd.DataFrame: ...

    def update(
        self,
        sparql: str,
        *,
        base_iri: str | None = None,
        using_graphs: Sequence[str] = (),
        using_named_graphs: Sequence[str] = (),
    ) -> None: ...

    def graph_exists(self, graph_iri: str) -> bool: ...

    def put_graph(self, graph_iri: str, triples: Iterable[ox.Triple]) -> bool: ...

    def post_graph(self, graph_iri: str, triples: Iterable[ox.Triple]) -> bool: ...

    def delete_graph(self, graph_iri: str) -> bool: ...

    def dump_graph(self, graph_iri: str | None, fmt: str, out: BinaryIO) -> None: ...

    def export(self, fmt: str, out: BinaryIO) -> None: ...

    def stats(self) -> StoreStats: ...

    def article_graphs(self) -> list[str]: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------- reading SPARQL text

_UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)
_QUERY_KEYWORDS: dict[str, QueryKind] = {
    "SELECT": "select",
    "ASK": "ask",
    "CONSTRUCT": "construct",
    "DESCRIBE": "describe",
}
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# An IRIREF per https://www.w3.org/TR/sparql11-query/#rIRIREF; a '<' not opening one is an operator.
_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_WORD = re.compile(r"[^\W\d][\w\-·]*")


def _decode_uchars(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _UCHAR.sub(one, text)


def keywords(sparql: str) -> list[str]:
    """The bare words of a SPARQL text, upper-cased, in order: its keywords and function names.

    Skips strings, IRIs, comments, variables, prefixed names, blank node
    labels and language tags, so ``"SERVICE"``, ``ex:service`` or
    ``?service`` are not mistaken for the keyword. Codepoint escapes are
    decoded first, as the grammar says (SPARQL 1.1 §19.2). A cheap lexer,
    not a parser: when in doubt it reports a word, so a check built on it
    refuses rather than lets through. The last few texts' words are kept,
    so the service's checks of one request lex its query once.
    """
    return list(_keywords(sparql))


@functools.lru_cache(maxsize=16)
def _keywords(sparql: str) -> tuple[str, ...]:
    text = _decode_uchars(sparql)
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif c in "'\"":
            quote = text[i : i + 3] if text.startswith(c * 3, i) else c
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                i += 2 if text[i] == "\\" else 1
            i += len(quote)
        elif c == "<":
            match = _IRIREF.match(text, i)
            i = match.end() if match else i + 1
        elif c in "?$@:" or (c == "_" and text.startswith("_:", i)):
            # A variable, a language tag, a prefixed name's local part or a blank node label.
            i += 1
            match = _WORD.match(text, i)
            if match:
                i = match.end()
        else:
            match = _WORD.match(text, i)
            if not match:
                i += 1
                continue
            i = match.end()
            if i < n and text[i] == ":":  # the prefix of a prefixed name
                continue
            words.append(match.group(0).upper())
    return tuple(words)


def sparql_form(sparql: str) -> QueryKind | Literal["update"] | None:
    """What a SPARQL text asks for: a query form, ``"update"``, or None when it is neither.

    Read from the first keyword after the prologue (BASE and PREFIX); cheap
    and done before the parser, so a service can answer an update with
    "read-only" rather than with a syntax error.
    """
    return _form(_keywords(sparql))


def _form(words: Sequence[str]) -> QueryKind | Literal["update"] | None:
    for word in words:
        if word in ("BASE", "PREFIX"):
            continue
        if word in _QUERY_KEYWORDS:
            return _QUERY_KEYWORDS[word]
        if word in _UPDATE_KEYWORDS:
            return "update"
        return None
    return None


def check_query(sparql: str) -> QueryKind | None:
    """Refuse what this store never runs: updates and ``SERVICE``; return the query form.

    Raises `QueryRefused` with the reason. Runs before pyoxigraph sees the
    text, because pyoxigraph would fetch a ``SERVICE`` from the network.
    """
    words = _keywords(sparql)
    form = _form(words)
    if form == "update":
        raise QueryRefused(
            "this endpoint is read-only: SPARQL updates (INSERT, DELETE, LOAD, CLEAR, DROP, ...) are "
            "refused; the store is written only by `kg build`"
        )
    if "SERVICE" in words:
        raise QueryRefused(
            "SERVICE is refused: it would make this server fetch data from another endpoint over the "
            "network; query the other endpoint yourself, or load its data into the graph"
        )
    return form


# --------------------------------------------------------------------------- evaluation


#: A complete JSON string (pyoxigraph writes no whitespace and escapes quotes, backslashes and
#: control characters inside strings).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: The rest of a JSON string after its opening quote, up to (not including) its closing quote.
_JSON_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)


def _string_rest_end(data: bytes, start: int) -> int:
    """Where the JSON string whose text starts at `start` ends: at its closing quote, or at a
    backslash that is the last byte, or at the end of `data`."""
    match = _JSON_STRING_REST.match(data, start)
    return match.end() if match else start  # it always matches (possibly empty)


class _JsonRowCounter:
    """Counts the rows (bindings) of SPARQL Results JSON exactly, chunk by chunk, as it is written.

    With its strings removed, a result reads ``{:{:[,]},:{:[{:{:,:}},{}]}}``:
    a binding is an object that follows ``[`` or ``,``; a term is one that
    follows ``:`` (quoted triples included), and the head's variables are
    strings. So the rows are the ``[{`` and ``,{`` outside strings. A string
    or a ``,{`` cut by a chunk boundary is carried over to the next chunk.
    """

    def __init__(self) -> None:
        self.rows = 0
        self._in_string = False  # the last chunk ended inside a string ...
        self._escaped = False  # ... right after a backslash
        self._pending = False  # the last chunk ended with "," or "[" outside strings

    def feed(self, data: bytes) -> None:
        i, n = 0, len(data)
        if self._in_string:
            if self._escaped:
                if not n:
                    return
                i, self._escaped = 1, False
            end = _string_rest_end(data, i)
            if end == n:
                return
            if end == n - 1 and data[end] == 0x5C:  # a backslash, its escaped byte in the next chunk
                self._escaped = True
                return
            self._in_string, i = False, end + 1
        if i == n:
            return
        if self._pending:
            self.rows += data[i] == 0x7B  # "{"
            self._pending = False
        part = data[i:]
        stripped = _JSON_STRING.sub(b"", part)
        opening = stripped.find(b'"')
        if opening >= 0:
            # An unterminated string runs to the end of the chunk (nothing after its opening quote
            # was removed): carry it over, noting a backslash that escapes the next chunk's first byte.
            tail = stripped[opening:]
            self._in_string = True
            self._escaped = _string_rest_end(tail, 1) < len(tail)
            stripped = stripped[:opening]
        elif part.endswith((b",", b"[")):
            self._pending = True
            stripped = stripped[:-1]
        self.rows += stripped.count(b"[{") + stripped.count(b",{")


class _DeadlineWriter(io.BytesIO):
    """A byte buffer that stops a serialisation once the deadline has passed or it has too many results.

    pyoxigraph evaluates lazily while it writes results (in 8 KiB chunks),
    so raising here stops the evaluation between two chunks. Results are
    counted as lines for N-Triples (one per triple: newlines inside literals
    are escaped), and as rows of SPARQL Results JSON for a SELECT
    (`_JsonRowCounter`): while the count of ``{`` bytes, an upper bound (each
    row opens at least one object), is within the limit, exactly counting is
    not needed; past it, the rows written so far and all that follow are
    counted exactly.
    """

    def __init__(
        self,
        deadline: float | None,
        limit_s: float | None,
        *,
        max_results: int | None = None,
        what: Literal["triples", "rows"] = "triples",
    ) -> None:
        super().__init__()
        self.deadline = deadline
        self.limit_s = limit_s
        self.max_results = max_results
        self.what = what
        self.lines = 0
        self.braces = 0
        self.rows: _JsonRowCounter | None = None

    def write(self, buffer: Any, /) -> int:
        _check_deadline(self.deadline, self.limit_s)
        if self.max_results is not None:
            data = bytes(buffer)
            if self.what == "triples":
                self.lines += data.count(b"\n")
                over = self.lines > self.max_results
            elif self.rows is not None:
                self.rows.feed(data)
                over = self.rows.rows > self.max_results
            else:
                # The result object, "head" and "results" open three objects; each row one or more.
                self.braces += data.count(b"{")
                over = False
                if self.braces - 3 > self.max_results:
                    self.rows = _JsonRowCounter()
                    self.rows.feed(self.getvalue() + data)
                    over = self.rows.rows > self.max_results
            if over:
                raise ResultTooLarge(
                    f"the query has more than {self.max_results} {self.what}, the most this endpoint "
                    "sends (KG_MAX_RESULTS); page through them with ORDER BY, LIMIT and OFFSET, or "
                    "aggregate (COUNT, GROUP BY)"
                )
        return super().write(buffer)


def _check_deadline(deadline: float | None, limit_s: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise QueryTimeout(_timeout_message(limit_s))


def _timeout_message(limit_s: float | None) -> str:
    return (
        f"the query ran longer than the limit of {limit_s:g} s and was stopped; "
        "narrow it (a LIMIT, fewer OPTIONALs, more specific patterns) or raise KG_QUERY_TIMEOUT_S"
    )


def _graph_names(iris: list[str] | None, what: str) -> list[ox.NamedNode] | None:
    if iris is None:
        return None
    names = []
    for iri in iris:
        try:
            names.append(ox.NamedNode(iri))
        except ValueError as e:
            raise QueryError(f"{what} {iri!r} is not an IRI ({e}); give absolute IRIs") from e
    return names


def syntax_error_message(error: SyntaxError, text: str) -> str:
    """pyoxigraph's parser message ("error at LINE:COLUMN: expected ...") with the line it points at."""
    message = str(error)
    match = re.match(r"error at (\d+):(\d+)", message)
    lines = text.splitlines()
    if match and 0 < int(match.group(1)) <= len(lines):
        line = lines[int(match.group(1)) - 1].strip()
        message += f" (line {match.group(1)}: {line[:200]!r})"
    return message


def _evaluate(
    store: ox.Store,
    sparql: str,
    form: QueryKind | None,
    *,
    default_graph: list[str] | None,
    named_graphs: list[str] | None,
    deadline: float | None,
    limit_s: float | None,
    base_iri: str | None = None,
    max_results: int | None = None,
) -> QueryResult:
    """Run one query and write its answer into a `QueryResult` payload, checking the deadline and
    the number of results (rows, or triples) as they are written."""
    default_names = _graph_names(default_graph, "default-graph-uri")
    named_names = _graph_names(named_graphs, "named-graph-uri")
    try:
        results = store.query(
            sparql,
            base_iri=base_iri,
            prefixes=PREFIXES,
            default_graph=list(default_names) if default_names is not None else None,
            named_graphs=list(named_names) if named_names is not None else None,
        )
    except SyntaxError as e:
        raise QueryError(f"the query is not valid SPARQL: {syntax_error_message(e, sparql)}") from e
    except (OSError, RuntimeError) as e:
        raise StoreError(f"the store could not evaluate the query: {e}") from e
    try:
        _check_deadline(deadline, limit_s)
        if isinstance(results, ox.QueryTriples):
            kind: QueryKind = "describe" if form == "describe" else "construct"
            sink = _DeadlineWriter(deadline, limit_s, max_results=max_results, what="triples")
            results.serialize(sink, ox.RdfFormat.N_TRIPLES)
            payload = sink.getvalue()
        else:
            # SELECT rows are counted while the JSON is written (`_JsonRowCounter`).
            kind = "select" if isinstance(results, ox.QuerySolutions) else "ask"
            sink = _DeadlineWriter(
                deadline, limit_s, max_results=max_results if kind == "select" else None, what="rows"
            )
            results.serialize(sink, ox.QueryResultsFormat.JSON)
            payload = sink.getvalue()
    except (OSError, RuntimeError) as e:
        raise StoreError(f"the store failed while evaluating the query: {e}") from e
    finally:
        # pyoxigraph results must be dropped on the thread that made them; a traceback that
        # kept this frame's locals alive would drop them wherever the exception ends up.
        del results
    _check_deadline(deadline, limit_s)
    return QueryResult(kind=kind, payload=payload)


# --------------------------------------------------------------------------- worker processes


def _worker_main(path: str, conn: Connection) -> None:
    """Entry point of a query worker: open the store read-only and answer requests until told to stop.

    Each request names the folder to read: the store at `path` itself, or
    (when the service writes) the snapshot of the latest write; the worker
    opens it when it differs from the one it has open
    (docs/decisions/0012-endpoint-protocol.md). Requests come pickled, the
    answers go back as `_answer` bytes (the payload as pyoxigraph wrote it,
    not pickled), each one message of `Connection.send_bytes`. An empty
    message means stop.
    """
    store: ox.Store | None = None
    while True:
        try:
            message = conn.recv_bytes()
        except EOFError:
            return
        if not message:
            return
        folder, sparql, form, default_graph, named_graphs, base_iri, max_results = pickle.loads(message)
        try:
            if store is None or folder != path:
                store = None
                store = ox.Store.read_only(folder)
                path = folder
            result = _evaluate(
                store,
                sparql,
                form,
                default_graph=default_graph,
                named_graphs=named_graphs,
                deadline=None,
                limit_s=None,
                base_iri=base_iri,
                max_results=max_results,
            )
            conn.send_bytes(_answer("ok", result.kind, result.payload))
        except QueryError as e:
            conn.send_bytes(_answer("query", type(e).__name__, str(e).encode("utf-8")))
        except Exception as e:  # reported to the parent, which raises it as a StoreError
            conn.send_bytes(_answer("store", type(e).__name__, str(e).encode("utf-8")))


_KINDS: dict[str, QueryKind] = {kind: kind for kind in get_args(QueryKind)}


def _answer(status: str, name: str, body: bytes) -> bytes:
    """A worker's answer: ``<status> <kind or error class>\\n`` and the payload or error message."""
    return f"{status} {name}\n".encode("ascii") + body


def _result_of(answer: bytes) -> QueryResult:
    """The `QueryResult` of a worker's answer, or the error it reports, raised."""
    newline = answer.index(b"\n")
    status, _, name = answer[:newline].decode("ascii").partition(" ")
    body = answer[newline + 1 :]
    if status == "ok":
        return QueryResult(kind=_KINDS[name], payload=body)
    message = body.decode("utf-8")
    if status == "query":
        errors: dict[str, type[QueryError]] = {
            "QueryRefused": QueryRefused,
            "QueryTimeout": QueryTimeout,
            "ResultTooLarge": ResultTooLarge,
        }
        raise errors.get(name, QueryError)(message)
    raise StoreError(f"the query worker failed: {name}: {message}")


def _frame(message: bytes) -> bytes:
    """`message` with the length header `Connection.send_bytes` writes (and `recv_bytes` reads)."""
    if len(message) > 0x7FFFFFFF:
        return struct.pack("!iQ", -1, len(message)) + message
    return struct.pack("!i", len(message)) + message


async def _ready(fd: int, seconds: float, *, write: bool = False) -> bool:
    """Wait until `fd` can be read (or written) without blocking; False when `seconds` pass first."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[bool] = loop.create_future()

    def wake(value: bool) -> None:
        if not ready.done():
            ready.set_result(value)

    if write:
        loop.add_writer(fd, wake, True)
    else:
        loop.add_reader(fd, wake, True)
    timer = loop.call_later(max(0.0, seconds), wake, False)
    try:
        return await ready
    finally:
        timer.cancel()
        if write:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


#: What `_exchange` reads at a time until an answer's length is known.
_READ_SIZE = 65_536


async def _exchange(conn: Connection, request: bytes, deadline: float) -> bytes | None:
    """Send one message on `conn` and read the answer, waiting on the event loop (no thread);
    None when the deadline passes first. Speaks `Connection.send_bytes` / `recv_bytes` framing."""
    fd = conn.fileno()
    os.set_blocking(fd, False)
    try:
        out = memoryview(_frame(request))
        while out:
            try:
                out = out[os.write(fd, out) :]
            except BlockingIOError:
                if not await _ready(fd, deadline - time.monotonic(), write=True):
                    return None
        received = bytearray()
        wanted = _READ_SIZE  # bytes still to come, once the length header says so
        while True:
            if len(received) >= 4:
                (size,) = struct.unpack("!i", received[:4])
                header = 4
                if size == -1 and len(received) >= 12:
                    (size,) = struct.unpack("!Q", received[4:12])
                    header = 12
                if size >= 0:
                    if len(received) >= header + size:
                        return bytes(received[header : header + size])
                    wanted = header + size - len(received)
            try:
                # os.read allocates the size asked for (1 MiB: 18 us a call, 64 KiB: 1.5 us here)
                chunk = os.read(fd, min(max(wanted, _READ_SIZE), 1 << 20))
            except BlockingIOError:
                if not await _ready(fd, deadline - time.monotonic()):
                    return None
                continue
            if not chunk:
                raise EOFError("the query worker closed its end of the pipe")
            received += chunk
    finally:
        with contextlib.suppress(OSError):
            os.set_blocking(fd, True)


async def _acquire(try_acquire: Callable[[], bool], deadline: float) -> bool:
    """Poll a non-blocking `try_acquire` from the event loop until it succeeds or the deadline passes.

    For the thread primitives the workers share with synchronous callers; polling (every 0.5 to
    10 ms) happens only while they are taken."""
    delay = 0.0005
    while not try_acquire():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        await asyncio.sleep(min(delay, left))
        delay = min(2 * delay, 0.01)
    return True


@dataclass(eq=False)
class _Worker:
    process: SpawnProcess
    conn: Connection


class _WorkerPool:
    """Query workers over a read-only store, each killed when its query runs past the limit.

    pyoxigraph 0.5 cannot cancel a running query from Python, so a query
    that must be stoppable runs in a separate process that opens the same
    store with `pyoxigraph.Store.read_only`; on timeout the process is
    killed and a fresh one is started for the next query. Workers are
    started lazily (about 0.3 s each, mostly importing this module) and
    reused. `run` waits for the answer in the calling thread, `arun` on the
    event loop. See docs/decisions/0003-sparql-service.md.
    """

    def __init__(self, path: Path, *, size: int) -> None:
        self._path = str(path)
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._closed = False

    def _start(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main, args=(self._path, child), name="kg-query-worker", daemon=True
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._all.add(worker)
        return worker

    async def _astart(self) -> _Worker:
        """`_start` in a thread (spawning takes some milliseconds); a worker whose start outlives a
        cancelled caller goes to the idle ones."""
        starting = asyncio.get_running_loop().run_in_executor(None, self._start)
        try:
            return await asyncio.shield(starting)
        except asyncio.CancelledError:
            starting.add_done_callback(
                lambda done: None if done.cancelled() or done.exception() else self._idle.put(done.result())
            )
            raise

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()
        with contextlib.suppress(ValueError):  # already closed
            worker.process.close()

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def request(
        self,
        sparql: str,
        form: QueryKind | None,
        default_graph: list[str] | None,
        named_graphs: list[str] | None,
        folder: Path | None,
        base_iri: str | None,
        max_results: int | None,
    ) -> bytes:
        """One query as the workers read it (`_worker_main`), for `run` or `arun`."""
        if self._closed:
            raise StoreError("the store is closed; open it again with kg.store.open_store")
        request = (
            str(folder or self._path),
            sparql,
            form,
            default_graph,
            named_graphs,
            base_iri,
            max_results,
        )
        return pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)

    def _died(self, worker: _Worker, error: Exception) -> StoreError:
        self._discard(worker)
        return StoreError(f"the query worker process died ({error}); is the store at {self._path} readable?")

    def run(self, request: bytes, *, timeout_s: float, deadline: float) -> QueryResult:
        """Answer `request` (from `request`) in a worker, killed at `deadline` (`timeout_s` is for
        the messages)."""
        if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise QueryTimeout(_busy_message(timeout_s))
        try:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = self._start()
            try:
                worker.conn.send_bytes(request)
                ready = worker.conn.poll(max(0.0, deadline - time.monotonic()))
                answer = worker.conn.recv_bytes() if ready else None
            except (EOFError, OSError) as e:
                raise self._died(worker, e) from e
            if answer is None:
                self._discard(worker)
                raise QueryTimeout(_timeout_message(timeout_s))
            self._idle.put(worker)
        finally:
            self._slots.release()
        return _result_of(answer)

    async def arun(self, request: bytes, *, timeout_s: float, deadline: float) -> QueryResult:
        """`run` for the event loop: the request is written to the worker's pipe and the answer read
        when the loop reports it readable, so no thread waits; at the deadline the worker is killed."""
        if not await _acquire(lambda: self._slots.acquire(blocking=False), deadline):
            raise QueryTimeout(_busy_message(timeout_s))
        try:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = await self._astart()
            try:
                answer = await _exchange(worker.conn, request, deadline)
            except (EOFError, OSError) as e:
                raise self._died(worker, e) from e
            except BaseException:  # cancelled: the worker may be busy, and its answer would be misread
                self._discard(worker)
                raise
            if answer is None:
                self._discard(worker)  # SIGKILL: a killed process exits at once
                raise QueryTimeout(_timeout_message(timeout_s))
            self._idle.put(worker)
        finally:
            self._slots.release()
        return _result_of(answer)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send_bytes(b"")
        for worker in workers:
            worker.process.join(timeout=1)
            self._discard(worker)


def _writing_message(timeout_s: float) -> str:
    return f"the store was being written for longer than the query limit of {timeout_s:g} s; try again"


def _busy_message(timeout_s: float) -> str:
    return (
        f"no query worker became free within the limit of {timeout_s:g} s; the server is busy, "
        "try again later"
    )


# --------------------------------------------------------------------------- the implementation


def _to_ox(term: Any, bnodes: dict[Any, ox.BlankNode]) -> Term:
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        if term not in bnodes:
            bnodes[term] = ox.BlankNode()
        return bnodes[term]
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise StoreError(
        f"cannot store the term {term!r} ({type(term).__name__}); "
        "an article graph holds only IRIs, blank nodes and literals"
    )


def _triples_block(graph: rdflib.Graph) -> str:
    """The graph's triples in N-Triples syntax (valid inside SPARQL INSERT DATA).

    Blank nodes get fresh labels per call, so two article graphs never share one.
    """
    bnodes: dict[Any, ox.BlankNode] = {}
    lines = []
    for s, p, o in graph:
        try:
            triple = ox.Triple(_to_ox(s, bnodes), _to_ox(p, bnodes), _to_ox(o, bnodes))  # type: ignore[arg-type]
        except (ValueError, TypeError) as e:
            raise StoreError(f"cannot store the triple ({s!r}, {p!r}, {o!r}): {e}") from e
        lines.append(f"{triple} .")
    return "\n".join(lines)


def _remove_update(graph: str) -> str:
    """SPARQL that drops the article graph and the union triples only it stated."""
    return (
        f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} "
        f"FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} FILTER (?other != {graph}) }} }} ;\n"
        f"DROP SILENT GRAPH {graph}"
    )


def _ntriples(triples: Iterable[ox.Triple]) -> str:
    """Triples in N-Triples syntax, one per line (valid inside SPARQL INSERT DATA)."""
    return "\n".join(f"{triple} ." for triple in triples)


def _replace_update(graph: str, triples: str) -> str:
    """One SPARQL update request that replaces an article graph and keeps the union in step.

    pyoxigraph runs the whole request, all its operations, in one
    transaction (docs/decisions/0002-store-default-graph.md).
    """
    update = _remove_update(graph)
    if triples:
        update += f" ;\nINSERT DATA {{\n{triples}\nGRAPH {graph} {{\n{triples}\n}}\n}}"
    return update


def _named_node(iri: str, what: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError as e:
        raise StoreError(f"{what} {iri!r} is not an IRI ({e}); IRIs are minted by kg.mapping") from e


#: Custom functions that hand the union maintenance the triples the touched graphs held before an
#: update, by index, blank nodes included (SPARQL text cannot name an existing blank node).
_OLD_TRIPLE = {part: ox.NamedNode(f"urn:x-newskg:old-triple:{part}") for part in ("s", "p", "o")}
#: Above this many old triples, the union maintenance scans the whole default graph instead.
_MAX_OLD_TRIPLES = 200_000
_FULL_REMOVAL = "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }"
_FULL_ADDITION = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } FILTER NOT EXISTS { ?s ?p ?o } }"


def _union_maintenance(
    touched: frozenset[str] | None, old: list[ox.Triple] | None
) -> tuple[list[str], dict[ox.NamedNode, Any]]:
    """The operations that make the default graph the union again after the named graphs `touched`
    changed (None: any of them), and the custom functions they call.

    Removal: each triple a touched graph held before (`old`; None: every triple of the default
    graph) leaves the default graph unless some named graph still states it. Addition: each triple
    of a touched graph (None: of every graph) that the default graph lacks.
    """
    operations: list[str] = []
    functions: dict[ox.NamedNode, Any] = {}
    if old is None:
        operations.append(_FULL_REMOVAL)
    elif old:
        indexes = " ".join(map(str, range(len(old))))
        operations.append(
            f"DELETE {{ ?s ?p ?o }} WHERE {{ VALUES ?i {{ {indexes} }} "
            f"BIND({_OLD_TRIPLE['s']}(?i) AS ?s) BIND({_OLD_TRIPLE['p']}(?i) AS ?p) "
            f"BIND({_OLD_TRIPLE['o']}(?i) AS ?o) FILTER NOT EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }} }}"
        )
        functions = {
            _OLD_TRIPLE["s"]: lambda i: old[int(i.value)].subject,
            _OLD_TRIPLE["p"]: lambda i: old[int(i.value)].predicate,
            _OLD_TRIPLE["o"]: lambda i: old[int(i.value)].object,
        }
    if touched is None:
        operations.append(_FULL_ADDITION)
    else:
        operations.extend(
            f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH {ox.NamedNode(g)} {{ ?s ?p ?o }} "
            "FILTER NOT EXISTS { ?s ?p ?o } }"
            for g in sorted(touched)
        )
    return operations, functions


def _check_update_syntax(sparql: str, base_iri: str | None) -> None:
    """Raise `QueryError` quoting pyoxigraph's parser if `sparql` is not a valid update.

    Runs it on an empty in-memory store (after LOAD and SERVICE were refused,
    so nothing is fetched): the way to call pyoxigraph's parser alone.
    """
    try:
        ox.Store().update(sparql, base_iri=base_iri, prefixes=PREFIXES)
    except SyntaxError as e:
        raise QueryError(f"the update is not valid SPARQL: {syntax_error_message(e, sparql)}") from e
    except (OSError, RuntimeError, ValueError):
        pass


class _ReadWriteLock:
    """Any number of readers or one writer; a writer that waits keeps new readers out."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    def acquire_read(self, timeout: float) -> bool:
        with self._condition:
            if not self._condition.wait_for(
                lambda: not self._writing and not self._writers_waiting, timeout=max(0.0, timeout)
            ):
                return False
            self._readers += 1
            return True

    def release_read(self) -> None:
        with self._condition:
            self._readers -= 1
            self._condition.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._condition:
            self._writers_waiting += 1
            try:
                self._condition.wait_for(lambda: not self._writing and not self._readers)
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._condition:
                self._writing = False
                self._condition.notify_all()


class OxigraphStore:
    """`Store` over pyoxigraph: persistent in a folder (RocksDB) or in memory.

    Open it with `open_store`; use it as a context manager so the worker
    processes (if any) stop and RocksDB is released.
    """

    def __init__(self, store: ox.Store, *, path: Path | None, read_only: bool, query_workers: int) -> None:
        self._ox: ox.Store | None = store
        self.path = path
        self.read_only = read_only
        self._pool = _WorkerPool(path, size=query_workers) if path is not None and query_workers else None
        # With workers on a writable store, the workers read snapshots (RocksDB checkpoints, hard
        # links), one per write, never the store this process writes and compacts; writes and worker
        # queries exclude each other (docs/decisions/0012-endpoint-protocol.md).
        self._lock = _ReadWriteLock()
        self._generation = 0
        self._written = False
        self._snapshots: Path | None = None
        if self._pool is not None and path is not None and not read_only:
            self._snapshots = path.parent / f".{path.name}.snapshots"
            shutil.rmtree(self._snapshots, ignore_errors=True)  # left by a process that was killed
            self._snapshots.mkdir()
            self._snapshot()

    # ---- lifecycle

    def __enter__(self) -> OxigraphStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the query workers and release the store (RocksDB closes when pyoxigraph drops it).

        A persistent store written since it was opened is flushed and compacted first
        (`pyoxigraph.Store.flush`, `optimize`): otherwise RocksDB leaves the writes in its
        write-ahead log, which every read-only open (the service and each of its query workers)
        replays: about 20 s after writing 1M quads, longer than the query timeout.
        """
        if self._pool is not None:
            self._pool.close()
        if self._snapshots is not None:
            shutil.rmtree(self._snapshots, ignore_errors=True)
        store, self._ox = self._ox, None
        if store is not None and self._written and self.path is not None and not self.read_only:
            try:
                store.flush()
                store.optimize()
            except OSError as e:
                raise StoreError(
                    f"could not flush the store at {self.path} when closing it: {e}; the writes are in its "
                    "write-ahead log, which the next open replays"
                ) from e

    def _snapshot_folder(self) -> Path | None:
        """The newest snapshot the query workers read (None: they read the store itself)."""
        return self._snapshots / f"{self._generation:08d}" if self._snapshots is not None else None

    def _snapshot(self) -> None:
        """A checkpoint of the store as it is now, for the query workers; older ones are removed.

        Called at open and after each write, while no worker query runs (the
        write lock): idle workers open the new one before their next query.
        """
        if self._snapshots is None:
            return
        folder = self._snapshots / f"{self._generation:08d}"
        try:
            self._store.backup(folder)
        except OSError as e:
            raise StoreError(f"could not snapshot the store into {folder} for the query workers: {e}") from e
        for old in self._snapshots.iterdir():
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)

    @property
    def _store(self) -> ox.Store:
        if self._ox is None:
            raise StoreError("the store is closed; open it again with kg.store.open_store")
        return self._ox

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live query workers (empty when queries run in this process)."""
        return self._pool.pids if self._pool is not None else []

    # ---- writing

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[ox.Store]:
        """Exclusive access for one write: worker queries wait; afterwards they read a new snapshot."""
        if self.read_only:
            raise StoreError(f"cannot {what}: the store at {self.path} is open read-only")
        store = self._store
        with self._lock.writing():
            try:
                yield store
            finally:
                self._written = True
                self._generation += 1
                self._snapshot()

    def _write(self, update: str, what: str) -> None:
        with self._writing(what) as store:
            try:
                store.update(update)
            except (SyntaxError, OSError, RuntimeError) as e:
                raise StoreError(f"could not {what}: {e}; the store is unchanged") from e

    def update(
        self,
        sparql: str,
        *,
        base_iri: str | None = None,
        using_graphs: Sequence[str] = (),
        using_named_graphs: Sequence[str] = (),
    ) -> None:
        """Run a SPARQL 1.1 Update on the named graphs; the default graph follows in the same transaction.

        The default graph is the union of the named graphs (docs/decisions/0002),
        so writing it directly is refused, as are LOAD and SERVICE (`QueryRefused`;
        see `kg.sparql_update`). After the request's own operations, the same
        transaction removes from the default graph the triples the touched
        graphs held before and no named graph states any more, and adds the
        touched graphs' triples; when the touched graphs depend on the data
        (``GRAPH ?g`` templates, ``DROP ALL``) it compares the whole store,
        which costs a pass over it. Within one request, operations that read
        the default graph see it as it was when the request started.
        `using_graphs` / `using_named_graphs` are the protocol's
        ``using-graph-uri`` / ``using-named-graph-uri``. Raises `QueryError`
        quoting the parser for a malformed update.
        """
        try:
            plan = plan_update(
                sparql, base_iri=base_iri, using_graphs=using_graphs, using_named_graphs=using_named_graphs
            )
        except QueryRefused:
            raise
        except QueryError:
            _check_update_syntax(sparql, base_iri)  # pyoxigraph's message, if it is a syntax error
            raise
        if not plan.operations:
            _check_update_syntax(sparql, base_iri)
            return
        with self._writing("run the update") as store:
            old: list[ox.Triple] | None = None
            if plan.touched is not None:
                old = list(
                    dict.fromkeys(
                        quad.triple
                        for graph in sorted(plan.touched)
                        for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
                    )
                )
                if len(old) > _MAX_OLD_TRIPLES:
                    old = None
            maintenance, functions = _union_maintenance(plan.touched, old)
            separator = "\n;\n" if plan.needs_separator else "\n"
            request = plan.text + (separator + " ;\n".join(maintenance) if maintenance else "")
            try:
                store.update(request, base_iri=base_iri, prefixes=PREFIXES, custom_functions=functions)
            except SyntaxError as e:
                _check_update_syntax(sparql, base_iri)
                raise QueryError(f"the update is not valid SPARQL: {syntax_error_message(e, request)}") from e
            except (OSError, RuntimeError, ValueError, TypeError) as e:
                raise StoreError(f"could not run the update: {e}; the store is unchanged") from e

    def put_graph(self, graph_iri: str, triples: Iterable[ox.Triple]) -> bool:
        """Make `triples` the named graph's content (Graph Store Protocol PUT); True if it is new.

        One transaction, the default graph kept the union (as `replace_article`).
        """
        name = _named_node(graph_iri, "graph")
        block = _ntriples(triples)
        with self._writing(f"replace the graph {name}") as store:
            existed = store.contains_named_graph(name)
            update = _replace_update(str(name), block) + f" ;\nCREATE SILENT GRAPH {name}"
            self._update_in(store, update, name)
        return not existed

    def post_graph(self, graph_iri: str, triples: Iterable[ox.Triple]) -> bool:
        """Add `triples` to the named graph (Graph Store Protocol POST: RDF merge); True if it is new."""
        name = _named_node(graph_iri, "graph")
        block = _ntriples(triples)
        update = f"CREATE SILENT GRAPH {name}"
        if block:
            update += f" ;\nINSERT DATA {{\n{block}\nGRAPH {name} {{\n{block}\n}}\n}}"
        with self._writing(f"add to the graph {name}") as store:
            existed = store.contains_named_graph(name)
            self._update_in(store, update, name)
        return not existed

    def delete_graph(self, graph_iri: str) -> bool:
        """Drop the named graph and its share of the default graph (Graph Store Protocol DELETE);
        False if there was no such graph."""
        name = _named_node(graph_iri, "graph")
        with self._writing(f"delete the graph {name}") as store:
            if not store.contains_named_graph(name):
                return False
            self._update_in(store, _remove_update(str(name)), name)
        return True

    @staticmethod
    def _update_in(store: ox.Store, update: str, name: ox.NamedNode) -> None:
        try:
            store.update(update)
        except (SyntaxError, OSError, RuntimeError) as e:
            raise StoreError(f"could not write the graph {name}: {e}; the store is unchanged") from e

    def replace_article(self, graph_iri: str, graph: rdflib.Graph) -> None:
        """Make `graph` the article's named graph, and the default graph the union again.

        One transaction: the old named graph is dropped, the triples no other
        article graph states leave the default graph, and the new triples go
        into both. A crash at any moment leaves the old article or the new
        one, never a mix. Costs one SPARQL update; the removal looks up each
        old triple in the other graphs (an index lookup each).
        """
        name = _named_node(graph_iri, "article graph")
        self._write(_replace_update(str(name), _triples_block(graph)), f"replace the article graph {name}")

    def remove_article(self, graph_iri: str) -> bool:
        """Drop an article's named graph and its share of the default graph; False if it was absent."""
        name = _named_node(graph_iri, "article graph")
        if not self._store.contains_named_graph(name):
            return False
        self._write(_remove_update(str(name)), f"remove the article graph {name}")
        return True

    # ---- reading

    def graph_exists(self, graph_iri: str) -> bool:
        """Whether the store has a named graph of that IRI (possibly empty)."""
        return bool(self._store.contains_named_graph(_named_node(graph_iri, "graph")))

    def dump_graph(self, graph_iri: str | None, fmt: str, out: BinaryIO) -> None:
        """Write one graph to `out` in a graph format (`GRAPH_FORMATS`): a named graph, or the default
        graph (the union) when `graph_iri` is None."""
        if fmt not in _GRAPH_OX:
            raise StoreError(f"unknown graph format {fmt!r}; use one of {', '.join(GRAPH_FORMATS)}")
        graph = _named_node(graph_iri, "graph") if graph_iri is not None else ox.DefaultGraph()
        try:
            self._store.dump(out, _GRAPH_OX[fmt], from_graph=graph, prefixes=PREFIXES)
        except (OSError, ValueError, RuntimeError) as e:
            raise StoreError(f"could not write the graph {graph} as {fmt}: {e}") from e

    def article_state(self, article_iri: str) -> tuple[str, str] | None:
        """(kg:contentHash, kg:extractorVersion) of an article as stored in its graph, else None.

        The builder skips an article whose text and extractor are unchanged.
        Two index lookups.
        """
        article = _named_node(article_iri, "article")
        values: list[str] = []
        for predicate in (_CONTENT_HASH, _EXTRACTOR_VERSION):
            found = None
            for quad in self._store.quads_for_pattern(article, predicate, None, None):
                if not isinstance(quad.graph_name, ox.DefaultGraph) and isinstance(quad.object, ox.Literal):
                    found = quad.object.value
                    break
            if found is None:
                return None
            values.append(found)
        return values[0], values[1]

    def query(
        self,
        sparql: str,
        *,
        timeout_s: float | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        base_iri: str | None = None,
        max_results: int | None = None,
    ) -> QueryResult:
        """Run a read-only SPARQL query; the prefixes of `kg.vocab.PREFIXES` are always declared.

        `default_graph` and `named_graphs` replace the query's dataset (as the
        protocol's ``default-graph-uri`` / ``named-graph-uri`` do); None keeps
        the store's default graph (the union of the articles) and all named
        graphs. `base_iri` resolves relative IRIs. Raises `QueryRefused` for
        updates and SERVICE, `QueryError` for a syntax error (quoting the
        parser), `QueryTimeout` past `timeout_s`, `ResultTooLarge` when the
        answer has more than `max_results` rows or triples (counted while it
        is written, so a huge answer is stopped early).

        With a timeout on a store opened from a folder with query workers, the
        query runs in a worker process that is killed at the limit (on a
        writable store, after the writes in progress; docs/decisions/0012).
        Otherwise it runs here and the limit is checked while results are
        written (every 8 KiB), so a query that computes long before its first
        result is only stopped when it produces output or finishes; see
        docs/decisions/0003-sparql-service.md.
        """
        form = check_query(sparql)
        if timeout_s is not None and timeout_s <= 0:
            raise QueryError(f"timeout_s must be positive, got {timeout_s}")
        if timeout_s is not None and self._pool is not None:
            deadline = time.monotonic() + timeout_s
            # a writable store's queries wait for the writes in progress, then read the newest snapshot
            locked = not self.read_only
            if locked and not self._lock.acquire_read(timeout_s):
                raise QueryTimeout(_writing_message(timeout_s))
            try:
                request = self._pool.request(
                    sparql, form, default_graph, named_graphs, self._snapshot_folder(), base_iri, max_results
                )
                return self._pool.run(request, timeout_s=timeout_s, deadline=deadline)
            finally:
                if locked:
                    self._lock.release_read()
        return _evaluate(
            self._store,
            sparql,
            form,
            default_graph=default_graph,
            named_graphs=named_graphs,
            deadline=time.monotonic() + timeout_s if timeout_s is not None else None,
            limit_s=timeout_s,
            base_iri=base_iri,
            max_results=max_results,
        )

    async def aquery(
        self,
        sparql: str,
        *,
        timeout_s: float | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
        base_iri: str | None = None,
        max_results: int | None = None,
    ) -> QueryResult:
        """`query` for a caller on an asyncio event loop (the service), with the same arguments and errors.

        A query that goes to a worker process is written to the worker's pipe
        and its answer awaited on the event loop, with no thread in between;
        at the limit the worker is killed, as in `query`. A query that runs
        in this process (no timeout, no workers) runs in a thread.
        """
        if timeout_s is None or self._pool is None:
            return await asyncio.to_thread(
                self.query,
                sparql,
                timeout_s=timeout_s,
                default_graph=default_graph,
                named_graphs=named_graphs,
                base_iri=base_iri,
                max_results=max_results,
            )
        form = check_query(sparql)
        if timeout_s <= 0:
            raise QueryError(f"timeout_s must be positive, got {timeout_s}")
        deadline = time.monotonic() + timeout_s
        locked = not self.read_only
        if locked and not await _acquire(lambda: self._lock.acquire_read(0), deadline):
            raise QueryTimeout(_writing_message(timeout_s))
        try:
            request = self._pool.request(
                sparql, form, default_graph, named_graphs, self._snapshot_folder(), base_iri, max_results
            )
            return await self._pool.arun(request, timeout_s=timeout_s, deadline=deadline)
        finally:
            if locked:
                self._lock.release_read()

    def select(
        self,
        sparql: str,
        *,
        timeout_s: float | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> list[dict[str, str | None]]:
        """Rows of a SELECT query as plain strings (see `QueryResult.rows`), for Python callers."""
        result = self.query(
            sparql, timeout_s=timeout_s, default_graph=default_graph, named_graphs=named_graphs
        )
        if result.kind != "select":
            raise QueryError(f"select() needs a SELECT query, got {result.kind.upper()}; use query()")
        return result.rows()

    def select_df(self, sparql: str) -> pd.DataFrame:
        """A SELECT query's rows as a pandas DataFrame (columns in projection order), for notebooks."""
        import pandas as pd

        result = self.query(sparql)
        if result.kind != "select":
            raise QueryError(f"select_df() needs a SELECT query, got {result.kind.upper()}; use query()")
        return pd.DataFrame(result.rows(), columns=result.variables())

    def export(self, fmt: str, out: BinaryIO) -> None:
        """Write the store to `out`: ``trig``/``nquads``/``jsonld`` the named graphs, the others the union.

        The named graphs are the source of truth (a re-import rebuilds the
        union); the union is what most consumers want. ``turtle``,
        ``ntriples`` and ``rdfxml`` write the union: those formats hold one
        graph, and RDF/XML has no syntax for named graphs at all
        (docs/decisions/0011-graph-projection.md). JSON-LD comes with full
        IRIs (no ``@context``) and one ``@graph`` object per article graph,
        as pyoxigraph writes it. Streams from one snapshot.
        """
        if fmt not in EXPORT_FORMATS:
            raise StoreError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
        rdf_format = _GRAPH_OX[fmt]
        try:
            if rdf_format.supports_datasets:
                quads = (
                    q
                    for q in self._store.quads_for_pattern(None, None, None, None)
                    if not isinstance(q.graph_name, ox.DefaultGraph)
                )
                ox.serialize(quads, out, rdf_format, prefixes=PREFIXES)
            else:
                self._store.dump(out, rdf_format, from_graph=ox.DefaultGraph(), prefixes=PREFIXES)
        except (OSError, ValueError, RuntimeError) as e:
            raise StoreError(f"could not export the store as {fmt}: {e}") from e

    def stats(self) -> StoreStats:
        """Counts from one snapshot; scans every quad, so it costs what an export does."""
        rows = self.select(
            "SELECT ?articles ?quads ?triples WHERE {"
            " { SELECT (COUNT(DISTINCT ?g) AS ?articles) (COUNT(*) AS ?quads)"
            " WHERE { GRAPH ?g { ?s ?p ?o } } }"
            " { SELECT (COUNT(*) AS ?triples) WHERE { ?s ?p ?o } } }"
        )
        row = rows[0]
        return StoreStats(
            articles=int(row["articles"] or 0),
            named_graph_quads=int(row["quads"] or 0),
            default_graph_triples=int(row["triples"] or 0),
        )

    def article_graphs(self) -> list[str]:
        """The IRIs of all article (named) graphs, sorted."""
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))


def open_store(
    path: Path | None, *, read_only: bool = False, query_workers: int | None = None
) -> OxigraphStore:
    """Open the persistent store in folder `path` (created if missing), or an in-memory one when None.

    `read_only` opens an existing store without taking RocksDB's lock, as the
    SPARQL service does; queries with a timeout then run in up to
    `query_workers` (default 2) worker processes that can be killed.
    pyoxigraph warns that a read-only store read while another process
    writes it behaves undefined: stop the service while `kg build` writes.
    A writable store from a folder has no workers unless `query_workers` is
    given (the service with writes enabled does that; its own writes and the
    workers' reads are kept apart, docs/decisions/0012-endpoint-protocol.md).
    """
    if query_workers is None:
        query_workers = 2 if read_only else 0
    if path is None:
        if read_only:
            raise StoreError("an in-memory store cannot be opened read-only; give the store's folder")
        return OxigraphStore(ox.Store(), path=None, read_only=False, query_workers=0)
    path = Path(path)
    if read_only and not path.is_dir():
        raise StoreError(f"no store at {path}: the folder does not exist; build one with `kg build` first")
    try:
        store = ox.Store.read_only(str(path)) if read_only else ox.Store(path)
    except OSError as e:
        hint = (
            "is another process (kg build, the service) using it? stop it or open read-only"
            if "lock" in str(e).lower()
            else "is it a store folder written by this version of pyoxigraph?"
        )
        raise StoreError(f"cannot open the store at {path}: {e}; {hint}") from e
    return OxigraphStore(store, path=path, read_only=read_only, query_workers=query_workers)


__all__ = [
    "EXPORT_FORMATS",
    "GRAPH_FORMATS",
    "MEDIA_TYPES",
    "SOLUTION_FORMATS",
    "OxigraphStore",
    "QueryKind",
    "QueryResult",
    "ResultFormat",
    "Store",
    "StoreStats",
    "check_query",
    "keywords",
    "open_store",
    "serialize_triples",
    "sparql_form",
    "syntax_error_message",
]

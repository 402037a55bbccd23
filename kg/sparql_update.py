"""SPARQL Update requests read before they run: what they write, and what is refused.

The store's default graph is the union of its named graphs, materialised
(docs/decisions/0002-store-default-graph.md). An update through the service
(docs/decisions/0012-endpoint-protocol.md) may write named graphs only; the
store then brings the union up to date in the same transaction, for the
graphs the update touched. `plan_update` reads the request with a small
lexer (not a parser: pyoxigraph parses it when it runs) and says

- what is refused, with the reason: ``LOAD`` and ``SERVICE`` (the server would
  fetch a URL: no server-side request forgery), and writes to the default
  graph (``INSERT DATA`` / ``DELETE DATA`` / ``DELETE WHERE`` triples outside
  ``GRAPH``, templates outside ``GRAPH`` without ``WITH``, ``CLEAR DEFAULT``,
  ``... TO DEFAULT``, ``MOVE DEFAULT``);
- which named graphs it writes: a set of IRIs, or None when that depends on
  the data (``GRAPH ?g`` in a template, ``CLEAR NAMED``, ``DROP ALL``);
- the text to run, with the protocol's ``using-graph-uri`` /
  ``using-named-graph-uri`` written in as ``USING`` / ``USING NAMED`` clauses
  (pyoxigraph's ``Store.update`` takes no dataset), and without a trailing
  ``;`` so that more operations can follow.

Graph names written as prefixed names or relative IRIs are resolved by
pyoxigraph itself (a ``VALUES`` query on an empty store with the update's
prologue), so they mean exactly what they mean to the update.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import pyoxigraph as ox

from kg.errors import QueryError, QueryRefused
from kg.vocab import PREFIXES

TokenKind = Literal["word", "iri", "pname", "var", "bnode", "punct", "other"]

# An IRIREF with its codepoint escapes (https://www.w3.org/TR/sparql11-query/#rIRIREF).
_IRIREF = re.compile(r'<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>')
_WORD = re.compile(r"[^\W\d][\w\-·]*")
_PNAME = re.compile(r"(?:[^\W\d_][\w\-.·]*)?:(?:[\w\-:.%·]|\\[_~.\-!$&'()*+,;=/?#@%])*")
_VAR = re.compile(r"[?$][\w·]+")
_BNODE = re.compile(r"_:[\w\-.·]*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")
_LANGTAG = re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*")
_PUNCT = frozenset("{}();,.[]")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")

_LOAD_REFUSED = (
    "LOAD is refused: it would make this server fetch a URL (server-side request forgery); "
    "download the data yourself and send it with the Graph Store Protocol "
    "(PUT or POST /graph-store?graph=...)"
)
_SERVICE_REFUSED = (
    "SERVICE is refused: it would make this server fetch data from another endpoint over the network; "
    "query the other endpoint yourself, or load its data into the graph"
)
_DEFAULT_REFUSED = (
    "{what} writes the default graph, which is refused: here the default graph is the union of the "
    "named graphs, kept up to date by the store (docs/decisions/0012-endpoint-protocol.md); write a "
    "named graph instead (GRAPH <...> {{ ... }}, or WITH <...>)"
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a SPARQL text: its kind, its text, where it is, and the brace depth around it.

    A ``{`` has the depth outside it, its contents one more, its ``}`` the
    outside depth again.
    """

    kind: TokenKind
    text: str
    start: int
    end: int
    depth: int

    @property
    def upper(self) -> str:
        return self.text.upper()

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.upper in words


def tokens(sparql: str) -> list[Token]:
    """The tokens of a SPARQL text, with positions in it; comments, whitespace and language tags dropped.

    Codepoint escapes are left as written, as pyoxigraph reads them (only
    inside IRIs, strings and names), so positions stay valid.
    """
    out: list[Token] = []
    depth = 0
    i, n = 0, len(sparql)
    while i < n:
        c = sparql[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            end = sparql.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        kind: TokenKind
        if c in "'\"":
            quote = sparql[i : i + 3] if sparql.startswith(c * 3, i) else c
            j = i + len(quote)
            while j < n and not sparql.startswith(quote, j):
                j += 2 if sparql[j] == "\\" else 1
            kind, end = "other", min(n, j + len(quote))
        elif c == "<" and (match := _IRIREF.match(sparql, i)):
            kind, end = "iri", match.end()
        elif c in "?$" and (match := _VAR.match(sparql, i)):
            kind, end = "var", match.end()
        elif c == "_" and (match := _BNODE.match(sparql, i)):
            kind, end = "bnode", match.end()
        elif c == "@" and (match := _LANGTAG.match(sparql, i)):
            i = match.end()
            continue
        elif (match := _PNAME.match(sparql, i)) and ":" in match.group(0):
            end = match.end()
            while sparql[end - 1] == "." and end - 1 > i:  # a name does not end with '.'
                end -= 1
            kind = "pname"
        elif match := _WORD.match(sparql, i):
            kind, end = "word", match.end()
        elif match := _NUMBER.match(sparql, i):
            kind, end = "other", match.end()
        elif c in _PUNCT:
            kind, end = "punct", i + 1
        else:
            kind, end = "other", i + 1
        if kind == "punct" and c == "}":
            depth = max(0, depth - 1)
        out.append(Token(kind, sparql[i:end], i, end, depth))
        if kind == "punct" and c == "{":
            depth += 1
        i = end
    return out


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    """What an update request will do, read before it runs.

    `text` is the request to run (with ``USING`` clauses written in, no
    trailing ``;``), `touched` the IRIs of the named graphs it may write, or
    None when they depend on the data, `operations` how many operations it
    has. `needs_separator`: more operations appended to `text` need a ``;``
    first (False when it ends with a prologue of its own).
    """

    text: str
    touched: frozenset[str] | None
    operations: int
    needs_separator: bool = True


@dataclass
class _GraphName:
    token: Token
    prologue: str


@dataclass
class _Reading:
    """What the operations of one request write, collected while they are read."""

    names: list[_GraphName]
    dynamic: bool = False


def _operations(toks: Sequence[Token]) -> Iterator[list[Token]]:
    """The tokens of each operation, prologue included, split at ``;`` outside braces."""
    current: list[Token] = []
    for token in toks:
        if token.kind == "punct" and token.text == ";" and token.depth == 0:
            yield current
            current = []
        else:
            current.append(token)
    yield current


def _block(toks: Sequence[Token], start: int) -> int:
    """The index just past the ``}`` that closes the ``{`` at `start`."""
    depth = toks[start].depth
    for i in range(start + 1, len(toks)):
        if toks[i].kind == "punct" and toks[i].text == "}" and toks[i].depth == depth:
            return i + 1
    raise QueryError("the update has a '{' without its '}'; check the braces")


def _quads(
    toks: Sequence[Token], start: int, reading: _Reading, prologue: str, *, what: str, default: Token | None
) -> int:
    """Read the quad block whose ``{`` is at `start`: its ``GRAPH`` names, and whether it has triples
    outside them (the default graph, or `default` when the operation has ``WITH``). Returns the index
    past its ``}``."""
    end = _block(toks, start)
    depth = toks[start].depth + 1
    i = start + 1
    while i < end - 1:
        token = toks[i]
        if token.depth != depth or (token.kind == "punct" and token.text == "."):
            i += 1
            continue
        if token.is_word("GRAPH") and i + 2 < end and toks[i + 2].text == "{":
            name = toks[i + 1]
            if name.kind == "var":
                reading.dynamic = True
            elif name.kind in ("iri", "pname"):
                reading.names.append(_GraphName(name, prologue))
            else:
                raise QueryError(f"GRAPH is followed by {name.text!r}; expected an IRI or a variable")
            i = _block(toks, i + 2)
            continue
        # A triple outside GRAPH: it goes to the default graph, or to the WITH graph.
        if default is None:
            raise QueryRefused(_DEFAULT_REFUSED.format(what=what))
        reading.names.append(_GraphName(default, prologue))
        break
    return end


def _graph_ref(toks: Sequence[Token], i: int) -> tuple[str, Token | None, int]:
    """Read GraphRefAll / GraphOrDefault at `i`: ("graph", name, next), or ("DEFAULT" | "NAMED" | "ALL",
    None, next)."""
    if i >= len(toks):
        raise QueryError("the update ends where a graph (GRAPH <iri>, DEFAULT, NAMED or ALL) was expected")
    token = toks[i]
    if token.is_word("DEFAULT", "NAMED", "ALL"):
        return token.upper, None, i + 1
    if token.is_word("GRAPH"):
        i += 1
        if i >= len(toks):
            raise QueryError("the update ends after GRAPH; expected an IRI")
        token = toks[i]
    if token.kind not in ("iri", "pname"):
        raise QueryError(f"expected a graph IRI, got {token.text!r}")
    return "graph", token, i + 1


def _read_operation(
    op: Sequence[Token], reading: _Reading, prologue_parts: list[str]
) -> tuple[bool, int | None]:
    """Read one operation: (whether there is one after the prologue, the index in `op` of the WHERE
    that USING clauses go before, for INSERT/DELETE ... WHERE only). `prologue_parts` collects the
    BASE and PREFIX declarations as they come."""
    i = 0
    while i < len(op) and op[i].is_word("BASE", "PREFIX"):
        width = 2 if op[i].is_word("BASE") else 3
        prologue_parts.append(" ".join(t.text for t in op[i : i + width]))
        i += width
    if i >= len(op):
        return False, None
    prologue = "\n".join(prologue_parts)
    first = op[i]
    word = first.upper if first.kind == "word" else ""  # LOAD never gets here: plan_update refused it
    if word in ("CLEAR", "DROP", "CREATE"):
        i += 1
        if i < len(op) and op[i].is_word("SILENT"):
            i += 1
        kind, name, _ = _graph_ref(op, i)
        if kind == "DEFAULT":
            raise QueryRefused(_DEFAULT_REFUSED.format(what=f"{word} DEFAULT"))
        if kind in ("NAMED", "ALL"):
            reading.dynamic = True
        elif name is not None and word != "CREATE":
            reading.names.append(_GraphName(name, prologue))
        return True, None
    if word in ("ADD", "MOVE", "COPY"):
        i += 1
        if i < len(op) and op[i].is_word("SILENT"):
            i += 1
        source_kind, source, i = _graph_ref(op, i)
        if i >= len(op) or not op[i].is_word("TO"):
            raise QueryError(f"{word} needs '<source> TO <target>'")
        target_kind, target, _ = _graph_ref(op, i + 1)
        if target_kind == "DEFAULT" or (word == "MOVE" and source_kind == "DEFAULT"):
            where = f"{word} ... TO DEFAULT" if target_kind == "DEFAULT" else f"{word} DEFAULT TO ..."
            raise QueryRefused(_DEFAULT_REFUSED.format(what=where))
        if target_kind != "graph" or (source_kind not in ("graph", "DEFAULT")):
            raise QueryError(f"{word} takes DEFAULT or a graph IRI on each side")
        written = (target, source) if word == "MOVE" else (target,)
        reading.names.extend(_GraphName(t, prologue) for t in written if t is not None)
        return True, None
    if word in ("INSERT", "DELETE") and i + 1 < len(op) and op[i + 1].is_word("DATA", "WHERE"):
        what = f"{word} {op[i + 1].upper}"
        if i + 2 >= len(op) or op[i + 2].text != "{":
            raise QueryError(f"{what} needs a block {{ ... }}")
        _quads(op, i + 2, reading, prologue, what=what, default=None)
        return True, None
    if word in ("WITH", "INSERT", "DELETE"):
        with_graph: Token | None = None
        if word == "WITH":
            if i + 1 >= len(op) or op[i + 1].kind not in ("iri", "pname"):
                raise QueryError("WITH needs a graph IRI")
            with_graph = op[i + 1]
            i += 2
        seen_template = False
        while i < len(op) and op[i].is_word("INSERT", "DELETE"):
            if i + 1 >= len(op) or op[i + 1].text != "{":
                raise QueryError(f"{op[i].upper} needs a template {{ ... }}")
            i = _quads(op, i + 1, reading, prologue, what=f"{op[i].upper} {{ ... }}", default=with_graph)
            seen_template = True
        if not seen_template:
            raise QueryError("WITH must be followed by DELETE { ... } and/or INSERT { ... }")
        for j in range(i, len(op)):
            if op[j].depth == 0 and op[j].is_word("WHERE"):
                return True, j
        raise QueryError("an INSERT/DELETE ... WHERE operation has no WHERE")
    raise QueryError(
        f"the update starts an operation with {first.text!r}; expected INSERT, DELETE, WITH, CLEAR, DROP, "
        "CREATE, ADD, MOVE or COPY"
    )


def _iri_ref(iri: str, what: str) -> str:
    try:
        return str(ox.NamedNode(iri))
    except ValueError as e:
        raise QueryRefused(f"{what} {iri!r} is not an IRI ({e}); give absolute IRIs") from e


def _resolve(names: Sequence[_GraphName], base_iri: str | None) -> frozenset[str]:
    """The IRIs the graph names mean, as pyoxigraph reads them with their prologue and `base_iri`."""
    resolved: set[str] = set()
    by_prologue: dict[str, list[str]] = {}
    for name in names:
        if name.token.kind == "iri" and "\\" not in name.token.text and _ABSOLUTE.match(name.token.text[1:]):
            resolved.add(name.token.text[1:-1])
        else:
            by_prologue.setdefault(name.prologue, []).append(name.token.text)
    empty = ox.Store()
    for prologue, texts in by_prologue.items():
        query = f"{prologue}\nSELECT ?g WHERE {{ VALUES ?g {{ {' '.join(texts)} }} }}"
        try:
            solutions = empty.query(query, base_iri=base_iri, prefixes=PREFIXES)
        except SyntaxError as e:
            raise QueryError(f"a graph name in the update does not parse: {e}") from e
        for solution in solutions:  # type: ignore[union-attr]
            term = solution["g"]
            if isinstance(term, ox.NamedNode):
                resolved.add(term.value)
    return frozenset(resolved)


def plan_update(
    sparql: str,
    *,
    base_iri: str | None = None,
    using_graphs: Sequence[str] = (),
    using_named_graphs: Sequence[str] = (),
) -> UpdatePlan:
    """Read an update request: refuse what this store does not run, find the graphs it writes.

    Raises `QueryRefused` (LOAD, SERVICE, writes to the default graph,
    ``using-graph-uri`` together with USING or WITH in the text) or
    `QueryError` (a request this reader cannot follow; pyoxigraph's parser
    then has the last word on syntax).
    """
    from kg.store import keywords  # the conservative lexer of queries (codepoint escapes decoded)

    words = set(keywords(sparql))
    if "LOAD" in words:
        raise QueryRefused(_LOAD_REFUSED)
    if "SERVICE" in words:
        raise QueryRefused(_SERVICE_REFUSED)
    toks = tokens(sparql)
    reading = _Reading(names=[])
    prologue_parts: list[str] = []
    using = " ".join(
        [f"USING {_iri_ref(g, 'using-graph-uri')}" for g in using_graphs]
        + [f"USING NAMED {_iri_ref(g, 'using-named-graph-uri')}" for g in using_named_graphs]
    )
    insert_at: list[int] = []
    operations = 0
    needs_separator = False
    for op in _operations(toks):
        is_operation, where = _read_operation(op, reading, prologue_parts)
        operations += is_operation
        if op:
            needs_separator = is_operation
        if using and where is not None:
            if any(t.depth == 0 and t.is_word("USING", "WITH") for t in op[:where]):
                raise QueryRefused(
                    "the request gives using-graph-uri / using-named-graph-uri and the update has USING or "
                    "WITH as well; give the dataset one way (SPARQL 1.1 Protocol §2.2.3)"
                )
            insert_at.append(op[where].start)
    text = sparql
    if toks and toks[-1].kind == "punct" and toks[-1].text == ";" and toks[-1].depth == 0:
        text = sparql[: toks[-1].start] + sparql[toks[-1].end :]  # more operations may follow
    for position in sorted(insert_at, reverse=True):
        text = f"{text[:position]}{using}\n{text[position:]}"
    touched = None if reading.dynamic else _resolve(reading.names, base_iri)
    return UpdatePlan(text=text, touched=touched, operations=operations, needs_separator=needs_separator)


__all__ = ["Token", "UpdatePlan", "plan_update", "tokens"]
